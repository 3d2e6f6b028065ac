/* SPDX-License-Identifier: ISC */
/*
 * RFC 2136 UPDATE messages: the structure is checked first (FORMERR, never
 * signed), then the TSIG (REFUSED without one, NOTAUTH with the TSIG error
 * when it fails), then everything else, answered signed. Prerequisites on
 * static names, and on names that cannot hold TXT values, are decided
 * here; those on TXT names become ACM_OP_TXT_EXPECT ops at the head of the
 * chain, so the store decides them in the transaction that applies the
 * update. Memory is allocated per update, never per ordinary query.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dnsd/update.h"
#include "lib/dns/zone_names.h"
#include "lib/dns/rr.h"
#include "lib/error.h"
#include "lib/dns/rrset.h"
#include "lib/dns/wire.h"

#define PENDING (-1)            /* not a response code: the store decides */

/* Where the sections of a structurally sound request are. */
typedef struct {
	const uint8_t *msg;
	size_t len;
	unsigned zocount, prcount, upcount, adcount;
	uint8_t zname[ACM_DNAME_MAX];   /* lower case */
	size_t zname_len;
	uint16_t ztype, zclass;
	size_t pr_pos, up_pos;
	bool has_tsig;
	size_t tsig_pos;
} request_t;

struct acm_update {
	uint16_t id;
	uint16_t opcode_bits;
	uint8_t zone[ACM_DNAME_MAX + 4];   /* the zone section to echo, or empty */
	size_t zone_len;
	bool sign;                          /* the response carries a TSIG */
	acm_tsig_request_t tsig;            /* the request's, and its verdict */
	char sub[ACM_LABEL_MAX + 1];        /* the key's account */
	uint8_t own[ACM_DNAME_MAX];         /* <sub>.<apex> */
	size_t own_len;
	uint8_t challenge[ACM_DNAME_MAX];   /* _acme-challenge.<sub>.<apex>, if it fits */
	size_t challenge_len;
	size_t nops;
	acm_op_t *ops;
	int *fail_rcode;                    /* per op: a prerequisite's RCODE if it fails */
	size_t nvalues;
	acm_txt_t *values;
	acm_rr_t *rrs;                          /* scratch: one section's records */
	const char *reason;                     /* why the answer is not NOERROR, for the log */
};

/* Where a name's data is: the static zone, the store (TXT values of a
 * name that can hold them), or nowhere. */
typedef struct {
	enum { WHERE_NONE, WHERE_STATIC, WHERE_STORE } kind;
	const acm_node_t *node;
	char sub[ACM_TXT_NAME_MAX + 1];
} where_t;

bool acm_update_is(const uint8_t *msg, size_t len)
{
	if (len < ACM_DNS_HEADER)
		return false;
	uint16_t flags = acm_get_u16(msg + ACM_DNS_FLAGS_OFF);
	return !(flags & ACM_FLAG_QR) && ACM_DNS_OPCODE(flags) == ACM_OPCODE_UPDATE;
}

/* The first reason given wins: it is where the update stopped. */
static int fail(acm_update_t *u, int rcode, const char *reason)
{
	if (!u->reason)
		u->reason = reason;
	return rcode;
}

/* ---- structure -------------------------------------------------------- */

/* One RR at the cursor, its owner lower-cased for comparisons. */
static bool read_rr(acm_wire_t *w, acm_rr_t *rr)
{
	if (acm_rr_read(w, rr) != ACM_OK)
		return false;
	acm_dname_lower(rr->owner);
	return true;
}

static bool skip_rrs(request_t *r, acm_wire_t *w, unsigned count, bool additional)
{
	acm_rr_t rr;
	for (unsigned i = 0; i < count; i++) {
		if (!read_rr(w, &rr))
			return false;
		/* RFC 8945 5.1: a TSIG anywhere but last makes the message malformed. */
		if (rr.type == ACM_RRTYPE_TSIG && !(additional && i + 1 == count))
			return false;
		if (rr.type == ACM_RRTYPE_TSIG) {
			r->has_tsig = true;
			r->tsig_pos = rr.start;
		}
	}
	return true;
}

