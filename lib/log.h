/* SPDX-License-Identifier: ISC */
/*
 * Logging for the programs (acmensd, acmensctl). The library code in lib/
 * never calls it: it returns errors, and the program logs once, where the
 * operation ends. Every event is one structured line (logfmt or JSON) with
 * ts, level, msg and optional typed fields, to stderr or syslog. Values are
 * escaped, so a hostile name or header can never split or forge a line.
 * Thread-safe; level, format and target can be changed at any time.
 */
#ifndef ACM_LOG_H
#define ACM_LOG_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum acm_log_level { ACM_LOG_ERROR, ACM_LOG_WARNING, ACM_LOG_NOTICE, ACM_LOG_INFO, ACM_LOG_DEBUG };
enum acm_log_format { ACM_LOG_LOGFMT, ACM_LOG_JSON };
enum acm_log_target { ACM_LOG_STDERR, ACM_LOG_SYSLOG };

void acm_log_set_level(int level);
int acm_log_get_level(void);
void acm_log_set_format(int format);
/* ACM_LOG_SYSLOG opens the log (facility daemon) under ident. */
void acm_log_set_target(int target, const char *ident);

/* One field of an event; build them with the ACM_K* macros. */
typedef struct {
	const char *key;            /* a constant: written as is */
	char type;                  /* 's' string, 'u' unsigned, 'i' signed, 'f' double, 'b' bool */
	union {
		const char *s;      /* NULL is written as an empty string */
		uint64_t u;
		int64_t i;
		double f;
	} v;
} acm_kv_t;

#define ACM_KS(k, x) ((acm_kv_t){ .key = (k), .type = 's', .v.s = (x) })
#define ACM_KU(k, x) ((acm_kv_t){ .key = (k), .type = 'u', .v.u = (uint64_t)(x) })
#define ACM_KI(k, x) ((acm_kv_t){ .key = (k), .type = 'i', .v.i = (int64_t)(x) })
#define ACM_KF(k, x) ((acm_kv_t){ .key = (k), .type = 'f', .v.f = (double)(x) })
#define ACM_KB(k, x) ((acm_kv_t){ .key = (k), .type = 'b', .v.u = (x) ? 1 : 0 })

/* An event: msg and n fields. */
void acm_log_fields(int level, const char *msg, const acm_kv_t *kv, size_t n);
/* acm_log_kv(level, msg, ACM_KS("client", addr), ACM_KU("serial", s)) */
#define acm_log_kv(level, msg, ...)                                                   \
	do {                                                                          \
		const acm_kv_t acm_kv_[] = { __VA_ARGS__ };                           \
		acm_log_fields((level), (msg), acm_kv_, sizeof(acm_kv_) / sizeof(acm_kv_[0])); \
	} while (0)

/*
 * A kind of event that an outsider can cause at will (an unsigned UPDATE, a
 * bad TSIG, accept() out of descriptors): at most one line per interval, and
 * that line carries "suppressed", the number of events of the kind dropped
 * since the previous line. Define one per kind with static storage:
 *   static acm_log_limit_t bad_tsig = ACM_LOG_LIMIT_INIT(10);
 * Lock-free; any thread. Counting what was dropped is the caller's metric's
 * job: this only keeps the log small.
 */
typedef struct {
	unsigned interval_s;            /* at most one line per this many seconds */
	_Atomic uint64_t next_ns;       /* CLOCK_MONOTONIC time the next line may go */
	_Atomic uint64_t suppressed;    /* dropped since the last line */
} acm_log_limit_t;

#define ACM_LOG_LIMIT_INIT(seconds) { .interval_s = (seconds) }

/* May an event of this kind be logged now? When true, *suppressed is the
 * number dropped since the last one logged (and the count restarts); when
 * false the event is counted as dropped. */
bool acm_log_limit_pass(acm_log_limit_t *l, uint64_t now_ns, uint64_t *suppressed);

/* acm_log_fields through the limit: the line gets a field "suppressed"
 * when events were dropped before it. Nothing is counted when the level is
 * filtered out anyway. */
void acm_log_limited_fields(acm_log_limit_t *l, int level, const char *msg, const acm_kv_t *kv,
                            size_t n);
#define acm_log_limited_kv(lim, level, msg, ...)                                      \
	do {                                                                          \
		const acm_kv_t acm_kv_[] = { __VA_ARGS__ };                           \
		acm_log_limited_fields((lim), (level), (msg), acm_kv_,                 \
		                       sizeof(acm_kv_) / sizeof(acm_kv_[0]));          \
	} while (0)

/* An event whose message is formatted, without fields. */
void acm_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The line an event would be logged as (no newline), for tests: the
 * number of bytes written to buf, always NUL-terminated. */
size_t acm_log_format_line(char *buf, size_t cap, int format, int level, const char *msg,
                           const acm_kv_t *kv, size_t n);

#define acm_err(...) acm_log(ACM_LOG_ERROR, __VA_ARGS__)
#define acm_warn(...) acm_log(ACM_LOG_WARNING, __VA_ARGS__)
#define acm_notice(...) acm_log(ACM_LOG_NOTICE, __VA_ARGS__)
#define acm_info(...) acm_log(ACM_LOG_INFO, __VA_ARGS__)
#define acm_debug(...) acm_log(ACM_LOG_DEBUG, __VA_ARGS__)

#endif
