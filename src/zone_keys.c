/* SPDX-License-Identifier: ISC */
/*
 * The signed zone from the store's keys (zone_keys.h). The only private
 * key bytes handled here stay inside the key objects; what is logged is
 * the key's tag, algorithm and DS.
 */
#include <stdio.h>
#include <string.h>

#include "lib/dns/dname.h"
#include "lib/error.h"
#include "lib/log.h"
#include "lib/store/store_dnssec.h"
#include "src/zone_keys.h"

/* The DS a parent needs for key, as its presentation-format rdata. */
static void log_new_key(const acm_config_t *cfg, const acm_dnssec_key_t *key)
{
	uint8_t ds[ACM_DS_RDATA_LEN], apex[ACM_DNAME_MAX];
	char text[ACM_DS_TEXT_MAX];
	size_t len = acm_dname_len(cfg->apex);
	memcpy(apex, cfg->apex, len);
	acm_dname_lower(apex);
	if (acm_dnssec_key_ds(key, apex, len, ds) != ACM_OK)
		return;
	acm_dnssec_ds_text(ds, text);
	acm_log_kv(ACM_LOG_NOTICE, "dnssec: no key in the store, generated one (active)",
	           ACM_KU("tag", acm_dnssec_key_tag(key)),
	           ACM_KS("algorithm", acm_dnssec_algorithm_name(acm_dnssec_key_algorithm(key))),
	           ACM_KS("ds", text));
}

/* One ACTIVE key of the configured algorithm, into the store. */
static int generate_key(const acm_config_t *cfg, acm_store_t *store)
{
	acm_dnssec_key_t *key = NULL;
	uint32_t id;
	int rc = acm_dnssec_key_generate(cfg->dnssec.algorithm, &key);
	if (rc == ACM_OK)
		rc = acm_store_dnssec_add(store, key, ACM_KEY_ACTIVE, "acmensd", &id);
	if (rc == ACM_OK)
		log_new_key(cfg, key);
	acm_dnssec_key_free(key);
	return rc;
}

int acm_zone_keys_build(const acm_config_t *cfg, acm_store_t *store, acm_zone_t **out,
                        uint64_t *generation, char *err, size_t errlen)
{
	acm_dnssec_keyset_t keys = { 0 };
	*generation = 0;
	if (!cfg->dnssec.enabled)
		return acm_zone_build(cfg, out, err, errlen);
	int rc = acm_store_dnssec_load(store, &keys, generation);
	if (rc == ACM_OK && keys.count == 0) {
		rc = generate_key(cfg, store);
		if (rc == ACM_OK)
			rc = acm_store_dnssec_load(store, &keys, generation);
	}
	if (rc != ACM_OK) {
		snprintf(err, errlen, "dnssec: cannot read the keys from the store: %s",
		         acm_strerror(rc));
		acm_dnssec_keyset_clear(&keys);
		return rc;
	}
	return acm_zone_build_signed(cfg, &keys, out, err, errlen);
}
