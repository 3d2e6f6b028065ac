/* SPDX-License-Identifier: ISC */
/* The worker heartbeat table: one monotonic timestamp per worker. */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "lib/clock.h"
#include "lib/error.h"
#include "lib/rt/health.h"

struct acm_health {
	unsigned n;
	_Atomic uint64_t beat_ms[];     /* 0: never beat */
};

int acm_health_new(unsigned n, acm_health_t **out)
{
	acm_health_t *h = calloc(1, sizeof(*h) + n * sizeof(h->beat_ms[0]));
	if (!h)
		return -ENOMEM;
	h->n = n;
	for (unsigned i = 0; i < n; i++)
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
	if (h && i < h->n)
		atomic_store_explicit(&h->beat_ms[i], acm_mono_ms(), memory_order_relaxed);
}

unsigned acm_health_workers(const acm_health_t *h, unsigned *alive)
{
	uint64_t now = acm_mono_ms();
	*alive = 0;
	if (!h)
		return 0;
	for (unsigned i = 0; i < h->n; i++) {
		/* relaxed is enough: a slightly stale reading only delays the verdict */
		uint64_t t = atomic_load_explicit(&((acm_health_t *)h)->beat_ms[i],
		                                  memory_order_relaxed);
		if (t && now - t <= ACM_HEALTH_WINDOW_MS)
			(*alive)++;
	}
	return h->n;
}
