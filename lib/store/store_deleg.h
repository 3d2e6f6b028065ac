/* SPDX-License-Identifier: ISC */
/*
 * The last delegation check of each account, kept beside the zone: a
 * record per account and a count per status, in the named database
 * "delegation":
 *
 *   account label (lower case) -> u64 checked BE, u8 status, u8 flags
 *                                 (bit 0: secure)
 *   0x00, u8 status            -> u64 BE: accounts whose record has it
 *
 * (a label never starts with 0x00). The status is a byte whose meaning
 * belongs to the caller (lib/rt/delegation.h numbers them); the store only
 * counts them. Records are written in transactions that change no DNS data:
 * no serial bump, no journal entry, no audit record. Deleting an account
 * drops its record and moves the counts in the same transaction.
 *
 * The database appeared without a change of the layout version
 * (ACM_STORE_SCHEMA stays 1): a release before it opens the store and
 * never looks at it. A store no writer of this release has opened lacks
 * it; reads then find nothing and a read-only handle cannot write it.
 */
#ifndef ACM_STORE_DELEG_H
#define ACM_STORE_DELEG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/store/store.h"

#define ACM_DELEG_REC_STATUSES 32   /* status bytes the store accepts: 0 to 31 */

typedef struct {
	uint64_t checked;        /* when the check ended, Unix seconds */
	uint8_t status;          /* < ACM_DELEG_REC_STATUSES */
	bool secure;             /* the answers validated (DNSSEC) */
} acm_deleg_rec_t;

/* Record rec as the account's last check, replacing the one before and
 * moving the counts. ACM_OK; ACM_ENOTFOUND (no such account: nothing is
 * kept for a name that is not one); ACM_EBADVALUE (status out of range);
 * a store failure poisons the transaction. */
int acm_wtxn_deleg_put(acm_wtxn_t *w, const char *subdomain, const acm_deleg_rec_t *rec);

/* One record in a transaction of its own (durable on return). */
int acm_store_deleg_put(acm_store_t *store, const char *subdomain, const acm_deleg_rec_t *rec);

/* Many records in one transaction, for a bulk check: items[i].result gets
 * each one's acm_wtxn_deleg_put result (an account deleted meanwhile is
 * ACM_ENOTFOUND and does not stop the others). ACM_OK when the commit
 * happened, else the failure that undid them all. */
typedef struct {
	const char *subdomain;
	acm_deleg_rec_t rec;
	int result;
} acm_deleg_put_t;
int acm_store_deleg_put_many(acm_store_t *store, acm_deleg_put_t *items, size_t n);

/* The account's last check: ACM_OK, or ACM_ENOTFOUND when it was never
 * checked (or there is no such account). */
int acm_store_deleg_get(acm_store_t *store, const char *subdomain, acm_deleg_rec_t *out);

/* counts[s] gets the number of accounts whose last check has status s,
 * for s below n (those past ACM_DELEG_REC_STATUSES get 0). A few reads,
 * however many accounts. ACM_OK or a store failure. */
int acm_store_deleg_counts(acm_store_t *store, uint64_t *counts, size_t n);

#endif
