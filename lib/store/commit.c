/* SPDX-License-Identifier: ISC */
/*
 * Group commit: the submission queue, the committer thread that turns each
 * batch of submissions into one durable write transaction, and the periodic
 * sweep of expired TXT values.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/clock.h"
#include "lib/store/commit.h"
#include "lib/error.h"

#define DEFAULT_MAX_BATCH 4096
#define PURGE_MAX 10000

/* One acm_commit_submit call, queued until its batch is done. */
struct sub {
	struct sub *next;
	acm_op_t *ops;
	size_t nops;
	acm_commit_done_fn done;
	void *arg;
	int *status;    /* where acm_commit_run learns its transaction's fate */
	int err;        /* why the submission was dropped from its batch, or ACM_OK */
	bool atomic;    /* all or nothing: see acm_commit_submit_atomic */
};

struct acm_commit {
	acm_store_t *store;
	size_t max_batch;
	unsigned purge_interval;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t wake;            /* the committer: work, or stop */
	pthread_cond_t ran;             /* acm_commit_run callers: a batch is done */
	struct sub *head, *tail;
	bool stopping;
	bool joined;                   /* the committer thread has ended */
	struct timespec next_purge;    /* CLOCK_MONOTONIC */
	acm_commit_stats_t stats;
	acm_commit_observe_fn observe;
	void *observe_arg;
};

/* ---- time ------------------------------------------------------------- */

/* A timespec, for pthread_cond_timedwait and the purge deadline. */
static struct timespec mono_now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t;
}

static bool time_reached(struct timespec deadline, struct timespec now)
{
	return now.tv_sec > deadline.tv_sec ||
	       (now.tv_sec == deadline.tv_sec && now.tv_nsec >= deadline.tv_nsec);
}

/* ---- applying operations ---------------------------------------------- */

static bool terminated(const char *s, size_t cap)
{
	return memchr(s, '\0', cap) != NULL;
}

/*
 * Reject what the store could not even look at safely (unterminated
 * strings, lengths beyond the value buffer) before a transaction sees it,
 * so such an op is a refusal rather than a store failure.
 */
static int op_check(const acm_op_t *op)
{
	if (!terminated(op->actor, sizeof(op->actor)) ||
	    !terminated(op->source, sizeof(op->source)) ||
	    !terminated(op->cred.account, sizeof(op->cred.account)) ||
	    !terminated(op->cred.key_hash, sizeof(op->cred.key_hash)) ||
	    !terminated(op->cred.key_sha, sizeof(op->cred.key_sha)))
		return -EINVAL;
	switch (op->kind) {
	case ACM_OP_ACCOUNT_CREATE:
	case ACM_OP_ACCOUNT_UPDATE:
		return ACM_OK;
	case ACM_OP_TXT_REPLACE:
		if (!op->values && op->nvalues > 0)
			return -EINVAL;
		break;
	case ACM_OP_TXT_EXPECT:
		if (!op->values && op->nvalues > 0)
			return -EINVAL;
		if (op->expect != ACM_EXPECT_SOME && op->expect != ACM_EXPECT_NONE &&
		    op->expect != ACM_EXPECT_EQUAL)
			return -EINVAL;
		break;
	case ACM_OP_TXT_ADD:
	case ACM_OP_TXT_REMOVE:
	case ACM_OP_TXT_PUSH:
		if (op->len > ACM_TXT_MAX)
			return ACM_EBADVALUE;
		break;
	case ACM_OP_ACCOUNT_DELETE:
	case ACM_OP_DELEG_RECORD:
		break;
	default:
		return -EINVAL;
	}
	return terminated(op->subdomain, sizeof(op->subdomain)) ? ACM_OK : ACM_EBADNAME;
}

/* Apply only the requested fields over the account as stored now, so
 * concurrent updates of different fields do not undo each other. */
