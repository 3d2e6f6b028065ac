/* SPDX-License-Identifier: ISC */
/*
 * acmensctl delegation check: "will this renewal validate?" for one
 * customer domain or a file of them, resolved the way the CA resolves
 * (lib/rt/delegation.h). Checks run delegation.concurrency at a time on one
 * resolver context; the next pair is read as a result comes, so a file of
 * any length takes the memory of its results only. Each result is kept as
 * the account's last check in the store (lib/store/store_deleg.h).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/deleg_input.h"
#include "cli/table.h"
#include "lib/clock.h"
#include "lib/error.h"
#include "lib/rt/delegation.h"
#include "lib/rt/delegation_json.h"
#include "lib/store/store_deleg.h"

#define ERROR_ROW ACM_DELEG_STATUS_COUNT    /* a pair that could not be checked */
#define RECORD_BATCH 1024                   /* results kept per store transaction */
#define PROGRESS_MS 250
#define EXIT_NOT_ALL_OK 1                   /* a pair did not end ok */

static const cli_usage_t delegation_usage[] = {
	{ "check", "delegation check DOMAIN SUBDOMAIN | --file FILE [--concurrency N] [--no-record]",
	  "  Resolves _acme-challenge.DOMAIN as the CA will (delegation.resolvers, or\n"
	  "  from the root; DNSSEC validated against delegation.trust_anchor_file),\n"
	  "  follows its CNAME chain and says whether it ends at the account\n"
	  "  SUBDOMAIN: ok, missing, not_delegated, wrong_target, loop, bogus,\n"
	  "  servfail or timeout (docs/delegation.md says what to tell the customer).\n"
	  "  FILE (\"-\": standard input) holds one \"DOMAIN SUBDOMAIN\" a line,\n"
	  "  separated by white space or a comma; # starts a comment. N checks at\n"
	  "  once (default delegation.concurrency). Prints a table, or a JSON object\n"
	  "  a line with --json, then a summary by status; progress on standard\n"
	  "  error when it is a terminal. Each result is kept as the account's last\n"
	  "  check (acmensctl account show), unless --no-record. Exit 0 when every\n"
	  "  pair is ok, 1 otherwise.\n" },
	{ NULL, NULL, NULL },
};

typedef struct {
	size_t line;                    /* input order, for the table */
	char *cells[5];                 /* domain, subdomain, status, secure, detail */
} row_t;

typedef struct {
	cli_t *c;
	acm_store_t *store;
	acm_deleg_t *d;
	size_t concurrency;
	/* input: one pair from the command line, or a file */
	FILE *in;
	const char *in_name;
	char *one[2];
	size_t lineno;
	bool eof;
	/* output */
	row_t *rows;
	size_t nrows, rows_cap;
	bool rows_lost;
	uint64_t counts[ERROR_ROW + 1];
	size_t done, total;
	bool tty;
	uint64_t started_ms, shown_ms;
	/* results waiting for the store */
	bool record;
	acm_deleg_put_t puts[RECORD_BATCH];
	char put_subs[RECORD_BATCH][ACM_LABEL_MAX + 1];
	size_t nputs;
	int record_rc;
} run_t;

typedef struct {
	run_t *run;
	size_t line;
} job_t;

static const char *status_word(int status)
{
	return status == ERROR_ROW ? "error" : acm_deleg_status_name((acm_deleg_status_t)status);
}

/* ---- results ------------------------------------------------------------------ */

static void keep_row(run_t *run, size_t line, const char *const *cells)
{
	if (run->nrows == run->rows_cap) {
		size_t cap = run->rows_cap ? run->rows_cap * 2 : 64;
		row_t *grown = realloc(run->rows, cap * sizeof(*grown));
		if (!grown) {
			run->rows_lost = true;
			return;
		}
		run->rows = grown;
		run->rows_cap = cap;
	}
	row_t *r = &run->rows[run->nrows];
	r->line = line;
	for (size_t i = 0; i < 5; i++) {
		r->cells[i] = strdup(cells[i] ? cells[i] : "-");
		if (!r->cells[i])
			run->rows_lost = true;
	}
	run->nrows++;
}

