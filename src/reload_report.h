/* SPDX-License-Identifier: ISC */
/*
 * What acmensd says about a reload, in the log and to the admin API
 * (GET /v1/admin/config/drift): the reloadable settings it applied, the
 * settings whose value in the file differs from what runs and needs a
 * restart, and a failed reload's reason with its file, line and key. The
 * report is kept as the JSON document the API serves.
 */
#ifndef ACM_RELOAD_REPORT_H
#define ACM_RELOAD_REPORT_H

#include <jansson.h>

#include "lib/conf/config.h"

typedef struct {
	json_t *doc;    /* {"config", "restart_needed", "last_reload"} */
	size_t applied, restart_needed;         /* by the last reload */
} acm_reload_report_t;

/* The report at start: nothing to restart, no reload yet. ACM_OK, -ENOMEM. */
int acm_reload_report_init(acm_reload_report_t *rep, const char *config_path);
void acm_reload_report_free(acm_reload_report_t *rep);

/* A reload is about to apply file over applied (the file before) and
 * running (the configuration the daemon started with): logs a notice per
 * setting it applies and a warning per setting that needs a restart, in
 * the log settings still running, and keeps them for the report. */
void acm_reload_report_compare(acm_reload_report_t *rep, const acm_config_t *running,
                               const acm_config_t *applied, const acm_config_t *file);
/* The reload is done: the summary line, in the new log settings. */
void acm_reload_report_done(const acm_reload_report_t *rep, const char *config_path);

/* A reload failed with err ("FILE:LINE: KEY: message" from the loader, or
 * a message without place): logs it with file, line and key as fields and
 * keeps the list of what needs a restart as it was. */
void acm_reload_report_failed(acm_reload_report_t *rep, const char *config_path, const char *err);

/* The report as compact JSON text, to free; NULL out of memory. */
char *acm_reload_report_text(const acm_reload_report_t *rep);

#endif
