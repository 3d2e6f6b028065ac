/* SPDX-License-Identifier: ISC */
/*
 * The store's part for the last delegation check of each account (see
 * lib/store/store_deleg.h): its record and the counts per status, moved
 * together in the transaction that writes or drops a record, so that a
 * reader of the counts never walks the records.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/dns/wire.h"
#include "lib/error.h"
#include "lib/store/store_deleg.h"
#include "lib/store/store_int.h"

#define REC_LEN 10              /* u64 checked, u8 status, u8 flags */
#define REC_SECURE 0x01

static void rec_encode(const acm_deleg_rec_t *rec, uint8_t out[REC_LEN])
{
	acm_put_u64(out, rec->checked);
	out[8] = rec->status;
	out[9] = rec->secure ? REC_SECURE : 0;
}

/* A record of another length is from a later layout: its first bytes keep
 * their meaning, what follows is not ours to read. */
static int rec_decode(const MDB_val *v, acm_deleg_rec_t *out)
{
	const uint8_t *p = v->mv_data;
	if (v->mv_size < REC_LEN)
		return ACM_ECORRUPT;
	out->checked = acm_get_u64(p);
	out->status = p[8];
	out->secure = (p[9] & REC_SECURE) != 0;
	return ACM_OK;
}

/* The key of a status's count. */
static MDB_val count_key(uint8_t key[2], uint8_t status)
{
	key[0] = 0x00;
	key[1] = status;
	return store_val(key, 2);
}

/* Move the count of status by delta (+1 or -1), never below zero. */
static int count_move(acm_wtxn_t *w, uint8_t status, int delta)
{
	uint8_t key[2], val[8];
	MDB_val k = count_key(key, status), v;
	uint64_t n = 0;
	int rc = mdb_get(w->txn, w->s->deleg, &k, &v);

	if (rc == 0 && v.mv_size == 8)
		n = acm_get_u64(v.mv_data);
	else if (rc != 0 && rc != MDB_NOTFOUND)
		return store_err(rc);
	if (delta < 0 && n == 0)
		return ACM_OK;
	acm_put_u64(val, delta < 0 ? n - 1 : n + 1);
	v = store_val(val, 8);
	return store_err(mdb_put(w->txn, w->s->deleg, &k, &v, 0));
}

/* Drop the label's record, if any, and its count. */
static int drop(acm_wtxn_t *w, const char *label)
{
	MDB_val k = store_val(label, strlen(label)), v;
	acm_deleg_rec_t old;
	int rc = mdb_get(w->txn, w->s->deleg, &k, &v);

	if (rc == MDB_NOTFOUND)
		return ACM_OK;
	if (rc != 0)
		return store_err(rc);
	if (rec_decode(&v, &old) == ACM_OK && (rc = count_move(w, old.status, -1)) != ACM_OK)
		return rc;
	return store_err(mdb_del(w->txn, w->s->deleg, &k, NULL));
}

int store_deleg_entry(const MDB_val *k, const MDB_val *v, bool *is_count, uint8_t *status,
                      uint64_t *count)
{
	acm_deleg_rec_t rec = { 0 };
	const uint8_t *key = k->mv_data;

	*is_count = k->mv_size > 0 && key[0] == 0x00;
	*count = 0;
	if (*is_count) {
		if (k->mv_size != 2 || v->mv_size != 8)
			return ACM_ECORRUPT;
		*status = key[1];
		*count = acm_get_u64(v->mv_data);
		return ACM_OK;
	}
	int rc = rec_decode(v, &rec);
	*status = rec.status;
	return rc;
}

int store_deleg_drop(acm_wtxn_t *w, const char *label)
{
	/* A store a writer of this release opened has the database; a
	 * read-only handle never writes. */
	return w->s->has_deleg ? drop(w, label) : ACM_OK;
}

int acm_wtxn_deleg_put(acm_wtxn_t *w, const char *subdomain, const acm_deleg_rec_t *rec)
{
	store_name_t n;
	uint8_t buf[REC_LEN];
	int rc = w->poisoned ? ACM_ESTORE : store_name(w->s, subdomain, &n);

	if (rc != ACM_OK)
		return rc == ACM_EBADNAME ? ACM_ENOTFOUND : rc;
	if (rec->status >= ACM_DELEG_REC_STATUSES)
		return ACM_EBADVALUE;
	if (!w->s->has_deleg)
		return -EROFS;
	if ((rc = store_account_exists(w->s, w->txn, &n)) != ACM_OK)
		return store_wtxn_result(w, rc);
	rec_encode(rec, buf);
	MDB_val k = store_val(n.label, strlen(n.label)), v = store_val(buf, REC_LEN);
	if ((rc = drop(w, n.label)) == ACM_OK && (rc = count_move(w, rec->status, 1)) == ACM_OK)
		rc = store_err(mdb_put(w->txn, w->s->deleg, &k, &v, 0));
	return store_wtxn_result(w, rc);
}

int acm_store_deleg_put_many(acm_store_t *store, acm_deleg_put_t *items, size_t n)
{
	acm_wtxn_t *w;
	int rc = acm_store_write_begin(store, &w);

	for (size_t i = 0; rc == ACM_OK && i < n; i++) {
		items[i].result = acm_wtxn_deleg_put(w, items[i].subdomain, &items[i].rec);
		if (w->poisoned)
			rc = items[i].result;
	}
	if (rc != ACM_OK && w)
		acm_store_write_abort(w);
	return rc == ACM_OK ? acm_store_write_commit(w, NULL) : rc;
}

int acm_store_deleg_put(acm_store_t *store, const char *subdomain, const acm_deleg_rec_t *rec)
{
	acm_deleg_put_t item = { .subdomain = subdomain, .rec = *rec };
	int rc = acm_store_deleg_put_many(store, &item, 1);
	return rc == ACM_OK ? item.result : rc;
}

int acm_store_deleg_get(acm_store_t *store, const char *subdomain, acm_deleg_rec_t *out)
{
	store_name_t n;
	MDB_txn *txn;
	MDB_val v;
	int rc = store_name(store, subdomain, &n);

	if (rc != ACM_OK)
		return rc == ACM_EBADNAME ? ACM_ENOTFOUND : rc;
	if (!store->has_deleg)
		return ACM_ENOTFOUND;
	if ((rc = store_read_begin(store, &txn)) != ACM_OK)
		return rc;
	MDB_val k = store_val(n.label, strlen(n.label));
	rc = store_err(mdb_get(txn, store->deleg, &k, &v));
	if (rc == ACM_OK)
		rc = rec_decode(&v, out);
	mdb_txn_abort(txn);
	return rc;
}

int acm_store_deleg_counts(acm_store_t *store, uint64_t *counts, size_t n)
{
	MDB_txn *txn;
	int rc = ACM_OK;

	memset(counts, 0, n * sizeof(*counts));
	if (!store->has_deleg)
		return ACM_OK;
	if ((rc = store_read_begin(store, &txn)) != ACM_OK)
		return rc;
	for (size_t s = 0; rc == ACM_OK && s < n && s < ACM_DELEG_REC_STATUSES; s++) {
		uint8_t key[2];
		MDB_val k = count_key(key, (uint8_t)s), v;
		int got = mdb_get(txn, store->deleg, &k, &v);
		if (got == 0 && v.mv_size == 8)
			counts[s] = acm_get_u64(v.mv_data);
		else if (got != 0 && got != MDB_NOTFOUND)
			rc = store_err(got);
	}
	mdb_txn_abort(txn);
	return rc;
}
