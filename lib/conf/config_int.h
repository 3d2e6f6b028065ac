/* SPDX-License-Identifier: ISC */
/*
 * The configuration loader's internals, shared by config.c (the schema
 * table and the walk over the YAML tree), config_xfer.c (the lists of
 * mappings: tsig keys and transfer.allow) and config_dnssec.c. Not for use
 * outside lib/config*.
 */
#ifndef ACM_CONFIG_INT_H
#define ACM_CONFIG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <yaml.h>

#include "lib/conf/config.h"

struct loader;
struct opt;

/* Called once per list item; the first call also learns the item count. */
typedef int (*item_fn)(struct loader *ld, const struct opt *o, const char *text,
		       unsigned line, size_t index, size_t count);
/* The same for lists whose items are mappings. */
typedef int (*map_item_fn)(struct loader *ld, const struct opt *o, yaml_node_t *item,
			   unsigned line, size_t index, size_t count);

/* A scalar read by its own function (a name with a number behind it). */
typedef int (*scalar_fn)(struct loader *ld, const struct opt *o, yaml_node_t *value,
			 unsigned line);

enum opt_type { T_MAP, T_STR, T_DNAME, T_UINT, T_BOOL, T_ENUM, T_SIZE, T_LIST, T_FN };

struct opt {
	const char *path;
	enum opt_type type;
	bool required;
	bool in_section;            /* required only when the enclosing map is present */
	size_t off, size;           /* the field in acm_config_t; T_LIST: the array */
	size_t count_off;           /* T_LIST items that fill an array: its count */
	uint64_t min, max;          /* T_UINT, T_SIZE; T_LIST: minimum items */
	uint64_t def;               /* T_UINT, T_SIZE, T_BOOL, T_ENUM; listen lists: default port */
	const char *def_str;        /* T_STR */
	const char *const *names;   /* T_ENUM, in value order, NULL-terminated */
	item_fn item;               /* T_LIST of scalars */
	map_item_fn map_item;       /* T_LIST of mappings */
	scalar_fn scalar;           /* T_FN */
	const char *what;           /* T_LIST: "a list of ..." for messages */
};

struct loader {
	const char *file;
	yaml_document_t *doc;
	acm_config_t *cfg;
	char *err;
	size_t errlen;
	bool *seen;                 /* per schema row; a second sighting is a duplicate */
	unsigned *allow_lines;      /* transfer.allow: each entry's line, for later checks */
};

/* Writes "FILE[:LINE]: [KEY: ]message" to ld->err; returns ACM_ECONFIG.
 * line 0: no line applies; key NULL: the message is about the whole file. */
int acm_cfg_fail(struct loader *ld, unsigned line, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
unsigned acm_cfg_node_line(const yaml_node_t *node);
/* Scalar text, or NULL for non-scalars and for text with an embedded NUL. */
const char *acm_cfg_scalar(const yaml_node_t *node);
/* A value as the file spells it, for messages: quoted as it was quoted
 * (control characters escaped, long text cut), or "nothing", "a list",
 * "a mapping". Returns out, or a constant. */
#define ACM_CFG_WRITTEN_MAX 288
const char *acm_cfg_written(const yaml_node_t *node, char *out, size_t len);
/* acm_cfg_fail with "expected WHAT (got VALUE as written)". */
int acm_cfg_refuse(struct loader *ld, unsigned line, const char *key, const char *what,
		   const yaml_node_t *value);
/* A lower-case wire name from text, or a message naming key. */
int acm_cfg_dname_value(struct loader *ld, const char *key, const char *text,
			unsigned line, uint8_t *out);
/* Slot i of the array at o->off (allocated for n items by the first call),
 * with the count at o->count_off covering it; NULL if out of memory. */
void *acm_cfg_list_slot(struct loader *ld, const struct opt *o, size_t i, size_t n,
			size_t size);

/* config_xfer.c: the items of tsig and transfer.allow, and the check that
 * every transfer.allow key names a tsig key (run once the file is read). */
int acm_cfg_tsig_item(struct loader *ld, const struct opt *o, yaml_node_t *item,
		      unsigned line, size_t index, size_t count);
int acm_cfg_allow_item(struct loader *ld, const struct opt *o, yaml_node_t *item,
		       unsigned line, size_t index, size_t count);
int acm_cfg_check_transfer(struct loader *ld);

/* dnssec.signature_validity and _refresh, in seconds. A signature is made
 * again once less than the refresh is left of it, so the refresh must
 * leave each one at least ACM_CFG_SIG_GAP of use, and both at least an
 * hour (a signature must outlive the TTLs it covers). */
#define ACM_CFG_SIG_VALIDITY_MIN (2 * 3600u)
#define ACM_CFG_SIG_VALIDITY_MAX (365 * 86400u)
#define ACM_CFG_SIG_REFRESH_MIN 3600u
#define ACM_CFG_SIG_GAP 3600u

/* config_dnssec.c: dnssec.algorithm's value, and the checks of the dnssec
 * section that need all of it (the refresh within the validity). */
int acm_cfg_dnssec_algorithm(struct loader *ld, const struct opt *o, yaml_node_t *value,
			     unsigned line);
int acm_cfg_check_dnssec(struct loader *ld);

#endif
