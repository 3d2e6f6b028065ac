/* SPDX-License-Identifier: ISC */
/*
 * The HTTP thread's own request counters, and the metrics page that
 * renders them with the DNS workers' counters, the store, group commit,
 * the secondaries and the process in Prometheus text format (served by
 * route_metrics.c). Everything here runs on the HTTP thread, which both
 * writes the request counters and reads them, so they are plain numbers.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "httpapi/server_int.h"
#include "lib/clock.h"
#include "lib/error.h"
#include "lib/rt/deleg_record.h"

#define SERIES_MAX 512     /* route x method x status; the tables hold far fewer */
#define ROUTES_MAX 128
#define SECONDARIES_MAX 64
#define NS_PER_S 1e9
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Keys are compared as pointers: route patterns and method names are
 * static strings, so one series per row of the route tables. */
typedef struct {
	const char *route, *method;
	int status;
	uint64_t count;
} series_t;

typedef struct {
	const char *route;
	uint64_t counts[ACM_M_LATENCY_BOUNDS + 1];
	uint64_t sum_ns;
} latency_t;

struct acm_http_metrics {
	size_t nseries;
	series_t series[SERIES_MAX];
	size_t nroutes;
	latency_t routes[ROUTES_MAX];
	uint64_t closed[ACM_HTTP_CLOSE_REASONS];
	uint64_t open;                  /* connections admitted and not gone */
	latency_t propagation[2];       /* waits for the secondaries: timeout, propagated */
};

static const char *const close_reasons[ACM_HTTP_CLOSE_REASONS] = {
	[ACM_HTTP_CLOSE_MAX_CONNECTIONS] = "max_connections",
	[ACM_HTTP_CLOSE_MAX_PER_CLIENT] = "max_connections_per_client",
	[ACM_HTTP_CLOSE_NO_MEMORY] = "no_memory",
	[ACM_HTTP_CLOSE_EVICTED] = "evicted",
	[ACM_HTTP_CLOSE_REQUEST_TIMEOUT] = "request_timeout",
	[ACM_HTTP_CLOSE_SHED] = "shed",
};

/* ---- the request counters ------------------------------------------------ */

int acm_http_metrics_new(acm_http_metrics_t **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? ACM_OK : -ENOMEM;
}

void acm_http_metrics_free(acm_http_metrics_t *m)
{
	free(m);
}

static series_t *find_series(acm_http_metrics_t *m, const char *route, const char *method,
                             int status)
{
	for (size_t i = 0; i < m->nseries; i++) {
		series_t *s = &m->series[i];
		if (s->route == route && s->method == method && s->status == status)
			return s;
	}
	if (m->nseries == SERIES_MAX)
		return NULL;
	m->series[m->nseries] = (series_t){ .route = route, .method = method, .status = status };
	return &m->series[m->nseries++];
}

static latency_t *find_latency(acm_http_metrics_t *m, const char *route)
{
	for (size_t i = 0; i < m->nroutes; i++)
		if (m->routes[i].route == route)
			return &m->routes[i];
	if (m->nroutes == ROUTES_MAX)
		return NULL;
	m->routes[m->nroutes] = (latency_t){ .route = route };
	return &m->routes[m->nroutes++];
}

void acm_http_metrics_record(acm_http_metrics_t *m, const char *route, const char *method,
                             int status, uint64_t ns)
{
	series_t *s = find_series(m, route, method, status);
	latency_t *l = find_latency(m, route);
	if (s)
		s->count++;
	if (l) {
		l->counts[acm_hist_bucket(acm_m_latency_bounds, ACM_M_LATENCY_BOUNDS, ns)]++;
		l->sum_ns += ns;
	}
}

void acm_http_metrics_closed(acm_http_metrics_t *m, enum acm_http_close reason, unsigned n)
{
	m->closed[reason] += n;
}

void acm_http_metrics_open(acm_http_metrics_t *m, int delta)
{
	m->open += (uint64_t)(int64_t)delta;
}

void acm_http_metrics_propagation(acm_http_metrics_t *m, bool propagated, uint64_t ns)
{
	latency_t *l = &m->propagation[propagated];
	l->counts[acm_hist_bucket(acm_m_latency_bounds, ACM_M_LATENCY_BOUNDS, ns)]++;
	l->sum_ns += ns;
}

