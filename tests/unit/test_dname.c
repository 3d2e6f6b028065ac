/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for lib/dns/dname.c: text and wire forms, escapes, comparison,
 * and parsing of compressed names out of hostile messages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/dns/dname.h"
#include "lib/error.h"

/* Wire literals contain NUL bytes, so their length is carried explicitly. */
#define W(s) (const uint8_t *)(s), sizeof(s) - 1

struct text_case {
	const char *text;
	const uint8_t *wire;
	size_t wirelen;
};

static char *repeat(char c, size_t n)
{
	char *s = malloc(n + 1);
	assert_non_null(s);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* Builds "<n1 x a>.<n2 x b>..." text, for length-limit cases. */
static char *labels_text(const size_t *lens, size_t count)
{
	size_t total = 0;
	for (size_t i = 0; i < count; i++)
		total += lens[i] + 1;
	char *s = malloc(total + 1);
	assert_non_null(s);
	size_t o = 0;
	for (size_t i = 0; i < count; i++) {
		memset(s + o, 'a' + (int)i, lens[i]);
		o += lens[i];
		s[o++] = '.';
	}
	s[o] = '\0';
	return s;
}

static void test_from_text_good(void **state)
{
	(void)state;
	static const struct text_case cases[] = {
		{ ".", W("\0") },
		{ "example.org", W("\7example\3org\0") },
		{ "example.org.", W("\7example\3org\0") },
		{ "Example.ORG", W("\7Example\3ORG\0") },
		{ "a", W("\1a\0") },
		{ "a\\.b.c", W("\3a.b\1c\0") },
		{ "\\065b", W("\2Ab\0") },
		{ "a\\\\b", W("\3a\\b\0") },
		{ "\\000.x", W("\1\0\1x\0") },
		{ "\\255", W("\1\377\0") },
		{ "\\ x", W("\2 x\0") },
		{ "_acme-challenge.x", W("\17_acme-challenge\1x\0") },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t out[ACM_DNAME_MAX];
		int r = acm_dname_from_text(cases[i].text, out);
		assert_int_equal(r, (int)cases[i].wirelen);
		assert_memory_equal(out, cases[i].wire, cases[i].wirelen);
		assert_int_equal(acm_dname_len(out), cases[i].wirelen);
	}
}

static void test_from_text_limits(void **state)
{
	(void)state;
	uint8_t out[ACM_DNAME_MAX];

	char *l63 = repeat('x', 63), *l64 = repeat('x', 64);
	assert_int_equal(acm_dname_from_text(l63, out), 65);
	assert_int_equal(acm_dname_from_text(l64, out), ACM_EBADNAME);
	free(l63);
	free(l64);

	/* 3 x 64 + 62 + root = 255: the longest name there is */
	static const size_t max[] = { 63, 63, 63, 61 };
	char *s = labels_text(max, 4);
	assert_int_equal(acm_dname_from_text(s, out), 255);
	s[strlen(s) - 1] = '\0';   /* the same without the trailing dot */
	assert_int_equal(acm_dname_from_text(s, out), 255);
	free(s);

	static const size_t over[] = { 63, 63, 63, 62 };
	s = labels_text(over, 4);
	assert_int_equal(acm_dname_from_text(s, out), ACM_EBADNAME);
	s[strlen(s) - 1] = '\0';
	assert_int_equal(acm_dname_from_text(s, out), ACM_EBADNAME);
	free(s);

	/* 127 one-byte labels + root = 255; 128 is too many */
	static size_t ones[128];
	for (size_t i = 0; i < 128; i++)
		ones[i] = 1;
	s = labels_text(ones, 127);
	assert_int_equal(acm_dname_from_text(s, out), 255);
	free(s);
	s = labels_text(ones, 128);
	assert_int_equal(acm_dname_from_text(s, out), ACM_EBADNAME);
	free(s);

	/* escapes count as one byte each */
	char esc[63 * 4 + 1];
	for (int i = 0; i < 63; i++)
		memcpy(esc + 4 * i, "\\046", 4);
	esc[63 * 4] = '\0';
	assert_int_equal(acm_dname_from_text(esc, out), 65);
}

static void test_from_text_bad(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"", "..", ".a", "a..b", "a..", "..a", "a.b..",
		"\\", "a\\", "a\\2", "a\\25", "a\\256", "a\\2x5", "a\\999",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t out[ACM_DNAME_MAX];
		int r = acm_dname_from_text(bad[i], out);
		if (r != ACM_EBADNAME)
			fail_msg("\"%s\" gave %d", bad[i], r);
	}
	uint8_t out[ACM_DNAME_MAX];
	assert_int_equal(acm_dname_from_text(NULL, out), ACM_EBADNAME);
}

