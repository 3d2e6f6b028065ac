/* SPDX-License-Identifier: ISC */
/*
 * Structured log lines (logfmt or JSON) to stderr or syslog. Each line is
 * built in a fixed buffer and goes out in one write(2) or syslog(3) call,
 * so threads never interleave. Only printable ASCII leaves this file:
 * everything else is escaped, which keeps lines parseable whatever a
 * client put in a name or a header.
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/log.h"

static atomic_int log_level = ACM_LOG_INFO;
static atomic_int log_format = ACM_LOG_LOGFMT;
static atomic_int log_target = ACM_LOG_STDERR;

static const char *const level_names[] = { "error", "warning", "notice", "info", "debug" };
static const int syslog_prio[] = { LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG };

#define LINE_MAX_LEN 4096
/* Kept free while fields are written, for the closing quote and brace. */
#define LINE_RESERVE 8

void acm_log_set_level(int level)
{
	atomic_store(&log_level, level);
}

int acm_log_get_level(void)
{
	return atomic_load(&log_level);
}

void acm_log_set_format(int format)
{
	atomic_store(&log_format, format);
}

void acm_log_set_target(int target, const char *ident)
{
	if (target == ACM_LOG_SYSLOG && atomic_load(&log_target) != ACM_LOG_SYSLOG)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	atomic_store(&log_target, target);
}

/* ---- the line buffer --------------------------------------------------- */

typedef struct {
	char *p;
	size_t len, cap;            /* cap excludes the reserve and the NUL */
	bool json;
	bool full;                  /* a field did not fit: the rest are dropped */
} line_t;

static void put(line_t *l, const char *s, size_t n)
{
	if (n > l->cap - l->len)
		n = l->cap - l->len;
	memcpy(l->p + l->len, s, n);
	l->len += n;
}

static void puts_(line_t *l, const char *s)
{
	put(l, s, strlen(s));
}

/* The escaped form of byte c, or NULL if it stands for itself. JSON and
 * logfmt quoting share the short escapes; other control and non-ASCII
 * bytes become \u00XX (JSON) or \xXX (logfmt). */
static const char *escape(unsigned char c, bool json, char buf[8])
{
	switch (c) {
	case '"': return "\\\"";
	case '\\': return "\\\\";
	case '\n': return "\\n";
	case '\r': return "\\r";
	case '\t': return "\\t";
	default: break;
	}
	if (c >= 0x20 && c < 0x7f)
		return NULL;
	snprintf(buf, 8, json ? "\\u%04x" : "\\x%02x", c);
	return buf;
}

static void put_escaped(line_t *l, const char *s)
{
	char buf[8];
	for (; *s; s++) {
		const char *e = escape((unsigned char)*s, l->json, buf);
		size_t n = e ? strlen(e) : 1;
		if (n > l->cap - l->len)
			return;   /* never half an escape */
		put(l, e ? e : s, n);
	}
}

/* logfmt leaves simple values bare; anything a parser could misread is
 * quoted. */
static bool needs_quotes(const char *s)
{
	if (!*s)
		return true;
	for (; *s; s++)
		if (*s <= ' ' || *s == '"' || *s == '=' || *s == '\\' || *s >= 0x7f)
			return true;
	return false;
}

static void put_string(line_t *l, const char *s)
{
	if (!s)
		s = "";
	bool quote = l->json || needs_quotes(s);
	if (quote)
		put(l, "\"", 1);
	put_escaped(l, s);
	if (quote) {
		l->cap += LINE_RESERVE / 2;   /* the closing quote always fits */
		put(l, "\"", 1);
		l->cap -= LINE_RESERVE / 2;
	}
}

static void put_key(line_t *l, const char *key)
{
	if (l->json) {
		puts_(l, l->len > 1 ? ",\"" : "\"");
		puts_(l, key);
		puts_(l, "\":");
	} else {
		puts_(l, l->len ? " " : "");
		puts_(l, key);
		puts_(l, "=");
	}
}

