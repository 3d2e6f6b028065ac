/* SPDX-License-Identifier: ISC */
/*
 * The store's accounts: create, update and delete inside a write
 * transaction (keeping accounts, users and rrsets consistent), and the
 * account reads: by subdomain, by username, the paged list and the counts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/store/account.h"
#include "lib/error.h"
#include "lib/store/store.h"
#include "lib/store/store_int.h"

/* The account stored for n, decoded. ACM_ENOTFOUND if there is none. */
static int account_read(const acm_store_t *s, MDB_txn *txn, const store_name_t *n,
                        acm_account_t *out)
{
	MDB_val k = store_val(n->label, strlen(n->label)), v;
	int rc = mdb_get(txn, s->accounts, &k, &v);
	if (rc)
		return store_err(rc);
	return acm_account_decode(v.mv_data, v.mv_size, n->label, out);
}

static bool db_has(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen, int *err)
{
	MDB_val k = store_val(key, klen), v;
	int rc = mdb_get(txn, dbi, &k, &v);
	*err = rc == MDB_NOTFOUND ? ACM_OK : store_err(rc);
	return rc == 0;
}

static int account_check(const acm_wtxn_t *w, const acm_account_t *acc, store_name_t *n,
                         size_t *ulen)
{
	if (w->poisoned)
		return ACM_ESTORE;
	int rc = store_name(w->s, acc->subdomain, n);
	return rc == ACM_OK ? acm_account_check(acc, ulen) : rc;
}

static int account_put(acm_wtxn_t *w, const acm_account_t *acc, const store_name_t *n,
                       unsigned flags)
{
	uint8_t rec[ACM_ACCOUNT_REC_MAX];
	size_t len;
	int rc = acm_account_encode(acc, rec, sizeof(rec), &len);
	if (rc != ACM_OK)
		return rc;
	MDB_val k = store_val(n->label, strlen(n->label)), v = store_val(rec, len);
	rc = store_err(mdb_put(w->txn, w->s->accounts, &k, &v, flags));
	if (rc == ACM_OK)
		rc = store_log_append(w->txn, w->s->meta, &store_accounts_log, n->label,
		                      strlen(n->label));
	return rc;
}

static int account_write(acm_wtxn_t *w, const acm_account_t *acc, const store_name_t *n,
                         size_t ulen)
{
	int rc = account_put(w, acc, n, MDB_NOOVERWRITE);
	if (rc == ACM_OK) {
		MDB_val k = store_val(acc->username, ulen);
		MDB_val v = store_val(n->label, strlen(n->label));
		rc = store_err(mdb_put(w->txn, w->s->users, &k, &v, MDB_NOOVERWRITE));
	}
	if (rc != ACM_OK)
		return rc;
	/* The empty record makes the name answer NODATA; no DNS data changed. */
	w->old.n = w->cur.n = 0;
	store_change_t c = { .action = "create", .force = true };
	return store_set_change(w, n, &c);
}

/* ACM_EACCOUNTCAP if one more account would pass the cap. LMDB has one
 * writer at a time, so the count cannot change before this one commits. */
static int account_cap_check(acm_wtxn_t *w)
{
	unsigned max = __atomic_load_n(&w->s->max_accounts, __ATOMIC_RELAXED);
	MDB_stat st;

	if (max == 0)
		return ACM_OK;
	int rc = mdb_stat(w->txn, w->s->accounts, &st);
	if (rc)
		return store_err(rc);
	return st.ms_entries >= max ? ACM_EACCOUNTCAP : ACM_OK;
}

int acm_wtxn_account_create(acm_wtxn_t *w, const acm_account_t *acc)
{
	store_name_t n;
	size_t ulen;
	int rc = account_check(w, acc, &n, &ulen);

	if (rc != ACM_OK)
		return rc;
	if (db_has(w->txn, w->s->accounts, n.label, strlen(n.label), &rc) ||
	    (rc == ACM_OK && db_has(w->txn, w->s->users, acc->username, ulen, &rc)) ||
	    (rc == ACM_OK && db_has(w->txn, w->s->rrsets, n.owner, n.olen, &rc)))
		return ACM_EEXIST;
	if (rc == ACM_OK && (rc = account_cap_check(w)) == ACM_EACCOUNTCAP)
		return rc;
	if (rc == ACM_OK)
		rc = account_write(w, acc, &n, ulen);
	/* An older release deleting the account left its record behind. */
	if (rc == ACM_OK)
		rc = store_deleg_drop(w, n.label);
	return store_wtxn_result(w, rc);
}

