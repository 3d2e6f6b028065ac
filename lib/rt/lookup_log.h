/* SPDX-License-Identifier: ISC */
/*
 * The lookup log: the most recent DNS lookups of names in the zone, so an
 * account can see whether (and how) the CA looked its record up. One ring
 * per DNS worker, each written by its worker alone and preallocated at
 * start, so recording takes no lock and no allocation; readers (the HTTP
 * thread) scan every ring and merge by time.
 *
 * Bounds: lookups.total entries across all rings (older entries of every
 * name are pushed out by the traffic of all names, on the same ring), and
 * at most per_name entries returned for a name. The daemon sizes each
 * ring for the traffic it takes (dnsd/server.c lookup_caps).
 */
#ifndef ACM_LOOKUP_LOG_H
#define ACM_LOOKUP_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "lib/dns/dname.h"

#define ACM_LOOKUP_VALUES 4        /* TXT values kept per lookup */
#define ACM_LOOKUP_VALUE_MAX 43    /* bytes kept per value: an ACME digest */

typedef struct {
	uint64_t time_ns;                /* CLOCK_REALTIME */
	uint8_t family;                  /* AF_INET or AF_INET6 (0: unknown) */
	bool tcp;
	uint16_t port;                   /* host order */
	uint8_t addr[16];                /* 4 bytes for AF_INET */
	uint16_t edns;                   /* the requestor's payload size; 0: no EDNS */
	uint16_t qtype;
	uint8_t rcode;
	uint8_t nvalues;                 /* TXT values answered (the first few kept) */
	uint8_t value_len[ACM_LOOKUP_VALUES];   /* bytes kept of each */
	bool value_cut[ACM_LOOKUP_VALUES];      /* the value was longer */
	uint8_t values[ACM_LOOKUP_VALUES][ACM_LOOKUP_VALUE_MAX];
	uint8_t qname_len;
	uint8_t qname[ACM_DNAME_MAX];    /* wire, as asked: case preserved */
} acm_lookup_t;

typedef struct acm_lookup_log acm_lookup_log_t;

/* A log of writers rings sharing total entries equally; per_name (>= 1)
 * is what acm_lookup_log_find returns at most by default. ACM_OK, -EINVAL
 * (no writers) or -ENOMEM. */
int acm_lookup_log_new(unsigned writers, size_t total, unsigned per_name,
                       acm_lookup_log_t **out);
/* The same with caps[i] entries for ring i (0: it keeps nothing), for
 * writers that see unequal shares of the traffic. */
int acm_lookup_log_new_caps(unsigned writers, const size_t *caps, unsigned per_name,
                            acm_lookup_log_t **out);
void acm_lookup_log_free(acm_lookup_log_t *log);
unsigned acm_lookup_log_per_name(const acm_lookup_log_t *log);

/*
 * Writer side, for the one thread that owns ring `writer`: begin returns
 * the slot of the next entry (NULL when the log keeps nothing), which the
 * caller fills completely, then commit publishes it. Readers skip a slot
 * while it is being written.
 */
acm_lookup_t *acm_lookup_log_begin(acm_lookup_log_t *log, unsigned writer);
void acm_lookup_log_commit(acm_lookup_log_t *log, unsigned writer);

/* Set e's source from a peer address (AF_INET or AF_INET6; else unknown). */
void acm_lookup_set_source(acm_lookup_t *e, const struct sockaddr *sa);

/*
 * Reader side, any thread: copy into out the newest entries (at most max)
 * whose question name equals one of names (wire, any case), newest first.
 * Entries overwritten while being read are skipped, never returned torn.
 * Returns the count.
 */
size_t acm_lookup_log_find(const acm_lookup_log_t *log, const uint8_t *const *names,
                           size_t nnames, acm_lookup_t *out, size_t max);

#endif