/* ---- rendering ------------------------------------------------------------ */

/* One unlabelled sample under its own HELP and TYPE. */
static void single(acm_expo_t *e, const char *name, const char *type, const char *help,
                   uint64_t value)
{
	acm_expo_family(e, name, type, help);
	acm_expo_u64(e, name, NULL, 0, value);
}

static void render_http(acm_expo_t *e, const acm_http_metrics_t *m)
{
	acm_expo_family(e, "acmens_http_requests_total", "counter",
	                "HTTP requests answered, by route pattern, method and status code.");
	for (size_t i = 0; i < m->nseries; i++) {
		const series_t *s = &m->series[i];
		char code[16];
		snprintf(code, sizeof(code), "%d", s->status);
		acm_label_t l[] = { { "route", s->route }, { "method", s->method }, { "code", code } };
		acm_expo_u64(e, "acmens_http_requests_total", l, ARRAY_LEN(l), s->count);
	}
	acm_expo_family(e, "acmens_http_request_duration_seconds", "histogram",
	                "Time from a request's arrival to its reply, by route pattern.");
	for (size_t i = 0; i < m->nroutes; i++) {
		const latency_t *r = &m->routes[i];
		acm_label_t l = { "route", r->route };
		acm_expo_histogram(e, "acmens_http_request_duration_seconds", &l, 1, r->counts,
		                   acm_m_latency_bounds, ACM_M_LATENCY_BOUNDS, NS_PER_S, r->sum_ns);
	}
	acm_expo_family(e, "acmens_http_connections_closed_total", "counter",
	                "HTTP connections the server refused or closed, by reason.");
	for (size_t i = 0; i < ACM_HTTP_CLOSE_REASONS; i++)
		acm_expo_u64(e, "acmens_http_connections_closed_total",
		             &(acm_label_t){ "reason", close_reasons[i] }, 1, m->closed[i]);
	single(e, "acmens_http_connections", "gauge", "Open HTTP connections.", m->open);
	acm_expo_family(e, "acmens_propagation_wait_seconds", "histogram",
	                "Time writes waited for every secondary to serve them, by outcome.");
	for (int i = 0; i < 2; i++) {
		const latency_t *r = &m->propagation[i];
		acm_label_t l = { "outcome", i ? "propagated" : "timeout" };
		acm_expo_histogram(e, "acmens_propagation_wait_seconds", &l, 1, r->counts,
		                   acm_m_latency_bounds, ACM_M_LATENCY_BOUNDS, NS_PER_S, r->sum_ns);
	}
}

static const char *const transports[ACM_M_TRANSPORTS] = { "udp", "tcp" };

static void render_dns_queries(acm_expo_t *e, const acm_dns_metrics_t *d)
{
	acm_expo_family(e, "acmens_dns_queries_total", "counter",
	                "DNS queries answered, by transport, query type and response code.");
	for (size_t t = 0; t < ACM_M_TRANSPORTS; t++)
		for (size_t q = 0; q < ACM_M_QTYPES; q++)
			for (size_t rc = 0; rc < ACM_M_RCODES; rc++) {
				uint64_t n = acm_counter_get(&d->queries[t][q][rc]);
				acm_label_t l[] = { { "transport", transports[t] },
					            { "qtype", acm_m_qtype_name(q) },
					            { "rcode", acm_m_rcode_name(rc) } };
				if (n > 0)
					acm_expo_u64(e, "acmens_dns_queries_total", l, ARRAY_LEN(l), n);
			}
	acm_expo_family(e, "acmens_dns_response_size_bytes", "histogram",
	                "Size of the DNS responses sent, by transport (zone transfers aside).");
	for (size_t t = 0; t < ACM_M_TRANSPORTS; t++) {
		uint64_t counts[ACM_M_SIZE_BOUNDS + 1];
		acm_label_t l = { "transport", transports[t] };
		acm_counters_read(d->size[t], counts, ACM_M_SIZE_BOUNDS + 1);
		acm_expo_histogram(e, "acmens_dns_response_size_bytes", &l, 1, counts,
		                   acm_m_size_bounds, ACM_M_SIZE_BOUNDS, 1,
		                   acm_counter_get(&d->size_sum[t]));
	}
}