static void test_to_text(void **state)
{
	(void)state;
	static const struct text_case cases[] = {
		{ ".", W("\0") },
		{ "example.org.", W("\7example\3org\0") },
		{ "Ex.", W("\2Ex\0") },
		{ "a\\.b.c.", W("\3a.b\1c\0") },
		{ "a\\\\b.", W("\3a\\b\0") },
		{ "\\000.x.", W("\1\0\1x\0") },
		{ "\\032x.", W("\2 x\0") },
		{ "\\255\\127.", W("\2\377\177\0") },
		{ "\\\"\\(\\)\\;\\@\\$.", W("\6\"();@$\0") },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[ACM_DNAME_TXT_MAX];
		int r = acm_dname_to_text(cases[i].wire, out);
		assert_string_equal(out, cases[i].text);
		assert_int_equal(r, (int)strlen(cases[i].text));
	}
}

static void test_to_text_bad(void **state)
{
	(void)state;
	char out[ACM_DNAME_TXT_MAX];
	uint8_t w[300];

	/* label type bits set */
	memcpy(w, "\100", 1);
	memset(w + 1, 'a', 64);
	w[65] = 0;
	assert_int_equal(acm_dname_to_text(w, out), ACM_EBADNAME);
	assert_int_equal(acm_dname_to_text((const uint8_t *)"\300\014", out), ACM_EBADNAME);

	/* 4 x 63-byte labels: 257 bytes of wire */
	size_t o = 0;
	for (int k = 0; k < 4; k++) {
		w[o++] = 63;
		memset(w + o, 'a', 63);
		o += 63;
	}
	w[o] = 0;
	assert_int_equal(acm_dname_to_text(w, out), ACM_EBADNAME);
}

/* Every byte value, in worst-case labels, survives wire -> text -> wire. */
static void test_escape_roundtrip(void **state)
{
	(void)state;
	uint8_t wire[ACM_DNAME_MAX], back[ACM_DNAME_MAX];
	char text[ACM_DNAME_TXT_MAX];

	for (int start = 0; start < 256; start += 63 * 3) {
		size_t o = 0;
		int v = start;
		/* three labels of 63 and one of 61: 255 bytes, the worst for text */
		static const uint8_t lens[] = { 63, 63, 63, 61 };
		for (int k = 0; k < 4; k++) {
			wire[o++] = lens[k];
			for (int j = 0; j < lens[k]; j++)
				wire[o++] = (uint8_t)(v++ & 0xff);
		}
		wire[o++] = 0;
		assert_int_equal(o, 255);
		int t = acm_dname_to_text(wire, text);
		assert_true(t > 0 && t < ACM_DNAME_TXT_MAX);
		assert_int_equal(acm_dname_from_text(text, back), 255);
		assert_memory_equal(wire, back, 255);
	}

	/* all \DDD: the longest text a name can have */
	size_t o = 0;
	static const uint8_t lens[] = { 63, 63, 63, 61 };
	for (int k = 0; k < 4; k++) {
		wire[o++] = lens[k];
		memset(wire + o, 0x01, lens[k]);
		o += lens[k];
	}
	wire[o] = 0;
	int t = acm_dname_to_text(wire, text);
	assert_int_equal(t, 250 * 4 + 4);
	assert_int_equal(acm_dname_from_text(text, back), 255);
	assert_memory_equal(wire, back, 255);
}

