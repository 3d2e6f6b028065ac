/* SPDX-License-Identifier: ISC */
/*
 * The store's audit log (record format in store.h): records queued by the
 * operations of a write transaction, written at commit once the serial they
 * lead to is known, trimmed to audit_max and audit_max_age, and listed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "lib/error.h"
#include "lib/store/store.h"
#include "lib/store/store_int.h"
#include "lib/dns/wire.h"

static json_t *values_json(const acm_txt_set_t *set)
{
	json_t *a = json_array();
	for (unsigned i = 0; a && i < set->n; i++) {
		const acm_txt_ent_t *t = &set->e[i];
		if (json_array_append_new(a, json_stringn((const char *)t->val, t->len))) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static int audit_put(acm_wtxn_t *w, json_t *rec, uint64_t seq, uint32_t serial)
{
	uint8_t key[8];
	if (json_object_set_new(rec, "serial", json_integer(serial)))
		return -ENOMEM;
	char *text = json_dumps(rec, JSON_COMPACT);
	if (!text)
		return -ENOMEM;
	acm_put_u64(key, seq);
	MDB_val k = store_val(key, 8), v = store_val(text, strlen(text));
	/* Sequences only grow: appending fills pages instead of splitting them. */
	int rc = store_err(mdb_put(w->txn, w->s->audit, &k, &v, MDB_APPEND));
	free(text);
	return rc;
}

/* The time of a stored record, or -1 if it has none. */
static json_int_t audit_time(const MDB_val *v)
{
	json_t *o = json_loadb(v->mv_data, v->mv_size, 0, NULL);
	json_t *t = json_object_get(o, "time");
	json_int_t when = json_is_integer(t) ? json_integer_value(t) : -1;
	json_decref(o);
	return when;
}

/* Records are appended in time order, so the old ones are all at the
 * front; as in the journal, a clock stepped back only keeps them longer
 * and the newest (just written) always stays. */
