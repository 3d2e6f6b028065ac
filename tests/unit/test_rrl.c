/* SPDX-License-Identifier: ISC */
/*
 * Response rate limiting (lib/rt/rrl.c): the rate and its burst, the
 * window a flooding key stays limited for, the slip cadence, networks cut
 * at the configured prefixes, classes and names as separate buckets,
 * exempt networks and rate 0, a full table's evictions, and workers
 * counting one key at once.
 */
#include <netdb.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "lib/error.h"
#include "lib/rt/rrl.h"

static const uint8_t name_a[] = "\1a\4test";
static const uint8_t name_b[] = "\1b\4test";
static const uint8_t apex[] = "\4test";

static struct sockaddr_storage addr(const char *text)
{
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST, .ai_socktype = SOCK_DGRAM };
	struct addrinfo *ai;
	struct sockaddr_storage ss = { 0 };
	assert_int_equal(getaddrinfo(text, NULL, &hints, &ai), 0);
	memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(ai);
	return ss;
}

static acm_rrl_conf_t conf(unsigned rate, unsigned slip, unsigned window)
{
	return (acm_rrl_conf_t){ .rate = rate, .slip = slip, .window = window,
		                 .ipv4_prefix = 24, .ipv6_prefix = 56 };
}

/* One response of class cls for name (NULL: name_a) from client at now. */
static enum acm_rrl_action check(acm_rrl_t *t, const acm_rrl_conf_t *c, const char *client,
                                 enum acm_rrl_class cls, const uint8_t *name, uint64_t now)
{
	struct sockaddr_storage ss = addr(client);
	name = name ? name : name_a;
	return acm_rrl_check(t, c, (struct sockaddr *)&ss, cls, name, strlen((const char *)name) + 1,
	                     now);
}

/* How many of n responses are sent, slipped and dropped. */
static void count(acm_rrl_t *t, const acm_rrl_conf_t *c, const char *client, const uint8_t *name,
                  uint64_t now, int n, int out[3])
{
	memset(out, 0, 3 * sizeof(int));
	for (int i = 0; i < n; i++)
		out[check(t, c, client, ACM_RRL_ANSWER, name, now)]++;
}

static acm_rrl_t *table(void)
{
	acm_rrl_t *t;
	assert_int_equal(acm_rrl_new(12, NULL, &t), ACM_OK);
	return t;
}

static void test_rate_and_burst(void **state)
{
	acm_rrl_t *t = table();
	acm_rrl_conf_t c = conf(10, 0, 5);
	int n[3];
	(void)state;
	count(t, &c, "192.0.2.1", NULL, 100, 11, n);   /* the burst is one second's worth */
	assert_int_equal(n[ACM_RRL_SEND], 10);
	assert_int_equal(n[ACM_RRL_DROP], 1);
	count(t, &c, "192.0.2.1", NULL, 101, 20, n);   /* -1 + 10 tokens */
	assert_int_equal(n[ACM_RRL_SEND], 9);
	assert_int_equal(n[ACM_RRL_DROP], 11);
	/* 20 seconds at the rate: all sent */
	for (uint64_t s = 200; s < 220; s++) {
		count(t, &c, "192.0.2.1", NULL, s, 10, n);
		assert_int_equal(n[ACM_RRL_SEND], 10);
	}
	acm_rrl_free(t);
}

static void test_window(void **state)
{
	acm_rrl_t *t = table();
	acm_rrl_conf_t c = conf(10, 0, 2);
	int n[3];
	(void)state;
	/* A flood takes the balance down to -rate * window = -20 ... */
	count(t, &c, "192.0.2.1", NULL, 100, 1000, n);
	assert_int_equal(n[ACM_RRL_SEND], 10);
	/* ... so two quiet seconds give nothing back yet, three do. */
	assert_int_equal(check(t, &c, "192.0.2.1", ACM_RRL_ANSWER, NULL, 102), ACM_RRL_DROP);
	count(t, &c, "192.0.2.1", NULL, 106, 11, n);
	assert_int_equal(n[ACM_RRL_SEND], 10);
	/* window 1: the debt is -10, gone after two seconds */
	c = conf(10, 0, 1);
	count(t, &c, "192.0.2.9", NULL, 100, 1000, n);
	assert_int_equal(check(t, &c, "192.0.2.9", ACM_RRL_ANSWER, NULL, 102), ACM_RRL_SEND);
	acm_rrl_free(t);
}

