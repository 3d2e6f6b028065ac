/* SPDX-License-Identifier: ISC */
/*
 * Key checks: SHA-256 accounts, and bcrypt accounts imported from acme-dns
 * against hashes made by another bcrypt implementation (python3-bcrypt);
 * and accounts' TSIG keys: in the record codec, and named after the account.
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
#include "lib/store/keys.h"

/* A 40-character key as acmens and acme-dns hand them out, and its hashes
 * from python3-bcrypt: cost 10 as acme-dns makes them ($2a$), and a cheap
 * $2b$ one. */
static const char key[] = "Xq3-vN8_bT0kLr5zWm2yHs9cPd4fGj7aKe1uQi6o";
static const char hash_2a[] = "$2a$10$R0Y3pS/wQs3vJYVToaLmWOEQkK9fytT274r0eYc5xM19vkblU0P1W";
static const char hash_2b[] = "$2b$04$XCqzGb2TZWNBZkXHKByy1ejGkeHAf6JaX5rRSmEwSoA8jc5AApR16";

static acm_account_t bcrypt_account(const char *hash)
{
	acm_account_t a;

	memset(&a, 0, sizeof(a));
	a.key_scheme = ACM_KEY_BCRYPT;
	strcpy(a.key_hash, hash);
	return a;
}

static void test_bcrypt_verifies(void **state)
{
	acm_account_t a = bcrypt_account(hash_2a), b = bcrypt_account(hash_2b);

	(void)state;
	assert_true(acm_account_key_ok(&a, key, strlen(key)));
	assert_true(acm_account_key_ok(&b, key, strlen(key)));
}

static void test_bcrypt_wrong_key(void **state)
{
	acm_account_t a = bcrypt_account(hash_2b);
	char wrong[sizeof(key)];

	(void)state;
	memcpy(wrong, key, sizeof(key));
	wrong[0] = 'Y';
	assert_false(acm_account_key_ok(&a, wrong, strlen(wrong)));
	assert_false(acm_account_key_ok(&a, key, strlen(key) - 1));
	assert_false(acm_account_key_ok(&a, "", 0));
	/* bcrypt stops at a NUL: a key with one must not match its prefix. */
	assert_false(acm_account_key_ok(&a, key, sizeof(key)));
}

static void test_bcrypt_hash_shape(void **state)
{
	acm_account_t a = bcrypt_account("$1$abcdefgh$0123456789abcdefghijkl");
	char other[sizeof(hash_2b)];

	(void)state;
	assert_true(acm_bcrypt_hash_ok(hash_2a));
	assert_true(acm_bcrypt_hash_ok(hash_2b));
	assert_false(acm_bcrypt_hash_ok("$2x$10$R0Y3pS/wQs3vJYVToaLmWOEQkK9fytT274r0eYc5xM19vkblU0P1W"));
	assert_false(acm_bcrypt_hash_ok("$2a$10$short"));
	assert_false(acm_bcrypt_hash_ok(""));
	/* Another crypt scheme is refused, not handed to crypt(3). */
	assert_false(acm_account_key_ok(&a, key, strlen(key)));
	/* The same hash with one digest character changed. */
	memcpy(other, hash_2b, sizeof(other));
	other[ACM_BCRYPT_LEN - 1] = other[ACM_BCRYPT_LEN - 1] == 'a' ? 'b' : 'a';
	a = bcrypt_account(other);
	assert_false(acm_account_key_ok(&a, key, strlen(key)));
}

static void test_sha256_still_checked(void **state)
{
	acm_account_t a;

	(void)state;
	memset(&a, 0, sizeof(a));
	a.key_scheme = ACM_KEY_SHA256;
	assert_int_equal(acm_key_hash(key, strlen(key), a.key_hash), ACM_OK);
	assert_true(acm_account_key_ok(&a, key, strlen(key)));
	assert_false(acm_account_key_ok(&a, key, strlen(key) - 1));
	/* A SHA-256 hash under the bcrypt scheme, and an unknown scheme. */
	a.key_scheme = ACM_KEY_BCRYPT;
	assert_false(acm_account_key_ok(&a, key, strlen(key)));
	a.key_scheme = 0;
	assert_false(acm_account_key_ok(&a, key, strlen(key)));
}

