/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for lib/conf/config.c: a full configuration, the defaults, and one
 * case per kind of error with its file, line and key.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "lib/conf/config.h"
#include "lib/error.h"

static char *write_tmp(const char *content)
{
	char *path = strdup("/tmp/acmens-test-config-XXXXXX");
	assert_non_null(path);
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	size_t len = strlen(content);
	assert_int_equal(write(fd, content, len), (ssize_t)len);
	close(fd);
	return path;
}

static acm_config_t *load_ok(const char *yaml)
{
	char *path = write_tmp(yaml);
	char err[ACM_CONFIG_ERR_MAX];
	acm_config_t *cfg = NULL;
	int r = acm_config_load(path, &cfg, err, sizeof(err));
	unlink(path);
	free(path);
	if (r != ACM_OK)
		fail_msg("load failed (%d): %s", r, err);
	assert_non_null(cfg);
	return cfg;
}

/* line 0: the message carries no line; key NULL: it names no key. */
static void expect_error(const char *yaml, unsigned line, const char *key, const char *fragment)
{
	char *path = write_tmp(yaml);
	char err[ACM_CONFIG_ERR_MAX], want[256], where[32] = "";
	acm_config_t *cfg = (acm_config_t *)&err;   /* must be reset to NULL */

	int r = acm_config_load(path, &cfg, err, sizeof(err));
	unlink(path);
	if (line)
		snprintf(where, sizeof(where), ":%u", line);
	snprintf(want, sizeof(want), "%s%s: %s%s", path, where, key ? key : "", key ? ": " : "");
	if (r != ACM_ECONFIG)
		fail_msg("want ACM_ECONFIG, got %d (%s) for:\n%s", r, err, yaml);
	assert_null(cfg);
	if (strncmp(err, want, strlen(want)) != 0 || !strstr(err, fragment))
		fail_msg("got \"%s\"\nwant \"%s...%s...\"\nfor:\n%s", err, want, fragment, yaml);
	free(path);
}

static const uint8_t *wire(const char *text, uint8_t *buf)
{
	assert_true(acm_dname_from_text(text, buf) > 0);
	return buf;
}

static void assert_name(const uint8_t *got, const char *text)
{
	uint8_t w[ACM_DNAME_MAX];
	wire(text, w);
	assert_int_equal(acm_dname_len(got), acm_dname_len(w));
	assert_memory_equal(got, w, acm_dname_len(w));
}

static void assert_listen4(const acm_listen_t *l, const char *addr, uint16_t port)
{
	const struct sockaddr_in *a = (const struct sockaddr_in *)&l->addr;
	struct in_addr want;
	assert_int_equal(a->sin_family, AF_INET);
	assert_int_equal(l->addrlen, sizeof(*a));
	assert_int_equal(inet_pton(AF_INET, addr, &want), 1);
	assert_memory_equal(&a->sin_addr, &want, sizeof(want));
	assert_int_equal(ntohs(a->sin_port), port);
}

static void assert_listen6(const acm_listen_t *l, const char *addr, uint16_t port)
{
	const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&l->addr;
	struct in6_addr want;
	assert_int_equal(a->sin6_family, AF_INET6);
	assert_int_equal(l->addrlen, sizeof(*a));
	assert_int_equal(inet_pton(AF_INET6, addr, &want), 1);
	assert_memory_equal(&a->sin6_addr, &want, sizeof(want));
	assert_int_equal(ntohs(a->sin6_port), port);
}

static void test_full(void **state)
{
	(void)state;
	acm_config_t *c = load_ok(
		"# acmens test configuration\n"            /* 1 */
		"zone:\n"                                   /* 2 */
		"  name: ACME.Example.ORG\n"                /* 3 */
		"  ns:\n"                                   /* 4 */
		"    - ns1.example.org\n"                   /* 5 */
		"    - NS2.example.net.\n"                  /* 6 */
		"  soa:\n"                                  /* 7 */
		"    mname: ns0.example.org\n"              /* 8 */
		"    rname: admin.example.org\n"            /* 9 */
		"    refresh: 7200\n"                       /* 10 */
		"    retry: 300\n"                          /* 11 */
		"    expire: 1209600\n"                     /* 12 */
		"    minimum: 30\n"                         /* 13 */
		"    ttl: 2147483647\n"                     /* 14 */
		"  txt_ttl: 0\n"                            /* 15 */
		"  txt_max_values: 64\n"                    /* 16 */
		"  records:\n"                              /* 17 */
		"    - \"@ A 192.0.2.1\"\n"                 /* 18 */
		"    - www 300 IN AAAA 2001:db8::1\n"       /* 19 */
		"    - alias CNAME www\n"                   /* 20 */
		"    - 'txt TXT \"hello world\"'\n"         /* 21 */
		"    - \"@ MX 10 mail.example.net.\"\n"     /* 22 */
		"dns:\n"                                    /* 23 */
		"  listen:\n"                               /* 24 */
		"    - 192.0.2.53:5353\n"                   /* 25 */
		"    - \"[2001:db8::53]:53\"\n"             /* 26 */
		"    - 0.0.0.0\n"                           /* 27 */
		"    - \"::\"\n"                            /* 28 */
		"    - \"[::1]\"\n"                         /* 29 */
		"  workers: 256\n"
		"  udp_payload: 4096\n"
		"  tcp_idle_timeout: 3600\n"
		"  tcp_max_clients: 1000000\n"
		"store:\n"
		"  path: /var/lib/acmens\n"
		"  max_size: 512M\n"
		"  max_accounts: 250000\n"
		"log:\n"
		"  level: debug\n");

	assert_non_null(c->path);
	assert_memory_equal(c->apex, "\4acme\7example\3org\0", 18);
	assert_int_equal(c->ns_count, 2);
	assert_name(c->ns[0], "ns1.example.org");
	assert_name(c->ns[1], "ns2.example.net");
	assert_name(c->soa.mname, "ns0.example.org");
	assert_name(c->soa.rname, "admin.example.org");
	assert_int_equal(c->soa.refresh, 7200);
	assert_int_equal(c->soa.retry, 300);
	assert_int_equal(c->soa.expire, 1209600);
	assert_int_equal(c->soa.minimum, 30);
	assert_int_equal(c->soa.ttl, 2147483647u);
	assert_int_equal(c->txt_ttl, 0);
	assert_int_equal(c->txt_max_values, 64);

	assert_int_equal(c->record_count, 5);
	assert_string_equal(c->records[0].text, "@ A 192.0.2.1");
	assert_int_equal(c->records[0].line, 18);
	assert_string_equal(c->records[1].text, "www 300 IN AAAA 2001:db8::1");
	assert_int_equal(c->records[1].line, 19);
	assert_string_equal(c->records[3].text, "txt TXT \"hello world\"");
	assert_int_equal(c->records[3].line, 21);
	assert_int_equal(c->records[4].line, 22);

	assert_int_equal(c->listen_count, 5);
	assert_listen4(&c->listen[0], "192.0.2.53", 5353);
	assert_string_equal(c->listen[0].text, "192.0.2.53:5353");
	assert_listen6(&c->listen[1], "2001:db8::53", 53);
	assert_listen4(&c->listen[2], "0.0.0.0", 53);
	assert_listen6(&c->listen[3], "::", 53);
	assert_listen6(&c->listen[4], "::1", 53);
	assert_string_equal(c->listen[4].text, "[::1]");

	assert_int_equal(c->workers, 256);
	assert_int_equal(c->udp_payload, 4096);
	assert_int_equal(c->tcp_idle_timeout, 3600);
	assert_int_equal(c->tcp_max_clients, 1000000);
	assert_string_equal(c->store_path, "/var/lib/acmens");
	assert_int_equal(c->store_max_size, 512ull << 20);
	assert_int_equal(c->store_max_accounts, 250000);
	assert_int_equal(c->log_level, ACM_LOG_DEBUG);
	acm_config_free(c);
}

