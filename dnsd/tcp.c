/* SPDX-License-Identifier: ISC */
/*
 * TCP (RFC 7766): length-prefixed messages, answered in order as they
 * arrive, several per read (pipelining); an idle timeout between messages
 * and a deadline for each message once begun (a byte now and then does not
 * keep a connection); caps on open connections across all workers, per
 * client and per network (lib/rt/conn_limit.h); accept() out of descriptors
 * rests instead of spinning (lib/rt/accept_guard.h); reading pauses while a
 * slow reader lets answers pile up. A zone transfer is sent as its output
 * drains, message by message, and the queries after it wait for its end.
 *
 * What a query costs is most of what a connection does, so the common case
 * copies nothing it need not: a read lands in the handler's buffer, whole
 * messages are answered where they lie into the handler's output buffer,
 * and that goes out in one send() when the socket takes it. Only what is
 * left over stays with the connection: the start of a message still
 * arriving (or the messages not yet read while reading pauses) in c->in,
 * the answers the socket did not take in c->out. Deadlines are timestamps;
 * one timer serves all the connections of a socket (a descriptor, outside
 * the loop's timer heap: lib/rt/fdtimer.h), moved only when a deadline
 * comes earlier than the one it is set for; when it fires it closes the
 * connections past theirs and sets itself for the earliest left.
 */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dnsd/tcp.h"
#include "dnsd/update.h"
#include "dnsd/worker.h"
#include "dnsd/xfr.h"
#include "lib/clock.h"
#include "lib/rt/accept_guard.h"
#include "lib/rt/fdtimer.h"
#include "lib/error.h"
#include "lib/log.h"
#include "lib/dns/wire.h"

#define TCP_MSG_MAX 65535
#define TCP_FRAME_MAX (2 + TCP_MSG_MAX)   /* a message and its length prefix */
#define TCP_OUT_HIGH (256 * 1024)   /* stop reading above this much unsent */
#define TCP_OUT_LOW (TCP_OUT_HIGH / 2)   /* read again, or go on with a transfer, below it */
#define TCP_READ_MAX (32 * 1024)    /* what one read may take */
#define FD_SHARE_PERCENT 25         /* of RLIMIT_NOFILE DNS connections may take */
#define NETWORK_RESERVE_DIV 8       /* this share of the slots no one network can take */
#define LOG_INTERVAL_S 10
#define NO_DEADLINE UINT64_MAX

/* Outsiders cause these at will: one line per interval (lib/log.h). */
static acm_log_limit_t refused_log = ACM_LOG_LIMIT_INIT(LOG_INTERVAL_S);
static acm_log_limit_t accept_log = ACM_LOG_LIMIT_INIT(LOG_INTERVAL_S);

typedef struct conn {
	struct event *rd;       /* the socket is readable; added while reading */
	struct event *wr;       /* the socket is writable; added while out holds bytes */
	struct conn *prev, *next;
	acm_tcp_t *t;
	evutil_socket_t fd;
	struct sockaddr_storage peer;
	uint64_t id;            /* how an update's late answer finds it */
	acm_conn_slot_t slot;
	uint8_t *in;            /* input not answered yet, from a message's start */
	size_t in_len, in_cap;
	struct evbuffer *out;   /* answers the socket has not taken yet; NULL: none so far */
	acm_xfr_t *xfr;         /* a transfer being sent; reading waits for it */
	unsigned waiting;       /* updates not answered yet: keep it open */
	bool reading;           /* rd is added */
	bool in_message;        /* part of a message has arrived */
	bool closing;           /* the peer is done sending: flush, then close */
	bool broken;            /* close at the end of this callback */
	/* Deadlines, from CLOCK_BOOTTIME milliseconds. */
	uint64_t idle_from;     /* the last message ended, or the connection began */
	uint64_t message_from;  /* the message in progress began */
	uint64_t write_from;    /* out last took or gave bytes */
} conn_t;

