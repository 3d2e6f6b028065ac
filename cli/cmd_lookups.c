/* SPDX-License-Identifier: ISC */
/*
 * acmensctl lookups: the recent DNS lookups of a name. The lookup log lives
 * in acmensd's memory only, so unlike the other commands this one asks the
 * running daemon, through its admin API (cli/http_client.c).
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/table.h"
#include "lib/error.h"

#define LOOKUPS_LIMIT_MAX 1000

static const cli_usage_t lookups_usage[] = {
	{ "", "lookups NAME [--limit N]",
	  "  Prints the most recent DNS lookups of NAME, newest first: an account's\n"
	  "  subdomain (its name and _acme-challenge under it) or any name in the\n"
	  "  zone. At most N (1 to 1000, default lookups.per_name). Asks the running\n"
	  "  acmensd through the admin API (http.listen, http.admin_token_file).\n" },
	{ NULL, NULL, NULL },
};

/* name and limit, percent-encoded into the admin route's path. */
static void lookups_path(const char *name, uint64_t limit, char *out, size_t len)
{
	size_t n = (size_t)snprintf(out, len, "/v1/admin/lookups?name=");
	for (const unsigned char *p = (const unsigned char *)name; *p && n + 4 < len; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~", *p))
			out[n++] = (char)*p;
		else
			n += (size_t)snprintf(out + n, len - n, "%%%02X", *p);
	}
	out[n] = '\0';
	if (limit)
		snprintf(out + n, len - n, "&limit=%llu", (unsigned long long)limit);
}

static const char *str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "-";
}

static void add_row(cli_table_t *t, json_t *e)
{
	char when[CLI_TIME_MAX], port[8], edns[8] = "-", values[512] = "";
	json_t *v;
	size_t i, n = 0;
	snprintf(port, sizeof(port), "%lld", json_integer_value(json_object_get(e, "port")));
	if (json_is_integer(json_object_get(e, "edns")))
		snprintf(edns, sizeof(edns), "%lld", json_integer_value(json_object_get(e, "edns")));
	json_array_foreach(json_object_get(e, "values"), i, v) {
		if (n >= sizeof(values) - 1)
			break;
		n += (size_t)snprintf(values + n, sizeof(values) - n, "%s%s", i ? "," : "",
		                      json_string_value(v));
	}
	cli_table_row(t, (const char *[]){
		cli_time((uint64_t)json_integer_value(json_object_get(e, "time")), when, "-"),
		str(e, "source"), port, str(e, "transport"), edns, str(e, "qtype"), str(e, "rcode"),
		str(e, "qname"), n ? values : "-" });
}

static int print_table(const cli_t *c, json_t *body)
{
	json_t *list = json_object_get(body, "lookups"), *e;
	size_t i;
	if (json_array_size(list) == 0) {
		printf("no lookups\n");
		return CLI_OK;
	}
	cli_table_t *t = cli_table_new("llrlrllll", "TIME", "SOURCE", "PORT", "PROT", "EDNS",
	                               "QTYPE", "RCODE", "QNAME", "VALUES");
	json_array_foreach(list, i, e)
		add_row(t, e);
	return cli_table_finish(c, t, "lookups");
}

/* A refusal from the daemon, as an exit code. */
static int refused(const cli_t *c, int status, json_t *body)
{
	const char *code = str(body, "error"), *msg = str(body, "message");
	if (status == 404 && strcmp(code, "lookups_disabled") == 0)
		return cli_fail(c, CLI_STORE, "lookups: the daemon keeps no lookups "
		                "(lookups.enabled is false)");
	if (status == 400)
		return cli_fail(c, CLI_USAGE, "lookups: %s", msg);
	if (status == 401)
		return cli_fail(c, CLI_STORE, "lookups: the daemon refused the admin token in %s",
		                c->cfg->http.admin_token_file);
	return cli_fail(c, CLI_STORE, "lookups: the admin API answered %d %s", status, code);
}

int cmd_lookups(cli_t *c, int argc, char **argv)
{
	const char *limit_text = NULL;
	const cli_opt_t opts[] = { { "--limit", &limit_text, NULL }, { NULL, NULL, NULL } };
	char *name[1], path[1024];
	uint64_t limit = 0;
	int status = 0;
	json_t *body = NULL;
	if (cli_help_asked(argc, argv))
		return cli_help(lookups_usage, argc, argv);
	if (cli_parse(c, argc, argv, opts, true, name, 1) != 1)
		return cli_usage(c, lookups_usage, NULL);
	if (limit_text &&
	    cli_number(c, "--limit", limit_text, 1, LOOKUPS_LIMIT_MAX, &limit) != CLI_OK)
		return CLI_USAGE;
	int rc = cli_load_config(c);
	if (rc != CLI_OK)
		return rc;
	if (!c->cfg->http.enabled || !c->cfg->http.admin_token_file)
		return cli_fail(c, CLI_STORE, "lookups need the HTTP admin API: the lookup log lives "
		                "in acmensd's memory; configure http.listen and "
		                "http.admin_token_file");
	lookups_path(name[0], limit, path, sizeof(path));
	if ((rc = cli_admin_get(c, path, &status, &body)) != CLI_OK)
		return rc;
	if (status != 200) {
		rc = refused(c, status, body);
		json_decref(body);
		return rc;
	}
	if (c->json) {
		cli_print_json(body);
		return CLI_OK;
	}
	rc = print_table(c, body);
	json_decref(body);
	return rc;
}
