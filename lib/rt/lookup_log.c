/* SPDX-License-Identifier: ISC */
/*
 * The lookup log's rings. Each slot carries the position (+1) of the entry
 * it holds, set to 0 while its writer overwrites it: a reader that sees the
 * same position before and after copying the slot has a whole entry, one
 * that does not skips it (the writer never waits for readers).
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "lib/dns/dname.h"
#include "lib/error.h"
#include "lib/rt/lookup_log.h"

typedef struct {
	/* head on its own cache line: only its writer stores it */
	_Alignas(64) _Atomic uint64_t head;   /* entries ever written */
	size_t cap;
	_Atomic uint64_t *seq;                /* per slot: position + 1, 0 while written */
	acm_lookup_t *slots;
} ring_t;

struct acm_lookup_log {
	unsigned writers;
	unsigned per_name;
	ring_t *rings;
};

int acm_lookup_log_new_caps(unsigned writers, const size_t *caps, unsigned per_name,
                            acm_lookup_log_t **out)
{
	acm_lookup_log_t *log = calloc(1, sizeof(*log));
	if (!log || writers == 0 ||
	    !(log->rings = aligned_alloc(64, writers * sizeof(ring_t)))) {
		free(log);
		return writers == 0 ? -EINVAL : -ENOMEM;
	}
	memset(log->rings, 0, writers * sizeof(ring_t));
	log->writers = writers;
	log->per_name = per_name ? per_name : 1;
	/* Pages calloc hands out stay untouched until written: a quiet
	 * server does not pay for the whole log. */
	for (unsigned i = 0; i < writers; i++) {
		ring_t *r = &log->rings[i];
		if (caps[i] == 0)
			continue;
		r->seq = calloc(caps[i], sizeof(*r->seq));
		r->slots = calloc(caps[i], sizeof(*r->slots));
		if (!r->seq || !r->slots) {
			acm_lookup_log_free(log);
			return -ENOMEM;
		}
		r->cap = caps[i];
	}
	*out = log;
	return ACM_OK;
}

int acm_lookup_log_new(unsigned writers, size_t total, unsigned per_name,
                       acm_lookup_log_t **out)
{
	if (writers == 0)
		return -EINVAL;
	size_t *caps = malloc(writers * sizeof(*caps));
	if (!caps)
		return -ENOMEM;
	for (unsigned i = 0; i < writers; i++)
		caps[i] = total / writers;
	int rc = acm_lookup_log_new_caps(writers, caps, per_name, out);
	free(caps);
	return rc;
}

void acm_lookup_log_free(acm_lookup_log_t *log)
{
	if (!log)
		return;
	for (unsigned i = 0; log->rings && i < log->writers; i++) {
		free((void *)log->rings[i].seq);
		free(log->rings[i].slots);
	}
	free(log->rings);
	free(log);
}

unsigned acm_lookup_log_per_name(const acm_lookup_log_t *log)
{
	return log->per_name;
}

acm_lookup_t *acm_lookup_log_begin(acm_lookup_log_t *log, unsigned writer)
{
	ring_t *r = &log->rings[writer % log->writers];
	if (r->cap == 0)
		return NULL;
	uint64_t pos = atomic_load_explicit(&r->head, memory_order_relaxed);
	size_t slot = (size_t)(pos % r->cap);
	atomic_store_explicit(&r->seq[slot], 0, memory_order_relaxed);
	/* Orders the 0 before the entry's bytes (a seqlock's writer fence). */
	atomic_thread_fence(memory_order_release);
	return &r->slots[slot];
}

void acm_lookup_log_commit(acm_lookup_log_t *log, unsigned writer)
{
	ring_t *r = &log->rings[writer % log->writers];
	uint64_t pos = atomic_load_explicit(&r->head, memory_order_relaxed);
	atomic_store_explicit(&r->seq[pos % r->cap], pos + 1, memory_order_release);
	atomic_store_explicit(&r->head, pos + 1, memory_order_release);
}

void acm_lookup_set_source(acm_lookup_t *e, const struct sockaddr *sa)
{
	e->family = 0;
	e->port = 0;
	if (sa && sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		memcpy(e->addr, &in->sin_addr, 4);
		e->port = ntohs(in->sin_port);
		e->family = AF_INET;
	} else if (sa && sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		memcpy(e->addr, &in6->sin6_addr, 16);
		e->port = ntohs(in6->sin6_port);
		e->family = AF_INET6;
	}
}

/* ---- readers ------------------------------------------------------------ */

static bool wanted(const acm_lookup_t *e, const uint8_t *const *names, size_t nnames)
{
	for (size_t i = 0; i < nnames; i++)
		if (e->qname_len == acm_dname_len(names[i]) && acm_dname_equal(e->qname, names[i]))
			return true;
	return false;
}

/* Copy the entry at pos if it is still there, whole. */
static bool read_slot(const ring_t *r, uint64_t pos, acm_lookup_t *out)
{
	size_t slot = (size_t)(pos % r->cap);
	if (atomic_load_explicit(&r->seq[slot], memory_order_acquire) != pos + 1)
		return false;
	memcpy(out, &r->slots[slot], sizeof(*out));
	atomic_thread_fence(memory_order_acquire);
	return atomic_load_explicit(&r->seq[slot], memory_order_relaxed) == pos + 1;
}

/* Put e into out[0..*n), kept newest first and at most max long. */
static void insert_newest(acm_lookup_t *out, size_t *n, size_t max, const acm_lookup_t *e)
{
	size_t at = *n;
	while (at > 0 && out[at - 1].time_ns < e->time_ns)
		at--;
	if (at >= max)
		return;
	size_t keep = *n < max ? *n : max - 1;
	memmove(&out[at + 1], &out[at], (keep - at) * sizeof(*out));
	out[at] = *e;
	if (*n < max)
		(*n)++;
}

/* A ring newest first: once it gave max matches, its older ones cannot
 * make the cut. */
static void scan_ring(const ring_t *r, const uint8_t *const *names, size_t nnames,
                      acm_lookup_t *out, size_t *n, size_t max)
{
	uint64_t head = atomic_load_explicit(&r->head, memory_order_acquire);
	uint64_t oldest = head > r->cap ? head - r->cap : 0;
	acm_lookup_t e;
	size_t found = 0;
	for (uint64_t pos = head; pos > oldest && found < max; pos--) {
		if (!read_slot(r, pos - 1, &e) || !wanted(&e, names, nnames))
			continue;
		insert_newest(out, n, max, &e);
		found++;
	}
}

size_t acm_lookup_log_find(const acm_lookup_log_t *log, const uint8_t *const *names,
                           size_t nnames, acm_lookup_t *out, size_t max)
{
	size_t n = 0;
	for (unsigned i = 0; max > 0 && i < log->writers; i++)
		if (log->rings[i].cap)
			scan_ring(&log->rings[i], names, nnames, out, &n, max);
	return n;
}
