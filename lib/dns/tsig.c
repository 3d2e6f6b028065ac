/* SPDX-License-Identifier: ISC */
/*
 * TSIG (RFC 8945): the algorithm table, base64 key secrets, parsing the
 * TSIG RR out of a message, and the HMAC over a message and its TSIG
 * variables for signing and verifying. The digest is fed piece by piece
 * so the message is never copied.
 */
#include <ctype.h>
#include <pthread.h>
#include <string.h>
#include <strings.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "lib/dns/rr.h"
#include "lib/error.h"
#include "lib/dns/tsig.h"
#include "lib/dns/wire.h"

#define TIME_MAX 0xffffffffffffULL  /* 48 bits */

struct alg_info {
	const char *name;
	const uint8_t *wire;        /* canonical (lower-case) wire name */
	size_t wire_len;
	const char *digest;         /* OpenSSL digest name */
	size_t mac_len;
};

static const uint8_t wire_sha256[] = "\x0bhmac-sha256";
static const uint8_t wire_sha384[] = "\x0bhmac-sha384";
static const uint8_t wire_sha512[] = "\x0bhmac-sha512";

/* sizeof includes the string's NUL, which is the root label. */
static const struct alg_info algs[] = {
	{ "hmac-sha256", wire_sha256, sizeof(wire_sha256), "SHA256", 32 },
	{ "hmac-sha384", wire_sha384, sizeof(wire_sha384), "SHA384", 48 },
	{ "hmac-sha512", wire_sha512, sizeof(wire_sha512), "SHA512", 64 },
};

static const struct alg_info *alg_get(acm_tsig_alg_t alg)
{
	if (alg < ACM_TSIG_HMAC_SHA256 || alg > ACM_TSIG_HMAC_SHA512)
		return NULL;
	return &algs[alg - ACM_TSIG_HMAC_SHA256];
}

int acm_tsig_alg_from_text(const char *text, acm_tsig_alg_t *out)
{
	size_t len = text ? strlen(text) : 0;

	/* Key files write the algorithm as a name, sometimes absolute. */
	if (len > 0 && text[len - 1] == '.')
		len--;
	for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
		if (strlen(algs[i].name) == len && strncasecmp(text, algs[i].name, len) == 0) {
			*out = (acm_tsig_alg_t)(ACM_TSIG_HMAC_SHA256 + (int)i);
			return ACM_OK;
		}
	}
	return ACM_EBADVALUE;
}

const char *acm_tsig_alg_name(acm_tsig_alg_t alg)
{
	const struct alg_info *a = alg_get(alg);

	return a ? a->name : "unknown";
}

static acm_tsig_alg_t alg_from_wire(const uint8_t *wire, size_t len)
{
	for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
		if (algs[i].wire_len == len && acm_dname_equal(wire, algs[i].wire))
			return (acm_tsig_alg_t)(ACM_TSIG_HMAC_SHA256 + (int)i);
	}
	return 0;
}

/* Strict base64: whitespace is skipped (key files wrap long secrets), '='
 * only as the final one or two characters of the last quantum. */
static int b64_decode(const char *in, uint8_t *out, size_t outcap, size_t *outlen)
{
	char clean[4 * (ACM_TSIG_SECRET_MAX / 3 + 1) + 1];
	size_t n = 0, pad = 0;

	for (const char *p = in; *p; p++) {
		if (isspace((unsigned char)*p))
			continue;
		if (n + 1 >= sizeof(clean))
			return ACM_EBADVALUE;
		clean[n++] = *p;
	}
	clean[n] = '\0';
	if (n == 0 || n % 4 != 0)
		return ACM_EBADVALUE;
	while (pad < 2 && clean[n - 1 - pad] == '=')
		pad++;
	if (memchr(clean, '=', n - pad))
		return ACM_EBADVALUE;

	unsigned char tmp[sizeof(clean) / 4 * 3];
	int got = EVP_DecodeBlock(tmp, (const unsigned char *)clean, (int)n);

	if (got < 0 || (size_t)got < pad || (size_t)got - pad > outcap) {
		OPENSSL_cleanse(tmp, sizeof(tmp));
		return ACM_EBADVALUE;
	}
	/* EVP_DecodeBlock counts the padding as decoded zero bytes. */
	*outlen = (size_t)got - pad;
	memcpy(out, tmp, *outlen);
	OPENSSL_cleanse(tmp, sizeof(tmp));
	return ACM_OK;
}

