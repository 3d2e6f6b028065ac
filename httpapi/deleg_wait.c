/* SPDX-License-Identifier: ISC */
/*
 * Requests that wait for a delegation check (http.h, acm_req_deleg_check):
 * the HTTP thread's one resolver context (lib/rt/delegation.h), driven by
 * an event on its descriptor and a timer at its next deadline, the queue
 * of requests beyond delegation.concurrency, and the per-account budget of
 * checks. A waiting request is parked (park.c): its check's result wakes
 * it, and its route runs again and finds the result. HTTP thread only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httpapi/deleg_wait.h"
#include "httpapi/request_int.h"
#include "lib/clock.h"
#include "lib/error.h"
#include "lib/log.h"

#define QUEUE_PER_SLOT 4        /* requests queued per concurrent check */
#define BUCKETS 1024            /* accounts whose budget is remembered */
#define BUCKET_BURST 10         /* checks an account may run in a row ... */
#define BUCKET_REFILL_MS 6000   /* ... and one more every 6 s (10 a minute) */

/* One request's check, in its arena, listed from start to end. */
struct deleg_wait {
	acm_req_t *r;
	acm_deleg_env_t *env;
	char domain[ACM_DNAME_TXT_MAX];
	char sub[ACM_LABEL_MAX + 1];
	acm_deleg_result_t res;
	int err;                      /* the check ended without a result: why */
	bool done;
	struct deleg_wait *prev, *next;   /* the checks not yet done */
	struct deleg_wait *qnext;     /* in the queue, not yet started */
};

typedef struct {
	char sub[ACM_LABEL_MAX + 1];
	uint64_t at_ms;               /* when tokens was last brought up to date */
	unsigned tokens;
} bucket_t;

struct acm_deleg_env {
	acm_deleg_t *d;               /* NULL: unavailable (see rc and why), or stopped */
	int rc;                       /* -ENOTSUP without libunbound, else why d failed */
	char why[256];
	acm_store_t *store;
	struct event *read_ev, *timer_ev;
	struct deleg_wait *active;    /* every check not yet done */
	struct deleg_wait *head, *tail;   /* the queue */
	size_t queued, queue_max;
	bucket_t buckets[BUCKETS];
};

/* The check was started when the request parked: nothing to hand over. */
static void parked(acm_req_t *r, void *arg)
{
	(void)r;
	(void)arg;
}

static bool is_account(void *arg, const char *label)
{
	acm_deleg_env_t *e = arg;
	acm_account_t acc;
	return acm_store_account_get(e->store, label, &acc) == ACM_OK;
}

static void link_active(struct deleg_wait *w)
{
	acm_deleg_env_t *e = w->env;
	w->prev = NULL;
	w->next = e->active;
	if (e->active)
		e->active->prev = w;
	e->active = w;
}

/* The check is over (err: without a result): off the list, and the
 * request runs again. */
static void end(struct deleg_wait *w, int err)
{
	acm_deleg_env_t *e = w->env;
	if (w->prev)
		w->prev->next = w->next;
	else
		e->active = w->next;
	if (w->next)
		w->next->prev = w->prev;
	w->err = err;
	w->done = true;
	acm_req_wake(w->r);
}

static void on_done(void *arg, const acm_deleg_result_t *res)
{
	struct deleg_wait *w = arg;
	w->res = *res;
	end(w, ACM_OK);
}

/* The queue's first, taken off it. */
static struct deleg_wait *dequeue(acm_deleg_env_t *e)
{
	struct deleg_wait *w = e->head;
	e->head = w->qnext;
	if (!e->head)
		e->tail = NULL;
	e->queued--;
	return w;
}

/* Start the queued checks while there is room; how many left the queue. */
static size_t pump(acm_deleg_env_t *e)
{
	size_t taken = 0;
	while (e->head) {
		int rc = acm_deleg_start(e->d, e->head->domain, e->head->sub, on_done, e->head);
		if (rc == -EBUSY)
			break;
		struct deleg_wait *w = dequeue(e);
		taken++;
		/* Checked before it was queued: memory or libunbound failed. */
		if (rc != ACM_OK)
			end(w, rc);
	}
	return taken;
}

/* End what is due, start from the queue into the slots that frees, and arm
 * the timer for the next deadline. Each expiry may free slots the queue
 * waits for, so the two alternate until the queue takes nothing: a slot
 * freed by the last expiry and left unused would strand the queue once no
 * check runs and no timer is armed. */
static void settle(acm_deleg_env_t *e)
{
	int64_t ms = acm_deleg_expire(e->d, acm_boot_ms());
	while (pump(e) > 0)
		ms = acm_deleg_expire(e->d, acm_boot_ms());
	if (ms < 0) {
		evtimer_del(e->timer_ev);
		return;
	}
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000 };
	evtimer_add(e->timer_ev, &tv);
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	acm_deleg_env_t *e = arg;
	(void)fd;
	(void)what;
	int rc = acm_deleg_process(e->d);
	if (rc != ACM_OK)
		acm_err("http: delegation check: reading the resolver's answers: %s",
		        acm_strerror(rc));
	settle(e);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	settle(arg);
}

