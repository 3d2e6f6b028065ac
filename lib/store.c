/* SPDX-License-Identifier: ISC */
/*
 * The LMDB-backed store (see store.h for the layouts): opening and schema
 * checks, write transactions over accounts and TXT value sets, the
 * per-transaction diff that becomes one serial bump and one journal entry,
 * the reads, and the reusable read snapshots of the DNS workers. The record
 * codecs are lib/account.c and lib/rrset.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <lmdb.h>

#include "lib/account.h"
#include "lib/error.h"
#include "lib/rrset.h"
#include "lib/store.h"
#include "lib/wire.h"

#define DEFAULT_MAX_VALUES 8
#define DEFAULT_JOURNAL_MAX 10000
/* 4 GiB of address space, only as much disk as is used */
#define DEFAULT_MAPSIZE ((size_t)1 << (SIZE_MAX > 0xffffffffu ? 32 : 30))
#define DIFF_HDR 16
#define DIFF_DEL 0
#define DIFF_ADD 1

struct acm_store {
	MDB_env *env;
	MDB_dbi accounts, users, rrsets, meta, journal;
	uint8_t apex[ACM_DNAME_MAX];
	size_t apex_len;
	unsigned max_values;
	unsigned journal_max;
	bool read_only;
};

struct acm_wtxn {
	acm_store_t *s;
	MDB_txn *txn;
	bool poisoned;
	uint8_t *diff;              /* diff entries, without the header */
	size_t diff_len, diff_cap;
	acm_txt_set_t old, cur;    /* scratch for one TXT operation */
};

struct acm_reader {
	acm_store_t *s;
	MDB_txn *txn;
	bool active;
};

/* The one place where LMDB codes enter the acmens error space. */
static int store_err(int rc)
{
	switch (rc) {
	case MDB_SUCCESS:
		return ACM_OK;
	case MDB_MAP_FULL:
		return ACM_ESTOREFULL;
	case MDB_NOTFOUND:
		return ACM_ENOTFOUND;
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
		return ACM_ECORRUPT;
	default:
		/* LMDB passes system failures through as positive errno. */
		return rc > 0 ? -rc : ACM_ESTORE;
	}
}

/* Refusals that are checked before anything is written. */
static bool is_refusal(int rc)
{
	return rc == ACM_EEXIST || rc == ACM_ENOTFOUND || rc == ACM_EFULL ||
	       rc == ACM_EABSENT || rc == ACM_EBADVALUE || rc == ACM_EBADNAME ||
	       rc == ACM_ERANGE;
}

/*
 * Begin a transaction, recovering once from a full reader table (slots of
 * dead processes) and from a map another process grew.
 */
static int txn_begin(acm_store_t *s, unsigned flags, MDB_txn **txn)
{
	bool checked = false, resized = false;

	for (;;) {
		int rc = mdb_txn_begin(s->env, NULL, flags, txn);
		if (rc == MDB_READERS_FULL && !checked) {
			int dead;
			checked = true;
			mdb_reader_check(s->env, &dead);
			continue;
		}
		if (rc == MDB_MAP_RESIZED && !resized) {
			resized = true;
			mdb_env_set_mapsize(s->env, 0);
			continue;
		}
		return rc;
	}
}

static int read_begin(acm_store_t *s, MDB_txn **txn)
{
	return store_err(txn_begin(s, MDB_RDONLY, txn));
}

static MDB_val mval(const void *p, size_t n)
{
	MDB_val v = { n, (void *)p };
	return v;
}

/* A meta value that must be there once the store is initialised. */
static int meta_get(MDB_txn *txn, MDB_dbi meta, const char *key, MDB_val *v)
{
	MDB_val k = mval(key, strlen(key));
	int rc = mdb_get(txn, meta, &k, v);
	return rc == MDB_NOTFOUND ? ACM_ECORRUPT : store_err(rc);
}

static int get_serial(MDB_txn *txn, MDB_dbi meta, uint32_t *serial)
{
	MDB_val v;
	int rc = meta_get(txn, meta, "serial", &v);
	if (rc == ACM_OK && v.mv_size != 4)
		rc = ACM_ECORRUPT;
	if (rc == ACM_OK)
		*serial = acm_get_u32(v.mv_data);
	return rc;
}

