/* SPDX-License-Identifier: ISC */
/*
 * RFC 2136 dynamic update, the message side: parsing an UPDATE, checking
 * its TSIG and what the key may change, deciding the prerequisites that do
 * not need the store, turning the rest into one atomic chain of group
 * commit operations, and writing the (signed) response. No I/O, no
 * logging: dnsd/update_io.c carries messages and chains between the
 * workers and the committer.
 *
 * Policy: every update is TSIG-signed with an account's key, whose name is
 * the account's own name <subdomain>.<apex>; with it, the update section may
 * only add or delete TXT values at that name and at
 * _acme-challenge.<subdomain>.<apex> (for clients that write the challenge
 * under the name being certified, as certbot does for a name of this zone).
 * A TXT value is one character-string of 1..255 printable bytes.
 * Prerequisites may test any name of the zone.
 */
#ifndef ACM_DNSD_UPDATE_H
#define ACM_DNSD_UPDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dnsd/query.h"
#include "lib/store/commit.h"
#include "lib/dns/tsig.h"
#include "lib/conf/zone.h"

#define ACM_UPDATE_RR_MAX 64          /* prerequisites, and updates, per message */
#define ACM_UPDATE_RESPONSE_MAX 1024  /* header, zone section and TSIG fit */

/*
 * Find an account's TSIG key by its lower-case wire name: ACM_OK with *key
 * and sub (the account's subdomain) filled, ACM_ENOTFOUND when no enabled
 * account has that key, or another error when the store failed.
 */
typedef int (*acm_update_key_fn)(void *ctx, const uint8_t *name, size_t len,
                                 acm_tsig_key_t *key, char sub[ACM_LABEL_MAX + 1]);

/*
 * May the account whose key verified the request (sub) use it from where
 * it came (its allowfrom)? Called once the TSIG verified; false makes the
 * answer REFUSED, signed, and nothing is changed.
 */
typedef bool (*acm_update_allow_fn)(void *ctx, const char *sub);

typedef struct {
	const acm_zone_t *zone;
	bool enabled;                 /* update.enabled, and group commit runs */
	uint64_t now;                 /* unix seconds */
	acm_update_key_fn key;
	void *key_ctx;                /* for key and allow */
	acm_update_allow_fn allow;    /* NULL: from anywhere */
} acm_update_env_t;

/* Why an answer was known at once, for counting and logging: the request
 * was authenticated (ACM_UPDATE_SIGNED: whatever the RCODE) or it failed
 * before that, with a reason an outsider can bring about at will. */
typedef enum {
	ACM_UPDATE_SIGNED,            /* verified (or pending): the account is known */
	ACM_UPDATE_MALFORMED,         /* FORMERR before the TSIG, or a malformed TSIG */
	ACM_UPDATE_UNSIGNED,          /* REFUSED: no TSIG */
	ACM_UPDATE_BADKEY,            /* NOTAUTH: no enabled account has that key */
	ACM_UPDATE_BADSIG,
	ACM_UPDATE_BADTIME,
	ACM_UPDATE_ALLOWFROM,         /* REFUSED: outside the account's allowfrom */
	ACM_UPDATE_STOREFAIL,         /* SERVFAIL: the key could not be read */
} acm_update_why_t;

/* A verified update waiting for its chain to commit. */
typedef struct acm_update acm_update_t;

/* True when msg is an UPDATE request (a header with QR clear and opcode 5). */
bool acm_update_is(const uint8_t *msg, size_t len);

/*
 * Handle an UPDATE request. Either the answer is known at once: it is
 * written to out (cap bytes, at least ACM_UPDATE_RESPONSE_MAX), *out_len
 * gets its length (0: drop the message silently) and *pending is NULL; or
 * *pending gets an update whose chain (acm_update_ops) must be submitted
 * atomically to group commit and the answer written by acm_update_finish
 * once it is done. Returns why (ACM_UPDATE_SIGNED for a pending update).
 * When the answer is known and not NOERROR, *reason says why in words for
 * the log, if the request got past its TSIG (a static string; else NULL).
 */
acm_update_why_t acm_update_start(const acm_update_env_t *env, const uint8_t *msg, size_t len,
                      uint8_t *out, size_t cap, size_t *out_len, acm_update_t **pending,
                      const char **reason);

acm_op_t *acm_update_ops(acm_update_t *u);

/* The answer to a pending update whose chain is done (results filled),
 * signed at time now. Returns its length; *rcode gets the RCODE. */
size_t acm_update_finish(acm_update_t *u, uint64_t now, uint8_t *out, size_t cap, int *rcode);

/* The subdomain of the account whose key signed the update, for the log. */
const char *acm_update_account(const acm_update_t *u);
/* Once finished with an RCODE other than NOERROR: why, in words (a static
 * string), for the log; else NULL. */
const char *acm_update_reason(const acm_update_t *u);

void acm_update_free(acm_update_t *u);

#endif
