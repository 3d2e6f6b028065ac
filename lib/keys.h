/* SPDX-License-Identifier: ISC */
/*
 * Account credentials: random UUIDs for usernames and subdomains, random
 * 40-character keys (240 bits), stored as SHA-256 and checked in constant
 * time.
 */
#ifndef ACM_KEYS_H
#define ACM_KEYS_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/store.h"

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

/* Check a key against the account's stored hash in constant time. */
bool acm_account_key_ok(const acm_account_t *acc, const char *key, size_t len);

#endif
