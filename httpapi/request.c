/* SPDX-License-Identifier: ISC */
/*
 * The request object routes see (acm_req_t): routing against the route
 * tables, the client address, CORS, the replies, and the hand-off to group
 * commit and back. Everything here runs on the HTTP thread.
 *
 * Lifetime: libevent owns the evhttp_request until we reply (or until its
 * connection is freed, which acm_req_conn_closed reports); acm_req_t lives
 * until the route has replied and, for writes, until its then() ran, so the
 * committer thread never sees freed memory.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "httpapi/server_int.h"
#include "lib/clock.h"
#include "lib/error.h"
#include "lib/log.h"

#define PARAMS_MAX 8
#define SEGMENTS_MAX 16
#define LOG_PATH_MAX 128
#define ALLOW_MAX 64           /* "GET, HEAD, POST, PUT, DELETE, OPTIONS" fits */

typedef struct block {
	struct block *next;
	alignas(max_align_t) unsigned char data[];
} block_t;

typedef struct {
	const char *name;           /* into the route pattern, not terminated */
	size_t namelen;
	char *value;                /* decoded, in the request's arena */
} param_t;

struct acm_req {
	struct evhttp_request *req;    /* NULL once replied or freed by libevent */
	acm_req_env_t *env;
	acm_http_conf_t *conf;         /* our reference */
	acm_conn_t *conn;              /* NULL once the connection closed */
	acm_req_t *prev, *next;        /* in conn->pending while a commit runs */

	const char *method;
	const char *route;             /* the matched pattern, for metrics; NULL: none */
	char log_path[LOG_PATH_MAX];
	struct timespec start;
	bool replied;

	size_t nparams;
	param_t params[PARAMS_MAX];
	const char *query_text;        /* raw, in the arena; parsed on first use */
	bool query_parsed;
	struct evkeyvalq query;
	uint8_t *body;
	size_t body_len;

	struct sockaddr_storage client;
	char client_text[INET6_ADDRSTRLEN];
	const char *cors_origin;       /* Access-Control-Allow-Origin, or NULL */
	block_t *arena;

	struct event *commit_ev;
	acm_op_t *ops;
	acm_then_fn then;
	acm_op_t *piggyback;           /* see acm_req_piggyback */

	acm_route_fn route_fn;         /* run again when a parked request wakes */
	bool parked;                   /* see acm_req_park */
	struct event *park_ev;
	acm_park_fn park_ready;
	void *park_arg;
	void *auth_state;              /* see acm_req_auth_state */
};

/* A path cut at its slashes; segments point into text. */
typedef struct {
	size_t n;
	const char *seg[SEGMENTS_MAX];
	size_t len[SEGMENTS_MAX];
} segments_t;

static void park_or_finish(acm_req_t *r);

/* ---- small helpers ----------------------------------------------------- */

static const char *method_name(enum evhttp_cmd_type cmd)
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

static double ms_since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

static uint64_t ns_since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	int64_t ns = (int64_t)(t.tv_sec - t0->tv_sec) * 1000000000 + (t.tv_nsec - t0->tv_nsec);
	return ns > 0 ? (uint64_t)ns : 0;
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

static char *arena_strndup(acm_req_t *r, const char *s, size_t len)
{
	char *copy = acm_req_alloc(r, len + 1);
	if (copy)
		memcpy(copy, s, len);
	return copy;
}

/* ---- routing ----------------------------------------------------------- */

/* "/a/b" -> a, b; "/" -> one empty segment. false if there are too many
 * for any route, which then cannot match. */
static bool split_path(const char *path, segments_t *out)
{
	out->n = 0;
	if (*path == '/')
		path++;
	for (;;) {
		if (out->n == SEGMENTS_MAX)
			return false;
		size_t len = strcspn(path, "/");
		out->seg[out->n] = path;
		out->len[out->n++] = len;
		if (!path[len])
			return true;
		path += len + 1;
	}
}

