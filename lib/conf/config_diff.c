/* SPDX-License-Identifier: ISC */
/*
 * The comparison behind a reload's report (config_diff.h): one row per
 * setting, with how to write its value as text and whether a reload can
 * apply it. Each value is written the same way for both configurations
 * and the texts compared, so the row table is the whole of the knowledge
 * about what a reload reaches; dnsd/, httpapi/ and src/acmensd.c are what
 * it describes (a row marked RESTART is read only at start there).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/conf/config_diff.h"
#include "lib/dns/dnssec.h"
#include "lib/error.h"

/* What a reload does with a setting. */
enum apply {
	RELOAD,         /* applied */
	RESTART,        /* read at start only: a difference from running stays */
	HTTP,           /* applied when the API runs and the file keeps the section */
	UPDATE,         /* applied, unless group commit is missing (update.enabled) */
};

enum kind { K_UINT, K_U32, K_U64, K_BOOL, K_STR, K_DNAME, K_ENUM, K_LIST, K_FN };

typedef void (*item_fn)(FILE *f, const void *item);
typedef void (*render_fn)(FILE *f, const acm_config_t *cfg);

typedef struct {
	const char *key;
	enum apply apply;
	enum kind kind;
	size_t off;             /* the field (K_LIST: the array), all kinds but K_FN */
	size_t count_off, size; /* K_LIST: the item count's field, an item's size */
	item_fn item;           /* K_LIST: writes one item */
	item_fn secret_item;    /* K_LIST: with what only compares (TSIG secrets) */
	const char *const *names;       /* K_ENUM, NULL-terminated in value order */
	render_fn fn;           /* K_FN */
} row_t;

#define AT(m) offsetof(acm_config_t, m)

/* ---- values as text ----------------------------------------------------- */

static void put_dname(FILE *f, const uint8_t *wire)
{
	char text[ACM_DNAME_TXT_MAX];
	fputs(acm_dname_to_text(wire, text) < 0 ? "?" : text, f);
}

