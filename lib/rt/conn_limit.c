/* SPDX-License-Identifier: ISC */
/*
 * Per-client and per-network connection counts: one chained hash table of
 * keys (a client or a network, told apart by the prefix length in the key)
 * under one mutex. Accept and close rates are low next to queries, so a
 * lock held for a few instructions costs nothing measurable; the hash is
 * keyed with a random seed so that a client cannot pick addresses that
 * collide.
 */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>

#include "lib/rt/conn_limit.h"
#include "lib/error.h"

#define V4_CLIENT_BITS 32
#define V4_NETWORK_BITS 24
#define V6_CLIENT_BITS 64
#define V6_NETWORK_BITS 48
#define BUCKETS_MIN 256u
#define BUCKETS_MAX (1u << 20)

typedef struct node {
	struct node *next;
	uint8_t key[sizeof(((acm_conn_slot_t *)0)->key)];
	unsigned count;
} node_t;

struct acm_conn_limit {
	pthread_mutex_t lock;
	uint64_t seed[2];
	size_t mask;                    /* buckets - 1, a power of two minus one */
	bool networks;
	unsigned total;
	node_t **buckets;
};

int acm_conn_limit_new(size_t size_hint, bool networks, acm_conn_limit_t **out)
{
	acm_conn_limit_t *l = calloc(1, sizeof(*l));
	size_t n = BUCKETS_MIN;
	while (n < BUCKETS_MAX && n < size_hint * 2)
		n <<= 1;
	*out = NULL;
	if (!l || !(l->buckets = calloc(n, sizeof(*l->buckets)))) {
		free(l);
		return -ENOMEM;
	}
	/* Without entropy the table still works, only without the key. */
	if (getrandom(l->seed, sizeof(l->seed), GRND_NONBLOCK) != (ssize_t)sizeof(l->seed))
		l->seed[0] = (uint64_t)(uintptr_t)l, l->seed[1] = (uint64_t)(uintptr_t)&n;
	l->mask = n - 1;
	l->networks = networks;
	pthread_mutex_init(&l->lock, NULL);
	*out = l;
	return ACM_OK;
}

void acm_conn_limit_free(acm_conn_limit_t *l)
{
	if (!l)
		return;
	for (size_t i = 0; i <= l->mask; i++) {
		node_t *next;
		for (node_t *nd = l->buckets[i]; nd; nd = next) {
			next = nd->next;
			free(nd);
		}
	}
	pthread_mutex_destroy(&l->lock);
	free(l->buckets);
	free(l);
}

/* The key of sa cut to bits (client or network); IPv4-mapped IPv6
 * addresses are IPv4 clients. */
