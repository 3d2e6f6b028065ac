/* SPDX-License-Identifier: ISC */
/*
 * The conventions every acmensctl command follows: its words parsed by one
 * rule, --help and usage errors from one table per command, bounded
 * numbers, and times in UTC, so that the commands cannot drift apart.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"

#define CLI_PREFIX "acmensctl [-c FILE] [--json] "

/* ---- options and operands ------------------------------------------------ */

static const cli_opt_t *opt_find(const cli_opt_t *opts, const char *arg, const char **value)
{
	for (; opts && opts->name; opts++) {
		size_t len = strlen(opts->name);
		if (strncmp(arg, opts->name, len) != 0)
			continue;
		if (arg[len] == '\0') {
			*value = NULL;
			return opts;
		}
		if (arg[len] == '=' && opts->arg) {
			*value = arg + len + 1;
			return opts;
		}
	}
	return NULL;
}

int cli_bad_word(cli_t *c, enum cli_bad why, const char *word)
{
	static const char *const what[] = {
		[CLI_BAD_OPTION] = "unknown option '%.100s'",
		[CLI_BAD_VALUE] = "%.100s needs a value",
		[CLI_BAD_OPERAND] = "unexpected word '%.100s'",
	};
	snprintf(c->bad_word, sizeof(c->bad_word), what[why], word);
	return -1;
}

int cli_parse(cli_t *c, int argc, char **argv, const cli_opt_t *opts, bool strict,
              char **operands, int max)
{
	bool options = true;
	int n = 0;
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *value;
		const cli_opt_t *o = options ? opt_find(opts, arg, &value) : NULL;
		if (options && strcmp(arg, "--") == 0) {
			options = false;
		} else if (options && strcmp(arg, "--json") == 0) {
			c->json = true;
		} else if (o && !o->arg) {
			*o->flag = true;
		} else if (o) {
			if (!value && i + 1 == argc)
				return cli_bad_word(c, CLI_BAD_VALUE, arg);
			*o->arg = value ? value : argv[++i];
		} else if (options && strict && arg[0] == '-' && arg[1] != '\0') {
			return cli_bad_word(c, CLI_BAD_OPTION, arg);
		} else {
			if (n < max)
				operands[n] = argv[i];
			else if (n == max)
				cli_bad_word(c, CLI_BAD_OPERAND, arg);
			n++;
		}
	}
	return n;
}

int cli_number(const cli_t *c, const char *name, const char *text, uint64_t min,
               uint64_t max, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(text, &end, 10);
	if (errno || *end || text[0] < '0' || text[0] > '9' || v < min || v > max)
		return cli_fail(c, CLI_USAGE, "%s takes %llu to %llu, not '%s'", name,
		                (unsigned long long)min, (unsigned long long)max, text);
	*out = v;
	return CLI_OK;
}

/* ---- help and usage ------------------------------------------------------ */

bool cli_help_asked(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--help") == 0)
			return true;
	return false;
}

/* The entry for verb, or NULL to mean all of them. */
static const cli_usage_t *usage_pick(const cli_usage_t *table, const char *verb)
{
	for (const cli_usage_t *u = table; verb && u->synopsis; u++)
		if (u->verb[0] && strcmp(u->verb, verb) == 0)
			return u;
	return NULL;
}

int cli_help(const cli_usage_t *table, int argc, char **argv)
{
	/* The verb is the first word that is no option: "txt --help add" too. */
	const char *verb = NULL;
	for (int i = 1; i < argc && !verb; i++)
		if (argv[i][0] != '-')
			verb = argv[i];
	const cli_usage_t *one = usage_pick(table, verb);
	if (verb && !one && table[0].verb[0]) {
		static const cli_t text_only;   /* help is text: no JSON error either */
		return cli_unknown_verb(&text_only, argv[0], verb);
	}
	for (const cli_usage_t *u = one ? one : table; u->synopsis && (!one || u == one); u++)
		printf("%susage: " CLI_PREFIX "%s\n%s", u == table || u == one ? "" : "\n",
		       u->synopsis, u->about);
	printf("\nexit codes: 0 ok, 1 usage, 2 not found, 3 configuration or store error,\n"
	       "            4 refused\n");
	return CLI_OK;
}

int cli_usage(const cli_t *c, const cli_usage_t *table, const char *verb)
{
	char text[2048];
	const cli_usage_t *one = usage_pick(table, verb);
	snprintf(text, sizeof(text), "%s%susage:", c->bad_word, c->bad_word[0] ? "; " : "");
	for (const cli_usage_t *u = one ? one : table; u->synopsis && (!one || u == one); u++) {
		size_t used = strlen(text);
		snprintf(text + used, sizeof(text) - used, "%s %s", u == table || u == one ?
		         "" : "\n      ", u->synopsis);
	}
	return cli_fail(c, CLI_USAGE, "%s", text);
}

int cli_unknown_verb(const cli_t *c, const char *command, const char *word)
{
	return cli_fail(c, CLI_USAGE, "%s: unknown sub-command '%s'; see acmensctl help %s",
	                command, word, command);
}

/* ---- output -------------------------------------------------------------- */

const char *cli_time(uint64_t t, char out[CLI_TIME_MAX], const char *zero)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (t == 0 || !gmtime_r(&tt, &tm))
		return zero;
	strftime(out, CLI_TIME_MAX, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return out;
}
