/* SPDX-License-Identifier: ISC */
/*
 * acmensctl import-acmedns: moves an acme-dns SQLite database (accounts
 * with their bcrypt hashes and allowfrom lists, and their current TXT
 * values) into the store in one transaction, so that existing clients keep
 * working with the credentials they have.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#ifdef HAVE_SQLITE3
#include <sqlite3.h>
#endif

#include "cli/cli.h"
#include "lib/conf/cidr.h"
#include "lib/error.h"
#include "lib/store/keys.h"

static const cli_usage_t import_usage[] = {
	{ "", "import-acmedns DB [--dry-run]",
	  "  Copies the accounts of an acme-dns SQLite database (their bcrypt keys\n"
	  "  keep working and are upgraded on first use) and their current TXT\n"
	  "  values into the store, in one transaction. Accounts already imported\n"
	  "  are skipped; an account whose subdomain or username belongs to another\n"
	  "  account, or that is invalid, is reported and skipped, and the command\n"
	  "  then exits 4. --dry-run reports what an import would do and changes\n"
	  "  nothing.\n" },
	{ NULL, NULL, NULL },
};

typedef struct {
	const char *path;
	bool dry_run;
} import_args_t;

static int parse_args(cli_t *c, int argc, char **argv, import_args_t *a)
{
	const cli_opt_t opts[] = { { "--dry-run", NULL, &a->dry_run }, { NULL, NULL, NULL } };
	char *operands[1];

	if (cli_parse(c, argc, argv, opts, true, operands, 1) != 1)
		return cli_usage(c, import_usage, NULL);
	a->path = operands[0];
	return CLI_OK;
}

#ifndef HAVE_SQLITE3

int cmd_import(cli_t *c, int argc, char **argv)
{
	import_args_t a = { 0 };
	int rc;

	if (cli_help_asked(argc, argv))
		return cli_help(import_usage, argc, argv);
	if ((rc = parse_args(c, argc, argv, &a)) != CLI_OK)
		return rc;
	return cli_fail(c, CLI_STORE, "acmensctl was built without SQLite support (libsqlite3-dev)");
}

#else

/*
 * One row per account and value (one with NULL values for an account that
 * has none), the values of an account oldest first. acme-dns keeps two
 * rows per account in txt, the unused ones with an empty Value.
 */
static const char import_sql[] =
	"SELECT r.rowid, r.Username, r.Password, r.Subdomain, r.AllowFrom, t.Value, t.LastUpdate"
	" FROM records AS r LEFT JOIN txt AS t ON t.Subdomain = r.Subdomain AND t.Value <> ''"
	" ORDER BY r.rowid, t.LastUpdate, t.rowid";

enum { COL_ROWID, COL_USER, COL_PASSWORD, COL_SUB, COL_ALLOW, COL_VALUE, COL_TIME };

typedef struct {
	size_t imported, present, conflicts, invalid;   /* accounts */
	size_t values, values_skipped;
} import_counts_t;

/* One acme-dns account and the values found for it so far. */
typedef struct {
	sqlite_int64 rowid;
	bool valid;                     /* the record makes an account */
	acm_account_t acc;
	size_t n;
	acm_txt_t vals[ACM_RR_COUNT_MAX];
} import_group_t;

typedef struct {
	sqlite3 *db;
	sqlite3_stmt *st;
	uint64_t now;
	uint64_t expiry;                /* http.txt_expiry; 0 = values never expire */
	unsigned max_values;
	import_counts_t n;
	char sqlerr[256];               /* why reading the database failed */
	import_group_t g;
} import_t;

static void warn(const char *what, const char *sub, const char *why)
{
	fprintf(stderr, "acmensctl: %s: account %s: %s\n", what, sub, why);
}

/* A text column as a bounded string; false if it is NULL or too long. */
static bool column_text(sqlite3_stmt *st, int col, char *out, size_t cap)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	int len = sqlite3_column_bytes(st, col);

	if (!t || len < 0 || (size_t)len >= cap || memchr(t, '\0', (size_t)len))
		return false;
	memcpy(out, t, (size_t)len);
	out[len] = '\0';
	return true;
}

