/* SPDX-License-Identifier: ISC */
/*
 * The native /v1 API: registration, account view, explicit add / remove /
 * replace of TXT values (no eviction, so concurrent workers cannot push
 * each other's values out), key rotation, and the batch endpoint that
 * commits many operations durably at once. Every write answers with the
 * zone serial it produced.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "httpapi/auth.h"
#include "httpapi/batch_scan.h"
#include "httpapi/json_util.h"
#include "httpapi/route_deleg.h"
#include "httpapi/route_util.h"
#include "lib/clock.h"
#include "lib/error.h"
#include "lib/log.h"

/* Why an operation was refused before it reached the store. */
typedef struct {
	int status;
	const char *code;
	char message[ACM_FIELD_ERR_MAX];
} v1_err_t;

static bool refuse(v1_err_t *e, int status, const char *code, const char *message)
{
	e->status = status;
	e->code = code;
	if (!message)
		e->message[0] = '\0';
	else if (message != e->message)     /* field checks write there directly */
		snprintf(e->message, sizeof(e->message), "%s", message);
	return false;
}

static void reply_refusal(acm_req_t *r, const v1_err_t *e)
{
	acm_reply_error(r, e->status, e->code, e->message[0] ? e->message : NULL);
}

/* Credentials, then the account named in the path must be the caller's.
 * false with status 0 when the request parked for a bcrypt check (the
 * route returns and runs again, see acm_auth_account). */
static bool check_caller(acm_req_t *r, const char *user, const char *key, const char *sub,
                         acm_account_t *acc, v1_err_t *e)
{
	int rc = acm_auth_account(r, user, key, acc);

	if (rc == -EACCES)
		return refuse(e, 401, "forbidden", NULL);
	if (rc == -EINPROGRESS)
		return refuse(e, 0, NULL, NULL);
	if (rc == -EAGAIN)
		return refuse(e, 429, "rate_limited",
		              "at most 8 imported accounts not yet upgraded per request");
	if (rc == -EBUSY)
		return refuse(e, 503, "busy", "too many key checks waiting; retry shortly");
	if (rc != ACM_OK) {
		const char *code;
		int status = acm_store_status(rc, &code);
		acm_err("http: account lookup: %s", acm_strerror(rc));
		return status == 503 ? refuse(e, 503, code, "the store cannot be read; retry shortly")
		                     : refuse(e, 500, "store_error", NULL);
	}
	if (sub && strcasecmp(sub, acc->subdomain) != 0)
		return refuse(e, 403, "wrong_account", NULL);
	return true;
}

static bool v1_auth(acm_req_t *r, acm_account_t *acc)
{
	v1_err_t e;
	const char *sub = acm_req_param(r, "sub");

	if (check_caller(r, acm_req_header(r, "X-Api-User"), acm_req_header(r, "X-Api-Key"),
	                 sub ? sub : "", acc, &e))
		return true;
	if (e.status != 0)
		reply_refusal(r, &e);
	return false;
}

/* ---- building operations ----------------------------------------------- */

static bool take_value(acm_op_t *op, const char *value, size_t len, v1_err_t *e)
{
	if (acm_txt_check(value, len) != ACM_OK)
		return refuse(e, 400, "bad_value", "a value is 1 to 255 printable ASCII characters");
	memcpy(op->value, value, len);
	op->value[len] = '\0';
	op->len = len;
	return true;
}

static bool json_value(json_t *obj, acm_op_t *op, v1_err_t *e)
{
	const char *s = NULL;
	size_t len = 0;

	if (acm_field_str(obj, "value", true, &s, &len, e->message) != ACM_OK)
		return refuse(e, 400, "bad_request", e->message);
	return take_value(op, s, len, e);
}