static void test_lower_equal_under(void **state)
{
	(void)state;
	uint8_t a[ACM_DNAME_MAX], b[ACM_DNAME_MAX], apex[ACM_DNAME_MAX];

	assert_true(acm_dname_from_text("WwW.Example.ORG", a) > 0);
	assert_true(acm_dname_from_text("www.example.org.", b) > 0);
	assert_true(acm_dname_equal(a, b));
	assert_true(acm_dname_equal(b, a));
	acm_dname_lower(a);
	assert_memory_equal(a, "\3www\7example\3org\0", 17);

	/* bytes that differ only in bit 0x20 but are not letters */
	assert_true(acm_dname_from_text("a@", a) > 0);
	assert_true(acm_dname_from_text("a`", b) > 0);
	assert_false(acm_dname_equal(a, b));
	acm_dname_lower(a);
	assert_memory_equal(a, "\2a@\0", 4);

	assert_true(acm_dname_from_text("ab.c", a) > 0);
	assert_true(acm_dname_from_text("a.bc", b) > 0);
	assert_false(acm_dname_equal(a, b));
	assert_true(acm_dname_from_text("ab", b) > 0);
	assert_false(acm_dname_equal(a, b));

	assert_true(acm_dname_from_text("acme.Example.org", apex) > 0);
	assert_true(acm_dname_from_text("ACME.example.ORG", a) > 0);
	assert_int_equal(acm_dname_under(a, apex), 0);
	assert_true(acm_dname_from_text("_acme-challenge.X.acme.example.org", a) > 0);
	assert_int_equal(acm_dname_under(a, apex), 2);
	assert_true(acm_dname_from_text("example.org", a) > 0);
	assert_int_equal(acm_dname_under(a, apex), -1);
	assert_true(acm_dname_from_text("x.notacme.example.org", a) > 0);
	assert_int_equal(acm_dname_under(a, apex), -1);
	assert_true(acm_dname_from_text("acme.example.net", a) > 0);
	assert_int_equal(acm_dname_under(a, apex), -1);
	assert_true(acm_dname_from_text(".", b) > 0);
	assert_int_equal(acm_dname_under(a, b), 3);
	assert_int_equal(acm_dname_under(b, b), 0);
	assert_int_equal(acm_dname_under(b, apex), -1);
}

/*
 * A message: 12-byte header, example.org at 12, www.<ptr 12> at 25,
 * <ptr 25> at 31, mail.<ptr 31> at 33.
 */
static const uint8_t msg[] =
	"\0\1\0\0\0\1\0\0\0\0\0\0"
	"\7example\3org\0"
	"\3www\300\014"
	"\300\031"
	"\4mail\300\037";
#define MSGLEN (sizeof(msg) - 1)

static void test_parse_compression(void **state)
{
	(void)state;
	uint8_t out[ACM_DNAME_MAX];
	size_t pos;

	pos = 12;
	assert_int_equal(acm_dname_parse(msg, MSGLEN, &pos, out), 13);
	assert_int_equal(pos, 25);
	assert_memory_equal(out, "\7example\3org\0", 13);

	pos = 25;
	assert_int_equal(acm_dname_parse(msg, MSGLEN, &pos, out), 17);
	assert_int_equal(pos, 31);
	assert_memory_equal(out, "\3www\7example\3org\0", 17);

	pos = 31;
	assert_int_equal(acm_dname_parse(msg, MSGLEN, &pos, out), 17);
	assert_int_equal(pos, 33);
	assert_memory_equal(out, "\3www\7example\3org\0", 17);

	pos = 33;
	assert_int_equal(acm_dname_parse(msg, MSGLEN, &pos, out), 22);
	assert_int_equal(pos, MSGLEN);
	assert_memory_equal(out, "\4mail\3www\7example\3org\0", 22);

	/* the root alone, and a pointer to it */
	static const uint8_t root[] = "\0\300\000";
	pos = 0;
	assert_int_equal(acm_dname_parse(root, 3, &pos, out), 1);
	assert_int_equal(pos, 1);
	assert_int_equal(acm_dname_parse(root, 3, &pos, out), 1);
	assert_int_equal(pos, 3);

	/* case is kept */
	static const uint8_t mixed[] = "\2Ab\0";
	pos = 0;
	assert_int_equal(acm_dname_parse(mixed, 4, &pos, out), 4);
	assert_memory_equal(out, "\2Ab\0", 4);
}

