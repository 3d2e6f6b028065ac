/* SPDX-License-Identifier: ISC */
/*
 * The store: one LMDB environment holding accounts, their TXT values
 * (pre-rendered as DNS rdata so the DNS path copies bytes straight out of
 * the map), the zone serial and a journal of diffs per serial.
 *
 * Named databases:
 *   accounts  subdomain label (lower case)  -> account record (JSON; see
 *                                              lib/store/account.h)
 *   users     username                      -> subdomain label
 *   rrsets    owner, lower-case wire name    -> rrset record (see lib/dns/rrset.h)
 *   meta      "serial" -> u32 BE, "schema" -> u32 BE, "zone" -> apex wire name
 *   journal   u64 BE sequence               -> diff record (see below)
 *   audit     u64 BE sequence               -> audit record (JSON, see below)
 *
 * diff record: u32 serial_from BE, u32 serial_to BE, u64 time BE, then
 *   entries of u8 op (0 delete, 1 add), owner wire name, u16 rdlen BE, rdata.
 *
 * Every committing write transaction that changed something bumps the serial
 * once (RFC 1982 arithmetic) and appends one diff; commits are synced to disk
 * before the commit call returns. Functions return ACM_OK or a negative code
 * from lib/error.h; none of them logs.
 *
 * Threads: the store handle is shared; a write transaction belongs to the
 * thread that began it; a reader belongs to one thread at a time.
 */
#ifndef ACM_STORE_H
#define ACM_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/store/account.h"    /* acm_account_t and its limits */
#include "lib/dns/dname.h"
#include "lib/dns/zone_names.h"
#include "lib/dns/rrset.h"      /* ACM_TXT_MAX, acm_txt_check, acm_rr_iter_* */

/* The store's layout version, kept in meta as "schema" and checked at every
 * open (docs/operations.md, "Damaged store"): a store with another version
 * is refused; one without (from before it was recorded) is layout 1 and is
 * given the version by the first writer that opens it. */
#define ACM_STORE_SCHEMA 1

/*
 * Where TXT values live: an account's own name <subdomain>.<apex>, and the
 * name under it where a client certifying that very name (certbot for a
 * name of this zone) writes its challenge, _acme-challenge.<subdomain>.<apex>
 * (lib/dns/zone_names.h). The TXT operations and reads below take either
 * as "subdomain": "<subdomain>" or "_acme-challenge.<subdomain>". The second
 * has no record until a value is set there, and goes with the account.
 */

typedef struct {
	size_t len;
	char value[ACM_TXT_MAX + 1];           /* NUL-terminated copy */
	uint64_t set_time;
	uint64_t expires;                      /* 0 = never */
} acm_txt_t;

typedef struct {
	size_t mapsize;          /* bytes; 0 = default (4 GiB, sparse) */
	unsigned max_values;     /* values per name; 0 = default (8) */
	unsigned journal_max;    /* diffs kept; 0 = default (10000) */
	uint64_t journal_max_age; /* seconds a diff is kept; 0 = no age limit */
	unsigned audit_max;      /* audit records kept; 0 = default (100000) */
	uint64_t audit_max_age;  /* seconds an audit record is kept; 0 = no age limit */
	bool read_only;          /* open without creating or writing */
	unsigned max_accounts;   /* accounts the store may hold; 0 = no cap */
} acm_store_opts_t;

typedef struct acm_store acm_store_t;
typedef struct acm_wtxn acm_wtxn_t;
typedef struct acm_reader acm_reader_t;

/*
 * Open (creating if needed) the store in directory path for the zone whose
 * apex is the wire name apex. The directory is created if missing.
 * Returns ACM_OK, ACM_EZONE (store made for another zone), ACM_ESCHEMA,
 * ACM_ESTORE, or -errno.
 */
int acm_store_open(const char *path, const uint8_t *apex,
                   const acm_store_opts_t *opts, acm_store_t **out);
/* The same, and fault gets what is known about a refusal, for
 * acm_store_fault_text (lib/store/store_file.h): besides the codes above,
 * ACM_ETRUNCATED and ACM_EDAMAGED (the data file checked before it is
 * mapped), and ACM_ECORRUPT (meta records that do not decode). */
struct acm_store_fault;
int acm_store_open_ex(const char *path, const uint8_t *apex, const acm_store_opts_t *opts,
                      acm_store_t **out, struct acm_store_fault *fault);
void acm_store_close(acm_store_t *store);