/* Distinct values of a "values" array, in request scratch space. */
static bool json_values(acm_req_t *r, json_t *obj, uint64_t expires, acm_op_t *op,
                        v1_err_t *e)
{
	json_t *arr = json_object_get(obj, "values"), *v;
	uint64_t now = acm_expiry_now();
	acm_txt_t *out;
	size_t i, n = 0, cap;
	char buf[ACM_STORE_MSG_MAX];

	if (!json_is_array(arr))
		return refuse(e, 400, "bad_request", "values must be an array of strings");
	/* Duplicates are merged, so only the distinct values count: a long
	 * list of few values is fine, more than a record holds never is. */
	cap = json_array_size(arr) < ACM_RR_COUNT_MAX ? json_array_size(arr) : ACM_RR_COUNT_MAX;
	if (!(out = acm_req_alloc(r, (cap + 1) * sizeof(*out))))
		return refuse(e, 500, "out_of_memory", NULL);
	json_array_foreach(arr, i, v) {
		size_t len = json_string_length(v), k;
		if (!json_is_string(v))
			return refuse(e, 400, "bad_request", "values must be an array of strings");
		if (acm_txt_check(json_string_value(v), len) != ACM_OK)
			return refuse(e, 400, "bad_value", "a value is 1 to 255 printable ASCII characters");
		for (k = 0; k < n; k++)
			if (out[k].len == len && memcmp(out[k].value, json_string_value(v), len) == 0)
				break;
		if (k < n)
			continue;
		if (n == ACM_RR_COUNT_MAX)
			return refuse(e, 409, "too_many_values", acm_store_message(r, ACM_EFULL, buf));
		memset(&out[n], 0, sizeof(out[n]));
		memcpy(out[n].value, json_string_value(v), len);
		out[n].len = len;
		out[n].set_time = now;
		out[n].expires = expires;
		n++;
	}
	op->values = out;
	op->nvalues = n;
	return true;
}

/*
 * Fill op (already initialised with its kind) from a JSON object: "value"
 * for add, remove and push, "values" for replace, "expires_in" for all but
 * remove. push defaults to the acme-dns expiry and keeps txt_limit values.
 */
static void op_defaults(acm_req_t *r, const char *sub, acm_op_t *op, uint64_t now)
{
	const acm_http_settings_t *set = acm_req_settings(r);

	snprintf(op->subdomain, sizeof(op->subdomain), "%s", sub);
	if (op->kind == ACM_OP_TXT_PUSH) {
		op->keep = set->txt_limit;
		op->expires = set->txt_expiry ? acm_expiry_after(now, set->txt_expiry) : 0;
	}
}

static bool op_from_json(acm_req_t *r, json_t *obj, const char *sub, acm_op_t *op,
                         v1_err_t *e)
{
	uint64_t now = acm_expiry_now();

	op_defaults(r, sub, op, now);
	if (op->kind != ACM_OP_TXT_REMOVE &&
	    acm_field_expires(obj, now, &op->expires, e->message) != ACM_OK)
		return refuse(e, 400, "bad_request", e->message);
	if (op->kind == ACM_OP_TXT_REPLACE)
		return json_values(r, obj, op->expires, op, e);
	return json_value(obj, op, e);
}

/* ---- single-account routes --------------------------------------------- */

static void reply_serial_only(acm_req_t *r, acm_write_t *w)
{
	acm_reply_json(r, w->status, json_pack("{s:I}", "serial", (json_int_t)w->op.serial));
}

static void reply_added(acm_req_t *r, acm_write_t *w)
{
	acm_reply_json(r, 201, json_pack("{s:I, s:s%}", "serial", (json_int_t)w->op.serial,
	                                 "value", w->op.value, w->op.len));
}

static void reply_replaced(acm_req_t *r, acm_write_t *w)
{
	json_t *vals = json_array();

	for (size_t i = 0; vals && i < w->op.nvalues; i++)
		json_array_append_new(vals, json_stringn(w->op.values[i].value, w->op.values[i].len));
	acm_reply_json(r, 200, json_pack("{s:I, s:o}", "serial", (json_int_t)w->op.serial,
	                                 "values", vals));
}

/* Authenticate, build the operation from the body (or the path's :value
 * for a removal), queue it. */
