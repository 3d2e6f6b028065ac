/* SPDX-License-Identifier: ISC */
/*
 * DNSSEC keys and signatures with OpenSSL 3 (see dnssec.h). A key holds
 * its EVP_PKEY and its DNSKEY rdata, computed once: an answer's signing
 * pass reads both from many threads, which OpenSSL allows for a key that
 * is no longer modified.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "lib/dns/dnssec.h"
#include "lib/dns/wire.h"
#include "lib/error.h"

#define P256_COORD 32

struct acm_dnssec_key {
	EVP_PKEY *pkey;
	uint8_t alg;
	uint16_t tag;
	size_t dnskey_len;
	uint8_t dnskey[ACM_DNSKEY_RDATA_MAX];
};

static const struct {
	const char *name;
	uint8_t alg;
} ALGORITHMS[] = {
	{ "ecdsap256sha256", ACM_DNSSEC_ALG_ECDSAP256SHA256 },
	{ "ed25519", ACM_DNSSEC_ALG_ED25519 },
};

int acm_dnssec_algorithm_parse(const char *name, uint8_t *alg)
{
	for (size_t i = 0; i < sizeof(ALGORITHMS) / sizeof(ALGORITHMS[0]); i++)
		if (strcmp(name, ALGORITHMS[i].name) == 0) {
			*alg = ALGORITHMS[i].alg;
			return ACM_OK;
		}
	return ACM_ECONFIG;
}

const char *acm_dnssec_algorithm_name(uint8_t alg)
{
	for (size_t i = 0; i < sizeof(ALGORITHMS) / sizeof(ALGORITHMS[0]); i++)
		if (ALGORITHMS[i].alg == alg)
			return ALGORITHMS[i].name;
	return NULL;
}

/* RFC 4034 appendix B: the 16-bit sum of the rdata as big-endian words. */
static uint16_t key_tag(const uint8_t *rdata, size_t len)
{
	uint32_t ac = 0;
	for (size_t i = 0; i < len; i++)
		ac += (i & 1) ? rdata[i] : (uint32_t)rdata[i] << 8;
	ac += (ac >> 16) & 0xFFFF;
	return (uint16_t)(ac & 0xFFFF);
}

/* The public key as DNSSEC writes it: P-256's x||y (RFC 6605 4), or
 * Ed25519's 32 bytes (RFC 8080 3). */
static int public_key(EVP_PKEY *pkey, uint8_t alg, uint8_t *out, size_t *len)
{
	if (alg == ACM_DNSSEC_ALG_ED25519) {
		*len = ACM_DNSSEC_PUBKEY_MAX;
		return EVP_PKEY_get_raw_public_key(pkey, out, len) == 1 && *len == 32 ? ACM_OK
		                                                                      : ACM_ECRYPTO;
	}
	BIGNUM *x = NULL, *y = NULL;
	int rc = ACM_ECRYPTO;
	if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X, &x) == 1 &&
	    EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &y) == 1 &&
	    BN_bn2binpad(x, out, P256_COORD) == P256_COORD &&
	    BN_bn2binpad(y, out + P256_COORD, P256_COORD) == P256_COORD) {
		*len = 2 * P256_COORD;
		rc = ACM_OK;
	}
	BN_free(x);
	BN_free(y);
	return rc;
}

/* Which of our algorithms a key is, or 0. */
static uint8_t key_algorithm(EVP_PKEY *pkey)
{
	if (EVP_PKEY_is_a(pkey, "ED25519"))
		return ACM_DNSSEC_ALG_ED25519;
	char group[64];
	if (EVP_PKEY_is_a(pkey, "EC") &&
	    EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
	                                   NULL) == 1 &&
	    (strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0))
		return ACM_DNSSEC_ALG_ECDSAP256SHA256;
	return 0;
}

