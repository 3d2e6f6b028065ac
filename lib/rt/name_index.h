/* SPDX-License-Identifier: ISC */
/*
 * The rrsets database in memory, for the DNS workers: owner wire name
 * (lower case) -> the rrset record's bytes as stored. One thread writes it
 * (the maintainer, dnsd/names.c), any number of reader threads read it
 * with no lock and no allocation.
 *
 * An open-addressing table of {hash, record} slots, read and written with
 * atomic loads and stores; a record is immutable once published, a
 * replaced or removed one, and an outgrown table, are retired and freed
 * only once every reader active when they were retired has ended its batch
 * (epochs). The index says which store snapshot it holds (the LMDB
 * transaction id it applied last): a reader uses it only for a snapshot at
 * most that new, so the index may lag behind the store, never lie.
 */
#ifndef ACM_RT_NAME_INDEX_H
#define ACM_RT_NAME_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct acm_name_index acm_name_index_t;
typedef struct acm_name_table acm_name_table_t;
struct acm_name_epoch;

/* One reader thread's state, owned by the thread (zeroed to start). */
typedef struct {
	acm_name_index_t *ix;                   /* NULL: no index, never usable */
	struct acm_name_epoch *epoch;           /* this reader's slot */
	const acm_name_table_t *tab;            /* for the batch; NULL outside */
} acm_name_reader_t;

/* ACM_OK or -ENOMEM (or -errno for the wake-up descriptor). */
int acm_name_index_new(acm_name_index_t **out);
/* Every reader has left. Frees every table and record. */
void acm_name_index_free(acm_name_index_t *ix);

/* ---- readers ----------------------------------------------------------- */

/* Register r with ix (ix NULL: r is never usable). ACM_OK or -ENOMEM. */
int acm_name_index_join(acm_name_index_t *ix, acm_name_reader_t *r);
void acm_name_index_leave(acm_name_reader_t *r);
/* Begin a batch read against store snapshot `snapshot` (its transaction
 * id): true when the index holds that snapshot or a newer one, with
 * *serial the zone's serial in it, and gets may be used until
 * acm_name_index_end. False: read the store; the maintainer is woken.
 * Either way, end the batch. */
bool acm_name_index_begin(acm_name_reader_t *r, uint64_t snapshot, uint32_t *serial);
/* The record of owner name/len inside a usable batch: ACM_OK with *rec
 * valid until acm_name_index_end, or ACM_ENOTFOUND. */
int acm_name_index_get(const acm_name_reader_t *r, const uint8_t *name, size_t len,
                       const uint8_t **rec, size_t *reclen);
void acm_name_index_end(acm_name_reader_t *r);

/* ---- the one writer ------------------------------------------------------ */

/* Set (insert or replace) or remove one name in the published table.
 * ACM_OK or -ENOMEM (the index is then unchanged). */
int acm_name_index_set(acm_name_index_t *ix, const uint8_t *name, size_t len,
                       const uint8_t *rec, size_t reclen);
void acm_name_index_remove(acm_name_index_t *ix, const uint8_t *name, size_t len);
/* Say that the index now holds snapshot `applied`, whose zone serial is
 * serial, and free what no reader can still see. */
void acm_name_index_publish(acm_name_index_t *ix, uint64_t applied, uint32_t serial);
/* The snapshot published last (0: none yet). */
uint64_t acm_name_index_applied(const acm_name_index_t *ix);

/* A table built aside (a rebuild) and swapped in whole. */
int acm_name_table_new(acm_name_table_t **out);
/* Add (or set again) one name; *t may be replaced by a bigger table.
 * ACM_OK or -ENOMEM (*t stays whole). */
int acm_name_table_add(acm_name_table_t **t, const uint8_t *name, size_t len,
                       const uint8_t *rec, size_t reclen);
void acm_name_table_free(acm_name_table_t *t);
/* Publish t (taken over) as holding snapshot applied; the old table goes. */
void acm_name_index_swap(acm_name_index_t *ix, acm_name_table_t *t, uint64_t applied,
                         uint32_t serial);

/* Names and bytes (slots and records) of the published table. */
size_t acm_name_index_count(const acm_name_index_t *ix);
size_t acm_name_index_bytes(const acm_name_index_t *ix);

/* The maintainer waits here for a reader's wake-up or timeout_ms; true
 * when woken. A descriptor the caller may poll instead. */
bool acm_name_index_wait(acm_name_index_t *ix, int timeout_ms);
/* Wake the waiter (stopping, or a commit known of). */
void acm_name_index_wake(acm_name_index_t *ix);

#endif
