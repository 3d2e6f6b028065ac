/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for the rate limit of lib/log.h: one event per interval
 * passes and reports how many were dropped before it; racing threads let
 * exactly one through; the limited line carries "suppressed"; a filtered
 * level counts nothing.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/log.h"

#define SEC 1000000000ull

static void test_interval(void **state)
{
	(void)state;
	acm_log_limit_t l = ACM_LOG_LIMIT_INIT(10);
	uint64_t dropped = 99;
	assert_true(acm_log_limit_pass(&l, 5 * SEC, &dropped));
	assert_int_equal(dropped, 0);
	for (int i = 0; i < 3; i++)
		assert_false(acm_log_limit_pass(&l, 5 * SEC + (uint64_t)i * SEC, &dropped));
	assert_false(acm_log_limit_pass(&l, 15 * SEC - 1, &dropped));
	assert_true(acm_log_limit_pass(&l, 15 * SEC, &dropped));
	assert_int_equal(dropped, 4);
	/* the count restarts after a line */
	assert_true(acm_log_limit_pass(&l, 100 * SEC, &dropped));
	assert_int_equal(dropped, 0);
}

#define THREADS 4
#define CALLS 20000

struct race {
	acm_log_limit_t *l;
	_Atomic unsigned passed;
};

static void *racer(void *arg)
{
	struct race *r = arg;
	uint64_t dropped;
	for (int i = 0; i < CALLS; i++)
		if (acm_log_limit_pass(r->l, 7 * SEC, &dropped))
			atomic_fetch_add(&r->passed, 1);
	return NULL;
}

static void test_threads(void **state)
{
	(void)state;
	acm_log_limit_t l = ACM_LOG_LIMIT_INIT(1);
	struct race r = { &l, 0 };
	pthread_t t[THREADS];
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, racer, &r), 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(atomic_load(&r.passed), 1);
	uint64_t dropped;
	assert_true(acm_log_limit_pass(&l, 8 * SEC, &dropped));
	assert_int_equal(dropped, THREADS * CALLS - 1);
}

/* Run fn with stderr going to a file; returns what it wrote. */
static void capture(void (*fn)(void), char *out, size_t cap)
{
	FILE *f = tmpfile();
	assert_non_null(f);
	int saved = dup(STDERR_FILENO);
	dup2(fileno(f), STDERR_FILENO);
	fn();
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(f);
	size_t n = fread(out, 1, cap - 1, f);
	out[n] = '\0';
	fclose(f);
}

static acm_log_limit_t flood_limit = ACM_LOG_LIMIT_INIT(3600);

static void flood(void)
{
	for (int i = 0; i < 1000; i++)
		acm_log_limited_kv(&flood_limit, ACM_LOG_INFO, "refused", ACM_KS("client", "192.0.2.1"));
}

static void test_lines(void **state)
{
	(void)state;
	char buf[8192];
	acm_log_set_level(ACM_LOG_INFO);
	capture(flood, buf, sizeof(buf));
	/* one line, without a count: nothing was dropped before it */
	assert_non_null(strstr(buf, "msg=refused client=192.0.2.1\n"));
	assert_null(strchr(strchr(buf, '\n') + 1, '\n'));
	assert_int_equal(atomic_load(&flood_limit.suppressed), 999);
	/* the next line that passes says how many were left out */
	atomic_store(&flood_limit.next_ns, 0);
	capture(flood, buf, sizeof(buf));
	assert_non_null(strstr(buf, "client=192.0.2.1 suppressed=999\n"));
	/* a level filtered out is not counted */
	acm_log_set_level(ACM_LOG_NOTICE);
	capture(flood, buf, sizeof(buf));
	assert_string_equal(buf, "");
	assert_int_equal(atomic_load(&flood_limit.suppressed), 999);
	acm_log_set_level(ACM_LOG_INFO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_interval),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
