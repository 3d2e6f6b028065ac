/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for lib/rt/lookup_log.h: rings wrap and keep the newest, reads
 * filter by name (any case) and merge the rings by time, at most max, and
 * a reader racing a writer never gets a torn entry.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lib/error.h"
#include "lib/rt/lookup_log.h"

#define NAME_A "\x01" "a" "\x07" "example" "\x00"
#define NAME_A_UPPER "\x01" "A" "\x07" "ExAmPlE" "\x00"
#define NAME_B "\x01" "b" "\x07" "example" "\x00"

/* One entry whose every field derives from k, so a torn copy shows. */
static void put(acm_lookup_log_t *log, unsigned writer, const char *name, uint64_t k)
{
	acm_lookup_t *e = acm_lookup_log_begin(log, writer);
	assert_non_null(e);
	e->time_ns = k;
	e->port = (uint16_t)k;
	e->edns = (uint16_t)(k >> 16);
	e->nvalues = 1;
	e->value_len[0] = ACM_LOOKUP_VALUE_MAX;
	memset(e->values[0], (int)(k & 0xFF), ACM_LOOKUP_VALUE_MAX);
	e->qname_len = (uint8_t)acm_dname_len((const uint8_t *)name);
	memcpy(e->qname, name, e->qname_len);
	acm_lookup_log_commit(log, writer);
}

static size_t find(acm_lookup_log_t *log, const char *name, acm_lookup_t *out, size_t max)
{
	const uint8_t *names[1] = { (const uint8_t *)name };
	return acm_lookup_log_find(log, names, 1, out, max);
}

static void test_wraparound(void **state)
{
	(void)state;
	acm_lookup_log_t *log;
	acm_lookup_t out[16];
	assert_int_equal(acm_lookup_log_new(1, 4, 20, &log), ACM_OK);
	for (uint64_t k = 1; k <= 10; k++)
		put(log, 0, NAME_A, k);
	/* only the last four survive, newest first */
	assert_int_equal(find(log, NAME_A, out, 16), 4);
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(out[i].time_ns, 10 - i);
	assert_int_equal(acm_lookup_log_per_name(log), 20);
	acm_lookup_log_free(log);
}

static void test_filter_and_merge(void **state)
{
	(void)state;
	acm_lookup_log_t *log;
	acm_lookup_t out[16];
	assert_int_equal(acm_lookup_log_new(3, 300, 5, &log), ACM_OK);
	for (uint64_t k = 1; k <= 30; k++)
		put(log, (unsigned)(k % 3), k % 2 ? NAME_A_UPPER : NAME_B, k);
	/* a's lookups are the odd ones, from every ring, in time order */
	assert_int_equal(find(log, NAME_A, out, 16), 15);
	for (size_t i = 0; i < 15; i++)
		assert_int_equal(out[i].time_ns, 29 - 2 * i);
	/* at most max: the newest */
	assert_int_equal(find(log, NAME_B, out, 4), 4);
	assert_int_equal(out[0].time_ns, 30);
	assert_int_equal(out[3].time_ns, 24);
	/* the case as asked stays */
	find(log, NAME_A, out, 1);
	assert_memory_equal(out[0].qname, NAME_A_UPPER, sizeof(NAME_A_UPPER));
	const uint8_t *both[2] = { (const uint8_t *)NAME_A, (const uint8_t *)NAME_B };
	assert_int_equal(acm_lookup_log_find(log, both, 2, out, 16), 16);
	assert_int_equal(out[0].time_ns, 30);
	assert_int_equal(out[15].time_ns, 15);
	acm_lookup_log_free(log);
}

static void test_empty(void **state)
{
	(void)state;
	acm_lookup_log_t *log;
	acm_lookup_t out[1];
	/* total 0 keeps nothing and costs nothing */
	assert_int_equal(acm_lookup_log_new(2, 0, 1, &log), ACM_OK);
	assert_null(acm_lookup_log_begin(log, 0));
	assert_int_equal(find(log, NAME_A, out, 1), 0);
	acm_lookup_log_free(log);
}

static void test_unequal_caps(void **state)
{
	(void)state;
	acm_lookup_log_t *log;
	acm_lookup_t out[16];
	const size_t caps[3] = { 2, 0, 6 };
	assert_int_equal(acm_lookup_log_new_caps(3, caps, 20, &log), ACM_OK);
	assert_null(acm_lookup_log_begin(log, 1));   /* a ring of 0 keeps nothing */
	for (uint64_t k = 1; k <= 10; k++) {
		put(log, 0, NAME_A, k);
		put(log, 2, NAME_A, 100 + k);
	}
	/* ring 2's last six and ring 0's last two, newest first */
	assert_int_equal(find(log, NAME_A, out, 16), 8);
	assert_int_equal(out[0].time_ns, 110);
	assert_int_equal(out[5].time_ns, 105);
	assert_int_equal(out[6].time_ns, 10);
	assert_int_equal(out[7].time_ns, 9);
	acm_lookup_log_free(log);
	assert_int_equal(acm_lookup_log_new_caps(0, caps, 1, &log), -EINVAL);
}

typedef struct {
	acm_lookup_log_t *log;
	atomic_bool stop;
	atomic_ulong written;
} race_t;

static void *writer(void *arg)
{
	race_t *r = arg;
	for (uint64_t k = 1; !atomic_load(&r->stop); k++) {
		put(r->log, 0, NAME_A, k);
		atomic_store(&r->written, k);
	}
	return NULL;
}

static void test_no_torn_reads(void **state)
{
	(void)state;
	race_t r;
	pthread_t t;
	acm_lookup_t out[8];
	size_t reads = 0;
	assert_int_equal(acm_lookup_log_new(1, 8, 8, &r.log), ACM_OK);
	atomic_init(&r.stop, false);
	atomic_init(&r.written, 0);
	assert_int_equal(pthread_create(&t, NULL, writer, &r), 0);
	while (atomic_load(&r.written) < 8)
		;   /* the ring is full before the race starts */
	for (int round = 0; round < 200000; round++) {
		size_t n = find(r.log, NAME_A, out, 8);
		for (size_t i = 0; i < n; i++) {
			uint64_t k = out[i].time_ns;
			assert_int_equal(out[i].port, (uint16_t)k);
			assert_int_equal(out[i].edns, (uint16_t)(k >> 16));
			for (size_t j = 0; j < ACM_LOOKUP_VALUE_MAX; j++)
				assert_int_equal(out[i].values[0][j], k & 0xFF);
			if (i > 0)
				assert_true(out[i - 1].time_ns > k);
		}
		reads += n;
	}
	atomic_store(&r.stop, true);
	pthread_join(t, NULL);
	/* a writer this fast may rarely leave a slot still for a whole copy;
	 * once it stops, every slot reads whole */
	(void)reads;
	assert_int_equal(find(r.log, NAME_A, out, 8), 8);
	acm_lookup_log_free(r.log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wraparound),
		cmocka_unit_test(test_filter_and_merge),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_unequal_caps),
		cmocka_unit_test(test_no_torn_reads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
