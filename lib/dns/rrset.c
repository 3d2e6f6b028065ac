/* SPDX-License-Identifier: ISC */
/*
 * The rrset record codec (see rrset.h for the layout): TXT value checks, the
 * checked iterator the DNS path reads records with, and the in-memory TXT
 * set the store decodes, edits and re-encodes.
 */
#include <string.h>

#include "lib/error.h"
#include "lib/dns/rrset.h"
#include "lib/dns/wire.h"

#define RR_VERSION 1
#define RR_HDR 2
#define RR_ENT_HDR 18               /* set_time, expires, rdlen */

int acm_txt_check(const char *value, size_t len)
{
	if (!value || len == 0 || len > ACM_TXT_MAX)
		return ACM_EBADVALUE;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)value[i];
		if (c < 0x20 || c > 0x7e)
			return ACM_EBADVALUE;
	}
	return ACM_OK;
}

/* ---- decoding --------------------------------------------------------- */

int acm_rr_iter_init(acm_rr_iter_t *it, const uint8_t *rec, size_t len)
{
	it->p = it->end = NULL;
	it->left = 0;
	if (!rec || len < RR_HDR || rec[0] != RR_VERSION)
		return ACM_ECORRUPT;
	it->p = rec + RR_HDR;
	it->end = rec + len;
	it->left = rec[1];
	return ACM_OK;
}

/* TXT rdata is a run of character-strings that must end exactly at rdlen. */
static bool txt_rdata_ok(const uint8_t *rd, size_t len)
{
	size_t i = 0;
	if (len == 0)
		return false;
	while (i < len)
		i += 1 + (size_t)rd[i];
	return i == len;
}

static int iter_fail(acm_rr_iter_t *it)
{
	it->p = NULL;
	it->left = 0;
	return ACM_ECORRUPT;
}

int acm_rr_iter_next(acm_rr_iter_t *it, acm_rr_entry_t *e)
{
	if (!it->p)
		return ACM_ECORRUPT;
	size_t room = (size_t)(it->end - it->p);
	if (it->left == 0)
		return room == 0 ? 0 : iter_fail(it);
	if (room < RR_ENT_HDR)
		return iter_fail(it);
	uint16_t rdlen = acm_get_u16(it->p + 16);
	if (room - RR_ENT_HDR < rdlen || !txt_rdata_ok(it->p + RR_ENT_HDR, rdlen))
		return iter_fail(it);
	e->set_time = acm_get_u64(it->p);
	e->expires = acm_get_u64(it->p + 8);
	e->rdlen = rdlen;
	e->rdata = it->p + RR_ENT_HDR;
	it->p += RR_ENT_HDR + rdlen;
	it->left--;
	return 1;
}

/* ---- the in-memory TXT set -------------------------------------------- */

/* Our own records hold exactly one character-string per entry. */
int acm_txt_set_decode(const uint8_t *rec, size_t len, acm_txt_set_t *set)
{
	acm_rr_iter_t it;
	acm_rr_entry_t e;
	int rc = acm_rr_iter_init(&it, rec, len);

	set->n = 0;
	while (rc == ACM_OK && (rc = acm_rr_iter_next(&it, &e)) == 1) {
		if (e.rdlen != 1 + e.rdata[0] || e.rdata[0] == 0)
			return ACM_ECORRUPT;
		acm_txt_ent_t *t = &set->e[set->n++];
		t->set_time = e.set_time;
		t->expires = e.expires;
		t->len = e.rdata[0];
		memcpy(t->val, e.rdata + 1, t->len);
		rc = ACM_OK;
	}
	return rc;
}

size_t acm_txt_set_size(const acm_txt_set_t *set)
{
	size_t n = RR_HDR;
	for (unsigned i = 0; i < set->n; i++)
		n += RR_ENT_HDR + 1 + set->e[i].len;
	return n;
}

void acm_txt_set_encode(const acm_txt_set_t *set, uint8_t *p)
{
	*p++ = RR_VERSION;
	*p++ = (uint8_t)set->n;
	for (unsigned i = 0; i < set->n; i++) {
		const acm_txt_ent_t *t = &set->e[i];
		acm_put_u64(p, t->set_time);
		acm_put_u64(p + 8, t->expires);
		acm_put_u16(p + 16, (uint16_t)(1 + t->len));
		p[RR_ENT_HDR] = t->len;
		memcpy(p + RR_ENT_HDR + 1, t->val, t->len);
		p += RR_ENT_HDR + 1 + t->len;
	}
}

int acm_txt_set_find(const acm_txt_set_t *set, const void *val, size_t len)
{
	for (unsigned i = 0; i < set->n; i++)
		if (set->e[i].len == len && memcmp(set->e[i].val, val, len) == 0)
			return (int)i;
	return -1;
}

void acm_txt_set_append(acm_txt_set_t *set, const void *val, size_t len,
                        uint64_t set_time, uint64_t expires)
{
	acm_txt_ent_t *t = &set->e[set->n++];
	t->set_time = set_time;
	t->expires = expires;
	t->len = (uint8_t)len;
	memcpy(t->val, val, len);
}

/* Same values with the same times, in any order: nothing to write. */
bool acm_txt_set_same(const acm_txt_set_t *a, const acm_txt_set_t *b)
{
	if (a->n != b->n)
		return false;
	for (unsigned i = 0; i < a->n; i++) {
		int j = acm_txt_set_find(b, a->e[i].val, a->e[i].len);
		if (j < 0 || b->e[j].set_time != a->e[i].set_time ||
		    b->e[j].expires != a->e[i].expires)
			return false;
	}
	return true;
}
