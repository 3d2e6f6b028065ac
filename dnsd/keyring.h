/* SPDX-License-Identifier: ISC */
/*
 * The accounts' TSIG keys and allowfrom ranges in memory, for the DNS
 * workers. A table (hash by account label; the key of account <label> is
 * named <label>.<apex>) is built from the store by a thread of its own
 * when the store's accounts generation has moved, and published by a
 * pointer swap; each worker holds a reference to the table it reads. A
 * lookup takes no store read, no allocation and no lock, so a flood of
 * packets signed with unknown keys costs about what an unsigned one does.
 * Only enabled accounts with a TSIG key are in it (about 80 bytes each).
 *
 * A full build reads every account (1.5 s at 250,000), so accounts change
 * while it runs: a worker keeps using the newest table it has and lists,
 * from the store's change records, the accounts changed since that table's
 * generation (acm_keyring_view); only those are read from the store until
 * a newer table holds them. Rebuilds are spaced (twice the last build's
 * time) so that steady registrations do not keep a core busy.
 */
#ifndef ACM_DNSD_KEYRING_H
#define ACM_DNSD_KEYRING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "lib/store/account.h"
#include "lib/store/store.h"
#include "lib/dns/tsig.h"

/* One account's entry: its key and its allowfrom ranges. */
typedef struct acm_keyrec acm_keyrec_t;
/* One immutable table, reference counted. */
typedef struct acm_keytab acm_keytab_t;
/* The published table and the thread that rebuilds it. */
typedef struct acm_keyring acm_keyring_t;

/* Room for any account's entry (acm_keyrec_from_account). */
#define ACM_KEYREC_MAX 1024
typedef struct {
	_Alignas(8) unsigned char b[ACM_KEYREC_MAX];
} acm_keyrec_buf_t;

/*
 * Build the first table from store (before any worker runs) and start the
 * thread that rebuilds it. ACM_OK, -ENOMEM, a thread error, or a store
 * failure; nothing is left running on failure.
 */
int acm_keyring_start(acm_store_t *store, acm_keyring_t **out);
/* The same, but the thread builds the first table: start-up does not wait
 * for it (a million accounts take a second or more), and until it is
 * published every view is NULL (keys are read from the store). */
int acm_keyring_start_background(acm_store_t *store, acm_keyring_t **out);
/* Stop the thread and drop the published table (workers drop their own
 * references with acm_keytab_unref). */
void acm_keyring_stop(acm_keyring_t *kr);

/*
 * The table that is current for a store snapshot at accounts generation
 * gen (acm_reader_accounts_gen). *held is the caller's reference (NULL at
 * first): kept when it is current, else replaced by the published table if
 * that one is. NULL when no table is current yet: a rebuild is then asked
 * for, and the caller reads the account from the store meanwhile. Any
 * thread; takes a lock only when *held is replaced.
 */
const acm_keytab_t *acm_keyring_get(acm_keyring_t *kr, acm_keytab_t **held, uint64_t gen);
/* Drop a reference (NULL is ignored). */
void acm_keytab_unref(acm_keytab_t *t);

/* A worker's view: the table it holds and the accounts changed since that
 * table's generation, up to its snapshot's. Zeroed to start. */
#define ACM_KEYVIEW_CHANGES 256
typedef struct {
	acm_keytab_t *held;
	uint64_t gen;                   /* changes listed up to this generation */
	uint64_t unlisted;              /* held->gen + 1 when they could not be listed, else 0 */
	size_t n;
	struct acm_keyview_change {
		uint64_t gen;
		uint32_t hash;
		uint8_t len;
		char label[ACM_LABEL_MAX + 1];
	} changed[ACM_KEYVIEW_CHANGES];
} acm_keyview_t;

/*
 * The table to read for the snapshot r (begun): the newest table, with the
 * accounts changed since its generation listed in v (ask
 * acm_keyview_changed before using an entry). NULL when the changes could
 * not be listed (more than ACM_KEYVIEW_CHANGES, or older than the store's
 * change records, or a store failure): read every account from the store
 * until a newer table is published. Asks for a rebuild when the table is
 * behind r. Any thread, one view per thread; takes a lock only when a newer
 * table is taken up.
 */
const acm_keytab_t *acm_keyring_view(acm_keyring_t *kr, acm_keyview_t *v, acm_reader_t *r);
/* Did account label/len change after the view's table was built? Then
 * read it from the store. */
bool acm_keyview_changed(const acm_keyview_t *v, const uint8_t *label, size_t len);
/* Drop the view's table. */
void acm_keyview_release(acm_keyview_t *v);

/* The entry of the account whose label is label/len (lower case), or NULL. */
const acm_keyrec_t *acm_keytab_find(const acm_keytab_t *t, const uint8_t *label, size_t len);
/* Number of entries. */
size_t acm_keytab_count(const acm_keytab_t *t);
/* Bytes the table holds (entries and index). */
size_t acm_keytab_bytes(const acm_keytab_t *t);

/*
 * The entry of one account, written into buf (cap bytes, 8-aligned;
 * ACM_KEYREC_MAX always suffices): ACM_OK, ACM_ENOTFOUND when the account
 * is disabled or has no TSIG key, or ACM_ESPACE.
 */
int acm_keyrec_from_account(const acm_account_t *acc, void *buf, size_t cap);
/* The key, named name/name_len (the wire name the request carried). */
void acm_keyrec_key(const acm_keyrec_t *r, const uint8_t *name, size_t name_len,
                    acm_tsig_key_t *out);
/* The account's label (NUL-terminated, lower case). */
const char *acm_keyrec_label(const acm_keyrec_t *r);
/* May a request from sa use the account? True without allowfrom entries;
 * with some, when one of them holds the address (an entry that does not
 * parse holds none, as for the HTTP API). */
bool acm_keyrec_allows(const acm_keyrec_t *r, const struct sockaddr *sa);

#endif
