/* SPDX-License-Identifier: ISC */
/*
 * TSIG: messages signed by dnspython (tsig_vectors.h) verify, tampering is
 * caught with the right TSIG error, our own signatures verify (alone and
 * chained), and malformed TSIG RRs are rejected without reading past the
 * message. With ACMENS_TSIG_DUMP=FILE the messages we sign are written
 * there as hex for tests/integration/test_tsig_interop.py to check with
 * dnspython.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/error.h"
#include "lib/dns/tsig.h"
#include "lib/dns/wire.h"
#include "tests/unit/tsig_vectors.h"

struct vec {
	acm_tsig_alg_t alg;
	const uint8_t *secret;
	size_t secret_len;
	const uint8_t *query, *resp1, *resp2;
	size_t query_len, resp1_len, resp2_len;
	size_t query_off, resp1_off, resp2_off;
};

#define VEC(a, t, T) { a, secret_##t, sizeof(secret_##t), \
	query_##t, resp1_##t, resp2_##t, \
	sizeof(query_##t), sizeof(resp1_##t), sizeof(resp2_##t), \
	QUERY_##T##_OFF, RESP1_##T##_OFF, RESP2_##T##_OFF }

static const struct vec vecs[] = {
	VEC(ACM_TSIG_HMAC_SHA256, sha256, SHA256),
	VEC(ACM_TSIG_HMAC_SHA384, sha384, SHA384),
	VEC(ACM_TSIG_HMAC_SHA512, sha512, SHA512),
};
#define NVECS (sizeof(vecs) / sizeof(vecs[0]))

static acm_tsig_key_t vec_key(const struct vec *v)
{
	acm_tsig_key_t k;

	memset(&k, 0, sizeof(k));
	k.name_len = (size_t)acm_dname_from_text(VEC_KEY, k.name);
	k.alg = v->alg;
	memcpy(k.secret, v->secret, v->secret_len);
	k.secret_len = v->secret_len;
	return k;
}

static acm_tsig_rr_t parsed(const uint8_t *msg, size_t len, size_t off)
{
	acm_tsig_rr_t t;

	assert_int_equal(acm_tsig_parse(msg, len, off, &t), ACM_OK);
	return t;
}

static void test_dnspython_verifies(void **state)
{
	(void)state;
	for (size_t i = 0; i < NVECS; i++) {
		const struct vec *v = &vecs[i];
		acm_tsig_key_t k = vec_key(v);
		acm_tsig_rr_t q = parsed(v->query, v->query_len, v->query_off);
		acm_tsig_rr_t r1 = parsed(v->resp1, v->resp1_len, v->resp1_off);
		acm_tsig_rr_t r2 = parsed(v->resp2, v->resp2_len, v->resp2_off);

		assert_int_equal(q.alg, v->alg);
		assert_int_equal(q.key_name_len, k.name_len);
		assert_memory_equal(q.key_name, k.name, k.name_len);
		assert_int_equal(q.time_signed, VEC_TIME);
		assert_int_equal(q.fudge, 300);
		assert_int_equal(q.orig_id, 0x1234);
		assert_int_equal(acm_tsig_verify(v->query, v->query_len, &q, &k, VEC_TIME), ACM_TSIG_OK);
		assert_int_equal(acm_tsig_verify_chained(v->resp1, v->resp1_len, &r1, &k, q.mac,
		                                         q.mac_len, false, VEC_TIME), ACM_TSIG_OK);
		assert_int_equal(acm_tsig_verify_chained(v->resp2, v->resp2_len, &r2, &k, r1.mac,
		                                         r1.mac_len, true, VEC_TIME), ACM_TSIG_OK);
		/* Chained out of order, or without the prior MAC, does not verify. */
		assert_int_equal(acm_tsig_verify_chained(v->resp2, v->resp2_len, &r2, &k, q.mac,
		                                         q.mac_len, true, VEC_TIME), ACM_TSIG_BADSIG);
		assert_int_equal(acm_tsig_verify(v->resp1, v->resp1_len, &r1, &k, VEC_TIME),
		                 ACM_TSIG_BADSIG);
	}
}

