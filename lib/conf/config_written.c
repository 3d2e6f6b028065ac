/* SPDX-License-Identifier: ISC */
/*
 * A configuration value as the file spells it, for the loader's messages:
 * a refusal shows what the operator wrote, quotes and all, so that a stray
 * space or a quote where none was meant is visible.
 */
#include <stdio.h>

#include "lib/conf/config_int.h"

static void put_escaped(char *out, size_t len, size_t *at, const char *s, size_t n, char quote)
{
	for (size_t i = 0; i < n && *at + 5 < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		int w;
		if (quote == '\'' && ch == '\'')
			w = snprintf(out + *at, len - *at, "''");
		else if (quote == '"' && (ch == '"' || ch == '\\'))
			w = snprintf(out + *at, len - *at, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			w = snprintf(out + *at, len - *at, "\\x%02x", ch);
		else
			w = snprintf(out + *at, len - *at, "%c", ch);
		*at += (size_t)w;
	}
}

const char *acm_cfg_written(const yaml_node_t *node, char *out, size_t len)
{
	enum { SHOWN = 64 };
	size_t at = 0, n;
	char quote = 0;

	if (!node)
		return "nothing";
	if (node->type == YAML_MAPPING_NODE)
		return "a mapping";
	if (node->type == YAML_SEQUENCE_NODE)
		return "a list";
	n = node->data.scalar.length;
	if (n == 0 && node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
		return "nothing";
	/* block scalars cannot be shown on one line as written */
	if (node->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE)
		quote = '\'';
	else if (node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		quote = '"';
	if (quote)
		out[at++] = quote;
	put_escaped(out, len - 6, &at, (const char *)node->data.scalar.value,
		    n > SHOWN ? SHOWN : n, quote);
	if (n > SHOWN)
		at += (size_t)snprintf(out + at, len - at, "...");
	if (quote)
		out[at++] = quote;
	out[at] = '\0';
	return out;
}

int acm_cfg_refuse(struct loader *ld, unsigned line, const char *key, const char *what,
		   const yaml_node_t *value)
{
	char shown[ACM_CFG_WRITTEN_MAX];
	return acm_cfg_fail(ld, line, key, "expected %s (got %s)", what,
			    acm_cfg_written(value, shown, sizeof(shown)));
}