struct acm_tcp {
	acm_worker_t *w;
	struct evconnlistener *listener;
	int fd;                 /* ours: closed by acm_tcp_close, not by the listener */
	acm_accept_guard_t *guard;
	conn_t *conns;          /* open connections, so a stop can close them */
	acm_fdtimer_t *timer;   /* the earliest deadline of any, or one before it */
	uint64_t armed;         /* when the timer fires; 0: it is not set */
	uint64_t next_id;
	/* One connection's callback at a time: */
	conn_t *cur;            /* whose answers out[] gathers */
	bool batch;             /* a batch is open (dnsd/worker.h) */
	uint64_t now;           /* ms, read once; 0: not read yet */
	size_t out_len;
	uint8_t out[2 * TCP_FRAME_MAX];
	uint8_t in[TCP_READ_MAX];
};

static uint64_t tcp_now(acm_tcp_t *t)
{
	if (!t->now)
		t->now = acm_boot_ms();
	return t->now;
}

static size_t queued(const conn_t *c)
{
	return c->out ? evbuffer_get_length(c->out) : 0;
}

static bool retry_later(int err)
{
	return err == EAGAIN || err == EWOULDBLOCK || err == EINTR;
}

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
	if (c->rd)
		event_free(c->rd);
	if (c->wr)
		event_free(c->wr);
	if (c->out)
		evbuffer_free(c->out);
	free(c->in);
	close(c->fd);
	acm_conn_limit_release(t->w->tcp_limits->table, &c->slot);
	free(c);
	acm_counter_add(&t->w->metrics->tcp_open, UINT64_MAX);   /* minus one, modulo 2^64 */
}

/* ---- output ---------------------------------------------------------------------------------- */

/* Give the socket data[0..len), behind what it has not taken yet; what it
 * does not take now waits in c->out until it drains. */
static void conn_write(conn_t *c, const uint8_t *data, size_t len)
{
	size_t sent = 0;
	if (c->broken || len == 0)
		return;
	if (queued(c) == 0) {
		ssize_t n = send(c->fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && !retry_later(errno)) {
			c->broken = true;
			return;
		}
		sent = n > 0 ? (size_t)n : 0;
		if (sent == len)
			return;
		c->write_from = tcp_now(c->t);
		if (event_add(c->wr, NULL) != 0)
			c->broken = true;
	}
	if (!c->out)
		c->out = evbuffer_new();
	if (!c->out || evbuffer_add(c->out, data + sent, len - sent) != 0)
		c->broken = true;
}

static void out_flush(acm_tcp_t *t)
{
	if (t->out_len > 0)
		conn_write(t->cur, t->out, t->out_len);
	t->out_len = 0;
}

/* Where the next message of t->cur goes: room for the largest, after its
 * length prefix. out_commit() says how long it came out. */
static uint8_t *out_slot(acm_tcp_t *t)
{
	if (sizeof(t->out) - t->out_len < TCP_FRAME_MAX)
		out_flush(t);
	return t->out + t->out_len + 2;
}

static void out_commit(acm_tcp_t *t, size_t n)
{
	acm_put_u16(t->out + t->out_len, (uint16_t)n);
	t->out_len += 2 + n;
}

/* ---- deadlines ------------------------------------------------------------------------------- */

/* Between messages a client may stay silent for dns.tcp_idle_timeout;
 * once a message has begun, all of it must arrive within
 * dns.tcp_message_timeout, however it trickles in. While reading pauses,
 * neither runs; answers the peer does not take for dns.tcp_idle_timeout
 * end the connection too. */
static uint64_t read_deadline(const conn_t *c)
{
	const acm_tcp_limits_t *lim = c->t->w->tcp_limits;
	if (!c->reading)
		return NO_DEADLINE;
	return c->in_message ? c->message_from + 1000u * (uint64_t)lim->message_timeout
	                     : c->idle_from + 1000u * (uint64_t)lim->idle_timeout;
}

static uint64_t write_deadline(const conn_t *c)
{
	if (queued(c) == 0)
		return NO_DEADLINE;
	return c->write_from + 1000u * (uint64_t)c->t->w->tcp_limits->idle_timeout;
}

static uint64_t conn_deadline(const conn_t *c)
{
	uint64_t d = read_deadline(c), wd = write_deadline(c);
	return wd < d ? wd : d;
}

/* One timer for all the connections: set it when a deadline comes before
 * it (deadlines that move later leave it: it fires, finds time left, and
 * is set for the earliest then). */
