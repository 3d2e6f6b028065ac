/* SPDX-License-Identifier: ISC */
/*
 * A reload's report (reload_report.h): log lines with one setting each,
 * so that a search for a key finds its whole history, and the JSON the
 * admin API serves. The comparison itself is lib/conf/config_diff.c.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/conf/config_diff.h"
#include "lib/error.h"
#include "lib/log.h"
#include "src/reload_report.h"

int acm_reload_report_init(acm_reload_report_t *rep, const char *config_path)
{
	rep->doc = json_pack("{s:s, s:[], s:n}", "config", config_path, "restart_needed",
	                     "last_reload");
	return rep->doc ? ACM_OK : -ENOMEM;
}

void acm_reload_report_free(acm_reload_report_t *rep)
{
	json_decref(rep->doc);
	rep->doc = NULL;
}

char *acm_reload_report_text(const acm_reload_report_t *rep)
{
	return rep->doc ? json_dumps(rep->doc, JSON_COMPACT) : NULL;
}

/* {"time": now (Unix seconds, as every time in the API), "ok": ok}. */
static json_t *reload_entry(bool ok)
{
	return json_pack("{s:I, s:b}", "time", (json_int_t)time(NULL), "ok", ok);
}

/* The changes as [{"key", from_name, to_name}]. */
static json_t *changes_json(const acm_config_change_t *v, size_t n, const char *from_name,
                            const char *to_name)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++)
		json_array_append_new(a, json_pack("{s:s, s:s, s:s}", "key", v[i].key, from_name,
		                                   v[i].from, to_name, v[i].to));
	return a;
}

static void log_changes(const acm_config_diff_t *diff)
{
	for (size_t i = 0; i < diff->applied_count; i++) {
		const acm_config_change_t *c = &diff->applied[i];
		acm_log_kv(ACM_LOG_NOTICE, "reload: applied", ACM_KS("key", c->key),
		           ACM_KS("old", c->from), ACM_KS("new", c->to));
	}
	for (size_t i = 0; i < diff->restart_count; i++) {
		const acm_config_change_t *c = &diff->restart[i];
		acm_log_kv(ACM_LOG_WARNING, "reload: not applied, needs a restart",
		           ACM_KS("key", c->key), ACM_KS("running", c->from), ACM_KS("file", c->to));
	}
}

void acm_reload_report_compare(acm_reload_report_t *rep, const acm_config_t *running,
                               const acm_config_t *applied, const acm_config_t *file)
{
	acm_config_diff_t diff;
	rep->applied = rep->restart_needed = 0;
	if (acm_config_diff(running, applied, file, &diff) != ACM_OK) {
		acm_log_kv(ACM_LOG_WARNING, "reload: cannot compare the configuration: out of memory",
		           ACM_KS("config", file->path));
		return;
	}
	log_changes(&diff);
	rep->applied = diff.applied_count;
	rep->restart_needed = diff.restart_count;
	json_t *last = reload_entry(true);
	if (last)
		json_object_set_new(last, "applied",
		                    changes_json(diff.applied, diff.applied_count, "old", "new"));
	json_object_set_new(rep->doc, "last_reload", last ? last : json_null());
	json_object_set_new(rep->doc, "restart_needed",
	                    changes_json(diff.restart, diff.restart_count, "running", "file"));
	acm_config_diff_free(&diff);
}

void acm_reload_report_done(const acm_reload_report_t *rep, const char *config_path)
{
	acm_log_kv(ACM_LOG_NOTICE, "configuration reloaded", ACM_KS("config", config_path),
	           ACM_KU("applied", rep->applied), ACM_KU("restart_needed", rep->restart_needed));
}

/* The loader's "FILE:LINE: KEY: message", taken apart. */
typedef struct {
	const char *file;       /* NULL when err does not start with it */
	unsigned line;          /* 0: none */
	char key[128];          /* "" when none */
} place_t;

/* A setting's key: letters, digits, '_', '.', '[', ']' and nothing else. */
static size_t key_len(const char *s)
{
	size_t n = 0;
	while (s[n] != '\0' && (isalnum((unsigned char)s[n]) || strchr("_.[]", s[n]) != NULL))
		n++;
	return n;
}

static void split_place(const char *path, const char *err, place_t *p)
{
	size_t plen = strlen(path);
	const char *s = err;
	memset(p, 0, sizeof(*p));
	if (strncmp(err, path, plen) == 0 && err[plen] == ':') {
		p->file = path;
		s = err + plen + 1;
		char *end;
		unsigned long line = strtoul(s, &end, 10);
		if (end != s && *end == ':' && line <= 0xffffffffu) {
			p->line = (unsigned)line;
			s = end + 1;
		}
		s += *s == ' ';
	}
	size_t k = key_len(s);
	if (k > 0 && k < sizeof(p->key) && strncmp(s + k, ": ", 2) == 0)
		memcpy(p->key, s, k);
}

void acm_reload_report_failed(acm_reload_report_t *rep, const char *config_path, const char *err)
{
	place_t p;
	split_place(config_path, err, &p);
	/* only the fields the error has */
	acm_kv_t kv[5] = { ACM_KS("error", err), ACM_KS("config", config_path) };
	size_t n = 2;
	if (p.file)
		kv[n++] = ACM_KS("file", p.file);
	if (p.line)
		kv[n++] = ACM_KU("line", p.line);
	if (p.key[0])
		kv[n++] = ACM_KS("key", p.key);
	acm_log_fields(ACM_LOG_ERROR, "reload failed, keeping the running configuration", kv, n);
	json_t *last = reload_entry(false);
	if (last && json_object_set_new(last, "error", json_string(err)) == 0 && p.file)
		json_object_set_new(last, "file", json_string(p.file));
	if (last && p.line)
		json_object_set_new(last, "line", json_integer(p.line));
	if (last && p.key[0])
		json_object_set_new(last, "key", json_string(p.key));
	json_object_set_new(rep->doc, "last_reload", last ? last : json_null());
}
