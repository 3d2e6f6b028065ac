/* SPDX-License-Identifier: ISC */
/*
 * The store's data file as it lies on disk, checked before LMDB maps it:
 * LMDB reads its two meta pages with read(2) but everything else through
 * the map, so a data.mdb shorter than the pages its meta page names makes
 * the first touch of a missing page a SIGBUS. acm_store_file_check reads
 * the meta pages with pread and refuses such a file; acm_store_open calls
 * it first. A refusal is described, with the way out, by
 * acm_store_fault_text, for acmensd and acmensctl alike.
 */
#ifndef ACM_STORE_FILE_H
#define ACM_STORE_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/dns/dname.h"

/* What is known about a store that was refused (or checked). */
typedef struct acm_store_fault {
	int problem;            /* ACM_OK, ACM_ETRUNCATED, ACM_EDAMAGED, ACM_ESCHEMA */
	bool exists;            /* data.mdb is there */
	uint64_t file_size;     /* bytes of data.mdb */
	uint64_t needed;        /* bytes the newest sound meta page says it spans */
	uint32_t page_size;
	uint64_t last_pg;       /* the newest sound meta page's last page */
	uint64_t txnid;         /* and its transaction */
	unsigned bad_meta;      /* bit 0: meta page 0 unsound, bit 1: meta page 1 */
	uint32_t lmdb_version;  /* LMDB's data format version when it is not 1 */
	uint32_t schema_found;  /* the store's layout version (ACM_ESCHEMA) */
	bool schema_unknown;    /* the recorded version does not decode */
	char zone_found[ACM_DNAME_TXT_MAX];     /* ACM_EZONE: the store's zone */
	char zone_wanted[ACM_DNAME_TXT_MAX];    /* and the one it was opened for */
} acm_store_fault_t;

/*
 * Check dir/data.mdb against its meta pages without mapping it. f gets
 * what was found. Returns ACM_OK (also when there is no data.mdb yet: a
 * new store), ACM_ETRUNCATED (shorter than (last_pg + 1) * page size, or
 * empty), ACM_EDAMAGED (a meta page is not an LMDB meta page: LMDB opens
 * neither then), ACM_ESCHEMA (LMDB data format other than 1), or -errno
 * when the file cannot be read.
 */
int acm_store_file_check(const char *dir, acm_store_fault_t *f);

/*
 * One line for an operator about refusal rc of the store in dir: what is
 * wrong, with the numbers f holds, and the way out (restore from a backup,
 * acmensctl check-store). For other codes, acm_strerror's text. Returns buf.
 */
const char *acm_store_fault_text(const acm_store_fault_t *f, int rc, const char *dir,
                                 char *buf, size_t len);

#endif
