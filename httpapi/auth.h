/* SPDX-License-Identifier: ISC */
/*
 * Who may call what: account credentials (X-Api-User / X-Api-Key as
 * acme-dns checks them, then the account's state and allowfrom list) and
 * the admin bearer token.
 */
#ifndef ACM_HTTPAPI_AUTH_H
#define ACM_HTTPAPI_AUTH_H

#include <stdbool.h>
#include <sys/socket.h>

#include "httpapi/http.h"

/*
 * Authenticate an account in acme-dns's order: the username must parse as
 * a UUID, the key must be 40 base64url characters, the account must exist
 * and the key match (a dummy check runs when it does not, so timing does
 * not tell), the account must not be disabled, and the client must be
 * inside its allowfrom list (if any). user and key may be NULL.
 * ACM_OK and *out filled; -EACCES for any refusal; a store error if the
 * lookup failed. An account imported from acme-dns that passes gets its
 * bcrypt hash upgraded to SHA-256 along with the request (see
 * acm_req_piggyback); *out still shows the key as it was.
 *
 * Such an account's bcrypt check runs on a worker thread: the first call
 * for it parks the request and returns -EINPROGRESS, and the route must
 * then return at once, changing nothing (it runs again with the verdict;
 * other calls in the same run may return -EINPROGRESS too). The check runs
 * once per username per request. Further refusals for these accounts:
 * -EAGAIN when one request names more than 8 of them, -EBUSY when the
 * worker queue is full, -ENOMEM; and -EACCES at once while the username
 * backs off after repeated checks that did not succeed.
 */
int acm_auth_account(acm_req_t *r, const char *user, const char *key, acm_account_t *out);

/* The same with the request's X-Api-User and X-Api-Key headers. */
int acm_auth_headers(acm_req_t *r, acm_account_t *out);

/* Stamp op with the credentials acm_auth_account just accepted for acc, so
 * that the committer refuses it if the key changes, or the account is
 * disabled or deleted, before it commits (see acm_op_cred_t). */
void acm_auth_stamp(acm_req_t *r, const acm_account_t *acc, acm_op_t *op);

/* The worker pool and failure table behind the bcrypt checks, one per
 * server (the HTTP thread's). ACM_OK, -ENOMEM or a thread error. Free
 * (NULL is a no-op) once no request is parked: it waits for checks
 * running. */
int acm_auth_env_new(acm_auth_env_t **out);
void acm_auth_env_free(acm_auth_env_t *env);

/* Is the address inside the account's allowfrom list (true if empty)? */
bool acm_allowfrom_ok(const acm_account_t *acc, const struct sockaddr *sa);

/* Does the request carry "Authorization: Bearer <admin token>"? Compared
 * in constant time; false when no token is configured. */
bool acm_auth_admin(acm_req_t *r);

#endif