static void test_defaults(void **state)
{
	(void)state;
	acm_config_t *c = load_ok("zone:\n  name: acme.example.org.\n  ns: [NS1.Example.org]\n");

	assert_name(c->apex, "acme.example.org");
	assert_int_equal(c->ns_count, 1);
	assert_name(c->ns[0], "ns1.example.org");
	assert_name(c->soa.mname, "ns1.example.org");
	assert_name(c->soa.rname, "hostmaster.acme.example.org");
	assert_int_equal(c->soa.refresh, 3600);
	assert_int_equal(c->soa.retry, 600);
	assert_int_equal(c->soa.expire, 604800);
	assert_int_equal(c->soa.minimum, 60);
	assert_int_equal(c->soa.ttl, 3600);
	assert_int_equal(c->txt_ttl, 1);
	assert_int_equal(c->txt_max_values, 8);
	assert_int_equal(c->record_count, 0);
	assert_null(c->records);
	assert_int_equal(c->listen_count, 2);
	assert_listen4(&c->listen[0], "127.0.0.1", 53);
	assert_listen6(&c->listen[1], "::1", 53);
	assert_int_equal(c->workers, 0);
	assert_int_equal(c->udp_payload, 1232);
	assert_int_equal(c->tcp_idle_timeout, 10);
	assert_int_equal(c->tcp_max_clients, 1024);
	assert_int_equal(c->tcp_max_per_client, 16);
	assert_int_equal(c->tcp_message_timeout, 5);
	assert_true(c->name_index);
	assert_true(c->udp_yield);
	assert_string_equal(c->store_path, "./var");
	assert_int_equal(c->store_max_size, 4ull << 30);
	assert_int_equal(c->store_max_accounts, 0);
	assert_int_equal(c->log_level, ACM_LOG_INFO);
	assert_int_equal(c->log_format, ACM_LOG_LOGFMT);
	assert_int_equal(c->log_target, ACM_LOG_STDERR);
	assert_int_equal(c->audit_max_entries, 100000);
	assert_int_equal(c->audit_max_age, 7776000);
	acm_config_free(c);

	acm_config_free(NULL);
}

static void test_values(void **state)
{
	(void)state;
	static const struct { const char *text; uint64_t bytes; } sizes[] = {
		{ "1M", 1ull << 20 }, { "1048576", 1ull << 20 }, { "2048K", 2ull << 20 },
		{ "3g", 3ull << 30 }, { "4T", 4ull << 40 },
	};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char yaml[200];
		snprintf(yaml, sizeof(yaml),
			 "zone: {name: a.org, ns: [ns.a.org]}\nstore: {max_size: %s}\n",
			 sizes[i].text);
		acm_config_t *c = load_ok(yaml);
		assert_int_equal(c->store_max_size, sizes[i].bytes);
		acm_config_free(c);
	}

	static const char *const levels[] = { "error", "warning", "notice", "info", "debug" };
	for (int i = 0; i < 5; i++) {
		char yaml[200];
		snprintf(yaml, sizeof(yaml),
			 "zone: {name: a.org, ns: [ns.a.org]}\nlog: {level: %s}\n", levels[i]);
		acm_config_t *c = load_ok(yaml);
		assert_int_equal(c->log_level, i);
		acm_config_free(c);
	}

	acm_config_t *lc = load_ok("zone: {name: a.org, ns: [ns.a.org]}\n"
				   "log: {format: json, target: syslog}\n"
				   "audit: {max_entries: 5, max_age: 0}\n");
	assert_int_equal(lc->log_format, ACM_LOG_JSON);
	assert_int_equal(lc->log_target, ACM_LOG_SYSLOG);
	assert_int_equal(lc->audit_max_entries, 5);
	assert_int_equal(lc->audit_max_age, 0);
	acm_config_free(lc);

	/* a record may sit at the apex and at a CNAME-free sibling of a CNAME */
	acm_config_t *c = load_ok("zone:\n  name: a.org\n  ns: [ns.a.org]\n"
				  "  records:\n    - x CNAME y\n    - x.x TXT below\n"
				  "    - \"@ TXT apex\"\n");
	assert_int_equal(c->record_count, 3);
	acm_config_free(c);
}

/* Lines 1-4 of most cases. */
#define ZONE "zone:\n  name: acme.example.org\n  ns:\n    - ns1.example.org\n"
#define INT31 "expected an integer from 0 to 2147483647"
/* Lines 5-6 of the http cases. */
#define HTTP "http:\n  listen: [127.0.0.1:8053]\n"

/* Quoting does not change what a number, size, boolean or enum means;
 * a string keeps the text inside the quotes. */
static void test_quoted_scalars(void **state)
{
	(void)state;
	acm_config_t *c = load_ok(
		ZONE "  txt_ttl: \"30\"\n"
		"dns:\n  workers: '4'\n  name_index: \"no\"\n  udp_yield: 'off'\n"
		"store:\n  path: 'yes'\n  max_size: \"1M\"\n"
		"lookups:\n  enabled: 'off'\n"
		"log:\n  level: \"debug\"\n  format: 'json'\n");
	assert_int_equal(c->txt_ttl, 30);
	assert_int_equal(c->workers, 4);
	assert_false(c->name_index);
	assert_false(c->udp_yield);
	assert_string_equal(c->store_path, "yes");
	assert_int_equal(c->store_max_size, 1u << 20);
	assert_false(c->lookups.enabled);
	assert_int_equal(c->log_level, ACM_LOG_DEBUG);
	assert_int_equal(c->log_format, ACM_LOG_JSON);
	acm_config_free(c);
}