/* Keep the entries acmensd can match; the ones it cannot are dropped with
 * a warning. Returns false when nothing is left of a non-empty list: the
 * account would otherwise be open to every address. */
static bool take_allowfrom(import_t *im, const char *json, acm_account_t *acc)
{
	json_t *arr = json && *json ? json_loads(json, JSON_DECODE_ANY, NULL) : NULL;
	size_t i, total = 0;
	json_t *e;

	/* acme-dns reads JSON null as no list, and fails the account on
	 * anything else that is not an array. */
	if (json && *json && !json_is_array(arr) && !json_is_null(arr)) {
		warn("warning", acc->subdomain, "AllowFrom is not a JSON array");
		total = 1;
	}
	json_array_foreach(arr, i, e) {
		char clean[ACM_CIDR_MAX + 1];
		acm_cidr_t cidr;
		const char *s = json_is_string(e) ? json_string_value(e) : "";

		total++;
		if (acm_allowfrom_parse(s, strlen(s), clean, &cidr) != ACM_OK) {
			char why[128];
			snprintf(why, sizeof(why), "skipping allowfrom entry \"%.64s\": no CIDR", s);
			warn("warning", acc->subdomain, why);
		} else if (acc->allowfrom_count == ACM_ALLOWFROM_MAX) {
			warn("warning", acc->subdomain, "skipping allowfrom entries beyond 16");
		} else {
			memcpy(acc->allowfrom[acc->allowfrom_count++], clean, sizeof(clean));
		}
	}
	json_decref(arr);
	return total == 0 || acc->allowfrom_count > 0;
}

