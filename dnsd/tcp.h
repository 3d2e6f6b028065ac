/* SPDX-License-Identifier: ISC */
/*
 * Internal to dnsd/: the TCP handler of one listening socket on a worker's
 * event base (tcp.c), and the connection limits all workers share.
 * Started and stopped by dnsd/server.c.
 */
#ifndef ACM_DNSD_TCP_H
#define ACM_DNSD_TCP_H

#include "dnsd/worker.h"
#include "lib/conf/config.h"
#include "lib/rt/conn_limit.h"

typedef struct acm_tcp acm_tcp_t;

typedef struct acm_tcp_limits {
	acm_conn_limit_t *table;        /* open TCP connections, all workers */
	unsigned max;                   /* dns.tcp_max_clients, fitted to the descriptor limit */
	unsigned per_client;            /* dns.tcp_max_per_client */
	unsigned per_network;           /* what one /24 or /48 may hold: max less a reserve */
	unsigned idle_timeout;          /* seconds between messages */
	unsigned message_timeout;       /* seconds for one message, once begun */
} acm_tcp_limits_t;

/* The limits all workers share, from cfg: ACM_OK or -ENOMEM.
 * _fini after every worker stopped. */
int acm_tcp_limits_init(acm_tcp_limits_t *lim, const acm_config_t *cfg);
void acm_tcp_limits_fini(acm_tcp_limits_t *lim);

/* Accept connections on fd (listening, non-blocking) from w's loop, within
 * w->tcp_limits; on success the handler owns fd (acm_tcp_close closes
 * it). ACM_OK and *out, or an error code (-ENOMEM) with fd still the
 * caller's. */
int acm_tcp_open(acm_worker_t *w, int fd, acm_tcp_t **out);
/* Close every connection and the listener (NULL: nothing), on w's thread
 * or once it stopped. */
void acm_tcp_close(acm_tcp_t *t);

#endif