static void test_http(void **state)
{
	(void)state;
	acm_config_t *c = load_ok(
		ZONE
		"http:\n"
		"  listen: [\"127.0.0.1:8053\", \"[::1]\", 0.0.0.0]\n"
		"  tls:\n"
		"    cert: /etc/acmens/cert.pem\n"
		"    key: /etc/acmens/key.pem\n"
		"  admin_token_file: /etc/acmens/admin.token\n"
		"  disable_registration: yes\n"
		"  txt_limit: 64\n"
		"  txt_expiry: 0\n"
		"  cors_origins: [\"*\", \"https://ui.example.org:8443\"]\n"
		"  proxy_header: X-Forwarded-For\n"
		"  trusted_proxies: [10.0.0.0/8, \"::1\"]\n"
		"  max_body: 16M\n"
		"  timeout: 3600\n"
		"  max_connections: 100000\n"
		"  register_rate: 0\n"
		"  register_rate_global: 1000000\n"
		"  batch_max: 100000\n");

	assert_true(c->http.enabled);
	assert_int_equal(c->http.listen_count, 3);
	assert_listen4(&c->http.listen[0], "127.0.0.1", 8053);
	/* with TLS a bare address takes 443 */
	assert_listen6(&c->http.listen[1], "::1", 443);
	assert_listen4(&c->http.listen[2], "0.0.0.0", 443);
	assert_string_equal(c->http.tls_cert, "/etc/acmens/cert.pem");
	assert_string_equal(c->http.tls_key, "/etc/acmens/key.pem");
	assert_string_equal(c->http.admin_token_file, "/etc/acmens/admin.token");
	assert_true(c->http.disable_registration);
	assert_int_equal(c->http.txt_limit, 64);
	assert_int_equal(c->http.txt_expiry, 0);
	assert_int_equal(c->http.cors_count, 2);
	assert_string_equal(c->http.cors_origins[0], "*");
	assert_string_equal(c->http.cors_origins[1], "https://ui.example.org:8443");
	assert_string_equal(c->http.proxy_header, "X-Forwarded-For");
	assert_int_equal(c->http.trusted_proxy_count, 2);
	assert_string_equal(c->http.trusted_proxies[0], "10.0.0.0/8");
	assert_string_equal(c->http.trusted_proxies[1], "::1");
	assert_int_equal(c->http.max_body, 16ull << 20);
	assert_int_equal(c->http.timeout, 3600);
	assert_int_equal(c->http.max_connections, 100000);
	assert_int_equal(c->http.register_rate, 0);
	assert_int_equal(c->http.register_rate_global, 1000000);
	assert_int_equal(c->http.batch_max, 100000);
	/* the DNS side keeps its own defaults */
	assert_int_equal(c->listen_count, 2);
	assert_listen4(&c->listen[0], "127.0.0.1", 53);
	acm_config_free(c);
}

/* Entries with one "*" as acme-dns (rs/cors) takes them, kept as written. */
static void test_http_cors_wildcards(void **state)
{
	(void)state;
	acm_config_t *c = load_ok(ZONE "http:\n  listen: [192.0.2.1]\n"
	                          "  cors_origins: [\"https://*.example.org\", \"*.example.net\",\n"
	                          "                 \"http://localhost:*\", \"https://*\"]\n");
	assert_int_equal(c->http.cors_count, 4);
	assert_string_equal(c->http.cors_origins[0], "https://*.example.org");
	assert_string_equal(c->http.cors_origins[1], "*.example.net");
	assert_string_equal(c->http.cors_origins[2], "http://localhost:*");
	assert_string_equal(c->http.cors_origins[3], "https://*");
	acm_config_free(c);
}

static void test_http_defaults(void **state)
{
	(void)state;
	acm_config_t *c = load_ok(ZONE);
	assert_false(c->http.enabled);
	assert_int_equal(c->http.listen_count, 0);
	assert_true(c->name_index);
	acm_config_free(c);

	c = load_ok(ZONE "dns:\n  name_index: false\n");
	assert_false(c->name_index);
	acm_config_free(c);

	c = load_ok(ZONE "http:\n  listen: [192.0.2.1]\n");
	assert_true(c->http.enabled);
	assert_int_equal(c->http.listen_count, 1);
	assert_listen4(&c->http.listen[0], "192.0.2.1", 80);
	assert_null(c->http.tls_cert);
	assert_null(c->http.tls_key);
	assert_null(c->http.admin_token_file);
	assert_false(c->http.disable_registration);
	assert_int_equal(c->http.txt_limit, 2);
	assert_int_equal(c->http.txt_expiry, 604800);
	assert_int_equal(c->http.cors_count, 0);
	assert_null(c->http.cors_origins);
	assert_null(c->http.proxy_header);
	assert_int_equal(c->http.trusted_proxy_count, 0);
	assert_int_equal(c->http.max_body, 64 << 10);
	assert_int_equal(c->http.timeout, 10);
	assert_int_equal(c->http.max_connections, 1024);
	assert_int_equal(c->http.max_connections_per_client, 32);
	assert_int_equal(c->http.request_timeout, 10);
	assert_int_equal(c->http.register_rate, 10);
	assert_int_equal(c->http.register_rate_global, 100);
	assert_int_equal(c->http.batch_max, 1000);
	acm_config_free(c);

	c = load_ok(ZONE "http:\n  listen: [\"[::]:8443\"]\n  max_body: 1K\n");
	assert_listen6(&c->http.listen[0], "::", 8443);
	assert_int_equal(c->http.max_body, 1024);
	acm_config_free(c);
}

struct err_case {
	const char *yaml;
	unsigned line;
	const char *key;
	const char *fragment;
};