static int put_u32(MDB_txn *txn, MDB_dbi dbi, const char *key, uint32_t x)
{
	uint8_t b[4];
	acm_put_u32(b, x);
	MDB_val k = mval(key, strlen(key)), v = mval(b, 4);
	return store_err(mdb_put(txn, dbi, &k, &v, 0));
}

/* ---- opening --------------------------------------------------------- */

static int mkdir_p(const char *path)
{
	if (!*path)
		return -ENOENT;
	char *p = strdup(path);
	if (!p)
		return -ENOMEM;
	int rc = ACM_OK;
	for (char *q = p + 1;; q++) {
		if (*q != '/' && *q != '\0')
			continue;
		char c = *q;
		*q = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST) {
			rc = -errno;
			break;
		}
		*q = c;
		if (c == '\0')
			break;
	}
	free(p);
	return rc;
}

static int open_dbis(acm_store_t *s, MDB_txn *txn)
{
	unsigned fl = s->read_only ? 0 : MDB_CREATE;
	int rc;

	if ((rc = mdb_dbi_open(txn, "accounts", fl, &s->accounts)) ||
	    (rc = mdb_dbi_open(txn, "users", fl, &s->users)) ||
	    (rc = mdb_dbi_open(txn, "rrsets", fl, &s->rrsets)) ||
	    (rc = mdb_dbi_open(txn, "meta", fl, &s->meta)) ||
	    (rc = mdb_dbi_open(txn, "journal", fl, &s->journal)))
		return rc == MDB_NOTFOUND ? ACM_ESTORE : store_err(rc);
	return ACM_OK;
}

static int init_meta(acm_store_t *s, MDB_txn *txn)
{
	int rc;
	MDB_val k = mval("zone", 4), v = mval(s->apex, s->apex_len);

	if ((rc = put_u32(txn, s->meta, "schema", ACM_STORE_SCHEMA)) ||
	    (rc = put_u32(txn, s->meta, "serial", 1)))
		return rc;
	return store_err(mdb_put(txn, s->meta, &k, &v, 0));
}

static int check_meta(acm_store_t *s, MDB_txn *txn)
{
	MDB_val k = mval("schema", 6), v;
	int rc = mdb_get(txn, s->meta, &k, &v);

	if (rc == MDB_NOTFOUND)
		return s->read_only ? ACM_ESCHEMA : init_meta(s, txn);
	if (rc)
		return store_err(rc);
	if (v.mv_size != 4 || acm_get_u32(v.mv_data) != ACM_STORE_SCHEMA)
		return ACM_ESCHEMA;
	if ((rc = meta_get(txn, s->meta, "zone", &v)))
		return rc;
	if (v.mv_size != s->apex_len || memcmp(v.mv_data, s->apex, s->apex_len))
		return ACM_EZONE;
	uint32_t serial;
	return get_serial(txn, s->meta, &serial);
}

static int env_open(acm_store_t *s, const char *path, size_t mapsize)
{
	int rc = mdb_env_create(&s->env);
	if (rc)
		return store_err(rc);
	unsigned fl = MDB_NOTLS | (s->read_only ? MDB_RDONLY : 0);
	if ((rc = mdb_env_set_mapsize(s->env, mapsize)) ||
	    (rc = mdb_env_set_maxdbs(s->env, 8)) ||
	    (rc = mdb_env_set_maxreaders(s->env, 256)) ||
	    (rc = mdb_env_open(s->env, path, fl, 0600)))
		return store_err(rc);
	return ACM_OK;
}

