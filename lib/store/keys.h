/* SPDX-License-Identifier: ISC */
/*
 * Account credentials: random UUIDs for usernames and subdomains, random
 * 40-character keys (240 bits), stored as SHA-256 and checked in constant
 * time. Accounts imported from acme-dns keep its bcrypt hashes until their
 * first successful use (see httpapi/auth.c).
 */
#ifndef ACM_KEYS_H
#define ACM_KEYS_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/store/store.h"

#define ACM_PASSWORD_LEN 40
#define ACM_UUID_LEN 36

/* A random (version 4) UUID in lower case. ACM_OK or ACM_ECRYPTO. */
int acm_uuid4(char out[ACM_UUID_LEN + 1]);

/* A random key of 40 characters from [A-Za-z0-9_-]. ACM_OK or ACM_ECRYPTO. */
int acm_password_new(char out[ACM_PASSWORD_LEN + 1]);

/* Hex SHA-256 of a key, as stored. out holds 65 bytes. */
int acm_key_hash(const char *key, size_t len, char out[65]);

/*
 * Fill a fresh account: username and subdomain are new UUIDs, password a
 * new key, key_hash its SHA-256, created/updated now, no allowfrom, no flags.
 */
int acm_account_new(acm_account_t *acc, char password[ACM_PASSWORD_LEN + 1]);

/* Is hash a bcrypt string as acme-dns stores them ($2a$, $2b$ or $2y$,
 * a two-digit cost, 53 characters of salt and digest)? */
#define ACM_BCRYPT_LEN 60
bool acm_bcrypt_hash_ok(const char *hash);

/*
 * Check a key against the account's stored hash, compared in constant
 * time. A bcrypt account costs a bcrypt computation (tens of milliseconds
 * at acme-dns's cost 10); a SHA-256 one a single hash.
 */
bool acm_account_key_ok(const acm_account_t *acc, const char *key, size_t len);

#endif
