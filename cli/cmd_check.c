/* SPDX-License-Identifier: ISC */
/*
 * acmensctl check-store: whether the store is sound, read-only, beside a
 * running acmensd or instead of one that refuses to start. A data file
 * that cannot be opened at all (truncated, a damaged meta page, another
 * layout version) is reported by the open itself; otherwise every record
 * is decoded (lib/store/store_check.c).
 */
#include <stdio.h>

#include "cli/cli.h"
#include "lib/error.h"
#include "lib/store/store_check.h"

static const cli_usage_t check_store_usage[] = {
	{ "", "check-store",
	  "  Opens the store read-only and checks it: data.mdb against the pages its\n"
	  "  map uses, then every record of every database (accounts, users, rrsets,\n"
	  "  meta, journal, audit) decoded. Prints each problem as DATABASE KEY: what,\n"
	  "  then a summary. Exit 0 when the store is sound, 3 when it is not or\n"
	  "  cannot be opened (the message says what is wrong and what to do).\n" },
	{ NULL, NULL, NULL },
};

typedef struct {
	const cli_t *c;
	json_t *list;           /* --json: the problems */
} report_t;

static void report(void *ctx, const char *db, const char *key, const char *problem)
{
	report_t *r = ctx;
	if (r->list)
		json_array_append_new(r->list, json_pack("{s:s, s:s, s:s}", "database", db,
		                                         "key", key, "problem", problem));
	else
		printf("%s %s: %s\n", db, key[0] ? key : "-", problem);
}

static void summary(const cli_t *c, const acm_store_check_t *st, json_t *list)
{
	if (c->json) {
		cli_print_json(json_pack("{s:b, s:I, s:I, s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
		                         "ok", st->problems == 0, "schema", (json_int_t)st->schema,
		                         "problem_count",
		                         (json_int_t)st->problems, "problems", list,
		                         "accounts", (json_int_t)st->accounts,
		                         "accounts_json", (json_int_t)st->accounts_json,
		                         "rrsets", (json_int_t)st->rrsets,
		                         "values", (json_int_t)st->values,
		                         "journal", (json_int_t)st->journal,
		                         "audit", (json_int_t)st->audit,
		                         "file_bytes", (json_int_t)st->file_bytes,
		                         "used_bytes", (json_int_t)st->used_bytes));
		return;
	}
	printf("%s: %zu problem%s; layout version %u; %zu accounts (%zu in the old JSON form), "
	       "%zu names with %zu values, %zu diffs, "
	       "%zu audit records; data.mdb %llu bytes, %llu in use\n",
	       st->problems ? "damaged" : "ok", st->problems, st->problems == 1 ? "" : "s",
	       (unsigned)st->schema,
	       st->accounts, st->accounts_json, st->rrsets, st->values, st->journal, st->audit,
	       (unsigned long long)st->file_bytes, (unsigned long long)st->used_bytes);
}

int cmd_check_store(cli_t *c, int argc, char **argv)
{
	acm_store_t *store;
	acm_store_check_t st;
	if (cli_help_asked(argc, argv))
		return cli_help(check_store_usage, argc, argv);
	if (cli_parse(c, argc, argv, NULL, true, NULL, 0) != 0)
		return cli_usage(c, check_store_usage, NULL);
	int rc = cli_open_store(c, true, &store);
	if (rc != CLI_OK)
		return rc;
	report_t r = { c, c->json ? json_array() : NULL };
	rc = acm_store_check(store, report, &r, &st);
	acm_store_close(store);
	if (rc != ACM_OK) {
		json_decref(r.list);
		return cli_fail(c, CLI_STORE, "check-store: the walk stopped: %s; restore the "
		                "store from a backup", acm_strerror(rc));
	}
	summary(c, &st, r.list);
	return st.problems ? CLI_STORE : CLI_OK;
}
