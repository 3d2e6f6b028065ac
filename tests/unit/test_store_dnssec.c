/* SPDX-License-Identifier: ISC */
/*
 * Unit tests of the DNSSEC keys in the store (lib/store/store_dnssec.c):
 * added and moved through a rollover with the generation bumped each time,
 * no serial bump, the cap, unknown ids and states refused, audit records
 * that name the key by tag and never carry its private bytes, the store
 * check's view (a damaged record, a second active key), and a reopened
 * store giving back the very same keys.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "lib/error.h"
#include "lib/store/store_check.h"
#include "lib/store/store_dnssec.h"
#include "tests/unit/store_fx.h"

static acm_dnssec_key_t *new_key(uint8_t alg)
{
	acm_dnssec_key_t *k;
	assert_int_equal(acm_dnssec_key_generate(alg, &k), ACM_OK);
	return k;
}

static uint64_t generation(acm_store_t *s)
{
	uint64_t g;
	assert_int_equal(acm_store_dnssec_generation(s, &g), ACM_OK);
	return g;
}

static void test_rollover_states(void **state)
{
	struct fx *f = *state;
	fx_open(f, NULL);
	uint32_t serial = serial_of(f->s);
	acm_dnssec_keyset_t ks;
	uint64_t gen;
	assert_int_equal(acm_store_dnssec_load(f->s, &ks, &gen), ACM_OK);
	assert_int_equal(ks.count, 0);
	assert_int_equal(gen, 0);

	acm_dnssec_key_t *a = new_key(ACM_DNSSEC_ALG_ECDSAP256SHA256);
	acm_dnssec_key_t *b = new_key(ACM_DNSSEC_ALG_ECDSAP256SHA256);
	uint32_t ida, idb;
	assert_int_equal(acm_store_dnssec_add(f->s, a, ACM_KEY_ACTIVE, "cli", &ida), ACM_OK);
	assert_int_equal(acm_store_dnssec_add(f->s, b, ACM_KEY_PUBLISHED, "cli", &idb), ACM_OK);
	assert_int_equal(ida, 1);
	assert_int_equal(idb, 2);
	assert_int_equal(generation(f->s), 2);
	assert_int_equal(acm_store_dnssec_set_state(f->s, ida, ACM_KEY_RETIRING, "cli"), ACM_OK);
	assert_int_equal(acm_store_dnssec_set_state(f->s, idb, ACM_KEY_ACTIVE, "cli"), ACM_OK);
	assert_int_equal(generation(f->s), 4);

	/* reopened: the same keys, in id order, with their states */
	fx_open(f, NULL);
	assert_int_equal(acm_store_dnssec_load(f->s, &ks, &gen), ACM_OK);
	assert_int_equal(gen, 4);
	assert_int_equal(ks.count, 2);
	assert_int_equal(ks.keys[0].id, ida);
	assert_int_equal(ks.keys[0].state, ACM_KEY_RETIRING);
	assert_int_equal(acm_dnssec_key_tag(ks.keys[0].key), acm_dnssec_key_tag(a));
	assert_int_equal(ks.keys[1].state, ACM_KEY_ACTIVE);
	assert_int_equal(acm_dnssec_key_tag(ks.keys[1].key), acm_dnssec_key_tag(b));
	assert_true(ks.keys[0].created > 0 && ks.keys[0].changed >= ks.keys[0].created);
	size_t l1, l2;
	assert_memory_equal(acm_dnssec_key_dnskey(ks.keys[1].key, &l1), acm_dnssec_key_dnskey(b, &l2),
	                    l2);
	acm_dnssec_keyset_clear(&ks);

	/* the retiring key goes; a new id never reuses a gone one's */
	assert_int_equal(acm_store_dnssec_set_state(f->s, ida, 0, "cli"), ACM_OK);
	assert_int_equal(acm_store_dnssec_set_state(f->s, ida, 0, "cli"), ACM_ENOTFOUND);
	assert_int_equal(acm_store_dnssec_load(f->s, &ks, &gen), ACM_OK);
	assert_int_equal(ks.count, 1);
	acm_dnssec_keyset_clear(&ks);
	/* keys change no DNS data */
	assert_int_equal(serial_of(f->s), serial);
	acm_dnssec_key_free(a);
	acm_dnssec_key_free(b);
}

static void test_bad_changes(void **state)
{
	struct fx *f = *state;
	fx_open(f, NULL);
	acm_dnssec_key_t *k = new_key(ACM_DNSSEC_ALG_ED25519);
	assert_int_equal(acm_store_dnssec_add(f->s, k, 7, "cli", NULL), -EINVAL);
	assert_int_equal(acm_store_dnssec_set_state(f->s, 1, ACM_KEY_ACTIVE, "cli"), ACM_ENOTFOUND);
	for (int i = 0; i < ACM_DNSSEC_KEYS_MAX; i++)
		assert_int_equal(acm_store_dnssec_add(f->s, k, ACM_KEY_PUBLISHED, "cli", NULL), ACM_OK);
	assert_int_equal(acm_store_dnssec_add(f->s, k, ACM_KEY_PUBLISHED, "cli", NULL), ACM_EFULL);
	assert_int_equal(acm_store_dnssec_set_state(f->s, 2, 9, "cli"), -EINVAL);
	assert_int_equal(generation(f->s), ACM_DNSSEC_KEYS_MAX);
	acm_dnssec_key_free(k);
}

struct audit_seen {
	size_t n;
	int private_bytes;
	int tagged;
};

