/* SPDX-License-Identifier: ISC */
/*
 * The failed-attempts table (see backoff.h): a fixed array scanned in full.
 * It holds only keys of accounts whose check is expensive, a few thousand
 * at most, and is consulted only before such a check, so a scan costs far
 * less than the check it may save.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rt/backoff.h"
#include "lib/error.h"

typedef struct {
	char key[ACM_BACKOFF_KEY_MAX + 1];   /* "" = free slot */
	unsigned failures;
	uint64_t last_ms;                    /* the last failure */
	uint64_t until_ms;                   /* no try before this */
} entry_t;

struct acm_backoff {
	acm_backoff_limits_t lim;
	size_t used;
	entry_t e[];
};

int acm_backoff_new(const acm_backoff_limits_t *lim, acm_backoff_t **out)
{
	acm_backoff_t *b;

	*out = NULL;
	if (lim->capacity < 1 || lim->capacity > (1u << 20) || lim->base_ms < 1 ||
	    lim->max_ms < lim->base_ms)
		return -EINVAL;
	if (!(b = calloc(1, sizeof(*b) + lim->capacity * sizeof(entry_t))))
		return -ENOMEM;
	b->lim = *lim;
	*out = b;
	return ACM_OK;
}

void acm_backoff_free(acm_backoff_t *b)
{
	free(b);
}

static bool same_key(const entry_t *e, const char *key)
{
	return e->key[0] && strncmp(e->key, key, ACM_BACKOFF_KEY_MAX) == 0;
}

static entry_t *find(const acm_backoff_t *b, const char *key)
{
	for (size_t i = 0; i < b->lim.capacity; i++)
		if (same_key(&b->e[i], key))
			return (entry_t *)&b->e[i];
	return NULL;
}

/* A key quiet for max_ms is as good as new. */
static bool stale(const acm_backoff_t *b, const entry_t *e, uint64_t now_ms)
{
	return now_ms >= e->until_ms && now_ms - e->last_ms >= b->lim.max_ms;
}

uint64_t acm_backoff_wait(const acm_backoff_t *b, const char *key, uint64_t now_ms)
{
	const entry_t *e = find(b, key);

	return e && now_ms < e->until_ms ? e->until_ms - now_ms : 0;
}

/* A free slot, else the one whose last failure is oldest. */
static entry_t *take_slot(acm_backoff_t *b, uint64_t now_ms)
{
	entry_t *victim = &b->e[0];

	for (size_t i = 0; i < b->lim.capacity; i++) {
		entry_t *e = &b->e[i];
		if (!e->key[0] || stale(b, e, now_ms)) {
			victim = e;
			break;
		}
		if (e->last_ms < victim->last_ms)
			victim = e;
	}
	if (!victim->key[0])
		b->used++;
	memset(victim, 0, sizeof(*victim));
	return victim;
}

void acm_backoff_failed(acm_backoff_t *b, const char *key, uint64_t now_ms)
{
	entry_t *e = find(b, key);
	unsigned over;
	uint64_t wait;

	if (!key[0])
		return;
	if (e && stale(b, e, now_ms))
		e->failures = 0;
	if (!e) {
		e = take_slot(b, now_ms);
		strncpy(e->key, key, ACM_BACKOFF_KEY_MAX);
	}
	e->failures++;
	e->last_ms = now_ms;
	if (e->failures <= b->lim.free_failures)
		return;
	over = e->failures - b->lim.free_failures - 1;
	wait = b->lim.base_ms;
	while (over-- > 0 && wait < b->lim.max_ms)
		wait *= 2;
	e->until_ms = now_ms + (wait < b->lim.max_ms ? wait : b->lim.max_ms);
}

void acm_backoff_succeeded(acm_backoff_t *b, const char *key)
{
	entry_t *e = find(b, key);

	if (e) {
		memset(e, 0, sizeof(*e));
		b->used--;
	}
}

size_t acm_backoff_count(const acm_backoff_t *b)
{
	return b->used;
}
