/* SPDX-License-Identifier: ISC */
/*
 * The names the store's operations work on and the rrset record of one
 * name: an account's own name or its challenge name (as
 * lib/dns/zone_names.h builds them), its record loaded into a write
 * transaction, and the change of its set, journalled, written and audited.
 */
#include <string.h>

#include "lib/dns/zone_names.h"
#include "lib/error.h"
#include "lib/dns/rrset.h"
#include "lib/store/store.h"
#include "lib/store/store_int.h"

/* ---- names ------------------------------------------------------------ */

bool store_lower(const char *s, char out[ACM_LABEL_MAX + 1])
{
	size_t n = s ? strnlen(s, ACM_LABEL_MAX + 1) : 0;
	if (n > ACM_LABEL_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		out[i] = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] - 'A' + 'a') : s[i];
	out[n] = '\0';
	return true;
}

int store_name(const acm_store_t *s, const char *sub, store_name_t *n)
{
	n->challenge = false;
	if (!store_lower(sub, n->label))
		return ACM_EBADNAME;
	int len = acm_zname_account(n->label, s->apex, n->owner);
	if (len < 0)
		return ACM_EBADNAME;
	n->olen = (size_t)len;
	return ACM_OK;
}

int store_challenge_name(const store_name_t *n, store_name_t *out)
{
	*out = *n;
	out->challenge = true;
	int len = acm_zname_challenge(n->owner, n->olen, out->owner);
	if (len < 0)
		return ACM_EBADNAME;
	out->olen = (size_t)len;
	return ACM_OK;
}

int store_txt_name(const acm_store_t *s, const char *name, store_name_t *n)
{
	const char *label;
	bool challenge;
	acm_zname_txt_split(name, &label, &challenge);
	if (!challenge)
		return store_name(s, label, n);
	store_name_t own;
	int rc = store_name(s, label, &own);
	return rc == ACM_OK ? store_challenge_name(&own, n) : rc;
}

/* ---- a name's record and its change ------------------------------------- */

/* Deletes for values that left, adds for values that came, old -> cur. */
static int diff_sets(acm_wtxn_t *w, const store_name_t *n)
{
	int rc = ACM_OK;
	for (unsigned i = 0; rc == ACM_OK && i < w->old.n; i++)
		if (acm_txt_set_find(&w->cur, w->old.e[i].val, w->old.e[i].len) < 0)
			rc = store_diff_add(w, STORE_DIFF_DEL, n->owner, n->olen, &w->old.e[i]);
	for (unsigned i = 0; rc == ACM_OK && i < w->cur.n; i++)
		if (acm_txt_set_find(&w->old, w->cur.e[i].val, w->cur.e[i].len) < 0)
			rc = store_diff_add(w, STORE_DIFF_ADD, n->owner, n->olen, &w->cur.e[i]);
	return rc;
}

static int put_set(acm_wtxn_t *w, const store_name_t *n)
{
	MDB_val k = store_val(n->owner, n->olen);
	MDB_val v = store_val(NULL, acm_txt_set_size(&w->cur));
	int rc = mdb_put(w->txn, w->s->rrsets, &k, &v, MDB_RESERVE);
	if (rc == 0)
		acm_txt_set_encode(&w->cur, v.mv_data);
	return store_err(rc);
}

int store_set_load(acm_wtxn_t *w, const store_name_t *n)
{
	MDB_val k = store_val(n->owner, n->olen), v;
	int rc = mdb_get(w->txn, w->s->rrsets, &k, &v);
	if (rc == MDB_NOTFOUND && n->challenge) {
		w->old.n = 0;
		return store_account_exists(w->s, w->txn, n);
	}
	if (rc)
		return store_err(rc);
	return acm_txt_set_decode(v.mv_data, v.mv_size, &w->old);
}

/*
 * The diff goes first so a failed record write leaves a poisoned
 * transaction rather than a record without its diff.
 */
int store_set_change(acm_wtxn_t *w, const store_name_t *n, const store_change_t *c)
{
	if (!c->remove && !c->force && acm_txt_set_same(&w->old, &w->cur))
		return ACM_OK;
	int rc = diff_sets(w, n);
	/* An emptied challenge name goes back to not existing. */
	if (rc == ACM_OK && (c->remove || (n->challenge && w->cur.n == 0))) {
		MDB_val k = store_val(n->owner, n->olen);
		int r = mdb_del(w->txn, w->s->rrsets, &k, NULL);
		rc = r == MDB_NOTFOUND && n->challenge ? ACM_OK : store_err(r);
	} else if (rc == ACM_OK) {
		rc = put_set(w, n);
	}
	if (rc == ACM_OK)
		rc = store_log_append(w->txn, w->s->meta, &store_rrsets_log, n->owner, n->olen);
	if (rc == ACM_OK)
		rc = store_audit_add(w, c->action, n, NULL, &w->old, &w->cur);
	return rc;
}