/* What the table says of a result beyond its status. */
static void detail(const acm_deleg_result_t *r, char *out, size_t len)
{
	size_t n = 0;

	switch (r->status) {
	case ACM_DELEG_OK:
		if (r->value_count == 0)
			snprintf(out, len, "no values visible");
		for (size_t i = 0; i < r->value_count && n < len; i++)
			n += (size_t)snprintf(out + n, len - n, "%s%s", i ? ", " : "values: ",
					      r->values[i]);
		break;
	case ACM_DELEG_WRONG_TARGET:
		snprintf(out, len, "%s%s%s%s", r->target,
			 r->target_is_account ? " (another account)" : "",
			 r->reason[0] ? ": " : "", r->reason);
		break;
	default:
		snprintf(out, len, "%s", r->reason[0] ? r->reason : "-");
		break;
	}
}

static void flush_records(run_t *run)
{
	if (run->nputs == 0)
		return;
	int rc = acm_store_deleg_put_many(run->store, run->puts, run->nputs);
	if (rc != ACM_OK && run->record_rc == ACM_OK)
		run->record_rc = rc;
	run->nputs = 0;
}

static void record(run_t *run, const acm_deleg_result_t *r)
{
	if (!run->record)
		return;
	size_t i = run->nputs++;
	snprintf(run->put_subs[i], sizeof(run->put_subs[i]), "%s", r->subdomain);
	run->puts[i] = (acm_deleg_put_t){ .subdomain = run->put_subs[i],
		.rec = { .checked = r->checked, .status = (uint8_t)r->status, .secure = r->secure } };
	if (run->nputs == RECORD_BATCH)
		flush_records(run);
}

static void on_result(void *arg, const acm_deleg_result_t *r)
{
	job_t *job = arg;
	run_t *run = job->run;
	char secure[4], more[ACM_DELEG_MAX_VALUES * (ACM_DELEG_VALUE_MAX + 2) + ACM_DNAME_TXT_MAX];

	run->counts[r->status]++;
	run->done++;
	record(run, r);
	if (run->c->json) {
		cli_print_json(acm_deleg_result_json(r, true));
	} else {
		snprintf(secure, sizeof(secure), "%s", r->secure ? "yes" : "no");
		detail(r, more, sizeof(more));
		keep_row(run, job->line, (const char *const[]){
			r->domain, r->subdomain, status_word((int)r->status), secure, more });
	}
	free(job);
}

/* A pair that could not be checked: a line that is not one, an account
 * that does not exist, a name that is none. */
static void error_row(run_t *run, const char *domain, const char *sub, const char *why)
{
	char text[512];

	run->counts[ERROR_ROW]++;
	run->done++;
	if (run->in_name)
		snprintf(text, sizeof(text), "%s line %zu: %s", run->in_name, run->lineno, why);
	else
		snprintf(text, sizeof(text), "%s", why);
	if (run->c->json) {
		cli_print_json(json_pack("{s:s?, s:s?, s:s, s:I}", "domain", domain, "subdomain", sub,
					 "error", why, "line", (json_int_t)run->lineno));
		return;
	}
	keep_row(run, run->lineno, (const char *const[]){ domain, sub, "error", NULL, text });
}

/* ---- input -------------------------------------------------------------------- */

/* The next pair into domain and sub (pointing into buf): 1, or 0 at the end. */
static int next_pair(run_t *run, char **buf, size_t *cap, char **domain, char **sub)
{
	const char *why = NULL;

	if (!run->in) {
		if (run->eof)
			return 0;
		run->eof = true;
		run->lineno = 1;
		*domain = run->one[0];
		*sub = run->one[1];
		return 1;
	}
	while (getline(buf, cap, run->in) >= 0) {
		run->lineno++;
		switch (deleg_input_line(*buf, domain, sub, &why)) {
		case DELEG_LINE_PAIR:
			return 1;
		case DELEG_LINE_BAD:
			error_row(run, NULL, NULL, why);
			break;
		default:
			break;
		}
	}
	run->eof = true;
	return 0;
}

static bool is_account(void *arg, const char *label)
{
	acm_account_t acc;
	return acm_store_account_get(arg, label, &acc) == ACM_OK;
}

static void lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s + 32);
}

/* Starts checks until concurrency run or the input ends. */
static void fill(run_t *run, char **buf, size_t *cap)
{
	char *domain, *sub;

	while (acm_deleg_running(run->d) < run->concurrency && next_pair(run, buf, cap, &domain, &sub)) {
		lower(sub);
		if (acm_label_check(sub, strlen(sub)) != ACM_OK) {
			error_row(run, domain, sub, "not an account name (a label of a-z, 0-9 and -)");
			continue;
		}
		if (!is_account(run->store, sub)) {
			error_row(run, domain, sub, "no such account");
			continue;
		}
		job_t *job = malloc(sizeof(*job));
		int rc = job ? ACM_OK : -ENOMEM;
		if (rc == ACM_OK) {
			*job = (job_t){ .run = run, .line = run->lineno };
			rc = acm_deleg_start(run->d, domain, sub, on_result, job);
		}
		if (rc != ACM_OK) {
			free(job);
			error_row(run, domain, sub, rc == -EINVAL ? "not a domain name" : acm_strerror(rc));
		}
	}
}