static int apply_update(acm_wtxn_t *w, const acm_op_t *op)
{
	if (op->fields == 0)
		return acm_wtxn_account_update(w, &op->account);
	acm_account_t cur;
	int rc = acm_wtxn_account_get(w, op->account.subdomain, &cur);
	if (rc != ACM_OK)
		return rc;
	if ((op->fields & ACM_FIELD_IF_BCRYPT) && cur.key_scheme != ACM_KEY_BCRYPT)
		return ACM_OK;
	if (op->fields & ACM_FIELD_KEY) {
		cur.key_scheme = op->account.key_scheme;
		memcpy(cur.key_hash, op->account.key_hash, sizeof(cur.key_hash));
	}
	if (op->fields & ACM_FIELD_FLAGS)
		cur.flags = op->account.flags;
	if (op->fields & ACM_FIELD_ALLOWFROM) {
		cur.allowfrom_count = op->account.allowfrom_count;
		memcpy(cur.allowfrom, op->account.allowfrom, sizeof(cur.allowfrom));
	}
	if (op->fields & ACM_FIELD_TSIG) {
		cur.tsig_alg = op->account.tsig_alg;
		cur.tsig_secret_len = op->account.tsig_secret_len;
		memcpy(cur.tsig_secret, op->account.tsig_secret, sizeof(cur.tsig_secret));
	}
	cur.updated = op->account.updated;
	return acm_wtxn_account_update(w, &cur);
}

/* Whether v is among the live values of cur[0..n). */
static bool live_has(const acm_txt_t *cur, size_t n, const acm_txt_t *v, uint64_t now)
{
	for (size_t i = 0; i < n; i++)
		if (!acm_expired(cur[i].expires, now) && cur[i].len == v->len &&
		    memcmp(cur[i].value, v->value, v->len) == 0)
			return true;
	return false;
}

/* Sets are equal when each holds every member of the other: that merges
 * duplicates on both sides without sorting. */
static bool live_equal(const acm_txt_t *cur, size_t n, const acm_op_t *op, uint64_t now)
{
	for (size_t i = 0; i < op->nvalues; i++)
		if (!live_has(cur, n, &op->values[i], now))
			return false;
	for (size_t i = 0; i < n; i++) {
		if (acm_expired(cur[i].expires, now))
			continue;
		bool found = false;
		for (size_t j = 0; !found && j < op->nvalues; j++)
			found = op->values[j].len == cur[i].len &&
			        memcmp(op->values[j].value, cur[i].value, cur[i].len) == 0;
		if (!found)
			return false;
	}
	return true;
}

static size_t live_count(const acm_txt_t *cur, size_t n, uint64_t now)
{
	size_t live = 0;
	for (size_t i = 0; i < n; i++)
		live += !acm_expired(cur[i].expires, now);
	return live;
}

static int apply_expect(acm_wtxn_t *w, const acm_op_t *op)
{
	acm_txt_t cur[ACM_RR_COUNT_MAX];
	size_t n = 0;
	int rc = acm_wtxn_txt_list(w, op->subdomain, cur, ACM_RR_COUNT_MAX, &n);
	if (rc == ACM_ENOTFOUND)
		n = 0;
	else if (rc != ACM_OK)
		return rc;
	if (n > ACM_RR_COUNT_MAX)
		return ACM_ECORRUPT;
	uint64_t now = acm_expiry_now();
	bool met;
	switch (op->expect) {
	case ACM_EXPECT_SOME:
		met = live_count(cur, n, now) > 0;
		break;
	case ACM_EXPECT_NONE:
		met = live_count(cur, n, now) == 0;
		break;
	default:
		met = live_equal(cur, n, op, now);
		break;
	}
	return met ? ACM_OK : ACM_EUNMET;
}

static bool is_txt_op(acm_op_kind_t kind)
{
	return kind != ACM_OP_ACCOUNT_CREATE && kind != ACM_OP_ACCOUNT_UPDATE &&
	       kind != ACM_OP_ACCOUNT_DELETE;
}

/* Do the credentials the submitter checked still hold, as this transaction
 * sees the account? See acm_op_cred_t for why a compare is enough. */
