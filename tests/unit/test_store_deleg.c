/* SPDX-License-Identifier: ISC */
/*
 * Unit tests of the delegation records (lib/store/store_deleg.c): a record
 * per account, the counts per status moving with it, no serial bump, the
 * record gone with its account, and a read-only handle on a store that has
 * none, and the store check's view of them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "lib/error.h"
#include "lib/store/store_check.h"
#include "lib/store/store_deleg.h"
#include "tests/unit/store_fx.h"

static acm_deleg_rec_t rec(uint8_t status, bool secure, uint64_t checked)
{
	return (acm_deleg_rec_t){ .checked = checked, .status = status, .secure = secure };
}

static uint64_t count(acm_store_t *s, uint8_t status)
{
	uint64_t c[ACM_DELEG_REC_STATUSES];
	assert_int_equal(acm_store_deleg_counts(s, c, ACM_DELEG_REC_STATUSES), ACM_OK);
	return c[status];
}

static void test_put_get_counts(void **state)
{
	struct fx *f = *state;
	acm_deleg_rec_t r = rec(1, true, 1700000000), got;
	fx_open(f, NULL);
	make_account(f->s, "a1", "11111111-1111-1111-1111-111111111111");
	make_account(f->s, "a2", "22222222-2222-2222-2222-222222222222");
	uint32_t serial = serial_of(f->s);

	assert_int_equal(acm_store_deleg_get(f->s, "a1", &got), ACM_ENOTFOUND);
	assert_int_equal(acm_store_deleg_put(f->s, "A1", &r), ACM_OK);
	assert_int_equal(acm_store_deleg_put(f->s, "a2", &r), ACM_OK);
	assert_int_equal(acm_store_deleg_get(f->s, "a1", &got), ACM_OK);
	assert_int_equal(got.checked, 1700000000);
	assert_int_equal(got.status, 1);
	assert_true(got.secure);
	assert_int_equal(count(f->s, 1), 2);
	/* A new check replaces the last one and moves the counts. */
	r = rec(0, false, 1700000100);
	assert_int_equal(acm_store_deleg_put(f->s, "a1", &r), ACM_OK);
	assert_int_equal(count(f->s, 1), 1);
	assert_int_equal(count(f->s, 0), 1);
	assert_int_equal(acm_store_deleg_get(f->s, "a1", &got), ACM_OK);
	assert_false(got.secure);
	/* No DNS data changed. */
	assert_int_equal(serial_of(f->s), serial);
}

static void test_refusals(void **state)
{
	struct fx *f = *state;
	acm_deleg_rec_t r = rec(ACM_DELEG_REC_STATUSES, false, 1);
	fx_open(f, NULL);
	make_account(f->s, "a1", "11111111-1111-1111-1111-111111111111");
	assert_int_equal(acm_store_deleg_put(f->s, "a1", &r), ACM_EBADVALUE);
	r.status = 2;
	assert_int_equal(acm_store_deleg_put(f->s, "nobody", &r), ACM_ENOTFOUND);
	assert_int_equal(acm_store_deleg_put(f->s, "not a label", &r), ACM_ENOTFOUND);
	assert_int_equal(count(f->s, 2), 0);
}

static void test_many(void **state)
{
	struct fx *f = *state;
	fx_open(f, NULL);
	make_account(f->s, "a1", "11111111-1111-1111-1111-111111111111");
	make_account(f->s, "a2", "22222222-2222-2222-2222-222222222222");
	acm_deleg_put_t items[] = {
		{ "a1", rec(3, false, 5), 0 },
		{ "gone", rec(3, false, 5), 0 },
		{ "a2", rec(3, true, 5), 0 },
	};
	assert_int_equal(acm_store_deleg_put_many(f->s, items, 3), ACM_OK);
	assert_int_equal(items[0].result, ACM_OK);
	assert_int_equal(items[1].result, ACM_ENOTFOUND);
	assert_int_equal(items[2].result, ACM_OK);
	assert_int_equal(count(f->s, 3), 2);
}

static void test_gone_with_account(void **state)
{
	struct fx *f = *state;
	acm_deleg_rec_t r = rec(4, false, 9), got;
	fx_open(f, NULL);
	make_account(f->s, "a1", "11111111-1111-1111-1111-111111111111");
	assert_int_equal(acm_store_deleg_put(f->s, "a1", &r), ACM_OK);
	acm_wtxn_t *w;
	assert_int_equal(acm_store_write_begin(f->s, &w), ACM_OK);
	assert_int_equal(acm_wtxn_account_delete(w, "a1"), ACM_OK);
	assert_int_equal(acm_store_write_commit(w, NULL), ACM_OK);
	assert_int_equal(count(f->s, 4), 0);
	make_account(f->s, "a1", "33333333-3333-3333-3333-333333333333");
	assert_int_equal(acm_store_deleg_get(f->s, "a1", &got), ACM_ENOTFOUND);
}

static void test_read_only(void **state)
{
	struct fx *f = *state;
	acm_deleg_rec_t r = rec(0, true, 9), got;
	acm_store_opts_t ro = { .read_only = true };
	fx_open(f, NULL);
	make_account(f->s, "a1", "11111111-1111-1111-1111-111111111111");
	assert_int_equal(acm_store_deleg_put(f->s, "a1", &r), ACM_OK);
	fx_open(f, &ro);
	assert_int_equal(acm_store_deleg_get(f->s, "a1", &got), ACM_OK);
	assert_int_equal(count(f->s, 0), 1);
}

static void count_problem(void *ctx, const char *db, const char *key, const char *problem)
{
	size_t *n = ctx;
	assert_string_equal(db, "delegation");
	assert_string_equal(key, "0001");
	assert_non_null(strstr(problem, "count"));
	(*n)++;
}

/* The store check walks the records and holds the counts to them. */
static void test_store_check(void **state)
{
	struct fx *f = *state;
	acm_deleg_rec_t r = rec(1, false, 9);
	acm_store_opts_t ro = { .read_only = true };
	acm_store_check_t out;
	static const uint8_t five[8] = { 0, 0, 0, 0, 0, 0, 0, 5 };
	size_t problems = 0;

	fx_open(f, NULL);
	make_account(f->s, "a1", "11111111-1111-1111-1111-111111111111");
	assert_int_equal(acm_store_deleg_put(f->s, "a1", &r), ACM_OK);
	fx_open(f, &ro);
	assert_int_equal(acm_store_check(f->s, count_problem, &problems, &out), ACM_OK);
	assert_int_equal(out.problems, 0);
	acm_store_close(f->s);
	f->s = NULL;
	raw_patch(f, "delegation", "\0\1", 2, 0, five, 8);
	fx_open(f, &ro);
	assert_int_equal(acm_store_check(f->s, count_problem, &problems, &out), ACM_OK);
	assert_int_equal(problems, 1);
}

#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_put_get_counts),
		T(test_refusals),
		T(test_many),
		T(test_gone_with_account),
		T(test_read_only),
		T(test_store_check),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