static void txt_write(acm_req_t *r, acm_op_kind_t kind, acm_write_fn reply)
{
	acm_account_t acc;
	char actor[ACM_ACTOR_MAX];
	const char *param = acm_req_param(r, "value");
	acm_write_t *w;
	json_t *body = NULL;
	v1_err_t e;
	bool ok;

	if (!v1_auth(r, &acc))
		return;
	acm_account_actor(&acc, actor);
	if (!(w = acm_write_new(r, kind, actor)))
		return;
	acm_auth_stamp(r, &acc, &w->op);
	w->status = 200;
	if (kind == ACM_OP_TXT_REMOVE) {
		snprintf(w->op.subdomain, sizeof(w->op.subdomain), "%s", acc.subdomain);
		ok = take_value(&w->op, param ? param : "", param ? strlen(param) : 0, &e);
	} else {
		if (!(body = acm_v1_body(r, false)))
			return;
		ok = op_from_json(r, body, acc.subdomain, &w->op, &e);
	}
	if (ok)
		acm_write_submit(r, w, reply);
	else
		reply_refusal(r, &e);
	json_decref(body);
}

static void route_txt_add(acm_req_t *r)
{
	txt_write(r, ACM_OP_TXT_ADD, reply_added);
}

static void route_txt_remove(acm_req_t *r)
{
	txt_write(r, ACM_OP_TXT_REMOVE, reply_serial_only);
}

static void route_txt_replace(acm_req_t *r)
{
	txt_write(r, ACM_OP_TXT_REPLACE, reply_replaced);
}

static void route_account(acm_req_t *r)
{
	acm_account_t acc;
	acm_txt_t *v;
	size_t n, live;
	json_t *o, *vals;
	int rc;

	if (!v1_auth(r, &acc))
		return;
	if ((rc = acm_txt_load(r, acc.subdomain, &v, &n)) != ACM_OK) {
		acm_reply_store_error(r, rc);
		return;
	}
	/* "values" as everywhere an account shows them: the list, here of
	 * those not expired */
	o = acm_account_json(acm_req_settings(r)->zone_text, &acc, false);
	vals = acm_values_json(v, n, acm_expiry_now(), 0, &live);
	if (o && vals && json_object_set_new(o, "values", vals) == 0)
		vals = NULL;
	json_decref(vals);
	acm_reply_json(r, 200, o);
}

static void route_txt_list(acm_req_t *r)
{
	acm_account_t acc;
	acm_txt_t *v;
	size_t n, live;
	uint32_t serial = 0;
	char full[ACM_FULLDOMAIN_MAX];
	int rc;

	if (!v1_auth(r, &acc))
		return;
	/* The serial first: the values read after it are at least that new. */
	if ((rc = acm_store_serial(acm_req_store(r), &serial)) != ACM_OK ||
	    (rc = acm_txt_load(r, acc.subdomain, &v, &n)) != ACM_OK) {
		acm_reply_store_error(r, rc);
		return;
	}
	acm_zname_fulldomain(acm_req_settings(r)->zone_text, acc.subdomain, full, sizeof(full));
	acm_reply_json(r, 200, json_pack("{s:s, s:s, s:I, s:o}", "subdomain", acc.subdomain,
	                                 "fulldomain", full, "serial", (json_int_t)serial,
	                                 "values", acm_values_json(v, n, acm_expiry_now(), 0,
	                                                           &live)));
}

static void reply_rotated(acm_req_t *r, acm_write_t *w)
{
	acm_reply_json(r, 200, json_pack("{s:s, s:s, s:I}", "username", w->op.account.username,
	                                 "password", w->secret,
	                                 "serial", (json_int_t)w->op.serial));
}

static void route_rotate(acm_req_t *r)
{
	acm_account_t acc;
	char actor[ACM_ACTOR_MAX];
	acm_write_t *w;

	if (!v1_auth(r, &acc))
		return;
	acm_account_actor(&acc, actor);
	if (!(w = acm_write_new(r, ACM_OP_ACCOUNT_UPDATE, actor)))
		return;
	w->op.account = acc;
	if (acm_password_new(w->secret) != ACM_OK ||
	    acm_key_hash(w->secret, ACM_PASSWORD_LEN, w->op.account.key_hash) != ACM_OK) {
		acm_reply_error(r, 500, "internal_error", NULL);
		return;
	}
	w->op.account.key_scheme = ACM_KEY_SHA256;
	w->op.account.updated = (uint64_t)time(NULL);
	w->op.fields = ACM_FIELD_KEY;
	acm_write_submit(r, w, reply_rotated);
}

