/* SPDX-License-Identifier: ISC */
/*
 * import-acmedns's PostgreSQL source: acme-dns's records and txt tables as
 * its postgres engine creates them (unquoted, so lower-case names; txt
 * with a SERIAL rowid), read in one read-only snapshot and streamed row by
 * row, so that memory does not grow with the database.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/import_src.h"

#ifdef HAVE_LIBPQ

#include <libpq-fe.h>

static const char rows_sql[] =
	"SELECT r.username, r.password, r.subdomain, r.allowfrom, t.value, t.lastupdate"
	" FROM records AS r LEFT JOIN txt AS t ON t.subdomain = r.subdomain AND t.value <> ''"
	" ORDER BY r.username, t.lastupdate, t.rowid";

typedef struct {
	import_src_t src;
	PGconn *conn;
	PGresult *res;          /* the row handed out last, or the first one */
	bool pending;           /* res is read but not handed out yet */
} pg_src_t;

/* libpq's message without its final newline. */
static void pg_error(char *err, size_t cap, const char *msg)
{
	size_t n = strcspn(msg, "\n");

	snprintf(err, cap, "%.*s", (int)n, msg);
}

/* The next result of the row query into s->res: 1 a row, 0 the end, -1 a
 * failure. */
static int fetch(pg_src_t *s)
{
	PQclear(s->res);
	s->res = PQgetResult(s->conn);
	if (!s->res)
		return 0;
	switch (PQresultStatus(s->res)) {
	case PGRES_SINGLE_TUPLE:
		return 1;
	case PGRES_TUPLES_OK:    /* the end of the rows; then NULL */
		PQclear(s->res);
		s->res = PQgetResult(s->conn);
		return s->res ? -1 : 0;
	default:
		pg_error(s->src.err, sizeof(s->src.err), PQresultErrorMessage(s->res));
		return -1;
	}
}

static import_col_t column(PGresult *res, int i)
{
	import_col_t c = { NULL, 0 };

	if (!PQgetisnull(res, 0, i)) {
		c.p = PQgetvalue(res, 0, i);
		c.len = (size_t)PQgetlength(res, 0, i);
	}
	return c;
}

static int pg_next(import_src_t *src, import_row_t *row)
{
	pg_src_t *s = (pg_src_t *)src;
	int rc = s->pending ? 1 : fetch(s);

	s->pending = false;
	if (rc != 1)
		return rc;
	for (int i = 0; i < IMPORT_NCOLS; i++)
		row->col[i] = column(s->res, i);
	row->time = PQgetisnull(s->res, 0, IMPORT_NCOLS) ? 0 :
	            strtoll(PQgetvalue(s->res, 0, IMPORT_NCOLS), NULL, 10);
	return 1;
}

static void pg_close(import_src_t *src)
{
	pg_src_t *s = (pg_src_t *)src;

	PQclear(s->res);
	PQfinish(s->conn);
	free(s);
}

/* One statement that must succeed; its result in *out if out. */
static bool exec_ok(pg_src_t *s, const char *sql, ExecStatusType want, PGresult **out)
{
	PGresult *res = PQexec(s->conn, sql);
	bool ok = PQresultStatus(res) == want;

	if (!ok)
		pg_error(s->src.err, sizeof(s->src.err), PQresultErrorMessage(res));
	if (ok && out)
		*out = res;
	else
		PQclear(res);
	return ok;
}

/* A read-only snapshot, so that the count and the rows agree and nothing
 * can be written; then the count, which also proves the table is there. */
static int start(pg_src_t *s)
{
	PGresult *res;

	if (!exec_ok(s, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", PGRES_COMMAND_OK, NULL))
		return IMPORT_SRC_EOPEN;
	if (!exec_ok(s, "SELECT count(*) FROM records", PGRES_TUPLES_OK, &res))
		return IMPORT_SRC_ESCHEMA;
	s->src.total = (size_t)strtoull(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	/* Row by row: a million accounts need not fit in memory. */
	if (!PQsendQuery(s->conn, rows_sql) || !PQsetSingleRowMode(s->conn)) {
		pg_error(s->src.err, sizeof(s->src.err), PQerrorMessage(s->conn));
		return IMPORT_SRC_EOPEN;
	}
	/* A table without acme-dns's columns fails here, before any write. */
	switch (fetch(s)) {
	case 1:
		s->pending = true;
		return IMPORT_SRC_OK;
	case 0:
		return IMPORT_SRC_OK;
	default:
		return IMPORT_SRC_ESCHEMA;
	}
}

int import_pg_open(const char *uri, import_src_t **out, char *err, size_t cap)
{
	pg_src_t *s = import_src_alloc(sizeof(*s), pg_next, pg_close, err, cap);
	int rc;

	*out = NULL;
	if (!s)
		return IMPORT_SRC_EOPEN;
	s->conn = PQconnectdb(uri);
	if (PQstatus(s->conn) != CONNECTION_OK) {
		pg_error(err, cap, PQerrorMessage(s->conn));
		pg_close(&s->src);
		return IMPORT_SRC_EOPEN;
	}
	rc = start(s);
	if (rc != IMPORT_SRC_OK) {
		snprintf(err, cap, "%s", s->src.err);
		pg_close(&s->src);
		return rc;
	}
	*out = &s->src;
	return IMPORT_SRC_OK;
}

#endif