/* The account of the current row's record; false if it cannot be one. */
static bool read_account(import_t *im, acm_account_t *acc)
{
	char allow[4096];
	const char *why = NULL;

	memset(acc, 0, sizeof(*acc));
	if (!column_text(im->st, COL_SUB, acc->subdomain, sizeof(acc->subdomain)))
		why = "Subdomain is not a DNS label";
	else if (!column_text(im->st, COL_USER, acc->username, sizeof(acc->username)) ||
	         acc->username[0] == '\0')
		why = "Username is empty or too long";
	else if (!column_text(im->st, COL_PASSWORD, acc->key_hash, sizeof(acc->key_hash)) ||
	         !acm_bcrypt_hash_ok(acc->key_hash))
		why = "Password is not a bcrypt hash";
	for (char *p = acc->subdomain; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (why) {
		warn("invalid", acc->subdomain[0] ? acc->subdomain : "(unnamed)", why);
		return false;
	}
	acc->key_scheme = ACM_KEY_BCRYPT;
	acc->created = acc->updated = im->now;
	if (sqlite3_column_type(im->st, COL_ALLOW) == SQLITE_NULL)
		return true;
	if (!column_text(im->st, COL_ALLOW, allow, sizeof(allow))) {
		warn("invalid", acc->subdomain, "AllowFrom is too long");
		return false;
	}
	if (!take_allowfrom(im, allow, acc)) {
		warn("invalid", acc->subdomain, "no usable allowfrom entry is left");
		return false;
	}
	return true;
}

/* The current row's value into the group, the oldest making room once the
 * buffer is full (rows come oldest first). */
static void read_value(import_t *im, import_group_t *g)
{
	acm_txt_t v = { 0 };
	sqlite_int64 t = sqlite3_column_int64(im->st, COL_TIME);

	if (sqlite3_column_type(im->st, COL_VALUE) == SQLITE_NULL)
		return;
	/* A value without a time counts as set now, as acmensd would count it. */
	v.set_time = t > 0 ? (uint64_t)t : im->now;
	v.expires = im->expiry ? acm_expiry_after(v.set_time, im->expiry) : 0;
	if (!column_text(im->st, COL_VALUE, v.value, sizeof(v.value)) ||
	    acm_txt_check(v.value, strlen(v.value)) != ACM_OK) {
		warn("warning", g->acc.subdomain, "skipping a TXT value that is not valid");
		im->n.values_skipped++;
		return;
	}
	if (acm_expired(v.expires, im->now)) {
		im->n.values_skipped++;       /* acmensd would have dropped it by now */
		return;
	}
	v.len = strlen(v.value);
	if (g->n == ACM_RR_COUNT_MAX) {
		memmove(&g->vals[0], &g->vals[1], (g->n - 1) * sizeof(g->vals[0]));
		g->n--;
		im->n.values_skipped++;
	}
	g->vals[g->n++] = v;
}

/* The newest values, as many as a name may hold. */
static int put_values(acm_wtxn_t *w, import_t *im, import_group_t *g)
{
	size_t skip = g->n > im->max_values ? g->n - im->max_values : 0;

	if (g->n == 0)
		return ACM_OK;
	if (skip) {
		warn("warning", g->acc.subdomain, "keeping only the newest TXT values");
		im->n.values_skipped += skip;
	}
	im->n.values += g->n - skip;
	return acm_wtxn_txt_replace(w, g->acc.subdomain, g->vals + skip, g->n - skip);
}

/* An account already in the store is the same one if the username matches
 * (its key may have been upgraded since an earlier import). */
static int classify_existing(import_t *im, const acm_account_t *cur, const import_group_t *g)
{
	if (strcmp(cur->username, g->acc.username) == 0) {
		im->n.present++;
	} else {
		warn("conflict", g->acc.subdomain, "the subdomain belongs to another account");
		im->n.conflicts++;
	}
	im->n.values_skipped += g->n;
	return ACM_OK;
}

/* Create the group's account and values, or count why not. Returns ACM_OK
 * or an error that must abort the transaction. */
static int import_group(acm_wtxn_t *w, import_t *im, import_group_t *g)
{
	acm_account_t cur;
	int rc;

	if (!g->valid) {
		im->n.invalid++;
		im->n.values_skipped += g->n;
		return ACM_OK;
	}
	rc = acm_wtxn_account_get(w, g->acc.subdomain, &cur);
	if (rc == ACM_OK)
		return classify_existing(im, &cur, g);
	if (rc != ACM_ENOTFOUND)
		return rc;
	rc = acm_wtxn_account_create(w, &g->acc);
	if (rc == ACM_EEXIST) {
		warn("conflict", g->acc.subdomain, "the username belongs to another account");
		im->n.conflicts++;
	} else if (rc == ACM_EBADNAME || rc == ACM_ERANGE) {
		warn("invalid", g->acc.subdomain, acm_strerror(rc));
		im->n.invalid++;
	}
	if (rc == ACM_EEXIST || rc == ACM_EBADNAME || rc == ACM_ERANGE) {
		im->n.values_skipped += g->n;
		return ACM_OK;
	}
	if (rc != ACM_OK)
		return rc;
	im->n.imported++;
	return put_values(w, im, g);
}

static void group_start(import_t *im, import_group_t *g)
{
	g->rowid = sqlite3_column_int64(im->st, COL_ROWID);
	g->n = 0;
	g->valid = read_account(im, &g->acc);
}

/* The whole import inside one write transaction (cli_write's callback). */
static int import_all(acm_wtxn_t *w, void *arg)
{
	import_t *im = arg;
	import_group_t *g = &im->g;
	bool open = false;
	int src, rc = ACM_OK;

	sqlite3_reset(im->st);
	while (rc == ACM_OK && (src = sqlite3_step(im->st)) == SQLITE_ROW) {
		if (!open || sqlite3_column_int64(im->st, COL_ROWID) != g->rowid) {
			if (open)
				rc = import_group(w, im, g);
			group_start(im, g);
			open = true;
		}
		read_value(im, g);
	}
	if (rc != ACM_OK)
		return rc;
	if (src != SQLITE_DONE) {
		snprintf(im->sqlerr, sizeof(im->sqlerr), "%s", sqlite3_errmsg(im->db));
		return ACM_ERROR;
	}
	return open ? import_group(w, im, g) : ACM_OK;
}

/* Open the database read-only and check that it has acme-dns's tables. */
static int open_db(cli_t *c, const char *path, import_t *im)
{
	int src = sqlite3_open_v2(path, &im->db, SQLITE_OPEN_READONLY, NULL);

	if (src != SQLITE_OK)
		return cli_fail(c, CLI_STORE, "cannot open %s: %s", path,
		                im->db ? sqlite3_errmsg(im->db) : sqlite3_errstr(src));
	/* acme-dns may hold a write lock for a moment. */
	sqlite3_busy_timeout(im->db, 5000);
	if (sqlite3_prepare_v2(im->db, import_sql, -1, &im->st, NULL) != SQLITE_OK)
		return cli_fail(c, CLI_STORE, "%s is not an acme-dns database: %s", path,
		                sqlite3_errmsg(im->db));
	return CLI_OK;
}

static void print_counts(const cli_t *c, const import_t *im, bool dry_run, uint32_t serial)
{
	const import_counts_t *n = &im->n;

	if (c->json) {
		cli_print_json(json_pack(
			"{s:b, s:{s:I, s:I, s:I, s:I}, s:{s:I, s:I}, s:I}", "dry_run", dry_run,
			"accounts", "imported", (json_int_t)n->imported, "present",
			(json_int_t)n->present, "conflicts", (json_int_t)n->conflicts, "invalid",
			(json_int_t)n->invalid, "values", "imported", (json_int_t)n->values,
			"skipped", (json_int_t)n->values_skipped, "serial", (json_int_t)serial));
		return;
	}
	if (dry_run)
		printf("dry run: nothing was changed; an import would give\n");
	printf("accounts: %zu imported, %zu already present, %zu conflicting, %zu invalid\n",
	       n->imported, n->present, n->conflicts, n->invalid);
	printf("values:   %zu imported, %zu skipped\n", n->values, n->values_skipped);
	printf("serial:   %u\n", serial);
}

/* A dry run goes through the same transaction and throws it away. */
static int run_dry(acm_store_t *store, import_t *im, uint32_t *serial)
{
	acm_wtxn_t *w;
	int rc = acm_store_write_begin(store, &w);

	if (rc != ACM_OK)
		return rc;
	rc = import_all(w, im);
	acm_store_write_abort(w);
	return rc == ACM_OK ? acm_store_serial(store, serial) : rc;
}

static int run_import(cli_t *c, const import_args_t *a, import_t *im)
{
	acm_store_t *store;
	uint32_t serial = 0;
	int rc = cli_open_store(c, false, &store);

	if (rc != CLI_OK)
		return rc;
	im->max_values = acm_store_max_values(store);
	im->expiry = c->cfg->http.txt_expiry;
	rc = a->dry_run ? run_dry(store, im, &serial) : cli_write(store, import_all, im, &serial);
	acm_store_close(store);
	if (rc != ACM_OK && im->sqlerr[0])
		return cli_fail(c, CLI_STORE, "cannot read %s: %s", a->path, im->sqlerr);
	if (rc != ACM_OK)
		return cli_fail(c, CLI_STORE, "import failed, nothing was changed: %s",
		                acm_strerror(rc));
	print_counts(c, im, a->dry_run, serial);
	return im->n.conflicts || im->n.invalid ? CLI_REJECTED : CLI_OK;
}

int cmd_import(cli_t *c, int argc, char **argv)
{
	import_args_t a = { 0 };
	/* Large (a group holds up to 255 values): not for the stack. */
	static import_t im;
	int rc;

	if (cli_help_asked(argc, argv))
		return cli_help(import_usage, argc, argv);
	if ((rc = parse_args(c, argc, argv, &a)) != CLI_OK)
		return rc;
	im.now = (uint64_t)time(NULL);
	if ((rc = open_db(c, a.path, &im)) == CLI_OK)
		rc = run_import(c, &a, &im);
	sqlite3_finalize(im.st);
	sqlite3_close(im.db);
	return rc;
}

#endif
