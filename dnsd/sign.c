/* SPDX-License-Identifier: ISC */
/*
 * Signing what an answer holds (sign.h): an RRset written in the message
 * is read back into its canonical form (RFC 4034 6.2: owner written out
 * in lower case, names in the rdata of the types that RFC lists in lower
 * case, RRs sorted by rdata), its RRSIG taken from the cache or made, and
 * the RRSIG appended after it, owned as it is. The NSEC of compact denial
 * is written and signed the same way.
 */
#include <stdlib.h>
#include <string.h>

#include "dnsd/sign.h"
#include "lib/dns/dname.h"
#include "lib/error.h"

/* Inception an hour back, for resolvers whose clocks run behind. */
#define INCEPTION_SKEW 3600
/* RRs in one RRset that can be signed; TXT values are capped far lower. */
#define RRSET_MAX (ACM_SIGCACHE_SCRATCH / sizeof(canon_rr_t))
/* Room in front of the sorted RRs for the RRSIG fields signed with them. */
#define SIG_ROOM (ACM_RRSIG_FIXED + ACM_DNAME_MAX)

typedef struct {
	uint32_t off;      /* of the rdata, in the unsorted buffer */
	uint16_t len;
	uint32_t rr;       /* of the RR */
} canon_rr_t;

/* Lower-case the names inside rdata whose form RFC 4034 6.2 (as amended
 * by RFC 6840 5.1) lists: NS, CNAME, PTR, DNAME, SOA, MX, RT, KX, AFSDB,
 * SRV, MINFO, RP. Our rdata holds names uncompressed. */
static void lower_rdata(uint16_t type, uint8_t *rd, size_t len)
{
	size_t skip = 0, names = 1;
	switch (type) {
	case ACM_RRTYPE_NS: case ACM_RRTYPE_CNAME: case 12 /* PTR */: case 39 /* DNAME */:
		break;
	case ACM_RRTYPE_SOA: case 14 /* MINFO */: case 17 /* RP */:
		names = 2;
		break;
	case ACM_RRTYPE_MX: case 18 /* AFSDB */: case 21 /* RT */: case 36 /* KX */:
		skip = 2;
		break;
	case ACM_RRTYPE_SRV:
		skip = 6;
		break;
	default:
		return;
	}
	for (size_t at = skip; names > 0 && at < len; names--) {
		while (at < len && rd[at] != 0 && rd[at] < 64) {
			for (size_t i = at + 1; i <= at + rd[at] && i < len; i++)
				if (rd[i] >= 'A' && rd[i] <= 'Z')
					rd[i] = (uint8_t)(rd[i] + 32);
			at += (size_t)rd[at] + 1;
		}
		at++;
	}
}

/* The buffer the RRs being sorted lie in (qsort passes no context). */
static _Thread_local const uint8_t *sort_base;

static int cmp_rdata(const void *a, const void *b)
{
	const canon_rr_t *x = a, *y = b;
	const uint8_t *p = sort_base;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(p + x->off, p + y->off, n);
	return c ? c : (int)x->len - (int)y->len;
}

/* What the RRSIG says of the RRset besides its signature. */
typedef struct {
	uint16_t type;
	uint8_t labels;
	uint32_t ttl;
} rrset_info_t;

/* Read the RRset at msg[start..) into buf in canonical form, unsorted,
 * noting each RR in rrs. Returns the RR count, 0 on anything unexpected. */
static size_t read_rrset(const uint8_t *msg, size_t msglen, size_t start, uint16_t count,
                         uint8_t *buf, canon_rr_t *rrs, rrset_info_t *info)
{
	size_t pos = start, at = 0;
	for (size_t i = 0; i < count; i++) {
		uint8_t owner[ACM_DNAME_MAX];
		int olen = acm_dname_parse(msg, msglen, &pos, owner);
		if (olen < 0 || pos + ACM_RR_FIXED > msglen)
			return 0;
		size_t rdlen = acm_get_u16(msg + pos + 8);
		if (pos + ACM_RR_FIXED + rdlen > msglen ||
		    at + (size_t)olen + ACM_RR_FIXED + rdlen > ACM_SIGCACHE_SCRATCH - SIG_ROOM)
			return 0;
		acm_dname_lower(owner);
		if (i == 0) {
			info->type = acm_get_u16(msg + pos);
			info->ttl = acm_get_u32(msg + pos + 4);
			/* RFC 4034 3.1.3: a leading "*" label does not count */
			info->labels = owner[0] == 1 && owner[1] == '*' ? (uint8_t)-1 : 0;
			for (size_t l = 0; owner[l]; l += (size_t)owner[l] + 1)
				info->labels++;
		}
		rrs[i].rr = (uint32_t)at;
		memcpy(buf + at, owner, (size_t)olen);
		memcpy(buf + at + (size_t)olen, msg + pos, ACM_RR_FIXED + rdlen);
		at += (size_t)olen + ACM_RR_FIXED;
		lower_rdata(info->type, buf + at, rdlen);
		rrs[i].off = (uint32_t)at;
		rrs[i].len = (uint16_t)rdlen;
		at += rdlen;
		pos += ACM_RR_FIXED + rdlen;
	}
	return count;
}