/* Every byte value, in labels long enough for the eight-at-a-time fold
 * and its tail, against the bytewise ASCII fold; the case-kept copy too. */
static void test_parse_lower(void **state)
{
	(void)state;
	uint8_t m[300], out[ACM_DNAME_MAX], lower[ACM_DNAME_MAX], want[ACM_DNAME_MAX];
	for (unsigned first = 0; first < 256; first += 60) {
		size_t n = 0;
		for (unsigned c = first; c < first + 60; c += 20) {
			m[n++] = 20;
			for (unsigned k = c; k < c + 20; k++)
				m[n++] = (uint8_t)k;
		}
		m[n++] = 0;
		for (size_t i = 0; i < n; i++) {
			uint8_t c = m[i];
			bool label_len = i % 21 == 0;
			want[i] = !label_len && c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
		}
		size_t pos = 0;
		assert_int_equal(acm_dname_parse_lower(m, n, &pos, out, lower), (int)n);
		assert_int_equal(pos, n);
		assert_memory_equal(out, m, n);
		assert_memory_equal(lower, want, n);
	}
}

static void expect_malf(const uint8_t *m, size_t len, size_t start)
{
	uint8_t out[ACM_DNAME_MAX];
	size_t pos = start;

	/* an exact-size heap copy lets ASan catch any read past the end */
	uint8_t *copy = malloc(len ? len : 1);
	assert_non_null(copy);
	if (len)
		memcpy(copy, m, len);
	int r = acm_dname_parse(copy, len, &pos, out);
	free(copy);
	if (r != ACM_EMALF)
		fail_msg("len %zu start %zu: got %d", len, start, r);
	assert_int_equal(pos, start);
}

static void test_parse_pointers_bad(void **state)
{
	(void)state;

	/* forward pointer */
	static const uint8_t fwd[] = "\300\002\1a\0";
	expect_malf(fwd, 5, 0);

	/* pointer to itself */
	static const uint8_t self[] = "\0\0\300\002";
	expect_malf(self, 4, 2);

	/* pointer back into the sequence that led to it */
	static const uint8_t into[] = "\0\0\1a\300\002";
	expect_malf(into, 6, 2);

	/* two pointers pointing at each other */
	static const uint8_t pp[] = "\300\002\300\000";
	expect_malf(pp, 4, 2);
	expect_malf(pp, 4, 0);

	/* a longer ring: 6 -> 4 -> 2 -> 6 */
	static const uint8_t ring[] = "\0\0\300\006\300\002\300\004";
	expect_malf(ring, 8, 6);

	/* reserved label types and a length above 63 */
	static const uint8_t t40[] = "\100a\0";
	expect_malf(t40, 3, 0);
	static const uint8_t t80[] = "\200a\0";
	expect_malf(t80, 3, 0);
	static const uint8_t t41[] = "\1a\101\0";
	expect_malf(t41, 4, 0);
	uint8_t big[70];
	big[0] = 64;
	memset(big + 1, 'a', 64);
	big[65] = 0;
	expect_malf(big, 66, 0);

	/* start at or past the end */
	expect_malf(msg, MSGLEN, MSGLEN);
	expect_malf(msg, MSGLEN, MSGLEN + 5);
	expect_malf(msg, 0, 0);
}

