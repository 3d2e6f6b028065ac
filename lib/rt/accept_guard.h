/* SPDX-License-Identifier: ISC */
/*
 * What a listener does when accept() fails for want of descriptors
 * (EMFILE, ENFILE) or memory: instead of the event loop waking again at
 * once for the same pending connection (a busy loop that logs without
 * end), the owner may first close connections of its own; if it frees
 * none, the guard closes its reserve descriptor to accept the waiting
 * connections and close them at once (the client learns now instead of
 * hanging), takes the reserve back, and pauses the listener for a moment.
 * Also lets an owner take turns: accept a batch, pause until the loop has
 * read from the connections it has, then accept again.
 * One guard per listener, used on its event base's thread only.
 */
#ifndef ACM_ACCEPT_GUARD_H
#define ACM_ACCEPT_GUARD_H

#include <event2/event.h>
#include <event2/listener.h>
#include <stdbool.h>

typedef struct acm_accept_guard acm_accept_guard_t;

#define ACM_ACCEPT_PAUSE_MS 100         /* how long a listener out of descriptors rests */

/* accept() failed with err. The owner may close connections of its own
 * and returns how many it closed; 0 makes the guard shed and pause. */
typedef unsigned (*acm_accept_relieve_fn)(void *arg, int err);
/* After each failure: err, how many pending connections were accepted
 * and closed unserved, and whether the listener now rests. The owner logs
 * (rate-limited) and counts. */
typedef void (*acm_accept_report_fn)(void *arg, int err, unsigned shed, bool paused);

/* Take over lev's error callback. relieve may be NULL. ACM_OK, -ENOMEM,
 * or -errno when no reserve descriptor can be opened. */
int acm_accept_guard_new(struct evconnlistener *lev, acm_accept_relieve_fn relieve,
                         acm_accept_report_fn report, void *arg, acm_accept_guard_t **out);
/* Before the listener is freed. */
void acm_accept_guard_free(acm_accept_guard_t *g);

/* Stop accepting until the event loop has gone once round (the
 * connections accepted so far get read first); no-op while resting. */
void acm_accept_guard_yield(acm_accept_guard_t *g);

/* Accept the connections waiting on listening socket fd and close them,
 * at most max, using the reserve descriptor *reserve (closed first, opened
 * again after; -1 if it could not be). The number closed. For the guard
 * and its tests. */
unsigned acm_accept_shed(int fd, int *reserve, unsigned max);

#endif
