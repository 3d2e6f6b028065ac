/* SPDX-License-Identifier: ISC */
/*
 * SOA queries and NOTIFY messages for the zone apex, and the parse of their
 * replies, through the bounded wire cursor: a secondary is a peer on the
 * network, so its answers are untrusted bytes like any query.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/dns/dname.h"
#include "lib/dns/rr.h"
#include "lib/error.h"
#include "lib/rt/soa_probe.h"
#include "lib/dns/wire.h"

int acm_soa_message(uint8_t *buf, size_t cap, uint16_t id, int opcode, const uint8_t *apex)
{
	acm_wire_t w = acm_wire_init(buf, cap);
	uint16_t flags = (uint16_t)((opcode << ACM_OPCODE_SHIFT) & ACM_OPCODE_MASK);
	if (opcode == ACM_OPCODE_NOTIFY)
		flags |= ACM_FLAG_AA;   /* RFC 1996 3.7: a NOTIFY comes from authority */
	acm_wire_write_u16(&w, id);
	acm_wire_write_u16(&w, flags);
	acm_wire_write_u16(&w, 1);
	acm_wire_write_u16(&w, 0);
	acm_wire_write_u16(&w, 0);
	acm_wire_write_u16(&w, 0);
	acm_wire_write(&w, apex, acm_dname_len(apex));
	acm_wire_write_u16(&w, ACM_RRTYPE_SOA);
	acm_wire_write_u16(&w, ACM_CLASS_IN);
	return w.err ? w.err : (int)w.pos;
}

/* One resource record at the cursor; notes the apex SOA when in the answer. */
static bool read_rr(acm_wire_t *w, bool answer, const uint8_t *apex, acm_soa_reply_t *out)
{
	acm_rr_t rr;
	size_t tail;
	if (acm_rr_read(w, &rr) != ACM_OK)
		return false;
	if (answer && rr.type == ACM_RRTYPE_SOA && !out->has_serial &&
	    acm_dname_equal(rr.owner, apex)) {
		if (acm_rr_soa_serial(w->base, &rr, &out->serial, &tail) != ACM_OK)
			return false;
		out->has_serial = true;
	}
	return true;
}

int acm_soa_reply_parse(const uint8_t *msg, size_t len, const uint8_t *apex,
                        acm_soa_reply_t *out)
{
	memset(out, 0, sizeof(*out));
	if (len < ACM_DNS_HEADER)
		return ACM_EMALF;
	acm_dns_header_t h = acm_dns_header_get(msg);
	unsigned qd = h.qd, an = h.an, ns = h.ns, ar = h.ar;
	if (!(h.flags & ACM_FLAG_QR))
		return ACM_EMALF;
	out->id = h.id;
	out->opcode = ACM_DNS_OPCODE(h.flags);
	out->rcode = h.flags & ACM_RCODE_MASK;
	acm_wire_t w = acm_wire_reader(msg, len);
	w.pos = ACM_DNS_HEADER;
	for (unsigned i = 0; i < qd; i++) {
		uint8_t name[ACM_DNAME_MAX];
		size_t name_len;
		uint16_t type, rclass;
		if (acm_rr_read_question(&w, name, &name_len, &type, &rclass) != ACM_OK)
			return ACM_EMALF;
	}
	for (unsigned i = 0; i < an + ns + ar; i++) {
		if (i >= an + ns) {
			out->has_additional = true;
			out->last_rr_offset = w.pos;
		}
		if (!read_rr(&w, i < an, apex, out))
			return ACM_EMALF;
	}
	return ACM_OK;
}

/* Wait for the reply with our id from the server; other datagrams (late
 * replies, strangers) are skipped. */
static int await_reply(int fd, uint16_t id, const uint8_t *apex, unsigned timeout_ms,
                       acm_soa_reply_t *reply)
{
	uint64_t deadline = acm_mono_ms() + timeout_ms;
	uint8_t buf[4096];
	for (;;) {
		uint64_t now = acm_mono_ms();
		if (now >= deadline)
			return -ETIMEDOUT;
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int n = poll(&p, 1, (int)(deadline - now));
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n <= 0)
			continue;
		ssize_t got = recv(fd, buf, sizeof(buf), 0);
		if (got < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		if (acm_soa_reply_parse(buf, (size_t)got, apex, reply) == ACM_OK && reply->id == id)
			return ACM_OK;
	}
}

int acm_soa_probe(const struct sockaddr *sa, socklen_t salen, const uint8_t *apex,
                  unsigned timeout_ms, uint32_t *serial, int *rcode)
{
	uint8_t msg[ACM_SOA_MSG_MAX];
	uint16_t id;
	if (getrandom(&id, sizeof(id), 0) != sizeof(id))
		id = (uint16_t)(acm_mono_ms() ^ (uint64_t)getpid());
	int len = acm_soa_message(msg, sizeof(msg), id, ACM_OPCODE_QUERY, apex);
	if (len < 0)
		return len;
	/* connect: the kernel then drops datagrams from anyone else */
	int fd = socket(sa->sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int rc = ACM_OK;
	if (connect(fd, sa, salen) != 0 || send(fd, msg, (size_t)len, 0) != len)
		rc = -errno;
	acm_soa_reply_t reply;
	if (rc == ACM_OK)
		rc = await_reply(fd, id, apex, timeout_ms, &reply);
	close(fd);
	if (rc != ACM_OK)
		return rc;
	if (rcode)
		*rcode = reply.rcode;
	if (reply.rcode != 0 || !reply.has_serial)
		return ACM_ENOTFOUND;
	*serial = reply.serial;
	return ACM_OK;
}
