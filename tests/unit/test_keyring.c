/* SPDX-License-Identifier: ISC */
/*
 * The accounts' change records (lib/store/store_read.c acm_reader_account_changes)
 * and the DNS workers' view of the key table (dnsd/keyring.c): accounts
 * changed after the table was built are listed, and only those, so that
 * a table being rebuilt still serves every other account.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "dnsd/keyring.h"
#include "lib/error.h"
#include "tests/unit/store_fx.h"

/* One write transaction: create (with a TSIG key), re-key or delete each
 * label of a NULL-terminated list. */
enum op { CREATE, REKEY, DELETE };

static void write_all(acm_store_t *s, enum op op, const char *const *labels)
{
	acm_wtxn_t *w;
	uint32_t serial;
	assert_int_equal(acm_store_write_begin(s, &w), ACM_OK);
	for (; *labels; labels++) {
		acm_account_t a;
		memset(&a, 0, sizeof(a));
		if (op == DELETE) {
			assert_int_equal(acm_wtxn_account_delete(w, *labels), ACM_OK);
			continue;
		}
		if (op == REKEY)
			assert_int_equal(acm_wtxn_account_get(w, *labels, &a), ACM_OK);
		else {
			strcpy(a.subdomain, *labels);
			snprintf(a.username, sizeof(a.username), "user-%s", *labels);
			a.key_scheme = ACM_KEY_SHA256;
			strcpy(a.key_hash, "00");
		}
		assert_int_equal(acm_account_tsig_new(&a, ACM_TSIG_HMAC_SHA256), ACM_OK);
		assert_int_equal(op == REKEY ? acm_wtxn_account_update(w, &a)
		                             : acm_wtxn_account_create(w, &a), ACM_OK);
	}
	assert_int_equal(acm_store_write_commit(w, &serial), ACM_OK);
}

static void write_one(acm_store_t *s, enum op op, const char *label)
{
	const char *const list[] = { label, NULL };
	write_all(s, op, list);
}

static const uint8_t *lbl(const char *s)
{
	return (const uint8_t *)s;
}

struct seen {
	size_t n;
	uint64_t gen[8];
	char label[8][ACM_LABEL_MAX + 1];
};

static int collect(void *ctx, uint64_t gen, const char *label)
{
	struct seen *s = ctx;
	if (s->n < 8) {
		s->gen[s->n] = gen;
		strcpy(s->label[s->n], label);
	}
	s->n++;
	return ACM_OK;
}

static void test_change_records(void **state)
{
	struct fx *f = *state;
	acm_reader_t *r;
	uint32_t serial;
	struct seen seen = { 0 };
	fx_open(f, NULL);
	write_one(f->s, CREATE, "alpha");
	write_one(f->s, CREATE, "bravo");
	write_one(f->s, REKEY, "alpha");
	write_one(f->s, DELETE, "bravo");
	assert_int_equal(acm_reader_open(f->s, &r), ACM_OK);
	assert_int_equal(acm_reader_begin(r, &serial), ACM_OK);
	assert_int_equal(acm_reader_accounts_gen(r), 4);
	assert_int_equal(acm_reader_account_changes(r, 1, collect, &seen), ACM_OK);
	assert_int_equal(seen.n, 3);
	assert_int_equal(seen.gen[0], 2);
	assert_string_equal(seen.label[0], "bravo");
	assert_string_equal(seen.label[1], "alpha");
	assert_string_equal(seen.label[2], "bravo");
	seen.n = 0;
	assert_int_equal(acm_reader_account_changes(r, 4, collect, &seen), ACM_OK);
	assert_int_equal(seen.n, 0);
	acm_reader_end(r);
	acm_reader_close(r);
}

/* The store keeps the newest 4,096 records: older ones are gone, and a
 * reader asking from before them hears so instead of a partial list. */
static void test_change_records_trimmed(void **state)
{
	struct fx *f = *state;
	enum { N = 4100 };
	static char names[N][16];
	static const char *list[N + 1];
	acm_reader_t *r;
	uint32_t serial;
	struct seen seen = { 0 };
	fx_open(f, NULL);
	for (size_t i = 0; i < N; i++) {
		snprintf(names[i], sizeof(names[i]), "acct%zu", i);
		list[i] = names[i];
	}
	write_all(f->s, CREATE, list);
	assert_int_equal(acm_reader_open(f->s, &r), ACM_OK);
	assert_int_equal(acm_reader_begin(r, &serial), ACM_OK);
	assert_int_equal(acm_reader_accounts_gen(r), N);
	assert_int_equal(acm_reader_account_changes(r, 0, collect, &seen), ACM_ENOTFOUND);
	assert_int_equal(acm_reader_account_changes(r, N - 4096 - 1, collect, &seen),
	                 ACM_ENOTFOUND);
	seen.n = 0;
	assert_int_equal(acm_reader_account_changes(r, N - 4096, collect, &seen), ACM_OK);
	assert_int_equal(seen.n, 4096);
	acm_reader_end(r);
	acm_reader_close(r);
}

/* Nothing asks the builder for a table but the view, and the view takes
 * the newest table before asking: the table it returns is the first one,
 * whatever the builder does meanwhile. */
