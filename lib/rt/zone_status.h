/* SPDX-License-Identifier: ISC */
/*
 * Propagation status: the primary's serial and, per configured secondary
 * (transfer.notify), the serial it last answered to an SOA query, when,
 * and how its NOTIFY went. Written by dnsd's notifier, read by the HTTP
 * API; neither knows the other, both know this table. Thread-safe (one
 * mutex); readers get a copy.
 *
 * Two hooks let each side learn of the other without polling: the API
 * asks for a serial (acm_zone_status_want), which wakes the notifier, and
 * the notifier's news of a secondary wakes the API. A hook runs under the
 * table's mutex on the caller's thread, so it may only hand over (e.g.
 * event_active) and must not call back into the table.
 */
#ifndef ACM_ZONE_STATUS_H
#define ACM_ZONE_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ACM_ZONE_STATUS_ADDR_MAX 80

typedef struct {
	char address[ACM_ZONE_STATUS_ADDR_MAX];   /* "HOST:PORT" as configured */
	bool seen;                  /* it has answered an SOA query */
	uint32_t serial;            /* the serial it answered last */
	uint64_t last_seen;         /* unix seconds of that answer */
	uint32_t notified_serial;   /* the last serial a NOTIFY announced */
	uint64_t last_notify;       /* unix seconds that NOTIFY was sent (0: never) */
	bool notify_acked;          /* the secondary acknowledged it */
	unsigned notify_tries;      /* sends of that NOTIFY so far */
} acm_secondary_status_t;

typedef struct acm_zone_status acm_zone_status_t;

/* A hook (see above); arg as registered. */
typedef void (*acm_zone_status_hook_fn)(void *arg);

/* A new empty table. ACM_OK or -ENOMEM. */
int acm_zone_status_new(acm_zone_status_t **out);
void acm_zone_status_free(acm_zone_status_t *st);

/* Replace the list of secondaries (on start and reload). Rows of addresses
 * still listed keep what was known about them. ACM_OK or -ENOMEM (the old
 * list stays). */
int acm_zone_status_set_targets(acm_zone_status_t *st, const char *const *addresses,
                                size_t n);

/* The primary's serial, as the notifier last read it. */
void acm_zone_status_set_serial(acm_zone_status_t *st, uint32_t serial);

/* Secondary i answered an SOA query with serial at now. */
void acm_zone_status_seen(acm_zone_status_t *st, size_t i, uint32_t serial, uint64_t now);

/* A NOTIFY for serial went to secondary i at now (tries: sends so far). */
void acm_zone_status_notify_sent(acm_zone_status_t *st, size_t i, uint32_t serial,
                                 unsigned tries, uint64_t now);
/* Secondary i acknowledged the NOTIFY for serial. */
void acm_zone_status_notify_acked(acm_zone_status_t *st, size_t i, uint32_t serial);

/* Register the hook run when a secondary answers a serial other than the
 * one it answered before, or the list changes (fn NULL: none). The previous one is never run
 * again once this returns. */
void acm_zone_status_on_seen(acm_zone_status_t *st, acm_zone_status_hook_fn fn, void *arg);

/* Register the hook run by acm_zone_status_want (fn NULL: none), as above. */
void acm_zone_status_on_want(acm_zone_status_t *st, acm_zone_status_hook_fn fn, void *arg);

/* Register the hook run by acm_zone_status_committed (fn NULL: none), as
 * above. */
void acm_zone_status_on_commit(acm_zone_status_t *st, acm_zone_status_hook_fn fn, void *arg);

/* A transaction was committed: run the commit hook, so the notifier reads
 * the new serial now rather than at its next poll. */
void acm_zone_status_committed(acm_zone_status_t *st);

/* Someone waits for every secondary to serve a serial just committed:
 * run the want hook, so the notifier looks at the store at once. */
void acm_zone_status_want(acm_zone_status_t *st);

/*
 * A consistent copy: *serial and *have_serial (false before the notifier's
 * first read), and up to max rows into out. Returns the number of
 * secondaries (which may exceed max).
 */
size_t acm_zone_status_get(acm_zone_status_t *st, uint32_t *serial, bool *have_serial,
                           acm_secondary_status_t *out, size_t max);

#endif
