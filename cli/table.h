/* SPDX-License-Identifier: ISC */
/*
 * acmensctl's tables for people: columns as wide as their data, so that
 * every row lines up with the header whatever the names' lengths.
 */
#ifndef ACM_CLI_TABLE_H
#define ACM_CLI_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "cli/cli.h"

typedef struct cli_table cli_table_t;

/* A table of strlen(align) columns ('l' left, 'r' right aligned, align kept
 * by reference), then as many header strings. NULL when out of memory. */
cli_table_t *cli_table_new(const char *align, ...);
/* Append a row of the table's column count of strings (copied; NULL shows
 * as "-"). After a failure (out of memory) the table only fails to print. */
void cli_table_row(cli_table_t *t, const char *const *cells);
/* The rows added, the header not counted. */
size_t cli_table_rows(const cli_table_t *t);
/* Print header and rows on f. 0, or -1 when a row could not be kept. */
int cli_table_print(const cli_table_t *t, FILE *f);
void cli_table_free(cli_table_t *t);
/* Print t on stdout unless it has no rows, and free it: CLI_OK, or
 * CLI_STORE after naming command in an error (t NULL or a row lost). */
int cli_table_finish(const cli_t *c, cli_table_t *t, const char *command);

#endif
