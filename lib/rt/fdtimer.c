/* SPDX-License-Identifier: ISC */
/* A timer that is a timerfd watched by an event loop (lib/rt/fdtimer.h). */
#include <errno.h>
#include <stdlib.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "lib/error.h"
#include "lib/rt/fdtimer.h"

#ifndef CLOCK_BOOTTIME
#define CLOCK_BOOTTIME CLOCK_MONOTONIC
#endif

struct acm_fdtimer {
	int fd;
	struct event *ev;
	acm_fdtimer_fn fn;
	void *arg;
};

static void fired(evutil_socket_t fd, short what, void *arg)
{
	acm_fdtimer_t *t = arg;
	uint64_t n;
	(void)what;
	/* Nothing to read: set again since it fired, it has not fired. */
	if (read(fd, &n, sizeof(n)) == sizeof(n))
		t->fn(t->arg);
}

int acm_fd_watch(struct event_base *base, int fd, event_callback_fn fn, void *arg,
                 struct event **out)
{
	struct event *ev = event_new(base, fd, EV_READ | EV_PERSIST, fn, arg);
	if (!ev || event_add(ev, NULL) != 0) {
		if (ev)
			event_free(ev);
		return -ENOMEM;
	}
	*out = ev;
	return ACM_OK;
}

int acm_fdtimer_new(struct event_base *base, acm_fdtimer_fn fn, void *arg, acm_fdtimer_t **out)
{
	acm_fdtimer_t *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->fn = fn;
	t->arg = arg;
	t->fd = timerfd_create(CLOCK_BOOTTIME, TFD_NONBLOCK | TFD_CLOEXEC);
	int rc = t->fd < 0 ? -errno : acm_fd_watch(base, t->fd, fired, t, &t->ev);
	if (rc != ACM_OK) {
		acm_fdtimer_free(t);
		return rc;
	}
	*out = t;
	return ACM_OK;
}

static struct timespec ms_ts(uint64_t ms)
{
	return (struct timespec){ (time_t)(ms / 1000), (long)(ms % 1000) * 1000000 };
}

int acm_fdtimer_set(acm_fdtimer_t *t, uint64_t at, uint64_t every_ms)
{
	struct itimerspec its = { .it_interval = ms_ts(every_ms), .it_value = ms_ts(at) };
	return timerfd_settime(t->fd, TFD_TIMER_ABSTIME, &its, NULL) == 0 ? ACM_OK : -errno;
}

void acm_fdtimer_free(acm_fdtimer_t *t)
{
	if (!t)
		return;
	if (t->ev)
		event_free(t->ev);
	if (t->fd >= 0)
		close(t->fd);
	free(t);
}
