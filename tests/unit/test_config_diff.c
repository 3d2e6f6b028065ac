/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for lib/conf/config_diff.c: which list a changed setting goes
 * to (applied or restart), that a value written another way is no change,
 * and that a TSIG secret never shows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/conf/config_diff.h"
#include "lib/error.h"

#define SECRET_A "c2VjcmV0LW9uZS1vZi10aGlydHktdHdvLWJ5dGVzLXh4"
#define SECRET_B "c2VjcmV0LXR3by1vZi10aGlydHktdHdvLWJ5dGVzLXl5"

/* The zone every case shares, then its own lines (top-level keys). */
static acm_config_t *cfg_with(const char *more)
{
	char path[] = "/tmp/acmens-test-diff-XXXXXX", err[ACM_CONFIG_ERR_MAX];
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "w");
	assert_non_null(f);
	fprintf(f, "zone:\n  name: auth.example.org.\n  ns: [ns1.example.org.]\n%s", more);
	fclose(f);
	acm_config_t *cfg = NULL;
	int rc = acm_config_load(path, &cfg, err, sizeof(err));
	unlink(path);
	if (rc != ACM_OK)
		fail_msg("%s", err);
	return cfg;
}

/* diff(running, applied, file) of three texts (applied NULL: running). */
static void diff3(const char *running, const char *applied, const char *file,
                  acm_config_diff_t *out)
{
	acm_config_t *r = cfg_with(running), *a = applied ? cfg_with(applied) : NULL,
	             *f = cfg_with(file);
	assert_int_equal(acm_config_diff(r, a ? a : r, f, out), ACM_OK);
	acm_config_free(r);
	acm_config_free(a);
	acm_config_free(f);
}

static void expect_change(const acm_config_change_t *c, const char *key, const char *from,
                          const char *to)
{
	assert_string_equal(c->key, key);
	assert_string_equal(c->from, from);
	assert_string_equal(c->to, to);
}

/* Exactly one change, in the restart list (restart) or the applied one. */
static void expect_only(const char *running, const char *applied, const char *file, bool restart,
                        const char *key, const char *from, const char *to)
{
	acm_config_diff_t d;
	diff3(running, applied, file, &d);
	assert_int_equal(d.restart_count, restart ? 1 : 0);
	assert_int_equal(d.applied_count, restart ? 0 : 1);
	expect_change(restart ? d.restart : d.applied, key, from, to);
	acm_config_diff_free(&d);
}

static void expect_none(const char *running, const char *applied, const char *file)
{
	acm_config_diff_t d;
	diff3(running, applied, file, &d);
	assert_int_equal(d.applied_count + d.restart_count, 0);
	acm_config_diff_free(&d);
}

#define LISTEN(list) "dns:\n  listen: [" list "]\n"

static void test_listen_against_running_not_applied(void **state)
{
	(void)state;
	expect_none(LISTEN("\"127.0.0.1:53\""), NULL, LISTEN("\"127.0.0.1:53\""));
	/* the file read before already had 5300: the socket is still 53 */
	expect_only(LISTEN("\"127.0.0.1\", \"[::1]\""), LISTEN("\"127.0.0.1:5300\""),
	            LISTEN("\"127.0.0.1:5300\""), true, "dns.listen", "127.0.0.1:53, [::1]:53",
	            "127.0.0.1:5300");
	/* back to what is bound, after a file that differed: nothing */
	expect_none(LISTEN("\"127.0.0.1\""), LISTEN("\"127.0.0.1:5300\""),
	            LISTEN("\"127.0.0.1:53\""));
	/* the same sockets in another order and spelling */
	expect_none(LISTEN("\"127.0.0.1:53\", \"[::1]:53\""), NULL, LISTEN("\"::1\", \"127.0.0.1\""));
}

static void test_reloadable_against_applied(void **state)
{
	(void)state;
	acm_config_diff_t d;
	diff3("log:\n  level: info\n", "log:\n  level: debug\n",
	      "log:\n  level: warning\nstore:\n  max_accounts: 10\n", &d);
	assert_int_equal(d.restart_count, 0);
	assert_int_equal(d.applied_count, 2);
	expect_change(&d.applied[0], "store.max_accounts", "0", "10");
	expect_change(&d.applied[1], "log.level", "debug", "warning");
	acm_config_diff_free(&d);
}

