/* SPDX-License-Identifier: ISC */
/*
 * Query parsing. The order of checks decides which error a broken message
 * earns: header first (drop), then opcode (NOTIMP), then counts and the
 * question (FORMERR), then the additional section and trailing bytes.
 */
#include <string.h>

#include "dnsd/query.h"
#include "lib/wire.h"
#include "lib/zone.h"

#define FLAG_QR 0x8000
#define OPT_FIXED 10     /* type, class, ttl, rdlength after the root name */
#define RRTYPE_TSIG 250

static bool parse_question(const uint8_t *msg, size_t len, size_t *pos, acm_query_t *q)
{
	int n = acm_dname_parse(msg, len, pos, q->qname);
	if (n < 0 || len - *pos < 4)
		return false;
	q->qname_len = (size_t)n;
	memcpy(q->lname, q->qname, q->qname_len);
	acm_dname_lower(q->lname);
	q->qtype = acm_get_u16(msg + *pos);
	q->qclass = acm_get_u16(msg + *pos + 2);
	*pos += 4;
	q->has_question = true;
	return true;
}

/* OPT rdata is a list of {code, length, data}; the lengths must add up. */
static bool options_ok(const uint8_t *p, size_t len)
{
	while (len > 0) {
		if (len < 4)
			return false;
		size_t olen = acm_get_u16(p + 2);
		if (len - 4 < olen)
			return false;
		p += 4 + olen;
		len -= 4 + olen;
	}
	return true;
}

/* Walk the additional section. Only OPT is read, and where a TSIG sits
 * (RFC 8945 5.1: last, or the message is malformed); other records are
 * skipped whole (they must still be well-formed). */
static bool parse_additional(const uint8_t *msg, size_t len, size_t *pos,
                             unsigned count, acm_query_t *q)
{
	for (unsigned i = 0; i < count; i++) {
		uint8_t owner[ACM_DNAME_MAX];
		size_t start = *pos;
		int olen = acm_dname_parse(msg, len, pos, owner);
		if (olen < 0 || len - *pos < OPT_FIXED)
			return false;
		const uint8_t *f = msg + *pos;
		uint16_t type = acm_get_u16(f);
		size_t rdlen = acm_get_u16(f + 8);
		*pos += OPT_FIXED;
		if (len - *pos < rdlen)
			return false;
		if (type == ACM_RRTYPE_OPT) {
			/* RFC 6891 6.1.1: one OPT, owned by the root. */
			if (q->edns || olen != 1 || !options_ok(msg + *pos, rdlen))
				return false;
			q->edns = true;
			q->edns_size = acm_get_u16(f + 2);
			q->edns_version = f[5];
			q->edns_do = (f[6] & 0x80) != 0;
		} else if (type == RRTYPE_TSIG) {
			if (i + 1 != count)
				return false;
			q->has_tsig = true;
			q->tsig_offset = start;
		}
		*pos += rdlen;
	}
	return true;
}

/* RFC 1995 3: an IXFR carries the client's SOA, owned by the zone, in the
 * authority section; only its serial matters to us. */
static bool parse_ixfr_soa(const uint8_t *msg, size_t len, size_t *pos, acm_query_t *q)
{
	uint8_t name[ACM_DNAME_MAX];
	int olen = acm_dname_parse(msg, len, pos, name);
	if (olen < 0 || len - *pos < OPT_FIXED)
		return false;
	acm_dname_lower(name);
	uint16_t type = acm_get_u16(msg + *pos);
	size_t rdlen = acm_get_u16(msg + *pos + 8);
	*pos += OPT_FIXED;
	size_t end = *pos + rdlen;
	if (len - *pos < rdlen || type != ACM_RRTYPE_SOA || (size_t)olen != q->qname_len ||
	    memcmp(name, q->lname, (size_t)olen) != 0)
		return false;
	size_t p = *pos;
	if (acm_dname_parse(msg, end, &p, name) < 0 || acm_dname_parse(msg, end, &p, name) < 0 ||
	    end - p != 20)
		return false;
	q->ixfr_serial = acm_get_u32(msg + p);
	q->has_ixfr_serial = true;
	*pos = end;
	return true;
}

bool acm_query_parse(const uint8_t *msg, size_t len, acm_query_t *q)
{
	if (len < ACM_DNS_HEADER)
		return false;
	q->msg = msg;
	q->msg_len = len;
	q->has_tsig = q->has_ixfr_serial = false;
	q->tsig_offset = 0;
	q->ixfr_serial = 0;
	q->has_question = false;
	q->qname_len = 0;
	q->qtype = q->qclass = 0;
	q->edns = q->edns_do = false;
	q->edns_size = 0;
	q->edns_version = 0;
	q->id = acm_get_u16(msg);
	q->flags = acm_get_u16(msg + 2);
	if (q->flags & FLAG_QR)
		return false;
	q->opcode = (uint8_t)((q->flags >> 11) & 0xF);
	unsigned qd = acm_get_u16(msg + 4), an = acm_get_u16(msg + 6);
	unsigned ns = acm_get_u16(msg + 8), ar = acm_get_u16(msg + 10);
	size_t pos = ACM_DNS_HEADER;
	if (q->opcode != 0) {
		q->rcode = ACM_RCODE_NOTIMP;
		if (qd == 1)
			(void)parse_question(msg, len, &pos, q);
		return true;
	}
	q->rcode = ACM_RCODE_FORMERR;
	if (qd != 1 || !parse_question(msg, len, &pos, q))
		return true;
	/* A query carries nothing in answer or authority, but for IXFR's SOA
	 * (whose absence answer.c reports only to a client allowed to
	 * transfer). */
	if (an != 0 || q->qtype == ACM_RRTYPE_OPT)
		return true;
	if (ns > (q->qtype == ACM_RRTYPE_IXFR ? 1u : 0u) ||
	    (ns == 1 && !parse_ixfr_soa(msg, len, &pos, q)))
		return true;
	if (!parse_additional(msg, len, &pos, ar, q)) {
		q->edns = q->has_tsig = false;
		return true;
	}
	if (pos != len)
		return true;
	if (q->edns && q->edns_version > 0) {
		q->rcode = ACM_RCODE_BADVERS;
		return true;
	}
	q->rcode = ACM_RCODE_NOERROR;
	return true;
}
