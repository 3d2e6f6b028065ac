/* SPDX-License-Identifier: ISC */
/*
 * Metrics: bucket lookup, the DNS label tables, the registry of DNS
 * workers' counter blocks, and the text exposition writer.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/dns/consts.h"
#include "lib/error.h"
#include "lib/rt/metrics.h"

#define BLOCK_ALIGN 64   /* a cache line: workers never write each other's lines */

const uint64_t acm_m_size_bounds[ACM_M_SIZE_BOUNDS] = {
	64, 128, 256, 512, 1024, 1232, 4096, 16384, 65535,
};

const uint64_t acm_m_latency_bounds[ACM_M_LATENCY_BOUNDS] = {
	500000, 1000000, 2500000, 5000000, 10000000, 25000000, 50000000,
	100000000, 250000000, 500000000, 1000000000, 2500000000u, 5000000000u,
};

const uint64_t acm_m_batch_bounds[ACM_M_BATCH_BOUNDS] = {
	1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096,
};

/* ---- counters and histograms ------------------------------------------ */

void acm_counters_read(const acm_counter_t *src, uint64_t *dst, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] = acm_counter_get(&src[i]);
}

size_t acm_hist_bucket(const uint64_t *bounds, size_t n, uint64_t v)
{
	size_t i = 0;
	while (i < n && v > bounds[i])
		i++;
	return i;
}

void acm_hist_observe(acm_counter_t *counts, const uint64_t *bounds, size_t n,
                      acm_counter_t *sum, uint64_t v)
{
	acm_counter_add(&counts[acm_hist_bucket(bounds, n, v)], 1);
	acm_counter_add(sum, v);
}

/* ---- DNS ------------------------------------------------------------- */

/* The query types counted apart; the rest are OTHER. */
#define QTYPE_TXT 5
static const uint16_t qtypes[ACM_M_QTYPES - 1] = {
	ACM_RRTYPE_A, ACM_RRTYPE_NS, ACM_RRTYPE_CNAME, ACM_RRTYPE_SOA, ACM_RRTYPE_MX,
	[QTYPE_TXT] = ACM_RRTYPE_TXT, ACM_RRTYPE_AAAA, ACM_RRTYPE_SRV, ACM_RRTYPE_CAA, ACM_RRTYPE_ANY,
	ACM_RRTYPE_AXFR, ACM_RRTYPE_IXFR,
};

/* The RCODEs counted apart, by index; the rest are OTHER. */
static const int rcodes[ACM_M_RCODES - 1] = {
	ACM_RCODE_NOERROR, ACM_RCODE_FORMERR, ACM_RCODE_SERVFAIL, ACM_RCODE_NXDOMAIN,
	ACM_RCODE_NOTIMP, ACM_RCODE_REFUSED, ACM_RCODE_NOTAUTH,
};

size_t acm_m_qtype_index(uint16_t qtype)
{
	if (qtype == ACM_RRTYPE_TXT)   /* nearly every query: no search */
		return QTYPE_TXT;
	for (size_t i = 0; i < ACM_M_QTYPES - 1; i++)
		if (qtypes[i] == qtype)
			return i;
	return ACM_M_QTYPES - 1;
}

const char *acm_m_qtype_name(size_t i)
{
	return i < ACM_M_QTYPES - 1 ? acm_dns_type_name(qtypes[i], NULL) : "OTHER";
}

size_t acm_m_rcode_index(int rcode)
{
	if (rcode == ACM_RCODE_NOERROR)
		return 0;
	for (size_t i = 0; i < ACM_M_RCODES - 1; i++)
		if (rcodes[i] == rcode)
			return i;
	return ACM_M_RCODES - 1;
}

const char *acm_m_rcode_name(size_t i)
{
	return i < ACM_M_RCODES - 1 ? acm_dns_rcode_name(rcodes[i], NULL) : "OTHER";
}

const char *acm_m_refusal_name(size_t i)
{
	static const char *const names[ACM_M_REFUSALS] = {
		"unsigned", "malformed", "badkey", "badsig", "badtime", "allowfrom", "transfer",
	};
	return i < ACM_M_REFUSALS ? names[i] : "?";
}

