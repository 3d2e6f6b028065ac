/* SPDX-License-Identifier: ISC */
/*
 * The route files' shared request helpers: writes through group commit,
 * store results as replies, the serial header, strict /v1 bodies, and the
 * registration flow of /register and /v1/register.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "httpapi/json_util.h"
#include "httpapi/route_util.h"
#include "lib/error.h"
#include "lib/log.h"
#include "lib/store/store_json.h"

void acm_reply_acmedns_error(acm_req_t *r, int status, const char *code)
{
	char body[128];
	int n = snprintf(body, sizeof(body), "{\"error\": \"%s\"}", code);

	acm_reply_raw(r, status, "application/json", body, (size_t)n);
}

void acm_reply_serial(acm_req_t *r, uint32_t serial)
{
	char text[16];

	snprintf(text, sizeof(text), "%" PRIu32, serial);
	acm_reply_header(r, ACM_SERIAL_HEADER, text);
}

int acm_store_status(int rc, const char **code)
{
	*code = NULL;
	switch (rc) {
	case ACM_OK:
		return 200;
	case ACM_EEXIST:
		*code = "exists";
		return 409;
	case ACM_EFULL:
		*code = "too_many_values";
		return 409;
	case ACM_EABSENT:
	case ACM_ENOTFOUND:
		*code = "not_found";
		return 404;
	case ACM_EBADVALUE:
		*code = "bad_value";
		return 400;
	case ACM_EBADNAME:
		*code = "bad_request";
		return 400;
	case ACM_ECREDS:
		*code = "forbidden";
		return 401;
	case ACM_ESTOREFULL:
	case ACM_EACCOUNTCAP:
	case -ENOSPC:
	case -EDQUOT:
		*code = "insufficient_storage";
		return 507;
	case ACM_ESTORE:
	case ACM_EPANIC:
	case -EIO:
	case -EROFS:
		*code = "store_unavailable";
		return 503;
	default:
		*code = "store_error";
		return 500;
	}
}

const char *acm_store_message(acm_req_t *r, int rc, char buf[ACM_STORE_MSG_MAX])
{
	switch (rc) {
	case ACM_EFULL:
		snprintf(buf, ACM_STORE_MSG_MAX, "too many values for one name, limit %u",
		         acm_req_settings(r)->txt_max_values);
		return buf;
	case ACM_ESTOREFULL:
		return "the store is full";
	case -ENOSPC:
	case -EDQUOT:
		return "no space left on the store's disk";
	case ACM_EPANIC:
		return "the store failed; the server restarts to reopen it, retry shortly";
	case ACM_ESTORE:
	case -EIO:
	case -EROFS:
		return "the store could not write; nothing was changed, retry shortly";
	case ACM_EACCOUNTCAP:
		return "the server holds as many accounts as it may";
	default:
		return NULL;
	}
}

bool acm_store_failure(int rc)
{
	const char *code;
	int status = acm_store_status(rc, &code);
	return status == 503 || (status == 507 && rc != ACM_EACCOUNTCAP);
}

/* A full or failing store is the operator's to fix, and every writer would
 * report it: one line per interval. The account cap is a policy, not a
 * fault. */
static acm_log_limit_t store_full_log = ACM_LOG_LIMIT_INIT(10);
static acm_log_limit_t store_fail_log = ACM_LOG_LIMIT_INIT(10);

/* Log a failure of the store the way its kind deserves; the HTTP status. */
static int store_failure(int rc, const char **code)
{
	int status = acm_store_status(rc, code);

	if (status == 507 && rc != ACM_EACCOUNTCAP)
		acm_log_limited_kv(&store_full_log, ACM_LOG_ERROR, "http: store full, write refused",
		                   ACM_KS("error", acm_strerror(rc)));
	else if (status == 503)
		acm_log_limited_kv(&store_fail_log, ACM_LOG_ERROR, "http: store failed, write refused",
		                   ACM_KS("error", acm_strerror(rc)));
	else if (status == 500)
		acm_err("http: store: %s", acm_strerror(rc));
	return status;
}

void acm_reply_store_error(acm_req_t *r, int rc)
{
	const char *code;
	int status = store_failure(rc, &code);
	char buf[ACM_STORE_MSG_MAX];

	acm_reply_error(r, status, code, acm_store_message(r, rc, buf));
}

/* ---- writes ------------------------------------------------------------ */

