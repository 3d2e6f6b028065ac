/* SPDX-License-Identifier: ISC */
/*
 * Builds the static zone (SOA, apex NS, zone.records) from the configuration
 * and renders every RRset to wire bytes once, so that the DNS path never
 * formats a record. Lookup is an open-addressing hash over lower-case names.
 * The zone also carries the policy that must change with it on reload: the
 * TSIG keyring, the transfer ACL, NOTIFY targets, whether UPDATE is on,
 * and the response rate limits. A signed zone also owns its DNSSEC keys and
 * publishes them as apex RRsets (DNSKEY, CDS, CDNSKEY).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "lib/error.h"
#include "lib/dns/dname.h"
#include "lib/dns/wire.h"
#include "lib/conf/zone.h"

struct acm_zone {
	atomic_int refs;
	uint8_t digest[ACM_ZONE_DIGEST_LEN];   /* of everything a transfer carries from here */
	uint8_t apex[ACM_DNAME_MAX];
	size_t apex_len;
	uint32_t txt_ttl;
	uint8_t soa_tail[10 + 2 * ACM_DNAME_MAX + 20];
	size_t soa_tail_len;
	size_t soa_serial_off;
	acm_node_t *nodes;
	size_t node_count;
	uint32_t *slots;        /* node index + 1, 0 = empty */
	size_t slot_mask;
	/* Bit len: some node's owner is len bytes long. Account names are
	 * all of a few lengths no static name has, so most queries skip the
	 * hash. */
	uint64_t owner_lens[(ACM_DNAME_MAX + 63) / 64];
	acm_tsig_key_t *keys;   /* copies of the config's tsig keys */
	size_t key_count;
	struct acm_transfer_allow *allow;
	size_t allow_count;
	acm_listen_t *notify;
	size_t notify_count;
	bool update_enabled;
	acm_rrl_conf_t rrl;     /* exempt is this zone's copy */
	acm_dnssec_keyset_t dkeys;   /* a signed zone's keys (its own) */
	acm_zone_signing_t signing;
	bool is_signed;
};

/* The apex SOA and NS, written out from zone.soa and zone.ns. */
static int push_text_rr(ldns_rr_list *list, const char *text, uint32_t ttl, char *err,
                        size_t errlen, const char *what)
{
	ldns_rr *rr = NULL;
	ldns_status st = ldns_rr_new_frm_str(&rr, text, ttl, NULL, NULL);
	if (st != LDNS_STATUS_OK) {
		snprintf(err, errlen, "%s: %s: cannot parse record: %s", what, text,
		         ldns_get_errorstr_by_id(st));
		return ACM_ECONFIG;
	}
	if (!ldns_rr_list_push_rr(list, rr)) {
		ldns_rr_free(rr);
		return -ENOMEM;
	}
	return ACM_OK;
}

/* A record of zone.records, parsed once by the configuration: a copy,
 * since the list is the caller's to free (and rendering sets TTLs). */
static int push_parsed_rr(ldns_rr_list *list, const ldns_rr *parsed, char *err, size_t errlen,
                          const char *what)
{
	if (!parsed) {
		snprintf(err, errlen, "%s: not checked by the configuration loader", what);
		return ACM_ECONFIG;
	}
	ldns_rr *rr = ldns_rr_clone(parsed);
	if (!rr || !ldns_rr_list_push_rr(list, rr)) {
		ldns_rr_free(rr);
		return -ENOMEM;
	}
	return ACM_OK;
}

