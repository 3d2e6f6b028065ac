/* SPDX-License-Identifier: ISC */
/*
 * acmensctl import-acmedns: moves an acme-dns database (SQLite or
 * PostgreSQL, read through import_src.h) into the store: accounts with
 * their bcrypt hashes and allowfrom lists, and their current TXT values,
 * so that existing clients keep working with the credentials they have.
 * Written in short transactions, so that a running acmensd keeps serving
 * writes; one audit record summarises the whole import; a second run
 * skips what the first one stored.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/import_src.h"
#include "lib/clock.h"
#include "lib/conf/cidr.h"
#include "lib/error.h"
#include "lib/store/keys.h"

static const cli_usage_t import_usage[] = {
	{ "", "import-acmedns DB|postgres://USER:PASS@HOST:PORT/DB [--dry-run] [--progress]",
	  "  Copies the accounts of an acme-dns database, a SQLite file or a\n"
	  "  PostgreSQL database named by a URL (their bcrypt keys keep working\n"
	  "  and are upgraded on first use), and their current TXT values into\n"
	  "  the store. Accounts are written a thousand at a time (or 50 ms of\n"
	  "  work), so a running acmensd's writes wait little; one audit record\n"
	  "  summarises the import. Accounts already imported are skipped, so an\n"
	  "  interrupted import is continued by running it again; an account whose\n"
	  "  subdomain or username belongs to another account, or that is invalid,\n"
	  "  is reported and skipped, and the command then exits 4. --progress\n"
	  "  shows a count, rate and estimate on stderr (the default when stderr\n"
	  "  is a terminal). --dry-run reports what an import would do and changes\n"
	  "  nothing.\n" },
	{ NULL, NULL, NULL },
};

/* A transaction ends after this many accounts or this much time, whichever
 * comes first: acmensd's group commit waits for it at most that long. */
#define CHUNK_ACCOUNTS 1000
#define CHUNK_NS (50 * 1000000ull)
#define PROGRESS_NS (500 * 1000000ull)
/* The store's write lock is not fair: taken again at once, it can pass a
 * waiting acmensd by for many chunks in a row. A pause lets it in. */
#define CHUNK_PAUSE_NS (2 * 1000000L)

typedef struct {
	const char *location;
	bool dry_run;
	bool progress;
} import_args_t;

static int parse_args(cli_t *c, int argc, char **argv, import_args_t *a)
{
	bool progress = false;
	const cli_opt_t opts[] = { { "--dry-run", NULL, &a->dry_run },
		                   { "--progress", NULL, &progress },
		                   { NULL, NULL, NULL } };
	char *operands[1];

	if (cli_parse(c, argc, argv, opts, true, operands, 1) != 1)
		return cli_usage(c, import_usage, NULL);
	a->location = operands[0];
	a->progress = progress || isatty(STDERR_FILENO);
	return CLI_OK;
}

/* Why an account or a value was not imported. */
enum { SKIP_PRESENT, SKIP_CONFLICT, SKIP_INVALID, SKIP_ACCOUNTS };
/* A value skipped with its account has the account's reason: VSKIP_ACCOUNT
 * plus the account's SKIP_ reason. */
enum { VSKIP_INVALID, VSKIP_EXPIRED, VSKIP_EXCESS, VSKIP_ACCOUNT,
       VSKIP_VALUES = VSKIP_ACCOUNT + SKIP_ACCOUNTS };
static const char *const skip_names[SKIP_ACCOUNTS] = { "already present", "conflict", "invalid" };
static const char *const vskip_names[VSKIP_VALUES] = { "invalid", "expired", "beyond the limit",
	                                               "account already present",
	                                               "account conflicting", "account invalid" };

typedef struct {
	size_t imported, values;
	size_t skipped[SKIP_ACCOUNTS];
	size_t vskipped[VSKIP_VALUES];
} import_counts_t;

/* One acme-dns account and the values found for it so far. */
typedef struct {
	char *user;                     /* the source's Username, to see where it ends */
	size_t user_len, user_cap;
	bool valid;                     /* the record makes an account */
	acm_account_t acc;
	size_t n;
	acm_txt_t vals[ACM_RR_COUNT_MAX];
} import_group_t;

typedef struct {
	import_src_t *src;
	uint64_t now;
	uint64_t expiry;                /* http.txt_expiry; 0 = values never expire */
	unsigned max_values;
	import_counts_t n;
	size_t done;                    /* accounts gone through */
	uint64_t started, shown;        /* monotonic ns: the start, the last progress line */
	bool progress, tty;
	import_group_t g;
} import_t;

