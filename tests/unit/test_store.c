/* SPDX-License-Identifier: ISC */
/*
 * Unit tests of the store's core (lib/store*.c: open, TXT add, remove and
 * replace, account creation, journal, readers) and of account credentials
 * (lib/store/keys.c): every test works in its own temporary directory. The newer
 * operations and the audit log are in test_store_ops.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/dns/dname.h"
#include "lib/error.h"
#include "lib/store/keys.h"
#include "lib/store/store_check.h"
#include "lib/store/store.h"
#include "lib/dns/wire.h"
#include "tests/unit/store_fx.h"

/* ---- open ------------------------------------------------------------ */

static void test_open_reopen(void **state)
{
	struct fx *f = *state;
	uint32_t sn = 0;

	fx_open(f, NULL);
	assert_int_equal(serial_of(f->s), 1);
	assert_int_equal(acm_store_max_values(f->s), 8);
	assert_memory_equal(acm_store_apex(f->s), f->apex, acm_dname_len(f->apex));
	make_account(f->s, "alpha", "user-a");
	assert_int_equal(acm_store_txt_add(f->s, "alpha", "token1", 6, 0, &sn), ACM_OK);
	assert_int_equal(sn, 2);

	acm_store_opts_t o = { .max_values = 4 };
	fx_open(f, &o);
	assert_int_equal(serial_of(f->s), 2);
	assert_int_equal(acm_store_max_values(f->s), 4);
	acm_txt_t t[4];
	assert_int_equal(list(f->s, "alpha", t, 4), 1);
	assert_string_equal(t[0].value, "token1");

	acm_account_t a;
	assert_int_equal(acm_store_account_by_user(f->s, "user-a", &a), ACM_OK);
	assert_string_equal(a.subdomain, "alpha");

	/* A read-only open sees the same data. */
	acm_store_close(f->s);
	f->s = NULL;
	o.read_only = true;
	fx_open(f, &o);
	assert_int_equal(serial_of(f->s), 2);
	assert_int_equal(add(f->s, "alpha", "x", 0), -EROFS);
}

static void test_reopen_other_zone(void **state)
{
	struct fx *f = *state;
	uint8_t other[ACM_DNAME_MAX];
	acm_store_t *s = (acm_store_t *)1;

	fx_open(f, NULL);
	acm_store_close(f->s);
	f->s = NULL;
	assert_true(acm_dname_from_text("acme.example.net", other) > 0);
	assert_int_equal(acm_store_open(f->dir, other, NULL, &s), ACM_EZONE);
	assert_null(s);
	/* The apex is compared case-insensitively. */
	assert_true(acm_dname_from_text("ACME.example.org", other) > 0);
	assert_int_equal(acm_store_open(f->dir, other, NULL, &s), ACM_OK);
	acm_store_close(s);
}

static void test_schema_mismatch(void **state)
{
	struct fx *f = *state;
	static const uint8_t two[4] = { 0, 0, 0, 2 };
	acm_store_t *s = NULL;

	fx_open(f, NULL);
	acm_store_close(f->s);
	f->s = NULL;
	raw_patch(f, "meta", "schema", 6, 0, two, 4);
	assert_int_equal(acm_store_open(f->dir, f->apex, NULL, &s), ACM_ESCHEMA);
	assert_null(s);
}

static void no_problem(void *ctx, const char *db, const char *key, const char *problem)
{
	(void)ctx;
	fail_msg("%s %s: %s", db, key, problem);
}

static size_t json_accounts(acm_store_t *s)
{
	acm_store_check_t st;
	assert_int_equal(acm_store_check(s, no_problem, NULL, &st), ACM_OK);
	assert_int_equal(st.problems, 0);
	return st.accounts_json;
}

/* An account record in the JSON form of older stores is read as before,
 * counted by the check, and stored binary by its next write. */
static void test_json_record_upgraded(void **state)
{
	struct fx *f = *state;
	acm_account_t a, got;
	acm_wtxn_t *w;
	char *text;

	fx_open(f, NULL);
	make_account(f->s, "old", "u-old");
	assert_int_equal(json_accounts(f->s), 0);
	assert_int_equal(acm_store_account_get(f->s, "old", &a), ACM_OK);
	a.allowfrom_count = 1;
	strcpy(a.allowfrom[0], "192.0.2.1");
	acm_store_close(f->s);
	f->s = NULL;
	/* Longer than the binary record it replaces, so it covers it whole. */
	assert_int_equal(acm_account_encode_json(&a, &text), ACM_OK);
	raw_patch(f, "accounts", "old", 3, 0, text, strlen(text));
	free(text);

	fx_open(f, NULL);
	assert_int_equal(json_accounts(f->s), 1);
	assert_int_equal(acm_store_account_by_user(f->s, "u-old", &got), ACM_OK);
	assert_memory_equal(&got, &a, sizeof(a));
	got.flags = ACM_ACCOUNT_DISABLED;
	assert_int_equal(acm_store_write_begin(f->s, &w), ACM_OK);
	assert_int_equal(acm_wtxn_account_update(w, &got), ACM_OK);
	assert_int_equal(acm_store_write_commit(w, NULL), ACM_OK);
	assert_int_equal(json_accounts(f->s), 0);
	assert_int_equal(acm_store_account_get(f->s, "old", &a), ACM_OK);
	assert_memory_equal(&got, &a, sizeof(a));
}