/* Locate the sections; false when the message is malformed. */
static bool parse_request(const uint8_t *msg, size_t len, request_t *r)
{
	memset(r, 0, sizeof(*r));
	r->msg = msg;
	r->len = len;
	acm_dns_header_t h = acm_dns_header_get(msg);
	r->zocount = h.qd;
	r->prcount = h.an;
	r->upcount = h.ns;
	r->adcount = h.ar;
	acm_wire_t w = acm_wire_reader(msg, len);
	w.pos = ACM_DNS_HEADER;
	if (r->zocount != 1 ||
	    acm_rr_read_question(&w, r->zname, &r->zname_len, &r->ztype, &r->zclass) != ACM_OK)
		return false;
	acm_dname_lower(r->zname);
	r->pr_pos = w.pos;
	if (!skip_rrs(r, &w, r->prcount, false))
		return false;
	r->up_pos = w.pos;
	return skip_rrs(r, &w, r->upcount, false) && skip_rrs(r, &w, r->adcount, true) &&
	       w.pos == len;
}

/* ---- the response ----------------------------------------------------- */

static size_t respond(const acm_update_t *u, int rcode, uint64_t now,
                      uint8_t *out, size_t cap)
{
	acm_wire_t w = acm_wire_init(out, cap);
	acm_wire_write_u16(&w, u->id);
	acm_wire_write_u16(&w, (uint16_t)(ACM_FLAG_QR | u->opcode_bits | (rcode & ACM_RCODE_MASK)));
	acm_wire_write_u16(&w, u->zone_len ? 1 : 0);
	acm_wire_write_u16(&w, 0);
	acm_wire_write_u16(&w, 0);
	acm_wire_write_u16(&w, 0);
	acm_wire_write(&w, u->zone, u->zone_len);
	if (w.err)
		return 0;
	/* The request's TSIG verdict goes with the answer, signed unless the
	 * key was unknown or the signature wrong. */
	return u->sign ? acm_tsig_answer_sign(&u->tsig, out, w.pos, cap, now) : w.pos;
}

/* ---- TSIG --------------------------------------------------------------- */

/* The account key lookup, as the TSIG check calls it: the account found
 * is remembered in the update. */
typedef struct {
	const acm_update_env_t *env;
	acm_update_t *u;
} key_ctx_t;

static int account_key(void *ctx, const uint8_t *name, size_t len, acm_tsig_key_t *key)
{
	key_ctx_t *k = ctx;
	return k->env->key ? k->env->key(k->env->key_ctx, name, len, key, k->u->sub)
	                   : ACM_ENOTFOUND;
}

/* The RCODE, or NOERROR when the request verified with an account's key
 * that may be used from where it came; *why gets the reason of a failure. */
static int check_tsig(const acm_update_env_t *env, const request_t *r, acm_update_t *u,
                      acm_update_why_t *why)
{
	key_ctx_t k = { env, u };
	*why = ACM_UPDATE_UNSIGNED;
	if (!r->has_tsig)
		return ACM_RCODE_REFUSED;
	int rc = acm_tsig_request_check(r->msg, r->len, r->tsig_pos, env->now, account_key, &k,
	                                &u->tsig);
	*why = rc == ACM_EMALF ? ACM_UPDATE_MALFORMED : ACM_UPDATE_STOREFAIL;
	if (rc != ACM_OK)
		return rc == ACM_EMALF ? ACM_RCODE_FORMERR : ACM_RCODE_SERVFAIL;
	u->sign = true;
	if (u->tsig.error == ACM_TSIG_OK) {
		/* After the signature, so that nobody learns from the answer
		 * whether a key exists and where it may be used. */
		*why = ACM_UPDATE_ALLOWFROM;
		if (env->allow && !env->allow(env->key_ctx, u->sub))
			return ACM_RCODE_REFUSED;
		*why = ACM_UPDATE_SIGNED;
		return ACM_RCODE_NOERROR;
	}
	*why = u->tsig.error == ACM_TSIG_BADKEY    ? ACM_UPDATE_BADKEY
	       : u->tsig.error == ACM_TSIG_BADTIME ? ACM_UPDATE_BADTIME
	                                           : ACM_UPDATE_BADSIG;
	return ACM_RCODE_NOTAUTH;
}

