/* SPDX-License-Identifier: ISC */
/*
 * The small DNS client side of zone propagation: building an SOA query or
 * a NOTIFY (RFC 1996) for the zone apex, reading the reply (its serial and
 * where a TSIG would sit), and a blocking "ask this server for its serial"
 * for acmensctl. The notifier uses the builders and the parser on its own
 * non-blocking sockets. No logging.
 */
#ifndef ACM_SOA_PROBE_H
#define ACM_SOA_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "lib/dns/dname.h"
#include "lib/dns/consts.h"

#define ACM_SOA_MSG_MAX (ACM_DNS_HEADER + ACM_DNAME_MAX + 4)   /* header, apex, type and class */

/*
 * A message asking about the apex's SOA: an ordinary query (opcode QUERY,
 * RD clear) or a NOTIFY (opcode NOTIFY, AA set). Writes it to buf (cap at
 * least ACM_SOA_MSG_MAX) and returns its length, or ACM_ESPACE.
 */
int acm_soa_message(uint8_t *buf, size_t cap, uint16_t id, int opcode, const uint8_t *apex);

typedef struct {
	uint16_t id;
	int opcode;
	int rcode;                  /* the header's four bits */
	bool has_serial;            /* the answer holds the apex SOA */
	uint32_t serial;
	bool has_additional;        /* the additional section is not empty */
	size_t last_rr_offset;      /* where its last record starts (a TSIG's place) */
} acm_soa_reply_t;

/*
 * Read a response (QR set) to one of those messages, checking every
 * section's bounds. ACM_OK and *out filled, or ACM_EMALF (also for a
 * query, QR clear).
 */
int acm_soa_reply_parse(const uint8_t *msg, size_t len, const uint8_t *apex,
                        acm_soa_reply_t *out);

/*
 * Ask the server at sa for the apex SOA over UDP and wait up to timeout_ms
 * for the answer. ACM_OK and *serial; ACM_ENOTFOUND if it answered without
 * the SOA (not authoritative, or an error rcode: *rcode says which, may be
 * NULL); -ETIMEDOUT; or -errno from the socket.
 */
int acm_soa_probe(const struct sockaddr *sa, socklen_t salen, const uint8_t *apex,
                  unsigned timeout_ms, uint32_t *serial, int *rcode);

#endif
