/* SPDX-License-Identifier: ISC */
/*
 * The store's data file checked against LMDB's meta pages before anything
 * is mapped (see store_file.h), and the operator's text for a store that
 * is refused. The meta page layout is LMDB's on-disk format (mdb.c, struct
 * MDB_meta after the page header), native byte order and word size:
 *
 *   page header: pgno (size_t), pad (u16), flags (u16), lower, upper (u16)
 *   meta:        magic (u32), version (u32), address (void *), mapsize
 *                (size_t), two MDB_db records (u32 pad, which holds the
 *                page size in the first, u16 flags, u16 depth, five
 *                size_t), last_pg (size_t), txnid (size_t)
 *
 * Only the fields read here are located, by offset, never by copying
 * LMDB's structures.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/error.h"
#include "lib/store/store.h"
#include "lib/store/store_file.h"

#define LMDB_MAGIC 0xBEEFC0DEu       /* mm_magic of every meta page */
#define LMDB_DATA_VERSION 1u         /* mm_version this LMDB writes */
#define LMDB_P_META 0x08u            /* page flag of a meta page */
#define W sizeof(size_t)
#define HDR (W + 8)                  /* page header */
#define OFF_FLAGS (W + 2)
#define OFF_MAGIC HDR
#define OFF_VERSION (HDR + 4)
#define OFF_DBS (HDR + 8 + 2 * W)    /* after magic, version, address, mapsize */
#define DB_SIZE (8 + 5 * W)
#define OFF_LAST_PG (OFF_DBS + 2 * DB_SIZE)
#define OFF_TXNID (OFF_LAST_PG + W)
#define META_READ (OFF_TXNID + W)
#define PAGE_MIN 512u
#define PAGE_MAX 65536u

typedef struct {
	bool sound;
	uint32_t version;
	uint32_t page_size;
	uint64_t last_pg, txnid;
} meta_t;

static size_t get_word(const uint8_t *p)
{
	size_t x;
	memcpy(&x, p, sizeof(x));
	return x;
}

static uint32_t get_native_u32(const uint8_t *p)
{
	uint32_t x;
	memcpy(&x, p, sizeof(x));
	return x;
}

/* Read the meta page at off. -errno for a read failure, 0 for a page that
 * is not all there (truncated), 1 after reading it (sound or not). */
static int read_meta(int fd, uint64_t off, meta_t *m)
{
	uint8_t b[META_READ];
	memset(m, 0, sizeof(*m));
	ssize_t n = pread(fd, b, sizeof(b), (off_t)off);
	if (n < 0)
		return -errno;
	if ((size_t)n < sizeof(b))
		return 0;
	uint16_t flags;
	memcpy(&flags, b + OFF_FLAGS, 2);
	m->version = get_native_u32(b + OFF_VERSION);
	m->page_size = get_native_u32(b + OFF_DBS);
	m->last_pg = get_word(b + OFF_LAST_PG);
	m->txnid = get_word(b + OFF_TXNID);
	bool pow2 = m->page_size && (m->page_size & (m->page_size - 1)) == 0;
	m->sound = (flags & LMDB_P_META) && get_native_u32(b + OFF_MAGIC) == LMDB_MAGIC &&
	           pow2 && m->page_size >= PAGE_MIN && m->page_size <= PAGE_MAX &&
	           m->last_pg >= 1 && m->last_pg < ((uint64_t)1 << 40);
	return 1;
}

/* Judge the two meta pages as LMDB would, and the file size by the newer. */
static int judge(acm_store_fault_t *f, const meta_t m[2], int got1)
{
	if (m[0].sound && got1 == 0) {
		/* Page 0 is whole but the file ends before page 1 does. */
		f->page_size = m[0].page_size;
		f->needed = (uint64_t)2 * m[0].page_size;
		return ACM_ETRUNCATED;
	}
	f->bad_meta = (m[0].sound ? 0u : 1u) | (m[1].sound ? 0u : 2u);
	for (int i = 0; i < 2; i++)
		if (m[i].sound && m[i].version != LMDB_DATA_VERSION) {
			f->lmdb_version = m[i].version;
			return ACM_ESCHEMA;
		}
	if (f->bad_meta == 3)
		return ACM_EDAMAGED;
	const meta_t *n = !m[0].sound ? &m[1] :
	                  !m[1].sound || m[0].txnid > m[1].txnid ? &m[0] : &m[1];
	f->page_size = n->page_size;
	f->last_pg = n->last_pg;
	f->txnid = n->txnid;
	f->needed = (n->last_pg + 1) * n->page_size;
	if (f->bad_meta)
		return ACM_EDAMAGED;
	return f->file_size < f->needed ? ACM_ETRUNCATED : ACM_OK;
}