/* ---- names ------------------------------------------------------------ */

static void set_own_names(const acm_zone_t *zone, acm_update_t *u)
{
	size_t apex_len;
	int len = acm_zname_account(u->sub, acm_zone_apex(zone, &apex_len), u->own);
	u->own_len = len > 0 ? (size_t)len : 0;
	len = u->own_len ? acm_zname_challenge(u->own, u->own_len, u->challenge) : 0;
	u->challenge_len = len > 0 ? (size_t)len : 0;
}

static bool in_zone(const acm_zone_t *zone, const acm_rr_t *rr)
{
	size_t apex_len;
	acm_zname_t zn;
	acm_zname_shape(rr->owner, acm_zone_apex(zone, &apex_len), &zn);
	return zn.kind != ACM_ZNAME_OUTSIDE;
}

/* As answer.c finds data: a static node first, then the store's TXT
 * names (<label>.<apex> and _acme-challenge.<label>.<apex>). */
static void locate(const acm_zone_t *zone, const uint8_t *name, size_t len, where_t *w)
{
	acm_zname_t zn;
	char label[ACM_LABEL_MAX + 1];

	acm_zone_classify(zone, name, len, &zn);
	w->node = zn.node;
	w->kind = w->node ? WHERE_STATIC : WHERE_NONE;
	if (!w->node && acm_zname_label(&zn, label) == ACM_OK) {
		w->kind = WHERE_STORE;
		acm_zname_txt_join(label, zn.kind == ACM_ZNAME_CHALLENGE, w->sub);
	}
}

/* A TXT rdata that is one valid value: copied to t. */
static bool txt_value(const acm_rr_t *rr, acm_txt_t *t)
{
	if (rr->rdlen < 2 || rr->rdata[0] + 1u != rr->rdlen ||
	    acm_txt_check((const char *)rr->rdata + 1, rr->rdata[0]) != ACM_OK)
		return false;
	memset(t, 0, sizeof(*t));
	t->len = rr->rdata[0];
	memcpy(t->value, rr->rdata + 1, t->len);
	return true;
}

static acm_op_t *op_add(acm_update_t *u, acm_op_kind_t kind, const char *sub, int fail_rcode)
{
	acm_op_t *op = &u->ops[u->nops];
	u->fail_rcode[u->nops++] = fail_rcode;
	op->kind = kind;
	snprintf(op->subdomain, sizeof(op->subdomain), "%s", sub);
	snprintf(op->actor, sizeof(op->actor), "update:%s", u->sub);
	return op;
}

static void op_expect(acm_update_t *u, const where_t *w, int expect, int fail_rcode)
{
	op_add(u, ACM_OP_TXT_EXPECT, w->sub, fail_rcode)->expect = expect;
}

/* ---- prerequisites (RFC 2136 3.2) -------------------------------------- */

/* "Name is in use" (YXDOMAIN) or not (NXDOMAIN): at least one RR. */
static int need_name(acm_update_t *u, const where_t *w, bool in_use)
{
	int fail = in_use ? ACM_RCODE_NXDOMAIN : ACM_RCODE_YXDOMAIN;
	if (w->kind == WHERE_STORE) {
		op_expect(u, w, in_use ? ACM_EXPECT_SOME : ACM_EXPECT_NONE, fail);
		return ACM_RCODE_NOERROR;
	}
	bool has = w->kind == WHERE_STATIC && w->node->rrset_count > 0;
	return has == in_use ? ACM_RCODE_NOERROR : fail;
}

/* "RRset exists (value independent)" (YXRRSET) or not (NXRRSET). */
static int need_rrset(acm_update_t *u, const where_t *w, uint16_t type, bool exists)
{
	int fail = exists ? ACM_RCODE_NXRRSET : ACM_RCODE_YXRRSET;
	if (w->kind == WHERE_STORE && type == ACM_RRTYPE_TXT) {
		op_expect(u, w, exists ? ACM_EXPECT_SOME : ACM_EXPECT_NONE, fail);
		return ACM_RCODE_NOERROR;
	}
	bool has = w->kind == WHERE_STATIC && acm_node_rrset(w->node, type) != NULL;
	return has == exists ? ACM_RCODE_NOERROR : fail;
}

