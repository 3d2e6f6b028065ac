/* SPDX-License-Identifier: ISC */
/*
 * Building the response to one parsed query, straight into the caller's
 * send buffer. One store lookup at most, no allocation.
 */
#ifndef ACM_DNSD_ANSWER_H
#define ACM_DNSD_ANSWER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dnsd/query.h"
#include "lib/zone.h"

/* Find the store's rrset record for a lower-case owner (see lib/store.h);
 * ACM_OK with *rec set, or ACM_ENOTFOUND. */
typedef int (*acm_lookup_fn)(void *ctx, const uint8_t *owner, size_t len,
                             const uint8_t **rec, size_t *reclen);

typedef struct {
	const acm_zone_t *zone;
	acm_lookup_fn lookup;
	void *lookup_ctx;
	uint32_t serial;          /* of the store snapshot the lookup reads */
	uint64_t now;             /* unix seconds, for value expiry */
	uint16_t udp_payload;     /* our largest UDP response (dns.udp_payload) */
} acm_answer_env_t;

/* What an answer turned out to be, for the caller's counters and logs. */
typedef struct {
	int rcode;
	bool truncated;
	uint16_t answers;
} acm_answer_info_t;

/*
 * Write the response to q into out (outcap bytes: at least 65535 for TCP,
 * at least env->udp_payload for UDP). Returns the response length.
 * info may be NULL.
 */
size_t acm_answer(const acm_answer_env_t *env, const acm_query_t *q, bool tcp,
                  uint8_t *out, size_t outcap, acm_answer_info_t *info);

#endif
