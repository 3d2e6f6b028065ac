/* SPDX-License-Identifier: ISC */
/*
 * TCP (RFC 7766): length-prefixed messages, answered in order as they
 * arrive, several per read (pipelining); an idle timeout; a cap on open
 * connections across all workers; reading pauses while a slow reader lets
 * answers pile up. A zone transfer is sent as its output drains, message
 * by message, and the queries after it wait for its end.
 */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dnsd/update.h"
#include "dnsd/worker.h"
#include "dnsd/xfr.h"
#include "lib/error.h"
#include "lib/wire.h"

#define TCP_MSG_MAX 65535
#define TCP_OUT_HIGH (256 * 1024)   /* stop reading above this much unsent */

typedef struct conn {
	struct bufferevent *bev;
	struct conn *prev, *next;
	acm_tcp_t *t;
	bool closing;           /* the peer is done sending: flush, then close */
	struct sockaddr_storage peer;
	acm_xfr_t *xfr;         /* a transfer being sent; reading waits for it */
	uint64_t id;            /* how an update's late answer finds it */
	unsigned waiting;       /* updates not answered yet: keep it open */
} conn_t;

struct acm_tcp {
	acm_worker_t *w;
	struct evconnlistener *listener;
	conn_t *conns;          /* open connections, so a stop can close them */
	uint64_t next_id;
	uint8_t in[TCP_MSG_MAX];
	uint8_t out[2 + TCP_MSG_MAX];
};

static void conn_close(conn_t *c)
{
	acm_tcp_t *t = c->t;
	if (c->prev)
		c->prev->next = c->next;
	else
		t->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	acm_xfr_free(c->xfr);
	bufferevent_free(c->bev);
	free(c);
	atomic_fetch_sub(&t->w->tcp_limits->count, 1);
	acm_counter_add(&t->w->metrics->tcp_open, UINT64_MAX);   /* minus one, modulo 2^64 */
}

/* No more queries will come: send the answers already made, then close
 * (the idle timeout still bounds a peer that stops reading). */
static void conn_finish(conn_t *c)
{
	struct bufferevent *bev = c->bev;
	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0 && !c->xfr && !c->waiting) {
		conn_close(c);
		return;
	}
	c->closing = true;
	bufferevent_disable(bev, EV_READ);
	bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
}

/* Queue transfer messages until the output holds TCP_OUT_HIGH bytes or
 * the transfer ends. False when the transfer failed and the connection
 * was closed: a broken stream tells the client more than a short one. */
static bool xfr_pump(conn_t *c)
{
	acm_tcp_t *t = c->t;
	struct evbuffer *output = bufferevent_get_output(c->bev);
	while (c->xfr && evbuffer_get_length(output) < TCP_OUT_HIGH) {
		int n = acm_xfr_next(c->xfr, t->out + 2, TCP_MSG_MAX);
		if (n < 0) {
			conn_close(c);
			return false;
		}
		if (n == 0) {
			acm_xfr_free(c->xfr);
			c->xfr = NULL;
			break;
		}
		acm_put_u16(t->out, (uint16_t)n);
		evbuffer_add(output, t->out, (size_t)n + 2);
	}
	return true;
}

/* An UPDATE is answered when its changes are durable, through
 * acm_tcp_send; the queries after it need not wait (RFC 7766 7). */
static bool take_update(conn_t *c, size_t len)
{
	if (!acm_update_is(c->t->in, len))
		return false;
	acm_peer_t peer = { .fd = -1 };
	memcpy(&peer.addr, &c->peer, sizeof(c->peer));
	peer.addrlen = sizeof(c->peer);
	peer.tcp = c->t;
	peer.conn_id = c->id;
	c->waiting++;
	return acm_worker_update(c->t->w, c->t->in, len, &peer);
}

static void conn_read(struct bufferevent *bev, void *arg)
{
	conn_t *c = arg;
	acm_tcp_t *t = c->t;
	struct evbuffer *input = bufferevent_get_input(bev);
	struct evbuffer *output = bufferevent_get_output(bev);
	bool began = false;
	for (;;) {
		uint8_t prefix[2];
		if (evbuffer_copyout(input, prefix, 2) != 2)
			break;
		size_t len = acm_get_u16(prefix);
		if (len == 0) {   /* nothing can follow a zero-length message */
			if (began)
				acm_worker_batch_end(t->w);
			conn_finish(c);
			return;
		}
		if (evbuffer_get_length(input) < 2 + len)
			break;
		evbuffer_drain(input, 2);
		evbuffer_remove(input, t->in, len);
		if (!began) {
			acm_worker_batch_begin(t->w);
			began = true;
		}
		if (take_update(c, len))
			continue;
		size_t n = acm_worker_answer(t->w, t->in, len, true, (struct sockaddr *)&c->peer,
		                             t->out + 2, TCP_MSG_MAX, &c->xfr);
		if (n > 0) {
			acm_put_u16(t->out, (uint16_t)n);
			evbuffer_add(output, t->out, n + 2);
		}
		if (c->xfr) {
			acm_worker_batch_end(t->w);
			bufferevent_disable(bev, EV_READ);
			xfr_pump(c);
			return;
		}
		if (evbuffer_get_length(output) > TCP_OUT_HIGH) {
			bufferevent_disable(bev, EV_READ);
			break;
		}
	}
	if (began)
		acm_worker_batch_end(t->w);
}