static const struct err_case err_cases[] = {
	/* unknown keys */
	{ ZONE "http:\n  listen: [127.0.0.1]\n  port: 8080\n", 7, "http.port", "unknown key" },
	{ ZONE "http:\n  tls:\n    ca: x\n", 7, "http.tls.ca", "unknown key" },
	{ ZONE "  foo: 1\n", 5, "zone.foo", "unknown key" },
	{ ZONE "  soa:\n    refresh: 1\n    bogus: 2\n", 7, "zone.soa.bogus", "unknown key" },
	{ ZONE "  soa.refresh: 5\n", 5, "zone.soa.refresh", "unknown key" },
	{ ZONE "dns:\n  zone: 1\n", 6, "dns.zone", "unknown key" },
	{ ZONE "\"\": 1\n", 5, "(top level)", "keys must be non-empty strings" },
	{ ZONE "? [a]\n: b\n", 5, "(top level)", "keys must be non-empty strings" },
	{ ZONE "dns:\n  ? {a: b}\n  : 1\n", 6, "dns", "keys must be non-empty strings" },

	/* wrong types */
	{ ZONE "  soa:\n    refresh: abc\n", 6, "zone.soa.refresh", INT31 },
	{ ZONE "  soa:\n    refresh: \"36OO\"\n", 6, "zone.soa.refresh", INT31 " (got \"36OO\")" },
	{ ZONE "  soa:\n    refresh: '-1'\n", 6, "zone.soa.refresh", INT31 " (got '-1')" },
	{ ZONE "  soa:\n    refresh: \" 1\"\n", 6, "zone.soa.refresh", "(got \" 1\")" },
	{ ZONE "  soa:\n    refresh: \"a\\tb\\\"\"\n", 6, "zone.soa.refresh",
	  "(got \"a\\x09b\\\"\")" },
	{ ZONE "  soa:\n    refresh: 'it''s'\n", 6, "zone.soa.refresh", "(got 'it''s')" },
	{ ZONE "  soa:\n    refresh: |\n      5\n", 6, "zone.soa.refresh", "(got \"5\\x0a\")" },
	{ ZONE "  soa:\n    refresh: [1]\n", 6, "zone.soa.refresh", INT31 " (got a list)" },
	{ ZONE "  soa:\n    refresh:\n", 6, "zone.soa.refresh", INT31 " (got nothing)" },
	{ ZONE "  soa:\n    ttl: 1.5\n", 6, "zone.soa.ttl", INT31 },
	{ ZONE "  soa:\n    ttl: 0x10\n", 6, "zone.soa.ttl", INT31 },
	{ ZONE "  soa: 5\n", 5, "zone.soa", "expected a mapping" },
	{ "zone:\n", 1, "zone", "expected a mapping" },
	{ "zone:\n  name: a.org\n  ns:\n    a: b\n", 3, "zone.ns", "expected a list of domain names" },
	{ "zone:\n  name: a.org\n  ns: ns1.a.org\n", 3, "zone.ns",
	  "expected a list of domain names (got ns1.a.org)" },
	{ "zone:\n  name: a.org\n  ns:\n    - ns1.a.org\n    - [x]\n", 5, "zone.ns",
	  "expected a list of domain names (got a list)" },
	{ "zone:\n  name: a.org\n  ns: []\n", 3, "zone.ns", "at least 1" },
	{ "zone:\n  name: [a.org]\n  ns: [ns.a.org]\n", 2, "zone.name",
	  "expected a domain name (got a list)" },
	{ ZONE "  records: www A 192.0.2.1\n", 5, "zone.records", "expected a list of records" },
	{ ZONE "  records:\n    - {a: b}\n", 6, "zone.records",
	  "expected a list of records (got a mapping)" },
	{ ZONE "store:\n  path: \"\"\n", 6, "store.path", "expected a non-empty string (got \"\")" },
	{ ZONE "store:\n  path:\n", 6, "store.path", "expected a non-empty string (got nothing)" },
	{ ZONE "store:\n  path: [a]\n", 6, "store.path", "expected a non-empty string (got a list)" },
	{ ZONE "store:\n  path: \"a\\0b\"\n", 6, "store.path",
	  "expected a non-empty string (got \"a\\x00b\")" },

	/* out of range */
	{ ZONE "  soa:\n    refresh: 2147483648\n", 6, "zone.soa.refresh", INT31 },
	{ ZONE "  soa:\n    retry: -1\n", 6, "zone.soa.retry", INT31 },
	{ ZONE "  soa:\n    expire: 99999999999999999999999\n", 6, "zone.soa.expire", INT31 },
	{ ZONE "  txt_ttl: 4294967296\n", 5, "zone.txt_ttl", INT31 },
	{ ZONE "  txt_max_values: 0\n", 5, "zone.txt_max_values", "from 1 to 64" },
	{ ZONE "  txt_max_values: 65\n", 5, "zone.txt_max_values", "from 1 to 64" },
	{ ZONE "dns:\n  udp_payload: 511\n", 6, "dns.udp_payload", "from 512 to 4096" },
	{ ZONE "dns:\n  udp_payload: 4097\n", 6, "dns.udp_payload", "from 512 to 4096" },
	{ ZONE "dns:\n  workers: 257\n", 6, "dns.workers", "from 0 to 256" },
	{ ZONE "dns:\n  tcp_idle_timeout: 0\n", 6, "dns.tcp_idle_timeout", "from 1 to 3600" },
	{ ZONE "dns:\n  tcp_max_clients: 1000001\n", 6, "dns.tcp_max_clients", "from 1 to 1000000" },
	{ ZONE "dns:\n  tcp_max_per_client: 0\n", 6, "dns.tcp_max_per_client", "from 1 to 1000000" },
	{ ZONE "dns:\n  tcp_message_timeout: 0\n", 6, "dns.tcp_message_timeout", "from 1 to 3600" },
	{ ZONE "dns:\n  tcp_message_timeout: 3601\n", 6, "dns.tcp_message_timeout", "from 1 to 3600" },
	{ ZONE "dns:\n  rrl: 20\n", 6, "dns.rrl", "expected a mapping" },
	{ ZONE "dns:\n  rrl:\n    rate: 100001\n", 7, "dns.rrl.rate", "from 0 to 100000" },
	{ ZONE "dns:\n  rrl:\n    rate: -1\n", 7, "dns.rrl.rate", "from 0 to 100000" },
	{ ZONE "dns:\n  rrl:\n    rate: \"-20\"\n", 7, "dns.rrl.rate", "from 0 to 100000 (got \"-20\")" },
	{ ZONE "dns:\n  rrl: {slip: 11}\n", 6, "dns.rrl.slip", "from 0 to 10" },
	{ ZONE "dns:\n  rrl: {window: 0}\n", 6, "dns.rrl.window", "from 1 to 3600" },
	{ ZONE "dns:\n  rrl: {window: 3601}\n", 6, "dns.rrl.window", "from 1 to 3600" },
	{ ZONE "dns:\n  rrl: {ipv4_prefix: 0}\n", 6, "dns.rrl.ipv4_prefix", "from 1 to 32" },
	{ ZONE "dns:\n  rrl: {ipv4_prefix: 33}\n", 6, "dns.rrl.ipv4_prefix", "from 1 to 32" },
	{ ZONE "dns:\n  rrl: {ipv6_prefix: 129}\n", 6, "dns.rrl.ipv6_prefix", "from 1 to 128" },
	{ ZONE "dns:\n  rrl: {burst: 5}\n", 6, "dns.rrl.burst", "unknown key" },
	{ ZONE "dns:\n  rrl: {exempt: 10.0.0.0/8}\n", 6, "dns.rrl.exempt",
	  "expected a list of addresses or CIDR ranges" },
	{ ZONE "dns:\n  rrl:\n    exempt:\n      - ::1\n      - 192.0.2.1/24\n", 9, "dns.rrl.exempt",
	  "invalid address or CIDR range \"192.0.2.1/24\"" },
	{ ZONE "dns:\n  rrl:\n    exempt: [10.0.0.0/8, host.example]\n", 7, "dns.rrl.exempt",
	  "invalid address or CIDR range \"host.example\"" },
	{ ZONE "store:\n  max_size: 512K\n", 6, "store.max_size", "at least 1M" },
	{ ZONE "store:\n  max_size: 1048575\n", 6, "store.max_size", "at least 1M" },
	{ ZONE "store:\n  max_size: 5X\n", 6, "store.max_size", "at least 1M" },
	{ ZONE "store:\n  max_size: 4GB\n", 6, "store.max_size", "at least 1M" },
	{ ZONE "store:\n  max_size: 16777216T\n", 6, "store.max_size", "at least 1M" },
	{ ZONE "store:\n  max_size: -1\n", 6, "store.max_size", "at least 1M" },
	{ ZONE "store:\n  max_accounts: -1\n", 6, "store.max_accounts", "from 0 to 4000000000" },
	{ ZONE "store:\n  max_accounts: 4000000001\n", 6, "store.max_accounts",
	  "from 0 to 4000000000" },
	{ ZONE "store:\n  max_accounts: 1k\n", 6, "store.max_accounts", "from 0 to 4000000000" },

	/* bad names */
	{ "zone:\n  name: a..org\n  ns: [ns.a.org]\n", 2, "zone.name", "invalid domain name \"a..org\"" },
	{ "zone:\n  name: a.org\n  ns:\n    - ns.a.org\n    - ns..a.org\n", 5, "zone.ns",
	  "invalid domain name" },
	{ ZONE "  soa:\n    rname: \"a\\\\\"\n", 6, "zone.soa.rname", "invalid domain name" },
	{ "zone:\n  name: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.org\n"
	  "  ns: [ns.a.org]\n", 2, "zone.name", "invalid domain name" },

	/* listen addresses and ports */
	{ ZONE "dns:\n  listen:\n    - 127.0.0.1:53\n    - 1.2.3:53\n", 8, "dns.listen",
	  "invalid address \"1.2.3:53\"" },
	{ ZONE "dns:\n  listen:\n    - \"[::1\"\n", 7, "dns.listen", "invalid address" },
	{ ZONE "dns:\n  listen:\n    - \"[::1]x\"\n", 7, "dns.listen", "invalid address" },
	{ ZONE "dns:\n  listen:\n    - \"[1.2.3.4]:53\"\n", 7, "dns.listen", "invalid address" },
	{ ZONE "dns:\n  listen:\n    - localhost:53\n", 7, "dns.listen", "invalid address" },
	{ ZONE "dns:\n  listen:\n    - 1.2.3.4.5\n", 7, "dns.listen", "invalid address" },
	{ ZONE "dns:\n  listen: []\n", 6, "dns.listen", "at least 1" },
	{ ZONE "dns:\n  listen: 127.0.0.1\n", 6, "dns.listen",
	  "expected a list of addresses (got 127.0.0.1)" },
	{ ZONE "dns:\n  listen: \"127.0.0.1:53\"\n", 6, "dns.listen",
	  "expected a list of addresses (got \"127.0.0.1:53\")" },
	{ ZONE "dns:\n  listen:\n    - 1.2.3.4:0\n", 7, "dns.listen", "invalid port in \"1.2.3.4:0\"" },
	{ ZONE "dns:\n  listen:\n    - 1.2.3.4:65536\n", 7, "dns.listen", "invalid port" },
	{ ZONE "dns:\n  listen:\n    - \"1.2.3.4:\"\n", 7, "dns.listen", "invalid port" },
	{ ZONE "dns:\n  listen:\n    - 1.2.3.4:+53\n", 7, "dns.listen", "invalid port" },
	{ ZONE "dns:\n  listen:\n    - \"[::1]:domain\"\n", 7, "dns.listen", "invalid port" },
	{ ZONE "dns:\n  listen:\n    - 1.2.3.4:99999999999999999999999\n", 7, "dns.listen",
	  "invalid port" },

	{ ZONE "dns:\n  name_index: 1\n", 6, "dns.name_index", "expected true or false" },
	/* the http section */
	{ ZONE "http:\n", 5, "http", "expected a mapping" },
	{ ZONE "http:\n  listen: []\n", 6, "http.listen", "at least 1" },
	{ ZONE "http:\n  listen:\n    - 127.0.0.1:0\n", 7, "http.listen", "invalid port" },
	{ ZONE "http:\n  listen:\n    - localhost:80\n", 7, "http.listen", "invalid address" },
	{ ZONE HTTP "  tls:\n    cert: /c.pem\n", 0, "http.tls.key", "needs both cert and key" },
	{ ZONE HTTP "  tls:\n    key: /k.pem\n", 0, "http.tls.cert", "needs both cert and key" },
	{ ZONE HTTP "  tls: {}\n", 0, "http.tls.cert", "needs both cert and key" },
	{ ZONE HTTP "  tls:\n    cert: \"\"\n    key: /k\n", 8, "http.tls.cert", "non-empty string" },
	{ ZONE HTTP "  admin_token_file: [a]\n", 7, "http.admin_token_file", "non-empty string" },
	{ ZONE HTTP "  disable_registration: maybe\n", 7, "http.disable_registration",
	  "expected true or false" },
	{ ZONE HTTP "  disable_registration: \"truth\"\n", 7, "http.disable_registration",
	  "expected true or false (or yes, no, on, off; got \"truth\")" },
	{ ZONE HTTP "  txt_limit: 0\n", 7, "http.txt_limit", "from 1 to 64" },
	{ ZONE HTTP "  txt_limit: 65\n", 7, "http.txt_limit", "from 1 to 64" },
	{ ZONE HTTP "  txt_expiry: 3153600001\n", 7, "http.txt_expiry", "from 0 to 3153600000" },
	{ ZONE HTTP "  txt_expiry: -1\n", 7, "http.txt_expiry", "from 0 to" },
	{ ZONE HTTP "  cors_origins: https://a.example\n", 7, "http.cors_origins",
	  "expected a list of origins" },
	{ ZONE HTTP "  cors_origins: [a.example]\n", 7, "http.cors_origins",
	  "invalid origin \"a.example\"" },
	{ ZONE HTTP "  cors_origins: [\"https://a.example/\"]\n", 7, "http.cors_origins",
	  "invalid origin" },
	{ ZONE HTTP "  cors_origins:\n    - \"*\"\n    - \"https://\"\n", 9, "http.cors_origins",
	  "invalid origin" },
	{ ZONE HTTP "  cors_origins: [\"https://*.*.example.org\"]\n", 7, "http.cors_origins",
	  "has more than one \"*\"" },
	{ ZONE HTTP "  cors_origins: [\"**\"]\n", 7, "http.cors_origins",
	  "has more than one \"*\"" },
	{ ZONE HTTP "  cors_origins: [\"https://*.example.org/\"]\n", 7, "http.cors_origins",
	  "invalid origin \"https://*.example.org/\"" },
	{ ZONE HTTP "  cors_origins: [\"a.*.example.org\"]\n", 7, "http.cors_origins",
	  "invalid origin \"a.*.example.org\"" },
	{ ZONE HTTP "  cors_origins: [\"*/x\"]\n", 7, "http.cors_origins",
	  "invalid origin \"*/x\"" },
	{ ZONE HTTP "  cors_origins: [\"https://* .example.org\"]\n", 7, "http.cors_origins",
	  "invalid origin" },
	{ ZONE HTTP "  proxy_header: \"\"\n", 7, "http.proxy_header", "non-empty string" },
	{ ZONE HTTP "  trusted_proxies: [10.0.0.1/8]\n", 7, "http.trusted_proxies",
	  "invalid address or CIDR range \"10.0.0.1/8\"" },
	{ ZONE HTTP "  trusted_proxies:\n    - ::1\n    - proxy.example\n", 9,
	  "http.trusted_proxies", "invalid address or CIDR range" },
	{ ZONE HTTP "  max_body: 1023\n", 7, "http.max_body", "from 1K to 16M" },
	{ ZONE HTTP "  max_body: 17M\n", 7, "http.max_body", "from 1K to 16M" },
	{ ZONE HTTP "  timeout: 0\n", 7, "http.timeout", "from 1 to 3600" },
	{ ZONE HTTP "  timeout: 3601\n", 7, "http.timeout", "from 1 to 3600" },
	{ ZONE HTTP "  max_connections: 0\n", 7, "http.max_connections", "from 1 to 100000" },
	{ ZONE HTTP "  max_connections: 100001\n", 7, "http.max_connections", "from 1 to 100000" },
	{ ZONE HTTP "  max_connections_per_client: 0\n", 7, "http.max_connections_per_client",
	  "from 1 to 100000" },
	{ ZONE HTTP "  request_timeout: 0\n", 7, "http.request_timeout", "from 1 to 3600" },
	{ ZONE HTTP "  request_timeout: 3601\n", 7, "http.request_timeout", "from 1 to 3600" },
	{ ZONE HTTP "  register_rate: 100001\n", 7, "http.register_rate", "from 0 to 100000" },
	{ ZONE HTTP "  register_rate_global: 1000001\n", 7, "http.register_rate_global",
	  "from 0 to 1000000" },
	{ ZONE HTTP "  register_rate_global: -1\n", 7, "http.register_rate_global",
	  "from 0 to 1000000" },
	{ ZONE HTTP "  register_rate_global: \"5/s\"\n", 7, "http.register_rate_global",
	  "from 0 to 1000000" },
	/* a header any peer could set would let clients choose their address */
	{ ZONE HTTP "  proxy_header: X-Forwarded-For\n", 0, "http.proxy_header",
	  "requires http.trusted_proxies" },
	{ ZONE HTTP "  proxy_header: X-Forwarded-For\n  trusted_proxies: []\n", 0,
	  "http.proxy_header", "requires http.trusted_proxies" },
	{ ZONE HTTP "  batch_max: 0\n", 7, "http.batch_max", "from 1 to 100000" },
	{ ZONE HTTP "  batch_max: 100001\n", 7, "http.batch_max", "from 1 to 100000" },
	{ ZONE HTTP "  timeout: 5\n  timeout: 6\n", 8, "http.timeout", "duplicate key" },

	/* log level */
	{ ZONE "log:\n  level: verbose\n", 6, "log.level",
	  "expected one of error, warning, notice, info, debug" },
	{ ZONE "log:\n  level: 3\n", 6, "log.level", "expected one of" },
	{ ZONE "log:\n  level: DEBUG\n", 6, "log.level", "expected one of" },
	{ ZONE "log:\n  format: text\n", 6, "log.format", "expected one of" },
	{ ZONE "log:\n  target: file\n", 6, "log.target", "expected one of" },
	{ ZONE "audit:\n  max_entries: 0\n", 6, "audit.max_entries", "" },
	{ ZONE "audit:\n  max_age: -1\n", 6, "audit.max_age", "" },

	/* required keys */
	{ "zone:\n  ns: [ns.a.org]\n", 0, "zone.name", "required key missing" },
	{ "dns:\n  workers: 1\n", 0, "zone.name", "required key missing" },
	{ "zone:\n  name: a.org\n", 0, "zone.ns", "required key missing" },
	{ ZONE "http:\n  timeout: 5\n", 0, "http.listen", "required key missing" },
	{ "zone:\n  name: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx."
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx."
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx."
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n  ns: [ns.a.org]\n",
	  0, "zone.soa.rname", "too long" },

	/* static records */
	{ ZONE "  records:\n    - www A 192.0.2.1\n    - www A not-an-ip\n", 7, "zone.records",
	  "cannot parse record: " },
	{ ZONE "  records:\n    - www BOGUSTYPE x\n", 6, "zone.records", "cannot parse record: " },
	{ ZONE "  records:\n    - \"\"\n", 6, "zone.records", "cannot parse record: " },
	{ ZONE "  records:\n    - www.example.com. A 192.0.2.1\n", 6, "zone.records",
	  "owner www.example.com. is outside the zone" },
	{ ZONE "  records:\n    - example.org. A 192.0.2.1\n", 6, "zone.records", "outside the zone" },
	{ ZONE "  records:\n    - \"@ SOA ns1 host 1 2 3 4 5\"\n", 6, "zone.records", "use zone.soa" },
	{ ZONE "  records:\n    - sub NS ns.elsewhere.net.\n", 6, "zone.records", "use zone.ns" },
	{ ZONE "  records:\n    - www CH TXT hello\n", 6, "zone.records", "class must be IN" },
	{ ZONE "  records:\n    - \"@ CNAME www\"\n", 6, "zone.records", "apex" },
	{ ZONE "  records:\n    - www A 192.0.2.1\n    - x TXT y\n    - www CNAME other\n", 8,
	  "zone.records", "CNAME conflicts with other records at www.acme.example.org. (line 6)" },
	{ ZONE "  records:\n    - www CNAME other\n    - WWW TXT hi\n", 7, "zone.records",
	  "has a CNAME (line 6)" },
	{ ZONE "  records:\n    - www CNAME a\n    - www CNAME b\n", 7, "zone.records",
	  "already has a CNAME (line 6)" },

	/* duplicates */
	{ "zone:\n  name: a.org\n  ns: [ns.a.org]\n  name: b.org\n", 4, "zone.name", "duplicate key" },
	{ ZONE "zone:\n  name: x.org\n", 5, "zone", "duplicate key" },
	{ ZONE "  soa:\n    ttl: 1\n    ttl: 2\n", 7, "zone.soa.ttl", "duplicate key" },

	/* the file as a whole */
	{ "", 0, NULL, "empty" },
	{ "# nothing here\n\n", 0, NULL, "empty" },
	{ "- a\n- b\n", 1, NULL, "the top level must be a mapping" },
	{ "\n\nhello\n", 3, NULL, "the top level must be a mapping" },
	{ ZONE "---\nzone: {}\n", 6, NULL, "only one YAML document" },
	{ ZONE "  records: [a\n", 0, NULL, "YAML error" },
	{ "zone:\n  name: a.org\n\tns: x\n", 3, "YAML error", "" },
};

