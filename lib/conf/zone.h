/* SPDX-License-Identifier: ISC */
/*
 * The static part of the zone, built from the configuration: SOA, apex NS
 * and the records under zone.records, pre-rendered as wire bytes so that an
 * answer is a memcpy. TXT values live in the store and are not here.
 *
 * A zone is immutable once built and reference counted, so a reload can
 * build a new one and swap it in while workers still answer from the old.
 */
#ifndef ACM_ZONE_H
#define ACM_ZONE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ldns/ldns.h>

#include "lib/conf/config.h"
#include "lib/dns/dnssec.h"
#include "lib/dns/consts.h"
#include "lib/dns/rrset.h"
#include "lib/dns/zone_names.h"

/* One RRset, rendered for the answer section: each RR's owner is the
 * compression pointer 0xC00C (the question name), so the bytes fit any
 * response to a question for this owner. */
typedef struct {
	uint16_t type;
	uint16_t count;
	uint8_t *wire;
	size_t wire_len;
	int serial_off;          /* SOA only: where the serial sits in wire, else -1 */
	/* Addresses of in-zone targets (NS, MX, SRV) for the additional
	 * section, owners written out in full. */
	uint8_t *extra;
	size_t extra_len;
	uint16_t extra_count;
} acm_rrset_t;

typedef struct acm_node {
	uint8_t owner[ACM_DNAME_MAX];   /* lower case */
	size_t owner_len;
	size_t rrset_count;             /* 0: empty non-terminal */
	acm_rrset_t *rrsets;
	const acm_rrset_t *cname;       /* set when the node holds a CNAME */
} acm_node_t;

typedef struct acm_zone acm_zone_t;

/*
 * Build the static zone from a loaded configuration. Returns ACM_OK, or
 * ACM_ECONFIG with a message in err (records are re-checked here), or
 * -ENOMEM. The new zone has one reference.
 */
int acm_zone_build(const acm_config_t *cfg, acm_zone_t **out, char *err, size_t errlen);
/*
 * The same, signed: keys (taken over, emptied; may be NULL when
 * dnssec.enabled is false) add DNSKEY at the apex (every key) and CDS and
 * CDNSKEY (acm_dnssec_keyset_ds_key), so that they are answered, counted
 * in the digest and transferred like any static RRset; the zone then
 * carries what answers need to be signed (acm_zone_signing).
 */
int acm_zone_build_signed(const acm_config_t *cfg, acm_dnssec_keyset_t *keys, acm_zone_t **out,
                          char *err, size_t errlen);
void acm_zone_ref(acm_zone_t *zone);
void acm_zone_unref(acm_zone_t *zone);

const uint8_t *acm_zone_apex(const acm_zone_t *zone, size_t *len);
/* ACM_ZONE_DIGEST_LEN bytes (SHA-256) identifying the static content
 * (records, SOA fields, TTLs), for the store to tell when it changed. */
#define ACM_ZONE_DIGEST_LEN 32
const uint8_t *acm_zone_digest(const acm_zone_t *zone);
uint32_t acm_zone_txt_ttl(const acm_zone_t *zone);
/* The SOA for negative answers, after its owner name: type, class, TTL
 * (min of SOA TTL and minimum), rdlength, rdata; *serial_off locates the
 * serial within it. */
const uint8_t *acm_zone_soa_tail(const acm_zone_t *zone, size_t *len, size_t *serial_off);

/* What signing answers takes: NULL when the zone is not signed. */
typedef struct {
	const acm_dnssec_keyset_t *keys;   /* at least one ACTIVE key */
	uint32_t validity;                 /* dnssec.signature_validity */
	uint32_t refresh;                  /* dnssec.signature_refresh */
	uint32_t nsec_ttl;                 /* the negative-answer SOA's TTL (RFC 9824 3) */
} acm_zone_signing_t;
const acm_zone_signing_t *acm_zone_signing(const acm_zone_t *zone);

/* Find a node by lower-case wire name; NULL if there is none. */
const acm_node_t *acm_zone_find(const acm_zone_t *zone, const uint8_t *owner, size_t len);
/*
 * What name is in this zone, as the DNS answer looks data up: a static
 * node first (its node in out->node; APEX or STATIC), then by shape
 * (acm_zname_shape). name is the lower-case wire name and len its length.
 */
void acm_zone_classify(const acm_zone_t *zone, const uint8_t *name, size_t len, acm_zname_t *out);
/* The node's RRset of a type, or NULL. */
const acm_rrset_t *acm_node_rrset(const acm_node_t *node, uint16_t type);
/* Every node by index, in no particular order, for a zone transfer: NULL
 * once i reaches the count. */
const acm_node_t *acm_zone_node_at(const acm_zone_t *zone, size_t i);

/*
 * The zone's policy, copied from the configuration it was built from so
 * that a reload swaps it with the records.
 *
 * The tsig: key of a lower-case wire name, or NULL.
 */
const acm_tsig_key_t *acm_zone_tsig_key(const acm_zone_t *z, const uint8_t *name, size_t len);
/*
 * May this client transfer the zone? Yes if any transfer.allow entry
 * matches: its address (if given) contains client, and its key (if given)
 * is signed_key, the lower-case wire name of the key the request was
 * verified with (NULL if unsigned or not verified). No entries: nobody.
 */
bool acm_zone_transfer_allowed(const acm_zone_t *z, const struct sockaddr *client,
                               const uint8_t *signed_key, size_t key_len);
/* update.enabled */
bool acm_zone_update_enabled(const acm_zone_t *z);
/* transfer.notify: the targets (*out valid while the zone is), and their count. */
size_t acm_zone_notify_targets(const acm_zone_t *z, const acm_listen_t **out);
/* dns.rrl, valid while the zone is (lib/rt/rrl.h). */
const acm_rrl_conf_t *acm_zone_rrl(const acm_zone_t *z);

/*
 * All static RRs of the configuration as an ldns list (SOA first with the
 * given serial, then apex NS, then zone.records), for export. Caller frees
 * with ldns_rr_list_deep_free. ACM_OK or ACM_ECONFIG with err.
 */
int acm_zone_static_rrs(const acm_config_t *cfg, uint32_t serial, ldns_rr_list **out,
                        char *err, size_t errlen);

#endif
