/* SPDX-License-Identifier: ISC */
/*
 * The configuration loader: the schema table (one row per option), the walk
 * over libyaml's document tree that fills acm_config_t from it, and the
 * checks that need the whole file (derived SOA names, static records).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>
#include <openssl/crypto.h>
#include <yaml.h>

#include "lib/conf/cidr.h"
#include "lib/conf/config.h"
#include "lib/conf/config_int.h"
#include "lib/error.h"

#define ITEM_FN(name) static int name(struct loader *ld, const struct opt *o, const char *text, \
					unsigned line, size_t i, size_t n)
ITEM_FN(ns_item);
ITEM_FN(listen_item);
ITEM_FN(record_item);
ITEM_FN(origin_item);
ITEM_FN(cidr_item);
ITEM_FN(network_item);

static const char *const log_levels[] = {
	[ACM_LOG_ERROR] = "error", [ACM_LOG_WARNING] = "warning",
	[ACM_LOG_NOTICE] = "notice", [ACM_LOG_INFO] = "info",
	[ACM_LOG_DEBUG] = "debug", NULL
};
static const char *const log_formats[] = {
	[ACM_LOG_LOGFMT] = "logfmt", [ACM_LOG_JSON] = "json", NULL
};
static const char *const log_targets[] = {
	[ACM_LOG_STDERR] = "stderr", [ACM_LOG_SYSLOG] = "syslog", NULL
};

static const char *const metrics_access[] = {
	[ACM_METRICS_PUBLIC] = "public", [ACM_METRICS_ADMIN] = "admin",
	[ACM_METRICS_OFF] = "off", NULL
};

#define FIELD(m) .off = offsetof(acm_config_t, m), .size = sizeof(((acm_config_t *)0)->m)
#define MAP(p) { .path = p, .type = T_MAP }
#define UINT(p, m, lo, hi, d) \
	{ .path = p, .type = T_UINT, FIELD(m), .min = lo, .max = hi, .def = d }
#define BOOL(p, m, d) { .path = p, .type = T_BOOL, FIELD(m), .def = d }
#define STR(p, m) { .path = p, .type = T_STR, FIELD(m) }
#define LIST(p, m, count, fn, w) { .path = p, .type = T_LIST, FIELD(m), \
	.count_off = offsetof(acm_config_t, count), .item = fn, .what = w }
#define TTL_MAX 2147483647u   /* RFC 2181 section 8 */
/* Port 0 cannot be written in a listen address, so it marks "not given":
 * http.listen then takes 443 with TLS and 80 without. */
#define PORT_BY_TLS 0
#define EXPIRY_MAX 3153600000u   /* 100 years: now + expiry cannot overflow */