/* The apex the store was opened with, and the limit on values per name. */
const uint8_t *acm_store_apex(const acm_store_t *store);
unsigned acm_store_max_values(const acm_store_t *store);

/* Change the cap on accounts (0 = none) for the write transactions that
 * begin afterwards; any thread. */
void acm_store_set_max_accounts(acm_store_t *store, unsigned max);

/*
 * Whether the latest write transaction of this handle that had something
 * to store ran out of space (ACM_ESTOREFULL: the map size, store.max_size,
 * is reached). Cleared by the next commit that stores a change (an empty
 * one proves nothing). Any thread; another process's writes (the CLI's)
 * are not seen here.
 */
bool acm_store_full(const acm_store_t *store);

/*
 * Whether LMDB declared this handle's environment unusable (MDB_PANIC,
 * after a commit whose meta page write failed): every transaction, reads
 * included, fails with ACM_EPANIC from then on. The file holds the last
 * committed state; closing the store and opening it again recovers. Any
 * thread.
 */
bool acm_store_failed(const acm_store_t *store);
/* Why the store failed: ACM_EPANIC (above), or ACM_EREMAP when another
 * process (acmensctl with a larger store.max_size) grew the file past this
 * handle's map while it has a failure hook (other threads may be reading,
 * so it cannot remap in place); ACM_OK while it has not failed. */
int acm_store_failed_code(const acm_store_t *store);

/*
 * Have fn(arg) called once, from whichever thread first sees the
 * environment fail (a committer, a DNS worker). fn must be async-safe in
 * the sense of doing little: wake the owner, who closes the store. Set
 * before other threads use the store.
 */
void acm_store_on_failure(acm_store_t *store, void (*fn)(void *arg), void *arg);

/* ---- writes ---------------------------------------------------------- */

/* Begin a write transaction (waits for other writers, in any process). */
int acm_store_write_begin(acm_store_t *store, acm_wtxn_t **out);

/*
 * Operations inside a write transaction. A logical failure (ACM_EEXIST,
 * ACM_ENOTFOUND, ACM_EFULL, ACM_EABSENT, ACM_EBADVALUE, ACM_EBADNAME,
 * ACM_EACCOUNTCAP) changes nothing and leaves the transaction usable, so one
 * transaction can carry many independent operations. ACM_ESTORE/
 * ACM_ESTOREFULL poison it: the caller must abort.
 */
/* ACM_EACCOUNTCAP when the store already holds max_accounts accounts
 * (counted inside this transaction, so concurrent writers cannot exceed
 * it, whatever process they run in). */
int acm_wtxn_account_create(acm_wtxn_t *w, const acm_account_t *acc);
/* Add one value (expires: unix seconds, 0 = never). Expired values of the
 * name are dropped first. ACM_EEXIST if the value is already there (its
 * expiry is then left as it was), ACM_EFULL at the limit. */
int acm_wtxn_txt_add(acm_wtxn_t *w, const char *subdomain, const char *value,
                     size_t len, uint64_t expires);
int acm_wtxn_txt_remove(acm_wtxn_t *w, const char *subdomain, const char *value,
                        size_t len);
/* Replace the whole set (n may be 0). Duplicates in the input are merged.
 * A value already there keeps its set_time; a new one gets values[i].set_time,
 * or now if that is 0 (an import keeps the time a value was really set).
 * ACM_EFULL if more than max_values distinct values. */
int acm_wtxn_txt_replace(acm_wtxn_t *w, const char *subdomain,
                         const acm_txt_t *values, size_t n);

/* acme-dns /update semantics: keep only the newest `keep` values of the
 * name (capped at max_values, at least 1). A value already present gets a
 * new set_time and expiry and becomes the newest, moving to the end (no DNS
 * change, no serial bump, but audited). A new value first drops expired
 * ones, then evicts the oldest by set_time (the earlier one on a tie) until
 * there is room, then is appended. */
int acm_wtxn_txt_push(acm_wtxn_t *w, const char *subdomain, const char *value,
                      size_t len, uint64_t expires, unsigned keep);

/* The values of a name as this transaction sees them (expired ones
 * included: check .expires); like acm_store_txt_list. */
int acm_wtxn_txt_list(acm_wtxn_t *w, const char *subdomain, acm_txt_t *out, size_t max,
                      size_t *n);

/* Rewrite an existing account's record (flags, key, allowfrom, updated).
 * The subdomain and username identify it and cannot change: ACM_ENOTFOUND
 * if there is no such account, ACM_EEXIST if the username differs. A record
 * equal to the stored one writes nothing. */
