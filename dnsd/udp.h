/* SPDX-License-Identifier: ISC */
/*
 * Internal to dnsd/: the UDP handler of one bound socket, run by a
 * worker's UDP thread (udp.c, udp_loop.c). Opened and closed by
 * dnsd/server.c.
 */
#ifndef ACM_DNSD_UDP_H
#define ACM_DNSD_UDP_H

#include "dnsd/worker.h"

typedef struct acm_udp acm_udp_t;

/* Answer what arrives on fd (bound, non-blocking) with w, the answer
 * context of a UDP thread (w->udp_loop set); the handler owns fd from then
 * on. ACM_OK and *out, or -ENOMEM (fd is left to the caller). */
int acm_udp_open(acm_worker_t *w, int fd, acm_udp_t **out);
/* On w's thread: answer what the socket holds, a few batches at most.
 * The datagrams read: when not 0, w's batch clocks are the last batch's. */
size_t acm_udp_drain(acm_udp_t *u);
/* For a thread that serves this socket alone: make it blocking, with
 * receives that give up after timeout_ms. ACM_OK or -errno. */
int acm_udp_block(acm_udp_t *u, unsigned timeout_ms);
/* On w's thread, after acm_udp_block: wait for datagrams and answer one
 * batch. The datagrams read; 0 on the timeout, or at once and from then on
 * after acm_udp_wake. */
size_t acm_udp_wait(acm_udp_t *u);
/* From any thread: end acm_udp_wait's waits (the thread's stop). */
void acm_udp_wake(acm_udp_t *u);
/* The socket, to poll. */
int acm_udp_fd(const acm_udp_t *u);
/* Close the socket (NULL: nothing), on w's thread or once it stopped. */
void acm_udp_close(acm_udp_t *u);

#endif