static const struct opt schema[] = {
	MAP("zone"),
	{ .path = "zone.name", .type = T_DNAME, .required = true, FIELD(apex) },
	{ .path = "zone.ns", .type = T_LIST, .required = true, .min = 1,
	  .item = ns_item, .what = "a list of domain names" },
	MAP("zone.soa"),
	{ .path = "zone.soa.mname", .type = T_DNAME, FIELD(soa.mname) },
	{ .path = "zone.soa.rname", .type = T_DNAME, FIELD(soa.rname) },
	UINT("zone.soa.refresh", soa.refresh, 0, TTL_MAX, 3600),
	UINT("zone.soa.retry", soa.retry, 0, TTL_MAX, 600),
	UINT("zone.soa.expire", soa.expire, 0, TTL_MAX, 604800),
	UINT("zone.soa.minimum", soa.minimum, 0, TTL_MAX, 60),
	UINT("zone.soa.ttl", soa.ttl, 0, TTL_MAX, 3600),
	UINT("zone.txt_ttl", txt_ttl, 0, TTL_MAX, 1),
	UINT("zone.txt_max_values", txt_max_values, 1, 64, 8),
	{ .path = "zone.records", .type = T_LIST, .item = record_item,
	  .what = "a list of records" },
	MAP("dns"),
	{ .path = "dns.listen", .type = T_LIST, .min = 1, .item = listen_item, FIELD(listen),
	  .count_off = offsetof(acm_config_t, listen_count), .def = 53,
	  .what = "a list of addresses" },
	UINT("dns.workers", workers, 0, 256, 0),
	UINT("dns.udp_payload", udp_payload, 512, 4096, 1232),
	UINT("dns.tcp_idle_timeout", tcp_idle_timeout, 1, 3600, 10),
	UINT("dns.tcp_max_clients", tcp_max_clients, 1, 1000000, 1024),
	UINT("dns.tcp_max_per_client", tcp_max_per_client, 1, 1000000, 16),
	UINT("dns.tcp_message_timeout", tcp_message_timeout, 1, 3600, 5),
	BOOL("dns.name_index", name_index, true),
	BOOL("dns.udp_yield", udp_yield, true),
	MAP("dns.rrl"),
	UINT("dns.rrl.rate", rrl.rate, 0, 100000, 20),
	UINT("dns.rrl.slip", rrl.slip, 0, 10, 2),
	UINT("dns.rrl.window", rrl.window, 1, 3600, 15),
	UINT("dns.rrl.ipv4_prefix", rrl.ipv4_prefix, 1, 32, 24),
	UINT("dns.rrl.ipv6_prefix", rrl.ipv6_prefix, 1, 128, 56),
	LIST("dns.rrl.exempt", rrl.exempt, rrl.exempt_count, network_item,
	     "a list of addresses or CIDR ranges"),
	MAP("http"),
	{ .path = "http.listen", .type = T_LIST, .required = true, .in_section = true,
	  .min = 1, .item = listen_item, FIELD(http.listen),
	  .count_off = offsetof(acm_config_t, http.listen_count), .def = PORT_BY_TLS,
	  .what = "a list of addresses" },
	MAP("http.tls"),
	STR("http.tls.cert", http.tls_cert),
	STR("http.tls.key", http.tls_key),
	STR("http.admin_token_file", http.admin_token_file),
	BOOL("http.disable_registration", http.disable_registration, false),
	BOOL("http.access_log", http.access_log, false),
	BOOL("http.update_waits_for_secondaries", http.update_waits_for_secondaries, false),
	UINT("http.txt_limit", http.txt_limit, 1, 64, 2),
	UINT("http.txt_expiry", http.txt_expiry, 0, EXPIRY_MAX, 604800),
	LIST("http.cors_origins", http.cors_origins, http.cors_count, origin_item,
	     "a list of origins (\"*\" or scheme://host[:port], with at most one \"*\")"),
	STR("http.proxy_header", http.proxy_header),
	LIST("http.trusted_proxies", http.trusted_proxies, http.trusted_proxy_count, cidr_item,
	     "a list of addresses or CIDR ranges"),
	{ .path = "http.max_body", .type = T_SIZE, FIELD(http.max_body),
	  .min = 1ull << 10, .max = 16ull << 20, .def = 64ull << 10 },
	UINT("http.timeout", http.timeout, 1, 3600, 10),
	UINT("http.max_connections", http.max_connections, 1, 100000, 1024),
	UINT("http.max_connections_per_client", http.max_connections_per_client, 1, 100000, 32),
	UINT("http.request_timeout", http.request_timeout, 1, 3600, 10),
	UINT("http.register_rate", http.register_rate, 0, 100000, 10),
	UINT("http.register_rate_global", http.register_rate_global, 0, 1000000, 100),
	UINT("http.batch_max", http.batch_max, 1, 100000, 1000),
	{ .path = "http.metrics", .type = T_ENUM, FIELD(http.metrics),
	  .names = metrics_access, .def = ACM_METRICS_PUBLIC },
	{ .path = "tsig", .type = T_LIST, .map_item = acm_cfg_tsig_item, FIELD(tsig),
	  .count_off = offsetof(acm_config_t, tsig_count),
	  .what = "a list of keys ({name, algorithm, secret})" },
	MAP("transfer"),
	{ .path = "transfer.allow", .type = T_LIST, .map_item = acm_cfg_allow_item,
	  FIELD(transfer.allow), .count_off = offsetof(acm_config_t, transfer.allow_count),
	  .what = "a list of {address, key} entries" },
	{ .path = "transfer.notify", .type = T_LIST, .item = listen_item, FIELD(transfer.notify),
	  .count_off = offsetof(acm_config_t, transfer.notify_count), .def = 53,
	  .what = "a list of addresses" },
	MAP("transfer.journal"),
	UINT("transfer.journal.max_entries", transfer.journal_max_entries, 1, 1000000, 10000),
	UINT("transfer.journal.max_age", transfer.journal_max_age, 60, 31536000, 604800),
	MAP("update"),
	BOOL("update.enabled", update.enabled, false),
	MAP("lookups"),
	BOOL("lookups.enabled", lookups.enabled, true),
	UINT("lookups.total", lookups.total, 0, 10000000, 100000),
	UINT("lookups.per_name", lookups.per_name, 1, 1000, 20),
	MAP("delegation"),
	{ .path = "delegation.resolvers", .type = T_LIST, .item = listen_item,
	  FIELD(delegation.resolvers), .count_off = offsetof(acm_config_t, delegation.resolver_count),
	  .def = 53, .what = "a list of addresses" },
	{ .path = "delegation.trust_anchor_file", .type = T_STR, FIELD(delegation.trust_anchor_file),
	  .def_str = "/usr/share/dns/root.key" },
	STR("delegation.root_hints", delegation.root_hints),
	UINT("delegation.timeout", delegation.timeout, 1, 300, 5),
	UINT("delegation.concurrency", delegation.concurrency, 1, 10000, 64),
	MAP("dnssec"),
	BOOL("dnssec.enabled", dnssec.enabled, false),
	{ .path = "dnssec.algorithm", .type = T_FN, .scalar = acm_cfg_dnssec_algorithm },
	UINT("dnssec.signature_validity", dnssec.signature_validity, ACM_CFG_SIG_VALIDITY_MIN,
	     ACM_CFG_SIG_VALIDITY_MAX, 14 * 86400),
	UINT("dnssec.signature_refresh", dnssec.signature_refresh, ACM_CFG_SIG_REFRESH_MIN,
	     ACM_CFG_SIG_VALIDITY_MAX - ACM_CFG_SIG_GAP, 7 * 86400),
	MAP("store"),
	{ .path = "store.path", .type = T_STR, FIELD(store_path), .def_str = "./var" },
	{ .path = "store.max_size", .type = T_SIZE, FIELD(store_max_size),
	  .min = 1ull << 20, .max = UINT64_MAX, .def = 4ull << 30 },
	UINT("store.max_accounts", store_max_accounts, 0, 4000000000u, 0),
	MAP("audit"),
	UINT("audit.max_entries", audit_max_entries, 1, 100000000, 100000),
	UINT("audit.max_age", audit_max_age, 0, EXPIRY_MAX, 7776000),
	MAP("log"),
	{ .path = "log.level", .type = T_ENUM, FIELD(log_level),
	  .names = log_levels, .def = ACM_LOG_INFO },
	{ .path = "log.format", .type = T_ENUM, FIELD(log_format),
	  .names = log_formats, .def = ACM_LOG_LOGFMT },
	{ .path = "log.target", .type = T_ENUM, FIELD(log_target),
	  .names = log_targets, .def = ACM_LOG_STDERR },
};

