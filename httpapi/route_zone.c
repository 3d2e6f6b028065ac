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
#include "lib/dns/serial.h"
#include "lib/rt/zone_status.h"

/* null for 0, the number otherwise: "never" reads better than 1970. */
static json_t *time_or_null(uint64_t t)
{
	return t ? json_integer((json_int_t)t) : json_null();
}

static json_t *secondary_json(const acm_secondary_status_t *s, uint32_t serial)
{
	bool current = s->seen && acm_serial_ge(s->serial, serial);
	json_t *notify = s->last_notify == 0
	                         ? json_null()
	                         : json_pack("{s:I, s:I, s:b, s:i}", "serial",
	                                     (json_int_t)s->notified_serial, "sent",
	                                     (json_int_t)s->last_notify, "acked", s->notify_acked,
	                                     "tries", (int)s->notify_tries);
	return json_pack("{s:s, s:o, s:o, s:b, s:o}", "address", s->address, "serial",
	                 s->seen ? json_integer((json_int_t)s->serial) : json_null(), "last_seen",
	                 time_or_null(s->seen ? s->last_seen : 0), "current", current, "notify",
	                 notify);
}

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
		synced = synced && rows[i].seen && acm_serial_ge(rows[i].serial, serial);
		json_array_append_new(list, secondary_json(&rows[i], serial));
	}
	json_t *body = list ? json_pack("{s:s, s:I, s:b, s:o}", "zone",
	                                acm_req_settings(r)->zone_text, "serial", (json_int_t)serial,
	                                "synced", synced, "secondaries", list)
	                    : NULL;
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