static void test_parse_too_long(void **state)
{
	(void)state;
	/* four 63-byte labels chained by pointers: 4 x 64 + 1 = 257 bytes */
	uint8_t m[4 * 66];
	size_t o = 0, prev = 0;
	for (int k = 0; k < 4; k++) {
		size_t here = o;
		m[o++] = 63;
		memset(m + o, 'a' + k, 63);
		o += 63;
		if (k == 0) {
			m[o++] = 0;
		} else {
			m[o++] = (uint8_t)(0xC0 | prev >> 8);
			m[o++] = (uint8_t)prev;
		}
		prev = here;
	}

	uint8_t out[ACM_DNAME_MAX];
	size_t pos = 65 + 66;   /* the third name: 3 x 64 + 1 = 193 */
	assert_int_equal(acm_dname_parse(m, o, &pos, out), 193);
	assert_int_equal(pos, 65 + 66 * 2);
	expect_malf(m, o, 65 + 66 * 2);

	/* uncompressed, one label too many */
	uint8_t u[300];
	o = 0;
	for (int k = 0; k < 4; k++) {
		u[o++] = 63;
		memset(u + o, 'a', 63);
		o += 63;
	}
	u[o++] = 0;
	expect_malf(u, o, 0);
	/* ...and exactly 255 is fine */
	u[3 * 64] = 61;
	u[3 * 64 + 62] = 0;
	pos = 0;
	assert_int_equal(acm_dname_parse(u, 3 * 64 + 63, &pos, out), 255);
	assert_int_equal(pos, 255);
}

static void test_parse_truncated(void **state)
{
	(void)state;
	static const size_t starts[] = { 12, 25, 31, 33 };

	for (size_t s = 0; s < sizeof(starts) / sizeof(starts[0]); s++) {
		size_t start = starts[s];
		size_t full = MSGLEN;
		uint8_t out[ACM_DNAME_MAX];

		/* find where the name as stored ends */
		size_t pos = start;
		assert_true(acm_dname_parse(msg, full, &pos, out) > 0);
		size_t end = pos;

		for (size_t len = 0; len < end; len++)
			expect_malf(msg, len, start);

		uint8_t *copy = malloc(end);
		assert_non_null(copy);
		memcpy(copy, msg, end);
		pos = start;
		assert_true(acm_dname_parse(copy, end, &pos, out) > 0);
		assert_int_equal(pos, end);
		free(copy);
	}
}

static void test_label_check(void **state)
{
	(void)state;
	static const char *const good[] = { "a", "abc", "a-b", "0", "x1-2-3y", "a--b" };
	static const char *const bad[] = { "", "-a", "a-", "-", "A", "a.b", "a_b", "a b", "\xc3\xa9" };

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_int_equal(acm_label_check(good[i], strlen(good[i])), ACM_OK);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(acm_label_check(bad[i], strlen(bad[i])), ACM_EBADNAME);

	char *l63 = repeat('z', 63), *l64 = repeat('z', 64);
	assert_int_equal(acm_label_check(l63, 63), ACM_OK);
	assert_int_equal(acm_label_check(l64, 64), ACM_EBADNAME);
	free(l63);
	free(l64);

	/* the length is what counts, not a NUL */
	assert_int_equal(acm_label_check("ab-", 2), ACM_OK);
	assert_int_equal(acm_label_check("a\0b", 3), ACM_EBADNAME);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_from_text_good),
		cmocka_unit_test(test_from_text_limits),
		cmocka_unit_test(test_from_text_bad),
		cmocka_unit_test(test_to_text),
		cmocka_unit_test(test_to_text_bad),
		cmocka_unit_test(test_escape_roundtrip),
		cmocka_unit_test(test_lower_equal_under),
		cmocka_unit_test(test_parse_compression),
		cmocka_unit_test(test_parse_pointers_bad),
		cmocka_unit_test(test_parse_too_long),
		cmocka_unit_test(test_parse_lower),
		cmocka_unit_test(test_parse_truncated),
		cmocka_unit_test(test_label_check),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
