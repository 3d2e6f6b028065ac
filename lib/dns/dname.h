/* SPDX-License-Identifier: ISC */
/*
 * Domain names in wire form: text conversion, case folding, comparison,
 * and parsing out of a DNS message with compression pointers, always checked
 * against an end pointer.
 */
#ifndef ACM_DNAME_H
#define ACM_DNAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ACM_DNAME_MAX 255   /* wire length, including the root label */
#define ACM_LABEL_MAX 63
#define ACM_DNAME_TXT_MAX 1024 /* enough for any name in \DDD escaped text */

/*
 * Parse a name from text ("a.example.org." or "a.example.org"; both are
 * taken as absolute; "." is the root; \DDD and \X escapes allowed).
 * Writes the wire form to out (at least ACM_DNAME_MAX bytes).
 * Returns the wire length (> 0), or ACM_EBADNAME.
 */
int acm_dname_from_text(const char *text, uint8_t *out);

/*
 * Write a name as text with a trailing dot; unprintable bytes and dots in
 * labels are escaped. out must hold ACM_DNAME_TXT_MAX bytes.
 * Returns the text length, or ACM_EBADNAME for invalid wire.
 */
int acm_dname_to_text(const uint8_t *wire, char *out);

/* Length of a valid uncompressed wire name, including the root label. */
size_t acm_dname_len(const uint8_t *wire);

/* Fold ASCII upper case to lower case in place. */
void acm_dname_lower(uint8_t *wire);
/* A hash of len bytes of a name (lower-cased by the caller when case must
 * not matter), for the tables that find names: 64 bits at a time. */
uint32_t acm_dname_hash(const uint8_t *p, size_t len);

/* Case-insensitive equality of two valid uncompressed names. */
bool acm_dname_equal(const uint8_t *a, const uint8_t *b);

/*
 * If name is apex or below it (case-insensitive), returns the number of
 * labels name has above apex (0 for the apex itself); otherwise -1.
 */
int acm_dname_under(const uint8_t *name, const uint8_t *apex);

/*
 * Read a possibly compressed name from msg[0..msglen) starting at *pos.
 * Writes the uncompressed wire name to out (ACM_DNAME_MAX bytes) and moves
 * *pos past the name as it stands at *pos. Pointers must point strictly
 * backwards, which rules out loops. Returns the wire length, or ACM_EMALF.
 */
int acm_dname_parse(const uint8_t *msg, size_t msglen, size_t *pos, uint8_t *out);
/* The same, and (lower not NULL) the name lower-cased into lower in the
 * same pass, for the query path. */
int acm_dname_parse_lower(const uint8_t *msg, size_t msglen, size_t *pos, uint8_t *out,
                          uint8_t *lower);

/*
 * Check a label as a subdomain label for accounts: 1..63 bytes of
 * [a-z0-9-] (upper case folded by the caller), not starting or ending
 * with '-'. Returns ACM_OK or ACM_EBADNAME.
 */
int acm_label_check(const char *label, size_t len);

#endif
