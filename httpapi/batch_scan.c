/* SPDX-License-Identifier: ISC */
/*
 * The quick reader of /v1/batch bodies (see batch_scan.h). A batch of a
 * thousand operations cost jansson some 37,000 instructions per operation
 * (a hash table and an allocation per string), more than everything else
 * the HTTP thread does for it. Declining is always safe, so this reader
 * declines whatever it would have to interpret: escapes, other bytes than
 * printable ASCII, null, other fields, repeated fields, numbers out of
 * range.
 */
#include <string.h>

#include "httpapi/batch_scan.h"
#include "httpapi/json_util.h"

typedef struct {
	char *p, *end;
} scan_t;

static void skip_ws(scan_t *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

/* The next non-blank byte is c: step over it. */
static bool eat(scan_t *s, char c)
{
	skip_ws(s);
	if (s->p == s->end || *s->p != c)
		return false;
	s->p++;
	return true;
}

/* A string without escapes; NUL-terminated in place. */
static bool string(scan_t *s, const char **out, size_t *len)
{
	if (!eat(s, '"'))
		return false;
	char *start = s->p;
	while (s->p < s->end && *s->p != '"') {
		unsigned char c = (unsigned char)*s->p;
		if (c < 0x20 || c > 0x7e || c == '\\')
			return false;
		s->p++;
	}
	if (s->p == s->end)
		return false;
	*s->p++ = '\0';
	*out = start;
	*len = (size_t)(s->p - 1 - start);
	return true;
}

/* An integer from 1 to ACM_EXPIRES_IN_MAX as JSON writes it (no sign, no
 * leading zero, no fraction or exponent). */
static bool expires_in(scan_t *s, uint64_t *out)
{
	uint64_t v = 0;

	skip_ws(s);
	if (s->p == s->end || *s->p < '1' || *s->p > '9')
		return false;
	while (s->p < s->end && *s->p >= '0' && *s->p <= '9') {
		v = v * 10 + (uint64_t)(*s->p++ - '0');
		if (v > ACM_EXPIRES_IN_MAX)
			return false;
	}
	if (s->p < s->end && (*s->p == '.' || *s->p == 'e' || *s->p == 'E'))
		return false;
	*out = v;
	return true;
}

/* One "name": value member into it; false for a name read twice. */
static bool member(scan_t *s, acm_batch_item_t *it)
{
	static const char *const names[] = { "op", "username", "key", "subdomain", "value" };
	const char **slots[] = { &it->op, &it->username, &it->key, &it->subdomain, &it->value };
	const char *name;
	size_t len, vlen;

	if (!string(s, &name, &len) || !eat(s, ':'))
		return false;
	if (strcmp(name, "expires_in") == 0)
		return it->expires_in == 0 && expires_in(s, &it->expires_in);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(name, names[i]) != 0)
			continue;
		if (*slots[i] || !string(s, slots[i], &vlen))
			return false;
		if (slots[i] == &it->value)
			it->value_len = vlen;
		return true;
	}
	return false;
}

static bool object(scan_t *s, acm_batch_item_t *it)
{
	memset(it, 0, sizeof(*it));
	if (!eat(s, '{'))
		return false;
	do {
		if (!member(s, it))
			return false;
	} while (eat(s, ','));
	return eat(s, '}') && it->op && it->value;
}

bool acm_batch_scan(char *text, size_t len, acm_batch_item_t *items, size_t max, size_t *n)
{
	scan_t s = { text, text + len };
	const char *key;
	size_t klen;

	*n = 0;
	if (!eat(&s, '{') || !string(&s, &key, &klen) || strcmp(key, "operations") != 0 ||
	    !eat(&s, ':') || !eat(&s, '['))
		return false;
	do {
		if (*n == max || !object(&s, &items[*n]))
			return false;
		(*n)++;
	} while (eat(&s, ','));
	if (!eat(&s, ']') || !eat(&s, '}'))
		return false;
	skip_ws(&s);
	return s.p == s.end;
}
