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

uint64_t acm_expiry_now(void)
{
	struct timespec wall, boot;
	pthread_once(&anchor_once, anchor);
	clock_gettime(CLOCK_REALTIME, &wall);
	clock_gettime(CLOCK_BOOTTIME, &boot);
	/* Elapsed, in whole seconds (rounded down: never ahead). */
	int64_t el_ns = ((int64_t)boot.tv_sec - anchor_boot.tv_sec) * 1000000000 +
	                (boot.tv_nsec - anchor_boot.tv_nsec);
	int64_t steady = (int64_t)anchor_wall.tv_sec +
	                 (el_ns + anchor_wall.tv_nsec) / 1000000000;
	int64_t w = (int64_t)wall.tv_sec;
	int64_t now = w < steady ? w : steady;
	return now > 0 ? (uint64_t)now : 0;
}
