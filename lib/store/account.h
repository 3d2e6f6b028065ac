/* SPDX-License-Identifier: ISC */
/*
 * Accounts: the in-memory account and the codec of the account record, the
 * value of the store's accounts database keyed by the subdomain label
 * (which is not repeated inside it). Records are written in a compact
 * binary form whose first byte is its version (account_bin.c); stores from
 * before it hold JSON objects, which are still read, and which a record's
 * next write turns binary. No LMDB, no logging.
 *
 * Functions return ACM_OK or a negative code from lib/error.h.
 */
#ifndef ACM_ACCOUNT_H
#define ACM_ACCOUNT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/conf/cidr.h"     /* ACM_CIDR_MAX */
#include "lib/dns/dname.h"
#include "lib/dns/tsig.h"

#define ACM_USERNAME_MAX 64
#define ACM_KEYHASH_MAX 128
#define ACM_ALLOWFROM_MAX 16

enum acm_key_scheme {
	ACM_KEY_SHA256 = 1,        /* key_hash is 64 lower-case hex digits */
	ACM_KEY_BCRYPT = 2,        /* key_hash is a $2a$/$2b$ crypt string */
};

enum acm_account_flags {
	ACM_ACCOUNT_DISABLED = 1u << 0,
};

typedef struct {
	char subdomain[ACM_LABEL_MAX + 1];     /* lower case */
	char username[ACM_USERNAME_MAX + 1];
	int key_scheme;                        /* enum acm_key_scheme */
	char key_hash[ACM_KEYHASH_MAX + 1];
	size_t allowfrom_count;
	char allowfrom[ACM_ALLOWFROM_MAX][ACM_CIDR_MAX + 1];
	uint64_t created;                      /* unix seconds */
	uint64_t updated;
	uint32_t flags;                        /* enum acm_account_flags */
	/* The account's TSIG key for RFC 2136 UPDATE, named after the account
	 * (see acm_account_tsig_key). Stored as "tsig": {"algorithm",
	 * "secret" (base64)}; records without it have none. */
	int tsig_alg;                          /* acm_tsig_alg_t, 0 = no key */
	uint8_t tsig_secret[ACM_TSIG_SECRET_MAX];
	size_t tsig_secret_len;
} acm_account_t;

/*
 * Check the fields of acc other than the subdomain (which the store checks
 * against its zone) before it is stored; *ulen gets the username's length.
 * ACM_OK, ACM_EBADNAME (username empty or too long), or ACM_ERANGE (key
 * hash too long, too many allowfrom entries, or one too long, or a TSIG
 * key with an unknown algorithm or a secret of the wrong size).
 */
int acm_account_check(const acm_account_t *acc, size_t *ulen);

/* The first byte of a binary record: its version. A JSON record starts
 * with '{' (or white space), never with a byte above 0x7f. */
#define ACM_ACCOUNT_REC_V1 0x81
/* The longest binary record (an account that passes acm_account_check). */
#define ACM_ACCOUNT_REC_MAX (1 + (1 + ACM_USERNAME_MAX) + 4 + (1 + ACM_KEYHASH_MAX) + 1 + \
                             ACM_ALLOWFROM_MAX * (1 + ACM_CIDR_MAX) + 8 + 8 + 4 + 1 + 1 + \
                             ACM_TSIG_SECRET_MAX)

/*
 * Encode acc (checked with acm_account_check) as a binary account record
 * into buf (cap bytes; ACM_ACCOUNT_REC_MAX always do), without the
 * subdomain; *len gets its size. ACM_OK or ACM_ESPACE.
 */
int acm_account_encode(const acm_account_t *acc, uint8_t *buf, size_t cap, size_t *len);

/*
 * The record's JSON form, as stores wrote it before the binary one (and
 * as tests make such stores). *text gets a NUL-terminated string from
 * malloc that the caller frees. ACM_OK or -ENOMEM.
 */
int acm_account_encode_json(const acm_account_t *acc, char **text);

/*
 * Decode the account record rec/len stored under label (at most
 * ACM_LABEL_MAX bytes, already lower case) into *out, whichever its form.
 * ACM_OK, ACM_EBADNAME for a label too long, or ACM_ECORRUPT if the record
 * does not decode or holds more than acm_account_t can (*out is then
 * partly filled).
 */
int acm_account_decode(const void *rec, size_t len, const char *label,
                       acm_account_t *out);

/* Whether a stored record is in the binary form (for acmensctl check-store). */
bool acm_account_rec_is_bin(const void *rec, size_t len);

/* The binary form's decoder, behind acm_account_decode: every field but
 * the subdomain, into *out (zeroed by the caller). ACM_OK or ACM_ECORRUPT. */
int acm_account_decode_bin(const void *rec, size_t len, acm_account_t *out);

/*
 * The account's TSIG key, named <subdomain>.<apex> (apex: the zone's
 * lower-case wire name), so the key name of a signed UPDATE names the
 * account. ACM_OK, ACM_ENOTFOUND if it has no key, or ACM_EBADNAME if the
 * name would be too long.
 */
int acm_account_tsig_key(const acm_account_t *acc, const uint8_t *apex, acm_tsig_key_t *out);
/* Give acc a new random TSIG key of alg, replacing any it had. ACM_OK,
 * ACM_EBADVALUE (no such algorithm) or ACM_ECRYPTO. */
int acm_account_tsig_new(acm_account_t *acc, acm_tsig_alg_t alg);

#endif