static void tcp_arm(acm_tcp_t *t, uint64_t d)
{
	if (d == NO_DEADLINE || (t->armed && t->armed <= d))
		return;
	if (acm_fdtimer_set(t->timer, d, 0) == ACM_OK)
		t->armed = d;
}

/* After messages were taken (used bytes) with left bytes still there. */
static void conn_after(conn_t *c, size_t used, size_t left)
{
	if (left == 0) {
		c->in_message = false;
		c->idle_from = tcp_now(c->t);
	} else if (used > 0 || !c->in_message) {
		c->in_message = true;
		c->message_from = tcp_now(c->t);
	}
}

static void conn_reading(conn_t *c, bool on)
{
	if (on == c->reading)
		return;
	if ((on ? event_add(c->rd, NULL) : event_del(c->rd)) != 0) {
		c->broken = true;
		return;
	}
	c->reading = on;
	if (on)
		conn_after(c, 1, c->in_len);   /* the clocks start again */
}

/* ---- input ----------------------------------------------------------------------------------- */

static bool in_reserve(conn_t *c, size_t cap)
{
	if (c->in_cap >= cap)
		return true;
	uint8_t *p = realloc(c->in, cap);
	if (!p)
		return false;
	c->in = p;
	c->in_cap = cap;
	return true;
}

static bool in_whole(const conn_t *c)
{
	return c->in_len >= 2 && c->in_len >= 2 + (size_t)acm_get_u16(c->in);
}

/* Read the rest of the message begun in c->in, no further: 1 once it is
 * whole, 0 when the socket holds no more yet, -1 at the end of the stream
 * (errno 0) or on a failure. */
static int in_fill(conn_t *c)
{
	for (;;) {
		size_t frame = c->in_len < 2 ? 2 : 2 + (size_t)acm_get_u16(c->in);
		if (c->in_len >= frame)
			return 1;
		if (!in_reserve(c, frame)) {
			errno = ENOMEM;
			return -1;
		}
		ssize_t n = read(c->fd, c->in + c->in_len, frame - c->in_len);
		if (n > 0) {
			c->in_len += (size_t)n;
			continue;
		}
		if (n == 0)
			errno = 0;
		return n < 0 && retry_later(errno) ? 0 : -1;
	}
}

/* No more queries will come: send the answers already made, then close
 * (the idle timeout still bounds a peer that stops reading). */
static void conn_finish(conn_t *c)
{
	c->closing = true;
	conn_reading(c, false);
}

/* The stream ended (err 0) or failed. A peer that half-closes after its
 * queries still gets the answers already made. */
static void conn_ended(conn_t *c, int err)
{
	if (err == 0 && !c->closing)
		conn_finish(c);
	else
		c->broken = true;
}

/* ---- one callback of a connection ------------------------------------------------------------ */

/* A batch ends with each callback: no store snapshot is kept while the
 * loop waits (dnsd/worker.h). */
static void batch_end(acm_tcp_t *t)
{
	acm_worker_batch_end(t->w);
	t->batch = false;
}

static void conn_enter(conn_t *c)
{
	c->t->cur = c;
	c->t->now = 0;
}

/* Send what was gathered, close the snapshot, then close the connection
 * if it is done, else set its timer. */
static void conn_leave(conn_t *c)
{
	acm_tcp_t *t = c->t;
	out_flush(t);
	if (t->batch)
		batch_end(t);
	t->cur = NULL;
	if (c->broken || (c->closing && !c->xfr && !c->waiting && queued(c) == 0)) {
		conn_close(c);
		return;
	}
	if (c->in_len == 0) {   /* between messages a connection holds no input buffer */
		free(c->in);
		c->in = NULL;
		c->in_cap = 0;
	}
	tcp_arm(t, conn_deadline(c));
}

/* ---- messages -------------------------------------------------------------------------------- */

/* Send msg (len 0: nothing) on the connection peer->id, the answer to an
 * update it was waiting for, if the connection is still open. */
