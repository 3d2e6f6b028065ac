/* SPDX-License-Identifier: ISC */
/*
 * The transfer stream. A cursor walks the parts of the answer in order:
 * SOA; then either the static RRs and every stored TXT value (AXFR, and
 * IXFR without usable journal) or, per journal diff, old SOA, deletions,
 * new SOA, additions (IXFR, RFC 1995 4); then the SOA again. Each call
 * fills one message up to MSG_SOFT bytes and leaves the cursor where the
 * next one begins.
 *
 * Stored values go out whether or not they have expired: a serial must
 * stand for one content, or a secondary applying a later journal diff that
 * deletes such a value would find it missing. Group commit's periodic
 * purge journals expiries like any change, so secondaries drop them with
 * the next serial.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dnsd/xfr.h"
#include "lib/clock.h"
#include "lib/dns/rr.h"
#include "lib/error.h"
#include "lib/log.h"
#include "lib/dns/serial.h"
#include "lib/dns/wire.h"

#define MSG_SOFT (16 * 1024)    /* start a new message past this many bytes */
#define TSIG_ROOM 512           /* what a TSIG RR can take at the end */
#define DIFF_HDR 16             /* serial_from, serial_to, time */
#define DIFF_DEL 0
#define DIFF_ADD 1

enum phase { PH_SOA_FIRST, PH_STATIC, PH_TXT, PH_DIFFS, PH_SOA_LAST, PH_DONE };
/* The four parts of one diff in an IXFR. */
enum part { PART_OLD_SOA, PART_DELS, PART_NEW_SOA, PART_ADDS };

struct acm_xfr {
	acm_zone_t *zone;
	acm_reader_t *reader;
	const acm_rrset_t *soa;
	uint32_t serial;             /* the snapshot's */
	bool incremental;            /* diffs, not the whole zone */
	bool ixfr;                   /* what was asked */
	uint32_t client_serial;
	/* the question, echoed in every message */
	uint16_t id, flags;
	uint8_t qname[ACM_DNAME_MAX];
	size_t qname_len, apex_len;
	uint16_t qtype;
	bool edns;
	acm_tsig_ctx_t tsig;
	bool signed_one;             /* a message was signed: chain from its MAC */
	/* the cursor */
	enum phase phase;
	size_t node, set, rr, rr_off;              /* PH_STATIC */
	uint8_t owner[ACM_DNAME_MAX];              /* PH_TXT: resume at owner... */
	size_t owner_len;
	unsigned entry;                            /* ...and its entry */
	uint64_t seq;                              /* PH_DIFFS: this diff... */
	enum part part;                            /* ...this part of it... */
	size_t diff_off;                           /* ...from this byte */
	/* for the log */
	uint64_t records, bytes;
	uint64_t start_ns;
	unsigned messages;
	int err;
	char client[64];
};

/* One message being filled. */
typedef struct {
	acm_wire_t w;
	size_t soft;
	uint16_t an;
	bool full;
} msg_t;

/* ---- writing records ------------------------------------------------------ */

/* Room for one more RR of n bytes? The first RR of a message always gets
 * in if it fits at all, so a message is never empty. */
static bool room(msg_t *m, size_t n)
{
	if (m->an > 0 && m->w.pos + n > m->soft) {
		m->full = true;
		return false;
	}
	if (m->w.size - m->w.pos < n) {
		m->full = true;
		if (m->an == 0)
			m->w.err = ACM_ESPACE;
		return false;
	}
	return true;
}

/* The owner: a pointer to the question (the apex) after the labels that
 * stand above it. */
static void write_owner(acm_wire_t *w, const uint8_t *owner, size_t len, size_t apex_len)
{
	acm_wire_write(w, owner, len - apex_len);
	acm_wire_write_u16(w, ACM_DNS_QNAME_PTR);
}

/* body: type, class, TTL, rdlength and rdata as rendered. */
static bool put_rr(acm_xfr_t *x, msg_t *m, const uint8_t *owner, size_t olen,
                   const uint8_t *body, size_t blen)
{
	if (!room(m, olen - x->apex_len + 2 + blen))
		return false;
	write_owner(&m->w, owner, olen, x->apex_len);
	acm_wire_write(&m->w, body, blen);
	m->an++;
	x->records++;
	return true;
}