static void test_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(err_cases) / sizeof(err_cases[0]); i++) {
		const struct err_case *e = &err_cases[i];
		/* a syntax error's line is libyaml's guess; only check the kind */
		if (e->key == NULL && strcmp(e->fragment, "YAML error") == 0) {
			char *path = write_tmp(e->yaml);
			char err[ACM_CONFIG_ERR_MAX];
			acm_config_t *cfg = NULL;
			assert_int_equal(acm_config_load(path, &cfg, err, sizeof(err)), ACM_ECONFIG);
			assert_null(cfg);
			assert_non_null(strstr(err, path));
			assert_non_null(strstr(err, "YAML error"));
			unlink(path);
			free(path);
			continue;
		}
		expect_error(e->yaml, e->line, e->key, e->fragment);
	}
}

static void test_transfer(void **state)
{
	(void)state;
	acm_config_t *c = load_ok(ZONE
		"tsig:\n"                                                   /* 5 */
		"  - name: Xfr.Example.\n"
		"    secret: \"c2VjcmV0\"\n"
		"  - name: upd.example\n"
		"    algorithm: hmac-sha512\n"
		"    secret: YQ==\n"
		"transfer:\n"                                               /* 11 */
		"  allow:\n"
		"    - address: 192.0.2.0/24\n"
		"    - key: xfr.example.\n"
		"    - {address: \"2001:db8::1\", key: upd.example}\n"
		"  notify: [192.0.2.2, \"192.0.2.3:5300\", \"[2001:db8::2]:53\"]\n"
		"  journal:\n"
		"    max_entries: 1000000\n"
		"    max_age: 60\n"
		"update:\n"
		"  enabled: true\n");
	uint8_t w[ACM_DNAME_MAX];

	assert_int_equal(c->tsig_count, 2);
	assert_name(c->tsig[0].name, "xfr.example");
	assert_int_equal(c->tsig[0].name_len, 13);
	assert_int_equal(c->tsig[0].alg, ACM_TSIG_HMAC_SHA256);
	assert_int_equal(c->tsig[0].secret_len, 6);
	assert_memory_equal(c->tsig[0].secret, "secret", 6);
	assert_int_equal(c->tsig[1].alg, ACM_TSIG_HMAC_SHA512);
	assert_int_equal(c->transfer.allow_count, 3);
	assert_true(c->transfer.allow[0].has_address);
	assert_false(c->transfer.allow[0].has_key);
	assert_false(c->transfer.allow[1].has_address);
	assert_true(c->transfer.allow[1].has_key);
	assert_int_equal(c->transfer.allow[1].key_len, 13);
	assert_memory_equal(c->transfer.allow[1].key, wire("xfr.example.", w), 13);
	assert_true(c->transfer.allow[2].has_address && c->transfer.allow[2].has_key);
	assert_int_equal(c->transfer.allow[2].address.family, AF_INET6);
	assert_int_equal(c->transfer.notify_count, 3);
	assert_listen4(&c->transfer.notify[0], "192.0.2.2", 53);
	assert_listen4(&c->transfer.notify[1], "192.0.2.3", 5300);
	assert_listen6(&c->transfer.notify[2], "2001:db8::2", 53);
	assert_int_equal(c->transfer.journal_max_entries, 1000000);
	assert_int_equal(c->transfer.journal_max_age, 60);
	assert_true(c->update.enabled);
	acm_config_free(c);

	c = load_ok(ZONE);
	assert_int_equal(c->tsig_count, 0);
	assert_int_equal(c->transfer.allow_count, 0);
	assert_int_equal(c->transfer.notify_count, 0);
	assert_int_equal(c->transfer.journal_max_entries, 10000);
	assert_int_equal(c->transfer.journal_max_age, 604800);
	assert_false(c->update.enabled);
	acm_config_free(c);
}

