/* SPDX-License-Identifier: ISC */
/*
 * Internal to dnsd/: one worker thread's state, shared by the UDP and TCP
 * handlers it runs. Everything here is touched by its own thread only,
 * except pending_zone (atomic hand-over from the reloading thread).
 */
#ifndef ACM_DNSD_WORKER_H
#define ACM_DNSD_WORKER_H

#include <event2/event.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/store.h"
#include "lib/zone.h"

typedef struct acm_udp acm_udp_t;
typedef struct acm_tcp acm_tcp_t;

typedef struct {
	atomic_uint count;              /* open TCP connections, all workers */
	unsigned max;                   /* dns.tcp_max_clients */
	unsigned idle_timeout;          /* seconds */
} acm_tcp_limits_t;

typedef struct acm_worker {
	unsigned index;
	pthread_t thread;
	bool started;
	struct event_base *base;
	struct event *reload_ev;
	struct event *stop_ev;                  /* made active to end the loop */
	acm_zone_t *zone;                       /* this worker's reference */
	_Atomic(acm_zone_t *) pending_zone;     /* set by a reload */
	acm_reader_t *reader;
	uint32_t serial;                        /* of the current snapshot */
	uint64_t now;
	bool snapshot_ok;
	uint16_t udp_payload;
	acm_tcp_limits_t *tcp_limits;
	size_t udp_count;
	acm_udp_t **udp;
	size_t tcp_count;
	acm_tcp_t **tcp;
} acm_worker_t;

/* Open a store snapshot for a batch of queries / close it after the batch. */
void acm_worker_batch_begin(acm_worker_t *w);
void acm_worker_batch_end(acm_worker_t *w);

/* Answer one message received inside a batch. Returns the response length,
 * or 0 when the message is dropped without a reply. */
size_t acm_worker_answer(acm_worker_t *w, const uint8_t *in, size_t len, bool tcp,
                         uint8_t *out, size_t outcap);

/* UDP (udp.c): a bound socket's handler on this worker's base. */
int acm_udp_open(acm_worker_t *w, int fd, acm_udp_t **out);
void acm_udp_close(acm_udp_t *u);

/* TCP (tcp.c): a listening socket's handler on this worker's base. */
int acm_tcp_open(acm_worker_t *w, int fd, acm_tcp_t **out);
void acm_tcp_close(acm_tcp_t *t);

#endif