static void make_key(const struct sockaddr *sa, bool network, uint8_t *key)
{
	const uint8_t *addr = NULL;
	unsigned bits = 0;
	memset(key, 0, sizeof(((acm_conn_slot_t *)0)->key));
	if (sa && sa->sa_family == AF_INET) {
		addr = (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr;
		key[0] = 4;
		bits = network ? V4_NETWORK_BITS : V4_CLIENT_BITS;
	} else if (sa && sa->sa_family == AF_INET6) {
		const struct in6_addr *a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;
		if (IN6_IS_ADDR_V4MAPPED(a6)) {
			addr = a6->s6_addr + 12;
			key[0] = 4;
			bits = network ? V4_NETWORK_BITS : V4_CLIENT_BITS;
		} else {
			addr = a6->s6_addr;
			key[0] = 6;
			bits = network ? V6_NETWORK_BITS : V6_CLIENT_BITS;
		}
	}
	key[1] = (uint8_t)bits;
	if (!addr)
		return;
	memcpy(key + 2, addr, bits / 8);
}

static uint64_t mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

static size_t bucket(const acm_conn_limit_t *l, const uint8_t *key)
{
	uint64_t w[3] = { 0, 0, 0 };
	memcpy(w, key, sizeof(((acm_conn_slot_t *)0)->key));
	uint64_t h = mix(w[0] ^ l->seed[0]);
	h = mix(h ^ w[1] ^ l->seed[1]);
	h = mix(h ^ w[2] ^ l->seed[0]);
	return (size_t)h & l->mask;
}

static node_t **find(acm_conn_limit_t *l, const uint8_t *key)
{
	node_t **pp = &l->buckets[bucket(l, key)];
	while (*pp && memcmp((*pp)->key, key, sizeof((*pp)->key)) != 0)
		pp = &(*pp)->next;
	return pp;
}

static unsigned count_of(acm_conn_limit_t *l, const uint8_t *key)
{
	node_t *nd = *find(l, key);
	return nd ? nd->count : 0;
}

/* One more connection for key; false when out of memory. */
static bool add(acm_conn_limit_t *l, const uint8_t *key)
{
	node_t **pp = find(l, key);
	if (!*pp) {
		if (!(*pp = calloc(1, sizeof(node_t))))
			return false;
		memcpy((*pp)->key, key, sizeof((*pp)->key));
	}
	(*pp)->count++;
	return true;
}

static void sub(acm_conn_limit_t *l, const uint8_t *key)
{
	node_t **pp = find(l, key);
	node_t *nd = *pp;
	if (nd && --nd->count == 0) {
		*pp = nd->next;
		free(nd);
	}
}

int acm_conn_limit_take(acm_conn_limit_t *l, const struct sockaddr *sa,
                        const acm_conn_caps_t *caps, acm_conn_slot_t *slot)
{
	uint8_t net[sizeof(slot->key)];
	int verdict = ACM_CONN_ADMITTED;

	slot->held = false;
	make_key(sa, false, slot->key);
	make_key(sa, true, net);
	pthread_mutex_lock(&l->lock);
	if (caps->max_total && l->total >= caps->max_total)
		verdict = ACM_CONN_FULL;
	else if (caps->max_per_client && count_of(l, slot->key) >= caps->max_per_client)
		verdict = ACM_CONN_CLIENT_FULL;
	else if (l->networks && caps->max_per_network &&
	         count_of(l, net) >= caps->max_per_network)
		verdict = ACM_CONN_NETWORK_FULL;
	else if (!add(l, slot->key))
		verdict = -ENOMEM;
	else if (l->networks && !add(l, net)) {
		sub(l, slot->key);
		verdict = -ENOMEM;
	}
	if (verdict == ACM_CONN_ADMITTED) {
		l->total++;
		slot->held = true;
	}
	pthread_mutex_unlock(&l->lock);
	return verdict;
}

void acm_conn_limit_release(acm_conn_limit_t *l, acm_conn_slot_t *slot)
{
	if (!slot->held)
		return;
	uint8_t net[sizeof(slot->key)];
	/* the network is the client's key cut shorter */
	memcpy(net, slot->key, sizeof(net));
	if (net[0] == 4 || net[0] == 6) {
		unsigned bits = net[0] == 4 ? V4_NETWORK_BITS : V6_NETWORK_BITS;
		net[1] = (uint8_t)bits;
		memset(net + 2 + bits / 8, 0, sizeof(net) - 2 - bits / 8);
	}
	pthread_mutex_lock(&l->lock);
	sub(l, slot->key);
	if (l->networks)
		sub(l, net);
	l->total--;
	pthread_mutex_unlock(&l->lock);
	slot->held = false;
}

unsigned acm_conn_limit_total(acm_conn_limit_t *l)
{
	pthread_mutex_lock(&l->lock);
	unsigned n = l->total;
	pthread_mutex_unlock(&l->lock);
	return n;
}

unsigned acm_conn_limit_fit(unsigned wanted, unsigned share_percent, uint64_t *limit)
{
	struct rlimit rl;
	*limit = 0;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
		return wanted;
	*limit = (uint64_t)rl.rlim_cur;
	uint64_t share = *limit * share_percent / 100;
	if (share < 1)
		share = 1;
	return share < wanted ? (unsigned)share : wanted;
}