/* Does the pattern match the path? Returns the number of literal segments
 * (the more, the more specific the route) or -1. */
static int match_pattern(const char *pattern, const segments_t *path)
{
	segments_t pat;
	int literals = 0;

	if (!split_path(pattern, &pat) || pat.n != path->n)
		return -1;
	for (size_t i = 0; i < pat.n; i++) {
		if (pat.seg[i][0] == ':') {
			if (path->len[i] == 0)
				return -1;
			continue;
		}
		if (pat.len[i] != path->len[i] || memcmp(pat.seg[i], path->seg[i], pat.len[i]) != 0)
			return -1;
		literals++;
	}
	return literals;
}

typedef struct {
	const acm_route_t *route;      /* the best match for the method, or NULL */
	int score;
	bool path_known;               /* some route has this path */
	const char *methods[8];        /* every method of those routes */
	size_t nmethods;
} match_t;

static void add_method(match_t *m, const char *method)
{
	for (size_t i = 0; i < m->nmethods; i++)
		if (strcmp(m->methods[i], method) == 0)
			return;
	if (m->nmethods < sizeof(m->methods) / sizeof(m->methods[0]))
		m->methods[m->nmethods++] = method;
}

static void match_table(const acm_route_t *table, const char *method, const segments_t *path,
                        match_t *m)
{
	for (const acm_route_t *rt = table; rt->pattern; rt++) {
		int score = match_pattern(rt->pattern, path);
		if (score < 0)
			continue;
		m->path_known = true;
		add_method(m, rt->method);
		if (strcmp(rt->method, "GET") == 0)
			add_method(m, "HEAD");
		if (strcmp(rt->method, method) == 0 && score > m->score) {
			m->route = rt;
			m->score = score;
		}
	}
}

static void match_routes(const acm_http_conf_t *conf, const char *method, const char *path,
                         match_t *m)
{
	segments_t segs;

	memset(m, 0, sizeof(*m));
	m->score = -1;
	if (!split_path(path, &segs))
		return;
	/* a HEAD is a GET whose body libevent leaves out */
	if (strcmp(method, "HEAD") == 0)
		method = "GET";
	match_table(acm_routes_acmedns, method, &segs, m);
	match_table(acm_routes_v1, method, &segs, m);
	match_table(acm_routes_zone, method, &segs, m);
	match_table(acm_routes_health, method, &segs, m);
	if (conf->pub.admin_enabled)
		match_table(acm_routes_admin, method, &segs, m);
	if (conf->pub.metrics != ACM_METRICS_OFF)
		match_table(acm_routes_metrics, method, &segs, m);
	if (m->path_known)
		add_method(m, "OPTIONS");
}

static void join_methods(const match_t *m, char *out, size_t outlen)
{
	size_t len = 0;
	out[0] = '\0';
	for (size_t i = 0; i < m->nmethods && len < outlen; i++) {
		int n = snprintf(out + len, outlen - len, "%s%s", i ? ", " : "", m->methods[i]);
		if (n < 0)
			break;
		len += (size_t)n;
	}
}

/* Decode the route's ":name" segments into r->params. ACM_EMALF if one is
 * not a clean segment once decoded (a '/' or NUL could smuggle structure
 * into names). The last segment may hold an encoded '/': it names a TXT
 * value, and nothing follows it to be confused with. */
static int bind_params(acm_req_t *r, const char *pattern, const char *path)
{
	segments_t pat, segs;

	split_path(pattern, &pat);
	split_path(path, &segs);
	for (size_t i = 0; i < pat.n; i++) {
		if (pat.seg[i][0] != ':')
			continue;
		if (r->nparams == PARAMS_MAX)
			return -ENOMEM;
		char *raw = arena_strndup(r, segs.seg[i], segs.len[i]);
		size_t len = 0;
		char *dec = raw ? evhttp_uridecode(raw, 0, &len) : NULL;
		if (!dec)
			return -ENOMEM;
		bool last = i + 1 == pat.n;
		bool clean = len > 0 && strlen(dec) == len && (last || !strchr(dec, '/'));
		char *value = clean ? arena_strndup(r, dec, len) : NULL;
		free(dec);
		if (!clean)
			return ACM_EMALF;
		if (!value)
			return -ENOMEM;
		r->params[r->nparams++] = (param_t){ .name = pat.seg[i] + 1,
		                                     .namelen = pat.len[i] - 1, .value = value };
	}
	return ACM_OK;
}

