/* SPDX-License-Identifier: ISC */
/*
 * The acme-dns API: POST /register, POST /update, GET /health, answering
 * byte for byte as acme-dns does (its error bodies are hand-formatted, its
 * success bodies are Go's json.Marshal), plus the registration flow that
 * /v1/register shares (with, for /v1 only, an optional TSIG key). See
 * docs/api.md, "acme-dns compatibility".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "httpapi/auth.h"
#include "httpapi/json_util.h"
#include "httpapi/route_util.h"
#include "lib/error.h"

/* ---- registration ------------------------------------------------------ */

static void reply_reg_error(acm_req_t *r, bool native, int status, const char *code,
                            const char *native_code, const char *message)
{
	if (native)
		acm_reply_error(r, status, native_code ? native_code : code, message);
	else
		acm_reply_acmedns_error(r, status, code);
}

/* Check every entry (as acme-dns: the first bad one fails the request) and
 * keep them as they will be stored. */
static int take_allowfrom(json_t *arr, acm_account_t *acc)
{
	size_t i;
	json_t *e;
	acm_cidr_t cidr;
	int rc;

	acc->allowfrom_count = 0;
	json_array_foreach(arr, i, e) {
		/* Go leaves a null element as "", which is no CIDR. */
		const char *s = json_is_string(e) ? json_string_value(e) : "";
		size_t len = json_is_string(e) ? json_string_length(e) : 0;
		char clean[ACM_CIDR_MAX + 1];

		if ((rc = acm_allowfrom_parse(s, len, clean, &cidr)) != ACM_OK)
			return rc;
		if (acc->allowfrom_count == ACM_ALLOWFROM_MAX)
			return ACM_ERANGE;
		memcpy(acc->allowfrom[acc->allowfrom_count++], clean, sizeof(clean));
	}
	return ACM_OK;
}

/* /v1 only (acme-dns ignores unknown fields, and so does its /register
 * here): "tsig": true, false, null, or an algorithm name. acc->tsig_alg
 * gets the algorithm asked for, 0 for none; false if the value is none of
 * these. */
static bool tsig_input(json_t *root, acm_account_t *acc)
{
	json_t *t = json_is_object(root) ? json_object_get(root, "tsig") : NULL;
	acm_tsig_alg_t alg = 0;

	if (json_is_true(t))
		alg = ACM_TSIG_HMAC_SHA256;
	else if (json_is_string(t) && acm_tsig_alg_from_text(json_string_value(t), &alg) != ACM_OK)
		return false;
	else if (t && !json_is_string(t) && !json_is_false(t) && !json_is_null(t))
		return false;
	acc->tsig_alg = (int)alg;
	return true;
}

/* Decode the body into acc's allowfrom list (and, for /v1, the TSIG key
 * asked for); false after replying 400. */
static bool register_input(acm_req_t *r, bool native, acm_account_t *acc)
{
	size_t len;
	const uint8_t *body = acm_req_body(r, &len);
	acm_acmetxt_t t;
	json_t *root;
	int rc;

	if (len == 0)
		return true;
	if (!(root = acm_json_load_go(body, len, false))) {
		reply_reg_error(r, native, 400, "malformed_json_payload", "malformed_json", NULL);
		return false;
	}
	acm_acmetxt_decode(root, &t);
	if (t.type_error || t.aborted) {
		reply_reg_error(r, native, 400, "malformed_json_payload", "bad_request",
		                "allowfrom must be an array of strings");
		json_decref(root);
		return false;
	}
	if (native && !tsig_input(root, acc)) {
		acm_reply_error(r, 400, "bad_request", "tsig must be true, false, or one of "
		                "hmac-sha256, hmac-sha384, hmac-sha512");
		json_decref(root);
		return false;
	}
	rc = t.allowfrom ? take_allowfrom(t.allowfrom, acc) : ACM_OK;
	json_decref(root);
	if (rc != ACM_OK) {
		reply_reg_error(r, native, 400, "invalid_allowfrom_cidr", NULL,
		                rc == ACM_ERANGE ? "at most 16 entries of at most 50 characters"
		                                 : "an entry is not in CIDR notation");
		return false;
	}
	return true;
}

