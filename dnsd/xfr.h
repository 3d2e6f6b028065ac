/* SPDX-License-Identifier: ISC */
/*
 * Zone transfer out: the message stream of an AXFR (RFC 5936) or IXFR
 * (RFC 1995) answer, produced one message at a time so that a large zone
 * is never held in memory: the TCP handler asks for the next message when
 * its output has drained. The whole stream reads one store snapshot of its
 * own, so every message belongs to the same serial.
 */
#ifndef ACM_DNSD_XFR_H
#define ACM_DNSD_XFR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dnsd/answer.h"
#include "dnsd/query.h"
#include "lib/log.h"
#include "lib/store/store.h"
#include "lib/conf/zone.h"

typedef struct acm_xfr acm_xfr_t;

/*
 * Start the answer to q, an AXFR or IXFR for the apex that answer.c let
 * through (see acm_answer_info_t.xfr), signed when tsig->present. For
 * IXFR: a single SOA when the client is current, the journal's diffs from
 * its serial when the journal reaches back that far, else the whole zone.
 * The stream holds its own zone reference and snapshot. client names the
 * peer in the log line written when the stream ends. ACM_OK, -ENOMEM or a
 * store error.
 */
int acm_xfr_start(acm_zone_t *zone, acm_store_t *store, const acm_query_t *q,
                  const acm_tsig_ctx_t *tsig, const char *client, acm_xfr_t **out);

/*
 * Write the next message into out (cap at least 65535 bytes). Returns its
 * length, 0 once the last one was written, or a negative error after which
 * the connection must be closed (the client then sees a broken transfer,
 * never a wrong one).
 */
int acm_xfr_next(acm_xfr_t *x, uint8_t *out, size_t cap);

/* Free the stream (logging it as cut short if it did not finish). */
void acm_xfr_free(acm_xfr_t *x);

/* What one transfer served, for its log line (docs/operations.md, "Logs"). */
typedef struct {
	const char *client;
	const uint8_t *key;          /* the wire name of the key it was signed with; NULL: none */
	const char *type;            /* ACM_XFR_AXFR ... */
	bool ixfr;                   /* the client asked IXFR, from from_serial */
	uint32_t from_serial, serial;
	uint64_t records, bytes;
	unsigned messages;
	uint64_t ns;                 /* from the question to the last message */
	bool tcp;
	acm_log_limit_t *limit;      /* NULL: every transfer is logged */
} acm_xfr_report_t;

#define ACM_XFR_AXFR "AXFR"
#define ACM_XFR_IXFR "IXFR"
#define ACM_XFR_IXFR_AXFR "IXFR-AXFR"          /* IXFR answered with the whole zone */
#define ACM_XFR_IXFR_CURRENT "IXFR-UPTODATE"   /* the client had the serial: one SOA */

/* The transfer's line: info "transfer" when it ended well, else warning
 * "transfer failed" with error (a message, or "cut short"). */
void acm_xfr_log(const acm_xfr_report_t *r, const char *error);

#endif
