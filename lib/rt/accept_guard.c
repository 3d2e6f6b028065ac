/* SPDX-License-Identifier: ISC */
/*
 * The accept guard (accept_guard.h): a listener's error callback, its
 * reserve descriptor and the timer that ends a rest.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/rt/accept_guard.h"
#include "lib/error.h"

#define SHED_MAX 64                     /* pending connections closed per failure */

struct acm_accept_guard {
	struct evconnlistener *lev;
	struct event *resume_ev;
	acm_accept_relieve_fn relieve;
	acm_accept_report_fn report;
	void *arg;
	int reserve;                    /* an open /dev/null, or -1 */
	bool resting;                   /* paused for want of descriptors */
	struct acm_accept_guard *next;  /* in the list of all guards */
};

/* A listener hands its error callback the argument of its accept
 * callback, which for evhttp's listeners is the evhttp: the guard is found
 * by its listener in this list. Errors are rare, so a list does. */
static pthread_mutex_t guards_lock = PTHREAD_MUTEX_INITIALIZER;
static acm_accept_guard_t *guards;

static acm_accept_guard_t *guard_of(const struct evconnlistener *lev)
{
	pthread_mutex_lock(&guards_lock);
	acm_accept_guard_t *g = guards;
	while (g && g->lev != lev)
		g = g->next;
	pthread_mutex_unlock(&guards_lock);
	return g;
}

static int open_reserve(void)
{
	return open("/dev/null", O_RDONLY | O_CLOEXEC);
}

unsigned acm_accept_shed(int fd, int *reserve, unsigned max)
{
	unsigned n = 0;
	if (*reserve >= 0) {
		close(*reserve);
		*reserve = -1;
	}
	while (n < max) {
		int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			break;
		close(c);
		n++;
	}
	*reserve = open_reserve();
	return n;
}

static void pause_for(acm_accept_guard_t *g, long ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	evconnlistener_disable(g->lev);
	evtimer_add(g->resume_ev, &tv);
}

static void on_resume(evutil_socket_t fd, short what, void *arg)
{
	acm_accept_guard_t *g = arg;
	(void)fd;
	(void)what;
	g->resting = false;
	evconnlistener_enable(g->lev);
}

static void on_error(struct evconnlistener *lev, void *arg)
{
	int err = errno;
	acm_accept_guard_t *g = guard_of(lev);
	unsigned shed = 0;
	(void)arg;

	if (!g)
		return;
	bool exhausted = err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM;

	if (exhausted && g->relieve && g->relieve(g->arg, err) > 0) {
		/* the descriptors just freed take the next connections */
		g->report(g->arg, err, 0, false);
		return;
	}
	if (exhausted)
		shed = acm_accept_shed(evconnlistener_get_fd(lev), &g->reserve, SHED_MAX);
	/* Any other error would come back at once as well: rest alike. */
	g->resting = true;
	pause_for(g, ACM_ACCEPT_PAUSE_MS);
	g->report(g->arg, err, shed, true);
}

int acm_accept_guard_new(struct evconnlistener *lev, acm_accept_relieve_fn relieve,
                         acm_accept_report_fn report, void *arg, acm_accept_guard_t **out)
{
	acm_accept_guard_t *g = calloc(1, sizeof(*g));
	*out = NULL;
	if (!g)
		return -ENOMEM;
	g->lev = lev;
	g->relieve = relieve;
	g->report = report;
	g->arg = arg;
	g->reserve = open_reserve();
	if (g->reserve < 0) {
		int e = errno;
		free(g);
		return -e;
	}
	g->resume_ev = evtimer_new(evconnlistener_get_base(lev), on_resume, g);
	if (!g->resume_ev) {
		close(g->reserve);
		free(g);
		return -ENOMEM;
	}
	pthread_mutex_lock(&guards_lock);
	g->next = guards;
	guards = g;
	pthread_mutex_unlock(&guards_lock);
	evconnlistener_set_error_cb(lev, on_error);
	*out = g;
	return ACM_OK;
}

void acm_accept_guard_yield(acm_accept_guard_t *g)
{
	if (g->resting || evtimer_pending(g->resume_ev, NULL))
		return;
	pause_for(g, 0);
}

void acm_accept_guard_free(acm_accept_guard_t *g)
{
	if (!g)
		return;
	pthread_mutex_lock(&guards_lock);
	acm_accept_guard_t **pp = &guards;
	while (*pp && *pp != g)
		pp = &(*pp)->next;
	if (*pp)
		*pp = g->next;
	pthread_mutex_unlock(&guards_lock);
	evconnlistener_set_error_cb(g->lev, NULL);
	event_free(g->resume_ev);
	if (g->reserve >= 0)
		close(g->reserve);
	free(g);
}
