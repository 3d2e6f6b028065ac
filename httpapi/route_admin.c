/* SPDX-License-Identifier: ISC */
/*
 * The admin API under /v1/admin: list, show, disable, enable and delete
 * accounts, read the audit log, stats, the configuration's drift from the
 * file. Every route needs the admin bearer token; the server core mounts
 * this table only when admin is enabled.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "httpapi/auth.h"
#include "httpapi/json_util.h"
#include "httpapi/route_deleg.h"
#include "httpapi/route_util.h"
#include "lib/clock.h"
#include "lib/error.h"
#include "lib/rt/deleg_record.h"
#include "lib/store/store_json.h"

#define ADMIN_LIMIT_DEFAULT 100
#define ADMIN_LIMIT_MAX 1000

static bool admin_ok(acm_req_t *r)
{
	if (acm_auth_admin(r))
		return true;
	acm_reply_error(r, 401, "unauthorized", NULL);
	return false;
}

/* ---- query and path parameters ----------------------------------------- */

/* An unsigned decimal query parameter within [min, max]; absent gives def.
 * False after replying 400. */
static bool query_number(acm_req_t *r, const char *name, uint64_t min, uint64_t max,
                         uint64_t def, uint64_t *out)
{
	const char *s = acm_req_query(r, name);
	char *end, msg[ACM_FIELD_ERR_MAX];
	unsigned long long v;

	*out = def;
	if (!s || *s == '\0')
		return true;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*s >= '0' && *s <= '9' && *end == '\0' && errno == 0 && v >= min && v <= max) {
		*out = v;
		return true;
	}
	snprintf(msg, sizeof(msg), "%s must be a number from %llu to %llu", name,
	         (unsigned long long)min, (unsigned long long)max);
	acm_reply_error(r, 400, "bad_request", msg);
	return false;
}

static bool query_limit(acm_req_t *r, uint64_t *limit)
{
	return query_number(r, "limit", 1, ADMIN_LIMIT_MAX, ADMIN_LIMIT_DEFAULT, limit);
}

/* The :sub path parameter in lower case, as the store keys accounts. False
 * after replying 404 when it cannot name an account. */
static bool sub_param(acm_req_t *r, char out[ACM_LABEL_MAX + 1])
{
	const char *s = acm_req_param(r, "sub");
	size_t len = s ? strlen(s) : 0;

	if (len == 0 || len > ACM_LABEL_MAX) {
		acm_reply_error(r, 404, "not_found", NULL);
		return false;
	}
	for (size_t i = 0; i <= len; i++)
		out[i] = (char)tolower((unsigned char)s[i]);
	return true;
}

/* The account named by :sub; false after replying 404 or 500. */
static bool load_account(acm_req_t *r, acm_account_t *acc)
{
	char sub[ACM_LABEL_MAX + 1];
	int rc;

	if (!sub_param(r, sub))
		return false;
	if ((rc = acm_store_account_get(acm_req_store(r), sub, acc)) != ACM_OK) {
		acm_reply_store_error(r, rc);
		return false;
	}
	return true;
}

/* ---- accounts ---------------------------------------------------------- */

typedef struct {
	acm_req_t *r;
	json_t *list;
	size_t want;
	size_t count;
	bool more;
	char last[ACM_LABEL_MAX + 1];
} page_t;

static int page_account(const acm_account_t *acc, void *ctx)
{
	page_t *p = ctx;
	size_t values = 0;
	int rc;

	if (p->count == p->want) {
		p->more = true;
		return 1;
	}
	/* A name deleted since the list's snapshot has no values left. */
	rc = acm_store_txt_list(acm_req_store(p->r), acc->subdomain, NULL, 0, &values);
	if (rc != ACM_OK && rc != ACM_ENOTFOUND)
		return rc;
	if (json_array_append_new(p->list, acm_account_entry_json(acm_req_settings(p->r)->zone_text,
	                                                          acc, values)) != 0)
		return -ENOMEM;
	memcpy(p->last, acc->subdomain, sizeof(p->last));
	p->count++;
	return 0;
}

