/* SPDX-License-Identifier: ISC */
/*
 * The DNS name index (lib/rt/name_index.c): set, replace, remove, growth,
 * a rebuilt table swapped in, the snapshot check of a batch, and records
 * kept while a reader that may hold them is in its batch. Then the store's
 * change log of rrsets owners (lib/store/store_read.c
 * acm_reader_rrset_changes) and its window.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/error.h"
#include "lib/rt/name_index.h"
#include "tests/unit/store_fx.h"

static size_t name_of(unsigned i, uint8_t *out)
{
	int n = snprintf((char *)out + 1, 60, "n%u", i);
	out[0] = (uint8_t)n;
	memcpy(out + 1 + n, "\7example\0", 9);
	return 1 + (size_t)n + 9;
}

/* The record the index holds for name i, as a string ("" when none). */
static const char *get(const acm_name_reader_t *r, unsigned i, char *buf)
{
	uint8_t name[64];
	const uint8_t *rec;
	size_t len;
	buf[0] = '\0';
	if (acm_name_index_get(r, name, name_of(i, name), &rec, &len) == ACM_OK) {
		memcpy(buf, rec, len);
		buf[len] = '\0';
	}
	return buf;
}

static void set(acm_name_index_t *ix, unsigned i, const char *rec)
{
	uint8_t name[64];
	assert_int_equal(acm_name_index_set(ix, name, name_of(i, name), (const uint8_t *)rec,
	                                    strlen(rec)), ACM_OK);
}

static void drop(acm_name_index_t *ix, unsigned i)
{
	uint8_t name[64];
	acm_name_index_remove(ix, name, name_of(i, name));
}

static void test_set_replace_remove(void **state)
{
	uint32_t serial;
	(void)state;
	acm_name_index_t *ix;
	acm_name_reader_t r;
	char buf[64];
	assert_int_equal(acm_name_index_new(&ix), ACM_OK);
	assert_int_equal(acm_name_index_join(ix, &r), ACM_OK);
	/* Nothing published yet: no snapshot is held. */
	assert_false(acm_name_index_begin(&r, 1, &serial));
	acm_name_index_end(&r);
	set(ix, 1, "one");
	set(ix, 2, "two");
	set(ix, 1, "uno");
	drop(ix, 2);
	drop(ix, 3);
	acm_name_index_publish(ix, 7, (uint32_t)(7) + 100);
	assert_false(acm_name_index_begin(&r, 8, &serial));     /* a newer snapshot: lagging */
	acm_name_index_end(&r);
	assert_true(acm_name_index_begin(&r, 7, &serial));
	assert_int_equal(serial, 107);                 /* the serial published with it */
	assert_string_equal(get(&r, 1, buf), "uno");
	assert_string_equal(get(&r, 2, buf), "");
	assert_string_equal(get(&r, 3, buf), "");
	acm_name_index_end(&r);
	assert_true(acm_name_index_begin(&r, 5, &serial));      /* an older one: the index is newer */
	acm_name_index_end(&r);
	assert_int_equal(acm_name_index_count(ix), 1);
	/* A removed name comes back in a slot of its own. */
	set(ix, 2, "deux");
	assert_true(acm_name_index_begin(&r, 7, &serial));
	assert_string_equal(get(&r, 2, buf), "deux");
	acm_name_index_end(&r);
	acm_name_index_leave(&r);
	acm_name_index_free(ix);
}

/* Past 70 % of the slots the table is copied bigger; removals' tombstones
 * count, so churn without growth also gets a fresh table. */
