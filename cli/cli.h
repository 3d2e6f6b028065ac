/* SPDX-License-Identifier: ISC */
/*
 * Shared by acmensctl's subcommands: the parsed global options, opening the
 * store named by the configuration, exit codes, output helpers.
 */
#ifndef ACM_CLI_H
#define ACM_CLI_H

#include <jansson.h>
#include <stdbool.h>

#include "lib/config.h"
#include "lib/store.h"

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

int cmd_account(cli_t *c, int argc, char **argv);
int cmd_txt(cli_t *c, int argc, char **argv);
int cmd_export(cli_t *c, int argc, char **argv);

#endif