/* The sorted canonical RRset into out[SIG_ROOM..); returns where it ends. */
static size_t sort_rrset(const uint8_t *buf, canon_rr_t *rrs, size_t n, uint8_t *out)
{
	sort_base = buf;
	qsort(rrs, n, sizeof(*rrs), cmp_rdata);
	size_t at = SIG_ROOM;
	for (size_t i = 0; i < n; i++) {
		size_t len = rrs[i].off + rrs[i].len - rrs[i].rr;
		if (i > 0 && cmp_rdata(&rrs[i - 1], &rrs[i]) == 0)
			continue;   /* RFC 4034 6.3: duplicates count once */
		memcpy(out + at, buf + rrs[i].rr, len);
		at += len;
	}
	return at;
}

/* The RRSIG rdata by one key over out[SIG_ROOM..end), from the cache or
 * made now; NULL when signing failed. */
static const uint8_t *signature(const acm_signer_t *s, const acm_dnssec_key_t *key,
                                const rrset_info_t *info, uint8_t *data, size_t end,
                                uint8_t *sig, size_t *siglen)
{
	size_t klen;
	const uint8_t *kid = acm_dnssec_key_dnskey(key, &klen);
	const uint8_t *hit = acm_sigcache_get(s->cache, kid, klen, data + SIG_ROOM, end - SIG_ROOM,
	                                      s->now, s->zs->refresh, siglen);
	if (hit)
		return hit;
	uint32_t inception = (uint32_t)(s->now - INCEPTION_SKEW);
	acm_rrsig_params_t p = { .type = info->type, .labels = info->labels, .ttl = info->ttl,
	                         .inception = inception,
	                         .expiration = inception + s->zs->validity,
	                         .signer = s->apex, .signer_len = s->apex_len };
	*siglen = acm_dnssec_rrsig(key, &p, data, SIG_ROOM, end, sig,
	                           ACM_RRSIG_FIXED + ACM_DNAME_MAX + ACM_DNSSEC_SIG_MAX);
	if (*siglen == 0)
		return NULL;
	acm_sigcache_put(s->cache, kid, klen, data + SIG_ROOM, end - SIG_ROOM, p.expiration, sig,
	                 *siglen);
	return sig;
}

/* One RRSIG RR: owned as the RRset's first RR (owner bytes copied). */
static void write_rrsig(acm_wire_t *w, const uint8_t *owner, size_t olen, uint32_t ttl,
                        const uint8_t *rdata, size_t len)
{
	if (acm_wire_left(w) < olen + ACM_RR_FIXED + len) {
		w->err = ACM_ESPACE;
		return;
	}
	acm_wire_write(w, owner, olen);
	acm_wire_write_u16(w, ACM_RRTYPE_RRSIG);
	acm_wire_write_u16(w, ACM_CLASS_IN);
	acm_wire_write_u32(w, ttl);
	acm_wire_write_u16(w, (uint16_t)len);
	acm_wire_write(w, rdata, len);
}

/* The bytes the RR at msg[pos] is owned by, as written. */
static size_t owner_bytes(const uint8_t *msg, size_t msglen, size_t pos)
{
	size_t at = pos;
	while (at < msglen && msg[at] != 0 && (msg[at] & 0xC0) != 0xC0)
		at += (size_t)msg[at] + 1;
	return at < msglen && msg[at] == 0 ? at + 1 - pos : at + 2 - pos;
}

