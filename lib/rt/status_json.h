/* SPDX-License-Identifier: ISC */
/*
 * The JSON of the zone's status and of one secondary: one encoder for
 * GET /v1/zone/status, GET /v1/health and acmensctl status --json, so that
 * a script reads any of them (docs/api.md, "JSON objects").
 */
#ifndef ACM_STATUS_JSON_H
#define ACM_STATUS_JSON_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "lib/rt/zone_status.h"

/*
 * {"address","serial","last_seen","current","notify","error"} of s against
 * the primary's serial: serial and last_seen null until it answered,
 * notify null until a NOTIFY went out (else {"serial","sent","acked",
 * "tries"}), error null or why the last SOA query got no serial. NULL when
 * out of memory.
 */
json_t *acm_secondary_json(const acm_secondary_status_t *s, uint32_t serial, const char *error);

/* Whether s serves serial or a newer one (RFC 1982). */
bool acm_secondary_current(const acm_secondary_status_t *s, uint32_t serial);

/* {"zone","serial","synced","secondaries"}; zone_text without the final dot.
 * Takes secondaries (a JSON array) even on failure. NULL when out of
 * memory. */
json_t *acm_zone_status_json(const char *zone_text, uint32_t serial, bool synced,
                             json_t *secondaries);

#endif
