/* SPDX-License-Identifier: ISC */
/*
 * DNSSEC keys and signatures with OpenSSL: generating a key, its PEM form
 * (PKCS#8, the form the store keeps and Knot's keymgr import-pem reads),
 * its DNSKEY and DS rdata and key tag (RFC 4034, RFC 4509), and the RRSIG
 * over one RRset in canonical form (RFC 4034 3.1.8.1, 6.2, 6.3) for
 * ECDSA P-256/SHA-256 (RFC 6605) and Ed25519 (RFC 8080).
 *
 * A zone's keys are a small set with a state each; the set says which key
 * signs what (acm_dnssec_keyset_*). Nothing here logs and nothing keeps
 * private key bytes outside OpenSSL's objects and the PEM buffers it
 * hands out (which acm_dnssec_pem_free wipes).
 */
#ifndef ACM_DNS_DNSSEC_H
#define ACM_DNS_DNSSEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ACM_DNSSEC_ALG_ECDSAP256SHA256 13
#define ACM_DNSSEC_ALG_ED25519 15

#define ACM_DNSKEY_FLAGS_CSK 257         /* ZONE and SEP: one key signs all */
#define ACM_DNSKEY_PROTOCOL 3
#define ACM_DNSSEC_PUBKEY_MAX 64         /* P-256: x||y; Ed25519: 32 bytes */
#define ACM_DNSKEY_RDATA_MAX (4 + ACM_DNSSEC_PUBKEY_MAX)
#define ACM_DNSSEC_SIG_MAX 64            /* P-256: r||s; Ed25519: 64 bytes */
#define ACM_DS_DIGEST_SHA256 2
#define ACM_DS_RDATA_LEN (4 + 32)
/* RRSIG rdata before the signer's name: type covered, algorithm, labels,
 * original TTL, expiration, inception, key tag. */
#define ACM_RRSIG_FIXED 18

typedef struct acm_dnssec_key acm_dnssec_key_t;

/* "ecdsap256sha256" or "ed25519" (the configuration's and the CLI's names)
 * to the algorithm number: ACM_OK, or ACM_ECONFIG for any other name. */
int acm_dnssec_algorithm_parse(const char *name, uint8_t *alg);
/* The name of an algorithm number, or NULL when not one of ours. */
const char *acm_dnssec_algorithm_name(uint8_t alg);

/* A new key pair from OpenSSL's random generator. ACM_OK, ACM_ECONFIG
 * (not an algorithm of ours), ACM_ECRYPTO, -ENOMEM. */
int acm_dnssec_key_generate(uint8_t alg, acm_dnssec_key_t **out);
/* A key from its private PEM (PKCS#8 or the traditional EC form):
 * ACM_OK; ACM_ECRYPTO when it is no key of an algorithm of ours. */
int acm_dnssec_key_from_pem(const uint8_t *pem, size_t len, acm_dnssec_key_t **out);
/* The private key as PKCS#8 PEM, in *pem (*len bytes, NUL after them);
 * free with acm_dnssec_pem_free. ACM_OK, ACM_ECRYPTO, -ENOMEM. */
int acm_dnssec_key_to_pem(const acm_dnssec_key_t *key, uint8_t **pem, size_t *len);
void acm_dnssec_pem_free(uint8_t *pem, size_t len);
void acm_dnssec_key_free(acm_dnssec_key_t *key);

uint8_t acm_dnssec_key_algorithm(const acm_dnssec_key_t *key);
/* The key tag of its DNSKEY (flags 257), RFC 4034 appendix B. */
uint16_t acm_dnssec_key_tag(const acm_dnssec_key_t *key);
/* Its DNSKEY rdata: flags 257, protocol 3, algorithm, public key. */
const uint8_t *acm_dnssec_key_dnskey(const acm_dnssec_key_t *key, size_t *len);
/* Its DS rdata, SHA-256 (digest type 2), for the zone's apex (lower-case
 * wire name), into out (ACM_DS_RDATA_LEN bytes). ACM_OK or ACM_ECRYPTO. */
int acm_dnssec_key_ds(const acm_dnssec_key_t *key, const uint8_t *apex, size_t apex_len,
                      uint8_t out[ACM_DS_RDATA_LEN]);

/* DS rdata in presentation form, "TAG ALGORITHM DIGEST-TYPE DIGEST", the
 * digest in upper-case hex as zone files write it, NUL-terminated. */
#define ACM_DS_TEXT_MAX (5 + 1 + 3 + 1 + 3 + 1 + 2 * (ACM_DS_RDATA_LEN - 4) + 1)
void acm_dnssec_ds_text(const uint8_t ds[ACM_DS_RDATA_LEN], char out[ACM_DS_TEXT_MAX]);

/* What an RRSIG says besides its signature. */
typedef struct {
	uint16_t type;            /* type covered */
	uint8_t labels;           /* labels of the owner, root not counted */
	uint32_t ttl;             /* original TTL */
	uint32_t inception;       /* Unix seconds (serial arithmetic, RFC 4034 3.1.5) */
	uint32_t expiration;
	const uint8_t *signer;    /* the zone's apex, lower-case wire name */
	size_t signer_len;
} acm_rrsig_params_t;

/*
 * The RRSIG rdata of one RRset, signed by key, into out (cap bytes).
 * data[rrs_off..rrs_end) holds the RRset's RRs in canonical form and
 * order (owner lower case and uncompressed, class, the original TTL,
 * rdata with its names lower case, sorted by rdata); data[0..rrs_off) is
 * room the function uses for the RRSIG fields it signs first, and must be
 * at least ACM_RRSIG_FIXED + signer_len bytes. Returns the rdata length,
 * or 0 when out is too small or the signature failed.
 */
size_t acm_dnssec_rrsig(const acm_dnssec_key_t *key, const acm_rrsig_params_t *p,
                        uint8_t *data, size_t rrs_off, size_t rrs_end,
                        uint8_t *out, size_t cap);

/* ---- a zone's keys -------------------------------------------------- */

enum acm_dnssec_key_state {
	ACM_KEY_PUBLISHED = 1,   /* in the DNSKEY set (and signs it), signs nothing else yet */
	ACM_KEY_ACTIVE = 2,      /* in the DNSKEY set, signs every RRset */
	ACM_KEY_RETIRING = 3,    /* still in the DNSKEY set (and signs it), signs nothing else */
};

#define ACM_DNSSEC_KEYS_MAX 4

typedef struct {
	acm_dnssec_key_t *key;
	uint32_t id;              /* the store's number for it */
	uint8_t state;            /* enum acm_dnssec_key_state */
	uint64_t created;         /* Unix seconds */
	uint64_t changed;         /* when it entered its state */
} acm_dnssec_keyent_t;

typedef struct {
	size_t count;
	acm_dnssec_keyent_t keys[ACM_DNSSEC_KEYS_MAX];
} acm_dnssec_keyset_t;

/* The key that signs every RRset but DNSKEY, or NULL when none is active. */
const acm_dnssec_keyent_t *acm_dnssec_keyset_active(const acm_dnssec_keyset_t *ks);
/* The key the parent's DS should name (CDS/CDNSKEY): the published key
 * of a rollover under way, else the active one; NULL when there is none. */
const acm_dnssec_keyent_t *acm_dnssec_keyset_ds_key(const acm_dnssec_keyset_t *ks);
/* Free every key of the set and empty it. */
void acm_dnssec_keyset_clear(acm_dnssec_keyset_t *ks);
const char *acm_dnssec_key_state_name(uint8_t state);

#endif
