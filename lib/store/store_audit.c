/* SPDX-License-Identifier: ISC */
/*
 * The store's audit log (record format in store.h): records queued by the
 * operations of a write transaction, written at commit once the serial they
 * lead to is known, trimmed to audit_max and audit_max_age, and listed.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "lib/error.h"
#include "lib/store/store.h"
#include "lib/store/store_int.h"
#include "lib/dns/wire.h"

/*
 * The records a transaction queued, as JSON text without the closing
 * brace: the commit appends the serial, which only it knows. One buffer
 * for them all, so that a batch of thousands of writes costs a few
 * allocations instead of a JSON tree per record.
 */
struct store_audit_q {
	char *text;
	size_t len, cap;
	size_t *ends;               /* ends[i]: where record i's text ends */
	size_t n, ends_cap;
};

static bool q_reserve(struct store_audit_q *q, size_t more)
{
	void *text = q->text;
	int rc = store_reserve(&text, &q->cap, q->len, more, 4096);
	q->text = text;
	return rc == ACM_OK;
}

static void q_raw(struct store_audit_q *q, const char *s, size_t n)
{
	memcpy(q->text + q->len, s, n);
	q->len += n;
}

/* The longest text q_str writes for n bytes: every byte as \u00XX. */
#define STR_MAX(n) (6 * (n) + 2)

/* A JSON string as jansson writes it (JSON_COMPACT): quote and backslash
 * escaped, control characters as \b \f \n \r \t or \u00XX. Audit text
 * is ASCII (actors and sources are kept printable, values and labels are);
 * any other byte is written as \u00XX rather than as invalid UTF-8. */
static void q_str(struct store_audit_q *q, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	char *o = q->text + q->len;

	*o++ = '"';
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
			*o++ = (char)c;
			continue;
		}
		const char *esc = c == '"' ? "\\\"" : c == '\\' ? "\\\\" : c == '\b' ? "\\b" :
		                  c == '\f' ? "\\f" : c == '\n' ? "\\n" : c == '\r' ? "\\r" :
		                  c == '\t' ? "\\t" : NULL;
		if (esc) {
			*o++ = esc[0];
			*o++ = esc[1];
		} else if (c == 0x7f) {
			*o++ = (char)c;          /* as jansson writes it */
		} else {
			memcpy(o, "\\u00", 4);
			o[4] = hex[c >> 4];
			o[5] = hex[c & 15];
			o += 6;
		}
	}
	*o++ = '"';
	q->len = (size_t)(o - q->text);
}

static size_t set_text_max(const acm_txt_set_t *set)
{
	size_t n = 2;
	for (unsigned i = 0; i < set->n; i++)
		n += STR_MAX(set->e[i].len) + 1;
	return n;
}

static void q_set(struct store_audit_q *q, const acm_txt_set_t *set)
{
	q_raw(q, "[", 1);
	for (unsigned i = 0; i < set->n; i++) {
		if (i)
			q_raw(q, ",", 1);
		q_str(q, (const char *)set->e[i].val, set->e[i].len);
	}
	q_raw(q, "]", 1);
}

/* A field "name":"text" after the first. */
static void q_field(struct store_audit_q *q, const char *name, const char *text)
{
	q_raw(q, ",\"", 2);
	q_raw(q, name, strlen(name));
	q_raw(q, "\":", 2);
	q_str(q, text, strlen(text));
}

static int q_end(struct store_audit_q *q)
{
	if (q->n == q->ends_cap) {
		size_t cap = q->ends_cap ? 2 * q->ends_cap : 256;
		size_t *e = realloc(q->ends, cap * sizeof(*e));
		if (!e)
			return -ENOMEM;
		q->ends = e;
		q->ends_cap = cap;
	}
	q->ends[q->n++] = q->len;
	return ACM_OK;
}

static int audit_put(acm_wtxn_t *w, size_t i, uint64_t seq, uint32_t serial)
{
	struct store_audit_q *q = w->audit;
	size_t from = i ? q->ends[i - 1] : 0, n = q->ends[i] - from;
	char tail[32];
	int tn = snprintf(tail, sizeof(tail), ",\"serial\":%" PRIu32 "}", serial);
	char *rec = malloc(n + (size_t)tn);
	uint8_t key[8];

	if (!rec)
		return -ENOMEM;
	memcpy(rec, q->text + from, n);
	memcpy(rec + n, tail, (size_t)tn);
	acm_put_u64(key, seq);
	MDB_val k = store_val(key, 8), v = store_val(rec, n + (size_t)tn);
	/* Sequences only grow: appending fills pages instead of splitting them. */
	int rc = store_err(mdb_put(w->txn, w->s->audit, &k, &v, MDB_APPEND));
	free(rec);
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
	size_t n = w->audit ? w->audit->n : 0;
	uint64_t seq;
	if (n == 0)
		return ACM_OK;
	int rc = store_next_seq(w->txn, w->s->audit, &seq);
	for (size_t i = 0; rc == ACM_OK && i < n; i++)
		rc = audit_put(w, i, seq + i, serial);
	if (rc == ACM_OK)
		rc = store_trim(w->txn, w->s->audit, w->s->audit_max);
	return rc == ACM_OK ? audit_trim_age(w) : rc;
}