#define NOPTS (sizeof(schema) / sizeof(schema[0]))

static const struct opt *find_opt(const char *path)
{
	for (size_t i = 0; i < NOPTS; i++)
		if (strcmp(schema[i].path, path) == 0)
			return &schema[i];
	return NULL;
}

static bool seen(const struct loader *ld, const char *path)
{
	return ld->seen[find_opt(path) - schema];
}

int acm_cfg_fail(struct loader *ld, unsigned line, const char *key, const char *fmt, ...)
{
	char where[32] = "";
	va_list ap;
	int n;

	if (!ld->err || !ld->errlen)
		return ACM_ECONFIG;
	if (line)
		snprintf(where, sizeof(where), ":%u", line);
	n = snprintf(ld->err, ld->errlen, "%s%s: %s%s", ld->file, where,
		     key ? key : "", key ? ": " : "");
	if (n < 0 || (size_t)n >= ld->errlen)
		return ACM_ECONFIG;
	va_start(ap, fmt);
	vsnprintf(ld->err + n, ld->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return ACM_ECONFIG;
}

unsigned acm_cfg_node_line(const yaml_node_t *node)
{
	return (unsigned)node->start_mark.line + 1;
}

const char *acm_cfg_scalar(const yaml_node_t *node)
{
	if (!node || node->type != YAML_SCALAR_NODE)
		return NULL;
	const char *s = (const char *)node->data.scalar.value;
	if (strlen(s) != node->data.scalar.length)
		return NULL;
	return s;
}

static bool parse_digits(const char *s, uint64_t *out, const char **end)
{
	uint64_t v = 0;

	if (*s < '0' || *s > '9')
		return false;
	for (; *s >= '0' && *s <= '9'; s++) {
		unsigned d = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	*end = s;
	return true;
}

static bool parse_size(const char *s, uint64_t *out)
{
	static const char suffixes[] = "KMGT";
	uint64_t v;
	const char *end;

	if (!s || !parse_digits(s, &v, &end))
		return false;
	if (*end) {
		const char *p = strchr(suffixes, *end & ~0x20);
		if (!p || !*p || end[1])
			return false;
		unsigned shift = 10 * (unsigned)(p - suffixes + 1);
		if (v > UINT64_MAX >> shift)
			return false;
		v <<= shift;
	}
	*out = v;
	return true;
}

/* The shortest exact spelling of a size, for messages. */
static void format_size(uint64_t v, char *buf, size_t len)
{
	static const char suffixes[] = "KMGT";
	int i = -1;

	while (i < 3 && v && v % 1024 == 0) {
		v /= 1024;
		i++;
	}
	if (i < 0)
		snprintf(buf, len, "%llu", (unsigned long long)v);
	else
		snprintf(buf, len, "%llu%c", (unsigned long long)v, suffixes[i]);
}

static void put_uint(void *field, size_t size, uint64_t v)
{
	if (size == sizeof(uint64_t)) {
		memcpy(field, &v, sizeof v);
	} else {
		uint32_t v32 = (uint32_t)v;
		memcpy(field, &v32, sizeof v32);
	}
}

_Static_assert(sizeof(unsigned) == sizeof(uint32_t), "put_uint stores unsigned as 32 bits");

int acm_cfg_dname_value(struct loader *ld, const char *key, const char *text,
		       unsigned line, uint8_t *out)
{
	if (!text)
		return acm_cfg_fail(ld, line, key, "expected a domain name");
	if (acm_dname_from_text(text, out) < 0)
		return acm_cfg_fail(ld, line, key, "invalid domain name \"%.255s\"", text);
	acm_dname_lower(out);
	return ACM_OK;
}

static int list_value(struct loader *ld, const struct opt *o, yaml_node_t *v, unsigned line)
{
	if (v->type != YAML_SEQUENCE_NODE)
		return acm_cfg_refuse(ld, line, o->path, o->what, v);
	yaml_node_item_t *start = v->data.sequence.items.start;
	size_t n = (size_t)(v->data.sequence.items.top - start);
	if (n < o->min)
		return acm_cfg_fail(ld, line, o->path, "expected %s, at least %llu",
			    o->what, (unsigned long long)o->min);
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *item = yaml_document_get_node(ld->doc, start[i]);
		const char *text = acm_cfg_scalar(item);
		unsigned iline = item ? acm_cfg_node_line(item) : line;
		bool map = item && item->type == YAML_MAPPING_NODE;
		if (o->map_item ? !map : !text)
			return acm_cfg_refuse(ld, iline, o->path, o->what, item);
		int r = o->map_item ? o->map_item(ld, o, item, iline, i, n)
				    : o->item(ld, o, text, iline, i, n);
		if (r)
			return r;
	}
	return ACM_OK;
}

static int enum_error(struct loader *ld, const struct opt *o, const yaml_node_t *v,
		      unsigned line)
{
	char list[128] = "one of ";
	size_t len = strlen(list);

	for (const char *const *p = o->names; *p && len < sizeof(list); p++) {
		int n = snprintf(list + len, sizeof(list) - len, "%s%s",
				 p == o->names ? "" : ", ", *p);
		if (n < 0)
			break;
		len += (size_t)n;
	}
	return acm_cfg_refuse(ld, line, o->path, list, v);
}

static int set_value(struct loader *ld, const struct opt *o, yaml_node_t *v, unsigned line)
{
	void *field = (char *)ld->cfg + o->off;
	char shown[ACM_CFG_WRITTEN_MAX];
	const char *s;
	uint64_t n;
	const char *end;

	switch (o->type) {
	case T_STR: {
		s = acm_cfg_scalar(v);
		if (!s || !*s)
			return acm_cfg_refuse(ld, line, o->path, "a non-empty string", v);
		char *copy = strdup(s);
		if (!copy)
			return -ENOMEM;
		char **slot = field;
		free(*slot);
		*slot = copy;
		return ACM_OK;
	}
	case T_DNAME:
		if (!acm_cfg_scalar(v))
			return acm_cfg_refuse(ld, line, o->path, "a domain name", v);
		return acm_cfg_dname_value(ld, o->path, acm_cfg_scalar(v), line, field);
	case T_UINT:
		s = acm_cfg_scalar(v);
		if (!s || !parse_digits(s, &n, &end) || *end || n < o->min || n > o->max)
			return acm_cfg_fail(ld, line, o->path,
				    "expected an integer from %llu to %llu (got %s)",
				    (unsigned long long)o->min, (unsigned long long)o->max,
				    acm_cfg_written(v, shown, sizeof(shown)));
		put_uint(field, o->size, n);
		return ACM_OK;
	case T_BOOL: {
		static const char *const yes[] = { "true", "yes", "on", NULL };
		static const char *const no[] = { "false", "no", "off", NULL };
		s = acm_cfg_scalar(v);
		for (int k = 0; s && yes[k]; k++) {
			if (strcasecmp(s, yes[k]) == 0 || strcasecmp(s, no[k]) == 0) {
				*(bool *)field = strcasecmp(s, yes[k]) == 0;
				return ACM_OK;
			}
		}
		return acm_cfg_fail(ld, line, o->path,
				    "expected true or false (or yes, no, on, off; got %s)",
				    acm_cfg_written(v, shown, sizeof(shown)));
	}
	case T_ENUM:
		s = acm_cfg_scalar(v);
		for (int k = 0; s && o->names[k]; k++) {
			if (strcmp(s, o->names[k]) == 0) {
				*(int *)field = k;
				return ACM_OK;
			}
		}
		return enum_error(ld, o, v, line);
	case T_SIZE:
		if (!parse_size(acm_cfg_scalar(v), &n) || n < o->min || n > o->max) {
			char min[32], max[32] = "";
			format_size(o->min, min, sizeof(min));
			if (o->max != UINT64_MAX)
				format_size(o->max, max, sizeof(max));
			return acm_cfg_fail(ld, line, o->path,
				    "expected a size %s %s%s%s (bytes, or a number with K, M, G or T; "
				    "got %s)", *max ? "from" : "of at least", min, *max ? " to " : "",
				    max, acm_cfg_written(v, shown, sizeof(shown)));
		}
		put_uint(field, o->size, n);
		return ACM_OK;
	case T_LIST:
		return list_value(ld, o, v, line);
	case T_FN:
		return o->scalar(ld, o, v, line);
	case T_MAP:
		break;
	}
	return ACM_ERROR;
}

static int walk_map(struct loader *ld, yaml_node_t *map, const char *prefix)
{
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(ld->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(ld->doc, p->value);
		unsigned line = k ? acm_cfg_node_line(k) : acm_cfg_node_line(map);
		const char *key = acm_cfg_scalar(k);
		char path[128];

		if (!key || !*key || !v)
			return acm_cfg_fail(ld, line, *prefix ? prefix : "(top level)",
				    "keys must be non-empty strings");
		int n = snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", key);
		/* a dotted key must not reach a nested option directly */
		const struct opt *o = NULL;
		if (n > 0 && (size_t)n < sizeof(path) && *key && !strchr(key, '.'))
			o = find_opt(path);
		if (!o)
			return acm_cfg_fail(ld, line, path, "unknown key");
		if (ld->seen[o - schema])
			return acm_cfg_fail(ld, line, path, "duplicate key");
		ld->seen[o - schema] = true;
		ld->cfg->key_lines[o - schema] = line;

		int r;
		if (o->type != T_MAP)
			r = set_value(ld, o, v, line);
		else if (v->type != YAML_MAPPING_NODE)
			r = acm_cfg_fail(ld, line, path, "expected a mapping");
		else
			r = walk_map(ld, v, path);
		if (r)
			return r;
	}
	return ACM_OK;
}

ITEM_FN(ns_item)
{
	acm_config_t *c = ld->cfg;

	(void)o;
	if (i == 0 && !(c->ns = calloc(n, sizeof(*c->ns))))
		return -ENOMEM;
	int r = acm_cfg_dname_value(ld, "zone.ns", text, line, c->ns[i]);
	if (r)
		return r;
	c->ns_count = i + 1;
	return ACM_OK;
}

ITEM_FN(record_item)
{
	acm_config_t *c = ld->cfg;

	(void)o;
	if (i == 0 && !(c->records = calloc(n, sizeof(*c->records))))
		return -ENOMEM;
	if (!(c->records[i].text = strdup(text)))
		return -ENOMEM;
	c->records[i].line = line;
	c->record_count = i + 1;
	return ACM_OK;
}

/* NULL on success, else what is wrong with the text. */
static const char *parse_listen(const char *s, uint16_t default_port, acm_listen_t *l)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)&l->addr;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&l->addr;
	size_t len = strlen(s);
	const char *port = NULL;
	char host[sizeof(l->text)];
	int family;

	if (len >= sizeof(l->text))
		return "invalid address";
	memcpy(l->text, s, len + 1);
	memset(&l->addr, 0, sizeof(l->addr));

	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close || (close[1] && close[1] != ':'))
			return "invalid address";
		size_t hl = (size_t)(close - s - 1);
		memcpy(host, s + 1, hl);
		host[hl] = '\0';
		if (close[1])
			port = close + 2;
		family = AF_INET6;
	} else if (inet_pton(AF_INET6, s, &a6->sin6_addr) == 1) {
		/* an unbracketed IPv6 address cannot carry a port */
		memcpy(host, s, len + 1);
		family = AF_INET6;
	} else {
		const char *colon = strrchr(s, ':');
		size_t hl = colon ? (size_t)(colon - s) : len;
		memcpy(host, s, hl);
		host[hl] = '\0';
		if (colon)
			port = colon + 1;
		family = AF_INET;
	}

	if (family == AF_INET6) {
		if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1)
			return "invalid address";
	} else if (inet_pton(AF_INET, host, &a4->sin_addr) != 1) {
		return "invalid address";
	}

	uint64_t p = default_port;
	const char *end;
	if (port && (!parse_digits(port, &p, &end) || *end || p < 1 || p > 65535))
		return "invalid port in";

	if (family == AF_INET6) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)p);
		l->addrlen = sizeof(*a6);
	} else {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)p);
		l->addrlen = sizeof(*a4);
	}
	return NULL;
}