/* ---- the client -------------------------------------------------------- */

/* "65535" and below, digits only. */
static bool port_ok(const char *s)
{
	size_t n = strspn(s, "0123456789");
	return n > 0 && n <= 5 && s[n] == '\0' && strtoul(s, NULL, 10) <= 65535;
}

/*
 * One entry of a forwarding header: an address, optionally with a port as
 * some proxies write it: "192.0.2.1", "192.0.2.1:80", "2001:db8::1",
 * "[2001:db8::1]" or "[2001:db8::1]:443", spaces or tabs around it. Nothing
 * else parses: no zone index, no RFC 7239 "for=" syntax, no names.
 */
static bool parse_forwarded_ip(const char *s, size_t len, struct sockaddr_storage *out)
{
	char text[INET6_ADDRSTRLEN + 8];

	while (len && (*s == ' ' || *s == '\t'))
		s++, len--;
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if (len == 0 || len >= sizeof(text))
		return false;
	memcpy(text, s, len);
	text[len] = '\0';

	char *host = text, *colon = strchr(text, ':');
	if (host[0] == '[') {
		char *close = strchr(host, ']');
		if (!close || (close[1] && (close[1] != ':' || !port_ok(close + 2))))
			return false;
		*close = '\0';
		host++;
	} else if (colon && colon == strrchr(text, ':')) {
		if (!port_ok(colon + 1))     /* IPv4 with a port */
			return false;
		*colon = '\0';
	}

	memset(out, 0, sizeof(*out));
	struct sockaddr_in *a4 = (struct sockaddr_in *)out;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)out;
	if (host == text && inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		return true;
	}
	return false;
}

static bool is_trusted(const acm_http_conf_t *conf, const struct sockaddr *sa)
{
	for (size_t i = 0; i < conf->trusted_count; i++)
		if (acm_cidr_match(&conf->trusted[i], sa))
			return true;
	return false;
}

/* Every instance of the header, in order, joined with ',' as RFC 9110
 * (5.3) allows a recipient to; in the request's arena. NULL if there is
 * none or memory ran out. */
static char *joined_header(acm_req_t *r, const char *name)
{
	const struct evkeyvalq *h = evhttp_request_get_input_headers(r->req);
	const struct evkeyval *kv;
	size_t len = 0;
	char *out;

	for (kv = h->tqh_first; kv; kv = kv->next.tqe_next)
		if (strcasecmp(kv->key, name) == 0)
			len += strlen(kv->value) + 1;
	if (len == 0 || !(out = acm_req_alloc(r, len)))
		return NULL;
	len = 0;
	for (kv = h->tqh_first; kv; kv = kv->next.tqe_next) {
		if (strcasecmp(kv->key, name) != 0)
			continue;
		size_t n = strlen(kv->value);
		if (len)
			out[len++] = ',';
		memcpy(out + len, kv->value, n);
		len += n;
	}
	out[len] = '\0';
	return out;
}

/*
 * Walk the list from the right, as each proxy appends the address it got
 * the request from: an entry a trusted proxy wrote is believed, so the walk
 * goes on past trusted addresses and stops at the first one that is not
 * trusted, which is the client. Everything further left came from that
 * client and could say anything. An entry that is not an address ends the
 * walk where it stands, at the last trusted hop: skipping it to believe an
 * entry further left would let a client pick its own address. When every
 * entry is trusted, the left-most is the client.
 */