const char *acm_m_tcp_close_name(size_t i)
{
	static const char *const names[ACM_M_TCP_CLOSES] = {
		"max_clients", "max_per_client", "network_share", "no_memory",
		"message_timeout", "idle_timeout",
	};
	return i < ACM_M_TCP_CLOSES ? names[i] : "?";
}

void acm_dns_metrics_answer(acm_dns_metrics_t *m, bool tcp, uint16_t qtype, int rcode,
                            size_t size, bool truncated)
{
	int t = tcp ? ACM_M_TCP : ACM_M_UDP;
	acm_counter_add(&m->queries[t][acm_m_qtype_index(qtype)][acm_m_rcode_index(rcode)], 1);
	if (size > 0)
		acm_hist_observe(m->size[t], acm_m_size_bounds, ACM_M_SIZE_BOUNDS, &m->size_sum[t],
		                 size);
	if (truncated)
		acm_counter_add(&m->truncated, 1);
}

/* ---- the registry ----------------------------------------------------- */

_Static_assert(sizeof(acm_dns_metrics_t) % sizeof(acm_counter_t) == 0,
               "acm_dns_metrics_t must hold counters only");
#define DNS_COUNTERS (sizeof(acm_dns_metrics_t) / sizeof(acm_counter_t))
#define DNS_BLOCK_SIZE ((sizeof(acm_dns_metrics_t) + BLOCK_ALIGN - 1) / BLOCK_ALIGN * BLOCK_ALIGN)

struct acm_metrics {
	pthread_mutex_t mu;
	uint64_t start_time;
	size_t nblocks;
	acm_dns_metrics_t **blocks;
	acm_commit_metrics_t commit;     /* under mu */
	acm_names_metrics_t names;
};

acm_names_metrics_t *acm_metrics_names(acm_metrics_t *m)
{
	return &m->names;
}

int acm_metrics_new(uint64_t start_time, acm_metrics_t **out)
{
	acm_metrics_t *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	pthread_mutex_init(&m->mu, NULL);
	m->start_time = start_time;
	*out = m;
	return ACM_OK;
}

void acm_metrics_free(acm_metrics_t *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nblocks; i++)
		free(m->blocks[i]);
	free(m->blocks);
	pthread_mutex_destroy(&m->mu);
	free(m);
}

uint64_t acm_metrics_start_time(const acm_metrics_t *m)
{
	return m->start_time;
}

acm_dns_metrics_t *acm_metrics_dns_block(acm_metrics_t *m)
{
	acm_dns_metrics_t *b = aligned_alloc(BLOCK_ALIGN, DNS_BLOCK_SIZE);
	if (!b)
		return NULL;
	acm_counter_t *c = (acm_counter_t *)b;
	for (size_t i = 0; i < DNS_COUNTERS; i++)
		atomic_init(&c[i], 0);
	pthread_mutex_lock(&m->mu);
	acm_dns_metrics_t **grown = realloc(m->blocks, (m->nblocks + 1) * sizeof(*grown));
	if (grown) {
		m->blocks = grown;
		m->blocks[m->nblocks++] = b;
	}
	pthread_mutex_unlock(&m->mu);
	if (!grown) {
		free(b);
		return NULL;
	}
	return b;
}

void acm_metrics_dns_sum(acm_metrics_t *m, acm_dns_metrics_t *out)
{
	acm_counter_t *dst = (acm_counter_t *)out;
	for (size_t i = 0; i < DNS_COUNTERS; i++)
		atomic_init(&dst[i], 0);
	pthread_mutex_lock(&m->mu);
	for (size_t b = 0; b < m->nblocks; b++) {
		const acm_counter_t *src = (const acm_counter_t *)m->blocks[b];
		for (size_t i = 0; i < DNS_COUNTERS; i++)
			acm_counter_add(&dst[i], acm_counter_get(&src[i]));
	}
	pthread_mutex_unlock(&m->mu);
}

void acm_metrics_commit_observe(void *arg, size_t ops, uint64_t ns)
{
	acm_metrics_t *m = arg;
	pthread_mutex_lock(&m->mu);
	m->commit.batches++;
	m->commit.ops += ops;
	m->commit.ns_total += ns;
	m->commit.batch_hist[acm_hist_bucket(acm_m_batch_bounds, ACM_M_BATCH_BOUNDS, ops)]++;
	m->commit.ns_hist[acm_hist_bucket(acm_m_latency_bounds, ACM_M_LATENCY_BOUNDS, ns)]++;
	pthread_mutex_unlock(&m->mu);
}

