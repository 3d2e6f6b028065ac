/* SPDX-License-Identifier: ISC */
/*
 * Parked requests (http.h, acm_req_park): a route waits for slow work on
 * another thread (a bcrypt check) and runs again once it is done. HTTP
 * thread only, except acm_req_wake.
 */
#ifndef ACM_HTTPAPI_PARK_H
#define ACM_HTTPAPI_PARK_H

#include "httpapi/http.h"

/* The route returned: hand a parked request's work over, or end a request
 * that does not wait for a commit (acm_req_finish). */
void acm_req_route_done(acm_req_t *r);

#endif
