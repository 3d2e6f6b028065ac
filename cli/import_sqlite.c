/* SPDX-License-Identifier: ISC */
/*
 * import-acmedns's SQLite source: acme-dns's records and txt tables as
 * its sqlite3 engine creates them, read-only, as import_src.h's rows.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cli/import_src.h"

#ifdef HAVE_SQLITE3

#include <sqlite3.h>

/* Ordered by account so that an account's rows come together; the values
 * of an account oldest first. */
static const char rows_sql[] =
	"SELECT r.Username, r.Password, r.Subdomain, r.AllowFrom, t.Value, t.LastUpdate"
	" FROM records AS r LEFT JOIN txt AS t ON t.Subdomain = r.Subdomain AND t.Value <> ''"
	" ORDER BY r.Username, t.LastUpdate, t.rowid";
static const char count_sql[] = "SELECT count(*) FROM records";

typedef struct {
	import_src_t src;
	sqlite3 *db;
	sqlite3_stmt *st;
	int first;              /* the first step's result, not handed out yet; 0 after */
} sqlite_src_t;

static int sqlite_next(import_src_t *src, import_row_t *row)
{
	sqlite_src_t *s = (sqlite_src_t *)src;
	int rc = s->first ? s->first : sqlite3_step(s->st);

	s->first = 0;
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW) {
		snprintf(src->err, sizeof(src->err), "%s", sqlite3_errmsg(s->db));
		return -1;
	}
	for (int i = 0; i < IMPORT_NCOLS; i++) {
		/* Text, also of a BLOB (acme-dns may store the hash as one). */
		const unsigned char *t = sqlite3_column_text(s->st, i);
		int len = sqlite3_column_bytes(s->st, i);
		row->col[i].p = sqlite3_column_type(s->st, i) == SQLITE_NULL ? NULL : (const char *)t;
		row->col[i].len = len > 0 ? (size_t)len : 0;
	}
	row->time = sqlite3_column_int64(s->st, IMPORT_NCOLS);
	return 1;
}

static void sqlite_close(import_src_t *src)
{
	sqlite_src_t *s = (sqlite_src_t *)src;

	sqlite3_finalize(s->st);
	sqlite3_close(s->db);
	free(s);
}

/* The number of accounts; false if the database has no such table. */
static bool count_accounts(sqlite_src_t *s)
{
	sqlite3_stmt *st;
	bool ok = sqlite3_prepare_v2(s->db, count_sql, -1, &st, NULL) == SQLITE_OK &&
	          sqlite3_step(st) == SQLITE_ROW;

	if (ok)
		s->src.total = (size_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return ok;
}

int import_sqlite_open(const char *path, import_src_t **out, char *err, size_t cap)
{
	sqlite_src_t *s = import_src_alloc(sizeof(*s), sqlite_next, sqlite_close, err, cap);
	int rc;

	*out = NULL;
	if (!s)
		return IMPORT_SRC_EOPEN;
	rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READONLY, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, cap, "%s", s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
		sqlite_close(&s->src);
		return IMPORT_SRC_EOPEN;
	}
	/* acme-dns may hold a write lock for a moment. */
	sqlite3_busy_timeout(s->db, 5000);
	if (!count_accounts(s) ||
	    sqlite3_prepare_v2(s->db, rows_sql, -1, &s->st, NULL) != SQLITE_OK) {
		snprintf(err, cap, "%s", sqlite3_errmsg(s->db));
		sqlite_close(&s->src);
		return IMPORT_SRC_ESCHEMA;
	}
	/* The first step sorts the whole database: here, before the import
	 * holds the store's write lock, not in its first transaction. */
	s->first = sqlite3_step(s->st);
	*out = &s->src;
	return IMPORT_SRC_OK;
}

#endif
