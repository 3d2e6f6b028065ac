/* SPDX-License-Identifier: ISC */
/*
 * acmensctl check-config, serial, stats, audit and backup: the operator's
 * view of the configuration and of the store as a whole. All of them only
 * read the store (a backup is a read snapshot), so they run beside acmensd.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/table.h"
#include "lib/error.h"
#include "lib/conf/preflight.h"
#include "lib/conf/zone.h"
#include "lib/store/store_json.h"

#define AUDIT_LIMIT_DEFAULT 100
#define AUDIT_LIMIT_MAX 1000000
#define HELP_DONE (-1)

static const cli_usage_t check_usage[] = {
	{ "", "check-config",
	  "  Checks what acmensd checks before it serves: loads the configuration,\n"
	  "  builds the zone, loads the TLS certificate and key (and that they\n"
	  "  match), reads the admin token file (not readable by every user), and\n"
	  "  tries the store directory (a directory, writable, or one that can be\n"
	  "  made); a store already there is opened read-only for this zone. Prints\n"
	  "  \"ok\", or the error acmensd would print (exit 3). Run it as the user\n"
	  "  acmensd runs as: file permissions are checked as that user.\n" },
	{ NULL, NULL, NULL },
};

static const cli_usage_t serial_usage[] = {
	{ "", "serial", "  Prints the zone serial, as the SOA shows it.\n" },
	{ NULL, NULL, NULL },
};

static const cli_usage_t stats_usage[] = {
	{ "", "stats",
	  "  Prints the number of accounts and of values (expired ones not yet swept\n"
	  "  included), the serial, and the store's size: data.mdb on disk, the bytes\n"
	  "  up to its highest page in use, the map size, the last transaction id.\n" },
	{ NULL, NULL, NULL },
};

static const cli_usage_t audit_usage[] = {
	{ "", "audit [--subdomain SUBDOMAIN] [--after SEQ] [--limit N]",
	  "  Prints the audit log, oldest first: who changed what, from where, with\n"
	  "  the serial after. --subdomain keeps one account's records; --after SEQ\n"
	  "  starts after that record; --limit (1 to 1000000, default 100) ends a page\n"
	  "  (the next SEQ is named on stderr). With --json, one object per line.\n" },
	{ NULL, NULL, NULL },
};

static const cli_usage_t backup_usage[] = {
	{ "", "backup DEST",
	  "  Copies the store, compacted, into the directory DEST (made if missing;\n"
	  "  it must be empty) while acmensd goes on serving and writing: one\n"
	  "  consistent snapshot holding every write acknowledged before it began.\n"
	  "  Then opens the copy and prints its serial and counts. To restore, put\n"
	  "  DEST/data.mdb in store.path with acmensd stopped.\n" },
	{ NULL, NULL, NULL },
};

/*
 * The words of a command without verbs: --help (answered, HELP_DONE), the
 * options opts, exactly n operands. CLI_OK, CLI_USAGE (reported) or
 * HELP_DONE.
 */
static int command_words(cli_t *c, int argc, char **argv, const cli_usage_t *usage,
                         const cli_opt_t *opts, char **operands, int n)
{
	if (cli_help_asked(argc, argv)) {
		cli_help(usage, argc, argv);
		return HELP_DONE;
	}
	if (cli_parse(c, argc, argv, opts, true, operands, n) != n)
		return cli_usage(c, usage, NULL);
	return CLI_OK;
}

/* What a command returns after command_words did not say go on. */
static int words_done(int rc)
{
	return rc == HELP_DONE ? CLI_OK : rc;
}

/* A store that is there must open for this zone, as acmensd would open
 * it (read-only here: acmensd may be serving it). */
static int check_store_opens(cli_t *c)
{
	char path[4096];
	acm_store_t *store;

	snprintf(path, sizeof(path), "%s/data.mdb", c->cfg->store_path);
	if (access(path, F_OK) != 0)
		return CLI_OK;
	int rc = cli_open_store(c, true, &store);
	if (rc == CLI_OK)
		acm_store_close(store);
	return rc;
}

int cmd_check_config(cli_t *c, int argc, char **argv)
{
	char err[ACM_CONFIG_ERR_MAX] = "";
	int rc = command_words(c, argc, argv, check_usage, NULL, NULL, 0);
	if (rc != CLI_OK || (rc = cli_load_config(c)) != CLI_OK)
		return words_done(rc);
	if (acm_preflight(c->cfg, err, sizeof(err)) != ACM_OK)
		return cli_fail(c, CLI_STORE, "%s", err);
	if ((rc = check_store_opens(c)) != CLI_OK)
		return rc;
	if (c->json)
		cli_print_json(json_pack("{s:s, s:s}", "result", "ok", "config", c->config_path));
	else
		printf("ok\n");
	return CLI_OK;
}