/*
 * An existing account and its values (into w->old), for update and delete.
 * An account without its rrset record is a damaged store, not a refusal.
 */
static int account_load(acm_wtxn_t *w, const store_name_t *n, acm_account_t *acc)
{
	int rc = account_read(w->s, w->txn, n, acc);
	if (rc != ACM_OK)
		return rc;
	rc = store_set_load(w, n);
	return rc == ACM_ENOTFOUND ? ACM_ECORRUPT : rc;
}

static bool same_allowfrom(const acm_account_t *a, const acm_account_t *b)
{
	if (a->allowfrom_count != b->allowfrom_count)
		return false;
	for (size_t i = 0; i < a->allowfrom_count; i++)
		if (strcmp(a->allowfrom[i], b->allowfrom[i]) != 0)
			return false;
	return true;
}

static void change_add(char *out, size_t cap, bool changed, const char *what)
{
	if (!changed)
		return;
	size_t used = strlen(out);
	snprintf(out + used, cap - used, "%s%s", used ? "," : "", what);
}

/* Name what an update changes, for the audit log; "" if nothing. */
static void describe_change(const acm_account_t *a, const acm_account_t *b, char *out,
                            size_t cap)
{
	uint32_t flips = a->flags ^ b->flags;
	bool disabled = b->flags & ACM_ACCOUNT_DISABLED;

	out[0] = '\0';
	change_add(out, cap, flips & ACM_ACCOUNT_DISABLED, disabled ? "disabled" : "enabled");
	change_add(out, cap, flips & ~(uint32_t)ACM_ACCOUNT_DISABLED, "flags");
	change_add(out, cap, a->key_scheme != b->key_scheme ||
	           strcmp(a->key_hash, b->key_hash) != 0, "key");
	change_add(out, cap, !same_allowfrom(a, b), "allowfrom");
	change_add(out, cap, a->tsig_alg != b->tsig_alg ||
	           a->tsig_secret_len != b->tsig_secret_len ||
	           memcmp(a->tsig_secret, b->tsig_secret, a->tsig_secret_len) != 0, "tsig");
	change_add(out, cap, a->created != b->created, "created");
	change_add(out, cap, !out[0] && a->updated != b->updated, "updated");
}

int acm_wtxn_account_update(acm_wtxn_t *w, const acm_account_t *acc)
{
	store_name_t n;
	acm_account_t old;
	size_t ulen;
	char change[64];
	int rc = account_check(w, acc, &n, &ulen);

	if (rc != ACM_OK)
		return rc;
	if ((rc = account_load(w, &n, &old)) != ACM_OK)
		return store_wtxn_result(w, rc);
	if (strcmp(old.username, acc->username) != 0)
		return ACM_EEXIST;
	describe_change(&old, acc, change, sizeof(change));
	if (!change[0])
		return ACM_OK;
	rc = account_put(w, acc, &n, 0);
	if (rc == ACM_OK)
		rc = store_audit_add(w, "update", &n, change, &w->old, &w->old);
	return store_wtxn_result(w, rc);
}

/* Drop the username, unless it (impossibly) names another account. */
static int user_delete(acm_wtxn_t *w, const char *username, const char *label)
{
	MDB_val k = store_val(username, strlen(username)), v;
	int rc = mdb_get(w->txn, w->s->users, &k, &v);
	if (rc == MDB_NOTFOUND)
		return ACM_OK;
	if (rc == 0 && v.mv_size == strlen(label) && memcmp(v.mv_data, label, v.mv_size) == 0)
		rc = mdb_del(w->txn, w->s->users, &k, NULL);
	return store_err(rc);
}

