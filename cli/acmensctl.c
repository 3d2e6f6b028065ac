/* SPDX-License-Identifier: ISC */
/*
 * acmensctl: global options, subcommand dispatch, and the helpers every
 * subcommand shares. It opens the LMDB store directly, which LMDB allows
 * while acmensd runs; acmensd sees each change with its next query.
 */
#include <getopt.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "config.h"
#include "lib/dns/zone_names.h"
#include "lib/error.h"
#include "lib/store/store_file.h"

#define DEFAULT_CONFIG "/etc/acmens/acmens.yaml"

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: acmensctl [-c FILE] [--json] COMMAND ...\n"
	        "\n"
	        "commands:\n"
	        "  account register [--subdomain NAME] [--allowfrom CIDR]...\n"
	        "                                           create an account, print its credentials\n"
	        "  account list [--search TEXT] [--after SUBDOMAIN] [--limit N]\n"
	        "  account show SUBDOMAIN                   the account and its values\n"
	        "  account disable SUBDOMAIN                refuse its credentials\n"
	        "  account enable SUBDOMAIN\n"
	        "  account delete SUBDOMAIN --yes           the account and its values, for good\n"
	        "  account rotate-key SUBDOMAIN             a new key, printed once\n"
	        "  account tsig-key SUBDOMAIN [--algorithm ALG]   a new TSIG key for UPDATE\n"
	        "  txt add SUBDOMAIN VALUE [--expires-in SECONDS]\n"
	        "  txt remove SUBDOMAIN VALUE\n"
	        "  txt set SUBDOMAIN [VALUE]...             replace the whole set (none = clear)\n"
	        "  txt list SUBDOMAIN\n"
	        "  export                                   the zone as an RFC 1035 zone file\n"
	        "  check-config                             check the configuration, print ok\n"
	        "  serial                                   print the zone serial\n"
	        "  stats                                    counts, serial, store size\n"
	        "  audit [--subdomain S] [--after SEQ] [--limit N]   the audit log\n"
	        "  backup DEST                              hot compacted copy of the store\n"
	        "  check-store                              check every record; exit 3 if damaged\n"
	        "  tsig-keygen NAME [--algorithm ALG] [--format acmens|bind|knot|nsd]\n"
	        "                                           a new TSIG key for acmens.yaml\n"
	        "  secondary-config knot|nsd|bind --primary ADDRESS[:PORT] --key NAME [--dir DIR]\n"
	        "                                           a secondary's configuration\n"
	        "  status [--timeout MS]                    serials the secondaries serve\n"
	        "  lookups NAME [--limit N]                 recent DNS lookups (asks acmensd)\n"
	        "  config-drift                             settings waiting for a restart (asks acmensd)\n"
	        "  import-acmedns DB [--dry-run]            copy an acme-dns SQLite database in\n"
	        "  convert-acmedns-config CONFIG.CFG        acme-dns's config.cfg as acmens.yaml\n"
	        "\n"
	        "options:\n"
	        "  -c, --config FILE   configuration (default " DEFAULT_CONFIG ")\n"
	        "      --json          machine-readable output\n"
	        "  -h, --help          this text; COMMAND --help for one command\n"
	        "  -V, --version       print the version\n"
	        "\n"
	        "exit codes: 0 ok, 1 usage, 2 not found, 3 configuration or store error,\n"
	        "            4 change refused (invalid, duplicate, too many values)\n");
}

int cli_load_config(cli_t *c)
{
	if (c->cfg)
		return CLI_OK;
	char err[ACM_CONFIG_ERR_MAX] = "";
	int rc = acm_config_load(c->config_path, &c->cfg, err, sizeof(err));
	if (rc != ACM_OK)
		return cli_fail(c, CLI_STORE, "%s", err[0] ? err : acm_strerror(rc));
	return CLI_OK;
}

int cli_open_store(cli_t *c, bool read_only, acm_store_t **out)
{
	int rc = cli_load_config(c);
	if (rc != CLI_OK)
		return rc;
	acm_store_opts_t so = { .mapsize = c->cfg->store_max_size,
	                        .max_values = c->cfg->txt_max_values,
	                        .journal_max = c->cfg->transfer.journal_max_entries,
	                        .journal_max_age = c->cfg->transfer.journal_max_age,
	                        .audit_max = c->cfg->audit_max_entries,
	                        .audit_max_age = c->cfg->audit_max_age,
	                        .max_accounts = c->cfg->store_max_accounts,
	                        .read_only = read_only };
	acm_store_fault_t fault;
	rc = acm_store_open_ex(c->cfg->store_path, c->cfg->apex, &so, out, &fault);
	if (rc != ACM_OK) {
		char why[1024];
		return cli_fail(c, CLI_STORE, "%s", acm_store_fault_text(&fault, rc,
		                c->cfg->store_path, why, sizeof(why)));
	}
	return CLI_OK;
}