static bool same_name_type(const acm_rr_t *a, const acm_rr_t *b)
{
	return a->type == b->type && a->owner_len == b->owner_len &&
	       memcmp(a->owner, b->owner, a->owner_len) == 0;
}

static bool rdata_in_group(const acm_rr_t *rrs, size_t n, const acm_rr_t *lead, const uint8_t *rd,
                           size_t rdlen)
{
	for (size_t i = 0; i < n; i++)
		if (rrs[i].rclass == ACM_CLASS_IN && same_name_type(&rrs[i], lead) &&
		    rrs[i].rdlen == rdlen && memcmp(rrs[i].rdata, rd, rdlen) == 0)
			return true;
	return false;
}

/* Compare a static RRset with the group of lead, rdata byte for byte (the
 * zone renders names in rdata uncompressed, in the case written). */
static bool static_equal(const acm_rrset_t *set, const acm_rr_t *rrs, size_t n, const acm_rr_t *lead)
{
	size_t pos = 0, members = 0;
	for (uint16_t i = 0; i < set->count; i++) {
		const uint8_t *rr = set->wire + pos;
		size_t rdlen = acm_get_u16(rr + ACM_RR_PTR_HEAD - 2);
		if (!rdata_in_group(rrs, n, lead, rr + ACM_RR_PTR_HEAD, rdlen))
			return false;
		pos += ACM_RR_PTR_HEAD + rdlen;
	}
	/* every member of the group must be in the set: count distinct ones */
	for (size_t i = 0; i < n; i++) {
		if (rrs[i].rclass != ACM_CLASS_IN || !same_name_type(&rrs[i], lead))
			continue;
		bool dup = false;
		for (size_t j = 0; j < i && !dup; j++)
			dup = rrs[j].rclass == ACM_CLASS_IN && same_name_type(&rrs[j], lead) &&
			      rrs[j].rdlen == rrs[i].rdlen &&
			      memcmp(rrs[j].rdata, rrs[i].rdata, rrs[i].rdlen) == 0;
		members += !dup;
	}
	return members == set->count;
}

/* "RRset exists (value dependent)": the group of prerequisites of lead's
 * name and type, rrs[at..n), must equal the RRset. */
static int need_values(acm_update_t *u, const where_t *w, const acm_rr_t *rrs, size_t n,
                       size_t at)
{
	const acm_rr_t *lead = &rrs[at];
	if (w->kind == WHERE_STATIC) {
		const acm_rrset_t *set = acm_node_rrset(w->node, lead->type);
		return set && static_equal(set, rrs, n, lead) ? ACM_RCODE_NOERROR
		                                              : ACM_RCODE_NXRRSET;
	}
	if (w->kind != WHERE_STORE || lead->type != ACM_RRTYPE_TXT)
		return ACM_RCODE_NXRRSET;
	size_t first = u->nvalues;
	for (size_t i = at; i < n; i++) {
		if (rrs[i].rclass != ACM_CLASS_IN || !same_name_type(&rrs[i], lead))
			continue;
		/* no value we hold looks like that */
		if (!txt_value(&rrs[i], &u->values[u->nvalues]))
			return ACM_RCODE_NXRRSET;
		u->nvalues++;
	}
	acm_op_t *op = op_add(u, ACM_OP_TXT_EXPECT, w->sub, ACM_RCODE_NXRRSET);
	op->expect = ACM_EXPECT_EQUAL;
	op->values = &u->values[first];
	op->nvalues = u->nvalues - first;
	return ACM_RCODE_NOERROR;
}

static bool group_seen(const acm_rr_t *rrs, size_t at)
{
	for (size_t j = 0; j < at; j++)
		if (rrs[j].rclass == ACM_CLASS_IN && same_name_type(&rrs[j], &rrs[at]))
			return true;
	return false;
}