int acm_store_open(const char *path, const uint8_t *apex,
                   const acm_store_opts_t *opts, acm_store_t **out)
{
	acm_store_opts_t none = { 0 };
	const acm_store_opts_t *o = opts ? opts : &none;
	size_t alen = acm_dname_len(apex);
	int rc;

	*out = NULL;
	if (alen == 0 || alen > ACM_DNAME_MAX)
		return ACM_EBADNAME;
	if (!o->read_only && (rc = mkdir_p(path)) != ACM_OK)
		return rc;
	acm_store_t *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	memcpy(s->apex, apex, alen);
	acm_dname_lower(s->apex);
	s->apex_len = alen;
	s->max_values = o->max_values ? o->max_values : DEFAULT_MAX_VALUES;
	if (s->max_values > ACM_RR_COUNT_MAX)
		s->max_values = ACM_RR_COUNT_MAX;
	s->journal_max = o->journal_max ? o->journal_max : DEFAULT_JOURNAL_MAX;
	s->read_only = o->read_only;

	rc = env_open(s, path, o->mapsize ? o->mapsize : DEFAULT_MAPSIZE);
	MDB_txn *txn = NULL;
	if (rc == ACM_OK)
		rc = store_err(txn_begin(s, s->read_only ? MDB_RDONLY : 0, &txn));
	if (rc == ACM_OK) {
		rc = open_dbis(s, txn);
		if (rc == ACM_OK)
			rc = check_meta(s, txn);
		/* Committing also keeps the dbi handles for the environment. */
		if (rc == ACM_OK)
			rc = store_err(mdb_txn_commit(txn));
		else
			mdb_txn_abort(txn);
	}
	if (rc != ACM_OK) {
		acm_store_close(s);
		return rc;
	}
	*out = s;
	return ACM_OK;
}

void acm_store_close(acm_store_t *store)
{
	if (!store)
		return;
	if (store->env)
		mdb_env_close(store->env);
	free(store);
}

const uint8_t *acm_store_apex(const acm_store_t *store)
{
	return store->apex;
}

unsigned acm_store_max_values(const acm_store_t *store)
{
	return store->max_values;
}

/*
 * Lower-case and check a subdomain label, and build its owner name.
 * label gets the NUL-terminated label; returns the owner's wire length.
 */
static int make_owner(const acm_store_t *s, const char *sub,
                      char label[ACM_LABEL_MAX + 1], uint8_t owner[ACM_DNAME_MAX])
{
	size_t n = sub ? strnlen(sub, ACM_LABEL_MAX + 1) : 0;

	if (n == 0 || n > ACM_LABEL_MAX || 1 + n + s->apex_len > ACM_DNAME_MAX)
		return ACM_EBADNAME;
	for (size_t i = 0; i < n; i++)
		label[i] = sub[i] >= 'A' && sub[i] <= 'Z' ? (char)(sub[i] - 'A' + 'a') : sub[i];
	label[n] = '\0';
	if (acm_label_check(label, n) != ACM_OK)
		return ACM_EBADNAME;
	owner[0] = (uint8_t)n;
	memcpy(owner + 1, label, n);
	memcpy(owner + 1 + n, s->apex, s->apex_len);
	return (int)(1 + n + s->apex_len);
}

/* ---- rrset records (codec: lib/rrset.c) ------------------------------- */

static int put_set(acm_wtxn_t *w, const uint8_t *owner, size_t olen,
                   const acm_txt_set_t *set)
{
	MDB_val k = mval(owner, olen), v = mval(NULL, acm_txt_set_size(set));
	int rc = mdb_put(w->txn, w->s->rrsets, &k, &v, MDB_RESERVE);
	if (rc == 0)
		acm_txt_set_encode(set, v.mv_data);
	return store_err(rc);
}

/* ---- the transaction's diff ------------------------------------------ */

static int diff_reserve(acm_wtxn_t *w, size_t more)
{
	if (w->diff_cap - w->diff_len >= more)
		return ACM_OK;
	size_t cap = w->diff_cap ? w->diff_cap : 1024;
	while (cap - w->diff_len < more)
		cap *= 2;
	uint8_t *p = realloc(w->diff, cap);
	if (!p)
		return -ENOMEM;
	w->diff = p;
	w->diff_cap = cap;
	return ACM_OK;
}

static int diff_entry(acm_wtxn_t *w, uint8_t op, const uint8_t *owner, size_t olen,
                      const acm_txt_ent_t *t)
{
	int rc = diff_reserve(w, 1 + olen + 2 + 1 + t->len);
	if (rc != ACM_OK)
		return rc;
	uint8_t *p = w->diff + w->diff_len;
	*p++ = op;
	memcpy(p, owner, olen);
	p += olen;
	acm_put_u16(p, (uint16_t)(1 + t->len));
	p[2] = t->len;
	memcpy(p + 3, t->val, t->len);
	w->diff_len += 1 + olen + 2 + 1 + t->len;
	return ACM_OK;
}

