/* SPDX-License-Identifier: ISC */
/*
 * The shared fixture of the store's unit tests (see store_fx.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ftw.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/dns/dname.h"
#include "lib/error.h"
#include "lib/store/store.h"
#include "lib/dns/wire.h"
#include "tests/unit/store_fx.h"

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void fx_open(struct fx *f, const acm_store_opts_t *opts)
{
	if (f->s)
		acm_store_close(f->s);
	f->s = NULL;
	assert_int_equal(acm_store_open(f->dir, f->apex, opts, &f->s), ACM_OK);
	assert_non_null(f->s);
}

int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	strcpy(f->dir, "/tmp/acmens-test-XXXXXX");
	if (!mkdtemp(f->dir) ||
	    acm_dname_from_text("acme.Example.ORG.", f->apex) <= 0) {
		free(f);
		return -1;
	}
	acm_dname_lower(f->apex);
	*state = f;
	return 0;
}

int fx_teardown(void **state)
{
	struct fx *f = *state;
	acm_store_close(f->s);
	nftw(f->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* A fresh account on subdomain sub with a predictable username. */
void make_account(acm_store_t *s, const char *sub, const char *user)
{
	acm_account_t a;
	memset(&a, 0, sizeof(a));
	strcpy(a.subdomain, sub);
	strcpy(a.username, user);
	a.key_scheme = ACM_KEY_SHA256;
	strcpy(a.key_hash, "00");
	assert_int_equal(acm_store_account_create(s, &a, NULL), ACM_OK);
}

uint32_t serial_of(acm_store_t *s)
{
	uint32_t sn = 0;
	assert_int_equal(acm_store_serial(s, &sn), ACM_OK);
	return sn;
}

size_t list(acm_store_t *s, const char *sub, acm_txt_t *out, size_t max)
{
	size_t n = 999;
	assert_int_equal(acm_store_txt_list(s, sub, out, max, &n), ACM_OK);
	return n;
}

int add(acm_store_t *s, const char *sub, const char *v, uint64_t expires)
{
	return acm_store_txt_add(s, sub, v, strlen(v), expires, NULL);
}

acm_txt_t txt(const char *v, uint64_t expires)
{
	acm_txt_t t;
	memset(&t, 0, sizeof(t));
	t.len = strlen(v);
	memcpy(t.value, v, t.len);
	t.expires = expires;
	return t;
}

size_t owner_of(const struct fx *f, const char *label, uint8_t *owner)
{
	size_t n = strlen(label);
	owner[0] = (uint8_t)n;
	memcpy(owner + 1, label, n);
	size_t alen = acm_dname_len(f->apex);
	memcpy(owner + 1 + n, f->apex, alen);
	return 1 + n + alen;
}

/* Edit a byte range of a stored record behind the store's back (closed). */
void raw_patch(const struct fx *f, const char *db, const void *key, size_t klen,
                      size_t off, const void *bytes, size_t n)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = { klen, (void *)key }, v;
	uint8_t buf[4096];

	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 8), 0);
	assert_int_equal(mdb_env_open(env, f->dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, db, 0, &dbi), 0);
	assert_int_equal(mdb_get(txn, dbi, &k, &v), 0);
	assert_true(off + n <= sizeof(buf) && v.mv_size <= sizeof(buf));
	memcpy(buf, v.mv_data, v.mv_size);
	memcpy(buf + off, bytes, n);
	v.mv_data = buf;
	if (off + n > v.mv_size)
		v.mv_size = off + n;
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

void raw_patch_rrset(const struct fx *f, const char *label, size_t off,
                            uint64_t x)
{
	uint8_t owner[ACM_DNAME_MAX], b[8];
	size_t olen = owner_of(f, label, owner);
	acm_put_u64(b, x);
	raw_patch(f, "rrsets", owner, olen, off, b, 8);
}

/* Decode a journal diff strictly, the way a transfer would read it. */
int collect_diff(uint64_t seq, const uint8_t *rec, size_t len, void *ctx)
{
	struct diffs *ds = ctx;
	assert_true(ds->n < 8);
	struct diff_rec *d = &ds->d[ds->n++];
	memset(d, 0, sizeof(*d));
	d->seq = seq;
	assert_true(len >= 16);
	d->from = acm_get_u32(rec);
	d->to = acm_get_u32(rec + 4);
	d->time = acm_get_u64(rec + 8);
	size_t pos = 16;
	while (pos < len) {
		assert_true(d->n < 16);
		struct diff_ent *e = &d->e[d->n++];
		e->op = rec[pos++];
		assert_true(e->op == 0 || e->op == 1);
		assert_true(pos < len);
		size_t olen = acm_dname_len(rec + pos);
		assert_true(olen > 0 && pos + olen + 2 <= len);
		assert_true(acm_dname_to_text(rec + pos, e->owner) > 0);
		pos += olen;
		size_t rdlen = acm_get_u16(rec + pos);
		pos += 2;
		assert_true(pos + rdlen <= len && rdlen >= 1);
		assert_int_equal(rec[pos], rdlen - 1);
		memcpy(e->value, rec + pos + 1, rdlen - 1);
		e->value[rdlen - 1] = '\0';
		pos += rdlen;
	}
	assert_int_equal(pos, len);
	return 0;
}

void assert_ent(const struct diff_ent *e, int op, const char *owner,
                       const char *value)
{
	assert_int_equal(e->op, op);
	assert_string_equal(e->owner, owner);
	assert_string_equal(e->value, value);
}
