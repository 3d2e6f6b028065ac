/* SPDX-License-Identifier: ISC */
/*
 * Replies: exactly one per request (http.h, "Replies"), counted in the
 * request metrics and logged once; and the refusal sent before a request
 * is routed (server_int.h). Byte for byte what acme-dns clients expect:
 * the body is sent as given, with the headers every reply carries.
 */
#include <event2/buffer.h>
#include <event2/http.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "httpapi/cors.h"
#include "httpapi/request_int.h"
#include "lib/clock.h"
#include "lib/log.h"

static void common_headers(struct evkeyvalq *h, const acm_http_conf_t *conf,
                           const char *cors_origin)
{
	evhttp_add_header(h, "Server", "acmens");
	acm_cors_headers(h, conf, cors_origin);
}

/* libevent 2.1 writes whatever body it is given, HEAD or not: a HEAD gets
 * the headers of the GET, Content-Length included, and no body (RFC 9110
 * 9.3.2). */
static void send_bytes(struct evhttp_request *req, int status, const char *content_type,
                       const void *body, size_t len)
{
	struct evbuffer *buf = evbuffer_new();
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	if (content_type)
		evhttp_add_header(h, "Content-Type", content_type);
	if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
		char n[24];
		snprintf(n, sizeof(n), "%zu", len);
		evhttp_add_header(h, "Content-Length", n);
		len = 0;
	}
	if (buf && len)
		evbuffer_add(buf, body, len);
	evhttp_send_reply(req, status, NULL, buf);
	if (buf)
		evbuffer_free(buf);
}

/* Keep the reply for later (request_int.h, held_reply_t); on failure it
 * is lost and the request ends with 500, as with no reply. */
static void hold(acm_req_t *r, int status, const char *content_type, const char *body,
                 size_t len)
{
	held_reply_t *h = &r->held;
	h->on = false;   /* one reply only */
	h->status = status;
	h->content_type = content_type ? acm_req_strndup(r, content_type, strlen(content_type))
	                               : NULL;
	h->body = acm_req_strndup(r, body ? body : "", body ? len : 0);
	h->len = len;
	h->kept = h->body && (h->content_type || !content_type);
}

void acm_reply_raw(acm_req_t *r, int status, const char *content_type, const char *body,
                   size_t len)
{
	if (r->held.on) {
		hold(r, status, content_type, body, len);
		return;
	}
	if (r->replied) {
		acm_err("http %s %s: a second reply (%d) was dropped", r->method, r->log_path, status);
		return;
	}
	r->replied = true;
	uint64_t ns = acm_mono_ns() - r->start_ns;
	acm_http_metrics_record(r->env->http_metrics, r->route ? r->route : "unmatched", r->method,
	                        status, ns);
	bool head = r->req && evhttp_request_get_command(r->req) == EVHTTP_REQ_HEAD;
	acm_access_log(r, status, r->req && !head ? len : 0, ns, !r->req);
	if (!r->req)
		return;
	common_headers(evhttp_request_get_output_headers(r->req), r->conf, r->cors_origin);
	send_bytes(r->req, status, content_type, body, len);
	r->req = NULL;
}

void acm_reply_json(acm_req_t *r, int status, json_t *body)
{
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	if (!text) {
		static const char oom[] = "{\"error\":\"internal_error\"}";
		acm_reply_raw(r, 500, "application/json", oom, sizeof(oom) - 1);
		return;
	}
	acm_reply_raw(r, status, "application/json", text, strlen(text));
	free(text);
}

void acm_reply_error(acm_req_t *r, int status, const char *code, const char *message)
{
	json_t *body = json_object();
	if (body) {
		json_object_set_new(body, "error", json_string(code));
		if (message)
			json_object_set_new(body, "message", json_string(message));
	}
	acm_reply_json(r, status, body);
}

void acm_reply_header(acm_req_t *r, const char *name, const char *value)
{
	if (r->req && !r->replied)
		evhttp_add_header(evhttp_request_get_output_headers(r->req), name, value);
}

void acm_req_refuse(const acm_http_conf_t *conf, struct evhttp_request *req, int status,
                    const char *code)
{
	char body[96];
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	const char *origin = evhttp_find_header(evhttp_request_get_input_headers(req), "Origin");

	int n = snprintf(body, sizeof(body), "{\"error\":\"%s\"}", code);
	common_headers(h, conf, acm_cors_allow_origin(conf, origin));
	evhttp_add_header(h, "Connection", "close");
	acm_log_kv(ACM_LOG_DEBUG, "http refused",
	           ACM_KS("method", acm_method_name(evhttp_request_get_command(req))),
	           ACM_KI("status", status), ACM_KS("error", code));
	send_bytes(req, status, "application/json", body, (size_t)n);
}