static void route_accounts(acm_req_t *r)
{
	page_t p = { .r = r };
	uint64_t limit;
	int rc;

	if (!admin_ok(r) || !query_limit(r, &limit))
		return;
	p.want = (size_t)limit;
	if (!(p.list = json_array())) {
		acm_reply_error(r, 500, "out_of_memory", NULL);
		return;
	}
	/* One more than asked tells whether there is a next page. */
	rc = acm_store_account_list(acm_req_store(r), acm_req_query(r, "after"),
	                            acm_req_query(r, "search"), p.want + 1, page_account, &p);
	if (rc < 0) {
		json_decref(p.list);
		acm_reply_store_error(r, rc);
		return;
	}
	acm_reply_json(r, 200, json_pack("{s:o, s:o}", "accounts", p.list, "next",
	                                 p.more ? json_string(p.last) : json_null()));
}

static void route_account(acm_req_t *r)
{
	acm_account_t acc;
	acm_txt_t *v;
	size_t n, live;
	json_t *o, *deleg;
	int rc;

	if (!admin_ok(r) || !load_account(r, &acc))
		return;
	if ((rc = acm_txt_load(r, acc.subdomain, &v, &n)) != ACM_OK) {
		acm_reply_store_error(r, rc);
		return;
	}
	if ((rc = acm_deleg_last_json(acm_req_store(r), acc.subdomain, &deleg)) != ACM_OK) {
		acm_reply_store_error(r, rc);
		return;
	}
	if ((o = acm_account_json(acm_req_settings(r)->zone_text, &acc, true))) {
		json_object_set_new(o, "values", acm_values_json(v, n, acm_expiry_now(), 0, &live));
		json_object_set_new(o, "delegation", deleg);
	} else {
		json_decref(deleg);
	}
	acm_reply_json(r, 200, o);
}

static void reply_state(acm_req_t *r, acm_write_t *w)
{
	acm_reply_json(r, 200, json_pack("{s:I, s:s, s:b}", "serial", (json_int_t)w->op.serial,
	                                 "subdomain", w->op.account.subdomain, "disabled",
	                                 (w->op.account.flags & ACM_ACCOUNT_DISABLED) != 0));
}

static void set_disabled(acm_req_t *r, bool disabled)
{
	acm_account_t acc;
	acm_write_t *w;

	if (!admin_ok(r) || !load_account(r, &acc) ||
	    !(w = acm_write_new(r, ACM_OP_ACCOUNT_UPDATE, "admin")))
		return;
	w->op.account = acc;
	if (disabled)
		w->op.account.flags |= ACM_ACCOUNT_DISABLED;
	else
		w->op.account.flags &= ~(uint32_t)ACM_ACCOUNT_DISABLED;
	w->op.account.updated = (uint64_t)time(NULL);
	w->op.fields = ACM_FIELD_FLAGS;
	acm_write_submit(r, w, reply_state);
}

static void route_disable(acm_req_t *r)
{
	set_disabled(r, true);
}

static void route_enable(acm_req_t *r)
{
	set_disabled(r, false);
}

static void reply_deleted(acm_req_t *r, acm_write_t *w)
{
	acm_reply_json(r, 200, json_pack("{s:I}", "serial", (json_int_t)w->op.serial));
}

static void route_delete(acm_req_t *r)
{
	acm_write_t *w;
	char sub[ACM_LABEL_MAX + 1];

	if (!admin_ok(r) || !sub_param(r, sub) ||
	    !(w = acm_write_new(r, ACM_OP_ACCOUNT_DELETE, "admin")))
		return;
	memcpy(w->op.subdomain, sub, sizeof(sub));
	acm_write_submit(r, w, reply_deleted);
}

/* ---- audit and stats --------------------------------------------------- */

typedef struct {
	json_t *events;
	uint64_t last;
	bool any;
} audit_page_t;

static int audit_event(uint64_t seq, const char *text, size_t len, void *ctx)
{
	audit_page_t *p = ctx;
	json_t *e = acm_audit_entry_json(seq, text, len);

	if (!e || json_array_append_new(p->events, e) != 0)
		return -ENOMEM;
	p->last = seq;
	p->any = true;
	return 0;
}

