/* SPDX-License-Identifier: ISC */
/*
 * GET /v1/zone/status: the zone's serial and, per secondary in
 * transfer.notify, the serial it last answered to our SOA query, when, and
 * whether that is current (RFC 1982), so a client can wait until every
 * secondary serves its record before asking the CA to validate.
 *
 * Public, like the DNS it describes: every serial here can be read by
 * anyone with an SOA query, and the addresses of the secondaries are the
 * zone's own name servers. It needs no account and reveals no account.
 */
#include <jansson.h>
#include <stdlib.h>

#include "httpapi/http.h"
#include "lib/error.h"
#include "lib/rt/status_json.h"

static void zone_status(acm_req_t *r)
{
	uint32_t serial = 0, noted;
	bool have;
	size_t n = 0;
	acm_zone_status_t *st = acm_req_zone_status(r);
	acm_secondary_status_t *rows = NULL;
	if (acm_store_serial(acm_req_store(r), &serial) != ACM_OK) {
		acm_reply_error(r, 500, "store_error", NULL);
		return;
	}
	if (st) {
		n = acm_zone_status_get(st, &noted, &have, NULL, 0);
		rows = acm_req_alloc(r, (n ? n : 1) * sizeof(*rows));
		if (!rows) {
			acm_reply_error(r, 500, "out_of_memory", NULL);
			return;
		}
		size_t got = acm_zone_status_get(st, &noted, &have, rows, n);
		n = got < n ? got : n;   /* a reload may have shrunk the list */
	}
	json_t *list = json_array();
	bool synced = true;
	for (size_t i = 0; list && i < n; i++) {
		synced = synced && acm_secondary_current(&rows[i], serial);
		json_array_append_new(list, acm_secondary_json(&rows[i], serial, NULL));
	}
	json_t *body = acm_zone_status_json(acm_req_settings(r)->zone_text, serial, synced, list);
	if (!body) {
		acm_reply_error(r, 500, "out_of_memory", NULL);
		return;
	}
	acm_reply_json(r, 200, body);
}

const acm_route_t acm_routes_zone[] = {
	{ "GET", "/v1/zone/status", zone_status },
	{ NULL, NULL, NULL },
};