static void test_growth(void **state)
{
	uint32_t serial;
	(void)state;
	enum { N = 20000 };
	acm_name_index_t *ix;
	acm_name_reader_t r;
	char buf[64], want[64];
	assert_int_equal(acm_name_index_new(&ix), ACM_OK);
	assert_int_equal(acm_name_index_join(ix, &r), ACM_OK);
	for (unsigned i = 0; i < N; i++) {
		snprintf(want, sizeof(want), "v%u", i);
		set(ix, i, want);
		if (i % 3 == 0)
			drop(ix, i);
	}
	for (unsigned round = 0; round < 5; round++)
		for (unsigned i = 0; i < N; i += 3) {
			set(ix, i, "back");
			drop(ix, i);
		}
	acm_name_index_publish(ix, 1, (uint32_t)(1) + 100);
	assert_int_equal(acm_name_index_count(ix), N - (N + 2) / 3);
	assert_true(acm_name_index_bytes(ix) < (size_t)N * 100);
	assert_true(acm_name_index_begin(&r, 1, &serial));
	for (unsigned i = 0; i < N; i++) {
		snprintf(want, sizeof(want), "v%u", i);
		assert_string_equal(get(&r, i, buf), i % 3 ? want : "");
	}
	acm_name_index_end(&r);
	acm_name_index_leave(&r);
	acm_name_index_free(ix);
}

/* A reader in its batch keeps what it may have read: the replaced record
 * and the outgrown table stay readable until it ends (ASan and valgrind
 * tell when they are not). */
static void test_reclaim_waits_for_reader(void **state)
{
	uint32_t serial;
	(void)state;
	acm_name_index_t *ix;
	acm_name_reader_t r, late;
	const uint8_t *rec;
	size_t len;
	uint8_t name[64];
	size_t nlen = name_of(1, name);
	assert_int_equal(acm_name_index_new(&ix), ACM_OK);
	assert_int_equal(acm_name_index_join(ix, &r), ACM_OK);
	assert_int_equal(acm_name_index_join(ix, &late), ACM_OK);
	set(ix, 1, "old");
	acm_name_index_publish(ix, 1, (uint32_t)(1) + 100);
	assert_true(acm_name_index_begin(&r, 1, &serial));
	assert_int_equal(acm_name_index_get(&r, name, nlen, &rec, &len), ACM_OK);
	set(ix, 1, "new");
	for (unsigned i = 2; i < 1000; i++)            /* outgrow the table r holds */
		set(ix, i, "x");
	acm_name_index_publish(ix, 2, (uint32_t)(2) + 100);
	acm_name_index_publish(ix, 3, (uint32_t)(3) + 100);
	assert_int_equal(len, 3);
	assert_memory_equal(rec, "old", 3);
	/* r's table is the old one, still whole. */
	char buf[64];
	assert_string_equal(get(&r, 1, buf), "new");
	assert_true(acm_name_index_begin(&late, 3, &serial));
	assert_string_equal(get(&late, 999, buf), "x");
	acm_name_index_end(&late);
	acm_name_index_end(&r);
	acm_name_index_publish(ix, 4, (uint32_t)(4) + 100);                 /* now freed */
	assert_true(acm_name_index_begin(&r, 4, &serial));
	assert_string_equal(get(&r, 1, buf), "new");
	acm_name_index_end(&r);
	acm_name_index_leave(&late);
	acm_name_index_leave(&r);
	acm_name_index_free(ix);
}

