/* SPDX-License-Identifier: ISC */
/*
 * The RR reader. Names go through acm_dname_parse (lib/dns/dname.c), which
 * owns the compression rules; everything else is fixed-size fields read
 * through the cursor, so one check of its error at the end covers them.
 */
#include "lib/dns/rr.h"
#include "lib/error.h"

static size_t read_dname(acm_wire_t *w, uint8_t *out, uint8_t *lower)
{
	if (w->err)
		return 0;
	int n = acm_dname_parse_lower(w->base, w->size, &w->pos, out, lower);
	if (n < 0) {
		w->err = ACM_EMALF;
		return 0;
	}
	return (size_t)n;
}

size_t acm_wire_read_dname(acm_wire_t *w, uint8_t *out)
{
	return read_dname(w, out, NULL);
}

const uint8_t *acm_wire_read_data16(acm_wire_t *w, uint16_t *len)
{
	*len = acm_wire_read_u16(w);
	const uint8_t *p = w->base + w->pos;
	acm_wire_skip(w, *len);
	return w->err ? NULL : p;
}

int acm_rr_read_question(acm_wire_t *w, uint8_t *name, size_t *name_len, uint16_t *type,
                         uint16_t *rclass)
{
	return acm_rr_read_question_lower(w, name, NULL, name_len, type, rclass);
}

int acm_rr_read_question_lower(acm_wire_t *w, uint8_t *name, uint8_t *lower, size_t *name_len,
                               uint16_t *type, uint16_t *rclass)
{
	*name_len = read_dname(w, name, lower);
	*type = acm_wire_read_u16(w);
	*rclass = acm_wire_read_u16(w);
	return w->err ? ACM_EMALF : ACM_OK;
}

int acm_rr_read(acm_wire_t *w, acm_rr_t *rr)
{
	rr->start = w->pos;
	rr->owner_len = acm_wire_read_dname(w, rr->owner);
	rr->type = acm_wire_read_u16(w);
	rr->rclass = acm_wire_read_u16(w);
	rr->ttl = acm_wire_read_u32(w);
	rr->rdata_off = w->pos + 2;
	rr->rdata = acm_wire_read_data16(w, &rr->rdlen);
	return w->err ? ACM_EMALF : ACM_OK;
}

int acm_rr_soa_serial(const uint8_t *msg, const acm_rr_t *rr, uint32_t *serial, size_t *tail)
{
	uint8_t name[ACM_DNAME_MAX];
	acm_wire_t w = acm_wire_reader(msg, rr->rdata_off + rr->rdlen);
	w.pos = rr->rdata_off;
	acm_wire_read_dname(&w, name);
	acm_wire_read_dname(&w, name);
	*tail = acm_wire_left(&w);
	*serial = acm_wire_read_u32(&w);
	return w.err || *tail < ACM_SOA_FIELDS ? ACM_EMALF : ACM_OK;
}
