/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for lib/dns/dnssec.h: the example key of RFC 6605 6.1 gives
 * that RFC's key tag and DS; for each algorithm a new key survives its PEM
 * form, and an RRSIG it makes verifies with a public key rebuilt from the
 * DNSKEY rdata alone (so the DNSKEY and the signature's encoding agree
 * with what a validator reads); the key set's choices.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include "lib/dns/dnssec.h"
#include "lib/error.h"

/* RFC 6605 6.1's private key (GU6SnQ/O...) as PKCS#8. */
static const char RFC6605_PEM[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgGU6SnQ/Ou+xC5Rum\n"
	"uIUIuJZteXT2z0O/ok1s38Et6mShRANCAAQaiMiGFdQ3+7i/nhlCoZKfKFYnBq5s\n"
	"K9OZ57G/ttHp51uStKpCkXrhxhtwHvA1w/574wCcuv5aL3ExbJAtzw0A\n"
	"-----END PRIVATE KEY-----\n";
static const uint8_t EXAMPLE_NET[] = "\7example\3net";   /* with its final 0 */
static const uint8_t RFC6605_DS[ACM_DS_RDATA_LEN] = {
	0xd9, 0x60, 13, 2,
	0xb4, 0xc8, 0xc1, 0xfe, 0x2e, 0x74, 0x77, 0x12, 0x7b, 0x27, 0x11, 0x56, 0x56, 0xad, 0x62, 0x56,
	0xf4, 0x24, 0x62, 0x5b, 0xf5, 0xc1, 0xe2, 0x77, 0x0c, 0xe6, 0xd6, 0xe3, 0x7d, 0xf6, 0x1d, 0x17,
};

static void test_rfc6605_example(void **state)
{
	(void)state;
	acm_dnssec_key_t *key;
	assert_int_equal(acm_dnssec_key_from_pem((const uint8_t *)RFC6605_PEM, strlen(RFC6605_PEM),
	                                         &key), ACM_OK);
	assert_int_equal(acm_dnssec_key_algorithm(key), ACM_DNSSEC_ALG_ECDSAP256SHA256);
	assert_int_equal(acm_dnssec_key_tag(key), 55648);
	uint8_t ds[ACM_DS_RDATA_LEN];
	assert_int_equal(acm_dnssec_key_ds(key, EXAMPLE_NET, sizeof(EXAMPLE_NET), ds), ACM_OK);
	assert_memory_equal(ds, RFC6605_DS, sizeof(ds));
	size_t len;
	const uint8_t *dnskey = acm_dnssec_key_dnskey(key, &len);
	assert_int_equal(len, 4 + 64);
	assert_int_equal(dnskey[0] << 8 | dnskey[1], ACM_DNSKEY_FLAGS_CSK);
	assert_int_equal(dnskey[2], 3);
	assert_int_equal(dnskey[3], 13);
	acm_dnssec_key_free(key);
}

/* The public key a validator builds from the DNSKEY rdata. */
static EVP_PKEY *validator_key(const uint8_t *rdata, size_t len)
{
	if (rdata[3] == ACM_DNSSEC_ALG_ED25519)
		return EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, rdata + 4, len - 4);
	uint8_t point[65] = { 0x04 };
	memcpy(point + 1, rdata + 4, 64);
	OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
	OSSL_PARAM_BLD_push_utf8_string(b, OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0);
	OSSL_PARAM_BLD_push_octet_string(b, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point));
	OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(b);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	EVP_PKEY *pkey = NULL;
	assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
	assert_int_equal(EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params), 1);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(b);
	return pkey;
}

/* Verify sig (DNSSEC's encoding) over data as a validator would. */
static int verifies(EVP_PKEY *pub, uint8_t alg, const uint8_t *data, size_t len,
                    const uint8_t *sig)
{
	uint8_t der[80];
	size_t der_len = ACM_DNSSEC_SIG_MAX;
	const uint8_t *check = sig;
	if (alg == ACM_DNSSEC_ALG_ECDSAP256SHA256) {
		ECDSA_SIG *es = ECDSA_SIG_new();
		ECDSA_SIG_set0(es, BN_bin2bn(sig, 32, NULL), BN_bin2bn(sig + 32, 32, NULL));
		uint8_t *p = der;
		der_len = (size_t)i2d_ECDSA_SIG(es, &p);
		ECDSA_SIG_free(es);
		check = der;
	}
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok = EVP_DigestVerifyInit(md, NULL, alg == ACM_DNSSEC_ALG_ED25519 ? NULL : EVP_sha256(),
	                              NULL, pub) == 1 &&
	         EVP_DigestVerify(md, check, der_len, data, len) == 1;
	EVP_MD_CTX_free(md);
	return ok;
}

