/* SPDX-License-Identifier: ISC */
/*
 * The answer builder. Static RRsets are copied pre-rendered from the zone;
 * TXT values are copied from the store record; the negative-answer SOA is a
 * pointer to the apex inside the question plus a pre-rendered tail. An
 * in-zone CNAME is followed (RFC 1034 4.3.2 step 3a), the RRs found on the
 * way owned by a pointer to the name in the CNAME before them. When the
 * answer does not fit a UDP response, the sections are dropped and TC set.
 * In a signed zone a query with DO gets each RRset's RRSIG right after it
 * and compact denial for a negative answer (dnsd/sign.h).
 */
#include <string.h>

#include "dnsd/answer.h"
#include "lib/dns/zone_names.h"
#include "lib/dns/rr.h"
#include "lib/dns/serial.h"
#include "lib/store/store.h"
#include "lib/dns/wire.h"

#define CNAME_LINKS 8      /* CNAMEs followed after the first, at most */
#define DENIAL_TYPES 32    /* types an NSEC lists, at most (a node has few) */
/* A TSIG RR: owner, fixed part, then algorithm (at most "hmac-sha512."),
 * times, MAC, IDs, error and BADTIME's other data. */
#define TSIG_RR_MAX(name_len) ((name_len) + 10 + 13 + 10 + ACM_TSIG_MAC_MAX + 6 + 6)

typedef struct {
	acm_wire_t w;
	size_t question_end;
	uint16_t an, ns, ar;
	int rcode;
	bool aa;
	bool tc;
	bool xfr;                 /* an allowed transfer: the caller streams it */
	bool xfr_refused;
	uint16_t txt_count;       /* TXT values written, the first few's offsets */
	size_t txt_at[ACM_ANSWER_TXT_KEEP];
	uint16_t txt_len[ACM_ANSWER_TXT_KEEP];
	bool sign;                /* DO in a signed zone: RRSIGs and NSEC */
	acm_signer_t signer;
} reply_t;

/* What a negative answer denies, for its NSEC: the name (as the pointer
 * the answer owns it by, and lower case) and the types it has. */
typedef struct {
	uint16_t owner;
	const uint8_t *name;
	size_t len;
	uint16_t types[DENIAL_TYPES];
	size_t ntypes;
} denial_t;

static void write_question(reply_t *r, const acm_query_t *q)
{
	acm_wire_write(&r->w, q->qname, q->qname_len);
	acm_wire_write_u16(&r->w, q->qtype);
	acm_wire_write_u16(&r->w, q->qclass);
}

/* Copy a pre-rendered RRset; patch the SOA serial if it has one, and the
 * owner of each RR if it is not the question name. */
static void write_rrset(reply_t *r, const acm_rrset_t *set, uint32_t serial, uint16_t owner)
{
	size_t at = r->w.pos;
	acm_wire_write(&r->w, set->wire, set->wire_len);
	if (r->w.err)
		return;
	if (set->serial_off >= 0)
		acm_put_u32(r->w.base + at + (size_t)set->serial_off, serial);
	for (size_t rr = at, i = 0; owner != ACM_DNS_QNAME_PTR && i < set->count; i++) {
		acm_put_u16(r->w.base + rr, owner);
		rr += ACM_RR_PTR_HEAD + acm_get_u16(r->w.base + rr + ACM_RR_PTR_HEAD - 2);
	}
	r->an += set->count;
	if (r->sign)
		r->an += acm_sign_rrset(&r->signer, &r->w, at, set->count);
}

/* Additional records are a courtesy: if they do not fit, leave them out. */
static void write_extra(reply_t *r, const acm_rrset_t *set)
{
	if (set->extra_count == 0 || acm_wire_left(&r->w) < set->extra_len)
		return;
	acm_wire_write(&r->w, set->extra, set->extra_len);
	r->ar += set->extra_count;
}