static void test_modified_byte_badsig(void **state)
{
	(void)state;
	for (size_t i = 0; i < NVECS; i++) {
		const struct vec *v = &vecs[i];
		acm_tsig_key_t k = vec_key(v);
		uint8_t msg[512];

		/* Every byte from the flags on, one at a time. */
		for (size_t at = 2; at < v->query_len; at++) {
			memcpy(msg, v->query, v->query_len);
			msg[at] ^= 0x01;
			acm_tsig_rr_t t;
			int rc = acm_tsig_parse(msg, v->query_len, v->query_off, &t);

			/* ARCOUNT and the TSIG RR's TTL are not digested (the
			 * variables always carry TTL 0). */
			size_t ttl = v->query_off + 11 + 4;

			if (rc != ACM_OK || at == 10 || at == 11 || (at >= ttl && at < ttl + 4))
				continue;
			int e = acm_tsig_verify(msg, v->query_len, &t, &k, VEC_TIME);

			/* A changed key or algorithm name is BADKEY, anything else BADSIG.
			 * The key name's compression pointer leads into the question's
			 * "example" (offset 30), so bytes from there on may be either. */
			assert_true(e == ACM_TSIG_BADSIG || e == ACM_TSIG_BADKEY);
			if (at < 30)
				assert_int_equal(e, ACM_TSIG_BADSIG);
		}
		k.secret[0] ^= 1;
		acm_tsig_rr_t t = parsed(v->query, v->query_len, v->query_off);
		assert_int_equal(acm_tsig_verify(v->query, v->query_len, &t, &k, VEC_TIME),
		                 ACM_TSIG_BADSIG);
	}
}

static void test_wrong_key_badkey(void **state)
{
	const struct vec *v = &vecs[0];
	acm_tsig_rr_t t = parsed(v->query, v->query_len, v->query_off);
	acm_tsig_key_t k = vec_key(v);

	(void)state;
	assert_int_equal(acm_tsig_verify(v->query, v->query_len, &t, NULL, VEC_TIME),
	                 ACM_TSIG_BADKEY);
	k.alg = ACM_TSIG_HMAC_SHA512;
	assert_int_equal(acm_tsig_verify(v->query, v->query_len, &t, &k, VEC_TIME),
	                 ACM_TSIG_BADKEY);
	k = vec_key(v);
	k.name_len = (size_t)acm_dname_from_text("other.example.", k.name);
	assert_int_equal(acm_tsig_verify(v->query, v->query_len, &t, &k, VEC_TIME),
	                 ACM_TSIG_BADKEY);
}

static void test_time_outside_fudge(void **state)
{
	(void)state;
	for (size_t i = 0; i < NVECS; i++) {
		const struct vec *v = &vecs[i];
		acm_tsig_rr_t t = parsed(v->query, v->query_len, v->query_off);
		acm_tsig_key_t k = vec_key(v);

		assert_int_equal(acm_tsig_verify(v->query, v->query_len, &t, &k, VEC_TIME + 300),
		                 ACM_TSIG_OK);
		assert_int_equal(acm_tsig_verify(v->query, v->query_len, &t, &k, VEC_TIME - 300),
		                 ACM_TSIG_OK);
		assert_int_equal(acm_tsig_verify(v->query, v->query_len, &t, &k, VEC_TIME + 301),
		                 ACM_TSIG_BADTIME);
		assert_int_equal(acm_tsig_verify(v->query, v->query_len, &t, &k, VEC_TIME - 301),
		                 ACM_TSIG_BADTIME);
		assert_int_equal(acm_tsig_verify(v->query, v->query_len, &t, &k, 0),
		                 ACM_TSIG_BADTIME);
		/* The MAC is checked first: a bad MAC at a bad time is BADSIG. */
		k.secret[1] ^= 1;
		assert_int_equal(acm_tsig_verify(v->query, v->query_len, &t, &k, 0),
		                 ACM_TSIG_BADSIG);
	}
}

/* A dnspython query with its MAC cut to 16 bytes (RDLENGTH fixed up):
 * truncated MACs are refused. */
