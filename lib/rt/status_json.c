/* SPDX-License-Identifier: ISC */
/*
 * The JSON shapes of the zone's status and of a secondary (see
 * status_json.h). Field order is part of the shape.
 */
#include "lib/rt/status_json.h"
#include "lib/dns/serial.h"

/* null for 0, the number otherwise: "never" reads better than 1970. */
static json_t *time_or_null(uint64_t t)
{
	return t ? json_integer((json_int_t)t) : json_null();
}

bool acm_secondary_current(const acm_secondary_status_t *s, uint32_t serial)
{
	return s->seen && acm_serial_ge(s->serial, serial);
}

json_t *acm_secondary_json(const acm_secondary_status_t *s, uint32_t serial, const char *error)
{
	json_t *notify = s->last_notify == 0
	                         ? json_null()
	                         : json_pack("{s:I, s:I, s:b, s:i}", "serial",
	                                     (json_int_t)s->notified_serial, "sent",
	                                     (json_int_t)s->last_notify, "acked", s->notify_acked,
	                                     "tries", (int)s->notify_tries);
	return json_pack("{s:s, s:o, s:o, s:b, s:o, s:o}", "address", s->address, "serial",
	                 s->seen ? json_integer((json_int_t)s->serial) : json_null(), "last_seen",
	                 time_or_null(s->seen ? s->last_seen : 0), "current",
	                 acm_secondary_current(s, serial), "notify", notify, "error",
	                 error ? json_string(error) : json_null());
}

json_t *acm_zone_status_json(const char *zone_text, uint32_t serial, bool synced,
                             json_t *secondaries)
{
	if (!secondaries)
		return NULL;
	return json_pack("{s:s, s:I, s:b, s:o}", "zone", zone_text, "serial", (json_int_t)serial,
	                 "synced", synced, "secondaries", secondaries);
}