static int cred_check(acm_wtxn_t *w, const acm_op_cred_t *cred)
{
	acm_account_t cur;
	int rc;

	if ((rc = acm_wtxn_account_get(w, cred->account, &cur)) != ACM_OK)
		return rc;
	bool same = strcmp(cur.key_hash, cred->key_hash) == 0 ||
	            (cur.key_scheme == ACM_KEY_SHA256 && strcmp(cur.key_hash, cred->key_sha) == 0);
	return same && !(cur.flags & ACM_ACCOUNT_DISABLED) ? ACM_OK : ACM_ECREDS;
}

static int op_dispatch(acm_wtxn_t *w, const acm_op_t *op)
{
	if (op->cred.account[0] && is_txt_op(op->kind)) {
		int rc = cred_check(w, &op->cred);
		if (rc != ACM_OK)
			return rc;
	}
	switch (op->kind) {
	case ACM_OP_ACCOUNT_CREATE:
		return acm_wtxn_account_create(w, &op->account);
	case ACM_OP_ACCOUNT_UPDATE:
		return apply_update(w, op);
	case ACM_OP_ACCOUNT_DELETE:
		return acm_wtxn_account_delete(w, op->subdomain);
	case ACM_OP_TXT_ADD:
		return acm_wtxn_txt_add(w, op->subdomain, op->value, op->len, op->expires);
	case ACM_OP_TXT_REMOVE:
		return acm_wtxn_txt_remove(w, op->subdomain, op->value, op->len);
	case ACM_OP_TXT_REPLACE:
		return acm_wtxn_txt_replace(w, op->subdomain, op->values, op->nvalues);
	case ACM_OP_TXT_PUSH:
		return acm_wtxn_txt_push(w, op->subdomain, op->value, op->len, op->expires,
		                         op->keep);
	case ACM_OP_TXT_EXPECT:
		return apply_expect(w, op);
	case ACM_OP_DELEG_RECORD:
		return acm_wtxn_deleg_put(w, op->subdomain, &op->deleg);
	}
	return -EINVAL;
}

/*
 * The store's refusals (lib/store/store.h) leave the transaction usable; ERANGE is
 * the account check's refusal, ECREDS the credentials'. Anything unknown counts as poisoning: that
 * costs one submission a retry at worst, while the opposite mistake would
 * fail the whole batch at commit.
 */
static bool is_refusal(int rc)
{
	return rc == ACM_EEXIST || rc == ACM_ENOTFOUND || rc == ACM_EFULL ||
	       rc == ACM_EABSENT || rc == ACM_EBADVALUE || rc == ACM_EBADNAME ||
	       rc == ACM_ERANGE || rc == ACM_EUNMET || rc == ACM_EACCOUNTCAP ||
	       rc == ACM_ECREDS;
}

static const char *or_default(const char *s, const char *dflt)
{
	return s[0] ? s : dflt;
}

/* Apply one op; returns ACM_OK, or the error that poisoned the transaction. */
static int op_apply(acm_wtxn_t *w, acm_op_t *op)
{
	op->result = op_check(op);
	if (op->result != ACM_OK)
		return ACM_OK;    /* refused before the transaction saw it */
	acm_wtxn_set_actor(w, or_default(op->actor, "unknown"),
	                   or_default(op->source, "local"));
	op->result = op_dispatch(w, op);
	return op->result < 0 && !is_refusal(op->result) ? op->result : ACM_OK;
}

/* ---- batches ---------------------------------------------------------- */

static void sub_set_results(struct sub *s, int result, uint32_t serial)
{
	for (acm_op_t *op = s->ops; op; op = op->next) {
		if (result != ACM_OK)
			op->result = result;
		op->serial = serial;
	}
}

static bool op_failed(const acm_op_t *op)
{
	return op->result != ACM_OK && op->result != op->tolerate;
}

/* Apply a submission's ops in order; an atomic one stops at the first that
 * fails. Returns ACM_OK or the error that poisoned the transaction. */
static int sub_apply_ops(acm_wtxn_t *w, struct sub *s, acm_op_t **failed)
{
	*failed = NULL;
	for (acm_op_t *op = s->ops; op; op = op->next) {
		int rc = op_apply(w, op);
		if (rc != ACM_OK)
			return rc;
		if (s->atomic && op_failed(op)) {
			*failed = op;
			return ACM_OK;
		}
	}
	return ACM_OK;
}

