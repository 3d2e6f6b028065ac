/* SPDX-License-Identifier: ISC */
/* acmensctl account ...: creating accounts. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/cidr.h"
#include "lib/error.h"
#include "lib/keys.h"

static int create_op(acm_wtxn_t *w, void *arg)
{
	return acm_wtxn_account_create(w, arg);
}

static int account_register(cli_t *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "allowfrom", required_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	acm_account_t acc;
	char password[ACM_PASSWORD_LEN + 1];
	int rc = acm_account_new(&acc, password);
	if (rc != ACM_OK)
		return cli_fail(c, CLI_STORE, "cannot create credentials: %s", acm_strerror(rc));
	int opt;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		acm_cidr_t cidr;
		if (opt == 'j') {
			c->json = true;
			continue;
		}
		if (opt != 'a')
			return cli_fail(c, CLI_USAGE, "usage: account register [--allowfrom CIDR]...");
		if (acm_cidr_parse(optarg, &cidr) != ACM_OK)
			return cli_fail(c, CLI_REJECTED, "invalid --allowfrom CIDR: %s", optarg);
		if (acc.allowfrom_count == ACM_ALLOWFROM_MAX)
			return cli_fail(c, CLI_REJECTED, "at most %d --allowfrom ranges", ACM_ALLOWFROM_MAX);
		snprintf(acc.allowfrom[acc.allowfrom_count++], sizeof(acc.allowfrom[0]), "%s", optarg);
	}
	if (optind != argc)
		return cli_fail(c, CLI_USAGE, "usage: account register [--allowfrom CIDR]...");
	acm_store_t *store;
	if ((rc = cli_open_store(c, false, &store)) != CLI_OK)
		return rc;
	rc = cli_write(store, create_op, &acc, NULL);
	acm_store_close(store);
	if (rc != ACM_OK)
		return cli_fail(c, cli_exit_code(rc), "cannot register: %s", acm_strerror(rc));
	char full[ACM_DNAME_TXT_MAX + 80];
	cli_fulldomain(c, acc.subdomain, full, sizeof(full));
	if (c->json) {
		json_t *allow = json_array();
		for (size_t i = 0; i < acc.allowfrom_count; i++)
			json_array_append_new(allow, json_string(acc.allowfrom[i]));
		cli_print_json(json_pack("{s:s, s:s, s:s, s:s, s:o}", "username", acc.username,
		                         "password", password, "fulldomain", full, "subdomain",
		                         acc.subdomain, "allowfrom", allow));
	} else {
		printf("username:   %s\npassword:   %s\nsubdomain:  %s\nfulldomain: %s\n", acc.username,
		       password, acc.subdomain, full);
		for (size_t i = 0; i < acc.allowfrom_count; i++)
			printf("allowfrom:  %s\n", acc.allowfrom[i]);
	}
	return CLI_OK;
}

int cmd_account(cli_t *c, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "register") == 0)
		return account_register(c, argc - 1, argv + 1);
	return cli_fail(c, CLI_USAGE, "usage: account register [--allowfrom CIDR]...");
}
