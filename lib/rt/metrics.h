/* SPDX-License-Identifier: ISC */
/*
 * Metrics: counters written by one thread each and summed by the reader,
 * histograms with fixed buckets, the DNS workers' counter blocks and the
 * Prometheus text exposition format they are rendered in. The HTTP
 * server renders them (httpapi/metrics.c); nothing here knows its routes.
 */
#ifndef ACM_METRICS_H
#define ACM_METRICS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/rt/rrl.h"

/* ---- counters and histograms ------------------------------------------ */

/* A counter with exactly one writer. Readers on other threads load it
 * relaxed: a sum may be a moment old, never torn. */
typedef _Atomic uint64_t acm_counter_t;

/* A load and a store, not a read-modify-write: with one writer nothing can
 * come in between, and on x86 this is a plain add where fetch_add would be
 * a locked instruction on the DNS hot path. */
static inline void acm_counter_add(acm_counter_t *c, uint64_t n)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
	                      memory_order_relaxed);
}

static inline uint64_t acm_counter_get(const acm_counter_t *c)
{
	return atomic_load_explicit((acm_counter_t *)c, memory_order_relaxed);
}

/* Copy n counters into plain numbers (for acm_expo_histogram). */
void acm_counters_read(const acm_counter_t *src, uint64_t *dst, size_t n);

/* Which bucket v falls in: the first bound >= v (bounds ascending, in the
 * metric's integer unit), or n for +Inf. Buckets are stored one count per
 * bucket, not cumulative; the exposition adds them up. */
size_t acm_hist_bucket(const uint64_t *bounds, size_t n, uint64_t v);

/* Count v in counts (n + 1 slots) and add it to *sum. */
void acm_hist_observe(acm_counter_t *counts, const uint64_t *bounds, size_t n,
                      acm_counter_t *sum, uint64_t v);

/* Bucket bounds shared by the daemon's histograms. */
#define ACM_M_SIZE_BOUNDS 9           /* DNS response bytes */
extern const uint64_t acm_m_size_bounds[ACM_M_SIZE_BOUNDS];
#define ACM_M_LATENCY_BOUNDS 13       /* nanoseconds, 0.5 ms to 5 s */
extern const uint64_t acm_m_latency_bounds[ACM_M_LATENCY_BOUNDS];
#define ACM_M_BATCH_BOUNDS 12         /* operations in a group commit */
extern const uint64_t acm_m_batch_bounds[ACM_M_BATCH_BOUNDS];

/* ---- DNS ------------------------------------------------------------- */

enum { ACM_M_UDP, ACM_M_TCP, ACM_M_TRANSPORTS };
#define ACM_M_QTYPES 13               /* A ... IXFR, then OTHER */
#define ACM_M_RCODES 8                /* NOERROR ... NOTAUTH, then OTHER */

/* Datagrams and messages that got no answer. */
enum acm_m_drop {
	ACM_M_DROP_MALFORMED,         /* shorter than a header, or a response (QR=1) */
	ACM_M_DROP_OVERSIZE,          /* a UDP datagram larger than any query */
	ACM_M_DROPS
};

/* Requests refused before anyone was authenticated (events an outsider
 * can cause at will: logged at most once in a while, counted always). */
enum acm_m_refusal {
	ACM_M_REFUSED_UNSIGNED,       /* an UPDATE without a TSIG */
	ACM_M_REFUSED_MALFORMED,      /* an UPDATE or a TSIG that does not parse */
	ACM_M_REFUSED_BADKEY,         /* a TSIG with a key nobody has */
	ACM_M_REFUSED_BADSIG,
	ACM_M_REFUSED_BADTIME,
	ACM_M_REFUSED_ALLOWFROM,      /* a valid key, from outside its allowfrom */
	ACM_M_REFUSED_TRANSFER,       /* a transfer not in transfer.allow */
	ACM_M_REFUSALS
};
/* The reason's label value ("unsigned", "badkey", ...). */
const char *acm_m_refusal_name(size_t i);

/* TCP connections the server refused at accept or cut off. */
enum acm_m_tcp_close {
	ACM_M_TCP_MAX_CLIENTS,        /* refused at dns.tcp_max_clients */
	ACM_M_TCP_MAX_PER_CLIENT,     /* refused at dns.tcp_max_per_client */
	ACM_M_TCP_NETWORK_SHARE,      /* refused: the client's network holds its share */
	ACM_M_TCP_NO_MEMORY,          /* refused: no memory to count it */
	ACM_M_TCP_MESSAGE_TIMEOUT,    /* a message took longer than dns.tcp_message_timeout */
	ACM_M_TCP_IDLE_TIMEOUT,       /* silent for dns.tcp_idle_timeout between messages */
	ACM_M_TCP_CLOSES
};
/* The reason's label value ("max_clients", ...). */
const char *acm_m_tcp_close_name(size_t i);

/* One DNS worker's counters, written by that worker only. Only counters,
 * so that the reader can add blocks up as arrays. */
