/* SPDX-License-Identifier: ISC */
/*
 * Internal to dnsd/: the UDP handler of one bound socket on a worker's
 * event base (udp.c). Started and stopped by dnsd/server.c.
 */
#ifndef ACM_DNSD_UDP_H
#define ACM_DNSD_UDP_H

#include "dnsd/worker.h"

typedef struct acm_udp acm_udp_t;

/* Answer what arrives on fd (bound, non-blocking) from w's loop; the
 * handler owns fd from then on. ACM_OK and *out, or -ENOMEM (fd is left
 * to the caller). */
int acm_udp_open(acm_worker_t *w, int fd, acm_udp_t **out);
/* Stop and close the socket (NULL: nothing), on w's thread or once it
 * stopped. */
void acm_udp_close(acm_udp_t *u);

#endif