int acm_tsig_secret_from_b64(const char *b64, uint8_t *out, size_t *len)
{
	if (!b64 || b64_decode(b64, out, ACM_TSIG_SECRET_MAX, len) != ACM_OK || *len == 0)
		return ACM_EBADVALUE;
	return ACM_OK;
}

static int key_name(const char *name, acm_tsig_key_t *out)
{
	int n = name ? acm_dname_from_text(name, out->name) : ACM_EBADNAME;

	if (n < 0)
		return ACM_EBADNAME;
	acm_dname_lower(out->name);
	out->name_len = (size_t)n;
	return ACM_OK;
}

int acm_tsig_key_from_text(const char *name, const char *alg, const char *secret_b64,
                           acm_tsig_key_t *out)
{
	acm_tsig_key_t k;
	int rc;

	memset(&k, 0, sizeof(k));
	if ((rc = key_name(name, &k)) != ACM_OK)
		return rc;
	if (acm_tsig_alg_from_text(alg, &k.alg) != ACM_OK ||
	    acm_tsig_secret_from_b64(secret_b64, k.secret, &k.secret_len) != ACM_OK) {
		OPENSSL_cleanse(&k, sizeof(k));
		return ACM_EBADVALUE;
	}
	*out = k;
	OPENSSL_cleanse(&k, sizeof(k));
	return ACM_OK;
}

void acm_tsig_secret_to_b64(const acm_tsig_key_t *key, char *out, size_t outlen)
{
	char buf[4 * ((ACM_TSIG_SECRET_MAX + 2) / 3) + 1];
	size_t len = key->secret_len <= ACM_TSIG_SECRET_MAX ? key->secret_len : 0;
	int n = EVP_EncodeBlock((unsigned char *)buf, key->secret, (int)len);

	if (outlen == 0)
		return;
	/* Never hand back a truncated secret: that would be a different key. */
	if (n < 0 || (size_t)n >= outlen)
		n = 0;
	memcpy(out, buf, (size_t)n);
	out[n] = '\0';
	OPENSSL_cleanse(buf, sizeof(buf));
}

int acm_tsig_key_generate(const char *name, acm_tsig_alg_t alg, acm_tsig_key_t *out)
{
	const struct alg_info *a = alg_get(alg);
	acm_tsig_key_t k;
	int rc;

	if (!a)
		return ACM_EBADVALUE;
	memset(&k, 0, sizeof(k));
	if ((rc = key_name(name, &k)) != ACM_OK)
		return rc;
	k.alg = alg;
	k.secret_len = a->mac_len;
	if (RAND_bytes(k.secret, (int)k.secret_len) != 1) {
		OPENSSL_cleanse(&k, sizeof(k));
		return ACM_ECRYPTO;
	}
	*out = k;
	OPENSSL_cleanse(&k, sizeof(k));
	return ACM_OK;
}

/* An uncompressed name inside the RDATA (RFC 8945 4.2: the algorithm name
 * is never compressed): a name that took a pointer consumed fewer bytes
 * than its wire length. */
static int rdata_name(const uint8_t *msg, size_t end, size_t *pos, uint8_t *out)
{
	size_t start = *pos;
	int n = acm_dname_parse(msg, end, pos, out);

	if (n < 0 || *pos - start != (size_t)n)
		return ACM_EMALF;
	return n;
}

static int parse_rdata(const uint8_t *msg, size_t len, size_t pos, acm_tsig_rr_t *out)
{
	uint8_t alg[ACM_DNAME_MAX];
	int n = rdata_name(msg, len, &pos, alg);
	acm_wire_t w;

	if (n < 0)
		return ACM_EMALF;
	out->alg = alg_from_wire(alg, (size_t)n);
	w = acm_wire_reader(msg, len);
	w.pos = pos;
	out->time_signed = (uint64_t)acm_wire_read_u16(&w) << 32;
	out->time_signed |= acm_wire_read_u32(&w);
	out->fudge = acm_wire_read_u16(&w);
	out->mac_len = acm_wire_read_u16(&w);
	out->mac = msg + w.pos;
	acm_wire_skip(&w, out->mac_len);
	out->orig_id = acm_wire_read_u16(&w);
	out->error = acm_wire_read_u16(&w);
	out->other_len = acm_wire_read_u16(&w);
	out->other = msg + w.pos;
	acm_wire_skip(&w, out->other_len);
	/* The RDATA must be used up exactly: len is its end. */
	if (w.err || w.pos != len)
		return ACM_EMALF;
	return ACM_OK;
}