static void route_audit(acm_req_t *r)
{
	audit_page_t p = { 0 };
	uint64_t after, limit;
	int rc;

	if (!admin_ok(r) || !query_number(r, "after", 0, UINT64_MAX, 0, &after) ||
	    !query_limit(r, &limit))
		return;
	if (!(p.events = json_array())) {
		acm_reply_error(r, 500, "out_of_memory", NULL);
		return;
	}
	rc = acm_store_audit_list(acm_req_store(r), after, acm_req_query(r, "subdomain"),
	                          (size_t)limit, audit_event, &p);
	if (rc != ACM_OK) {
		json_decref(p.events);
		acm_reply_store_error(r, rc);
		return;
	}
	acm_reply_json(r, 200, json_pack("{s:o, s:o}", "events", p.events, "next",
	                                 p.any ? json_integer((json_int_t)p.last) : json_null()));
}

static void route_stats(acm_req_t *r)
{
	size_t accounts = 0, values = 0;
	uint32_t serial = 0;
	acm_store_info_t info;
	int rc;

	if (!admin_ok(r))
		return;
	if ((rc = acm_store_counts(acm_req_store(r), &accounts, &values)) != ACM_OK ||
	    (rc = acm_store_serial(acm_req_store(r), &serial)) != ACM_OK ||
	    (rc = acm_store_info(acm_req_store(r), &info)) != ACM_OK) {
		acm_reply_store_error(r, rc);
		return;
	}
	acm_reply_json(r, 200, acm_stats_json(accounts, values, serial, &info));
}

/* ---- lookups ------------------------------------------------------------ */

static void route_lookups(acm_req_t *r)
{
	uint64_t limit;

	if (admin_ok(r) && query_number(r, "limit", 1, ADMIN_LIMIT_MAX, 0, &limit) &&
	    acm_lookups_enabled(r))
		acm_reply_lookups_name(r, acm_req_query(r, "name"), (size_t)limit);
}

/* ---- delegation ---------------------------------------------------------- */

/* Any account's check; the reply names another account a chain ends at. */
static void route_delegation(acm_req_t *r)
{
	const char *s = acm_req_query(r, "subdomain");
	char domain[ACM_DNAME_TXT_MAX];
	acm_account_t acc;
	int rc;

	if (!admin_ok(r) || !acm_deleg_domain(r, domain))
		return;
	if (!s || *s == '\0') {
		acm_reply_error(r, 400, "bad_request", "subdomain is required: &subdomain=ACCOUNT");
		return;
	}
	if ((rc = acm_store_account_get(acm_req_store(r), s, &acc)) != ACM_OK) {
		acm_reply_store_error(r, rc);
		return;
	}
	acm_deleg_route(r, domain, acc.subdomain, true, "admin");
}

/* ---- configuration drift ---------------------------------------------- */

/* acmensd's report of its last reload: what needs a restart. */
static void route_drift(acm_req_t *r)
{
	if (!admin_ok(r))
		return;
	json_t *doc = acm_req_report(r);
	if (doc)
		acm_reply_json(r, 200, doc);
	else
		acm_reply_error(r, 503, "unavailable", "no configuration report yet");
}

const acm_route_t acm_routes_admin[] = {
	{ "GET", "/v1/admin/accounts", route_accounts },
	{ "GET", "/v1/admin/accounts/:sub", route_account },
	{ "POST", "/v1/admin/accounts/:sub/disable", route_disable },
	{ "POST", "/v1/admin/accounts/:sub/enable", route_enable },
	{ "DELETE", "/v1/admin/accounts/:sub", route_delete },
	{ "GET", "/v1/admin/audit", route_audit },
	{ "GET", "/v1/admin/stats", route_stats },
	{ "GET", "/v1/admin/lookups", route_lookups },
	{ "GET", "/v1/admin/delegation", route_delegation },
	{ "GET", "/v1/admin/config/drift", route_drift },
	{ NULL, NULL, NULL },
};
