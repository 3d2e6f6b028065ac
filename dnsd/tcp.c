/* SPDX-License-Identifier: ISC */
/*
 * TCP (RFC 7766): length-prefixed messages, answered in order as they
 * arrive, several per read (pipelining); an idle timeout; a cap on open
 * connections across all workers; reading pauses while a slow reader lets
 * answers pile up.
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

#include "dnsd/worker.h"
#include "lib/error.h"
#include "lib/wire.h"

#define TCP_MSG_MAX 65535
#define TCP_OUT_HIGH (256 * 1024)   /* stop reading above this much unsent */

typedef struct conn {
	struct bufferevent *bev;
	struct conn *prev, *next;
	acm_tcp_t *t;
	bool closing;           /* the peer is done sending: flush, then close */
} conn_t;

struct acm_tcp {
	acm_worker_t *w;
	struct evconnlistener *listener;
	conn_t *conns;          /* open connections, so a stop can close them */
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
	bufferevent_free(c->bev);
	free(c);
	atomic_fetch_sub(&t->w->tcp_limits->count, 1);
}

/* No more queries will come: send the answers already made, then close
 * (the idle timeout still bounds a peer that stops reading). */
static void conn_finish(conn_t *c)
{
	struct bufferevent *bev = c->bev;
	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0) {
		conn_close(c);
		return;
	}
	c->closing = true;
	bufferevent_disable(bev, EV_READ);
	bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
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
		size_t n = acm_worker_answer(t->w, t->in, len, true, t->out + 2, TCP_MSG_MAX);
		if (n > 0) {
			acm_put_u16(t->out, (uint16_t)n);
			evbuffer_add(output, t->out, n + 2);
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
	if (c->closing) {
		if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
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
	(void)sa;
	(void)salen;
	if (atomic_fetch_add(&lim->count, 1) >= lim->max) {
		atomic_fetch_sub(&lim->count, 1);
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

void acm_tcp_close(acm_tcp_t *t)
{
	if (!t)
		return;
	while (t->conns)
		conn_close(t->conns);
	evconnlistener_free(t->listener);
	free(t);
}
