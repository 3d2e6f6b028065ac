/* SPDX-License-Identifier: ISC */
/*
 * The answer builder. Static RRsets are copied pre-rendered from the zone;
 * TXT values are copied from the store record; the negative-answer SOA is a
 * pointer to the apex inside the question plus a pre-rendered tail. When the
 * answer does not fit a UDP response, the sections are dropped and TC set.
 */
#include <string.h>

#include "dnsd/answer.h"
#include "lib/store.h"
#include "lib/wire.h"

#define FLAG_QR 0x8000
#define FLAG_AA 0x0400
#define FLAG_TC 0x0200
#define FLAG_RD 0x0100
#define FLAG_CD 0x0010
#define OPT_LEN 11
#define TCP_MAX 65535

typedef struct {
	acm_wire_t w;
	size_t question_end;
	uint16_t an, ns, ar;
	int rcode;
	bool aa;
	bool tc;
} reply_t;

static void write_question(reply_t *r, const acm_query_t *q)
{
	acm_wire_write(&r->w, q->qname, q->qname_len);
	acm_wire_write_u16(&r->w, q->qtype);
	acm_wire_write_u16(&r->w, q->qclass);
}

/* Copy a pre-rendered RRset; patch the SOA serial if it has one. */
static void write_rrset(reply_t *r, const acm_rrset_t *set, uint32_t serial)
{
	size_t at = r->w.pos;
	acm_wire_write(&r->w, set->wire, set->wire_len);
	if (r->w.err)
		return;
	if (set->serial_off >= 0)
		acm_put_u32(r->w.base + at + (size_t)set->serial_off, serial);
	r->an += set->count;
}

/* Additional records are a courtesy: if they do not fit, leave them out. */
static void write_extra(reply_t *r, const acm_rrset_t *set)
{
	if (set->extra_count == 0 || acm_wire_left(&r->w) < set->extra_len)
		return;
	acm_wire_write(&r->w, set->extra, set->extra_len);
	r->ar += set->extra_count;
}

static void write_negative(reply_t *r, const acm_answer_env_t *env, const acm_query_t *q)
{
	size_t apex_len, tail_len, serial_off;
	acm_zone_apex(env->zone, &apex_len);
	const uint8_t *tail = acm_zone_soa_tail(env->zone, &tail_len, &serial_off);
	/* The apex is the question name's suffix: point at it. */
	acm_wire_write_u16(&r->w, (uint16_t)(0xC000 | (ACM_DNS_HEADER + q->qname_len - apex_len)));
	size_t at = r->w.pos;
	acm_wire_write(&r->w, tail, tail_len);
	if (r->w.err)
		return;
	acm_put_u32(r->w.base + at + serial_off, env->serial);
	r->ns = 1;
}

