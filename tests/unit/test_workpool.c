/* SPDX-License-Identifier: ISC */
/* The worker pool: every accepted item runs once, on a pool thread, even
 * when the pool is freed right away; a full queue refuses. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "lib/error.h"
#include "lib/rt/workpool.h"

static atomic_uint ran;

static void count(void *arg)
{
	(void)arg;
	atomic_fetch_add(&ran, 1);
}

typedef struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int open;
} gate_t;

/* Holds its thread until the test opens the gate. */
static void wait_gate(void *arg)
{
	gate_t *g = arg;

	pthread_mutex_lock(&g->mu);
	while (!g->open)
		pthread_cond_wait(&g->cv, &g->mu);
	pthread_mutex_unlock(&g->mu);
	atomic_fetch_add(&ran, 1);
}

static void test_all_run(void **state)
{
	acm_workpool_t *p;

	(void)state;
	atomic_store(&ran, 0);
	assert_int_equal(acm_workpool_new(2, 1000, &p), ACM_OK);
	for (int i = 0; i < 500; i++)
		assert_int_equal(acm_workpool_submit(p, count, NULL), ACM_OK);
	acm_workpool_free(p);
	assert_int_equal(atomic_load(&ran), 500);
}

static void test_full_queue_refuses(void **state)
{
	gate_t g = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0 };
	acm_workpool_t *p;
	int accepted = 0;

	(void)state;
	atomic_store(&ran, 0);
	assert_int_equal(acm_workpool_new(1, 3, &p), ACM_OK);
	/* one item may already sit on the thread, three more wait: then full */
	for (int i = 0; i < 10; i++)
		if (acm_workpool_submit(p, wait_gate, &g) == ACM_OK)
			accepted++;
	assert_in_range(accepted, 3, 4);
	assert_int_equal(acm_workpool_submit(p, count, NULL), -EAGAIN);
	pthread_mutex_lock(&g.mu);
	g.open = 1;
	pthread_cond_broadcast(&g.cv);
	pthread_mutex_unlock(&g.mu);
	acm_workpool_free(p);
	assert_int_equal(atomic_load(&ran), (unsigned)accepted);
}

static void test_bad_sizes(void **state)
{
	acm_workpool_t *p;

	(void)state;
	assert_int_equal(acm_workpool_new(0, 8, &p), -EINVAL);
	assert_int_equal(acm_workpool_new(2, 0, &p), -EINVAL);
	assert_null(p);
	acm_workpool_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_run),
		cmocka_unit_test(test_full_queue_refuses),
		cmocka_unit_test(test_bad_sizes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
