/* SPDX-License-Identifier: ISC */
/*
 * The lines of acmensctl delegation check --file: "DOMAIN SUBDOMAIN",
 * separated by white space or a comma (CSV, fields optionally in double
 * quotes), "#" to the end of a line a comment, blank lines ignored, a
 * CSV header "domain,subdomain" and a UTF-8 byte order mark skipped. Pure:
 * no I/O, for the unit tests.
 */
#ifndef ACM_CLI_DELEG_INPUT_H
#define ACM_CLI_DELEG_INPUT_H

enum { DELEG_LINE_SKIP = 0, DELEG_LINE_PAIR = 1, DELEG_LINE_BAD = -1 };

/* Split line (changed in place) into its two fields. DELEG_LINE_PAIR with
 * *domain and *subdomain pointing into line; DELEG_LINE_SKIP for a blank
 * line, a comment or the header; DELEG_LINE_BAD with *why saying what is
 * wrong (a constant). */
int deleg_input_line(char *line, char **domain, char **subdomain, const char **why);

#endif
