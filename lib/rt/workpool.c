/* SPDX-License-Identifier: ISC */
/* A fixed set of threads taking work from one bounded ring (see workpool.h). */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "lib/error.h"
#include "lib/rt/workpool.h"

typedef struct {
	acm_work_fn fn;
	void *arg;
} item_t;

struct acm_workpool {
	pthread_mutex_t mu;
	pthread_cond_t wake;
	bool stopping;
	unsigned head, count, cap;     /* the ring of waiting items */
	item_t *ring;
	unsigned nthreads;
	pthread_t *threads;
};

static void *worker(void *arg)
{
	acm_workpool_t *p = arg;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (p->count == 0 && !p->stopping)
			pthread_cond_wait(&p->wake, &p->mu);
		/* Stopping still drains the ring: submit promised every fn runs. */
		if (p->count == 0)
			break;
		item_t it = p->ring[p->head];
		p->head = (p->head + 1) % p->cap;
		p->count--;
		pthread_mutex_unlock(&p->mu);
		it.fn(it.arg);
		pthread_mutex_lock(&p->mu);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/* Stop and join the first n threads, then free everything. */
static void pool_destroy(acm_workpool_t *p, unsigned n)
{
	pthread_mutex_lock(&p->mu);
	p->stopping = true;
	pthread_cond_broadcast(&p->wake);
	pthread_mutex_unlock(&p->mu);
	for (unsigned i = 0; i < n; i++)
		pthread_join(p->threads[i], NULL);
	pthread_cond_destroy(&p->wake);
	pthread_mutex_destroy(&p->mu);
	free(p->threads);
	free(p->ring);
	free(p);
}

int acm_workpool_new(unsigned threads, unsigned queue_max, acm_workpool_t **out)
{
	acm_workpool_t *p;

	*out = NULL;
	if (threads < 1 || threads > 64 || queue_max < 1 || queue_max > 65536)
		return -EINVAL;
	if (!(p = calloc(1, sizeof(*p))))
		return -ENOMEM;
	p->cap = queue_max;
	p->ring = calloc(queue_max, sizeof(*p->ring));
	p->threads = calloc(threads, sizeof(*p->threads));
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->wake, NULL);
	if (!p->ring || !p->threads) {
		pool_destroy(p, 0);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < threads; i++) {
		int e = pthread_create(&p->threads[i], NULL, worker, p);
		if (e) {
			pool_destroy(p, i);
			return -e;
		}
	}
	p->nthreads = threads;
	*out = p;
	return ACM_OK;
}

int acm_workpool_submit(acm_workpool_t *p, acm_work_fn fn, void *arg)
{
	int rc = -EAGAIN;

	pthread_mutex_lock(&p->mu);
	if (p->count < p->cap && !p->stopping) {
		p->ring[(p->head + p->count) % p->cap] = (item_t){ fn, arg };
		p->count++;
		pthread_cond_signal(&p->wake);
		rc = ACM_OK;
	}
	pthread_mutex_unlock(&p->mu);
	return rc;
}

unsigned acm_workpool_queued(acm_workpool_t *p)
{
	unsigned n;

	pthread_mutex_lock(&p->mu);
	n = p->count;
	pthread_mutex_unlock(&p->mu);
	return n;
}

void acm_workpool_free(acm_workpool_t *p)
{
	if (p)
		pool_destroy(p, p->nthreads);
}
