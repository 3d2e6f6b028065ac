/* SPDX-License-Identifier: ISC */
/*
 * A request's way in: the request object made from libevent's (client
 * address, CORS origin, body and query copied into its arena), routed,
 * then ended or left waiting for a commit or a parked check. The top of
 * the request files: nothing here is called back from below.
 */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "httpapi/client_addr.h"
#include "httpapi/cors.h"
#include "httpapi/park.h"
#include "httpapi/request_int.h"
#include "lib/clock.h"
#include "httpapi/router.h"
#include "lib/error.h"

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
	r->start_ns = acm_mono_ns();
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
	acm_access_begin(r, path);
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