/* Deletes for values that left, adds for values that came, old -> cur. */
static int diff_sets(acm_wtxn_t *w, const uint8_t *owner, size_t olen)
{
	int rc = ACM_OK;
	for (unsigned i = 0; rc == ACM_OK && i < w->old.n; i++)
		if (acm_txt_set_find(&w->cur, w->old.e[i].val, w->old.e[i].len) < 0)
			rc = diff_entry(w, DIFF_DEL, owner, olen, &w->old.e[i]);
	for (unsigned i = 0; rc == ACM_OK && i < w->cur.n; i++)
		if (acm_txt_set_find(&w->old, w->cur.e[i].val, w->cur.e[i].len) < 0)
			rc = diff_entry(w, DIFF_ADD, owner, olen, &w->cur.e[i]);
	return rc;
}

/* ---- write transactions ---------------------------------------------- */

/* A store failure poisons the transaction; logical refusals do not. */
static int wtxn_result(acm_wtxn_t *w, int rc)
{
	if (rc < 0 && !is_refusal(rc))
		w->poisoned = true;
	return rc;
}

int acm_store_write_begin(acm_store_t *store, acm_wtxn_t **out)
{
	*out = NULL;
	if (store->read_only)
		return -EROFS;
	acm_wtxn_t *w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->s = store;
	int rc = store_err(txn_begin(store, 0, &w->txn));
	if (rc != ACM_OK) {
		free(w);
		return rc;
	}
	*out = w;
	return ACM_OK;
}

static void wtxn_free(acm_wtxn_t *w)
{
	free(w->diff);
	free(w);
}

void acm_store_write_abort(acm_wtxn_t *w)
{
	if (!w)
		return;
	mdb_txn_abort(w->txn);
	wtxn_free(w);
}

static int journal_next_seq(acm_wtxn_t *w, uint64_t *seq)
{
	MDB_cursor *c;
	MDB_val k, v;
	int rc = mdb_cursor_open(w->txn, w->s->journal, &c);
	if (rc)
		return store_err(rc);
	rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
	mdb_cursor_close(c);
	if (rc == MDB_NOTFOUND) {
		*seq = 1;
		return ACM_OK;
	}
	if (rc)
		return store_err(rc);
	if (k.mv_size != 8)
		return ACM_ECORRUPT;
	*seq = acm_get_u64(k.mv_data) + 1;
	return ACM_OK;
}

static int journal_trim(acm_wtxn_t *w)
{
	MDB_stat st;
	MDB_cursor *c;
	MDB_val k, v;
	int rc = mdb_stat(w->txn, w->s->journal, &st);
	if (rc)
		return store_err(rc);
	if (st.ms_entries <= w->s->journal_max)
		return ACM_OK;
	if ((rc = mdb_cursor_open(w->txn, w->s->journal, &c)))
		return store_err(rc);
	for (size_t n = st.ms_entries; rc == 0 && n > w->s->journal_max; n--) {
		rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
		if (rc == 0)
			rc = mdb_cursor_del(c, 0);
	}
	mdb_cursor_close(c);
	return store_err(rc);
}

static int journal_append(acm_wtxn_t *w, uint32_t from, uint32_t to)
{
	uint64_t seq;
	uint8_t key[8];
	int rc = journal_next_seq(w, &seq);
	if (rc != ACM_OK)
		return rc;
	acm_put_u64(key, seq);
	MDB_val k = mval(key, 8), v = mval(NULL, DIFF_HDR + w->diff_len);
	if ((rc = mdb_put(w->txn, w->s->journal, &k, &v, MDB_RESERVE)))
		return store_err(rc);
	uint8_t *p = v.mv_data;
	acm_put_u32(p, from);
	acm_put_u32(p + 4, to);
	acm_put_u64(p + 8, (uint64_t)time(NULL));
	memcpy(p + DIFF_HDR, w->diff, w->diff_len);
	return journal_trim(w);
}

