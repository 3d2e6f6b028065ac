/* SPDX-License-Identifier: ISC */
/*
 * Domain names: text <-> wire conversion, case folding, comparison and
 * bounded parsing of (possibly compressed) names out of DNS messages.
 * Used on the query path, so nothing here allocates.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lib/dns/dname.h"
#include "lib/error.h"

static inline uint8_t fold(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c | 0x20) : c;
}

static inline bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

int acm_dname_from_text(const char *text, uint8_t *out)
{
	if (!text || !*text)
		return ACM_EBADNAME;
	if (text[0] == '.' && text[1] == '\0') {
		out[0] = 0;
		return 1;
	}

	size_t lenpos = 0;     /* where the current label's length byte goes */
	size_t n = 1;          /* bytes written so far, counting that length byte */
	size_t lablen = 0;
	const char *s = text;

	while (*s) {
		uint8_t c;

		if (*s == '.') {
			if (lablen == 0)
				return ACM_EBADNAME;
			out[lenpos] = (uint8_t)lablen;
			lenpos = n++;
			lablen = 0;
			s++;
			/* a trailing dot only marks the name absolute */
			if (*s == '\0') {
				out[lenpos] = 0;
				return (int)n;
			}
			continue;
		}
		if (*s == '\\') {
			s++;
			if (is_digit(s[0])) {
				if (!is_digit(s[1]) || !is_digit(s[2]))
					return ACM_EBADNAME;
				unsigned v = (unsigned)(s[0] - '0') * 100 +
					     (unsigned)(s[1] - '0') * 10 +
					     (unsigned)(s[2] - '0');
				if (v > 255)
					return ACM_EBADNAME;
				c = (uint8_t)v;
				s += 3;
			} else if (*s == '\0') {
				return ACM_EBADNAME;
			} else {
				c = (uint8_t)*s++;
			}
		} else {
			c = (uint8_t)*s++;
		}
		/* keep one byte back for the root label */
		if (lablen == ACM_LABEL_MAX || n >= ACM_DNAME_MAX - 1)
			return ACM_EBADNAME;
		out[n++] = c;
		lablen++;
	}

	/* no trailing dot: close the last label and add the root */
	out[lenpos] = (uint8_t)lablen;
	if (n >= ACM_DNAME_MAX)
		return ACM_EBADNAME;
	out[n++] = 0;
	return (int)n;
}

/* Characters that would change meaning in a zone file or in our own parser. */
static inline bool needs_backslash(uint8_t c)
{
	switch (c) {
	case '.': case '\\': case '"': case '(': case ')':
	case ';': case '@': case '$':
		return true;
	default:
		return false;
	}
}

int acm_dname_to_text(const uint8_t *wire, char *out)
{
	size_t i = 0, o = 0;

	if (wire[0] == 0) {
		out[0] = '.';
		out[1] = '\0';
		return 1;
	}
	/* worst case is 4 x 63-byte labels all \DDD: 1012 chars, within TXT_MAX */
	for (;;) {
		uint8_t l = wire[i];
		if (l == 0)
			break;
		if (l > ACM_LABEL_MAX || i + 1 + l + 1 > ACM_DNAME_MAX)
			return ACM_EBADNAME;
		for (size_t k = i + 1; k <= i + l; k++) {
			uint8_t c = wire[k];
			if (c <= 0x20 || c >= 0x7f) {
				out[o++] = '\\';
				out[o++] = (char)('0' + c / 100);
				out[o++] = (char)('0' + c / 10 % 10);
				out[o++] = (char)('0' + c % 10);
			} else {
				if (needs_backslash(c))
					out[o++] = '\\';
				out[o++] = (char)c;
			}
		}
		out[o++] = '.';
		i += 1 + (size_t)l;
	}
	out[o] = '\0';
	return (int)o;
}

size_t acm_dname_len(const uint8_t *wire)
{
	size_t i = 0;

	while (wire[i])
		i += 1 + (size_t)wire[i];
	return i + 1;
}

void acm_dname_lower(uint8_t *wire)
{
	size_t i = 0;

	while (wire[i]) {
		size_t end = i + 1 + wire[i];
		for (i++; i < end; i++)
			wire[i] = fold(wire[i]);
	}
}

bool acm_dname_equal(const uint8_t *a, const uint8_t *b)
{
	for (;;) {
		uint8_t l = *a;
		if (l != *b)
			return false;
		if (l == 0)
			return true;
		a++;
		b++;
		for (uint8_t k = 0; k < l; k++)
			if (fold(a[k]) != fold(b[k]))
				return false;
		a += l;
		b += l;
	}
}

static int label_count(const uint8_t *wire)
{
	int n = 0;

	while (*wire) {
		wire += 1 + *wire;
		n++;
	}
	return n;
}

int acm_dname_under(const uint8_t *name, const uint8_t *apex)
{
	int above = label_count(name) - label_count(apex);

	if (above < 0)
		return -1;
	for (int k = 0; k < above; k++)
		name += 1 + *name;
	return acm_dname_equal(name, apex) ? above : -1;
}