/* The negative answer's SOA; signed, its RRSIG and the NSEC of d. */
static void write_negative(reply_t *r, const acm_answer_env_t *env, const acm_query_t *q,
                           const denial_t *d)
{
	size_t apex_len, tail_len, serial_off;
	acm_zone_apex(env->zone, &apex_len);
	const uint8_t *tail = acm_zone_soa_tail(env->zone, &tail_len, &serial_off);
	size_t start = r->w.pos;
	/* The apex is the question name's suffix: point at it. */
	acm_wire_write_u16(&r->w, (uint16_t)(ACM_DNS_PTR | (ACM_DNS_HEADER + q->qname_len - apex_len)));
	size_t at = r->w.pos;
	acm_wire_write(&r->w, tail, tail_len);
	if (r->w.err)
		return;
	acm_put_u32(r->w.base + at + serial_off, env->serial);
	r->ns = 1;
	if (!r->sign)
		return;
	r->ns += acm_sign_rrset(&r->signer, &r->w, start, 1);
	r->ns += acm_sign_nsec(&r->signer, &r->w, d->owner, d->name, d->len, d->types, d->ntypes);
}

/* The denial of a name: NXNAME when it does not exist (RFC 9824 3.3). */
static void denial_init(denial_t *d, uint16_t owner, const uint8_t *name, size_t len)
{
	d->owner = owner;
	d->name = name;
	d->len = len;
	d->ntypes = 0;
}

/* A static node's types, for NODATA there. */
static void denial_node(denial_t *d, const acm_node_t *node, uint16_t owner)
{
	denial_init(d, owner, node->owner, node->owner_len);
	for (size_t i = 0; i < node->rrset_count && d->ntypes < DENIAL_TYPES; i++)
		d->types[d->ntypes++] = node->rrsets[i].type;
}

/* One TXT RR owned by a pointer, its room checked once for the whole RR;
 * where its rdata lies is noted, so the lookup log can copy it. */
static void write_txt_rr(reply_t *r, uint16_t owner, uint32_t ttl, const acm_rr_entry_t *e)
{
	if (acm_wire_left(&r->w) < ACM_RR_PTR_HEAD + (size_t)e->rdlen) {
		r->w.err = ACM_ESPACE;
		return;
	}
	uint8_t *p = r->w.base + r->w.pos;
	acm_put_u16(p, owner);
	acm_put_u16(p + 2, ACM_RRTYPE_TXT);
	acm_put_u16(p + 4, ACM_CLASS_IN);
	acm_put_u32(p + 6, ttl);
	acm_put_u16(p + 10, e->rdlen);
	memcpy(p + ACM_RR_PTR_HEAD, e->rdata, e->rdlen);
	r->w.pos += ACM_RR_PTR_HEAD + (size_t)e->rdlen;
	if (r->txt_count < ACM_ANSWER_TXT_KEEP) {
		r->txt_at[r->txt_count] = r->w.pos - e->rdlen;
		r->txt_len[r->txt_count] = e->rdlen;
	}
	r->txt_count++;
	r->an++;
}

/* TXT values of a store record, skipping expired ones. */
static void write_txt(reply_t *r, const acm_answer_env_t *env, const uint8_t *rec, size_t len,
                      uint16_t owner)
{
	acm_rr_iter_t it;
	acm_rr_entry_t e;
	uint32_t ttl = acm_zone_txt_ttl(env->zone);
	size_t at = r->w.pos;
	uint16_t an = r->an;
	if (acm_rr_iter_init(&it, rec, len) != ACM_OK)
		return;
	while (!r->w.err && acm_rr_iter_next(&it, &e) == 1)
		if (!acm_expired(e.expires, env->expiry_now))
			write_txt_rr(r, owner, ttl, &e);
	if (r->sign && r->an > an)
		r->an += acm_sign_rrset(&r->signer, &r->w, at, (uint16_t)(r->an - an));
}

/* Whether a store record holds a value that has not expired. */
static bool has_values(const acm_answer_env_t *env, const uint8_t *rec, size_t len)
{
	acm_rr_iter_t it;
	acm_rr_entry_t e;
	if (acm_rr_iter_init(&it, rec, len) != ACM_OK)
		return false;
	while (acm_rr_iter_next(&it, &e) == 1)
		if (!acm_expired(e.expires, env->expiry_now))
			return true;
	return false;
}