int acm_listen_parse(const char *text, uint16_t default_port, acm_listen_t *out)
{
	return parse_listen(text, default_port, out) ? ACM_EBADVALUE : ACM_OK;
}

void *acm_cfg_list_slot(struct loader *ld, const struct opt *o, size_t i, size_t n, size_t size)
{
	void **array = (void **)((char *)ld->cfg + o->off);

	if (i == 0 && !(*array = calloc(n, size)))
		return NULL;
	*(size_t *)((char *)ld->cfg + o->count_off) = i + 1;
	return (char *)*array + i * size;
}

ITEM_FN(listen_item)
{
	acm_listen_t *l = acm_cfg_list_slot(ld, o, i, n, sizeof(*l));

	if (!l)
		return -ENOMEM;
	const char *bad = parse_listen(text, (uint16_t)o->def, l);
	if (bad)
		return acm_cfg_fail(ld, line, o->path, "%s \"%.80s\"", bad, text);
	return ACM_OK;
}

/* Keeps text in a list of strings; the count covers it at once, so that
 * acm_config_free frees it even if a later item fails. */
static int keep_string(struct loader *ld, const struct opt *o, const char *text,
		       size_t i, size_t n)
{
	char **slot = acm_cfg_list_slot(ld, o, i, n, sizeof(char *));

	if (!slot || !(*slot = strdup(text)))
		return -ENOMEM;
	return ACM_OK;
}

