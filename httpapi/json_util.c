/* SPDX-License-Identifier: ISC */
/*
 * JSON and input rules shared by the route files. The acme-dns half
 * reproduces what Go's encoding/json and google/uuid accept,
 * because acme-dns clients were only ever tested against those.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "httpapi/json_util.h"
#include "lib/error.h"

/* ---- UTF-8 ------------------------------------------------------------- */

/* Length of the well-formed UTF-8 sequence at p (n bytes left), 0 if the
 * first byte does not start one; the same rule as Go's utf8.DecodeRune. */
static size_t utf8_seq(const uint8_t *p, size_t n)
{
	uint8_t c = p[0], lo = 0x80, hi = 0xBF;
	size_t need;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF) {
		need = 1;
	} else if (c >= 0xE0 && c <= 0xEF) {
		need = 2;
		lo = c == 0xE0 ? 0xA0 : 0x80;     /* overlong */
		hi = c == 0xED ? 0x9F : 0xBF;     /* surrogates */
	} else if (c >= 0xF0 && c <= 0xF4) {
		need = 3;
		lo = c == 0xF0 ? 0x90 : 0x80;     /* overlong */
		hi = c == 0xF4 ? 0x8F : 0xBF;     /* above U+10FFFF */
	} else {
		return 0;
	}
	if (n <= need || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i <= need; i++)
		if (p[i] < 0x80 || p[i] > 0xBF)
			return 0;
	return need + 1;
}

char *acm_utf8_repair(const uint8_t *in, size_t len, size_t *outlen, bool *failed)
{
	size_t i = 0, k;
	char *out, *o;

	*failed = false;
	while (i < len && (k = utf8_seq(in + i, len - i)) != 0)
		i += k;
	if (i == len)
		return NULL;
	if (len > SIZE_MAX / 3 || !(out = malloc(len * 3))) {
		*failed = true;
		return NULL;
	}
	memcpy(out, in, i);
	o = out + i;
	while (i < len) {
		if ((k = utf8_seq(in + i, len - i)) != 0) {
			memcpy(o, in + i, k);
			o += k;
			i += k;
		} else {
			memcpy(o, "\xEF\xBF\xBD", 3);
			o += 3;
			i++;
		}
	}
	*outlen = (size_t)(o - out);
	return out;
}

json_t *acm_json_load_go(const uint8_t *body, size_t len, bool first_only)
{
	/* Reals, not integers: Go skips any number it does not store, however
	 * large, and acme-dns stores none. */
	size_t flags = JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL;
	size_t rlen = 0;
	bool failed;
	char *fixed = acm_utf8_repair(body, len, &rlen, &failed);
	json_t *root;

	if (failed)
		return NULL;
	if (first_only)
		flags |= JSON_DISABLE_EOF_CHECK;
	if (fixed)
		root = json_loadb(fixed, rlen, flags, NULL);
	else
		root = json_loadb((const char *)body, len, flags, NULL);
	free(fixed);
	return root;
}

/* ---- Go's struct decoding ---------------------------------------------- */

/* Go matches a key to a field name with Unicode simple case folding; the
 * only non-ASCII characters that fold onto ASCII letters are U+017F (s)
 * and U+212A (k). name is lower-case ASCII. */
static bool key_matches(const char *key, const char *name)
{
	const unsigned char *k = (const unsigned char *)key;

	for (; *name; name++) {
		unsigned char c = *k;
		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		if (c == (unsigned char)*name)
			k++;
		else if (*name == 's' && k[0] == 0xC5 && k[1] == 0xBF)
			k += 2;
		else if (*name == 'k' && k[0] == 0xE2 && k[1] == 0x84 && k[2] == 0xAA)
			k += 3;
		else
			return false;
	}
	return *k == '\0';
}

/* A Go string field: strings are stored, null leaves it as it was, any
 * other type is an UnmarshalTypeError that Go notes and decodes on. */
static void go_string(json_t *v, json_t **field, bool *type_error)
{
	if (json_is_string(v))
		*field = v;
	else if (!json_is_null(v))
		*type_error = true;
}

/* A Go []string field: null empties it; elements must be strings or null. */
static void go_string_slice(json_t *v, json_t **field, bool *type_error)
{
	size_t i;
	json_t *e;

	if (json_is_null(v)) {
		*field = NULL;
		return;
	}
	if (!json_is_array(v)) {
		*type_error = true;
		return;
	}
	json_array_foreach(v, i, e)
		if (!json_is_string(e) && !json_is_null(e))
			*type_error = true;
	*field = v;
}