static void test_view_lists_only_the_changed(void **state)
{
	struct fx *f = *state;
	const char *const first[] = { "alpha", "bravo", "charlie", NULL };
	acm_keyring_t *kr;
	acm_reader_t *r;
	acm_keyview_t *v = calloc(1, sizeof(*v));
	uint32_t serial;
	fx_open(f, NULL);
	write_all(f->s, CREATE, first);
	assert_int_equal(acm_keyring_start(f->s, &kr), ACM_OK);
	assert_int_equal(acm_reader_open(f->s, &r), ACM_OK);

	assert_int_equal(acm_reader_begin(r, &serial), ACM_OK);
	const acm_keytab_t *t = acm_keyring_view(kr, v, r);
	assert_non_null(t);
	assert_int_equal(acm_keytab_count(t), 3);
	assert_false(acm_keyview_changed(v, lbl("alpha"), 5));
	acm_reader_end(r);

	write_one(f->s, REKEY, "bravo");
	write_one(f->s, DELETE, "charlie");
	write_one(f->s, CREATE, "delta");
	assert_int_equal(acm_reader_begin(r, &serial), ACM_OK);
	t = acm_keyring_view(kr, v, r);
	assert_non_null(t);
	assert_false(acm_keyview_changed(v, lbl("alpha"), 5));
	assert_non_null(acm_keytab_find(t, lbl("alpha"), 5));
	assert_true(acm_keyview_changed(v, lbl("bravo"), 5));
	assert_true(acm_keyview_changed(v, lbl("charlie"), 7));
	assert_true(acm_keyview_changed(v, lbl("delta"), 5));
	assert_false(acm_keyview_changed(v, lbl("delt"), 4));
	assert_false(acm_keyview_changed(v, lbl("nobody"), 6));
	acm_reader_end(r);

	acm_keyview_release(v);
	acm_reader_close(r);
	acm_keyring_stop(kr);
	free(v);
}

/* The view's table once the builder has published one (up to 5 s). */
static const acm_keytab_t *table_soon(acm_keyring_t *kr, acm_keyview_t *v, acm_reader_t *r)
{
	const acm_keytab_t *t = NULL;
	uint32_t serial;
	for (int i = 0; i < 500 && !t; i++) {
		assert_int_equal(acm_reader_begin(r, &serial), ACM_OK);
		t = acm_keyring_view(kr, v, r);
		acm_reader_end(r);
		if (!t)
			usleep(10000);
	}
	return t;
}

/* Started in the background: no table (keys from the store) until the
 * thread has built the first, then the table with every account. */
static void test_background_start(void **state)
{
	struct fx *f = *state;
	const char *const first[] = { "alpha", "bravo", NULL };
	acm_keyring_t *kr;
	acm_reader_t *r;
	acm_keyview_t *v = calloc(1, sizeof(*v));
	acm_keytab_t *held = NULL;
	fx_open(f, NULL);
	write_all(f->s, CREATE, first);
	assert_int_equal(acm_keyring_start_background(f->s, &kr), ACM_OK);
	assert_int_equal(acm_reader_open(f->s, &r), ACM_OK);
	const acm_keytab_t *t = table_soon(kr, v, r);
	assert_non_null(t);
	assert_int_equal(acm_keytab_count(t), 2);
	assert_non_null(acm_keyring_get(kr, &held, 0));
	acm_keytab_unref(held);
	acm_keyview_release(v);
	acm_reader_close(r);
	acm_keyring_stop(kr);
	free(v);
}

/* More changes than a view lists: no table, every key from the store. */
static void test_view_overflows_to_the_store(void **state)
{
	struct fx *f = *state;
	enum { N = ACM_KEYVIEW_CHANGES + 1 };
	static char names[N][16];
	static const char *list[N + 1];
	acm_keyring_t *kr;
	acm_reader_t *r;
	acm_keyview_t *v = calloc(1, sizeof(*v));
	uint32_t serial;
	fx_open(f, NULL);
	write_one(f->s, CREATE, "alpha");
	assert_int_equal(acm_keyring_start(f->s, &kr), ACM_OK);
	assert_int_equal(acm_reader_open(f->s, &r), ACM_OK);
	for (size_t i = 0; i < N; i++) {
		snprintf(names[i], sizeof(names[i]), "acct%zu", i);
		list[i] = names[i];
	}
	write_all(f->s, CREATE, list);
	assert_int_equal(acm_reader_begin(r, &serial), ACM_OK);
	assert_null(acm_keyring_view(kr, v, r));
	acm_reader_end(r);
	/* the rebuild it asked for is published soon: then the table is back */
	const acm_keytab_t *t = table_soon(kr, v, r);
	assert_non_null(t);
	assert_int_equal(acm_keytab_count(t), N + 1);
	acm_keyview_release(v);
	acm_reader_close(r);
	acm_keyring_stop(kr);
	free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_change_records, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_change_records_trimmed, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_view_lists_only_the_changed, fx_setup,
		                                fx_teardown),
		cmocka_unit_test_setup_teardown(test_background_start, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_view_overflows_to_the_store, fx_setup,
		                                fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
