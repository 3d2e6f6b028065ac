/* SPDX-License-Identifier: ISC */
/*
 * A signed zone's build (lib/conf/zone.c: keys taken over, DNSKEY, CDS and
 * CDNSKEY at the apex, the digest moving with the keys, no active key
 * refused) and the signature cache (dnsd/sigcache.c: hits, refresh,
 * different keys and RRsets, the ring coming round).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "dnsd/sign.h"
#include "lib/conf/config.h"
#include "lib/conf/zone.h"
#include "lib/error.h"

#define YAML "zone:\n  name: acme.example.org\n  ns: [ns1.example.org]\n" \
	"dnssec:\n  enabled: true\n"

static acm_config_t *config(void)
{
	char path[] = "/tmp/acmens-test-sign-XXXXXX", err[ACM_CONFIG_ERR_MAX] = "";
	int fd = mkstemp(path);
	acm_config_t *cfg = NULL;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, YAML, strlen(YAML)), (ssize_t)strlen(YAML));
	close(fd);
	if (acm_config_load(path, &cfg, err, sizeof(err)) != ACM_OK)
		fail_msg("%s", err);
	unlink(path);
	return cfg;
}

static void add_key(acm_dnssec_keyset_t *ks, uint8_t state)
{
	acm_dnssec_keyent_t *e = &ks->keys[ks->count++];
	memset(e, 0, sizeof(*e));
	e->state = state;
	e->id = (uint32_t)ks->count;
	assert_int_equal(acm_dnssec_key_generate(ACM_DNSSEC_ALG_ED25519, &e->key), ACM_OK);
}

static const acm_rrset_t *apex_set(const acm_zone_t *z, uint16_t type)
{
	size_t len;
	const uint8_t *apex = acm_zone_apex(z, &len);
	const acm_node_t *n = acm_zone_find(z, apex, len);
	assert_non_null(n);
	return acm_node_rrset(n, type);
}

static void test_signed_zone(void **state)
{
	(void)state;
	acm_config_t *cfg = config();
	acm_zone_t *plain = NULL, *one = NULL, *two = NULL;
	acm_dnssec_keyset_t ks = { 0 };
	char err[256];
	assert_int_equal(acm_zone_build(cfg, &plain, err, sizeof(err)), ACM_OK);
	assert_null(acm_zone_signing(plain));
	assert_null(apex_set(plain, ACM_RRTYPE_DNSKEY));

	add_key(&ks, ACM_KEY_ACTIVE);
	assert_int_equal(acm_zone_build_signed(cfg, &ks, &one, err, sizeof(err)), ACM_OK);
	assert_int_equal(ks.count, 0);   /* taken over */
	const acm_zone_signing_t *zs = acm_zone_signing(one);
	assert_non_null(zs);
	assert_int_equal(zs->keys->count, 1);
	assert_int_equal(zs->nsec_ttl, cfg->soa.ttl < cfg->soa.minimum ? cfg->soa.ttl
	                                                                 : cfg->soa.minimum);
	assert_int_equal(zs->validity, cfg->dnssec.signature_validity);
	assert_int_equal(apex_set(one, ACM_RRTYPE_DNSKEY)->count, 1);
	assert_int_equal(apex_set(one, ACM_RRTYPE_CDS)->count, 1);
	assert_int_equal(apex_set(one, ACM_RRTYPE_CDNSKEY)->count, 1);
	assert_memory_not_equal(acm_zone_digest(plain), acm_zone_digest(one), ACM_ZONE_DIGEST_LEN);

	/* a rollover's published key: in DNSKEY, and CDS names it */
	add_key(&ks, ACM_KEY_ACTIVE);
	add_key(&ks, ACM_KEY_PUBLISHED);
	assert_int_equal(acm_zone_build_signed(cfg, &ks, &two, err, sizeof(err)), ACM_OK);
	assert_int_equal(apex_set(two, ACM_RRTYPE_DNSKEY)->count, 2);
	assert_int_equal(apex_set(two, ACM_RRTYPE_CDS)->count, 1);
	assert_memory_not_equal(acm_zone_digest(one), acm_zone_digest(two), ACM_ZONE_DIGEST_LEN);
	acm_zone_unref(plain);
	acm_zone_unref(one);
	acm_zone_unref(two);
	acm_config_free(cfg);
}

static void test_no_active_key(void **state)
{
	(void)state;
	acm_config_t *cfg = config();
	acm_zone_t *z = NULL;
	acm_dnssec_keyset_t ks = { 0 };
	char err[256] = "";
	add_key(&ks, ACM_KEY_PUBLISHED);
	assert_int_equal(acm_zone_build_signed(cfg, &ks, &z, err, sizeof(err)), ACM_ECONFIG);
	assert_null(z);
	assert_non_null(strstr(err, "no active key"));
	assert_int_equal(ks.count, 0);
	/* dnssec off: the keys are not used (and freed), the zone unsigned */
	cfg->dnssec.enabled = false;
	add_key(&ks, ACM_KEY_ACTIVE);
	assert_int_equal(acm_zone_build_signed(cfg, &ks, &z, err, sizeof(err)), ACM_OK);
	assert_null(acm_zone_signing(z));
	assert_int_equal(ks.count, 0);
	acm_zone_unref(z);
	acm_config_free(cfg);
}

