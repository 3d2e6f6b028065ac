/* SPDX-License-Identifier: ISC */
/*
 * The per-thread signature cache (sign.h): entries are appended to one
 * ring of bytes and found through a table of slots by a hash of what was
 * signed, two slots to a hash (a pair): with one, two RRsets asked for
 * often whose hashes shared a slot kept pushing each other out. An entry is valid while the ring has not come round
 * to it since it was written, and matches only when the signing key and
 * the canonical RRset compare equal byte for byte, so a hash collision or
 * an overwritten entry is a miss, never a wrong signature. Memory: the
 * ring, one slot per 256 bytes of it, and three scratch buffers.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "dnsd/sign.h"
#include "lib/error.h"

/* An entry: u32 key length, u32 RRset length, u32 expiration, u16
 * signature length, then key, RRset and signature, padded to 8. */
#define ENTRY_HEAD 14

typedef struct {
	uint64_t seq;      /* where in the ring's running byte count it starts */
	uint64_t hash;
	uint32_t len;      /* 0: empty */
} slot_t;

struct acm_sigcache {
	uint8_t *ring;
	size_t size;
	uint64_t head;     /* bytes ever written (ring offset: head % size) */
	slot_t *slots;
	size_t mask;
	uint64_t hits, misses;
	uint8_t *scratch[3];
};

int acm_sigcache_new(size_t bytes, acm_sigcache_t **out)
{
	if (bytes < 64 * 1024)
		bytes = 64 * 1024;
	size_t nslots = 256;
	while (nslots < bytes / 256)
		nslots <<= 1;
	acm_sigcache_t *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->size = bytes;
	c->mask = nslots - 1;
	c->ring = malloc(bytes);
	c->slots = calloc(nslots, sizeof(*c->slots));
	for (size_t i = 0; i < 3; i++)
		c->scratch[i] = malloc(ACM_SIGCACHE_SCRATCH);
	if (!c->ring || !c->slots || !c->scratch[0] || !c->scratch[1] || !c->scratch[2]) {
		acm_sigcache_free(c);
		return -ENOMEM;
	}
	*out = c;
	return ACM_OK;
}

void acm_sigcache_free(acm_sigcache_t *c)
{
	if (!c)
		return;
	free(c->ring);
	free(c->slots);
	for (size_t i = 0; i < 3; i++)
		free(c->scratch[i]);
	free(c);
}

void acm_sigcache_counts(const acm_sigcache_t *c, uint64_t *hits, uint64_t *misses)
{
	*hits = c->hits;
	*misses = c->misses;
}

uint8_t *acm_sigcache_scratch(acm_sigcache_t *c, unsigned which)
{
	return c->scratch[which < 3 ? which : 0];
}

/* FNV-1a, 64 bits: a miss costs a signature, so any spread will do. */
uint64_t acm_sigcache_hash(const uint8_t *key, size_t klen, const uint8_t *rrs, size_t rlen)
{
	uint64_t h = 0xcbf29ce484222325u;
	for (size_t i = 0; i < klen; i++)
		h = (h ^ key[i]) * 0x100000001b3u;
	for (size_t i = 0; i < rlen; i++)
		h = (h ^ rrs[i]) * 0x100000001b3u;
	return h;
}

static size_t entry_len(size_t klen, size_t rlen, size_t siglen)
{
	return (ENTRY_HEAD + klen + rlen + siglen + 7) & ~(size_t)7;
}

/* Whether the slot's entry is still in the ring (not come round to). */
static bool live(const acm_sigcache_t *c, const slot_t *s)
{
	return s->len != 0 && c->head - s->seq <= c->size;
}

/* The slot's entry if it is the one for key and rrs, else NULL. */
static const uint8_t *entry_for(const acm_sigcache_t *c, const slot_t *s, uint64_t h,
                                const uint8_t *key, size_t klen, const uint8_t *rrs, size_t rlen)
{
	if (!live(c, s) || s->hash != h)
		return NULL;
	const uint8_t *e = c->ring + s->seq % c->size;
	if (acm_get_u32(e) != klen || acm_get_u32(e + 4) != rlen ||
	    memcmp(e + ENTRY_HEAD, key, klen) != 0 || memcmp(e + ENTRY_HEAD + klen, rrs, rlen) != 0)
		return NULL;
	return e;
}

const uint8_t *acm_sigcache_get(acm_sigcache_t *c, const uint8_t *key, size_t klen,
                                const uint8_t *rrs, size_t rlen, uint64_t now, uint32_t refresh,
                                size_t *siglen)
{
	uint64_t h = acm_sigcache_hash(key, klen, rrs, rlen);
	size_t i = h & c->mask;
	const uint8_t *e = entry_for(c, &c->slots[i], h, key, klen, rrs, rlen);
	if (!e)
		e = entry_for(c, &c->slots[i ^ 1], h, key, klen, rrs, rlen);
	if (!e || (int32_t)(acm_get_u32(e + 8) - (uint32_t)now) <= (int32_t)refresh) {
		c->misses++;
		return NULL;
	}
	c->hits++;
	*siglen = acm_get_u16(e + 12);
	return e + ENTRY_HEAD + klen + rlen;
}

/* Where a new entry of hash h goes: the pair's slot that holds the same
 * hash (a signature made again replaces the stale one), else a slot whose
 * entry is gone, else the one written longer ago. */
static slot_t *slot_for(acm_sigcache_t *c, uint64_t h)
{
	slot_t *a = &c->slots[h & c->mask], *b = &c->slots[(h & c->mask) ^ 1];
	if (live(c, a) && a->hash == h)
		return a;
	if (live(c, b) && b->hash == h)
		return b;
	if (!live(c, a))
		return a;
	if (!live(c, b))
		return b;
	return a->seq <= b->seq ? a : b;
}

void acm_sigcache_put(acm_sigcache_t *c, const uint8_t *key, size_t klen, const uint8_t *rrs,
                      size_t rlen, uint32_t expiration, const uint8_t *sig, size_t siglen)
{
	size_t len = entry_len(klen, rlen, siglen);
	if (len > c->size / 4 || siglen > UINT16_MAX)
		return;   /* a huge RRset is signed every time rather than flush the ring */
	size_t pos = c->head % c->size;
	if (pos + len > c->size)
		c->head += c->size - pos;   /* entries never wrap */
	uint8_t *e = c->ring + c->head % c->size;
	acm_put_u32(e, (uint32_t)klen);
	acm_put_u32(e + 4, (uint32_t)rlen);
	acm_put_u32(e + 8, expiration);
	acm_put_u16(e + 12, (uint16_t)siglen);
	memcpy(e + ENTRY_HEAD, key, klen);
	memcpy(e + ENTRY_HEAD + klen, rrs, rlen);
	memcpy(e + ENTRY_HEAD + klen + rlen, sig, siglen);
	uint64_t h = acm_sigcache_hash(key, klen, rrs, rlen);
	*slot_for(c, h) = (slot_t){ .seq = c->head, .hash = h, .len = (uint32_t)len };
	c->head += len;
}