static void test_truncated_mac_badsig(void **state)
{
	const struct vec *v = &vecs[0];
	acm_tsig_key_t k = vec_key(v);
	acm_tsig_rr_t t = parsed(v->query, v->query_len, v->query_off);
	size_t mac_at = (size_t)(t.mac - v->query), cut = 16;
	uint8_t msg[512];
	size_t len = v->query_len - cut;

	(void)state;
	memcpy(msg, v->query, mac_at + t.mac_len - cut);
	memcpy(msg + mac_at + t.mac_len - cut, v->query + mac_at + t.mac_len,
	       v->query_len - mac_at - t.mac_len);
	acm_put_u16(msg + mac_at - 2, (uint16_t)(t.mac_len - cut));
	size_t rdlen_at = mac_at - 2 - 2 - 6 - 13 - 2;

	acm_put_u16(msg + rdlen_at, (uint16_t)(acm_get_u16(msg + rdlen_at) - cut));
	t = parsed(msg, len, v->query_off);
	assert_int_equal(t.mac_len, 16);
	assert_int_equal(acm_tsig_verify(msg, len, &t, &k, VEC_TIME), ACM_TSIG_BADSIG);
}

/* A query for _acme-challenge.x.example. TXT, unsigned. */
static size_t build_query(uint8_t *msg, uint16_t id)
{
	static const uint8_t q[] = "\x0f_acme-challenge\x01x\x07" "example";
	acm_wire_t w = acm_wire_init(msg, 512);

	acm_wire_write_u16(&w, id);
	acm_wire_write_u16(&w, 0x0100);
	acm_wire_write_u16(&w, 1);
	acm_wire_write_u16(&w, 0);
	acm_wire_write_u16(&w, 0);
	acm_wire_write_u16(&w, 0);
	acm_wire_write(&w, q, sizeof(q));
	acm_wire_write_u16(&w, 16);
	acm_wire_write_u16(&w, 1);
	return w.pos;
}

static void hex(FILE *f, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		fprintf(f, "%02x", p[i]);
	if (len == 0)
		fputc('-', f);
}

/* One line: label, key name, algorithm, secret, prior MAC, message. */
static void dump(const char *label, const acm_tsig_key_t *k, const uint8_t *prior,
                 size_t prior_len, const uint8_t *msg, size_t len)
{
	const char *path = getenv("ACMENS_TSIG_DUMP");
	char b64[4 * ACM_TSIG_SECRET_MAX], name[ACM_DNAME_TXT_MAX];
	FILE *f;

	if (!path || !(f = fopen(path, "a")))
		return;
	acm_tsig_secret_to_b64(k, b64, sizeof(b64));
	acm_dname_to_text(k->name, name);
	fprintf(f, "%s %s %s %s ", label, name, acm_tsig_alg_name(k->alg), b64);
	hex(f, prior, prior_len);
	fputc(' ', f);
	hex(f, msg, len);
	fputc('\n', f);
	fclose(f);
}

static void test_round_trip(void **state)
{
	(void)state;
	for (acm_tsig_alg_t alg = ACM_TSIG_HMAC_SHA256; alg <= ACM_TSIG_HMAC_SHA512; alg++) {
		acm_tsig_key_t k;
		uint8_t msg[512], mac[ACM_TSIG_MAC_MAX];
		size_t len = build_query(msg, 0xbeef), maclen = 0;
		int n;

		assert_int_equal(acm_tsig_key_generate("Round.Trip.Example", alg, &k), ACM_OK);
		n = acm_tsig_sign(msg, len, sizeof(msg), &k, NULL, 0, false, VEC_TIME, 0xbeef,
		                  0, mac, &maclen);
		assert_true(n > (int)len);
		assert_int_equal(acm_get_u16(msg + 10), 1);
		dump("query", &k, NULL, 0, msg, (size_t)n);
		acm_tsig_rr_t t = parsed(msg, (size_t)n, len);

		assert_int_equal(t.mac_len, maclen);
		assert_memory_equal(t.mac, mac, maclen);
		assert_int_equal(acm_tsig_verify(msg, (size_t)n, &t, &k, VEC_TIME + 10), ACM_TSIG_OK);
		/* Another ID in the header (a forwarder changed it): still good. */
		acm_put_u16(msg, 0x0001);
		assert_int_equal(acm_tsig_verify(msg, (size_t)n, &t, &k, VEC_TIME), ACM_TSIG_OK);
	}
}

