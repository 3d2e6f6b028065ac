/* SPDX-License-Identifier: ISC */
/*
 * The tables acmensctl prints for people: the rows are kept until the end,
 * so that each column is as wide as its widest cell (a UUID subdomain, an
 * account:<uuid> actor, a long QNAME) and every row lines up with the
 * header. The last column is not padded.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli/table.h"
#include "lib/error.h"

struct cli_table {
	size_t ncols;
	const char *align;          /* 'l' or 'r' per column */
	size_t *width;
	char **cells;               /* nrows * ncols, row 0 the header */
	size_t nrows, cap;
	bool failed;
};

cli_table_t *cli_table_new(const char *align, ...)
{
	cli_table_t *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->ncols = strlen(align);
	t->align = align;
	t->width = calloc(t->ncols, sizeof(*t->width));
	const char **header = calloc(t->ncols, sizeof(*header));
	va_list ap;
	va_start(ap, align);
	for (size_t i = 0; header && i < t->ncols; i++)
		header[i] = va_arg(ap, const char *);
	va_end(ap);
	if (!t->width || !header) {
		free(header);
		cli_table_free(t);
		return NULL;
	}
	cli_table_row(t, header);
	free(header);
	return t;
}

void cli_table_row(cli_table_t *t, const char *const *cells)
{
	if (!t || t->failed)
		return;
	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		char **more = realloc(t->cells, cap * t->ncols * sizeof(*more));
		if (!more) {
			t->failed = true;
			return;
		}
		t->cells = more;
		t->cap = cap;
	}
	char **row = t->cells + t->nrows * t->ncols;
	for (size_t i = 0; i < t->ncols; i++) {
		row[i] = strdup(cells[i] ? cells[i] : "-");
		if (!row[i]) {
			t->failed = true;
			while (i--)
				free(row[i]);
			return;
		}
		size_t len = strlen(row[i]);
		if (len > t->width[i])
			t->width[i] = len;
	}
	t->nrows++;
}

size_t cli_table_rows(const cli_table_t *t)
{
	return t && t->nrows ? t->nrows - 1 : 0;
}

int cli_table_print(const cli_table_t *t, FILE *f)
{
	if (!t || t->failed)
		return -1;
	for (size_t r = 0; r < t->nrows; r++) {
		char *const *row = t->cells + r * t->ncols;
		for (size_t i = 0; i < t->ncols; i++) {
			bool last = i + 1 == t->ncols;
			int w = last && t->align[i] != 'r' ? 0 : (int)t->width[i];
			fprintf(f, t->align[i] == 'r' ? "%*s%s" : "%-*s%s", w, row[i], last ? "\n" : " ");
		}
	}
	return 0;
}

void cli_table_free(cli_table_t *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t->width);
	free(t);
}

int cli_table_finish(const cli_t *c, cli_table_t *t, const char *command)
{
	int rc = CLI_OK;
	if (!t || (cli_table_rows(t) && cli_table_print(t, stdout) < 0))
		rc = cli_fail(c, CLI_STORE, "%s: %s", command, acm_strerror(-ENOMEM));
	cli_table_free(t);
	return rc;
}
