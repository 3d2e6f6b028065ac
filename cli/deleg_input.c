/* SPDX-License-Identifier: ISC */
/*
 * The lines of a delegation check's input file (deleg_input.h): one rule
 * for spreadsheets' CSV and hand-written lists alike.
 */
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "cli/deleg_input.h"

static bool separator(char ch)
{
	return ch == ' ' || ch == '\t' || ch == ',' || ch == '\r' || ch == '\n';
}

/* The next field at *p: skips separators, takes a quoted or a bare word,
 * ends it with a NUL. NULL at the end of the line; *why on a quote left
 * open. */
static char *field(char **p, const char **why)
{
	char *s = *p, *start;

	while (*s && separator(*s))
		s++;
	if (!*s)
		return NULL;
	if (*s == '"') {
		start = ++s;
		char *close = strchr(s, '"');
		if (!close) {
			*why = "a double quote is not closed";
			return NULL;
		}
		*close = '\0';
		*p = close + 1;
		return start;
	}
	start = s;
	while (*s && !separator(*s))
		s++;
	if (*s)
		*s++ = '\0';
	*p = s;
	return start;
}

int deleg_input_line(char *line, char **domain, char **subdomain, const char **why)
{
	char *hash = strchr(line, '#'), *p = line;
	const char *bad = NULL;

	/* spreadsheets start a UTF-8 CSV file with a byte order mark */
	if (strncmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;

	if (hash)
		*hash = '\0';
	char *a = field(&p, &bad);
	char *b = a ? field(&p, &bad) : NULL;
	char *c = b ? field(&p, &bad) : NULL;

	if (bad) {
		*why = bad;
		return DELEG_LINE_BAD;
	}
	if (!a)
		return DELEG_LINE_SKIP;
	if (!b || c) {
		*why = c ? "more than two fields: expected DOMAIN SUBDOMAIN"
			 : "one field: expected DOMAIN SUBDOMAIN";
		return DELEG_LINE_BAD;
	}
	if (!*a || !*b) {
		*why = "an empty field: expected DOMAIN SUBDOMAIN";
		return DELEG_LINE_BAD;
	}
	if (strcasecmp(a, "domain") == 0 && strcasecmp(b, "subdomain") == 0)
		return DELEG_LINE_SKIP;
	*domain = a;
	*subdomain = b;
	return DELEG_LINE_PAIR;
}