/* The new account's TSIG key, named as its fulldomain; NULL if it has none. */
static json_t *tsig_reply(acm_req_t *r, const acm_account_t *acc, const char *full)
{
	char b64[4 * ((ACM_TSIG_SECRET_MAX + 2) / 3) + 1];
	acm_tsig_key_t key;
	json_t *o;

	if (acm_account_tsig_key(acc, acm_req_settings(r)->apex, &key) != ACM_OK)
		return NULL;
	acm_tsig_secret_to_b64(&key, b64, sizeof(b64));
	o = json_pack("{s:s, s:s, s:s}", "name", full, "algorithm", acm_tsig_alg_name(key.alg),
	              "secret", b64);
	OPENSSL_cleanse(&key, sizeof(key));
	OPENSSL_cleanse(b64, sizeof(b64));
	return o;
}

static void register_reply(acm_req_t *r, acm_write_t *w)
{
	const acm_account_t *acc = &w->op.account;
	char full[ACM_FULLDOMAIN_MAX];
	json_t *o;
	char *text;

	acm_zname_fulldomain(acm_req_settings(r)->zone_text, acc->subdomain, full, sizeof(full));
	if (w->compat) {
		/* The field order of acme-dns's RegResponse struct. */
		o = json_pack("{s:s, s:s, s:s, s:s, s:o}", "username", acc->username,
		              "password", w->secret, "fulldomain", full,
		              "subdomain", acc->subdomain, "allowfrom", acm_allowfrom_json(acc));
		text = o ? json_dumps(o, JSON_COMPACT) : NULL;
		json_decref(o);
		if (!text) {
			acm_reply_acmedns_error(r, 500, "json_error");
			return;
		}
		acm_reply_raw(r, 201, "application/json", text, strlen(text));
		OPENSSL_cleanse(text, strlen(text));
		free(text);
		return;
	}
	o = json_pack("{s:s, s:s, s:s, s:s, s:o, s:I}", "username", acc->username,
	              "password", w->secret, "subdomain", acc->subdomain, "fulldomain", full,
	              "allowfrom", acm_allowfrom_json(acc), "serial", (json_int_t)w->op.serial);
	if (o && acc->tsig_alg && json_object_set_new(o, "tsig", tsig_reply(r, acc, full)) != 0) {
		json_decref(o);
		o = NULL;
	}
	if (!o)
		acm_reply_error(r, 500, "out_of_memory", NULL);
	else
		acm_reply_json(r, 201, o);
}

void acm_route_register(acm_req_t *r, bool native)
{
	acm_account_t input;
	acm_write_t *w;

	/* Exactly what the server answers for a path it does not know. */
	if (acm_req_settings(r)->disable_registration) {
		acm_reply_error(r, 404, "not_found", NULL);
		return;
	}
	memset(&input, 0, sizeof(input));
	if (!register_input(r, native, &input))
		return;
	/* Counted only now, so a client fixing a bad request is not locked out. */
	if (!acm_req_register_allowed(r)) {
		reply_reg_error(r, native, 429, "rate_limited", NULL, NULL);
		return;
	}
	if (!(w = acm_write_new(r, ACM_OP_ACCOUNT_CREATE, "api")))
		return;
	w->compat = !native;
	if (acm_account_new(&w->op.account, w->secret) != ACM_OK) {
		reply_reg_error(r, native, 500, "db_error", "internal_error", NULL);
		return;
	}
	w->op.account.allowfrom_count = input.allowfrom_count;
	memcpy(w->op.account.allowfrom, input.allowfrom, sizeof(input.allowfrom));
	if (input.tsig_alg &&
	    acm_account_tsig_new(&w->op.account, (acm_tsig_alg_t)input.tsig_alg) != ACM_OK) {
		reply_reg_error(r, native, 500, "db_error", "internal_error", NULL);
		return;
	}
	acm_write_submit(r, w, register_reply);
}

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
	snprintf(w->op.subdomain, sizeof(w->op.subdomain), "%s", acc->subdomain);
	memcpy(w->op.value, txt, ACM_ACME_TXT_LEN);
	w->op.len = ACM_ACME_TXT_LEN;
	w->op.keep = set->txt_limit;
	w->op.expires = set->txt_expiry ? acm_expiry_after((uint64_t)time(NULL), set->txt_expiry) : 0;
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
