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
#include "lib/error.h"

/* What a reload does with a setting. */
enum apply {
	RELOAD,         /* applied */
	RESTART,        /* read at start only: a difference from running stays */
	HTTP,           /* applied when the API runs and the file keeps the section */
	UPDATE,         /* applied, unless group commit is missing (update.enabled) */
};

enum kind { K_UINT, K_U32, K_U64, K_BOOL, K_STR, K_DNAME, K_FN };

typedef void (*render_fn)(FILE *f, const acm_config_t *cfg, bool secret);

typedef struct {
	const char *key;
	enum apply apply;
	enum kind kind;
	size_t off;             /* the field, for all kinds but K_FN */
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

typedef void (*item_fn)(FILE *f, const void *item);

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

static void render_ns(FILE *f, const acm_config_t *c, bool secret)
{
	(void)secret;
	put_items(f, c->ns, c->ns_count, sizeof(*c->ns), put_ns_item);
}

static void render_records(FILE *f, const acm_config_t *c, bool secret)
{
	(void)secret;
	put_items(f, c->records, c->record_count, sizeof(*c->records), put_record_item);
}

static void render_dns_listen(FILE *f, const acm_config_t *c, bool secret)
{
	(void)secret;
	put_items(f, c->listen, c->listen_count, sizeof(*c->listen), put_listen);
}

static void render_workers(FILE *f, const acm_config_t *c, bool secret)
{
	(void)secret;
	fprintf(f, c->workers ? "%u" : "0 (one per core)", c->workers);
}

static void render_exempt(FILE *f, const acm_config_t *c, bool secret)
{
	(void)secret;
	put_items(f, c->rrl.exempt, c->rrl.exempt_count, sizeof(*c->rrl.exempt), put_cidr_item);
}

static void render_http(FILE *f, const acm_config_t *c, bool secret)
{
	(void)secret;
	fputs(c->http.enabled ? "present" : "absent", f);
}

static void render_http_listen(FILE *f, const acm_config_t *c, bool secret)
{
	(void)secret;
	put_items(f, c->http.listen, c->http.listen_count, sizeof(*c->http.listen), put_listen);
}

static void render_cors(FILE *f, const acm_config_t *c, bool secret)
{
	(void)secret;
	put_items(f, c->http.cors_origins, c->http.cors_count, sizeof(char *), put_string_item);
}

static void render_proxies(FILE *f, const acm_config_t *c, bool secret)
{
	(void)secret;
	put_items(f, c->http.trusted_proxies, c->http.trusted_proxy_count, sizeof(char *),
	          put_string_item);
}

static void put_name(FILE *f, const char *const *names, size_t n, int v)
{
	fputs(v >= 0 && (size_t)v < n ? names[v] : "?", f);
}

static void render_metrics(FILE *f, const acm_config_t *c, bool secret)
{
	static const char *const names[] = { "public", "admin", "off" };
	(void)secret;
	put_name(f, names, 3, c->http.metrics);
}

static void render_tsig(FILE *f, const acm_config_t *c, bool secret)
{
	put_items(f, c->tsig, c->tsig_count, sizeof(*c->tsig),
	          secret ? put_key_secret_item : put_key_item);
}

static void render_allow(FILE *f, const acm_config_t *c, bool secret)
{
	(void)secret;
	put_items(f, c->transfer.allow, c->transfer.allow_count, sizeof(*c->transfer.allow),
	          put_allow_item);
}

static void render_notify(FILE *f, const acm_config_t *c, bool secret)
{
	(void)secret;
	put_items(f, c->transfer.notify, c->transfer.notify_count, sizeof(*c->transfer.notify),
	          put_listen);
}

static void render_log_level(FILE *f, const acm_config_t *c, bool secret)
{
	static const char *const names[] = { "error", "warning", "notice", "info", "debug" };
	(void)secret;
	put_name(f, names, 5, c->log_level);
}

static void render_log_format(FILE *f, const acm_config_t *c, bool secret)
{
	static const char *const names[] = { "logfmt", "json" };
	(void)secret;
	put_name(f, names, 2, c->log_format);
}

static void render_log_target(FILE *f, const acm_config_t *c, bool secret)
{
	static const char *const names[] = { "stderr", "syslog" };
	(void)secret;
	put_name(f, names, 2, c->log_target);
}

/* ---- the settings ------------------------------------------------------- */

#define FN(k, a, fn) { k, a, K_FN, 0, fn }
#define VAL(k, a, kind, m) { k, a, kind, AT(m), NULL }

/* In the order of docs/configuration.md. */
static const row_t rows[] = {
	VAL("zone.name", RESTART, K_DNAME, apex),
	FN("zone.ns", RELOAD, render_ns),
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
	FN("zone.records", RELOAD, render_records),
	FN("dns.listen", RESTART, render_dns_listen),
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
	FN("dns.rrl.exempt", RELOAD, render_exempt),
	VAL("dns.name_index", RESTART, K_BOOL, name_index),
	FN("http", RESTART, render_http),
	FN("http.listen", RESTART, render_http_listen),
	VAL("http.tls.cert", HTTP, K_STR, http.tls_cert),
	VAL("http.tls.key", HTTP, K_STR, http.tls_key),
	VAL("http.admin_token_file", HTTP, K_STR, http.admin_token_file),
	VAL("http.disable_registration", HTTP, K_BOOL, http.disable_registration),
	VAL("http.txt_limit", HTTP, K_UINT, http.txt_limit),
	VAL("http.txt_expiry", HTTP, K_U64, http.txt_expiry),
	FN("http.cors_origins", HTTP, render_cors),
	VAL("http.proxy_header", HTTP, K_STR, http.proxy_header),
	FN("http.trusted_proxies", HTTP, render_proxies),
	VAL("http.max_body", HTTP, K_U64, http.max_body),
	VAL("http.timeout", HTTP, K_UINT, http.timeout),
	VAL("http.max_connections", HTTP, K_UINT, http.max_connections),
	VAL("http.max_connections_per_client", HTTP, K_UINT, http.max_connections_per_client),
	VAL("http.request_timeout", HTTP, K_UINT, http.request_timeout),
	VAL("http.register_rate", HTTP, K_UINT, http.register_rate),
	VAL("http.register_rate_global", HTTP, K_UINT, http.register_rate_global),
	VAL("http.batch_max", HTTP, K_UINT, http.batch_max),
	FN("http.metrics", HTTP, render_metrics),
	FN("tsig", RELOAD, render_tsig),
	FN("transfer.allow", RELOAD, render_allow),
	FN("transfer.notify", RELOAD, render_notify),
	VAL("transfer.journal.max_entries", RESTART, K_UINT, transfer.journal_max_entries),
	VAL("transfer.journal.max_age", RESTART, K_UINT, transfer.journal_max_age),
	VAL("update.enabled", UPDATE, K_BOOL, update.enabled),
	VAL("lookups.enabled", RESTART, K_BOOL, lookups.enabled),
	VAL("lookups.total", RESTART, K_UINT, lookups.total),
	VAL("lookups.per_name", RESTART, K_UINT, lookups.per_name),
	VAL("store.path", RESTART, K_STR, store_path),
	VAL("store.max_size", RESTART, K_U64, store_max_size),
	VAL("store.max_accounts", RELOAD, K_UINT, store_max_accounts),
	VAL("audit.max_entries", RESTART, K_UINT, audit_max_entries),
	VAL("audit.max_age", RESTART, K_U64, audit_max_age),
	FN("log.level", RELOAD, render_log_level),
	FN("log.format", RELOAD, render_log_format),
	FN("log.target", RELOAD, render_log_target),
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
	case K_FN: r->fn(f, c, secret); break;
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
	if (strcmp(c->from, c->to) == 0 && r->fn == render_tsig) {
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