/* Undo an atomic chain: every op but the one that failed is cancelled. */
static void sub_cancel(acm_wtxn_t *w, struct sub *s, const acm_op_t *failed)
{
	acm_wtxn_rollback(w);
	for (acm_op_t *op = s->ops; op; op = op->next)
		if (op != failed)
			op->result = -ECANCELED;
}

/* One submission; an atomic one inside a savepoint of its own, so that its
 * failure undoes exactly its own changes. */
static int sub_apply(acm_wtxn_t *w, struct sub *s)
{
	acm_op_t *failed;
	if (!s->atomic)
		return sub_apply_ops(w, s, &failed);
	int rc = acm_wtxn_savepoint(w);
	if (rc == ACM_OK)
		rc = sub_apply_ops(w, s, &failed);
	if (rc != ACM_OK)
		return rc;
	if (failed) {
		sub_cancel(w, s, failed);
		return ACM_OK;
	}
	return acm_wtxn_release(w);
}

/* Apply the live submissions; on a poisoning error, *culprit is its owner. */
static int batch_apply(acm_wtxn_t *w, struct sub *batch, struct sub **culprit)
{
	for (struct sub *s = batch; s; s = s->next) {
		if (s->err != ACM_OK)
			continue;
		int rc = sub_apply(w, s);
		if (rc != ACM_OK) {
			*culprit = s;
			return rc;
		}
	}
	return ACM_OK;
}

static size_t batch_live_ops(const struct sub *batch)
{
	size_t n = 0;
	for (const struct sub *s = batch; s; s = s->next)
		if (s->err == ACM_OK)
			n += s->nops;
	return n;
}

/*
 * Commit the batch in one transaction. A submission that poisons the
 * transaction is dropped (its err says why) and the rest are re-run in a
 * fresh one, so one bad write does not fail unrelated writers; each round
 * drops one submission, which bounds the retries.
 */
static int batch_commit(acm_commit_t *c, struct sub *batch, uint32_t *serial)
{
	while (batch_live_ops(batch) > 0) {
		acm_wtxn_t *w;
		int rc = acm_store_write_begin(c->store, &w);
		if (rc != ACM_OK)
			return rc;
		struct sub *culprit = NULL;
		rc = batch_apply(w, batch, &culprit);
		if (rc == ACM_OK)
			return acm_store_write_commit(w, serial);
		acm_store_write_abort(w);
		culprit->err = rc;
	}
	return ACM_OK;
}

static void stats_add_batch(acm_commit_t *c, size_t ops, uint64_t ns)
{
	pthread_mutex_lock(&c->mu);
	c->stats.batches++;
	c->stats.ops += ops;
	c->stats.last_batch = ops;
	if (ops > c->stats.max_batch)
		c->stats.max_batch = ops;
	c->stats.commit_ns_total += ns;
	pthread_mutex_unlock(&c->mu);
	if (c->observe)
		c->observe(c->observe_arg, ops, ns);
}

/* Report every submission, in the order they were queued, and free them. */
static void batch_finish(struct sub *batch, int rc, uint32_t serial)
{
	while (batch) {
		struct sub *s = batch;
		batch = s->next;
		int status = s->err != ACM_OK ? s->err : rc;
		sub_set_results(s, status, status == ACM_OK ? serial : 0);
		if (s->status)
			*s->status = status;
		s->done(s->ops, s->arg);
		free(s);
	}
}

static void batch_run(acm_commit_t *c, struct sub *batch)
{
	uint32_t serial = 0;
	uint64_t t0 = acm_mono_ns();
	int rc = batch_commit(c, batch, &serial);
	size_t ops = batch_live_ops(batch);

	if (rc == ACM_OK && ops > 0)
		stats_add_batch(c, ops, acm_mono_ns() - t0);
	batch_finish(batch, rc, serial);
}

/* Unlink whole submissions from the queue, up to max_batch ops (at least one). */
static struct sub *queue_take(acm_commit_t *c)
{
	struct sub *batch = c->head, *last = NULL;
	size_t ops = 0;

