/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for lib/dns/serial.h: RFC 1982 comparison and addition, the wrap
 * from 2^32 - 1 to 0, and the undefined half-circle distance.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "lib/dns/serial.h"

struct cmp_case {
	uint32_t a, b;
	int want;
};

static void test_cmp_table(void **state)
{
	(void)state;
	static const struct cmp_case cases[] = {
		{ 0, 0, 0 },
		{ 1, 2, -1 },
		{ 2, 1, 1 },
		{ 0xFFFFFFFFu, 0, -1 },            /* the wrap: 0 follows 2^32 - 1 */
		{ 0, 0xFFFFFFFFu, 1 },
		{ 0xFFFFFFF0u, 5, -1 },
		{ 5, 0xFFFFFFF0u, 1 },
		{ 0, 0x7FFFFFFFu, -1 },            /* the farthest that is still newer */
		{ 0x7FFFFFFFu, 0, 1 },
		{ 0, 0x80000001u, 1 },             /* past half the circle: older */
		{ 0x80000001u, 0, -1 },
		{ 1000, 1000, 0 },
		{ 0x80000000u, 0x80000000u, 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int got = acm_serial_cmp(cases[i].a, cases[i].b);
		if (got != cases[i].want)
			fail_msg("cmp(%u, %u) = %d, want %d", cases[i].a, cases[i].b, got,
			         cases[i].want);
	}
}

/* RFC 1982 leaves exactly 2^31 apart undefined; both sides must read as
 * out of date so a transfer is never skipped. */
static void test_half_circle(void **state)
{
	(void)state;
	assert_int_equal(acm_serial_cmp(0, 0x80000000u), -1);
	assert_int_equal(acm_serial_cmp(0x80000000u, 0), -1);
	assert_false(acm_serial_ge(0, 0x80000000u));
	assert_false(acm_serial_ge(0x80000000u, 0));
}

static void test_add_wraps(void **state)
{
	(void)state;
	assert_int_equal(acm_serial_add(0xFFFFFFFFu, 1), 0);
	assert_int_equal(acm_serial_add(0xFFFFFFFEu, 5), 3);
	assert_int_equal(acm_serial_add(7, 0x7FFFFFFFu), 0x80000006u);
	/* what is added is always newer, across the wrap too */
	for (uint32_t s = 0xFFFFFFF0u; s != 0x10; s++)
		assert_true(acm_serial_lt(s, acm_serial_add(s, 1)));
}

static void test_ge(void **state)
{
	(void)state;
	assert_true(acm_serial_ge(5, 5));
	assert_true(acm_serial_ge(6, 5));
	assert_false(acm_serial_ge(4, 5));
	assert_true(acm_serial_ge(2, 0xFFFFFFFFu));
	assert_false(acm_serial_ge(0xFFFFFFFFu, 2));
	assert_true(acm_serial_lt(0xFFFFFFFFu, 2));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cmp_table),
		cmocka_unit_test(test_half_circle),
		cmocka_unit_test(test_add_wraps),
		cmocka_unit_test(test_ge),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