static int prerequisite(const acm_update_env_t *env, acm_update_t *u, const acm_rr_t *rrs,
                        size_t n, size_t i)
{
	const acm_rr_t *rr = &rrs[i];
	where_t w;
	if (rr->ttl != 0)
		return ACM_RCODE_FORMERR;
	if (!in_zone(env->zone, rr))
		return ACM_RCODE_NOTZONE;
	bool any = rr->type == ACM_RRTYPE_ANY;
	if ((rr->rclass == ACM_CLASS_ANY || rr->rclass == ACM_CLASS_NONE) && rr->rdlen != 0)
		return ACM_RCODE_FORMERR;
	if (rr->rclass == ACM_CLASS_IN && any)
		return ACM_RCODE_FORMERR;
	if (rr->rclass != ACM_CLASS_ANY && rr->rclass != ACM_CLASS_NONE && rr->rclass != ACM_CLASS_IN)
		return ACM_RCODE_FORMERR;
	locate(env->zone, rr->owner, rr->owner_len, &w);
	bool yes = rr->rclass == ACM_CLASS_ANY;
	if (rr->rclass != ACM_CLASS_IN)
		return any ? need_name(u, &w, yes) : need_rrset(u, &w, rr->type, yes);
	return group_seen(rrs, i) ? ACM_RCODE_NOERROR : need_values(u, &w, rrs, n, i);
}

static int read_section(const request_t *r, size_t pos, unsigned count, acm_rr_t *rrs)
{
	acm_wire_t w = acm_wire_reader(r->msg, r->len);
	w.pos = pos;
	for (unsigned i = 0; i < count; i++)
		if (!read_rr(&w, &rrs[i]))
			return ACM_RCODE_FORMERR;
	return ACM_RCODE_NOERROR;
}

static int prerequisites(const acm_update_env_t *env, const request_t *r, acm_update_t *u)
{
	int rc = read_section(r, r->pr_pos, r->prcount, u->rrs);
	for (size_t i = 0; rc == ACM_RCODE_NOERROR && i < r->prcount; i++)
		rc = prerequisite(env, u, u->rrs, r->prcount, i);
	if (rc == ACM_RCODE_NOERROR)
		return rc;
	return fail(u, rc, rc == ACM_RCODE_FORMERR   ? "malformed prerequisite"
	                   : rc == ACM_RCODE_NOTZONE ? "prerequisite name outside the zone"
	                                             : "prerequisite not met");
}

/* ---- the update section (RFC 2136 3.4) ---------------------------------- */

static bool meta_type(uint16_t type, bool any_too)
{
	return type == ACM_RRTYPE_AXFR || type == ACM_RRTYPE_IXFR || type == ACM_RRTYPE_MAILA ||
	       type == ACM_RRTYPE_MAILB || (any_too && type == ACM_RRTYPE_ANY);
}

/* 3.4.1: what makes the whole update malformed, checked before any of it
 * is considered. */
static int prescan(const acm_zone_t *zone, const acm_rr_t *rr)
{
	if (!in_zone(zone, rr))
		return ACM_RCODE_NOTZONE;
	switch (rr->rclass) {
	case ACM_CLASS_IN:
		return meta_type(rr->type, true) ? ACM_RCODE_FORMERR : ACM_RCODE_NOERROR;
	case ACM_CLASS_ANY:
		return rr->ttl != 0 || rr->rdlen != 0 || meta_type(rr->type, false)
		               ? ACM_RCODE_FORMERR : ACM_RCODE_NOERROR;
	case ACM_CLASS_NONE:
		return rr->ttl != 0 || meta_type(rr->type, true) ? ACM_RCODE_FORMERR
		                                                 : ACM_RCODE_NOERROR;
	default:
		return ACM_RCODE_FORMERR;
	}
}

static bool name_is(const acm_rr_t *rr, const uint8_t *name, size_t len)
{
	return len > 0 && rr->owner_len == len && memcmp(rr->owner, name, len) == 0;
}

