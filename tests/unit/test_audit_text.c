/* SPDX-License-Identifier: ISC */
/*
 * The audit log's records as text (lib/store/store_audit.c writes them
 * without a JSON tree): byte for byte what they always were, escapes
 * included; a savepoint's rollback drops exactly its records; notes carry
 * their detail.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "lib/error.h"
#include "lib/store/store.h"
#include "tests/unit/store_fx.h"

struct texts {
	size_t n;
	char rec[8][1024];
};

static int collect(uint64_t seq, const char *json, size_t len, void *ctx)
{
	struct texts *t = ctx;
	(void)seq;
	assert_true(t->n < 8 && len < sizeof(t->rec[0]));
	memcpy(t->rec[t->n], json, len);
	t->rec[t->n][len] = '\0';
	t->n++;
	return 0;
}

/* A fresh store with the account sub, and a write transaction on it. */
static acm_wtxn_t *begin_with(struct fx *f, const char *sub)
{
	acm_wtxn_t *w;
	fx_open(f, NULL);
	make_account(f->s, sub, "u1");
	assert_int_equal(acm_store_write_begin(f->s, &w), ACM_OK);
	return w;
}

/* Commit w, then every audit record into t; the commit's serial. */
static uint32_t commit_and_list(struct fx *f, acm_wtxn_t *w, struct texts *t)
{
	uint32_t serial = 0;
	assert_int_equal(acm_store_write_commit(w, &serial), ACM_OK);
	assert_int_equal(acm_store_audit_list(f->s, 0, NULL, 0, collect, t), ACM_OK);
	return serial;
}

/* The record's "time", which the test cannot know beforehand. */
static long long time_of(const char *rec)
{
	long long t = -1;
	assert_int_equal(sscanf(rec, "{\"time\":%lld,", &t), 1);
	return t;
}

static void assert_record(const char *rec, const char *fmt_after_time)
{
	char want[1024];
	snprintf(want, sizeof(want), "{\"time\":%lld%s", time_of(rec), fmt_after_time);
	assert_string_equal(rec, want);
}

static void test_record_text(void **state)
{
	struct fx *f = *state;
	struct texts t = { 0 };
	acm_wtxn_t *w = begin_with(f, "au");
	char want[512];

	acm_wtxn_set_actor(w, "account:\"x\"\\", "192.0.2.1");
	assert_int_equal(acm_wtxn_txt_add(w, "au", "q\"b\\s/", 6, 0), ACM_OK);
	assert_int_equal(acm_wtxn_txt_add(w, "_acme-challenge.au", "c", 1, 0), ACM_OK);
	uint32_t serial = commit_and_list(f, w, &t);
	assert_int_equal(t.n, 3);
	snprintf(want, sizeof(want), ",\"actor\":\"account:\\\"x\\\"\\\\\",\"source\":\"192.0.2.1\","
	         "\"action\":\"add\",\"subdomain\":\"au\",\"before\":[],"
	         "\"after\":[\"q\\\"b\\\\s/\"],\"serial\":%" PRIu32 "}", serial);
	assert_record(t.rec[1], want);
	snprintf(want, sizeof(want), ",\"actor\":\"account:\\\"x\\\"\\\\\",\"source\":\"192.0.2.1\","
	         "\"action\":\"add\",\"subdomain\":\"au\",\"before\":[],\"after\":[\"c\"],"
	         "\"name\":\"_acme-challenge\",\"serial\":%" PRIu32 "}", serial);
	assert_record(t.rec[2], want);
}

/* A rolled back savepoint takes its records with it, and only them. */
static void test_rollback(void **state)
{
	struct fx *f = *state;
	struct texts t = { 0 };
	acm_wtxn_t *w = begin_with(f, "rb");

	assert_int_equal(acm_wtxn_txt_add(w, "rb", "kept", 4, 0), ACM_OK);
	assert_int_equal(acm_wtxn_savepoint(w), ACM_OK);
	assert_int_equal(acm_wtxn_txt_add(w, "rb", "gone1", 5, 0), ACM_OK);
	assert_int_equal(acm_wtxn_txt_add(w, "rb", "gone2", 5, 0), ACM_OK);
	acm_wtxn_rollback(w);
	assert_int_equal(acm_wtxn_txt_add(w, "rb", "last", 4, 0), ACM_OK);
	assert_int_equal(acm_store_write_commit(w, NULL), ACM_OK);
	assert_int_equal(acm_store_audit_list(f->s, 0, "rb", 0, collect, &t), ACM_OK);
	assert_int_equal(t.n, 3);
	assert_non_null(strstr(t.rec[1], "\"after\":[\"kept\"]"));
	assert_non_null(strstr(t.rec[2], "\"after\":[\"kept\",\"last\"]"));
}

static void test_note(void **state)
{
	struct fx *f = *state;
	struct texts t = { 0 };
	acm_wtxn_t *w;
	char want[512];
	uint32_t serial = 0;

	fx_open(f, NULL);
	assert_int_equal(acm_store_write_begin(f->s, &w), ACM_OK);
	acm_wtxn_set_actor(w, "admin", NULL);
	assert_int_equal(acm_wtxn_audit_note(w, "import", json_pack("{s:s}", "serial", "x")),
	                 -EINVAL);
	assert_int_equal(acm_wtxn_audit_note(w, "import", json_pack("{s:s, s:i}", "change",
	                                                           "a\tb", "n", 2)), ACM_OK);
	serial = commit_and_list(f, w, &t);
	assert_int_equal(t.n, 1);
	snprintf(want, sizeof(want), ",\"actor\":\"admin\",\"source\":\"local\",\"action\":\"import\","
	         "\"subdomain\":\"\",\"before\":[],\"after\":[],\"change\":\"a\\tb\",\"n\":2,"
	         "\"serial\":%" PRIu32 "}", serial);
	assert_record(t.rec[0], want);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)
	const struct CMUnitTest tests[] = {
		T(test_record_text),
		T(test_rollback),
		T(test_note),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
