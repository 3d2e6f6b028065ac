/* SPDX-License-Identifier: ISC */
/*
 * The account record's binary form (lib/store/account_bin.c): round trips,
 * every truncation and every malformed field refused, versions, and the
 * JSON form of older stores still read.
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
#include "lib/store/account.h"

/* An account that fills every field to its limit. */
static void full_account(acm_account_t *a)
{
	memset(a, 0, sizeof(*a));
	strcpy(a->subdomain, "sub");
	memset(a->username, 'u', ACM_USERNAME_MAX);
	a->key_scheme = ACM_KEY_BCRYPT;
	memset(a->key_hash, 'h', ACM_KEYHASH_MAX);
	a->allowfrom_count = ACM_ALLOWFROM_MAX;
	for (size_t i = 0; i < ACM_ALLOWFROM_MAX; i++)
		memset(a->allowfrom[i], (int)('a' + i), ACM_CIDR_MAX);
	a->created = INT64_MAX;
	a->updated = 1767225600;
	a->flags = UINT32_MAX;
	a->tsig_alg = ACM_TSIG_HMAC_SHA512;
	a->tsig_secret_len = ACM_TSIG_SECRET_MAX;
	for (size_t i = 0; i < ACM_TSIG_SECRET_MAX; i++)
		a->tsig_secret[i] = (uint8_t)(i * 7);
}

/* A small account, as most are: SHA-256 key, one allowfrom, no TSIG. */
static void small_account(acm_account_t *a)
{
	memset(a, 0, sizeof(*a));
	strcpy(a->subdomain, "sub");
	strcpy(a->username, "0b6a1a4e-9b3c-4b8e-a9c3-2f1e4d5c6b7a");
	a->key_scheme = ACM_KEY_SHA256;
	memset(a->key_hash, 'f', 64);
	a->allowfrom_count = 1;
	strcpy(a->allowfrom[0], "192.0.2.0/24");
	a->created = 1;
	a->updated = 2;
}

static void assert_same(const acm_account_t *a, const acm_account_t *b)
{
	assert_memory_equal(a, b, sizeof(*a));
}

static size_t encode(const acm_account_t *a, uint8_t *rec)
{
	size_t len = 0;
	assert_int_equal(acm_account_encode(a, rec, ACM_ACCOUNT_REC_MAX, &len), ACM_OK);
	assert_true(len > 0 && len <= ACM_ACCOUNT_REC_MAX);
	assert_int_equal(rec[0], ACM_ACCOUNT_REC_V1);
	return len;
}

static void test_round_trip(void **state)
{
	acm_account_t a, b;
	uint8_t rec[ACM_ACCOUNT_REC_MAX];
	size_t len;

	(void)state;
	full_account(&a);
	len = encode(&a, rec);
	assert_int_equal(len, ACM_ACCOUNT_REC_MAX);
	assert_true(acm_account_rec_is_bin(rec, len));
	assert_int_equal(acm_account_decode(rec, len, "sub", &b), ACM_OK);
	assert_same(&a, &b);

	small_account(&a);
	len = encode(&a, rec);
	assert_int_equal(acm_account_decode(rec, len, "sub", &b), ACM_OK);
	assert_same(&a, &b);
}

static void test_small_buffer(void **state)
{
	acm_account_t a;
	uint8_t rec[ACM_ACCOUNT_REC_MAX];
	size_t len, need;

	(void)state;
	small_account(&a);
	need = encode(&a, rec);
	assert_int_equal(acm_account_encode(&a, rec, need - 1, &len), ACM_ESPACE);
	assert_int_equal(acm_account_encode(&a, rec, need, &len), ACM_OK);
	assert_int_equal(len, need);
}

/* Every proper prefix is refused, and so is a byte too many. */
static void test_truncated(void **state)
{
	acm_account_t a, b;
	uint8_t rec[ACM_ACCOUNT_REC_MAX + 1];

	(void)state;
	for (int which = 0; which < 2; which++) {
		if (which)
			full_account(&a);
		else
			small_account(&a);
		size_t len = encode(&a, rec);
		for (size_t n = 0; n < len; n++)
			assert_int_equal(acm_account_decode(rec, n, "sub", &b), ACM_ECORRUPT);
		rec[len] = 0;
		assert_int_equal(acm_account_decode(rec, len + 1, "sub", &b), ACM_ECORRUPT);
	}
}

static void test_bad_version(void **state)
{
	acm_account_t a, b;
	uint8_t rec[ACM_ACCOUNT_REC_MAX];
	static const uint8_t versions[] = { 0x80, 0x82, 0xff, 0x00, 0x01 };

	(void)state;
	small_account(&a);
	size_t len = encode(&a, rec);
	for (size_t i = 0; i < sizeof(versions); i++) {
		rec[0] = versions[i];
		assert_false(acm_account_rec_is_bin(rec, len));
		assert_int_equal(acm_account_decode(rec, len, "sub", &b), ACM_ECORRUPT);
		assert_int_equal(acm_account_decode_bin(rec, len, &b), ACM_ECORRUPT);
	}
}