static bool put_soa(acm_xfr_t *x, msg_t *m, uint32_t serial)
{
	size_t at = m->w.pos;
	if (!room(m, x->soa->wire_len))
		return false;
	acm_wire_write(&m->w, x->soa->wire, x->soa->wire_len);   /* owned by the question */
	acm_put_u32(m->w.base + at + (size_t)x->soa->serial_off, serial);
	m->an++;
	x->records++;
	return true;
}

static bool put_txt(acm_xfr_t *x, msg_t *m, const uint8_t *owner, size_t olen,
                    const uint8_t *rdata, uint16_t rdlen)
{
	uint8_t body[ACM_RR_FIXED];
	acm_put_u16(body, ACM_RRTYPE_TXT);
	acm_put_u16(body + 2, ACM_CLASS_IN);
	acm_put_u32(body + 4, acm_zone_txt_ttl(x->zone));
	acm_put_u16(body + 8, rdlen);
	if (!room(m, olen - x->apex_len + 2 + ACM_RR_FIXED + rdlen))
		return false;
	write_owner(&m->w, owner, olen, x->apex_len);
	acm_wire_write(&m->w, body, ACM_RR_FIXED);
	acm_wire_write(&m->w, rdata, rdlen);
	m->an++;
	x->records++;
	return true;
}

/* ---- the parts of the stream ---------------------------------------------- */

/* Static RRs but the SOA, which opens and closes the stream. */
static void fill_static(acm_xfr_t *x, msg_t *m)
{
	const acm_node_t *node;
	while ((node = acm_zone_node_at(x->zone, x->node))) {
		for (; x->set < node->rrset_count; x->set++, x->rr = x->rr_off = 0) {
			const acm_rrset_t *set = &node->rrsets[x->set];
			if (set->type == ACM_RRTYPE_SOA)
				continue;
			while (x->rr < set->count) {
				const uint8_t *rr = set->wire + x->rr_off + 2;   /* past the owner pointer */
				size_t blen = ACM_RR_FIXED + acm_get_u16(rr + 8);
				if (!put_rr(x, m, node->owner, node->owner_len, rr, blen))
					return;
				x->rr++;
				x->rr_off += 2 + blen;
			}
		}
		x->node++;
		x->set = 0;
	}
	x->phase = PH_TXT;
}

typedef struct {
	acm_xfr_t *x;
	msg_t *m;
} walk_t;

static int txt_visit(const uint8_t *owner, const uint8_t *rec, size_t len, void *arg)
{
	walk_t *wk = arg;
	acm_xfr_t *x = wk->x;
	size_t olen = acm_dname_len(owner);
	acm_rr_iter_t it;
	acm_rr_entry_t e;
	if (olen != x->owner_len || memcmp(owner, x->owner, olen) != 0) {
		memcpy(x->owner, owner, olen);
		x->owner_len = olen;
		x->entry = 0;
	}
	int rc = acm_rr_iter_init(&it, rec, len);
	for (unsigned i = 0; rc == ACM_OK && (rc = acm_rr_iter_next(&it, &e)) == 1; i++) {
		rc = ACM_OK;
		if (i < x->entry)
			continue;
		if (!put_txt(x, wk->m, owner, olen, e.rdata, e.rdlen))
			return 1;
		x->entry = i + 1;
	}
	return rc;
}

static int fill_txt(acm_xfr_t *x, msg_t *m)
{
	walk_t wk = { x, m };
	int rc = acm_reader_rrsets_from(x->reader, x->owner, x->owner_len, txt_visit, &wk);
	if (rc == ACM_OK)
		x->phase = PH_SOA_LAST;
	return rc < 0 ? rc : ACM_OK;
}

