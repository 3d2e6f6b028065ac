/* SPDX-License-Identifier: ISC */
/*
 * The DNS server: workers, each with its own SO_REUSEPORT UDP and TCP
 * sockets on every dns.listen address, a UDP thread and an event-loop
 * thread, answering from a zone and a store snapshot checked at every
 * batch of packets.
 */
#ifndef ACM_DNSD_SERVER_H
#define ACM_DNSD_SERVER_H

#include <stddef.h>

#include "lib/store/commit.h"
#include "lib/conf/config.h"
#include "lib/rt/health.h"
#include "lib/rt/lookup_log.h"
#include "lib/rt/metrics.h"
#include "lib/store/store.h"
#include "lib/conf/zone.h"

typedef struct acm_server acm_server_t;

/*
 * Bind every listen address for every worker and start the threads.
 * The server takes its own reference on zone. Dynamic updates go to commit
 * (NULL: they are refused); stop it after acm_server_close_updates and
 * before acm_server_stop. Every dns.listen address must be free: another
 * process on it (even with SO_REUSEPORT) makes the start fail, naming it. Each
 * worker counts into its own block of metrics (NULL: a private registry
 * nobody reads), which outlives the server. On failure returns an error
 * code and a message in err (which address could not be bound, and why);
 * nothing is left running.
 */
int acm_server_start(const acm_config_t *cfg, acm_store_t *store, acm_zone_t *zone,
                     acm_commit_t *commit, acm_metrics_t *metrics, acm_server_t **out,
                     char *err, size_t errlen);

/* Number of worker threads running. */
unsigned acm_server_workers(const acm_server_t *srv);

/* The log the workers record lookups in (lookups.* in the configuration),
 * owned by the server; NULL when lookups.enabled is false. */
acm_lookup_log_t *acm_server_lookups(const acm_server_t *srv);

/* The workers' heartbeat table, owned by the server, for /v1/health. */
acm_health_t *acm_server_health(const acm_server_t *srv);

/* Hand a new zone to every worker; each switches between two batches, so no
 * query is dropped. The server takes its own reference. */
void acm_server_set_zone(acm_server_t *srv, acm_zone_t *zone);

/*
 * Stop taking dynamic updates, before group commit stops: when this
 * returns, no worker submits to commit any more (an UPDATE arriving later
 * is dropped unanswered, and the client asks again); those submitted
 * already get their answers as commit finishes them, while the workers
 * still run.
 */
void acm_server_close_updates(acm_server_t *srv);

/* Stop the workers, close every socket, free the server. */
void acm_server_stop(acm_server_t *srv);

#endif