static int push_apex_rrs(const acm_config_t *cfg, uint32_t serial, ldns_rr_list *list,
                         char *err, size_t errlen)
{
	char apex[ACM_DNAME_TXT_MAX], mname[ACM_DNAME_TXT_MAX], rname[ACM_DNAME_TXT_MAX];
	char line[3 * ACM_DNAME_TXT_MAX + 128];
	if (acm_dname_to_text(cfg->apex, apex) < 0 || acm_dname_to_text(cfg->soa.mname, mname) < 0 ||
	    acm_dname_to_text(cfg->soa.rname, rname) < 0)
		return ACM_EBADNAME;
	snprintf(line, sizeof(line), "%s %u IN SOA %s %s %u %u %u %u %u", apex, cfg->soa.ttl,
	         mname, rname, serial, cfg->soa.refresh, cfg->soa.retry, cfg->soa.expire,
	         cfg->soa.minimum);
	int rc = push_text_rr(list, line, cfg->soa.ttl, err, errlen, "zone.soa");
	for (size_t i = 0; rc == ACM_OK && i < cfg->ns_count; i++) {
		char ns[ACM_DNAME_TXT_MAX];
		if (acm_dname_to_text(cfg->ns[i], ns) < 0)
			return ACM_EBADNAME;
		snprintf(line, sizeof(line), "%s %u IN NS %s", apex, cfg->soa.ttl, ns);
		rc = push_text_rr(list, line, cfg->soa.ttl, err, errlen, "zone.ns");
	}
	return rc;
}

int acm_zone_static_rrs(const acm_config_t *cfg, uint32_t serial, ldns_rr_list **out,
                        char *err, size_t errlen)
{
	ldns_rr_list *list = ldns_rr_list_new();
	if (!list)
		return -ENOMEM;
	int rc = push_apex_rrs(cfg, serial, list, err, errlen);
	for (size_t i = 0; rc == ACM_OK && i < cfg->record_count; i++) {
		char what[64];
		snprintf(what, sizeof(what), "%s:%u: zone.records", cfg->path ? cfg->path : "",
		         cfg->records[i].line);
		rc = push_parsed_rr(list, cfg->records[i].rr, err, errlen, what);
	}
	if (rc != ACM_OK) {
		ldns_rr_list_deep_free(list);
		return rc;
	}
	*out = list;
	return ACM_OK;
}

/* Lower-case wire owner of an RR into buf; returns its length. */
static size_t rr_owner(const ldns_rr *rr, uint8_t *buf)
{
	const ldns_rdf *o = ldns_rr_owner(rr);
	size_t len = ldns_rdf_size(o);
	if (len > ACM_DNAME_MAX)
		len = ACM_DNAME_MAX;
	memcpy(buf, ldns_rdf_data(o), len);
	acm_dname_lower(buf);
	return len;
}

static int cmp_rr(const void *a, const void *b)
{
	const ldns_rr *x = *(const ldns_rr *const *)a, *y = *(const ldns_rr *const *)b;
	uint8_t ox[ACM_DNAME_MAX], oy[ACM_DNAME_MAX];
	size_t lx = rr_owner(x, ox), ly = rr_owner(y, oy);
	int c = lx == ly ? memcmp(ox, oy, lx) : (lx < ly ? -1 : 1);
	if (c)
		return c;
	return (int)ldns_rr_get_type(x) - (int)ldns_rr_get_type(y);
}

static acm_node_t *node_get(acm_zone_t *z, const uint8_t *owner, size_t len)
{
	return (acm_node_t *)acm_zone_find(z, owner, len);
}

static int node_add(acm_zone_t *z, size_t cap, const uint8_t *owner, size_t len)
{
	if (node_get(z, owner, len))
		return ACM_OK;
	if (z->node_count == cap)
		return ACM_ESPACE;
	acm_node_t *n = &z->nodes[z->node_count];
	memcpy(n->owner, owner, len);
	n->owner_len = len;
	uint32_t h = acm_dname_hash(owner, len) & (uint32_t)z->slot_mask;
	while (z->slots[h])
		h = (h + 1) & (uint32_t)z->slot_mask;
	z->slots[h] = (uint32_t)++z->node_count;
	z->owner_lens[len / 64] |= UINT64_C(1) << (len % 64);
	return ACM_OK;
}

/* Every owner gets a node, and so does every name between it and the apex
 * (empty non-terminals answer NODATA, not NXDOMAIN). */