static void test_rrl(void **state)
{
	(void)state;
	acm_config_t *c = load_ok(ZONE);
	assert_int_equal(c->rrl.rate, 20);
	assert_int_equal(c->rrl.slip, 2);
	assert_int_equal(c->rrl.window, 15);
	assert_int_equal(c->rrl.ipv4_prefix, 24);
	assert_int_equal(c->rrl.ipv6_prefix, 56);
	assert_int_equal(c->rrl.exempt_count, 0);
	acm_config_free(c);

	c = load_ok(ZONE "dns:\n  rrl: {rate: 0, slip: 0, window: 3600, ipv4_prefix: 32, "
		    "ipv6_prefix: 128, exempt: [192.0.2.0/24, \"2001:db8::1\"]}\n");
	assert_int_equal(c->rrl.rate, 0);
	assert_int_equal(c->rrl.slip, 0);
	assert_int_equal(c->rrl.window, 3600);
	assert_int_equal(c->rrl.ipv4_prefix, 32);
	assert_int_equal(c->rrl.ipv6_prefix, 128);
	assert_int_equal(c->rrl.exempt_count, 2);
	assert_int_equal(c->rrl.exempt[0].family, AF_INET);
	assert_int_equal(c->rrl.exempt[0].prefix, 24);
	assert_int_equal(c->rrl.exempt[1].family, AF_INET6);
	assert_int_equal(c->rrl.exempt[1].prefix, 128);
	acm_config_free(c);

	c = load_ok(ZONE "dns:\n  rrl:\n    exempt: []\n");
	assert_int_equal(c->rrl.exempt_count, 0);
	assert_int_equal(c->rrl.rate, 20);
	acm_config_free(c);
}

