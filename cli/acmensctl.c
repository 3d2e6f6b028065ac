/* SPDX-License-Identifier: ISC */
/*
 * acmensctl: global options, subcommand dispatch, and the helpers every
 * subcommand shares. It opens the LMDB store directly, which LMDB allows
 * while acmensd runs; acmensd sees each change with its next query.
 */
#include <errno.h>
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
	        "  delegation check DOMAIN SUBDOMAIN | --file FILE   whether a customer's\n"
	        "                                           _acme-challenge CNAME reaches the account\n"
	        "  dnssec keygen [--algorithm ALG]          the zone's first signing key\n"
	        "  dnssec ds                                the DS (and DNSKEY) for the parent\n"
	        "  dnssec status                            the keys, the next rollover step\n"
	        "  dnssec export-key TAG --out FILE         a private key for a signing secondary\n"
	        "  dnssec rollover [--force] [--ds-ttl SECONDS]   the next step of a key rollover\n"
	        "  import-acmedns DB [--dry-run]            copy an acme-dns SQLite database in\n"
	        "  convert-acmedns-config CONFIG.CFG        acme-dns's config.cfg as acmens.yaml\n"
	        "  help [COMMAND [VERB]]                    the commands, one a line, or a usage\n"
	        "\n"
	        "options:\n"
	        "  -c, --config FILE   configuration (default " DEFAULT_CONFIG "), anywhere\n"
	        "      --json          machine-readable output (JSON objects), anywhere\n"
	        "  -h, --help          this text; help COMMAND or COMMAND --help for one\n"
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

void cli_actor(char *out, size_t len)
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

/* The command words, each with the line "acmensctl help" prints for it
 * (one per line: shell completion reads them); each group's file parses
 * the rest of the line. */
typedef struct {
	const char *name;
	int (*fn)(cli_t *c, int argc, char **argv);
	const char *summary;
} cli_entry_t;

static const cli_entry_t cli_commands[] = {
	{ "account", cmd_account, "accounts: register, list, show, disable, enable, delete, keys" },
	{ "txt", cmd_txt, "an account's TXT values: add, remove, set, list" },
	{ "export", cmd_export, "the zone as an RFC 1035 zone file" },
	{ "check-config", cmd_check_config, "check the configuration, print ok" },
	{ "serial", cmd_serial, "the zone serial" },
	{ "stats", cmd_stats, "counts, serial, store size" },
	{ "audit", cmd_audit, "the audit log: who changed what, from where" },
	{ "backup", cmd_backup, "a hot, compacted copy of the store" },
	{ "check-store", cmd_check_store, "check every record of the store" },
	{ "tsig-keygen", cmd_tsig_keygen, "a new TSIG key for acmens.yaml or a secondary" },
	{ "secondary-config", cmd_secondary_config, "a Knot, NSD or BIND secondary's configuration" },
	{ "status", cmd_status, "the serials the secondaries serve" },
	{ "lookups", cmd_lookups, "recent DNS lookups of a name (asks acmensd)" },
	{ "config-drift", cmd_config_drift, "how the configuration file differs from what acmensd runs" },
	{ "delegation", cmd_delegation, "will customers' renewals validate: check their CNAMEs" },
	{ "dnssec", cmd_dnssec, "signing keys: keygen, ds, status, export-key, rollover" },
	{ "import-acmedns", cmd_import, "copy an acme-dns database in" },
	{ "convert-acmedns-config", cmd_convert, "acme-dns's config.cfg as acmens.yaml" },
	{ "help", NULL, "the commands, or one command's usage" },
	{ NULL, NULL, NULL },
};

static const cli_entry_t *command_find(const char *name)
{
	for (const cli_entry_t *e = cli_commands; e->name; e++)
		if (strcmp(name, e->name) == 0)
			return e;
	return NULL;
}

static int unknown_command(const cli_t *c, const char *name)
{
	return cli_fail(c, CLI_USAGE, "unknown command '%s'; see acmensctl help", name);
}

/* acmensctl help [COMMAND [VERB]]: the list, or COMMAND --help. */
static int cmd_help(cli_t *c, int argc, char **argv)
{
	if (c->json)
		return cli_fail(c, CLI_USAGE, "help: prints text; --json does not apply");
	if (argc < 2) {
		printf("usage: acmensctl [-c FILE] [--json] COMMAND ...\n\ncommands:\n");
		for (const cli_entry_t *e = cli_commands; e->name; e++)
			printf("  %-22s  %s\n", e->name, e->summary);
		printf("\nacmensctl help COMMAND (or acmensctl COMMAND --help) for one command.\n");
		return CLI_OK;
	}
	const cli_entry_t *e = command_find(argv[1]);
	if (!e)
		return unknown_command(c, argv[1]);
	if (!e->fn)
		return cmd_help(c, 1, argv);
	/* COMMAND [VERB] --help, through the command's own help. */
	char *words[4] = { argv[1], argc > 2 ? argv[2] : "--help", "--help", NULL };
	return e->fn(c, argc > 2 ? 3 : 2, words);
}

/*
 * The global options are taken anywhere before "--": -c FILE, --config
 * FILE, --config=FILE and --json are removed from the words, the others
 * stay in order in rest (no -cFILE: a TXT value may start with "-c").
 * CLI_OK, or CLI_USAGE when -c has no FILE (reported).
 */
static int take_globals(cli_t *c, int argc, char **argv, char **rest, int *nrest)
{
	bool options = true;
	*nrest = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!options || strcmp(a, "--") == 0) {
			options = false;
			rest[(*nrest)++] = argv[i];
		} else if (strcmp(a, "--json") == 0) {
			c->json = true;
		} else if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) {
			if (i + 1 == argc)
				return cli_fail(c, CLI_USAGE, "%s needs a FILE", a);
			c->config_path = argv[++i];
		} else if (strncmp(a, "--config=", 9) == 0) {
			c->config_path = a + 9;
		} else {
			rest[(*nrest)++] = argv[i];
		}
	}
	rest[*nrest] = NULL;
	return CLI_OK;
}

/* The options before the command word: --help, --version, or an error. */
static int leading_option(const cli_t *c, const char *a)
{
	if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
		usage(stdout);
		return CLI_OK;
	}
	if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
		printf("acmensctl %s\n", PACKAGE_VERSION);
		return CLI_OK;
	}
	return cli_fail(c, CLI_USAGE, "unknown option '%s'; see acmensctl --help", a);
}

static int run(cli_t *c, int argc, char **argv)
{
	int n, rc;
	char **rest = calloc((size_t)argc + 1, sizeof(*rest));
	if (!rest)
		return cli_fail(c, CLI_STORE, "%s", acm_strerror(-ENOMEM));
	if ((rc = take_globals(c, argc, argv, rest, &n)) != CLI_OK) {
		free(rest);
		return rc;
	}
	const cli_entry_t *e = NULL;
	if (n == 0 || strcmp(rest[0], "--") == 0) {
		usage(stderr);
		rc = CLI_USAGE;
	} else if (rest[0][0] == '-' && rest[0][1] != '\0') {
		rc = leading_option(c, rest[0]);
	} else if (!(e = command_find(rest[0]))) {
		rc = unknown_command(c, rest[0]);
	} else {
		rc = (e->fn ? e->fn : cmd_help)(c, n, rest);
	}
	free(rest);
	return rc;
}

int main(int argc, char **argv)
{
	cli_t c = { .config_path = DEFAULT_CONFIG };
	int rc = run(&c, argc, argv);
	acm_config_free(c.cfg);
	return rc;
}