int acm_tsig_parse(const uint8_t *msg, size_t len, size_t rr_offset, acm_tsig_rr_t *out)
{
	acm_tsig_rr_t t;
	acm_rr_t rr;

	if (len < ACM_DNS_HEADER || rr_offset < ACM_DNS_HEADER || rr_offset >= len)
		return ACM_EMALF;
	acm_wire_t w = acm_wire_reader(msg, len);
	w.pos = rr_offset;
	if (acm_rr_read(&w, &rr) != ACM_OK)
		return ACM_EMALF;
	if (rr.type != ACM_RRTYPE_TSIG)
		return ACM_ENOTFOUND;
	/* Nothing may follow the TSIG RR: it would not be covered by the MAC. */
	if (rr.rclass != ACM_CLASS_ANY || w.pos != len)
		return ACM_EMALF;
	memset(&t, 0, sizeof(t));
	t.rr_offset = rr_offset;
	memcpy(t.key_name, rr.owner, rr.owner_len);
	t.key_name_len = rr.owner_len;
	acm_dname_lower(t.key_name);
	if (parse_rdata(msg, len, rr.rdata_off, &t) != ACM_OK)
		return ACM_EMALF;
	*out = t;
	return ACM_OK;
}

/* HMAC over a sequence of pieces; any OpenSSL failure sticks until final. */
typedef struct {
	EVP_MAC_CTX *ctx;
	int err;
} hmac_t;

/* Fetching an algorithm searches OpenSSL's providers under a lock: done
 * once per process, not per message. Kept until exit. */
static EVP_MAC *hmac_alg;
static pthread_once_t hmac_once = PTHREAD_ONCE_INIT;

static void hmac_fetch(void)
{
	hmac_alg = EVP_MAC_fetch(NULL, "HMAC", NULL);
}

static void hmac_init(hmac_t *h, const acm_tsig_key_t *key, const struct alg_info *a)
{
	OSSL_PARAM params[2];

	h->ctx = NULL;
	h->err = ACM_ECRYPTO;
	pthread_once(&hmac_once, hmac_fetch);
	if (!hmac_alg || !(h->ctx = EVP_MAC_CTX_new(hmac_alg)))
		return;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	                                             (char *)a->digest, 0);
	params[1] = OSSL_PARAM_construct_end();
	if (EVP_MAC_init(h->ctx, key->secret, key->secret_len, params) == 1)
		h->err = ACM_OK;
}

static void hmac_update(hmac_t *h, const void *data, size_t len)
{
	if (h->err == ACM_OK && len > 0 && EVP_MAC_update(h->ctx, data, len) != 1)
		h->err = ACM_ECRYPTO;
}

static void hmac_u16(hmac_t *h, uint16_t v)
{
	uint8_t b[2];

	acm_put_u16(b, v);
	hmac_update(h, b, sizeof(b));
}

static int hmac_final(hmac_t *h, uint8_t *out, size_t want)
{
	size_t got = 0;
	int rc = h->err;

	if (rc == ACM_OK && (EVP_MAC_final(h->ctx, out, &got, ACM_TSIG_MAC_MAX) != 1 ||
	                     got != want))
		rc = ACM_ECRYPTO;
	EVP_MAC_CTX_free(h->ctx);
	return rc;
}

/* The TSIG variables of RFC 8945 4.3.3, or only the timers for the later
 * messages of a multi-message response (5.3.1). */
typedef struct {
	const acm_tsig_key_t *key;
	const struct alg_info *alg;
	uint64_t time_signed;
	uint16_t fudge;
	uint16_t error;
	const uint8_t *other;
	uint16_t other_len;
	bool timers_only;
} tsig_vars_t;