int acm_dname_parse(const uint8_t *msg, size_t msglen, size_t *pos, uint8_t *out)
{
	return acm_dname_parse_lower(msg, msglen, pos, out, NULL);
}

#define BYTES(c) (UINT64_C(0x0101010101010101) * (c))

/* fold() on eight bytes at once: a byte gets 0x20 where its high bit is
 * clear and it is at least 'A' but not above 'Z' (each sum stays in its
 * byte, as the high bits are masked off first). */
static inline uint64_t fold8(uint64_t x)
{
	uint64_t low7 = x & BYTES(0x7f);
	uint64_t ge_a = low7 + BYTES(0x80 - 'A');
	uint64_t gt_z = low7 + BYTES(0x7f - 'Z');
	return x | ((ge_a & ~gt_z & ~x & BYTES(0x80)) >> 2);
}

/* fold8 over a whole name: its length bytes (below 64) come out as they
 * went in, so the name is folded in eight-byte steps, labels or not. */
static void fold_name(uint8_t *lower, const uint8_t *src, size_t n)
{
	size_t k = 0;
	for (; k + 8 <= n; k += 8) {
		uint64_t x;
		memcpy(&x, src + k, 8);
		x = fold8(x);
		memcpy(lower + k, &x, 8);
	}
	if (k < n && n >= 8) {
		/* the last eight bytes again: folding twice changes nothing */
		uint64_t x;
		memcpy(&x, src + n - 8, 8);
		x = fold8(x);
		memcpy(lower + n - 8, &x, 8);
		return;
	}
	for (; k < n; k++)
		lower[k] = fold(src[k]);
}

/* The common shape, a name without pointers: find its end, then copy (and
 * fold) it whole. Returns its length, or 0 for anything else, which the
 * label-by-label parse below then reads or rejects. */
static size_t parse_flat(const uint8_t *msg, size_t msglen, size_t p, uint8_t *out,
                         uint8_t *lower)
{
	size_t end = p;
	while (end < msglen && msg[end] != 0) {
		if (msg[end] & 0xC0)
			return 0;
		end += (size_t)msg[end] + 1;
	}
	size_t n = end + 1 - p;
	if (end >= msglen || n > ACM_DNAME_MAX)
		return 0;
	memcpy(out, msg + p, n);
	if (lower)
		fold_name(lower, msg + p, n);
	return n;
}

int acm_dname_parse_lower(const uint8_t *msg, size_t msglen, size_t *pos, uint8_t *out,
                          uint8_t *lower)
{
	size_t flat = parse_flat(msg, msglen, *pos, out, lower);
	if (flat) {
		*pos += flat;
		return (int)flat;
	}
	size_t p = *pos;
	size_t limit = p;     /* pointers must land strictly before this */
	size_t next = 0;      /* where *pos goes once a pointer was followed */
	size_t n = 0;

	for (;;) {
		if (p >= msglen)
			return ACM_EMALF;
		uint8_t b = msg[p];

		switch (b & 0xC0) {
		case 0x00:
			if (b == 0) {
				if (lower)
					lower[n] = 0;
				out[n++] = 0;
				*pos = next ? next : p + 1;
				return (int)n;
			}
			/* label plus the root still to come must fit */
			if (msglen - p - 1 < b || n + 1 + b + 1 > ACM_DNAME_MAX)
				return ACM_EMALF;
			memcpy(out + n, msg + p, (size_t)b + 1);
			if (lower)
				fold_name(lower + n, msg + p, (size_t)b + 1);
			n += (size_t)b + 1;
			p += (size_t)b + 1;
			break;
		case 0xC0: {
			if (msglen - p < 2)
				return ACM_EMALF;
			size_t target = (size_t)(b & 0x3F) << 8 | msg[p + 1];
			if (target >= limit)
				return ACM_EMALF;
			if (!next)
				next = p + 2;
			limit = target;
			p = target;
			break;
		}
		default:
			/* 0x40 (extended) and 0x80 are reserved */
			return ACM_EMALF;
		}
	}
}

int acm_label_check(const char *label, size_t len)
{
	if (len < 1 || len > ACM_LABEL_MAX)
		return ACM_EBADNAME;
	if (label[0] == '-' || label[len - 1] == '-')
		return ACM_EBADNAME;
	for (size_t i = 0; i < len; i++) {
		char c = label[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
			return ACM_EBADNAME;
	}
	return ACM_OK;
}

/* 64 bits at a time, multiply and fold: names are short, and most of
 * their length is the apex, shared by all. */
uint32_t acm_dname_hash(const uint8_t *p, size_t len)
{
	uint64_t h = 0x9e3779b97f4a7c15u ^ len;
	uint64_t w;
	for (; len >= 8; p += 8, len -= 8) {
		memcpy(&w, p, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdu;
		h ^= h >> 32;
	}
	w = 0;
	memcpy(&w, p, len);
	h = (h ^ w) * 0xc4ceb9fe1a85ec53u;
	h ^= h >> 29;
	return (uint32_t)h;
}
