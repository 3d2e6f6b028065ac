/* SPDX-License-Identifier: ISC */
/*
 * TSIG (RFC 8945): keys, and signing and verifying messages in wire form
 * with HMAC-SHA256/384/512 (OpenSSL). Works on raw message bytes so the DNS
 * path never converts packets; no allocation, no logging.
 */
#ifndef ACM_TSIG_H
#define ACM_TSIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/dns/dname.h"
#include "lib/dns/consts.h"

#define ACM_TSIG_SECRET_MAX 128     /* bytes of key material */
#define ACM_TSIG_MAC_MAX 64         /* SHA-512 */

typedef enum {
	ACM_TSIG_HMAC_SHA256 = 1,
	ACM_TSIG_HMAC_SHA384 = 2,
	ACM_TSIG_HMAC_SHA512 = 3,
} acm_tsig_alg_t;

typedef struct {
	uint8_t name[ACM_DNAME_MAX];    /* lower-case wire name */
	size_t name_len;
	acm_tsig_alg_t alg;
	uint8_t secret[ACM_TSIG_SECRET_MAX];
	size_t secret_len;
} acm_tsig_key_t;

/* A parsed TSIG RR (pointers into the message). */
typedef struct {
	size_t rr_offset;               /* where the TSIG RR starts */
	uint8_t key_name[ACM_DNAME_MAX];/* lower case */
	size_t key_name_len;
	acm_tsig_alg_t alg;             /* 0 if the algorithm is unknown */
	uint64_t time_signed;
	uint16_t fudge;
	const uint8_t *mac;
	uint16_t mac_len;
	uint16_t orig_id;
	uint16_t error;
	const uint8_t *other;
	uint16_t other_len;
} acm_tsig_rr_t;

/* "hmac-sha256" etc. <-> algorithm; ACM_OK or ACM_EBADVALUE. */
int acm_tsig_alg_from_text(const char *text, acm_tsig_alg_t *out);
const char *acm_tsig_alg_name(acm_tsig_alg_t alg);

/* Build a key from its name (text), algorithm name and base64 secret (as in
 * BIND/Knot key files). ACM_OK, ACM_EBADNAME, or ACM_EBADVALUE. */
int acm_tsig_key_from_text(const char *name, const char *alg, const char *secret_b64,
                           acm_tsig_key_t *out);
/* Decode a base64 secret (whitespace allowed, padding as RFC 4648) into
 * out (ACM_TSIG_SECRET_MAX bytes). ACM_OK or ACM_EBADVALUE (also for an
 * empty or too long secret). */
int acm_tsig_secret_from_b64(const char *b64, uint8_t *out, size_t *len);
/* The secret as base64 (out holds at least 4 * ceil(len / 3) + 1 bytes;
 * if it does not, out is set to ""). */
void acm_tsig_secret_to_b64(const acm_tsig_key_t *key, char *out, size_t outlen);
/* A new random key (32 bytes of secret, like tsig-keygen's default for
 * hmac-sha256; 48/64 for sha384/512). ACM_OK or ACM_ECRYPTO. */
int acm_tsig_key_generate(const char *name, acm_tsig_alg_t alg, acm_tsig_key_t *out);

/*
 * Find the TSIG RR of a message: it must be the last record of the
 * additional section (RFC 8945 5.1). rr_offset is the offset of the
 * additional section's last record, as found by the caller's parse.
 * ACM_OK and *out filled, ACM_ENOTFOUND if that record is not a TSIG, or
 * ACM_EMALF if it is a malformed one.
 */
int acm_tsig_parse(const uint8_t *msg, size_t len, size_t rr_offset, acm_tsig_rr_t *out);

/*
 * Verify a signed request with key (the caller looked it up by t->key_name;
 * NULL when there is no such key). Returns an enum acm_tsig_error: BADKEY
 * for no key or another algorithm, BADSIG for a wrong or truncated MAC,
 * BADTIME when now is outside time_signed +- fudge (checked after the MAC,
 * as RFC 8945 5.2.3 requires).
 */