/* A store lookup failed: no answer at all, SERVFAIL. */
static void fail(reply_t *r)
{
	r->w.pos = r->question_end;
	r->an = r->ns = r->ar = 0;
	r->txt_count = 0;
	r->rcode = ACM_RCODE_SERVFAIL;
	r->aa = false;
}

/* A name in the zone without a static node: an account's TXT values, NODATA
 * for an account without them (or for other types), else NXDOMAIN. owner
 * points at the name in the message. */
static void answer_account(reply_t *r, const acm_answer_env_t *env, const acm_query_t *q,
                           const uint8_t *lname, size_t len, acm_zname_kind_t kind,
                           uint16_t owner)
{
	const uint8_t *rec;
	size_t reclen;
	int rc = acm_zname_in_store(kind) ? env->lookup(env->lookup_ctx, lname, len, &rec, &reclen)
	                                  : ACM_ENOTFOUND;
	denial_t d;
	denial_init(&d, owner, lname, len);
	if (rc == ACM_ENOTFOUND) {
		/* Compact denial answers NOERROR, the NSEC saying NXNAME. */
		r->rcode = r->sign ? ACM_RCODE_NOERROR : ACM_RCODE_NXDOMAIN;
		d.types[d.ntypes++] = ACM_RRTYPE_NXNAME;
		write_negative(r, env, q, &d);
		return;
	}
	if (rc != ACM_OK) {
		fail(r);
		return;
	}
	uint16_t an = r->an;
	if (q->qtype == ACM_RRTYPE_TXT || q->qtype == ACM_RRTYPE_ANY)
		write_txt(r, env, rec, reclen, owner);
	if (r->an != an || r->w.err)
		return;
	if (r->sign && has_values(env, rec, reclen))
		d.types[d.ntypes++] = ACM_RRTYPE_TXT;
	write_negative(r, env, q, &d);
}

/* The target of the CNAME RR written at offset at, lower-cased into name;
 * returns its length (0 if it cannot be one). */
static size_t cname_target(const reply_t *r, size_t at, uint8_t *name)
{
	size_t len = acm_get_u16(r->w.base + at + ACM_RR_PTR_HEAD - 2);
	if (len == 0 || len > ACM_DNAME_MAX)
		return 0;
	memcpy(name, r->w.base + at + ACM_RR_PTR_HEAD, len);   /* rendered uncompressed */
	acm_dname_lower(name);
	return len;
}

/* Answer from a node's RRset of the asked type (set, or NULL if it has
 * none), owned by owner; with neither that nor a CNAME, it is NODATA.
 * Returns false when only the node's CNAME can answer. */
static bool answer_set(reply_t *r, const acm_answer_env_t *env, const acm_query_t *q,
                       const acm_node_t *node, const acm_rrset_t *set, uint16_t owner)
{
	if (set) {
		write_rrset(r, set, env->serial, owner);
		if (!r->w.err)
			write_extra(r, set);
		return true;
	}
	if (!node->cname) {
		denial_t d;
		denial_node(&d, node, owner);
		write_negative(r, env, q, &d);
		return true;
	}
	return false;
}

/* Follow the CNAME RR written at offset at through the zone (RFC 1034
 * 4.3.2 step 3a): append the target's RRset of the query type, owned by a
 * pointer to the CNAME's rdata. A CNAME there is followed in turn, at most
 * CNAME_LINKS times and never into a node already visited; the chain's end
 * decides NODATA or NXDOMAIN (RFC 6604). Targets outside the zone are left
 * to the resolver. */
