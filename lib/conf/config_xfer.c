/* SPDX-License-Identifier: ISC */
/*
 * The configuration's lists of mappings: tsig keys ({name, algorithm,
 * secret}) and transfer.allow entries ({address, key}), and the check,
 * once the whole file is read, that every allow key names a tsig key (the
 * two sections may come in either order).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/conf/cidr.h"
#include "lib/conf/config_int.h"
#include "lib/error.h"
#include "lib/dns/tsig.h"

/* One key of an item mapping: its value node and line once read. */
struct field {
	const char *key;
	yaml_node_t *value;
	unsigned line;
};

static void field_path(const struct opt *o, const char *key, char *out, size_t len)
{
	snprintf(out, len, "%s.%s", o->path, key);
}

static int read_fields(struct loader *ld, const struct opt *o, yaml_node_t *map,
		       struct field *f, size_t nf)
{
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(ld->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(ld->doc, p->value);
		const char *key = acm_cfg_scalar(k);
		unsigned line = k ? acm_cfg_node_line(k) : acm_cfg_node_line(map);
		char path[128];
		size_t i;

		if (!key || !*key || !v)
			return acm_cfg_fail(ld, line, o->path, "keys must be non-empty strings");
		for (i = 0; i < nf && strcmp(f[i].key, key) != 0; i++)
			;
		field_path(o, key, path, sizeof(path));
		if (i == nf)
			return acm_cfg_fail(ld, line, path, "unknown key");
		if (f[i].value)
			return acm_cfg_fail(ld, line, path, "duplicate key");
		f[i].value = v;
		f[i].line = line;
	}
	return ACM_OK;
}

/* The text of a field that must be a non-empty string, or NULL after
 * writing the message. */
static const char *field_text(struct loader *ld, const struct opt *o, const struct field *f,
			      int *rc)
{
	const char *s = acm_cfg_scalar(f->value);
	char path[128];

	if (s && *s)
		return s;
	field_path(o, f->key, path, sizeof(path));
	*rc = acm_cfg_fail(ld, f->line, path, "expected a non-empty string");
	return NULL;
}

static int missing(struct loader *ld, const struct opt *o, unsigned line, const char *key)
{
	char path[128];

	field_path(o, key, path, sizeof(path));
	return acm_cfg_fail(ld, line, path, "required key missing");
}

static int check_unique_key(struct loader *ld, size_t i, unsigned line)
{
	const acm_config_t *c = ld->cfg;
	char name[ACM_DNAME_TXT_MAX];

	for (size_t j = 0; j < i; j++) {
		if (c->tsig[j].name_len == c->tsig[i].name_len &&
		    memcmp(c->tsig[j].name, c->tsig[i].name, c->tsig[i].name_len) == 0) {
			acm_dname_to_text(c->tsig[i].name, name);
			return acm_cfg_fail(ld, line, "tsig.name", "duplicate key name %s", name);
		}
	}
	return ACM_OK;
}

int acm_cfg_tsig_item(struct loader *ld, const struct opt *o, yaml_node_t *item,
		      unsigned line, size_t i, size_t n)
{
	struct field f[] = { { "name", NULL, 0 }, { "algorithm", NULL, 0 }, { "secret", NULL, 0 } };
	acm_tsig_key_t *k = acm_cfg_list_slot(ld, o, i, n, sizeof(*k));
	const char *name, *alg = "hmac-sha256", *secret;
	acm_tsig_alg_t a;
	int r = ACM_OK;

	if (!k)
		return -ENOMEM;
	if ((r = read_fields(ld, o, item, f, 3)) != ACM_OK)
		return r;
	if (!f[0].value)
		return missing(ld, o, line, "name");
	if (!f[2].value)
		return missing(ld, o, line, "secret");
	if (!(name = field_text(ld, o, &f[0], &r)) || !(secret = field_text(ld, o, &f[2], &r)))
		return r;
	if (f[1].value && !(alg = field_text(ld, o, &f[1], &r)))
		return r;
	if (acm_tsig_alg_from_text(alg, &a) != ACM_OK) {
		char shown[ACM_CFG_WRITTEN_MAX];
		return acm_cfg_fail(ld, f[1].line, "tsig.algorithm",
				    "expected one of hmac-sha256, hmac-sha384, hmac-sha512 (got %s)",
				    acm_cfg_written(f[1].value, shown, sizeof(shown)));
	}
	r = acm_tsig_key_from_text(name, alg, secret, k);
	if (r == ACM_EBADNAME)
		return acm_cfg_fail(ld, f[0].line, "tsig.name", "invalid domain name \"%.255s\"",
				    name);
	if (r != ACM_OK)
		return acm_cfg_fail(ld, f[2].line, "tsig.secret",
				    "expected a base64 secret of 1 to %d bytes", ACM_TSIG_SECRET_MAX);
	return check_unique_key(ld, i, f[0].line);
}

int acm_cfg_allow_item(struct loader *ld, const struct opt *o, yaml_node_t *item,
		       unsigned line, size_t i, size_t n)
{
	struct field f[] = { { "address", NULL, 0 }, { "key", NULL, 0 } };
	struct acm_transfer_allow *a = acm_cfg_list_slot(ld, o, i, n, sizeof(*a));
	const char *text;
	int r = ACM_OK;

	if (!a)
		return -ENOMEM;
	if (i == 0 && !(ld->allow_lines = calloc(n, sizeof(*ld->allow_lines))))
		return -ENOMEM;
	ld->allow_lines[i] = line;
	if ((r = read_fields(ld, o, item, f, 2)) != ACM_OK)
		return r;
	if (!f[0].value && !f[1].value)
		return acm_cfg_fail(ld, line, o->path, "each entry needs an address, a key, or both");
	if (f[0].value) {
		if (!(text = field_text(ld, o, &f[0], &r)))
			return r;
		if (acm_cidr_parse(text, &a->address) != ACM_OK)
			return acm_cfg_fail(ld, f[0].line, "transfer.allow.address",
					    "invalid address or CIDR range \"%.80s\"", text);
		a->has_address = true;
	}
	if (f[1].value) {
		if (!(text = field_text(ld, o, &f[1], &r)))
			return r;
		if ((r = acm_cfg_dname_value(ld, "transfer.allow.key", text, f[1].line,
					     a->key)) != ACM_OK)
			return r;
		a->key_len = acm_dname_len(a->key);
		a->has_key = true;
		ld->allow_lines[i] = f[1].line;
	}
	return ACM_OK;
}

static bool have_key(const acm_config_t *c, const uint8_t *name, size_t len)
{
	for (size_t i = 0; i < c->tsig_count; i++)
		if (c->tsig[i].name_len == len && memcmp(c->tsig[i].name, name, len) == 0)
			return true;
	return false;
}

int acm_cfg_check_transfer(struct loader *ld)
{
	const acm_config_t *c = ld->cfg;
	char name[ACM_DNAME_TXT_MAX];

	for (size_t i = 0; i < c->transfer.allow_count; i++) {
		const struct acm_transfer_allow *a = &c->transfer.allow[i];

		if (!a->has_key || have_key(c, a->key, a->key_len))
			continue;
		acm_dname_to_text(a->key, name);
		return acm_cfg_fail(ld, ld->allow_lines[i], "transfer.allow.key",
				    "no key %s in tsig", name);
	}
	return ACM_OK;
}
