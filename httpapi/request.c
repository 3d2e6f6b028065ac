/* SPDX-License-Identifier: ISC */
/*
 * The request object routes see (acm_req_t): made from libevent's request
 * (client address, CORS origin, body and query copied into its arena),
 * handed to the router, read through the accessors of http.h, and freed.
 * Its fields and lifetime: request_int.h. Everything here runs on the HTTP
 * thread.
 */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "httpapi/client_addr.h"
#include "httpapi/cors.h"
#include "httpapi/park.h"
#include "httpapi/request_int.h"
#include "httpapi/router.h"
#include "lib/error.h"

/* ---- small helpers ----------------------------------------------------- */

const char *acm_method_name(enum evhttp_cmd_type cmd)
{
	switch (cmd) {
	case EVHTTP_REQ_GET: return "GET";
	case EVHTTP_REQ_POST: return "POST";
	case EVHTTP_REQ_PUT: return "PUT";
	case EVHTTP_REQ_DELETE: return "DELETE";
	case EVHTTP_REQ_OPTIONS: return "OPTIONS";
	case EVHTTP_REQ_HEAD: return "HEAD";
	case EVHTTP_REQ_PATCH: return "PATCH";
	case EVHTTP_REQ_TRACE: return "TRACE";
	case EVHTTP_REQ_CONNECT: return "CONNECT";
	default: return "OTHER";
	}
}

static uint64_t now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

/* The path is attacker-chosen: keep log lines one line of printable text. */
static void copy_for_log(const char *path, char *out, size_t outlen)
{
	size_t i = 0;
	for (; path[i] && i + 1 < outlen; i++)
		out[i] = path[i] > 0x20 && path[i] < 0x7f ? path[i] : '?';
	out[i] = '\0';
}

void *acm_req_alloc(acm_req_t *r, size_t size)
{
	block_t *b = calloc(1, sizeof(*b) + size);
	if (!b)
		return NULL;
	b->next = r->arena;
	r->arena = b;
	return b->data;
}

char *acm_req_strndup(acm_req_t *r, const char *s, size_t len)
{
	char *copy = acm_req_alloc(r, len + 1);
	if (copy)
		memcpy(copy, s, len);
	return copy;
}

/* ---- accessors ---------------------------------------------------------- */

const acm_http_settings_t *acm_req_settings(const acm_req_t *r)
{
	return &r->conf->pub;
}

acm_req_env_t *acm_req_env(const acm_req_t *r)
{
	return r->env;
}

acm_store_t *acm_req_store(const acm_req_t *r)
{
	return r->env->store;
}

acm_zone_status_t *acm_req_zone_status(const acm_req_t *r)
{
	return r->env->status;
}

acm_lookup_log_t *acm_req_lookups(const acm_req_t *r)
{
	return r->env->lookups;
}

const acm_health_t *acm_req_health(const acm_req_t *r)
{
	return r->env->health;
}

void acm_req_commit_stats(const acm_req_t *r, acm_commit_stats_t *out)
{
	memset(out, 0, sizeof(*out));
	if (r->env->commit)
		acm_commit_get_stats(r->env->commit, out);
}

const char *acm_req_param(const acm_req_t *r, const char *name)
{
	size_t len = strlen(name);
	for (size_t i = 0; i < r->nparams; i++)
		if (r->params[i].namelen == len && memcmp(r->params[i].name, name, len) == 0)
			return r->params[i].value;
	return NULL;
}

/* A malformed query string reads as an empty one, as in acme-dns, whose
 * routes never look at it. */
const char *acm_req_query(const acm_req_t *r, const char *name)
{
	acm_req_t *rw = (acm_req_t *)r;    /* the parse is a cache */
	if (!r->query_text)
		return NULL;
	if (!r->query_parsed) {
		rw->query_parsed = true;
		if (evhttp_parse_query_str(r->query_text, &rw->query) != 0)
			evhttp_clear_headers(&rw->query);
	}
	return evhttp_find_header(&rw->query, name);
}

const char *acm_req_header(const acm_req_t *r, const char *name)
{
	if (!r->req)
		return NULL;
	return evhttp_find_header(evhttp_request_get_input_headers(r->req), name);
}

const uint8_t *acm_req_body(const acm_req_t *r, size_t *len)
{
	*len = r->body_len;
	return r->body;
}

const struct sockaddr *acm_req_client(const acm_req_t *r)
{
	return (const struct sockaddr *)&r->client;
}

const char *acm_req_client_text(const acm_req_t *r)
{
	return r->client_text;
}

bool acm_req_register_allowed(acm_req_t *r)
{
	return acm_ratelimit_register(r->env->ratelimit, acm_req_client(r),
	                              r->conf->pub.register_rate,
	                              r->conf->pub.register_rate_global, now_ms());
}

void **acm_req_auth_state(acm_req_t *r)
{
	return &r->auth_state;
}

acm_auth_env_t *acm_req_auth_env(const acm_req_t *r)
{
	return r->env->auth;
}

void acm_req_free(acm_req_t *r)
{
	block_t *next;
	for (block_t *b = r->arena; b; b = next) {
		next = b->next;
		free(b);
	}
	if (r->query_parsed)
		evhttp_clear_headers(&r->query);
	if (r->commit_ev)
		event_free(r->commit_ev);
	if (r->park_ev)
		event_free(r->park_ev);
	acm_http_conf_unref(r->conf);
	free(r);
}

/* ---- the request from libevent ------------------------------------------ */

/* Copy out what the route may ask for: the body (with a NUL after it, for
 * parsers that want one) and the raw query string. */
static int read_request(acm_req_t *r, const struct evhttp_uri *uri)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(r->req);
	size_t len = evbuffer_get_length(in);
	const char *query = evhttp_uri_get_query(uri);

	r->body = acm_req_alloc(r, len + 1);
	if (!r->body || evbuffer_copyout(in, r->body, len) != (ev_ssize_t)len)
		return -ENOMEM;
	r->body_len = len;
	if (query && !(r->query_text = acm_req_strndup(r, query, strlen(query))))
		return -ENOMEM;
	return ACM_OK;
}

void acm_req_handle(acm_req_env_t *env, acm_http_conf_t *conf, acm_conn_t *conn,
                    struct evhttp_request *req)
{
	acm_req_t *r = calloc(1, sizeof(*r));
	if (!r) {
		acm_req_refuse(conf, req, 503, "out_of_memory");
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &r->start);
	r->req = req;
	r->env = env;
	r->conf = conf;
	acm_http_conf_ref(conf);
	r->conn = conn;
	r->method = acm_method_name(evhttp_request_get_command(req));

	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	if (!path || !*path)
		path = "/";
	copy_for_log(path, r->log_path, sizeof(r->log_path));
	r->cors_origin = acm_cors_allow_origin(conf, acm_req_header(r, "Origin"));
	acm_client_addr(conf, evhttp_connection_get_addr(evhttp_request_get_connection(req)),
	                evhttp_request_get_input_headers(req), &r->client, r->client_text,
	                sizeof(r->client_text));

	if (!uri || path[0] != '/')
		acm_reply_error(r, 400, "bad_request", "malformed request target");
	else if (read_request(r, uri) != ACM_OK)
		acm_reply_error(r, 500, "internal_error", NULL);
	else
		acm_router_dispatch(r, path);
	acm_req_route_done(r);
}
