/* SPDX-License-Identifier: ISC */
/*
 * The JSON an operator sees of the store as a whole, of an audit record
 * and of a TSIG key: one encoder each for the admin API and acmensctl
 * --json, so that a script reads either (docs/api.md, "JSON objects").
 */
#ifndef ACM_STORE_JSON_H
#define ACM_STORE_JSON_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "lib/dns/tsig.h"
#include "lib/store/store.h"

/* {"accounts","values","serial","file_bytes","used_bytes","map_size",
 * "last_txn"}; values counts those expired but not yet swept. NULL when out
 * of memory. */
json_t *acm_stats_json(size_t accounts, size_t values, uint32_t serial,
                       const acm_store_info_t *info);

/* One audit record (text, len as the store keeps it) with its "seq"; a
 * record that does not decode keeps its place as {"raw","seq"}. NULL when
 * out of memory. */
json_t *acm_audit_entry_json(uint64_t seq, const char *text, size_t len);

/* {"name","algorithm","secret"}: the name without the final dot, the
 * secret in base64. NULL when out of memory. */
json_t *acm_tsig_key_json(const acm_tsig_key_t *key);

#endif