static void sign_and_verify(uint8_t alg)
{
	acm_dnssec_key_t *key, *again;
	assert_int_equal(acm_dnssec_key_generate(alg, &key), ACM_OK);
	uint8_t *pem;
	size_t pem_len;
	assert_int_equal(acm_dnssec_key_to_pem(key, &pem, &pem_len), ACM_OK);
	assert_non_null(strstr((char *)pem, "BEGIN PRIVATE KEY"));
	assert_int_equal(acm_dnssec_key_from_pem(pem, pem_len, &again), ACM_OK);
	acm_dnssec_pem_free(pem, pem_len);
	size_t len, len2;
	const uint8_t *dnskey = acm_dnssec_key_dnskey(key, &len);
	assert_int_equal(len, alg == ACM_DNSSEC_ALG_ED25519 ? 36u : 68u);
	assert_memory_equal(dnskey, acm_dnssec_key_dnskey(again, &len2), len);
	assert_int_equal(acm_dnssec_key_tag(key), acm_dnssec_key_tag(again));

	/* room for the RRSIG fields, then one canonical TXT RR */
	uint8_t data[128] = { 0 };
	static const uint8_t rr[] = "\1x\7example\3net\0\0\x10\0\1\0\0\0\1\0\4\3abc";
	size_t off = 64;
	memcpy(data + off, rr, sizeof(rr) - 1);
	acm_rrsig_params_t p = { .type = 16, .labels = 3, .ttl = 1, .inception = 1000,
	                         .expiration = 2000, .signer = EXAMPLE_NET,
	                         .signer_len = sizeof(EXAMPLE_NET) };
	uint8_t out[160];
	size_t n = acm_dnssec_rrsig(again, &p, data, off, off + sizeof(rr) - 1, out, sizeof(out));
	size_t head = ACM_RRSIG_FIXED + sizeof(EXAMPLE_NET);
	assert_int_equal(n, head + ACM_DNSSEC_SIG_MAX);
	assert_int_equal(out[2], alg);
	assert_int_equal(out[16] << 8 | out[17], acm_dnssec_key_tag(key));
	EVP_PKEY *pub = validator_key(dnskey, len);
	assert_non_null(pub);
	assert_true(verifies(pub, alg, data + off - head, head + sizeof(rr) - 1, out + head));
	data[off + 5] ^= 1;   /* another RRset: the signature no longer holds */
	assert_false(verifies(pub, alg, data + off - head, head + sizeof(rr) - 1, out + head));
	/* too little room before the RRs, or for the output: nothing */
	assert_int_equal(acm_dnssec_rrsig(key, &p, data, head - 1, off, out, sizeof(out)), 0u);
	assert_int_equal(acm_dnssec_rrsig(key, &p, data, off, off + 4, out, head + 63), 0u);
	EVP_PKEY_free(pub);
	acm_dnssec_key_free(again);
	acm_dnssec_key_free(key);
}

static void test_ecdsa(void **state)
{
	(void)state;
	sign_and_verify(ACM_DNSSEC_ALG_ECDSAP256SHA256);
}

static void test_ed25519(void **state)
{
	(void)state;
	sign_and_verify(ACM_DNSSEC_ALG_ED25519);
}

static void test_bad_input(void **state)
{
	(void)state;
	acm_dnssec_key_t *key;
	uint8_t alg;
	assert_int_equal(acm_dnssec_key_generate(8, &key), ACM_ECONFIG);   /* RSA: not ours */
	static const char junk[] = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
	assert_int_equal(acm_dnssec_key_from_pem((const uint8_t *)junk, strlen(junk), &key),
	                 ACM_ECRYPTO);
	assert_int_equal(acm_dnssec_algorithm_parse("rsasha256", &alg), ACM_ECONFIG);
	assert_int_equal(acm_dnssec_algorithm_parse("ed25519", &alg), ACM_OK);
	assert_int_equal(alg, ACM_DNSSEC_ALG_ED25519);
	assert_string_equal(acm_dnssec_algorithm_name(13), "ecdsap256sha256");
	assert_null(acm_dnssec_algorithm_name(8));
	/* a P-384 key is a valid EC key, but not an algorithm of ours */
	EVP_PKEY *p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	BIO *bio = BIO_new(BIO_s_mem());
	assert_int_equal(PEM_write_bio_PrivateKey(bio, p384, NULL, NULL, 0, NULL, NULL), 1);
	char *pem;
	long n = BIO_get_mem_data(bio, &pem);
	assert_int_equal(acm_dnssec_key_from_pem((const uint8_t *)pem, (size_t)n, &key), ACM_ECRYPTO);
	BIO_free(bio);
	EVP_PKEY_free(p384);
}

static void test_keyset(void **state)
{
	(void)state;
	acm_dnssec_keyset_t ks = { 0 };
	assert_null(acm_dnssec_keyset_active(&ks));
	assert_null(acm_dnssec_keyset_ds_key(&ks));
	for (int i = 0; i < 2; i++)
		assert_int_equal(acm_dnssec_key_generate(ACM_DNSSEC_ALG_ED25519, &ks.keys[i].key), ACM_OK);
	ks.count = 2;
	ks.keys[0].state = ACM_KEY_ACTIVE;
	ks.keys[1].state = ACM_KEY_PUBLISHED;
	assert_ptr_equal(acm_dnssec_keyset_active(&ks), &ks.keys[0]);
	assert_ptr_equal(acm_dnssec_keyset_ds_key(&ks), &ks.keys[1]);   /* a rollover under way */
	ks.keys[0].state = ACM_KEY_RETIRING;
	ks.keys[1].state = ACM_KEY_ACTIVE;
	assert_ptr_equal(acm_dnssec_keyset_active(&ks), &ks.keys[1]);
	assert_ptr_equal(acm_dnssec_keyset_ds_key(&ks), &ks.keys[1]);
	assert_string_equal(acm_dnssec_key_state_name(ACM_KEY_RETIRING), "retiring");
	acm_dnssec_keyset_clear(&ks);
	assert_int_equal(ks.count, 0u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc6605_example),
		cmocka_unit_test(test_ecdsa),
		cmocka_unit_test(test_ed25519),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_keyset),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
