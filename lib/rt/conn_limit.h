/* SPDX-License-Identifier: ISC */
/*
 * Connection accounting by client address, for the TCP listeners (DNS over
 * TCP, the HTTP API): how many connections are open in all, per client
 * (an IPv4 address, or an IPv6 /64, which one host usually owns) and per
 * network (an IPv4 /24, an IPv6 /48), so that one client, or one network,
 * cannot take every slot. Thread-safe: DNS workers share one table.
 */
#ifndef ACM_CONN_LIMIT_H
#define ACM_CONN_LIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

typedef struct acm_conn_limit acm_conn_limit_t;

/* What a connection holds, kept by its owner to give back. */
typedef struct {
	uint8_t key[18];                /* family, prefix length, address masked */
	bool held;
} acm_conn_slot_t;

/* The caps, read on every call (a reload may change them). 0: no cap. */
typedef struct {
	unsigned max_total;
	unsigned max_per_client;
	unsigned max_per_network;       /* needs a table made with networks true */
} acm_conn_caps_t;

enum acm_conn_verdict {
	ACM_CONN_ADMITTED = 0,
	ACM_CONN_FULL,                  /* max_total reached */
	ACM_CONN_CLIENT_FULL,           /* the client holds max_per_client */
	ACM_CONN_NETWORK_FULL,          /* the client's network holds max_per_network */
};

/* A table sized for about size_hint connections (it grows past it, one
 * allocation per distinct client). networks: also count per network.
 * ACM_OK or -ENOMEM. */
int acm_conn_limit_new(size_t size_hint, bool networks, acm_conn_limit_t **out);
void acm_conn_limit_free(acm_conn_limit_t *l);

/* Count a new connection from sa if the caps allow it: ACM_CONN_ADMITTED
 * and slot filled (give it back with acm_conn_limit_release), or the cap
 * that refused it (slot not held), or -ENOMEM. An IPv4-mapped IPv6
 * address (::ffff:a.b.c.d, how an IPv6 socket sees an IPv4 peer) counts
 * as that IPv4 client and its /24. An address of another family than
 * IPv4/IPv6 counts as one client. */
int acm_conn_limit_take(acm_conn_limit_t *l, const struct sockaddr *sa,
                        const acm_conn_caps_t *caps, acm_conn_slot_t *slot);

/* Give back a slot from acm_conn_limit_take; a slot not held is ignored. */
void acm_conn_limit_release(acm_conn_limit_t *l, acm_conn_slot_t *slot);

/* Connections counted now, in all. */
unsigned acm_conn_limit_total(acm_conn_limit_t *l);

/* The cap a listener can keep under the process's descriptor limit:
 * wanted, or share_percent of RLIMIT_NOFILE when that is lower (never
 * below 1). *limit gets the descriptor limit (0: unlimited or unknown). */
unsigned acm_conn_limit_fit(unsigned wanted, unsigned share_percent, uint64_t *limit);

#endif