/* Wrap pkey (taken over, freed on failure) as a key of ours. */
static int key_wrap(EVP_PKEY *pkey, acm_dnssec_key_t **out)
{
	uint8_t alg = key_algorithm(pkey);
	acm_dnssec_key_t *key = alg ? calloc(1, sizeof(*key)) : NULL;
	if (!key) {
		EVP_PKEY_free(pkey);
		return alg ? -ENOMEM : ACM_ECRYPTO;
	}
	key->pkey = pkey;
	key->alg = alg;
	size_t publen;
	if (public_key(pkey, alg, key->dnskey + 4, &publen) != ACM_OK) {
		acm_dnssec_key_free(key);
		return ACM_ECRYPTO;
	}
	acm_put_u16(key->dnskey, ACM_DNSKEY_FLAGS_CSK);
	key->dnskey[2] = ACM_DNSKEY_PROTOCOL;
	key->dnskey[3] = alg;
	key->dnskey_len = 4 + publen;
	key->tag = key_tag(key->dnskey, key->dnskey_len);
	*out = key;
	return ACM_OK;
}

int acm_dnssec_key_generate(uint8_t alg, acm_dnssec_key_t **out)
{
	EVP_PKEY *pkey;
	if (alg == ACM_DNSSEC_ALG_ECDSAP256SHA256)
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	else if (alg == ACM_DNSSEC_ALG_ED25519)
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	else
		return ACM_ECONFIG;
	if (!pkey)
		return ACM_ECRYPTO;
	return key_wrap(pkey, out);
}

int acm_dnssec_key_from_pem(const uint8_t *pem, size_t len, acm_dnssec_key_t **out)
{
	if (len > INT32_MAX)
		return ACM_ECRYPTO;
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	if (!bio)
		return -ENOMEM;
	EVP_PKEY *pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (!pkey)
		return ACM_ECRYPTO;
	return key_wrap(pkey, out);
}

int acm_dnssec_key_to_pem(const acm_dnssec_key_t *key, uint8_t **pem, size_t *len)
{
	BIO *bio = BIO_new(BIO_s_secmem());
	if (!bio)
		return -ENOMEM;
	int rc = ACM_ECRYPTO;
	char *data;
	if (PEM_write_bio_PKCS8PrivateKey(bio, key->pkey, NULL, NULL, 0, NULL, NULL) == 1) {
		long n = BIO_get_mem_data(bio, &data);
		uint8_t *copy = n > 0 ? malloc((size_t)n + 1) : NULL;
		rc = copy ? ACM_OK : (n > 0 ? -ENOMEM : ACM_ECRYPTO);
		if (copy) {
			memcpy(copy, data, (size_t)n);
			copy[n] = 0;
			*pem = copy;
			*len = (size_t)n;
		}
	}
	BIO_free(bio);
	return rc;
}

void acm_dnssec_pem_free(uint8_t *pem, size_t len)
{
	if (pem)
		OPENSSL_cleanse(pem, len);
	free(pem);
}

void acm_dnssec_key_free(acm_dnssec_key_t *key)
{
	if (!key)
		return;
	EVP_PKEY_free(key->pkey);
	free(key);
}

uint8_t acm_dnssec_key_algorithm(const acm_dnssec_key_t *key)
{
	return key->alg;
}

uint16_t acm_dnssec_key_tag(const acm_dnssec_key_t *key)
{
	return key->tag;
}

const uint8_t *acm_dnssec_key_dnskey(const acm_dnssec_key_t *key, size_t *len)
{
	*len = key->dnskey_len;
	return key->dnskey;
}

int acm_dnssec_key_ds(const acm_dnssec_key_t *key, const uint8_t *apex, size_t apex_len,
                      uint8_t out[ACM_DS_RDATA_LEN])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned int dlen = 0;
	int ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
	         EVP_DigestUpdate(md, apex, apex_len) == 1 &&
	         EVP_DigestUpdate(md, key->dnskey, key->dnskey_len) == 1 &&
	         EVP_DigestFinal_ex(md, out + 4, &dlen) == 1 && dlen == 32;
	EVP_MD_CTX_free(md);
	if (!ok)
		return ACM_ECRYPTO;
	acm_put_u16(out, key->tag);
	out[2] = key->alg;
	out[3] = ACM_DS_DIGEST_SHA256;
	return ACM_OK;
}

void acm_dnssec_ds_text(const uint8_t ds[ACM_DS_RDATA_LEN], char out[ACM_DS_TEXT_MAX])
{
	int n = snprintf(out, ACM_DS_TEXT_MAX, "%u %u %u ", acm_get_u16(ds), ds[2], ds[3]);
	for (size_t i = 4; i < ACM_DS_RDATA_LEN; i++, n += 2)
		snprintf(out + n, ACM_DS_TEXT_MAX - (size_t)n, "%02X", ds[i]);
}