static void digest_vars(hmac_t *h, const tsig_vars_t *v)
{
	uint8_t timers[8];

	acm_put_u16(timers, (uint16_t)(v->time_signed >> 32));
	acm_put_u32(timers + 2, (uint32_t)v->time_signed);
	acm_put_u16(timers + 6, v->fudge);
	if (v->timers_only) {
		hmac_update(h, timers, sizeof(timers));
		return;
	}
	hmac_update(h, v->key->name, v->key->name_len);
	hmac_u16(h, ACM_CLASS_ANY);
	hmac_u16(h, 0);         /* TTL, 32 bits of zero */
	hmac_u16(h, 0);
	hmac_update(h, v->alg->wire, v->alg->wire_len);
	hmac_update(h, timers, sizeof(timers));
	hmac_u16(h, v->error);
	hmac_u16(h, v->other_len);
	hmac_update(h, v->other, v->other_len);
}

static void digest_prior(hmac_t *h, const uint8_t *prior, size_t prior_len)
{
	if (prior && prior_len > 0) {
		hmac_u16(h, (uint16_t)prior_len);
		hmac_update(h, prior, prior_len);
	}
}

int acm_tsig_verify_chained(const uint8_t *msg, size_t len, const acm_tsig_rr_t *t,
                            const acm_tsig_key_t *key, const uint8_t *prior_mac,
                            size_t prior_len, bool continuation, uint64_t now)
{
	const struct alg_info *a = key ? alg_get(key->alg) : NULL;
	uint8_t mac[ACM_TSIG_MAC_MAX];
	hmac_t h;

	if (!a || key->alg != t->alg || key->name_len != t->key_name_len ||
	    memcmp(key->name, t->key_name, key->name_len) != 0)
		return ACM_TSIG_BADKEY;
	/* Truncated MACs (RFC 8945 5.2.2.3) are not accepted: full length only. */
	if (t->mac_len != a->mac_len || t->rr_offset > len || t->rr_offset < ACM_DNS_HEADER)
		return ACM_TSIG_BADSIG;
	uint16_t arcount = acm_get_u16(msg + ACM_DNS_ARCOUNT_OFF);

	if (arcount == 0)
		return ACM_TSIG_BADSIG;

	tsig_vars_t v = { key, a, t->time_signed, t->fudge, t->error, t->other,
	                  t->other_len, continuation };

	hmac_init(&h, key, a);
	digest_prior(&h, prior_mac, prior_len);
	/* The message as it was before it was signed: the original ID, one
	 * additional record less, and no TSIG RR. */
	hmac_u16(&h, t->orig_id);
	hmac_update(&h, msg + 2, ACM_DNS_ARCOUNT_OFF - 2);
	hmac_u16(&h, (uint16_t)(arcount - 1));
	hmac_update(&h, msg + ACM_DNS_HEADER, t->rr_offset - ACM_DNS_HEADER);
	digest_vars(&h, &v);
	if (hmac_final(&h, mac, a->mac_len) != ACM_OK ||
	    CRYPTO_memcmp(mac, t->mac, a->mac_len) != 0)
		return ACM_TSIG_BADSIG;
	if (now + t->fudge < t->time_signed || now > t->time_signed + t->fudge)
		return ACM_TSIG_BADTIME;
	return ACM_TSIG_OK;
}

int acm_tsig_verify(const uint8_t *msg, size_t len, const acm_tsig_rr_t *t,
                    const acm_tsig_key_t *key, uint64_t now)
{
	return acm_tsig_verify_chained(msg, len, t, key, NULL, 0, false, now);
}

static void write_rr(acm_wire_t *w, const tsig_vars_t *v, const uint8_t *mac, size_t mac_len,
                     uint16_t orig_id)
{
	size_t rdlen = v->alg->wire_len + 10 + mac_len + 6 + v->other_len;

	acm_wire_write(w, v->key->name, v->key->name_len);
	acm_wire_write_u16(w, ACM_RRTYPE_TSIG);
	acm_wire_write_u16(w, ACM_CLASS_ANY);
	acm_wire_write_u32(w, 0);
	acm_wire_write_u16(w, (uint16_t)rdlen);
	acm_wire_write(w, v->alg->wire, v->alg->wire_len);
	acm_wire_write_u16(w, (uint16_t)(v->time_signed >> 32));
	acm_wire_write_u32(w, (uint32_t)v->time_signed);
	acm_wire_write_u16(w, v->fudge);
	acm_wire_write_u16(w, (uint16_t)mac_len);
	acm_wire_write(w, mac, mac_len);
	acm_wire_write_u16(w, orig_id);
	acm_wire_write_u16(w, v->error);
	acm_wire_write_u16(w, v->other_len);
	if (v->other_len > 0)
		acm_wire_write(w, v->other, v->other_len);
}

