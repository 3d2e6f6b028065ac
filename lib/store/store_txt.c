/* SPDX-License-Identifier: ISC */
/*
 * The store's TXT value operations inside a write transaction: add, remove,
 * replace, push (acme-dns /update) and the sweep of expired values. Each
 * builds the new set in w->cur from w->old and hands it to store_set_change,
 * which journals, writes and audits it.
 */
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "lib/clock.h"
#include "lib/error.h"
#include "lib/dns/rrset.h"
#include "lib/store/store.h"
#include "lib/store/store_int.h"

/* The checks every TXT operation makes, then its set into w->old. */
static int txt_start(acm_wtxn_t *w, const char *sub, const char *value, size_t len,
                     store_name_t *n)
{
	if (w->poisoned)
		return ACM_ESTORE;
	if (value && acm_txt_check(value, len) != ACM_OK)
		return ACM_EBADVALUE;
	int rc = store_txt_name(w->s, sub, n);
	return rc == ACM_OK ? store_set_load(w, n) : rc;
}

static int txt_finish(acm_wtxn_t *w, const store_name_t *n, const char *action)
{
	store_change_t c = { .action = action };
	return store_wtxn_result(w, store_set_change(w, n, &c));
}

static bool is_expired(const acm_txt_ent_t *t, uint64_t now)
{
	return acm_expired(t->expires, now);
}

/* w->cur = w->old without at most max values expired at now; returns how
 * many were dropped (max 0 makes a plain copy). */
static size_t keep_live(acm_wtxn_t *w, uint64_t now, size_t max)
{
	size_t dropped = 0;
	w->cur.n = 0;
	for (unsigned i = 0; i < w->old.n; i++) {
		const acm_txt_ent_t *t = &w->old.e[i];
		if (dropped < max && is_expired(t, now))
			dropped++;
		else
			w->cur.e[w->cur.n++] = *t;
	}
	return dropped;
}

static void cur_from_old(acm_wtxn_t *w)
{
	keep_live(w, 0, 0);
}

int acm_wtxn_txt_add(acm_wtxn_t *w, const char *subdomain, const char *value,
                     size_t len, uint64_t expires)
{
	store_name_t n;
	int rc = txt_start(w, subdomain, value, len, &n);
	if (rc != ACM_OK)
		return store_wtxn_result(w, rc);

	uint64_t now = acm_expiry_now();
	keep_live(w, now, SIZE_MAX);
	if (acm_txt_set_find(&w->cur, value, len) >= 0)
		return ACM_EEXIST;
	if (w->cur.n >= w->s->max_values)
		return ACM_EFULL;
	acm_txt_set_append(&w->cur, value, len, now, expires);
	return txt_finish(w, &n, "add");
}

/* Take entry i out of w->cur, keeping the others in order. */
static void cur_drop(acm_wtxn_t *w, unsigned i)
{
	memmove(&w->cur.e[i], &w->cur.e[i + 1], (w->cur.n - i - 1) * sizeof(w->cur.e[0]));
	w->cur.n--;
}

int acm_wtxn_txt_remove(acm_wtxn_t *w, const char *subdomain, const char *value,
                        size_t len)
{
	store_name_t n;
	int rc = txt_start(w, subdomain, value, len, &n);
	if (rc != ACM_OK)
		return store_wtxn_result(w, rc);

	int at = acm_txt_set_find(&w->old, value, len);
	if (at < 0)
		return ACM_EABSENT;
	cur_from_old(w);
	cur_drop(w, (unsigned)at);
	return txt_finish(w, &n, "remove");
}

int acm_wtxn_txt_replace(acm_wtxn_t *w, const char *subdomain,
                         const acm_txt_t *values, size_t n)
{
	store_name_t name;

	for (size_t i = 0; i < n; i++)
		if (values[i].len > ACM_TXT_MAX ||
		    acm_txt_check(values[i].value, values[i].len) != ACM_OK)
			return ACM_EBADVALUE;
	int rc = txt_start(w, subdomain, NULL, 0, &name);
	if (rc != ACM_OK)
		return store_wtxn_result(w, rc);

	uint64_t now = acm_expiry_now();
	w->cur.n = 0;
	for (size_t i = 0; i < n; i++) {
		const acm_txt_t *v = &values[i];
		if (acm_txt_set_find(&w->cur, v->value, v->len) >= 0)
			continue;
		if (w->cur.n >= w->s->max_values)
			return ACM_EFULL;
		int j = acm_txt_set_find(&w->old, v->value, v->len);
		uint64_t set_time = v->set_time ? v->set_time : now;
		acm_txt_set_append(&w->cur, v->value, v->len,
		                   j >= 0 ? w->old.e[j].set_time : set_time, v->expires);
	}
	return txt_finish(w, &name, "replace");
}

/* The entry with the smallest set_time; the earlier one on a tie, since
 * entries are kept in the order they were set. */
static unsigned oldest(const acm_txt_set_t *set)
{
	unsigned o = 0;
	for (unsigned i = 1; i < set->n; i++)
		if (set->e[i].set_time < set->e[o].set_time)
			o = i;
	return o;
}

/*
 * A refreshed value moves to the end as well as getting a new set_time, so
 * that within one second (set_time's resolution) the order of the entries
 * still tells which was set last.
 */
