/* SPDX-License-Identifier: ISC */
/* Address ranges in CIDR notation (allowfrom lists, transfer ACLs, trusted
 * proxies), and allowfrom entries as acme-dns accepts them, all with the
 * meaning of Go's net.ParseCIDR and IPNet.Contains (see cidr.c). */
#ifndef ACM_CIDR_H
#define ACM_CIDR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

/* The longest CIDR text kept (an allowfrom entry of an account record). */
#define ACM_CIDR_MAX 50

/* A network as Go's IPNet sees it: an IPv6 network that is still
 * ::ffff:a.b.c.d after masking is kept as IPv4 (prefix less 96). */
typedef struct {
	int family;          /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	unsigned prefix;     /* bits */
} acm_cidr_t;

/* Parse "192.0.2.0/24", "2001:db8::/32", or a bare address (full length).
 * Host bits beyond the prefix must be zero; the prefix is decimal without
 * leading zeros, at most the address's own length (128 for
 * ::ffff:a.b.c.d). ACM_OK or ACM_EMALF. */
int acm_cidr_parse(const char *text, acm_cidr_t *out);

/* Does the address fall inside the range? As Go's IPNet.Contains: an IPv4
 * or IPv4-mapped IPv6 address is compared as IPv4 with IPv4 ranges only;
 * any other IPv6 address with IPv6 ranges only (so ::/0 admits no IPv4
 * client, and 0.0.0.0/0 no IPv6 one). */
bool acm_cidr_match(const acm_cidr_t *cidr, const struct sockaddr *sa);

/*
 * An allowfrom entry as acme-dns takes it at registration: '[' and ']'
 * removed anywhere, then Go's net.ParseCIDR (a '/' and a prefix are
 * required; host bits may be set and are masked off, in the address's own
 * length, 128 bits for ::ffff:a.b.c.d; the prefix may have leading zeros;
 * no zone; IPv4 without leading zeros).
 * clean gets the entry as it is stored and echoed. ACM_OK, ACM_EMALF, or
 * ACM_ERANGE when the entry does not fit an account record.
 */
int acm_allowfrom_parse(const char *text, size_t len, char clean[ACM_CIDR_MAX + 1],
                        acm_cidr_t *out);

/* A stored allowfrom entry for matching: the registration rule, or a bare
 * address (as acmensctl stores it). */
int acm_allowfrom_entry(const char *stored, acm_cidr_t *out);

/* The address of sa (AF_INET or AF_INET6) as text, for logs: buf, holding
 * "?" for another family or NULL. */
const char *acm_addr_text(const struct sockaddr *sa, char *buf, size_t len);

#endif