int acm_store_file_check(const char *dir, acm_store_fault_t *f)
{
	char path[4096];
	struct stat st;
	memset(f, 0, sizeof(*f));
	if ((size_t)snprintf(path, sizeof(path), "%s/data.mdb", dir) >= sizeof(path))
		return -ENAMETOOLONG;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? ACM_OK : -errno;
	f->exists = true;
	meta_t m[2];
	int got0 = read_meta(fd, 0, &m[0]);
	/* Page 1 starts one page in: by page 0's word when it is sound, else
	 * at the system's page size, which LMDB takes for a new file. */
	long sys = sysconf(_SC_PAGESIZE);
	uint64_t p1 = got0 == 1 && m[0].sound ? m[0].page_size : (uint64_t)(sys > 0 ? sys : 4096);
	int got1 = got0 == 1 ? read_meta(fd, p1, &m[1]) : 0;
	/* The size after the meta pages: a writer (another process) extends
	 * the file before it writes the meta page that counts the new pages,
	 * so a size taken first could miss pages a meta read later counts. */
	int rc = fstat(fd, &st) == 0 ? ACM_OK : -errno;
	f->file_size = (uint64_t)st.st_size;
	close(fd);
	if (rc != ACM_OK)
		return f->problem = rc;
	if (got0 < 0 || got1 < 0)
		rc = got0 < 0 ? got0 : got1;
	else if (f->file_size == 0)
		rc = ACM_ETRUNCATED;
	else if (got0 == 0)
		rc = ACM_EDAMAGED;    /* not even one meta page: not an LMDB file */
	else
		rc = judge(f, m, got1);
	f->problem = rc;
	return rc;
}

/* ---- the operator's text ---------------------------------------------- */

#define RESTORE "restore the store directory from a backup (acmensctl backup), " \
	"and run 'acmensctl check-store' to see what it holds"

static void describe_damage(const acm_store_fault_t *f, const char *dir, char *buf, size_t len)
{
	if (f->bad_meta == 3) {
		snprintf(buf, len, "%s/data.mdb is damaged: neither LMDB meta page (0 and 1) is "
		         "sound, so it is no LMDB store any more; refusing to open it: " RESTORE,
		         dir);
		return;
	}
	snprintf(buf, len, "%s/data.mdb is damaged: LMDB meta page %d is not sound (meta page %d "
	         "is, at transaction %llu), and LMDB opens a file only with both; refusing to "
	         "open it: " RESTORE, dir, f->bad_meta == 1 ? 0 : 1, f->bad_meta == 1 ? 1 : 0,
	         (unsigned long long)f->txnid);
}

const char *acm_store_fault_text(const acm_store_fault_t *f, int rc, const char *dir,
                                 char *buf, size_t len)
{
	if (rc == ACM_ETRUNCATED && f->file_size == 0)
		snprintf(buf, len, "%s/data.mdb is empty (truncated); refusing to start a new "
		         "store over it: " RESTORE ", or remove the directory to start empty", dir);
	else if (rc == ACM_ETRUNCATED)
		snprintf(buf, len, "%s/data.mdb is truncated: %llu bytes, but its meta page "
		         "(transaction %llu) says its data spans %llu bytes (pages of %u); "
		         "refusing to open it: " RESTORE, dir, (unsigned long long)f->file_size,
		         (unsigned long long)f->txnid, (unsigned long long)f->needed, f->page_size);
	else if (rc == ACM_EDAMAGED)
		describe_damage(f, dir, buf, len);
	else if (rc == ACM_ESCHEMA && f->lmdb_version)
		snprintf(buf, len, "%s/data.mdb has LMDB data format version %u, this build reads "
		         "version %u; refusing to open it: use the LMDB it was written with, or "
		         RESTORE, dir, f->lmdb_version, LMDB_DATA_VERSION);
	else if (rc == ACM_ESCHEMA && f->schema_unknown)
		snprintf(buf, len, "the store in %s records a layout version that does not decode "
		         "(this release writes version %u); refusing to open it: " RESTORE, dir,
		         ACM_STORE_SCHEMA);
	else if (rc == ACM_ESCHEMA)
		snprintf(buf, len, "the store in %s has layout version %u, this release reads "
		         "version %u%s; refusing to open it: run the release that wrote it, or "
		         RESTORE, dir, f->schema_found, ACM_STORE_SCHEMA,
		         f->schema_found > ACM_STORE_SCHEMA ? " (it was written by a newer release)" : "");
	else if (rc == ACM_EZONE)
		snprintf(buf, len, "the store in %s belongs to zone %s, but zone.name is %s; "
		         "refusing to open it: point store.path at the store of %s, or set "
		         "zone.name to %s", dir, f->zone_found, f->zone_wanted, f->zone_wanted,
		         f->zone_found);
	else if (rc == ACM_ECORRUPT)
		snprintf(buf, len, "the store in %s is corrupt (%s); refusing to open it: " RESTORE,
		         dir, acm_strerror(rc));
	else
		snprintf(buf, len, "cannot open store %s: %s", dir, acm_strerror(rc));
	return buf;
}
