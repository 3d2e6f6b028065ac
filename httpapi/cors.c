/* SPDX-License-Identifier: ISC */
/*
 * CORS for browsers calling the API from the origins http.cors_origins
 * lists: the allowed origin is decided once per request and echoed on
 * every reply, refusals and preflights included.
 */
#include <event2/http.h>
#include <string.h>
#include <strings.h>

#include "httpapi/cors.h"

/* As rs/cors (acme-dns's CORS) does: a pattern with one "*" is a prefix
 * and a suffix, and an origin matches when it holds both without their
 * overlapping; letters compare without case. The loader refuses a second
 * "*", so the suffix never holds one. */
bool acm_cors_origin_matches(const char *pattern, const char *origin)
{
	const char *star = strchr(pattern, '*');
	size_t olen = strlen(origin);

	if (!star)
		return strcasecmp(pattern, origin) == 0;
	size_t plen = (size_t)(star - pattern), slen = strlen(star + 1);
	return olen >= plen + slen && strncasecmp(origin, pattern, plen) == 0 &&
	       strcasecmp(origin + olen - slen, star + 1) == 0;
}

const char *acm_cors_allow_origin(const acm_http_conf_t *conf, const char *origin)
{
	if (!origin || conf->cors_count == 0)
		return NULL;
	if (conf->cors_any)
		return "*";
	for (size_t i = 0; i < conf->cors_count; i++)
		if (acm_cors_origin_matches(conf->cors_origins[i], origin))
			return origin;
	return NULL;
}

/* With a list of origins the answer depends on Origin even when it does
 * not match, so caches must key on it. */
void acm_cors_headers(struct evkeyvalq *h, const acm_http_conf_t *conf,
                      const char *allow_origin)
{
	if (allow_origin)
		evhttp_add_header(h, "Access-Control-Allow-Origin", allow_origin);
	if (conf->cors_count > 0 && !conf->cors_any)
		evhttp_add_header(h, "Vary", "Origin");
}

void acm_cors_preflight_headers(struct evkeyvalq *h, const char *allow_origin,
                                const char *methods)
{
	if (!allow_origin)
		return;
	evhttp_add_header(h, "Access-Control-Allow-Methods", methods);
	evhttp_add_header(h, "Access-Control-Allow-Headers",
	                  "Content-Type, X-Api-User, X-Api-Key, Authorization");
}
