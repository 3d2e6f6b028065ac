/* SPDX-License-Identifier: ISC */
/*
 * The propagation status table behind one mutex: writes are a few per
 * second from the notifier, reads one per status request, so nothing
 * cleverer pays off.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/error.h"
#include "lib/rt/zone_status.h"

struct acm_zone_status {
	pthread_mutex_t lock;
	bool have_serial;
	uint32_t serial;
	size_t count;
	acm_secondary_status_t *rows;
	acm_zone_status_hook_fn seen_fn, want_fn, commit_fn;
	void *seen_arg, *want_arg, *commit_arg;
};

int acm_zone_status_new(acm_zone_status_t **out)
{
	acm_zone_status_t *st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	pthread_mutex_init(&st->lock, NULL);
	*out = st;
	return ACM_OK;
}

void acm_zone_status_free(acm_zone_status_t *st)
{
	if (!st)
		return;
	pthread_mutex_destroy(&st->lock);
	free(st->rows);
	free(st);
}

static const acm_secondary_status_t *row_named(const acm_zone_status_t *st, const char *addr)
{
	for (size_t i = 0; i < st->count; i++)
		if (strcmp(st->rows[i].address, addr) == 0)
			return &st->rows[i];
	return NULL;
}

int acm_zone_status_set_targets(acm_zone_status_t *st, const char *const *addresses, size_t n)
{
	acm_secondary_status_t *rows = calloc(n ? n : 1, sizeof(*rows));
	if (!rows)
		return -ENOMEM;
	pthread_mutex_lock(&st->lock);
	for (size_t i = 0; i < n; i++) {
		const acm_secondary_status_t *old = row_named(st, addresses[i]);
		if (old)
			rows[i] = *old;
		snprintf(rows[i].address, sizeof(rows[i].address), "%s", addresses[i]);
	}
	free(st->rows);
	st->rows = rows;
	st->count = n;
	if (st->seen_fn)
		st->seen_fn(st->seen_arg);   /* a secondary gone may be the last one behind */
	pthread_mutex_unlock(&st->lock);
	return ACM_OK;
}

void acm_zone_status_set_serial(acm_zone_status_t *st, uint32_t serial)
{
	pthread_mutex_lock(&st->lock);
	st->serial = serial;
	st->have_serial = true;
	pthread_mutex_unlock(&st->lock);
}

void acm_zone_status_seen(acm_zone_status_t *st, size_t i, uint32_t serial, uint64_t now)
{
	pthread_mutex_lock(&st->lock);
	if (i < st->count) {
		bool news = !st->rows[i].seen || st->rows[i].serial != serial;
		st->rows[i].seen = true;
		st->rows[i].serial = serial;
		st->rows[i].last_seen = now;
		if (news && st->seen_fn)
			st->seen_fn(st->seen_arg);
	}
	pthread_mutex_unlock(&st->lock);
}

void acm_zone_status_notify_sent(acm_zone_status_t *st, size_t i, uint32_t serial,
                                 unsigned tries, uint64_t now)
{
	pthread_mutex_lock(&st->lock);
	if (i < st->count) {
		st->rows[i].notified_serial = serial;
		st->rows[i].last_notify = now;
		st->rows[i].notify_tries = tries;
		st->rows[i].notify_acked = false;
	}
	pthread_mutex_unlock(&st->lock);
}

void acm_zone_status_notify_acked(acm_zone_status_t *st, size_t i, uint32_t serial)
{
	pthread_mutex_lock(&st->lock);
	if (i < st->count && st->rows[i].notified_serial == serial)
		st->rows[i].notify_acked = true;
	pthread_mutex_unlock(&st->lock);
}

/* Hooks are set and run under the lock: once a setter returns, the hook
 * it replaced is never run again. */
static void set_hook(acm_zone_status_t *st, acm_zone_status_hook_fn *slot, void **slot_arg,
                     acm_zone_status_hook_fn fn, void *arg)
{
	pthread_mutex_lock(&st->lock);
	*slot = fn;
	*slot_arg = arg;
	pthread_mutex_unlock(&st->lock);
}

static void run_hook(acm_zone_status_t *st, const acm_zone_status_hook_fn *slot,
                     void *const *slot_arg)
{
	pthread_mutex_lock(&st->lock);
	if (*slot)
		(*slot)(*slot_arg);
	pthread_mutex_unlock(&st->lock);
}

void acm_zone_status_on_seen(acm_zone_status_t *st, acm_zone_status_hook_fn fn, void *arg)
{
	set_hook(st, &st->seen_fn, &st->seen_arg, fn, arg);
}

void acm_zone_status_on_want(acm_zone_status_t *st, acm_zone_status_hook_fn fn, void *arg)
{
	set_hook(st, &st->want_fn, &st->want_arg, fn, arg);
}

void acm_zone_status_on_commit(acm_zone_status_t *st, acm_zone_status_hook_fn fn, void *arg)
{
	set_hook(st, &st->commit_fn, &st->commit_arg, fn, arg);
}

void acm_zone_status_committed(acm_zone_status_t *st)
{
	run_hook(st, &st->commit_fn, &st->commit_arg);
}

void acm_zone_status_want(acm_zone_status_t *st)
{
	run_hook(st, &st->want_fn, &st->want_arg);
}

size_t acm_zone_status_get(acm_zone_status_t *st, uint32_t *serial, bool *have_serial,
                           acm_secondary_status_t *out, size_t max)
{
	pthread_mutex_lock(&st->lock);
	*serial = st->serial;
	*have_serial = st->have_serial;
	size_t n = st->count;
	if (n > 0 && max > 0)
		memcpy(out, st->rows, (n < max ? n : max) * sizeof(*out));
	pthread_mutex_unlock(&st->lock);
	return n;
}
