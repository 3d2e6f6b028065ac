/* SPDX-License-Identifier: ISC */
/*
 * The account record's binary form (see account.h), which every write
 * stores: decoding it costs no allocation and no parser, which matters
 * because every authenticated request decodes the caller's record.
 *
 * Version 1, all integers big-endian:
 *   u8  ACM_ACCOUNT_REC_V1
 *   str username              (str: u8 length, then the bytes; no NUL)
 *   u32 key_scheme            (at most INT32_MAX)
 *   str key_hash
 *   u8  allowfrom count, then each entry as a str
 *   u64 created, u64 updated  (at most INT64_MAX, as in the JSON form)
 *   u32 flags
 *   u8  tsig_alg (0: no key), and with a key: u8 secret length, the secret
 * and nothing after it. Every limit the JSON decoder enforces holds here
 * too, strings included (valid UTF-8, so that the JSON views of the record
 * can always be written).
 */
#include <string.h>

#include "lib/store/account.h"
#include "lib/dns/wire.h"
#include "lib/error.h"

/* ---- writing ------------------------------------------------------------ */

typedef struct {
	uint8_t *p;
	size_t cap, len;
	bool overflow;
} bout_t;

static void put_bytes(bout_t *o, const void *b, size_t n)
{
	if (o->overflow || n > o->cap - o->len) {
		o->overflow = true;
		return;
	}
	memcpy(o->p + o->len, b, n);
	o->len += n;
}

static void put_u8(bout_t *o, unsigned v)
{
	uint8_t b = (uint8_t)v;
	put_bytes(o, &b, 1);
}

static void put_u32(bout_t *o, uint32_t v)
{
	uint8_t b[4];
	acm_put_u32(b, v);
	put_bytes(o, b, 4);
}

static void put_u64(bout_t *o, uint64_t v)
{
	uint8_t b[8];
	acm_put_u64(b, v);
	put_bytes(o, b, 8);
}

static void put_str(bout_t *o, const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);
	put_u8(o, (unsigned)n);
	put_bytes(o, s, n);
}

int acm_account_encode(const acm_account_t *acc, uint8_t *buf, size_t cap, size_t *len)
{
	bout_t o = { .p = buf, .cap = cap };

	put_u8(&o, ACM_ACCOUNT_REC_V1);
	put_str(&o, acc->username, sizeof(acc->username));
	put_u32(&o, (uint32_t)acc->key_scheme);
	put_str(&o, acc->key_hash, sizeof(acc->key_hash));
	put_u8(&o, (unsigned)acc->allowfrom_count);
	for (size_t i = 0; i < acc->allowfrom_count && i < ACM_ALLOWFROM_MAX; i++)
		put_str(&o, acc->allowfrom[i], sizeof(acc->allowfrom[i]));
	put_u64(&o, acc->created);
	put_u64(&o, acc->updated);
	put_u32(&o, acc->flags);
	put_u8(&o, (unsigned)acc->tsig_alg);
	if (acc->tsig_alg != 0) {
		put_u8(&o, (unsigned)acc->tsig_secret_len);
		put_bytes(&o, acc->tsig_secret, acc->tsig_secret_len);
	}
	*len = o.len;
	return o.overflow ? ACM_ESPACE : ACM_OK;
}

/* ---- reading ------------------------------------------------------------ */

typedef struct {
	const uint8_t *p;
	size_t len, at;
	bool bad;
} bin_t;

static const uint8_t *take(bin_t *in, size_t n)
{
	if (in->bad || n > in->len - in->at) {
		in->bad = true;
		return NULL;
	}
	in->at += n;
	return in->p + in->at - n;
}

static unsigned get_u8(bin_t *in)
{
	const uint8_t *b = take(in, 1);
	return b ? b[0] : 0;
}

static uint32_t get_u32(bin_t *in)
{
	const uint8_t *b = take(in, 4);
	return b ? acm_get_u32(b) : 0;
}