static int add_nodes(acm_zone_t *z, size_t cap, const uint8_t *owner, size_t len)
{
	while (len >= z->apex_len) {
		int rc = node_add(z, cap, owner, len);
		if (rc != ACM_OK)
			return rc;
		if (len == z->apex_len)
			break;
		len -= (size_t)owner[0] + 1;
		owner += owner[0] + 1;
	}
	return ACM_OK;
}

static size_t rdata_len(const ldns_rr *rr)
{
	size_t len = 0;
	for (size_t i = 0; i < ldns_rr_rd_count(rr); i++)
		len += ldns_rdf_size(ldns_rr_rdf(rr, i));
	return len;
}

/* Append one RR at the cursor: owned by a pointer to the question name,
 * or (full_owner) by its own name in lower case; then the fixed fields
 * and the rdata, whose names ldns holds uncompressed. */
static void render_rr(acm_wire_t *w, const ldns_rr *rr, bool full_owner)
{
	uint8_t owner[ACM_DNAME_MAX];
	if (full_owner)
		acm_wire_write(w, owner, rr_owner(rr, owner));
	else
		acm_wire_write_u16(w, ACM_DNS_QNAME_PTR);
	acm_wire_write_u16(w, (uint16_t)ldns_rr_get_type(rr));
	acm_wire_write_u16(w, (uint16_t)ldns_rr_get_class(rr));
	acm_wire_write_u32(w, ldns_rr_ttl(rr));
	acm_wire_write_u16(w, (uint16_t)rdata_len(rr));
	for (size_t i = 0; i < ldns_rr_rd_count(rr); i++)
		acm_wire_write(w, ldns_rdf_data(ldns_rr_rdf(rr, i)), ldns_rdf_size(ldns_rr_rdf(rr, i)));
}

/* Render n RRs into a new buffer of exactly their size. ACM_OK, ACM_ESPACE
 * for rdata longer than a message can carry, or -ENOMEM. */
static int render_list(ldns_rr *const *rrs, size_t n, bool full_owner, uint8_t **out,
                       size_t *len)
{
	size_t size = 0;
	for (size_t i = 0; i < n; i++) {
		uint8_t owner[ACM_DNAME_MAX];
		size_t rdlen = rdata_len(rrs[i]);
		if (rdlen > ACM_DNS_MSG_MAX)
			return ACM_ESPACE;
		size += (full_owner ? rr_owner(rrs[i], owner) : 2) + ACM_RR_FIXED + rdlen;
	}
	*out = malloc(size ? size : 1);
	if (!*out)
		return -ENOMEM;
	acm_wire_t w = acm_wire_init(*out, size);
	for (size_t i = 0; i < n; i++)
		render_rr(&w, rrs[i], full_owner);
	*len = w.pos;
	return w.err;
}

static int render_rrset(acm_rrset_t *set, ldns_rr **rrs, size_t n)
{
	uint32_t ttl = ldns_rr_ttl(rrs[0]);
	for (size_t i = 1; i < n; i++)   /* RFC 2181 5.2: one TTL per RRset */
		if (ldns_rr_ttl(rrs[i]) < ttl)
			ttl = ldns_rr_ttl(rrs[i]);
	for (size_t i = 0; i < n; i++)
		ldns_rr_set_ttl(rrs[i], ttl);
	set->type = (uint16_t)ldns_rr_get_type(rrs[0]);
	set->count = (uint16_t)n;
	set->serial_off = -1;
	if (set->type == ACM_RRTYPE_SOA) {
		const ldns_rr *soa = rrs[0];
		set->serial_off = (int)(ACM_RR_PTR_HEAD + ldns_rdf_size(ldns_rr_rdf(soa, 0)) +
		                        ldns_rdf_size(ldns_rr_rdf(soa, 1)));
	}
	return render_list(rrs, n, false, &set->wire, &set->wire_len);
}

/* The rdata field of an RR that names a host wanting its address in the
 * additional section, or NULL. */
