/* SPDX-License-Identifier: ISC */
/*
 * DNS protocol constants, in one place: header layout and flags, opcodes,
 * RCODEs, RR types and classes, EDNS (RFC 6891) and TSIG (RFC 8945)
 * values, and the tables that turn them into the mnemonics the RFCs use
 * (for metrics, logs, the lookup log and the command line). Nothing else
 * in the tree defines a DNS number.
 */
#ifndef ACM_DNS_CONSTS_H
#define ACM_DNS_CONSTS_H

#include <stdint.h>

/* ---- message header (RFC 1035 4.1.1) ---------------------------------- */

#define ACM_DNS_HEADER 12              /* bytes */
#define ACM_DNS_MSG_MAX 65535          /* a message over TCP: its length is 16 bits */
#define ACM_DNS_UDP_MIN 512            /* a UDP answer without EDNS */

/* Where the header's fields sit. */
#define ACM_DNS_ID_OFF 0
#define ACM_DNS_FLAGS_OFF 2
#define ACM_DNS_QDCOUNT_OFF 4
#define ACM_DNS_ANCOUNT_OFF 6
#define ACM_DNS_NSCOUNT_OFF 8
#define ACM_DNS_ARCOUNT_OFF 10

#define ACM_FLAG_QR 0x8000
#define ACM_FLAG_AA 0x0400
#define ACM_FLAG_TC 0x0200
#define ACM_FLAG_RD 0x0100
#define ACM_FLAG_RA 0x0080
#define ACM_FLAG_AD 0x0020
#define ACM_FLAG_CD 0x0010
#define ACM_OPCODE_MASK 0x7800         /* in the flags word */
#define ACM_OPCODE_SHIFT 11
#define ACM_RCODE_MASK 0x000F          /* the header's four bits of the RCODE */

/* The opcode of a flags word. */
#define ACM_DNS_OPCODE(flags) (((flags) & ACM_OPCODE_MASK) >> ACM_OPCODE_SHIFT)

#define ACM_OPCODE_QUERY 0
#define ACM_OPCODE_NOTIFY 4            /* RFC 1996 */
#define ACM_OPCODE_UPDATE 5            /* RFC 2136 */

enum acm_rcode {
	ACM_RCODE_NOERROR = 0,
	ACM_RCODE_FORMERR = 1,
	ACM_RCODE_SERVFAIL = 2,
	ACM_RCODE_NXDOMAIN = 3,
	ACM_RCODE_NOTIMP = 4,
	ACM_RCODE_REFUSED = 5,
	ACM_RCODE_YXDOMAIN = 6,   /* RFC 2136 2.2 */
	ACM_RCODE_YXRRSET = 7,
	ACM_RCODE_NXRRSET = 8,
	ACM_RCODE_NOTAUTH = 9,
	ACM_RCODE_NOTZONE = 10,
	ACM_RCODE_BADVERS = 16,   /* extended: needs OPT */
};

/* ---- resource records (RFC 1035 3.2, 4.1.3) --------------------------- */

#define ACM_SOA_FIELDS 20              /* SOA rdata after its two names */
#define ACM_RR_FIXED 10                /* type, class, TTL, rdlength after the owner */
#define ACM_DNS_PTR 0xC000             /* a compression pointer's top bits */
#define ACM_DNS_PTR_MAX 0x3FFF         /* the largest offset a pointer holds */
#define ACM_DNS_QNAME_PTR (ACM_DNS_PTR | ACM_DNS_HEADER)   /* the question name */
/* An RR owned by a compression pointer: pointer, then the fixed fields. */
#define ACM_RR_PTR_HEAD (2 + ACM_RR_FIXED)

#define ACM_RRTYPE_A 1
#define ACM_RRTYPE_NS 2
#define ACM_RRTYPE_CNAME 5
#define ACM_RRTYPE_SOA 6
#define ACM_RRTYPE_PTR 12
#define ACM_RRTYPE_MX 15
#define ACM_RRTYPE_TXT 16
#define ACM_RRTYPE_AAAA 28
#define ACM_RRTYPE_SRV 33
#define ACM_RRTYPE_OPT 41
#define ACM_RRTYPE_DS 43
#define ACM_RRTYPE_RRSIG 46
#define ACM_RRTYPE_NSEC 47
#define ACM_RRTYPE_DNSKEY 48
#define ACM_RRTYPE_CDS 59
#define ACM_RRTYPE_CDNSKEY 60
#define ACM_RRTYPE_NXNAME 128   /* RFC 9824: in an NSEC bitmap, the name does not exist */
#define ACM_RRTYPE_TSIG 250
#define ACM_RRTYPE_IXFR 251
#define ACM_RRTYPE_AXFR 252
#define ACM_RRTYPE_MAILB 253
#define ACM_RRTYPE_MAILA 254
#define ACM_RRTYPE_ANY 255
#define ACM_RRTYPE_CAA 257

#define ACM_CLASS_IN 1
#define ACM_CLASS_NONE 254             /* RFC 2136 */
#define ACM_CLASS_ANY 255

/* ---- EDNS (RFC 6891) --------------------------------------------------- */

#define ACM_EDNS_DO 0x8000             /* in the OPT TTL's flags half */
#define ACM_EDNS_OPT_LEN 11            /* an OPT RR without options: root, fixed part */
#define ACM_EDNS_OPTION_HEAD 4         /* option code, option length */

/* ---- TSIG (RFC 8945) --------------------------------------------------- */

#define ACM_TSIG_FUDGE 300             /* seconds, RFC 8945 recommendation */

/* TSIG errors (RFC 8945 5.2), carried in the TSIG RR's error field and,
 * for a request that fails verification, with RCODE NOTAUTH. */
enum acm_tsig_error {
	ACM_TSIG_OK = 0,
	ACM_TSIG_BADSIG = 16,
	ACM_TSIG_BADKEY = 17,
	ACM_TSIG_BADTIME = 18,
	ACM_TSIG_BADTRUNC = 22,
};

/* ---- names ------------------------------------------------------------- */

#define ACM_DNS_MNEMONIC_MAX 16        /* "TYPE65535", "RCODE4095" and NUL fit */

/*
 * The mnemonic of an RCODE ("NOERROR", ..., "NOTZONE", "BADVERS"). For a
 * value without one: "RCODE<n>" written to buf (ACM_DNS_MNEMONIC_MAX
 * bytes) and returned, or NULL when buf is NULL.
 */
const char *acm_dns_rcode_name(int rcode, char *buf);

/*
 * The mnemonic of an RR type as zone files write it ("A", "TXT", "CAA",
 * ...). For a type without one: "TYPE<n>" (RFC 3597) written to buf
 * (ACM_DNS_MNEMONIC_MAX bytes) and returned, or NULL when buf is NULL.
 */
const char *acm_dns_type_name(uint16_t type, char *buf);

/* The name of a TSIG error ("NOERROR", "BADSIG", "BADKEY", "BADTIME",
 * ...), or NULL for a value RFC 8945 does not define. */
const char *acm_dns_tsig_error_name(int error);

#endif