/* An Origin header is "scheme://host[:port]"; anything else never matches,
 * so a bare host name is a mistake worth reporting. One "*" stands for
 * any run of characters, as in acme-dns (rs/cors); leading the entry it
 * may stand for the scheme too ("*.example.org"). */
static bool origin_shape_ok(const char *text)
{
	const char *rest = strstr(text, "://");

	if (strcspn(text, " \t\r\n,") != strlen(text))
		return false;
	if (!rest)
		return text[0] == '*' && text[1] && !strchr(text, '/');
	return rest > text && rest[3] && !strchr(rest + 3, '/');
}

/* rs/cors splits on the first "*" and takes a second one literally, so
 * such an entry would never match what its author meant: refused. */
ITEM_FN(origin_item)
{
	const char *star = strchr(text, '*');

	if (star && strchr(star + 1, '*'))
		return acm_cfg_fail(ld, line, o->path,
		                    "origin \"%.80s\" has more than one \"*\" (one wildcard per entry)",
		                    text);
	if (strcmp(text, "*") != 0 && !origin_shape_ok(text))
		return acm_cfg_fail(ld, line, o->path, "invalid origin \"%.80s\"", text);
	return keep_string(ld, o, text, i, n);
}

ITEM_FN(cidr_item)
{
	acm_cidr_t cidr;

	if (acm_cidr_parse(text, &cidr) != ACM_OK)
		return acm_cfg_fail(ld, line, o->path, "invalid address or CIDR range \"%.80s\"", text);
	return keep_string(ld, o, text, i, n);
}

