/* SPDX-License-Identifier: ISC */
/*
 * An event loop's mailbox (lib/rt/mailbox.h). A post that finds the queue
 * empty writes the eventfd; the loop reads the eventfd before it takes
 * the queue, so a mail is never left behind without a wake-up after it
 * (at worst the loop wakes once for a queue already taken).
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "lib/error.h"
#include "lib/rt/fdtimer.h"
#include "lib/rt/mailbox.h"

struct acm_mailbox {
	struct event_base *base;
	int fd;                         /* eventfd: readable while mail may wait */
	struct event *ev;
	pthread_mutex_t mu;
	acm_mail_t *head;               /* the queue, under mu */
	acm_mail_t **tail;
};

void acm_mail_init(acm_mail_t *m, acm_mail_fn fn, void *arg)
{
	m->next = NULL;
	m->fn = fn;
	m->arg = arg;
	atomic_init(&m->queued, false);
}

/* Put back, in front, the mails a break left unrun. */
static void requeue(acm_mailbox_t *mb, acm_mail_t *first)
{
	acm_mail_t *last = first;
	while (last->next)
		last = last->next;
	pthread_mutex_lock(&mb->mu);
	last->next = mb->head;
	if (!mb->head)
		mb->tail = &last->next;
	mb->head = first;
	pthread_mutex_unlock(&mb->mu);
}

static void take_mail(evutil_socket_t fd, short what, void *arg)
{
	acm_mailbox_t *mb = arg;
	uint64_t n;
	(void)what;
	if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return;
	pthread_mutex_lock(&mb->mu);
	acm_mail_t *m = mb->head;
	mb->head = NULL;
	mb->tail = &mb->head;
	pthread_mutex_unlock(&mb->mu);
	while (m) {
		/* Read before it can be posted again, or freed, by its run. */
		acm_mail_t *next = m->next;
		atomic_store(&m->queued, false);
		m->fn(m->arg, true);
		m = next;
		if (m && event_base_got_break(mb->base)) {
			requeue(mb, m);
			return;
		}
	}
}

int acm_mailbox_new(struct event_base *base, acm_mailbox_t **out)
{
	acm_mailbox_t *mb = calloc(1, sizeof(*mb));
	if (!mb)
		return -ENOMEM;
	mb->base = base;
	mb->tail = &mb->head;
	pthread_mutex_init(&mb->mu, NULL);
	mb->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	int rc = mb->fd < 0 ? -errno : acm_fd_watch(base, mb->fd, take_mail, mb, &mb->ev);
	if (rc != ACM_OK) {
		acm_mailbox_free(mb);
		return rc;
	}
	*out = mb;
	return ACM_OK;
}

void acm_mailbox_post(acm_mailbox_t *mb, acm_mail_t *m)
{
	if (atomic_exchange(&m->queued, true))
		return;
	m->next = NULL;
	pthread_mutex_lock(&mb->mu);
	bool was_empty = !mb->head;
	*mb->tail = m;
	mb->tail = &m->next;
	pthread_mutex_unlock(&mb->mu);
	uint64_t one = 1;
	while (was_empty && write(mb->fd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
}

void acm_mailbox_free(acm_mailbox_t *mb)
{
	if (!mb)
		return;
	while (mb->head) {
		acm_mail_t *m = mb->head;
		mb->head = m->next;
		atomic_store(&m->queued, false);
		m->fn(m->arg, false);
	}
	if (mb->ev)
		event_free(mb->ev);
	if (mb->fd >= 0)
		close(mb->fd);
	pthread_mutex_destroy(&mb->mu);
	free(mb);
}
