/* SPDX-License-Identifier: ISC */
/*
 * Internal to the store (lib/store*.c), never included elsewhere: the
 * handles behind the opaque types of store.h and the contract between
 * the store's core and its parts. The core, store.c, opens the environment
 * and runs transactions: meta (serial, schema), the diff and its journal,
 * commit. The parts call the core and never the other way round:
 * store_set.c the names and rrset records operations work on; store_txt.c
 * the TXT operations; store_account.c the account operations and reads;
 * store_audit.c the audit log; store_deleg.c the delegation records;
 * store_read.c the other reads, the DNS
 * readers, the store's sizes and its backup. Work a part queues in a
 * transaction that must end with it comes back through the hooks the part
 * registers (store_queue_t).
 */
#ifndef ACM_STORE_INT_H
#define ACM_STORE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lmdb.h>

#include "lib/dns/dnssec.h"
#include "lib/dns/rrset.h"
#include "lib/store/store.h"

#define STORE_ACTOR_MAX 127
#define STORE_SOURCE_MAX 63

struct json_t;

struct acm_store {
	MDB_env *env;
	MDB_dbi accounts, users, rrsets, meta, journal, audit, deleg, dnssec;
	uint8_t apex[ACM_DNAME_MAX];
	size_t apex_len;
	unsigned max_values;
	unsigned journal_max;
	uint64_t journal_max_age;
	unsigned audit_max;
	uint64_t audit_max_age;
	bool read_only;
	bool has_audit;             /* false only read-only, on an older store */
	bool has_deleg;             /* the same for the delegation records */
	bool has_dnssec;            /* the same for the DNSSEC keys */
	unsigned max_accounts;      /* 0: no cap; atomic: a reload may change it */
	bool full;                  /* atomic: see acm_store_full */
	bool failed;                /* atomic: see acm_store_failed */
	int failed_code;            /* why: ACM_EPANIC or ACM_EREMAP (set before failed) */
	void (*on_failure)(void *); /* see acm_store_on_failure */
	void *failure_arg;
};

struct acm_wtxn {
	acm_store_t *s;
	MDB_txn *txn;               /* the savepoint's nested txn while one is open */
	MDB_txn *outer;             /* the top-level txn under a savepoint, else NULL */
	size_t sp_diff_len;         /* diff and queue lengths when the savepoint began */
	size_t sp_queue_len;
	bool poisoned;
	bool restart_journal;       /* the zone changed outside the store: bump the
	                               serial and start the journal afresh */
	uint8_t *diff;              /* diff entries, without the header */
	size_t diff_len, diff_cap;
	acm_txt_set_t old, cur;     /* scratch for one operation: before, after */
	const struct store_queue *queue;   /* a part's queued work, see below */
	struct store_audit_q *audit;   /* store_audit.c's records waiting for
	                                  the commit's serial */
	char actor[STORE_ACTOR_MAX + 1];
	char source[STORE_SOURCE_MAX + 1];
	bool audit_off;             /* see acm_wtxn_set_audit */
};

/* The name one operation works on: its account's label and its owner
 * wire name, the account's own or (challenge) its _acme-challenge name. */
typedef struct {
	char label[ACM_LABEL_MAX + 1];
	uint8_t owner[ACM_DNAME_MAX];
	size_t olen;
	bool challenge;
} store_name_t;

/*
 * Work a part queued in a write transaction, which the core finishes with
 * the transaction: the part sets w->queue when it queues its first item
 * (one part at most: the audit log, whose records need the serial that
 * only the commit knows).
 */
typedef struct store_queue {
	size_t (*count)(const acm_wtxn_t *w);         /* items queued */
	void (*truncate)(acm_wtxn_t *w, size_t n);    /* back to the first n (rollback) */
	int (*flush)(acm_wtxn_t *w, uint32_t serial); /* write them, before the commit */
	void (*release)(acm_wtxn_t *w);               /* free them, committed or not */
} store_queue_t;

