/* SPDX-License-Identifier: ISC */
/*
 * Requests waiting for the secondaries. A waiting request costs a list
 * node and a timer, no thread: the list is sorted by the serial each one
 * needs, so news of a secondary releases the front of the list and stops
 * at the first request still ahead of some secondary. The notifier does
 * the asking (dnsd/notify.c); acm_zone_status_want only tells it that
 * someone waits, so it announces and probes at once.
 *
 * A released request gets the reply its route made when the commit was
 * durable, with "propagated" and "secondaries" added to a JSON object
 * (the /v1 routes), or exactly as made (POST /update, which acme-dns
 * clients read byte for byte).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "httpapi/commit_wait.h"
#include "httpapi/propagation_wait.h"
#include "httpapi/request_int.h"
#include "lib/clock.h"
#include "lib/dns/serial.h"
#include "lib/error.h"
#include "lib/log.h"

struct prop_wait {
	acm_req_t *r;
	unsigned timeout;              /* seconds */
	bool fields;                   /* add the outcome to a JSON object reply */
	uint32_t serial;               /* what every secondary must serve */
	uint64_t start_ns;
	struct event *timer;           /* NULL until listed */
	TAILQ_ENTRY(prop_wait) link;
};

TAILQ_HEAD(prop_list, prop_wait);

struct acm_prop_env {
	struct event_base *base;
	acm_zone_status_t *status;     /* NULL: no secondaries to wait for */
	struct event *changed_ev;      /* a secondary answered a new serial */
	struct prop_list waits;        /* ascending serial (RFC 1982) */
	bool stopping;
};

/* What the table says of the secondaries, copied once per look. */
typedef struct {
	bool known;                    /* false: out of memory, nothing is known */
	size_t n;
	acm_secondary_status_t *rows;
} snapshot_t;

/* ---- the table ----------------------------------------------------------- */

static void snapshot_take(acm_prop_env_t *pe, snapshot_t *s)
{
	uint32_t serial;
	bool have;
	*s = (snapshot_t){ true, 0, NULL };
	if (!pe->status)
		return;
	size_t n = acm_zone_status_get(pe->status, &serial, &have, NULL, 0);
	if (n == 0)
		return;
	if (!(s->rows = calloc(n, sizeof(*s->rows)))) {
		s->known = false;   /* looks like no news; the timeout still ends it */
		return;
	}
	size_t got = acm_zone_status_get(pe->status, &serial, &have, s->rows, n);
	s->n = got < n ? got : n;
}

static bool row_current(const acm_secondary_status_t *row, uint32_t serial)
{
	return row->seen && acm_serial_ge(row->serial, serial);
}

static bool all_current(const snapshot_t *s, uint32_t serial)
{
	if (!s->known)
		return false;
	for (size_t i = 0; i < s->n; i++)
		if (!row_current(&s->rows[i], serial))
			return false;
	return true;
}

/* ---- the reply ----------------------------------------------------------- */

static json_t *secondaries_json(const snapshot_t *s, uint32_t serial)
{
	json_t *list = json_array();
	for (size_t i = 0; list && i < s->n; i++) {
		const acm_secondary_status_t *row = &s->rows[i];
		json_t *o = json_pack("{s:s, s:o, s:b}", "address", row->address, "serial",
		                      row->seen ? json_integer(row->serial) : json_null(),
		                      "current", row_current(row, serial));
		if (!o || json_array_append_new(list, o) != 0) {
			json_decref(list);
			return NULL;
		}
	}
	return list;
}

/* The held reply, with the outcome when it is a JSON object. */
static void send_held(acm_req_t *r, bool propagated, const snapshot_t *s)
{
	const held_reply_t *h = &r->held;
	const struct prop_wait *w = r->prop;
	json_t *body = w->fields ? json_loadb(h->body, h->len, 0, NULL) : NULL;
	if (!json_is_object(body)) {
		json_decref(body);
		acm_reply_raw(r, h->status, h->content_type, h->body, h->len);
		return;
	}
	json_t *list = secondaries_json(s, w->serial);
	if (!list || json_object_set_new(body, "propagated", json_boolean(propagated)) != 0 ||
	    json_object_set_new(body, "secondaries", list) != 0) {
		json_decref(body);
		acm_reply_error(r, 500, "out_of_memory", NULL);
		return;
	}
	acm_reply_json(r, h->status, body);
}