static const ldns_rdf *target_of(const ldns_rr *rr)
{
	switch (ldns_rr_get_type(rr)) {
	case LDNS_RR_TYPE_NS: return ldns_rr_rdf(rr, 0);
	case LDNS_RR_TYPE_MX: return ldns_rr_rdf(rr, 1);
	case LDNS_RR_TYPE_SRV: return ldns_rr_rdf(rr, 3);
	default: return NULL;
	}
}

/* Whether a is an address record of the lower-case name t[0..tlen). */
static bool address_of(const ldns_rr *a, const uint8_t *t, size_t tlen)
{
	ldns_rr_type ty = ldns_rr_get_type(a);
	uint8_t owner[ACM_DNAME_MAX];
	return (ty == LDNS_RR_TYPE_A || ty == LDNS_RR_TYPE_AAAA) && rr_owner(a, owner) == tlen &&
	       memcmp(owner, t, tlen) == 0;
}

static int render_extra(acm_zone_t *z, acm_rrset_t *set, ldns_rr **rrs, size_t n,
                        const ldns_rr_list *all)
{
	size_t total = ldns_rr_list_rr_count(all), found = 0, cap = 0;
	ldns_rr **extra = NULL;
	int rc = ACM_OK;
	for (size_t i = 0; rc == ACM_OK && i < n; i++) {
		const ldns_rdf *t = target_of(rrs[i]);
		if (!t || ldns_rdf_size(t) > ACM_DNAME_MAX)
			continue;
		uint8_t tname[ACM_DNAME_MAX];
		size_t tlen = ldns_rdf_size(t);
		memcpy(tname, ldns_rdf_data(t), tlen);
		acm_dname_lower(tname);
		if (acm_dname_under(tname, z->apex) < 0)
			continue;
		for (size_t j = 0; rc == ACM_OK && j < total; j++) {
			ldns_rr *a = ldns_rr_list_rr(all, j);
			if (!address_of(a, tname, tlen))
				continue;
			if (found == cap) {
				ldns_rr **more = realloc(extra, (cap = cap ? 2 * cap : 8) * sizeof(*more));
				if (!more) {
					rc = -ENOMEM;
					break;
				}
				extra = more;
			}
			extra[found++] = a;
		}
	}
	set->extra_count = (uint16_t)found;
	if (rc == ACM_OK)
		rc = render_list(extra, found, true, &set->extra, &set->extra_len);
	free(extra);
	return rc;
}

static int build_rrsets(acm_zone_t *z, ldns_rr_list *all, ldns_rr **sorted, size_t total)
{
	for (size_t i = 0; i < total;) {
		uint8_t owner[ACM_DNAME_MAX];
		size_t olen = rr_owner(sorted[i], owner);
		acm_node_t *node = node_get(z, owner, olen);
		size_t j = i + 1, sets = 1;
		while (j < total) {
			uint8_t next[ACM_DNAME_MAX];
			size_t nlen = rr_owner(sorted[j], next);
			if (nlen != olen || memcmp(next, owner, olen) != 0)
				break;
			if (ldns_rr_get_type(sorted[j]) != ldns_rr_get_type(sorted[j - 1]))
				sets++;
			j++;
		}
		node->rrsets = calloc(sets, sizeof(*node->rrsets));
		if (!node->rrsets)
			return -ENOMEM;
		for (size_t k = i; k < j;) {
			size_t m = k + 1;
			while (m < j && ldns_rr_get_type(sorted[m]) == ldns_rr_get_type(sorted[k]))
				m++;
			acm_rrset_t *set = &node->rrsets[node->rrset_count++];
			int rc = render_rrset(set, &sorted[k], m - k);
			if (rc == ACM_OK)
				rc = render_extra(z, set, &sorted[k], m - k, all);
			if (rc != ACM_OK)
				return rc;
			if (set->type == ACM_RRTYPE_CNAME)
				node->cname = set;
			k = m;
		}
		i = j;
	}
	return ACM_OK;
}

/* The TTL of negative answers (RFC 2308 5), and so of compact denial's
 * NSEC (RFC 9824 3). */
