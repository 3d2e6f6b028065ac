/* SPDX-License-Identifier: ISC */
/*
 * UDP: a worker's UDP thread (udp_loop.c) drains a socket in batches with
 * recvmmsg, answers every datagram of the batch from one store snapshot
 * into preallocated buffers, and sends the answers back with one sendmmsg.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "dnsd/udp.h"
#include "dnsd/update.h"
#include "dnsd/worker.h"
#include "lib/error.h"

#define UDP_BATCH 32
#define UDP_IN_MAX 4096     /* larger queries are not queries we answer */
#define UDP_OUT_MAX 4096    /* dns.udp_payload is at most this */
#define UDP_ROUNDS 8        /* batches per wake-up before the other sockets' turn */

/* Room for one IP_PKTINFO or IPV6_PKTINFO control message. */
#define UDP_CMSG_SPACE CMSG_SPACE(sizeof(struct in6_pktinfo))

struct acm_udp {
	acm_worker_t *w;
	int fd;
	bool wildcard;      /* bound to 0.0.0.0 or ::, so replies need a source */
	struct mmsghdr in[UDP_BATCH];
	struct mmsghdr out[UDP_BATCH];
	struct iovec in_iov[UDP_BATCH];
	struct iovec out_iov[UDP_BATCH];
	struct sockaddr_storage addr[UDP_BATCH];
	uint8_t in_cmsg[UDP_BATCH][UDP_CMSG_SPACE];
	uint8_t out_cmsg[UDP_BATCH][UDP_CMSG_SPACE];
	uint8_t in_buf[UDP_BATCH][UDP_IN_MAX];
	uint8_t out_buf[UDP_BATCH][UDP_OUT_MAX];
};

/* Point every header at its buffers, once per socket: per answer, only
 * the client, the length and (wildcard sockets) the source change. */
static void prepare_headers(acm_udp_t *u)
{
	for (int i = 0; i < UDP_BATCH; i++) {
		u->out_iov[i].iov_base = u->out_buf[i];
		struct msghdr *o = &u->out[i].msg_hdr;
		memset(o, 0, sizeof(*o));
		o->msg_iov = &u->out_iov[i];
		o->msg_iovlen = 1;
		u->in_iov[i].iov_base = u->in_buf[i];
		u->in_iov[i].iov_len = UDP_IN_MAX;
		struct msghdr *h = &u->in[i].msg_hdr;
		memset(h, 0, sizeof(*h));
		h->msg_name = &u->addr[i];
		h->msg_namelen = sizeof(u->addr[i]);
		h->msg_iov = &u->in_iov[i];
		h->msg_iovlen = 1;
		if (u->wildcard) {
			h->msg_control = u->in_cmsg[i];
			h->msg_controllen = UDP_CMSG_SPACE;
		}
	}
}

/* recvmmsg writes only the lengths and flags of the headers it filled:
 * put back just those, not the whole batch, before the next call. */
static void rearm_receive(acm_udp_t *u, int n)
{
	for (int i = 0; i < n; i++) {
		struct msghdr *h = &u->in[i].msg_hdr;
		h->msg_namelen = sizeof(u->addr[i]);
		h->msg_controllen = u->wildcard ? UDP_CMSG_SPACE : 0;
		h->msg_flags = 0;
	}
}

/*
 * A socket bound to the wildcard address must answer from the address the
 * query was sent to, or multi-homed hosts reply from the wrong one and the
 * client drops the answer. Copy the destination the kernel reported into
 * the reply's source.
 */
static void set_reply_source(const struct msghdr *in, struct msghdr *out, uint8_t *buf)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR((struct msghdr *)in); c;
	     c = CMSG_NXTHDR((struct msghdr *)in, c)) {
		bool v4 = c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO;
		bool v6 = c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO;
		if (!v4 && !v6)
			continue;
		out->msg_control = buf;
		out->msg_controllen = UDP_CMSG_SPACE;
		struct cmsghdr *o = CMSG_FIRSTHDR(out);
		if (v4) {
			struct in_pktinfo pi;
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			pi.ipi_spec_dst = pi.ipi_addr;
			pi.ipi_ifindex = 0;
			o->cmsg_level = IPPROTO_IP;
			o->cmsg_type = IP_PKTINFO;
			o->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(CMSG_DATA(o), &pi, sizeof(pi));
			out->msg_controllen = CMSG_SPACE(sizeof(pi));
		} else {
			o->cmsg_level = IPPROTO_IPV6;
			o->cmsg_type = IPV6_PKTINFO;
			o->cmsg_len = CMSG_LEN(sizeof(struct in6_pktinfo));
			memcpy(CMSG_DATA(o), CMSG_DATA(c), sizeof(struct in6_pktinfo));
			out->msg_controllen = CMSG_SPACE(sizeof(struct in6_pktinfo));
		}
		return;
	}
}

_Static_assert(UDP_CMSG_SPACE <= ACM_PEER_CMSG_MAX, "acm_peer_t.cmsg too small");

/* The answer to an UPDATE, sent on its own from the socket it came in on. */
static void udp_send(const acm_peer_t *peer, const uint8_t *msg, size_t len)
{
	const acm_udp_t *u = peer->ctx;
	if (len == 0)
		return;
	acm_peer_t p = *peer;
	struct iovec iov = { (void *)msg, len };
	struct msghdr h = {
		.msg_name = &p.addr,
		.msg_namelen = p.addrlen,
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = p.cmsg_len ? p.cmsg : NULL,
		.msg_controllen = p.cmsg_len,
	};
	/* A lost answer is a lost datagram: the client asks again, and the
	 * update's own prerequisites or idempotence make that safe. */
	(void)sendmsg(u->fd, &h, MSG_DONTWAIT);
}