static void warn(const char *what, const char *sub, const char *why)
{
	fprintf(stderr, "acmensctl: %s: account %s: %s\n", what, sub, why);
}

/* A column as a bounded string; false if it is NULL or too long. */
static bool column_text(const import_col_t *col, char *out, size_t cap)
{
	if (!col->p || col->len >= cap || memchr(col->p, '\0', col->len))
		return false;
	memcpy(out, col->p, col->len);
	out[col->len] = '\0';
	return true;
}

/* Keep the entries acmensd can match; the ones it cannot are dropped with
 * a warning. Returns false when nothing is left of a non-empty list: the
 * account would otherwise be open to every address. */
static bool take_allowfrom(const char *json, acm_account_t *acc)
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

/* The account of a row; false if it cannot be one. */
static bool read_account(import_t *im, const import_row_t *row, acm_account_t *acc)
{
	char allow[4096];
	const char *why = NULL;

	memset(acc, 0, sizeof(*acc));
	if (!column_text(&row->col[IMPORT_SUB], acc->subdomain, sizeof(acc->subdomain)))
		why = "Subdomain is not a DNS label";
	else if (!column_text(&row->col[IMPORT_USER], acc->username, sizeof(acc->username)) ||
	         acc->username[0] == '\0')
		why = "Username is empty or too long";
	else if (!column_text(&row->col[IMPORT_PASSWORD], acc->key_hash, sizeof(acc->key_hash)) ||
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
	if (!row->col[IMPORT_ALLOW].p)
		return true;
	if (!column_text(&row->col[IMPORT_ALLOW], allow, sizeof(allow))) {
		warn("invalid", acc->subdomain, "AllowFrom is too long");
		return false;
	}
	if (!take_allowfrom(allow, acc)) {
		warn("invalid", acc->subdomain, "no usable allowfrom entry is left");
		return false;
	}
	return true;
}

/* A row's value into the group, the oldest making room once the buffer
 * is full (rows come oldest first). */
static void read_value(import_t *im, const import_row_t *row, import_group_t *g)
{
	acm_txt_t v = { 0 };

	if (!row->col[IMPORT_VALUE].p)
		return;
	/* A value without a time counts as set now, as acmensd would count it. */
	v.set_time = row->time > 0 ? (uint64_t)row->time : im->now;
	v.expires = im->expiry ? acm_expiry_after(v.set_time, im->expiry) : 0;
	if (!column_text(&row->col[IMPORT_VALUE], v.value, sizeof(v.value)) ||
	    acm_txt_check(v.value, strlen(v.value)) != ACM_OK) {
		warn("warning", g->acc.subdomain, "skipping a TXT value that is not valid");
		im->n.vskipped[VSKIP_INVALID]++;
		return;
	}
	if (acm_expired(v.expires, im->now)) {
		im->n.vskipped[VSKIP_EXPIRED]++;  /* acmensd would have dropped it by now */
		return;
	}
	v.len = strlen(v.value);
	if (g->n == ACM_RR_COUNT_MAX) {
		memmove(&g->vals[0], &g->vals[1], (g->n - 1) * sizeof(g->vals[0]));
		g->n--;
		im->n.vskipped[VSKIP_EXCESS]++;
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
		im->n.vskipped[VSKIP_EXCESS] += skip;
	}
	im->n.values += g->n - skip;
	return acm_wtxn_txt_replace(w, g->acc.subdomain, g->vals + skip, g->n - skip);
}

/* The group is not imported, for reason (why, if not NULL, is reported). */
static int skip_group(import_t *im, import_group_t *g, int reason, const char *why)
{
	if (why)
		warn(reason == SKIP_INVALID ? "invalid" : "conflict", g->acc.subdomain, why);
	im->n.skipped[reason]++;
	im->n.vskipped[VSKIP_ACCOUNT + reason] += g->n;
	return ACM_OK;
}

/* Create the group's account and values, or count why not. An account
 * already in the store is the same one if the username matches (its key
 * may have been upgraded since an earlier import). Returns ACM_OK or an
 * error that must abort the transaction. */
static int import_group(acm_wtxn_t *w, import_t *im, import_group_t *g)
{
	acm_account_t cur;
	int rc;

	im->done++;
	if (!g->valid)
		return skip_group(im, g, SKIP_INVALID, NULL);
	rc = acm_wtxn_account_get(w, g->acc.subdomain, &cur);
	if (rc == ACM_OK && strcmp(cur.username, g->acc.username) == 0)
		return skip_group(im, g, SKIP_PRESENT, NULL);
	if (rc == ACM_OK)
		return skip_group(im, g, SKIP_CONFLICT, "the subdomain belongs to another account");
	if (rc != ACM_ENOTFOUND)
		return rc;
	rc = acm_wtxn_account_create(w, &g->acc);
	if (rc == ACM_EEXIST)
		return skip_group(im, g, SKIP_CONFLICT, "the username belongs to another account");
	if (rc == ACM_EBADNAME || rc == ACM_ERANGE)
		return skip_group(im, g, SKIP_INVALID, acm_strerror(rc));
	if (rc != ACM_OK)
		return rc;
	im->n.imported++;
	return put_values(w, im, g);
}

/* Whether row belongs to the group being read. */
static bool same_group(const import_group_t *g, const import_row_t *row)
{
	const import_col_t *u = &row->col[IMPORT_USER];

	return g->user && u->p && u->len == g->user_len && memcmp(u->p, g->user, u->len) == 0;
}

/* Start a group with row's account. ACM_OK or -ENOMEM. */
static int group_start(import_t *im, import_group_t *g, const import_row_t *row)
{
	const import_col_t *u = &row->col[IMPORT_USER];

	if (u->len + 1 > g->user_cap) {
		char *p = realloc(g->user, u->len + 1);
		if (!p)
			return -ENOMEM;
		g->user = p;
		g->user_cap = u->len + 1;
	}
	if (u->p)
		memcpy(g->user, u->p, u->len);
	g->user_len = u->len;
	g->n = 0;
	g->valid = read_account(im, row, &g->acc);
	return ACM_OK;
}

/* location for messages and the audit log: a URL's password hidden. */
static void shown_location(const char *location, char *out, size_t cap)
{
	const char *user = strstr(location, "://");
	const char *at = user ? strchr(user + 3, '@') : NULL;
	const char *colon = user ? memchr(user + 3, ':', at ? (size_t)(at - user - 3) : 0) : NULL;

	if (!colon)
		snprintf(out, cap, "%s", location);
	else
		snprintf(out, cap, "%.*s:***%s", (int)(colon - location), location, at);
}

static void progress_line(import_t *im, bool last)
{
	uint64_t now = acm_mono_ns();
	double secs = (double)(now - im->started) / 1e9;
	double rate = secs > 0 ? (double)im->done / secs : 0;
	size_t left = im->src->total > im->done ? im->src->total - im->done : 0;

	if (!im->progress || (!last && now - im->shown < PROGRESS_NS))
		return;
	im->shown = now;
	fprintf(stderr, "%sacmensctl: import: %zu/%zu accounts, %.0f/s, ", im->tty ? "\r" : "",
	        im->done, im->src->total, rate);
	if (last)
		fprintf(stderr, "done in %.1f s\n", secs);
	else if (rate > 0)
		fprintf(stderr, "about %.0f s left%s", (double)left / rate, im->tty ? "   " : "\n");
	else
		fprintf(stderr, "%s", im->tty ? "" : "\n");
	fflush(stderr);
}

static json_t *reasons_json(const char *const *names, const size_t *n, size_t count)
{
	json_t *o = json_object();

	for (size_t i = 0; i < count; i++)
		json_object_set_new(o, names[i], json_integer((json_int_t)n[i]));
	return o;
}

static size_t sum(const size_t *n, size_t count)
{
	size_t s = 0;

	for (size_t i = 0; i < count; i++)
		s += n[i];
	return s;
}

/* The counts, as --json prints them and the audit record keeps them. */
static json_t *counts_json(const import_counts_t *n)
{
	return json_pack("{s:{s:I, s:I, s:I, s:I}, s:{s:I, s:I}, s:{s:o, s:o}}", "accounts",
	                 "imported", (json_int_t)n->imported,
	                 "present", (json_int_t)n->skipped[SKIP_PRESENT],
	                 "conflicts", (json_int_t)n->skipped[SKIP_CONFLICT],
	                 "invalid", (json_int_t)n->skipped[SKIP_INVALID],
	                 "values", "imported", (json_int_t)n->values,
	                 "skipped", (json_int_t)sum(n->vskipped, VSKIP_VALUES),
	                 "skipped", "accounts", reasons_json(skip_names, n->skipped, SKIP_ACCOUNTS),
	                 "values", reasons_json(vskip_names, n->vskipped, VSKIP_VALUES));
}

/* "N skipped", then why, per reason: " (expired: 2, account already
 * present: 5)"; appended to out. */
static void skipped_text(const import_counts_t *n, char *out, size_t cap)
{
	size_t used = strlen(out);
	bool first = true;
	snprintf(out + used, cap - used, "%zu skipped", sum(n->vskipped, VSKIP_VALUES));
	for (size_t i = 0; i < VSKIP_VALUES; i++) {
		if (!n->vskipped[i])
			continue;
		used = strlen(out);
		snprintf(out + used, cap - used, "%s%s: %zu", first ? " (" : ", ", vskip_names[i],
		         n->vskipped[i]);
		first = false;
	}
	used = strlen(out);
	if (!first)
		snprintf(out + used, cap - used, ")");
}

/* The two lines the command prints; the audit record's detail too. */
static void counts_text(const import_counts_t *n, char *out, size_t cap)
{
	snprintf(out, cap,
	         "accounts: %zu imported, %zu already present, %zu conflicting, %zu invalid\n"
	         "values:   %zu imported, ",
	         n->imported, n->skipped[SKIP_PRESENT], n->skipped[SKIP_CONFLICT],
	         n->skipped[SKIP_INVALID], n->values);
	skipped_text(n, out, cap);
	size_t used = strlen(out);
	snprintf(out + used, cap - used, "\n");
}

/* The one audit record of the import, in its last transaction. */
static int audit_summary(acm_wtxn_t *w, const import_t *im, const char *from)
{
	const import_counts_t *n = &im->n;
	char change[1536];
	json_t *detail = counts_json(n);

	snprintf(change, sizeof(change),
	         "import from %s: %zu accounts imported, %zu already present, %zu conflicting, "
	         "%zu invalid; %zu values imported, ",
	         from, n->imported, n->skipped[SKIP_PRESENT], n->skipped[SKIP_CONFLICT],
	         n->skipped[SKIP_INVALID], n->values);
	skipped_text(n, change, sizeof(change));
	if (json_object_set_new(detail, "from", json_string(from)) ||
	    json_object_set_new(detail, "change", json_string(change))) {
		json_decref(detail);
		return -ENOMEM;
	}
	return acm_wtxn_audit_note(w, "import", detail);
}

typedef struct {
	import_t *im;
	const char *from;
	bool dry_run;
	bool open;                      /* im->g holds an account not yet written */
	bool end;                       /* the source has no more rows */
	bool src_failed;
} chunk_t;

/* Whether this transaction has done enough. */
static bool chunk_full(size_t accounts, uint64_t started)
{
	return accounts >= CHUNK_ACCOUNTS || acm_mono_ns() - started >= CHUNK_NS;
}

/*
 * One transaction's worth of accounts (cli_write's callback): rows are read
 * until a bounded number of accounts is written; the account whose first
 * row was read last stays open for the next chunk. After the last row, the
 * summary goes into the same transaction.
 */
static int import_chunk(acm_wtxn_t *w, void *arg)
{
	chunk_t *ck = arg;
	import_t *im = ck->im;
	import_row_t row;
	uint64_t started = acm_mono_ns();
	size_t accounts = 0;
	int rc = ACM_OK, got;

	acm_wtxn_set_audit(w, false);
	while (rc == ACM_OK && (got = im->src->next(im->src, &row)) == 1) {
		if (ck->open && same_group(&im->g, &row)) {
			read_value(im, &row, &im->g);
			continue;
		}
		if (ck->open)
			rc = import_group(w, im, &im->g);
		if (rc == ACM_OK)
			rc = group_start(im, &im->g, &row);
		if (rc != ACM_OK)
			return rc;
		ck->open = true;
		read_value(im, &row, &im->g);
		progress_line(im, false);
		if (chunk_full(++accounts, started))
			return ACM_OK;
	}
	if (rc != ACM_OK)
		return rc;
	if (got < 0) {
		ck->src_failed = true;
		return ACM_ERROR;
	}
	ck->end = true;
	if (ck->open && (rc = import_group(w, im, &im->g)) != ACM_OK)
		return rc;
	ck->open = false;
	return ck->dry_run ? ACM_OK : audit_summary(w, im, ck->from);
}

/* A dry run goes through the same transactions and throws them away. */
static int run_dry_chunk(acm_store_t *store, chunk_t *ck)
{
	acm_wtxn_t *w;
	int rc = acm_store_write_begin(store, &w);

	if (rc != ACM_OK)
		return rc;
	rc = import_chunk(w, ck);
	acm_store_write_abort(w);
	return rc;
}

static void print_counts(const cli_t *c, const import_t *im, bool dry_run, uint32_t serial)
{
	char text[512];

	if (c->json) {
		json_t *o = counts_json(&im->n);
		json_object_set_new(o, "dry_run", json_boolean(dry_run));
		json_object_set_new(o, "serial", json_integer(serial));
		cli_print_json(o);
		return;
	}
	if (dry_run)
		printf("dry run: nothing was changed; an import would give\n");
	counts_text(&im->n, text, sizeof(text));
	printf("%sserial:   %u\n", text, serial);
}

static int run_import(cli_t *c, const import_args_t *a, import_t *im, const char *from)
{
	chunk_t ck = { .im = im, .from = from, .dry_run = a->dry_run };
	acm_store_t *store;
	uint32_t serial = 0;
	size_t stored;
	int rc = cli_open_store(c, false, &store);

	if (rc != CLI_OK)
		return rc;
	im->max_values = acm_store_max_values(store);
	im->expiry = c->cfg->http.txt_expiry;
	im->started = im->shown = acm_mono_ns();
	for (;;) {
		stored = im->n.imported;
		rc = a->dry_run ? run_dry_chunk(store, &ck) : cli_write(store, import_chunk, &ck, &serial);
		if (rc != ACM_OK || ck.end)
			break;
		nanosleep(&(struct timespec){ .tv_nsec = CHUNK_PAUSE_NS }, NULL);
	}
	if (rc == ACM_OK && a->dry_run)
		rc = acm_store_serial(store, &serial);
	acm_store_close(store);
	if (rc != ACM_OK) {
		/* Chunks already committed stay: a second run continues. */
		stored = a->dry_run ? 0 : stored;
		if (ck.src_failed)
			cli_fail(c, CLI_STORE, "cannot read %s: %s", from, im->src->err);
		else
			cli_fail(c, CLI_STORE, "import failed: %s", acm_strerror(rc));
		fprintf(stderr, "acmensctl: %zu accounts were stored before%s\n", stored,
		        stored ? "; running the import again continues from there" : "");
		return CLI_STORE;
	}
	progress_line(im, true);
	print_counts(c, im, a->dry_run, serial);
	return im->n.skipped[SKIP_CONFLICT] || im->n.skipped[SKIP_INVALID] ? CLI_REJECTED : CLI_OK;
}

/* Whether location names a PostgreSQL database rather than a file. */
static bool is_pg(const char *location)
{
	return strncmp(location, "postgres://", 11) == 0 ||
	       strncmp(location, "postgresql://", 13) == 0;
}

/* The source of location: import_src.h's codes, or -1 when acmensctl was
 * built without the library it needs (err says which). */
static int open_db(const char *location, import_src_t **src, char *err, size_t cap)
{
	const char *lib = NULL;

	if (is_pg(location)) {
#ifdef HAVE_LIBPQ
		return import_pg_open(location, src, err, cap);
#endif
		lib = "PostgreSQL support (libpq-dev)";
	} else {
#ifdef HAVE_SQLITE3
		return import_sqlite_open(location, src, err, cap);
#endif
		lib = "SQLite support (libsqlite3-dev)";
	}
	snprintf(err, cap, "acmensctl was built without %s", lib);
	return -1;
}

static int open_source(const cli_t *c, const char *location, const char *from, import_t *im)
{
	char err[256];

	switch (open_db(location, &im->src, err, sizeof(err))) {
	case IMPORT_SRC_OK:
		return CLI_OK;
	case IMPORT_SRC_ESCHEMA:
		return cli_fail(c, CLI_STORE, "%s is not an acme-dns database: %s", from, err);
	case IMPORT_SRC_EOPEN:
		return cli_fail(c, CLI_STORE, "cannot open %s: %s", from, err);
	default:
		return cli_fail(c, CLI_STORE, "cannot read %s: %s", from, err);
	}
}

int cmd_import(cli_t *c, int argc, char **argv)
{
	import_args_t a = { 0 };
	/* Large (a group holds up to 255 values): not for the stack. */
	static import_t im;
	char from[1024];
	int rc;

	if (cli_help_asked(argc, argv))
		return cli_help(import_usage, argc, argv);
	if ((rc = parse_args(c, argc, argv, &a)) != CLI_OK)
		return rc;
	im.now = (uint64_t)time(NULL);
	im.progress = a.progress;
	im.tty = isatty(STDERR_FILENO);
	shown_location(a.location, from, sizeof(from));
	if ((rc = open_source(c, a.location, from, &im)) == CLI_OK) {
		rc = run_import(c, &a, &im, from);
		im.src->close(im.src);
	}
	free(im.g.user);
	return rc;
}