static uint32_t negative_ttl(const acm_config_t *cfg)
{
	return cfg->soa.ttl < cfg->soa.minimum ? cfg->soa.ttl : cfg->soa.minimum;
}

static void build_soa_tail(acm_zone_t *z, const acm_config_t *cfg)
{
	acm_wire_t w = acm_wire_init(z->soa_tail, sizeof(z->soa_tail));
	size_t mlen = acm_dname_len(cfg->soa.mname), rlen = acm_dname_len(cfg->soa.rname);
	uint32_t ttl = negative_ttl(cfg);
	acm_wire_write_u16(&w, ACM_RRTYPE_SOA);
	acm_wire_write_u16(&w, ACM_CLASS_IN);
	acm_wire_write_u32(&w, ttl);
	acm_wire_write_u16(&w, (uint16_t)(mlen + rlen + 20));
	acm_wire_write(&w, cfg->soa.mname, mlen);
	acm_wire_write(&w, cfg->soa.rname, rlen);
	z->soa_serial_off = w.pos;
	acm_wire_write_u32(&w, 0);
	acm_wire_write_u32(&w, cfg->soa.refresh);
	acm_wire_write_u32(&w, cfg->soa.retry);
	acm_wire_write_u32(&w, cfg->soa.expire);
	acm_wire_write_u32(&w, cfg->soa.minimum);
	z->soa_tail_len = w.pos;
}

/* SHA-256 over the canonical wire form of the sorted static RRs and the
 * TXT TTL: what secondaries would see change. */
static int digest_static(acm_zone_t *z, ldns_rr **sorted, size_t total)
{
	ldns_buffer *buf = ldns_buffer_new(4096);
	if (!buf)
		return -ENOMEM;
	ldns_buffer_write_u32(buf, z->txt_ttl);
	for (size_t i = 0; i < total; i++)
		if (ldns_rr2buffer_wire_canonical(buf, sorted[i], LDNS_SECTION_ANSWER) !=
		    LDNS_STATUS_OK)
			break;
	int rc = ldns_buffer_status_ok(buf) &&
	                 EVP_Digest(ldns_buffer_begin(buf), ldns_buffer_position(buf), z->digest,
	                            NULL, EVP_sha256(), NULL) == 1
	             ? ACM_OK
	             : ACM_ECRYPTO;
	ldns_buffer_free(buf);
	return rc;
}

/* One apex RR of a signed zone, from its rdata, pushed on list. */
static int push_key_rr(ldns_rr_list *list, const acm_zone_t *z, uint32_t ttl, uint16_t type,
                       const uint8_t *rdata, size_t rdlen)
{
	uint8_t buf[ACM_DNAME_MAX + ACM_RR_FIXED + ACM_DNSKEY_RDATA_MAX];
	acm_wire_t w = acm_wire_init(buf, sizeof(buf));
	acm_wire_write(&w, z->apex, z->apex_len);
	acm_wire_write_u16(&w, type);
	acm_wire_write_u16(&w, ACM_CLASS_IN);
	acm_wire_write_u32(&w, ttl);
	acm_wire_write_u16(&w, (uint16_t)rdlen);
	acm_wire_write(&w, rdata, rdlen);
	if (w.err)
		return ACM_ESPACE;
	ldns_rr *rr = NULL;
	size_t pos = 0;
	if (ldns_wire2rr(&rr, buf, w.pos, &pos, LDNS_SECTION_ANSWER) != LDNS_STATUS_OK)
		return ACM_ECRYPTO;
	if (!ldns_rr_list_push_rr(list, rr)) {
		ldns_rr_free(rr);
		return -ENOMEM;
	}
	return ACM_OK;
}

/* DNSKEY (every key), CDS and CDNSKEY (the key the parent's DS should
 * name), all with the SOA's TTL. */
