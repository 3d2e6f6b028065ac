/* SPDX-License-Identifier: ISC */
/*
 * What a name in the zone is, and the names of an account. The one place
 * that knows that an account <label> owns <label>.<apex> (its own name,
 * its fulldomain and the name of its TSIG key) and
 * _acme-challenge.<label>.<apex>, where a client certifying the account's
 * own name writes its challenge (certbot for a name of this zone). The DNS
 * answer, UPDATE, the key lookup, the store, the API and acmensctl all ask
 * here. Nothing here allocates: the answer path classifies every query.
 */
#ifndef ACM_DNS_ZONE_NAMES_H
#define ACM_DNS_ZONE_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/dns/dname.h"

#define ACM_CHALLENGE_LABEL "_acme-challenge"
/* "_acme-challenge.<label>", the longest name of TXT values, without NUL */
#define ACM_TXT_NAME_MAX (sizeof(ACM_CHALLENGE_LABEL) + ACM_LABEL_MAX)
/* The label in wire form, as it leads a challenge name's owner. */
#define ACM_CHALLENGE_WIRE "\x0f" ACM_CHALLENGE_LABEL
#define ACM_CHALLENGE_WIRE_LEN (sizeof(ACM_CHALLENGE_WIRE) - 1)
/* "<label>.<zone without its final dot>", with NUL */
#define ACM_FULLDOMAIN_MAX (ACM_LABEL_MAX + 1 + ACM_DNAME_TXT_MAX)

struct acm_node;

typedef enum {
	ACM_ZNAME_OUTSIDE,      /* not at or below the apex */
	ACM_ZNAME_APEX,         /* the apex itself */
	ACM_ZNAME_STATIC,       /* below the apex, a node of static records */
	ACM_ZNAME_ACCOUNT,      /* <label>.<apex>: an account's own name */
	ACM_ZNAME_CHALLENGE,    /* _acme-challenge.<label>.<apex> */
	ACM_ZNAME_OTHER,        /* below the apex, where no data can be */
} acm_zname_kind_t;

typedef struct {
	acm_zname_kind_t kind;
	int depth;                      /* labels above the apex; -1 outside */
	const struct acm_node *node;    /* the static node, if the name has one */
	const uint8_t *label;           /* ACCOUNT, CHALLENGE: the account's label
	                                   inside the name, length byte first */
} acm_zname_t;

/* Whether data of accounts (TXT values in the store) can live at a name
 * of this kind. */
static inline bool acm_zname_in_store(acm_zname_kind_t kind)
{
	return kind == ACM_ZNAME_ACCOUNT || kind == ACM_ZNAME_CHALLENGE;
}

/*
 * What the valid uncompressed wire name is by its shape alone, relative to
 * apex: OUTSIDE, APEX, ACCOUNT, CHALLENGE or OTHER (the apex is matched
 * case-insensitively, the challenge label only in lower case, as names are
 * folded before they are looked up);
 * out->node is NULL. The account's label is not checked (a name no account
 * can have finds nothing in the store); acm_zname_label checks it.
 */
void acm_zname_shape(const uint8_t *name, const uint8_t *apex, acm_zname_t *out);
/* The same with the lengths of name and apex already known, for a name
 * already lower case like the apex (the query path has all three), whose
 * apex is then compared byte for byte. */
void acm_zname_shape_len(const uint8_t *name, size_t len, const uint8_t *apex, size_t apex_len,
                         acm_zname_t *out);


/*
 * The account label of an ACCOUNT or CHALLENGE name as a C string in out
 * (ACM_LABEL_MAX + 1 bytes). Returns ACM_OK, or ACM_EBADNAME when the
 * label is not one an account can have (acm_label_check) or n is of
 * another kind.
 */
int acm_zname_label(const acm_zname_t *n, char *out);

/*
 * The account name <label>.<apex> in out (ACM_DNAME_MAX bytes), lower case:
 * an account's own name and the name of its TSIG key. label is lower-cased
 * (ASCII) and checked with acm_label_check. Returns the wire length, or
 * ACM_EBADNAME (empty, not a label an account can have, too long).
 */
int acm_zname_account(const char *label, const uint8_t *apex, uint8_t *out);

/*
 * The challenge name _acme-challenge.<own> of the account name own (wire,
 * own_len bytes) in out (ACM_DNAME_MAX bytes). Returns the wire length, or
 * ACM_EBADNAME when it would be longer than a name may be.
 */
int acm_zname_challenge(const uint8_t *own, size_t own_len, uint8_t *out);

/*
 * The name of TXT values as the API and the store take it: "<label>", or
 * "_acme-challenge.<label>" for the challenge name. Sets *label to the
 * account label part and *challenge to which of the two it is.
 */
void acm_zname_txt_split(const char *name, const char **label, bool *challenge);

/* That name for the account label and challenge flag, in out
 * (ACM_TXT_NAME_MAX + 1 bytes). */
void acm_zname_txt_join(const char *label, bool challenge, char *out);

/*
 * The zone's name as acme-dns prints it: text without the final dot ("."
 * for the root), in out (ACM_DNAME_TXT_MAX bytes). Returns ACM_OK or
 * ACM_EBADNAME for an invalid apex.
 */
int acm_zname_zone_text(const uint8_t *apex, char *out);

/* An account's fulldomain "<label>.<zone_text>" (zone_text as
 * acm_zname_zone_text makes it) in out (ACM_FULLDOMAIN_MAX bytes). */
void acm_zname_fulldomain(const char *zone_text, const char *label, char *out, size_t outlen);

#endif
