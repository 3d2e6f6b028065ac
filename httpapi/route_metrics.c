/* SPDX-License-Identifier: ISC */
/*
 * GET /metrics: the metrics page (metrics.c) in Prometheus text format,
 * mounted unless http.metrics is off, behind the admin token when it is
 * "admin".
 */
#include "httpapi/auth.h"
#include "httpapi/server_int.h"

#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

static void get_metrics(acm_req_t *r)
{
	acm_expo_t e;
	if (acm_req_settings(r)->metrics == ACM_METRICS_ADMIN && !acm_auth_admin(r)) {
		acm_reply_error(r, 401, "unauthorized", NULL);
		return;
	}
	acm_expo_init(&e);
	acm_http_metrics_render(&e, acm_req_env(r));
	if (e.oom || !e.buf)
		acm_reply_error(r, 500, "internal_error", NULL);
	else
		acm_reply_raw(r, 200, CONTENT_TYPE, e.buf, e.len);
	acm_expo_free(&e);
}

const acm_route_t acm_routes_metrics[] = {
	{ "GET", "/metrics", get_metrics },
	{ NULL, NULL, NULL },
};
