/* SPDX-License-Identifier: ISC */
/*
 * A worker's UDP thread: with one UDP socket it waits in recvmmsg itself
 * (two system calls per batch: receive, send); with several, poll() over
 * them and an eventfd that stops it. Between two batches only the yield
 * after a lone datagram (dns.udp_yield, below). It answers from
 * an answer context of its own (store reader, keyring view, metrics block,
 * lookup-log ring, heartbeat slot), so it shares no state with its
 * worker's event loop; a reloaded zone is taken over from an atomic
 * pointer every round. A DNS UPDATE is checked here (and refused here, in
 * the order of the socket's messages); one to commit goes to the worker's
 * event loop as mail (lib/rt/mailbox.h), to be submitted to group commit
 * and answered from there once durable (dnsd/update_io.c).
 */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "dnsd/udp.h"
#include "dnsd/update.h"
#include "dnsd/udp_loop.h"
#include "lib/clock.h"
#include "lib/error.h"
#include "lib/rt/health.h"


/* A checked UPDATE on its way to group commit through the event loop. */
struct handoff {
	acm_mail_t mail;                /* posted to the event loop's mailbox */
	acm_worker_t *events;
	acm_peer_t peer;
	acm_update_t *u;
};

struct acm_udp_loop {
	acm_worker_t w;                 /* this thread's answer context */
	acm_worker_t *events;           /* the worker whose event loop takes the UPDATEs */
	pthread_t thread;
	bool started;
	atomic_bool stopping;           /* the one-socket loop looks after each wait */
	bool yield;                     /* dns.udp_yield */
	int stop_fd;                    /* eventfd: readable once the thread must end */
};

/* On the event loop: submit it (or drop it, the loop being done). */
static void take_update(void *arg, bool deliver)
{
	struct handoff *h = arg;
	if (deliver)
		acm_worker_update_submit(h->events, h->u, &h->peer);
	else
		acm_update_free(h->u);
	free(h);
}

void acm_udp_loop_submit(acm_udp_loop_t *l, acm_update_t *u, const acm_peer_t *peer)
{
	struct handoff *h = malloc(sizeof(*h));
	if (!h) {
		acm_update_free(u);
		return;   /* a lost datagram: the client asks again */
	}
	acm_mail_init(&h->mail, take_update, h);
	h->events = l->events;
	h->peer = *peer;
	h->u = u;
	acm_mailbox_post(l->events->mailbox, &h->mail);
}

static void take_zone(acm_worker_t *w)
{
	if (!atomic_load_explicit(&w->pending_zone, memory_order_relaxed))
		return;
	acm_zone_t *z = atomic_exchange(&w->pending_zone, NULL);
	if (z) {
		acm_zone_unref(w->zone);
		w->zone = z;
	}
}

/* Answer every socket poll found readable; the datagrams read. */
static size_t drain(acm_worker_t *w, const struct pollfd *pfd)
{
	size_t read = 0;
	for (size_t i = 0; i < w->udp_count; i++)
		if (pfd[i].revents)
			read += acm_udp_drain(w->udp[i]);
	return read;
}

/* After a wake-up that read `read` datagrams: beat when the batches' clock
 * (or, idle, the boot clock) says so; then, if one datagram came alone
 * (dns.udp_yield), yield the core. A wait that ends on a single datagram
 * costs a sleep and a wake-up, on this side and the sender's, for one
 * answer. Where other work is runnable on this core (clients on a shared
 * host, the HTTP thread), yielding lets it run first and the datagrams it
 * sends gather in the socket, so the next receive takes them as a batch
 * without sleeping; on a core with nothing else to run it returns at once,
 * one system call. */
static void after_wake(acm_udp_loop_t *l, size_t read, uint64_t *beat)
{
	acm_worker_t *w = &l->w;
	uint64_t now = read ? w->batch_ms : acm_boot_ms();
	if (now - *beat >= ACM_HEALTH_BEAT_MS) {
		acm_health_beat(w->health, w->index);
		*beat = now;
	}
	if (read == 1 && l->yield)
		sched_yield();
}

/* One socket: the wait is the receive. */
static void loop_one(acm_udp_loop_t *l, uint64_t beat)
{
	acm_worker_t *w = &l->w;
	acm_udp_t *u = w->udp[0];
	for (;;) {
		size_t read = acm_udp_wait(u);
		if (atomic_load_explicit(&l->stopping, memory_order_acquire))
			break;
		/* The next batch sees a reload done while this one was
		 * answered; the first after an idle wait may still answer
		 * from the zone before it, as a poll() wake-up would. */
		take_zone(w);
		after_wake(l, read, &beat);
	}
}

static void loop_many(acm_udp_loop_t *l, struct pollfd *pfd, uint64_t beat)
{
	acm_worker_t *w = &l->w;
	size_t n = w->udp_count;
	for (;;) {
		int r = poll(pfd, n + 1, ACM_HEALTH_BEAT_MS);
		if (pfd[n].revents)
			break;
		/* After the wait: the packet that ended it sees a reload done
		 * before it arrived. */
		take_zone(w);
		size_t read = r > 0 ? drain(w, pfd) : 0;
		after_wake(l, read, &beat);
	}
}

static void *loop_main(void *arg)
{
	acm_udp_loop_t *l = arg;
	acm_worker_t *w = &l->w;
	size_t n = w->udp_count;
	uint64_t beat = acm_boot_ms();
	acm_health_beat(w->health, w->index);
	if (n == 1 && acm_udp_block(w->udp[0], ACM_HEALTH_BEAT_MS) == ACM_OK) {
		loop_one(l, beat);
		return NULL;
	}
	struct pollfd *pfd = calloc(n + 1, sizeof(*pfd));
	if (!pfd)
		return NULL;   /* its heartbeat stops: /v1/health says so */
	for (size_t i = 0; i < n; i++)
		pfd[i] = (struct pollfd){ .fd = acm_udp_fd(w->udp[i]), .events = POLLIN };
	pfd[n] = (struct pollfd){ .fd = l->stop_fd, .events = POLLIN };
	loop_many(l, pfd, beat);
	free(pfd);
	return NULL;
}

int acm_udp_loop_new(acm_worker_t *events, bool yield, acm_udp_loop_t **out)
{
	acm_udp_loop_t *l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->events = events;
	l->yield = yield;
	l->w.udp_loop = l;
	atomic_init(&l->w.pending_zone, NULL);
	atomic_init(&l->stopping, false);
	l->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (l->stop_fd < 0) {
		int rc = -errno;
		acm_udp_loop_free(l);
		return rc;
	}
	*out = l;
	return ACM_OK;
}

acm_worker_t *acm_udp_loop_worker(acm_udp_loop_t *l)
{
	return &l->w;
}

int acm_udp_loop_start(acm_udp_loop_t *l)
{
	int rc = -pthread_create(&l->thread, NULL, loop_main, l);
	l->started = rc == ACM_OK;
	return rc;
}

void acm_udp_loop_stop(acm_udp_loop_t *l)
{
	if (!l || !l->started)
		return;
	atomic_store_explicit(&l->stopping, true, memory_order_release);
	if (l->w.udp_count == 1)
		acm_udp_wake(l->w.udp[0]);
	uint64_t one = 1;
	while (write(l->stop_fd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
	pthread_join(l->thread, NULL);
	l->started = false;
}

void acm_udp_loop_free(acm_udp_loop_t *l)
{
	if (!l)
		return;
	acm_udp_loop_stop(l);
	if (l->stop_fd >= 0)
		close(l->stop_fd);
	free(l);
}