typedef struct {
	acm_counter_t queries[ACM_M_TRANSPORTS][ACM_M_QTYPES][ACM_M_RCODES];
	acm_counter_t size[ACM_M_TRANSPORTS][ACM_M_SIZE_BOUNDS + 1];
	acm_counter_t size_sum[ACM_M_TRANSPORTS];
	acm_counter_t truncated;
	acm_counter_t txt_values;     /* TXT lookups answered with values */
	acm_counter_t txt_novalues;   /* TXT lookups in the zone without */
	acm_counter_t dropped[ACM_M_DROPS];
	acm_counter_t updates[ACM_M_RCODES];     /* UPDATE messages answered, by RCODE */
	acm_counter_t refused[ACM_M_REFUSALS];
	acm_counter_t tcp_refused;    /* connections refused at accept, any cap */
	acm_counter_t tcp_closed[ACM_M_TCP_CLOSES];
	acm_counter_t tcp_open;       /* accepted minus closed, modulo 2^64 */
	acm_counter_t rrl_slipped[ACM_RRL_CLASSES];   /* UDP responses over dns.rrl.rate sent TC */
	acm_counter_t rrl_dropped[ACM_RRL_CLASSES];   /* ... and not sent */
	acm_counter_t index_lagged;   /* lookups read from the store: the name index lagged */
	acm_counter_t signatures[2];  /* RRSIGs of answers: [0] from the cache, [1] made */
} acm_dns_metrics_t;

/* Label values of the fixed tables. */
size_t acm_m_qtype_index(uint16_t qtype);
const char *acm_m_qtype_name(size_t i);
size_t acm_m_rcode_index(int rcode);
const char *acm_m_rcode_name(size_t i);

/* One answered query: size 0 means nothing was sent from here (a zone
 * transfer streams its own messages). */
void acm_dns_metrics_answer(acm_dns_metrics_t *m, bool tcp, uint16_t qtype, int rcode,
                            size_t size, bool truncated);

/* ---- the registry ----------------------------------------------------- */

typedef struct acm_metrics acm_metrics_t;

/* ACM_OK or -ENOMEM. start_time: unix seconds the process started. */
int acm_metrics_new(uint64_t start_time, acm_metrics_t **out);
void acm_metrics_free(acm_metrics_t *m);
uint64_t acm_metrics_start_time(const acm_metrics_t *m);

/* A zeroed block for one DNS worker, kept until acm_metrics_free; NULL when
 * out of memory. Thread-safe; meant for start-up, not per packet. */
acm_dns_metrics_t *acm_metrics_dns_block(acm_metrics_t *m);

/* The sum of every DNS block so far into *out. Thread-safe. */
void acm_metrics_dns_sum(acm_metrics_t *m, acm_dns_metrics_t *out);

/* Group commit's transactions, as its observer reports them. */
typedef struct {
	uint64_t batches;             /* transactions committed */
	uint64_t ops;                 /* operations in them */
	uint64_t ns_total;            /* time from begin to durable */
	uint64_t batch_hist[ACM_M_BATCH_BOUNDS + 1];    /* ops per transaction */
	uint64_t ns_hist[ACM_M_LATENCY_BOUNDS + 1];     /* nanoseconds per transaction */
} acm_commit_metrics_t;

/* Count one committed transaction of ops operations that took ns; arg is
 * the acm_metrics_t. The observer of lib/store/commit.h's acm_commit_opts_t.
 * Thread-safe. */
void acm_metrics_commit_observe(void *arg, size_t ops, uint64_t ns);

/* The transactions counted so far, consistent with each other, into *out.
 * Thread-safe. */
void acm_metrics_commit_read(acm_metrics_t *m, acm_commit_metrics_t *out);

/* The DNS name index (lib/rt/name_index.h), as its maintainer sets it. */
typedef struct {
	acm_counter_t entries;        /* names it holds */
	acm_counter_t bytes;          /* table and records */
	acm_counter_t rebuilds;       /* whole builds from the store */
} acm_names_metrics_t;

/* The registry's name index block (zero until a maintainer writes it). */
acm_names_metrics_t *acm_metrics_names(acm_metrics_t *m);

/* ---- the text exposition format (version 0.0.4) ----------------------- */

typedef struct {
	char *buf;
	size_t len, cap;
	bool oom;                     /* an append failed: the text is incomplete */
} acm_expo_t;

/* A label set: n pairs of name and value (values are escaped here). */
typedef struct {
	const char *name, *value;
} acm_label_t;

void acm_expo_init(acm_expo_t *e);
void acm_expo_free(acm_expo_t *e);

/* The HELP and TYPE lines that open a metric family. */
void acm_expo_family(acm_expo_t *e, const char *name, const char *type, const char *help);
void acm_expo_u64(acm_expo_t *e, const char *name, const acm_label_t *labels, size_t n,
                  uint64_t value);
void acm_expo_double(acm_expo_t *e, const char *name, const acm_label_t *labels, size_t n,
                     double value);
/* _bucket lines (cumulative, le in the unit divided by scale), _sum (sum
 * divided by scale) and _count of a histogram stored as acm_hist_bucket
 * describes: counts has nbounds + 1 slots. */
void acm_expo_histogram(acm_expo_t *e, const char *name, const acm_label_t *labels,
                        size_t n, const uint64_t *counts, const uint64_t *bounds,
                        size_t nbounds, double scale, uint64_t sum);

#endif
