/* SPDX-License-Identifier: ISC */
/*
 * The notifier: a thread of dnsd that watches the store's serial (commits
 * come from acmensd's API and from acmensctl in other processes alike, so
 * the serial is the one signal they share), sends NOTIFY (RFC 1996) to
 * every transfer.notify address until each acknowledges, and asks each
 * for its SOA serial now and then, recording all of it in the propagation
 * status table.
 */
#ifndef ACM_DNSD_NOTIFY_H
#define ACM_DNSD_NOTIFY_H

#include <stddef.h>

#include "lib/conf/config.h"
#include "lib/store/store.h"
#include "lib/rt/zone_status.h"

typedef struct acm_notifier acm_notifier_t;

/*
 * Start the thread with cfg's targets (and keys: a NOTIFY is signed with
 * the key of the transfer.allow entry that covers the target's address).
 * store and status must outlive the notifier. ACM_OK, or an error with a
 * message in err.
 */
int acm_notifier_start(const acm_config_t *cfg, acm_store_t *store, acm_zone_status_t *status,
                       acm_notifier_t **out, char *err, size_t errlen);

/* Take the targets and keys of a reloaded configuration (thread-safe).
 * ACM_OK or -ENOMEM (the old ones stay). */
int acm_notifier_reload(acm_notifier_t *n, const acm_config_t *cfg);

/* Stop the thread and free everything. */
void acm_notifier_stop(acm_notifier_t *n);

#endif
