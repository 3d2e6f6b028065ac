/* SPDX-License-Identifier: ISC */
/* Address ranges in CIDR notation (allowfrom lists, transfer ACLs). */
#ifndef ACM_CIDR_H
#define ACM_CIDR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

typedef struct {
	int family;          /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	unsigned prefix;     /* bits */
} acm_cidr_t;

/* Parse "192.0.2.0/24", "2001:db8::/32", or a bare address (full length).
 * Host bits beyond the prefix must be zero. ACM_OK or ACM_EMALF. */
int acm_cidr_parse(const char *text, acm_cidr_t *out);

/* Does the address fall inside the range? IPv4-mapped IPv6 addresses match
 * IPv4 ranges. */
bool acm_cidr_match(const acm_cidr_t *cidr, const struct sockaddr *sa);

#endif
