/* SPDX-License-Identifier: ISC */
/*
 * Where acmensctl import-acmedns reads an acme-dns database from: a SQLite
 * file (import_sqlite.c) or a PostgreSQL server (import_pg.c), both giving
 * the same rows, so that what happens to a row (cmd_import.c) is written
 * once.
 */
#ifndef ACM_CLI_IMPORT_SRC_H
#define ACM_CLI_IMPORT_SRC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* One column of a row: p NULL for SQL NULL; len bytes (may hold a NUL). */
typedef struct {
	const char *p;
	size_t len;
} import_col_t;

enum { IMPORT_USER, IMPORT_PASSWORD, IMPORT_SUB, IMPORT_ALLOW, IMPORT_VALUE, IMPORT_NCOLS };

/*
 * One account with one of its values: the rows of an account come one
 * after another (same IMPORT_USER), its values oldest first; an account
 * without values comes as one row whose IMPORT_VALUE is NULL. acme-dns's
 * unused txt rows (empty Value) are left out.
 */
typedef struct {
	import_col_t col[IMPORT_NCOLS];
	int64_t time;           /* the value's LastUpdate; 0 if none */
} import_row_t;

typedef struct import_src import_src_t;
struct import_src {
	/* 1 with *row filled (valid until the next call), 0 after the last
	 * row, -1 after a failure that err describes. */
	int (*next)(import_src_t *src, import_row_t *row);
	/* Release everything; src is gone after. */
	void (*close)(import_src_t *src);
	size_t total;           /* accounts in the database, for progress */
	char err[256];
};

/* What opening failed on (the message says more). */
enum {
	IMPORT_SRC_OK = 0,
	IMPORT_SRC_EOPEN,       /* cannot open or connect */
	IMPORT_SRC_ESCHEMA,     /* no acme-dns tables there */
};

/* A zeroed source of size bytes (its own struct beginning with an
 * import_src_t) with its two functions set; NULL with err set if memory
 * is short. For the open functions below. */
static inline void *import_src_alloc(size_t size, int (*next)(import_src_t *, import_row_t *),
                                     void (*close_fn)(import_src_t *), char *err, size_t cap)
{
	import_src_t *s = calloc(1, size);

	if (!s) {
		snprintf(err, cap, "out of memory");
		return NULL;
	}
	s->next = next;
	s->close = close_fn;
	return s;
}

/*
 * Open the database for reading only and start reading rows. IMPORT_SRC_OK
 * with *out set, or one of the codes above with the reason in err (cap
 * bytes). import_sqlite_open takes a file name, import_pg_open a libpq
 * connection URI (postgres://USER:PASS@HOST:PORT/DB). Each exists only
 * when acmensctl is built with its library (HAVE_SQLITE3, HAVE_LIBPQ).
 */
int import_sqlite_open(const char *path, import_src_t **out, char *err, size_t cap);
int import_pg_open(const char *uri, import_src_t **out, char *err, size_t cap);

#endif