/* ---- the list ------------------------------------------------------------ */

/* Serials grow with time, so a new request almost always goes last. */
static void list_insert(acm_prop_env_t *pe, struct prop_wait *w)
{
	struct prop_wait *after = TAILQ_LAST(&pe->waits, prop_list);
	while (after && acm_serial_lt(w->serial, after->serial))
		after = TAILQ_PREV(after, prop_list, link);
	if (after)
		TAILQ_INSERT_AFTER(&pe->waits, after, w, link);
	else
		TAILQ_INSERT_HEAD(&pe->waits, w, link);
}

/* Answer r and end it; off the list first if it is on it. */
static void release(acm_prop_env_t *pe, struct prop_wait *w, bool propagated,
                    const snapshot_t *s)
{
	acm_req_t *r = w->r;
	if (w->timer) {
		TAILQ_REMOVE(&pe->waits, w, link);
		event_free(w->timer);
		w->timer = NULL;
		r->env->pending--;
		acm_req_pending_unlink(r);
	}
	acm_http_metrics_propagation(r->env->http_metrics, propagated, acm_mono_ns() - w->start_ns);
	send_held(r, propagated, s);
	acm_req_finish(r);
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct prop_wait *w = arg;
	acm_prop_env_t *pe = w->r->env->prop;
	snapshot_t s;
	(void)fd;
	(void)what;
	snapshot_take(pe, &s);
	release(pe, w, all_current(&s, w->serial), &s);
	free(s.rows);
}

/* News of a secondary: release every request it satisfied, in order. */
static void on_changed(evutil_socket_t fd, short what, void *arg)
{
	acm_prop_env_t *pe = arg;
	snapshot_t s;
	(void)fd;
	(void)what;
	snapshot_take(pe, &s);
	struct prop_wait *w;
	while ((w = TAILQ_FIRST(&pe->waits)) && all_current(&s, w->serial))
		release(pe, w, true, &s);
	free(s.rows);
}

/* The seen hook, on the notifier's thread. */
static void wake(void *arg)
{
	acm_prop_env_t *pe = arg;
	event_active(pe->changed_ev, 0, 0);
}

/* ---- requests ------------------------------------------------------------ */

static bool parse_timeout(const char *text, unsigned *out)
{
	unsigned v = 0;
	if (!*text || strlen(text) > 3)
		return false;
	for (const char *p = text; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (unsigned)(*p - '0');
	}
	if (v < 1 || v > ACM_PROP_TIMEOUT_MAX)
		return false;
	*out = v;
	return true;
}

static bool start(acm_req_t *r, unsigned timeout, bool fields)
{
	struct prop_wait *w = acm_req_alloc(r, sizeof(*w));
	if (!w) {
		acm_reply_error(r, 500, "out_of_memory", NULL);
		return false;
	}
	*w = (struct prop_wait){ .r = r, .timeout = timeout, .fields = fields };
	r->prop = w;
	return true;
}

static bool is_write(const char *method)
{
	return strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
	       strcmp(method, "DELETE") == 0 || strcmp(method, "PATCH") == 0;
}

