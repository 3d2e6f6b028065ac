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
#include "dnsd/sign.h"
#include "lib/dns/tsig.h"
#include "lib/conf/zone.h"

struct sockaddr;

/* Find the store's rrset record for a lower-case owner (see lib/store/store.h);
 * ACM_OK with *rec set, or ACM_ENOTFOUND. */
typedef int (*acm_lookup_fn)(void *ctx, const uint8_t *owner, size_t len,
                             const uint8_t **rec, size_t *reclen);

/* A request's TSIG once verified: its key, and its MAC, which the MAC of
 * the first response covers (then each message's covers the one before). */
typedef struct {
	bool present;             /* the query was signed and verified */
	int error;                /* or its TSIG failed: enum acm_tsig_error */
	acm_tsig_key_t key;
	uint8_t mac[ACM_TSIG_MAC_MAX];
	size_t mac_len;
} acm_tsig_ctx_t;

typedef struct {
	const acm_zone_t *zone;
	acm_lookup_fn lookup;
	void *lookup_ctx;
	/* TSIG keys by name (configured keys and account keys); NULL: no
	 * keys, every TSIG is BADKEY. A key that cannot be read is BADKEY. */
	acm_tsig_lookup_fn key_lookup;
	void *key_ctx;
	const struct sockaddr *client;   /* the peer, for transfer.allow; NULL: none */
	uint32_t serial;          /* of the store snapshot the lookup reads */
	uint64_t now;             /* unix seconds of the wall clock (TSIG) */
	uint64_t expiry_now;      /* acm_expiry_now(), for value expiry */
	uint16_t udp_payload;     /* our largest UDP response (dns.udp_payload) */
	/* Signatures of this thread (DO in a signed zone); NULL: answers
	 * are not signed. */
	acm_sigcache_t *sigcache;
} acm_answer_env_t;

#define ACM_ANSWER_TXT_KEEP 4

/* What an answer turned out to be, for the caller's counters and logs. */
typedef struct {
	int rcode;
	bool truncated;
	uint16_t answers;
	int tsig_error;           /* the query's TSIG failed: enum acm_tsig_error */
	bool xfr_refused;         /* an AXFR/IXFR refused (REFUSED, AA clear) */
	/* An allowed AXFR/IXFR over TCP: nothing was written (the return is
	 * 0) and the caller streams the answer with dnsd/xfr.h, signed with
	 * tsig when tsig.present. */
	bool xfr;
	acm_tsig_ctx_t tsig;
	/* The TXT values in the answer, for the lookup log: how many, and the
	 * first few as pointers into the response (valid as long as it is). */
	uint16_t txt_count;
	const uint8_t *txt[ACM_ANSWER_TXT_KEEP];   /* rdata: length byte, then text */
	uint16_t txt_len[ACM_ANSWER_TXT_KEEP];
} acm_answer_info_t;

/*
 * Write the response to q into out (outcap bytes: at least 65535 for TCP,
 * at least env->udp_payload for UDP). Returns the response length.
 * info may be NULL, except for TCP when transfers may be allowed. A query
 * with a TSIG gets a signed answer, or NOTAUTH with the TSIG error when
 * it does not verify (RFC 8945 5.2).
 */
size_t acm_answer(const acm_answer_env_t *env, const acm_query_t *q, bool tcp,
                  uint8_t *out, size_t outcap, acm_answer_info_t *info);

/*
 * Cut the response to q in out[0..len) (as acm_answer wrote it) to its
 * header and question, with TC set and every count but the question's 0:
 * what a rate-limited client gets, so that it asks again over TCP. Returns
 * the new length.
 */
size_t acm_answer_slip(const acm_query_t *q, uint8_t *out, size_t len);

#endif
