/* SPDX-License-Identifier: ISC */
/*
 * A small fixed pool of threads for slow CPU work that must not run on an
 * event loop (bcrypt checks of imported acme-dns accounts), fed through a
 * bounded queue so that a flood of work is refused instead of piling up.
 */
#ifndef ACM_WORKPOOL_H
#define ACM_WORKPOOL_H

typedef struct acm_workpool acm_workpool_t;

/* One unit of work; runs on a pool thread. */
typedef void (*acm_work_fn)(void *arg);

/*
 * Start threads (1 to 64) that take work from a queue of at most
 * queue_max (1 to 65536) waiting items. ACM_OK and *out set; -EINVAL for
 * counts out of range, -ENOMEM, or -errno from pthread_create (then
 * nothing is left running).
 */
int acm_workpool_new(unsigned threads, unsigned queue_max, acm_workpool_t **out);

/*
 * Queue fn(arg). ACM_OK: fn will run exactly once on a pool thread, even
 * if the pool is freed first. -EAGAIN: the queue is full (fn will not
 * run). Any thread.
 */
int acm_workpool_submit(acm_workpool_t *p, acm_work_fn fn, void *arg);

/* Work queued and not yet started (for tests and metrics). */
unsigned acm_workpool_queued(acm_workpool_t *p);

/* Run what is queued, stop and join the threads, free. NULL is a no-op. */
void acm_workpool_free(acm_workpool_t *p);

#endif
