/* SPDX-License-Identifier: ISC */
/*
 * The access log: one line per request once its reply went out (client,
 * method, path, status, bytes, time, account, request ID), at info when
 * http.access_log is on, else at debug. What could hold a secret never
 * gets in: the query string is not kept, a TXT value in the path is
 * masked, and neither headers (keys, tokens) nor bodies are read here.
 */
#include <stdio.h>
#include <string.h>

#include "httpapi/request_int.h"
#include "lib/log.h"

/* The path and the X-Request-Id header are the client's: one line of
 * printable text each, whatever they hold. */
static void printable_copy(const char *in, char *out, size_t outlen)
{
	size_t i = 0;
	for (; in[i] && i + 1 < outlen; i++)
		out[i] = in[i] > 0x20 && in[i] < 0x7f ? in[i] : '?';
	out[i] = '\0';
}

void acm_access_begin(acm_req_t *r, const char *path)
{
	const char *id = acm_req_header(r, "X-Request-Id");
	printable_copy(path, r->log_path, sizeof(r->log_path));
	if (id && strlen(id) <= REQUEST_ID_MAX)
		printable_copy(id, r->request_id, sizeof(r->request_id));
}

/* A route parameter that holds a secret: written as its name. */
static bool secret_param(const char *seg, size_t len)
{
	return len == 6 && memcmp(seg, ":value", 6) == 0;
}

void acm_access_mask(acm_req_t *r, const char *pattern)
{
	char out[LOG_PATH_MAX] = "";
	const char *p = pattern, *s = r->log_path;
	size_t len = 0;
	/* the pattern matched the path: they have the same segments */
	while (*p == '/' && *s == '/' && len + 1 < sizeof(out)) {
		size_t plen = strcspn(p + 1, "/"), slen = strcspn(s + 1, "/");
		bool mask = secret_param(p + 1, plen);
		int n = snprintf(out + len, sizeof(out) - len, "/%.*s", (int)(mask ? plen : slen),
		                 mask ? p + 1 : s + 1);
		if (n < 0)
			return;
		len += (size_t)n < sizeof(out) - len ? (size_t)n : sizeof(out) - len - 1;
		p += 1 + plen;
		s += 1 + slen;
	}
	memcpy(r->log_path, out, len + 1);
}

void acm_req_note_account(acm_req_t *r, const char *subdomain)
{
	if (!r->account[0])
		snprintf(r->account, sizeof(r->account), "%s", subdomain);
}

void acm_access_log(const acm_req_t *r, int status, size_t bytes, uint64_t ns, bool client_gone)
{
	acm_kv_t kv[] = {
		ACM_KS("client", r->client_text), ACM_KS("method", r->method),
		ACM_KS("path", r->log_path), ACM_KI("status", status), ACM_KU("bytes", bytes),
		ACM_KF("ms", (double)ns / 1e6),
		/* the optional ones, each written only when it has a value */
		ACM_KS("account", r->account), ACM_KS("request_id", r->request_id),
		ACM_KB("client_gone", client_gone),
	};
	size_t n = 6;
	if (r->account[0])
		kv[n++] = kv[6];
	if (r->request_id[0])
		kv[n++] = kv[7];
	if (client_gone)
		kv[n++] = kv[8];
	acm_log_fields(r->conf->access_log ? ACM_LOG_INFO : ACM_LOG_DEBUG, "http", kv, n);
}