/* Bump the serial once and journal the diff: the first half of a commit. */
static int publish_diff(acm_wtxn_t *w, uint32_t *serial)
{
	int rc = get_serial(w->txn, w->s->meta, serial);
	if (rc != ACM_OK || w->diff_len == 0)
		return rc;
	uint32_t next = *serial + 1;    /* unsigned wrap is RFC 1982 addition */
	if ((rc = put_u32(w->txn, w->s->meta, "serial", next)) ||
	    (rc = journal_append(w, *serial, next)))
		return rc;
	*serial = next;
	return ACM_OK;
}

int acm_store_write_commit(acm_wtxn_t *w, uint32_t *serial)
{
	uint32_t sn = 0;
	int rc = w->poisoned ? ACM_ESTORE : publish_diff(w, &sn);

	if (rc == ACM_OK) {
		rc = store_err(mdb_txn_commit(w->txn));
	} else {
		mdb_txn_abort(w->txn);
	}
	wtxn_free(w);
	if (rc == ACM_OK && serial)
		*serial = sn;
	return rc;
}

/* ---- accounts --------------------------------------------------------- */

static bool db_has(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen, int *err)
{
	MDB_val k = mval(key, klen), v;
	int rc = mdb_get(txn, dbi, &k, &v);
	*err = rc == MDB_NOTFOUND ? ACM_OK : store_err(rc);
	return rc == 0;
}

static int account_check(const acm_wtxn_t *w, const acm_account_t *acc, char *label,
                         uint8_t *owner, size_t *ulen)
{
	int olen = make_owner(w->s, acc->subdomain, label, owner);
	if (olen < 0)
		return olen;
	int rc = acm_account_check(acc, ulen);
	return rc != ACM_OK ? rc : olen;
}

static int account_write(acm_wtxn_t *w, const acm_account_t *acc, const char *label,
                         const uint8_t *owner, size_t olen, size_t ulen)
{
	char *text;
	int rc = acm_account_encode(acc, &text);
	if (rc != ACM_OK)
		return rc;
	size_t llen = strlen(label);
	acm_txt_set_t *empty = &w->cur;
	empty->n = 0;
	MDB_val k = mval(label, llen), v = mval(text, strlen(text));
	rc = mdb_put(w->txn, w->s->accounts, &k, &v, MDB_NOOVERWRITE);
	free(text);
	if (rc == 0) {
		k = mval(acc->username, ulen);
		v = mval(label, llen);
		rc = mdb_put(w->txn, w->s->users, &k, &v, MDB_NOOVERWRITE);
	}
	if (rc)
		return store_err(rc);
	return put_set(w, owner, olen, empty);
}

int acm_wtxn_account_create(acm_wtxn_t *w, const acm_account_t *acc)
{
	char label[ACM_LABEL_MAX + 1];
	uint8_t owner[ACM_DNAME_MAX];
	size_t ulen;
	int rc, olen;

	if (w->poisoned)
		return ACM_ESTORE;
	if ((olen = account_check(w, acc, label, owner, &ulen)) < 0)
		return olen;
	if (db_has(w->txn, w->s->accounts, label, strlen(label), &rc) ||
	    (rc == ACM_OK && db_has(w->txn, w->s->users, acc->username, ulen, &rc)) ||
	    (rc == ACM_OK && db_has(w->txn, w->s->rrsets, owner, (size_t)olen, &rc)))
		return ACM_EEXIST;
	if (rc == ACM_OK)
		rc = account_write(w, acc, label, owner, (size_t)olen, ulen);
	return wtxn_result(w, rc);
}

/* ---- TXT values -------------------------------------------------------- */

/* Load the account's set into w->old; *olen gets the owner's length. */
static int txt_load(acm_wtxn_t *w, const char *sub, uint8_t *owner, size_t *olen)
{
	char label[ACM_LABEL_MAX + 1];
	int n = make_owner(w->s, sub, label, owner);
	if (n < 0)
		return n;
	*olen = (size_t)n;
	MDB_val k = mval(owner, *olen), v;
	int rc = mdb_get(w->txn, w->s->rrsets, &k, &v);
	if (rc)
		return store_err(rc);
	return acm_txt_set_decode(v.mv_data, v.mv_size, &w->old);
}