/* A damaged record is reported, not trusted. */
static void test_corrupt_record(void **state)
{
	struct fx *f = *state;
	acm_txt_t t[4];
	size_t n;
	static const uint8_t bad_len[2] = { 0, 200 };

	fx_open(f, NULL);
	make_account(f->s, "cor", "u1");
	assert_int_equal(add(f->s, "cor", "abc", 0), ACM_OK);
	acm_store_close(f->s);
	f->s = NULL;
	raw_patch(f, "rrsets", "\3cor\4acme\7example\3org", 22, 18, bad_len, 2);
	fx_open(f, NULL);
	assert_int_equal(acm_store_txt_list(f->s, "cor", t, 4, &n), ACM_ECORRUPT);
	assert_int_equal(add(f->s, "cor", "x", 0), ACM_ECORRUPT);
	assert_int_equal(serial_of(f->s), 2);
}

/* ---- accounts --------------------------------------------------------- */

static void test_account_create(void **state)
{
	struct fx *f = *state;
	acm_account_t a, b;
	uint32_t sn = 0;

	fx_open(f, NULL);
	memset(&a, 0, sizeof(a));
	strcpy(a.subdomain, "host-1");
	strcpy(a.username, "bob");
	a.key_scheme = ACM_KEY_BCRYPT;
	strcpy(a.key_hash, "$2b$10$abc");
	a.allowfrom_count = 2;
	strcpy(a.allowfrom[0], "192.0.2.0/24");
	strcpy(a.allowfrom[1], "2001:db8::/32");
	a.created = 1700000000;
	a.updated = 1700000001;
	a.flags = ACM_ACCOUNT_DISABLED;
	assert_int_equal(acm_store_account_create(f->s, &a, &sn), ACM_OK);
	assert_int_equal(sn, 1);   /* no rdata changed: no new serial */

	assert_int_equal(acm_store_account_get(f->s, "HOST-1", &b), ACM_OK);
	assert_string_equal(b.subdomain, "host-1");
	assert_string_equal(b.username, "bob");
	assert_int_equal(b.key_scheme, ACM_KEY_BCRYPT);
	assert_string_equal(b.key_hash, "$2b$10$abc");
	assert_int_equal(b.allowfrom_count, 2);
	assert_string_equal(b.allowfrom[0], "192.0.2.0/24");
	assert_string_equal(b.allowfrom[1], "2001:db8::/32");
	assert_int_equal(b.created, 1700000000);
	assert_int_equal(b.updated, 1700000001);
	assert_int_equal(b.flags, ACM_ACCOUNT_DISABLED);

	/* An account answers NODATA: its rrset record exists and is empty. */
	acm_txt_t t[1];
	assert_int_equal(list(f->s, "host-1", t, 1), 0);

	/* Same subdomain (any case), or same username: refused. */
	strcpy(a.subdomain, "HOST-1");
	strcpy(a.username, "carol");
	assert_int_equal(acm_store_account_create(f->s, &a, NULL), ACM_EEXIST);
	strcpy(a.subdomain, "host-2");
	strcpy(a.username, "bob");
	assert_int_equal(acm_store_account_create(f->s, &a, NULL), ACM_EEXIST);
	assert_int_equal(acm_store_account_get(f->s, "host-2", &b), ACM_ENOTFOUND);
	assert_int_equal(acm_store_account_by_user(f->s, "carol", &b), ACM_ENOTFOUND);
	assert_int_equal(acm_store_account_by_user(f->s, "bob", &b), ACM_OK);
	assert_string_equal(b.subdomain, "host-1");
}

static void test_account_bad_label(void **state)
{
	struct fx *f = *state;
	static const char *const bad[] = {
		"", "-abc", "abc-", "a_b", "a.b", "a b", "caf\xc3\xa9",
	};
	static const char *const long64 =
		"0123456789012345678901234567890123456789012345678901234567890123";
	acm_account_t a;

	fx_open(f, NULL);
	memset(&a, 0, sizeof(a));
	strcpy(a.username, "u");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		strncpy(a.subdomain, bad[i], ACM_LABEL_MAX);
		assert_int_equal(acm_store_account_create(f->s, &a, NULL), ACM_EBADNAME);
	}
	strcpy(a.subdomain, "ok");
	a.username[0] = '\0';
	assert_int_equal(acm_store_account_create(f->s, &a, NULL), ACM_EBADNAME);
	assert_int_equal(add(f->s, "a_b", "v", 0), ACM_EBADNAME);
	assert_int_equal(add(f->s, long64, "v", 0), ACM_EBADNAME);
	assert_int_equal(add(f->s, long64 + 1, "v", 0), ACM_ENOTFOUND);  /* 63 is fine */
}

/* ---- TXT values -------------------------------------------------------- */

static void test_txt_add_list(void **state)
{
	struct fx *f = *state;
	acm_txt_t t[8];
	uint32_t sn = 0;
	uint64_t before = (uint64_t)time(NULL);

	fx_open(f, NULL);
	make_account(f->s, "web", "u1");
	assert_int_equal(acm_store_txt_add(f->s, "web", "first", 5, 0, &sn), ACM_OK);
	assert_int_equal(sn, 2);
	assert_int_equal(acm_store_txt_add(f->s, "web", "second", 6, 4000000000u, &sn),
	                 ACM_OK);
	assert_int_equal(sn, 3);
	assert_int_equal(list(f->s, "web", t, 8), 2);
	assert_int_equal(t[0].len, 5);
	assert_string_equal(t[0].value, "first");
	assert_int_equal(t[0].expires, 0);
	assert_true(t[0].set_time >= before && t[0].set_time <= before + 5);
	assert_string_equal(t[1].value, "second");
	assert_int_equal(t[1].expires, 4000000000u);

	/* max limits what is written, not the count. */
	size_t n = 0;
	assert_int_equal(acm_store_txt_list(f->s, "web", t, 1, &n), ACM_OK);
	assert_int_equal(n, 2);
	assert_string_equal(t[0].value, "first");

	/* Bad values. */
	char big[257];
	memset(big, 'a', 256);
	big[256] = '\0';
	assert_int_equal(acm_store_txt_add(f->s, "web", big, 256, 0, NULL), ACM_EBADVALUE);
	assert_int_equal(acm_store_txt_add(f->s, "web", big, 255, 0, NULL), ACM_OK);
	assert_int_equal(acm_store_txt_add(f->s, "web", "a\nb", 3, 0, NULL), ACM_EBADVALUE);
	assert_int_equal(acm_store_txt_add(f->s, "web", "", 0, 0, NULL), ACM_EBADVALUE);
	assert_int_equal(acm_txt_check("\x7f", 1), ACM_EBADVALUE);
	assert_int_equal(acm_txt_check(" ~", 2), ACM_OK);
	assert_int_equal(serial_of(f->s), 4);
}

