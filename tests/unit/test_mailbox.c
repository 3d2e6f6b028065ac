/* SPDX-License-Identifier: ISC */
/* An event loop's mailbox: mails run on the loop in the order posted, a
 * mail posted again while queued runs once, a break leaves the rest
 * queued for the free to drop, and a post from another thread wakes the
 * loop. And its descriptor timers (lib/rt/fdtimer.h): they fire at their
 * boot millisecond, at once when it is past, and not once disarmed. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "lib/clock.h"
#include "lib/rt/fdtimer.h"
#include "lib/rt/mailbox.h"
#include "lib/error.h"

#define MAILS 4

typedef struct {
	struct event_base *base;
	acm_mailbox_t *mb;
	acm_mail_t mail[MAILS];
	int order[2 * MAILS];           /* index + 1 delivered, -(index + 1) dropped */
	size_t n;
	int breaker;                    /* the mail that breaks the loop; -1: none */
} fx_t;

typedef struct {
	fx_t *fx;
	int index;
} slot_t;

static slot_t slots[MAILS];

static void on_mail(void *arg, bool deliver)
{
	slot_t *s = arg;
	s->fx->order[s->fx->n++] = deliver ? s->index + 1 : -(s->index + 1);
	if (deliver && s->index == s->fx->breaker)
		event_base_loopbreak(s->fx->base);
}

static void fx_init(fx_t *fx, int breaker)
{
	*fx = (fx_t){ .breaker = breaker };
	fx->base = event_base_new();
	assert_non_null(fx->base);
	assert_int_equal(acm_mailbox_new(fx->base, &fx->mb), ACM_OK);
	for (int i = 0; i < MAILS; i++) {
		slots[i] = (slot_t){ fx, i };
		acm_mail_init(&fx->mail[i], on_mail, &slots[i]);
	}
}

static void fx_fini(fx_t *fx)
{
	acm_mailbox_free(fx->mb);
	event_base_free(fx->base);
}

static void test_order_and_once(void **state)
{
	fx_t fx;
	(void)state;
	fx_init(&fx, -1);
	acm_mailbox_post(fx.mb, &fx.mail[2]);
	acm_mailbox_post(fx.mb, &fx.mail[0]);
	acm_mailbox_post(fx.mb, &fx.mail[2]);   /* queued already: runs once */
	acm_mailbox_post(fx.mb, &fx.mail[1]);
	event_base_loop(fx.base, EVLOOP_NONBLOCK);
	assert_int_equal(fx.n, 3);
	assert_int_equal(fx.order[0], 3);
	assert_int_equal(fx.order[1], 1);
	assert_int_equal(fx.order[2], 2);
	/* Run, it may be posted again. */
	acm_mailbox_post(fx.mb, &fx.mail[2]);
	event_base_loop(fx.base, EVLOOP_NONBLOCK);
	assert_int_equal(fx.n, 4);
	assert_int_equal(fx.order[3], 3);
	fx_fini(&fx);
	assert_int_equal(fx.n, 4);   /* nothing left to drop */
}

static void test_break_leaves_rest(void **state)
{
	fx_t fx;
	(void)state;
	fx_init(&fx, 1);
	for (int i = 0; i < MAILS; i++)
		acm_mailbox_post(fx.mb, &fx.mail[i]);
	event_base_loop(fx.base, EVLOOP_NO_EXIT_ON_EMPTY);   /* returns: mail 1 broke it */
	assert_int_equal(fx.n, 2);
	assert_int_equal(fx.order[0], 1);
	assert_int_equal(fx.order[1], 2);
	acm_mailbox_post(fx.mb, &fx.mail[3]);   /* still queued: not twice */
	acm_mailbox_post(fx.mb, &fx.mail[0]);   /* after those left */
	fx_fini(&fx);
	assert_int_equal(fx.n, 5);
	assert_int_equal(fx.order[2], -3);
	assert_int_equal(fx.order[3], -4);
	assert_int_equal(fx.order[4], -1);
}

static void *post_late(void *arg)
{
	fx_t *fx = arg;
	acm_mailbox_post(fx->mb, &fx->mail[0]);
	acm_mailbox_post(fx->mb, &fx->mail[1]);
	return NULL;
}

/* The loop waits with nothing else to do: only the post wakes it. */
static void test_post_from_thread(void **state)
{
	fx_t fx;
	pthread_t th;
	(void)state;
	fx_init(&fx, 1);
	assert_int_equal(pthread_create(&th, NULL, post_late, &fx), 0);
	event_base_loop(fx.base, EVLOOP_NO_EXIT_ON_EMPTY);
	pthread_join(th, NULL);
	assert_int_equal(fx.n, 2);
	assert_int_equal(fx.order[0], 1);
	assert_int_equal(fx.order[1], 2);
	fx_fini(&fx);
}

typedef struct {
	struct event_base *base;
	unsigned fired;
	uint64_t at;                    /* boot ms when it last fired */
} tick_t;

static void on_tick(void *arg)
{
	tick_t *k = arg;
	k->fired++;
	k->at = acm_boot_ms();
	event_base_loopbreak(k->base);
}

static void test_fdtimer(void **state)
{
	tick_t k = { 0 };
	acm_fdtimer_t *t;
	(void)state;
	k.base = event_base_new();
	assert_int_equal(acm_fdtimer_new(k.base, on_tick, &k, &t), ACM_OK);
	uint64_t start = acm_boot_ms();
	assert_int_equal(acm_fdtimer_set(t, start + 30, 0), ACM_OK);
	event_base_loop(k.base, 0);
	assert_int_equal(k.fired, 1);
	assert_true(k.at >= start + 30);
	assert_int_equal(acm_fdtimer_set(t, 1, 0), ACM_OK);   /* long past */
	event_base_loop(k.base, 0);
	assert_int_equal(k.fired, 2);
	assert_int_equal(acm_fdtimer_set(t, acm_boot_ms() + 10, 0), ACM_OK);
	assert_int_equal(acm_fdtimer_set(t, 0, 0), ACM_OK);   /* disarmed before it fires */
	struct timeval wait = { 0, 50000 };
	event_base_loopexit(k.base, &wait);
	event_base_loop(k.base, 0);
	assert_int_equal(k.fired, 2);
	acm_fdtimer_free(t);
	event_base_free(k.base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_and_once),
		cmocka_unit_test(test_break_leaves_rest),
		cmocka_unit_test(test_post_from_thread),
		cmocka_unit_test(test_fdtimer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