/* A response to dnspython's query, then two more messages chained to it. */
static void test_multi_message(void **state)
{
	(void)state;
	for (size_t i = 0; i < NVECS; i++) {
		const struct vec *v = &vecs[i];
		acm_tsig_key_t k = vec_key(v);
		acm_tsig_rr_t q = parsed(v->query, v->query_len, v->query_off);
		uint8_t prior[ACM_TSIG_MAC_MAX], msg[512];
		size_t prior_len = q.mac_len;

		memcpy(prior, q.mac, q.mac_len);
		for (int m = 0; m < 3; m++) {
			size_t len = build_query(msg, 0x1234), maclen;
			uint8_t mac[ACM_TSIG_MAC_MAX];

			msg[2] |= 0x80;
			msg[len - 3] = (uint8_t)m;      /* each message differs */
			int n = acm_tsig_sign(msg, len, sizeof(msg), &k, prior, prior_len, m > 0,
			                      VEC_TIME, 0x1234, 0, mac, &maclen);
			assert_true(n > 0);
			dump(m == 0 ? "resp" : "cont", &k, prior, prior_len, msg, (size_t)n);
			acm_tsig_rr_t t = parsed(msg, (size_t)n, len);

			assert_int_equal(acm_tsig_verify_chained(msg, (size_t)n, &t, &k, prior,
			                                         prior_len, m > 0, VEC_TIME),
			                 ACM_TSIG_OK);
			assert_int_equal(acm_tsig_verify_chained(msg, (size_t)n, &t, &k, prior,
			                                         prior_len, m == 0, VEC_TIME),
			                 ACM_TSIG_BADSIG);
			memcpy(prior, mac, maclen);
			prior_len = maclen;
		}
	}
}

static void test_error_responses(void **state)
{
	const struct vec *v = &vecs[0];
	acm_tsig_key_t k = vec_key(v);
	acm_tsig_rr_t q = parsed(v->query, v->query_len, v->query_off);
	uint8_t msg[512];
	size_t len, maclen = 99;
	int n;

	(void)state;
	len = build_query(msg, 0x1234);
	n = acm_tsig_sign(msg, len, sizeof(msg), &k, q.mac, q.mac_len, false, VEC_TIME,
	                  0x1234, ACM_TSIG_BADKEY, NULL, &maclen);
	assert_true(n > 0);
	assert_int_equal(maclen, 0);
	acm_tsig_rr_t t = parsed(msg, (size_t)n, len);
	assert_int_equal(t.mac_len, 0);
	assert_int_equal(t.error, ACM_TSIG_BADKEY);

	len = build_query(msg, 0x1234);
	n = acm_tsig_sign(msg, len, sizeof(msg), &k, q.mac, q.mac_len, false, VEC_TIME + 1000,
	                  0x1234, ACM_TSIG_BADTIME, NULL, NULL);
	assert_true(n > 0);
	dump("badtime", &k, q.mac, q.mac_len, msg, (size_t)n);
	t = parsed(msg, (size_t)n, len);
	assert_int_equal(t.error, ACM_TSIG_BADTIME);
	assert_int_equal(t.other_len, 6);
	assert_int_equal(acm_get_u16(t.other) * 0x100000000ULL + acm_get_u32(t.other + 2),
	                 VEC_TIME + 1000);
	assert_int_equal(acm_tsig_verify_chained(msg, (size_t)n, &t, &k, q.mac, q.mac_len,
	                                         false, VEC_TIME + 1000), ACM_TSIG_OK);
}

static void test_sign_no_space(void **state)
{
	acm_tsig_key_t k;
	uint8_t msg[512];
	size_t len = build_query(msg, 7);
	int full;

	(void)state;
	assert_int_equal(acm_tsig_key_generate("k.", ACM_TSIG_HMAC_SHA256, &k), ACM_OK);
	full = acm_tsig_sign(msg, len, sizeof(msg), &k, NULL, 0, false, 1, 7, 0, NULL, NULL);
	assert_true(full > 0);
	for (size_t cap = len; cap < (size_t)full; cap++) {
		len = build_query(msg, 7);
		assert_int_equal(acm_tsig_sign(msg, len, cap, &k, NULL, 0, false, 1, 7, 0, NULL,
		                               NULL), ACM_ESPACE);
		assert_int_equal(acm_get_u16(msg + 10), 0);
	}
	assert_int_equal(acm_tsig_sign(msg, len, sizeof(msg), NULL, NULL, 0, false, 1, 7, 0,
	                               NULL, NULL), ACM_EBADVALUE);
}

