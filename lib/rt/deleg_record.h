/* SPDX-License-Identifier: ISC */
/*
 * An account's last delegation check as the store keeps it
 * (lib/store/store_deleg.h), in the words of lib/rt/delegation.h: the one
 * JSON view the admin API (GET /v1/admin/accounts/SUB) and acmensctl
 * account show --json give it (docs/api.md, "JSON objects"), and the
 * counts per status for /metrics.
 */
#ifndef ACM_RT_DELEG_RECORD_H
#define ACM_RT_DELEG_RECORD_H

#include <jansson.h>
#include <stdint.h>

#include "lib/rt/delegation.h"
#include "lib/store/store_deleg.h"

/* {"checked": unix seconds, "status": name, "secure": bool}; a status
 * byte this release does not know is named "unknown". NULL when out of
 * memory. */
json_t *acm_deleg_rec_json(const acm_deleg_rec_t *rec);

/* The account's last check: *out gets the object above, or JSON null when
 * it was never checked. ACM_OK, a store failure, or -ENOMEM. */
int acm_deleg_last_json(acm_store_t *store, const char *subdomain, json_t **out);

/* The name of a stored status byte: acm_deleg_status_name, or "unknown". */
const char *acm_deleg_rec_status(const acm_deleg_rec_t *rec);

/* counts[s] for every status of delegation.h: accounts whose last check
 * has it. ACM_OK or a store failure. */
int acm_deleg_counts(acm_store_t *store, uint64_t counts[ACM_DELEG_STATUS_COUNT]);

#endif