/* Who ran the command: the login behind sudo if there is one. */
static void cli_actor(char *out, size_t len)
{
	const char *login = getenv("SUDO_USER");
	struct passwd *pw = login ? NULL : getpwuid(getuid());
	if (!login)
		login = pw ? pw->pw_name : "unknown";
	snprintf(out, len, "cli:%s", login);
}

int cli_write(acm_store_t *store, cli_write_fn op, void *arg, uint32_t *serial)
{
	char actor[128];
	acm_wtxn_t *w;
	int rc = acm_store_write_begin(store, &w);
	if (rc != ACM_OK)
		return rc;
	cli_actor(actor, sizeof(actor));
	acm_wtxn_set_actor(w, actor, "local");
	rc = op(w, arg);
	if (rc != ACM_OK) {
		acm_store_write_abort(w);
		return rc;
	}
	return acm_store_write_commit(w, serial);
}

int cli_exit_code(int rc)
{
	switch (rc) {
	case ACM_OK: return CLI_OK;
	case ACM_ENOTFOUND:
	case ACM_EABSENT: return CLI_NOTFOUND;
	case ACM_EEXIST:
	case ACM_EFULL:
	case ACM_EBADVALUE:
	case ACM_EBADNAME:
	case ACM_EACCOUNTCAP: return CLI_REJECTED;
	default: return CLI_STORE;
	}
}

int cli_fail(const cli_t *c, int code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "acmensctl: %s\n", msg);
	if (c->json)
		cli_print_json(json_pack("{s:s, s:i}", "error", msg, "code", code));
	return code;
}

void cli_print_json(json_t *v)
{
	if (!v)
		return;
	json_dumpf(v, stdout, JSON_COMPACT);
	fputc('\n', stdout);
	json_decref(v);
}

void cli_fulldomain(const cli_t *c, const char *subdomain, char *out, size_t len)
{
	char zone[ACM_DNAME_TXT_MAX];
	acm_zname_zone_text(c->cfg->apex, zone);
	acm_zname_fulldomain(zone, subdomain, out, len);
}

/* The command words; each group's file parses the rest of the line. */
static const cli_command_t cli_commands[] = {
	{ "account", cmd_account },
	{ "txt", cmd_txt },
	{ "export", cmd_export },
	{ "check-config", cmd_check_config },
	{ "serial", cmd_serial },
	{ "stats", cmd_stats },
	{ "audit", cmd_audit },
	{ "backup", cmd_backup },
	{ "check-store", cmd_check_store },
	{ "tsig-keygen", cmd_tsig_keygen },
	{ "secondary-config", cmd_secondary_config },
	{ "status", cmd_status },
	{ "lookups", cmd_lookups },
	{ "config-drift", cmd_config_drift },
	{ "import-acmedns", cmd_import },
	{ "convert-acmedns-config", cmd_convert },
	{ NULL, NULL },
};

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	cli_t c = { .config_path = DEFAULT_CONFIG };
	int opt;
	/* "+": stop at the first command word; its own options follow it. */
	while ((opt = getopt_long(argc, argv, "+c:hV", opts, NULL)) != -1) {
		switch (opt) {
		case 'c': c.config_path = optarg; break;
		case 'j': c.json = true; break;
		case 'h': usage(stdout); return CLI_OK;
		case 'V': printf("acmensctl %s\n", PACKAGE_VERSION); return CLI_OK;
		default: usage(stderr); return CLI_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return CLI_USAGE;
	}
	const char *cmd = argv[optind];
	int sub_argc = argc - optind;
	char **sub_argv = argv + optind;
	optind = 0;   /* subcommands parse their own options; 0 resets getopt fully */
	int rc = CLI_USAGE;
	const cli_command_t *command = NULL;
	for (size_t i = 0; cli_commands[i].name; i++)
		if (strcmp(cmd, cli_commands[i].name) == 0)
			command = &cli_commands[i];
	if (command) {
		rc = command->fn(&c, sub_argc, sub_argv);
	} else {
		fprintf(stderr, "acmensctl: unknown command '%s'\n", cmd);
		usage(stderr);
	}
	acm_config_free(c.cfg);
	return rc;
}