/* A table built aside replaces the published one whole, with its snapshot. */
static void test_swap(void **state)
{
	uint32_t serial;
	(void)state;
	acm_name_index_t *ix;
	acm_name_table_t *t;
	acm_name_reader_t r;
	uint8_t name[64];
	char buf[64];
	assert_int_equal(acm_name_index_new(&ix), ACM_OK);
	assert_int_equal(acm_name_index_join(ix, &r), ACM_OK);
	set(ix, 1, "gone");
	acm_name_index_publish(ix, 1, (uint32_t)(1) + 100);
	assert_int_equal(acm_name_table_new(&t), ACM_OK);
	for (unsigned i = 2; i < 500; i++)
		assert_int_equal(acm_name_table_add(&t, name, name_of(i, name), (const uint8_t *)"t", 1),
		                 ACM_OK);
	assert_int_equal(acm_name_table_add(&t, name, name_of(2, name), (const uint8_t *)"2", 1),
	                 ACM_OK);
	assert_true(acm_name_index_begin(&r, 1, &serial));
	acm_name_index_swap(ix, t, 9, (uint32_t)(9) + 100);
	assert_string_equal(get(&r, 1, buf), "gone"); /* the batch keeps its table */
	acm_name_index_end(&r);
	assert_true(acm_name_index_begin(&r, 9, &serial));
	assert_string_equal(get(&r, 1, buf), "");
	assert_string_equal(get(&r, 2, buf), "2");
	assert_string_equal(get(&r, 499, buf), "t");
	acm_name_index_end(&r);
	assert_int_equal(acm_name_index_count(ix), 498);
	assert_int_equal(acm_name_index_applied(ix), 9);
	acm_name_index_leave(&r);
	acm_name_index_free(ix);
}

/* A reader that never joined an index (dns.name_index false) never uses one. */
static void test_no_index(void **state)
{
	uint32_t serial;
	(void)state;
	acm_name_reader_t r;
	assert_int_equal(acm_name_index_join(NULL, &r), ACM_OK);
	assert_false(acm_name_index_begin(&r, 0, &serial));
	acm_name_index_end(&r);
	acm_name_index_leave(&r);
}

/* Readers on threads of their own while the writer replaces, removes,
 * grows and publishes: every record read is whole and its own name's (for
 * ASan, TSan and helgrind to judge the rest). */
enum { RACE_NAMES = 3000, RACE_ROUNDS = 30, RACE_READERS = 2 };

struct race {
	acm_name_index_t *ix;
	atomic_bool done;
	atomic_size_t hits;
};

static void *race_reader(void *arg)
{
	uint32_t serial;
	struct race *rc = arg;
	acm_name_reader_t r;
	char buf[64], want[16];
	assert_int_equal(acm_name_index_join(rc->ix, &r), ACM_OK);
	while (!atomic_load(&rc->done)) {
		if (acm_name_index_begin(&r, 1, &serial)) {
			for (unsigned i = 0; i < RACE_NAMES; i += 7) {
				int n = snprintf(want, sizeof(want), "v%u:", i);
				if (*get(&r, i, buf)) {
					assert_memory_equal(buf, want, (size_t)n);
					atomic_fetch_add(&rc->hits, 1);
				}
			}
		}
		acm_name_index_end(&r);
	}
	acm_name_index_leave(&r);
	return NULL;
}

static void test_readers_race_the_writer(void **state)
{
	(void)state;
	struct race rc = { 0 };
	pthread_t th[RACE_READERS];
	char v[32];
	assert_int_equal(acm_name_index_new(&rc.ix), ACM_OK);
	for (int i = 0; i < RACE_READERS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, race_reader, &rc), 0);
	for (unsigned round = 1; round <= RACE_ROUNDS; round++) {
		for (unsigned i = 0; i < RACE_NAMES; i++) {
			snprintf(v, sizeof(v), "v%u:%u", i, round);
			if ((i + round) % 5 == 0)
				drop(rc.ix, i);
			else
				set(rc.ix, i, v);
		}
		acm_name_index_publish(rc.ix, round, (uint32_t)(round) + 100);
	}
	atomic_store(&rc.done, true);
	for (int i = 0; i < RACE_READERS; i++)
		pthread_join(th[i], NULL);
	assert_true(atomic_load(&rc.hits) > 0);
	acm_name_index_free(rc.ix);
}

/* ---- the store's change log of rrsets owners -------------------------- */

struct owners {
	size_t n;
	uint64_t first, last;
	char last_owner[ACM_DNAME_TXT_MAX];
};

static int collect(void *ctx, uint64_t gen, const uint8_t *owner, size_t len)
{
	struct owners *o = ctx;
	if (o->n++ == 0)
		o->first = gen;
	o->last = gen;
	assert_true(len < sizeof(o->last_owner));
	acm_dname_to_text(owner, o->last_owner);
	return ACM_OK;
}

