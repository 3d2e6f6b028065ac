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
#include "lib/dname.h"
#include "lib/error.h"
#include "lib/soa_probe.h"
#include "lib/wire.h"

#define FLAG_QR 0x8000
#define FLAG_AA 0x0400
#define TYPE_SOA 6
#define CLASS_IN 1

int acm_soa_message(uint8_t *buf, size_t cap, uint16_t id, int opcode, const uint8_t *apex)
{
	acm_wire_t w = acm_wire_init(buf, cap);
	uint16_t flags = (uint16_t)((opcode & 0xF) << 11);
	if (opcode == ACM_OPCODE_NOTIFY)
		flags |= FLAG_AA;   /* RFC 1996 3.7: a NOTIFY comes from authority */
	acm_wire_write_u16(&w, id);
	acm_wire_write_u16(&w, flags);
	acm_wire_write_u16(&w, 1);
	acm_wire_write_u16(&w, 0);
	acm_wire_write_u16(&w, 0);
	acm_wire_write_u16(&w, 0);
	acm_wire_write(&w, apex, acm_dname_len(apex));
	acm_wire_write_u16(&w, TYPE_SOA);
	acm_wire_write_u16(&w, CLASS_IN);
	return w.err ? w.err : (int)w.pos;
}

/* The serial inside SOA rdata at pos: after two possibly compressed names. */
static bool soa_serial(const uint8_t *msg, size_t len, size_t pos, size_t end, uint32_t *serial)
{
	uint8_t name[ACM_DNAME_MAX];
	if (acm_dname_parse(msg, len, &pos, name) < 0 || acm_dname_parse(msg, len, &pos, name) < 0)
		return false;
	if (pos + 20 > end)
		return false;
	*serial = acm_get_u32(msg + pos);
	return true;
}

/* One resource record at *pos; notes the apex SOA when in the answer. */
static bool read_rr(const uint8_t *msg, size_t len, size_t *pos, bool answer,
                    const uint8_t *apex, acm_soa_reply_t *out)
{
	uint8_t owner[ACM_DNAME_MAX];
	if (acm_dname_parse(msg, len, pos, owner) < 0 || len - *pos < 10)
		return false;
	uint16_t type = acm_get_u16(msg + *pos);
	size_t rdlen = acm_get_u16(msg + *pos + 8);
	*pos += 10;
	if (len - *pos < rdlen)
		return false;
	if (answer && type == TYPE_SOA && !out->has_serial && acm_dname_equal(owner, apex)) {
		if (!soa_serial(msg, len, *pos, *pos + rdlen, &out->serial))
			return false;
		out->has_serial = true;
	}
	*pos += rdlen;
	return true;
}

int acm_soa_reply_parse(const uint8_t *msg, size_t len, const uint8_t *apex,
                        acm_soa_reply_t *out)
{
	memset(out, 0, sizeof(*out));
	if (len < 12)
		return ACM_EMALF;
	uint16_t flags = acm_get_u16(msg + 2);
	if (!(flags & FLAG_QR))
		return ACM_EMALF;
	out->id = acm_get_u16(msg);
	out->opcode = (flags >> 11) & 0xF;
	out->rcode = flags & 0xF;
	unsigned qd = acm_get_u16(msg + 4), an = acm_get_u16(msg + 6);
	unsigned ns = acm_get_u16(msg + 8), ar = acm_get_u16(msg + 10);
	size_t pos = 12;
	for (unsigned i = 0; i < qd; i++) {
		uint8_t name[ACM_DNAME_MAX];
		if (acm_dname_parse(msg, len, &pos, name) < 0 || len - pos < 4)
			return ACM_EMALF;
		pos += 4;
	}
	for (unsigned i = 0; i < an + ns + ar; i++) {
		if (i >= an + ns) {
			out->has_additional = true;
			out->last_rr_offset = pos;
		}
		if (!read_rr(msg, len, &pos, i < an, apex, out))
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
