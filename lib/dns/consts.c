/* SPDX-License-Identifier: ISC */
/*
 * The mnemonic tables behind lib/dns/consts.h. Type names are those of the
 * IANA registry as zone files (and ldns, and dig) write them, so the
 * lookup log, metrics and exports name a type the same way.
 */
#include <stddef.h>
#include <stdio.h>

#include "lib/dns/consts.h"

#define LEN(a) (sizeof(a) / sizeof((a)[0]))

static const char *const rcode_names[] = {
	[ACM_RCODE_NOERROR] = "NOERROR", [ACM_RCODE_FORMERR] = "FORMERR",
	[ACM_RCODE_SERVFAIL] = "SERVFAIL", [ACM_RCODE_NXDOMAIN] = "NXDOMAIN",
	[ACM_RCODE_NOTIMP] = "NOTIMP", [ACM_RCODE_REFUSED] = "REFUSED",
	[ACM_RCODE_YXDOMAIN] = "YXDOMAIN", [ACM_RCODE_YXRRSET] = "YXRRSET",
	[ACM_RCODE_NXRRSET] = "NXRRSET", [ACM_RCODE_NOTAUTH] = "NOTAUTH",
	[ACM_RCODE_NOTZONE] = "NOTZONE", [ACM_RCODE_BADVERS] = "BADVERS",
};

static const char *const tsig_error_names[] = {
	[ACM_TSIG_OK] = "NOERROR", [ACM_TSIG_BADSIG] = "BADSIG", [ACM_TSIG_BADKEY] = "BADKEY",
	[ACM_TSIG_BADTIME] = "BADTIME", [19] = "BADMODE", [20] = "BADNAME", [21] = "BADALG",
	[ACM_TSIG_BADTRUNC] = "BADTRUNC",
};

/* Sorted by type, for a binary search. */
static const struct {
	uint16_t type;
	const char *name;
} type_names[] = {
	{ 1, "A" },
	{ 2, "NS" },
	{ 3, "MD" },
	{ 4, "MF" },
	{ 5, "CNAME" },
	{ 6, "SOA" },
	{ 7, "MB" },
	{ 8, "MG" },
	{ 9, "MR" },
	{ 10, "NULL" },
	{ 11, "WKS" },
	{ 12, "PTR" },
	{ 13, "HINFO" },
	{ 14, "MINFO" },
	{ 15, "MX" },
	{ 16, "TXT" },
	{ 17, "RP" },
	{ 18, "AFSDB" },
	{ 19, "X25" },
	{ 20, "ISDN" },
	{ 21, "RT" },
	{ 22, "NSAP" },
	{ 23, "NSAP-PTR" },
	{ 24, "SIG" },
	{ 25, "KEY" },
	{ 26, "PX" },
	{ 27, "GPOS" },
	{ 28, "AAAA" },
	{ 29, "LOC" },
	{ 30, "NXT" },
	{ 31, "EID" },
	{ 32, "NIMLOC" },
	{ 33, "SRV" },
	{ 34, "ATMA" },
	{ 35, "NAPTR" },
	{ 36, "KX" },
	{ 37, "CERT" },
	{ 38, "A6" },
	{ 39, "DNAME" },
	{ 40, "SINK" },
	{ 41, "OPT" },
	{ 42, "APL" },
	{ 43, "DS" },
	{ 44, "SSHFP" },
	{ 45, "IPSECKEY" },
	{ 46, "RRSIG" },
	{ 47, "NSEC" },
	{ 48, "DNSKEY" },
	{ 49, "DHCID" },
	{ 50, "NSEC3" },
	{ 51, "NSEC3PARAM" },
	{ 52, "TLSA" },
	{ 53, "SMIMEA" },
	{ 55, "HIP" },
	{ 58, "TALINK" },
	{ 59, "CDS" },
	{ 60, "CDNSKEY" },
	{ 61, "OPENPGPKEY" },
	{ 62, "CSYNC" },
	{ 63, "ZONEMD" },
	{ 64, "SVCB" },
	{ 65, "HTTPS" },
	{ 99, "SPF" },
	{ 104, "NID" },
	{ 105, "L32" },
	{ 106, "L64" },
	{ 107, "LP" },
	{ 108, "EUI48" },
	{ 109, "EUI64" },
	{ 249, "TKEY" },
	{ 250, "TSIG" },
	{ 251, "IXFR" },
	{ 252, "AXFR" },
	{ 253, "MAILB" },
	{ 254, "MAILA" },
	{ 255, "ANY" },
	{ 256, "URI" },
	{ 257, "CAA" },
	{ 32769, "DLV" },
};

const char *acm_dns_rcode_name(int rcode, char *buf)
{
	if (rcode >= 0 && (size_t)rcode < LEN(rcode_names) && rcode_names[rcode])
		return rcode_names[rcode];
	if (!buf)
		return NULL;
	snprintf(buf, ACM_DNS_MNEMONIC_MAX, "RCODE%d", rcode);
	return buf;
}

const char *acm_dns_type_name(uint16_t type, char *buf)
{
	size_t lo = 0, hi = LEN(type_names);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (type_names[mid].type == type)
			return type_names[mid].name;
		if (type_names[mid].type < type)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!buf)
		return NULL;
	snprintf(buf, ACM_DNS_MNEMONIC_MAX, "TYPE%u", (unsigned)type);
	return buf;
}

const char *acm_dns_tsig_error_name(int error)
{
	if (error >= 0 && (size_t)error < LEN(tsig_error_names))
		return tsig_error_names[error];
	return NULL;
}
