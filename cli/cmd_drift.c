/* SPDX-License-Identifier: ISC */
/*
 * acmensctl config-drift: what the running acmensd's last reload applied
 * and which settings of its file still wait for a restart. Only the daemon
 * knows what it bound and built, so this asks it, through the admin API
 * (GET /v1/admin/config/drift, cli/http_client.c).
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/error.h"

static const cli_usage_t drift_usage[] = {
	{ "", "config-drift",
	  "  Prints how the running acmensd differs from its configuration file: the\n"
	  "  settings its last reload (SIGHUP) could not apply, with the value running\n"
	  "  and the value in the file, and what that reload applied or why it failed.\n"
	  "  Asks the running acmensd through the admin API (http.listen,\n"
	  "  http.admin_token_file). Exit 0 either way; with --json, scripts read\n"
	  "  restart_needed.\n" },
	{ NULL, NULL, NULL },
};

/* last_reload's time, Unix seconds, as the CLI shows times. */
static const char *when(json_t *last, char out[CLI_TIME_MAX])
{
	json_int_t t = json_integer_value(json_object_get(last, "time"));
	return cli_time(t > 0 ? (uint64_t)t : 0, out, "-");
}

static const char *text(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "-";
}

/* "last reload TIME: ok, N applied" and each applied setting, or the error. */
static void print_last(json_t *last)
{
	json_t *e;
	size_t i;
	char t[CLI_TIME_MAX];
	if (!json_is_object(last)) {
		printf("no reload since start\n");
		return;
	}
	if (!json_is_true(json_object_get(last, "ok"))) {
		printf("last reload %s: failed, still running the configuration before it\n  %s\n",
		       when(last, t), text(last, "error"));
		return;
	}
	json_t *applied = json_object_get(last, "applied");
	printf("last reload %s: ok, %zu applied\n", when(last, t), json_array_size(applied));
	json_array_foreach(applied, i, e)
		printf("  %s: %s -> %s\n", text(e, "key"), text(e, "old"), text(e, "new"));
}

static void print_restart(json_t *list)
{
	json_t *e;
	size_t i, w = strlen("KEY");
	if (json_array_size(list) == 0) {
		printf("nothing waits for a restart\n");
		return;
	}
	json_array_foreach(list, i, e)
		if (strlen(text(e, "key")) > w)
			w = strlen(text(e, "key"));
	printf("needs a restart:\n%-*s  %-30s  %s\n", (int)w, "KEY", "RUNNING", "FILE");
	json_array_foreach(list, i, e)
		printf("%-*s  %-30s  %s\n", (int)w, text(e, "key"), text(e, "running"),
		       text(e, "file"));
}

int cmd_config_drift(cli_t *c, int argc, char **argv)
{
	const cli_opt_t opts[] = { { NULL, NULL, NULL } };
	int status = 0;
	json_t *body = NULL;
	if (cli_help_asked(argc, argv))
		return cli_help(drift_usage, argc, argv);
	if (cli_parse(c, argc, argv, opts, true, NULL, 0) != 0)
		return cli_usage(c, drift_usage, NULL);
	int rc = cli_load_config(c);
	if (rc != CLI_OK)
		return rc;
	if (!c->cfg->http.enabled || !c->cfg->http.admin_token_file)
		return cli_fail(c, CLI_STORE, "config-drift needs the HTTP admin API: only the "
		                "running acmensd knows what it bound; configure http.listen and "
		                "http.admin_token_file");
	if ((rc = cli_admin_get(c, "/v1/admin/config/drift", &status, &body)) != CLI_OK)
		return rc;
	if (status != 200) {
		rc = status == 401 ? cli_fail(c, CLI_STORE, "config-drift: the daemon refused the "
		                              "admin token in %s", c->cfg->http.admin_token_file)
		                   : cli_fail(c, CLI_STORE, "config-drift: the admin API answered %d %s",
		                              status, text(body, "error"));
		json_decref(body);
		return rc;
	}
	if (c->json) {
		cli_print_json(body);
		return CLI_OK;
	}
	printf("config %s\n", text(body, "config"));
	print_last(json_object_get(body, "last_reload"));
	print_restart(json_object_get(body, "restart_needed"));
	json_decref(body);
	return CLI_OK;
}