/* Limited responses by class, and what was done with them: the second
 * family splits the first, so neither double counts when summed. */
static void render_dns_rrl(acm_expo_t *e, const acm_dns_metrics_t *d)
{
	acm_expo_family(e, "acmens_dns_rrl_limited_total", "counter",
	                "UDP responses over dns.rrl.rate, by response class.");
	for (size_t i = 0; i < ACM_RRL_CLASSES; i++)
		acm_expo_u64(e, "acmens_dns_rrl_limited_total",
		             &(acm_label_t){ "class", acm_rrl_class_name(i) }, 1,
		             acm_counter_get(&d->rrl_slipped[i]) + acm_counter_get(&d->rrl_dropped[i]));
	acm_expo_family(e, "acmens_dns_rrl_total", "counter",
	                "UDP responses over dns.rrl.rate, by what was done (slipped: sent "
	                "truncated; dropped: not sent) and response class.");
	for (size_t i = 0; i < ACM_RRL_CLASSES; i++) {
		acm_label_t slipped[] = { { "action", "slipped" }, { "class", acm_rrl_class_name(i) } };
		acm_label_t dropped[] = { { "action", "dropped" }, { "class", acm_rrl_class_name(i) } };
		acm_expo_u64(e, "acmens_dns_rrl_total", slipped, 2, acm_counter_get(&d->rrl_slipped[i]));
		acm_expo_u64(e, "acmens_dns_rrl_total", dropped, 2, acm_counter_get(&d->rrl_dropped[i]));
	}
}

static void render_dns_other(acm_expo_t *e, const acm_dns_metrics_t *d)
{
	single(e, "acmens_dns_truncated_total", "counter",
	       "UDP responses sent truncated (TC set).", acm_counter_get(&d->truncated));
	acm_expo_family(e, "acmens_dns_txt_lookups_total", "counter",
	                "TXT lookups of names in the zone, by whether values were found.");
	acm_expo_u64(e, "acmens_dns_txt_lookups_total", &(acm_label_t){ "result", "values" }, 1,
	             acm_counter_get(&d->txt_values));
	acm_expo_u64(e, "acmens_dns_txt_lookups_total", &(acm_label_t){ "result", "novalues" }, 1,
	             acm_counter_get(&d->txt_novalues));
	acm_expo_family(e, "acmens_dns_updates_total", "counter",
	                "RFC 2136 UPDATE messages answered, by RCODE.");
	for (size_t i = 0; i < ACM_M_RCODES; i++)
		acm_expo_u64(e, "acmens_dns_updates_total",
		             &(acm_label_t){ "rcode", acm_m_rcode_name(i) }, 1,
		             acm_counter_get(&d->updates[i]));
	acm_expo_family(e, "acmens_dns_refused_total", "counter",
	                "Requests refused before anyone was authenticated, by reason.");
	for (size_t i = 0; i < ACM_M_REFUSALS; i++)
		acm_expo_u64(e, "acmens_dns_refused_total",
		             &(acm_label_t){ "reason", acm_m_refusal_name(i) }, 1,
		             acm_counter_get(&d->refused[i]));
	acm_expo_family(e, "acmens_dns_dropped_total", "counter",
	                "DNS messages dropped without an answer, by reason.");
	acm_expo_u64(e, "acmens_dns_dropped_total", &(acm_label_t){ "reason", "malformed" }, 1,
	             acm_counter_get(&d->dropped[ACM_M_DROP_MALFORMED]));
	acm_expo_u64(e, "acmens_dns_dropped_total", &(acm_label_t){ "reason", "oversize" }, 1,
	             acm_counter_get(&d->dropped[ACM_M_DROP_OVERSIZE]));
	single(e, "acmens_dns_tcp_refused_total", "counter",
	       "DNS TCP connections closed at once at accept: a connection cap was reached.",
	       acm_counter_get(&d->tcp_refused));
	acm_expo_family(e, "acmens_dns_tcp_connections_closed_total", "counter",
	                "DNS TCP connections the server refused or cut off, by reason.");
	for (size_t i = 0; i < ACM_M_TCP_CLOSES; i++)
		acm_expo_u64(e, "acmens_dns_tcp_connections_closed_total",
		             &(acm_label_t){ "reason", acm_m_tcp_close_name(i) }, 1,
		             acm_counter_get(&d->tcp_closed[i]));
	render_dns_rrl(e, d);
	/* each worker's count is accepted minus closed, modulo 2^64 */
	acm_expo_family(e, "acmens_dns_tcp_connections", "gauge", "Open DNS TCP connections.");
	acm_expo_double(e, "acmens_dns_tcp_connections", NULL, 0,
	                (double)(int64_t)acm_counter_get(&d->tcp_open));
}

