/* SPDX-License-Identifier: ISC */
/*
 * The RRL table: 2^n slots of one 64-bit word each, in buckets of eight
 * (one cache line). A key (client network, response class, name) hashes
 * to a bucket and a tag; its slot holds the tag, the second it was last
 * counted, its slip count and its token balance, so one compare-and-swap
 * updates it whole and workers share the table without a lock.
 *
 * A key not in its bucket takes the slot that loses least: an empty one,
 * else the one with the most tokens once refilled. A key back at its full
 * rate has nothing to lose, so up to eight keys active at once per bucket
 * are tracked exactly; past that, the newcomer starts full and the evicted
 * key, the one closest to full, starts full again too. The seed is secret,
 * so no client can pick names or addresses that crowd one bucket.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "lib/conf/cidr.h"
#include "lib/error.h"
#include "lib/rt/rrl.h"

#define BUCKET 8
#define RETRIES 4             /* lost races before answering without counting */

/* A slot, from the low bits up: balance (biased), slip count, second, tag.
 * The tag is never 0, so an empty slot is the word 0. The second wraps
 * after 2^20 s (12 days): a key idle for exactly a multiple of that may
 * be judged on its old balance, for at most window seconds. */
#define BAL_BITS 26
#define SLIP_BITS 4
#define TIME_BITS 20
#define TAG_BITS 14
#define BAL_BIAS (1ll << (BAL_BITS - 1))
#define SLIP_MAX ((1u << SLIP_BITS) - 1)
#define TIME_MASK ((1u << TIME_BITS) - 1)
#define TAG_MASK ((1u << TAG_BITS) - 1)
_Static_assert(BAL_BITS + SLIP_BITS + TIME_BITS + TAG_BITS == 64, "a slot is one word");

typedef struct {
	uint32_t tag;
	uint32_t time;
	uint32_t slip;
	int64_t bal;
} entry_t;

struct acm_rrl {
	uint64_t seed[2];
	size_t bucket_mask;
	_Atomic uint64_t *slots;
};

static const char *const class_names[ACM_RRL_CLASSES] = {
	[ACM_RRL_ANSWER] = "answer", [ACM_RRL_NEGATIVE] = "negative",
	[ACM_RRL_ERROR] = "error", [ACM_RRL_REFUSED] = "refused",
};

const char *acm_rrl_class_name(size_t i)
{
	return i < ACM_RRL_CLASSES ? class_names[i] : "?";
}

int acm_rrl_new(unsigned slots_log2, const uint64_t seed[2], acm_rrl_t **out)
{
	if (slots_log2 < 3 || slots_log2 > 30)
		return ACM_ERANGE;
	acm_rrl_t *t = calloc(1, sizeof(*t));
	size_t n = (size_t)1 << slots_log2;
	if (!t || !(t->slots = calloc(n, sizeof(*t->slots)))) {
		free(t);
		return -ENOMEM;
	}
	t->bucket_mask = n / BUCKET - 1;
	if (seed) {
		memcpy(t->seed, seed, sizeof(t->seed));
	} else if (getrandom(t->seed, sizeof(t->seed), GRND_NONBLOCK) != (ssize_t)sizeof(t->seed)) {
		/* no entropy yet (early boot): addresses are better than a constant */
		t->seed[0] = (uint64_t)(uintptr_t)t;
		t->seed[1] = (uint64_t)(uintptr_t)t->slots;
	}
	*out = t;
	return ACM_OK;
}

void acm_rrl_free(acm_rrl_t *rrl)
{
	if (!rrl)
		return;
	free(rrl->slots);
	free(rrl);
}

static uint64_t pack(const entry_t *e)
{
	return (uint64_t)e->tag << (64 - TAG_BITS) |
	       (uint64_t)e->time << (BAL_BITS + SLIP_BITS) |
	       (uint64_t)e->slip << BAL_BITS |
	       (uint64_t)(e->bal + BAL_BIAS);
}

static void unpack(uint64_t w, entry_t *e)
{
	e->tag = (uint32_t)(w >> (64 - TAG_BITS));
	e->time = (uint32_t)(w >> (BAL_BITS + SLIP_BITS)) & TIME_MASK;
	e->slip = (uint32_t)(w >> BAL_BITS) & SLIP_MAX;
	e->bal = (int64_t)(w & ((1ull << BAL_BITS) - 1)) - BAL_BIAS;
}

/* The client's network as key material: family, then the address cut to
 * the configured prefix. An IPv4-mapped IPv6 address is the IPv4 client it
 * stands for. False for any other family. */
static bool network_of(const struct sockaddr *sa, const acm_rrl_conf_t *c, uint8_t key[24])
{
	const uint8_t *addr;
	unsigned bits, len;
	memset(key, 0, 24);
	if (sa->sa_family == AF_INET) {
		addr = (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr;
		key[0] = 4, bits = c->ipv4_prefix, len = 4;
	} else if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;
		bool mapped = IN6_IS_ADDR_V4MAPPED(a6);
		addr = a6->s6_addr + (mapped ? 12 : 0);
		key[0] = mapped ? 4 : 6;
		bits = mapped ? c->ipv4_prefix : c->ipv6_prefix;
		len = mapped ? 4 : 16;
	} else {
		return false;
	}
	if (bits > len * 8)
		bits = len * 8;
	memcpy(key + 8, addr, bits / 8);
	if (bits % 8)
		key[8 + bits / 8] = (uint8_t)(addr[bits / 8] & (0xff00u >> (bits % 8)));
	return true;
}