/* A list kept parsed, for matching on the query path. */
ITEM_FN(network_item)
{
	acm_cidr_t *cidr = acm_cfg_list_slot(ld, o, i, n, sizeof(*cidr));

	if (!cidr)
		return -ENOMEM;
	if (acm_cidr_parse(text, cidr) != ACM_OK)
		return acm_cfg_fail(ld, line, o->path, "invalid address or CIDR range \"%.80s\"", text);
	return ACM_OK;
}

static void apply_defaults(acm_config_t *c)
{
	for (size_t i = 0; i < NOPTS; i++) {
		const struct opt *o = &schema[i];
		void *field = (char *)c + o->off;
		switch (o->type) {
		case T_UINT:
		case T_SIZE:
			put_uint(field, o->size, o->def);
			break;
		case T_BOOL:
			*(bool *)field = o->def != 0;
			break;
		case T_ENUM:
			*(int *)field = (int)o->def;
			break;
		default:
			break;
		}
	}
}

/* Is the map that holds o present in the file? */
static bool section_seen(const struct loader *ld, const struct opt *o)
{
	char parent[128];
	const char *dot = strrchr(o->path, '.');
	size_t len = dot ? (size_t)(dot - o->path) : 0;

	if (!dot || len >= sizeof(parent))
		return true;
	memcpy(parent, o->path, len);
	parent[len] = '\0';
	return seen(ld, parent);
}

static int derive_http(struct loader *ld)
{
	acm_config_t *c = ld->cfg;
	bool tls = c->http.tls_cert != NULL;

	c->http.enabled = seen(ld, "http");
	if (seen(ld, "http.tls") && (!c->http.tls_cert || !c->http.tls_key))
		return acm_cfg_fail(ld, 0, c->http.tls_cert ? "http.tls.key" : "http.tls.cert",
			    "http.tls needs both cert and key");
	for (size_t i = 0; i < c->http.listen_count; i++) {
		struct sockaddr_in *a = (struct sockaddr_in *)&c->http.listen[i].addr;
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&c->http.listen[i].addr;
		in_port_t *port = a->sin_family == AF_INET ? &a->sin_port : &a6->sin6_port;
		if (*port == htons(PORT_BY_TLS))
			*port = htons(tls ? 443 : 80);
	}
	/* Without the list every peer could claim any address: allowfrom and
	 * the registration limits would mean nothing. */
	if (c->http.proxy_header && c->http.trusted_proxy_count == 0)
		return acm_cfg_fail(ld, 0, "http.proxy_header",
			    "requires http.trusted_proxies (the addresses of the proxies "
			    "allowed to set it)");
	return ACM_OK;
}

/* Defaults that are not constants: they depend on other options. */
static int derive_defaults(struct loader *ld)
{
	acm_config_t *c = ld->cfg;

	for (size_t i = 0; i < NOPTS; i++) {
		const struct opt *o = &schema[i];
		if (o->required && !ld->seen[i] && (!o->in_section || section_seen(ld, o)))
			return acm_cfg_fail(ld, 0, o->path, "required key missing");
		if (o->type == T_STR && !ld->seen[i] && o->def_str) {
			char **slot = (char **)((char *)c + o->off);
			if (!(*slot = strdup(o->def_str)))
				return -ENOMEM;
		}
	}

	if (!seen(ld, "zone.soa.mname"))
		memcpy(c->soa.mname, c->ns[0], acm_dname_len(c->ns[0]));
	if (!seen(ld, "zone.soa.rname")) {
		static const uint8_t hostmaster[] = "\12hostmaster";
		size_t hl = sizeof(hostmaster) - 1, al = acm_dname_len(c->apex);
		if (hl + al > ACM_DNAME_MAX)
			return acm_cfg_fail(ld, 0, "zone.soa.rname",
				    "hostmaster.<zone.name> is too long; set zone.soa.rname");
		memcpy(c->soa.rname, hostmaster, hl);
		memcpy(c->soa.rname + hl, c->apex, al);
	}
	if (!seen(ld, "dns.listen")) {
		static const char *const defaults[] = { "127.0.0.1:53", "[::1]:53" };
		if (!(c->listen = calloc(2, sizeof(*c->listen))))
			return -ENOMEM;
		for (size_t i = 0; i < 2; i++)
			parse_listen(defaults[i], 53, &c->listen[i]);
		c->listen_count = 2;
	}
	c->delegation.configured = seen(ld, "delegation");
	return derive_http(ld);
}

