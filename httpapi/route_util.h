/* SPDX-License-Identifier: ISC */
/*
 * Request-level helpers the route files share: the write path through
 * group commit (reply once durable), store results as HTTP replies, the
 * X-Acmens-Serial header, strict /v1 bodies, and the registration flow
 * that /register and /v1/register both run.
 */
#ifndef ACM_HTTPAPI_ROUTE_UTIL_H
#define ACM_HTTPAPI_ROUTE_UTIL_H

#include <stdbool.h>
#include <stdint.h>

#include "httpapi/http.h"
#include "lib/store/keys.h"

#define ACM_SERIAL_HEADER "X-Acmens-Serial"
#define ACM_ACTOR_MAX sizeof(((acm_op_t *)0)->actor)

/* acme-dns formats its errors by hand: {"error": "CODE"}, with the space. */
void acm_reply_acmedns_error(acm_req_t *r, int status, const char *code);

void acm_reply_serial(acm_req_t *r, uint32_t serial);

/* The HTTP status and /v1 error code of a store result (ACM_OK: 200, NULL):
 * 507 insufficient_storage when the map or the disk is full, 503
 * store_unavailable when the store could not write (I/O error, a failed
 * environment), 500 store_error for anything unforeseen. */
int acm_store_status(int rc, const char **code);
/* Whether a result is a failure of the store itself (the transaction was
 * not applied, whatever the operation), not a refusal of one operation. */
bool acm_store_failure(int rc);
/* The message that goes with a store result's error code, or NULL. */
#define ACM_STORE_MSG_MAX 96
const char *acm_store_message(acm_req_t *r, int rc, char buf[ACM_STORE_MSG_MAX]);
/* Reply to a failed store operation the /v1 way. */
void acm_reply_store_error(acm_req_t *r, int rc);

/* One write: an operation and what to answer once it is durable. */
typedef struct acm_write acm_write_t;
typedef void (*acm_write_fn)(acm_req_t *r, acm_write_t *w);
struct acm_write {
	acm_op_t op;                          /* first: group commit hands it back */
	acm_write_fn reply;                   /* after a durable success */
	bool compat;                          /* failures answer 500 db_error, acme-dns style */
	int status;                           /* for reply functions that need one */
	char secret[ACM_PASSWORD_LEN + 1];    /* a new key to hand out; wiped afterwards */
};

/* Zero op and set its kind, actor and source (the client's address). */
void acm_op_init(acm_req_t *r, acm_op_t *op, acm_op_kind_t kind, const char *actor);
/* The audit actor of an account's own changes: "account:<username>". */
void acm_account_actor(const acm_account_t *acc, char out[ACM_ACTOR_MAX]);

/* A zeroed write of this kind by actor, from the client's address; NULL
 * (and a 500 reply) when out of memory. */
acm_write_t *acm_write_new(acm_req_t *r, acm_op_kind_t kind, const char *actor);
/* Queue it; reply runs on success, failures are answered here or after
 * the commit. */
void acm_write_submit(acm_req_t *r, acm_write_t *w, acm_write_fn reply);

/*
 * The body of a /v1 request as a JSON object, or NULL after replying 400
 * (malformed_json for invalid JSON, bad_request for another top-level
 * type). An empty body is {} when allow_empty. The caller decrefs.
 */
json_t *acm_v1_body(acm_req_t *r, bool allow_empty);

/* All values of an account (expired ones included) in request scratch
 * space. ACM_OK, ACM_ENOTFOUND, or a store error; -ENOMEM. */
int acm_txt_load(acm_req_t *r, const char *sub, acm_txt_t **vals, size_t *n);

/* The lookup log (route_lookups.c). enabled: false after replying 404
 * lookups_disabled when it is off. The replies list the newest lookups, at
 * most limit (0: lookups.per_name): of an account's names (404 when sub
 * cannot be one), or of name, a subdomain or a name in the zone (400 when
 * neither). */
bool acm_lookups_enabled(acm_req_t *r);
void acm_reply_lookups(acm_req_t *r, const char *sub, size_t limit);
void acm_reply_lookups_name(acm_req_t *r, const char *name, size_t limit);

/* POST /register (native false: acme-dns replies) and /v1/register (native
 * true: /v1 replies, an optional TSIG key): a new account, 201 once durable. */
void acm_route_register(acm_req_t *r, bool native);

#endif
