/* SPDX-License-Identifier: ISC */
/*
 * The rrset record codec: the format of the values in the store's rrsets
 * database, read in place by the DNS path and rewritten by the store.
 * Pure byte handling; no LMDB, no allocation, no logging.
 *
 * rrset record: u8 version (1), u8 count, then count entries of
 *   u64 set_time BE, u64 expires BE (0 = never), u16 rdlen BE, rdata
 * where rdata is the TXT rdata: one <character-string> per value.
 * A registered account always has an rrset record, possibly with count 0,
 * so the DNS side answers NODATA rather than NXDOMAIN for it.
 *
 * Functions return ACM_OK or a negative code from lib/error.h unless said
 * otherwise.
 */
#ifndef ACM_RRSET_H
#define ACM_RRSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ACM_TXT_MAX 255            /* bytes in one TXT value */
#define ACM_RR_COUNT_MAX 255       /* entries in one record: the count is a byte */

/* Check a TXT value: 1..255 bytes of printable ASCII. ACM_OK or ACM_EBADVALUE. */
int acm_txt_check(const char *value, size_t len);

/* ---- rrset record decoding ------------------------------------------- */

typedef struct {
	uint64_t set_time;
	uint64_t expires;
	const uint8_t *rdata;
	uint16_t rdlen;
} acm_rr_entry_t;

typedef struct {
	const uint8_t *p;
	const uint8_t *end;
	unsigned left;
} acm_rr_iter_t;

/* Start iterating a record; ACM_ECORRUPT if the header is bad. */
int acm_rr_iter_init(acm_rr_iter_t *it, const uint8_t *rec, size_t len);
/* 1 and *e filled, 0 at the end, ACM_ECORRUPT on a bad entry (a count that
 * disagrees with the length, or rdata that is not TXT character-strings). */
int acm_rr_iter_next(acm_rr_iter_t *it, acm_rr_entry_t *e);

/* ---- the in-memory TXT set (the store's side of the codec) ------------ */

/*
 * The decoded form of a record the store itself wrote: exactly one
 * character-string per entry. Room for any record, whatever the store's
 * limit on values was when it was written.
 */
typedef struct {
	uint64_t set_time;
	uint64_t expires;              /* 0 = never */
	uint8_t len;                   /* 1..ACM_TXT_MAX */
	uint8_t val[ACM_TXT_MAX];      /* not NUL-terminated */
} acm_txt_ent_t;

typedef struct {
	unsigned n;
	acm_txt_ent_t e[ACM_RR_COUNT_MAX];
} acm_txt_set_t;

/* Decode a record into set. ACM_OK, or ACM_ECORRUPT if the record does not
 * decode or an entry is not exactly one non-empty character-string. */
int acm_txt_set_decode(const uint8_t *rec, size_t len, acm_txt_set_t *set);
/* The encoded size of set, in bytes; never fails. */
size_t acm_txt_set_size(const acm_txt_set_t *set);
/* Encode set into p, which holds acm_txt_set_size(set) bytes; never fails. */
void acm_txt_set_encode(const acm_txt_set_t *set, uint8_t *p);
/* The index of the value in set, or -1 if it is not there. */
int acm_txt_set_find(const acm_txt_set_t *set, const void *val, size_t len);
/* Append a value; the caller ensures set->n < ACM_RR_COUNT_MAX and
 * 1 <= len <= ACM_TXT_MAX. Never fails. */
void acm_txt_set_append(acm_txt_set_t *set, const void *val, size_t len,
                        uint64_t set_time, uint64_t expires);
/* True if a and b hold the same values with the same times, in any order. */
bool acm_txt_set_same(const acm_txt_set_t *a, const acm_txt_set_t *b);

/* Whether a value with this expiry (unix seconds, 0 = never) is gone at
 * now. The one definition every reader of values uses. */
static inline bool acm_expired(uint64_t expires, uint64_t now)
{
	return expires != 0 && expires <= now;
}

/* The expiry of a value set at now (unix seconds) that must live at least
 * seconds more: clocks are read in whole seconds, so now may be up to a
 * second behind, and the extra second keeps "expires in 1" from meaning
 * "expires at once". */
static inline uint64_t acm_expiry_after(uint64_t now, uint64_t seconds)
{
	return now + seconds + 1;
}

#endif
