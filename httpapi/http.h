/* SPDX-License-Identifier: ISC */
/*
 * The HTTP API server: evhttp on its own thread and event base, plain or
 * TLS, with limits (body size, timeouts, connection cap). Routes are plain
 * functions registered in a table; writes go through group commit and the
 * reply is sent from the HTTP thread once the commit is durable.
 *
 * This header is the contract between the server core (server.c, tls.c,
 * ratelimit.c) and the route files (route_acmedns.c, route_v1.c,
 * route_admin.c, auth.c). Nothing outside httpapi/ includes it except
 * src/acmensd.c, which uses only the functions in the first section.
 */
#ifndef ACM_HTTPAPI_HTTP_H
#define ACM_HTTPAPI_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "lib/store/commit.h"
#include "lib/conf/config.h"
#include "lib/rt/delegation.h"
#include "lib/rt/health.h"
#include "lib/rt/lookup_log.h"
#include "lib/rt/metrics.h"
#include "lib/store/store.h"
#include "lib/rt/zone_status.h"

/* ---- for acmensd ------------------------------------------------------ */

typedef struct acm_http acm_http_t;

/*
 * Start the API on cfg->http.listen (cfg->http.enabled must be true):
 * binds every address, loads TLS material and the admin token, starts the
 * HTTP thread. The server keeps pointers to store, commit, status (the
 * propagation table dnsd's notifier writes; may be NULL) and lookups (the
 * lookup log dnsd's workers write; NULL when it is off) and health (the DNS
 * workers' heartbeats, for /v1/health; may be NULL) and metrics (the DNS
 * workers' counters, for /metrics), all owned by the caller, who stops the server before freeing them, and copies what it
 * needs from cfg. On failure returns an error code and a message in err.
 */
int acm_http_start(const acm_config_t *cfg, acm_store_t *store, acm_commit_t *commit,
                   acm_zone_status_t *status, acm_lookup_log_t *lookups,
                   const acm_health_t *health, acm_metrics_t *metrics, acm_http_t **out,
                   char *err, size_t errlen);

/* Apply a reloaded configuration: TLS certificate and key, admin token,
 * registration switch, limits, CORS, txt_limit/txt_expiry. Listen addresses
 * need a restart. Returns an error and message (and keeps the old settings)
 * if e.g. the new certificate cannot be loaded. Thread-safe. */
int acm_http_reload(acm_http_t *http, const acm_config_t *cfg, char *err, size_t errlen);

/* The reload report GET /v1/admin/config/drift serves (JSON text; the
 * server takes it and frees it). Thread-safe. */
void acm_http_set_report(acm_http_t *http, char *json);

/* Stop accepting, let in-flight requests finish (bounded), stop the thread. */
void acm_http_stop(acm_http_t *http);

/* ---- for routes ------------------------------------------------------- */

/* Settings routes read; replaced as a whole on reload (routes only see it
 * on the HTTP thread, so no locking). */
typedef struct {
	uint8_t apex[ACM_DNAME_MAX];
	char zone_text[ACM_DNAME_TXT_MAX];   /* apex without the final dot, as acme-dns prints it */
	bool disable_registration;
	unsigned txt_limit;
	uint64_t txt_expiry;
	unsigned txt_max_values;
	unsigned batch_max;
	unsigned register_rate;          /* per address, per minute; 0 = off */
	unsigned register_rate_global;   /* all addresses, per second; 0 = off */
	bool admin_enabled;
	char admin_token[256];
	int metrics;             /* http.metrics: enum acm_metrics_access */
	bool update_waits;       /* http.update_waits_for_secondaries */
} acm_http_settings_t;

typedef struct acm_req acm_req_t;

typedef void (*acm_route_fn)(acm_req_t *r);

typedef struct {
	const char *method;      /* "GET", "POST", "PUT", "DELETE" */
	const char *pattern;     /* "/v1/accounts/:sub/txt/:value": ":name" matches one
	                            non-empty segment (percent-decoded) */
	acm_route_fn fn;
} acm_route_t;

/* The route tables, each ending with a {NULL, NULL, NULL} row. */
extern const acm_route_t acm_routes_acmedns[];
extern const acm_route_t acm_routes_v1[];
extern const acm_route_t acm_routes_admin[];
extern const acm_route_t acm_routes_zone[];
extern const acm_route_t acm_routes_health[];
extern const acm_route_t acm_routes_metrics[];    /* mounted unless http.metrics is off */

/* Request accessors. */
const acm_http_settings_t *acm_req_settings(const acm_req_t *r);
acm_store_t *acm_req_store(const acm_req_t *r);
/* The propagation status table, or NULL when there is none. */
acm_zone_status_t *acm_req_zone_status(const acm_req_t *r);
/* The lookup log, or NULL when lookups.enabled is false. */
acm_lookup_log_t *acm_req_lookups(const acm_req_t *r);
/* The DNS workers' heartbeats (NULL when there are none) and group
 * commit's counters (zero without group commit), for /v1/health. */
const acm_health_t *acm_req_health(const acm_req_t *r);
void acm_req_commit_stats(const acm_req_t *r, acm_commit_stats_t *out);
/* A copy of the reload report (acm_http_set_report), or NULL when there is
 * none or out of memory. */