static uint64_t get_u64(bin_t *in)
{
	const uint8_t *b = take(in, 8);
	return b ? acm_get_u64(b) : 0;
}

/* Bytes after a lead byte of value lead in a well-formed UTF-8 sequence,
 * with the range its first continuation byte must fall in (RFC 3629:
 * no overlong forms, no surrogates, nothing past U+10FFFF); -1 if none. */
static int utf8_tail(uint8_t lead, uint8_t *lo, uint8_t *hi)
{
	*lo = 0x80;
	*hi = 0xBF;
	if (lead < 0x80)
		return 0;
	if (lead >= 0xC2 && lead <= 0xDF)
		return 1;
	if (lead >= 0xE0 && lead <= 0xEF) {
		*lo = lead == 0xE0 ? 0xA0 : 0x80;
		*hi = lead == 0xED ? 0x9F : 0xBF;
		return 2;
	}
	if (lead >= 0xF0 && lead <= 0xF4) {
		*lo = lead == 0xF0 ? 0x90 : 0x80;
		*hi = lead == 0xF4 ? 0x8F : 0xBF;
		return 3;
	}
	return -1;
}

/* Text the JSON form could hold: well-formed UTF-8 without NUL. */
static bool text_ok(const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		uint8_t lo, hi;
		int tail = utf8_tail(s[i], &lo, &hi);
		if (s[i] == 0 || tail < 0 || (size_t)tail >= n - i)
			return false;
		for (int k = 1; k <= tail; k++, lo = 0x80, hi = 0xBF)
			if (s[i + k] < lo || s[i + k] > hi)
				return false;
		i += (size_t)tail + 1;
	}
	return true;
}

/* A str into dst (cap bytes with its NUL), refusing what does not fit. */
static void get_str(bin_t *in, char *dst, size_t cap)
{
	size_t n = get_u8(in);
	const uint8_t *b = take(in, n);

	if (!b || n >= cap || !text_ok(b, n)) {
		in->bad = true;
		return;
	}
	memcpy(dst, b, n);
	dst[n] = '\0';
}

static void get_tsig(bin_t *in, acm_account_t *acc)
{
	const uint8_t *secret;

	acc->tsig_alg = (int)get_u8(in);
	if (acc->tsig_alg == 0)
		return;
	acc->tsig_secret_len = get_u8(in);
	if (acc->tsig_alg < ACM_TSIG_HMAC_SHA256 || acc->tsig_alg > ACM_TSIG_HMAC_SHA512 ||
	    acc->tsig_secret_len == 0 || acc->tsig_secret_len > ACM_TSIG_SECRET_MAX ||
	    !(secret = take(in, acc->tsig_secret_len))) {
		in->bad = true;
		return;
	}
	memcpy(acc->tsig_secret, secret, acc->tsig_secret_len);
}

int acm_account_decode_bin(const void *rec, size_t len, acm_account_t *acc)
{
	bin_t in = { .p = rec, .len = len };
	uint32_t scheme;

	if (get_u8(&in) != ACM_ACCOUNT_REC_V1)
		return ACM_ECORRUPT;
	get_str(&in, acc->username, sizeof(acc->username));
	scheme = get_u32(&in);
	get_str(&in, acc->key_hash, sizeof(acc->key_hash));
	acc->allowfrom_count = get_u8(&in);
	if (acc->allowfrom_count > ACM_ALLOWFROM_MAX)
		return ACM_ECORRUPT;
	for (size_t i = 0; i < acc->allowfrom_count; i++)
		get_str(&in, acc->allowfrom[i], sizeof(acc->allowfrom[i]));
	acc->created = get_u64(&in);
	acc->updated = get_u64(&in);
	acc->flags = get_u32(&in);
	get_tsig(&in, acc);
	if (in.bad || in.at != len || scheme > INT32_MAX || acc->created > INT64_MAX ||
	    acc->updated > INT64_MAX)
		return ACM_ECORRUPT;
	acc->key_scheme = (int)scheme;
	return ACM_OK;
}
