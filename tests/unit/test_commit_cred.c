/* SPDX-License-Identifier: ISC */
/*
 * Credentials checked before the commit (lib/store/commit.c, see
 * acm_op_cred_t): a key rotated, an account disabled or deleted between
 * the check and the commit refuses the stamped write; an imported account
 * upgraded meanwhile to its key's SHA-256 does not.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "lib/error.h"
#include "lib/store/commit.h"
#include "lib/store/store.h"
#include "tests/unit/store_fx.h"

/* An op on sub (whose key hash make_account made "00"). */
static void op_on(acm_op_t *op, acm_op_kind_t kind, const char *sub)
{
	memset(op, 0, sizeof(*op));
	op->kind = kind;
	snprintf(op->subdomain, sizeof(op->subdomain), "%s", sub);
	snprintf(op->account.subdomain, sizeof(op->account.subdomain), "%s", sub);
}

/* A TXT add stamped with the credentials checked for sub's key key_hash,
 * whose SHA-256 is key_sha. */
static void op_stamped(acm_op_t *op, const char *sub, const char *value, const char *key_hash,
                       const char *key_sha)
{
	op_on(op, ACM_OP_TXT_ADD, sub);
	op->len = strlen(value);
	memcpy(op->value, value, op->len);
	snprintf(op->cred.account, sizeof(op->cred.account), "%s", sub);
	snprintf(op->cred.key_hash, sizeof(op->cred.key_hash), "%s", key_hash);
	snprintf(op->cred.key_sha, sizeof(op->cred.key_sha), "%s", key_sha);
}

/* Update one field of sub (the key, or the flags) and commit it. */
static void update(acm_commit_t *c, const char *sub, unsigned fields, const char *key_hash,
                   uint32_t flags)
{
	acm_op_t op;
	op_on(&op, ACM_OP_ACCOUNT_UPDATE, sub);
	op.fields = fields;
	op.account.key_scheme = ACM_KEY_SHA256;
	op.account.flags = flags;
	snprintf(op.account.key_hash, sizeof(op.account.key_hash), "%s", key_hash);
	assert_int_equal(acm_commit_run(c, &op), ACM_OK);
	assert_int_equal(op.result, ACM_OK);
}

static int run_one(acm_commit_t *c, acm_op_t *op)
{
	assert_int_equal(acm_commit_run(c, op), ACM_OK);
	return op->result;
}

static bool has(acm_store_t *s, const char *sub, const char *value)
{
	acm_txt_t v[8];
	size_t n = list(s, sub, v, 8);
	for (size_t i = 0; i < n; i++)
		if (v[i].len == strlen(value) && memcmp(v[i].value, value, v[i].len) == 0)
			return true;
	return false;
}

/* A fresh store with the account sub and a committer on it. */
static acm_commit_t *start_with(struct fx *f, const char *sub)
{
	acm_commit_t *c;
	fx_open(f, NULL);
	make_account(f->s, sub, "u0");
	assert_int_equal(acm_commit_start(f->s, NULL, &c), ACM_OK);
	return c;
}

static void test_key_rotated_first(void **state)
{
	struct fx *f = *state;
	acm_commit_t *c = start_with(f, "cr-0");
	acm_op_t op[3];

	make_account(f->s, "cr-1", "u1");
	/* Still the key that was checked: applied. */
	op_stamped(&op[0], "cr-0", "ok", "00", "00");
	assert_int_equal(run_one(c, &op[0]), ACM_OK);
	/* Rotated in the same transaction, just before the write; another
	 * account's write in it is not concerned. */
	op_on(&op[0], ACM_OP_ACCOUNT_UPDATE, "cr-0");
	op[0].fields = ACM_FIELD_KEY;
	op[0].account.key_scheme = ACM_KEY_SHA256;
	strcpy(op[0].account.key_hash, "11");
	op_stamped(&op[1], "cr-0", "late", "00", "00");
	op_stamped(&op[2], "cr-1", "other", "00", "00");
	op[0].next = &op[1];
	op[1].next = &op[2];
	assert_int_equal(acm_commit_run(c, op), ACM_OK);
	assert_int_equal(op[0].result, ACM_OK);
	assert_int_equal(op[1].result, ACM_ECREDS);
	assert_int_equal(op[2].result, ACM_OK);
	acm_commit_stop(c);
	assert_true(has(f->s, "cr-0", "ok"));
	assert_false(has(f->s, "cr-0", "late"));
	assert_true(has(f->s, "cr-1", "other"));
}

static void test_disabled_then_deleted(void **state)
{
	acm_commit_t *c = start_with(*state, "cr");
	acm_op_t op;

	update(c, "cr", ACM_FIELD_FLAGS, "00", ACM_ACCOUNT_DISABLED);
	op_stamped(&op, "cr", "off", "00", "00");
	assert_int_equal(run_one(c, &op), ACM_ECREDS);
	op_on(&op, ACM_OP_ACCOUNT_DELETE, "cr");
	assert_int_equal(run_one(c, &op), ACM_OK);
	op_stamped(&op, "cr", "gone", "00", "00");
	assert_int_equal(run_one(c, &op), ACM_ENOTFOUND);
	acm_commit_stop(c);
}

/* Checked with bcrypt and upgraded meanwhile (by another request) to the
 * key's SHA-256: still the caller's key; another SHA-256 is not. An op
 * without credentials (an operator's) is not checked. */
static void test_upgraded_meanwhile(void **state)
{
	acm_commit_t *c = start_with(*state, "imp");
	acm_op_t op;

	update(c, "imp", ACM_FIELD_KEY, "$2a$10$bcrypt", 0);
	update(c, "imp", ACM_FIELD_KEY, "22", 0);
	op_stamped(&op, "imp", "upgraded", "$2a$10$bcrypt", "22");
	assert_int_equal(run_one(c, &op), ACM_OK);
	op_stamped(&op, "imp", "other-key", "$2a$10$bcrypt", "33");
	assert_int_equal(run_one(c, &op), ACM_ECREDS);
	op_on(&op, ACM_OP_TXT_ADD, "imp");
	op.len = 5;
	memcpy(op.value, "admin", 5);
	assert_int_equal(run_one(c, &op), ACM_OK);
	acm_commit_stop(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_key_rotated_first, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_disabled_then_deleted, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_upgraded_meanwhile, fx_setup, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
