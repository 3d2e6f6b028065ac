/* SPDX-License-Identifier: ISC */
/*
 * CORS (http.cors_origins): which origin a reply allows, and the headers
 * that say so on every reply and on a preflight. Runs on the HTTP thread.
 */
#ifndef ACM_HTTPAPI_CORS_H
#define ACM_HTTPAPI_CORS_H

#include <stdbool.h>

#include "httpapi/server_int.h"

struct evkeyvalq;

/* Whether origin (an Origin header) matches pattern (an http.cors_origins
 * entry other than "*"): equal without case, or, for a pattern with one
 * "*", starting with what precedes it and ending with what follows it,
 * the two not overlapping. */
bool acm_cors_origin_matches(const char *pattern, const char *origin);

/* The Access-Control-Allow-Origin value for a request with this Origin
 * header (NULL: none): "*" when any origin is allowed, origin itself when
 * it matches an entry, else NULL (and for a NULL origin, or no origins set). */
const char *acm_cors_allow_origin(const acm_http_conf_t *conf, const char *origin);

/* Add to a reply's headers Access-Control-Allow-Origin (when allow_origin
 * is not NULL) and, when origins are listed, Vary: Origin. */
void acm_cors_headers(struct evkeyvalq *h, const acm_http_conf_t *conf,
                      const char *allow_origin);

/* Add a preflight's Access-Control-Allow-Methods (methods) and
 * Access-Control-Allow-Headers, when allow_origin is not NULL. */
void acm_cors_preflight_headers(struct evkeyvalq *h, const char *allow_origin,
                                const char *methods);

#endif
