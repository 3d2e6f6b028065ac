/* SPDX-License-Identifier: ISC */
/* acmensctl txt add|remove|set|list: TXT values of an account. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "lib/error.h"

#define TXT_USAGE "usage: txt add SUBDOMAIN VALUE [--expires-in SECONDS] | txt remove SUBDOMAIN VALUE\n" \
                  "       txt set SUBDOMAIN [VALUE]... | txt list SUBDOMAIN"

typedef struct {
	const char *verb;
	const char *subdomain;
	char **values;
	int nvalues;
	uint64_t expires_in;
} txt_args_t;

static int parse_expiry(cli_t *c, const char *text, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(text, &end, 10);
	if (errno || *end || text[0] < '0' || text[0] > '9' || v == 0 || v > 10ull * 365 * 86400)
		return cli_fail(c, CLI_USAGE, "--expires-in takes 1 to 315360000 seconds");
	*out = v;
	return CLI_OK;
}

/*
 * Options are matched by their exact names only: an ACME value may start
 * with '-' (base64url), so anything else is an operand, as is everything
 * after "--".
 */
static int parse_args(cli_t *c, int argc, char **argv, txt_args_t *a)
{
	static char *operands[256];
	int n = 0;
	bool options = true;
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		int rc = CLI_OK;
		if (options && strcmp(arg, "--") == 0)
			options = false;
		else if (options && strcmp(arg, "--json") == 0)
			c->json = true;
		else if (options && strcmp(arg, "--expires-in") == 0 && i + 1 < argc)
			rc = parse_expiry(c, argv[++i], &a->expires_in);
		else if (options && strncmp(arg, "--expires-in=", 13) == 0)
			rc = parse_expiry(c, arg + 13, &a->expires_in);
		else if (n < (int)(sizeof(operands) / sizeof(operands[0])))
			operands[n++] = argv[i];
		else
			return cli_fail(c, CLI_USAGE, "too many arguments");
		if (rc != CLI_OK)
			return rc;
	}
	if (n < 1)
		return cli_fail(c, CLI_USAGE, TXT_USAGE);
	a->subdomain = operands[0];
	a->values = operands + 1;
	a->nvalues = n - 1;
	bool one = strcmp(a->verb, "add") == 0 || strcmp(a->verb, "remove") == 0;
	bool none = strcmp(a->verb, "list") == 0;
	if ((one && a->nvalues != 1) || (none && a->nvalues != 0) ||
	    (a->expires_in && strcmp(a->verb, "add") != 0))
		return cli_fail(c, CLI_USAGE, TXT_USAGE);
	return CLI_OK;
}

static int txt_list(cli_t *c, acm_store_t *store, const char *subdomain)
{
	static acm_txt_t values[64];
	size_t n = 0;
	int rc = acm_store_txt_list(store, subdomain, values, 64, &n);
	if (rc != ACM_OK)
		return cli_fail(c, cli_exit_code(rc), "%s: %s", subdomain, acm_strerror(rc));
	uint64_t now = (uint64_t)time(NULL);
	json_t *arr = c->json ? json_array() : NULL;
	if (!c->json && n > 0)
		printf("%-45s %-20s %s\n", "VALUE", "SET", "EXPIRES");
	for (size_t i = 0; i < n && i < 64; i++) {
		const acm_txt_t *v = &values[i];
		bool expired = v->expires && v->expires <= now;
		if (c->json) {
			json_array_append_new(arr, json_pack("{s:s, s:I, s:I, s:b}", "value", v->value,
			                                     "set", (json_int_t)v->set_time, "expires",
			                                     (json_int_t)v->expires, "expired", expired));
			continue;
		}
		char set[32], exp[32] = "never";
		time_t st = (time_t)v->set_time, et = (time_t)v->expires;
		strftime(set, sizeof(set), "%Y-%m-%dT%H:%M:%SZ", gmtime(&st));
		if (v->expires)
			strftime(exp, sizeof(exp), "%Y-%m-%dT%H:%M:%SZ", gmtime(&et));
		printf("%-45s %-20s %s%s\n", v->value, set, exp, expired ? " (expired)" : "");
	}
	if (c->json)
		cli_print_json(json_pack("{s:s, s:o}", "subdomain", subdomain, "values", arr));
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
		ch.expires = (uint64_t)time(NULL) + a->expires_in;
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
	if (argc < 2)
		return cli_fail(c, CLI_USAGE, TXT_USAGE);
	txt_args_t a = { .verb = argv[1] };
	bool list = strcmp(a.verb, "list") == 0;
	if (!list && strcmp(a.verb, "add") && strcmp(a.verb, "remove") && strcmp(a.verb, "set"))
		return cli_fail(c, CLI_USAGE, TXT_USAGE);
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