static void walk_forwarded(acm_req_t *r, const char *list)
{
	size_t end = strlen(list);
	struct sockaddr_storage a;

	for (;;) {
		size_t start = end;
		while (start > 0 && list[start - 1] != ',')
			start--;
		if (!parse_forwarded_ip(list + start, end - start, &a))
			return;
		r->client = a;
		if (!is_trusted(r->conf, (const struct sockaddr *)&a) || start == 0)
			return;
		end = start - 1;
	}
}

/* The peer is the client unless it is a trusted proxy that says otherwise. */
static void set_client(acm_req_t *r, const struct sockaddr *peer)
{
	memset(&r->client, 0, sizeof(r->client));
	if (peer && (peer->sa_family == AF_INET || peer->sa_family == AF_INET6))
		memcpy(&r->client, peer, peer->sa_family == AF_INET ? sizeof(struct sockaddr_in)
		                                                     : sizeof(struct sockaddr_in6));
	if (r->conf->proxy_header && r->client.ss_family && is_trusted(r->conf, peer)) {
		const char *list = joined_header(r, r->conf->proxy_header);
		if (list)
			walk_forwarded(r, list);
	}

	const void *addr = r->client.ss_family == AF_INET
	                       ? (const void *)&((struct sockaddr_in *)&r->client)->sin_addr
	                       : (const void *)&((struct sockaddr_in6 *)&r->client)->sin6_addr;
	if (r->client.ss_family == 0 ||
	    !inet_ntop(r->client.ss_family, addr, r->client_text, sizeof(r->client_text)))
		strcpy(r->client_text, "unknown");
}

/* ---- CORS -------------------------------------------------------------- */

static const char *cors_match(const acm_http_conf_t *conf, const char *origin)
{
	if (!origin || conf->cors_count == 0)
		return NULL;
	if (conf->cors_any)
		return "*";
	for (size_t i = 0; i < conf->cors_count; i++)
		if (strcasecmp(conf->cors_origins[i], origin) == 0)
			return origin;
	return NULL;
}

/* ---- replies ----------------------------------------------------------- */

/* With a list of origins the answer depends on Origin even when it does
 * not match, so caches must key on it. */
