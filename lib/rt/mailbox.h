/* SPDX-License-Identifier: ISC */
/*
 * How other threads hand work to an event loop whose base takes no lock
 * (EVENT_BASE_FLAG_NOLOCK): they post mails to its mailbox, an eventfd
 * the loop watches and a queue under a mutex that the loop only takes
 * when the eventfd says there is mail. The loop's own events then cost no
 * locking at all. Mails run in the order posted, as active events of one
 * priority would; a mail posted again while queued runs once, as
 * event_active on an active event does.
 */
#ifndef ACM_MAILBOX_H
#define ACM_MAILBOX_H

#include <event2/event.h>
#include <stdatomic.h>
#include <stdbool.h>

/* Called on the loop's thread with deliver true; with deliver false by
 * acm_mailbox_free for a mail never run, to let go of what it holds. */
typedef void (*acm_mail_fn)(void *arg, bool deliver);

/* Owned by the poster, which keeps it valid until it has run or been
 * dropped; the mailbox only links it. */
typedef struct acm_mail {
	struct acm_mail *next;
	acm_mail_fn fn;
	void *arg;
	atomic_bool queued;
} acm_mail_t;

typedef struct acm_mailbox acm_mailbox_t;

void acm_mail_init(acm_mail_t *m, acm_mail_fn fn, void *arg);

/* A mailbox on base, read by base's loop. ACM_OK and *out, or -errno. */
int acm_mailbox_new(struct event_base *base, acm_mailbox_t **out);
/* From any thread, the loop's included: run m on the loop, after the
 * mails posted before it; nothing if m is queued already. A mail that
 * breaks the loop (event_base_loopbreak) leaves those after it queued. */
void acm_mailbox_post(acm_mailbox_t *mb, acm_mail_t *m);
/* Once the loop is done and no thread posts any more: drop what is still
 * queued, in order, then free (NULL: nothing). */
void acm_mailbox_free(acm_mailbox_t *mb);

#endif