/* How many rows FILE makes (pairs and bad lines), for the progress line;
 * 0 when it cannot be read twice (standard input, a pipe). */
static size_t count_pairs(FILE *in)
{
	char *line = NULL, *a, *b;
	const char *why;
	size_t cap = 0, n = 0;
	long at = ftell(in);

	if (at < 0)
		return 0;
	while (getline(&line, &cap, in) >= 0)
		n += deleg_input_line(line, &a, &b, &why) != DELEG_LINE_SKIP;
	free(line);
	return fseek(in, at, SEEK_SET) == 0 ? n : 0;
}

/* ---- progress and the end ------------------------------------------------------ */

static double rate(const run_t *run)
{
	uint64_t ms = acm_boot_ms() - run->started_ms;
	return ms ? (double)run->done * 1000.0 / (double)ms : 0.0;
}

static void progress(run_t *run, bool last)
{
	uint64_t now = acm_boot_ms();

	if (!run->tty || (!last && now - run->shown_ms < PROGRESS_MS))
		return;
	run->shown_ms = now;
	fprintf(stderr, "\r\033[K%zu", run->done);
	if (run->total)
		fprintf(stderr, "/%zu", run->total);
	fprintf(stderr, " checked, %.0f/s", rate(run));
	for (int s = 0; s <= ERROR_ROW; s++)
		if (run->counts[s])
			fprintf(stderr, ", %s %llu", status_word(s), (unsigned long long)run->counts[s]);
	if (last)
		fputc('\n', stderr);
	fflush(stderr);
}

static int by_line(const void *a, const void *b)
{
	const row_t *x = a, *y = b;
	return x->line < y->line ? -1 : x->line > y->line;
}

static int print_table(run_t *run)
{
	cli_table_t *t = cli_table_new("lllll", "DOMAIN", "SUBDOMAIN", "STATUS", "SECURE", "DETAIL");

	qsort(run->rows, run->nrows, sizeof(*run->rows), by_line);
	for (size_t i = 0; t && i < run->nrows; i++)
		cli_table_row(t, (const char *const *)run->rows[i].cells);
	if (run->rows_lost) {
		cli_table_free(t);
		return cli_fail(run->c, CLI_STORE, "delegation check: %s", acm_strerror(-ENOMEM));
	}
	return cli_table_finish(run->c, t, "delegation check");
}

static void print_summary(const run_t *run)
{
	if (run->c->json) {
		json_t *counts = json_object();
		for (int s = 0; s <= ERROR_ROW; s++)
			json_object_set_new(counts, status_word(s), json_integer((json_int_t)run->counts[s]));
		cli_print_json(json_pack("{s:o, s:I}", "summary", counts, "pairs",
					 (json_int_t)run->done));
		return;
	}
	printf("%s%zu pair%s:", run->nrows ? "\n" : "", run->done, run->done == 1 ? "" : "s");
	for (int s = 0, first = 1; s <= ERROR_ROW; s++) {
		if (!run->counts[s])
			continue;
		printf("%s %llu %s", first ? "" : ",", (unsigned long long)run->counts[s],
		       status_word(s));
		first = 0;
	}
	printf("\n");
}

static int finish_run(run_t *run)
{
	int rc = CLI_OK;

	progress(run, true);
	flush_records(run);
	if (!run->c->json)
		rc = print_table(run);
	print_summary(run);
	if (run->record_rc != ACM_OK)
		fprintf(stderr, "delegation check: the results were not all kept in the store: %s\n",
			acm_strerror(run->record_rc));
	if (rc == CLI_OK && run->counts[ACM_DELEG_OK] != run->done)
		rc = EXIT_NOT_ALL_OK;
	return rc;
}

/* ---- the loop ----------------------------------------------------------------- */