void acm_acmetxt_decode(json_t *root, acm_acmetxt_t *out)
{
	const char *key;
	json_t *v;
	char uuid[ACM_UUID_LEN + 1];

	memset(out, 0, sizeof(*out));
	if (!root || json_is_null(root))
		return;
	if (!json_is_object(root)) {
		out->type_error = true;
		return;
	}
	json_object_foreach(root, key, v) {
		if (key_matches(key, "username")) {
			/* uuid.UUID's UnmarshalText error ends Go's decoding at once;
			 * fields after it keep their zero values. */
			if (json_is_string(v) &&
			    acm_uuid_parse_go(json_string_value(v), json_string_length(v), uuid) != ACM_OK) {
				out->aborted = true;
				return;
			}
			if (!json_is_string(v) && !json_is_null(v))
				out->type_error = true;
		} else if (key_matches(key, "password")) {
			json_t *ignored = NULL;
			go_string(v, &ignored, &out->type_error);
		} else if (key_matches(key, "subdomain")) {
			go_string(v, &out->subdomain, &out->type_error);
		} else if (key_matches(key, "txt")) {
			go_string(v, &out->txt, &out->type_error);
		} else if (key_matches(key, "allowfrom")) {
			go_string_slice(v, &out->allowfrom, &out->type_error);
		}
	}
}

/* ---- acme-dns's field rules -------------------------------------------- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool hex_byte(const char *p, uint8_t *b)
{
	int hi = hexval(p[0]), lo = hexval(p[1]);

	if (hi < 0 || lo < 0)
		return false;
	*b = (uint8_t)(hi << 4 | lo);
	return true;
}

int acm_uuid_parse_go(const char *s, size_t len, char out[ACM_UUID_LEN + 1])
{
	static const uint8_t at[16] = { 0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34 };
	uint8_t b[16];

	if (len == 32) {
		for (size_t i = 0; i < 16; i++)
			if (!hex_byte(s + 2 * i, &b[i]))
				return ACM_EMALF;
	} else {
		if (len == 45 && strncasecmp(s, "urn:uuid:", 9) == 0)
			s += 9;
		else if (len == 38)
			s += 1;      /* google/uuid never looks at the braces */
		else if (len != 36)
			return ACM_EMALF;
		if (s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-')
			return ACM_EMALF;
		for (size_t i = 0; i < 16; i++)
			if (!hex_byte(s + at[i], &b[i]))
				return ACM_EMALF;
	}
	/* By hand: every authenticated request comes through here, and a
	 * batch does a thousand times. */
	static const char hex[] = "0123456789abcdef";
	char *o = out;
	for (size_t i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*o++ = '-';
		*o++ = hex[b[i] >> 4];
		*o++ = hex[b[i] & 15];
	}
	*o = '\0';
	return ACM_OK;
}

static bool is_alnum(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool acm_b64url_ok(const char *s, size_t len, size_t want)
{
	if (len != want)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_')
			return false;
	return true;
}

bool acm_label_ok(const char *s, size_t len)
{
	if (len < 1 || len > ACM_LABEL_MAX || !is_alnum(s[0]) || !is_alnum(s[len - 1]))
		return false;
	for (size_t i = 1; i + 1 < len; i++)
		if (!is_alnum(s[i]) && s[i] != '-')
			return false;
	return true;
}

/* ---- /v1 fields -------------------------------------------------------- */

int acm_field_str(json_t *obj, const char *name, bool required, const char **s,
                  size_t *len, char err[ACM_FIELD_ERR_MAX])
{
	json_t *v = json_object_get(obj, name);

	if (!v || json_is_null(v)) {
		if (!required)
			return ACM_OK;
		snprintf(err, ACM_FIELD_ERR_MAX, "%s is required", name);
		return ACM_EMALF;
	}
	if (!json_is_string(v)) {
		snprintf(err, ACM_FIELD_ERR_MAX, "%s must be a string", name);
		return ACM_EMALF;
	}
	*s = json_string_value(v);
	*len = json_string_length(v);
	return ACM_OK;
}

int acm_field_expires(json_t *obj, uint64_t now, uint64_t *expires,
                      char err[ACM_FIELD_ERR_MAX])
{
	json_t *v = json_object_get(obj, "expires_in");

	if (!v || json_is_null(v))
		return ACM_OK;
	if (!json_is_integer(v) || json_integer_value(v) < 1 ||
	    json_integer_value(v) > (json_int_t)ACM_EXPIRES_IN_MAX) {
		snprintf(err, ACM_FIELD_ERR_MAX, "expires_in must be an integer from 1 to %u",
		         ACM_EXPIRES_IN_MAX);
		return ACM_EMALF;
	}
	*expires = acm_expiry_after(now, (uint64_t)json_integer_value(v));
	return ACM_OK;
}