/* TXT values of a store record, skipping expired ones. */
static void write_txt(reply_t *r, const acm_answer_env_t *env, const uint8_t *rec, size_t len)
{
	acm_rr_iter_t it;
	acm_rr_entry_t e;
	uint32_t ttl = acm_zone_txt_ttl(env->zone);
	if (acm_rr_iter_init(&it, rec, len) != ACM_OK)
		return;
	while (acm_rr_iter_next(&it, &e) == 1) {
		if (e.expires != 0 && e.expires <= env->now)
			continue;
		acm_wire_write_u16(&r->w, 0xC00C);
		acm_wire_write_u16(&r->w, ACM_RRTYPE_TXT);
		acm_wire_write_u16(&r->w, ACM_CLASS_IN);
		acm_wire_write_u32(&r->w, ttl);
		acm_wire_write_u16(&r->w, e.rdlen);
		acm_wire_write(&r->w, e.rdata, e.rdlen);
		r->an++;
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
	if (!set)
		set = node->cname;
	if (!set) {
		write_negative(r, env, q);
		return;
	}
	write_rrset(r, set, env->serial);
	if (!r->w.err)
		write_extra(r, set);
}

static void answer_zone(reply_t *r, const acm_answer_env_t *env, const acm_query_t *q)
{
	size_t apex_len;
	const uint8_t *apex = acm_zone_apex(env->zone, &apex_len);
	int labels = acm_dname_under(q->lname, apex);
	if (labels < 0 || q->qclass != ACM_CLASS_IN) {
		r->rcode = ACM_RCODE_REFUSED;
		return;
	}
	if (q->qtype == ACM_RRTYPE_AXFR || q->qtype == ACM_RRTYPE_IXFR) {
		r->rcode = ACM_RCODE_REFUSED;   /* no transfers are configured */
		return;
	}
	r->aa = true;
	const acm_node_t *node = acm_zone_find(env->zone, q->lname, q->qname_len);
	if (node) {
		answer_static(r, env, q, node);
		return;
	}
	const uint8_t *rec;
	size_t len;
	/* Accounts are exactly one label below the apex. */
	int rc = labels == 1 ? env->lookup(env->lookup_ctx, q->lname, q->qname_len, &rec, &len)
	                     : ACM_ENOTFOUND;
	if (rc != ACM_OK && rc != ACM_ENOTFOUND) {
		r->rcode = ACM_RCODE_SERVFAIL;
		r->aa = false;
		return;
	}
	if (rc == ACM_OK) {
		if (q->qtype == ACM_RRTYPE_TXT || q->qtype == ACM_RRTYPE_ANY)
			write_txt(r, env, rec, len);
		if (r->an == 0 && !r->w.err)
			write_negative(r, env, q);
		return;
	}
	r->rcode = ACM_RCODE_NXDOMAIN;
	write_negative(r, env, q);
}

static size_t finish(reply_t *r, const acm_query_t *q, const acm_answer_env_t *env)
{
	if (r->w.err) {
		/* Did not fit: keep header and question, say so with TC. */
		r->w.err = ACM_OK;
		r->w.pos = r->question_end;
		r->an = r->ns = r->ar = 0;
		r->tc = true;
	}
	if (q->edns) {
		r->w.size += OPT_LEN;   /* reserved up front */
		acm_wire_write_u8(&r->w, 0);
		acm_wire_write_u16(&r->w, ACM_RRTYPE_OPT);
		acm_wire_write_u16(&r->w, env->udp_payload);
		acm_wire_write_u8(&r->w, (uint8_t)(r->rcode >> 4));
		acm_wire_write_u8(&r->w, 0);
		acm_wire_write_u16(&r->w, q->edns_do ? 0x8000 : 0);
		acm_wire_write_u16(&r->w, 0);
		r->ar++;
	}
	uint8_t *h = r->w.base;
	uint16_t flags = (uint16_t)(FLAG_QR | (q->flags & (0x7800 | FLAG_RD | FLAG_CD)) |
	                            (r->rcode & 0xF));
	if (r->aa)
		flags |= FLAG_AA;
	if (r->tc)
		flags |= FLAG_TC;
	acm_put_u16(h, q->id);
	acm_put_u16(h + 2, flags);
	acm_put_u16(h + 4, q->has_question ? 1 : 0);
	acm_put_u16(h + 6, r->an);
	acm_put_u16(h + 8, r->ns);
	acm_put_u16(h + 10, r->ar);
	return r->w.pos;
}

static size_t response_limit(const acm_answer_env_t *env, const acm_query_t *q, bool tcp)
{
	if (tcp)
		return TCP_MAX;
	if (!q->edns || q->edns_size <= 512)
		return 512;
	return q->edns_size < env->udp_payload ? q->edns_size : env->udp_payload;
}

size_t acm_answer(const acm_answer_env_t *env, const acm_query_t *q, bool tcp,
                  uint8_t *out, size_t outcap, acm_answer_info_t *info)
{
	size_t limit = response_limit(env, q, tcp);
	if (limit > outcap)
		limit = outcap;
	reply_t r = { .rcode = q->rcode };
	r.w = acm_wire_init(out, limit - (q->edns ? OPT_LEN : 0));
	r.w.pos = ACM_DNS_HEADER;   /* the header is written last, by finish() */
	if (q->has_question)
		write_question(&r, q);
	r.question_end = r.w.pos;
	if (r.rcode == ACM_RCODE_NOERROR)
		answer_zone(&r, env, q);
	size_t n = finish(&r, q, env);
	if (info) {
		info->rcode = r.rcode;
		info->truncated = r.tc;
		info->answers = r.an;
	}
	return n;
}
