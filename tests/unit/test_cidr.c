/* SPDX-License-Identifier: ISC */
/*
 * allowfrom entries and CIDR ranges against Go's net.ParseCIDR and
 * IPNet.Contains, which acme-dns uses: what each entry admits, IPv4-mapped
 * forms above all, and which texts are refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <netinet/in.h>

#include "lib/conf/cidr.h"
#include "lib/error.h"

/* A client address from text: IPv4 as AF_INET, anything else AF_INET6
 * (so "::ffff:10.1.2.3" is the mapped form a proxy header may carry). */
static struct sockaddr_storage client(const char *text)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *in = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, text, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
	} else {
		assert_int_equal(inet_pton(AF_INET6, text, &in6->sin6_addr), 1);
		in6->sin6_family = AF_INET6;
	}
	return ss;
}

/* Does the allowfrom entry (as registration takes it) admit the client? */
static bool admits(const char *entry, const char *who)
{
	char clean[ACM_CIDR_MAX + 1];
	acm_cidr_t c;
	struct sockaddr_storage ss = client(who);

	assert_int_equal(acm_allowfrom_parse(entry, strlen(entry), clean, &c), ACM_OK);
	return acm_cidr_match(&c, (struct sockaddr *)&ss);
}

static void test_mapped_short_prefix_is_ipv6(void **state)
{
	(void)state;
	/* Go masks ::ffff:10.0.0.0 to ::/8 (128-bit length): no IPv4 client,
	 * mapped or not, but IPv6 clients in ::/8. */
	assert_false(admits("::ffff:10.0.0.0/8", "10.1.2.3"));
	assert_false(admits("::ffff:10.0.0.0/8", "192.0.2.1"));
	assert_false(admits("::ffff:10.0.0.0/8", "::ffff:10.1.2.3"));
	assert_true(admits("::ffff:10.0.0.0/8", "::1"));
	assert_true(admits("::ffff:10.0.0.0/8", "ff::1"));
	assert_false(admits("::ffff:10.0.0.0/8", "100::1"));
	assert_false(admits("::ffff:10.0.0.0/8", "2001:db8::1"));
}

static void test_mapped_long_prefix_is_ipv4(void **state)
{
	(void)state;
	/* /104 keeps ::ffff:10.0.0.0, an IPv4 network: 10/8. */
	assert_true(admits("::ffff:10.0.0.0/104", "10.1.2.3"));
	assert_true(admits("::ffff:10.0.0.0/104", "::ffff:10.200.0.1"));
	assert_false(admits("::ffff:10.0.0.0/104", "11.0.0.1"));
	assert_false(admits("::ffff:10.0.0.0/104", "::1"));
	assert_true(admits("::ffff:10.1.2.3/128", "10.1.2.3"));
	assert_false(admits("::ffff:10.1.2.3/128", "10.1.2.4"));
	/* /96 is every IPv4 address, /95 and shorter none of them. */
	assert_true(admits("::ffff:0.0.0.0/96", "198.51.100.7"));
	assert_false(admits("::ffff:0.0.0.0/95", "198.51.100.7"));
	assert_false(admits("::ffff:0.0.0.0/88", "::ffff:198.51.100.7"));
}

static void test_mapped_zero_prefix(void **state)
{
	(void)state;
	/* ::/0 in Go's eyes: every IPv6 client that is not IPv4-mapped. */
	assert_false(admits("::ffff:0.0.0.0/0", "10.0.0.1"));
	assert_false(admits("::ffff:0.0.0.0/0", "127.0.0.1"));
	assert_false(admits("::ffff:0.0.0.0/0", "::ffff:127.0.0.1"));
	assert_true(admits("::ffff:0.0.0.0/0", "::1"));
	assert_true(admits("::ffff:0.0.0.0/0", "2001:db8::1"));
}

static void test_host_bits_masked(void **state)
{
	(void)state;
	assert_true(admits("10.1.2.3/8", "10.200.1.1"));
	assert_false(admits("10.1.2.3/8", "11.1.2.3"));
	assert_true(admits("2001:db8::1/32", "2001:db8:ffff::9"));
	/* The strict parser (config, acmensctl) refuses set host bits. */
	acm_cidr_t c;
	assert_int_equal(acm_cidr_parse("10.1.2.3/8", &c), ACM_EMALF);
	assert_int_equal(acm_cidr_parse("10.0.0.0/8", &c), ACM_OK);
}

