/* SPDX-License-Identifier: ISC */
/*
 * What the two delegation routes share (route_deleg.c): GET
 * /v1/accounts/SUB/delegation (route_v1.c, the account's credentials) and
 * GET /v1/admin/delegation (route_admin.c, the admin token). Each checks
 * its caller and calls acm_deleg_route, which runs the check, keeps its
 * result in the store and replies.
 */
#ifndef ACM_HTTPAPI_ROUTE_DELEG_H
#define ACM_HTTPAPI_ROUTE_DELEG_H

#include <stdbool.h>

#include "httpapi/http.h"

/* The domain query parameter of a check, without the final dot, into out;
 * false after replying 400 naming it (absent, not a name, too long). */
bool acm_deleg_domain(acm_req_t *r, char out[ACM_DNAME_TXT_MAX]);

/*
 * Check the delegation of domain to account sub (an existing account, in
 * lower case) and reply with the result: parks the request the first time,
 * replies the second (see acm_req_deleg_check). admin: the reply names
 * another account a chain ends at, and no budget applies; else the
 * account's budget (acm_req_deleg_allowed) is spent, and exhausted answers
 * 429. actor: who asked, for the record's commit.
 */
void acm_deleg_route(acm_req_t *r, const char *domain, const char *sub, bool admin,
                     const char *actor);

#endif
