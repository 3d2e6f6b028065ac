/* SPDX-License-Identifier: ISC */
/*
 * The thread that keeps the DNS name index (lib/rt/name_index.h) level
 * with the store. It starts empty, so start-up does not wait for it: the
 * first build runs on the thread while the workers read the store. Then it
 * applies the owners the store's rrsets change log lists since the
 * generation it holds, each read again from a fresh snapshot, and builds
 * the whole index again (aside, the old one still published) when that
 * generation has left the log's window. It runs when a worker finds the
 * index behind its snapshot, and every ACM_NAMES_POLL_MS for writes by
 * other processes.
 */
#ifndef ACM_DNSD_NAMES_H
#define ACM_DNSD_NAMES_H

#include "lib/rt/metrics.h"
#include "lib/rt/name_index.h"
#include "lib/store/store.h"

#define ACM_NAMES_POLL_MS 50

typedef struct acm_names acm_names_t;

/* Start the thread over a new, empty index. metrics may be NULL. ACM_OK,
 * -ENOMEM, a thread error, or a store failure; nothing runs on failure. */
int acm_names_start(acm_store_t *store, acm_metrics_t *metrics, acm_names_t **out);
/* The index, for the workers to join (NULL names: NULL). */
acm_name_index_t *acm_names_index(acm_names_t *names);
/* Stop the thread and free the index; every reader has left. NULL is
 * ignored. */
void acm_names_stop(acm_names_t *names);

#endif