uint16_t acm_sign_rrset(const acm_signer_t *s, acm_wire_t *w, size_t start, uint16_t count)
{
	canon_rr_t *rrs = (canon_rr_t *)acm_sigcache_scratch(s->cache, 2);
	uint8_t *buf = acm_sigcache_scratch(s->cache, 0), *data = acm_sigcache_scratch(s->cache, 1);
	rrset_info_t info;
	if (w->err)
		return 0;
	/* An RRset that cannot be signed spoils the answer: a validator
	 * would take it unsigned as bogus, so the caller answers SERVFAIL. */
	if (count == 0 || count > RRSET_MAX ||
	    read_rrset(w->base, w->pos, start, count, buf, rrs, &info) != count) {
		w->err = ACM_ECRYPTO;
		return 0;
	}
	size_t end = sort_rrset(buf, rrs, count, data);
	uint8_t owner[ACM_DNAME_MAX];
	size_t olen = owner_bytes(w->base, w->pos, start);
	memcpy(owner, w->base + start, olen);
	uint16_t added = 0;
	const acm_dnssec_keyset_t *ks = s->zs->keys;
	const acm_dnssec_keyent_t *active = acm_dnssec_keyset_active(ks);
	for (size_t i = 0; i < ks->count && !w->err; i++) {
		if (info.type != ACM_RRTYPE_DNSKEY && &ks->keys[i] != active)
			continue;
		uint8_t sig[ACM_RRSIG_FIXED + ACM_DNAME_MAX + ACM_DNSSEC_SIG_MAX];
		size_t siglen;
		const uint8_t *rd = signature(s, ks->keys[i].key, &info, data, end, sig, &siglen);
		if (!rd) {
			w->err = ACM_ECRYPTO;
			break;
		}
		write_rrsig(w, owner, olen, info.ttl, rd, siglen);
		if (!w->err)
			added++;
	}
	return added;
}

static int cmp_type(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

/* The type bitmap (RFC 4034 4.1.2) of types[0..n), sorted here. */
static void write_bitmap(acm_wire_t *w, uint16_t *types, size_t n)
{
	qsort(types, n, sizeof(*types), cmp_type);
	for (size_t i = 0; i < n;) {
		uint8_t window = (uint8_t)(types[i] >> 8), bits[32] = { 0 };
		size_t used = 0;
		for (; i < n && (types[i] >> 8) == window; i++) {
			uint8_t t = (uint8_t)types[i];
			bits[t / 8] |= (uint8_t)(0x80 >> (t % 8));
			used = (size_t)t / 8 + 1;
		}
		acm_wire_write_u8(w, window);
		acm_wire_write_u8(w, (uint8_t)used);
		acm_wire_write(w, bits, used);
	}
}

#define NSEC_TYPES_MAX 64

uint16_t acm_sign_nsec(const acm_signer_t *s, acm_wire_t *w, uint16_t owner, const uint8_t *name,
                       size_t len, const uint16_t *types, size_t ntypes)
{
	uint16_t all[NSEC_TYPES_MAX + 2];
	if (ntypes > NSEC_TYPES_MAX)
		ntypes = NSEC_TYPES_MAX;
	memcpy(all, types, ntypes * sizeof(*types));
	all[ntypes++] = ACM_RRTYPE_RRSIG;
	all[ntypes++] = ACM_RRTYPE_NSEC;
	size_t start = w->pos;
	acm_wire_write_u16(w, owner);
	acm_wire_write_u16(w, ACM_RRTYPE_NSEC);
	acm_wire_write_u16(w, ACM_CLASS_IN);
	acm_wire_write_u32(w, s->zs->nsec_ttl);
	size_t rdlen_at = w->pos;
	acm_wire_write_u16(w, 0);
	/* The immediate successor, "\000." + name; a name too long for that
	 * is its own next name. */
	if (len + 2 <= ACM_DNAME_MAX) {
		acm_wire_write_u8(w, 1);
		acm_wire_write_u8(w, 0);
	}
	acm_wire_write(w, name, len);
	write_bitmap(w, all, ntypes);
	if (w->err)
		return 0;
	acm_put_u16(w->base + rdlen_at, (uint16_t)(w->pos - rdlen_at - 2));
	return (uint16_t)(1 + acm_sign_rrset(s, w, start, 1));
}
