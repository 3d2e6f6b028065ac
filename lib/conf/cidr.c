/* SPDX-License-Identifier: ISC */
/*
 * CIDR parsing and matching with the meaning Go's net package gives them
 * (acme-dns checks allowfrom with net.ParseCIDR and IPNet.Contains, and an
 * account imported from it must admit exactly the clients it admitted
 * there), and acme-dns's allowfrom rule.
 *
 * Go masks the address with the prefix in the address's own length: 32
 * bits for a.b.c.d, 128 for every IPv6 form, ::ffff:a.b.c.d included. Only
 * a network that is still ::ffff:a.b.c.d after the mask (a prefix of 96 or
 * more) is an IPv4 network; ::ffff:10.0.0.0/8 is the IPv6 network ::/8.
 * A client that is IPv4, or IPv4-mapped IPv6, is compared as IPv4 and only
 * with IPv4 networks; any other IPv6 client only with IPv6 networks.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/conf/cidr.h"
#include "lib/error.h"

static const uint8_t v4_mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF };

static bool prefix_equal(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned whole = bits / 8, rest = bits % 8;
	if (memcmp(a, b, whole) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xFF << (8 - rest));
	return (a[whole] & mask) == (b[whole] & mask);
}

/* Clear the bits past the prefix (Go's IP.Mask); false if any was set. */
static bool mask_host_bits(acm_cidr_t *c)
{
	unsigned bits = c->family == AF_INET ? 32 : 128;
	bool clean = true;

	for (unsigned bit = c->prefix; bit < bits; bit++) {
		uint8_t m = (uint8_t)(0x80 >> (bit % 8));
		if (c->addr[bit / 8] & m)
			clean = false;
		c->addr[bit / 8] &= (uint8_t)~m;
	}
	return clean;
}

/* A masked IPv6 network that is still ::ffff:a.b.c.d is IPv4 (Go's
 * networkNumberAndMask: To4 of the network, the mask's last 32 bits). */
static void fold_v4_mapped(acm_cidr_t *c)
{
	if (c->family != AF_INET6 || c->prefix < 96 || memcmp(c->addr, v4_mapped, 12) != 0)
		return;
	c->family = AF_INET;
	memmove(c->addr, c->addr + 12, 4);
	memset(c->addr + 4, 0, 12);
	c->prefix -= 96;
}

/* An address as inet_pton reads it (no zone, no leading zeros in IPv4, as
 * Go 1.17 and later): family and full-length prefix. */
static int parse_addr(const char *text, acm_cidr_t *out)
{
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, text, out->addr) == 1) {
		out->family = AF_INET;
		out->prefix = 32;
	} else if (inet_pton(AF_INET6, text, out->addr) == 1) {
		out->family = AF_INET6;
		out->prefix = 128;
	} else {
		return ACM_EMALF;
	}
	return ACM_OK;
}

/* The address before slash (or the whole text) into out. */
static int parse_addr_part(const char *text, const char *slash, acm_cidr_t *out)
{
	char addr[ACM_CIDR_MAX + 1];
	size_t alen = slash ? (size_t)(slash - text) : strlen(text);

	if (alen == 0 || alen >= sizeof(addr))
		return ACM_EMALF;
	memcpy(addr, text, alen);
	addr[alen] = '\0';
	return parse_addr(addr, out);
}

int acm_cidr_parse(const char *text, acm_cidr_t *out)
{
	const char *slash = strchr(text, '/');
	const char *d;
	char *end;
	unsigned long p;

	if (parse_addr_part(text, slash, out) != ACM_OK)
		return ACM_EMALF;
	if (slash) {
		d = slash + 1;
		if (*d < '0' || *d > '9' || (d[0] == '0' && d[1] != '\0'))
			return ACM_EMALF;
		p = strtoul(d, &end, 10);
		if (*end != '\0' || p > out->prefix)
			return ACM_EMALF;
		out->prefix = (unsigned)p;
	}
	if (!mask_host_bits(out))
		return ACM_EMALF;
	fold_v4_mapped(out);
	return ACM_OK;
}

bool acm_cidr_match(const acm_cidr_t *cidr, const struct sockaddr *sa)
{
	const uint8_t *a;

	if (sa->sa_family == AF_INET) {
		a = (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr;
		return cidr->family == AF_INET && prefix_equal(a, cidr->addr, cidr->prefix);
	}
	if (sa->sa_family != AF_INET6)
		return false;
	a = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
	if (memcmp(a, v4_mapped, 12) == 0)    /* Go's To4: compared as IPv4 */
		return cidr->family == AF_INET && prefix_equal(a + 12, cidr->addr, cidr->prefix);
	return cidr->family == AF_INET6 && prefix_equal(a, cidr->addr, cidr->prefix);
}

/* ---- allowfrom --------------------------------------------------------- */

/* Go's net.ParseCIDR on text that has its first '/' at slash: the prefix
 * is decimal digits (leading zeros allowed, as Go's dtoi reads them) up to
 * the address's length; host bits are masked off. */
static int parse_go_cidr(const char *text, const char *slash, acm_cidr_t *out)
{
	unsigned long prefix = 0;
	const char *d = slash + 1;

	if (parse_addr_part(text, slash, out) != ACM_OK || *d == '\0')
		return ACM_EMALF;
	for (; *d; d++) {
		if (*d < '0' || *d > '9')
			return ACM_EMALF;
		prefix = prefix * 10 + (unsigned long)(*d - '0');
		if (prefix > out->prefix)
			return ACM_EMALF;
	}
	out->prefix = (unsigned)prefix;
	(void)mask_host_bits(out);
	fold_v4_mapped(out);
	return ACM_OK;
}

int acm_allowfrom_parse(const char *text, size_t len, char clean[ACM_CIDR_MAX + 1],
                        acm_cidr_t *out)
{
	size_t n = 0;
	const char *slash;

	for (size_t i = 0; i < len; i++) {
		if (text[i] == '[' || text[i] == ']')
			continue;
		if (text[i] == '\0')
			return ACM_EMALF;
		if (n == ACM_CIDR_MAX)
			return ACM_ERANGE;
		clean[n++] = text[i];
	}
	clean[n] = '\0';
	if (!(slash = strchr(clean, '/')))
		return ACM_EMALF;
	return parse_go_cidr(clean, slash, out);
}

int acm_allowfrom_entry(const char *stored, acm_cidr_t *out)
{
	const char *slash = strchr(stored, '/');

	return slash ? parse_go_cidr(stored, slash, out) : acm_cidr_parse(stored, out);
}

const char *acm_addr_text(const struct sockaddr *sa, char *buf, size_t len)
{
	const void *addr = NULL;
	if (sa && sa->sa_family == AF_INET)
		addr = &((const struct sockaddr_in *)sa)->sin_addr;
	else if (sa && sa->sa_family == AF_INET6)
		addr = &((const struct sockaddr_in6 *)sa)->sin6_addr;
	if (!addr || !inet_ntop(sa->sa_family, addr, buf, (socklen_t)len))
		snprintf(buf, len, "?");
	return buf;
}
