/* SPDX-License-Identifier: ISC */
/*
 * A timer on an event loop that is a descriptor (timerfd), not an entry
 * in the loop's timer heap. libevent reads the clock twice at every turn
 * of a loop whose heap holds a timer, and not at all when it holds none:
 * a busy loop whose timers fire seldom (heartbeats, connection deadlines)
 * keeps them here. Deadlines are CLOCK_BOOTTIME milliseconds, as
 * acm_boot_ms() reads them (lib/clock.h). Used on the loop's thread only.
 */
#ifndef ACM_FDTIMER_H
#define ACM_FDTIMER_H

#include <event2/event.h>
#include <stdint.h>

typedef struct acm_fdtimer acm_fdtimer_t;
typedef void (*acm_fdtimer_fn)(void *arg);

/* A timer on base that calls fn(arg) when it fires; not set. ACM_OK and
 * *out, or -errno. */
int acm_fdtimer_new(struct event_base *base, acm_fdtimer_fn fn, void *arg, acm_fdtimer_t **out);
/* Fire at boot millisecond at (at once if past), then every every_ms
 * (0: once); at 0 disarms. ACM_OK or -errno. */
int acm_fdtimer_set(acm_fdtimer_t *t, uint64_t at, uint64_t every_ms);
/* NULL: nothing. */
void acm_fdtimer_free(acm_fdtimer_t *t);

/* What such a timer, or a mailbox (lib/rt/mailbox.h), is to its loop: an
 * event on base calling fn whenever fd is readable, added. ACM_OK and
 * *out, or -ENOMEM. */
int acm_fd_watch(struct event_base *base, int fd, event_callback_fn fn, void *arg,
                 struct event **out);

#endif
