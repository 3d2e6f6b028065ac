/* SPDX-License-Identifier: ISC */
/*
 * The lookup log as JSON: the replies of GET /v1/accounts/:sub/lookups
 * (route_v1.c authenticates the account) and GET /v1/admin/lookups
 * (route_admin.c checks the token). An account's lookups are those of its
 * name and of _acme-challenge under it, where its values also live.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httpapi/route_util.h"
#include "lib/dns/zone_names.h"
#include "lib/dns/consts.h"
#include "lib/error.h"
#include "lib/rt/lookup_log.h"
#include "lib/store/store.h"


static json_t *values_json(const acm_lookup_t *e)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < e->nvalues && i < ACM_LOOKUP_VALUES; i++)
		json_array_append_new(a, json_stringn((const char *)e->values[i], e->value_len[i]));
	return a;
}

static json_t *lookup_json(const acm_lookup_t *e)
{
	char src[INET6_ADDRSTRLEN] = "", qname[ACM_DNAME_TXT_MAX];
	char rbuf[ACM_DNS_MNEMONIC_MAX], tbuf[ACM_DNS_MNEMONIC_MAX];
	if (!e->family || !inet_ntop(e->family, e->addr, src, sizeof(src)))
		snprintf(src, sizeof(src), "?");
	/* names without the final dot, as every name in the API's JSON */
	if (acm_zname_zone_text(e->qname, qname) != ACM_OK)
		snprintf(qname, sizeof(qname), "?");
	/* value_count: how many the answer held, values: the first few */
	return json_pack("{s:I, s:s, s:i, s:s, s:o, s:s, s:s, s:s, s:o, s:i}", "time",
	                 (json_int_t)(e->time_ns / 1000000000u), "source", src, "port",
	                 (int)e->port, "transport", e->tcp ? "tcp" : "udp", "edns",
	                 e->edns ? json_integer(e->edns) : json_null(), "qtype",
	                 acm_dns_type_name(e->qtype, tbuf), "qname", qname, "rcode",
	                 acm_dns_rcode_name(e->rcode, rbuf),
	                 "values", values_json(e), "value_count", (int)e->nvalues);
}

/* Find entries for names, newest first, at most limit (0: per_name), and
 * reply with them under "lookups" in body. */
static void reply_found(acm_req_t *r, const uint8_t *const *names, size_t nnames,
                        size_t limit, json_t *body)
{
	acm_lookup_log_t *log = acm_req_lookups(r);
	size_t max = limit ? limit : acm_lookup_log_per_name(log);
	acm_lookup_t *found = acm_req_alloc(r, max * sizeof(*found));
	json_t *list = json_array();
	if (!found || !list || !body) {
		json_decref(list);
		json_decref(body);
		acm_reply_error(r, 500, "out_of_memory", NULL);
		return;
	}
	size_t n = acm_lookup_log_find(log, names, nnames, found, max);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, lookup_json(&found[i]));
	json_object_set_new(body, "lookups", list);
	acm_reply_json(r, 200, body);
}

bool acm_lookups_enabled(acm_req_t *r)
{
	if (acm_req_lookups(r))
		return true;
	acm_reply_error(r, 404, "lookups_disabled", "lookups.enabled is false");
	return false;
}

/* <sub>.<apex> and _acme-challenge.<sub>.<apex> into names[0..2). */
static bool account_names(acm_req_t *r, const char *sub, uint8_t names[2][ACM_DNAME_MAX])
{
	int len = acm_zname_account(sub, acm_req_settings(r)->apex, names[0]);
	return len > 0 && acm_zname_challenge(names[0], (size_t)len, names[1]) > 0;
}

void acm_reply_lookups(acm_req_t *r, const char *sub, size_t limit)
{
	uint8_t names[2][ACM_DNAME_MAX];
	const uint8_t *list[2] = { names[0], names[1] };
	if (!account_names(r, sub, names)) {
		acm_reply_error(r, 404, "not_found", NULL);
		return;
	}
	reply_found(r, list, 2, limit, json_pack("{s:s}", "subdomain", sub));
}

void acm_reply_lookups_name(acm_req_t *r, const char *name, size_t limit)
{
	uint8_t wire[ACM_DNAME_MAX];
	const uint8_t *list[1] = { wire };
	if (!name || !*name) {
		acm_reply_error(r, 400, "bad_request", "name is required");
		return;
	}
	if (!strchr(name, '.')) {
		acm_reply_lookups(r, name, limit);
		return;
	}
	if (acm_dname_from_text(name, wire) < 0 ||
	    acm_dname_under(wire, acm_req_settings(r)->apex) < 0) {
		acm_reply_error(r, 400, "bad_request", "name must be a subdomain or a name in the zone");
		return;
	}
	reply_found(r, list, 1, limit, json_pack("{s:s}", "name", name));
}
