/* SPDX-License-Identifier: ISC */
/*
 * Group commit: writers from any thread submit operations; one committer
 * thread applies everything pending in a single LMDB write transaction and
 * syncs it once, then reports each submission's results. Durability costs
 * one fsync per batch instead of one per write.
 *
 * A submission is a chain of operations (linked by next) applied in order
 * inside one transaction: a batch is atomic in the sense that its
 * operations share one commit, but each operation succeeds or fails on its
 * own (see the refusals in lib/store/store.h) — unless the chain is submitted
 * atomic, when it is all or nothing. A TXT op carrying credentials fails
 * with ACM_ECREDS (or ACM_ENOTFOUND) if they no longer hold when it is
 * applied (see acm_op_cred_t).
 */
#ifndef ACM_COMMIT_H
#define ACM_COMMIT_H

#include <stddef.h>
#include <stdint.h>

#include "lib/store/store.h"
#include "lib/store/store_deleg.h"

typedef enum {
	ACM_OP_ACCOUNT_CREATE,   /* account */
	ACM_OP_ACCOUNT_UPDATE,   /* account */
	ACM_OP_ACCOUNT_DELETE,   /* subdomain */
	ACM_OP_TXT_ADD,          /* subdomain, value/len, expires */
	ACM_OP_TXT_REMOVE,       /* subdomain, value/len */
	ACM_OP_TXT_REPLACE,      /* subdomain, values/nvalues */
	ACM_OP_TXT_PUSH,         /* subdomain, value/len, expires, keep */
	ACM_OP_TXT_EXPECT,       /* subdomain, expect, values/nvalues: a check */
	ACM_OP_DELEG_RECORD,     /* subdomain, deleg: no DNS change (store_deleg.h) */
} acm_op_kind_t;

/* For ACM_OP_TXT_EXPECT: what must hold of the name's live (unexpired)
 * values, as the transaction sees them, or the op fails with ACM_EUNMET.
 * An unknown name has no values. It writes nothing: it is the prerequisite
 * of an atomic chain (RFC 2136 section 2.4), checked in the same
 * transaction as the writes after it. */
enum acm_op_expect {
	ACM_EXPECT_SOME,         /* at least one value */
	ACM_EXPECT_NONE,         /* no value */
	ACM_EXPECT_EQUAL,        /* exactly values/nvalues (duplicates merged), in any order */
};

/* For ACM_OP_ACCOUNT_UPDATE: which fields of op->account to apply to the
 * account as stored when the transaction runs (0 = the whole record). A
 * key rotation and an admin's disable racing each other then both stick. */
enum acm_op_fields {
	ACM_FIELD_KEY = 1u << 0,         /* key_scheme and key_hash */
	ACM_FIELD_FLAGS = 1u << 1,
	ACM_FIELD_ALLOWFROM = 1u << 2,
	/* With ACM_FIELD_KEY: only while the stored key is still bcrypt. An
	 * imported account's upgrade on first use racing a key rotation must
	 * not bring the old key back. */
	ACM_FIELD_IF_BCRYPT = 1u << 3,
	ACM_FIELD_TSIG = 1u << 4,        /* tsig_alg, tsig_secret and its length */
};

/*
 * The credentials a submitter checked before it queued an op on an
 * account's behalf. Keys are hashed (and bcrypt run) off the committer,
 * so between the check and the commit the key may be rotated, the account
 * disabled or deleted by another request. The committer therefore reads
 * the account as its transaction sees it and compares the stored key hash
 * with the one the key matched: a string compare, never a hash. Either
 * hash below is accepted: the one checked, or the SHA-256 of the key,
 * which is what an imported account's bcrypt hash becomes when a request
 * (this one, or a concurrent one) upgrades it. An op whose account has an
 * empty name here is not checked (operators, UPDATE with TSIG).
 */
typedef struct {
	char account[ACM_LABEL_MAX + 1];    /* the account's subdomain label */
	char key_hash[ACM_KEYHASH_MAX + 1]; /* the stored hash the key matched */
	char key_sha[65];                   /* hex SHA-256 of the key */
} acm_op_cred_t;

