/* SPDX-License-Identifier: ISC */
/*
 * Account credentials: random UUIDs and keys from the OpenSSL CSPRNG,
 * SHA-256 key hashes, and the constant-time key check.
 */
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "lib/error.h"
#include "lib/keys.h"

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

int acm_key_hash(const char *key, size_t len, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (EVP_Digest(key, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
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

bool acm_account_key_ok(const acm_account_t *acc, const char *key, size_t len)
{
	char h[65];

	/* bcrypt hashes are accepted by the store but not checked yet. */
	if (acc->key_scheme != ACM_KEY_SHA256)
		return false;
	if (strnlen(acc->key_hash, sizeof(acc->key_hash)) != 64 ||
	    acm_key_hash(key, len, h) != ACM_OK)
		return false;
	return CRYPTO_memcmp(h, acc->key_hash, 64) == 0;
}
