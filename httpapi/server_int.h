/* SPDX-License-Identifier: ISC */
/*
 * Internals of the HTTP server core, shared by server.c (life cycle,
 * listeners, configuration snapshots, connections), the request object
 * (intake.c, router.c, client_addr.c, cors.c, reply.c, access_log.c,
 * commit_wait.c, park.c, request.c; request_int.h), deleg_wait.c, metrics.c, tls.c and ratelimit.c. Route files use
 * http.h only, except the core's own route_metrics.c.
 *
 * Threads: everything here runs on the HTTP thread, except building a
 * configuration snapshot (any thread, before it is handed over) and the
 * group-commit completion, which only activates an event.
 */
#ifndef ACM_HTTPAPI_SERVER_INT_H
#define ACM_HTTPAPI_SERVER_INT_H

#include <event2/event.h>
#include <event2/http.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "httpapi/http.h"
#include "lib/conf/cidr.h"
#include "lib/rt/conn_limit.h"

/* ---- configuration snapshots (server.c) -------------------------------- */

/* Everything a request needs from the configuration. Replaced as a whole on
 * reload; each request holds a reference to the one it started with, so a
 * reload never changes the rules under a request in flight. */
typedef struct {
	acm_http_settings_t pub;      /* what routes see */
	unsigned refs;                /* HTTP thread only, once handed over */
	SSL_CTX *tls;                 /* NULL: plain HTTP */
	size_t max_body;
	unsigned timeout;
	unsigned max_connections;     /* http.max_connections, fitted to the descriptor limit */
	unsigned max_per_client;      /* http.max_connections_per_client */
	unsigned request_timeout;     /* http.request_timeout seconds */
	bool cors_any;                /* "*" is among the origins */
	size_t cors_count;
	char **cors_origins;
	char *proxy_header;           /* NULL: the peer is the client */
	size_t trusted_count;         /* 0: no peer may set proxy_header */
	acm_cidr_t *trusted;
	bool access_log;              /* http.access_log: each request's line at info */
} acm_http_conf_t;

void acm_http_conf_ref(acm_http_conf_t *conf);
void acm_http_conf_unref(acm_http_conf_t *conf);

/* ---- what requests need from the server (server.c) --------------------- */

typedef struct acm_ratelimit acm_ratelimit_t;
typedef struct acm_deleg_env acm_deleg_env_t;   /* deleg_wait.h */
typedef struct acm_prop_env acm_prop_env_t;     /* propagation_wait.h */

typedef struct {
	struct event_base *base;
	acm_store_t *store;
	acm_commit_t *commit;
	acm_zone_status_t *status;    /* may be NULL */
	acm_lookup_log_t *lookups;    /* may be NULL */
	const acm_health_t *health;   /* may be NULL */
	acm_metrics_t *metrics;       /* the DNS workers' counters */
	struct acm_http_metrics *http_metrics;   /* ours (metrics.c) */
	acm_ratelimit_t *ratelimit;
	unsigned pending;             /* requests waiting for group commit, a parked check or
	                                 the secondaries */
	acm_auth_env_t *auth;         /* auth.c's worker pool and failure table */
	acm_deleg_env_t *deleg;       /* the delegation checks (deleg_wait.c) */
	acm_prop_env_t *prop;         /* writes waiting for the secondaries (propagation_wait.c) */
	pthread_mutex_t report_lock;  /* acmensd writes the reload report from its thread */
	char *report;                 /* JSON text, NULL until acm_http_set_report */
} acm_req_env_t;

/* One client connection, counted from accept. Requests waiting for a
 * commit are listed here so that a closing connection can tell them their
 * evhttp_request is gone. The rest is server.c's: while the connection
 * waits for a request it is on a list, oldest first, with a deadline. */
typedef struct acm_conn {
	struct evhttp_connection *evcon;
	struct acm_conn *hash_next;   /* also the list of those not yet admitted */
	acm_req_t *pending;           /* doubly linked through the requests */
	struct acm_http *server;
	struct bufferevent *bev;
	acm_conn_slot_t slot;
	struct event *deadline;       /* http.request_timeout while waiting */
	bool served;                  /* has sent a request */
	bool waiting;                 /* listed: no request yet, none being read */
	struct acm_conn *wait_prev, *wait_next;
} acm_conn_t;

/* ---- requests (intake.c, reply.c, commit_wait.c, request.c) ------------ */

/* Route the request and run its handler; the reply may come later (group
 * commit). conf gets a reference per request. (intake.c) */
