/* SPDX-License-Identifier: ISC */
/*
 * The whole-store check behind acmensctl check-store: the file's size
 * against the map, and every record of every named database decoded.
 */
#ifndef ACM_STORE_CHECK_H
#define ACM_STORE_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "lib/store/store.h"

typedef struct {
	size_t problems;        /* records (or the file) found wrong */
	size_t accounts, rrsets, values, journal, audit;   /* records read */
	size_t accounts_json;   /* account records still in the JSON form (see account.h) */
	uint64_t file_bytes;    /* size of data.mdb */
	uint64_t used_bytes;    /* (last page in use + 1) * page size */
	uint32_t schema;        /* the layout version recorded; 0: none */
} acm_store_check_t;

/* One problem: the database ("file" for the size check, "main" for the
 * names of the databases), the record's key as hex (its first 16 bytes;
 * "" for none) and what is wrong with it. */
typedef void (*acm_check_fn)(void *ctx, const char *db, const char *key, const char *problem);

/*
 * Check the store (open it read-only) in one read snapshot: data.mdb must
 * hold every page the map uses (if not, nothing else is read), every named
 * database must be one of the store's, and every record must decode. fn
 * gets each problem; *out the counts. Returns ACM_OK when the walk could
 * be made (out->problems says whether the store is sound), or a store
 * failure (ACM_ECORRUPT, ACM_ESTORE, -errno) that stopped it.
 */
int acm_store_check(acm_store_t *store, acm_check_fn fn, void *ctx, acm_store_check_t *out);

#endif