static const char old_record[] = "{\"username\":\"u\",\"key_scheme\":1,\"key_hash\":\"h\","
	"\"allowfrom\":[],\"created\":1,\"updated\":2,\"flags\":0}";

static void test_account_tsig_codec(void **state)
{
	acm_account_t a, b;
	char *text;

	(void)state;
	/* Records from before TSIG have no key, and encode as they were. */
	assert_int_equal(acm_account_decode(old_record, strlen(old_record), "sub", &a), ACM_OK);
	assert_int_equal(a.tsig_alg, 0);
	assert_int_equal(acm_account_encode_json(&a, &text), ACM_OK);
	assert_string_equal(text, old_record);
	free(text);

	assert_int_equal(acm_account_tsig_new(&a, ACM_TSIG_HMAC_SHA512), ACM_OK);
	assert_int_equal(a.tsig_secret_len, 64);
	assert_int_equal(acm_account_encode_json(&a, &text), ACM_OK);
	assert_non_null(strstr(text, "\"tsig\":{\"algorithm\":\"hmac-sha512\",\"secret\":\""));
	assert_int_equal(acm_account_decode(text, strlen(text), "sub", &b), ACM_OK);
	free(text);
	assert_int_equal(b.tsig_alg, ACM_TSIG_HMAC_SHA512);
	assert_int_equal(b.tsig_secret_len, 64);
	assert_memory_equal(b.tsig_secret, a.tsig_secret, 64);

	static const char *const bad[] = {
		"\"tsig\":1}", "\"tsig\":{\"algorithm\":\"hmac-md5\",\"secret\":\"YQ==\"}}",
		"\"tsig\":{\"algorithm\":\"hmac-sha256\",\"secret\":\"YQ=\"}}",
		"\"tsig\":{\"algorithm\":\"hmac-sha256\"}}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char rec[512];
		snprintf(rec, sizeof(rec), "%.*s,%s", (int)strlen(old_record) - 1, old_record, bad[i]);
		assert_int_equal(acm_account_decode(rec, strlen(rec), "sub", &b), ACM_ECORRUPT);
	}
}

static void test_account_tsig_key(void **state)
{
	acm_account_t a;
	acm_tsig_key_t k;
	uint8_t apex[ACM_DNAME_MAX], want[ACM_DNAME_MAX];
	size_t ulen;

	(void)state;
	assert_int_equal(acm_account_decode(old_record, strlen(old_record), "sub-1", &a), ACM_OK);
	assert_true(acm_dname_from_text("auth.example.org.", apex) > 0);
	assert_int_equal(acm_account_tsig_key(&a, apex, &k), ACM_ENOTFOUND);
	assert_int_equal(acm_account_tsig_new(&a, ACM_TSIG_HMAC_SHA256), ACM_OK);
	assert_int_equal(acm_account_tsig_key(&a, apex, &k), ACM_OK);
	int n = acm_dname_from_text("sub-1.auth.example.org.", want);
	assert_int_equal(k.name_len, (size_t)n);
	assert_memory_equal(k.name, want, (size_t)n);
	assert_int_equal(k.alg, ACM_TSIG_HMAC_SHA256);
	assert_int_equal(k.secret_len, 32);
	assert_memory_equal(k.secret, a.tsig_secret, 32);
	assert_int_equal(acm_account_check(&a, &ulen), ACM_OK);
	a.tsig_alg = 9;
	assert_int_equal(acm_account_check(&a, &ulen), ACM_ERANGE);
	assert_int_equal(acm_account_tsig_new(&a, 9), ACM_EBADVALUE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_account_tsig_codec),
		cmocka_unit_test(test_account_tsig_key),
		cmocka_unit_test(test_bcrypt_verifies),
		cmocka_unit_test(test_bcrypt_wrong_key),
		cmocka_unit_test(test_bcrypt_hash_shape),
		cmocka_unit_test(test_sha256_still_checked),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