	for (struct sub *s = c->head; s; s = s->next) {
		if (last && ops + s->nops > c->max_batch)
			break;
		ops += s->nops;
		last = s;
	}
	if (!last)
		return NULL;
	c->head = last->next;
	if (!c->head)
		c->tail = NULL;
	last->next = NULL;
	return batch;
}

/* ---- expiry ----------------------------------------------------------- */

/* One sweep in its own transaction; returns how many values it removed. */
static size_t purge_once(acm_commit_t *c)
{
	acm_wtxn_t *w;
	size_t n = 0;

	if (acm_store_write_begin(c->store, &w) != ACM_OK)
		return 0;
	acm_wtxn_set_actor(w, "expiry", "local");
	int rc = acm_wtxn_purge_expired(w, acm_expiry_now(), PURGE_MAX, &n);
	if (rc != ACM_OK) {
		acm_store_write_abort(w);
		return 0;
	}
	return acm_store_write_commit(w, NULL) == ACM_OK ? n : 0;
}

static void purge_schedule(acm_commit_t *c, unsigned delay)
{
	c->next_purge = mono_now();
	c->next_purge.tv_sec += delay;
}

static bool purge_due(const acm_commit_t *c)
{
	return c->purge_interval > 0 && time_reached(c->next_purge, mono_now());
}

/* Called and returning with c->mu held. */
static void purge_run(acm_commit_t *c)
{
	pthread_mutex_unlock(&c->mu);
	size_t n = purge_once(c);
	pthread_mutex_lock(&c->mu);
	c->stats.purged += n;
	/* A capped sweep may have left more behind: go again once writers had
	 * their turn. */
	purge_schedule(c, n >= PURGE_MAX ? 0 : c->purge_interval);
}

/* ---- the committer thread --------------------------------------------- */

/* Called with c->mu held; returns when there is something to do. */
static void wait_for_work(acm_commit_t *c)
{
	while (!c->head && !c->stopping && !purge_due(c)) {
		if (c->purge_interval > 0)
			pthread_cond_timedwait(&c->wake, &c->mu, &c->next_purge);
		else
			pthread_cond_wait(&c->wake, &c->mu);
	}
}

