/* SPDX-License-Identifier: ISC */
/*
 * The request object routes see (acm_req_t): its arena, the accessors of
 * http.h, and its end. Its fields and lifetime: request_int.h; how one is
 * made from libevent's request: intake.c. Everything here runs on the HTTP
 * thread.
 */
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "httpapi/request_int.h"
#include "lib/clock.h"

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
	                              r->conf->pub.register_rate_global, acm_mono_ms());
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