int acm_wtxn_account_update(acm_wtxn_t *w, const acm_account_t *acc);

/* Read an account as this transaction sees it (for read-modify-write of
 * some fields). ACM_ENOTFOUND if there is none. */
int acm_wtxn_account_get(acm_wtxn_t *w, const char *subdomain, acm_account_t *out);

/* Delete an account, its username and its values (journaled as deletes,
 * expired ones too). ACM_ENOTFOUND if there is none. Like creating one,
 * deleting an account without values bumps no serial: no DNS data changed
 * (the name goes from NODATA to NXDOMAIN). */
int acm_wtxn_account_delete(acm_wtxn_t *w, const char *subdomain);

/* Remove every value whose expiry is at or before now, from all names, at
 * most max values per call (0 removes none); *removed gets how many.
 * Journaled and audited ("expire", one record per name) under the current
 * actor like any change. Records that do not decode are skipped, left for
 * the operations on their names to report. */
int acm_wtxn_purge_expired(acm_wtxn_t *w, uint64_t now, size_t max, size_t *removed);

/*
 * Who makes the changes that follow in this transaction, for the audit log:
 * actor e.g. "account:<username>", "admin", "cli:<login>", "expiry"; source
 * e.g. the client's IP address or "local". Copied (at most 127 and 63 bytes,
 * bytes other than printable ASCII as '?'); stays in force until set again.
 * Without a call, or for NULL, actor is "unknown" and source "local".
 */
void acm_wtxn_set_actor(acm_wtxn_t *w, const char *actor, const char *source);

/*
 * Whether the operations that follow queue their own audit records (on by
 * default). A bulk import turns them off and records what it did once,
 * with acm_wtxn_audit_note.
 */
void acm_wtxn_set_audit(acm_wtxn_t *w, bool on);

/*
 * Queue one audit record of `action` that is about no single account
 * ("subdomain": ""), under the current actor, whatever acm_wtxn_set_audit
 * says; the members of detail (a JSON object, taken over even on failure)
 * are added to it, and a "change" string among them is what acmensctl
 * audit prints as its detail. It alone makes the commit store something.
 * ACM_OK, -EINVAL if detail is not an object or has a "serial" (the
 * commit's own member), or -ENOMEM.
 */
struct json_t;
int acm_wtxn_audit_note(acm_wtxn_t *w, const char *action, struct json_t *detail);

/*
 * A savepoint (one level): the operations after acm_wtxn_savepoint can be
 * undone together by acm_wtxn_rollback, or kept by acm_wtxn_release, without
 * touching what the transaction did before. Backed by an LMDB nested
 * transaction; the pending diff and audit records are rolled back with it.
 * savepoint: ACM_OK, -EBUSY if one is already open, or ACM_ESTORE (the
 * transaction is then poisoned). release: ACM_OK or a store failure (which
 * poisons). rollback leaves the transaction usable unless it was poisoned
 * before. Committing or aborting with a savepoint open releases or aborts it.
 */
int acm_wtxn_savepoint(acm_wtxn_t *w);
int acm_wtxn_release(acm_wtxn_t *w);
void acm_wtxn_rollback(acm_wtxn_t *w);

/* Commit durably. If anything changed, the serial was bumped once and the
 * diff journaled; *serial (may be NULL) gets the serial after the commit.
 * The transaction is freed in every case. */
int acm_store_write_commit(acm_wtxn_t *w, uint32_t *serial);
void acm_store_write_abort(acm_wtxn_t *w);

/* One-operation conveniences: begin, operate, commit. */
int acm_store_account_create(acm_store_t *store, const acm_account_t *acc,
                             uint32_t *serial);
int acm_store_txt_add(acm_store_t *store, const char *subdomain, const char *value,
                      size_t len, uint64_t expires, uint32_t *serial);
int acm_store_txt_remove(acm_store_t *store, const char *subdomain,
                         const char *value, size_t len, uint32_t *serial);
int acm_store_txt_replace(acm_store_t *store, const char *subdomain,
                          const acm_txt_t *values, size_t n, uint32_t *serial);

/* ---- the static part of the zone -------------------------------------- */

#define ACM_STATIC_DIGEST_LEN 32

/*
 * Records that live in the configuration (SOA fields, NS, zone.records,
 * TTLs) are not in the store, but secondaries must learn when they change.
 * Given the digest of the static zone (acm_zone_digest), compare it with
 * the one stored: when it differs from a previously stored one, bump the
 * serial and empty the journal (so IXFR across the change becomes AXFR);
 * *changed says whether that happened. The first digest is only recorded.
 * *serial gets the current serial. ACM_OK or a store error.
 */