static int drive(run_t *run)
{
	char *buf = NULL;
	size_t cap = 0;
	int rc = ACM_OK;
	struct pollfd pfd = { .fd = acm_deleg_fd(run->d), .events = POLLIN };

	run->started_ms = acm_boot_ms();
	for (;;) {
		fill(run, &buf, &cap);
		progress(run, false);
		if (acm_deleg_running(run->d) == 0 && run->eof)
			break;
		int64_t wait = acm_deleg_expire(run->d, acm_boot_ms());
		/* the deadline ended the last ones: read on, or end */
		if (acm_deleg_running(run->d) == 0)
			continue;
		if (run->tty && (wait < 0 || wait > PROGRESS_MS))
			wait = PROGRESS_MS;
		int n = poll(&pfd, 1, (int)wait);
		if (n < 0 && errno != EINTR) {
			rc = -errno;
			break;
		}
		if (n > 0 && (rc = acm_deleg_process(run->d)) != ACM_OK)
			break;
	}
	free(buf);
	return rc;
}

static int open_input(const cli_t *c, run_t *run, const char *file)
{
	if (!file)
		return CLI_OK;
	run->in_name = strcmp(file, "-") == 0 ? "standard input" : file;
	run->in = strcmp(file, "-") == 0 ? stdin : fopen(file, "r");
	if (!run->in)
		return cli_fail(c, CLI_STORE, "delegation check: cannot read %s: %s", file,
				acm_strerror(-errno));
	run->total = count_pairs(run->in);
	return CLI_OK;
}

static int start_resolver(cli_t *c, run_t *run)
{
	char err[ACM_CONFIG_ERR_MAX];
	int rc = acm_deleg_new(c->cfg, is_account, run->store, &run->d, err, sizeof(err));

	if (rc == -ENOTSUP)
		return cli_fail(c, CLI_STORE, "delegation check: acmensctl was built without "
				"libunbound, so it cannot check delegations (install libunbound-dev "
				"and build again)");
	if (rc != ACM_OK)
		return cli_fail(c, CLI_STORE, "delegation check: %s", err[0] ? err : acm_strerror(rc));
	return CLI_OK;
}

static int check(cli_t *c, const char *file, bool no_record, char **pair)
{
	/* large (a batch of records for the store): not for the stack */
	static run_t run;
	int rc = CLI_OK;

	run = (run_t){ .c = c, .record = !no_record, .one = { pair[0], pair[1] },
		       .concurrency = c->cfg->delegation.concurrency,
		       .tty = isatty(STDERR_FILENO) == 1 };
	if ((rc = cli_open_store(c, no_record, &run.store)) != CLI_OK)
		return rc;
	if ((rc = start_resolver(c, &run)) == CLI_OK && (rc = open_input(c, &run, file)) == CLI_OK) {
		int drc = drive(&run);
		rc = drc == ACM_OK ? finish_run(&run)
				   : cli_fail(c, CLI_STORE, "delegation check: %s", acm_strerror(drc));
	}
	acm_deleg_free(run.d);
	if (run.in && run.in != stdin)
		fclose(run.in);
	for (size_t i = 0; i < run.nrows; i++)
		for (size_t k = 0; k < 5; k++)
			free(run.rows[i].cells[k]);
	free(run.rows);
	acm_store_close(run.store);
	return rc;
}

static int delegation_check(cli_t *c, int argc, char **argv)
{
	const char *file = NULL, *conc_text = NULL;
	bool no_record = false;
	const cli_opt_t opts[] = { { "--file", &file, NULL }, { "--concurrency", &conc_text, NULL },
				   { "--no-record", NULL, &no_record }, { NULL, NULL, NULL } };
	char *pair[2] = { NULL, NULL };
	uint64_t conc = 0;
	int n = cli_parse(c, argc, argv, opts, true, pair, 2);

	if (n < 0 || (file ? n != 0 : n != 2))
		return cli_usage(c, delegation_usage, "check");
	if (conc_text && cli_number(c, "--concurrency", conc_text, 1, 10000, &conc) != CLI_OK)
		return CLI_USAGE;
	int rc = cli_load_config(c);
	if (rc != CLI_OK)
		return rc;
	if (conc)
		c->cfg->delegation.concurrency = (unsigned)conc;
	return check(c, file, no_record, pair);
}

int cmd_delegation(cli_t *c, int argc, char **argv)
{
	if (cli_help_asked(argc, argv))
		return cli_help(delegation_usage, argc, argv);
	if (argc < 2)
		return cli_usage(c, delegation_usage, NULL);
	if (strcmp(argv[1], "check") == 0)
		return delegation_check(c, argc - 1, argv + 1);
	return cli_unknown_verb(c, "delegation", argv[1]);
}
