/* SPDX-License-Identifier: ISC */
/*
 * What a name in the zone is, and the names of an account (see
 * zone_names.h). The shape test runs for every query that misses the
 * static zone, so it is a few compares on the name in place.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "lib/dns/zone_names.h"
#include "lib/error.h"

#define CHALLENGE_TEXT_LEN (sizeof(ACM_CHALLENGE_LABEL) - 1)

/* Labels of name above apex, or -1 if it is not at or below it. One walk
 * over name; the apex is not walked, its length says where it must start.
 * folded: name is lower case as the apex is, so bytes compare as they are. */
static int depth_under(const uint8_t *name, size_t len, const uint8_t *apex, size_t apex_len,
                       bool folded)
{
	size_t at = 0;
	int depth = 0;
	while (at < len && len - at > apex_len) {
		at += 1u + name[at];
		depth++;
	}
	if (at >= len || len - at != apex_len)
		return -1;
	if (folded ? memcmp(name + at, apex, apex_len) != 0 : !acm_dname_equal(name + at, apex))
		return -1;
	return depth;
}

static void shape_at(const uint8_t *name, int depth, acm_zname_t *out)
{
	out->depth = depth;
	out->node = NULL;
	out->label = NULL;
	if (depth < 0) {
		out->kind = ACM_ZNAME_OUTSIDE;
	} else if (depth == 0) {
		out->kind = ACM_ZNAME_APEX;
	} else if (depth == 1) {
		out->kind = ACM_ZNAME_ACCOUNT;
		out->label = name;
	} else if (depth == 2 && memcmp(name, ACM_CHALLENGE_WIRE, ACM_CHALLENGE_WIRE_LEN) == 0) {
		out->kind = ACM_ZNAME_CHALLENGE;
		out->label = name + ACM_CHALLENGE_WIRE_LEN;
	} else {
		out->kind = ACM_ZNAME_OTHER;
	}
}

void acm_zname_shape_len(const uint8_t *name, size_t len, const uint8_t *apex, size_t apex_len,
                        acm_zname_t *out)
{
	shape_at(name, depth_under(name, len, apex, apex_len, true), out);
}

void acm_zname_shape(const uint8_t *name, const uint8_t *apex, acm_zname_t *out)
{
	shape_at(name, depth_under(name, acm_dname_len(name), apex, acm_dname_len(apex), false),
	         out);
}

int acm_zname_label(const acm_zname_t *n, char *out)
{
	if (!acm_zname_in_store(n->kind))
		return ACM_EBADNAME;
	memcpy(out, n->label + 1, n->label[0]);
	out[n->label[0]] = '\0';
	return acm_label_check(out, n->label[0]);
}

int acm_zname_account(const char *label, const uint8_t *apex, uint8_t *out)
{
	size_t len = label ? strnlen(label, ACM_LABEL_MAX + 1) : 0;
	size_t apex_len = acm_dname_len(apex);
	if (len == 0 || len > ACM_LABEL_MAX || 1 + len + apex_len > ACM_DNAME_MAX)
		return ACM_EBADNAME;
	out[0] = (uint8_t)len;
	memcpy(out + 1, label, len);
	memcpy(out + 1 + len, apex, apex_len);
	acm_dname_lower(out);
	if (acm_label_check((const char *)out + 1, len) != ACM_OK)
		return ACM_EBADNAME;
	return (int)(1 + len + apex_len);
}

int acm_zname_challenge(const uint8_t *own, size_t own_len, uint8_t *out)
{
	if (ACM_CHALLENGE_WIRE_LEN + own_len > ACM_DNAME_MAX)
		return ACM_EBADNAME;
	memcpy(out, ACM_CHALLENGE_WIRE, ACM_CHALLENGE_WIRE_LEN);
	memcpy(out + ACM_CHALLENGE_WIRE_LEN, own, own_len);
	return (int)(ACM_CHALLENGE_WIRE_LEN + own_len);
}

void acm_zname_txt_split(const char *name, const char **label, bool *challenge)
{
	*challenge = name && strncasecmp(name, ACM_CHALLENGE_LABEL ".", CHALLENGE_TEXT_LEN + 1) == 0;
	*label = *challenge ? name + CHALLENGE_TEXT_LEN + 1 : name;
}

void acm_zname_txt_join(const char *label, bool challenge, char *out)
{
	snprintf(out, ACM_TXT_NAME_MAX + 1, "%s%s", challenge ? ACM_CHALLENGE_LABEL "." : "", label);
}

int acm_zname_zone_text(const uint8_t *apex, char *out)
{
	int len = acm_dname_to_text(apex, out);
	if (len < 0)
		return len;
	if (len > 1)
		out[len - 1] = '\0';   /* acme-dns prints names without the final dot */
	return ACM_OK;
}

void acm_zname_fulldomain(const char *zone_text, const char *label, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s.%s", label, zone_text);
}