/* The entries of op from x->diff_off on; false when the message filled. */
static int diff_entries(acm_xfr_t *x, msg_t *m, const uint8_t *rec, size_t len, uint8_t op)
{
	acm_wire_t r = acm_wire_reader(rec, len);
	r.pos = x->diff_off;
	while (r.pos < len) {
		uint8_t owner[ACM_DNAME_MAX];
		uint16_t rdlen;
		uint8_t entry_op = acm_wire_read_u8(&r);
		size_t olen = acm_wire_read_dname(&r, owner);
		const uint8_t *rdata = acm_wire_read_data16(&r, &rdlen);
		if (r.err)
			return ACM_ECORRUPT;
		if (entry_op == op && !put_txt(x, m, owner, olen, rdata, rdlen))
			return 1;
		x->diff_off = r.pos;
	}
	return ACM_OK;
}

/* One diff, from its current part on. Returns 0 when done with it, 1 when
 * the message filled, or an error. */
static int fill_diff(acm_xfr_t *x, msg_t *m, const uint8_t *rec, size_t len)
{
	int rc;
	if (len < DIFF_HDR)
		return ACM_ECORRUPT;
	switch (x->part) {
	case PART_OLD_SOA:
		if (!put_soa(x, m, acm_get_u32(rec)))
			return 1;
		x->part = PART_DELS;
		x->diff_off = DIFF_HDR;
		/* fall through */
	case PART_DELS:
		if ((rc = diff_entries(x, m, rec, len, DIFF_DEL)) != ACM_OK)
			return rc;
		x->part = PART_NEW_SOA;
		/* fall through */
	case PART_NEW_SOA:
		if (!put_soa(x, m, acm_get_u32(rec + 4)))
			return 1;
		x->part = PART_ADDS;
		x->diff_off = DIFF_HDR;
		/* fall through */
	case PART_ADDS:
		if ((rc = diff_entries(x, m, rec, len, DIFF_ADD)) != ACM_OK)
			return rc;
	}
	return ACM_OK;
}

static int diff_visit(uint64_t seq, const uint8_t *rec, size_t len, void *arg)
{
	walk_t *wk = arg;
	acm_xfr_t *x = wk->x;
	if (seq != x->seq) {
		x->seq = seq;
		x->part = PART_OLD_SOA;
	}
	int rc = fill_diff(x, wk->m, rec, len);
	if (rc == ACM_OK) {
		x->seq = seq + 1;
		x->part = PART_OLD_SOA;
	}
	return rc;
}

static int fill_diffs(acm_xfr_t *x, msg_t *m)
{
	walk_t wk = { x, m };
	int rc = acm_reader_diffs_from(x->reader, x->seq, diff_visit, &wk);
	if (rc == ACM_OK)
		x->phase = PH_SOA_LAST;
	return rc < 0 ? rc : ACM_OK;
}

static int fill(acm_xfr_t *x, msg_t *m)
{
	int rc = ACM_OK;
	while (rc == ACM_OK && !m->full && x->phase != PH_DONE) {
		switch (x->phase) {
		case PH_SOA_FIRST:
			if (put_soa(x, m, x->serial))
				x->phase = x->incremental ? PH_DIFFS
				         : x->ixfr && acm_serial_ge(x->client_serial, x->serial)
				                 ? PH_DONE : PH_STATIC;
			break;
		case PH_STATIC: fill_static(x, m); break;
		case PH_TXT: rc = fill_txt(x, m); break;
		case PH_DIFFS: rc = fill_diffs(x, m); break;
		case PH_SOA_LAST:
			if (put_soa(x, m, x->serial))
				x->phase = PH_DONE;
			break;
		case PH_DONE: break;
		}
	}
	return rc != ACM_OK ? rc : m->w.err;
}

/* ---- messages ------------------------------------------------------------- */

static void write_question(acm_xfr_t *x, acm_wire_t *w)
{
	w->pos = ACM_DNS_HEADER;
	acm_wire_write(w, x->qname, x->qname_len);
	acm_wire_write_u16(w, x->qtype);
	acm_wire_write_u16(w, ACM_CLASS_IN);
}

