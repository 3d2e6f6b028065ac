/* SPDX-License-Identifier: ISC */
/*
 * The quick reader of /v1/batch bodies (httpapi/batch_scan.c): what it
 * takes, exactly as the JSON decoder would read it, and everything it must
 * leave to the decoder, including every truncation of a body it takes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "httpapi/batch_scan.h"
#include "httpapi/json_util.h"

static const char good[] =
	" {\"operations\" : [ {\"op\":\"add\",\"username\":\"u1\",\"key\":\"k1\",\n"
	"\"subdomain\":\"s1\",\"value\":\"v 1\",\"expires_in\":31536000},\r\n"
	"\t{\"value\":\"\",\"op\":\"remove\"}]} ";

static bool scan(const char *text, acm_batch_item_t *items, size_t max, size_t *n)
{
	static char buf[1024];
	size_t len = strlen(text);
	assert_true(len < sizeof(buf));
	memcpy(buf, text, len);
	return acm_batch_scan(buf, len, items, max, n);
}

static void test_takes_the_common_shape(void **state)
{
	acm_batch_item_t it[4];
	size_t n = 99;

	(void)state;
	assert_true(scan(good, it, 4, &n));
	assert_int_equal(n, 2);
	assert_string_equal(it[0].op, "add");
	assert_string_equal(it[0].username, "u1");
	assert_string_equal(it[0].key, "k1");
	assert_string_equal(it[0].subdomain, "s1");
	assert_string_equal(it[0].value, "v 1");
	assert_int_equal(it[0].value_len, 3);
	assert_int_equal(it[0].expires_in, ACM_EXPIRES_IN_MAX);
	assert_string_equal(it[1].op, "remove");
	assert_string_equal(it[1].value, "");
	assert_int_equal(it[1].value_len, 0);
	assert_null(it[1].username);
	assert_null(it[1].key);
	assert_null(it[1].subdomain);
	assert_int_equal(it[1].expires_in, 0);
	/* Exactly as many as allowed, not one more. */
	assert_true(scan(good, it, 2, &n));
	assert_false(scan(good, it, 1, &n));
}

static void test_declines_the_rest(void **state)
{
	static const char *const bodies[] = {
		"", "{}", "[]", "{\"operations\":[]}", "{\"operations\":{}}",
		"{\"operations\":[{\"op\":\"add\",\"value\":\"v\"}],\"x\":1}",
		"{\"x\":1,\"operations\":[{\"op\":\"add\",\"value\":\"v\"}]}",
		"{\"operations\":[{\"op\":\"add\",\"value\":\"v\"}]}x",
		"{\"operations\":[{\"op\":\"add\",\"value\":\"v\"},]}",
		"{\"operations\":[{\"op\":\"add\",\"value\":\"v\",}]}",
		"{\"operations\":[{\"op\":\"add\"}]}",
		"{\"operations\":[{\"value\":\"v\"}]}",
		"{\"operations\":[{\"op\":\"add\",\"value\":\"v\",\"value\":\"w\"}]}",
		"{\"operations\":[{\"op\":\"add\",\"value\":\"v\",\"op\":\"remove\"}]}",
		"{\"operations\":[{\"op\":\"add\",\"value\":\"a\\\"b\"}]}",
		"{\"operations\":[{\"op\":\"add\",\"value\":\"a\\u0041\"}]}",
		"{\"operations\":[{\"op\":\"add\",\"value\":\"\xc3\xa9\"}]}",
		"{\"operations\":[{\"op\":\"add\",\"value\":\"a\tb\"}]}",
		"{\"operations\":[{\"op\":\"add\",\"value\":\"v\",\"username\":null}]}",
		"{\"operations\":[{\"op\":\"add\",\"value\":\"v\",\"username\":1}]}",
		"{\"operations\":[{\"op\":\"set\",\"value\":\"v\",\"values\":[\"a\"]}]}",
		"{\"operations\":[{\"op\":\"add\",\"value\":\"v\",\"other\":\"x\"}]}",
		"{\"operations\":[{\"op\":\"add\",\"value\":\"v\",\"expires_in\":0}]}",
		"{\"operations\":[{\"op\":\"add\",\"value\":\"v\",\"expires_in\":01}]}",
		"{\"operations\":[{\"op\":\"add\",\"value\":\"v\",\"expires_in\":-1}]}",
		"{\"operations\":[{\"op\":\"add\",\"value\":\"v\",\"expires_in\":1.0}]}",
		"{\"operations\":[{\"op\":\"add\",\"value\":\"v\",\"expires_in\":1e3}]}",
		"{\"operations\":[{\"op\":\"add\",\"value\":\"v\",\"expires_in\":31536001}]}",
		"{\"operations\":[{\"op\":\"add\",\"value\":\"v\",\"expires_in\":\"60\"}]}",
		"{\"operations\":[{\"op\":\"add\",\"value\":\"v\",\"expires_in\":9,\"expires_in\":9}]}",
		"{\"operations\":[\"add\"]}",
		"{\"operations\":[{\"op\":\"add\",\"value\":\"v\"}]",
		"{\"operations\":[{\"op\":\"add\",\"value\":\"v\"}}",
	};
	acm_batch_item_t it[4];
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		if (scan(bodies[i], it, 4, &n))
			fail_msg("took %s", bodies[i]);
	}
}

/* Every proper prefix of a body it takes is declined, none read past. */
static void test_truncated(void **state)
{
	acm_batch_item_t it[4];
	char cut[sizeof(good)];
	size_t n;

	(void)state;
	for (size_t len = 0; len + 1 < sizeof(good); len++) {
		memcpy(cut, good, len);
		cut[len] = '\0';
		/* Only the trailing blank may go. */
		assert_int_equal(scan(cut, it, 4, &n), len == sizeof(good) - 2);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_takes_the_common_shape),
		cmocka_unit_test(test_declines_the_rest),
		cmocka_unit_test(test_truncated),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
