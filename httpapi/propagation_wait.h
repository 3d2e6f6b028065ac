/* SPDX-License-Identifier: ISC */
/*
 * Writes that answer once every secondary serves them (docs/api.md,
 * "Waiting for the secondaries"): ?wait=secondaries on a /v1 write, or
 * http.update_waits_for_secondaries for POST /update. The committed
 * request's reply is held, the request waits without a thread in a list
 * sorted by the serial it needs, and the notifier's news of a secondary
 * (the zone status table's seen hook) or the request's deadline releases
 * it. HTTP thread only, except the hook.
 */
#ifndef ACM_HTTPAPI_PROPAGATION_WAIT_H
#define ACM_HTTPAPI_PROPAGATION_WAIT_H

#include <event2/event.h>

#include "httpapi/server_int.h"

#define ACM_PROP_TIMEOUT_DEFAULT 30   /* seconds */
#define ACM_PROP_TIMEOUT_MAX 120

/* The waiting list and its wake-up event on base, hooked to status (NULL:
 * no table; every wait ends at once). ACM_OK or -ENOMEM. */
int acm_prop_env_new(struct event_base *base, acm_zone_status_t *status,
                     acm_prop_env_t **out);
/* The server stops: unhook, answer every waiting request now (as a
 * timeout would) and let later ones answer at once. */
void acm_prop_env_stop(acm_prop_env_t *pe);
/* Only once no request waits (after the drain). NULL: nothing. */
void acm_prop_env_free(acm_prop_env_t *pe);

/* Before the route runs: read ?wait= and ?timeout= of a /v1 write, or
 * apply http.update_waits_for_secondaries to POST /update. False when the
 * request was answered 400 (a bad value, named in the message). */
bool acm_prop_wait_parse(acm_req_t *r, const char *pattern);

/* Does r wait for the secondaries once committed? */
bool acm_prop_waits(const acm_req_t *r);

/* r's commit is durable: run its then() with the reply held and wait for
 * the serial it made (or answer at once: an error, no secondaries, all
 * current, a closed connection); ends the request when it answers. */
void acm_prop_wait_committed(acm_req_t *r);

#endif
