/* SPDX-License-Identifier: ISC */
/*
 * The request object (acm_req_t) from the inside: its fields and the few
 * functions the files that make it up share. intake.c makes it from
 * libevent's request; router.c matches it to a route; reply.c answers it;
 * commit_wait.c and park.c keep it alive while it waits for group commit
 * or for work on another thread, propagation_wait.c while it waits for the
 * secondaries; request.c holds its arena, accessors and
 * end; access_log.c writes its line, from what intake, the router and the
 * auth checks noted. Calls go one way: intake, router, park, commit_wait,
 * reply, access_log, request.
 * Routes see acm_req_t only through http.h.
 *
 * Lifetime: libevent owns the evhttp_request until we reply (or until its
 * connection is freed, which acm_req_conn_closed reports); acm_req_t lives
 * until the route has replied and, for writes, until its then() ran, so the
 * committer thread never sees freed memory.
 */
#ifndef ACM_HTTPAPI_REQUEST_INT_H
#define ACM_HTTPAPI_REQUEST_INT_H

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <netinet/in.h>
#include <stdalign.h>
#include <stddef.h>
#include <time.h>

#include "httpapi/server_int.h"

#define PARAMS_MAX 8
#define LOG_PATH_MAX 128
#define REQUEST_ID_MAX 64

/* A reply kept back while its request waits for the secondaries
 * (propagation_wait.c): acm_reply_raw keeps it here while on is set. */
typedef struct {
	bool on;
	bool kept;
	int status;
	char *content_type;            /* in the arena; NULL: none */
	char *body;                    /* in the arena */
	size_t len;
} held_reply_t;

/* The arena: every allocation a request makes, freed with it. */
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
	char log_path[LOG_PATH_MAX];   /* without the query, secrets masked (access_log.c) */
	char request_id[REQUEST_ID_MAX + 1];   /* the client's X-Request-Id, or empty */
	char account[ACM_LABEL_MAX + 1];       /* the first account authenticated, or empty */
	uint64_t start_ns;             /* acm_mono_ns() at arrival */
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
	struct deleg_wait *deleg;      /* see acm_req_deleg_check */
	struct prop_wait *prop;        /* NULL: answers once committed (propagation_wait.h) */
	held_reply_t held;
};

/* The method's name, a static string ("OTHER" for one we do not know). */
const char *acm_method_name(enum evhttp_cmd_type cmd);

/* A copy of len bytes of s, NUL-terminated, in the request's arena; NULL
 * when out of memory. */
char *acm_req_strndup(acm_req_t *r, const char *s, size_t len);

/* Free the request and everything it holds (arena, events, its reference
 * to the configuration). Its reply must have been sent or dropped. */
void acm_req_free(acm_req_t *r);

/* The access log (access_log.c). At intake: the path and request ID as
 * the line will show them. */
void acm_access_begin(acm_req_t *r, const char *path);
/* Once the route is known: mask the path's segments that hold a secret
 * (a TXT value), as pattern, a route pattern matching the path, says. */
void acm_access_mask(acm_req_t *r, const char *pattern);
/* The reply went out (client_gone: there was nobody to send it to): the
 * request's line, at info with http.access_log, else at debug. */
void acm_access_log(const acm_req_t *r, int status, size_t bytes, uint64_t ns, bool client_gone);

#endif
