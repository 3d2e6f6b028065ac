/* SPDX-License-Identifier: ISC */
/*
 * GET /v1/health: is this server doing its job? The store can be read (and
 * how long durable writes take), the DNS workers' event loops are turning
 * (lib/rt/health.h), and the secondaries have answered. /health stays the
 * acme-dns one (route_acmedns.c); this one is for monitoring.
 *
 * 200 with "ok" or "degraded" (a worker stopped beating, a secondary never
 * answered, or the store is full: DNS still answers, writes fail with 507),
 * 503 with "failing" (the store cannot be read, or no worker is alive): a
 * load balancer's check need not parse the body.
 * Public, like /health: it names no account and no value.
 */
#include <jansson.h>

#include "httpapi/http.h"
#include "lib/error.h"
#include "lib/rt/status_json.h"

static json_t *store_json(acm_req_t *r, bool *readable)
{
	uint32_t serial = 0;
	acm_commit_stats_t st;
	*readable = acm_store_serial(acm_req_store(r), &serial) == ACM_OK;
	acm_req_commit_stats(r, &st);
	json_t *mean = st.batches ? json_real((double)st.commit_ns_total / (double)st.batches / 1e6)
	                          : json_null();
	return json_pack("{s:b, s:b, s:o, s:I, s:o}", "readable", *readable, "full",
	                 acm_store_full(acm_req_store(r)), "serial",
	                 *readable ? json_integer(serial) : json_null(), "commits",
	                 (json_int_t)st.batches, "commit_ms_mean", mean);
}

/* The secondaries' rows; *all_seen is false when one never answered. */
static json_t *secondaries_json(acm_req_t *r, bool *all_seen)
{
	acm_zone_status_t *st = acm_req_zone_status(r);
	json_t *list = json_array();
	uint32_t serial;
	bool have;
	*all_seen = true;
	if (!st || !list)
		return list;
	size_t n = acm_zone_status_get(st, &serial, &have, NULL, 0);
	acm_secondary_status_t *rows = acm_req_alloc(r, (n ? n : 1) * sizeof(*rows));
	if (!rows) {
		json_decref(list);
		return NULL;
	}
	size_t got = acm_zone_status_get(st, &serial, &have, rows, n);
	for (size_t i = 0; i < got && i < n; i++) {
		*all_seen = *all_seen && rows[i].seen;
		json_array_append_new(list, acm_secondary_json(&rows[i], serial, NULL));
	}
	return list;
}

static void route_health(acm_req_t *r)
{
	bool readable, all_seen;
	unsigned alive;
	unsigned workers = acm_health_workers(acm_req_health(r), &alive);
	json_t *store = store_json(r, &readable);
	json_t *secondaries = secondaries_json(r, &all_seen);
	const char *status = !readable || alive == 0            ? "failing"
	                     : alive < workers || !all_seen ||
	                       acm_store_full(acm_req_store(r))  ? "degraded"
	                                                         : "ok";
	json_t *body = NULL;
	if (store && secondaries)   /* "o" takes both, even when packing fails */
		body = json_pack("{s:s, s:o, s:{s:I, s:I}, s:o}", "status", status, "store", store,
		                 "dns", "workers", (json_int_t)workers, "alive", (json_int_t)alive,
		                 "secondaries", secondaries);
	else {
		json_decref(store);
		json_decref(secondaries);
	}
	if (!body) {
		acm_reply_error(r, 500, "out_of_memory", NULL);
		return;
	}
	acm_reply_json(r, status[0] == 'f' ? 503 : 200, body);
}

const acm_route_t acm_routes_health[] = {
	{ "GET", "/v1/health", route_health },
	{ NULL, NULL, NULL },
};
