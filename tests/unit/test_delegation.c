/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for the delegation check's pure parts: status names
 * (lib/rt/delegation_status.c), the lines of acmensctl delegation check
 * --file (cli/deleg_input.c), and the JSON shape, with what an account's
 * own route must not learn (lib/rt/delegation_json.c). Resolution itself
 * is tested against real servers (tests/integration/test_delegation_cli.py).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/deleg_input.h"
#include "lib/rt/delegation.h"
#include "lib/rt/delegation_json.h"

static void test_status_names(void **state)
{
	static const char *const names[] = { "ok", "missing", "not_delegated", "wrong_target",
					     "loop", "bogus", "servfail", "timeout" };
	(void)state;
	assert_int_equal(sizeof(names) / sizeof(names[0]), ACM_DELEG_STATUS_COUNT);
	for (int i = 0; i < ACM_DELEG_STATUS_COUNT; i++) {
		assert_string_equal(acm_deleg_status_name((acm_deleg_status_t)i), names[i]);
		assert_int_equal(acm_deleg_status_parse(names[i]), i);
	}
	assert_null(acm_deleg_status_name(ACM_DELEG_STATUS_COUNT));
	assert_null(acm_deleg_status_name((acm_deleg_status_t)-1));
	assert_int_equal(acm_deleg_status_parse("OK"), -1);
	assert_int_equal(acm_deleg_status_parse("error"), -1);
	assert_int_equal(acm_deleg_status_parse(""), -1);
	assert_int_equal(acm_deleg_status_parse(NULL), -1);
}

struct line_case {
	const char *line;
	int kind;
	const char *domain, *sub, *why;
};

static const struct line_case line_cases[] = {
	{ "example.com sub\n", DELEG_LINE_PAIR, "example.com", "sub", NULL },
	{ "  example.com\t\tsub  \r\n", DELEG_LINE_PAIR, "example.com", "sub", NULL },
	{ "example.com,sub", DELEG_LINE_PAIR, "example.com", "sub", NULL },
	{ "example.com, sub\r\n", DELEG_LINE_PAIR, "example.com", "sub", NULL },
	{ "\"example.com\",\"sub\"\n", DELEG_LINE_PAIR, "example.com", "sub", NULL },
	{ "example.com sub # the shop\n", DELEG_LINE_PAIR, "example.com", "sub", NULL },
	{ "example.com sub#note", DELEG_LINE_PAIR, "example.com", "sub", NULL },
	{ "\n", DELEG_LINE_SKIP, NULL, NULL, NULL },
	{ "   \t\r\n", DELEG_LINE_SKIP, NULL, NULL, NULL },
	{ "# domain subdomain\n", DELEG_LINE_SKIP, NULL, NULL, NULL },
	{ "   # indented comment", DELEG_LINE_SKIP, NULL, NULL, NULL },
	{ "domain,subdomain\n", DELEG_LINE_SKIP, NULL, NULL, NULL },
	{ "Domain,SubDomain\r\n", DELEG_LINE_SKIP, NULL, NULL, NULL },
	{ "\xef\xbb\xbf" "domain,subdomain\r\n", DELEG_LINE_SKIP, NULL, NULL, NULL },
	{ "\xef\xbb\xbf" "example.com,sub", DELEG_LINE_PAIR, "example.com", "sub", NULL },
	{ ",,,\n", DELEG_LINE_SKIP, NULL, NULL, NULL },
	{ "example.com\n", DELEG_LINE_BAD, NULL, NULL, "one field: expected DOMAIN SUBDOMAIN" },
	{ "example.com # sub\n", DELEG_LINE_BAD, NULL, NULL, "one field: expected DOMAIN SUBDOMAIN" },
	{ "example.com sub extra\n", DELEG_LINE_BAD, NULL, NULL,
	  "more than two fields: expected DOMAIN SUBDOMAIN" },
	{ "a,b,c", DELEG_LINE_BAD, NULL, NULL, "more than two fields: expected DOMAIN SUBDOMAIN" },
	{ "\"example.com,sub\n", DELEG_LINE_BAD, NULL, NULL, "a double quote is not closed" },
	{ "\"\",sub\n", DELEG_LINE_BAD, NULL, NULL, "an empty field: expected DOMAIN SUBDOMAIN" },
};

static void test_input_lines(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(line_cases) / sizeof(line_cases[0]); i++) {
		const struct line_case *lc = &line_cases[i];
		char buf[256], *domain = NULL, *sub = NULL;
		const char *why = NULL;
		snprintf(buf, sizeof(buf), "%s", lc->line);
		int kind = deleg_input_line(buf, &domain, &sub, &why);
		if (kind != lc->kind)
			fail_msg("line %zu \"%s\": kind %d, expected %d", i, lc->line, kind, lc->kind);
		if (lc->kind == DELEG_LINE_PAIR) {
			assert_string_equal(domain, lc->domain);
			assert_string_equal(sub, lc->sub);
		}
		if (lc->kind == DELEG_LINE_BAD)
			assert_string_equal(why, lc->why);
	}
}

static acm_deleg_result_t *result(acm_deleg_status_t status)
{
	acm_deleg_result_t *r = calloc(1, sizeof(*r));
	assert_non_null(r);
	r->status = status;
	strcpy(r->domain, "shop.example");
	strcpy(r->subdomain, "acct");
	strcpy(r->chain[0], "_acme-challenge.shop.example");
	r->chain_len = 1;
	r->checked = 1700000000;
	r->ms = 12;
	return r;
}