static void test_txt_duplicate(void **state)
{
	struct fx *f = *state;
	acm_txt_t t[8];

	fx_open(f, NULL);
	make_account(f->s, "dup", "u1");
	assert_int_equal(add(f->s, "dup", "v", 0), ACM_OK);
	assert_int_equal(serial_of(f->s), 2);
	assert_int_equal(add(f->s, "dup", "v", 1234567890123u), ACM_EEXIST);
	assert_int_equal(serial_of(f->s), 2);
	assert_int_equal(list(f->s, "dup", t, 8), 1);
	assert_int_equal(t[0].expires, 0);   /* expiry left as it was */
}

static void test_txt_full(void **state)
{
	struct fx *f = *state;
	acm_store_opts_t o = { .max_values = 3 };
	acm_txt_t t[8];

	fx_open(f, &o);
	make_account(f->s, "full", "u1");
	assert_int_equal(add(f->s, "full", "a", 0), ACM_OK);
	assert_int_equal(add(f->s, "full", "b", 0), ACM_OK);
	assert_int_equal(add(f->s, "full", "c", 0), ACM_OK);
	assert_int_equal(serial_of(f->s), 4);
	assert_int_equal(add(f->s, "full", "d", 0), ACM_EFULL);
	assert_int_equal(serial_of(f->s), 4);
	assert_int_equal(list(f->s, "full", t, 8), 3);
	assert_string_equal(t[0].value, "a");
	assert_string_equal(t[1].value, "b");
	assert_string_equal(t[2].value, "c");
	/* A duplicate is reported as such even when full. */
	assert_int_equal(add(f->s, "full", "b", 0), ACM_EEXIST);
}

static void test_txt_remove(void **state)
{
	struct fx *f = *state;
	acm_txt_t t[8];
	uint32_t sn = 0;

	fx_open(f, NULL);
	make_account(f->s, "rm", "u1");
	assert_int_equal(add(f->s, "rm", "a", 0), ACM_OK);
	assert_int_equal(add(f->s, "rm", "b", 0), ACM_OK);
	assert_int_equal(add(f->s, "rm", "c", 0), ACM_OK);
	assert_int_equal(acm_store_txt_remove(f->s, "rm", "zz", 2, &sn), ACM_EABSENT);
	assert_int_equal(serial_of(f->s), 4);
	assert_int_equal(acm_store_txt_remove(f->s, "rm", "b", 1, &sn), ACM_OK);
	assert_int_equal(sn, 5);
	assert_int_equal(list(f->s, "rm", t, 8), 2);
	assert_string_equal(t[0].value, "a");
	assert_string_equal(t[1].value, "c");
	assert_int_equal(acm_store_txt_remove(f->s, "rm", "b", 1, &sn), ACM_EABSENT);
	assert_int_equal(serial_of(f->s), 5);
}

static void test_txt_replace(void **state)
{
	struct fx *f = *state;
	acm_store_opts_t o = { .max_values = 3 };
	acm_txt_t t[8], in[5];
	uint32_t sn = 0;

	fx_open(f, &o);
	make_account(f->s, "rep", "u1");
	assert_int_equal(add(f->s, "rep", "keep", 0), ACM_OK);
	/* Age the value so a kept set_time is told apart from a new one. */
	acm_store_close(f->s);
	f->s = NULL;
	raw_patch_rrset(f, "rep", 2, 1000);
	fx_open(f, &o);
	assert_int_equal(list(f->s, "rep", t, 8), 1);
	assert_int_equal(t[0].set_time, 1000);

	/* Duplicates in the input are merged. */
	in[0] = txt("new1", 0);
	in[1] = txt("keep", 99);
	in[2] = txt("new1", 0);
	in[3] = txt("new2", 0);
	assert_int_equal(acm_store_txt_replace(f->s, "rep", in, 4, &sn), ACM_OK);
	assert_int_equal(sn, 3);
	assert_int_equal(list(f->s, "rep", t, 8), 3);
	assert_string_equal(t[0].value, "new1");
	assert_string_equal(t[1].value, "keep");
	assert_int_equal(t[1].set_time, 1000);
	assert_true(t[0].set_time >= (uint64_t)time(NULL) - 60);
	assert_int_equal(t[1].expires, 99);
	assert_string_equal(t[2].value, "new2");

	/* The same set again changes nothing. */
	assert_int_equal(acm_store_txt_replace(f->s, "rep", in, 4, &sn), ACM_OK);
	assert_int_equal(sn, 3);

	/* Four distinct values with a limit of three. */
	in[4] = txt("new3", 0);
	assert_int_equal(acm_store_txt_replace(f->s, "rep", in, 5, &sn), ACM_EFULL);
	assert_int_equal(serial_of(f->s), 3);
	assert_int_equal(list(f->s, "rep", t, 8), 3);

	in[0] = txt("bad\tvalue", 0);
	assert_int_equal(acm_store_txt_replace(f->s, "rep", in, 1, &sn), ACM_EBADVALUE);

	/* To empty. */
	assert_int_equal(acm_store_txt_replace(f->s, "rep", NULL, 0, &sn), ACM_OK);
	assert_int_equal(sn, 4);
	assert_int_equal(list(f->s, "rep", t, 8), 0);
	assert_int_equal(acm_store_txt_replace(f->s, "rep", NULL, 0, &sn), ACM_OK);
	assert_int_equal(sn, 4);
}