/*
 * The one rewrite shared by add, remove and replace: w->cur is the new set.
 * The diff goes first so a failed record write leaves a poisoned
 * transaction rather than a record without its diff.
 */
static int txt_store(acm_wtxn_t *w, const uint8_t *owner, size_t olen)
{
	if (acm_txt_set_same(&w->old, &w->cur))
		return ACM_OK;
	int rc = diff_sets(w, owner, olen);
	return rc == ACM_OK ? put_set(w, owner, olen, &w->cur) : rc;
}

static int txt_op_start(acm_wtxn_t *w, const char *sub, const char *value, size_t len,
                        uint8_t *owner, size_t *olen)
{
	if (w->poisoned)
		return ACM_ESTORE;
	if (value && acm_txt_check(value, len) != ACM_OK)
		return ACM_EBADVALUE;
	return txt_load(w, sub, owner, olen);
}

int acm_wtxn_txt_add(acm_wtxn_t *w, const char *subdomain, const char *value,
                     size_t len, uint64_t expires)
{
	uint8_t owner[ACM_DNAME_MAX];
	size_t olen;
	int rc = txt_op_start(w, subdomain, value, len, owner, &olen);
	if (rc != ACM_OK)
		return wtxn_result(w, rc);

	uint64_t now = (uint64_t)time(NULL);
	w->cur.n = 0;
	for (unsigned i = 0; i < w->old.n; i++) {
		const acm_txt_ent_t *t = &w->old.e[i];
		if (t->expires == 0 || t->expires > now)
			w->cur.e[w->cur.n++] = *t;
	}
	if (acm_txt_set_find(&w->cur, value, len) >= 0)
		return ACM_EEXIST;
	if (w->cur.n >= w->s->max_values)
		return ACM_EFULL;
	acm_txt_set_append(&w->cur, value, len, now, expires);
	return wtxn_result(w, txt_store(w, owner, olen));
}

int acm_wtxn_txt_remove(acm_wtxn_t *w, const char *subdomain, const char *value,
                        size_t len)
{
	uint8_t owner[ACM_DNAME_MAX];
	size_t olen;
	int rc = txt_op_start(w, subdomain, value, len, owner, &olen);
	if (rc != ACM_OK)
		return wtxn_result(w, rc);

	int at = acm_txt_set_find(&w->old, value, len);
	if (at < 0)
		return ACM_EABSENT;
	w->cur.n = 0;
	for (unsigned i = 0; i < w->old.n; i++)
		if ((int)i != at)
			w->cur.e[w->cur.n++] = w->old.e[i];
	return wtxn_result(w, txt_store(w, owner, olen));
}

int acm_wtxn_txt_replace(acm_wtxn_t *w, const char *subdomain,
                         const acm_txt_t *values, size_t n)
{
	uint8_t owner[ACM_DNAME_MAX];
	size_t olen;

	for (size_t i = 0; i < n; i++)
		if (values[i].len > ACM_TXT_MAX ||
		    acm_txt_check(values[i].value, values[i].len) != ACM_OK)
			return ACM_EBADVALUE;
	int rc = txt_op_start(w, subdomain, NULL, 0, owner, &olen);
	if (rc != ACM_OK)
		return wtxn_result(w, rc);

	uint64_t now = (uint64_t)time(NULL);
	w->cur.n = 0;
	for (size_t i = 0; i < n; i++) {
		const acm_txt_t *v = &values[i];
		if (acm_txt_set_find(&w->cur, v->value, v->len) >= 0)
			continue;
		if (w->cur.n >= w->s->max_values)
			return ACM_EFULL;
		int j = acm_txt_set_find(&w->old, v->value, v->len);
		acm_txt_set_append(&w->cur, v->value, v->len,
		           j >= 0 ? w->old.e[j].set_time : now, v->expires);
	}
	return wtxn_result(w, txt_store(w, owner, olen));
}

/* ---- one-operation conveniences ---------------------------------------- */

static int finish(acm_wtxn_t *w, int rc, uint32_t *serial)
{
	if (rc != ACM_OK) {
		acm_store_write_abort(w);
		return rc;
	}
	return acm_store_write_commit(w, serial);
}