static void test_slip_cadence(void **state)
{
	static const struct {
		unsigned slip;
		const char *pattern;   /* after the one sent: d dropped, s slipped */
	} cases[] = {
		{ 0, "dddddd" }, { 1, "ssssss" }, { 2, "dsdsds" }, { 3, "ddsdds" },
	};
	(void)state;
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		acm_rrl_t *t = table();
		acm_rrl_conf_t c = conf(1, cases[k].slip, 15);
		assert_int_equal(check(t, &c, "192.0.2.1", ACM_RRL_ANSWER, NULL, 100), ACM_RRL_SEND);
		for (const char *p = cases[k].pattern; *p; p++)
			assert_int_equal(check(t, &c, "192.0.2.1", ACM_RRL_ANSWER, NULL, 100),
			                 *p == 's' ? ACM_RRL_SLIP : ACM_RRL_DROP);
		acm_rrl_free(t);
	}
}

/* rate 1: the first response of a bucket is sent, a second one is not. */
static bool same_bucket(acm_rrl_t *t, const acm_rrl_conf_t *c, const char *a, const char *b,
                        uint64_t now)
{
	assert_int_equal(check(t, c, a, ACM_RRL_ANSWER, NULL, now), ACM_RRL_SEND);
	return check(t, c, b, ACM_RRL_ANSWER, NULL, now) != ACM_RRL_SEND;
}

static void test_prefixes(void **state)
{
	acm_rrl_t *t = table();
	acm_rrl_conf_t c = conf(1, 0, 1);
	uint64_t now = 1000;
	(void)state;
	assert_true(same_bucket(t, &c, "192.0.2.1", "192.0.2.200", now += 10));
	assert_false(same_bucket(t, &c, "192.0.2.1", "192.0.3.1", now += 10));
	assert_true(same_bucket(t, &c, "192.0.2.1", "::ffff:192.0.2.77", now += 10));
	assert_true(same_bucket(t, &c, "2001:db8:0:1::1", "2001:db8:0:ff::2", now += 10));
	assert_false(same_bucket(t, &c, "2001:db8:0:1::1", "2001:db8:0:100::1", now += 10));
	c.ipv4_prefix = 32;
	assert_false(same_bucket(t, &c, "192.0.2.1", "192.0.2.2", now += 10));
	c.ipv4_prefix = 20;
	assert_true(same_bucket(t, &c, "192.0.16.1", "192.0.31.1", now += 10));
	assert_false(same_bucket(t, &c, "192.0.16.1", "192.0.32.1", now += 10));
	c.ipv6_prefix = 128;
	assert_false(same_bucket(t, &c, "2001:db8::1", "2001:db8::2", now += 10));
	acm_rrl_free(t);
}

static void test_classes_and_names(void **state)
{
	acm_rrl_t *t = table();
	acm_rrl_conf_t c = conf(1, 0, 1);
	const char *ip = "192.0.2.1";
	(void)state;
	/* answers: a bucket per name */
	assert_int_equal(check(t, &c, ip, ACM_RRL_ANSWER, name_a, 100), ACM_RRL_SEND);
	assert_int_equal(check(t, &c, ip, ACM_RRL_ANSWER, name_b, 100), ACM_RRL_SEND);
	assert_int_equal(check(t, &c, ip, ACM_RRL_ANSWER, name_a, 100), ACM_RRL_DROP);
	/* the other classes have buckets of their own */
	assert_int_equal(check(t, &c, ip, ACM_RRL_NEGATIVE, apex, 100), ACM_RRL_SEND);
	assert_int_equal(check(t, &c, ip, ACM_RRL_NEGATIVE, apex, 100), ACM_RRL_DROP);
	/* errors and refusals ignore the name */
	assert_int_equal(check(t, &c, ip, ACM_RRL_ERROR, name_a, 100), ACM_RRL_SEND);
	assert_int_equal(check(t, &c, ip, ACM_RRL_ERROR, name_b, 100), ACM_RRL_DROP);
	assert_int_equal(check(t, &c, ip, ACM_RRL_REFUSED, name_a, 100), ACM_RRL_SEND);
	assert_int_equal(check(t, &c, ip, ACM_RRL_REFUSED, name_b, 100), ACM_RRL_DROP);
	assert_string_equal(acm_rrl_class_name(ACM_RRL_NEGATIVE), "negative");
	assert_string_equal(acm_rrl_class_name(ACM_RRL_CLASSES), "?");
	acm_rrl_free(t);
}