static void test_unknown_account(void **state)
{
	struct fx *f = *state;
	acm_txt_t t[2], in = txt("v", 0);
	size_t n;

	fx_open(f, NULL);
	make_account(f->s, "known", "u1");
	assert_int_equal(add(f->s, "nobody", "v", 0), ACM_ENOTFOUND);
	assert_int_equal(acm_store_txt_remove(f->s, "nobody", "v", 1, NULL), ACM_ENOTFOUND);
	assert_int_equal(acm_store_txt_replace(f->s, "nobody", &in, 1, NULL), ACM_ENOTFOUND);
	assert_int_equal(acm_store_txt_list(f->s, "nobody", t, 2, &n), ACM_ENOTFOUND);
	assert_int_equal(serial_of(f->s), 1);
}

static void test_mixed_case(void **state)
{
	struct fx *f = *state;
	acm_txt_t t[4], in = txt("r", 0);
	acm_account_t a;
	uint8_t owner[ACM_DNAME_MAX];

	fx_open(f, NULL);
	make_account(f->s, "ABC-Def", "u1");
	assert_int_equal(acm_store_account_get(f->s, "abc-def", &a), ACM_OK);
	assert_string_equal(a.subdomain, "abc-def");
	assert_int_equal(add(f->s, "ABC-Def", "x", 0), ACM_OK);
	assert_int_equal(add(f->s, "abc-DEF", "y", 0), ACM_OK);
	assert_int_equal(add(f->s, "abc-def", "x", 0), ACM_EEXIST);
	assert_int_equal(list(f->s, "ABC-DEF", t, 4), 2);
	assert_int_equal(acm_store_txt_remove(f->s, "Abc-Def", "x", 1, NULL), ACM_OK);
	assert_int_equal(list(f->s, "abc-def", t, 4), 1);
	assert_string_equal(t[0].value, "y");
	assert_int_equal(acm_store_txt_replace(f->s, "ABC-DEF", &in, 1, NULL), ACM_OK);
	assert_int_equal(list(f->s, "aBc-dEf", t, 4), 1);
	assert_string_equal(t[0].value, "r");

	/* The owner is stored in lower case. */
	acm_reader_t *r;
	const uint8_t *rec;
	size_t len, olen = owner_of(f, "abc-def", owner);
	uint32_t sn;
	assert_int_equal(acm_reader_open(f->s, &r), ACM_OK);
	assert_int_equal(acm_reader_begin(r, &sn), ACM_OK);
	assert_int_equal(acm_reader_lookup(r, owner, olen, &rec, &len), ACM_OK);
	acm_reader_end(r);
	acm_reader_close(r);
}

static void test_expired_dropped(void **state)
{
	struct fx *f = *state;
	acm_txt_t t[4];

	fx_open(f, NULL);
	make_account(f->s, "exp", "u1");
	assert_int_equal(add(f->s, "exp", "keep", 0), ACM_OK);
	assert_int_equal(add(f->s, "exp", "old", 1), ACM_OK);      /* long gone */
	assert_int_equal(list(f->s, "exp", t, 4), 2);              /* list shows it */
	assert_int_equal(t[1].expires, 1);
	assert_int_equal(add(f->s, "exp", "new", 0), ACM_OK);
	assert_int_equal(list(f->s, "exp", t, 4), 2);
	assert_string_equal(t[0].value, "keep");
	assert_string_equal(t[1].value, "new");

	/* The expired value does not count against the limit either. */
	acm_store_opts_t o = { .max_values = 1 };
	fx_open(f, &o);
	make_account(f->s, "exp2", "u2");
	assert_int_equal(add(f->s, "exp2", "a", 1), ACM_OK);
	assert_int_equal(add(f->s, "exp2", "b", 0), ACM_OK);
	assert_int_equal(list(f->s, "exp2", t, 4), 1);
	assert_string_equal(t[0].value, "b");
}

/* ---- transactions and journal ----------------------------------------- */


