/* SPDX-License-Identifier: ISC */
/* The failed-attempts table: free failures, doubling waits up to the cap,
 * reset on success, forgetting quiet keys, and its fixed size. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "lib/rt/backoff.h"
#include "lib/error.h"

static const acm_backoff_limits_t lim = {
	.capacity = 4, .free_failures = 2, .base_ms = 1000, .max_ms = 5000,
};

static void fail_n(acm_backoff_t *b, const char *key, unsigned n, uint64_t now)
{
	for (unsigned i = 0; i < n; i++)
		acm_backoff_failed(b, key, now);
}

static void test_waits_double_to_cap(void **state)
{
	acm_backoff_t *b;

	(void)state;
	assert_int_equal(acm_backoff_new(&lim, &b), ACM_OK);
	fail_n(b, "u", 2, 100);
	assert_int_equal(acm_backoff_wait(b, "u", 100), 0);
	acm_backoff_failed(b, "u", 100);
	assert_int_equal(acm_backoff_wait(b, "u", 100), 1000);
	assert_int_equal(acm_backoff_wait(b, "u", 600), 500);
	assert_int_equal(acm_backoff_wait(b, "u", 1100), 0);
	acm_backoff_failed(b, "u", 1100);
	assert_int_equal(acm_backoff_wait(b, "u", 1100), 2000);
	acm_backoff_failed(b, "u", 1100);
	assert_int_equal(acm_backoff_wait(b, "u", 1100), 4000);
	fail_n(b, "u", 40, 1100);            /* no overflow past the cap */
	assert_int_equal(acm_backoff_wait(b, "u", 1100), 5000);
	assert_int_equal(acm_backoff_wait(b, "other", 1100), 0);
	acm_backoff_succeeded(b, "u");
	assert_int_equal(acm_backoff_wait(b, "u", 1100), 0);
	assert_int_equal(acm_backoff_count(b), 0);
	acm_backoff_free(b);
}

static void test_quiet_keys_start_afresh(void **state)
{
	acm_backoff_t *b;

	(void)state;
	assert_int_equal(acm_backoff_new(&lim, &b), ACM_OK);
	fail_n(b, "u", 3, 0);
	assert_int_equal(acm_backoff_wait(b, "u", 0), 1000);
	/* max_ms after its last failure a key counts from zero again */
	acm_backoff_failed(b, "u", 6000);
	assert_int_equal(acm_backoff_wait(b, "u", 6000), 0);
	acm_backoff_free(b);
}

static void test_bounded(void **state)
{
	acm_backoff_t *b;
	char key[16];

	(void)state;
	assert_int_equal(acm_backoff_new(&lim, &b), ACM_OK);
	fail_n(b, "old", 3, 10);
	for (unsigned i = 0; i < 100; i++) {
		snprintf(key, sizeof(key), "k%u", i);
		acm_backoff_failed(b, key, 20 + i);
	}
	assert_int_equal(acm_backoff_count(b), 4);
	/* the least recently failed went first */
	assert_int_equal(acm_backoff_wait(b, "old", 200), 0);
	acm_backoff_free(b);
}

static void test_bad_limits(void **state)
{
	acm_backoff_t *b;
	acm_backoff_limits_t l = lim;

	(void)state;
	l.capacity = 0;
	assert_int_equal(acm_backoff_new(&l, &b), -EINVAL);
	l = lim;
	l.max_ms = 10;
	assert_int_equal(acm_backoff_new(&l, &b), -EINVAL);
	assert_null(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_waits_double_to_cap),
		cmocka_unit_test(test_quiet_keys_start_afresh),
		cmocka_unit_test(test_bounded),
		cmocka_unit_test(test_bad_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
