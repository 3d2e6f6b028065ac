/* SPDX-License-Identifier: ISC */
/* CIDR parsing and matching, and acme-dns's allowfrom rule. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cidr.h"
#include "lib/error.h"

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

int acm_cidr_parse(const char *text, acm_cidr_t *out)
{
	char buf[64];
	size_t len = strlen(text);
	if (len == 0 || len >= sizeof(buf))
		return ACM_EMALF;
	memcpy(buf, text, len + 1);
	char *slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, buf, out->addr) == 1) {
		out->family = AF_INET;
		out->prefix = 32;
	} else if (inet_pton(AF_INET6, buf, out->addr) == 1) {
		out->family = AF_INET6;
		out->prefix = 128;
	} else {
		return ACM_EMALF;
	}
	if (slash) {
		char *end;
		const char *digits = slash + 1;
		if (*digits < '0' || *digits > '9')
			return ACM_EMALF;
		unsigned long p = strtoul(digits, &end, 10);
		if (*end != '\0' || p > out->prefix || (digits[0] == '0' && digits[1] != '\0'))
			return ACM_EMALF;
		out->prefix = (unsigned)p;
	}
	uint8_t masked[16];
	memcpy(masked, out->addr, sizeof(masked));
	unsigned bytes = out->family == AF_INET ? 4 : 16;
	for (unsigned bit = out->prefix; bit < bytes * 8; bit++)
		masked[bit / 8] &= (uint8_t)~(0x80 >> (bit % 8));
	if (memcmp(masked, out->addr, bytes) != 0)
		return ACM_EMALF;
	return ACM_OK;
}

bool acm_cidr_match(const acm_cidr_t *cidr, const struct sockaddr *sa)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF };
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		return cidr->family == AF_INET &&
		       prefix_equal((const uint8_t *)&in->sin_addr, cidr->addr, cidr->prefix);
	}
	if (sa->sa_family != AF_INET6)
		return false;
	const uint8_t *a6 = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
	if (cidr->family == AF_INET6)
		return prefix_equal(a6, cidr->addr, cidr->prefix);
	return memcmp(a6, mapped, 12) == 0 && prefix_equal(a6 + 12, cidr->addr, cidr->prefix);
}

/* ---- allowfrom --------------------------------------------------------- */

/* Go's net.ParseCIDR on text that has its '/' at slash. */
static int parse_go_cidr(const char *text, const char *slash, acm_cidr_t *out)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF };
	char addr[ACM_CIDR_MAX + 1];
	size_t alen = (size_t)(slash - text);
	unsigned long prefix = 0;
	const char *d = slash + 1;

	if (alen == 0 || alen >= sizeof(addr))
		return ACM_EMALF;
	memcpy(addr, text, alen);
	addr[alen] = '\0';
	if (acm_cidr_parse(addr, out) != ACM_OK)     /* a bare address: full length */
		return ACM_EMALF;
	if (*d == '\0')
		return ACM_EMALF;
	for (; *d; d++) {
		if (*d < '0' || *d > '9')
			return ACM_EMALF;
		prefix = prefix * 10 + (unsigned long)(*d - '0');
		if (prefix > out->prefix)
			return ACM_EMALF;
	}
	out->prefix = (unsigned)prefix;
	/* Go's IPNet.Contains compares an IPv4-mapped network with IPv4
	 * addresses only, on the last 32 bits of its mask. */
	if (out->family == AF_INET6 && memcmp(out->addr, mapped, 12) == 0) {
		out->family = AF_INET;
		memmove(out->addr, out->addr + 12, 4);
		memset(out->addr + 4, 0, 12);
		out->prefix = out->prefix > 96 ? out->prefix - 96 : 0;
	}
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