static void test_serial_once_per_txn(void **state)
{
	struct fx *f = *state;
	acm_wtxn_t *w;
	acm_txt_t t[4];
	uint32_t sn = 0;
	struct diffs ds = { 0 };

	fx_open(f, NULL);
	make_account(f->s, "one", "u1");
	make_account(f->s, "two", "u2");
	assert_int_equal(acm_store_write_begin(f->s, &w), ACM_OK);
	assert_int_equal(acm_wtxn_txt_add(w, "one", "a", 1, 0), ACM_OK);
	assert_int_equal(acm_wtxn_txt_add(w, "two", "b", 1, 0), ACM_OK);
	/* Logical failures in between leave the transaction usable. */
	assert_int_equal(acm_wtxn_txt_add(w, "one", "a", 1, 0), ACM_EEXIST);
	assert_int_equal(acm_wtxn_txt_remove(w, "two", "zz", 2), ACM_EABSENT);
	assert_int_equal(acm_wtxn_txt_add(w, "three", "a", 1, 0), ACM_ENOTFOUND);
	assert_int_equal(acm_wtxn_txt_add(w, "one", "c", 1, 0), ACM_OK);
	assert_int_equal(acm_store_write_commit(w, &sn), ACM_OK);
	assert_int_equal(sn, 2);
	assert_int_equal(serial_of(f->s), 2);
	assert_int_equal(list(f->s, "one", t, 4), 2);
	assert_int_equal(list(f->s, "two", t, 4), 1);

	/* An aborted transaction leaves nothing behind. */
	assert_int_equal(acm_store_write_begin(f->s, &w), ACM_OK);
	assert_int_equal(acm_wtxn_txt_add(w, "two", "lost", 4, 0), ACM_OK);
	acm_store_write_abort(w);
	assert_int_equal(serial_of(f->s), 2);
	assert_int_equal(list(f->s, "two", t, 4), 1);

	/* A transaction without changes commits without a new serial. */
	assert_int_equal(acm_store_write_begin(f->s, &w), ACM_OK);
	assert_int_equal(acm_wtxn_txt_remove(w, "two", "zz", 2), ACM_EABSENT);
	assert_int_equal(acm_store_write_commit(w, &sn), ACM_OK);
	assert_int_equal(sn, 2);

	assert_int_equal(acm_store_foreach_diff(f->s, 0, collect_diff, &ds), ACM_OK);
	assert_int_equal(ds.n, 1);
	const struct diff_rec *d = &ds.d[0];
	assert_int_equal(d->seq, 1);
	assert_int_equal(d->from, 1);
	assert_int_equal(d->to, 2);
	assert_true(d->time >= (uint64_t)time(NULL) - 60);
	assert_int_equal(d->n, 3);
	assert_ent(&d->e[0], 1, "one.acme.example.org.", "a");
	assert_ent(&d->e[1], 1, "two.acme.example.org.", "b");
	assert_ent(&d->e[2], 1, "one.acme.example.org.", "c");
}

static void test_journal(void **state)
{
	struct fx *f = *state;
	acm_store_opts_t o = { .journal_max = 3 };
	acm_txt_t in[2] = { txt("r1", 0), txt("r2", 0) };
	struct diffs ds = { 0 };

	fx_open(f, &o);
	make_account(f->s, "j", "u1");
	assert_int_equal(add(f->s, "j", "gone", 1), ACM_OK);            /* seq 1 */
	assert_int_equal(add(f->s, "j", "a", 0), ACM_OK);               /* seq 2 */
	assert_int_equal(acm_store_txt_remove(f->s, "j", "a", 1, NULL), ACM_OK); /* 3 */
	assert_int_equal(acm_store_txt_replace(f->s, "j", in, 2, NULL), ACM_OK); /* 4 */
	assert_int_equal(serial_of(f->s), 5);

	/* journal_max 3: the first diff was trimmed. */
	assert_int_equal(acm_store_foreach_diff(f->s, 0, collect_diff, &ds), ACM_OK);
	assert_int_equal(ds.n, 3);
	assert_int_equal(ds.d[0].seq, 2);
	assert_int_equal(ds.d[0].from, 2);
	assert_int_equal(ds.d[0].to, 3);
	/* the add dropped the expired value: journaled as a delete */
	assert_int_equal(ds.d[0].n, 2);
	assert_ent(&ds.d[0].e[0], 0, "j.acme.example.org.", "gone");
	assert_ent(&ds.d[0].e[1], 1, "j.acme.example.org.", "a");
	assert_int_equal(ds.d[1].seq, 3);
	assert_int_equal(ds.d[1].n, 1);
	assert_ent(&ds.d[1].e[0], 0, "j.acme.example.org.", "a");
	assert_int_equal(ds.d[2].seq, 4);
	assert_int_equal(ds.d[2].from, 4);
	assert_int_equal(ds.d[2].to, 5);
	assert_int_equal(ds.d[2].n, 2);
	assert_ent(&ds.d[2].e[0], 1, "j.acme.example.org.", "r1");
	assert_ent(&ds.d[2].e[1], 1, "j.acme.example.org.", "r2");

	/* from_seq starts the walk there. */
	memset(&ds, 0, sizeof(ds));
	assert_int_equal(acm_store_foreach_diff(f->s, 4, collect_diff, &ds), ACM_OK);
	assert_int_equal(ds.n, 1);
	assert_int_equal(ds.d[0].seq, 4);
	memset(&ds, 0, sizeof(ds));
	assert_int_equal(acm_store_foreach_diff(f->s, 5, collect_diff, &ds), ACM_OK);
	assert_int_equal(ds.n, 0);

	/* Sequence numbers continue after a reopen. */
	fx_open(f, &o);
	assert_int_equal(add(f->s, "j", "b", 0), ACM_OK);
	memset(&ds, 0, sizeof(ds));
	assert_int_equal(acm_store_foreach_diff(f->s, 0, collect_diff, &ds), ACM_OK);
	assert_int_equal(ds.n, 3);
	assert_int_equal(ds.d[2].seq, 5);
	assert_int_equal(ds.d[2].from, 5);
	assert_int_equal(ds.d[2].to, 6);
}

static int count_rrsets(const uint8_t *owner, const uint8_t *rec, size_t len, void *ctx)
{
	acm_rr_iter_t it;
	(void)owner;
	assert_int_equal(acm_rr_iter_init(&it, rec, len), ACM_OK);
	(*(int *)ctx)++;
	return *(int *)ctx == 2 ? 42 : 0;
}

static void test_foreach_rrset(void **state)
{
	struct fx *f = *state;
	int n = 0;

	fx_open(f, NULL);
	assert_int_equal(acm_store_foreach_rrset(f->s, count_rrsets, &n), ACM_OK);
	assert_int_equal(n, 0);
	make_account(f->s, "a1", "u1");
	assert_int_equal(acm_store_foreach_rrset(f->s, count_rrsets, &n), ACM_OK);
	assert_int_equal(n, 1);
	make_account(f->s, "a2", "u2");
	make_account(f->s, "a3", "u3");
	n = 0;
	/* the callback's non-zero return stops the walk and comes back */
	assert_int_equal(acm_store_foreach_rrset(f->s, count_rrsets, &n), 42);
	assert_int_equal(n, 2);
}

