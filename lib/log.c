/* SPDX-License-Identifier: ISC */
/* Log lines to stderr, one write(2) per line so threads never interleave. */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"

static atomic_int log_level = ACM_LOG_INFO;

static const char *const level_names[] = { "error", "warning", "notice", "info", "debug" };

void acm_log_set_level(int level)
{
	atomic_store(&log_level, level);
}

int acm_log_get_level(void)
{
	return atomic_load(&log_level);
}

void acm_log(int level, const char *fmt, ...)
{
	if (level > atomic_load(&log_level) || level < 0)
		return;
	char line[1024];
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	int n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s: ",
	                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	                 tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, level_names[level]);
	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
	if (len > sizeof(line) - 2)
		len = sizeof(line) - 2;
	line[len++] = '\n';
	ssize_t w = write(STDERR_FILENO, line, len);
	(void)w;
}