/* ---- store.c: the core ---------------------------------------------------- */

/* Make room for more bytes after the len used of *buf (*cap allocated,
 * first when nothing is yet), doubling. ACM_OK or -ENOMEM (*buf kept). */
int store_reserve(void **buf, size_t *cap, size_t len, size_t more, size_t first);

/* The one place where LMDB codes enter the acmens error space. */
int store_err(int rc);
/* store_err for a code from an operation on s's environment: MDB_PANIC
 * (an earlier commit failed past the point of return) also marks the store
 * failed, once, and calls its failure hook (see acm_store_failed). */
int store_env_err(acm_store_t *s, int rc);
/* LMDB says another process grew the map (MDB_MAP_RESIZED): true when this
 * process may not remap now (it has a failure hook, i.e. other threads may
 * be reading), after marking the store failed with ACM_EREMAP; false when
 * the caller may call mdb_env_set_mapsize(env, 0) and retry. */
bool store_remap_refused(acm_store_t *s);
MDB_val store_val(const void *p, size_t n);
/* mkdir -p with mode 0700 for what it creates. ACM_OK or -errno. */
int store_mkdir_p(const char *path);
/* A read transaction, recovering from stale reader slots and a grown map. */
int store_read_begin(acm_store_t *s, MDB_txn **txn);
int store_get_serial(MDB_txn *txn, MDB_dbi meta, uint32_t *serial);
/* A change log in meta (see store.c): its counter's key, its records'
 * prefix (4 bytes) and how many records it keeps. */
typedef struct {
	const char *counter;
	const char *prefix;
	uint64_t kept;
} store_log_t;
#define STORE_CHANGE_KEY_LEN 12
#define STORE_CHANGE_PREFIX "achg"
#define STORE_CHANGES_KEPT 4096
#define STORE_RRSET_CHANGE_PREFIX "rchg"
#define STORE_RRSET_CHANGES_KEPT 65536
extern const store_log_t store_accounts_log;   /* labels of accounts written */
extern const store_log_t store_rrsets_log;     /* owners of rrsets records written */
/* The log's generation: the number of changes it was told of. */
int store_log_gen(MDB_txn *txn, MDB_dbi meta, const store_log_t *log, uint64_t *gen);
/* Move the generation on and record what/len as its change. */
int store_log_append(MDB_txn *txn, MDB_dbi meta, const store_log_t *log, const void *what,
                     size_t len);
/* The meta key of generation gen's record. */
void store_log_key(const store_log_t *log, uint64_t gen, uint8_t key[STORE_CHANGE_KEY_LEN]);
/* A store failure poisons the transaction; logical refusals do not. */
int store_wtxn_result(acm_wtxn_t *w, int rc);
/* Position c on the first key after key/klen (klen 0: on the first key);
 * MDB_NOTFOUND at the end. k and v get the pair. */
int store_cursor_after(MDB_cursor *c, const void *key, size_t klen, MDB_val *k,
                       MDB_val *v);
/* Walk dbi in txn from `from` (NULL: the first key; skip_from: strictly
 * after it), calling fn until it returns non-zero, which is returned. */
typedef int (*store_kv_fn)(const MDB_val *k, const MDB_val *v, void *ctx);
int store_walk(MDB_txn *txn, MDB_dbi dbi, const MDB_val *from, bool skip_from,
               store_kv_fn fn, void *ctx);
/* The same, in a read snapshot of its own. */
int store_read_walk(acm_store_t *s, MDB_dbi dbi, const MDB_val *from, bool skip_from,
                    store_kv_fn fn, void *ctx);
/* Stops a walk after limit visits (0 = never): step takes fn's result and
 * returns what the walk callback returns; end maps our own stop to ACM_OK. */