/* A full map fails the transaction cleanly; the store stays usable. */
static void test_store_full(void **state)
{
	struct fx *f = *state;
	/* 20 pages: filled fast, yet room for one write to every database */
	acm_store_opts_t o = { .mapsize = 80 * 1024 };
	acm_wtxn_t *w;
	acm_account_t a;
	uint32_t sn = 0;
	int rc = ACM_OK;

	fx_open(f, &o);
	make_account(f->s, "base", "u0");
	assert_false(acm_store_full(f->s));
	memset(&a, 0, sizeof(a));
	assert_int_equal(acm_store_write_begin(f->s, &w), ACM_OK);
	for (int i = 0; i < 100000 && rc == ACM_OK; i++) {
		snprintf(a.subdomain, sizeof(a.subdomain), "filler-%d", i);
		snprintf(a.username, sizeof(a.username), "user-%d", i);
		memset(a.key_hash, 'k', ACM_KEYHASH_MAX);
		rc = acm_wtxn_account_create(w, &a);
	}
	assert_int_equal(rc, ACM_ESTOREFULL);
	assert_true(acm_store_full(f->s));
	/* poisoned: later operations and the commit fail */
	assert_int_equal(acm_wtxn_txt_add(w, "base", "v", 1, 0), ACM_ESTORE);
	assert_int_equal(acm_store_write_commit(w, &sn), ACM_ESTORE);
	assert_int_equal(acm_store_account_get(f->s, "filler-0", &a), ACM_ENOTFOUND);
	assert_true(acm_store_full(f->s));
	/* a commit with nothing to store proves no room */
	assert_int_equal(acm_store_write_begin(f->s, &w), ACM_OK);
	assert_int_equal(acm_store_write_commit(w, NULL), ACM_OK);
	assert_true(acm_store_full(f->s));
	assert_int_equal(add(f->s, "base", "still", 0), ACM_OK);
	assert_false(acm_store_full(f->s));
	assert_int_equal(serial_of(f->s), 2);
}

/* The cap counts accounts inside the transaction: a refusal that leaves
 * it usable, lifted by a delete or a new cap. */
static void test_account_cap(void **state)
{
	struct fx *f = *state;
	acm_store_opts_t o = { .max_accounts = 2 };
	acm_account_t a;
	acm_wtxn_t *w;

	fx_open(f, &o);
	make_account(f->s, "one", "u1");
	memset(&a, 0, sizeof(a));
	strcpy(a.key_hash, "00");
	a.key_scheme = ACM_KEY_SHA256;
	assert_int_equal(acm_store_write_begin(f->s, &w), ACM_OK);
	strcpy(a.subdomain, "two");
	strcpy(a.username, "u2");
	assert_int_equal(acm_wtxn_account_create(w, &a), ACM_OK);
	strcpy(a.subdomain, "three");
	strcpy(a.username, "u3");
	assert_int_equal(acm_wtxn_account_create(w, &a), ACM_EACCOUNTCAP);
	/* an existing name is still reported as such */
	strcpy(a.subdomain, "one");
	assert_int_equal(acm_wtxn_account_create(w, &a), ACM_EEXIST);
	assert_int_equal(acm_wtxn_txt_add(w, "two", "v", 1, 0), ACM_OK);
	assert_int_equal(acm_store_write_commit(w, NULL), ACM_OK);
	assert_int_equal(acm_store_account_get(f->s, "two", &a), ACM_OK);
	assert_false(acm_store_full(f->s));

	strcpy(a.subdomain, "three");
	strcpy(a.username, "u3");
	assert_int_equal(acm_store_account_create(f->s, &a, NULL), ACM_EACCOUNTCAP);
	assert_int_equal(acm_store_write_begin(f->s, &w), ACM_OK);
	assert_int_equal(acm_wtxn_account_delete(w, "one"), ACM_OK);
	assert_int_equal(acm_store_write_commit(w, NULL), ACM_OK);
	assert_int_equal(acm_store_account_create(f->s, &a, NULL), ACM_OK);
	strcpy(a.subdomain, "four");
	strcpy(a.username, "u4");
	assert_int_equal(acm_store_account_create(f->s, &a, NULL), ACM_EACCOUNTCAP);
	acm_store_set_max_accounts(f->s, 0);
	assert_int_equal(acm_store_account_create(f->s, &a, NULL), ACM_OK);
}

/* ---- readers ----------------------------------------------------------- */

static void assert_values(const uint8_t *rec, size_t len, const char *const *want,
                          unsigned n)
{
	acm_rr_iter_t it;
	acm_rr_entry_t e;
	assert_int_equal(acm_rr_iter_init(&it, rec, len), ACM_OK);
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(acm_rr_iter_next(&it, &e), 1);
		assert_int_equal(e.rdlen, 1 + strlen(want[i]));
		assert_int_equal(e.rdata[0], strlen(want[i]));
		assert_memory_equal(e.rdata + 1, want[i], strlen(want[i]));
	}
	assert_int_equal(acm_rr_iter_next(&it, &e), 0);
}

