/* SPDX-License-Identifier: ISC */
/*
 * Internal to dnsd/: a worker's UDP thread (udp_loop.c). It answers the
 * worker's UDP sockets from an answer context of its own and hands the
 * UPDATEs it receives to the worker's event loop. Started, reloaded and
 * stopped by dnsd/server.c.
 */
#ifndef ACM_DNSD_UDP_LOOP_H
#define ACM_DNSD_UDP_LOOP_H

#include "dnsd/worker.h"

typedef struct acm_udp_loop acm_udp_loop_t;

/* A stopped UDP thread of the worker events (whose mailbox, made
 * already, takes its UPDATEs); yield: dns.udp_yield. ACM_OK and *out, or
 * -errno. */
int acm_udp_loop_new(acm_worker_t *events, bool yield, acm_udp_loop_t **out);
/* The thread's answer context, for the caller to fill before the start:
 * its store reader, zone reference, sockets (dnsd/udp.h) and the rest. */
acm_worker_t *acm_udp_loop_worker(acm_udp_loop_t *l);
/* Start the thread. ACM_OK or -errno. */
int acm_udp_loop_start(acm_udp_loop_t *l);
/* Stop the thread if it runs and wait for it (NULL: nothing). */
void acm_udp_loop_stop(acm_udp_loop_t *l);
/* Stop, then free what the loop holds (UPDATEs the event loop has not
 * taken are its mailbox's to drop); its answer context's contents are
 * the caller's, freed before. */
void acm_udp_loop_free(acm_udp_loop_t *l);

/* On the UDP thread: hand an update checked there (acm_worker_update) to
 * the event loop, which submits it to group commit and answers it through
 * peer once durable (acm_worker_update_submit). Takes u. */
void acm_udp_loop_submit(acm_udp_loop_t *l, acm_update_t *u, const acm_peer_t *peer);

#endif
