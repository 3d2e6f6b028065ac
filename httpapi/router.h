/* SPDX-License-Identifier: ISC */
/*
 * The router: a request's path against the route tables (http.h), the
 * tables for admin and /metrics mounted only when configured. Runs on the
 * HTTP thread.
 */
#ifndef ACM_HTTPAPI_ROUTER_H
#define ACM_HTTPAPI_ROUTER_H

#include "httpapi/http.h"

/*
 * Route r by path (percent-encoded, starting with '/') and its method, and
 * either run the route (its ":name" parameters bound, acm_req_param) or
 * reply: 404 not_found for a path no route has (or a parameter that is not
 * a clean segment once decoded), 204 with Allow (and CORS headers) to
 * OPTIONS, 405 method_not_allowed with Allow to another method, 500
 * internal_error when memory runs out.
 */
void acm_router_dispatch(acm_req_t *r, const char *path);

#endif