static int push_key_rrs(ldns_rr_list *list, const acm_zone_t *z, const acm_config_t *cfg)
{
	size_t len;
	int rc = ACM_OK;
	for (size_t i = 0; rc == ACM_OK && i < z->dkeys.count; i++) {
		const uint8_t *dnskey = acm_dnssec_key_dnskey(z->dkeys.keys[i].key, &len);
		rc = push_key_rr(list, z, cfg->soa.ttl, ACM_RRTYPE_DNSKEY, dnskey, len);
	}
	const acm_dnssec_keyent_t *ds = acm_dnssec_keyset_ds_key(&z->dkeys);
	uint8_t cds[ACM_DS_RDATA_LEN];
	if (rc != ACM_OK || !ds)
		return rc;
	rc = acm_dnssec_key_ds(ds->key, z->apex, z->apex_len, cds);
	if (rc == ACM_OK)
		rc = push_key_rr(list, z, cfg->soa.ttl, ACM_RRTYPE_CDS, cds, sizeof(cds));
	const uint8_t *dnskey = acm_dnssec_key_dnskey(ds->key, &len);
	if (rc == ACM_OK)
		rc = push_key_rr(list, z, cfg->soa.ttl, ACM_RRTYPE_CDNSKEY, dnskey, len);
	return rc;
}

static int zone_fill(acm_zone_t *z, const acm_config_t *cfg, char *err, size_t errlen)
{
	ldns_rr_list *all = NULL;
	int rc = acm_zone_static_rrs(cfg, 0, &all, err, errlen);
	if (rc != ACM_OK)
		return rc;
	if (z->is_signed) {
		rc = push_key_rrs(all, z, cfg);
		if (rc != ACM_OK)
			snprintf(err, errlen, "dnssec: cannot publish the keys: %s", acm_strerror(rc));
	}
	if (rc != ACM_OK) {
		ldns_rr_list_deep_free(all);
		return rc;
	}
	size_t total = ldns_rr_list_rr_count(all);
	/* Each owner adds at most one node per label between it and the apex. */
	size_t cap = 1;
	for (size_t i = 0; i < total; i++) {
		uint8_t owner[ACM_DNAME_MAX];
		rr_owner(ldns_rr_list_rr(all, i), owner);
		int labels = acm_dname_under(owner, z->apex);
		if (labels < 0) {
			snprintf(err, errlen, "record outside the zone");
			rc = ACM_ECONFIG;
			break;
		}
		cap += (size_t)labels + 1;
	}
	size_t slots = 16;
	while (slots < cap * 2)
		slots <<= 1;
	z->nodes = calloc(cap, sizeof(*z->nodes));
	z->slots = calloc(slots, sizeof(*z->slots));
	ldns_rr **sorted = calloc(total ? total : 1, sizeof(*sorted));
	if (rc == ACM_OK && (!z->nodes || !z->slots || !sorted))
		rc = -ENOMEM;
	z->slot_mask = slots - 1;
	for (size_t i = 0; rc == ACM_OK && i < total; i++) {
		uint8_t owner[ACM_DNAME_MAX];
		sorted[i] = ldns_rr_list_rr(all, i);
		size_t olen = rr_owner(sorted[i], owner);
		rc = add_nodes(z, cap, owner, olen);
	}
	if (rc == ACM_OK) {
		qsort(sorted, total, sizeof(*sorted), cmp_rr);
		rc = build_rrsets(z, all, sorted, total);
	}
	if (rc == ACM_OK)
		rc = digest_static(z, sorted, total);
	free(sorted);
	ldns_rr_list_deep_free(all);
	return rc;
}

static void zone_free(acm_zone_t *z)
{
	for (size_t i = 0; z->nodes && i < z->node_count; i++) {
		for (size_t j = 0; j < z->nodes[i].rrset_count; j++) {
			free(z->nodes[i].rrsets[j].wire);
			free(z->nodes[i].rrsets[j].extra);
		}
		free(z->nodes[i].rrsets);
	}
	free(z->nodes);
	free(z->slots);
	if (z->keys)
		OPENSSL_cleanse(z->keys, z->key_count * sizeof(*z->keys));
	free(z->keys);
	free(z->allow);
	free(z->notify);
	free(z->rrl.exempt);
	acm_dnssec_keyset_clear(&z->dkeys);
	free(z);
}