int acm_wtxn_txt_push(acm_wtxn_t *w, const char *subdomain, const char *value,
                      size_t len, uint64_t expires, unsigned keep)
{
	store_name_t n;
	int rc = txt_start(w, subdomain, value, len, &n);
	if (rc != ACM_OK)
		return store_wtxn_result(w, rc);

	uint64_t now = acm_expiry_now();
	unsigned room = keep < w->s->max_values ? keep : w->s->max_values;
	if (room == 0)
		room = 1;
	int at = acm_txt_set_find(&w->old, value, len);
	if (at >= 0) {
		cur_from_old(w);
		cur_drop(w, (unsigned)at);
	} else {
		keep_live(w, now, SIZE_MAX);
		while (w->cur.n >= room)
			cur_drop(w, oldest(&w->cur));
	}
	acm_txt_set_append(&w->cur, value, len, now, expires);
	/* A refresh is audited even within the same second. */
	store_change_t c = { .action = "push", .force = at >= 0 };
	return store_wtxn_result(w, store_set_change(w, &n, &c));
}

/* ---- the sweep of expired values ----------------------------------------- */

/* The name of an rrsets key: one label of ours above the apex, or a
 * challenge name above such a label. */
static int name_of_key(const acm_store_t *s, const MDB_val *k, store_name_t *n)
{
	const uint8_t *p = k->mv_data;
	size_t len = k->mv_size;
	n->challenge = len > ACM_CHALLENGE_WIRE_LEN &&
	               memcmp(p, ACM_CHALLENGE_WIRE, ACM_CHALLENGE_WIRE_LEN) == 0;
	size_t skip = n->challenge ? ACM_CHALLENGE_WIRE_LEN : 0;
	if (len - skip < 2 || len > ACM_DNAME_MAX || p[skip] == 0 ||
	    p[skip] > ACM_LABEL_MAX || skip + 1u + p[skip] + s->apex_len != len)
		return ACM_ECORRUPT;
	memcpy(n->owner, p, len);
	n->olen = len;
	memcpy(n->label, p + skip + 1, p[skip]);
	n->label[p[skip]] = '\0';
	return ACM_OK;
}

/*
 * Drop up to max expired values of n, whose record is v; *dropped gets how
 * many. A record that does not decode is left for the operations on its name to
 * report: one bad record must not stop every sweep, nor poison the batches
 * the sweep runs in.
 */
static int purge_name(acm_wtxn_t *w, const store_name_t *n, const MDB_val *v,
                      uint64_t now, size_t max, size_t *dropped)
{
	*dropped = 0;
	if (acm_txt_set_decode(v->mv_data, v->mv_size, &w->old) != ACM_OK)
		return ACM_OK;
	*dropped = keep_live(w, now, max);
	if (*dropped == 0)
		return ACM_OK;
	store_change_t c = { .action = "expire" };
	return store_set_change(w, n, &c);
}

/*
 * The cursor is positioned afresh after every record, by key, so that the
 * writes in between cannot leave it somewhere else.
 */
int acm_wtxn_purge_expired(acm_wtxn_t *w, uint64_t now, size_t max, size_t *removed)
{
	MDB_cursor *c;
	MDB_val k, v;
	store_name_t n;
	int rc;

	*removed = 0;
	if (w->poisoned)
		return ACM_ESTORE;
	if ((rc = mdb_cursor_open(w->txn, w->s->rrsets, &c)))
		return store_wtxn_result(w, store_err(rc));
	int r = store_cursor_after(c, NULL, 0, &k, &v);
	while (r == 0 && *removed < max) {
		size_t dropped;
		if ((rc = name_of_key(w->s, &k, &n)) != ACM_OK ||
		    (rc = purge_name(w, &n, &v, now, max - *removed, &dropped)) != ACM_OK)
			break;
		*removed += dropped;
		r = store_cursor_after(c, n.owner, n.olen, &k, &v);
	}
	mdb_cursor_close(c);
	if (rc == ACM_OK && r != 0 && r != MDB_NOTFOUND)
		rc = store_err(r);
	return store_wtxn_result(w, rc);
}

/* ---- one-operation conveniences ---------------------------------------- */

int acm_store_txt_add(acm_store_t *store, const char *subdomain, const char *value,
                      size_t len, uint64_t expires, uint32_t *serial)
{
	acm_wtxn_t *w;
	int rc = acm_store_write_begin(store, &w);
	return rc ? rc : store_finish(w, acm_wtxn_txt_add(w, subdomain, value, len, expires),
	                        serial);
}

int acm_store_txt_remove(acm_store_t *store, const char *subdomain,
                         const char *value, size_t len, uint32_t *serial)
{
	acm_wtxn_t *w;
	int rc = acm_store_write_begin(store, &w);
	return rc ? rc : store_finish(w, acm_wtxn_txt_remove(w, subdomain, value, len), serial);
}

int acm_store_txt_replace(acm_store_t *store, const char *subdomain,
                          const acm_txt_t *values, size_t n, uint32_t *serial)
{
	acm_wtxn_t *w;
	int rc = acm_store_write_begin(store, &w);
	return rc ? rc : store_finish(w, acm_wtxn_txt_replace(w, subdomain, values, n), serial);
}