static void audit_release(acm_wtxn_t *w)
{
	if (w->audit) {
		free(w->audit->text);
		free(w->audit->ends);
		free(w->audit);
	}
	w->audit = NULL;
}

static size_t audit_count(const acm_wtxn_t *w)
{
	return w->audit ? w->audit->n : 0;
}

static void audit_truncate(acm_wtxn_t *w, size_t n)
{
	struct store_audit_q *q = w->audit;
	if (!q || q->n <= n)
		return;
	q->n = n;
	q->len = n ? q->ends[n - 1] : 0;
}

/* The commit writes the queued records once it knows their serial. */
static const store_queue_t audit_queue = {
	.count = audit_count,
	.truncate = audit_truncate,
	.flush = audit_flush,
	.release = audit_release,
};

/* The queue, begun with the transaction's first record. */
static struct store_audit_q *audit_q(acm_wtxn_t *w)
{
	if (!w->audit)
		w->audit = calloc(1, sizeof(*w->audit));
	if (w->audit)
		w->queue = &audit_queue;
	return w->audit;
}

/* The fields every record starts with, "{" to "subdomain". */
static void q_head(struct store_audit_q *q, const acm_wtxn_t *w, const char *action,
                   const char *subdomain)
{
	char num[32];
	int n = snprintf(num, sizeof(num), "{\"time\":%lld", (long long)time(NULL));

	q_raw(q, num, (size_t)n);
	q_field(q, "actor", w->actor);
	q_field(q, "source", w->source);
	q_field(q, "action", action);
	q_field(q, "subdomain", subdomain);
}

/* The record's text, key for key in the order it always had:
 * time, actor, source, action, subdomain, before, after, then change and
 * name when there are. */
int store_audit_add(acm_wtxn_t *w, const char *action, const store_name_t *n,
                    const char *change, const acm_txt_set_t *before,
                    const acm_txt_set_t *after)
{
	struct store_audit_q *q;
	if (w->audit_off)
		return ACM_OK;
	size_t max = 160 + STR_MAX(strlen(w->actor)) + STR_MAX(strlen(w->source)) +
	             STR_MAX(strlen(action)) + STR_MAX(strlen(n->label)) +
	             set_text_max(before) + set_text_max(after) +
	             (change ? 16 + STR_MAX(strlen(change)) : 0) +
	             STR_MAX(sizeof(ACM_CHALLENGE_LABEL)) + 16;
	if (!(q = audit_q(w)) || !q_reserve(q, max))
		return -ENOMEM;
	q_head(q, w, action, n->label);
	q_raw(q, ",\"before\":", 10);
	q_set(q, before);
	q_raw(q, ",\"after\":", 9);
	q_set(q, after);
	if (change)
		q_field(q, "change", change);
	/* Values at the challenge name are the account's too: same subdomain,
	 * and the name says where they were. */
	if (n->challenge)
		q_field(q, "name", ACM_CHALLENGE_LABEL);
	return q_end(q);
}

void acm_wtxn_set_audit(acm_wtxn_t *w, bool on)
{
	w->audit_off = !on;
}

/* Copy a record built by jansson into the queue, without its closing
 * brace (the serial goes there). */
static int q_json(struct store_audit_q *q, json_t *rec)
{
	char *text = json_dumps(rec, JSON_COMPACT);
	size_t n = text ? strlen(text) : 0;
	int rc = -ENOMEM;

	if (n >= 2 && text[n - 1] == '}' && q_reserve(q, n)) {
		q_raw(q, text, n - 1);
		rc = q_end(q);
	}
	free(text);
	return rc;
}

int acm_wtxn_audit_note(acm_wtxn_t *w, const char *action, json_t *detail)
{
	struct store_audit_q *q;
	json_t *rec;
	int rc;

	if (!json_is_object(detail) || json_object_get(detail, "serial")) {
		json_decref(detail);
		return -EINVAL;
	}
	if (!(q = audit_q(w))) {
		json_decref(detail);
		return -ENOMEM;
	}
	/* "subdomain" stays a string: a listing for one account reads it. */
	rec = json_pack("{s:I, s:s, s:s, s:s, s:s, s:[], s:[]}", "time", (json_int_t)time(NULL),
	                "actor", w->actor, "source", w->source, "action", action,
	                "subdomain", "", "before", "after");
	rc = !rec || json_object_update(rec, detail) ? -ENOMEM : q_json(q, rec);
	json_decref(rec);
	json_decref(detail);
	return rc;
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