/* One update RR as an op, if the key may make it (3.3: else REFUSED). */
static int update_one(acm_update_t *u, const acm_rr_t *rr)
{
	char sub[ACM_TXT_NAME_MAX + 1];
	acm_txt_t t;
	if (name_is(rr, u->own, u->own_len))
		acm_zname_txt_join(u->sub, false, sub);
	else if (name_is(rr, u->challenge, u->challenge_len))
		acm_zname_txt_join(u->sub, true, sub);
	else
		return fail(u, ACM_RCODE_REFUSED, "name outside the account");
	bool txt = rr->type == ACM_RRTYPE_TXT;
	if (rr->rclass == ACM_CLASS_ANY) {
		if (!txt && rr->type != ACM_RRTYPE_ANY)
			return fail(u, ACM_RCODE_REFUSED, "type other than TXT");
		op_add(u, ACM_OP_TXT_REPLACE, sub, 0);
		return ACM_RCODE_NOERROR;
	}
	if (!txt)
		return fail(u, ACM_RCODE_REFUSED, "type other than TXT");
	bool valid = txt_value(rr, &t);
	if (rr->rclass == ACM_CLASS_NONE && !valid)
		return ACM_RCODE_NOERROR;   /* deleting what cannot be there */
	if (!valid)
		return fail(u, ACM_RCODE_REFUSED, "invalid TXT value");
	acm_op_t *op = op_add(u, rr->rclass == ACM_CLASS_IN ? ACM_OP_TXT_ADD : ACM_OP_TXT_REMOVE,
	                      sub, 0);
	op->len = t.len;
	memcpy(op->value, t.value, t.len + 1);
	op->tolerate = op->kind == ACM_OP_TXT_ADD ? ACM_EEXIST : ACM_EABSENT;
	return ACM_RCODE_NOERROR;
}

static int updates(const acm_update_env_t *env, const request_t *r, acm_update_t *u)
{
	int rc = read_section(r, r->up_pos, r->upcount, u->rrs);
	for (size_t i = 0; rc == ACM_RCODE_NOERROR && i < r->upcount; i++)
		rc = prescan(env->zone, &u->rrs[i]);
	if (rc != ACM_RCODE_NOERROR)
		return fail(u, rc, rc == ACM_RCODE_NOTZONE ? "update name outside the zone"
		                                           : "malformed update record");
	for (size_t i = 0; rc == ACM_RCODE_NOERROR && i < r->upcount; i++)
		rc = update_one(u, &u->rrs[i]);
	return rc;
}

/* ---- putting it together ------------------------------------------------ */

static int alloc_work(acm_update_t *u, size_t prcount, size_t upcount)
{
	size_t ops = prcount + upcount;
	size_t rrs = prcount > upcount ? prcount : upcount;
	u->ops = calloc(ops ? ops : 1, sizeof(*u->ops));
	u->fail_rcode = calloc(ops ? ops : 1, sizeof(*u->fail_rcode));
	u->values = calloc(prcount ? prcount : 1, sizeof(*u->values));
	u->rrs = calloc(rrs ? rrs : 1, sizeof(*u->rrs));
	return u->ops && u->fail_rcode && u->values && u->rrs ? ACM_OK : -ENOMEM;
}

/* Everything after the TSIG: the RCODE, or PENDING with the chain built. */
static int decide(const acm_update_env_t *env, const request_t *r, acm_update_t *u)
{
	size_t apex_len;
	const uint8_t *apex = acm_zone_apex(env->zone, &apex_len);
	if (!env->enabled)
		return fail(u, ACM_RCODE_REFUSED, "updates are off (update.enabled)");
	if (r->ztype != ACM_RRTYPE_SOA)
		return fail(u, ACM_RCODE_FORMERR, "zone section type is not SOA");
	if (r->zclass != ACM_CLASS_IN || !acm_dname_equal(r->zname, apex))
		return fail(u, ACM_RCODE_NOTAUTH, "zone section names another zone");
	if (r->prcount > ACM_UPDATE_RR_MAX || r->upcount > ACM_UPDATE_RR_MAX)
		return fail(u, ACM_RCODE_REFUSED, "more than 64 prerequisites or updates");
	if (alloc_work(u, r->prcount, r->upcount) != ACM_OK)
		return fail(u, ACM_RCODE_SERVFAIL, "out of memory");
	set_own_names(env->zone, u);
	int rc = prerequisites(env, r, u);
	if (rc == ACM_RCODE_NOERROR)
		rc = updates(env, r, u);
	free(u->rrs);
	u->rrs = NULL;
	if (rc != ACM_RCODE_NOERROR || u->nops == 0)
		return rc;
	for (size_t i = 0; i + 1 < u->nops; i++)
		u->ops[i].next = &u->ops[i + 1];
	return PENDING;
}

