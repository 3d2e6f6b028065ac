/* SPDX-License-Identifier: ISC */
/*
 * Online signing of answers (DNSSEC, RFC 4035) for queries with the DO bit
 * in a zone that signs (acm_zone_signing): every RRset in the answer and
 * authority sections gets its RRSIG, and a negative answer becomes compact
 * denial of existence (RFC 9824): NXDOMAIN turns into NOERROR with an NSEC
 * at the name whose bitmap is RRSIG, NSEC and NXNAME, NODATA gets an NSEC
 * at the name listing the types that exist there; each NSEC's next name is
 * the name's immediate successor, so nothing can be walked.
 *
 * Signatures are kept in a per-worker cache keyed by the RRset's canonical
 * bytes, so a changed RRset (a new TXT value, a new serial) is a miss and
 * a repeated one costs a hash and a compare. Answers to queries without DO
 * never come here.
 */
#ifndef ACM_DNSD_SIGN_H
#define ACM_DNSD_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include "lib/conf/zone.h"
#include "lib/dns/wire.h"

typedef struct acm_sigcache acm_sigcache_t;

/* The ring of each answering thread, two per worker (its event loop's
 * and its UDP thread's), allocated when a signed zone is first served;
 * with its index and scratch buffers about 9.5 MiB a thread. */
#define ACM_SIGCACHE_BYTES (8u << 20)

/* A cache of about `bytes` (at least a few entries). ACM_OK or -ENOMEM. */
int acm_sigcache_new(size_t bytes, acm_sigcache_t **out);
void acm_sigcache_free(acm_sigcache_t *cache);
/* Lookups that found a signature still fresh, and those that signed. */
void acm_sigcache_counts(const acm_sigcache_t *cache, uint64_t *hits, uint64_t *misses);

/* The hash an entry is found by (its slots: the hash's low bits, and the
 * slot beside). */
uint64_t acm_sigcache_hash(const uint8_t *key, size_t klen, const uint8_t *rrs, size_t rlen);
/* The cache's entry for (key, canonical RRset): the RRSIG rdata and its
 * length, when there is one whose expiration is more than refresh
 * seconds after now; NULL otherwise. Counts a hit or a miss. */
const uint8_t *acm_sigcache_get(acm_sigcache_t *c, const uint8_t *key, size_t klen,
                                const uint8_t *rrs, size_t rlen, uint64_t now, uint32_t refresh,
                                size_t *siglen);
/* Keep a new signature (overwriting the oldest entries when full). */
void acm_sigcache_put(acm_sigcache_t *c, const uint8_t *key, size_t klen, const uint8_t *rrs,
                      size_t rlen, uint32_t expiration, const uint8_t *sig, size_t siglen);
/* Room for building canonical RRsets: three buffers of
 * ACM_SIGCACHE_SCRATCH bytes each, 0 to 2 (owners written out in full make
 * an RRset of a 64 KiB message longer than the message), suitably aligned
 * for any type. */
#define ACM_SIGCACHE_SCRATCH (4 * 65536)
uint8_t *acm_sigcache_scratch(acm_sigcache_t *c, unsigned which);

/* One answer's signing: the zone's keys and timing, the cache, the clock. */
typedef struct {
	const acm_zone_signing_t *zs;
	acm_sigcache_t *cache;
	const uint8_t *apex;       /* lower-case wire name, the signer */
	size_t apex_len;
	uint64_t now;              /* Unix seconds */
} acm_signer_t;

/*
 * Append to w the RRSIG of the RRset of count RRs written at
 * w->base[start..w->pos) (one owner and type; owners as names or
 * compression pointers, rdata uncompressed): one RRSIG by the active key,
 * or one by every key for DNSKEY. Each is owned like the RRset's first RR.
 * Returns the RRs appended; w->err is set when they do not fit.
 */
uint16_t acm_sign_rrset(const acm_signer_t *s, acm_wire_t *w, size_t start, uint16_t count);

/*
 * Append the NSEC of compact denial (RFC 9824) at owner (as written:
 * a compression pointer into w, or 0 for none) for the lower-case name
 * name[0..len): next name "\000." + name, the types (any order, ends
 * with RRSIG and NSEC added here) in its bitmap, TTL nsec_ttl; then its
 * RRSIG. Returns the RRs appended.
 */
uint16_t acm_sign_nsec(const acm_signer_t *s, acm_wire_t *w, uint16_t owner, const uint8_t *name,
                       size_t len, const uint16_t *types, size_t ntypes);

#endif
