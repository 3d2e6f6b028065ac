/* SPDX-License-Identifier: ISC */
/*
 * The route files' shared request helpers: writes through group commit,
 * store results as replies, the serial header, strict /v1 bodies.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "httpapi/route_util.h"
#include "lib/error.h"
#include "lib/log.h"

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
	case ACM_ESTOREFULL:
	case ACM_EACCOUNTCAP:
		*code = "insufficient_storage";
		return 507;
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
	case ACM_EACCOUNTCAP:
		return "the server holds as many accounts as it may";
	default:
		return NULL;
	}
}

/* A full store is the operator's to fix, and every writer would report it:
 * one line per interval. The account cap is a policy, not a fault. */
static acm_log_limit_t store_full_log = ACM_LOG_LIMIT_INIT(10);

/* Log a failure of the store the way its kind deserves; the HTTP status. */
static int store_failure(int rc, const char **code)
{
	int status = acm_store_status(rc, code);

	if (rc == ACM_ESTOREFULL)
		acm_log_limited_kv(&store_full_log, ACM_LOG_ERROR, "http: store full, write refused",
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
 * 507 insufficient_storage in its error style, so that clients and
 * monitoring can tell "retry later" from "broken". */
static void write_failed(acm_req_t *r, acm_write_t *w, int rc)
{
	const char *code;
	int status;

	if (!w->compat) {
		acm_reply_store_error(r, rc);
		return;
	}
	status = store_failure(rc, &code);
	acm_reply_acmedns_error(r, status == 507 ? 507 : 500,
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