static void test_restart_only_settings(void **state)
{
	(void)state;
	acm_config_diff_t d;
	diff3("", NULL,
	      "dns:\n  workers: 3\n  udp_payload: 1400\n  name_index: false\n"
	      "store:\n  max_size: 1M\naudit:\n  max_entries: 5\n",
	      &d);
	assert_int_equal(d.applied_count, 0);
	assert_int_equal(d.restart_count, 5);
	expect_change(&d.restart[0], "dns.workers", "0 (one per core)", "3");
	expect_change(&d.restart[1], "dns.udp_payload", "1232", "1400");
	expect_change(&d.restart[2], "dns.name_index", "true", "false");
	expect_change(&d.restart[3], "store.max_size", "4294967296", "1048576");
	expect_change(&d.restart[4], "audit.max_entries", "100000", "5");
	acm_config_diff_free(&d);
}

#define HTTP_AT(port) "http:\n  listen: [\"127.0.0.1:" port "\"]\n"

static void test_http_section(void **state)
{
	(void)state;
	acm_config_diff_t d;
	/* added: the section and its address need a restart, its keys are
	 * not reported as applied */
	diff3("", NULL, HTTP_AT("8080") "  txt_limit: 5\n", &d);
	assert_int_equal(d.applied_count, 0);
	assert_int_equal(d.restart_count, 2);
	expect_change(&d.restart[0], "http", "absent", "present");
	expect_change(&d.restart[1], "http.listen", "none", "127.0.0.1:8080");
	acm_config_diff_free(&d);
	/* running: a key changes with the reload */
	expect_only(HTTP_AT("8080"), NULL, HTTP_AT("8080") "  txt_limit: 5\n", false,
	            "http.txt_limit", "2", "5");
}

static void test_update_needs_group_commit(void **state)
{
	(void)state;
	expect_only("", NULL, "update:\n  enabled: true\n", true, "update.enabled", "false", "true");
	/* with the API, group commit runs: the reload applies it */
	expect_only(HTTP_AT("8080"), NULL, HTTP_AT("8080") "update:\n  enabled: true\n", false,
	            "update.enabled", "false", "true");
}

#define KEY(secret) "tsig:\n  - {name: xfr.key., algorithm: hmac-sha256, secret: " secret "}\n"

static void test_tsig_secret_never_shown(void **state)
{
	(void)state;
	expect_only(KEY(SECRET_A), NULL, KEY(SECRET_B), false, "tsig", "xfr.key. hmac-sha256",
	            "xfr.key. hmac-sha256 (a secret changed)");
	expect_none(KEY(SECRET_A), NULL, KEY(SECRET_A));
}

static void test_long_value_cut(void **state)
{
	(void)state;
	acm_config_diff_t d;
	char file[4096];
	/* still inside the zone map cfg_with opens */
	size_t n = (size_t)snprintf(file, sizeof(file), "  records:\n");
	for (int i = 0; i < 40; i++)
		n += (size_t)snprintf(file + n, sizeof(file) - n,
		                      "    - \"host%02d.auth.example.org. 300 IN A 192.0.2.%d\"\n", i,
		                      i + 1);
	diff3("", NULL, file, &d);
	assert_int_equal(d.applied_count, 1);
	assert_string_equal(d.applied[0].key, "zone.records");
	assert_string_equal(d.applied[0].from, "none");
	assert_int_equal(strlen(d.applied[0].to), ACM_CONFIG_VALUE_MAX);
	assert_string_equal(d.applied[0].to + ACM_CONFIG_VALUE_MAX - 3, "...");
	acm_config_diff_free(&d);
}

/* dnssec.*: a reload rebuilds the zone with them; the algorithm by name;
 * the refresh that follows a shorter validity moves with it. */
static void test_dnssec_reloads(void **state)
{
	(void)state;
	acm_config_diff_t d;
	diff3("", NULL,
	      "dnssec:\n  enabled: true\n  algorithm: \"ed25519\"\n"
	      "  signature_validity: 86400\n", &d);
	static const char *const want[][3] = {
		{ "dnssec.enabled", "false", "true" },
		{ "dnssec.algorithm", "ecdsap256sha256", "ed25519" },
		{ "dnssec.signature_validity", "1209600", "86400" },
		{ "dnssec.signature_refresh", "604800", "43200" },
	};
	assert_int_equal(d.restart_count, 0);
	assert_int_equal(d.applied_count, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < d.applied_count; i++)
		expect_change(&d.applied[i], want[i][0], want[i][1], want[i][2]);
	acm_config_diff_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_listen_against_running_not_applied),
		cmocka_unit_test(test_reloadable_against_applied),
		cmocka_unit_test(test_restart_only_settings),
		cmocka_unit_test(test_dnssec_reloads),
		cmocka_unit_test(test_http_section),
		cmocka_unit_test(test_update_needs_group_commit),
		cmocka_unit_test(test_tsig_secret_never_shown),
		cmocka_unit_test(test_long_value_cut),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