int cmd_serial(cli_t *c, int argc, char **argv)
{
	acm_store_t *store;
	uint32_t serial = 0;
	int rc = command_words(c, argc, argv, serial_usage, NULL, NULL, 0);
	if (rc != CLI_OK || (rc = cli_open_store(c, true, &store)) != CLI_OK)
		return words_done(rc);
	rc = acm_store_serial(store, &serial);
	acm_store_close(store);
	if (rc != ACM_OK)
		return cli_fail(c, CLI_STORE, "serial: %s", acm_strerror(rc));
	if (c->json)
		cli_print_json(json_pack("{s:I}", "serial", (json_int_t)serial));
	else
		printf("%u\n", serial);
	return CLI_OK;
}

int cmd_stats(cli_t *c, int argc, char **argv)
{
	acm_store_t *store;
	acm_store_info_t info;
	size_t accounts = 0, values = 0;
	uint32_t serial = 0;
	int rc = command_words(c, argc, argv, stats_usage, NULL, NULL, 0);
	if (rc != CLI_OK || (rc = cli_open_store(c, true, &store)) != CLI_OK)
		return words_done(rc);
	if ((rc = acm_store_counts(store, &accounts, &values)) == ACM_OK &&
	    (rc = acm_store_serial(store, &serial)) == ACM_OK)
		rc = acm_store_info(store, &info);
	acm_store_close(store);
	if (rc != ACM_OK)
		return cli_fail(c, CLI_STORE, "stats: %s", acm_strerror(rc));
	if (c->json) {
		cli_print_json(acm_stats_json(accounts, values, serial, &info));
		return CLI_OK;
	}
	printf("accounts:   %zu\nvalues:     %zu\nserial:     %u\nstore:      %s\n"
	       "file_bytes: %llu\nused_bytes: %llu\nmap_size:   %llu\nlast_txn:   %llu\n",
	       accounts, values, serial, c->cfg->store_path,
	       (unsigned long long)info.file_bytes, (unsigned long long)info.used_bytes,
	       (unsigned long long)info.map_size, (unsigned long long)info.last_txn);
	return CLI_OK;
}

/* ---- audit ----------------------------------------------------------------- */

typedef struct {
	const cli_t *c;
	size_t want, count;
	bool more;
	uint64_t last;
	cli_table_t *table;      /* without --json */
} audit_page_t;

/* Values of a that b lacks, each after mark, appended to out. */
static void values_missing(json_t *a, json_t *b, char mark, char *out, size_t cap)
{
	size_t i, j;
	json_t *x, *y;
	json_array_foreach(a, i, x) {
		bool found = false;
		json_array_foreach(b, j, y)
			found = found || json_equal(x, y);
		size_t used = strlen(out);
		if (!found && json_is_string(x))
			snprintf(out + used, cap - used, "%s%c%s", used ? " " : "", mark,
			         json_string_value(x));
	}
}

static const char *field(json_t *rec, const char *key)
{
	const char *s = json_string_value(json_object_get(rec, key));
	return s ? s : "-";
}

static void audit_print(cli_table_t *t, uint64_t seq, json_t *rec, const char *text,
                        size_t len)
{
	char when[CLI_TIME_MAX], detail[2048] = "", seqs[24], serial[24];
	const char *change = json_string_value(json_object_get(rec, "change"));
	json_t *before = json_object_get(rec, "before"), *after = json_object_get(rec, "after");
	snprintf(seqs, sizeof(seqs), "%llu", (unsigned long long)seq);
	if (!json_is_object(rec)) {
		/* A record that does not decode still keeps its place. */
		snprintf(detail, sizeof(detail), "%.*s", (int)len, text);
		cli_table_row(t, (const char *[]){ seqs, NULL, NULL, NULL, NULL, NULL, NULL, detail });
		return;
	}
	if (change)
		snprintf(detail, sizeof(detail), "%s", change);
	values_missing(after, before, '+', detail, sizeof(detail));
	values_missing(before, after, '-', detail, sizeof(detail));
	snprintf(serial, sizeof(serial), "%lld",
	         (long long)json_integer_value(json_object_get(rec, "serial")));
	cli_table_row(t, (const char *[]){
		seqs, cli_time((uint64_t)json_integer_value(json_object_get(rec, "time")), when, "-"),
		field(rec, "actor"), field(rec, "source"), field(rec, "action"),
		field(rec, "subdomain"), serial, detail[0] ? detail : "-" });
}

static int audit_row(uint64_t seq, const char *text, size_t len, void *ctx)
{
	audit_page_t *p = ctx;
	if (p->count == p->want) {
		p->more = true;
		return 1;
	}
	if (p->c->json) {
		cli_print_json(acm_audit_entry_json(seq, text, len));
	} else {
		json_t *rec = json_loadb(text, len, 0, NULL);
		audit_print(p->table, seq, rec, text, len);
		json_decref(rec);
	}
	p->last = seq;
	p->count++;
	return 0;
}

