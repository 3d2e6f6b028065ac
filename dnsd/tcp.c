/* SPDX-License-Identifier: ISC */
/*
 * TCP (RFC 7766): length-prefixed messages, answered in order as they
 * arrive, several per read (pipelining); an idle timeout between messages
 * and a deadline for each message once begun (a byte now and then does not
 * keep a connection); caps on open connections across all workers, per
 * client and per network (lib/rt/conn_limit.h); accept() out of descriptors
 * rests instead of spinning (lib/rt/accept_guard.h); reading pauses while a
 * slow reader lets answers pile up. A zone transfer is sent as its output drains, message
 * by message, and the queries after it wait for its end.
 */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dnsd/tcp.h"
#include "dnsd/update.h"
#include "dnsd/worker.h"
#include "dnsd/xfr.h"
#include "lib/rt/accept_guard.h"
#include "lib/error.h"
#include "lib/log.h"
#include "lib/dns/wire.h"

#define TCP_MSG_MAX 65535
#define TCP_OUT_HIGH (256 * 1024)   /* stop reading above this much unsent */
#define FD_SHARE_PERCENT 25         /* of RLIMIT_NOFILE DNS connections may take */
#define NETWORK_RESERVE_DIV 8       /* this share of the slots no one network can take */
#define LOG_INTERVAL_S 10

/* Outsiders cause these at will: one line per interval (lib/log.h). */
static acm_log_limit_t refused_log = ACM_LOG_LIMIT_INIT(LOG_INTERVAL_S);
static acm_log_limit_t accept_log = ACM_LOG_LIMIT_INIT(LOG_INTERVAL_S);

typedef struct conn {
	struct bufferevent *bev;
	struct conn *prev, *next;
	acm_tcp_t *t;
	bool closing;           /* the peer is done sending: flush, then close */
	struct sockaddr_storage peer;
	acm_xfr_t *xfr;         /* a transfer being sent; reading waits for it */
	uint64_t id;            /* how an update's late answer finds it */
	unsigned waiting;       /* updates not answered yet: keep it open */
	acm_conn_slot_t slot;
	struct event *timer;    /* idle, or the message deadline */
	bool in_message;        /* part of a message has arrived */
} conn_t;