bool acm_prop_wait_parse(acm_req_t *r, const char *pattern)
{
	if (strcmp(pattern, "/update") == 0)
		return !r->conf->pub.update_waits ||
		       start(r, ACM_PROP_TIMEOUT_DEFAULT, false);
	if (strncmp(pattern, "/v1/", 4) != 0 || !is_write(r->method))
		return true;
	const char *wait = acm_req_query(r, "wait"), *timeout = acm_req_query(r, "timeout");
	unsigned secs = ACM_PROP_TIMEOUT_DEFAULT;
	if (!wait && !timeout)
		return true;
	if (!wait) {
		acm_reply_error(r, 400, "bad_request", "timeout: only with wait=secondaries");
		return false;
	}
	if (strcmp(wait, "secondaries") != 0) {
		acm_reply_error(r, 400, "bad_request", "wait: the only value is secondaries");
		return false;
	}
	if (timeout && !parse_timeout(timeout, &secs)) {
		acm_reply_error(r, 400, "bad_request", "timeout: whole seconds from 1 to 120");
		return false;
	}
	return start(r, secs, true);
}

bool acm_prop_waits(const acm_req_t *r)
{
	return r->prop != NULL;
}

/* The serial the request's commit made: the newest of its operations'. */
static uint32_t committed_serial(const acm_op_t *ops)
{
	uint32_t serial = ops->serial;
	for (const acm_op_t *op = ops->next; op; op = op->next)
		if (acm_serial_lt(serial, op->serial))
			serial = op->serial;
	return serial;
}

/* List w with its deadline; false when out of memory (it answers now). */
static bool list_wait(acm_prop_env_t *pe, struct prop_wait *w)
{
	struct timeval tv = { (time_t)w->timeout, 0 };
	if (!(w->timer = evtimer_new(pe->base, on_timeout, w)))
		return false;
	if (evtimer_add(w->timer, &tv) != 0) {
		event_free(w->timer);
		w->timer = NULL;
		return false;
	}
	list_insert(pe, w);
	w->r->env->pending++;
	acm_req_pending_link(w->r);
	return true;
}

void acm_prop_wait_committed(acm_req_t *r)
{
	acm_prop_env_t *pe = r->env->prop;
	struct prop_wait *w = r->prop;
	snapshot_t s;

	r->held.on = true;
	r->then(r, r->ops);
	r->held.on = false;
	if (!r->held.kept) {
		acm_req_finish(r);      /* no reply: finish says so */
		return;
	}
	w->serial = committed_serial(r->ops);
	w->start_ns = acm_mono_ns();
	if (r->held.status / 100 != 2 || !r->req) {
		/* a failed write waits for nothing, nor does a client that left */
		acm_reply_raw(r, r->held.status, r->held.content_type, r->held.body, r->held.len);
		acm_req_finish(r);
		return;
	}
	snapshot_take(pe, &s);
	bool current = all_current(&s, w->serial);
	if (current || pe->stopping || !list_wait(pe, w))
		release(pe, w, current, &s);
	else
		acm_zone_status_want(pe->status);
	free(s.rows);
}

/* ---- the environment ----------------------------------------------------- */

int acm_prop_env_new(struct event_base *base, acm_zone_status_t *status, acm_prop_env_t **out)
{
	acm_prop_env_t *pe = calloc(1, sizeof(*pe));
	if (!pe)
		return -ENOMEM;
	pe->base = base;
	pe->status = status;
	TAILQ_INIT(&pe->waits);
	if (!(pe->changed_ev = event_new(base, -1, 0, on_changed, pe))) {
		free(pe);
		return -ENOMEM;
	}
	if (status)
		acm_zone_status_on_seen(status, wake, pe);
	*out = pe;
	return ACM_OK;
}

void acm_prop_env_stop(acm_prop_env_t *pe)
{
	snapshot_t s;
	if (!pe)
		return;
	pe->stopping = true;
	if (pe->status)
		acm_zone_status_on_seen(pe->status, NULL, NULL);
	snapshot_take(pe, &s);
	struct prop_wait *w;
	while ((w = TAILQ_FIRST(&pe->waits)))
		release(pe, w, all_current(&s, w->serial), &s);
	free(s.rows);
}

void acm_prop_env_free(acm_prop_env_t *pe)
{
	if (!pe)
		return;
	if (pe->status)
		acm_zone_status_on_seen(pe->status, NULL, NULL);
	event_free(pe->changed_ev);
	free(pe);
}