static int on_audit(uint64_t seq, const char *json, size_t len, void *ctx)
{
	(void)seq;
	struct audit_seen *a = ctx;
	char buf[2048];
	size_t n = len < sizeof(buf) - 1 ? len : sizeof(buf) - 1;
	memcpy(buf, json, n);
	buf[n] = 0;
	a->n++;
	a->private_bytes += strstr(buf, "PRIVATE") != NULL || strstr(buf, "MII") != NULL;
	a->tagged += strstr(buf, "\"key_tag\"") != NULL && strstr(buf, "\"dnssec_key\"") != NULL &&
	             strstr(buf, "\"actor\":\"cli\"") != NULL;
	return 0;
}

static void test_audit(void **state)
{
	struct fx *f = *state;
	fx_open(f, NULL);
	acm_dnssec_key_t *k = new_key(ACM_DNSSEC_ALG_ECDSAP256SHA256);
	uint32_t id;
	assert_int_equal(acm_store_dnssec_add(f->s, k, ACM_KEY_ACTIVE, "cli", &id), ACM_OK);
	assert_int_equal(acm_store_dnssec_set_state(f->s, id, 0, "cli"), ACM_OK);
	struct audit_seen a = { 0 };
	assert_int_equal(acm_store_audit_list(f->s, 0, NULL, 100, on_audit, &a), ACM_OK);
	assert_int_equal(a.n, 2);
	assert_int_equal(a.tagged, 2);
	assert_int_equal(a.private_bytes, 0);
	acm_dnssec_key_free(k);
}

static void on_problem(void *ctx, const char *db, const char *key, const char *problem)
{
	(void)key;
	if (strcmp(db, "dnssec") == 0)
		++*(int *)ctx;
	(void)problem;
}

static void test_check(void **state)
{
	struct fx *f = *state;
	fx_open(f, NULL);
	acm_dnssec_key_t *k = new_key(ACM_DNSSEC_ALG_ECDSAP256SHA256);
	acm_store_check_t out;
	int seen = 0;
	assert_int_equal(acm_store_dnssec_add(f->s, k, ACM_KEY_ACTIVE, "cli", NULL), ACM_OK);
	assert_int_equal(acm_store_check(f->s, on_problem, &seen, &out), ACM_OK);
	assert_int_equal(out.problems, 0);
	/* a second active key is wrong: refused when added, reported when made */
	uint32_t id2;
	assert_int_equal(acm_store_dnssec_add(f->s, k, ACM_KEY_ACTIVE, "cli", NULL), ACM_EEXIST);
	assert_int_equal(acm_store_dnssec_add(f->s, k, ACM_KEY_PUBLISHED, "cli", &id2), ACM_OK);
	assert_int_equal(acm_store_dnssec_set_state(f->s, id2, ACM_KEY_ACTIVE, "cli"), ACM_OK);
	assert_int_equal(acm_store_check(f->s, on_problem, &seen, &out), ACM_OK);
	assert_int_equal(out.problems, 1);
	assert_int_equal(seen, 1);
	/* a record whose PEM is damaged: reported, and the load refuses it */
	acm_store_close(f->s);
	f->s = NULL;
	static const uint8_t id1[4] = { 0, 0, 0, 1 };
	raw_patch(f, "dnssec", id1, 4, 19 + 40, "!!!!", 4);
	fx_open(f, NULL);
	seen = 0;
	assert_int_equal(acm_store_check(f->s, on_problem, &seen, &out), ACM_OK);
	assert_int_equal(seen, 1);
	acm_dnssec_keyset_t ks;
	uint64_t gen;
	assert_int_equal(acm_store_dnssec_load(f->s, &ks, &gen), ACM_ECORRUPT);
	assert_int_equal(ks.count, 0);
	acm_dnssec_key_free(k);
}

/* A rollover's swap: the published key active, the active one retiring,
 * one generation later. */
static void test_activate(void **state)
{
	struct fx *f = *state;
	fx_open(f, NULL);
	acm_dnssec_key_t *k = new_key(ACM_DNSSEC_ALG_ED25519);
	acm_dnssec_keyset_t ks;
	uint32_t a, b;
	uint64_t g1, g2;
	assert_int_equal(acm_store_dnssec_add(f->s, k, ACM_KEY_ACTIVE, "cli", &a), ACM_OK);
	assert_int_equal(acm_store_dnssec_add(f->s, k, ACM_KEY_PUBLISHED, "cli", &b), ACM_OK);
	assert_int_equal(acm_store_dnssec_generation(f->s, &g1), ACM_OK);
	assert_int_equal(acm_store_dnssec_activate(f->s, a, "cli"), ACM_EEXIST);
	assert_int_equal(acm_store_dnssec_activate(f->s, 99, "cli"), ACM_ENOTFOUND);
	assert_int_equal(acm_store_dnssec_activate(f->s, b, "cli"), ACM_OK);
	assert_int_equal(acm_store_dnssec_load(f->s, &ks, &g2), ACM_OK);
	assert_int_equal(g2, g1 + 1);
	assert_int_equal(ks.count, 2);
	assert_int_equal(ks.keys[0].state, ACM_KEY_RETIRING);
	assert_int_equal(ks.keys[1].state, ACM_KEY_ACTIVE);
	acm_dnssec_keyset_clear(&ks);
	acm_dnssec_key_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rollover_states, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_bad_changes, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_audit, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_check, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_activate, fx_setup, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