/* ECDSA's DER signature to the r||s DNSSEC wants (RFC 6605 4). */
static int ecdsa_raw(const uint8_t *der, size_t len, uint8_t *out)
{
	const unsigned char *p = der;
	ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)len);
	if (!sig)
		return ACM_ECRYPTO;
	const BIGNUM *r, *s;
	ECDSA_SIG_get0(sig, &r, &s);
	int ok = BN_bn2binpad(r, out, P256_COORD) == P256_COORD &&
	         BN_bn2binpad(s, out + P256_COORD, P256_COORD) == P256_COORD;
	ECDSA_SIG_free(sig);
	return ok ? ACM_OK : ACM_ECRYPTO;
}

/* Sign data with key into sig (ACM_DNSSEC_SIG_MAX bytes): 64 bytes. */
static int sign_raw(const acm_dnssec_key_t *key, const uint8_t *data, size_t len, uint8_t *sig)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx)
		return -ENOMEM;
	bool ecdsa = key->alg == ACM_DNSSEC_ALG_ECDSAP256SHA256;
	uint8_t der[80];   /* a P-256 DER signature is at most 72 bytes */
	size_t n = ecdsa ? sizeof(der) : ACM_DNSSEC_SIG_MAX;
	int rc = ACM_ECRYPTO;
	if (EVP_DigestSignInit(ctx, NULL, ecdsa ? EVP_sha256() : NULL, NULL, key->pkey) == 1 &&
	    EVP_DigestSign(ctx, ecdsa ? der : sig, &n, data, len) == 1)
		rc = ecdsa ? ecdsa_raw(der, n, sig) : (n == ACM_DNSSEC_SIG_MAX ? ACM_OK : ACM_ECRYPTO);
	EVP_MD_CTX_free(ctx);
	return rc;
}

size_t acm_dnssec_rrsig(const acm_dnssec_key_t *key, const acm_rrsig_params_t *p,
                        uint8_t *data, size_t rrs_off, size_t rrs_end,
                        uint8_t *out, size_t cap)
{
	size_t head = ACM_RRSIG_FIXED + p->signer_len;
	if (rrs_off < head || rrs_end < rrs_off || cap < head + ACM_DNSSEC_SIG_MAX)
		return 0;
	uint8_t *f = data + rrs_off - head;
	acm_put_u16(f, p->type);
	f[2] = key->alg;
	f[3] = p->labels;
	acm_put_u32(f + 4, p->ttl);
	acm_put_u32(f + 8, p->expiration);
	acm_put_u32(f + 12, p->inception);
	acm_put_u16(f + 16, key->tag);
	memcpy(f + ACM_RRSIG_FIXED, p->signer, p->signer_len);
	if (sign_raw(key, f, rrs_end - (rrs_off - head), out + head) != ACM_OK)
		return 0;
	memcpy(out, f, head);
	return head + ACM_DNSSEC_SIG_MAX;
}

/* ---- a zone's keys ---------------------------------------------------- */

static const acm_dnssec_keyent_t *first_in(const acm_dnssec_keyset_t *ks, uint8_t state)
{
	for (size_t i = 0; i < ks->count; i++)
		if (ks->keys[i].state == state)
			return &ks->keys[i];
	return NULL;
}

const acm_dnssec_keyent_t *acm_dnssec_keyset_active(const acm_dnssec_keyset_t *ks)
{
	return first_in(ks, ACM_KEY_ACTIVE);
}

const acm_dnssec_keyent_t *acm_dnssec_keyset_ds_key(const acm_dnssec_keyset_t *ks)
{
	const acm_dnssec_keyent_t *k = first_in(ks, ACM_KEY_PUBLISHED);
	return k ? k : first_in(ks, ACM_KEY_ACTIVE);
}

void acm_dnssec_keyset_clear(acm_dnssec_keyset_t *ks)
{
	for (size_t i = 0; i < ks->count; i++)
		acm_dnssec_key_free(ks->keys[i].key);
	memset(ks, 0, sizeof(*ks));
}

const char *acm_dnssec_key_state_name(uint8_t state)
{
	switch (state) {
	case ACM_KEY_PUBLISHED: return "published";
	case ACM_KEY_ACTIVE: return "active";
	case ACM_KEY_RETIRING: return "retiring";
	default: return "unknown";
	}
}