static void render_dns(acm_expo_t *e, acm_metrics_t *metrics)
{
	acm_dns_metrics_t *d = malloc(sizeof(*d));
	if (!d) {
		e->oom = true;
		return;
	}
	acm_metrics_dns_sum(metrics, d);
	render_dns_queries(e, d);
	render_dns_other(e, d);
	const acm_names_metrics_t *n = acm_metrics_names(metrics);
	single(e, "acmens_dns_name_index_entries", "gauge",
	       "Names in the DNS name index.", acm_counter_get(&n->entries));
	single(e, "acmens_dns_name_index_bytes", "gauge",
	       "Bytes the DNS name index holds (table and records).", acm_counter_get(&n->bytes));
	single(e, "acmens_dns_name_index_rebuilds_total", "counter",
	       "Whole builds of the DNS name index from the store.",
	       acm_counter_get(&n->rebuilds));
	single(e, "acmens_dns_name_index_lagged_total", "counter",
	       "Lookups read from the store because the name index lagged behind it.",
	       acm_counter_get(&d->index_lagged));
	acm_expo_family(e, "acmens_dnssec_signatures_total", "counter",
	                "RRSIGs of signed answers, by whether the cache had them (hit) or they "
	                "were made (miss).");
	acm_expo_u64(e, "acmens_dnssec_signatures_total", &(acm_label_t){ "result", "hit" }, 1,
	             acm_counter_get(&d->signatures[0]));
	acm_expo_u64(e, "acmens_dnssec_signatures_total", &(acm_label_t){ "result", "miss" }, 1,
	             acm_counter_get(&d->signatures[1]));
	free(d);
}

/* A walk over every value (for the expired ones) on each scrape: fine at
 * today's sizes; a running count in the store would make it O(1). */
static void render_store(acm_expo_t *e, acm_store_t *store)
{
	uint32_t serial;
	size_t accounts, values, expired;
	acm_store_info_t info;
	if (acm_store_serial(store, &serial) == ACM_OK)
		single(e, "acmens_zone_serial", "gauge", "The zone's SOA serial.", serial);
	if (acm_store_counts_at(store, acm_expiry_now(), &accounts, &values, &expired) ==
	    ACM_OK) {
		single(e, "acmens_accounts", "gauge", "Accounts in the store.", accounts);
		single(e, "acmens_txt_values", "gauge",
		       "TXT values in the store, expired ones not purged yet included.", values);
		single(e, "acmens_txt_values_expired", "gauge",
		       "TXT values expired and not purged yet.", expired);
	}
	single(e, "acmens_store_full", "gauge",
	       "1 when the latest write ran out of space (store.max_size), else 0.",
	       acm_store_full(store));
	if (acm_store_info(store, &info) != ACM_OK)
		return;
	acm_expo_family(e, "acmens_store_bytes", "gauge",
	                "Store size: data file on disk, pages in use, map size limit.");
	acm_expo_u64(e, "acmens_store_bytes", &(acm_label_t){ "kind", "file" }, 1, info.file_bytes);
	acm_expo_u64(e, "acmens_store_bytes", &(acm_label_t){ "kind", "used" }, 1, info.used_bytes);
	acm_expo_u64(e, "acmens_store_bytes", &(acm_label_t){ "kind", "map" }, 1, info.map_size);
}

/* The store keeps a count per status, moved with each record: a few
 * reads, however many accounts. */
