/* SPDX-License-Identifier: ISC */
/*
 * The acme-dns API: POST /register, POST /update, GET /health, answering
 * byte for byte as acme-dns does (its error bodies are hand-formatted, its
 * success bodies are Go's json.Marshal). The registration flow, which
 * /v1/register shares, is in route_util.c. See docs/api.md, "acme-dns
 * compatibility".
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "httpapi/auth.h"
#include "httpapi/json_util.h"
#include "httpapi/route_util.h"
#include "lib/clock.h"
#include "lib/error.h"

/* ---- registration ------------------------------------------------------ */

static void route_register(acm_req_t *r)
{
	acm_route_register(r, false);
}

/* ---- update ------------------------------------------------------------ */

static void update_reply(acm_req_t *r, acm_write_t *w)
{
	char body[ACM_ACME_TXT_LEN + 16];
	int n = snprintf(body, sizeof(body), "{\"txt\": \"%s\"}", w->op.value);

	acm_reply_raw(r, 200, "application/json", body, (size_t)n);
}

/* Borrow a decoded string field, or "" as Go leaves an unset one. */
static const char *field_text(json_t *s, size_t *len)
{
	*len = s ? json_string_length(s) : 0;
	return s ? json_string_value(s) : "";
}

static void queue_push(acm_req_t *r, const acm_account_t *acc, const char *txt)
{
	const acm_http_settings_t *set = acm_req_settings(r);
	char actor[ACM_ACTOR_MAX];
	acm_write_t *w;

	acm_account_actor(acc, actor);
	if (!(w = acm_write_new(r, ACM_OP_TXT_PUSH, actor)))
		return;
	w->compat = true;
	acm_auth_stamp(r, acc, &w->op);
	snprintf(w->op.subdomain, sizeof(w->op.subdomain), "%s", acc->subdomain);
	memcpy(w->op.value, txt, ACM_ACME_TXT_LEN);
	w->op.len = ACM_ACME_TXT_LEN;
	w->op.keep = set->txt_limit;
	w->op.expires = set->txt_expiry ? acm_expiry_after(acm_expiry_now(), set->txt_expiry) : 0;
	acm_write_submit(r, w, update_reply);
}

/*
 * acme-dns's order: credentials, allowfrom, then the body (whose decoding
 * errors are ignored: Go's Decoder reads the first value and keeps what it
 * filled), then the subdomain must be the account's (case-sensitively);
 * any of these failing is 401 forbidden. Only then the value's syntax.
 */
static void route_update(acm_req_t *r)
{
	acm_account_t acc;
	acm_acmetxt_t t;
	const uint8_t *body;
	const char *sub, *txt;
	size_t len, sublen, txtlen;
	json_t *root;
	int rc;

	if ((rc = acm_auth_headers(r, &acc)) != ACM_OK) {
		if (rc == -EBUSY)
			acm_reply_acmedns_error(r, 503, "busy");
		else if (acm_store_failure(rc))     /* not the caller's fault */
			acm_reply_acmedns_error(r, 503, "db_error");
		else if (rc != -EINPROGRESS)    /* parked: runs again with the verdict */
			acm_reply_acmedns_error(r, 401, "forbidden");
		return;
	}
	body = acm_req_body(r, &len);
	root = acm_json_load_go(body, len, true);
	acm_acmetxt_decode(root, &t);
	sub = field_text(t.subdomain, &sublen);
	txt = field_text(t.txt, &txtlen);
	if (sublen != strlen(acc.subdomain) || memcmp(sub, acc.subdomain, sublen) != 0)
		acm_reply_acmedns_error(r, 401, "forbidden");
	else if (!acm_label_ok(sub, sublen))
		acm_reply_acmedns_error(r, 400, "bad_subdomain");
	else if (!acm_b64url_ok(txt, txtlen, ACM_ACME_TXT_LEN))
		acm_reply_acmedns_error(r, 400, "bad_txt");
	else
		queue_push(r, &acc, txt);
	json_decref(root);
}

/* ---- health ------------------------------------------------------------ */

/* acme-dns answers 200 with no body and no content type. */
static void route_health(acm_req_t *r)
{
	acm_reply_raw(r, 200, NULL, "", 0);
}

const acm_route_t acm_routes_acmedns[] = {
	{ "POST", "/register", route_register },
	{ "POST", "/update", route_update },
	{ "GET", "/health", route_health },
	{ NULL, NULL, NULL },
};