static void test_change_log(void **state)
{
	struct fx *f = *state;
	acm_reader_t *r;
	uint32_t serial;
	uint64_t gen;
	struct owners o = { 0 };
	fx_open(f, NULL);
	make_account(f->s, "alpha", "ua");             /* the account's own record: 1 */
	assert_int_equal(add(f->s, "_acme-challenge.alpha", "v1", 0), ACM_OK);  /* 2 */
	acm_wtxn_t *w;
	assert_int_equal(acm_store_write_begin(f->s, &w), ACM_OK);
	assert_int_equal(acm_wtxn_account_delete(w, "alpha"), ACM_OK);     /* 3, 4 */
	assert_int_equal(acm_store_write_commit(w, &serial), ACM_OK);
	assert_int_equal(acm_reader_open(f->s, &r), ACM_OK);
	assert_int_equal(acm_reader_begin(r, &serial), ACM_OK);
	assert_int_equal(acm_reader_rrsets_gen(r, &gen), ACM_OK);
	assert_int_equal(gen, 4);
	assert_int_equal(acm_reader_rrset_changes(r, 1, gen, collect, &o), ACM_OK);
	assert_int_equal(o.n, 3);
	assert_int_equal(o.first, 2);
	assert_string_equal(o.last_owner, "_acme-challenge.alpha.acme.example.org.");
	o.n = 0;
	assert_int_equal(acm_reader_rrset_changes(r, 4, gen, collect, &o), ACM_OK);
	assert_int_equal(o.n, 0);
	acm_reader_end(r);
	acm_reader_close(r);
}

/* The newest 65,536 records are kept: a reader asking from before them
 * hears so instead of a partial list (and rebuilds). */
static void test_change_log_window(void **state)
{
	struct fx *f = *state;
	enum { KEPT = 65536, N = KEPT + 10 };
	acm_reader_t *r;
	acm_wtxn_t *w;
	uint32_t serial;
	uint64_t gen;
	struct owners o = { 0 };
	fx_open(f, NULL);
	make_account(f->s, "alpha", "ua");
	assert_int_equal(acm_store_write_begin(f->s, &w), ACM_OK);
	acm_wtxn_set_audit(w, false);
	for (unsigned i = 1; i < N; i++)
		assert_int_equal(i % 2 ? acm_wtxn_txt_add(w, "alpha", "v", 1, 0)
		                       : acm_wtxn_txt_remove(w, "alpha", "v", 1), ACM_OK);
	assert_int_equal(acm_store_write_commit(w, &serial), ACM_OK);
	assert_int_equal(acm_reader_open(f->s, &r), ACM_OK);
	assert_int_equal(acm_reader_begin(r, &serial), ACM_OK);
	assert_int_equal(acm_reader_rrsets_gen(r, &gen), ACM_OK);
	assert_int_equal(gen, N);
	assert_int_equal(acm_reader_rrset_changes(r, 0, gen, collect, &o), ACM_ENOTFOUND);
	assert_int_equal(acm_reader_rrset_changes(r, N - KEPT - 1, gen, collect, &o),
	                 ACM_ENOTFOUND);
	o.n = 0;
	assert_int_equal(acm_reader_rrset_changes(r, N - KEPT, gen, collect, &o), ACM_OK);
	assert_int_equal(o.n, KEPT);
	assert_int_equal(o.last, N);
	acm_reader_end(r);
	acm_reader_close(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_replace_remove),
		cmocka_unit_test(test_growth),
		cmocka_unit_test(test_reclaim_waits_for_reader),
		cmocka_unit_test(test_swap),
		cmocka_unit_test(test_no_index),
		cmocka_unit_test(test_readers_race_the_writer),
		cmocka_unit_test_setup_teardown(test_change_log, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_change_log_window, fx_setup, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
