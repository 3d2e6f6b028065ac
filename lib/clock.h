/* SPDX-License-Identifier: ISC */
/*
 * The monotonic clock, for deadlines, rates and durations: a wall clock
 * stepped by an operator or NTP must neither expire nor revive anything.
 * Inline, as the rate limits on the query path read it.
 */
#ifndef ACM_CLOCK_H
#define ACM_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Nanoseconds of CLOCK_MONOTONIC (from an arbitrary start). */
static inline uint64_t acm_mono_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* Milliseconds of CLOCK_MONOTONIC. */
static inline uint64_t acm_mono_ms(void)
{
	return acm_mono_ns() / 1000000u;
}

/*
 * The clock value expiry is judged by (lib/clock.c), in unix seconds: the
 * earlier of the wall clock and the wall clock at this process's first
 * call plus the time elapsed since (CLOCK_BOOTTIME: steps do not move it,
 * a suspend does). A value is expired only once both have passed its
 * expiry, so a wall clock stepped forward expires nothing early, and one
 * stepped back by S keeps a value at most S longer (docs/operations.md,
 * "Clock"). Values set while the clock is stepped back get their expiry
 * from it too, and live exactly as long as asked. Any thread.
 */
uint64_t acm_expiry_now(void);

/* One reading of the wall clock and CLOCK_BOOTTIME, for what a batch of
 * queries needs of both (acm_clocks_read). */
typedef struct {
	struct timespec wall;
	struct timespec boot;
} acm_clocks_t;

void acm_clocks_read(acm_clocks_t *c);
/* acm_expiry_now() as of the reading c. */
uint64_t acm_expiry_at(const acm_clocks_t *c);

/* Milliseconds of a reading's CLOCK_BOOTTIME, and of the clock now. */
static inline uint64_t acm_clocks_boot_ms(const acm_clocks_t *c)
{
	return (uint64_t)c->boot.tv_sec * 1000u + (uint64_t)c->boot.tv_nsec / 1000000u;
}

uint64_t acm_boot_ms(void);

#endif