static void tcp_send(const acm_peer_t *peer, const uint8_t *msg, size_t len)
{
	acm_tcp_t *t = peer->ctx;
	conn_t *c = t->conns;
	while (c && c->id != peer->id)
		c = c->next;
	if (!c)
		return;   /* closed meanwhile: the answer has nowhere to go */
	c->waiting--;
	if (t->cur && t->cur != c) {   /* not expected: keep out[] for its owner */
		uint8_t prefix[2];
		acm_put_u16(prefix, (uint16_t)len);
		if (len > 0) {
			conn_write(c, prefix, 2);
			conn_write(c, msg, len);
		}
		return;
	}
	bool outside = !t->cur;   /* a late answer, not one while reading */
	if (outside)
		conn_enter(c);
	if (len > 0) {
		memcpy(out_slot(t), msg, len);
		out_commit(t, len);
	}
	if (outside)
		conn_leave(c);
}

/* An UPDATE is answered when its changes are durable, through tcp_send;
 * the queries after it need not wait (RFC 7766 7). */
static void conn_answer(conn_t *c, const uint8_t *msg, size_t len)
{
	acm_tcp_t *t = c->t;
	if (!t->batch) {
		acm_worker_batch_begin(t->w);
		t->batch = true;
		t->now = t->w->batch_ms;
	}
	if (acm_update_is(msg, len)) {
		acm_peer_t peer = { .send = tcp_send, .ctx = t, .id = c->id };
		memcpy(&peer.addr, &c->peer, sizeof(c->peer));
		peer.addrlen = sizeof(c->peer);
		c->waiting++;
		acm_worker_update(t->w, msg, len, &peer);
		return;
	}
	size_t n = acm_worker_answer(t->w, msg, len, true, (struct sockaddr *)&c->peer, out_slot(t),
	                             TCP_MSG_MAX, &c->xfr);
	if (n > 0)
		out_commit(t, n);
}

/* Answer the whole messages at the start of buf[0..len) until one stops
 * the reading (a transfer, the end, answers piling up). Returns the bytes
 * taken. */
static size_t conn_take(conn_t *c, const uint8_t *buf, size_t len)
{
	size_t off = 0;
	while (len - off >= 2 && !c->broken) {
		size_t n = acm_get_u16(buf + off);
		if (n == 0) {   /* nothing can follow a zero-length message */
			conn_finish(c);
			return len;
		}
		if (len - off - 2 < n)
			break;
		conn_answer(c, buf + off + 2, n);
		off += 2 + n;
		if (c->xfr || queued(c) + c->t->out_len > TCP_OUT_HIGH)
			break;
	}
	return off;
}

/* Queue transfer messages until TCP_OUT_HIGH bytes wait or the transfer
 * ends. A transfer that fails closes the connection: a broken stream
 * tells the client more than a short one. */
static void xfr_pump(conn_t *c)
{
	acm_tcp_t *t = c->t;
	if (t->batch)   /* the transfer reads a snapshot of its own */
		batch_end(t);
	while (c->xfr && !c->broken && queued(c) < TCP_OUT_HIGH) {
		int n = acm_xfr_next(c->xfr, out_slot(t), TCP_MSG_MAX);
		if (n < 0) {
			c->broken = true;
		} else if (n == 0) {
			acm_xfr_free(c->xfr);
			c->xfr = NULL;
		} else {
			out_commit(t, (size_t)n);
		}
	}
	out_flush(t);
}

/* Go on as far as the output lets: the transfer, then the messages that
 * waited in c->in; then read again, or wait for the peer to drain. */
static void conn_run(conn_t *c)
{
	acm_tcp_t *t = c->t;
	while (!c->broken && !c->closing) {
		out_flush(t);
		if (c->xfr) {
			if (queued(c) > TCP_OUT_LOW)
				break;
			xfr_pump(c);
			if (c->xfr)
				break;
			continue;
		}
		if (queued(c) > (c->reading ? TCP_OUT_HIGH : TCP_OUT_LOW) || !in_whole(c))
			break;
		size_t used = conn_take(c, c->in, c->in_len);
		c->in_len -= used;
		memmove(c->in, c->in + used, c->in_len);
		conn_after(c, used, c->in_len);
	}
	conn_reading(c, !c->broken && !c->closing && !c->xfr &&
	                   queued(c) <= (c->reading ? TCP_OUT_HIGH : TCP_OUT_LOW));
}