static void follow_cname(reply_t *r, const acm_answer_env_t *env, const acm_query_t *q,
                         const acm_node_t *node, size_t at)
{
	const acm_node_t *seen[CNAME_LINKS + 1] = { node };
	for (size_t link = 1; link <= CNAME_LINKS && !r->w.err; link++) {
		uint8_t name[ACM_DNAME_MAX];
		acm_zname_t zn;
		size_t len = cname_target(r, at, name);
		if (len == 0 || at + ACM_RR_PTR_HEAD > ACM_DNS_PTR_MAX)
			return;
		acm_zone_classify(env->zone, name, len, &zn);
		if (zn.kind == ACM_ZNAME_OUTSIDE)
			return;
		uint16_t owner = (uint16_t)(ACM_DNS_PTR | (at + ACM_RR_PTR_HEAD));
		node = zn.node;
		if (!node) {
			answer_account(r, env, q, name, len, zn.kind, owner);
			return;
		}
		if (answer_set(r, env, q, node, acm_node_rrset(node, q->qtype), owner))
			return;
		for (size_t i = 0; i < link; i++)
			if (seen[i] == node)
				return;   /* a loop: every CNAME in it is in the answer */
		seen[link] = node;
		at = r->w.pos;
		write_rrset(r, node->cname, env->serial, owner);
	}
}

static void answer_static(reply_t *r, const acm_answer_env_t *env, const acm_query_t *q,
                          const acm_node_t *node)
{
	const acm_rrset_t *set = NULL;
	if (q->qtype == ACM_RRTYPE_ANY && node->rrset_count > 0)
		set = &node->rrsets[0];   /* RFC 8482 4.1: one RRset is enough */
	else
		set = acm_node_rrset(node, q->qtype);
	if (answer_set(r, env, q, node, set, ACM_DNS_QNAME_PTR))
		return;
	size_t at = r->w.pos;
	write_rrset(r, node->cname, env->serial, ACM_DNS_QNAME_PTR);
	if (!r->w.err)
		follow_cname(r, env, q, node, at);
}

/* transfer.allow: the peer's address and the key the query verified with
 * (none when unsigned). */
static bool transfer_allowed(const acm_answer_env_t *env, const acm_query_t *q,
                             const acm_tsig_ctx_t *ts)
{
	size_t apex_len;
	const uint8_t *apex = acm_zone_apex(env->zone, &apex_len);
	if (!env->client || q->qname_len != apex_len || memcmp(q->lname, apex, apex_len) != 0)
		return false;
	return acm_zone_transfer_allowed(env->zone, env->client, ts->present ? ts->key.name : NULL,
	                                 ts->present ? ts->key.name_len : 0);
}

/*
 * AXFR and IXFR (RFC 5936, RFC 1995). Refused unless transfer.allow lets
 * the client in, before anything else, so that a stranger learns nothing.
 * Over TCP the caller streams the answer. Over UDP only "you are current"
 * fits (RFC 1995 2: one SOA); anything else gets TC, and the client asks
 * again over TCP.
 */
static void answer_transfer(reply_t *r, const acm_answer_env_t *env, const acm_query_t *q,
                            bool tcp, const acm_tsig_ctx_t *ts)
{
	if (!transfer_allowed(env, q, ts)) {
		r->rcode = ACM_RCODE_REFUSED;
		r->xfr_refused = true;
		return;
	}
	if (q->qtype == ACM_RRTYPE_IXFR && !q->has_ixfr_serial) {
		r->rcode = ACM_RCODE_FORMERR;
		return;
	}
	r->aa = true;
	if (tcp) {
		r->xfr = true;
		return;
	}
	size_t apex_len;
	const uint8_t *apex_name = acm_zone_apex(env->zone, &apex_len);
	const acm_node_t *apex = acm_zone_find(env->zone, apex_name, apex_len);
	const acm_rrset_t *soa = apex ? acm_node_rrset(apex, ACM_RRTYPE_SOA) : NULL;
	if (soa && q->qtype == ACM_RRTYPE_IXFR && acm_serial_ge(q->ixfr_serial, env->serial))
		write_rrset(r, soa, env->serial, ACM_DNS_QNAME_PTR);
	else
		r->tc = true;
}