static char *dump(const acm_deleg_result_t *r, bool name_other)
{
	json_t *j = acm_deleg_result_json(r, name_other);
	assert_non_null(j);
	char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	assert_non_null(s);
	return s;
}

static void expect_json(const acm_deleg_result_t *r, bool name_other, const char *want)
{
	char *got = dump(r, name_other);
	assert_string_equal(got, want);
	free(got);
}

static void test_json_ok(void **state)
{
	(void)state;
	acm_deleg_result_t *r = result(ACM_DELEG_OK);
	strcpy(r->chain[1], "acct.auth.example.org");
	r->chain_len = 2;
	r->secure = true;
	strcpy(r->values[0], "v1");
	r->value_count = 1;
	expect_json(r, false,
		    "{\"chain\":[\"_acme-challenge.shop.example\",\"acct.auth.example.org\"],"
		    "\"checked\":1700000000,\"domain\":\"shop.example\",\"ms\":12,\"reason\":null,"
		    "\"secure\":true,\"status\":\"ok\",\"subdomain\":\"acct\",\"target\":null,"
		    "\"target_is_account\":null,\"values_visible\":[\"v1\"]}");
	r->value_count = 0;
	char *s = dump(r, true);
	assert_non_null(strstr(s, "\"values_visible\":[]"));
	free(s);
	free(r);
}

static void test_json_other_account(void **state)
{
	(void)state;
	acm_deleg_result_t *r = result(ACM_DELEG_WRONG_TARGET);
	strcpy(r->chain[1], "hop.shop.example");
	strcpy(r->chain[2], "other.auth.example.org");
	r->chain_len = 3;
	strcpy(r->target, "other.auth.example.org");
	r->target_is_account = true;
	/* the account's own route: neither target nor the chain's last name */
	char *s = dump(r, false);
	assert_null(strstr(s, "other.auth"));
	assert_non_null(strstr(s, "\"chain\":[\"_acme-challenge.shop.example\",\"hop.shop.example\"]"));
	assert_non_null(strstr(s, "\"target\":null,\"target_is_account\":true"));
	assert_non_null(strstr(s, "\"values_visible\":null"));
	free(s);
	/* the admin's: both */
	s = dump(r, true);
	assert_non_null(strstr(s, "\"target\":\"other.auth.example.org\",\"target_is_account\":true"));
	assert_non_null(strstr(s, "\"hop.shop.example\",\"other.auth.example.org\"]"));
	free(s);
	/* a reason naming it (its _acme-challenge name does not exist) */
	strcpy(r->chain[2], "_acme-challenge.other.auth.example.org");
	strcpy(r->target, r->chain[2]);
	strcpy(r->reason, "_acme-challenge.other.auth.example.org does not exist");
	s = dump(r, false);
	assert_null(strstr(s, "other.auth"));
	assert_non_null(strstr(s, "\"reason\":\"another account's name does not exist\""));
	free(s);
	s = dump(r, true);
	assert_non_null(strstr(s, "\"reason\":\"_acme-challenge.other.auth.example.org does not exist\""));
	free(s);
	/* a check that failed there, not a wrong target */
	r->status = ACM_DELEG_SERVFAIL;
	strcpy(r->chain[2], "other.auth.example.org");
	strcpy(r->reason, "the resolver answered SERVFAIL for other.auth.example.org TXT");
	s = dump(r, false);
	assert_null(strstr(s, "other.auth"));
	assert_non_null(strstr(s, "\"chain\":[\"_acme-challenge.shop.example\",\"hop.shop.example\"]"));
	assert_non_null(strstr(s, "SERVFAIL for another account's name TXT"));
	free(s);
	r->status = ACM_DELEG_WRONG_TARGET;
	/* a target elsewhere is named on every route */
	r->target_is_account = false;
	strcpy(r->target, "old.provider.example");
	strcpy(r->chain[2], "old.provider.example");
	s = dump(r, false);
	assert_non_null(strstr(s, "\"target\":\"old.provider.example\",\"target_is_account\":false"));
	free(s);
	free(r);
}

static void test_json_reasons(void **state)
{
	(void)state;
	acm_deleg_result_t *r = result(ACM_DELEG_BOGUS);
	strcpy(r->reason, "signature crypto failed");
	char *s = dump(r, false);
	assert_non_null(strstr(s, "\"reason\":\"signature crypto failed\""));
	assert_non_null(strstr(s, "\"status\":\"bogus\""));
	assert_non_null(strstr(s, "\"target\":null,\"target_is_account\":null"));
	free(s);
	r->status = ACM_DELEG_STATUS_COUNT;
	assert_null(acm_deleg_result_json(r, true));
	free(r);
}

#ifndef HAVE_LIBUNBOUND
/* Built without libunbound: the check says so, and nothing else runs. */
static void test_stub(void **state)
{
	(void)state;
	acm_config_t cfg;
	acm_deleg_t *d = (acm_deleg_t *)&cfg;
	char err[128];
	memset(&cfg, 0, sizeof(cfg));
	assert_int_equal(acm_deleg_new(&cfg, NULL, NULL, &d, err, sizeof(err)), -ENOTSUP);
	assert_null(d);
	assert_non_null(strstr(err, "without libunbound"));
	assert_int_equal(acm_deleg_start(NULL, "a.example", "b", NULL, NULL), -ENOTSUP);
	acm_deleg_free(NULL);
}
#endif

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_names),
		cmocka_unit_test(test_input_lines),
		cmocka_unit_test(test_json_ok),
		cmocka_unit_test(test_json_other_account),
		cmocka_unit_test(test_json_reasons),
#ifndef HAVE_LIBUNBOUND
		cmocka_unit_test(test_stub),
#endif
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