static void route_lookups(acm_req_t *r)
{
	acm_account_t acc;

	if (v1_auth(r, &acc) && acm_lookups_enabled(r))
		acm_reply_lookups(r, acc.subdomain, 0);
}

/* The account's own check: a chain ending at another account says so
 * without naming it. */
static void route_delegation(acm_req_t *r)
{
	acm_account_t acc;
	char domain[ACM_DNAME_TXT_MAX], actor[ACM_ACTOR_MAX];

	if (!v1_auth(r, &acc) || !acm_deleg_domain(r, domain))
		return;
	acm_account_actor(&acc, actor);
	acm_deleg_route(r, domain, acc.subdomain, false, actor);
}

static void route_register(acm_req_t *r)
{
	acm_route_register(r, true);
}

/* ---- batch ------------------------------------------------------------- */

typedef struct {
	v1_err_t err;        /* status and code when refused before the store */
	int ok_status;       /* 200 or 201 when queued */
	acm_op_t *op;        /* the queued operation, or NULL */
} batch_res_t;

typedef struct {
	size_t n;            /* operations in the request */
	size_t nops;         /* queued, in request order */
	batch_res_t *res;
	acm_op_t ops[];      /* ops[0] heads the chain handed to group commit */
} batch_t;

static const struct {
	const char *name;
	acm_op_kind_t kind;
	int ok_status;
} batch_kinds[] = {
	{ "add", ACM_OP_TXT_ADD, 201 },
	{ "remove", ACM_OP_TXT_REMOVE, 200 },
	{ "set", ACM_OP_TXT_REPLACE, 200 },
	{ "push", ACM_OP_TXT_PUSH, 200 },
};

/*
 * What every operation goes through, whichever reader found its fields (f:
 * op, username, key, subdomain): the caller's credentials, then its kind.
 * The next op of b is initialised for it and *k is its batch_kinds entry;
 * false when refused (res says why).
 */
static bool batch_start(acm_req_t *r, batch_t *b, const acm_batch_item_t *f,
                        batch_res_t *res, acm_account_t *acc, size_t *k)
{
	char actor[ACM_ACTOR_MAX];
	acm_op_t *op = &b->ops[b->nops];

	if (!check_caller(r, f->username, f->key, f->subdomain, acc, &res->err))
		return false;
	for (*k = 0; *k < sizeof(batch_kinds) / sizeof(batch_kinds[0]); (*k)++)
		if (strcmp(f->op, batch_kinds[*k].name) == 0)
			break;
	if (*k == sizeof(batch_kinds) / sizeof(batch_kinds[0]))
		return refuse(&res->err, 400, "bad_request", "op must be add, remove, set or push");
	acm_account_actor(acc, actor);
	acm_op_init(r, op, batch_kinds[*k].kind, actor);
	acm_auth_stamp(r, acc, op);
	return true;
}

/* The op batch_start began is complete: queue it. */
static void batch_queue(batch_t *b, batch_res_t *res, size_t k)
{
	res->ok_status = batch_kinds[k].ok_status;
	res->op = &b->ops[b->nops];
	b->nops++;
}

/* Check one decoded operation on its own and queue it; refusals go to res. */
static void batch_one(acm_req_t *r, batch_t *b, json_t *obj, batch_res_t *res)
{
	acm_batch_item_t f = { 0 };
	size_t len, k;
	acm_account_t acc;
	v1_err_t *e = &res->err;

	if (!json_is_object(obj)) {
		refuse(e, 400, "bad_request", "an operation must be an object");
		return;
	}
	if (acm_field_str(obj, "username", false, &f.username, &len, e->message) != ACM_OK ||
	    acm_field_str(obj, "key", false, &f.key, &len, e->message) != ACM_OK ||
	    acm_field_str(obj, "subdomain", false, &f.subdomain, &len, e->message) != ACM_OK ||
	    acm_field_str(obj, "op", true, &f.op, &len, e->message) != ACM_OK) {
		refuse(e, 400, "bad_request", e->message);
		return;
	}
	if (batch_start(r, b, &f, res, &acc, &k) &&
	    op_from_json(r, obj, acc.subdomain, &b->ops[b->nops], e))
		batch_queue(b, res, k);
}

