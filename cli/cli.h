/* SPDX-License-Identifier: ISC */
/*
 * Shared by acmensctl's subcommands: the parsed global options, opening the
 * store named by the configuration, exit codes, output helpers.
 */
#ifndef ACM_CLI_H
#define ACM_CLI_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "lib/conf/config.h"
#include "lib/store/store.h"

/* Exit codes (documented in acmensctl --help and docs). */
enum {
	CLI_OK = 0,
	CLI_USAGE = 1,       /* bad command line */
	CLI_NOTFOUND = 2,    /* no such account or value */
	CLI_STORE = 3,       /* configuration or store unreadable / failed */
	CLI_REJECTED = 4,    /* the change was refused: invalid, duplicate, full */
};

typedef struct {
	const char *config_path;
	bool json;
	acm_config_t *cfg;
	char bad_word[160];    /* the word cli_parse refused, as cli_usage names it */
} cli_t;

/* Load the configuration (once). CLI_OK or CLI_STORE after an error message. */
int cli_load_config(cli_t *c);
/* Open the store; read_only for commands that only look. */
int cli_open_store(cli_t *c, bool read_only, acm_store_t **out);
/* One change in its own durable transaction, recorded in the audit log as
 * made by "cli:<login>" from "local". op applies the change to w. Returns
 * the acmens error code; *serial (may be NULL) gets the serial after. */
typedef int (*cli_write_fn)(acm_wtxn_t *w, void *arg);
int cli_write(acm_store_t *store, cli_write_fn op, void *arg, uint32_t *serial);
/* Who ran the command, as the audit log names it: "cli:<login>", the login
 * behind sudo if there is one. */
void cli_actor(char *out, size_t len);
/* Map an acmens error code to an exit code. */
int cli_exit_code(int rc);
/* Report an error: to stderr, and as {"error": ...} on stdout with --json.
 * Returns code. */
