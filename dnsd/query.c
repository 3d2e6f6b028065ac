/* SPDX-License-Identifier: ISC */
/*
 * Query parsing. The order of checks decides which error a broken message
 * earns: header first (drop), then opcode (NOTIMP), then counts and the
 * question (FORMERR), then the additional section and trailing bytes.
 */
#include <string.h>

#include "dnsd/query.h"
#include "lib/dns/rr.h"

static bool parse_question(acm_wire_t *w, acm_query_t *q)
{
	if (acm_rr_read_question_lower(w, q->qname, q->lname, &q->qname_len, &q->qtype,
	                               &q->qclass) != ACM_OK) {
		q->qname_len = 0;
		q->qtype = q->qclass = 0;
		return false;
	}
	q->has_question = true;
	return true;
}

/* OPT rdata is a list of {code, length, data}; the lengths must add up. */
static bool options_ok(const uint8_t *p, size_t len)
{
	acm_wire_t w = acm_wire_reader(p, len);
	while (acm_wire_left(&w) > 0) {
		uint16_t olen;
		acm_wire_skip(&w, 2);
		(void)acm_wire_read_data16(&w, &olen);
	}
	return !w.err;
}

/* Walk the additional section. Only OPT is read, and where a TSIG sits
 * (RFC 8945 5.1: last, or the message is malformed); other records are
 * skipped whole (they must still be well-formed). */
static bool parse_additional(acm_wire_t *w, unsigned count, acm_query_t *q)
{
	for (unsigned i = 0; i < count; i++) {
		acm_rr_t rr;
		if (acm_rr_read(w, &rr) != ACM_OK)
			return false;
		if (rr.type == ACM_RRTYPE_OPT) {
			/* RFC 6891 6.1.1: one OPT, owned by the root. */
			if (q->edns || rr.owner_len != 1 || !options_ok(rr.rdata, rr.rdlen))
				return false;
			q->edns = true;
			q->edns_size = rr.rclass;   /* 6.1.2: the class is the payload size */
			q->edns_version = (uint8_t)(rr.ttl >> 16);
			q->edns_do = (rr.ttl & ACM_EDNS_DO) != 0;
		} else if (rr.type == ACM_RRTYPE_TSIG) {
			if (i + 1 != count)
				return false;
			q->has_tsig = true;
			q->tsig_offset = rr.start;
		}
	}
	return true;
}

/* RFC 1995 3: an IXFR carries the client's SOA, owned by the zone, in the
 * authority section; only its serial matters to us. */
static bool parse_ixfr_soa(acm_wire_t *w, acm_query_t *q)
{
	acm_rr_t rr;
	size_t tail;
	uint32_t serial;
	if (acm_rr_read(w, &rr) != ACM_OK)
		return false;
	acm_dname_lower(rr.owner);
	if (rr.type != ACM_RRTYPE_SOA || rr.owner_len != q->qname_len ||
	    memcmp(rr.owner, q->lname, rr.owner_len) != 0 ||
	    acm_rr_soa_serial(q->msg, &rr, &serial, &tail) != ACM_OK || tail != ACM_SOA_FIELDS)
		return false;
	q->ixfr_serial = serial;
	q->has_ixfr_serial = true;
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
	acm_dns_header_t h = acm_dns_header_get(msg);
	unsigned qd = h.qd, an = h.an, ns = h.ns, ar = h.ar;
	q->id = h.id;
	q->flags = h.flags;
	if (q->flags & ACM_FLAG_QR)
		return false;
	q->opcode = (uint8_t)ACM_DNS_OPCODE(q->flags);
	acm_wire_t w = acm_wire_reader(msg, len);
	w.pos = ACM_DNS_HEADER;
	if (q->opcode != ACM_OPCODE_QUERY) {
		q->rcode = ACM_RCODE_NOTIMP;
		if (qd == 1)
			(void)parse_question(&w, q);
		return true;
	}
	q->rcode = ACM_RCODE_FORMERR;
	if (qd != 1 || !parse_question(&w, q))
		return true;
	/* A query carries nothing in answer or authority, but for IXFR's SOA
	 * (whose absence answer.c reports only to a client allowed to
	 * transfer). */
	if (an != 0 || q->qtype == ACM_RRTYPE_OPT)
		return true;
	if (ns > (q->qtype == ACM_RRTYPE_IXFR ? 1u : 0u) || (ns == 1 && !parse_ixfr_soa(&w, q)))
		return true;
	if (!parse_additional(&w, ar, q)) {
		q->edns = q->has_tsig = false;
		return true;
	}
	if (w.pos != len)
		return true;
	if (q->edns && q->edns_version > 0) {
		q->rcode = ACM_RCODE_BADVERS;
		return true;
	}
	q->rcode = ACM_RCODE_NOERROR;
	return true;
}