struct rec {
	uint8_t owner[ACM_DNAME_MAX];
	ldns_rr_type type;
	unsigned line;
};

/* Parse one record (kept in src for the zone: static records are parsed
 * once) and check what the zone allows. */
static int check_one_record(struct loader *ld, const ldns_rdf *origin,
			    acm_record_src_t *src, struct rec *out)
{
	const acm_config_t *c = ld->cfg;
	ldns_rr *rr = NULL;
	char name[ACM_DNAME_TXT_MAX];
	int r = ACM_OK;

	ldns_status st = ldns_rr_new_frm_str(&rr, src->text, c->soa.ttl, origin, NULL);
	if (st == LDNS_STATUS_MEM_ERR)
		return -ENOMEM;
	if (st != LDNS_STATUS_OK)
		return acm_cfg_fail(ld, src->line, "zone.records", "cannot parse record: %s",
			    ldns_get_errorstr_by_id(st));

	const ldns_rdf *owner = ldns_rr_owner(rr);
	size_t olen = owner ? ldns_rdf_size(owner) : 0;
	if (olen < 1 || olen > ACM_DNAME_MAX) {
		r = acm_cfg_fail(ld, src->line, "zone.records", "invalid owner name");
		goto out;
	}
	memcpy(out->owner, ldns_rdf_data(owner), olen);
	acm_dname_lower(out->owner);
	out->type = ldns_rr_get_type(rr);
	out->line = src->line;

	if (acm_dname_under(out->owner, c->apex) < 0) {
		acm_dname_to_text(out->owner, name);
		r = acm_cfg_fail(ld, src->line, "zone.records", "owner %s is outside the zone", name);
	} else if (ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN) {
		r = acm_cfg_fail(ld, src->line, "zone.records", "class must be IN");
	} else if (out->type == LDNS_RR_TYPE_SOA) {
		r = acm_cfg_fail(ld, src->line, "zone.records", "SOA records are not allowed here: use zone.soa");
	} else if (out->type == LDNS_RR_TYPE_NS) {
		r = acm_cfg_fail(ld, src->line, "zone.records", "NS records are not allowed here: use zone.ns");
	} else if (out->type == LDNS_RR_TYPE_CNAME && acm_dname_under(out->owner, c->apex) == 0) {
		r = acm_cfg_fail(ld, src->line, "zone.records", "CNAME not allowed at the zone apex");
	}
out:
	src->rr = rr;
	return r;
}

/* A CNAME owner holds nothing else (RFC 1034 section 3.6.2). */
static int check_cname_conflicts(struct loader *ld, const struct rec *recs, size_t n)
{
	char name[ACM_DNAME_TXT_MAX];

	for (size_t j = 1; j < n; j++) {
		for (size_t i = 0; i < j; i++) {
			if (!acm_dname_equal(recs[i].owner, recs[j].owner))
				continue;
			bool ci = recs[i].type == LDNS_RR_TYPE_CNAME;
			bool cj = recs[j].type == LDNS_RR_TYPE_CNAME;
			if (!ci && !cj)
				continue;
			acm_dname_to_text(recs[j].owner, name);
			if (ci && cj)
				return acm_cfg_fail(ld, recs[j].line, "zone.records",
					    "%s already has a CNAME (line %u)", name, recs[i].line);
			if (ci)
				return acm_cfg_fail(ld, recs[j].line, "zone.records",
					    "%s has a CNAME (line %u), so it cannot hold other records",
					    name, recs[i].line);
			return acm_cfg_fail(ld, recs[j].line, "zone.records",
				    "CNAME conflicts with other records at %s (line %u)",
				    name, recs[i].line);
		}
	}
	return ACM_OK;
}

static int check_records(struct loader *ld)
{
	acm_config_t *c = ld->cfg;
	int r = ACM_OK;

	if (c->record_count == 0)
		return ACM_OK;
	struct rec *recs = calloc(c->record_count, sizeof(*recs));
	ldns_rdf *origin = ldns_dname_new_frm_data((uint16_t)acm_dname_len(c->apex), c->apex);
	if (!recs || !origin) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < c->record_count && !r; i++)
		r = check_one_record(ld, origin, &c->records[i], &recs[i]);
	if (!r)
		r = check_cname_conflicts(ld, recs, c->record_count);
out:
	free(recs);
	if (origin)
		ldns_rdf_deep_free(origin);
	return r;
}

