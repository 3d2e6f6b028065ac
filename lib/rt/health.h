/* SPDX-License-Identifier: ISC */
/*
 * Liveness of the DNS workers, for GET /v1/health: each thread of a worker
 * bumps its own slot (from a timer on its event base, or between two
 * waits of its loop), so a worker with any thread stuck stops counting as
 * alive. Written by dnsd, read by the HTTP API; neither knows the
 * other, both know this table. Lock-free (one atomic per worker).
 */
#ifndef ACM_HEALTH_H
#define ACM_HEALTH_H

#include <stdint.h>

/* How often a worker beats, and how long without a beat counts as dead. */
#define ACM_HEALTH_BEAT_MS 1000
#define ACM_HEALTH_WINDOW_MS 3000

typedef struct acm_health acm_health_t;

/* A table for n workers of threads threads each, none alive yet. ACM_OK
 * or -ENOMEM. */
int acm_health_new(unsigned n, unsigned threads, acm_health_t **out);
void acm_health_free(acm_health_t *h);

/* Slot i is alive now: thread t of worker w beats slot t * n + w. */
void acm_health_beat(acm_health_t *h, unsigned i);

/* The number of workers, and in *alive those all of whose threads beat
 * within the window. */
unsigned acm_health_workers(const acm_health_t *h, unsigned *alive);

#endif