static uint64_t fold(uint64_t h, uint64_t v)
{
	h = (h ^ v) * 0x9e3779b97f4a7c15ull;
	return h ^ (h >> 31);
}

static uint64_t key_hash(const acm_rrl_t *t, const uint8_t net[24], enum acm_rrl_class cls,
                         const uint8_t *name, size_t len)
{
	uint64_t w, h = fold(t->seed[0], (uint64_t)cls << 32 | len);
	for (size_t i = 0; i < 24; i += 8) {
		memcpy(&w, net + i, 8);
		h = fold(h, w);
	}
	for (size_t i = 0; i < len; i += 8) {
		size_t n = len - i < 8 ? len - i : 8;
		w = 0;
		memcpy(&w, name + i, n);
		h = fold(h, w);
	}
	h = fold(h, t->seed[1]);
	return h ^ (h >> 29);
}

/* The balance at second now: rate more per second gone by, up to rate. */
static int64_t refilled(const entry_t *e, int64_t rate, int64_t floor, uint32_t now)
{
	uint32_t age = (now - e->time) & TIME_MASK;
	if ((int64_t)age * rate >= rate - floor)
		return rate;
	int64_t bal = e->bal + (int64_t)age * rate;
	return bal < rate ? bal : rate;
}

/* The slot for tag in the bucket: its own, else the one that loses least.
 * *found says which. */
static size_t pick_slot(_Atomic uint64_t *b, uint32_t tag, int64_t rate, int64_t floor,
                        uint32_t now, uint64_t *word, bool *found)
{
	size_t victim = 0;
	int64_t best = INT64_MIN;
	for (size_t i = 0; i < BUCKET; i++) {
		uint64_t w = atomic_load_explicit(&b[i], memory_order_relaxed);
		entry_t e;
		unpack(w, &e);
		if (w != 0 && e.tag == tag) {
			*word = w;
			*found = true;
			return i;
		}
		int64_t worth = w == 0 ? rate + 1 : refilled(&e, rate, floor, now);
		if (worth > best) {
			best = worth;
			victim = i;
			*word = w;
		}
	}
	*found = false;
	return victim;
}

static bool exempt(const acm_rrl_conf_t *c, const struct sockaddr *client)
{
	for (size_t i = 0; i < c->exempt_count; i++)
		if (acm_cidr_match(&c->exempt[i], client))
			return true;
	return false;
}

enum acm_rrl_action acm_rrl_check(acm_rrl_t *rrl, const acm_rrl_conf_t *conf,
                                  const struct sockaddr *client, enum acm_rrl_class cls,
                                  const uint8_t *name, size_t name_len, uint64_t now)
{
	uint8_t net[24];
	if (conf->rate == 0 || !client || !network_of(client, conf, net) || exempt(conf, client))
		return ACM_RRL_SEND;
	if (cls != ACM_RRL_ANSWER && cls != ACM_RRL_NEGATIVE)
		name_len = 0;
	uint64_t h = key_hash(rrl, net, cls, name, name_len);
	_Atomic uint64_t *b = rrl->slots + (h & rrl->bucket_mask) * BUCKET;
	uint32_t tag = (uint32_t)(h >> (64 - TAG_BITS)) & TAG_MASK;
	uint32_t t = (uint32_t)now & TIME_MASK;
	int64_t rate = conf->rate;
	int64_t floor = -(int64_t)conf->rate * conf->window;
	uint32_t slip = conf->slip > SLIP_MAX ? SLIP_MAX : conf->slip;
	enum acm_rrl_action action = ACM_RRL_SEND;
	if (tag == 0)
		tag = 1;
	if (floor < 1 - BAL_BIAS)
		floor = 1 - BAL_BIAS;
	for (int attempt = 0; attempt < RETRIES; attempt++) {
		uint64_t old;
		bool found;
		size_t i = pick_slot(b, tag, rate, floor, t, &old, &found);
		entry_t e = { .tag = tag, .time = t, .slip = 0, .bal = rate };
		if (found) {
			unpack(old, &e);
			e.bal = refilled(&e, rate, floor, t);
			e.time = t;
		}
		e.bal--;
		action = ACM_RRL_SEND;
		if (e.bal < 0) {
			if (e.bal < floor)
				e.bal = floor;
			action = ACM_RRL_DROP;
			if (slip > 0 && ++e.slip >= slip) {
				e.slip = 0;
				action = ACM_RRL_SLIP;
			}
		}
		if (atomic_compare_exchange_weak_explicit(&b[i], &old, pack(&e), memory_order_relaxed,
		                                          memory_order_relaxed))
			return action;
	}
	/* Another worker keeps changing this bucket: judge this one response
	 * on what was read rather than spin. */
	return action;
}