static void write_header(acm_xfr_t *x, uint8_t *out, uint16_t an, uint16_t ar)
{
	acm_dns_header_put(out, x->id,
	                   (uint16_t)(ACM_FLAG_QR | ACM_FLAG_AA | (x->flags & ACM_FLAG_RD)), 1, an,
	                   0, ar);
}

static int sign(acm_xfr_t *x, uint8_t *out, size_t len, size_t cap)
{
	uint8_t mac[ACM_TSIG_MAC_MAX];
	size_t mac_len = 0;
	int n = acm_tsig_sign(out, len, cap, &x->tsig.key, x->tsig.mac, x->tsig.mac_len,
	                      x->signed_one, (uint64_t)time(NULL), x->id, ACM_TSIG_OK, mac,
	                      &mac_len);
	if (n < 0)
		return n;
	memcpy(x->tsig.mac, mac, mac_len);
	x->tsig.mac_len = mac_len;
	x->signed_one = true;
	return n;
}

void acm_xfr_log(const acm_xfr_report_t *r, const char *error)
{
	char key[ACM_DNAME_TXT_MAX] = "none", from[16] = "-";
	if (r->key && acm_dname_to_text(r->key, key) < 0)
		snprintf(key, sizeof(key), "?");
	if (r->ixfr)
		snprintf(from, sizeof(from), "%u", r->from_serial);
	const acm_kv_t kv[] = {
		ACM_KS("client", r->client), ACM_KS("key", key), ACM_KS("type", r->type),
		ACM_KS("from_serial", from), ACM_KU("serial", r->serial),
		ACM_KU("messages", r->messages), ACM_KU("records", r->records),
		ACM_KU("bytes", r->bytes), ACM_KF("ms", (double)r->ns / 1e6),
		ACM_KS("transport", r->tcp ? "tcp" : "udp"), ACM_KS("error", error),
	};
	size_t n = sizeof(kv) / sizeof(kv[0]);
	if (error)
		acm_log_fields(ACM_LOG_WARNING, "transfer failed", kv, n);
	else if (r->limit)
		acm_log_limited_fields(r->limit, ACM_LOG_INFO, "transfer", kv, n - 1);
	else
		acm_log_fields(ACM_LOG_INFO, "transfer", kv, n - 1);
}

static void log_end(acm_xfr_t *x, const char *error)
{
	/* type: what went out; an IXFR answered with the whole zone says so */
	bool current = x->ixfr && acm_serial_ge(x->client_serial, x->serial);
	const acm_xfr_report_t r = {
		.client = x->client,
		.key = x->tsig.present ? x->tsig.key.name : NULL,
		.type = !x->ixfr ? ACM_XFR_AXFR : current ? ACM_XFR_IXFR_CURRENT
		        : x->incremental ? ACM_XFR_IXFR : ACM_XFR_IXFR_AXFR,
		.ixfr = x->ixfr,
		.from_serial = x->client_serial,
		.serial = x->serial,
		.records = x->records,
		.bytes = x->bytes,
		.messages = x->messages,
		.ns = acm_mono_ns() - x->start_ns,
		.tcp = true,
	};
	acm_xfr_log(&r, error);
}

int acm_xfr_next(acm_xfr_t *x, uint8_t *out, size_t cap)
{
	if (x->err)
		return x->err;
	if (x->phase == PH_DONE)
		return 0;
	size_t reserve = (x->tsig.present ? TSIG_ROOM : 0) + (x->edns ? ACM_EDNS_OPT_LEN : 0);
	if (cap > 65535)
		cap = 65535;
	msg_t m = { acm_wire_init(out, cap - reserve), MSG_SOFT, 0, false };
	write_question(x, &m.w);
	int rc = fill(x, &m);
	if (rc == ACM_OK && m.an == 0)
		rc = ACM_ECORRUPT;      /* no progress: would loop forever */
	if (rc != ACM_OK) {
		x->err = rc;
		log_end(x, acm_strerror(rc));
		return rc;
	}
	uint16_t ar = 0;
	m.w.size = cap;
	if (x->edns) {
		acm_wire_write_u8(&m.w, 0);
		acm_wire_write_u16(&m.w, ACM_RRTYPE_OPT);
		acm_wire_write_u16(&m.w, 65535);   /* TCP: size is moot */
		acm_wire_write_u32(&m.w, 0);
		acm_wire_write_u16(&m.w, 0);
		ar++;
	}
	write_header(x, out, m.an, ar);
	int n = (int)m.w.pos;
	if (x->tsig.present && (n = sign(x, out, m.w.pos, cap)) < 0) {
		x->err = n;
		log_end(x, "cannot sign");
		return n;
	}
	x->messages++;
	x->bytes += (uint64_t)n;
	if (x->phase == PH_DONE)
		log_end(x, NULL);
	return n;
}