static void render_delegation(acm_expo_t *e, acm_store_t *store)
{
	uint64_t counts[ACM_DELEG_STATUS_COUNT];
	if (acm_deleg_counts(store, counts) != ACM_OK)
		return;
	acm_expo_family(e, "acmens_delegation_accounts", "gauge",
	                "Accounts whose last delegation check had this status.");
	for (int s = 0; s < ACM_DELEG_STATUS_COUNT; s++)
		acm_expo_u64(e, "acmens_delegation_accounts",
		             &(acm_label_t){ "status", acm_deleg_status_name((acm_deleg_status_t)s) },
		             1, counts[s]);
}

static void render_commit(acm_expo_t *e, acm_commit_t *commit, acm_metrics_t *metrics)
{
	acm_commit_stats_t st;
	acm_commit_metrics_t cm;
	acm_commit_get_stats(commit, &st);
	acm_metrics_commit_read(metrics, &cm);
	single(e, "acmens_commit_batches_total", "counter",
	       "Group-commit write transactions committed.", cm.batches);
	single(e, "acmens_commit_ops_total", "counter",
	       "Operations applied by group commit.", cm.ops);
	acm_expo_family(e, "acmens_commit_batch_size", "histogram",
	                "Operations per group-commit transaction.");
	acm_expo_histogram(e, "acmens_commit_batch_size", NULL, 0, cm.batch_hist,
	                   acm_m_batch_bounds, ACM_M_BATCH_BOUNDS, 1, cm.ops);
	acm_expo_family(e, "acmens_commit_seconds", "histogram",
	                "Time of a group-commit transaction, from begin to durable.");
	acm_expo_histogram(e, "acmens_commit_seconds", NULL, 0, cm.ns_hist,
	                   acm_m_latency_bounds, ACM_M_LATENCY_BOUNDS, NS_PER_S,
	                   cm.ns_total);
	single(e, "acmens_expired_purged_total", "counter",
	       "Expired TXT values removed by the expiry sweeps.", st.purged);
}

static void render_secondaries(acm_expo_t *e, acm_zone_status_t *status)
{
	acm_secondary_status_t rows[SECONDARIES_MAX];
	uint32_t serial;
	bool have;
	size_t n = acm_zone_status_get(status, &serial, &have, rows, SECONDARIES_MAX);
	if (n > SECONDARIES_MAX)
		n = SECONDARIES_MAX;
	acm_expo_family(e, "acmens_secondary_serial", "gauge",
	                "The serial each secondary last answered to an SOA query.");
	for (size_t i = 0; i < n; i++)
		if (rows[i].seen)
			acm_expo_u64(e, "acmens_secondary_serial",
			             &(acm_label_t){ "secondary", rows[i].address }, 1, rows[i].serial);
}

static void render_process(acm_expo_t *e, acm_metrics_t *metrics)
{
	acm_expo_family(e, "acmens_build_info", "gauge", "Always 1; the version as a label.");
	acm_expo_u64(e, "acmens_build_info", &(acm_label_t){ "version", PACKAGE_VERSION }, 1, 1);
	single(e, "acmens_start_time_seconds", "gauge",
	       "When the daemon started, in unix seconds.", acm_metrics_start_time(metrics));
}

/* The heartbeats /v1/health judges, as numbers an alert can compare. */
static void render_workers(acm_expo_t *e, const acm_health_t *health)
{
	unsigned alive;
	unsigned workers = acm_health_workers(health, &alive);
	single(e, "acmens_dns_workers", "gauge", "DNS workers configured.", workers);
	single(e, "acmens_dns_workers_alive", "gauge",
	       "DNS workers all of whose threads beat within the health window.", alive);
}

void acm_http_metrics_render(acm_expo_t *e, acm_req_env_t *env)
{
	render_process(e, env->metrics);
	render_workers(e, env->health);
	render_dns(e, env->metrics);
	render_http(e, env->http_metrics);
	render_store(e, env->store);
	render_delegation(e, env->store);
	if (env->commit)
		render_commit(e, env->commit, env->metrics);
	if (env->status)
		render_secondaries(e, env->status);
}