/* An UPDATE is answered on its own: at once when it is refused or
 * malformed (in the order of the socket's messages), else once its changes
 * are durable, by the worker's event loop. */
static bool take_update(acm_udp_t *u, int i)
{
	const struct msghdr *h = &u->in[i].msg_hdr;
	if (!acm_update_is(u->in_buf[i], u->in[i].msg_len))
		return false;
	acm_peer_t peer = { .send = udp_send, .ctx = u };
	memcpy(&peer.addr, h->msg_name, h->msg_namelen);
	peer.addrlen = h->msg_namelen;
	if (u->wildcard) {
		struct msghdr o = { 0 };
		set_reply_source(h, &o, peer.cmsg);
		peer.cmsg_len = o.msg_controllen;
	}
	return acm_worker_update(u->w, u->in_buf[i], u->in[i].msg_len, &peer);
}

/* Answer n received datagrams; returns how many answers were queued. */
static int answer_batch(acm_udp_t *u, int n)
{
	int queued = 0;
	acm_worker_batch_begin(u->w);
	for (int i = 0; i < n; i++) {
		struct msghdr *h = &u->in[i].msg_hdr;
		if (h->msg_flags & MSG_TRUNC) {   /* oversize datagram: not a query of ours */
			acm_counter_add(&u->w->metrics->dropped[ACM_M_DROP_OVERSIZE], 1);
			continue;
		}
		if (take_update(u, i))
			continue;
		size_t len = acm_worker_answer(u->w, u->in_buf[i], u->in[i].msg_len, false,
		                               (struct sockaddr *)&u->addr[i], u->out_buf[queued],
		                               UDP_OUT_MAX, NULL);
		if (len == 0)
			continue;
		u->out_iov[queued].iov_len = len;
		struct msghdr *o = &u->out[queued].msg_hdr;
		o->msg_name = h->msg_name;
		o->msg_namelen = h->msg_namelen;
		if (u->wildcard) {
			o->msg_control = NULL;
			o->msg_controllen = 0;
			set_reply_source(h, o, u->out_cmsg[queued]);
		}
		queued++;
	}
	acm_worker_batch_end(u->w);
	return queued;
}

static void send_batch(acm_udp_t *u, int n)
{
	int sent = 0;
	while (sent < n) {
		int r = sendmmsg(u->fd, u->out + sent, (unsigned)(n - sent), MSG_DONTWAIT);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			/* A full send buffer or an unreachable peer costs only
			 * this datagram; skip it and go on with the rest. */
			sent++;
			continue;
		}
		sent += r;
	}
}

/* Answer and send back the n datagrams one recvmmsg brought. */
static void serve(acm_udp_t *u, int n)
{
	int queued = answer_batch(u, n);
	rearm_receive(u, n);
	if (queued > 0)
		send_batch(u, queued);
}

size_t acm_udp_drain(acm_udp_t *u)
{
	size_t read = 0;
	for (int round = 0; round < UDP_ROUNDS; round++) {
		int n = recvmmsg(u->fd, u->in, UDP_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			break;
		serve(u, n);
		read += (size_t)n;
		if (n < UDP_BATCH)
			break;
	}
	return read;
}

int acm_udp_block(acm_udp_t *u, unsigned timeout_ms)
{
	struct timeval tv = { .tv_sec = timeout_ms / 1000,
	                      .tv_usec = (timeout_ms % 1000) * 1000 };
	int flags = fcntl(u->fd, F_GETFL);
	if (flags < 0 || fcntl(u->fd, F_SETFL, flags & ~O_NONBLOCK) != 0 ||
	    setsockopt(u->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0)
		return -errno;
	return ACM_OK;
}

size_t acm_udp_wait(acm_udp_t *u)
{
	int n;
	do
		n = recvmmsg(u->fd, u->in, UDP_BATCH, MSG_WAITFORONE, NULL);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return 0;
	serve(u, n);
	return (size_t)n;
}

void acm_udp_wake(acm_udp_t *u)
{
	/* A receiver blocked on the socket returns at once, and every later
	 * receive without data too; sending is left as it was. */
	(void)shutdown(u->fd, SHUT_RD);
}

int acm_udp_fd(const acm_udp_t *u)
{
	return u->fd;
}

static bool bound_to_wildcard(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		return false;
	if (ss.ss_family == AF_INET)
		return ((struct sockaddr_in *)&ss)->sin_addr.s_addr == htonl(INADDR_ANY);
	return ss.ss_family == AF_INET6 &&
	       IN6_IS_ADDR_UNSPECIFIED(&((struct sockaddr_in6 *)&ss)->sin6_addr);
}

int acm_udp_open(acm_worker_t *w, int fd, acm_udp_t **out)
{
	acm_udp_t *u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->w = w;
	u->fd = fd;
	u->wildcard = bound_to_wildcard(fd);
	if (u->wildcard) {
		int one = 1;
		setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
		setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one));
	}
	prepare_headers(u);
	*out = u;
	return ACM_OK;
}

void acm_udp_close(acm_udp_t *u)
{
	if (!u)
		return;
	close(u->fd);
	free(u);
}