void acm_req_handle(acm_req_env_t *env, acm_http_conf_t *conf, acm_conn_t *conn,
                    struct evhttp_request *req);

/* Refuse a request before routing (connection cap): a JSON error with
 * Connection: close. (reply.c) */
void acm_req_refuse(const acm_http_conf_t *conf, struct evhttp_request *req, int status,
                    const char *code);

/* The connection closed: its pending requests must not reply through it.
 * (commit_wait.c) */
void acm_req_conn_closed(acm_conn_t *conn);

/* The server's part of the request, for the core's own routes. (request.c) */
acm_req_env_t *acm_req_env(const acm_req_t *r);

/* ---- metrics (metrics.c) ---------------------------------------------- */

typedef struct acm_http_metrics acm_http_metrics_t;

int acm_http_metrics_new(acm_http_metrics_t **out);
void acm_http_metrics_free(acm_http_metrics_t *m);
/* A reply went out: route is the matched pattern (or "unmatched"), method
 * and route static strings (series are keyed by pointer), ns the time
 * since the request arrived. */
void acm_http_metrics_record(acm_http_metrics_t *m, const char *route, const char *method,
                             int status, uint64_t ns);
/* Append the metrics page (every counter of env's sources) to e; e->oom
 * says when memory ran out and the text is incomplete. */
void acm_http_metrics_render(acm_expo_t *e, acm_req_env_t *env);
/* Why the server closed or refused a connection (label values in
 * metrics.c). */
enum acm_http_close {
	ACM_HTTP_CLOSE_MAX_CONNECTIONS,    /* refused at http.max_connections */
	ACM_HTTP_CLOSE_MAX_PER_CLIENT,     /* refused at http.max_connections_per_client */
	ACM_HTTP_CLOSE_NO_MEMORY,          /* refused: no memory to count it */
	ACM_HTTP_CLOSE_EVICTED,            /* waited longest for a first request, made room */
	ACM_HTTP_CLOSE_REQUEST_TIMEOUT,    /* http.request_timeout expired */
	ACM_HTTP_CLOSE_SHED,               /* accepted and closed unserved, out of descriptors */
	ACM_HTTP_CLOSE_REASONS
};
/* n connections closed for reason. */
void acm_http_metrics_closed(acm_http_metrics_t *m, enum acm_http_close reason, unsigned n);
/* A connection was admitted (+1) or went away (-1). */
void acm_http_metrics_open(acm_http_metrics_t *m, int delta);
/* A write waited ns for the secondaries, which then all served it
 * (propagated) or not (the timeout, or the server stopping). */
void acm_http_metrics_propagation(acm_http_metrics_t *m, bool propagated, uint64_t ns);

/* ---- TLS (tls.c) ------------------------------------------------------ */

/* A server context for the certificate chain and key files: TLS 1.2 or
 * newer, key checked against the certificate. ACM_OK or ACM_ECRYPTO with a
 * message naming the file and OpenSSL's reason. */
int acm_tls_ctx_new(const char *cert_file, const char *key_file, SSL_CTX **out, char *err,
                    size_t errlen);

/* A bufferevent that accepts a TLS handshake on the socket evhttp sets
 * later; NULL when out of memory. The SSL object holds its own reference
 * to ctx, so a reload can drop ctx while this connection lives on. */
struct bufferevent *acm_tls_bev_new(struct event_base *base, SSL_CTX *ctx);

/* ---- registration rate limit (ratelimit.c) ---------------------------- */

/* A fixed table of token buckets, one per client address (IPv6 by /64),
 * the least recently used evicted when full. No allocation after _new. */
int acm_ratelimit_new(acm_ratelimit_t **out);
void acm_ratelimit_free(acm_ratelimit_t *rl);

/* May this address act now at per_minute actions a minute (burst of the
 * same size)? Counts the action when allowed. per_minute 0: always true.
 * now_ms: a monotonic clock in milliseconds. */
bool acm_ratelimit_allow(acm_ratelimit_t *rl, const struct sockaddr *sa, unsigned per_minute,
                         uint64_t now_ms);

/* May this address register now, under both its own limit (per_minute, as
 * above) and the one for all addresses together (global_per_second, burst
 * of the same size; 0: none)? Counts the registration in both only when
 * both allow it. */
bool acm_ratelimit_register(acm_ratelimit_t *rl, const struct sockaddr *sa, unsigned per_minute,
                            unsigned global_per_second, uint64_t now_ms);

#endif