static void test_exempt_and_off(void **state)
{
	acm_rrl_t *t = table();
	acm_cidr_t ex[2];
	acm_rrl_conf_t c = conf(1, 2, 15);
	int n[3];
	(void)state;
	assert_int_equal(acm_cidr_parse("192.0.2.0/24", &ex[0]), ACM_OK);
	assert_int_equal(acm_cidr_parse("2001:db8::/32", &ex[1]), ACM_OK);
	c.exempt = ex;
	c.exempt_count = 2;
	count(t, &c, "192.0.2.9", NULL, 100, 1000, n);
	assert_int_equal(n[ACM_RRL_SEND], 1000);
	count(t, &c, "2001:db8::1", NULL, 100, 1000, n);
	assert_int_equal(n[ACM_RRL_SEND], 1000);
	count(t, &c, "198.51.100.1", NULL, 100, 10, n);   /* not exempt */
	assert_int_equal(n[ACM_RRL_SEND], 1);
	c.rate = 0;
	count(t, &c, "198.51.100.1", NULL, 100, 1000, n);
	assert_int_equal(n[ACM_RRL_SEND], 1000);
	acm_rrl_free(t);
}

/* One bucket of eight slots: eight keys are tracked apart; a ninth takes
 * the slot of the key nearest its full rate, never one in debt. */
static void test_table_collisions(void **state)
{
	acm_rrl_t *t;
	acm_rrl_conf_t c = conf(2, 0, 10);
	char ip[32];
	int n[3];
	(void)state;
	static const uint64_t seed[2] = { 0x0123456789abcdefull, 0xfedcba9876543210ull };
	assert_int_equal(acm_rrl_new(2, NULL, &t), ACM_ERANGE);
	/* A known seed: 14-bit tags could otherwise make two of these forty
	 * keys one, now and then. */
	assert_int_equal(acm_rrl_new(3, seed, &t), ACM_OK);
	for (int k = 0; k < 7; k++) {   /* seven keys in debt */
		snprintf(ip, sizeof(ip), "10.0.%d.1", k);
		count(t, &c, ip, NULL, 100, 50, n);
		assert_int_equal(n[ACM_RRL_SEND], 2);
	}
	count(t, &c, "10.0.7.1", NULL, 100, 1, n);   /* the eighth has a token left */
	for (int k = 8; k < 40; k++) {   /* newcomers keep taking the eighth's slot */
		snprintf(ip, sizeof(ip), "10.0.%d.1", k);
		count(t, &c, ip, NULL, 100, 1, n);
		assert_int_equal(n[ACM_RRL_SEND], 1);
	}
	for (int k = 0; k < 7; k++) {   /* the seven are still limited */
		snprintf(ip, sizeof(ip), "10.0.%d.1", k);
		assert_int_equal(check(t, &c, ip, ACM_RRL_ANSWER, NULL, 100), ACM_RRL_DROP);
	}
	/* once their debt is paid (window + 1 seconds), they start over */
	assert_int_equal(check(t, &c, "10.0.0.1", ACM_RRL_ANSWER, NULL, 111), ACM_RRL_SEND);
	acm_rrl_free(t);
}

struct racer {
	acm_rrl_t *t;
	const acm_rrl_conf_t *c;
	int sent;
};

static void *race(void *arg)
{
	struct racer *r = arg;
	int n[3];
	count(r->t, r->c, "192.0.2.1", NULL, 100, 20000, n);
	r->sent = n[ACM_RRL_SEND];
	return NULL;
}

/* Four threads on one key in one second: the tokens are taken once each. */
static void test_concurrent(void **state)
{
	acm_rrl_t *t = table();
	acm_rrl_conf_t c = conf(500, 0, 15);
	pthread_t th[4];
	struct racer r[4];
	int sent = 0;
	(void)state;
	for (int i = 0; i < 4; i++) {
		r[i] = (struct racer){ t, &c, 0 };
		assert_int_equal(pthread_create(&th[i], NULL, race, &r[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		sent += r[i].sent;
	}
	/* Exactly the rate, but for a response judged after losing every
	 * retry to the others (answered without being counted). */
	assert_in_range(sent, 500, 520);
	acm_rrl_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rate_and_burst),
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_slip_cadence),
		cmocka_unit_test(test_prefixes),
		cmocka_unit_test(test_classes_and_names),
		cmocka_unit_test(test_exempt_and_off),
		cmocka_unit_test(test_table_collisions),
		cmocka_unit_test(test_concurrent),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
