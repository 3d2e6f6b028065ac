/* SPDX-License-Identifier: ISC */
/*
 * Bounded cursor over wire bytes with a sticky error: after an overrun every
 * read returns zero and every write is dropped, and the error stays set, so
 * callers check once at the end instead of after every step.
 */
#ifndef ACM_WIRE_H
#define ACM_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lib/error.h"

typedef struct {
	uint8_t *base;
	size_t size;
	size_t pos;
	int err;
} acm_wire_t;

static inline acm_wire_t acm_wire_init(uint8_t *base, size_t size)
{
	acm_wire_t w = { base, size, 0, ACM_OK };
	return w;
}

static inline size_t acm_wire_left(const acm_wire_t *w)
{
	return w->err ? 0 : w->size - w->pos;
}

static inline int acm_wire_need(acm_wire_t *w, size_t n, int err)
{
	if (w->err)
		return 0;
	if (w->size - w->pos < n) {
		w->err = err;
		return 0;
	}
	return 1;
}

static inline uint8_t acm_wire_read_u8(acm_wire_t *w)
{
	if (!acm_wire_need(w, 1, ACM_EMALF))
		return 0;
	return w->base[w->pos++];
}

static inline uint16_t acm_wire_read_u16(acm_wire_t *w)
{
	if (!acm_wire_need(w, 2, ACM_EMALF))
		return 0;
	uint16_t v = (uint16_t)(w->base[w->pos] << 8 | w->base[w->pos + 1]);
	w->pos += 2;
	return v;
}

static inline uint32_t acm_wire_read_u32(acm_wire_t *w)
{
	if (!acm_wire_need(w, 4, ACM_EMALF))
		return 0;
	const uint8_t *p = w->base + w->pos;
	w->pos += 4;
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void acm_wire_skip(acm_wire_t *w, size_t n)
{
	if (acm_wire_need(w, n, ACM_EMALF))
		w->pos += n;
}

static inline void acm_wire_write_u8(acm_wire_t *w, uint8_t v)
{
	if (acm_wire_need(w, 1, ACM_ESPACE))
		w->base[w->pos++] = v;
}

static inline void acm_wire_write_u16(acm_wire_t *w, uint16_t v)
{
	if (!acm_wire_need(w, 2, ACM_ESPACE))
		return;
	w->base[w->pos] = (uint8_t)(v >> 8);
	w->base[w->pos + 1] = (uint8_t)v;
	w->pos += 2;
}

static inline void acm_wire_write_u32(acm_wire_t *w, uint32_t v)
{
	if (!acm_wire_need(w, 4, ACM_ESPACE))
		return;
	uint8_t *p = w->base + w->pos;
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
	w->pos += 4;
}

static inline void acm_wire_write(acm_wire_t *w, const void *src, size_t n)
{
	if (acm_wire_need(w, n, ACM_ESPACE)) {
		memcpy(w->base + w->pos, src, n);
		w->pos += n;
	}
}

/* Big-endian helpers for fixed layouts outside a cursor. */
static inline uint16_t acm_get_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void acm_put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline uint32_t acm_get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void acm_put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline uint64_t acm_get_u64(const uint8_t *p)
{
	return (uint64_t)acm_get_u32(p) << 32 | acm_get_u32(p + 4);
}

static inline void acm_put_u64(uint8_t *p, uint64_t v)
{
	acm_put_u32(p, (uint32_t)(v >> 32));
	acm_put_u32(p + 4, (uint32_t)v);
}

#endif