/* The peer drained its answers: read again. Queries that arrived before the
 * pause may already sit in the input buffer, and no read event will announce
 * them, so answer those now. */
static void conn_write(struct bufferevent *bev, void *arg)
{
	conn_t *c = arg;
	if (c->xfr && (!xfr_pump(c) || c->xfr))
		return;
	if (c->closing) {
		if (evbuffer_get_length(bufferevent_get_output(bev)) == 0 && !c->waiting)
			conn_close(c);
		return;
	}
	if (bufferevent_get_enabled(bev) & EV_READ)
		return;
	bufferevent_enable(bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_input(bev)) > 0)
		conn_read(bev, arg);
}

static void conn_event(struct bufferevent *bev, short what, void *arg)
{
	conn_t *c = arg;
	(void)bev;
	/* A peer that half-closes after its queries still gets the answers
	 * already made. Errors and timeouts end the connection at once. */
	if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR) && !c->closing)
		conn_finish(c);
	else
		conn_close(c);
}

static void conn_accept(struct evconnlistener *l, evutil_socket_t fd,
                        struct sockaddr *sa, int salen, void *arg)
{
	acm_tcp_t *t = arg;
	acm_tcp_limits_t *lim = t->w->tcp_limits;
	(void)l;
	if (atomic_fetch_add(&lim->count, 1) >= lim->max) {
		atomic_fetch_sub(&lim->count, 1);
		acm_counter_add(&t->w->metrics->tcp_refused, 1);
		close(fd);
		return;
	}
	conn_t *c = calloc(1, sizeof(*c));
	struct bufferevent *bev = c ? bufferevent_socket_new(t->w->base, fd, BEV_OPT_CLOSE_ON_FREE)
	                            : NULL;
	if (!bev) {
		free(c);
		close(fd);
		atomic_fetch_sub(&lim->count, 1);
		return;
	}
	c->bev = bev;
	c->t = t;
	c->id = ++t->next_id;
	acm_counter_add(&t->w->metrics->tcp_open, 1);
	if (salen > 0 && (size_t)salen <= sizeof(c->peer))
		memcpy(&c->peer, sa, (size_t)salen);
	c->next = t->conns;
	if (t->conns)
		t->conns->prev = c;
	t->conns = c;
	struct timeval idle = { (time_t)lim->idle_timeout, 0 };
	bufferevent_setcb(bev, conn_read, conn_write, conn_event, c);
	bufferevent_setwatermark(bev, EV_WRITE, TCP_OUT_HIGH / 2, 0);
	bufferevent_set_timeouts(bev, &idle, &idle);
	bufferevent_enable(bev, EV_READ);
}

int acm_tcp_open(acm_worker_t *w, int fd, acm_tcp_t **out)
{
	acm_tcp_t *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->w = w;
	/* Backlog 0: the socket is already listening. */
	t->listener = evconnlistener_new(w->base, conn_accept, t, LEV_OPT_CLOSE_ON_FREE, 0, fd);
	if (!t->listener) {
		free(t);
		return -ENOMEM;
	}
	*out = t;
	return ACM_OK;
}

void acm_tcp_send(acm_tcp_t *t, uint64_t conn_id, const uint8_t *msg, size_t len)
{
	conn_t *c = t->conns;
	while (c && c->id != conn_id)
		c = c->next;
	if (!c)
		return;   /* closed meanwhile: the answer has nowhere to go */
	c->waiting--;
	struct evbuffer *output = bufferevent_get_output(c->bev);
	if (len > 0) {
		uint8_t prefix[2];
		acm_put_u16(prefix, (uint16_t)len);
		evbuffer_add(output, prefix, 2);
		evbuffer_add(output, msg, len);
	} else if (c->closing && !c->waiting && !c->xfr && evbuffer_get_length(output) == 0) {
		conn_close(c);
	}
}

void acm_tcp_close(acm_tcp_t *t)
{
	if (!t)
		return;
	while (t->conns)
		conn_close(t->conns);
	evconnlistener_free(t->listener);
	free(t);
}