int cmd_audit(cli_t *c, int argc, char **argv)
{
	const char *sub = NULL, *after = NULL, *limit = NULL;
	const cli_opt_t opts[] = { { "--subdomain", &sub, NULL }, { "--after", &after, NULL },
	                           { "--limit", &limit, NULL }, { NULL, NULL, NULL } };
	uint64_t from = 0, want = AUDIT_LIMIT_DEFAULT;
	acm_store_t *store;
	int rc = command_words(c, argc, argv, audit_usage, opts, NULL, 0);
	if (rc == CLI_OK && after)
		rc = cli_number(c, "--after", after, 0, UINT64_MAX, &from);
	if (rc == CLI_OK && limit)
		rc = cli_number(c, "--limit", limit, 1, AUDIT_LIMIT_MAX, &want);
	if (rc != CLI_OK || (rc = cli_open_store(c, true, &store)) != CLI_OK)
		return words_done(rc);
	audit_page_t p = { .c = c, .want = want };
	if (!c->json)
		p.table = cli_table_new("llllllrl", "SEQ", "TIME", "ACTOR", "SOURCE", "ACTION",
		                        "SUBDOMAIN", "SERIAL", "DETAIL");
	/* One more than asked tells whether there is a next page. */
	rc = acm_store_audit_list(store, from, sub, want + 1, audit_row, &p);
	acm_store_close(store);
	if (rc < 0) {
		cli_table_free(p.table);
		return cli_fail(c, CLI_STORE, "audit: %s", acm_strerror(rc));
	}
	if (!c->json && (rc = cli_table_finish(c, p.table, "audit")) != CLI_OK)
		return rc;
	fflush(stdout);
	if (p.more)
		fprintf(stderr, "acmensctl: more records follow: continue with --after %llu\n",
		        (unsigned long long)p.last);
	return CLI_OK;
}

/* ---- backup ------------------------------------------------------------------ */

/* Open the copy as acmensd would and read back what it holds. */
static int backup_check(cli_t *c, const char *dest, json_t **out)
{
	acm_store_opts_t so = { .mapsize = c->cfg->store_max_size, .read_only = true };
	acm_store_t *copy;
	acm_store_info_t info;
	size_t accounts = 0, values = 0;
	uint32_t serial = 0;
	int rc = acm_store_open(dest, c->cfg->apex, &so, &copy);
	if (rc != ACM_OK)
		return rc;
	if ((rc = acm_store_serial(copy, &serial)) == ACM_OK &&
	    (rc = acm_store_counts(copy, &accounts, &values)) == ACM_OK)
		rc = acm_store_info(copy, &info);
	acm_store_close(copy);
	if (rc == ACM_OK)
		*out = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I}", "result", "ok", "path", dest,
		                 "serial", (json_int_t)serial, "accounts", (json_int_t)accounts,
		                 "values", (json_int_t)values, "file_bytes",
		                 (json_int_t)info.file_bytes);
	return rc;
}

static int backup_refused(const cli_t *c, const char *dest, int rc)
{
	if (rc == ACM_EEXIST)
		return cli_fail(c, CLI_USAGE, "backup: %s is not empty; name a new or empty "
		                "directory", dest);
	if (rc == -ENOTDIR)
		return cli_fail(c, CLI_USAGE, "backup: %s is not a directory", dest);
	return cli_fail(c, CLI_STORE, "backup to %s failed: %s", dest, acm_strerror(rc));
}

int cmd_backup(cli_t *c, int argc, char **argv)
{
	char *dest[1];
	acm_store_t *store;
	json_t *res = NULL;
	int rc = command_words(c, argc, argv, backup_usage, NULL, dest, 1);
	if (rc != CLI_OK || (rc = cli_open_store(c, true, &store)) != CLI_OK)
		return words_done(rc);
	rc = acm_store_backup(store, dest[0]);
	acm_store_close(store);
	if (rc != ACM_OK)
		return backup_refused(c, dest[0], rc);
	if ((rc = backup_check(c, dest[0], &res)) != ACM_OK)
		return cli_fail(c, CLI_STORE, "backup: the copy in %s does not open: %s", dest[0],
		                acm_strerror(rc));
	if (c->json) {
		cli_print_json(res);
		return CLI_OK;
	}
	printf("ok, backup in %s: serial %lld, %lld accounts, %lld values, %lld bytes\n", dest[0],
	       json_integer_value(json_object_get(res, "serial")),
	       json_integer_value(json_object_get(res, "accounts")),
	       json_integer_value(json_object_get(res, "values")),
	       json_integer_value(json_object_get(res, "file_bytes")));
	json_decref(res);
	return CLI_OK;
}