int acm_store_sync_static(acm_store_t *store, const uint8_t digest[ACM_STATIC_DIGEST_LEN],
                          bool *changed, uint32_t *serial);

/* ---- reads (each in its own short read transaction) ------------------- */

int acm_store_serial(acm_store_t *store, uint32_t *serial);
/* ACM_ENOTFOUND for an unknown subdomain or username. */
int acm_store_account_get(acm_store_t *store, const char *subdomain, acm_account_t *out);
int acm_store_account_by_user(acm_store_t *store, const char *username, acm_account_t *out);
/* Values of an account, expired ones included (check .expires). *n gets the
 * count; at most max are written. ACM_ENOTFOUND for an unknown account. */
int acm_store_txt_list(acm_store_t *store, const char *subdomain,
                       acm_txt_t *out, size_t max, size_t *n);

/* Walk accounts in subdomain order, starting after the subdomain `after`
 * (NULL or "" = from the first; any case; ACM_EBADNAME if longer than a
 * label), calling fn for each whose subdomain or username contains `search`
 * (NULL or "" = all, case-insensitive), at most limit accounts (0 = no
 * limit). A non-zero return from fn stops the walk and is returned. */
typedef int (*acm_account_fn)(const acm_account_t *acc, void *ctx);
int acm_store_account_list(acm_store_t *store, const char *after, const char *search,
                           size_t limit, acm_account_fn fn, void *ctx);

/* Counts for stats: accounts, and values (expired ones included). */
int acm_store_counts(acm_store_t *store, size_t *accounts, size_t *values);
/* The same, and how many of the values are expired at now (unix seconds)
 * but not purged yet (expired may be NULL). Reads every value, where
 * acm_store_counts reads one byte per name. */
int acm_store_counts_at(acm_store_t *store, uint64_t now, size_t *accounts, size_t *values,
                        size_t *expired);

/*
 * The audit log: one record per change, written in the same transaction as
 * the change. Record (JSON text): {"time": unix seconds, "actor", "source",
 * "action": "create"|"update"|"delete"|"add"|"remove"|"replace"|"push"|"expire",
 * "subdomain", "before": [values], "after": [values], "serial": the zone
 * serial after the commit}; an "update" also has "change": what changed,
 * comma-separated, of "disabled", "enabled", "flags", "key", "allowfrom",
 * "created", or else "updated". Refused operations, and others that change
 * nothing (a push aside), write none. Kept to the newest audit_max records
 * and, with audit_max_age, to those younger than that (trimmed at commit).
 * fn gets records with sequence > after_seq (0 = from the oldest), oldest
 * first, only those of `subdomain` if it is not NULL/"", at most limit
 * (0 = no limit); a non-zero return stops the walk and is returned.
 */
typedef int (*acm_audit_fn)(uint64_t seq, const char *json, size_t len, void *ctx);
int acm_store_audit_list(acm_store_t *store, uint64_t after_seq, const char *subdomain,
                         size_t limit, acm_audit_fn fn, void *ctx);

/* Call fn for every rrset record in owner order; a non-zero return from fn
 * stops the walk and is returned. */
typedef int (*acm_rrset_fn)(const uint8_t *owner, const uint8_t *rec, size_t len,
                            void *ctx);
int acm_store_foreach_rrset(acm_store_t *store, acm_rrset_fn fn, void *ctx);

/* Call fn for each journal diff with sequence >= from_seq, oldest first. */
typedef int (*acm_diff_fn)(uint64_t seq, const uint8_t *rec, size_t len, void *ctx);
int acm_store_foreach_diff(acm_store_t *store, uint64_t from_seq, acm_diff_fn fn,
                           void *ctx);

/* ---- the store as a whole ---------------------------------------------- */

typedef struct {
	uint64_t map_size;       /* bytes of address space the map may grow to */
	uint64_t used_bytes;     /* bytes up to the highest page in use (free
	                          * pages below it included) */
	uint64_t file_bytes;     /* size of data.mdb on disk */
	uint64_t last_txn;       /* id of the last committed transaction */
} acm_store_info_t;

/* Sizes of the store, for stats. ACM_OK, ACM_ESTORE or -errno. */
int acm_store_info(acm_store_t *store, acm_store_info_t *info);