json_t *acm_req_report(const acm_req_t *r);
/* Path parameter by name (":sub" -> "sub"), or NULL. */
const char *acm_req_param(const acm_req_t *r, const char *name);
/* Query-string parameter, or NULL. */
const char *acm_req_query(const acm_req_t *r, const char *name);
/* Request header (case-insensitive name), or NULL. */
const char *acm_req_header(const acm_req_t *r, const char *name);
/* The whole body (not NUL-terminated; *len may be 0). */
const uint8_t *acm_req_body(const acm_req_t *r, size_t *len);
/* The client's address: the peer, or, when the peer is a trusted proxy,
 * the first address of the configured proxy header, read from the right,
 * that is not a trusted proxy (docs/api.md, "Behind a proxy"). */
const struct sockaddr *acm_req_client(const acm_req_t *r);
const char *acm_req_client_text(const acm_req_t *r);
/* The account a request authenticated as, for the access log (the first
 * one counts, for a batch). */
void acm_req_note_account(acm_req_t *r, const char *subdomain);
/* Scratch space that lives as long as the request (for op arrays etc.);
 * NULL when out of memory. Freed with the request. */
void *acm_req_alloc(acm_req_t *r, size_t size);

/* Replies (each request gets exactly one). */
/* Exactly these bytes with this content type (acme-dns byte-for-byte replies). */
void acm_reply_raw(acm_req_t *r, int status, const char *content_type, const char *body,
                   size_t len);
/* Compact JSON; steals the reference to body. */
void acm_reply_json(acm_req_t *r, int status, json_t *body);
/* {"error": code, "message": message} (message may be NULL -> omitted). */
void acm_reply_error(acm_req_t *r, int status, const char *code, const char *message);
/* Add a response header before replying (e.g. X-Acmens-Serial). */
void acm_reply_header(acm_req_t *r, const char *name, const char *value);

/*
 * Hand a chain of store operations to group commit. When the commit is
 * durable (or failed), then(r, ops) runs on the HTTP thread and must reply.
 * If the request's connection closed meanwhile, then still runs (its reply
 * is dropped). Returns ACM_OK, or an error (then nothing was queued and the
 * caller replies).
 */
typedef void (*acm_then_fn)(acm_req_t *r, acm_op_t *ops);
int acm_req_commit(acm_req_t *r, acm_op_t *ops, acm_then_fn then);

/*
 * Queue an operation the route did not ask for (an imported account's key
 * upgrade, see auth.c) from acm_req_alloc memory: it joins the chain of the
 * route's acm_req_commit, after the route's own operations, or, when the
 * route commits nothing, goes to group commit on its own as the request
 * ends. Its result is not reported.
 */
void acm_req_piggyback(acm_req_t *r, acm_op_t *op);
/* The operations queued that way and not yet submitted (linked by next). */
const acm_op_t *acm_req_piggybacked(const acm_req_t *r);

/*
 * Park the request while slow work runs on another thread (a bcrypt check,
 * see auth.c): the route returns without replying and without committing;
 * then ready(r, arg) runs on the HTTP thread and hands the work over, and
 * that work ends with acm_req_wake(r) (once). The route then runs again
 * from the start, so it must change nothing before it parks. While parked
 * the request counts as in flight (a stopping server waits for it); if its
 * connection closes meanwhile, the route is not run again and the request
 * is freed once woken. ACM_OK, -EINVAL (replied, committing, or no route),
 * -ENOMEM. Parking again within one run replaces ready and arg.
 */
typedef void (*acm_park_fn)(acm_req_t *r, void *arg);
int acm_req_park(acm_req_t *r, acm_park_fn ready, void *arg);
/* Has the route parked the request in this run? */
bool acm_req_parked(const acm_req_t *r);
/* Any thread: the parked request's work is done; its last touch of r. */
void acm_req_wake(acm_req_t *r);

/*
 * Check the delegation of domain (text, checked by the caller) for the
 * account sub, and park the request until its result (see acm_req_park):
 * the route returns at once and runs again, when acm_req_deleg_result
 * gives the result. Checks beyond delegation.concurrency wait in a queue
 * of four times that many. ACM_OK; -ENOTSUP (built without libunbound);
 * -EAGAIN (the resolver could not be set up: acm_req_deleg_why says why);
 * -ESHUTDOWN (the server is stopping); -EBUSY (the queue is full); -EINVAL
 * (not a name or not a label); -EIO (libunbound took no question); -ENOMEM.
 */
int acm_req_deleg_check(acm_req_t *r, const char *domain, const char *sub);
/* The result of the request's check: ACM_OK and *out (NULL while there is
 * none: the first run); or the check ended without one (*out NULL):
 * -ESHUTDOWN (the server is stopping), -EIO, -ENOMEM. */
int acm_req_deleg_result(const acm_req_t *r, const acm_deleg_result_t **out);
/* Why the checks are unavailable (-EAGAIN above), in the operator's words. */
const char *acm_req_deleg_why(const acm_req_t *r);
/* May account sub start a check now? A token bucket per account: 10 in a
 * row, then one every 6 seconds. Counts the check when allowed. */
bool acm_req_deleg_allowed(acm_req_t *r, const char *sub);

/* One pointer for the authentication layer's state of this request (in
 * acm_req_alloc memory), NULL at first. */
void **acm_req_auth_state(acm_req_t *r);
/* The authentication layer's state across requests (auth.h). */
typedef struct acm_auth_env acm_auth_env_t;
acm_auth_env_t *acm_req_auth_env(const acm_req_t *r);

/* Registration rate limit: true if this client may register now (and
 * counts the attempt). */
bool acm_req_register_allowed(acm_req_t *r);

#endif