/* The request's ID, opcode and zone section, for any answer. */
static void remember_request(const uint8_t *msg, size_t len, acm_update_t *u)
{
	uint8_t name[ACM_DNAME_MAX];
	size_t name_len;
	uint16_t type, rclass;
	u->id = acm_get_u16(msg + ACM_DNS_ID_OFF);
	u->opcode_bits = acm_get_u16(msg + ACM_DNS_FLAGS_OFF) & ACM_OPCODE_MASK;
	acm_wire_t w = acm_wire_reader(msg, len);
	w.pos = ACM_DNS_HEADER;
	if (acm_get_u16(msg + ACM_DNS_QDCOUNT_OFF) != 1 ||
	    acm_rr_read_question(&w, name, &name_len, &type, &rclass) != ACM_OK)
		return;
	memcpy(u->zone, name, name_len);
	acm_wire_t z = acm_wire_init(u->zone + name_len, 4);
	acm_wire_write_u16(&z, type);
	acm_wire_write_u16(&z, rclass);
	u->zone_len = name_len + 4;
}

acm_update_why_t acm_update_start(const acm_update_env_t *env, const uint8_t *msg, size_t len,
                                  uint8_t *out, size_t cap, size_t *out_len,
                                  acm_update_t **pending, const char **reason)
{
	*pending = NULL;
	*out_len = 0;
	*reason = NULL;
	if (!acm_update_is(msg, len))
		return ACM_UPDATE_MALFORMED;
	acm_update_t *u = calloc(1, sizeof(*u));
	if (!u)
		return ACM_UPDATE_STOREFAIL;
	request_t r;
	acm_update_why_t why = ACM_UPDATE_MALFORMED;
	remember_request(msg, len, u);
	int rc = parse_request(msg, len, &r) ? ACM_RCODE_NOERROR : ACM_RCODE_FORMERR;
	if (rc == ACM_RCODE_NOERROR)
		rc = check_tsig(env, &r, u, &why);
	if (rc == ACM_RCODE_NOERROR)
		rc = decide(env, &r, u);
	if (rc == PENDING) {
		*pending = u;
		return why;
	}
	*out_len = respond(u, rc, env->now, out, cap);
	if (rc != ACM_RCODE_NOERROR)
		*reason = u->reason;   /* static strings: they outlive u */
	acm_update_free(u);
	return why;
}

acm_op_t *acm_update_ops(acm_update_t *u)
{
	return u->ops;
}

static bool refusal(int rc)
{
	return rc == ACM_EFULL || rc == ACM_ENOTFOUND || rc == ACM_EBADVALUE ||
	       rc == ACM_EBADNAME || rc == ACM_EEXIST || rc == ACM_EABSENT;
}

/* The op that failed decides: a prerequisite its own RCODE, a refused
 * write REFUSED (a full name, an account deleted meanwhile), anything else
 * SERVFAIL. Its error is the reason. */
static int outcome(acm_update_t *u)
{
	for (size_t i = 0; i < u->nops; i++) {
		const acm_op_t *op = &u->ops[i];
		if (op->result == ACM_OK || op->result == op->tolerate || op->result == -ECANCELED)
			continue;
		u->reason = acm_strerror(op->result);
		if (op->result == ACM_EUNMET)
			return u->fail_rcode[i];
		return refusal(op->result) ? ACM_RCODE_REFUSED : ACM_RCODE_SERVFAIL;
	}
	return ACM_RCODE_NOERROR;
}

size_t acm_update_finish(acm_update_t *u, uint64_t now, uint8_t *out, size_t cap, int *rcode)
{
	*rcode = outcome(u);
	return respond(u, *rcode, now, out, cap);
}

const char *acm_update_account(const acm_update_t *u)
{
	return u->sub;
}

const char *acm_update_reason(const acm_update_t *u)
{
	return u->reason;
}

void acm_update_free(acm_update_t *u)
{
	if (!u)
		return;
	free(u->ops);
	free(u->fail_rcode);
	free(u->values);
	free(u->rrs);
	free(u);
}