/*
 * A hot, compacted copy of the store as dest_dir/data.mdb: one consistent
 * snapshot, taken in a read transaction, so writers (in any process) go on
 * meanwhile, and holding every write committed before the call. dest_dir is
 * created (mode 0700, with its parents) if missing and must be empty
 * otherwise. The copy is written as data.mdb.partial (mode 0600), synced,
 * and renamed to data.mdb, so that data.mdb is there only when complete;
 * after a failure (a full disk: -ENOSPC), what was written (and a directory
 * made here) is removed.
 * Works on a read-only handle. Returns ACM_OK, ACM_EEXIST (dest_dir is not
 * empty), -ENOTDIR, ACM_ESTOREFULL/ACM_ESTORE, or -errno.
 */
int acm_store_backup(acm_store_t *store, const char *dest_dir);

/* ---- the DNS path: a reusable snapshot per worker --------------------- */

int acm_reader_open(acm_store_t *store, acm_reader_t **out);
void acm_reader_close(acm_reader_t *r);
/* Start (or restart) a snapshot and read its serial. Cheap: no allocation. */
int acm_reader_begin(acm_reader_t *r, uint32_t *serial);
/* The accounts generation of the snapshot begun last: it moves with every
 * commit that changed an account (created, rewritten or deleted), in any
 * process, so a copy of the accounts kept in memory is current when it was
 * read at this generation or a later one. */
uint64_t acm_reader_accounts_gen(const acm_reader_t *r);
/* The same, in a read transaction of its own. ACM_OK or a store failure. */
int acm_store_accounts_gen(acm_store_t *store, uint64_t *gen);
/* The accounts changed after generation since, up to the snapshot's:
 * fn(ctx, gen, label) for each generation in order (label lower case,
 * NUL-terminated, valid during the call). ACM_OK; ACM_ENOTFOUND when the
 * store does not hold the changes from since + 1 on (it keeps the newest
 * 4,096, and none from before it kept any); fn's non-zero return, or a
 * store failure. */
int acm_reader_account_changes(acm_reader_t *r, uint64_t since,
                               int (*fn)(void *ctx, uint64_t gen, const char *label),
                               void *ctx);
/* The transaction id of the newest commit (any process), read without a
 * snapshot: cheap, to tell whether a copy kept elsewhere is current. 0 if
 * it cannot be read. */
uint64_t acm_store_last_txnid(acm_store_t *store);
/* The LMDB transaction id of the snapshot begun last (0 when none is):
 * a snapshot with a larger one holds every commit of a smaller one. */
uint64_t acm_reader_txnid(const acm_reader_t *r);
/* The rrsets generation of the snapshot: it moves with every write of an
 * rrsets record, in any process. ACM_OK or a store failure. */
int acm_reader_rrsets_gen(acm_reader_t *r, uint64_t *gen);
/* The owners whose rrsets record was written after generation since, up
 * to upto (at most the snapshot's): fn(ctx, gen, owner, len) for each
 * generation in order (an owner may come more than once). ACM_OK;
 * ACM_ENOTFOUND when the store does not hold them all (it keeps the newest
 * 65,536); fn's non-zero return, or a store failure. */
typedef int (*acm_owner_change_fn)(void *ctx, uint64_t gen, const uint8_t *owner, size_t len);
int acm_reader_rrset_changes(acm_reader_t *r, uint64_t since, uint64_t upto,
                             acm_owner_change_fn fn, void *ctx);
/* End the snapshot; views from it become invalid. */
void acm_reader_end(acm_reader_t *r);
/* Find the rrset record of a lower-case owner wire name; *rec points into
 * the map and stays valid until acm_reader_end. ACM_OK or ACM_ENOTFOUND. */
int acm_reader_lookup(acm_reader_t *r, const uint8_t *owner, size_t owner_len,
                      const uint8_t **rec, size_t *len);

/*
 * Walks inside the reader's snapshot, for a zone transfer that must see one
 * serial from its first message to its last: fn gets every rrset record
 * whose owner sorts at or after from (from_len 0: from the first), or every
 * journal diff with sequence >= from_seq, in key order, until it returns
 * non-zero, which is then returned. Pointers stay valid until
 * acm_reader_end. ACM_OK at the end, ACM_ESTORE outside a snapshot.
 */
int acm_reader_rrsets_from(acm_reader_t *r, const uint8_t *from, size_t from_len,
                           acm_rrset_fn fn, void *ctx);
int acm_reader_diffs_from(acm_reader_t *r, uint64_t from_seq, acm_diff_fn fn, void *ctx);

#endif