void acm_metrics_commit_read(acm_metrics_t *m, acm_commit_metrics_t *out)
{
	pthread_mutex_lock(&m->mu);
	*out = m->commit;
	pthread_mutex_unlock(&m->mu);
}

/* ---- the text exposition format --------------------------------------- */

void acm_expo_init(acm_expo_t *e)
{
	memset(e, 0, sizeof(*e));
}

void acm_expo_free(acm_expo_t *e)
{
	free(e->buf);
	acm_expo_init(e);
}

static bool reserve(acm_expo_t *e, size_t more)
{
	if (e->oom)
		return false;
	if (e->len + more + 1 <= e->cap)
		return true;
	size_t cap = e->cap ? e->cap : 4096;
	while (cap < e->len + more + 1)
		cap *= 2;
	char *grown = realloc(e->buf, cap);
	if (!grown) {
		e->oom = true;
		return false;
	}
	e->buf = grown;
	e->cap = cap;
	return true;
}

static void put(acm_expo_t *e, const char *s, size_t len)
{
	if (!reserve(e, len))
		return;
	memcpy(e->buf + e->len, s, len);
	e->len += len;
	e->buf[e->len] = '\0';
}

static void putf(acm_expo_t *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(acm_expo_t *e, const char *fmt, ...)
{
	char tmp[128];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		put(e, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* Label values escape backslash, quote and newline; HELP text only the
 * first and the last (in_label false). */
static void put_escaped(acm_expo_t *e, const char *s, bool in_label)
{
	for (; *s; s++) {
		if (*s == '\\')
			put(e, "\\\\", 2);
		else if (*s == '\n')
			put(e, "\\n", 2);
		else if (*s == '"' && in_label)
			put(e, "\\\"", 2);
		else
			put(e, s, 1);
	}
}

void acm_expo_family(acm_expo_t *e, const char *name, const char *type, const char *help)
{
	putf(e, "# HELP %s ", name);
	put_escaped(e, help, false);
	putf(e, "\n# TYPE %s %s\n", name, type);
}

/* name{a="x",b="y"} with one more label (extra, may be NULL) at the end. */
static void put_series(acm_expo_t *e, const char *name, const char *suffix,
                       const acm_label_t *labels, size_t n, const acm_label_t *extra)
{
	put(e, name, strlen(name));
	put(e, suffix, strlen(suffix));
	if (n == 0 && !extra)
		return;
	put(e, "{", 1);
	for (size_t i = 0; i <= n; i++) {
		const acm_label_t *l = i < n ? &labels[i] : extra;
		if (!l)
			break;
		putf(e, "%s%s=\"", i ? "," : "", l->name);
		put_escaped(e, l->value, true);
		put(e, "\"", 1);
	}
	put(e, "}", 1);
}

void acm_expo_u64(acm_expo_t *e, const char *name, const acm_label_t *labels, size_t n,
                  uint64_t value)
{
	put_series(e, name, "", labels, n, NULL);
	putf(e, " %" PRIu64 "\n", value);
}

void acm_expo_double(acm_expo_t *e, const char *name, const acm_label_t *labels, size_t n,
                     double value)
{
	put_series(e, name, "", labels, n, NULL);
	putf(e, " %.15g\n", value);
}

void acm_expo_histogram(acm_expo_t *e, const char *name, const acm_label_t *labels,
                        size_t n, const uint64_t *counts, const uint64_t *bounds,
                        size_t nbounds, double scale, uint64_t sum)
{
	uint64_t total = 0;
	for (size_t i = 0; i <= nbounds; i++) {
		char le[32];
		total += counts[i];
		if (i < nbounds)
			snprintf(le, sizeof(le), "%.15g", (double)bounds[i] / scale);
		else
			snprintf(le, sizeof(le), "+Inf");
		acm_label_t l = { "le", le };
		put_series(e, name, "_bucket", labels, n, &l);
		putf(e, " %" PRIu64 "\n", total);
	}
	put_series(e, name, "_sum", labels, n, NULL);
	putf(e, " %.17g\n", (double)sum / scale);
	put_series(e, name, "_count", labels, n, NULL);
	putf(e, " %" PRIu64 "\n", total);
}
