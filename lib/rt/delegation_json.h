/* SPDX-License-Identifier: ISC */
/*
 * A delegation check's result as JSON, the one shape the API
 * (GET /v1/accounts/SUB/delegation, GET /v1/admin/delegation) and
 * acmensctl delegation check --json give it (docs/api.md, "JSON objects"):
 *
 *   {"domain", "subdomain", "status", "chain": [names], "secure": bool,
 *    "target": name|null, "target_is_account": bool|null,
 *    "reason": text|null, "values_visible": [values]|null,
 *    "checked": unix seconds, "ms": n}
 *
 * Names without the final dot. An account's own route must not tell which
 * other account a chain ends at: with name_other_account false, a target
 * that is another account of the zone is given as null (target_is_account
 * true says that much) and the chain stops before it; a reason naming it
 * says "another account's name" instead. The chain stops before it too when
 * the check failed there (servfail, timeout), whatever the status.
 */
#ifndef ACM_RT_DELEGATION_JSON_H
#define ACM_RT_DELEGATION_JSON_H

#include <jansson.h>
#include <stdbool.h>

#include "lib/rt/delegation.h"

/* A new reference, or NULL (out of memory). */
json_t *acm_deleg_result_json(const acm_deleg_result_t *r, bool name_other_account);

#endif
