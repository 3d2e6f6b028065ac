/* SPDX-License-Identifier: ISC */
/*
 * The write path's wait: a request's operations go to group commit, the
 * committer thread wakes the HTTP thread, which runs the route's then()
 * and ends the request. Operations the route did not ask for (a key
 * upgrade) ride along, or go on their own as the request ends. While a
 * request waits it is listed on its connection, which detaches it if it
 * closes first.
 */
#include <errno.h>
#include <event2/http.h>
#include <stdlib.h>
#include <string.h>

#include "httpapi/commit_wait.h"
#include "httpapi/propagation_wait.h"
#include "httpapi/request_int.h"
#include "lib/error.h"
#include "lib/log.h"

void acm_req_pending_link(acm_req_t *r)
{
	if (!r->conn)
		return;
	r->prev = NULL;
	r->next = r->conn->pending;
	if (r->next)
		r->next->prev = r;
	r->conn->pending = r;
}

void acm_req_pending_unlink(acm_req_t *r)
{
	if (!r->conn)
		return;
	if (r->prev)
		r->prev->next = r->next;
	else
		r->conn->pending = r->next;
	if (r->next)
		r->next->prev = r->prev;
	r->prev = r->next = NULL;
}

void acm_req_conn_closed(acm_conn_t *conn)
{
	acm_req_t *next;
	for (acm_req_t *r = conn->pending; r; r = next) {
		next = r->next;
		/* A request still on this connection is freed with it. One that
		 * libevent already detached (evcon NULL) waits for our reply,
		 * which frees it without sending. */
		if (r->req && evhttp_request_get_connection(r->req) == conn->evcon)
			r->req = NULL;
		r->conn = NULL;
		r->prev = r->next = NULL;
	}
	conn->pending = NULL;
}

void acm_req_piggyback(acm_req_t *r, acm_op_t *op)
{
	op->next = r->piggyback;
	r->piggyback = op;
}

const acm_op_t *acm_req_piggybacked(const acm_req_t *r)
{
	return r->piggyback;
}

static void piggyback_done(acm_op_t *first, void *arg)
{
	(void)arg;
	free(first);
}

/* The request's memory goes with it, so the operations travel as a copy
 * that the committer frees. Lost on failure: an upgrade is simply tried
 * again on the account's next request. */
static void piggyback_submit(acm_req_t *r)
{
	size_t n = 0, i = 0;
	acm_op_t *copy;

	for (const acm_op_t *op = r->piggyback; op; op = op->next)
		n++;
	if (!(copy = calloc(n, sizeof(*copy))))
		return;
	for (const acm_op_t *op = r->piggyback; op; op = op->next, i++) {
		copy[i] = *op;
		copy[i].next = i + 1 < n ? &copy[i + 1] : NULL;
	}
	if (acm_commit_submit(r->env->commit, copy, piggyback_done, NULL) != ACM_OK)
		free(copy);
	r->piggyback = NULL;
}

/* A route that returns without replying (and without a commit) is a bug;
 * the client still gets an answer. */
void acm_req_finish(acm_req_t *r)
{
	if (!r->replied) {
		acm_err("http %s %s: the route sent no reply", r->method, r->log_path);
		acm_reply_error(r, 500, "internal_error", NULL);
	}
	if (r->piggyback)
		piggyback_submit(r);
	acm_req_free(r);
}

static void on_committed(evutil_socket_t fd, short what, void *arg)
{
	acm_req_t *r = arg;
	(void)fd;
	(void)what;
	r->env->pending--;
	acm_req_pending_unlink(r);
	if (acm_prop_waits(r)) {
		acm_prop_wait_committed(r);
		return;
	}
	r->then(r, r->ops);
	acm_req_finish(r);
}

/* The committer thread: only wake the HTTP thread, which owns r. */
static void commit_done(acm_op_t *first, void *arg)
{
	acm_req_t *r = arg;
	(void)first;
	event_active(r->commit_ev, 0, 0);
}

int acm_req_commit(acm_req_t *r, acm_op_t *ops, acm_then_fn then)
{
	if (!ops || !then || r->then || r->replied || r->parked)
		return -EINVAL;
	r->commit_ev = event_new(r->env->base, -1, 0, on_committed, r);
	if (!r->commit_ev)
		return -ENOMEM;
	r->ops = ops;
	r->then = then;
	acm_op_t *tail = ops;
	while (tail->next)
		tail = tail->next;
	tail->next = r->piggyback;
	int rc = acm_commit_submit(r->env->commit, ops, commit_done, r);
	if (rc != ACM_OK) {
		tail->next = NULL;
		event_free(r->commit_ev);
		r->commit_ev = NULL;
		r->then = NULL;
		return rc;
	}
	r->piggyback = NULL;
	r->env->pending++;
	acm_req_pending_link(r);
	return ACM_OK;
}