struct acm_tcp {
	acm_worker_t *w;
	struct evconnlistener *listener;
	int fd;                 /* ours: closed by acm_tcp_close, not by the listener */
	acm_accept_guard_t *guard;
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
	event_free(c->timer);
	acm_conn_limit_release(t->w->tcp_limits->table, &c->slot);
	free(c);
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
	evtimer_del(c->timer);
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

/* Send msg (len 0: nothing) on the connection peer->id, the answer to an
 * update it was waiting for, if the connection is still open. */
static void tcp_send(const acm_peer_t *peer, const uint8_t *msg, size_t len)
{
	acm_tcp_t *t = peer->ctx;
	uint64_t conn_id = peer->id;
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

/* An UPDATE is answered when its changes are durable, through tcp_send;
 * the queries after it need not wait (RFC 7766 7). */
static bool take_update(conn_t *c, size_t len)
{
	if (!acm_update_is(c->t->in, len))
		return false;
	acm_peer_t peer = { .send = tcp_send, .ctx = c->t, .id = c->id };
	memcpy(&peer.addr, &c->peer, sizeof(c->peer));
	peer.addrlen = sizeof(c->peer);
	c->waiting++;
	return acm_worker_update(c->t->w, c->t->in, len, &peer);
}

/* Between messages a client may stay silent for dns.tcp_idle_timeout;
 * once a message has begun, all of it must arrive within
 * dns.tcp_message_timeout, however it trickles in. new_message: the
 * bytes waiting, if any, begin a message (the one before was complete). */
static void conn_arm(conn_t *c, bool new_message)
{
	const acm_tcp_limits_t *lim = c->t->w->tcp_limits;
	struct timeval tv = { 0, 0 };
	if (!(bufferevent_get_enabled(c->bev) & EV_READ)) {
		evtimer_del(c->timer);   /* the write timeout bounds what follows */
		return;
	}
	if (evbuffer_get_length(bufferevent_get_input(c->bev)) == 0) {
		c->in_message = false;
		tv.tv_sec = (time_t)lim->idle_timeout;
	} else if (!c->in_message || new_message) {
		c->in_message = true;
		tv.tv_sec = (time_t)lim->message_timeout;
	} else {
		return;                  /* the message's deadline stands */
	}
	evtimer_add(c->timer, &tv);
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
	conn_t *c = arg;
	(void)fd;
	(void)what;
	acm_counter_add(&c->t->w->metrics->tcp_closed[c->in_message ? ACM_M_TCP_MESSAGE_TIMEOUT
	                                                             : ACM_M_TCP_IDLE_TIMEOUT], 1);
	conn_close(c);
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
				acm_worker_batch_end(t->w, false);
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
			acm_worker_batch_end(t->w, false);
			bufferevent_disable(bev, EV_READ);
			evtimer_del(c->timer);
			xfr_pump(c);
			return;
		}
		if (evbuffer_get_length(output) > TCP_OUT_HIGH) {
			bufferevent_disable(bev, EV_READ);
			break;
		}
	}
	if (began)
		acm_worker_batch_end(t->w, false);
	conn_arm(c, began);
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
	else
		conn_arm(c, true);
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

static enum acm_m_tcp_close refusal_reason(int verdict)
{
	return verdict == ACM_CONN_CLIENT_FULL    ? ACM_M_TCP_MAX_PER_CLIENT
	       : verdict == ACM_CONN_NETWORK_FULL ? ACM_M_TCP_NETWORK_SHARE
	       : verdict == ACM_CONN_FULL         ? ACM_M_TCP_MAX_CLIENTS
	                                          : ACM_M_TCP_NO_MEMORY;
}

static void log_refused(const struct sockaddr *sa, int verdict)
{
	char addr[INET6_ADDRSTRLEN + 8];
	const char *why = verdict == ACM_CONN_CLIENT_FULL  ? "dns.tcp_max_per_client"
	                  : verdict == ACM_CONN_NETWORK_FULL ? "network share of dns.tcp_max_clients"
	                  : verdict == ACM_CONN_FULL         ? "dns.tcp_max_clients"
	                                                     : "out of memory";
	acm_log_limited_kv(&refused_log, ACM_LOG_NOTICE, "dns tcp connection refused",
	                   ACM_KS("client", acm_addr_text(sa, addr, sizeof(addr))),
	                   ACM_KS("limit", why));
}

static void on_accept_failed(void *arg, int err, unsigned shed, bool paused)
{
	(void)arg;
	acm_log_limited_kv(&accept_log, ACM_LOG_WARNING, "dns tcp accept failed",
	                   ACM_KS("error", strerror(err)), ACM_KU("shed", shed),
	                   ACM_KB("paused", paused));
}

static void conn_accept(struct evconnlistener *l, evutil_socket_t fd,
                        struct sockaddr *sa, int salen, void *arg)
{
	acm_tcp_t *t = arg;
	acm_tcp_limits_t *lim = t->w->tcp_limits;
	acm_conn_caps_t caps = { lim->max, lim->per_client, lim->per_network };
	acm_conn_slot_t slot;
	(void)l;
	int verdict = acm_conn_limit_take(lim->table, sa, &caps, &slot);
	if (verdict != ACM_CONN_ADMITTED) {
		acm_counter_add(&t->w->metrics->tcp_refused, 1);
		acm_counter_add(&t->w->metrics->tcp_closed[refusal_reason(verdict)], 1);
		close(fd);
		log_refused(sa, verdict);
		return;
	}
	conn_t *c = calloc(1, sizeof(*c));
	struct bufferevent *bev = c ? bufferevent_socket_new(t->w->base, fd, BEV_OPT_CLOSE_ON_FREE)
	                            : NULL;
	struct event *timer = bev ? evtimer_new(t->w->base, on_timeout, c) : NULL;
	if (!timer) {
		if (bev)
			bufferevent_free(bev);
		else
			close(fd);
		free(c);
		acm_conn_limit_release(lim->table, &slot);
		return;
	}
	c->slot = slot;
	c->timer = timer;
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
	/* reading has its own clock (conn_arm): libevent's would restart on
	 * every byte */
	bufferevent_set_timeouts(bev, NULL, &idle);
	bufferevent_enable(bev, EV_READ);
	conn_arm(c, true);
}

int acm_tcp_open(acm_worker_t *w, int fd, acm_tcp_t **out)
{
	acm_tcp_t *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->w = w;
	t->fd = fd;
	/* Backlog 0: the socket is already listening. Not LEV_OPT_CLOSE_ON_FREE:
	 * on failure the caller still owns fd and closes it. */
	t->listener = evconnlistener_new(w->base, conn_accept, t, 0, 0, fd);
	int rc = t->listener ? acm_accept_guard_new(t->listener, NULL, on_accept_failed, t, &t->guard)
	                     : -ENOMEM;
	if (rc != ACM_OK) {
		if (t->listener)
			evconnlistener_free(t->listener);
		free(t);
		return rc;
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
	acm_accept_guard_free(t->guard);
	evconnlistener_free(t->listener);
	close(t->fd);
	free(t);
}

int acm_tcp_limits_init(acm_tcp_limits_t *lim, const acm_config_t *cfg)
{
	uint64_t nofile;
	lim->max = acm_conn_limit_fit(cfg->tcp_max_clients, FD_SHARE_PERCENT, &nofile);
	if (lim->max < cfg->tcp_max_clients)
		acm_warn("dns.tcp_max_clients %u is more than a quarter of the descriptor limit "
		         "%llu: at most %u connections", cfg->tcp_max_clients,
		         (unsigned long long)nofile, lim->max);
	lim->per_client = cfg->tcp_max_per_client;
	/* The last slots stay for other networks than the busiest one
	 * (none kept below NETWORK_RESERVE_DIV slots in all). */
	lim->per_network = lim->max - lim->max / NETWORK_RESERVE_DIV;
	lim->idle_timeout = cfg->tcp_idle_timeout;
	lim->message_timeout = cfg->tcp_message_timeout;
	return acm_conn_limit_new(lim->max, true, &lim->table);
}

void acm_tcp_limits_fini(acm_tcp_limits_t *lim)
{
	acm_conn_limit_free(lim->table);
	lim->table = NULL;
}
