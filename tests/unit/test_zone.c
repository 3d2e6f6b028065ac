/* SPDX-License-Identifier: ISC */
/*
 * The zone's policy accessors (lib/conf/zone.c): the TSIG keyring, the transfer
 * ACL (address, key, both, several entries, none), update.enabled and the
 * NOTIFY targets, built from a configuration file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "lib/conf/config.h"
#include "lib/error.h"
#include "lib/conf/zone.h"

#define ZONE "zone:\n  name: acme.example.org\n  ns: [ns1.example.org]\n"
#define KEYS "tsig:\n" \
	"  - {name: xfr.example, secret: YQ==}\n" \
	"  - {name: Other.Example, algorithm: hmac-sha384, secret: YWI=}\n"

static acm_zone_t *zone_of(const char *yaml)
{
	char path[] = "/tmp/acmens-test-zone-XXXXXX", err[ACM_CONFIG_ERR_MAX] = "";
	int fd = mkstemp(path);
	acm_config_t *cfg = NULL;
	acm_zone_t *z = NULL;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, yaml, strlen(yaml)), (ssize_t)strlen(yaml));
	close(fd);
	if (acm_config_load(path, &cfg, err, sizeof(err)) != ACM_OK)
		fail_msg("%s", err);
	unlink(path);
	assert_int_equal(acm_zone_build(cfg, &z, err, sizeof(err)), ACM_OK);
	/* The zone keeps copies: the config can go at once. */
	acm_config_free(cfg);
	return z;
}

static struct sockaddr_storage addr(const char *text)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, text, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
	} else {
		assert_int_equal(inet_pton(AF_INET6, text, &a6->sin6_addr), 1);
		a6->sin6_family = AF_INET6;
	}
	return ss;
}

static bool allowed(const acm_zone_t *z, const char *client, const char *key)
{
	struct sockaddr_storage ss = addr(client);
	uint8_t w[ACM_DNAME_MAX];
	int n = key ? acm_dname_from_text(key, w) : 0;

	assert_true(n >= 0);
	return acm_zone_transfer_allowed(z, (struct sockaddr *)&ss, key ? w : NULL, (size_t)n);
}

static void test_keyring(void **state)
{
	acm_zone_t *z = zone_of(ZONE KEYS);
	uint8_t w[ACM_DNAME_MAX];
	int n;

	(void)state;
	n = acm_dname_from_text("other.example.", w);
	const acm_tsig_key_t *k = acm_zone_tsig_key(z, w, (size_t)n);
	assert_non_null(k);
	assert_int_equal(k->alg, ACM_TSIG_HMAC_SHA384);
	assert_int_equal(k->secret_len, 2);
	n = acm_dname_from_text("xfr.example.", w);
	assert_non_null(acm_zone_tsig_key(z, w, (size_t)n));
	assert_null(acm_zone_tsig_key(z, w, (size_t)n - 1));
	n = acm_dname_from_text("nokey.example.", w);
	assert_null(acm_zone_tsig_key(z, w, (size_t)n));
	assert_false(acm_zone_update_enabled(z));
	acm_zone_unref(z);
}

static void test_transfer_acl(void **state)
{
	acm_zone_t *z = zone_of(ZONE KEYS
		"transfer:\n  allow:\n"
		"    - address: 192.0.2.0/24\n"
		"    - key: xfr.example\n"
		"    - {address: \"2001:db8::/32\", key: other.example}\n");

	(void)state;
	assert_true(allowed(z, "192.0.2.77", NULL));
	assert_true(allowed(z, "192.0.2.77", "other.example."));
	assert_true(allowed(z, "::ffff:192.0.2.1", NULL));
	assert_false(allowed(z, "198.51.100.1", NULL));
	assert_true(allowed(z, "198.51.100.1", "xfr.example."));
	assert_false(allowed(z, "198.51.100.1", "other.example."));
	assert_true(allowed(z, "2001:db8::5", "other.example."));
	assert_true(allowed(z, "2001:db8::5", "xfr.example."));
	assert_false(allowed(z, "2001:db8::5", NULL));
	assert_false(allowed(z, "2001:db9::5", "other.example."));
	/* No client address: only key-only entries can match. */
	uint8_t w[ACM_DNAME_MAX];
	int n = acm_dname_from_text("xfr.example.", w);
	assert_true(acm_zone_transfer_allowed(z, NULL, w, (size_t)n));
	assert_false(acm_zone_transfer_allowed(z, NULL, NULL, 0));
	acm_zone_unref(z);

	z = zone_of(ZONE KEYS);
	assert_false(allowed(z, "127.0.0.1", NULL));
	assert_false(allowed(z, "127.0.0.1", "xfr.example."));
	acm_zone_unref(z);
}

static void test_update_and_notify(void **state)
{
	acm_zone_t *z = zone_of(ZONE
		"transfer:\n  notify: [192.0.2.1, \"[2001:db8::1]:5353\"]\n"
		"update:\n  enabled: true\n");
	const acm_listen_t *t;

	(void)state;
	assert_true(acm_zone_update_enabled(z));
	assert_int_equal(acm_zone_notify_targets(z, &t), 2);
	assert_int_equal(ntohs(((const struct sockaddr_in *)&t[0].addr)->sin_port), 53);
	assert_int_equal(t[1].addr.ss_family, AF_INET6);
	assert_int_equal(ntohs(((const struct sockaddr_in6 *)&t[1].addr)->sin6_port), 5353);
	assert_string_equal(t[1].text, "[2001:db8::1]:5353");
	acm_zone_unref(z);

	z = zone_of(ZONE);
	assert_int_equal(acm_zone_notify_targets(z, &t), 0);
	acm_zone_unref(z);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keyring),
		cmocka_unit_test(test_transfer_acl),
		cmocka_unit_test(test_update_and_notify),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