static void test_lookups(void **state)
{
	(void)state;
	acm_config_t *c = load_ok(ZONE);
	assert_true(c->lookups.enabled);
	assert_int_equal(c->lookups.total, 100000);
	assert_int_equal(c->lookups.per_name, 20);
	acm_config_free(c);

	c = load_ok(ZONE "lookups:\n  enabled: false\n  total: 0\n  per_name: 1000\n");
	assert_false(c->lookups.enabled);
	assert_int_equal(c->lookups.total, 0);
	assert_int_equal(c->lookups.per_name, 1000);
	acm_config_free(c);
}

static void test_delegation(void **state)
{
	(void)state;
	acm_config_t *c = load_ok(ZONE);
	assert_false(c->delegation.configured);
	assert_int_equal(c->delegation.resolver_count, 0);
	assert_string_equal(c->delegation.trust_anchor_file, "/usr/share/dns/root.key");
	assert_null(c->delegation.root_hints);
	assert_int_equal(c->delegation.timeout, 5);
	assert_int_equal(c->delegation.concurrency, 64);
	acm_config_free(c);

	c = load_ok(ZONE "delegation:\n  resolvers: [\"192.0.2.53\", \"[2001:db8::53]:5353\"]\n"
		    "  trust_anchor_file: /etc/acmens/anchors.key\n  root_hints: /etc/acmens/root.hints\n"
		    "  timeout: 300\n  concurrency: 10000\n");
	assert_true(c->delegation.configured);
	assert_int_equal(c->delegation.resolver_count, 2);
	assert_listen4(&c->delegation.resolvers[0], "192.0.2.53", 53);
	assert_listen6(&c->delegation.resolvers[1], "2001:db8::53", 5353);
	assert_string_equal(c->delegation.trust_anchor_file, "/etc/acmens/anchors.key");
	assert_string_equal(c->delegation.root_hints, "/etc/acmens/root.hints");
	assert_int_equal(c->delegation.timeout, 300);
	assert_int_equal(c->delegation.concurrency, 10000);
	acm_config_free(c);

	c = load_ok(ZONE "delegation:\n  resolvers: []\n");
	assert_true(c->delegation.configured);
	assert_int_equal(c->delegation.resolver_count, 0);
	acm_config_free(c);

	expect_error(ZONE "delegation:\n  timeout: 0\n", 6, "delegation.timeout",
		     "expected an integer from 1 to 300 (got 0)");
	expect_error(ZONE "delegation:\n  concurrency: 10001\n", 6, "delegation.concurrency",
		     "expected an integer from 1 to 10000");
	expect_error(ZONE "delegation:\n  resolvers: [resolver.example]\n", 6,
		     "delegation.resolvers", "invalid address \"resolver.example\"");
	expect_error(ZONE "delegation:\n  resolvers: 192.0.2.53\n", 6, "delegation.resolvers",
		     "expected a list of addresses");
	expect_error(ZONE "delegation:\n  trust_anchor_file: \"\"\n", 6,
		     "delegation.trust_anchor_file", "expected a non-empty string");
	expect_error(ZONE "delegation:\n  forwarders: []\n", 6, "delegation.forwarders",
		     "unknown key");
}

