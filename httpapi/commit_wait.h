/* SPDX-License-Identifier: ISC */
/*
 * Requests that outlive their route: the list of them on their connection
 * (so a closing connection can detach them), the end of a request, and the
 * hand-off to group commit with its piggybacked operations (http.h,
 * acm_req_commit, acm_req_piggyback). HTTP thread only.
 */
#ifndef ACM_HTTPAPI_COMMIT_WAIT_H
#define ACM_HTTPAPI_COMMIT_WAIT_H

#include "httpapi/http.h"

/* List r on its connection's waiting requests, or take it off; nothing
 * once the connection closed (acm_req_conn_closed). */
void acm_req_pending_link(acm_req_t *r);
void acm_req_pending_unlink(acm_req_t *r);

/* End a request that waits for nothing more: 500 internal_error if the
 * route did not reply (a bug, logged), its piggybacked operations to group
 * commit, then free it. */
void acm_req_finish(acm_req_t *r);

#endif
