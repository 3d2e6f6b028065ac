/* SPDX-License-Identifier: ISC */
/*
 * Account credentials: random UUIDs and keys from the OpenSSL CSPRNG,
 * SHA-256 key hashes, and the constant-time key check (bcrypt through
 * libcrypt for accounts imported from acme-dns).
 */
#include <crypt.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "lib/error.h"
#include "lib/store/keys.h"

static const char hexdig[] = "0123456789abcdef";

static void to_hex(const unsigned char *in, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++) {
		*out++ = hexdig[in[i] >> 4];
		*out++ = hexdig[in[i] & 0x0f];
	}
	*out = '\0';
}

int acm_uuid4(char out[ACM_UUID_LEN + 1])
{
	unsigned char b[16];
	char hex[33];

	if (RAND_bytes(b, sizeof(b)) != 1)
		return ACM_ECRYPTO;
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);    /* version 4 */
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);    /* RFC 4122 variant */
	to_hex(b, sizeof(b), hex);
	memcpy(out, hex, 8);
	out[8] = '-';
	memcpy(out + 9, hex + 8, 4);
	out[13] = '-';
	memcpy(out + 14, hex + 12, 4);
	out[18] = '-';
	memcpy(out + 19, hex + 16, 4);
	out[23] = '-';
	memcpy(out + 24, hex + 20, 12);
	out[ACM_UUID_LEN] = '\0';
	return ACM_OK;
}

int acm_password_new(char out[ACM_PASSWORD_LEN + 1])
{
	static const char b64url[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	/* 30 bytes are exactly 40 base64 digits: no padding, no bias. */
	unsigned char b[ACM_PASSWORD_LEN / 4 * 3];
	char *o = out;

	if (RAND_bytes(b, sizeof(b)) != 1)
		return ACM_ECRYPTO;
	for (size_t i = 0; i < sizeof(b); i += 3) {
		unsigned long v = (unsigned long)b[i] << 16 | (unsigned long)b[i + 1] << 8 | b[i + 2];
		*o++ = b64url[(v >> 18) & 63];
		*o++ = b64url[(v >> 12) & 63];
		*o++ = b64url[(v >> 6) & 63];
		*o++ = b64url[v & 63];
	}
	*o = '\0';
	OPENSSL_cleanse(b, sizeof(b));
	return ACM_OK;
}

/* SHA-256 fetched once per process, as lib/dns/tsig.c does HMAC: a batch
 * checks a thousand keys, and EVP_sha256() alone fetches it every time. */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

int acm_key_hash(const char *key, size_t len, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	pthread_once(&sha256_once, sha256_fetch);
	if (!sha256_md || EVP_Digest(key, len, md, &mdlen, sha256_md, NULL) != 1 || mdlen != 32)
		return ACM_ECRYPTO;
	to_hex(md, mdlen, out);
	return ACM_OK;
}

int acm_account_new(acm_account_t *acc, char password[ACM_PASSWORD_LEN + 1])
{
	int rc;

	memset(acc, 0, sizeof(*acc));
	if ((rc = acm_uuid4(acc->subdomain)) != ACM_OK ||
	    (rc = acm_uuid4(acc->username)) != ACM_OK ||
	    (rc = acm_password_new(password)) != ACM_OK ||
	    (rc = acm_key_hash(password, ACM_PASSWORD_LEN, acc->key_hash)) != ACM_OK) {
		OPENSSL_cleanse(password, ACM_PASSWORD_LEN + 1);
		memset(acc, 0, sizeof(*acc));
		return rc;
	}
	acc->key_scheme = ACM_KEY_SHA256;
	acc->created = acc->updated = (uint64_t)time(NULL);
	return ACM_OK;
}

bool acm_bcrypt_hash_ok(const char *hash)
{
	/* Only bcrypt: a stored string must not be able to pick a weaker
	 * crypt scheme (or none) for the check. */
	return strnlen(hash, ACM_BCRYPT_LEN + 1) == ACM_BCRYPT_LEN && hash[0] == '$' &&
	       hash[1] == '2' && (hash[2] == 'a' || hash[2] == 'b' || hash[2] == 'y') &&
	       hash[3] == '$' && hash[4] >= '0' && hash[4] <= '9' && hash[5] >= '0' &&
	       hash[5] <= '9' && hash[6] == '$';
}

/* bcrypt reads at most 72 bytes of a NUL-terminated key; longer keys or
 * keys with a NUL would be compared by a prefix, so they never match. */
#define BCRYPT_KEY_MAX 72

static bool bcrypt_key_ok(const char *hash, const char *key, size_t len)
{
	char phrase[BCRYPT_KEY_MAX + 1];
	struct crypt_data *cd;
	const char *out;
	bool ok = false;

	if (!acm_bcrypt_hash_ok(hash) || len > BCRYPT_KEY_MAX || memchr(key, '\0', len))
		return false;
	/* About 32 KiB: too much for the stack of a server thread. */
	if (!(cd = calloc(1, sizeof(*cd))))
		return false;
	memcpy(phrase, key, len);
	phrase[len] = '\0';
	out = crypt_rn(phrase, hash, cd, (int)sizeof(*cd));
	if (out && strnlen(out, ACM_BCRYPT_LEN + 1) == ACM_BCRYPT_LEN)
		ok = CRYPTO_memcmp(out, hash, ACM_BCRYPT_LEN) == 0;
	OPENSSL_cleanse(phrase, sizeof(phrase));
	OPENSSL_cleanse(cd, sizeof(*cd));
	free(cd);
	return ok;
}

static bool sha256_key_ok(const char *hash, const char *key, size_t len)
{
	char h[65];

	if (strnlen(hash, 65) != 64 || acm_key_hash(key, len, h) != ACM_OK)
		return false;
	return CRYPTO_memcmp(h, hash, 64) == 0;
}

bool acm_account_key_ok(const acm_account_t *acc, const char *key, size_t len)
{
	switch (acc->key_scheme) {
	case ACM_KEY_SHA256:
		return sha256_key_ok(acc->key_hash, key, len);
	case ACM_KEY_BCRYPT:
		return bcrypt_key_ok(acc->key_hash, key, len);
	default:
		return false;
	}
}
