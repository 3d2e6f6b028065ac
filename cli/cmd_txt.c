/* SPDX-License-Identifier: ISC */
/* acmensctl txt add|remove|set|list: TXT values of an account. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/table.h"
#include "lib/store/account_json.h"
#include "lib/error.h"

static const cli_usage_t txt_usage[] = {
	{ "add", "txt add SUBDOMAIN VALUE [--expires-in SECONDS]",
	  "  Adds one value to the account's name; prints the serial after.\n"
	  "  A value already there, or one beyond zone.txt_max_values, is refused (4).\n"
	  "  --expires-in: stop serving it after that many seconds.\n" },
	{ "remove", "txt remove SUBDOMAIN VALUE",
	  "  Removes one value; 2 if it is not there.\n" },
	{ "set", "txt set SUBDOMAIN [VALUE]...",
	  "  Replaces the whole set of values; without values, clears it.\n" },
	{ "list", "txt list SUBDOMAIN",
	  "  Lists the values with the time each was set and its expiry.\n" },
	{ NULL, NULL, NULL },
};

typedef struct {
	const char *verb;
	const char *subdomain;
	char **values;
	int nvalues;
	uint64_t expires_in;
} txt_args_t;

/*
 * Options are matched by their exact names only: an ACME value may start
 * with '-' (base64url), so anything else is an operand, as is everything
 * after "--".
 */
static int parse_args(cli_t *c, int argc, char **argv, txt_args_t *a)
{
	static char *operands[256];
	const char *expires = NULL;
	const cli_opt_t opts[] = { { "--expires-in", &expires, NULL }, { NULL, NULL, NULL } };
	int n = cli_parse(c, argc, argv, opts, false, operands, 256);
	if (n < 1 || n > 256)
		return cli_usage(c, txt_usage, a->verb);
	if (expires && cli_number(c, "--expires-in", expires, 1, 10ull * 365 * 86400,
	                          &a->expires_in) != CLI_OK)
		return CLI_USAGE;
	a->subdomain = operands[0];
	a->values = operands + 1;
	a->nvalues = n - 1;
	bool one = strcmp(a->verb, "add") == 0 || strcmp(a->verb, "remove") == 0;
	bool none = strcmp(a->verb, "list") == 0;
	int most = one ? 1 : none ? 0 : n;
	if (a->nvalues > most)
		cli_bad_word(c, CLI_BAD_OPERAND, a->values[most]);
	if ((one && a->nvalues != 1) || a->nvalues > most ||
	    (expires && strcmp(a->verb, "add") != 0))
		return cli_usage(c, txt_usage, a->verb);
	return CLI_OK;
}

int cli_values(const cli_t *c, acm_store_t *store, const char *subdomain, json_t *obj)
{
	static acm_txt_t values[ACM_RR_COUNT_MAX];
	size_t n = 0;
	int rc = acm_store_txt_list(store, subdomain, values, ACM_RR_COUNT_MAX, &n);
	if (rc != ACM_OK)
		return rc;
	uint64_t now = (uint64_t)time(NULL);
	if (n > ACM_RR_COUNT_MAX)
		n = ACM_RR_COUNT_MAX;
	if (c->json) {
		size_t live;
		json_object_set_new(obj, "values", acm_values_json(values, n, now, ACM_VALUES_ALL,
		                                                   &live));
		return ACM_OK;
	}
	cli_table_t *t = cli_table_new("lll", "VALUE", "SET", "EXPIRES");
	for (size_t i = 0; i < n; i++) {
		const acm_txt_t *v = &values[i];
		char set[CLI_TIME_MAX], exp[CLI_TIME_MAX], expires[CLI_TIME_MAX + 16];
		snprintf(expires, sizeof(expires), "%s%s", cli_time(v->expires, exp, "never"),
		         acm_expired(v->expires, now) ? " (expired)" : "");
		cli_table_row(t, (const char *[]){ v->value, cli_time(v->set_time, set, "-"),
		                                   expires });
	}
	return cli_table_finish(c, t, "txt list") == CLI_OK ? ACM_OK : -ENOMEM;
}

