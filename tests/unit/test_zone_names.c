/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for lib/dns/zone_names.c: what a name in the zone is by its
 * shape, and the account names built from a label.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lib/dns/zone_names.h"
#include "lib/error.h"

#define APEX "\x04" "auth" "\x07" "example" "\x03" "org"

struct shape_case {
	const char *name;           /* wire, NUL-terminated by the root label */
	acm_zname_kind_t kind;
	int depth;
	const char *label;          /* the account label, or NULL */
};

static const struct shape_case shapes[] = {
	{ APEX, ACM_ZNAME_APEX, 0, NULL },
	{ "\x04" "AUTH" "\x07" "Example" "\x03" "org", ACM_ZNAME_APEX, 0, NULL },
	{ "\x03" "abc" APEX, ACM_ZNAME_ACCOUNT, 1, "abc" },
	{ "\x03" "a_c" APEX, ACM_ZNAME_ACCOUNT, 1, NULL },      /* shape only; no label */
	{ "\x0f" "_acme-challenge" "\x03" "abc" APEX, ACM_ZNAME_CHALLENGE, 2, "abc" },
	{ "\x0f" "_ACME-challenge" "\x03" "abc" APEX, ACM_ZNAME_OTHER, 2, NULL },
	{ "\x01" "x" "\x03" "abc" APEX, ACM_ZNAME_OTHER, 2, NULL },
	{ "\x01" "x" "\x0f" "_acme-challenge" "\x03" "abc" APEX, ACM_ZNAME_OTHER, 3, NULL },
	{ "\x07" "example" "\x03" "org", ACM_ZNAME_OUTSIDE, -1, NULL },
	{ "\x04" "auth" "\x07" "example" "\x03" "net", ACM_ZNAME_OUTSIDE, -1, NULL },
	{ "\x05" "xauth" "\x07" "example" "\x03" "org", ACM_ZNAME_OUTSIDE, -1, NULL },
	{ "", ACM_ZNAME_OUTSIDE, -1, NULL },
};

static void test_shape(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		const struct shape_case *c = &shapes[i];
		acm_zname_t zn;
		char label[ACM_LABEL_MAX + 1];
		acm_zname_shape((const uint8_t *)c->name, (const uint8_t *)APEX, &zn);
		assert_int_equal(zn.kind, c->kind);
		assert_int_equal(zn.depth, c->depth);
		assert_null(zn.node);
		int rc = acm_zname_label(&zn, label);
		if (c->label) {
			assert_int_equal(rc, ACM_OK);
			assert_string_equal(label, c->label);
		} else {
			assert_int_equal(rc, ACM_EBADNAME);
		}
	}
}

static void test_account_names(void **state)
{
	uint8_t own[ACM_DNAME_MAX], ch[ACM_DNAME_MAX];
	static const uint8_t want[] = "\x03" "abc" APEX;
	static const uint8_t want_ch[] = "\x0f" "_acme-challenge" "\x03" "abc" APEX;
	(void)state;

	int len = acm_zname_account("ABC", (const uint8_t *)APEX, own);
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(own, want, sizeof(want));
	assert_int_equal(acm_zname_challenge(own, (size_t)len, ch), sizeof(want_ch));
	assert_memory_equal(ch, want_ch, sizeof(want_ch));

	assert_int_equal(acm_zname_account("", (const uint8_t *)APEX, own), ACM_EBADNAME);
	assert_int_equal(acm_zname_account(NULL, (const uint8_t *)APEX, own), ACM_EBADNAME);
	assert_int_equal(acm_zname_account("-abc", (const uint8_t *)APEX, own), ACM_EBADNAME);
	assert_int_equal(acm_zname_account("a.b", (const uint8_t *)APEX, own), ACM_EBADNAME);
	char l64[65];
	memset(l64, 'a', 64);
	l64[64] = '\0';
	assert_int_equal(acm_zname_account(l64, (const uint8_t *)APEX, own), ACM_EBADNAME);
	assert_int_equal(acm_zname_account(l64 + 1, (const uint8_t *)APEX, own), 1 + 63 + 18);

	/* A name that fits, whose challenge name would not. */
	uint8_t big[ACM_DNAME_MAX];
	memset(big, 0, sizeof(big));
	for (size_t at = 0; at + 64 < 250; at += 64) {
		big[at] = 63;
		memset(big + at + 1, 'a', 63);
	}
	assert_int_equal(acm_zname_challenge(big, 250, ch), ACM_EBADNAME);
}

static void test_texts(void **state)
{
	char zone[ACM_DNAME_TXT_MAX], full[ACM_FULLDOMAIN_MAX], txt[ACM_TXT_NAME_MAX + 1];
	const char *label;
	bool challenge;
	(void)state;

	assert_int_equal(acm_zname_zone_text((const uint8_t *)APEX, zone), ACM_OK);
	assert_string_equal(zone, "auth.example.org");
	assert_int_equal(acm_zname_zone_text((const uint8_t *)"", zone), ACM_OK);
	assert_string_equal(zone, ".");
	acm_zname_zone_text((const uint8_t *)APEX, zone);
	acm_zname_fulldomain(zone, "abc", full, sizeof(full));
	assert_string_equal(full, "abc.auth.example.org");

	acm_zname_txt_split("_ACME-Challenge.abc", &label, &challenge);
	assert_true(challenge);
	assert_string_equal(label, "abc");
	acm_zname_txt_split("abc", &label, &challenge);
	assert_false(challenge);
	assert_string_equal(label, "abc");
	acm_zname_txt_split("_acme-challengeabc", &label, &challenge);
	assert_false(challenge);
	acm_zname_txt_join("abc", true, txt);
	assert_string_equal(txt, "_acme-challenge.abc");
	acm_zname_txt_join("abc", false, txt);
	assert_string_equal(txt, "abc");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shape),
		cmocka_unit_test(test_account_names),
		cmocka_unit_test(test_texts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