static void test_whole_families(void **state)
{
	(void)state;
	assert_true(admits("0.0.0.0/0", "203.0.113.9"));
	assert_true(admits("0.0.0.0/0", "::ffff:203.0.113.9"));
	assert_false(admits("0.0.0.0/0", "::1"));
	assert_false(admits("0.0.0.0/0", "2001:db8::1"));
	/* Go's ::/0 contains no IPv4 client: Contains turns the client into
	 * 4 bytes, which never compare with a 16-byte network. */
	assert_true(admits("::/0", "2001:db8::1"));
	assert_true(admits("::/0", "::1"));
	assert_false(admits("::/0", "10.0.0.1"));
	assert_false(admits("::/0", "::ffff:10.0.0.1"));
}

static void test_bad_entries(void **state)
{
	static const char *const bad[] = {
		"10.0.0.0/33", "/8", "10.0.0.0/", "10.0.0.0", "::/129", "::ffff:10.0.0.0/129",
		" 10.0.0.0/8", "10.0.0.0/8 ", "10.0.0.0/ 8", "10.0.0.0 /8", "10.0.0.0/+8",
		"10.0.0.0/-1", "10.0.0.0/8/8", "fe80::1%eth0/64", "010.0.0.1/32", "10.0.0.01/32",
		"::ffff:010.0.0.1/128", "10.0.0/8", "0x0a.0.0.0/8", "10.0.0.0/0x8", "example.org/8",
		"1:2:3:4:5:6:7:8:9/64", "",
	};
	char clean[ACM_CIDR_MAX + 1];
	acm_cidr_t c;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		print_message("%s\n", bad[i]);
		assert_int_equal(acm_allowfrom_parse(bad[i], strlen(bad[i]), clean, &c), ACM_EMALF);
	}
}

static void test_go_accepts(void **state)
{
	char clean[ACM_CIDR_MAX + 1];
	acm_cidr_t c;

	(void)state;
	/* Go's dtoi reads leading zeros in the prefix. */
	assert_int_equal(acm_allowfrom_parse("10.0.0.0/08", 11, clean, &c), ACM_OK);
	assert_int_equal(c.prefix, 8);
	assert_int_equal(acm_allowfrom_parse("10.0.0.0/0032", 13, clean, &c), ACM_OK);
	assert_int_equal(c.prefix, 32);
	/* acme-dns strips brackets before parsing; the clean text is stored. */
	assert_int_equal(acm_allowfrom_parse("[2001:db8::]/32", 15, clean, &c), ACM_OK);
	assert_string_equal(clean, "2001:db8::/32");
	assert_int_equal(c.family, AF_INET6);
}

static void test_stored_entries(void **state)
{
	acm_cidr_t c;
	struct sockaddr_storage v4 = client("10.9.9.9");

	(void)state;
	/* A stored entry keeps Go's meaning whenever it is read back, so an
	 * imported ::ffff:10.0.0.0/8 still admits no IPv4 client. */
	assert_int_equal(acm_allowfrom_entry("::ffff:10.0.0.0/8", &c), ACM_OK);
	assert_false(acm_cidr_match(&c, (struct sockaddr *)&v4));
	assert_int_equal(acm_allowfrom_entry("::ffff:10.0.0.0/104", &c), ACM_OK);
	assert_true(acm_cidr_match(&c, (struct sockaddr *)&v4));
	/* A bare address (acmensctl stores those) is the whole address. */
	assert_int_equal(acm_allowfrom_entry("10.9.9.9", &c), ACM_OK);
	assert_true(acm_cidr_match(&c, (struct sockaddr *)&v4));
	assert_int_equal(acm_allowfrom_entry("::ffff:10.9.9.9", &c), ACM_OK);
	assert_true(acm_cidr_match(&c, (struct sockaddr *)&v4));
	assert_int_equal(acm_allowfrom_entry("10.9.9.9 ", &c), ACM_EMALF);
}

static void test_strict_parse(void **state)
{
	acm_cidr_t c;
	struct sockaddr_storage v4 = client("192.0.2.10");

	(void)state;
	assert_int_equal(acm_cidr_parse("10.0.0.0/08", &c), ACM_EMALF);
	assert_int_equal(acm_cidr_parse("fe80::1%eth0", &c), ACM_EMALF);
	assert_int_equal(acm_cidr_parse("::ffff:192.0.2.0/120", &c), ACM_OK);
	assert_int_equal(c.family, AF_INET);
	assert_int_equal(c.prefix, 24);
	assert_true(acm_cidr_match(&c, (struct sockaddr *)&v4));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mapped_short_prefix_is_ipv6),
		cmocka_unit_test(test_mapped_long_prefix_is_ipv4),
		cmocka_unit_test(test_mapped_zero_prefix),
		cmocka_unit_test(test_host_bits_masked),
		cmocka_unit_test(test_whole_families),
		cmocka_unit_test(test_bad_entries),
		cmocka_unit_test(test_go_accepts),
		cmocka_unit_test(test_stored_entries),
		cmocka_unit_test(test_strict_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
