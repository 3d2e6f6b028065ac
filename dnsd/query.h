/* SPDX-License-Identifier: ISC */
/*
 * Parsing one DNS query message: header, the single question, the client's
 * SOA of an IXFR, and the additional section (EDNS OPT, TSIG). Bounded at
 * every byte; allocates nothing.
 */
#ifndef ACM_DNSD_QUERY_H
#define ACM_DNSD_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/dns/dname.h"
#include "lib/dns/consts.h"

typedef struct {
	uint16_t id;
	uint16_t flags;                 /* the query's flags word as received */
	uint8_t opcode;
	bool has_question;              /* the question parsed and can be echoed */
	uint8_t qname[ACM_DNAME_MAX];   /* as asked: case preserved, uncompressed */
	uint8_t lname[ACM_DNAME_MAX];   /* lower case, for lookups */
	size_t qname_len;
	uint16_t qtype;
	uint16_t qclass;
	bool edns;                      /* a valid OPT was present */
	uint16_t edns_size;             /* requestor's UDP payload size */
	uint8_t edns_version;
	bool edns_do;
	int rcode;                      /* what the parse concluded (enum acm_rcode) */
	const uint8_t *msg;             /* the message parsed, for TSIG */
	size_t msg_len;
	bool has_tsig;                  /* the last additional record is a TSIG */
	size_t tsig_offset;             /* where that record starts */
	bool has_ixfr_serial;           /* IXFR: the client's SOA in authority */
	uint32_t ixfr_serial;
} acm_query_t;

/*
 * Parse msg[0..len). Returns true when a response is due (q->rcode says
 * whether the query is acceptable: NOERROR, or FORMERR/NOTIMP/BADVERS with
 * as much of q filled as could be read), false when the message must be
 * dropped silently: shorter than a header, or a response (QR=1).
 */
bool acm_query_parse(const uint8_t *msg, size_t len, acm_query_t *q);

#endif