#define KEY "tsig:\n  - name: k.example\n    secret: YQ==\n"   /* lines 5-7 */

static const struct err_case transfer_errors[] = {
	{ ZONE "tsig: k\n", 5, "tsig", "expected a list of keys" },
	{ ZONE "tsig: [k]\n", 5, "tsig", "expected a list of keys" },
	{ ZONE "tsig:\n  - secret: YQ==\n", 6, "tsig.name", "required key missing" },
	{ ZONE "tsig:\n  - name: k\n", 6, "tsig.secret", "required key missing" },
	{ ZONE "tsig:\n  - name: k\n    secret: YQ==\n    size: 1\n", 8, "tsig.size", "unknown key" },
	{ ZONE "tsig:\n  - name: k\n    name: j\n    secret: YQ==\n", 7, "tsig.name", "duplicate key" },
	{ ZONE "tsig:\n  - name: a..b\n    secret: YQ==\n", 6, "tsig.name", "invalid domain name" },
	{ ZONE "tsig:\n  - name: k\n    secret: \"\"\n", 7, "tsig.secret", "non-empty string" },
	{ ZONE "tsig:\n  - name: k\n    secret: YQ=\n", 7, "tsig.secret", "base64 secret" },
	{ ZONE "tsig:\n  - name: k\n    secret: [a]\n", 7, "tsig.secret", "non-empty string" },
	{ ZONE "tsig:\n  - name: k\n    algorithm: hmac-md5\n    secret: YQ==\n", 7,
	  "tsig.algorithm", "expected one of hmac-sha256, hmac-sha384, hmac-sha512 (got hmac-md5)" },
	{ ZONE "tsig:\n  - name: k\n    algorithm: 'HMAC-SHA1'\n    secret: YQ==\n", 7,
	  "tsig.algorithm", "(got 'HMAC-SHA1')" },
	{ ZONE KEY "  - name: K.Example.\n    secret: YWI=\n", 8, "tsig.name",
	  "duplicate key name k.example." },
	{ ZONE "transfer:\n  allow: [192.0.2.1]\n", 6, "transfer.allow", "expected a list of" },
	{ ZONE "transfer:\n  allow:\n    - {}\n", 7, "transfer.allow", "an address, a key, or both" },
	{ ZONE "transfer:\n  allow:\n    - address: 192.0.2.1/33\n", 7, "transfer.allow.address",
	  "invalid address or CIDR range" },
	{ ZONE "transfer:\n  allow:\n    - address: 192.0.2.1/24\n", 7, "transfer.allow.address",
	  "invalid address or CIDR range" },
	{ ZONE "transfer:\n  allow:\n    - key: k.example\n", 7, "transfer.allow.key",
	  "no key k.example. in tsig" },
	{ ZONE "transfer:\n  allow:\n    - key: k.example\n    - key: j\n" KEY, 8,
	  "transfer.allow.key", "no key j. in tsig" },
	{ ZONE "transfer:\n  allow:\n    - port: 53\n", 7, "transfer.allow.port", "unknown key" },
	{ ZONE "transfer:\n  notify: [example.org]\n", 6, "transfer.notify", "invalid address" },
	{ ZONE "transfer:\n  notify: [\"192.0.2.1:0\"]\n", 6, "transfer.notify", "invalid port" },
	{ ZONE "transfer:\n  notify: 192.0.2.1\n", 6, "transfer.notify", "expected a list" },
	{ ZONE "transfer:\n  journal:\n    max_entries: 0\n", 7, "transfer.journal.max_entries",
	  "from 1 to 1000000" },
	{ ZONE "transfer:\n  journal:\n    max_age: 59\n", 7, "transfer.journal.max_age",
	  "from 60 to 31536000" },
	{ ZONE "transfer:\n  journal:\n    max_age: 31536001\n", 7, "transfer.journal.max_age",
	  "from 60 to 31536000" },
	{ ZONE "transfer:\n  journal:\n    size: 1\n", 7, "transfer.journal.size", "unknown key" },
	{ ZONE "update:\n  enabled: maybe\n", 6, "update.enabled", "expected true or false" },
	{ ZONE "update: true\n", 5, "update", "expected a mapping" },
	{ ZONE "lookups:\n  enabled: 1\n", 6, "lookups.enabled", "expected true or false" },
	{ ZONE "lookups:\n  total: 10000001\n", 6, "lookups.total", "from 0 to 10000000" },
	{ ZONE "lookups:\n  per_name: 0\n", 6, "lookups.per_name", "from 1 to 1000" },
	{ ZONE "lookups:\n  per_name: 1001\n", 6, "lookups.per_name", "from 1 to 1000" },
	{ ZONE "lookups:\n  size: 1\n", 6, "lookups.size", "unknown key" },
};

static void test_transfer_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(transfer_errors) / sizeof(transfer_errors[0]); i++) {
		const struct err_case *e = &transfer_errors[i];
		expect_error(e->yaml, e->line, e->key, e->fragment);
	}
}

static void test_missing_file(void **state)
{
	(void)state;
	char err[ACM_CONFIG_ERR_MAX];
	acm_config_t *cfg = (acm_config_t *)&err;

	int r = acm_config_load("/nonexistent/acmens.yaml", &cfg, err, sizeof(err));
	assert_int_equal(r, -ENOENT);
	assert_null(cfg);
	assert_non_null(strstr(err, "/nonexistent/acmens.yaml"));

	/* a directory opens but does not read */
	r = acm_config_load("/", &cfg, err, sizeof(err));
	assert_true(r < 0);
	assert_null(cfg);
}

static void test_no_err_buffer(void **state)
{
	(void)state;
	char *path = write_tmp("zone:\n  bogus: 1\n");
	acm_config_t *cfg = NULL;
	assert_int_equal(acm_config_load(path, &cfg, NULL, 0), ACM_ECONFIG);

	/* a tiny buffer truncates but stays terminated */
	char tiny[8];
	assert_int_equal(acm_config_load(path, &cfg, tiny, sizeof(tiny)), ACM_ECONFIG);
	assert_true(strlen(tiny) < sizeof(tiny));
	unlink(path);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_quoted_scalars),
		cmocka_unit_test(test_http),
		cmocka_unit_test(test_http_defaults),
		cmocka_unit_test(test_http_cors_wildcards),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_transfer),
		cmocka_unit_test(test_transfer_errors),
		cmocka_unit_test(test_lookups),
		cmocka_unit_test(test_delegation),
		cmocka_unit_test(test_rrl),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_no_err_buffer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
