/* SPDX-License-Identifier: ISC */
/*
 * Response rate limiting (RRL), as NSD, Knot DNS and BIND have it: a UDP
 * response is counted against a token bucket keyed by the client's network
 * (dns.rrl.ipv4_prefix, dns.rrl.ipv6_prefix) and the kind of response, so
 * that spoofed queries cannot turn the server into a reflector. Over the
 * rate, a response is dropped, or every slip-th one is sent truncated (TC,
 * no records) so that a real resolver asks again over TCP, which no one can
 * spoof. One fixed table shared by every worker, updated with atomics: no
 * lock and no allocation per response.
 */
#ifndef ACM_RRL_H
#define ACM_RRL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "lib/conf/config.h"

/* The kinds of response counted apart (BIND's and Knot's classes). */
enum acm_rrl_class {
	ACM_RRL_ANSWER,     /* records in the answer: one bucket per name */
	ACM_RRL_NEGATIVE,   /* NXDOMAIN or NODATA: one bucket per zone */
	ACM_RRL_ERROR,      /* FORMERR, SERVFAIL, NOTIMP, NOTAUTH, ...: one bucket */
	ACM_RRL_REFUSED,    /* REFUSED: one bucket */
	ACM_RRL_CLASSES
};

/* What to do with a response. */
enum acm_rrl_action {
	ACM_RRL_SEND,       /* within the rate: send it as it is */
	ACM_RRL_SLIP,       /* over the rate: send it truncated (TC, no records) */
	ACM_RRL_DROP,       /* over the rate: send nothing */
};

/* The class's label value ("answer", "negative", "error", "refused"). */
const char *acm_rrl_class_name(size_t i);

typedef struct acm_rrl acm_rrl_t;

/* Slots in the table a daemon uses: 2^18 (2 MiB), in buckets of 8, enough
 * for 262,144 (network, class, name) keys active within one window; past
 * that the key nearest its full rate is taken over (see rrl.c). */
#define ACM_RRL_SLOTS_LOG2 18

/* A table of 2^slots_log2 slots (3 to 30: at least one bucket), keyed
 * with seed, or when seed is NULL with a secret from the kernel so that
 * nobody can aim at one bucket (a known seed is for tests, which need the
 * same collisions every run). ACM_OK, ACM_ERANGE, or -ENOMEM. */
int acm_rrl_new(unsigned slots_log2, const uint64_t seed[2], acm_rrl_t **out);
void acm_rrl_free(acm_rrl_t *rrl);

/*
 * Count one UDP response of class cls to client under conf at time now
 * (seconds of a monotonic clock) and say what to do with it. name is the
 * lower-case wire name the bucket is for (the query name for ANSWER, the
 * zone's apex for NEGATIVE; ignored for the other classes). Always
 * ACM_RRL_SEND when conf->rate is 0 or the client is in conf->exempt.
 *
 * Each key's bucket holds up to rate tokens (the burst) and gains rate
 * per second; a response takes one. Over the rate the balance keeps going
 * down, to -rate * window, so a key that floods stays limited until it has
 * been quiet for up to window seconds. Thread-safe, lock-free.
 */
enum acm_rrl_action acm_rrl_check(acm_rrl_t *rrl, const acm_rrl_conf_t *conf,
                                  const struct sockaddr *client, enum acm_rrl_class cls,
                                  const uint8_t *name, size_t name_len, uint64_t now);

#endif