/* A copy of n items of size bytes; *out stays NULL for none. */
static int copy_array(void **out, const void *src, size_t n, size_t size)
{
	if (n == 0)
		return ACM_OK;
	if (!(*out = malloc(n * size)))
		return -ENOMEM;
	memcpy(*out, src, n * size);
	return ACM_OK;
}

static int copy_policy(acm_zone_t *z, const acm_config_t *cfg)
{
	int rc;

	z->update_enabled = cfg->update.enabled;
	z->key_count = cfg->tsig_count;
	z->allow_count = cfg->transfer.allow_count;
	z->notify_count = cfg->transfer.notify_count;
	z->rrl = cfg->rrl;
	z->rrl.exempt = NULL;
	if ((rc = copy_array((void **)&z->rrl.exempt, cfg->rrl.exempt, z->rrl.exempt_count,
	                     sizeof(*z->rrl.exempt))) ||
	    (rc = copy_array((void **)&z->keys, cfg->tsig, z->key_count, sizeof(*z->keys))) ||
	    (rc = copy_array((void **)&z->allow, cfg->transfer.allow, z->allow_count,
	                     sizeof(*z->allow))) ||
	    (rc = copy_array((void **)&z->notify, cfg->transfer.notify, z->notify_count,
	                     sizeof(*z->notify))))
		return rc;
	return ACM_OK;
}

/* A signed zone takes the keys over and says how its answers are signed. */
static int take_keys(acm_zone_t *z, const acm_config_t *cfg, acm_dnssec_keyset_t *keys,
                     char *err, size_t errlen)
{
	z->dkeys = *keys;
	keys->count = 0;
	z->is_signed = true;
	if (!acm_dnssec_keyset_active(&z->dkeys)) {
		snprintf(err, errlen, "dnssec: no active key");
		return ACM_ECONFIG;
	}
	z->signing = (acm_zone_signing_t){
		.keys = &z->dkeys,
		.validity = cfg->dnssec.signature_validity,
		.refresh = cfg->dnssec.signature_refresh,
		.nsec_ttl = negative_ttl(cfg),
	};
	return ACM_OK;
}

int acm_zone_build(const acm_config_t *cfg, acm_zone_t **out, char *err, size_t errlen)
{
	return acm_zone_build_signed(cfg, NULL, out, err, errlen);
}

int acm_zone_build_signed(const acm_config_t *cfg, acm_dnssec_keyset_t *keys, acm_zone_t **out,
                          char *err, size_t errlen)
{
	acm_zone_t *z = calloc(1, sizeof(*z));
	if (!z) {
		if (keys)
			acm_dnssec_keyset_clear(keys);
		return -ENOMEM;
	}
	atomic_init(&z->refs, 1);
	z->apex_len = acm_dname_len(cfg->apex);
	memcpy(z->apex, cfg->apex, z->apex_len);
	acm_dname_lower(z->apex);
	z->txt_ttl = cfg->txt_ttl;
	build_soa_tail(z, cfg);
	int rc = keys && cfg->dnssec.enabled ? take_keys(z, cfg, keys, err, errlen) : ACM_OK;
	if (keys)
		acm_dnssec_keyset_clear(keys);   /* unused when the zone is not signed */
	if (rc == ACM_OK)
		rc = copy_policy(z, cfg);
	if (rc == ACM_OK)
		rc = zone_fill(z, cfg, err, errlen);
	if (rc != ACM_OK) {
		zone_free(z);
		return rc;
	}
	*out = z;
	return ACM_OK;
}

void acm_zone_ref(acm_zone_t *zone)
{
	atomic_fetch_add(&zone->refs, 1);
}

void acm_zone_unref(acm_zone_t *zone)
{
	if (zone && atomic_fetch_sub(&zone->refs, 1) == 1)
		zone_free(zone);
}

