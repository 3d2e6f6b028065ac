/* SPDX-License-Identifier: ISC */
/*
 * What a reload changes: the settings of a newly read file compared, key
 * by key, with the configuration acmensd started with (what is bound and
 * built and cannot change without a restart) and with the one applied by
 * the last reload (what a reload does change). Values are compared and
 * reported as text in a canonical form (addresses sorted, names in
 * presentation form), so that two spellings of one address are no change.
 * TSIG secrets never appear in the text.
 */
#ifndef ACM_CONFIG_DIFF_H
#define ACM_CONFIG_DIFF_H

#include <stddef.h>

#include "lib/conf/config.h"

/* Values longer than this are cut, with "...", in from and to. */
#define ACM_CONFIG_VALUE_MAX 400

typedef struct {
	const char *key;        /* "dns.listen": a constant */
	char *from;             /* the value running (or applied before) */
	char *to;               /* the value in the file */
} acm_config_change_t;

typedef struct {
	acm_config_change_t *applied;   /* reloadable, changed since the last load */
	size_t applied_count;
	acm_config_change_t *restart;   /* not reloadable, file differs from what runs */
	size_t restart_count;
} acm_config_diff_t;

/*
 * Compare file with running (the configuration the daemon started with)
 * for the settings a reload cannot change, and with applied (the last
 * one loaded; running at first) for those it can. The lists are in the
 * order of the configuration reference. ACM_OK or -ENOMEM (then *out is
 * empty). Free with acm_config_diff_free.
 */
int acm_config_diff(const acm_config_t *running, const acm_config_t *applied,
                    const acm_config_t *file, acm_config_diff_t *out);
void acm_config_diff_free(acm_config_diff_t *diff);

#endif