static void test_reader_snapshot(void **state)
{
	struct fx *f = *state;
	acm_reader_t *r;
	const uint8_t *rec;
	size_t len;
	uint32_t sn = 0;
	uint8_t owner[ACM_DNAME_MAX], other[ACM_DNAME_MAX];
	size_t olen, xlen;
	static const char *const one[] = { "v1" }, *const two[] = { "v1", "v2" };

	fx_open(f, NULL);
	make_account(f->s, "rd", "u1");
	olen = owner_of(f, "rd", owner);
	xlen = owner_of(f, "nope", other);
	assert_int_equal(acm_reader_open(f->s, &r), ACM_OK);
	assert_int_equal(add(f->s, "rd", "v1", 0), ACM_OK);

	assert_int_equal(acm_reader_begin(r, &sn), ACM_OK);
	assert_int_equal(sn, 2);
	assert_int_equal(acm_reader_lookup(r, owner, olen, &rec, &len), ACM_OK);
	assert_values(rec, len, one, 1);
	assert_int_equal(acm_reader_lookup(r, other, xlen, &rec, &len), ACM_ENOTFOUND);
	assert_int_equal(acm_reader_lookup(r, f->apex, acm_dname_len(f->apex), &rec, &len),
	                 ACM_ENOTFOUND);

	/* A write after begin stays invisible to this snapshot. */
	assert_int_equal(add(f->s, "rd", "v2", 0), ACM_OK);
	assert_int_equal(acm_reader_lookup(r, owner, olen, &rec, &len), ACM_OK);
	assert_values(rec, len, one, 1);
	acm_reader_end(r);

	assert_int_equal(acm_reader_begin(r, &sn), ACM_OK);
	assert_int_equal(sn, 3);
	assert_int_equal(acm_reader_lookup(r, owner, olen, &rec, &len), ACM_OK);
	assert_values(rec, len, two, 2);
	/* begin on an active snapshot restarts it */
	assert_int_equal(acm_reader_begin(r, &sn), ACM_OK);
	assert_int_equal(sn, 3);
	acm_reader_end(r);
	acm_reader_close(r);
}

struct thread_arg {
	acm_reader_t *r;
	const uint8_t *owner;
	size_t olen;
	uint32_t serial;
	int rc;
	size_t len;
};

static void *reader_thread(void *p)
{
	struct thread_arg *a = p;
	const uint8_t *rec;
	a->rc = acm_reader_begin(a->r, &a->serial);
	if (a->rc == ACM_OK)
		a->rc = acm_reader_lookup(a->r, a->owner, a->olen, &rec, &a->len);
	acm_reader_end(a->r);
	return NULL;
}

/* Readers are per-worker objects, opened by one thread and used by another. */
static void test_reader_other_thread(void **state)
{
	struct fx *f = *state;
	uint8_t owner[ACM_DNAME_MAX];
	struct thread_arg a = { 0 };
	pthread_t th;

	fx_open(f, NULL);
	make_account(f->s, "th", "u1");
	assert_int_equal(add(f->s, "th", "abc", 0), ACM_OK);
	assert_int_equal(acm_reader_open(f->s, &a.r), ACM_OK);
	a.owner = owner;
	a.olen = owner_of(f, "th", owner);
	for (int i = 0; i < 2; i++) {
		a.rc = -1;
		assert_int_equal(pthread_create(&th, NULL, reader_thread, &a), 0);
		assert_int_equal(pthread_join(th, NULL), 0);
		assert_int_equal(a.rc, ACM_OK);
		assert_int_equal(a.serial, 2);
		assert_int_equal(a.len, 2 + 18 + 4);
	}
	acm_reader_close(a.r);
}

/* ---- record decoding ---------------------------------------------------- */

