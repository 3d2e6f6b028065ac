/* SPDX-License-Identifier: ISC */
/*
 * acmensctl convert-acmedns-config: an acme-dns config.cfg as an
 * acmens.yaml. config.cfg is TOML, and no C TOML parser is packaged in
 * Debian 12, so the conversion is a Python script using the standard
 * tomllib (contrib/acmedns-config-to-yaml.py, installed as
 * $(pkglibexecdir)/acmedns-config-to-yaml); this command finds it and
 * hands over to it with exec, so its output and exit code are the
 * command's.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

#define CONVERT_SCRIPT "acmedns-config-to-yaml"
#define CONVERT_PYTHON "/usr/bin/python3"
#define CONVERT_ARGS_MAX 64

static const cli_usage_t convert_usage[] = {
	{ "", "convert-acmedns-config CONFIG.CFG [--trusted-proxy CIDR]...",
	  "  Prints acme-dns's configuration (TOML) as an acmens.yaml on stdout;\n"
	  "  what has no counterpart is said in comments, the lines to check are\n"
	  "  marked CHECK, and warnings go to stderr. --trusted-proxy names the\n"
	  "  proxies whose api.header_name is believed (http.trusted_proxies).\n"
	  "  Needs Python 3.11 or newer (" CONVERT_PYTHON ", or $ACMENS_PYTHON).\n" },
	{ NULL, NULL, NULL },
};

/* The script: beside the running binary (the build tree's cli/), else
 * where make install put it. Returns false when neither is there. */
static bool convert_script(char *out, size_t len)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		char *slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			snprintf(out, len, "%s/%s", self, CONVERT_SCRIPT);
			if (access(out, R_OK) == 0)
				return true;
		}
	}
	snprintf(out, len, "%s/%s", ACM_PKGLIBEXECDIR, CONVERT_SCRIPT);
	return access(out, R_OK) == 0;
}

int cmd_convert(cli_t *c, int argc, char **argv)
{
	if (cli_help_asked(argc, argv))
		return cli_help(convert_usage, argc, argv);
	if (c->json)
		return cli_fail(c, CLI_USAGE, "convert-acmedns-config prints YAML; --json does not apply");
	if (argc < 2 || argc > CONVERT_ARGS_MAX)
		return cli_usage(c, convert_usage, NULL);
	char script[PATH_MAX + sizeof(CONVERT_SCRIPT) + 1];
	if (!convert_script(script, sizeof(script)))
		return cli_fail(c, CLI_STORE, "the converter %s is not installed (looked beside "
		                "acmensctl and in %s)", CONVERT_SCRIPT, ACM_PKGLIBEXECDIR);
	const char *python = getenv("ACMENS_PYTHON");
	if (!python || !*python)
		python = CONVERT_PYTHON;
	if (access(python, X_OK) != 0)
		return cli_fail(c, CLI_STORE, "reading TOML needs Python 3.11 or newer, not found at "
		                "%s (Debian package python3; or set ACMENS_PYTHON): %s", python,
		                strerror(errno));
	char *args[CONVERT_ARGS_MAX + 3];
	int n = 0;
	args[n++] = (char *)python;
	args[n++] = script;
	for (int i = 1; i < argc; i++)
		args[n++] = argv[i];
	args[n] = NULL;
	fflush(stdout);
	execv(python, args);
	return cli_fail(c, CLI_STORE, "cannot run %s: %s", python, strerror(errno));
}