static void *committer(void *arg)
{
	acm_commit_t *c = arg;

	pthread_mutex_lock(&c->mu);
	for (;;) {
		wait_for_work(c);
		if (!c->stopping && purge_due(c))
			purge_run(c);
		struct sub *batch = queue_take(c);
		if (batch) {
			pthread_mutex_unlock(&c->mu);
			batch_run(c, batch);
			pthread_mutex_lock(&c->mu);
		} else if (c->stopping) {
			break;
		}
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

/* ---- the public interface --------------------------------------------- */

static int sync_init(acm_commit_t *c)
{
	pthread_condattr_t ca;
	int rc = pthread_condattr_init(&ca);
	if (rc != 0)
		return -rc;
	/* The sweep timer must not jump with the wall clock. */
	rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (rc == 0)
		rc = pthread_cond_init(&c->wake, &ca);
	pthread_condattr_destroy(&ca);
	if (rc != 0)
		return -rc;
	rc = pthread_cond_init(&c->ran, NULL);
	if (rc != 0) {
		pthread_cond_destroy(&c->wake);
		return -rc;
	}
	rc = pthread_mutex_init(&c->mu, NULL);
	if (rc != 0) {
		pthread_cond_destroy(&c->ran);
		pthread_cond_destroy(&c->wake);
		return -rc;
	}
	return ACM_OK;
}

static void sync_destroy(acm_commit_t *c)
{
	pthread_cond_destroy(&c->ran);
	pthread_cond_destroy(&c->wake);
	pthread_mutex_destroy(&c->mu);
}

/* The committer thread must never run the daemon's signal handlers. */
static int thread_start(acm_commit_t *c)
{
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int rc = pthread_create(&c->thread, NULL, committer, c);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return -rc;
}

int acm_commit_start(acm_store_t *store, const acm_commit_opts_t *opts, acm_commit_t **out)
{
	*out = NULL;
	acm_commit_t *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->store = store;
	c->max_batch = opts && opts->max_batch ? opts->max_batch : DEFAULT_MAX_BATCH;
	c->purge_interval = opts ? opts->purge_interval : 0;
	c->observe = opts ? opts->observe : NULL;
	c->observe_arg = opts ? opts->observe_arg : NULL;
	purge_schedule(c, c->purge_interval);
	int rc = sync_init(c);
	if (rc == ACM_OK) {
		rc = thread_start(c);
		if (rc != ACM_OK)
			sync_destroy(c);
	}
	if (rc != ACM_OK) {
		free(c);
		return rc;
	}
	*out = c;
	return ACM_OK;
}

static int enqueue(acm_commit_t *c, acm_op_t *ops, bool atomic, acm_commit_done_fn done,
                   void *arg, int *status)
{
	if (!ops || !done)
		return -EINVAL;
	struct sub *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->ops = ops;
	s->done = done;
	s->arg = arg;
	s->status = status;
	s->atomic = atomic;
	for (acm_op_t *op = ops; op; op = op->next) {
		op->result = ACM_OK;
		op->serial = 0;
		s->nops++;
	}

	pthread_mutex_lock(&c->mu);
	bool stopping = c->stopping;
	if (!stopping) {
		if (c->tail)
			c->tail->next = s;
		else
			c->head = s;
		c->tail = s;
		pthread_cond_signal(&c->wake);
	}
	pthread_mutex_unlock(&c->mu);
	if (stopping) {
		free(s);
		return -ESHUTDOWN;
	}
	return ACM_OK;
}

int acm_commit_submit(acm_commit_t *c, acm_op_t *ops, acm_commit_done_fn done, void *arg)
{
	return enqueue(c, ops, false, done, arg, NULL);
}

int acm_commit_submit_atomic(acm_commit_t *c, acm_op_t *ops, acm_commit_done_fn done,
                             void *arg)
{
	return enqueue(c, ops, true, done, arg, NULL);
}

/*
 * acm_commit_run's rendezvous with the committer thread. It lives on the
 * caller's stack, so it holds nothing that must be torn down after the
 * committer's last touch: the flag is guarded by c->mu, which outlives it.
 */
struct waiter {
	acm_commit_t *c;
	bool done;
};

static void waiter_done(acm_op_t *first, void *arg)
{
	struct waiter *wt = arg;
	acm_commit_t *c = wt->c;
	(void)first;
	pthread_mutex_lock(&c->mu);
	wt->done = true;
	pthread_cond_broadcast(&c->ran);
	pthread_mutex_unlock(&c->mu);
}

static int run(acm_commit_t *c, acm_op_t *ops, bool atomic)
{
	struct waiter wt = { .c = c, .done = false };
	int status = ACM_OK;
	int rc = enqueue(c, ops, atomic, waiter_done, &wt, &status);
	if (rc != ACM_OK)
		return rc;
	pthread_mutex_lock(&c->mu);
	while (!wt.done)
		pthread_cond_wait(&c->ran, &c->mu);
	pthread_mutex_unlock(&c->mu);
	return status;
}

int acm_commit_run(acm_commit_t *c, acm_op_t *ops)
{
	return run(c, ops, false);
}

int acm_commit_run_atomic(acm_commit_t *c, acm_op_t *ops)
{
	return run(c, ops, true);
}

void acm_commit_get_stats(acm_commit_t *c, acm_commit_stats_t *out)
{
	pthread_mutex_lock(&c->mu);
	*out = c->stats;
	pthread_mutex_unlock(&c->mu);
}

void acm_commit_close(acm_commit_t *c)
{
	pthread_mutex_lock(&c->mu);
	c->stopping = true;
	pthread_cond_signal(&c->wake);
	pthread_mutex_unlock(&c->mu);
}

void acm_commit_drain(acm_commit_t *c)
{
	acm_commit_close(c);
	if (c->joined)
		return;
	pthread_join(c->thread, NULL);
	c->joined = true;
}

void acm_commit_free(acm_commit_t *c)
{
	if (!c)
		return;
	acm_commit_drain(c);
	sync_destroy(c);
	free(c);
}

void acm_commit_stop(acm_commit_t *c)
{
	acm_commit_free(c);
}