void acm_op_init(acm_req_t *r, acm_op_t *op, acm_op_kind_t kind, const char *actor)
{
	memset(op, 0, sizeof(*op));
	op->kind = kind;
	snprintf(op->actor, sizeof(op->actor), "%s", actor);
	snprintf(op->source, sizeof(op->source), "%s", acm_req_client_text(r));
}

void acm_account_actor(const acm_account_t *acc, char out[ACM_ACTOR_MAX])
{
	snprintf(out, ACM_ACTOR_MAX, "account:%s", acc->username);
}

acm_write_t *acm_write_new(acm_req_t *r, acm_op_kind_t kind, const char *actor)
{
	acm_write_t *w = acm_req_alloc(r, sizeof(*w));

	if (!w) {
		acm_reply_error(r, 500, "out_of_memory", NULL);
		return NULL;
	}
	memset(w, 0, sizeof(*w));
	acm_op_init(r, &w->op, kind, actor);
	return w;
}

/* acme-dns answers every store failure with 500 db_error; a full store is
 * 507 insufficient_storage in its error style, and a store that could not
 * write 503 db_error, so that clients and monitoring can tell "retry
 * later" from "broken". */
static void write_failed(acm_req_t *r, acm_write_t *w, int rc)
{
	const char *code;
	int status;

	if (!w->compat) {
		acm_reply_store_error(r, rc);
		return;
	}
	status = store_failure(rc, &code);
	/* Credentials that stopped holding before the commit: the refusal
	 * acme-dns gives bad credentials. */
	if (rc == ACM_ECREDS)
		acm_reply_acmedns_error(r, 401, "forbidden");
	else
		acm_reply_acmedns_error(r, status == 507 || status == 503 ? status : 500,
		                        status == 507 ? code : "db_error");
}

static void write_done(acm_req_t *r, acm_op_t *ops)
{
	acm_write_t *w = (acm_write_t *)ops;

	if (ops->result == ACM_OK) {
		acm_reply_serial(r, ops->serial);
		w->reply(r, w);
	} else {
		write_failed(r, w, ops->result);
	}
	OPENSSL_cleanse(w->secret, sizeof(w->secret));
}

void acm_write_submit(acm_req_t *r, acm_write_t *w, acm_write_fn reply)
{
	int rc;

	w->reply = reply;
	if ((rc = acm_req_commit(r, &w->op, write_done)) != ACM_OK) {
		write_failed(r, w, rc);
		OPENSSL_cleanse(w->secret, sizeof(w->secret));
	}
}

/* ---- reads ------------------------------------------------------------- */

json_t *acm_v1_body(acm_req_t *r, bool allow_empty)
{
	size_t len;
	const uint8_t *body = acm_req_body(r, &len);
	json_error_t err;
	json_t *root;

	if (len == 0 && allow_empty)
		return json_object();
	/* Any JSON value decodes, so that valid JSON other than an object
	 * ("x", 1, null) is bad_request like an array, not malformed_json. */
	if (!(root = json_loadb((const char *)body, len, JSON_DECODE_ANY, &err))) {
		acm_reply_error(r, 400, "malformed_json", err.text);
		return NULL;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		acm_reply_error(r, 400, "bad_request", "the body must be a JSON object");
		return NULL;
	}
	return root;
}

int acm_txt_load(acm_req_t *r, const char *sub, acm_txt_t **vals, size_t *n)
{
	/* Room for any record, whatever limit it was written under. */
	acm_txt_t *v = acm_req_alloc(r, ACM_RR_COUNT_MAX * sizeof(*v));
	int rc;

	if (!v)
		return -ENOMEM;
	if ((rc = acm_store_txt_list(acm_req_store(r), sub, v, ACM_RR_COUNT_MAX, n)) != ACM_OK)
		return rc;
	if (*n > ACM_RR_COUNT_MAX)
		*n = ACM_RR_COUNT_MAX;
	*vals = v;
	return ACM_OK;
}

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
static json_t *tsig_reply(acm_req_t *r, const acm_account_t *acc)
{
	acm_tsig_key_t key;
	json_t *o;

	if (acm_account_tsig_key(acc, acm_req_settings(r)->apex, &key) != ACM_OK)
		return NULL;
	o = acm_tsig_key_json(&key);
	OPENSSL_cleanse(&key, sizeof(key));
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
	if (o && acc->tsig_alg && json_object_set_new(o, "tsig", tsig_reply(r, acc)) != 0) {
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
