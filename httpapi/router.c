/* SPDX-License-Identifier: ISC */
/*
 * The router: the request path cut at its slashes and matched against the
 * route patterns, the most literal segments winning; Allow lists and
 * preflights from every method a path has; the route's parameters decoded
 * into the request. A HEAD is routed as its GET.
 */
#include <errno.h>
#include <event2/http.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httpapi/cors.h"
#include "httpapi/request_int.h"
#include "httpapi/propagation_wait.h"
#include "httpapi/router.h"
#include "lib/error.h"

#define SEGMENTS_MAX 16
#define ALLOW_MAX 64           /* "GET, HEAD, POST, PUT, DELETE, OPTIONS" fits */

/* A path cut at its slashes; segments point into text. */
typedef struct {
	size_t n;
	const char *seg[SEGMENTS_MAX];
	size_t len[SEGMENTS_MAX];
} segments_t;

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
	const char *shape;             /* the pattern of one of them */
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
		m->shape = rt->pattern;
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
		char *raw = acm_req_strndup(r, segs.seg[i], segs.len[i]);
		size_t len = 0;
		char *dec = raw ? evhttp_uridecode(raw, 0, &len) : NULL;
		if (!dec)
			return -ENOMEM;
		bool last = i + 1 == pat.n;
		bool clean = len > 0 && strlen(dec) == len && (last || !strchr(dec, '/'));
		char *value = clean ? acm_req_strndup(r, dec, len) : NULL;
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

static void preflight(acm_req_t *r, const match_t *m)
{
	char allow[ALLOW_MAX];
	struct evkeyvalq *h = evhttp_request_get_output_headers(r->req);

	join_methods(m, allow, sizeof(allow));
	evhttp_add_header(h, "Allow", allow);
	acm_cors_preflight_headers(h, r->cors_origin, allow);
	acm_reply_raw(r, 204, NULL, NULL, 0);
}

void acm_router_dispatch(acm_req_t *r, const char *path)
{
	match_t m;

	match_routes(r->conf, r->method, path, &m);
	if (m.path_known)
		acm_access_mask(r, m.shape);
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
		else if (acm_prop_wait_parse(r, m.route->pattern))
			(r->route_fn = m.route->fn)(r);
	}
}
