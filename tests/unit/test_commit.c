/* SPDX-License-Identifier: ISC */
/*
 * Unit tests of group commit (lib/store/commit.c) on a real store: every test
 * works in its own temporary directory. Callbacks run on the committer
 * thread, where cmocka's asserts must not be used, so they only record what
 * they saw and the test thread checks it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/store/commit.h"
#include "lib/dns/dname.h"
#include "lib/error.h"
#include "lib/store/store.h"

struct fx {
	char dir[64];
	uint8_t apex[ACM_DNAME_MAX];
	acm_store_t *s;
	acm_commit_t *c;
};

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void fx_stop(struct fx *f)
{
	acm_commit_stop(f->c);
	f->c = NULL;
	acm_store_close(f->s);
	f->s = NULL;
}

/* (Re)open the store and start a committer on it. */
static void fx_start(struct fx *f, const acm_store_opts_t *so, const acm_commit_opts_t *co)
{
	fx_stop(f);
	assert_int_equal(acm_store_open(f->dir, f->apex, so, &f->s), ACM_OK);
	assert_int_equal(acm_commit_start(f->s, co, &f->c), ACM_OK);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	strcpy(f->dir, "/tmp/acmens-commit-XXXXXX");
	if (!mkdtemp(f->dir) ||
	    acm_dname_from_text("acme.example.org.", f->apex) <= 0) {
		free(f);
		return -1;
	}
	if (acm_store_open(f->dir, f->apex, NULL, &f->s) != ACM_OK ||
	    acm_commit_start(f->s, NULL, &f->c) != ACM_OK) {
		acm_store_close(f->s);
		nftw(f->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	fx_stop(f);
	nftw(f->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* ---- building operations ----------------------------------------------- */

static acm_account_t account(const char *sub)
{
	acm_account_t a;
	memset(&a, 0, sizeof(a));
	snprintf(a.subdomain, sizeof(a.subdomain), "%s", sub);
	snprintf(a.username, sizeof(a.username), "user-%s", sub);
	a.key_scheme = ACM_KEY_SHA256;
	strcpy(a.key_hash, "00");
	return a;
}

static void op_account(acm_op_t *op, const char *sub)
{
	memset(op, 0, sizeof(*op));
	op->kind = ACM_OP_ACCOUNT_CREATE;
	op->account = account(sub);
}

static void op_txt(acm_op_t *op, acm_op_kind_t kind, const char *sub, const char *value,
                   uint64_t expires)
{
	memset(op, 0, sizeof(*op));
	op->kind = kind;
	snprintf(op->subdomain, sizeof(op->subdomain), "%s", sub);
	op->len = strlen(value);
	memcpy(op->value, value, op->len);
	op->expires = expires;
}

static void chain(acm_op_t *ops, size_t n)
{
	for (size_t i = 0; i + 1 < n; i++)
		ops[i].next = &ops[i + 1];
	ops[n - 1].next = NULL;
}

/* Accounts sub-0 .. sub-(n-1) (with the given prefix), in one transaction. */
static void make_accounts(acm_store_t *s, const char *prefix, int n)
{
	acm_wtxn_t *w;
	char sub[32];

	assert_int_equal(acm_store_write_begin(s, &w), ACM_OK);
	for (int i = 0; i < n; i++) {
		snprintf(sub, sizeof(sub), "%s-%d", prefix, i);
		acm_account_t a = account(sub);
		assert_int_equal(acm_wtxn_account_create(w, &a), ACM_OK);
	}
	assert_int_equal(acm_store_write_commit(w, NULL), ACM_OK);
}

static uint32_t serial_of(acm_store_t *s)
{
	uint32_t sn = 0;
	assert_int_equal(acm_store_serial(s, &sn), ACM_OK);
	return sn;
}

static bool has_value(acm_store_t *s, const char *sub, const char *value)
{
	acm_txt_t vals[16];
	size_t n = 0;

	assert_int_equal(acm_store_txt_list(s, sub, vals, 16, &n), ACM_OK);
	for (size_t i = 0; i < n && i < 16; i++)
		if (vals[i].len == strlen(value) && memcmp(vals[i].value, value, vals[i].len) == 0)
			return true;
	return false;
}

/* ---- completion tracking ------------------------------------------------ */

struct tally {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int done;
	int bad;               /* ops whose result was not ACM_OK */
};

static void tally_init(struct tally *t)
{
	memset(t, 0, sizeof(*t));
	pthread_mutex_init(&t->mu, NULL);
	pthread_cond_init(&t->cv, NULL);
}

static void tally_destroy(struct tally *t)
{
	pthread_cond_destroy(&t->cv);
	pthread_mutex_destroy(&t->mu);
}

static void count_done(acm_op_t *first, void *arg)
{
	struct tally *t = arg;
	int bad = 0;
	for (acm_op_t *op = first; op; op = op->next)
		if (op->result != ACM_OK || op->serial == 0)
			bad++;
	pthread_mutex_lock(&t->mu);
	t->bad += bad;
	t->done++;
	pthread_cond_broadcast(&t->cv);
	pthread_mutex_unlock(&t->mu);
}

/* Wait (at most 30 s) for want callbacks; returns how many ops went wrong. */
static int tally_wait(struct tally *t, int want)
{
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 30;
	pthread_mutex_lock(&t->mu);
	while (t->done < want &&
	       pthread_cond_timedwait(&t->cv, &t->mu, &deadline) != ETIMEDOUT)
		;
	int done = t->done, bad = t->bad;
	pthread_mutex_unlock(&t->mu);
	assert_int_equal(done, want);
	return bad;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/*
 * A done callback that holds the committer thread until released, so the
 * test can queue several submissions and know they form the next batch.
 */
struct gate {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool entered, open;
	int resubmit;          /* what a submit from inside the callback returned */
	acm_commit_t *c;       /* where to resubmit; NULL = don't */
	acm_op_t extra;
};

static void gate_init(struct gate *g)
{
	memset(g, 0, sizeof(*g));
	pthread_mutex_init(&g->mu, NULL);
	pthread_cond_init(&g->cv, NULL);
}

static void gate_destroy(struct gate *g)
{
	pthread_cond_destroy(&g->cv);
	pthread_mutex_destroy(&g->mu);
}

static void ignore_done(acm_op_t *first, void *arg)
{
	(void)first;
	(void)arg;
}

static void gate_done(acm_op_t *first, void *arg)
{
	struct gate *g = arg;
	(void)first;
	pthread_mutex_lock(&g->mu);
	g->entered = true;
	pthread_cond_broadcast(&g->cv);
	while (!g->open)
		pthread_cond_wait(&g->cv, &g->mu);
	if (g->c) {
		op_txt(&g->extra, ACM_OP_TXT_ADD, "gate-0", "late", 0);
		g->resubmit = acm_commit_submit(g->c, &g->extra, ignore_done, NULL);
	}
	pthread_mutex_unlock(&g->mu);
}

static void gate_wait_entered(struct gate *g)
{
	pthread_mutex_lock(&g->mu);
	while (!g->entered)
		pthread_cond_wait(&g->cv, &g->mu);
	pthread_mutex_unlock(&g->mu);
}

static void gate_release(struct gate *g)
{
	pthread_mutex_lock(&g->mu);
	g->open = true;
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->mu);
}

/* Block the committer of c inside a done callback of one harmless op. */
static void gate_close(struct gate *g, acm_commit_t *c, acm_op_t *op)
{
	op_txt(op, ACM_OP_TXT_ADD, "gate-0", "gate", 0);
	assert_int_equal(acm_commit_submit(c, op, gate_done, g), ACM_OK);
	gate_wait_entered(g);
}

/* ---- tests -------------------------------------------------------------- */

static void test_run_single(void **state)
{
	struct fx *f = *state;
	acm_op_t op;
	acm_account_t got;

	op_account(&op, "one");
	assert_int_equal(acm_commit_run(f->c, &op), ACM_OK);
	assert_int_equal(op.result, ACM_OK);
	assert_int_equal(op.serial, serial_of(f->s));
	assert_int_equal(acm_store_account_get(f->s, "one", &got), ACM_OK);
	assert_string_equal(got.username, "user-one");

	/* A refusal is the op's result; the commit itself still happened. */
	assert_int_equal(acm_commit_run(f->c, &op), ACM_OK);
	assert_int_equal(op.result, ACM_EEXIST);
}

static void test_chain_one_serial(void **state)
{
	struct fx *f = *state;
	acm_op_t ops[3];

	make_accounts(f->s, "c", 1);
	uint32_t before = serial_of(f->s);
	op_txt(&ops[0], ACM_OP_TXT_ADD, "c-0", "a", 0);
	op_txt(&ops[1], ACM_OP_TXT_ADD, "c-0", "b", 0);
	op_txt(&ops[2], ACM_OP_TXT_ADD, "c-0", "c", 0);
	chain(ops, 3);
	assert_int_equal(acm_commit_run(f->c, ops), ACM_OK);
	assert_int_equal(serial_of(f->s), before + 1);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(ops[i].result, ACM_OK);
		assert_int_equal(ops[i].serial, before + 1);
	}
	assert_true(has_value(f->s, "c-0", "a") && has_value(f->s, "c-0", "c"));
}

static void test_chain_refusal(void **state)
{
	struct fx *f = *state;
	acm_op_t ops[4];

	make_accounts(f->s, "r", 1);
	uint32_t before = serial_of(f->s);
	op_txt(&ops[0], ACM_OP_TXT_ADD, "r-0", "a", 0);
	op_txt(&ops[1], ACM_OP_TXT_ADD, "r-0", "a", 0);
	op_txt(&ops[2], ACM_OP_TXT_ADD, "nobody", "x", 0);
	op_txt(&ops[3], ACM_OP_TXT_ADD, "r-0", "b", 0);
	chain(ops, 4);
	assert_int_equal(acm_commit_run(f->c, ops), ACM_OK);
	assert_int_equal(ops[0].result, ACM_OK);
	assert_int_equal(ops[1].result, ACM_EEXIST);
	assert_int_equal(ops[2].result, ACM_ENOTFOUND);
	assert_int_equal(ops[3].result, ACM_OK);
	assert_int_equal(serial_of(f->s), before + 1);
	assert_true(has_value(f->s, "r-0", "a"));
	assert_true(has_value(f->s, "r-0", "b"));
}

/* What the store could not read safely is refused before it sees it. */
static void test_invalid_ops(void **state)
{
	struct fx *f = *state;
	acm_op_t ops[5];

	make_accounts(f->s, "v", 1);
	op_txt(&ops[0], ACM_OP_TXT_REPLACE, "v-0", "", 0);
	ops[0].nvalues = 1;
	op_txt(&ops[1], ACM_OP_TXT_ADD, "v-0", "x", 0);
	ops[1].len = ACM_TXT_MAX + 1;
	op_txt(&ops[2], ACM_OP_TXT_ADD, "v-0", "ok", 0);
	op_txt(&ops[3], ACM_OP_TXT_ADD, "v-0", "y", 0);
	memset(ops[3].subdomain, 'a', sizeof(ops[3].subdomain));
	op_txt(&ops[4], ACM_OP_TXT_ADD, "v-0", "z", 0);
	ops[4].kind = (acm_op_kind_t)99;
	chain(ops, 5);
	assert_int_equal(acm_commit_run(f->c, ops), ACM_OK);
	assert_int_equal(ops[0].result, -EINVAL);
	assert_int_equal(ops[1].result, ACM_EBADVALUE);
	assert_int_equal(ops[2].result, ACM_OK);
	assert_int_equal(ops[3].result, ACM_EBADNAME);
	assert_int_equal(ops[4].result, -EINVAL);
	assert_true(has_value(f->s, "v-0", "ok"));
	assert_int_equal(acm_commit_submit(f->c, NULL, ignore_done, NULL), -EINVAL);
}

#define THREADS 8
#define PER_THREAD 200

struct writer {
	acm_commit_t *c;
	struct tally *t;
	int id;
	acm_op_t ops[PER_THREAD];
	int failed_submits;
};

static void *writer_main(void *arg)
{
	struct writer *wr = arg;
	char sub[32], value[32];

	for (int i = 0; i < PER_THREAD; i++) {
		snprintf(sub, sizeof(sub), "w-%d", wr->id * PER_THREAD + i);
		snprintf(value, sizeof(value), "value-%d-%d", wr->id, i);
		op_txt(&wr->ops[i], ACM_OP_TXT_ADD, sub, value, 0);
		if (acm_commit_submit(wr->c, &wr->ops[i], count_done, wr->t) != ACM_OK)
			wr->failed_submits++;
	}
	return NULL;
}

static void test_concurrent(void **state)
{
	struct fx *f = *state;
	struct tally t;
	struct writer *wr = calloc(THREADS, sizeof(*wr));
	pthread_t th[THREADS];
	char sub[32], value[32];

	assert_non_null(wr);
	tally_init(&t);
	make_accounts(f->s, "w", THREADS * PER_THREAD);
	uint32_t before = serial_of(f->s);
	for (int i = 0; i < THREADS; i++) {
		wr[i] = (struct writer){ .c = f->c, .t = &t, .id = i };
		assert_int_equal(pthread_create(&th[i], NULL, writer_main, &wr[i]), 0);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(wr[i].failed_submits, 0);
	}
	assert_int_equal(tally_wait(&t, THREADS * PER_THREAD), 0);
	tally_destroy(&t);

	uint32_t after = serial_of(f->s);
	for (int i = 0; i < THREADS; i++) {
		for (int j = 0; j < PER_THREAD; j++) {
			assert_in_range(wr[i].ops[j].serial, before + 1, after);
			snprintf(sub, sizeof(sub), "w-%d", i * PER_THREAD + j);
			snprintf(value, sizeof(value), "value-%d-%d", i, j);
			assert_true(has_value(f->s, sub, value));
		}
	}
	acm_commit_stats_t st;
	acm_commit_get_stats(f->c, &st);
	assert_int_equal(st.ops, THREADS * PER_THREAD);
	assert_int_equal(st.batches, after - before);
	assert_true(st.batches < THREADS * PER_THREAD);
	assert_true(st.max_batch > 1);
	assert_true(st.commit_ns_total > 0);
	free(wr);
}

/* Queued submissions form one batch; one that poisons the transaction is
 * dropped and the others are committed without it. */
static void test_poison_retry(void **state)
{
	struct fx *f = *state;
	/* Room for ordinary writes but not for BIG padded accounts. */
	acm_store_opts_t so = { .mapsize = 256 * 1024 };
	enum { BIG = 2000 };
	acm_op_t gate_op, small[2], *big = calloc(BIG, sizeof(*big));
	struct tally t, tbig;
	struct gate g;
	char sub[32];

	assert_non_null(big);
	fx_start(f, &so, NULL);
	make_accounts(f->s, "p", 1);
	make_accounts(f->s, "gate", 1);
	for (int i = 0; i < BIG; i++) {
		snprintf(sub, sizeof(sub), "big-%d", i);
		op_account(&big[i], sub);
		memset(big[i].account.key_hash, 'k', ACM_KEYHASH_MAX);
	}
	chain(big, BIG);
	op_txt(&small[0], ACM_OP_TXT_ADD, "p-0", "first", 0);
	op_txt(&small[1], ACM_OP_TXT_ADD, "p-0", "last", 0);

	tally_init(&t);
	tally_init(&tbig);
	gate_init(&g);
	gate_close(&g, f->c, &gate_op);
	uint32_t before = serial_of(f->s);
	assert_int_equal(acm_commit_submit(f->c, &small[0], count_done, &t), ACM_OK);
	assert_int_equal(acm_commit_submit(f->c, big, count_done, &tbig), ACM_OK);
	assert_int_equal(acm_commit_submit(f->c, &small[1], count_done, &t), ACM_OK);
	gate_release(&g);
	assert_int_equal(tally_wait(&t, 2), 0);
	assert_int_equal(tally_wait(&tbig, 1), BIG);
	tally_destroy(&t);
	tally_destroy(&tbig);
	gate_destroy(&g);

	for (int i = 0; i < BIG; i++) {
		assert_int_equal(big[i].result, ACM_ESTOREFULL);
		assert_int_equal(big[i].serial, 0);
	}
	assert_int_equal(serial_of(f->s), before + 1);
	assert_int_equal(small[0].serial, before + 1);
	assert_true(has_value(f->s, "p-0", "first"));
	assert_true(has_value(f->s, "p-0", "last"));
	acm_account_t a;
	assert_int_equal(acm_store_account_get(f->s, "big-0", &a), ACM_ENOTFOUND);

	acm_commit_stats_t st;
	acm_commit_get_stats(f->c, &st);
	assert_int_equal(st.last_batch, 2);
	/* Alone, the same chain fails acm_commit_run as a whole. */
	assert_int_equal(acm_commit_run(f->c, big), ACM_ESTOREFULL);
	free(big);
}

/* Batches stop at max_batch ops but never split a submission. */
static void test_max_batch(void **state)
{
	struct fx *f = *state;
	acm_commit_opts_t co = { .max_batch = 2 };
	acm_op_t gate_op, one[2], three[3];
	struct tally t;
	struct gate g;

	fx_start(f, NULL, &co);
	make_accounts(f->s, "gate", 1);
	make_accounts(f->s, "m", 5);
	op_txt(&one[0], ACM_OP_TXT_ADD, "m-0", "a", 0);
	op_txt(&one[1], ACM_OP_TXT_ADD, "m-1", "a", 0);
	op_txt(&three[0], ACM_OP_TXT_ADD, "m-2", "a", 0);
	op_txt(&three[1], ACM_OP_TXT_ADD, "m-3", "a", 0);
	op_txt(&three[2], ACM_OP_TXT_ADD, "m-4", "a", 0);
	chain(three, 3);

	tally_init(&t);
	gate_init(&g);
	gate_close(&g, f->c, &gate_op);
	uint32_t before = serial_of(f->s);
	assert_int_equal(acm_commit_submit(f->c, &one[0], count_done, &t), ACM_OK);
	assert_int_equal(acm_commit_submit(f->c, &three[0], count_done, &t), ACM_OK);
	assert_int_equal(acm_commit_submit(f->c, &one[1], count_done, &t), ACM_OK);
	gate_release(&g);
	assert_int_equal(tally_wait(&t, 3), 0);
	tally_destroy(&t);
	gate_destroy(&g);

	assert_int_equal(serial_of(f->s), before + 3);
	assert_int_equal(one[0].serial, before + 1);
	for (int i = 0; i < 3; i++)
		assert_int_equal(three[i].serial, before + 2);
	assert_int_equal(one[1].serial, before + 3);
	acm_commit_stats_t st;
	acm_commit_get_stats(f->c, &st);
	assert_int_equal(st.max_batch, 3);
}

static void test_stop_drains(void **state)
{
	struct fx *f = *state;
	enum { N = 50 };
	acm_op_t ops[N];
	struct tally t;
	char sub[32], value[32];

	tally_init(&t);
	make_accounts(f->s, "d", N);
	for (int i = 0; i < N; i++) {
		snprintf(sub, sizeof(sub), "d-%d", i);
		snprintf(value, sizeof(value), "drained-%d", i);
		op_txt(&ops[i], ACM_OP_TXT_ADD, sub, value, 0);
		assert_int_equal(acm_commit_submit(f->c, &ops[i], count_done, &t), ACM_OK);
	}
	acm_commit_stop(f->c);
	f->c = NULL;
	/* Stopping waited for every callback already. */
	assert_int_equal(t.done, N);
	assert_int_equal(t.bad, 0);
	tally_destroy(&t);

	fx_start(f, NULL, NULL);
	for (int i = 0; i < N; i++) {
		snprintf(sub, sizeof(sub), "d-%d", i);
		snprintf(value, sizeof(value), "drained-%d", i);
		assert_true(has_value(f->s, sub, value));
	}
}

/*
 * Stopping while the committer is busy: a submission made once stopping
 * began is refused, what was queued before is committed; and once the
 * committer thread is gone, a submission (or a run, which would otherwise
 * wait for ever) is refused at once.
 */
static void test_submit_after_stop(void **state)
{
	struct fx *f = *state;
	acm_commit_t *c2;
	acm_op_t gate_op, late;
	struct gate g;

	make_accounts(f->s, "gate", 1);
	assert_int_equal(acm_commit_start(f->s, NULL, &c2), ACM_OK);
	gate_init(&g);
	g.c = c2;
	gate_close(&g, c2, &gate_op);
	acm_commit_close(c2);         /* returns once stopping began */
	gate_release(&g);             /* the callback now submits: refused */
	acm_commit_drain(c2);         /* the committer is gone, c2 still valid */
	assert_int_equal(g.resubmit, -ESHUTDOWN);
	op_txt(&late, ACM_OP_TXT_ADD, "gate-0", "later", 0);
	assert_int_equal(acm_commit_submit(c2, &late, ignore_done, NULL), -ESHUTDOWN);
	assert_int_equal(acm_commit_run(c2, &late), -ESHUTDOWN);
	acm_commit_free(c2);
	gate_destroy(&g);
	assert_int_equal(gate_op.result, ACM_OK);
	assert_true(has_value(f->s, "gate-0", "gate"));
	assert_false(has_value(f->s, "gate-0", "late"));
	assert_false(has_value(f->s, "gate-0", "later"));
}

static void test_purge(void **state)
{
	struct fx *f = *state;
	acm_commit_opts_t co = { .purge_interval = 1 };
	acm_op_t ops[2];
	acm_commit_stats_t st;

	fx_start(f, NULL, &co);
	make_accounts(f->s, "e", 1);
	uint64_t now = (uint64_t)time(NULL);
	op_txt(&ops[0], ACM_OP_TXT_ADD, "e-0", "short", now + 1);
	op_txt(&ops[1], ACM_OP_TXT_ADD, "e-0", "forever", 0);
	chain(ops, 2);
	assert_int_equal(acm_commit_run(f->c, ops), ACM_OK);
	assert_int_equal(ops[0].result, ACM_OK);
	assert_true(has_value(f->s, "e-0", "short"));

	sleep_ms(2500);
	for (int i = 0; i < 30 && has_value(f->s, "e-0", "short"); i++)
		sleep_ms(100);
	assert_false(has_value(f->s, "e-0", "short"));
	assert_true(has_value(f->s, "e-0", "forever"));
	acm_commit_get_stats(f->c, &st);
	assert_true(st.purged >= 1);
}

/* The audit log names the op's actor, or the defaults when it has none. */
struct audit_seen {
	bool named, unnamed;
};

static int audit_visit(uint64_t seq, const char *json, size_t len, void *ctx)
{
	struct audit_seen *seen = ctx;
	char buf[4096];
	(void)seq;
	snprintf(buf, sizeof(buf), "%.*s", (int)len, json);
	if (strstr(buf, "account:bob") && strstr(buf, "192.0.2.1"))
		seen->named = true;
	if (strstr(buf, "unknown") && strstr(buf, "local"))
		seen->unnamed = true;
	return 0;
}

static void test_actor(void **state)
{
	struct fx *f = *state;
	acm_op_t ops[2];
	struct audit_seen seen = { false, false };

	make_accounts(f->s, "a", 2);
	op_txt(&ops[0], ACM_OP_TXT_ADD, "a-0", "by-bob", 0);
	strcpy(ops[0].actor, "account:bob");
	strcpy(ops[0].source, "192.0.2.1");
	op_txt(&ops[1], ACM_OP_TXT_ADD, "a-1", "by-nobody", 0);
	chain(ops, 2);
	assert_int_equal(acm_commit_run(f->c, ops), ACM_OK);
	assert_int_equal(acm_store_audit_list(f->s, 0, "a-0", 0, audit_visit, &seen), 0);
	assert_true(seen.named);
	assert_int_equal(acm_store_audit_list(f->s, 0, "a-1", 0, audit_visit, &seen), 0);
	assert_true(seen.unnamed);
}

/* Two updates of different fields, prepared from the same old copy of the
 * account (a key rotation and an admin's disable racing), both stick. */
static void test_update_fields(void **state)
{
	struct fx *f = *state;
	acm_op_t op[2];
	acm_account_t stale, got;

	op_account(&op[0], "fld");
	assert_int_equal(acm_commit_run(f->c, &op[0]), ACM_OK);
	assert_int_equal(acm_store_account_get(f->s, "fld", &stale), ACM_OK);

	memset(op, 0, sizeof(op));
	op[0].kind = op[1].kind = ACM_OP_ACCOUNT_UPDATE;
	op[0].account = op[1].account = stale;
	op[0].fields = ACM_FIELD_FLAGS;
	op[0].account.flags |= ACM_ACCOUNT_DISABLED;
	op[1].fields = ACM_FIELD_KEY;
	memset(op[1].account.key_hash, 'b', 64);
	op[1].account.key_hash[64] = '\0';
	chain(op, 2);
	assert_int_equal(acm_commit_run(f->c, op), ACM_OK);
	assert_int_equal(op[0].result, ACM_OK);
	assert_int_equal(op[1].result, ACM_OK);
	assert_int_equal(acm_store_account_get(f->s, "fld", &got), ACM_OK);
	assert_true(got.flags & ACM_ACCOUNT_DISABLED);
	assert_string_equal(got.key_hash, op[1].account.key_hash);

	/* A field update of an account that is gone is refused. */
	memset(&op[0], 0, sizeof(op[0]));
	op[0].kind = ACM_OP_ACCOUNT_UPDATE;
	op[0].fields = ACM_FIELD_KEY;
	snprintf(op[0].account.subdomain, sizeof(op[0].account.subdomain), "nope");
	assert_int_equal(acm_commit_run(f->c, &op[0]), ACM_OK);
	assert_int_equal(op[0].result, ACM_ENOTFOUND);
}

/* A TSIG key update and a disable from the same stale copy both stick, and
 * the key survives a later update of another field. */
static void test_update_tsig(void **state)
{
	struct fx *f = *state;
	acm_op_t op[2];
	acm_account_t stale, got;

	op_account(&op[0], "tsk");
	assert_int_equal(acm_commit_run(f->c, &op[0]), ACM_OK);
	assert_int_equal(acm_store_account_get(f->s, "tsk", &stale), ACM_OK);
	assert_int_equal(stale.tsig_alg, 0);

	memset(op, 0, sizeof(op));
	op[0].kind = op[1].kind = ACM_OP_ACCOUNT_UPDATE;
	op[0].account = op[1].account = stale;
	op[0].fields = ACM_FIELD_TSIG;
	assert_int_equal(acm_account_tsig_new(&op[0].account, ACM_TSIG_HMAC_SHA384), ACM_OK);
	op[1].fields = ACM_FIELD_FLAGS;
	op[1].account.flags |= ACM_ACCOUNT_DISABLED;
	chain(op, 2);
	assert_int_equal(acm_commit_run(f->c, op), ACM_OK);
	assert_int_equal(op[0].result, ACM_OK);
	assert_int_equal(op[1].result, ACM_OK);
	assert_int_equal(acm_store_account_get(f->s, "tsk", &got), ACM_OK);
	assert_true(got.flags & ACM_ACCOUNT_DISABLED);
	assert_int_equal(got.tsig_alg, ACM_TSIG_HMAC_SHA384);
	assert_int_equal(got.tsig_secret_len, 48);
	assert_memory_equal(got.tsig_secret, op[0].account.tsig_secret, 48);
}

/* An imported account's key upgrade applies while the stored key is
 * bcrypt, and not over a key rotation that committed before it. */
static void test_update_if_bcrypt(void **state)
{
	struct fx *f = *state;
	acm_op_t op[2];
	acm_account_t got;

	op_account(&op[0], "imp");
	op[0].account.key_scheme = ACM_KEY_BCRYPT;
	strcpy(op[0].account.key_hash, "$2a$10$R0Y3pS/wQs3vJYVToaLmWOEQkK9fytT274r0eYc5xM19vkblU0P1W");
	assert_int_equal(acm_commit_run(f->c, &op[0]), ACM_OK);
	assert_int_equal(op[0].result, ACM_OK);

	/* A rotation, then the upgrade, in one chain: the rotation wins. */
	memset(op, 0, sizeof(op));
	op[0].kind = op[1].kind = ACM_OP_ACCOUNT_UPDATE;
	op[0].account = op[1].account = account("imp");
	op[0].fields = ACM_FIELD_KEY;
	memset(op[0].account.key_hash, 'r', 64);
	op[0].account.key_hash[64] = '\0';
	op[1].fields = ACM_FIELD_KEY | ACM_FIELD_IF_BCRYPT;
	memset(op[1].account.key_hash, 'u', 64);
	op[1].account.key_hash[64] = '\0';
	chain(op, 2);
	assert_int_equal(acm_commit_run(f->c, op), ACM_OK);
	assert_int_equal(op[1].result, ACM_OK);
	assert_int_equal(acm_store_account_get(f->s, "imp", &got), ACM_OK);
	assert_int_equal(got.key_scheme, ACM_KEY_SHA256);
	assert_string_equal(got.key_hash, op[0].account.key_hash);

	/* On a bcrypt account the upgrade applies. */
	op_account(&op[0], "imp2");
	op[0].account.key_scheme = ACM_KEY_BCRYPT;
	strcpy(op[0].account.key_hash, "$2b$04$XCqzGb2TZWNBZkXHKByy1ejGkeHAf6JaX5rRSmEwSoA8jc5AApR16");
	assert_int_equal(acm_commit_run(f->c, &op[0]), ACM_OK);
	op[1].account = account("imp2");
	memset(op[1].account.key_hash, 'u', 64);
	op[1].account.key_hash[64] = '\0';
	op[1].next = NULL;
	assert_int_equal(acm_commit_run(f->c, &op[1]), ACM_OK);
	assert_int_equal(op[1].result, ACM_OK);
	assert_int_equal(acm_store_account_get(f->s, "imp2", &got), ACM_OK);
	assert_int_equal(got.key_scheme, ACM_KEY_SHA256);
	assert_string_equal(got.key_hash, op[1].account.key_hash);
}

/* ---- atomic chains --------------------------------------------------------- */

static void op_expect(acm_op_t *op, const char *sub, int expect, const acm_txt_t *values,
                      size_t n)
{
	op_txt(op, ACM_OP_TXT_EXPECT, sub, "", 0);
	op->expect = expect;
	op->values = values;
	op->nvalues = n;
}

static acm_txt_t txt_of(const char *v)
{
	acm_txt_t t;
	memset(&t, 0, sizeof(t));
	t.len = strlen(v);
	memcpy(t.value, v, t.len);
	return t;
}

/* An atomic chain applies in order: a delete-then-add of the same value
 * leaves it there; tolerated refusals do not stop it. */
static void test_atomic_order(void **state)
{
	struct fx *f = *state;
	acm_op_t ops[4];

	make_accounts(f->s, "o", 1);
	assert_int_equal(acm_store_txt_add(f->s, "o-0", "old", 3, 0, NULL), ACM_OK);
	uint32_t before = serial_of(f->s);
	op_txt(&ops[0], ACM_OP_TXT_REPLACE, "o-0", "", 0);
	op_txt(&ops[1], ACM_OP_TXT_ADD, "o-0", "new", 0);
	op_txt(&ops[2], ACM_OP_TXT_ADD, "o-0", "new", 0);
	ops[2].tolerate = ACM_EEXIST;
	op_txt(&ops[3], ACM_OP_TXT_REMOVE, "o-0", "absent", 0);
	ops[3].tolerate = ACM_EABSENT;
	chain(ops, 4);
	assert_int_equal(acm_commit_run_atomic(f->c, ops), ACM_OK);
	assert_int_equal(ops[0].result, ACM_OK);
	assert_int_equal(ops[2].result, ACM_EEXIST);
	assert_int_equal(ops[3].result, ACM_EABSENT);
	assert_int_equal(serial_of(f->s), before + 1);
	assert_false(has_value(f->s, "o-0", "old"));
	assert_true(has_value(f->s, "o-0", "new"));
}

/* A failing op undoes the chain's earlier writes and skips the later ones;
 * the others are cancelled, and no serial is spent. */
static void test_atomic_rollback(void **state)
{
	struct fx *f = *state;
	acm_op_t ops[4];

	make_accounts(f->s, "a", 1);
	assert_int_equal(acm_store_txt_add(f->s, "a-0", "old", 3, 0, NULL), ACM_OK);
	uint32_t before = serial_of(f->s);
	op_txt(&ops[0], ACM_OP_TXT_ADD, "a-0", "one", 0);
	op_txt(&ops[1], ACM_OP_TXT_REMOVE, "a-0", "old", 0);
	op_txt(&ops[2], ACM_OP_TXT_ADD, "a-0", "one", 0);     /* EEXIST, not tolerated */
	op_txt(&ops[3], ACM_OP_TXT_ADD, "a-0", "two", 0);
	chain(ops, 4);
	assert_int_equal(acm_commit_run_atomic(f->c, ops), ACM_OK);
	assert_int_equal(ops[0].result, -ECANCELED);
	assert_int_equal(ops[1].result, -ECANCELED);
	assert_int_equal(ops[2].result, ACM_EEXIST);
	assert_int_equal(ops[3].result, -ECANCELED);
	assert_int_equal(serial_of(f->s), before);
	assert_true(has_value(f->s, "a-0", "old"));
	assert_false(has_value(f->s, "a-0", "one") || has_value(f->s, "a-0", "two"));

	/* An op the check refuses fails the chain the same way. */
	op_txt(&ops[0], ACM_OP_TXT_ADD, "a-0", "one", 0);
	op_txt(&ops[1], ACM_OP_TXT_ADD, "a-0", "bad\x01", 0);
	ops[1].len = ACM_TXT_MAX + 1;
	chain(ops, 2);
	assert_int_equal(acm_commit_run_atomic(f->c, ops), ACM_OK);
	assert_int_equal(ops[1].result, ACM_EBADVALUE);
	assert_false(has_value(f->s, "a-0", "one"));
}

static void test_atomic_expect(void **state)
{
	struct fx *f = *state;
	acm_op_t ops[2];
	acm_txt_t want[3] = { txt_of("v1"), txt_of("v2"), txt_of("v1") };

	make_accounts(f->s, "e", 1);
	struct { const char *sub; int expect; size_t n; int result; } cases[] = {
		{ "e-0", ACM_EXPECT_SOME, 0, ACM_EUNMET },
		{ "e-0", ACM_EXPECT_NONE, 0, ACM_OK },
		{ "nobody", ACM_EXPECT_NONE, 0, ACM_OK },     /* no name, no values */
		{ "nobody", ACM_EXPECT_SOME, 0, ACM_EUNMET },
		{ "e-0", ACM_EXPECT_EQUAL, 0, ACM_OK },
		{ "e-0", ACM_EXPECT_EQUAL, 1, ACM_EUNMET },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		op_expect(&ops[0], cases[i].sub, cases[i].expect, want, cases[i].n);
		op_txt(&ops[1], ACM_OP_TXT_ADD, "e-0", "w", 0);
		chain(ops, 2);
		assert_int_equal(acm_commit_run_atomic(f->c, ops), ACM_OK);
		assert_int_equal(ops[0].result, cases[i].result);
		if (cases[i].result == ACM_OK) {
			/* the write after a met check happened: undo it */
			assert_true(has_value(f->s, "e-0", "w"));
			assert_int_equal(acm_store_txt_replace(f->s, "e-0", NULL, 0, NULL), ACM_OK);
		}
		assert_false(has_value(f->s, "e-0", "w"));
	}

	/* EQUAL compares sets: order and duplicates do not matter; expired
	 * values are not there. */
	assert_int_equal(acm_store_txt_add(f->s, "e-0", "v2", 2, 0, NULL), ACM_OK);
	assert_int_equal(acm_store_txt_add(f->s, "e-0", "v1", 2, 0, NULL), ACM_OK);
	op_expect(&ops[0], "e-0", ACM_EXPECT_EQUAL, want, 3);
	ops[0].next = NULL;
	assert_int_equal(acm_commit_run_atomic(f->c, ops), ACM_OK);
	assert_int_equal(ops[0].result, ACM_OK);
	op_expect(&ops[0], "e-0", ACM_EXPECT_EQUAL, want, 1);
	assert_int_equal(acm_commit_run_atomic(f->c, ops), ACM_OK);
	assert_int_equal(ops[0].result, ACM_EUNMET);
	assert_int_equal(acm_store_txt_add(f->s, "e-0", "old", 3, 1, NULL), ACM_OK);
	op_expect(&ops[0], "e-0", ACM_EXPECT_EQUAL, want, 2);
	assert_int_equal(acm_commit_run_atomic(f->c, ops), ACM_OK);
	assert_int_equal(ops[0].result, ACM_OK);

	/* an unknown expectation is refused */
	op_expect(&ops[0], "e-0", 99, NULL, 0);
	assert_int_equal(acm_commit_run_atomic(f->c, ops), ACM_OK);
	assert_int_equal(ops[0].result, -EINVAL);
}

/* One atomic chain failing in a batch leaves the others' writes alone. */
static void test_atomic_in_batch(void **state)
{
	struct fx *f = *state;
	struct gate g;
	struct tally t;
	acm_op_t gate_op, plain[2], atomic[2];

	make_accounts(f->s, "gate", 1);
	make_accounts(f->s, "b", 2);
	gate_init(&g);
	tally_init(&t);
	gate_close(&g, f->c, &gate_op);
	op_txt(&plain[0], ACM_OP_TXT_ADD, "b-0", "p", 0);
	op_txt(&atomic[0], ACM_OP_TXT_ADD, "b-1", "a", 0);
	op_txt(&atomic[1], ACM_OP_TXT_ADD, "nobody", "x", 0);
	chain(atomic, 2);
	op_txt(&plain[1], ACM_OP_TXT_ADD, "b-1", "q", 0);
	assert_int_equal(acm_commit_submit(f->c, &plain[0], count_done, &t), ACM_OK);
	assert_int_equal(acm_commit_submit_atomic(f->c, atomic, count_done, &t), ACM_OK);
	assert_int_equal(acm_commit_submit(f->c, &plain[1], count_done, &t), ACM_OK);
	uint32_t before = serial_of(f->s);
	gate_release(&g);
	assert_int_equal(tally_wait(&t, 3), 2);
	assert_int_equal(atomic[0].result, -ECANCELED);
	assert_int_equal(atomic[1].result, ACM_ENOTFOUND);
	assert_int_equal(serial_of(f->s), before + 1);
	assert_true(has_value(f->s, "b-0", "p") && has_value(f->s, "b-1", "q"));
	assert_false(has_value(f->s, "b-1", "a"));
	tally_destroy(&t);
	gate_destroy(&g);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_run_single),
		T(test_chain_one_serial),
		T(test_chain_refusal),
		T(test_invalid_ops),
		T(test_concurrent),
		T(test_poison_retry),
		T(test_max_batch),
		T(test_stop_drains),
		T(test_submit_after_stop),
		T(test_purge),
		T(test_actor),
		T(test_update_fields),
		T(test_update_tsig),
		T(test_update_if_bcrypt),

		T(test_atomic_order),
		T(test_atomic_rollback),
		T(test_atomic_expect),
		T(test_atomic_in_batch),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