int cli_fail(const cli_t *c, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Print a JSON value on stdout and release it. */
void cli_print_json(json_t *v);
/* "<subdomain>.<zone>" without the trailing dot, as acme-dns prints it. */
void cli_fulldomain(const cli_t *c, const char *subdomain, char *out, size_t len);

typedef struct {
	const char *name;
	int (*fn)(cli_t *c, int argc, char **argv);
} cli_command_t;

/* ---- cli_util.c: the conventions every command follows ------------------ */

/* One verb of a command (or the command itself, verb ""), for --help and
 * usage errors; a table ends with synopsis NULL. */
typedef struct {
	const char *verb;
	const char *synopsis;    /* the words after "acmensctl [-c FILE] [--json] " */
	const char *about;       /* what it does and prints: lines ending in '\n' */
} cli_usage_t;

/* An option, matched by its exact name ("--limit"), taking its argument as
 * the next word or after '='; arg NULL makes it a flag that sets *flag. */
typedef struct {
	const char *name;
	const char **arg;
	bool *flag;
} cli_opt_t;

/*
 * Parse a verb's words argv[1..argc-1]: the options opts (the last of a
 * repeated one wins) and --json anywhere before "--"; everything else is an
 * operand, kept in order (at most max of them), as is everything after
 * "--". strict refuses other words starting with '-'; without it they are
 * operands (a TXT value may start with '-'). Returns the operand count
 * (which may exceed max), or -1 for a usage error the caller reports. The
 * word refused (an unknown option, an option without its value, the first
 * operand beyond max) is kept in c->bad_word for cli_usage to name.
 */
int cli_parse(cli_t *c, int argc, char **argv, const cli_opt_t *opts, bool strict,
              char **operands, int max);
/* Keep the word a verb's own parser refused, for cli_usage. Returns -1. */
enum cli_bad { CLI_BAD_OPTION, CLI_BAD_VALUE, CLI_BAD_OPERAND };
int cli_bad_word(cli_t *c, enum cli_bad why, const char *word);
/* text as a decimal number in [min, max], else a usage error naming the
 * option (reported). CLI_OK or CLI_USAGE. */
int cli_number(const cli_t *c, const char *name, const char *text, uint64_t min,
               uint64_t max, uint64_t *out);
/* Whether a command's words (argv[0] the command) hold --help before "--". */
bool cli_help_asked(int argc, char **argv);
/* The answer to --help, on stdout: the usage of the verb that the first
 * word other than an option names, or of every verb in table. CLI_OK, or
 * CLI_USAGE (reported) when that word is no verb of a command that has
 * verbs. */
int cli_help(const cli_usage_t *table, int argc, char **argv);
/* A usage error naming the word cli_parse refused, if any, and the synopsis
 * of verb (of all verbs when verb is NULL or unknown). Returns CLI_USAGE. */
int cli_usage(const cli_t *c, const cli_usage_t *table, const char *verb);

/* A usage error naming the word that is no verb of command. CLI_USAGE. */
int cli_unknown_verb(const cli_t *c, const char *command, const char *word);

#define CLI_TIME_MAX 32
/* t (unix seconds) as 2006-01-02T15:04:05Z in out, or zero for t == 0. */
const char *cli_time(uint64_t t, char out[CLI_TIME_MAX], const char *zero);

/* cmd_txt.c: an account's values as txt list shows them: with --json into
 * obj as "values", else as a table on stdout. Returns an acmens code. */
int cli_values(const cli_t *c, acm_store_t *store, const char *subdomain, json_t *obj);

int cmd_account(cli_t *c, int argc, char **argv);
int cmd_txt(cli_t *c, int argc, char **argv);
int cmd_export(cli_t *c, int argc, char **argv);
int cmd_import(cli_t *c, int argc, char **argv);
int cmd_check_config(cli_t *c, int argc, char **argv);
int cmd_serial(cli_t *c, int argc, char **argv);
int cmd_stats(cli_t *c, int argc, char **argv);
int cmd_audit(cli_t *c, int argc, char **argv);
int cmd_backup(cli_t *c, int argc, char **argv);
int cmd_check_store(cli_t *c, int argc, char **argv);
int cmd_status(cli_t *c, int argc, char **argv);
int cmd_tsig_keygen(cli_t *c, int argc, char **argv);
int cmd_lookups(cli_t *c, int argc, char **argv);
int cmd_config_drift(cli_t *c, int argc, char **argv);
int cmd_delegation(cli_t *c, int argc, char **argv);
int cmd_dnssec(cli_t *c, int argc, char **argv);
int cmd_secondary_config(cli_t *c, int argc, char **argv);
/* cmd_convert.c: runs the converter script; returns only on failure. */
int cmd_convert(cli_t *c, int argc, char **argv);

/* ---- http_client.c: asking the running daemon -------------------------- */

/* GET path from the admin API (first http.listen address, token from
 * http.admin_token_file, TLS when http.tls is set): the HTTP status and the
 * JSON body. CLI_OK, or an exit code after an error message. */
int cli_admin_get(const cli_t *c, const char *path, int *status, json_t **body);

/* ---- cmd_tsig.c: TSIG keys as account tsig-key, tsig-keygen and
 * secondary-config print them ------------------------------------------- */

/* The syntaxes a key is printed in: acmens.yaml's tsig: list, BIND's
 * named.conf, knot.conf, nsd.conf. */
typedef enum { CLI_KEY_ACMENS, CLI_KEY_BIND, CLI_KEY_KNOT, CLI_KEY_NSD } cli_key_format_t;

/* --algorithm's value (NULL: hmac-sha256). CLI_OK or CLI_USAGE (reported). */
int cli_tsig_alg(const cli_t *c, const char *text, acm_tsig_alg_t *out);
/* "acmens" (only when acmens is true), "bind", "knot" or "nsd" as a format;
 * what names the word in the error. CLI_OK or CLI_USAGE (reported). */
int cli_key_format(const cli_t *c, const char *what, const char *text, bool acmens,
                   cli_key_format_t *out);
/* The key's name as text without the final dot, as key files write it. */
void cli_tsig_name(const acm_tsig_key_t *key, char out[ACM_DNAME_TXT_MAX]);
/* Whether that name is letters, digits, '-', '_' and '.' only, which BIND,
 * Knot and NSD all take as is; other names are refused there. */
bool cli_tsig_name_plain(const acm_tsig_key_t *key);
/* The key in format fmt on f, each line after prefix. */
void cli_tsig_print(FILE *f, const acm_tsig_key_t *key, cli_key_format_t fmt,
                    const char *prefix);

#endif