int acm_store_account_create(acm_store_t *store, const acm_account_t *acc,
                             uint32_t *serial)
{
	acm_wtxn_t *w;
	int rc = acm_store_write_begin(store, &w);
	return rc ? rc : finish(w, acm_wtxn_account_create(w, acc), serial);
}

int acm_store_txt_add(acm_store_t *store, const char *subdomain, const char *value,
                      size_t len, uint64_t expires, uint32_t *serial)
{
	acm_wtxn_t *w;
	int rc = acm_store_write_begin(store, &w);
	return rc ? rc : finish(w, acm_wtxn_txt_add(w, subdomain, value, len, expires),
	                        serial);
}

int acm_store_txt_remove(acm_store_t *store, const char *subdomain,
                         const char *value, size_t len, uint32_t *serial)
{
	acm_wtxn_t *w;
	int rc = acm_store_write_begin(store, &w);
	return rc ? rc : finish(w, acm_wtxn_txt_remove(w, subdomain, value, len), serial);
}

int acm_store_txt_replace(acm_store_t *store, const char *subdomain,
                          const acm_txt_t *values, size_t n, uint32_t *serial)
{
	acm_wtxn_t *w;
	int rc = acm_store_write_begin(store, &w);
	return rc ? rc : finish(w, acm_wtxn_txt_replace(w, subdomain, values, n), serial);
}

/* ---- reads ------------------------------------------------------------- */

int acm_store_serial(acm_store_t *store, uint32_t *serial)
{
	MDB_txn *txn;
	int rc = read_begin(store, &txn);
	if (rc != ACM_OK)
		return rc;
	rc = get_serial(txn, store->meta, serial);
	mdb_txn_abort(txn);
	return rc;
}

static int account_get_in(acm_store_t *s, MDB_txn *txn, const char *sub,
                          acm_account_t *out)
{
	char label[ACM_LABEL_MAX + 1];
	uint8_t owner[ACM_DNAME_MAX];
	int rc = make_owner(s, sub, label, owner);
	if (rc < 0)
		return rc == ACM_EBADNAME ? ACM_ENOTFOUND : rc;
	MDB_val k = mval(label, strlen(label)), v;
	if ((rc = mdb_get(txn, s->accounts, &k, &v)))
		return store_err(rc);
	return acm_account_decode(v.mv_data, v.mv_size, label, out);
}