/* The same for an operation the quick reader found (see batch_scan.h). */
static void batch_one_scanned(acm_req_t *r, batch_t *b, const acm_batch_item_t *f,
                              batch_res_t *res)
{
	acm_account_t acc;
	acm_op_t *op = &b->ops[b->nops];
	uint64_t now = acm_expiry_now();
	size_t k;

	if (!batch_start(r, b, f, res, &acc, &k))
		return;
	op_defaults(r, acc.subdomain, op, now);
	if (op->kind != ACM_OP_TXT_REMOVE && f->expires_in)
		op->expires = acm_expiry_after(now, f->expires_in);
	/* A "set" here has no "values" (the reader declines them): refused
	 * as the decoded one is. */
	if (op->kind == ACM_OP_TXT_REPLACE ? json_values(r, NULL, op->expires, op, &res->err)
	                                   : take_value(op, f->value, f->value_len, &res->err))
		batch_queue(b, res, k);
}

/* One result as JSON text (malloc'd), or NULL when out of memory. A
 * success is {"status":NNN}, written as is; a refusal carries a code and
 * a message to escape, which jansson writes. */
static char *batch_result(acm_req_t *r, const batch_res_t *res)
{
	char buf[ACM_STORE_MSG_MAX], ok[24];
	const char *code = res->err.code;
	const char *message = res->err.message[0] ? res->err.message : NULL;
	int status = res->err.status;
	json_t *o;

	if (res->op && res->op->result == ACM_OK) {
		snprintf(ok, sizeof(ok), "{\"status\":%d}", res->ok_status);
		return strdup(ok);
	}
	if (res->op) {
		status = acm_store_status(res->op->result, &code);
		message = acm_store_message(r, res->op->result, buf);
	}
	if (!(o = json_pack("{s:i}", "status", status)))
		return NULL;
	if (code)
		json_object_set_new(o, "error", json_string(code));
	if (code && message)
		json_object_set_new(o, "message", json_string(message));
	char *text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return text;
}

/* Append text (freed here) and then tail to the reply in *out. */
static bool reply_append(char **out, size_t *len, size_t *cap, char *text, const char *tail)
{
	size_t n = text ? strlen(text) : 0, t = strlen(tail);

	if (text && n + t > *cap - *len) {
		size_t grown = 2 * *cap + n + t;
		char *p = realloc(*out, grown);
		if (p) {
			*out = p;
			*cap = grown;
		}
	}
	if (!text || n + t > *cap - *len) {
		free(text);
		return false;
	}
	memcpy(*out + *len, text, n);
	memcpy(*out + *len + n, tail, t);
	*len += n + t;
	free(text);
	return true;
}

/* {"serial":N,"results":[...]}, as jansson would write it, built as text:
 * a tree of a thousand results and its dump cost more than the rest of
 * the reply. */
static void batch_reply(acm_req_t *r, batch_t *b, uint32_t serial)
{
	size_t len, cap = 64 + 16 * b->n;
	char *out = malloc(cap);
	bool ok = out != NULL;

	acm_reply_serial(r, serial);
	if (ok)
		len = (size_t)snprintf(out, cap, "{\"serial\":%" PRIu32 ",\"results\":[", serial);
	for (size_t i = 0; ok && i < b->n; i++)
		ok = reply_append(&out, &len, &cap, batch_result(r, &b->res[i]),
		                  i + 1 < b->n ? "," : "]}");
	if (ok && b->n == 0)
		ok = reply_append(&out, &len, &cap, strdup(""), "]}");
	if (ok)
		acm_reply_raw(r, 200, "application/json", out, len);
	else
		acm_reply_error(r, 500, "out_of_memory", NULL);
	free(out);
}

static void batch_done(acm_req_t *r, acm_op_t *ops)
{
	batch_t *b = (batch_t *)(void *)((char *)ops - offsetof(batch_t, ops));

	/* A store failure poisons the whole transaction: nothing was applied. */
	for (size_t i = 0; i < b->nops; i++) {
		if (acm_store_failure(ops[i].result)) {
			acm_reply_store_error(r, ops[i].result);
			return;
		}
	}
	batch_reply(r, b, ops[0].serial);
}