static int yaml_failure(struct loader *ld, const yaml_parser_t *p)
{
	if (p->error == YAML_MEMORY_ERROR)
		return -ENOMEM;
	const char *problem = p->problem ? p->problem : "unknown problem";
	/* the reader reports byte offsets, not lines */
	if (p->error == YAML_READER_ERROR)
		return acm_cfg_fail(ld, 0, "YAML error", "%s at byte %zu", problem, p->problem_offset);
	if (p->context)
		return acm_cfg_fail(ld, (unsigned)p->problem_mark.line + 1, "YAML error", "%s %s",
			    p->context, problem);
	return acm_cfg_fail(ld, (unsigned)p->problem_mark.line + 1, "YAML error", "%s", problem);
}

static int load_document(struct loader *ld, yaml_parser_t *parser)
{
	yaml_document_t doc, extra;
	int r;

	if (!yaml_parser_load(parser, &doc))
		return yaml_failure(ld, parser);
	ld->doc = &doc;
	yaml_node_t *root = yaml_document_get_root_node(&doc);
	if (!root) {
		r = acm_cfg_fail(ld, 0, NULL, "the file is empty");
	} else if (root->type != YAML_MAPPING_NODE) {
		r = acm_cfg_fail(ld, acm_cfg_node_line(root), NULL, "the top level must be a mapping");
	} else {
		r = walk_map(ld, root, "");
	}
	if (!r) {
		/* a second document would be silently ignored otherwise */
		if (!yaml_parser_load(parser, &extra)) {
			r = yaml_failure(ld, parser);
		} else {
			root = yaml_document_get_root_node(&extra);
			if (root)
				r = acm_cfg_fail(ld, acm_cfg_node_line(root), NULL,
					 "only one YAML document is allowed");
			yaml_document_delete(&extra);
		}
	}
	yaml_document_delete(&doc);
	ld->doc = NULL;
	return r;
}

int acm_config_load(const char *path, acm_config_t **out, char *err, size_t errlen)
{
	bool seen_rows[NOPTS] = { false };
	struct loader ld = { .file = path, .err = err, .errlen = errlen, .seen = seen_rows };
	yaml_parser_t parser;
	int r;

	*out = NULL;
	if (err && errlen)
		err[0] = '\0';

	FILE *f = fopen(path, "r");
	if (!f) {
		int e = errno;
		if (err && errlen)
			snprintf(err, errlen, "%s: %s", path, strerror(e));
		return -e;
	}
	if (!(ld.cfg = calloc(1, sizeof(*ld.cfg))) || !(ld.cfg->path = strdup(path)) ||
	    !(ld.cfg->key_lines = calloc(NOPTS, sizeof(*ld.cfg->key_lines)))) {
		r = -ENOMEM;
		goto done;
	}
	apply_defaults(ld.cfg);

	if (!yaml_parser_initialize(&parser)) {
		r = -ENOMEM;
		goto done;
	}
	yaml_parser_set_input_file(&parser, f);
	r = load_document(&ld, &parser);
	yaml_parser_delete(&parser);

	if (!r)
		r = derive_defaults(&ld);
	if (!r)
		r = acm_cfg_check_transfer(&ld);
	if (!r)
		r = acm_cfg_check_dnssec(&ld);
	if (!r)
		r = check_records(&ld);
done:
	fclose(f);
	free(ld.allow_lines);
	if (r == -ENOMEM && err && errlen)
		snprintf(err, errlen, "%s: out of memory", path);
	if (r) {
		acm_config_free(ld.cfg);
		return r;
	}
	*out = ld.cfg;
	return ACM_OK;
}

unsigned acm_config_line(const acm_config_t *cfg, const char *key)
{
	const struct opt *o = find_opt(key);
	return o && cfg->key_lines ? cfg->key_lines[o - schema] : 0;
}

void acm_config_free(acm_config_t *cfg)
{
	if (!cfg)
		return;
	free(cfg->key_lines);
	for (size_t i = 0; i < cfg->record_count; i++) {
		free(cfg->records[i].text);
		ldns_rr_free(cfg->records[i].rr);
	}
	free(cfg->records);
	free(cfg->ns);
	free(cfg->listen);
	free(cfg->rrl.exempt);
	free(cfg->http.listen);
	free(cfg->http.tls_cert);
	free(cfg->http.tls_key);
	free(cfg->http.admin_token_file);
	for (size_t i = 0; i < cfg->http.cors_count; i++)
		free(cfg->http.cors_origins[i]);
	free(cfg->http.cors_origins);
	free(cfg->http.proxy_header);
	for (size_t i = 0; i < cfg->http.trusted_proxy_count; i++)
		free(cfg->http.trusted_proxies[i]);
	free(cfg->http.trusted_proxies);
	if (cfg->tsig)
		OPENSSL_cleanse(cfg->tsig, cfg->tsig_count * sizeof(*cfg->tsig));
	free(cfg->tsig);
	free(cfg->transfer.allow);
	free(cfg->transfer.notify);
	free(cfg->delegation.resolvers);
	free(cfg->delegation.trust_anchor_file);
	free(cfg->delegation.root_hints);
	free(cfg->store_path);
	free(cfg->path);
	free(cfg);
}
