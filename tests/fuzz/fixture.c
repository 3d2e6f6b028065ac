/* SPDX-License-Identifier: ISC */
/*
 * The fuzz targets' fixture (fixture.h): a zone with static records of
 * most types, CNAME chains and loops, and an RRset too big for UDP, also
 * signed with a key made at start; the account key; and the NOTIFY whose reply the notifier would verify.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "lib/error.h"
#include "lib/rt/soa_probe.h"
#include "tests/fuzz/fixture.h"

/* keys: NULL for the unsigned zone. */
static acm_zone_t *make_zone(acm_dnssec_keyset_t *keys)
{
	static uint8_t ns[2][ACM_DNAME_MAX];
	static acm_record_src_t recs[] = {
		{ "ns1.auth.example.org. 3600 IN A 192.0.2.53", 1, NULL },
		{ "ns1.auth.example.org. 3600 IN AAAA 2001:db8::53", 2, NULL },
		{ "auth.example.org. 3600 IN CAA 0 issue \"letsencrypt.org\"", 3, NULL },
		{ "www.deep.auth.example.org. 300 IN CNAME auth.example.org.", 4, NULL },
		{ "mail.auth.example.org. 300 IN MX 10 ns1.auth.example.org.", 5, NULL },
		{ "loop1.auth.example.org. 300 IN CNAME loop2.auth.example.org.", 7, NULL },
		{ "loop2.auth.example.org. 300 IN CNAME loop1.auth.example.org.", 8, NULL },
		{ "acct.auth.example.org. 300 IN CNAME d420c923-bbd7-4056-ab64-c3ca54c9b3cf.auth.example.org.", 9, NULL },
		{ "gone.auth.example.org. 300 IN CNAME nowhere.auth.example.org.", 10, NULL },
		{ "big.auth.example.org. 300 IN TXT \"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\" \"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\" \"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\" \"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\" \"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\" \"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\" ", 6, NULL },
	};
	static acm_config_t cfg;
	acm_dname_from_text("auth.example.org.", cfg.apex);
	acm_dname_from_text("ns1.auth.example.org.", ns[0]);
	acm_dname_from_text("ns2.example.net.", ns[1]);
	cfg.ns = ns;
	cfg.ns_count = 2;
	memcpy(cfg.soa.mname, ns[0], sizeof(ns[0]));
	acm_dname_from_text("hostmaster.example.org.", cfg.soa.rname);
	cfg.soa.refresh = 3600;
	cfg.soa.retry = 600;
	cfg.soa.expire = 604800;
	cfg.soa.minimum = 60;
	cfg.soa.ttl = 3600;
	cfg.txt_ttl = 1;
	cfg.records = recs;
	cfg.record_count = sizeof(recs) / sizeof(recs[0]);
	cfg.dnssec.enabled = keys != NULL;
	cfg.dnssec.signature_validity = 14 * 86400;
	cfg.dnssec.signature_refresh = 7 * 86400;
	/* What the configuration loader does: each record parsed once. */
	for (size_t i = 0; i < cfg.record_count; i++)
		if (!recs[i].rr &&
		    ldns_rr_new_frm_str(&recs[i].rr, recs[i].text, cfg.soa.ttl, NULL, NULL) !=
		    LDNS_STATUS_OK)
			abort();
	acm_zone_t *zone = NULL;
	char err[256];
	if (acm_zone_build_signed(&cfg, keys, &zone, err, sizeof(err)) != ACM_OK) {
		fprintf(stderr, "fuzz zone: %s\n", err);
		abort();
	}
	return zone;
}

acm_zone_t *fuzz_zone(void)
{
	static acm_zone_t *zone;
	if (!zone)
		zone = make_zone(NULL);
	return zone;
}

acm_zone_t *fuzz_signed_zone(void)
{
	static acm_zone_t *zone;
	if (zone)
		return zone;
	acm_dnssec_keyset_t keys = { .count = 1 };
	keys.keys[0].state = ACM_KEY_ACTIVE;
	keys.keys[0].id = 1;
	if (acm_dnssec_key_generate(ACM_DNSSEC_ALG_ECDSAP256SHA256, &keys.keys[0].key) != ACM_OK)
		abort();
	zone = make_zone(&keys);
	return zone;
}

const acm_tsig_key_t *fuzz_key(void)
{
	static acm_tsig_key_t key;
	if (key.name_len == 0 &&
	    acm_tsig_key_from_text(FUZZ_KEY_NAME, "hmac-sha256", FUZZ_KEY_SECRET, &key) != ACM_OK)
		abort();
	return &key;
}

const uint8_t *fuzz_notify_mac(size_t *len)
{
	static uint8_t mac[ACM_TSIG_MAC_MAX];
	static size_t mac_len;
	if (mac_len == 0) {
		uint8_t msg[ACM_SOA_MSG_MAX + 512], apex[ACM_DNAME_MAX];
		acm_dname_from_text(FUZZ_APEX, apex);
		int n = acm_soa_message(msg, sizeof(msg), FUZZ_NOTIFY_ID, ACM_OPCODE_NOTIFY, apex);
		if (n < 0 || acm_tsig_sign(msg, (size_t)n, sizeof(msg), fuzz_key(), NULL, 0, false,
		                           FUZZ_NOW, FUZZ_NOTIFY_ID, 0, mac, &mac_len) < 0)
			abort();
	}
	*len = mac_len;
	return mac;
}