static void counts(const acm_sigcache_t *c, uint64_t hits, uint64_t misses)
{
	uint64_t h, m;
	acm_sigcache_counts(c, &h, &m);
	assert_int_equal(h, hits);
	assert_int_equal(m, misses);
}

static void test_cache(void **state)
{
	(void)state;
	acm_sigcache_t *c = NULL;
	const uint8_t key[] = "key-a", other[] = "key-b", rrs[] = "rrset", sig[] = "signature";
	size_t len = 0;
	assert_int_equal(acm_sigcache_new(0, &c), ACM_OK);
	assert_null(acm_sigcache_get(c, key, 5, rrs, 5, 1000, 100, &len));
	acm_sigcache_put(c, key, 5, rrs, 5, 2000, sig, 9);
	const uint8_t *got = acm_sigcache_get(c, key, 5, rrs, 5, 1000, 100, &len);
	assert_non_null(got);
	assert_int_equal(len, 9);
	assert_memory_equal(got, sig, 9);
	counts(c, 1, 1);
	/* another key, another RRset, or less than refresh left: misses */
	assert_null(acm_sigcache_get(c, other, 5, rrs, 5, 1000, 100, &len));
	assert_null(acm_sigcache_get(c, key, 5, rrs, 4, 1000, 100, &len));
	assert_null(acm_sigcache_get(c, key, 5, rrs, 5, 1900, 100, &len));
	counts(c, 1, 4);
	/* the ring comes round: the first entry is gone, the last is there */
	uint8_t big[4096] = { 0 };
	for (unsigned i = 0; i < 64; i++) {
		big[0] = (uint8_t)i;
		acm_sigcache_put(c, key, 5, big, sizeof(big), 2000, sig, 9);
	}
	assert_null(acm_sigcache_get(c, key, 5, rrs, 5, 1000, 100, &len));
	assert_non_null(acm_sigcache_get(c, key, 5, big, sizeof(big), 1000, 100, &len));
	acm_sigcache_free(c);
}

/* Two RRsets asked for in turn whose hashes pick the same slot both stay; a
 * third pushes out the one written longer ago, and signing one again
 * takes its own slot, not its neighbour's. */
static void test_cache_pairs(void **state)
{
	(void)state;
	acm_sigcache_t *c = NULL;
	const uint8_t key[] = "key-a", sig[] = "signature";
	char rr[3][8];
	size_t found = 0, len;
	uint64_t pair = 0;
	assert_int_equal(acm_sigcache_new(0, &c), ACM_OK);   /* 64 KiB: 256 slots */
	for (unsigned i = 0; found < 3 && i < 100000; i++) {
		char name[8];
		snprintf(name, sizeof(name), "n%u", i);
		uint64_t p = acm_sigcache_hash(key, 5, (const uint8_t *)name, strlen(name)) & 255;
		if (found == 0)
			pair = p;
		if (p == pair)
			memcpy(rr[found++], name, sizeof(name));
	}
	assert_int_equal(found, 3);
	const uint8_t *a = (const uint8_t *)rr[0], *b = (const uint8_t *)rr[1],
	              *d = (const uint8_t *)rr[2];
	acm_sigcache_put(c, key, 5, a, strlen(rr[0]), 2000, sig, 9);
	acm_sigcache_put(c, key, 5, b, strlen(rr[1]), 2000, sig, 9);
	assert_non_null(acm_sigcache_get(c, key, 5, a, strlen(rr[0]), 1000, 100, &len));
	assert_non_null(acm_sigcache_get(c, key, 5, b, strlen(rr[1]), 1000, 100, &len));
	acm_sigcache_put(c, key, 5, a, strlen(rr[0]), 2000, sig, 9);   /* a again: b stays */
	assert_non_null(acm_sigcache_get(c, key, 5, b, strlen(rr[1]), 1000, 100, &len));
	acm_sigcache_put(c, key, 5, d, strlen(rr[2]), 2000, sig, 9);   /* b is the older now */
	assert_null(acm_sigcache_get(c, key, 5, b, strlen(rr[1]), 1000, 100, &len));
	assert_non_null(acm_sigcache_get(c, key, 5, a, strlen(rr[0]), 1000, 100, &len));
	assert_non_null(acm_sigcache_get(c, key, 5, d, strlen(rr[2]), 1000, 100, &len));
	acm_sigcache_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_signed_zone),
		cmocka_unit_test(test_no_active_key),
		cmocka_unit_test(test_cache),
		cmocka_unit_test(test_cache_pairs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