static void put_value(line_t *l, const acm_kv_t *kv)
{
	char num[40];
	switch (kv->type) {
	case 'u': snprintf(num, sizeof(num), "%llu", (unsigned long long)kv->v.u); break;
	case 'i': snprintf(num, sizeof(num), "%lld", (long long)kv->v.i); break;
	case 'f': snprintf(num, sizeof(num), "%.3f", kv->v.f); break;
	case 'b': snprintf(num, sizeof(num), "%s", kv->v.u ? "true" : "false"); break;
	default: put_string(l, kv->v.s); return;
	}
	puts_(l, num);
}

/* A field goes in whole or not at all (and no later one either), so a
 * long line loses its tail, never its syntax; only a string value may be
 * cut short, and its closing quote is reserved. */
static void put_field(line_t *l, const acm_kv_t *kv)
{
	if (l->full || l->cap - l->len < strlen(kv->key) + 48) {
		l->full = true;
		return;
	}
	put_key(l, kv->key);
	put_value(l, kv);
}

static void format_time(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
	         tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	         (long)(ts.tv_nsec / 1000000) % 1000);
}

size_t acm_log_format_line(char *buf, size_t cap, int format, int level, const char *msg,
                           const acm_kv_t *kv, size_t n)
{
	char ts[64];
	if (cap < 128 || level < 0 || level > ACM_LOG_DEBUG) {
		if (cap)
			buf[0] = '\0';
		return 0;
	}
	line_t l = { buf, 0, cap - LINE_RESERVE - 1, format == ACM_LOG_JSON, false };
	format_time(ts, sizeof(ts));
	if (l.json)
		put(&l, "{", 1);
	const acm_kv_t head[] = { ACM_KS("ts", ts), ACM_KS("level", level_names[level]),
		                  ACM_KS("msg", msg) };
	for (size_t i = 0; i < 3; i++)
		put_field(&l, &head[i]);
	for (size_t i = 0; i < n; i++)
		put_field(&l, &kv[i]);
	l.cap += LINE_RESERVE;
	if (l.json)
		put(&l, "}", 1);
	buf[l.len] = '\0';
	return l.len;
}

void acm_log_fields(int level, const char *msg, const acm_kv_t *kv, size_t n)
{
	if (level > atomic_load(&log_level) || level < 0)
		return;
	char line[LINE_MAX_LEN];
	size_t len = acm_log_format_line(line, sizeof(line) - 1, atomic_load(&log_format), level,
	                                 msg, kv, n);
	if (atomic_load(&log_target) == ACM_LOG_SYSLOG) {
		syslog(syslog_prio[level], "%s", line);
		return;
	}
	line[len++] = '\n';
	ssize_t w = write(STDERR_FILENO, line, len);
	(void)w;
}

void acm_log(int level, const char *fmt, ...)
{
	if (level > atomic_load(&log_level) || level < 0)
		return;
	char msg[LINE_MAX_LEN / 2];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	acm_log_fields(level, msg, NULL, 0);
}

/* ---- events an outsider can cause at will ------------------------------ */

#define MAX_FIELDS 16

bool acm_log_limit_pass(acm_log_limit_t *l, uint64_t now_ns, uint64_t *suppressed)
{
	uint64_t next = atomic_load(&l->next_ns);
	uint64_t until = now_ns + (uint64_t)l->interval_s * 1000000000u;
	/* one thread wins the slot; the others count themselves as dropped */
	if (now_ns < next || !atomic_compare_exchange_strong(&l->next_ns, &next, until)) {
		atomic_fetch_add(&l->suppressed, 1);
		return false;
	}
	*suppressed = atomic_exchange(&l->suppressed, 0);
	return true;
}

void acm_log_limited_fields(acm_log_limit_t *l, int level, const char *msg, const acm_kv_t *kv,
                            size_t n)
{
	if (level > atomic_load(&log_level) || level < 0)
		return;
	uint64_t now = acm_mono_ns();
	uint64_t dropped;
	if (!acm_log_limit_pass(l, now, &dropped))
		return;
	if (dropped == 0) {
		acm_log_fields(level, msg, kv, n);
		return;
	}
	/* the count of what was left out matters more than a last field */
	acm_kv_t all[MAX_FIELDS];
	if (n > MAX_FIELDS - 1)
		n = MAX_FIELDS - 1;
	memcpy(all, kv, n * sizeof(*kv));
	all[n] = ACM_KU("suppressed", dropped);
	acm_log_fields(level, msg, all, n + 1);
}