int acm_tsig_verify(const uint8_t *msg, size_t len, const acm_tsig_rr_t *t,
                    const acm_tsig_key_t *key, uint64_t now);

/* Find a key by lower-case wire name: ACM_OK with *key filled,
 * ACM_ENOTFOUND, or another error when the keys cannot be read. */
typedef int (*acm_tsig_lookup_fn)(void *ctx, const uint8_t *name, size_t len,
                                  acm_tsig_key_t *key);

/* The verdict on a signed request, and what its answer is signed with. */
typedef struct {
	int error;                      /* enum acm_tsig_error: ACM_TSIG_OK when it verified */
	/* The verified key; for BADKEY the key name and algorithm the request
	 * named, without a secret (the answer is unsigned, RFC 8945 5.3.2). */
	acm_tsig_key_t key;
	uint8_t mac[ACM_TSIG_MAC_MAX];  /* the request's MAC, which the answer's covers */
	size_t mac_len;
	uint16_t orig_id;               /* the request's original ID */
} acm_tsig_request_t;

/*
 * Check the TSIG of a request (RFC 8945 5.2): parse the TSIG RR at
 * rr_offset (see acm_tsig_parse), find its key with lookup (NULL: no keys)
 * and verify. ACM_OK with out->error the verdict (OK, BADKEY, BADSIG or
 * BADTIME); ACM_EMALF for a malformed TSIG RR, or one whose MAC is longer
 * than any algorithm's (FORMERR, answered unsigned); or the error of
 * lookup other than ACM_ENOTFOUND (the keys could not be read), with out
 * filled as for BADKEY.
 */
int acm_tsig_request_check(const uint8_t *msg, size_t len, size_t rr_offset, uint64_t now,
                           acm_tsig_lookup_fn lookup, void *ctx, acm_tsig_request_t *out);

/*
 * Sign the answer msg[0..len) (room up to cap) to a request that
 * acm_tsig_request_check returned ACM_OK for, reporting its verdict.
 * Returns the new length, or len when the answer cannot carry a TSIG (no
 * room, an algorithm we do not know): it then goes out unsigned.
 */
size_t acm_tsig_answer_sign(const acm_tsig_request_t *req, uint8_t *msg, size_t len, size_t cap,
                            uint64_t now);

/*
 * Verify a response, or a later message of a multi-message response:
 * prior_mac/prior_len is the request's MAC (first response) or the
 * previous message's MAC (continuation true: only the timers are
 * digested). acm_tsig_verify is this with no prior MAC. Same results.
 */
int acm_tsig_verify_chained(const uint8_t *msg, size_t len, const acm_tsig_rr_t *t,
                            const acm_tsig_key_t *key, const uint8_t *prior_mac,
                            size_t prior_len, bool continuation, uint64_t now);

/*
 * Sign a response (or a request) in place: append a TSIG RR to msg[0..len),
 * which has room up to cap, and increment ARCOUNT. prior_mac/prior_len is
 * the request's MAC for the first response (NULL/0 for a request), or the
 * previous message's MAC for the next message of a multi-message response,
 * when continuation is true (then only the timers are digested, RFC 8945
 * 5.3.1). error is the TSIG error to report: for BADSIG and BADKEY the MAC
 * is left empty (the response is unsigned, 5.3.2); for BADTIME the server's
 * time goes in other data. mac_out (ACM_TSIG_MAC_MAX bytes, may be NULL)
 * gets this message's MAC for chaining. Returns the new length, or
 * ACM_ESPACE (also ACM_EBADVALUE for no usable key or len < 12, and
 * ACM_ECRYPTO if OpenSSL fails).
 */
int acm_tsig_sign(uint8_t *msg, size_t len, size_t cap, const acm_tsig_key_t *key,
                  const uint8_t *prior_mac, size_t prior_len, bool continuation,
                  uint64_t now, uint16_t orig_id, uint16_t error, uint8_t *mac_out,
                  size_t *mac_len);

#endif
