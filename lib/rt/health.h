/* SPDX-License-Identifier: ISC */
/*
 * Liveness of the DNS workers, for GET /v1/health: each worker bumps its
 * slot from a timer on its own event base, so a worker whose loop is stuck
 * stops beating. Written by dnsd, read by the HTTP API; neither knows the
 * other, both know this table. Lock-free (one atomic per worker).
 */
#ifndef ACM_HEALTH_H
#define ACM_HEALTH_H

#include <stdint.h>

/* How often a worker beats, and how long without a beat counts as dead. */
#define ACM_HEALTH_BEAT_MS 1000
#define ACM_HEALTH_WINDOW_MS 3000

typedef struct acm_health acm_health_t;

/* A table for n workers, none alive yet. ACM_OK or -ENOMEM. */
int acm_health_new(unsigned n, acm_health_t **out);
void acm_health_free(acm_health_t *h);

/* Worker i is alive now. */
void acm_health_beat(acm_health_t *h, unsigned i);

/* The number of workers, and in *alive those that beat within the window. */
unsigned acm_health_workers(const acm_health_t *h, unsigned *alive);

#endif