static int audit_trim_age(acm_wtxn_t *w)
{
	uint64_t now = (uint64_t)time(NULL), max_age = w->s->audit_max_age;
	MDB_cursor *c;
	MDB_val k, v;
	int rc;

	if (!max_age || now < max_age)
		return ACM_OK;
	if ((rc = mdb_cursor_open(w->txn, w->s->audit, &c)))
		return store_err(rc);
	while ((rc = mdb_cursor_get(c, &k, &v, MDB_FIRST)) == 0) {
		json_int_t when = audit_time(&v);
		if (when < 0) {
			mdb_cursor_close(c);
			return ACM_ECORRUPT;
		}
		if ((uint64_t)when >= now - max_age)
			break;
		if ((rc = mdb_cursor_del(c, 0)))
			break;
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? ACM_OK : store_err(rc);
}

static int audit_flush(acm_wtxn_t *w, uint32_t serial)
{
	size_t n = json_array_size(w->audit);
	uint64_t seq;
	if (n == 0)
		return ACM_OK;
	int rc = store_next_seq(w->txn, w->s->audit, &seq);
	for (size_t i = 0; rc == ACM_OK && i < n; i++)
		rc = audit_put(w, json_array_get(w->audit, i), seq + i, serial);
	if (rc == ACM_OK)
		rc = store_trim(w->txn, w->s->audit, w->s->audit_max);
	return rc == ACM_OK ? audit_trim_age(w) : rc;
}

static void audit_release(acm_wtxn_t *w)
{
	json_decref(w->audit);
	w->audit = NULL;
}

static size_t audit_count(const acm_wtxn_t *w)
{
	return json_array_size(w->audit);
}

static void audit_truncate(acm_wtxn_t *w, size_t n)
{
	while (json_array_size(w->audit) > n)
		json_array_remove(w->audit, json_array_size(w->audit) - 1);
}

/* The commit writes the queued records once it knows their serial. */
static const store_queue_t audit_queue = {
	.count = audit_count,
	.truncate = audit_truncate,
	.flush = audit_flush,
	.release = audit_release,
};

int store_audit_add(acm_wtxn_t *w, const char *action, const store_name_t *n,
                    const char *change, const acm_txt_set_t *before,
                    const acm_txt_set_t *after)
{
	const char *label = n->label;
	if (w->audit_off)
		return ACM_OK;
	if (!w->audit && !(w->audit = json_array()))
		return -ENOMEM;
	w->queue = &audit_queue;
	/* "o" hands over the arrays even when packing fails. */
	json_t *rec = json_pack("{s:I, s:s, s:s, s:s, s:s, s:o, s:o}",
	                        "time", (json_int_t)time(NULL),
	                        "actor", w->actor,
	                        "source", w->source,
	                        "action", action,
	                        "subdomain", label,
	                        "before", values_json(before),
	                        "after", values_json(after));
	if (rec && change && json_object_set_new(rec, "change", json_string(change))) {
		json_decref(rec);
		rec = NULL;
	}
	/* Values at the challenge name are the account's too: same subdomain,
	 * and the name says where they were. */
	if (rec && n->challenge &&
	    json_object_set_new(rec, "name", json_string(ACM_CHALLENGE_LABEL))) {
		json_decref(rec);
		rec = NULL;
	}
	return json_array_append_new(w->audit, rec) ? -ENOMEM : ACM_OK;
}

void acm_wtxn_set_audit(acm_wtxn_t *w, bool on)
{
	w->audit_off = !on;
}

int acm_wtxn_audit_note(acm_wtxn_t *w, const char *action, json_t *detail)
{
	json_t *rec;

	if (!json_is_object(detail)) {
		json_decref(detail);
		return -EINVAL;
	}
	if (!w->audit && !(w->audit = json_array())) {
		json_decref(detail);
		return -ENOMEM;
	}
	w->queue = &audit_queue;
	/* "subdomain" stays a string: a listing for one account reads it. */
	rec = json_pack("{s:I, s:s, s:s, s:s, s:s, s:[], s:[]}", "time", (json_int_t)time(NULL),
	                "actor", w->actor, "source", w->source, "action", action,
	                "subdomain", "", "before", "after");
	if (!rec || json_object_update(rec, detail)) {
		json_decref(rec);
		json_decref(detail);
		return -ENOMEM;
	}
	json_decref(detail);
	return json_array_append_new(w->audit, rec) ? -ENOMEM : ACM_OK;
}

/* ---- listing ------------------------------------------------------------ */

struct audit_ctx {
	acm_audit_fn fn;
	void *ctx;
	const char *label;          /* NULL: every record */
	store_limit_t lim;
};

/* 1 if the record is about label, 0 if not. */
static int audit_is_of(const MDB_val *v, const char *label)
{
	json_t *o = json_loadb(v->mv_data, v->mv_size, 0, NULL);
	const char *sub = json_string_value(json_object_get(o, "subdomain"));
	int rc = sub ? strcmp(sub, label) == 0 : ACM_ECORRUPT;
	json_decref(o);
	return rc;
}

static int audit_visit(const MDB_val *k, const MDB_val *v, void *p)
{
	struct audit_ctx *ac = p;
	if (k->mv_size != 8)
		return ACM_ECORRUPT;
	if (ac->label) {
		int of = audit_is_of(v, ac->label);
		if (of <= 0)
			return of;
	}
	return store_limit_step(&ac->lim, ac->fn(acm_get_u64(k->mv_data), v->mv_data,
	                                         v->mv_size, ac->ctx));
}

int acm_store_audit_list(acm_store_t *store, uint64_t after_seq, const char *subdomain,
                         size_t limit, acm_audit_fn fn, void *ctx)
{
	char label[ACM_LABEL_MAX + 1];
	struct audit_ctx ac = { fn, ctx, NULL, { limit, 0, false } };
	uint8_t key[8];

	if (subdomain && *subdomain) {
		/* No record is about a name longer than a label. */
		if (!store_lower(subdomain, label))
			return ACM_OK;
		ac.label = label;
	}
	if (!store->has_audit)
		return ACM_OK;
	acm_put_u64(key, after_seq);
	MDB_val start = store_val(key, 8);
	int rc = store_read_walk(store, store->audit, &start, true, audit_visit, &ac);
	return store_limit_end(&ac.lim, rc);
}
