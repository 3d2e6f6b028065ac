/* SPDX-License-Identifier: ISC */
/*
 * SOA serial number arithmetic (RFC 1982, SERIAL_BITS = 32): serials live
 * on a circle, so "newer" is defined only for distances below 2^31 and a
 * zone may wrap from 4294967295 to 0 without secondaries noticing.
 */
#ifndef ACM_SERIAL_H
#define ACM_SERIAL_H

#include <stdbool.h>
#include <stdint.h>

/* a + n (RFC 1982 3.1), n at most 2^31 - 1: plain unsigned wrap. */
static inline uint32_t acm_serial_add(uint32_t a, uint32_t n)
{
	return a + n;
}

/*
 * -1 if a precedes b, 0 if equal, 1 if a follows b (RFC 1982 3.2). At
 * exactly 2^31 apart the order is undefined; we call it "precedes" both
 * ways round, so the caller treats either side as out of date and sends
 * the whole zone, the only answer that is always right.
 */
static inline int acm_serial_cmp(uint32_t a, uint32_t b)
{
	uint32_t d = b - a;
	if (d == 0)
		return 0;
	if (d == 0x80000000u)
		return -1;
	return d < 0x80000000u ? -1 : 1;
}

static inline bool acm_serial_lt(uint32_t a, uint32_t b)
{
	return acm_serial_cmp(a, b) < 0;
}

/* a is b or newer: a secondary holding a is up to date with b. */
static inline bool acm_serial_ge(uint32_t a, uint32_t b)
{
	return acm_serial_cmp(a, b) >= 0;
}

#endif