const uint8_t *acm_zone_digest(const acm_zone_t *zone)
{
	return zone->digest;
}

const uint8_t *acm_zone_apex(const acm_zone_t *zone, size_t *len)
{
	*len = zone->apex_len;
	return zone->apex;
}

uint32_t acm_zone_txt_ttl(const acm_zone_t *zone)
{
	return zone->txt_ttl;
}

const uint8_t *acm_zone_soa_tail(const acm_zone_t *zone, size_t *len, size_t *serial_off)
{
	*len = zone->soa_tail_len;
	*serial_off = zone->soa_serial_off;
	return zone->soa_tail;
}

const acm_zone_signing_t *acm_zone_signing(const acm_zone_t *zone)
{
	return zone->is_signed ? &zone->signing : NULL;
}

const acm_node_t *acm_zone_find(const acm_zone_t *zone, const uint8_t *owner, size_t len)
{
	if (len > ACM_DNAME_MAX || !(zone->owner_lens[len / 64] >> (len % 64) & 1))
		return NULL;
	uint32_t h = acm_dname_hash(owner, len) & (uint32_t)zone->slot_mask;
	for (uint32_t idx; (idx = zone->slots[h]) != 0; h = (h + 1) & (uint32_t)zone->slot_mask) {
		const acm_node_t *n = &zone->nodes[idx - 1];
		if (n->owner_len == len && memcmp(n->owner, owner, len) == 0)
			return n;
	}
	return NULL;
}

void acm_zone_classify(const acm_zone_t *zone, const uint8_t *name, size_t len, acm_zname_t *out)
{
	size_t apex_len;
	const uint8_t *apex = acm_zone_apex(zone, &apex_len);
	acm_zname_shape_len(name, len, apex, apex_len, out);
	if (out->kind == ACM_ZNAME_OUTSIDE)
		return;
	out->node = acm_zone_find(zone, name, len);
	if (out->node && out->kind != ACM_ZNAME_APEX) {
		out->kind = ACM_ZNAME_STATIC;
		out->label = NULL;
	}
}

const acm_rrset_t *acm_node_rrset(const acm_node_t *node, uint16_t type)
{
	for (size_t i = 0; i < node->rrset_count; i++)
		if (node->rrsets[i].type == type)
			return &node->rrsets[i];
	return NULL;
}

const acm_node_t *acm_zone_node_at(const acm_zone_t *zone, size_t i)
{
	return i < zone->node_count ? &zone->nodes[i] : NULL;
}

const acm_tsig_key_t *acm_zone_tsig_key(const acm_zone_t *z, const uint8_t *name, size_t len)
{
	for (size_t i = 0; i < z->key_count; i++)
		if (z->keys[i].name_len == len && memcmp(z->keys[i].name, name, len) == 0)
			return &z->keys[i];
	return NULL;
}

static bool allow_matches(const struct acm_transfer_allow *a, const struct sockaddr *client,
                          const uint8_t *key, size_t key_len)
{
	if (a->has_address && (!client || !acm_cidr_match(&a->address, client)))
		return false;
	if (a->has_key && (!key || key_len != a->key_len || memcmp(key, a->key, key_len) != 0))
		return false;
	return true;
}

bool acm_zone_transfer_allowed(const acm_zone_t *z, const struct sockaddr *client,
                               const uint8_t *signed_key, size_t key_len)
{
	for (size_t i = 0; i < z->allow_count; i++)
		if (allow_matches(&z->allow[i], client, signed_key, key_len))
			return true;
	return false;
}

bool acm_zone_update_enabled(const acm_zone_t *z)
{
	return z->update_enabled;
}

size_t acm_zone_notify_targets(const acm_zone_t *z, const acm_listen_t **out)
{
	*out = z->notify;
	return z->notify_count;
}

const acm_rrl_conf_t *acm_zone_rrl(const acm_zone_t *z)
{
	return &z->rrl;
}