static void test_rr_iter_corrupt(void **state)
{
	(void)state;
	acm_rr_iter_t it;
	acm_rr_entry_t e;
	/* one entry: set_time 5, expires 0, rdlen 3, "\2hi" */
	uint8_t good[] = { 1, 1, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0,
	                   0, 3, 2, 'h', 'i' };
	uint8_t buf[sizeof(good) + 1];

	assert_int_equal(acm_rr_iter_init(&it, good, sizeof(good)), ACM_OK);
	assert_int_equal(acm_rr_iter_next(&it, &e), 1);
	assert_int_equal(e.set_time, 5);
	assert_int_equal(e.expires, 0);
	assert_int_equal(e.rdlen, 3);
	assert_memory_equal(e.rdata, "\2hi", 3);
	assert_int_equal(acm_rr_iter_next(&it, &e), 0);

	/* Header: too short, wrong version. */
	assert_int_equal(acm_rr_iter_init(&it, good, 1), ACM_ECORRUPT);
	assert_int_equal(acm_rr_iter_init(&it, good, 0), ACM_ECORRUPT);
	assert_int_equal(acm_rr_iter_init(&it, NULL, 0), ACM_ECORRUPT);
	memcpy(buf, good, sizeof(good));
	buf[0] = 2;
	assert_int_equal(acm_rr_iter_init(&it, buf, sizeof(good)), ACM_ECORRUPT);

	/* Every truncation fails cleanly, read from a heap copy so ASan sees
	 * any overrun. */
	for (size_t cut = 2; cut < sizeof(good); cut++) {
		uint8_t *h = malloc(cut);
		assert_non_null(h);
		memcpy(h, good, cut);
		assert_int_equal(acm_rr_iter_init(&it, h, cut), ACM_OK);
		assert_int_equal(acm_rr_iter_next(&it, &e), ACM_ECORRUPT);
		assert_int_equal(acm_rr_iter_next(&it, &e), ACM_ECORRUPT);
		free(h);
	}

	/* Count promises more than there is, or less. */
	memcpy(buf, good, sizeof(good));
	buf[1] = 2;
	assert_int_equal(acm_rr_iter_init(&it, buf, sizeof(good)), ACM_OK);
	assert_int_equal(acm_rr_iter_next(&it, &e), 1);
	assert_int_equal(acm_rr_iter_next(&it, &e), ACM_ECORRUPT);
	buf[1] = 1;
	buf[sizeof(good)] = 0;
	assert_int_equal(acm_rr_iter_init(&it, buf, sizeof(buf)), ACM_OK);
	assert_int_equal(acm_rr_iter_next(&it, &e), 1);
	assert_int_equal(acm_rr_iter_next(&it, &e), ACM_ECORRUPT);

	/* rdlen past the end; character-string past rdlen; empty rdata. */
	memcpy(buf, good, sizeof(good));
	buf[19] = 4;
	assert_int_equal(acm_rr_iter_init(&it, buf, sizeof(good)), ACM_OK);
	assert_int_equal(acm_rr_iter_next(&it, &e), ACM_ECORRUPT);
	memcpy(buf, good, sizeof(good));
	buf[20] = 5;
	assert_int_equal(acm_rr_iter_init(&it, buf, sizeof(good)), ACM_OK);
	assert_int_equal(acm_rr_iter_next(&it, &e), ACM_ECORRUPT);
	uint8_t empty[] = { 1, 1, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	assert_int_equal(acm_rr_iter_init(&it, empty, sizeof(empty)), ACM_OK);
	assert_int_equal(acm_rr_iter_next(&it, &e), ACM_ECORRUPT);

	/* count 0 is a valid empty set */
	uint8_t none[] = { 1, 0 };
	assert_int_equal(acm_rr_iter_init(&it, none, 2), ACM_OK);
	assert_int_equal(acm_rr_iter_next(&it, &e), 0);
}

/* ---- keys ---------------------------------------------------------------- */

static void test_keys_password(void **state)
{
	(void)state;
	char p1[ACM_PASSWORD_LEN + 1], p2[ACM_PASSWORD_LEN + 1];
	assert_int_equal(acm_password_new(p1), ACM_OK);
	assert_int_equal(acm_password_new(p2), ACM_OK);
	assert_int_equal(strlen(p1), 40);
	assert_int_equal(strspn(p1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	                            "0123456789-_"), 40);
	assert_string_not_equal(p1, p2);
}

static void test_keys_uuid(void **state)
{
	(void)state;
	char u[ACM_UUID_LEN + 1], v[ACM_UUID_LEN + 1];
	assert_int_equal(acm_uuid4(u), ACM_OK);
	assert_int_equal(acm_uuid4(v), ACM_OK);
	assert_int_equal(strlen(u), 36);
	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23)
			assert_int_equal(u[i], '-');
		else
			assert_non_null(strchr("0123456789abcdef", u[i]));
	}
	assert_int_equal(u[14], '4');
	assert_non_null(strchr("89ab", u[19]));
	assert_string_not_equal(u, v);
	assert_int_equal(acm_label_check(u, 36), ACM_OK);
}

static void test_keys_hash(void **state)
{
	(void)state;
	char h[65];
	assert_int_equal(acm_key_hash("abc", 3, h), ACM_OK);
	assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");

	acm_account_t a;
	char pw[ACM_PASSWORD_LEN + 1];
	uint64_t now = (uint64_t)time(NULL);
	assert_int_equal(acm_account_new(&a, pw), ACM_OK);
	assert_int_equal(strlen(a.subdomain), 36);
	assert_int_equal(strlen(a.username), 36);
	assert_string_not_equal(a.subdomain, a.username);
	assert_int_equal(a.key_scheme, ACM_KEY_SHA256);
	assert_int_equal(strlen(a.key_hash), 64);
	assert_int_equal(a.allowfrom_count, 0);
	assert_int_equal(a.flags, 0);
	assert_true(a.created >= now && a.created <= now + 5);
	assert_int_equal(a.created, a.updated);
	assert_true(acm_account_key_ok(&a, pw, strlen(pw)));
	assert_false(acm_account_key_ok(&a, pw, strlen(pw) - 1));
	pw[0] = pw[0] == 'A' ? 'B' : 'A';
	assert_false(acm_account_key_ok(&a, pw, strlen(pw)));
	a.key_scheme = ACM_KEY_BCRYPT;
	assert_false(acm_account_key_ok(&a, pw, strlen(pw)));
}

/* An account from acm_account_new goes into the store as it is. */
static void test_keys_account_store(void **state)
{
	struct fx *f = *state;
	acm_account_t a, b;
	char pw[ACM_PASSWORD_LEN + 1];

	fx_open(f, NULL);
	assert_int_equal(acm_account_new(&a, pw), ACM_OK);
	assert_int_equal(acm_store_account_create(f->s, &a, NULL), ACM_OK);
	assert_int_equal(acm_store_account_by_user(f->s, a.username, &b), ACM_OK);
	assert_memory_equal(&a, &b, sizeof(a));
	assert_true(acm_account_key_ok(&b, pw, strlen(pw)));
}

#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_open_reopen),
		T(test_reopen_other_zone),
		T(test_schema_mismatch),
		T(test_corrupt_record),
		T(test_json_record_upgraded),
		T(test_account_create),
		T(test_account_bad_label),
		T(test_txt_add_list),
		T(test_txt_duplicate),
		T(test_txt_full),
		T(test_txt_remove),
		T(test_txt_replace),
		T(test_unknown_account),
		T(test_mixed_case),
		T(test_expired_dropped),
		T(test_serial_once_per_txn),
		T(test_journal),
		T(test_foreach_rrset),
		T(test_store_full),
		T(test_account_cap),
		T(test_reader_snapshot),
		T(test_reader_other_thread),
		cmocka_unit_test(test_rr_iter_corrupt),
		cmocka_unit_test(test_keys_password),
		cmocka_unit_test(test_keys_uuid),
		cmocka_unit_test(test_keys_hash),
		T(test_keys_account_store),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