static void common_headers(struct evkeyvalq *h, const acm_http_conf_t *conf,
                           const char *cors_origin)
{
	evhttp_add_header(h, "Server", "acmens");
	if (cors_origin)
		evhttp_add_header(h, "Access-Control-Allow-Origin", cors_origin);
	if (conf->cors_count > 0 && !conf->cors_any)
		evhttp_add_header(h, "Vary", "Origin");
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

void acm_reply_raw(acm_req_t *r, int status, const char *content_type, const char *body,
                   size_t len)
{
	if (r->replied) {
		acm_err("http %s %s: a second reply (%d) was dropped", r->method, r->log_path, status);
		return;
	}
	r->replied = true;
	acm_http_metrics_record(r->env->http_metrics, r->route ? r->route : "unmatched", r->method,
	                        status, ns_since(&r->start));
	acm_log_kv(ACM_LOG_DEBUG, "http", ACM_KS("client", r->client_text), ACM_KS("method", r->method),
	           ACM_KS("path", r->log_path), ACM_KS("route", r->route ? r->route : ""),
	           ACM_KI("status", status), ACM_KF("ms", ms_since(&r->start)),
	           ACM_KB("client_gone", !r->req));
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
	common_headers(h, conf, cors_match(conf, origin));
	evhttp_add_header(h, "Connection", "close");
	acm_log_kv(ACM_LOG_DEBUG, "http refused",
	           ACM_KS("method", method_name(evhttp_request_get_command(req))),
	           ACM_KI("status", status), ACM_KS("error", code));
	send_bytes(req, status, "application/json", body, (size_t)n);
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

/* ---- group commit ------------------------------------------------------- */

static void pending_link(acm_req_t *r)
{
	if (!r->conn)
		return;
	r->prev = NULL;
	r->next = r->conn->pending;
	if (r->next)
		r->next->prev = r;
	r->conn->pending = r;
}

static void pending_unlink(acm_req_t *r)
{
	if (!r->conn)
		return;
	if (r->prev)
		r->prev->next = r->next;
	else
		r->conn->pending = r->next;
	if (r->next)
		r->next->prev = r->prev;
	r->prev = r->next = NULL;
}

void acm_req_conn_closed(acm_conn_t *conn)
{
	acm_req_t *next;
	for (acm_req_t *r = conn->pending; r; r = next) {
		next = r->next;
		/* A request still on this connection is freed with it. One that
		 * libevent already detached (evcon NULL) waits for our reply,
		 * which frees it without sending. */
		if (r->req && evhttp_request_get_connection(r->req) == conn->evcon)
			r->req = NULL;
		r->conn = NULL;
		r->prev = r->next = NULL;
	}
	conn->pending = NULL;
}

static void req_free(acm_req_t *r)
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

void acm_req_piggyback(acm_req_t *r, acm_op_t *op)
{
	op->next = r->piggyback;
	r->piggyback = op;
}

const acm_op_t *acm_req_piggybacked(const acm_req_t *r)
{
	return r->piggyback;
}

static void piggyback_done(acm_op_t *first, void *arg)
{
	(void)arg;
	free(first);
}

/* The request's memory goes with it, so the operations travel as a copy
 * that the committer frees. Lost on failure: an upgrade is simply tried
 * again on the account's next request. */
static void piggyback_submit(acm_req_t *r)
{
	size_t n = 0, i = 0;
	acm_op_t *copy;

	for (const acm_op_t *op = r->piggyback; op; op = op->next)
		n++;
	if (!(copy = calloc(n, sizeof(*copy))))
		return;
	for (const acm_op_t *op = r->piggyback; op; op = op->next, i++) {
		copy[i] = *op;
		copy[i].next = i + 1 < n ? &copy[i + 1] : NULL;
	}
	if (acm_commit_submit(r->env->commit, copy, piggyback_done, NULL) != ACM_OK)
		free(copy);
	r->piggyback = NULL;
}

/* A route that returns without replying (and without a commit) is a bug;
 * the client still gets an answer. */
static void finish(acm_req_t *r)
{
	if (!r->replied) {
		acm_err("http %s %s: the route sent no reply", r->method, r->log_path);
		acm_reply_error(r, 500, "internal_error", NULL);
	}
	if (r->piggyback)
		piggyback_submit(r);
	req_free(r);
}

static void on_committed(evutil_socket_t fd, short what, void *arg)
{
	acm_req_t *r = arg;
	(void)fd;
	(void)what;
	r->env->pending--;
	pending_unlink(r);
	r->then(r, r->ops);
	finish(r);
}

/* The committer thread: only wake the HTTP thread, which owns r. */
static void commit_done(acm_op_t *first, void *arg)
{
	acm_req_t *r = arg;
	(void)first;
	event_active(r->commit_ev, 0, 0);
}

int acm_req_commit(acm_req_t *r, acm_op_t *ops, acm_then_fn then)
{
	if (!ops || !then || r->then || r->replied || r->parked)
		return -EINVAL;
	r->commit_ev = event_new(r->env->base, -1, 0, on_committed, r);
	if (!r->commit_ev)
		return -ENOMEM;
	r->ops = ops;
	r->then = then;
	acm_op_t *tail = ops;
	while (tail->next)
		tail = tail->next;
	tail->next = r->piggyback;
	int rc = acm_commit_submit(r->env->commit, ops, commit_done, r);
	if (rc != ACM_OK) {
		tail->next = NULL;
		event_free(r->commit_ev);
		r->commit_ev = NULL;
		r->then = NULL;
		return rc;
	}
	r->piggyback = NULL;
	r->env->pending++;
	pending_link(r);
	return ACM_OK;
}

/* ---- parked requests ------------------------------------------------------ */

void **acm_req_auth_state(acm_req_t *r)
{
	return &r->auth_state;
}

acm_auth_env_t *acm_req_auth_env(const acm_req_t *r)
{
	return r->env->auth;
}

/* The work a parked request waits for is done: run its route again, unless
 * its connection closed meanwhile (then nothing may touch its request). */
static void on_unparked(evutil_socket_t fd, short what, void *arg)
{
	acm_req_t *r = arg;
	(void)fd;
	(void)what;
	r->env->pending--;
	pending_unlink(r);
	r->parked = false;
	if (r->req)
		r->route_fn(r);
	else
		r->replied = true;     /* nobody to answer */
	park_or_finish(r);
}

int acm_req_park(acm_req_t *r, acm_park_fn ready, void *arg)
{
	if (r->then || r->replied || !r->route_fn)
		return -EINVAL;
	if (!r->park_ev && !(r->park_ev = event_new(r->env->base, -1, 0, on_unparked, r)))
		return -ENOMEM;
	r->parked = true;
	r->park_ready = ready;
	r->park_arg = arg;
	return ACM_OK;
}

bool acm_req_parked(const acm_req_t *r)
{
	return r->parked;
}

void acm_req_wake(acm_req_t *r)
{
	event_active(r->park_ev, 0, 0);
}

/* After the route returned: hand the parked request's work over, or end a
 * request that does not wait for a commit. */
static void park_or_finish(acm_req_t *r)
{
	if (r->parked) {
		r->env->pending++;
		pending_link(r);
		r->park_ready(r, r->park_arg);
	} else if (!r->then) {
		finish(r);
	}
}

/* ---- dispatch ------------------------------------------------------------ */

static void preflight(acm_req_t *r, const match_t *m)
{
	char allow[ALLOW_MAX];
	struct evkeyvalq *h = evhttp_request_get_output_headers(r->req);

	join_methods(m, allow, sizeof(allow));
	evhttp_add_header(h, "Allow", allow);
	if (r->cors_origin) {
		evhttp_add_header(h, "Access-Control-Allow-Methods", allow);
		evhttp_add_header(h, "Access-Control-Allow-Headers",
		                  "Content-Type, X-Api-User, X-Api-Key, Authorization");
	}
	acm_reply_raw(r, 204, NULL, NULL, 0);
}

static void dispatch(acm_req_t *r, const char *path)
{
	match_t m;

	match_routes(r->conf, r->method, path, &m);
	if (!m.path_known) {
		acm_reply_error(r, 404, "not_found", NULL);
	} else if (strcmp(r->method, "OPTIONS") == 0) {
		preflight(r, &m);
	} else if (!m.route) {
		char allow[ALLOW_MAX];
		join_methods(&m, allow, sizeof(allow));
		acm_reply_header(r, "Allow", allow);
		acm_reply_error(r, 405, "method_not_allowed", NULL);
	} else {
		r->route = m.route->pattern;
		int rc = bind_params(r, m.route->pattern, path);
		if (rc == ACM_EMALF)
			acm_reply_error(r, 404, "not_found", NULL);
		else if (rc != ACM_OK)
			acm_reply_error(r, 500, "internal_error", NULL);
		else
			(r->route_fn = m.route->fn)(r);
	}
}

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
	if (query && !(r->query_text = arena_strndup(r, query, strlen(query))))
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
	r->method = method_name(evhttp_request_get_command(req));

	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	if (!path || !*path)
		path = "/";
	copy_for_log(path, r->log_path, sizeof(r->log_path));
	r->cors_origin = cors_match(conf, acm_req_header(r, "Origin"));
	set_client(r, evhttp_connection_get_addr(evhttp_request_get_connection(req)));

	if (!uri || path[0] != '/')
		acm_reply_error(r, 400, "bad_request", "malformed request target");
	else if (read_request(r, uri) != ACM_OK)
		acm_reply_error(r, 500, "internal_error", NULL);
	else
		dispatch(r, path);
	park_or_finish(r);
}