int acm_deleg_env_new(const acm_config_t *cfg, struct event_base *base, acm_store_t *store,
                      acm_deleg_env_t **out)
{
	acm_deleg_env_t *e = calloc(1, sizeof(*e));

	*out = NULL;
	if (!e)
		return -ENOMEM;
	e->store = store;
	e->rc = acm_deleg_new(cfg, is_account, e, &e->d, e->why, sizeof(e->why));
	if (e->rc == -ENOMEM) {
		free(e);
		return -ENOMEM;
	}
	/* Without a delegation section nobody asked for the checks: say it,
	 * without a warning. */
	if (e->rc != ACM_OK && e->rc != -ENOTSUP && cfg->delegation.configured)
		acm_warn("http: delegation checks unavailable: %s", e->why);
	else if (e->rc != ACM_OK && e->rc != -ENOTSUP)
		acm_info("http: delegation checks unavailable: %s", e->why);
	e->queue_max = (size_t)(cfg->delegation.concurrency ? cfg->delegation.concurrency : 1) *
	               QUEUE_PER_SLOT;
	if (e->d) {
		e->read_ev = event_new(base, acm_deleg_fd(e->d), EV_READ | EV_PERSIST, on_readable, e);
		e->timer_ev = evtimer_new(base, on_timer, e);
		if (!e->read_ev || !e->timer_ev || event_add(e->read_ev, NULL) != 0) {
			acm_deleg_env_free(e);
			return -ENOMEM;
		}
	}
	*out = e;
	return ACM_OK;
}

void acm_deleg_env_stop(acm_deleg_env_t *e)
{
	if (!e || !e->d)
		return;
	event_del(e->read_ev);
	evtimer_del(e->timer_ev);
	/* No callback comes from here on: the requests are told instead. */
	acm_deleg_free(e->d);
	e->d = NULL;
	e->rc = -ESHUTDOWN;
	snprintf(e->why, sizeof(e->why), "acmensd is stopping");
	while (e->head)
		dequeue(e);
	while (e->active)
		end(e->active, -ESHUTDOWN);
}

void acm_deleg_env_free(acm_deleg_env_t *e)
{
	if (!e)
		return;
	if (e->read_ev)
		event_free(e->read_ev);
	if (e->timer_ev)
		event_free(e->timer_ev);
	acm_deleg_free(e->d);
	free(e);
}

/* ---- for routes ------------------------------------------------------- */

int acm_req_deleg_check(acm_req_t *r, const char *domain, const char *sub)
{
	acm_deleg_env_t *e = r->env->deleg;
	struct deleg_wait *w;

	if (!e->d)
		return e->rc == -ENOTSUP || e->rc == -ESHUTDOWN ? e->rc : -EAGAIN;
	if (!(w = acm_req_alloc(r, sizeof(*w))))
		return -ENOMEM;
	w->r = r;
	w->env = e;
	snprintf(w->domain, sizeof(w->domain), "%s", domain);
	snprintf(w->sub, sizeof(w->sub), "%s", sub);
	int rc = acm_req_park(r, parked, NULL);
	if (rc != ACM_OK)
		return rc;
	rc = e->head ? -EBUSY : acm_deleg_start(e->d, domain, sub, on_done, w);
	if (rc == -EBUSY && e->queued < e->queue_max) {
		if (e->tail)
			e->tail->qnext = w;
		else
			e->head = w;
		e->tail = w;
		e->queued++;
		rc = ACM_OK;
	}
	if (rc != ACM_OK) {
		r->parked = false;
		return rc;
	}
	link_active(w);
	settle(e);
	r->deleg = w;
	return ACM_OK;
}

int acm_req_deleg_result(const acm_req_t *r, const acm_deleg_result_t **out)
{
	const struct deleg_wait *w = r->deleg;
	*out = w && w->done && w->err == ACM_OK ? &w->res : NULL;
	return w && w->done ? w->err : ACM_OK;
}

const char *acm_req_deleg_why(const acm_req_t *r)
{
	return r->env->deleg->why;
}

/* The account's bucket: its own, or the least recently used of the few
 * slots its name may take (then starting full). */
static bucket_t *bucket_of(acm_deleg_env_t *e, const char *sub, uint64_t now)
{
	uint32_t h = acm_dname_hash((const uint8_t *)sub, strlen(sub));
	bucket_t *oldest = NULL;

	for (unsigned i = 0; i < 4; i++) {
		bucket_t *b = &e->buckets[(h + i) % BUCKETS];
		if (strcmp(b->sub, sub) == 0)
			return b;
		if (!oldest || b->at_ms < oldest->at_ms)
			oldest = b;
	}
	snprintf(oldest->sub, sizeof(oldest->sub), "%s", sub);
	oldest->at_ms = now;
	oldest->tokens = BUCKET_BURST;
	return oldest;
}

bool acm_req_deleg_allowed(acm_req_t *r, const char *sub)
{
	uint64_t now = acm_boot_ms();
	bucket_t *b = bucket_of(r->env->deleg, sub, now);
	uint64_t earned = (now - b->at_ms) / BUCKET_REFILL_MS;

	if (earned > 0) {
		b->tokens = b->tokens + earned >= BUCKET_BURST ? BUCKET_BURST
		                                               : b->tokens + (unsigned)earned;
		b->at_ms += earned * BUCKET_REFILL_MS;
	}
	if (b->tokens == 0)
		return false;
	b->tokens--;
	return true;
}