static void answer_zone(reply_t *r, const acm_answer_env_t *env, const acm_query_t *q,
                        bool tcp, const acm_tsig_ctx_t *ts)
{
	acm_zname_t zn;
	acm_zone_classify(env->zone, q->lname, q->qname_len, &zn);
	/* The zone is class IN; QCLASS ANY asks for it too (RFC 1035 3.2.5),
	 * as NSD and Knot answer it. A transfer names the zone's own class. */
	bool xfr = q->qtype == ACM_RRTYPE_AXFR || q->qtype == ACM_RRTYPE_IXFR;
	if (zn.kind == ACM_ZNAME_OUTSIDE ||
	    (q->qclass != ACM_CLASS_IN && (xfr || q->qclass != ACM_CLASS_ANY))) {
		r->rcode = ACM_RCODE_REFUSED;
		return;
	}
	if (xfr) {
		answer_transfer(r, env, q, tcp, ts);
		return;
	}
	r->aa = true;
	if (zn.node)
		answer_static(r, env, q, zn.node);
	else
		answer_account(r, env, q, q->lname, q->qname_len, zn.kind, ACM_DNS_QNAME_PTR);
}

static size_t finish(reply_t *r, const acm_query_t *q, const acm_answer_env_t *env)
{
	if (r->w.err == ACM_ECRYPTO) {
		r->w.err = ACM_OK;   /* an RRset could not be signed (dnsd/sign.h) */
		fail(r);
	}
	if (r->w.err) {
		/* Did not fit: keep header and question, say so with TC. */
		r->w.err = ACM_OK;
		r->w.pos = r->question_end;
		r->an = r->ns = r->ar = 0;
		r->tc = true;
		r->txt_count = 0;
	}
	if (q->edns) {
		r->w.size += ACM_EDNS_OPT_LEN;   /* reserved up front */
		acm_wire_write_u8(&r->w, 0);
		acm_wire_write_u16(&r->w, ACM_RRTYPE_OPT);
		acm_wire_write_u16(&r->w, env->udp_payload);
		acm_wire_write_u8(&r->w, (uint8_t)(r->rcode >> 4));
		acm_wire_write_u8(&r->w, 0);
		acm_wire_write_u16(&r->w, q->edns_do ? ACM_EDNS_DO : 0);
		acm_wire_write_u16(&r->w, 0);
		r->ar++;
	}
	uint16_t flags = (uint16_t)(ACM_FLAG_QR |
	                            (q->flags & (ACM_OPCODE_MASK | ACM_FLAG_RD | ACM_FLAG_CD)) |
	                            (r->rcode & ACM_RCODE_MASK));
	if (r->aa)
		flags |= ACM_FLAG_AA;
	if (r->tc)
		flags |= ACM_FLAG_TC;
	acm_dns_header_put(r->w.base, q->id, flags, q->has_question ? 1 : 0, r->an, r->ns, r->ar);
	return r->w.pos;
}

static size_t response_limit(const acm_answer_env_t *env, const acm_query_t *q, bool tcp)
{
	if (tcp)
		return ACM_DNS_MSG_MAX;
	if (!q->edns || q->edns_size <= ACM_DNS_UDP_MIN)
		return ACM_DNS_UDP_MIN;
	return q->edns_size < env->udp_payload ? q->edns_size : env->udp_payload;
}

/* ---- TSIG (RFC 8945): only queries that carry one pay for it ----------- */

/* Check the query's TSIG into req and ts; returns the TSIG error, or -1
 * for a TSIG RR that does not parse. */
static int tsig_check(const acm_answer_env_t *env, const acm_query_t *q,
                      acm_tsig_request_t *req, acm_tsig_ctx_t *ts)
{
	if (acm_tsig_request_check(q->msg, q->msg_len, q->tsig_offset, env->now, env->key_lookup,
	                           env->key_ctx, req) == ACM_EMALF)
		return -1;
	ts->key = req->key;
	memcpy(ts->mac, req->mac, req->mac_len);
	ts->mac_len = req->mac_len;
	ts->present = req->error == ACM_TSIG_OK;
	ts->error = req->error;
	return req->error;
}

static void report_txt(const reply_t *r, acm_answer_info_t *info)
{
	info->txt_count = r->txt_count;
	for (size_t i = 0; i < r->txt_count && i < ACM_ANSWER_TXT_KEEP; i++) {
		info->txt[i] = r->w.base + r->txt_at[i];
		info->txt_len[i] = r->txt_len[i];
	}
}