static int txt_list(cli_t *c, acm_store_t *store, const char *subdomain)
{
	json_t *obj = c->json ? json_pack("{s:s}", "subdomain", subdomain) : NULL;
	int rc = cli_values(c, store, subdomain, obj);
	if (rc != ACM_OK) {
		json_decref(obj);
		return cli_fail(c, cli_exit_code(rc), "%s: %s", subdomain, acm_strerror(rc));
	}
	if (c->json)
		cli_print_json(obj);
	return CLI_OK;
}

/* The change a txt command makes, applied inside cli_write's transaction. */
typedef struct {
	const txt_args_t *a;
	const acm_txt_t *set;
	size_t n;
	uint64_t expires;
} txt_change_t;

static int txt_op(acm_wtxn_t *w, void *arg)
{
	const txt_change_t *ch = arg;
	const txt_args_t *a = ch->a;
	if (strcmp(a->verb, "add") == 0)
		return acm_wtxn_txt_add(w, a->subdomain, a->values[0], strlen(a->values[0]),
		                        ch->expires);
	if (strcmp(a->verb, "remove") == 0)
		return acm_wtxn_txt_remove(w, a->subdomain, a->values[0], strlen(a->values[0]));
	return acm_wtxn_txt_replace(w, a->subdomain, ch->set, ch->n);
}

static int txt_change(cli_t *c, acm_store_t *store, const txt_args_t *a)
{
	static acm_txt_t set[64];
	txt_change_t ch = { a, set, 0, 0 };
	uint32_t serial = 0;
	if (a->expires_in)
		ch.expires = acm_expiry_after((uint64_t)time(NULL), a->expires_in);
	if (strcmp(a->verb, "set") == 0) {
		if (a->nvalues > 64)
			return cli_fail(c, CLI_REJECTED, "too many values");
		for (int i = 0; i < a->nvalues; i++) {
			size_t len = strlen(a->values[i]);
			if (len > ACM_TXT_MAX)
				return cli_fail(c, CLI_REJECTED, "value longer than %d bytes", ACM_TXT_MAX);
			memset(&set[i], 0, sizeof(set[i]));
			memcpy(set[i].value, a->values[i], len);
			set[i].len = len;
		}
		ch.n = (size_t)a->nvalues;
	}
	int rc = cli_write(store, txt_op, &ch, &serial);
	if (rc != ACM_OK)
		return cli_fail(c, cli_exit_code(rc), "%s %s: %s", a->verb, a->subdomain,
		                acm_strerror(rc));
	if (c->json)
		cli_print_json(json_pack("{s:s, s:s, s:I}", "result", "ok", "subdomain", a->subdomain,
		                         "serial", (json_int_t)serial));
	else
		printf("ok, serial %u\n", serial);
	return CLI_OK;
}

int cmd_txt(cli_t *c, int argc, char **argv)
{
	if (cli_help_asked(argc, argv))
		return cli_help(txt_usage, argc, argv);
	if (argc < 2)
		return cli_usage(c, txt_usage, NULL);
	txt_args_t a = { .verb = argv[1] };
	bool list = strcmp(a.verb, "list") == 0;
	if (!list && strcmp(a.verb, "add") && strcmp(a.verb, "remove") && strcmp(a.verb, "set"))
		return cli_unknown_verb(c, "txt", a.verb);
	int rc = parse_args(c, argc - 1, argv + 1, &a);
	if (rc != CLI_OK)
		return rc;
	acm_store_t *store;
	if ((rc = cli_open_store(c, list, &store)) != CLI_OK)
		return rc;
	rc = list ? txt_list(c, store, a.subdomain) : txt_change(c, store, &a);
	acm_store_close(store);
	return rc;
}