int acm_store_account_get(acm_store_t *store, const char *subdomain, acm_account_t *out)
{
	MDB_txn *txn;
	int rc = read_begin(store, &txn);
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
	int rc = read_begin(store, &txn);
	if (rc != ACM_OK)
		return rc;
	MDB_val k = mval(username, ulen), v;
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

static int txt_list_in(acm_store_t *s, MDB_txn *txn, const char *sub,
                       acm_txt_t *out, size_t max, size_t *n)
{
	char label[ACM_LABEL_MAX + 1];
	uint8_t owner[ACM_DNAME_MAX];
	acm_rr_iter_t it;
	acm_rr_entry_t e;
	int rc = make_owner(s, sub, label, owner);
	if (rc < 0)
		return rc;
	MDB_val k = mval(owner, (size_t)rc), v;
	if ((rc = mdb_get(txn, s->rrsets, &k, &v)))
		return store_err(rc);
	if ((rc = acm_rr_iter_init(&it, v.mv_data, v.mv_size)))
		return rc;
	*n = 0;
	while ((rc = acm_rr_iter_next(&it, &e)) == 1) {
		if (e.rdlen != 1 + e.rdata[0])
			return ACM_ECORRUPT;
		if (*n < max) {
			acm_txt_t *t = &out[*n];
			t->len = e.rdata[0];
			memcpy(t->value, e.rdata + 1, t->len);
			t->value[t->len] = '\0';
			t->set_time = e.set_time;
			t->expires = e.expires;
		}
		(*n)++;
	}
	return rc;
}

int acm_store_txt_list(acm_store_t *store, const char *subdomain,
                       acm_txt_t *out, size_t max, size_t *n)
{
	MDB_txn *txn;
	int rc = read_begin(store, &txn);
	if (rc != ACM_OK)
		return rc;
	*n = 0;
	rc = txt_list_in(store, txn, subdomain, out, max, n);
	mdb_txn_abort(txn);
	return rc;
}

/* What foreach_rrset and foreach_diff hand each key/value pair to. */
struct walk {
	acm_rrset_fn rrset;
	acm_diff_fn diff;
	void *ctx;
};

static int visit(const struct walk *wk, const MDB_val *k, const MDB_val *v)
{
	if (wk->rrset)
		return wk->rrset(k->mv_data, v->mv_data, v->mv_size, wk->ctx);
	if (k->mv_size != 8)
		return ACM_ECORRUPT;
	return wk->diff(acm_get_u64(k->mv_data), v->mv_data, v->mv_size, wk->ctx);
}

/* Walk dbi in one snapshot from start (or the first key). */
static int walk(acm_store_t *s, MDB_dbi dbi, const MDB_val *start, const struct walk *wk)
{
	MDB_txn *txn;
	MDB_cursor *c;
	MDB_val k = start ? *start : mval(NULL, 0), v;
	int rc = read_begin(s, &txn);
	if (rc != ACM_OK)
		return rc;
	if ((rc = mdb_cursor_open(txn, dbi, &c))) {
		mdb_txn_abort(txn);
		return store_err(rc);
	}
	int r = mdb_cursor_get(c, &k, &v, start ? MDB_SET_RANGE : MDB_FIRST);
	for (rc = 0; r == 0 && rc == 0; r = mdb_cursor_get(c, &k, &v, MDB_NEXT))
		rc = visit(wk, &k, &v);
	if (rc == 0 && r != MDB_NOTFOUND)
		rc = store_err(r);
	mdb_cursor_close(c);
	mdb_txn_abort(txn);
	return rc;
}

int acm_store_foreach_rrset(acm_store_t *store, acm_rrset_fn fn, void *ctx)
{
	struct walk wk = { fn, NULL, ctx };
	return walk(store, store->rrsets, NULL, &wk);
}

int acm_store_foreach_diff(acm_store_t *store, uint64_t from_seq, acm_diff_fn fn,
                           void *ctx)
{
	struct walk wk = { NULL, fn, ctx };
	uint8_t key[8];
	acm_put_u64(key, from_seq);
	MDB_val start = mval(key, 8);
	return walk(store, store->journal, &start, &wk);
}

/* ---- DNS readers ------------------------------------------------------- */

int acm_reader_open(acm_store_t *store, acm_reader_t **out)
{
	*out = NULL;
	acm_reader_t *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->s = store;
	int rc = read_begin(store, &r->txn);
	if (rc != ACM_OK) {
		free(r);
		return rc;
	}
	/* Reset keeps the reader slot, so every later begin is only a renew. */
	mdb_txn_reset(r->txn);
	*out = r;
	return ACM_OK;
}

void acm_reader_close(acm_reader_t *r)
{
	if (!r)
		return;
	mdb_txn_abort(r->txn);
	free(r);
}

int acm_reader_begin(acm_reader_t *r, uint32_t *serial)
{
	if (r->active)
		acm_reader_end(r);
	int rc = mdb_txn_renew(r->txn);
	if (rc == MDB_MAP_RESIZED) {
		mdb_env_set_mapsize(r->s->env, 0);
		rc = mdb_txn_renew(r->txn);
	}
	if (rc)
		return store_err(rc);
	r->active = true;
	rc = get_serial(r->txn, r->s->meta, serial);
	if (rc != ACM_OK)
		acm_reader_end(r);
	return rc;
}

void acm_reader_end(acm_reader_t *r)
{
	if (r->active)
		mdb_txn_reset(r->txn);
	r->active = false;
}

int acm_reader_lookup(acm_reader_t *r, const uint8_t *owner, size_t owner_len,
                      const uint8_t **rec, size_t *len)
{
	if (!r->active)
		return ACM_ESTORE;
	MDB_val k = mval(owner, owner_len), v;
	int rc = mdb_get(r->txn, r->s->rrsets, &k, &v);
	if (rc)
		return store_err(rc);
	*rec = v.mv_data;
	*len = v.mv_size;
	return ACM_OK;
}