static size_t answer_body(const acm_answer_env_t *env, const acm_query_t *q, bool tcp,
                          uint8_t *out, size_t limit, const acm_tsig_ctx_t *ts,
                          acm_answer_info_t *info)
{
	reply_t r;   /* txt_at and txt_len are read only up to txt_count */
	r.rcode = q->rcode;
	r.an = r.ns = r.ar = r.txt_count = 0;
	r.aa = r.tc = r.xfr = r.xfr_refused = false;
	r.signer.zs = q->edns_do ? acm_zone_signing(env->zone) : NULL;
	r.sign = r.signer.zs != NULL;
	if (r.sign) {
		r.signer.cache = env->sigcache;
		r.signer.apex = acm_zone_apex(env->zone, &r.signer.apex_len);
		r.signer.now = env->now;
	}
	r.w = acm_wire_init(out, limit - (q->edns ? ACM_EDNS_OPT_LEN : 0));
	r.w.pos = ACM_DNS_HEADER;   /* the header is written last, by finish() */
	if (q->has_question)
		write_question(&r, q);
	r.question_end = r.w.pos;
	if (r.rcode == ACM_RCODE_NOERROR && ts->error != ACM_TSIG_OK)
		r.rcode = ACM_RCODE_NOTAUTH;   /* the TSIG did not verify */
	else if (r.rcode == ACM_RCODE_NOERROR && r.sign && !env->sigcache)
		fail(&r);   /* no memory for the signature cache: nothing signed to give */
	else if (r.rcode == ACM_RCODE_NOERROR)
		answer_zone(&r, env, q, tcp, ts);
	if (r.xfr && info) {
		info->xfr = true;
		info->tsig = *ts;
		return 0;
	}
	size_t n = finish(&r, q, env);
	if (info) {
		info->rcode = r.rcode;
		info->truncated = r.tc;
		info->answers = r.an;
		info->xfr_refused = r.xfr_refused;
		report_txt(&r, info);
	}
	return n;
}

size_t acm_answer(const acm_answer_env_t *env, const acm_query_t *q, bool tcp,
                  uint8_t *out, size_t outcap, acm_answer_info_t *info)
{
	size_t limit = response_limit(env, q, tcp);
	if (limit > outcap)
		limit = outcap;
	if (info) {
		info->xfr = info->xfr_refused = false;
		info->tsig_error = ACM_TSIG_OK;
		info->txt_count = 0;
	}
	/* An unsigned query's: not built anew for each. */
	static const acm_tsig_ctx_t unsigned_ts = { .present = false, .error = ACM_TSIG_OK };
	if (q->has_tsig && q->rcode == ACM_RCODE_NOERROR) {
		acm_tsig_ctx_t ts = { .present = false, .error = ACM_TSIG_OK, .mac_len = 0 };
		acm_tsig_request_t req;
		int terr = tsig_check(env, q, &req, &ts);
		if (info)
			info->tsig_error = terr;
		if (terr < 0) {   /* a TSIG RR that does not parse: FORMERR, unsigned */
			acm_query_t bad = *q;
			bad.rcode = ACM_RCODE_FORMERR;
			ts.error = ACM_TSIG_OK;
			return answer_body(env, &bad, tcp, out, limit, &ts, info);
		}
		size_t room = TSIG_RR_MAX(ts.key.name_len);
		if (limit <= room + ACM_DNS_HEADER + q->qname_len + 4 + ACM_EDNS_OPT_LEN)
			return 0;
		size_t n = answer_body(env, q, tcp, out, limit - room, &ts, info);
		if (n == 0)
			return 0;
		return acm_tsig_answer_sign(&req, out, n, limit, env->now);
	}
	return answer_body(env, q, tcp, out, limit, &unsigned_ts, info);
}

size_t acm_answer_slip(const acm_query_t *q, uint8_t *out, size_t len)
{
	size_t keep = ACM_DNS_HEADER + (q->has_question ? q->qname_len + 4 : 0);
	if (len < keep)
		return len;
	uint16_t flags = (uint16_t)(acm_get_u16(out + ACM_DNS_FLAGS_OFF) | ACM_FLAG_TC);
	acm_dns_header_put(out, q->id, flags, q->has_question ? 1 : 0, 0, 0, 0);
	return keep;
}