/* ---- the start ------------------------------------------------------------ */

typedef struct {
	uint32_t want;           /* the client's serial */
	uint32_t last_to;
	bool found, chained;
	uint64_t start_seq;
} find_t;

/* Find the diff starting at the client's serial and check that the ones
 * after it chain up without a gap. */
static int find_visit(uint64_t seq, const uint8_t *rec, size_t len, void *arg)
{
	find_t *f = arg;
	if (len < DIFF_HDR)
		return ACM_ECORRUPT;
	uint32_t from = acm_get_u32(rec), to = acm_get_u32(rec + 4);
	if (!f->found && from == f->want) {
		f->found = f->chained = true;
		f->start_seq = seq;
	} else if (f->found && from != f->last_to) {
		f->chained = false;
	}
	f->last_to = to;
	return ACM_OK;
}

/* Whether the journal holds every diff from the client's serial to ours. */
static int plan_ixfr(acm_xfr_t *x)
{
	if (acm_serial_ge(x->client_serial, x->serial))
		return ACM_OK;          /* current: one SOA */
	find_t f = { .want = x->client_serial };
	int rc = acm_reader_diffs_from(x->reader, 0, find_visit, &f);
	if (rc != ACM_OK)
		return rc;
	if (f.found && f.chained && f.last_to == x->serial) {
		x->incremental = true;
		x->seq = f.start_seq;
	}
	return ACM_OK;
}

static void copy_query(acm_xfr_t *x, const acm_query_t *q)
{
	x->id = q->id;
	x->flags = q->flags;
	memcpy(x->qname, q->qname, q->qname_len);
	x->qname_len = q->qname_len;
	x->qtype = q->qtype;
	x->edns = q->edns;
	x->ixfr = q->qtype == ACM_RRTYPE_IXFR;
	x->client_serial = q->ixfr_serial;
}

int acm_xfr_start(acm_zone_t *zone, acm_store_t *store, const acm_query_t *q,
                  const acm_tsig_ctx_t *tsig, const char *client, acm_xfr_t **out)
{
	acm_xfr_t *x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	x->start_ns = acm_mono_ns();
	acm_zone_ref(zone);
	x->zone = zone;
	const uint8_t *apex_name = acm_zone_apex(zone, &x->apex_len);
	const acm_node_t *apex = acm_zone_find(zone, apex_name, x->apex_len);
	x->soa = apex ? acm_node_rrset(apex, ACM_RRTYPE_SOA) : NULL;
	copy_query(x, q);
	if (tsig && tsig->present)
		x->tsig = *tsig;
	snprintf(x->client, sizeof(x->client), "%s", client);
	int rc = x->soa ? acm_reader_open(store, &x->reader) : ACM_ECORRUPT;
	if (rc == ACM_OK)
		rc = acm_reader_begin(x->reader, &x->serial);
	if (rc == ACM_OK && x->ixfr)
		rc = plan_ixfr(x);
	if (rc != ACM_OK) {
		acm_xfr_free(x);
		return rc;
	}
	*out = x;
	return ACM_OK;
}

void acm_xfr_free(acm_xfr_t *x)
{
	if (!x)
		return;
	if (x->phase != PH_DONE && !x->err)
		log_end(x, "cut short");   /* the client went away, or we stopped */
	if (x->reader) {
		acm_reader_end(x->reader);
		acm_reader_close(x->reader);
	}
	acm_zone_unref(x->zone);
	free(x);
}