/* The account's challenge name goes with it, journaled like its values. */
static int challenge_delete(acm_wtxn_t *w, const store_name_t *n)
{
	store_name_t ch;
	if (store_challenge_name(n, &ch) != ACM_OK)
		return ACM_OK;   /* too long to exist */
	MDB_val k = store_val(ch.owner, ch.olen), v;
	int rc = mdb_get(w->txn, w->s->rrsets, &k, &v);
	if (rc == MDB_NOTFOUND)
		return ACM_OK;
	if (rc != 0)
		return store_err(rc);
	/* A record that does not decode must not keep the account alive. */
	if (acm_txt_set_decode(v.mv_data, v.mv_size, &w->old) != ACM_OK)
		w->old.n = 0;
	w->cur.n = 0;
	store_change_t c = { .action = "delete", .remove = true };
	return store_set_change(w, &ch, &c);
}

int acm_wtxn_account_delete(acm_wtxn_t *w, const char *subdomain)
{
	store_name_t n;
	acm_account_t acc;
	int rc = w->poisoned ? ACM_ESTORE : store_name(w->s, subdomain, &n);

	if (rc != ACM_OK)
		return rc;
	if ((rc = account_load(w, &n, &acc)) != ACM_OK)
		return store_wtxn_result(w, rc);
	MDB_val k = store_val(n.label, strlen(n.label));
	rc = store_err(mdb_del(w->txn, w->s->accounts, &k, NULL));
	if (rc == ACM_OK)
		rc = store_log_append(w->txn, w->s->meta, &store_accounts_log, n.label,
		                      strlen(n.label));
	if (rc == ACM_OK)
		rc = user_delete(w, acc.username, n.label);
	if (rc == ACM_OK) {
		w->cur.n = 0;
		store_change_t c = { .action = "delete", .remove = true };
		rc = store_set_change(w, &n, &c);
	}
	if (rc == ACM_OK)
		rc = challenge_delete(w, &n);
	if (rc == ACM_OK)
		rc = store_deleg_drop(w, n.label);
	return store_wtxn_result(w, rc);
}

/* ---- reads ------------------------------------------------------------- */

/* Unknown and impossible subdomains alike are not found. */
static int account_get_in(acm_store_t *s, MDB_txn *txn, const char *sub,
                          acm_account_t *out)
{
	store_name_t n;
	int rc = store_name(s, sub, &n);
	if (rc != ACM_OK)
		return rc == ACM_EBADNAME ? ACM_ENOTFOUND : rc;
	return account_read(s, txn, &n, out);
}

int acm_wtxn_account_get(acm_wtxn_t *w, const char *subdomain, acm_account_t *out)
{
	if (w->poisoned)
		return ACM_ESTORE;
	return account_get_in(w->s, w->txn, subdomain, out);
}

int acm_store_account_get(acm_store_t *store, const char *subdomain, acm_account_t *out)
{
	MDB_txn *txn;
	int rc = store_read_begin(store, &txn);
	if (rc != ACM_OK)
		return rc;
	rc = account_get_in(store, txn, subdomain, out);
	mdb_txn_abort(txn);
	return rc;
}

int acm_store_account_by_user(acm_store_t *store, const char *username,
                              acm_account_t *out)
{
	char label[ACM_LABEL_MAX + 1];
	MDB_txn *txn;
	size_t ulen = username ? strnlen(username, ACM_USERNAME_MAX + 1) : 0;
	if (ulen == 0 || ulen > ACM_USERNAME_MAX)
		return ACM_ENOTFOUND;
	int rc = store_read_begin(store, &txn);
	if (rc != ACM_OK)
		return rc;
	MDB_val k = store_val(username, ulen), v;
	rc = mdb_get(txn, store->users, &k, &v);
	if (rc == 0 && (v.mv_size == 0 || v.mv_size > ACM_LABEL_MAX))
		rc = MDB_CORRUPTED;
	if (rc == 0) {
		memcpy(label, v.mv_data, v.mv_size);
		label[v.mv_size] = '\0';
		rc = account_get_in(store, txn, label, out);
		/* users points at a missing account: the store is inconsistent */
		if (rc == ACM_ENOTFOUND)
			rc = ACM_ECORRUPT;
	} else {
		rc = store_err(rc);
	}
	mdb_txn_abort(txn);
	return rc;
}