int acm_tsig_sign(uint8_t *msg, size_t len, size_t cap, const acm_tsig_key_t *key,
                  const uint8_t *prior_mac, size_t prior_len, bool continuation,
                  uint64_t now, uint16_t orig_id, uint16_t error, uint8_t *mac_out,
                  size_t *mac_len)
{
	const struct alg_info *a = key ? alg_get(key->alg) : NULL;
	uint8_t mac[ACM_TSIG_MAC_MAX], other[6];
	size_t maclen = 0;
	/* BADSIG and BADKEY answers are unsigned: the peer's key is not trusted. */
	bool unsigned_error = error == ACM_TSIG_BADSIG || error == ACM_TSIG_BADKEY;
	tsig_vars_t v = { key, a, now & TIME_MAX, ACM_TSIG_FUDGE, error, NULL, 0,
	                  continuation };
	acm_wire_t w;
	hmac_t h;

	if (!a || len < ACM_DNS_HEADER || len > cap || (prior_len > 0 && !prior_mac) ||
	    prior_len > ACM_TSIG_MAC_MAX)
		return ACM_EBADVALUE;
	if (error == ACM_TSIG_BADTIME) {
		acm_put_u16(other, (uint16_t)(v.time_signed >> 32));
		acm_put_u32(other + 2, (uint32_t)v.time_signed);
		v.other = other;
		v.other_len = sizeof(other);
	}
	if (!unsigned_error) {
		hmac_init(&h, key, a);
		digest_prior(&h, prior_mac, prior_len);
		hmac_u16(&h, orig_id);
		hmac_update(&h, msg + 2, len - 2);
		digest_vars(&h, &v);
		if (hmac_final(&h, mac, a->mac_len) != ACM_OK)
			return ACM_ECRYPTO;
		maclen = a->mac_len;
	}
	w = acm_wire_init(msg, cap);
	w.pos = len;
	write_rr(&w, &v, mac, maclen, orig_id);
	if (w.err)
		return ACM_ESPACE;
	acm_put_u16(msg + ACM_DNS_ARCOUNT_OFF, (uint16_t)(acm_get_u16(msg + ACM_DNS_ARCOUNT_OFF) + 1));
	if (mac_out)
		memcpy(mac_out, mac, maclen);
	if (mac_len)
		*mac_len = maclen;
	return (int)w.pos;
}

int acm_tsig_request_check(const uint8_t *msg, size_t len, size_t rr_offset, uint64_t now,
                           acm_tsig_lookup_fn lookup, void *ctx, acm_tsig_request_t *out)
{
	acm_tsig_rr_t t;
	memset(out, 0, sizeof(*out));
	if (acm_tsig_parse(msg, len, rr_offset, &t) != ACM_OK || t.mac_len > ACM_TSIG_MAC_MAX)
		return ACM_EMALF;
	int rc = lookup ? lookup(ctx, t.key_name, t.key_name_len, &out->key) : ACM_ENOTFOUND;
	out->error = acm_tsig_verify(msg, len, &t, rc == ACM_OK ? &out->key : NULL, now);
	out->orig_id = t.orig_id;
	memcpy(out->mac, t.mac, t.mac_len);
	out->mac_len = t.mac_len;
	if (out->error == ACM_TSIG_BADKEY) {
		/* Name the key the request named, with its algorithm: the
		 * answer is unsigned, so no secret is needed. */
		OPENSSL_cleanse(&out->key, sizeof(out->key));
		memcpy(out->key.name, t.key_name, t.key_name_len);
		out->key.name_len = t.key_name_len;
		out->key.alg = t.alg;
	}
	return rc == ACM_OK || rc == ACM_ENOTFOUND ? ACM_OK : rc;
}

size_t acm_tsig_answer_sign(const acm_tsig_request_t *req, uint8_t *msg, size_t len, size_t cap,
                            uint64_t now)
{
	int n = acm_tsig_sign(msg, len, cap, &req->key, req->mac, req->mac_len, false, now,
	                      req->orig_id, (uint16_t)req->error, NULL, NULL);
	return n > 0 ? (size_t)n : len;
}
