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

typedef struct acm_sigcache acm_sigcache_t;

/* A cache of about `bytes` (at least a few entries). ACM_OK or -ENOMEM. */
int acm_sigcache_new(size_t bytes, acm_sigcache_t **out);
void acm_sigcache_free(acm_sigcache_t *cache);
/* Lookups that found a signature still fresh, and those that signed. */
void acm_sigcache_counts(const acm_sigcache_t *cache, uint64_t *hits, uint64_t *misses);

#endif