/* Every prefix of a signed message, parsed at the TSIG RR's offset, is
 * malformed (each copy is exactly as long as the prefix, so ASan catches
 * any read past it). */
static void test_truncated_rr_malformed(void **state)
{
	(void)state;
	for (size_t i = 0; i < NVECS; i++) {
		const struct vec *v = &vecs[i];

		for (size_t cut = 0; cut < v->query_len; cut++) {
			uint8_t *msg = malloc(cut ? cut : 1);
			acm_tsig_rr_t t;

			memcpy(msg, v->query, cut);
			assert_int_equal(acm_tsig_parse(msg, cut, v->query_off, &t), ACM_EMALF);
			free(msg);
		}
	}
}

static void test_malformed_fields(void **state)
{
	const struct vec *v = &vecs[0];
	/* The owner is "tsig-key" and a pointer: 11 bytes; then type, class,
	 * TTL, and RDLENGTH at rd; the algorithm name starts at rd + 2. */
	size_t off = v->query_off, own = 11, rd = off + own + 8;
	uint8_t msg[512], big[600];
	acm_tsig_rr_t t;

	(void)state;
	memcpy(msg, v->query, v->query_len);
	msg[off + own + 3] = 1;                         /* class IN, not ANY */
	assert_int_equal(acm_tsig_parse(msg, v->query_len, off, &t), ACM_EMALF);
	memcpy(msg, v->query, v->query_len);
	msg[off + own + 1] = 16;                        /* a TXT RR: not a TSIG */
	assert_int_equal(acm_tsig_parse(msg, v->query_len, off, &t), ACM_ENOTFOUND);
	memcpy(msg, v->query, v->query_len);
	acm_put_u16(msg + rd, (uint16_t)(acm_get_u16(msg + rd) - 1));
	assert_int_equal(acm_tsig_parse(msg, v->query_len, off, &t), ACM_EMALF);
	/* Trailing bytes after the TSIG RR. */
	memcpy(big, v->query, v->query_len);
	big[v->query_len] = 0;
	assert_int_equal(acm_tsig_parse(big, v->query_len + 1, off, &t), ACM_EMALF);
	/* MAC size beyond the RDATA. */
	memcpy(msg, v->query, v->query_len);
	acm_put_u16(msg + rd + 2 + 13 + 8, 0xffff);
	assert_int_equal(acm_tsig_parse(msg, v->query_len, off, &t), ACM_EMALF);
	/* An unknown algorithm parses (alg 0) and does not verify. */
	memcpy(msg, v->query, v->query_len);
	msg[rd + 2 + 11] = 'x';                         /* hmac-sha25x */
	t = parsed(msg, v->query_len, off);
	assert_int_equal(t.alg, 0);
	acm_tsig_key_t k = vec_key(v);
	assert_int_equal(acm_tsig_verify(msg, v->query_len, &t, &k, VEC_TIME), ACM_TSIG_BADKEY);
	assert_int_equal(acm_tsig_parse(msg, v->query_len, 5, &t), ACM_EMALF);
	assert_int_equal(acm_tsig_parse(msg, v->query_len, v->query_len, &t), ACM_EMALF);
}

