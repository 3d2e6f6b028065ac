/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for lib/conf/preflight.c: the admin token file's rules (what
 * is read, what is refused and how it is worded) and the store directory
 * probes, which must leave nothing behind.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/conf/preflight.h"
#include "lib/error.h"

static char dir[] = "/tmp/acmens-test-preflight-XXXXXX";

static const char *token_file(const char *content, size_t len, mode_t mode)
{
	static char path[128];
	snprintf(path, sizeof(path), "%s/token", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(content, 1, len, f), len);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
	return path;
}

static void read_expect(const char *content, size_t len, mode_t mode, int want_rc,
                        const char *want)
{
	char out[ACM_ADMIN_TOKEN_MAX + 1] = "", err[512] = "";
	const char *path = token_file(content, len, mode);
	int rc = acm_admin_token_read(path, out, sizeof(out), err, sizeof(err));
	assert_int_equal(rc, want_rc);
	if (rc == ACM_OK) {
		assert_string_equal(out, want);
		return;
	}
	char prefix[256];
	snprintf(prefix, sizeof(prefix), "http.admin_token_file %s: ", path);
	if (strncmp(err, prefix, strlen(prefix)) != 0 || !strstr(err, want))
		fail_msg("got \"%s\", want \"%s...%s\"", err, prefix, want);
}

static void test_token(void **state)
{
	(void)state;

	read_expect("secret-token-123\n", 17, 0600, ACM_OK, "secret-token-123");
	read_expect("secret-token-123 \r\n\t\n", 21, 0640, ACM_OK, "secret-token-123");
	read_expect("", 0, 0600, ACM_ECONFIG, "the file is empty");
	read_expect(" \n\n", 3, 0600, ACM_ECONFIG, "the file is empty");
	read_expect("a\nb\n", 4, 0600, ACM_ECONFIG, "expected one line of at most 255 bytes");
	read_expect("a\0b\n", 4, 0600, ACM_ECONFIG, "expected one line");
	read_expect("secret-token-123\n", 17, 0604, ACM_ECONFIG,
	            "readable by every user (mode 0604)");
}

static void test_token_lengths(void **state)
{
	char buf[ACM_ADMIN_TOKEN_MAX + 2], out[ACM_ADMIN_TOKEN_MAX + 1], err[512];
	(void)state;

	memset(buf, 'x', sizeof(buf));
	const char *path = token_file(buf, ACM_ADMIN_TOKEN_MAX, 0600);
	assert_int_equal(acm_admin_token_read(path, out, sizeof(out), err, sizeof(err)), ACM_OK);
	assert_int_equal(strlen(out), ACM_ADMIN_TOKEN_MAX);
	path = token_file(buf, ACM_ADMIN_TOKEN_MAX + 1, 0600);
	assert_int_equal(acm_admin_token_read(path, out, sizeof(out), err, sizeof(err)),
	                 ACM_ECONFIG);
	assert_non_null(strstr(err, "at most 255 bytes"));
}

static void test_missing_token(void **state)
{
	char out[ACM_ADMIN_TOKEN_MAX + 1], err[512];
	(void)state;

	int rc = acm_admin_token_read("/nonexistent/token", out, sizeof(out), err, sizeof(err));
	assert_int_equal(rc, -ENOENT);
	assert_string_equal(err, "http.admin_token_file /nonexistent/token: no such file or directory");
	rc = acm_admin_token_read(dir, out, sizeof(out), err, sizeof(err));
	assert_int_equal(rc, ACM_ECONFIG);
	assert_non_null(strstr(err, ": a directory, not a file"));
}

/* A configuration with only a store path, for acm_preflight. */
static int preflight_store(const char *store, char *err, size_t len)
{
	acm_config_t cfg = { 0 };
	cfg.path = (char *)"acmens.yaml";
	cfg.store_path = (char *)store;
	return acm_preflight(&cfg, err, len);
}

static void test_store_dir(void **state)
{
	char store[256], err[512], probe[300];
	struct stat st;
	(void)state;

	snprintf(store, sizeof(store), "%s/a/b/store", dir);
	assert_int_equal(preflight_store(store, err, sizeof(err)), ACM_OK);
	snprintf(probe, sizeof(probe), "%s/a", dir);
	assert_int_equal(stat(probe, &st), -1);      /* made and removed again */

	snprintf(store, sizeof(store), "%s/token", dir);
	token_file("x", 1, 0600);
	assert_int_equal(preflight_store(store, err, sizeof(err)), ACM_ECONFIG);
	snprintf(probe, sizeof(probe), "acmens.yaml: store.path %s: not a directory", store);
	assert_string_equal(err, probe);

	snprintf(store, sizeof(store), "%s/token/store", dir);
	assert_int_equal(preflight_store(store, err, sizeof(err)), ACM_ECONFIG);
	assert_non_null(strstr(err, ": cannot reach it: "));
	assert_non_null(strstr(err, "a part of the path is not a directory"));

	assert_int_equal(preflight_store(dir, err, sizeof(err)), ACM_OK);
}

/* The delegation check's files are checked with its section only. */
static void test_delegation_files(void **state)
{
	char file[256], err[512], want[600];
	acm_config_t cfg = { 0 };
	(void)state;

	cfg.path = (char *)"acmens.yaml";
	cfg.store_path = dir;
	cfg.delegation.trust_anchor_file = (char *)"/nonexistent/anchors.key";
	assert_int_equal(acm_preflight(&cfg, err, sizeof(err)), ACM_OK);

	cfg.delegation.configured = true;
	assert_int_equal(acm_preflight(&cfg, err, sizeof(err)), ACM_ECONFIG);
	assert_string_equal(err, "acmens.yaml: delegation.trust_anchor_file /nonexistent/anchors.key: "
			    "no such file or directory");
	cfg.delegation.trust_anchor_file = dir;
	assert_int_equal(acm_preflight(&cfg, err, sizeof(err)), ACM_ECONFIG);
	assert_non_null(strstr(err, ": a directory, not a file"));

	snprintf(file, sizeof(file), "%s/token", dir);
	token_file(". IN DS 1 8 2 00\n", 16, 0644);
	cfg.delegation.trust_anchor_file = file;
	assert_int_equal(acm_preflight(&cfg, err, sizeof(err)), ACM_OK);
	cfg.delegation.root_hints = (char *)"/nonexistent/root.hints";
	assert_int_equal(acm_preflight(&cfg, err, sizeof(err)), ACM_ECONFIG);
	snprintf(want, sizeof(want), "acmens.yaml: delegation.root_hints /nonexistent/root.hints: "
		 "no such file or directory");
	assert_string_equal(err, want);
	cfg.delegation.root_hints = file;
	assert_int_equal(acm_preflight(&cfg, err, sizeof(err)), ACM_OK);
}

int main(void)
{
	assert_non_null(mkdtemp(dir));
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token),
		cmocka_unit_test(test_token_lengths),
		cmocka_unit_test(test_missing_token),
		cmocka_unit_test(test_store_dir),
		cmocka_unit_test(test_delegation_files),
	};
	int r = cmocka_run_group_tests(tests, NULL, NULL);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		r = 1;
	return r;
}