/* Offsets in the small account's record (see account_bin.c). */
#define AT_USER 2                          /* the username's bytes */
#define AT_SCHEME (AT_USER + 36)
#define AT_HASH_LEN (AT_SCHEME + 4)
#define AT_ALLOW_COUNT (AT_HASH_LEN + 1 + 64)
#define AT_CREATED (AT_ALLOW_COUNT + 1 + 1 + 12)
#define AT_TSIG (AT_CREATED + 8 + 8 + 4)

static int decode_patched(size_t off, const void *bytes, size_t n)
{
	acm_account_t a, b;
	uint8_t rec[ACM_ACCOUNT_REC_MAX];

	small_account(&a);
	size_t len = encode(&a, rec);
	assert_true(off + n <= len);
	memcpy(rec + off, bytes, n);
	return acm_account_decode(rec, len, "sub", &b);
}

static void test_bad_fields(void **state)
{
	static const struct {
		size_t off;
		const char *bytes;
		size_t n;
	} bad[] = {
		{ AT_USER, "\0", 1 },                        /* NUL in a string */
		{ AT_USER, "\xc0\xaf", 2 },                  /* overlong UTF-8 */
		{ AT_USER, "\xed\xa0\x80", 3 },              /* a surrogate */
		{ AT_USER, "\xf4\x90\x80\x80", 4 },          /* past U+10FFFF */
		{ AT_USER + 35, "\xe2", 1 },                 /* a sequence cut short */
		{ AT_USER - 1, "\xff", 1 },                  /* a length past the end */
		{ AT_SCHEME, "\x80\0\0\0", 4 },              /* scheme over INT32_MAX */
		{ AT_HASH_LEN, "\x81", 1 },                  /* hash longer than the record */
		{ AT_ALLOW_COUNT, "\x11", 1 },               /* 17 allowfrom entries */
		{ AT_CREATED, "\x80\0\0\0\0\0\0\0", 8 },     /* created over INT64_MAX */
		{ AT_CREATED + 8, "\xff\0\0\0\0\0\0\0", 8 }, /* updated over INT64_MAX */
		{ AT_TSIG, "\x04", 1 },                      /* no such TSIG algorithm */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(decode_patched(bad[i].off, bad[i].bytes, bad[i].n), ACM_ECORRUPT);
	/* Multi-byte UTF-8 that is well formed is text like any other. */
	assert_int_equal(decode_patched(AT_USER, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9), ACM_OK);
}

static void test_bad_tsig(void **state)
{
	acm_account_t a, b;
	uint8_t rec[ACM_ACCOUNT_REC_MAX];

	(void)state;
	small_account(&a);
	a.tsig_alg = ACM_TSIG_HMAC_SHA256;
	a.tsig_secret_len = 32;
	size_t len = encode(&a, rec);
	assert_int_equal(acm_account_decode(rec, len, "sub", &b), ACM_OK);
	assert_same(&a, &b);
	rec[AT_TSIG + 1] = 0;             /* an empty secret */
	assert_int_equal(acm_account_decode(rec, len, "sub", &b), ACM_ECORRUPT);
	rec[AT_TSIG + 1] = 129;           /* a secret too long */
	assert_int_equal(acm_account_decode(rec, len, "sub", &b), ACM_ECORRUPT);
}

/* A record as stores wrote them before the binary form decodes as it did,
 * and the same account encoded again is binary. */
static void test_old_json(void **state)
{
	acm_account_t a, b;
	uint8_t rec[ACM_ACCOUNT_REC_MAX];
	char *text;

	(void)state;
	small_account(&a);
	a.tsig_alg = ACM_TSIG_HMAC_SHA384;
	a.tsig_secret_len = 48;
	memset(a.tsig_secret, 0x5a, 48);
	assert_int_equal(acm_account_encode_json(&a, &text), ACM_OK);
	assert_int_equal(text[0], '{');
	assert_false(acm_account_rec_is_bin(text, strlen(text)));
	assert_int_equal(acm_account_decode(text, strlen(text), "sub", &b), ACM_OK);
	free(text);
	assert_same(&a, &b);
	size_t len = encode(&b, rec);
	assert_int_equal(acm_account_decode(rec, len, "sub", &a), ACM_OK);
	assert_same(&a, &b);
	assert_int_equal(acm_account_decode(" {}", 3, "sub", &b), ACM_ECORRUPT);
	assert_int_equal(acm_account_decode("", 0, "sub", &b), ACM_ECORRUPT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_small_buffer),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_bad_version),
		cmocka_unit_test(test_bad_fields),
		cmocka_unit_test(test_bad_tsig),
		cmocka_unit_test(test_old_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