static batch_t *batch_new(acm_req_t *r, size_t n)
{
	batch_t *b = acm_req_alloc(r, sizeof(*b) + n * sizeof(acm_op_t));

	if (!b || !(b->res = acm_req_alloc(r, (n + 1) * sizeof(batch_res_t))))
		return NULL;
	memset(b->res, 0, (n + 1) * sizeof(batch_res_t));
	b->n = n;
	b->nops = 0;
	return b;
}

static void batch_submit(acm_req_t *r, batch_t *b)
{
	uint32_t serial = 0;
	int rc;

	if (b->nops == 0) {
		if ((rc = acm_store_serial(acm_req_store(r), &serial)) != ACM_OK)
			acm_reply_store_error(r, rc);
		else
			batch_reply(r, b, serial);
		return;
	}
	for (size_t i = 0; i + 1 < b->nops; i++)
		b->ops[i].next = &b->ops[i + 1];
	b->ops[b->nops - 1].next = NULL;
	if ((rc = acm_req_commit(r, b->ops, batch_done)) != ACM_OK)
		acm_reply_store_error(r, rc);
}

/* The common shape of a batch, read without jansson (batch_scan.h); false
 * when the body is not of it, and nothing was done. */
static bool batch_scanned(acm_req_t *r)
{
	size_t len, n, max = acm_req_settings(r)->batch_max;
	const uint8_t *body = acm_req_body(r, &len);
	/* An operation the reader takes is at least {"op":"","value":""}. */
	size_t fits = len / 20 + 1 < max ? len / 20 + 1 : max;
	char *text = acm_req_alloc(r, len + 1);
	acm_batch_item_t *items = acm_req_alloc(r, (fits ? fits : 1) * sizeof(*items));
	batch_t *b;

	if (!text || !items || len == 0)
		return false;
	memcpy(text, body, len);
	if (!acm_batch_scan(text, len, items, fits, &n) || !(b = batch_new(r, n)))
		return false;
	for (size_t i = 0; i < n; i++)
		batch_one_scanned(r, b, &items[i], &b->res[i]);
	/* Parked for a bcrypt check: all of it runs again afterwards. */
	if (!acm_req_parked(r))
		batch_submit(r, b);
	return true;
}

static void route_batch(acm_req_t *r)
{
	json_t *body, *list, *obj;
	batch_t *b;
	size_t i;

	if (batch_scanned(r) || !(body = acm_v1_body(r, false)))
		return;
	list = json_object_get(body, "operations");
	if (!json_is_array(list)) {
		acm_reply_error(r, 400, "bad_request", "operations must be an array");
	} else if (json_array_size(list) > acm_req_settings(r)->batch_max) {
		acm_reply_error(r, 413, "too_many_operations", NULL);
	} else if (!(b = batch_new(r, json_array_size(list)))) {
		acm_reply_error(r, 500, "out_of_memory", NULL);
	} else {
		json_array_foreach(list, i, obj)
			batch_one(r, b, obj, &b->res[i]);
		/* Parked for a bcrypt check: all of it runs again afterwards. */
		if (!acm_req_parked(r))
			batch_submit(r, b);
	}
	json_decref(body);
}

const acm_route_t acm_routes_v1[] = {
	{ "POST", "/v1/register", route_register },
	{ "GET", "/v1/accounts/:sub", route_account },
	{ "GET", "/v1/accounts/:sub/txt", route_txt_list },
	{ "POST", "/v1/accounts/:sub/txt", route_txt_add },
	{ "PUT", "/v1/accounts/:sub/txt", route_txt_replace },
	{ "DELETE", "/v1/accounts/:sub/txt/:value", route_txt_remove },
	{ "POST", "/v1/accounts/:sub/rotate-key", route_rotate },
	{ "GET", "/v1/accounts/:sub/lookups", route_lookups },
	{ "GET", "/v1/accounts/:sub/delegation", route_delegation },
	{ "POST", "/v1/batch", route_batch },
	{ NULL, NULL, NULL },
};