/* "192.0.2.1:53" or "[2001:db8::1]:53" */
static void put_sockaddr(FILE *f, const struct sockaddr_storage *ss)
{
	char addr[INET6_ADDRSTRLEN];
	acm_addr_text((const struct sockaddr *)ss, addr, sizeof(addr));
	uint16_t port = ss->ss_family == AF_INET6
	                        ? ntohs(((const struct sockaddr_in6 *)ss)->sin6_port)
	                        : ntohs(((const struct sockaddr_in *)ss)->sin_port);
	fprintf(f, ss->ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u", addr, port);
}

static void put_cidr(FILE *f, const acm_cidr_t *c)
{
	char addr[INET6_ADDRSTRLEN];
	if (!inet_ntop(c->family, c->addr, addr, sizeof(addr)))
		snprintf(addr, sizeof(addr), "?");
	fprintf(f, "%s/%u", addr, c->prefix);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A list whose order means nothing to the server: items sorted, joined
 * with ", "; "none" when empty. */
static void put_set(FILE *f, char **items, size_t n)
{
	qsort(items, n, sizeof(*items), cmp_str);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s%s", i ? ", " : "", items[i]);
	if (n == 0)
		fputs("none", f);
}

/* Each item of an array written with put, as a sorted set. */
static void put_items(FILE *f, const void *array, size_t n, size_t size, item_fn put)
{
	char **items = calloc(n ? n : 1, sizeof(*items));
	size_t done = 0;
	for (; items && done < n; done++) {
		size_t len;
		FILE *m = open_memstream(&items[done], &len);
		if (!m)
			break;
		put(m, (const char *)array + done * size);
		fclose(m);
	}
	if (items && done == n)
		put_set(f, items, n);
	else
		fputs("?", f);
	for (size_t i = 0; items && i < done; i++)
		free(items[i]);
	free(items);
}

static void put_listen(FILE *f, const void *item)
{
	put_sockaddr(f, &((const acm_listen_t *)item)->addr);
}

static void put_cidr_item(FILE *f, const void *item)
{
	put_cidr(f, item);
}

static void put_string_item(FILE *f, const void *item)
{
	fputs(*(char *const *)item, f);
}

static void put_ns_item(FILE *f, const void *item)
{
	put_dname(f, item);
}

static void put_record_item(FILE *f, const void *item)
{
	fputs(((const acm_record_src_t *)item)->text, f);
}

static void put_allow_item(FILE *f, const void *item)
{
	const struct acm_transfer_allow *a = item;
	if (a->has_address)
		put_cidr(f, &a->address);
	fputs(a->has_address && a->has_key ? " key " : a->has_key ? "key " : "", f);
	if (a->has_key)
		put_dname(f, a->key);
}

static void put_key_item(FILE *f, const void *item)
{
	const acm_tsig_key_t *k = item;
	put_dname(f, k->name);
	fprintf(f, " %s", acm_tsig_alg_name(k->alg));
}

/* With the secret, for comparing only: the text of a value never holds it. */
static void put_key_secret_item(FILE *f, const void *item)
{
	const acm_tsig_key_t *k = item;
	put_key_item(f, item);
	for (size_t i = 0; i < k->secret_len; i++)
		fprintf(f, "%s%02x", i ? "" : " ", k->secret[i]);
}

static void render_workers(FILE *f, const acm_config_t *c)
{
	fprintf(f, c->workers ? "%u" : "0 (one per core)", c->workers);
}

static void render_http(FILE *f, const acm_config_t *c)
{
	fputs(c->http.enabled ? "present" : "absent", f);
}

static void render_dnssec_algorithm(FILE *f, const acm_config_t *c)
{
	const char *name = acm_dnssec_algorithm_name(c->dnssec.algorithm);
	fputs(name ? name : "?", f);
}

static const char *const log_levels[] = { "error", "warning", "notice", "info", "debug", NULL };
static const char *const log_formats[] = { "logfmt", "json", NULL };
static const char *const log_targets[] = { "stderr", "syslog", NULL };
static const char *const metrics_access[] = { "public", "admin", "off", NULL };

static void put_name(FILE *f, const char *const *names, int v)
{
	for (int i = 0; names[i]; i++)
		if (i == v) {
			fputs(names[i], f);
			return;
		}
	fputs("?", f);
}

/* ---- the settings ------------------------------------------------------- */

#define FN(k, a, f) { .key = k, .apply = a, .kind = K_FN, .fn = f }
#define VAL(k, a, kd, m) { .key = k, .apply = a, .kind = kd, .off = AT(m) }
#define ENUM(k, a, m, n) { .key = k, .apply = a, .kind = K_ENUM, .off = AT(m), .names = n }
#define LIST_OF(k, a, m, count, put) .key = k, .apply = a, .kind = K_LIST, .off = AT(m), \
	.count_off = AT(count), .size = sizeof(*((acm_config_t *)0)->m), .item = put
#define LIST(k, a, m, count, put) { LIST_OF(k, a, m, count, put) }

/* In the order of docs/configuration.md. */
static const row_t rows[] = {
	VAL("zone.name", RESTART, K_DNAME, apex),
	LIST("zone.ns", RELOAD, ns, ns_count, put_ns_item),
	VAL("zone.soa.mname", RELOAD, K_DNAME, soa.mname),
	VAL("zone.soa.rname", RELOAD, K_DNAME, soa.rname),
	VAL("zone.soa.refresh", RELOAD, K_U32, soa.refresh),
	VAL("zone.soa.retry", RELOAD, K_U32, soa.retry),
	VAL("zone.soa.expire", RELOAD, K_U32, soa.expire),
	VAL("zone.soa.minimum", RELOAD, K_U32, soa.minimum),
	VAL("zone.soa.ttl", RELOAD, K_U32, soa.ttl),
	VAL("zone.txt_ttl", RELOAD, K_U32, txt_ttl),
	/* the store caps each name's values with the number it opened with */
	VAL("zone.txt_max_values", RESTART, K_UINT, txt_max_values),
	LIST("zone.records", RELOAD, records, record_count, put_record_item),
	LIST("dns.listen", RESTART, listen, listen_count, put_listen),
	FN("dns.workers", RESTART, render_workers),
	VAL("dns.udp_payload", RESTART, K_UINT, udp_payload),
	VAL("dns.tcp_idle_timeout", RESTART, K_UINT, tcp_idle_timeout),
	VAL("dns.tcp_max_clients", RESTART, K_UINT, tcp_max_clients),
	VAL("dns.tcp_max_per_client", RESTART, K_UINT, tcp_max_per_client),
	VAL("dns.tcp_message_timeout", RESTART, K_UINT, tcp_message_timeout),
	VAL("dns.rrl.rate", RELOAD, K_UINT, rrl.rate),
	VAL("dns.rrl.slip", RELOAD, K_UINT, rrl.slip),
	VAL("dns.rrl.window", RELOAD, K_UINT, rrl.window),
	VAL("dns.rrl.ipv4_prefix", RELOAD, K_UINT, rrl.ipv4_prefix),
	VAL("dns.rrl.ipv6_prefix", RELOAD, K_UINT, rrl.ipv6_prefix),
	LIST("dns.rrl.exempt", RELOAD, rrl.exempt, rrl.exempt_count, put_cidr_item),
	VAL("dns.name_index", RESTART, K_BOOL, name_index),
	VAL("dns.udp_yield", RESTART, K_BOOL, udp_yield),
	FN("http", RESTART, render_http),
	LIST("http.listen", RESTART, http.listen, http.listen_count, put_listen),
	VAL("http.tls.cert", HTTP, K_STR, http.tls_cert),
	VAL("http.tls.key", HTTP, K_STR, http.tls_key),
	VAL("http.admin_token_file", HTTP, K_STR, http.admin_token_file),
	VAL("http.disable_registration", HTTP, K_BOOL, http.disable_registration),
	VAL("http.txt_limit", HTTP, K_UINT, http.txt_limit),
	VAL("http.txt_expiry", HTTP, K_U64, http.txt_expiry),
	LIST("http.cors_origins", HTTP, http.cors_origins, http.cors_count, put_string_item),
	VAL("http.proxy_header", HTTP, K_STR, http.proxy_header),
	LIST("http.trusted_proxies", HTTP, http.trusted_proxies, http.trusted_proxy_count,
	     put_string_item),
	VAL("http.max_body", HTTP, K_U64, http.max_body),
	VAL("http.timeout", HTTP, K_UINT, http.timeout),
	VAL("http.max_connections", HTTP, K_UINT, http.max_connections),
	VAL("http.max_connections_per_client", HTTP, K_UINT, http.max_connections_per_client),
	VAL("http.request_timeout", HTTP, K_UINT, http.request_timeout),
	VAL("http.register_rate", HTTP, K_UINT, http.register_rate),
	VAL("http.register_rate_global", HTTP, K_UINT, http.register_rate_global),
	VAL("http.batch_max", HTTP, K_UINT, http.batch_max),
	ENUM("http.metrics", HTTP, http.metrics, metrics_access),
	VAL("http.access_log", HTTP, K_BOOL, http.access_log),
	VAL("http.update_waits_for_secondaries", HTTP, K_BOOL, http.update_waits_for_secondaries),
	{ LIST_OF("tsig", RELOAD, tsig, tsig_count, put_key_item), .secret_item = put_key_secret_item },
	LIST("transfer.allow", RELOAD, transfer.allow, transfer.allow_count, put_allow_item),
	LIST("transfer.notify", RELOAD, transfer.notify, transfer.notify_count, put_listen),
	VAL("transfer.journal.max_entries", RESTART, K_UINT, transfer.journal_max_entries),
	VAL("transfer.journal.max_age", RESTART, K_UINT, transfer.journal_max_age),
	VAL("update.enabled", UPDATE, K_BOOL, update.enabled),
	VAL("lookups.enabled", RESTART, K_BOOL, lookups.enabled),
	VAL("lookups.total", RESTART, K_UINT, lookups.total),
	VAL("lookups.per_name", RESTART, K_UINT, lookups.per_name),
	/* the resolver context is made when acmensd starts */
	LIST("delegation.resolvers", RESTART, delegation.resolvers, delegation.resolver_count,
	     put_listen),
	VAL("delegation.trust_anchor_file", RESTART, K_STR, delegation.trust_anchor_file),
	VAL("delegation.root_hints", RESTART, K_STR, delegation.root_hints),
	VAL("delegation.timeout", RESTART, K_UINT, delegation.timeout),
	VAL("delegation.concurrency", RESTART, K_UINT, delegation.concurrency),
	/* the zone is rebuilt with the keys and these; the algorithm is that
	 * of keys made from then on (docs/dnssec.md) */
	VAL("dnssec.enabled", RELOAD, K_BOOL, dnssec.enabled),
	FN("dnssec.algorithm", RELOAD, render_dnssec_algorithm),
	VAL("dnssec.signature_validity", RELOAD, K_U32, dnssec.signature_validity),
	VAL("dnssec.signature_refresh", RELOAD, K_U32, dnssec.signature_refresh),
	VAL("store.path", RESTART, K_STR, store_path),
	/* the map is remade only with no transaction open in the process,
	 * and every DNS worker holds a reader */
	VAL("store.max_size", RESTART, K_U64, store_max_size),
	VAL("store.max_accounts", RELOAD, K_UINT, store_max_accounts),
	VAL("audit.max_entries", RESTART, K_UINT, audit_max_entries),
	VAL("audit.max_age", RESTART, K_U64, audit_max_age),
	ENUM("log.level", RELOAD, log_level, log_levels),
	ENUM("log.format", RELOAD, log_format, log_formats),
	ENUM("log.target", RELOAD, log_target, log_targets),
};

static void render(FILE *f, const row_t *r, const acm_config_t *c, bool secret)
{
	const char *p = (const char *)c + r->off;
	switch (r->kind) {
	case K_UINT: fprintf(f, "%u", *(const unsigned *)p); break;
	case K_U32: fprintf(f, "%u", (unsigned)*(const uint32_t *)p); break;
	case K_U64: fprintf(f, "%llu", (unsigned long long)*(const uint64_t *)p); break;
	case K_BOOL: fputs(*(const bool *)p ? "true" : "false", f); break;
	case K_STR: fputs(*(char *const *)p ? *(char *const *)p : "none", f); break;
	case K_DNAME: put_dname(f, (const uint8_t *)p); break;
	case K_ENUM: put_name(f, r->names, *(const int *)p); break;
	case K_LIST:
		put_items(f, *(const void *const *)p, *(const size_t *)((const char *)c + r->count_off),
		          r->size, secret && r->secret_item ? r->secret_item : r->item);
		break;
	case K_FN: r->fn(f, c); break;
	}
}

/* The value as text (secret: for comparing), or NULL out of memory. */
static char *value_text(const row_t *r, const acm_config_t *c, bool secret)
{
	char *text = NULL;
	size_t len;
	FILE *f = open_memstream(&text, &len);
	if (!f)
		return NULL;
	render(f, r, c, secret);
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

/* 1 when the row differs between a and b, 0 when not, -ENOMEM. */
static int differs(const row_t *r, const acm_config_t *a, const acm_config_t *b)
{
	char *ta = value_text(r, a, true), *tb = value_text(r, b, true);
	int rc = ta && tb ? strcmp(ta, tb) != 0 : -ENOMEM;
	free(ta);
	free(tb);
	return rc;
}

static char *shown(const row_t *r, const acm_config_t *c)
{
	char *t = value_text(r, c, false);
	if (t && strlen(t) > ACM_CONFIG_VALUE_MAX)
		strcpy(t + ACM_CONFIG_VALUE_MAX - 3, "...");
	return t;
}

static int add(acm_config_change_t **list, size_t *n, const row_t *r, const acm_config_t *from,
               const acm_config_t *to)
{
	acm_config_change_t *grown = realloc(*list, (*n + 1) * sizeof(**list));
	if (!grown)
		return -ENOMEM;
	*list = grown;
	acm_config_change_t *c = &grown[*n];
	c->key = r->key;
	c->from = shown(r, from);
	c->to = shown(r, to);
	(*n)++;
	if (!c->from || !c->to)
		return -ENOMEM;
	/* the same text either side: only a secret moved */
	if (strcmp(c->from, c->to) == 0 && r->secret_item) {
		static const char note[] = " (a secret changed)";
		size_t len = strlen(c->to) + sizeof(note);
		char *marked = malloc(len);
		if (!marked)
			return -ENOMEM;
		snprintf(marked, len, "%s%s", c->to, note);
		free(c->to);
		c->to = marked;
	}
	return ACM_OK;
}

/* Does the file's value need a restart to take effect? */
static int needs_restart(const row_t *r, const acm_config_t *running, const acm_config_t *file)
{
	switch (r->apply) {
	case RESTART: return differs(r, running, file);
	/* dynamic updates commit through group commit, started only with
	 * the API or with update.enabled */
	case UPDATE: return file->update.enabled && !running->update.enabled && !running->http.enabled;
	default: return 0;
	}
}

static bool reloads(const row_t *r, const acm_config_t *running, const acm_config_t *file)
{
	if (r->apply == RESTART)
		return false;
	return r->apply != HTTP || (running->http.enabled && file->http.enabled);
}

static int diff_row(const row_t *r, const acm_config_t *running, const acm_config_t *applied,
                    const acm_config_t *file, acm_config_diff_t *out)
{
	int rc = needs_restart(r, running, file);
	if (rc > 0)
		return add(&out->restart, &out->restart_count, r, running, file);
	if (rc < 0 || !reloads(r, running, file))
		return rc;
	rc = differs(r, applied, file);
	if (rc > 0)
		return add(&out->applied, &out->applied_count, r, applied, file);
	return rc;
}

int acm_config_diff(const acm_config_t *running, const acm_config_t *applied,
                    const acm_config_t *file, acm_config_diff_t *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int rc = diff_row(&rows[i], running, applied, file, out);
		if (rc < 0) {
			acm_config_diff_free(out);
			return rc;
		}
	}
	return ACM_OK;
}

static void free_list(acm_config_change_t *list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(list[i].from);
		free(list[i].to);
	}
	free(list);
}

void acm_config_diff_free(acm_config_diff_t *diff)
{
	free_list(diff->applied, diff->applied_count);
	free_list(diff->restart, diff->restart_count);
	memset(diff, 0, sizeof(*diff));
}
