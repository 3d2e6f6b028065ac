/* SPDX-License-Identifier: ISC */
/*
 * Reading resource records (and writing message headers) on the wire, through the sticky-error cursor
 * of lib/dns/wire.h: the owner (compression followed, pointers strictly
 * backwards), type, class, TTL and the rdata's bounds, checked against the
 * end of the message. Every parser of network input (queries, UPDATE,
 * SOA replies) and of the journal's stored records reads RRs here. No
 * allocation; the rdata is a pointer into the message.
 */
#ifndef ACM_DNS_RR_H
#define ACM_DNS_RR_H

#include <stddef.h>
#include <stdint.h>

#include "lib/dns/dname.h"
#include "lib/dns/consts.h"
#include "lib/dns/wire.h"

typedef struct {
	size_t start;                   /* where the RR begins in the message */
	uint8_t owner[ACM_DNAME_MAX];   /* uncompressed, in the case received */
	size_t owner_len;
	uint16_t type;
	uint16_t rclass;
	uint32_t ttl;
	uint16_t rdlen;
	size_t rdata_off;               /* where the rdata begins in the message */
	const uint8_t *rdata;
} acm_rr_t;

/* A message header's fields. */
typedef struct {
	uint16_t id, flags;
	uint16_t qd, an, ns, ar;   /* the four section counts */
} acm_dns_header_t;

/* Read the header at h (ACM_DNS_HEADER bytes, which the caller checked). */
static inline acm_dns_header_t acm_dns_header_get(const uint8_t *h)
{
	acm_dns_header_t x = {
		acm_get_u16(h + ACM_DNS_ID_OFF),      acm_get_u16(h + ACM_DNS_FLAGS_OFF),
		acm_get_u16(h + ACM_DNS_QDCOUNT_OFF), acm_get_u16(h + ACM_DNS_ANCOUNT_OFF),
		acm_get_u16(h + ACM_DNS_NSCOUNT_OFF), acm_get_u16(h + ACM_DNS_ARCOUNT_OFF),
	};
	return x;
}

/* Write a message header at h (ACM_DNS_HEADER bytes). */
static inline void acm_dns_header_put(uint8_t *h, uint16_t id, uint16_t flags, uint16_t qd,
                                      uint16_t an, uint16_t ns, uint16_t ar)
{
	acm_put_u16(h + ACM_DNS_ID_OFF, id);
	acm_put_u16(h + ACM_DNS_FLAGS_OFF, flags);
	acm_put_u16(h + ACM_DNS_QDCOUNT_OFF, qd);
	acm_put_u16(h + ACM_DNS_ANCOUNT_OFF, an);
	acm_put_u16(h + ACM_DNS_NSCOUNT_OFF, ns);
	acm_put_u16(h + ACM_DNS_ARCOUNT_OFF, ar);
}

/* A cursor for reading msg[0..len). Reads never write through it. */
static inline acm_wire_t acm_wire_reader(const uint8_t *msg, size_t len)
{
	return acm_wire_init((uint8_t *)msg, len);
}

/*
 * Read a possibly compressed name at the cursor into out (ACM_DNAME_MAX
 * bytes, uncompressed). Returns its wire length, or 0 with the cursor's
 * error set to ACM_EMALF (or already set).
 */
size_t acm_wire_read_dname(acm_wire_t *w, uint8_t *out);

/*
 * Read a 16-bit length and that many bytes at the cursor. Returns a
 * pointer to the bytes with *len set, or NULL with the cursor's error set
 * (ACM_EMALF) when they do not fit.
 */
const uint8_t *acm_wire_read_data16(acm_wire_t *w, uint16_t *len);

/*
 * Read a question entry (name, type, class) at the cursor. Returns ACM_OK,
 * or ACM_EMALF with the cursor's error set.
 */
int acm_rr_read_question(acm_wire_t *w, uint8_t *name, size_t *name_len, uint16_t *type,
                         uint16_t *rclass);
/* The same, and the name lower-cased into lower in the same pass. */
int acm_rr_read_question_lower(acm_wire_t *w, uint8_t *name, uint8_t *lower, size_t *name_len,
                               uint16_t *type, uint16_t *rclass);

/*
 * Read one RR at the cursor into rr and move past its rdata. Returns
 * ACM_OK, or ACM_EMALF with the cursor's error set (a bad owner, the fixed
 * fields or the rdata running past the end).
 */
int acm_rr_read(acm_wire_t *w, acm_rr_t *rr);

/*
 * The serial of an SOA RR read from msg: its rdata is two names (each may
 * point backwards into msg) and then the five 32-bit fields. ACM_OK with
 * *serial, and *tail the bytes after the names (20 in a well-formed SOA),
 * or ACM_EMALF when the names or the fields do not fit the rdata.
 */
int acm_rr_soa_serial(const uint8_t *msg, const acm_rr_t *rr, uint32_t *serial, size_t *tail);

#endif
