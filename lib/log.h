/* SPDX-License-Identifier: ISC */
/*
 * Logging for the programs (acmensd, acmensctl). The library code in lib/
 * never calls it: it returns errors, and the program logs once, where the
 * operation ends. Thread-safe; the level can be changed at any time.
 */
#ifndef ACM_LOG_H
#define ACM_LOG_H

#ifndef ACM_LOG_LEVELS_DEFINED
#define ACM_LOG_LEVELS_DEFINED
enum acm_log_level { ACM_LOG_ERROR, ACM_LOG_WARNING, ACM_LOG_NOTICE, ACM_LOG_INFO, ACM_LOG_DEBUG };
#endif

void acm_log_set_level(int level);
int acm_log_get_level(void);
/* One line to stderr: time, level, message. */
void acm_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define acm_err(...) acm_log(ACM_LOG_ERROR, __VA_ARGS__)
#define acm_warn(...) acm_log(ACM_LOG_WARNING, __VA_ARGS__)
#define acm_notice(...) acm_log(ACM_LOG_NOTICE, __VA_ARGS__)
#define acm_info(...) acm_log(ACM_LOG_INFO, __VA_ARGS__)
#define acm_debug(...) acm_log(ACM_LOG_DEBUG, __VA_ARGS__)

#endif
