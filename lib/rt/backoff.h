/* SPDX-License-Identifier: ISC */
/*
 * Failed attempts per key (a username) with an exponentially growing wait
 * once a few are used up, in a table of fixed size: so that guessing one
 * account's key cannot make the server spend expensive checks without end,
 * and memory stays bounded whatever the number of keys tried. Not
 * thread-safe: one owner thread.
 */
#ifndef ACM_BACKOFF_H
#define ACM_BACKOFF_H

#include <stddef.h>
#include <stdint.h>

typedef struct acm_backoff acm_backoff_t;

#define ACM_BACKOFF_KEY_MAX 63

typedef struct {
	size_t capacity;        /* keys remembered; the least recently failed goes first */
	unsigned free_failures; /* failures in a row before any wait */
	uint64_t base_ms;       /* the first wait; doubles with each further failure */
	uint64_t max_ms;        /* no wait is longer; a key quiet this long is forgotten */
} acm_backoff_limits_t;

/* A table with these limits (capacity >= 1, base_ms >= 1, max_ms >= base_ms).
 * ACM_OK, -EINVAL or -ENOMEM. */
int acm_backoff_new(const acm_backoff_limits_t *lim, acm_backoff_t **out);
void acm_backoff_free(acm_backoff_t *b);

/* Milliseconds until key may be tried again (0: now). now_ms is a monotonic
 * clock. Keys longer than ACM_BACKOFF_KEY_MAX are cut there. */
uint64_t acm_backoff_wait(const acm_backoff_t *b, const char *key, uint64_t now_ms);

/* A failed try: counts it and, past free_failures, starts the next wait. */
void acm_backoff_failed(acm_backoff_t *b, const char *key, uint64_t now_ms);

/* A successful try: the key starts afresh. */
void acm_backoff_succeeded(acm_backoff_t *b, const char *key);

/* Keys remembered now (for tests). */
size_t acm_backoff_count(const acm_backoff_t *b);

#endif