typedef struct {
	size_t limit, seen;
	bool stopped;
} store_limit_t;
int store_limit_step(store_limit_t *l, int rc);
int store_limit_end(const store_limit_t *l, int rc);
/* The next free sequence number of a journal-like (u64 BE keyed) dbi. */
int store_next_seq(MDB_txn *txn, MDB_dbi dbi, uint64_t *seq);
/* Drop the oldest records of a journal-like dbi beyond max. */
int store_trim(MDB_txn *txn, MDB_dbi dbi, size_t max);

/* Diff entry ops. */
#define STORE_DIFF_DEL 0
#define STORE_DIFF_ADD 1
/* Append one entry to the transaction's diff. ACM_OK or -ENOMEM. */
int store_diff_add(acm_wtxn_t *w, uint8_t op, const uint8_t *owner, size_t olen,
                   const acm_txt_ent_t *t);
/* Commit w if rc is ACM_OK (*serial: the serial it led to), else abort it
 * and return rc. */
int store_finish(acm_wtxn_t *w, int rc, uint32_t *serial);

/* ---- store_set.c ------------------------------------------------------ */

/* Lower-case and check a subdomain label into n, and build its owner.
 * ACM_OK or ACM_EBADNAME. */
int store_name(const acm_store_t *s, const char *sub, store_name_t *n);
/* The same for the name of TXT values: a subdomain label, or
 * "_acme-challenge.<label>" (see store.h). */
int store_txt_name(const acm_store_t *s, const char *name, store_name_t *n);
/* The challenge name of the account of n. ACM_OK, or ACM_EBADNAME if it
 * would be too long to be a name. */
int store_challenge_name(const store_name_t *n, store_name_t *out);
/* Copy at most ACM_LABEL_MAX bytes of s lower-cased into out; false if s is
 * longer. */
bool store_lower(const char *s, char out[ACM_LABEL_MAX + 1]);

/*
 * The end of every operation that turns w->old into w->cur for name n: the
 * diff (deletes, adds), the rrset record written (or deleted, with remove)
 * and one audit record of `action`. Nothing happens if the set is the same
 * and neither remove nor force is set.
 */
typedef struct {
	const char *action;
	bool remove;                /* the record goes with the account */
	bool force;                 /* write and audit even the same set */
} store_change_t;
int store_set_change(acm_wtxn_t *w, const store_name_t *n, const store_change_t *c);

/* Load the rrset record of n into w->old (ACM_ENOTFOUND if none; a
 * challenge name of an existing account without one is empty). */
int store_set_load(acm_wtxn_t *w, const store_name_t *n);

/* ---- store_account.c ---------------------------------------------------- */

/* Whether the account of n exists: ACM_OK, ACM_ENOTFOUND, or a failure. */
int store_account_exists(const acm_store_t *s, MDB_txn *txn, const store_name_t *n);

/* ---- store_deleg.c ---------------------------------------------------- */

/* Drop the account label's delegation record and its count (the account
 * goes, or a label comes back after an older release deleted it). */
int store_deleg_drop(acm_wtxn_t *w, const char *label);
/* One entry of the database, for the store check: a count of *status
 * (*is_count, *count) or an account's record of *status. ACM_OK or
 * ACM_ECORRUPT. */
int store_deleg_entry(const MDB_val *k, const MDB_val *v, bool *is_count, uint8_t *status,
                      uint64_t *count);

/* ---- store_dnssec.c --------------------------------------------------- */

/* One entry of the database, for the load and the store check: a key into
 * *out (its key object to free), ACM_ENOTFOUND for the generation, or
 * ACM_ECORRUPT. */
int store_dnssec_entry(const MDB_val *k, const MDB_val *v, acm_dnssec_keyent_t *out);

/* ---- store_audit.c ---------------------------------------------------- */

/* Queue one audit record about n (change may be NULL); the records are
 * written at commit with its serial. ACM_OK or -ENOMEM. */
int store_audit_add(acm_wtxn_t *w, const char *action, const store_name_t *n,
                    const char *change, const acm_txt_set_t *before,
                    const acm_txt_set_t *after);

#endif
