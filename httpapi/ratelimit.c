/* SPDX-License-Identifier: ISC */
/*
 * The registration rate limits: a token bucket per client address in a
 * fixed open-addressing table, and one bucket for all addresses together.
 * Registration is the one unauthenticated write, so it must cost an
 * attacker time without costing us memory: the table never grows, and a
 * full table forgets its least recently used address (which at worst lets
 * that address start over with a full bucket). An attacker with many
 * addresses (an IPv6 range, a botnet) passes the per-address limit; the
 * global bucket bounds how fast the store can be filled all the same.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "httpapi/server_int.h"
#include "lib/error.h"

#define SLOTS 4096          /* a power of two */
#define PROBES 8            /* slots looked at per address */

typedef struct {
	uint8_t key[16];        /* IPv4 as ::ffff:a.b.c.d; IPv6 cut to its /64 */
	bool used;
	double tokens;
	uint64_t last_ms;       /* last refill, and recency for eviction */
} bucket_t;

struct acm_ratelimit {
	bucket_t slots[SLOTS];
	bucket_t global;        /* key unused */
};

int acm_ratelimit_new(acm_ratelimit_t **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? ACM_OK : -ENOMEM;
}

void acm_ratelimit_free(acm_ratelimit_t *rl)
{
	free(rl);
}

/* One host of IPv6 usually owns a whole /64, so counting single addresses
 * there would let it register without limit. */
static void address_key(const struct sockaddr *sa, uint8_t key[16])
{
	memset(key, 0, 16);
	if (sa->sa_family == AF_INET) {
		key[10] = key[11] = 0xff;
		memcpy(key + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		memcpy(key, &((const struct sockaddr_in6 *)sa)->sin6_addr, 8);
	}
}

/* FNV-1a is enough: crowding one probe sequence only evicts buckets, which
 * hands their owners a fresh allowance and never refuses anyone wrongly. */
static uint32_t hash_key(const uint8_t key[16])
{
	uint32_t h = 2166136261u;
	for (int i = 0; i < 16; i++)
		h = (h ^ key[i]) * 16777619u;
	return h;
}

static bucket_t *find_bucket(acm_ratelimit_t *rl, const uint8_t key[16], unsigned per_minute,
                             uint64_t now_ms)
{
	uint32_t h = hash_key(key);
	bucket_t *victim = NULL;

	for (unsigned i = 0; i < PROBES; i++) {
		bucket_t *b = &rl->slots[(h + i) & (SLOTS - 1)];
		if (b->used && memcmp(b->key, key, 16) == 0)
			return b;
		if (!victim || (victim->used && (!b->used || b->last_ms < victim->last_ms)))
			victim = b;
	}
	memcpy(victim->key, key, 16);
	victim->used = true;
	victim->tokens = per_minute;
	victim->last_ms = now_ms;
	return victim;
}

/* Add what the time since the last refill earned, up to a burst of size
 * (one period's worth); true if a whole token is there to take. */
static bool refill(bucket_t *b, unsigned size, uint64_t period_ms, uint64_t now_ms)
{
	if (now_ms > b->last_ms)
		b->tokens += (double)(now_ms - b->last_ms) * size / (double)period_ms;
	/* a reload may have lowered the rate below what the bucket holds */
	if (b->tokens > size)
		b->tokens = size;
	b->last_ms = now_ms;
	return b->tokens >= 1.0;
}

bool acm_ratelimit_allow(acm_ratelimit_t *rl, const struct sockaddr *sa, unsigned per_minute,
                         uint64_t now_ms)
{
	uint8_t key[16];

	if (per_minute == 0)
		return true;
	address_key(sa, key);
	bucket_t *b = find_bucket(rl, key, per_minute, now_ms);
	if (!refill(b, per_minute, 60000, now_ms))
		return false;
	b->tokens -= 1.0;
	return true;
}

/* The global bucket is looked at first and charged last, so a refusal by
 * either limit costs the other nothing: a client refused because of
 * everyone else keeps its own allowance. */
bool acm_ratelimit_register(acm_ratelimit_t *rl, const struct sockaddr *sa, unsigned per_minute,
                            unsigned global_per_second, uint64_t now_ms)
{
	bucket_t *g = &rl->global;

	if (global_per_second) {
		if (!g->used) {
			g->used = true;
			g->tokens = global_per_second;
			g->last_ms = now_ms;
		}
		if (!refill(g, global_per_second, 1000, now_ms))
			return false;
	}
	if (!acm_ratelimit_allow(rl, sa, per_minute, now_ms))
		return false;
	if (global_per_second)
		g->tokens -= 1.0;
	return true;
}
