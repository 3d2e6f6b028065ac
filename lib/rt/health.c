/* SPDX-License-Identifier: ISC */
/* The worker heartbeat table: one monotonic timestamp per worker thread. */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "lib/clock.h"
#include "lib/error.h"
#include "lib/rt/health.h"

struct acm_health {
	unsigned n;                     /* workers */
	unsigned slots;                 /* n times the threads of each */
	_Atomic uint64_t beat_ms[];     /* 0: never beat */
};

int acm_health_new(unsigned n, unsigned threads, acm_health_t **out)
{
	acm_health_t *h = calloc(1, sizeof(*h) + n * threads * sizeof(h->beat_ms[0]));
	if (!h)
		return -ENOMEM;
	h->n = n;
	h->slots = n * threads;
	for (unsigned i = 0; i < h->slots; i++)
		atomic_init(&h->beat_ms[i], 0);
	*out = h;
	return ACM_OK;
}

void acm_health_free(acm_health_t *h)
{
	free(h);
}

void acm_health_beat(acm_health_t *h, unsigned i)
{
	if (h && i < h->slots)
		atomic_store_explicit(&h->beat_ms[i], acm_mono_ms(), memory_order_relaxed);
}

unsigned acm_health_workers(const acm_health_t *h, unsigned *alive)
{
	uint64_t now = acm_mono_ms();
	*alive = 0;
	if (!h)
		return 0;
	for (unsigned i = 0; i < h->n; i++) {
		bool up = true;
		for (unsigned s = i; up && s < h->slots; s += h->n) {
			/* relaxed is enough: a slightly stale reading only delays the verdict */
			uint64_t t = atomic_load_explicit(&((acm_health_t *)h)->beat_ms[s],
			                                  memory_order_relaxed);
			up = t && now - t <= ACM_HEALTH_WINDOW_MS;
		}
		*alive += up;
	}
	return h->n;
}