typedef struct acm_op {
	acm_op_kind_t kind;
	acm_op_cred_t cred;                 /* see acm_op_cred_t; TXT ops only */
	unsigned fields;                    /* enum acm_op_fields, ACCOUNT_UPDATE only */
	char actor[128];                    /* for the audit log, see acm_wtxn_set_actor */
	char source[64];
	acm_account_t account;
	char subdomain[ACM_TXT_NAME_MAX + 1];   /* TXT ops: any TXT name of store.h */
	char value[ACM_TXT_MAX + 1];
	size_t len;
	uint64_t expires;
	unsigned keep;
	int expect;                         /* enum acm_op_expect, TXT_EXPECT only */
	acm_deleg_rec_t deleg;              /* DELEG_RECORD only */
	const acm_txt_t *values;            /* owned by the submitter until done */
	size_t nvalues;
	/* In an atomic chain: a result that does not count as a failure, e.g.
	 * ACM_EEXIST for an add whose value may already be there (0: none). */
	int tolerate;
	/* Results, filled before done is called: */
	int result;                         /* ACM_OK or the operation's error */
	uint32_t serial;                    /* zone serial after the commit */
	struct acm_op *next;
} acm_op_t;

/* Called once per submission, from the committer thread, after the commit
 * is durable (or has failed, when every op's result says why). */
typedef void (*acm_commit_done_fn)(acm_op_t *first, void *arg);

/* Told of every committed transaction, on the committer thread, with its
 * operations and the time from begin to durable: how a metrics registry
 * keeps what it wants of them without the store knowing it. */
typedef void (*acm_commit_observe_fn)(void *arg, size_t ops, uint64_t ns);

typedef struct {
	unsigned purge_interval;   /* seconds between sweeps of expired values; 0 = never */
	size_t max_batch;          /* most operations in one transaction; 0 = 4096 */
	acm_commit_observe_fn observe;   /* NULL: nobody is told */
	void *observe_arg;
} acm_commit_opts_t;

typedef struct {
	uint64_t batches;          /* transactions committed */
	uint64_t ops;              /* operations applied */
	uint64_t last_batch;       /* operations in the last transaction */
	uint64_t max_batch;        /* largest transaction so far */
	uint64_t commit_ns_total;  /* time spent committing (begin to durable) */
	uint64_t purged;           /* expired values removed by sweeps */
} acm_commit_stats_t;

typedef struct acm_commit acm_commit_t;

/* Start the committer thread on an open store. ACM_OK or -errno. */
int acm_commit_start(acm_store_t *store, const acm_commit_opts_t *opts, acm_commit_t **out);

/* Queue a chain of operations. done(first, arg) runs later on the committer
 * thread. Thread-safe. ACM_OK, or -ESHUTDOWN once stopping began. */
int acm_commit_submit(acm_commit_t *c, acm_op_t *ops, acm_commit_done_fn done, void *arg);

/*
 * The same for a chain that is all or nothing: if an op fails (a result
 * other than ACM_OK or its tolerate), the chain's changes are rolled back
 * and the ops after it are not applied. That op keeps its error and every
 * other op of the chain gets -ECANCELED; other submissions in the batch are
 * unaffected.
 */
int acm_commit_submit_atomic(acm_commit_t *c, acm_op_t *ops, acm_commit_done_fn done,
                             void *arg);

/* Submit and wait for the result (for callers without an event loop).
 * Returns ACM_OK when the commit happened (check each op's result) or the
 * error that made the whole transaction fail. */
int acm_commit_run(acm_commit_t *c, acm_op_t *ops);

/* acm_commit_run for an atomic chain. */
int acm_commit_run_atomic(acm_commit_t *c, acm_op_t *ops);

void acm_commit_get_stats(acm_commit_t *c, acm_commit_stats_t *out);

/* Refuse submissions from now on (they return -ESHUTDOWN); what is queued
 * is still committed. Returns at once; thread-safe. */
void acm_commit_close(acm_commit_t *c);

/* Close, then wait until every queued operation is finished and the
 * committer thread has ended. c stays valid until acm_commit_free:
 * submissions get -ESHUTDOWN, the stats stay readable. One thread only. */
void acm_commit_drain(acm_commit_t *c);

/* Drain (if not yet) and free c; NULL is ignored. */
void acm_commit_free(acm_commit_t *c);

/* Finish every submitted operation, then stop the thread and free c
 * (acm_commit_free). */
void acm_commit_stop(acm_commit_t *c);

#endif