static void test_key_text(void **state)
{
	acm_tsig_key_t k;
	char b64[200];
	acm_tsig_alg_t alg;

	(void)state;
	assert_int_equal(acm_tsig_key_from_text("Key.Example", "HMAC-SHA384.", "YQ==", &k), ACM_OK);
	assert_int_equal(k.alg, ACM_TSIG_HMAC_SHA384);
	assert_int_equal(k.secret_len, 1);
	assert_int_equal(k.secret[0], 'a');
	assert_memory_equal(k.name, "\x03key\x07" "example", 13);
	assert_int_equal(acm_tsig_key_from_text("k", "hmac-sha256", "YWI=", &k), ACM_OK);
	assert_int_equal(k.secret_len, 2);
	assert_int_equal(acm_tsig_key_from_text("k", "hmac-sha256", " YWJj\n YWJj ", &k), ACM_OK);
	assert_int_equal(k.secret_len, 6);
	acm_tsig_secret_to_b64(&k, b64, sizeof(b64));
	assert_string_equal(b64, "YWJjYWJj");
	acm_tsig_secret_to_b64(&k, b64, 8);              /* too small: nothing */
	assert_string_equal(b64, "");

	static const char *bad[] = { "", "YQ=", "Y=Q=", "====", "YQ===", "YW!=", "YWJjY", "=YWJ" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(acm_tsig_key_from_text("k", "hmac-sha256", bad[i], &k),
		                 ACM_EBADVALUE);
	/* 172 base64 digits: 129 bytes is one too many, 128 and 127 fit. */
	char longs[4 * 43 + 1];
	memset(longs, 'A', sizeof(longs) - 1);
	longs[sizeof(longs) - 1] = '\0';
	assert_int_equal(acm_tsig_key_from_text("k", "hmac-sha256", longs, &k), ACM_EBADVALUE);
	longs[sizeof(longs) - 2] = '=';
	assert_int_equal(acm_tsig_key_from_text("k", "hmac-sha256", longs, &k), ACM_OK);
	assert_int_equal(k.secret_len, ACM_TSIG_SECRET_MAX);
	longs[sizeof(longs) - 3] = '=';
	assert_int_equal(acm_tsig_key_from_text("k", "hmac-sha256", longs, &k), ACM_OK);
	assert_int_equal(k.secret_len, ACM_TSIG_SECRET_MAX - 1);
	assert_int_equal(acm_tsig_key_from_text("k", "hmac-md5", "YQ==", &k), ACM_EBADVALUE);
	assert_int_equal(acm_tsig_key_from_text("a..b", "hmac-sha256", "YQ==", &k), ACM_EBADNAME);
	assert_int_equal(acm_tsig_key_from_text(NULL, "hmac-sha256", "YQ==", &k), ACM_EBADNAME);
	assert_int_equal(acm_tsig_alg_from_text("hmac-sha512", &alg), ACM_OK);
	assert_int_equal(alg, ACM_TSIG_HMAC_SHA512);
	assert_int_equal(acm_tsig_alg_from_text("hmac-sha1", &alg), ACM_EBADVALUE);
	assert_string_equal(acm_tsig_alg_name(ACM_TSIG_HMAC_SHA256), "hmac-sha256");
	assert_string_equal(acm_tsig_alg_name(0), "unknown");
}

static void test_generate(void **state)
{
	static const size_t want[] = { 32, 48, 64 };
	acm_tsig_key_t a, b;

	(void)state;
	for (acm_tsig_alg_t alg = ACM_TSIG_HMAC_SHA256; alg <= ACM_TSIG_HMAC_SHA512; alg++) {
		assert_int_equal(acm_tsig_key_generate("g.example.", alg, &a), ACM_OK);
		assert_int_equal(acm_tsig_key_generate("g.example.", alg, &b), ACM_OK);
		assert_int_equal(a.secret_len, want[alg - 1]);
		assert_memory_not_equal(a.secret, b.secret, a.secret_len);
	}
	assert_int_equal(acm_tsig_key_generate("g.example.", 0, &a), ACM_EBADVALUE);
	assert_int_equal(acm_tsig_key_generate("..", ACM_TSIG_HMAC_SHA256, &a), ACM_EBADNAME);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dnspython_verifies),
		cmocka_unit_test(test_modified_byte_badsig),
		cmocka_unit_test(test_wrong_key_badkey),
		cmocka_unit_test(test_time_outside_fudge),
		cmocka_unit_test(test_truncated_mac_badsig),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_multi_message),
		cmocka_unit_test(test_error_responses),
		cmocka_unit_test(test_sign_no_space),
		cmocka_unit_test(test_truncated_rr_malformed),
		cmocka_unit_test(test_malformed_fields),
		cmocka_unit_test(test_key_text),
		cmocka_unit_test(test_generate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
