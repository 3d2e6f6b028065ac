/* SPDX-License-Identifier: ISC */
/*
 * The expiry clock (clock.h): the wall clock, held back to the elapsed
 * time since the process first asked whenever the wall clock runs ahead of
 * it (a step forward), so that no stored expiry is reached early.
 */
#include <pthread.h>
#include <time.h>

#include "lib/clock.h"

#ifndef CLOCK_BOOTTIME
#define CLOCK_BOOTTIME CLOCK_MONOTONIC
#endif

static pthread_once_t anchor_once = PTHREAD_ONCE_INIT;
static struct timespec anchor_wall, anchor_boot;

static void anchor(void)
{
	clock_gettime(CLOCK_REALTIME, &anchor_wall);
	clock_gettime(CLOCK_BOOTTIME, &anchor_boot);
}

void acm_clocks_read(acm_clocks_t *c)
{
	pthread_once(&anchor_once, anchor);   /* never after the reading */
	clock_gettime(CLOCK_REALTIME, &c->wall);
	clock_gettime(CLOCK_BOOTTIME, &c->boot);
}

uint64_t acm_boot_ms(void)
{
	acm_clocks_t c;
	clock_gettime(CLOCK_BOOTTIME, &c.boot);
	return acm_clocks_boot_ms(&c);
}

uint64_t acm_expiry_now(void)
{
	acm_clocks_t c;
	acm_clocks_read(&c);
	return acm_expiry_at(&c);
}

uint64_t acm_expiry_at(const acm_clocks_t *c)
{
	const struct timespec wall = c->wall, boot = c->boot;
	pthread_once(&anchor_once, anchor);
	/* Elapsed, in whole seconds (rounded down: never ahead). */
	int64_t el_ns = ((int64_t)boot.tv_sec - anchor_boot.tv_sec) * 1000000000 +
	                (boot.tv_nsec - anchor_boot.tv_nsec);
	int64_t steady = (int64_t)anchor_wall.tv_sec +
	                 (el_ns + anchor_wall.tv_nsec) / 1000000000;
	int64_t w = (int64_t)wall.tv_sec;
	int64_t now = w < steady ? w : steady;
	return now > 0 ? (uint64_t)now : 0;
}