/* needle (any case) in hay; the empty needle is everywhere. */
static bool contains_ci(const char *hay, const char *needle)
{
	size_t n = strlen(needle);
	for (; *hay; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return true;
	return n == 0;
}

struct list_ctx {
	acm_account_fn fn;
	void *ctx;
	const char *search;
	store_limit_t lim;
};

static int list_visit(const MDB_val *k, const MDB_val *v, void *p)
{
	struct list_ctx *lc = p;
	char label[ACM_LABEL_MAX + 1];
	acm_account_t acc;

	if (k->mv_size == 0 || k->mv_size > ACM_LABEL_MAX)
		return ACM_ECORRUPT;
	memcpy(label, k->mv_data, k->mv_size);
	label[k->mv_size] = '\0';
	int rc = acm_account_decode(v->mv_data, v->mv_size, label, &acc);
	if (rc != ACM_OK)
		return rc;
	if (!contains_ci(acc.subdomain, lc->search) && !contains_ci(acc.username, lc->search))
		return 0;
	return store_limit_step(&lc->lim, lc->fn(&acc, lc->ctx));
}

int acm_store_account_list(acm_store_t *store, const char *after, const char *search,
                           size_t limit, acm_account_fn fn, void *ctx)
{
	char from[ACM_LABEL_MAX + 1];
	struct list_ctx lc = { fn, ctx, search ? search : "", { limit, 0, false } };

	if (!store_lower(after, from))
		return ACM_EBADNAME;
	MDB_val start = store_val(from, strlen(from));
	int rc = store_read_walk(store, store->accounts, start.mv_size ? &start : NULL, true,
	                        list_visit, &lc);
	return store_limit_end(&lc.lim, rc);
}

struct value_counts {
	uint64_t now;           /* 0: expired values are not looked for */
	size_t values, expired;
};

/* The count byte of a record, once its header checks out; the entries
 * themselves only when expired ones are wanted. */
static int count_values(const MDB_val *k, const MDB_val *v, void *p)
{
	struct value_counts *vc = p;
	acm_rr_iter_t it;
	acm_rr_entry_t e;
	(void)k;
	int rc = acm_rr_iter_init(&it, v->mv_data, v->mv_size);
	if (rc != ACM_OK)
		return rc;
	vc->values += it.left;
	while (vc->now && acm_rr_iter_next(&it, &e) == 1)
		vc->expired += acm_expired(e.expires, vc->now);
	return ACM_OK;
}

int acm_store_counts_at(acm_store_t *store, uint64_t now, size_t *accounts, size_t *values,
                        size_t *expired)
{
	MDB_txn *txn;
	MDB_stat st;
	struct value_counts vc = { .now = now };
	int rc = store_read_begin(store, &txn);
	if (rc != ACM_OK)
		return rc;
	rc = store_err(mdb_stat(txn, store->accounts, &st));
	if (rc == ACM_OK) {
		*accounts = st.ms_entries;
		rc = store_walk(txn, store->rrsets, NULL, false, count_values, &vc);
	}
	mdb_txn_abort(txn);
	*values = vc.values;
	if (expired)
		*expired = vc.expired;
	return rc;
}

int acm_store_counts(acm_store_t *store, size_t *accounts, size_t *values)
{
	return acm_store_counts_at(store, 0, accounts, values, NULL);
}

int store_account_exists(const acm_store_t *s, MDB_txn *txn, const store_name_t *n)
{
	MDB_val k = store_val(n->label, strlen(n->label)), v;
	return store_err(mdb_get(txn, s->accounts, &k, &v));
}

/* ---- one-operation conveniences ---------------------------------------- */

int acm_store_account_create(acm_store_t *store, const acm_account_t *acc,
                             uint32_t *serial)
{
	acm_wtxn_t *w;
	int rc = acm_store_write_begin(store, &w);
	return rc ? rc : store_finish(w, acm_wtxn_account_create(w, acc), serial);
}
