/* SPDX-License-Identifier: ISC */
/*
 * Parked requests: the route parks its request while slow work runs on
 * another thread, the worker wakes it through an event, and the HTTP
 * thread runs the route again from the start. A parked request counts as
 * in flight and is listed on its connection like one waiting for a commit.
 */
#include <errno.h>

#include "httpapi/commit_wait.h"
#include "httpapi/park.h"
#include "httpapi/request_int.h"
#include "lib/error.h"

/* The work a parked request waits for is done: run its route again, unless
 * its connection closed meanwhile (then nothing may touch its request). */
static void on_unparked(evutil_socket_t fd, short what, void *arg)
{
	acm_req_t *r = arg;
	(void)fd;
	(void)what;
	r->env->pending--;
	acm_req_pending_unlink(r);
	r->parked = false;
	if (r->req)
		r->route_fn(r);
	else
		r->replied = true;     /* nobody to answer */
	acm_req_route_done(r);
}

int acm_req_park(acm_req_t *r, acm_park_fn ready, void *arg)
{
	if (r->then || r->replied || !r->route_fn)
		return -EINVAL;
	if (!r->park_ev && !(r->park_ev = event_new(r->env->base, -1, 0, on_unparked, r)))
		return -ENOMEM;
	r->parked = true;
	r->park_ready = ready;
	r->park_arg = arg;
	return ACM_OK;
}

bool acm_req_parked(const acm_req_t *r)
{
	return r->parked;
}

void acm_req_wake(acm_req_t *r)
{
	event_active(r->park_ev, 0, 0);
}

/* After the route returned: hand the parked request's work over, or end a
 * request that does not wait for a commit. */
void acm_req_route_done(acm_req_t *r)
{
	if (r->parked) {
		r->env->pending++;
		acm_req_pending_link(r);
		r->park_ready(r, r->park_arg);
	} else if (!r->then) {
		acm_req_finish(r);
	}
}