/* ---- callbacks ------------------------------------------------------------------------------- */

/* Most reads hold whole messages: they are answered where they lie, and
 * only a message's start is kept. A message begun before is completed
 * first, read into its own buffer. */
static void on_read(evutil_socket_t fd, short what, void *arg)
{
	conn_t *c = arg;
	acm_tcp_t *t = c->t;
	(void)what;
	conn_enter(c);
	if (c->in_len > 0) {
		if (in_fill(c) < 0)
			conn_ended(c, errno);
	} else {
		ssize_t n = read(fd, t->in, sizeof(t->in));
		if (n > 0) {
			size_t used = conn_take(c, t->in, (size_t)n), left = (size_t)n - used;
			if (left > 0 && !c->closing && !c->broken) {
				if (in_reserve(c, left)) {
					memcpy(c->in, t->in + used, left);
					c->in_len = left;
				} else {
					c->broken = true;
				}
			}
			conn_after(c, used, left);
		} else if (n == 0 || !retry_later(errno)) {
			conn_ended(c, n == 0 ? 0 : errno);
		}
	}
	conn_run(c);
	conn_leave(c);
}

/* The peer takes answers again: go on with a transfer, or with the
 * messages that waited. */
static void on_write(evutil_socket_t fd, short what, void *arg)
{
	conn_t *c = arg;
	(void)what;
	conn_enter(c);
	int n = evbuffer_write(c->out, fd);
	if (n < 0 && !retry_later(errno))
		c->broken = true;
	else if (n > 0)
		c->write_from = tcp_now(c->t);
	if (queued(c) == 0)
		event_del(c->wr);
	conn_run(c);
	conn_leave(c);
}

/* Close the connection if a deadline of its has passed. */
static void conn_expire(conn_t *c, uint64_t now)
{
	if (read_deadline(c) <= now) {
		acm_counter_add(&c->t->w->metrics->tcp_closed[c->in_message ? ACM_M_TCP_MESSAGE_TIMEOUT
		                                                             : ACM_M_TCP_IDLE_TIMEOUT], 1);
		conn_close(c);
	} else if (write_deadline(c) <= now) {
		conn_close(c);
	}
}

/* The earliest deadline it was set for has come: close every connection
 * past one of its own, and set it for the earliest left. */
static void on_timeout(void *arg)
{
	acm_tcp_t *t = arg;
	uint64_t now = acm_boot_ms(), next = NO_DEADLINE;
	t->armed = 0;
	for (conn_t *c = t->conns, *after; c; c = after) {
		after = c->next;
		conn_expire(c, now);
	}
	for (conn_t *c = t->conns; c; c = c->next) {
		uint64_t d = conn_deadline(c);
		if (d < next)
			next = d;
	}
	tcp_arm(t, next);
}

/* ---- listening ------------------------------------------------------------------------------- */

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

/* The connection's events, reading from now on. */
static int conn_events(conn_t *c, struct event_base *base)
{
	c->rd = event_new(base, c->fd, EV_READ | EV_PERSIST, on_read, c);
	c->wr = event_new(base, c->fd, EV_WRITE | EV_PERSIST, on_write, c);
	if (!c->rd || !c->wr)
		return -ENOMEM;
	conn_reading(c, true);
	return c->broken ? -ENOMEM : ACM_OK;
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
	if (!c) {
		close(fd);
		acm_conn_limit_release(lim->table, &slot);
		return;
	}
	c->fd = fd;
	c->slot = slot;
	c->t = t;
	c->id = ++t->next_id;
	if (salen > 0 && (size_t)salen <= sizeof(c->peer))
		memcpy(&c->peer, sa, (size_t)salen);
	c->next = t->conns;
	if (t->conns)
		t->conns->prev = c;
	t->conns = c;
	acm_counter_add(&t->w->metrics->tcp_open, 1);
	conn_enter(c);
	if (conn_events(c, t->w->base) != ACM_OK)
		c->broken = true;
	conn_leave(c);
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
	if (rc == ACM_OK)
		rc = acm_fdtimer_new(w->base, on_timeout, t, &t->timer);
	if (rc != ACM_OK) {
		acm_accept_guard_free(t->guard);
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
	acm_fdtimer_free(t->timer);
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
