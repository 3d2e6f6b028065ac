/* SPDX-License-Identifier: ISC */
/*
 * Internal to dnsd/: one worker thread's state, and what the UDP and TCP
 * handlers it runs (udp.h, tcp.h) call for each message they receive
 * (worker.c, update_io.c, lookup.c). A worker has two: its event loop's
 * and its UDP thread's (udp_loop.h). Everything here is touched by its own
 * thread only, except pending_zone (atomic hand-over from the reloading
 * thread) and the mailbox: the event base takes no lock, so other threads
 * reach the loop only by posting mail (lib/rt/mailbox.h). Includes no transport: replies go back through the peer.
 */
#ifndef ACM_DNSD_WORKER_H
#define ACM_DNSD_WORKER_H

#include <event2/event.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "dnsd/answer.h"
#include "dnsd/keyring.h"
#include "lib/log.h"
#include "lib/rt/mailbox.h"
#include "lib/rt/metrics.h"
#include "lib/rt/name_index.h"
#include "lib/rt/rrl.h"
#include "lib/store/store.h"
#include "lib/dns/tsig.h"
#include "lib/conf/zone.h"

typedef struct acm_xfr acm_xfr_t;
typedef struct acm_update acm_update_t;
typedef struct acm_commit acm_commit_t;
struct sockaddr;

typedef struct acm_worker {
	unsigned index;
	pthread_t thread;
	bool started;
	struct event_base *base;
	struct acm_mailbox *mailbox;            /* how other threads reach the loop */
	acm_mail_t reload_mail;                 /* take pending_zone */
	acm_mail_t stop_mail;                   /* end the loop */
	acm_mail_t close_mail;                  /* stop taking updates */
	struct acm_fdtimer *beat;               /* the heartbeat timer (lib/rt/health.h) */
	struct acm_server *server;
	bool updates_closed;                    /* group commit is going away */
	struct acm_health *health;              /* the server's heartbeat table */
	acm_zone_t *zone;                       /* this worker's reference */
	_Atomic(acm_zone_t *) pending_zone;     /* set by a reload */
	acm_reader_t *reader;
	acm_name_reader_t names;                /* the name index (dnsd/names.h) */
	bool names_ok;                          /* usable for this batch */
	acm_store_t *store;                     /* for transfers and account keys */
	acm_keyring_t *keyring;                 /* the server's accounts' keys */
	acm_keyview_t keyview;                  /* the table this worker holds, what changed since */
	const acm_keytab_t *keys;               /* for this batch; NULL: read the store */
	acm_commit_t *commit;                   /* for dynamic updates; NULL: refused */
	struct acm_pending *pending;            /* updates waiting for their commit */
	/* The batch's clocks, read once for all its messages. */
	uint64_t wall_ns;                       /* the wall clock in ns, for the lookup log */
	uint64_t batch_ms;                      /* CLOCK_BOOTTIME ms (dns.rrl counts its seconds) */
	acm_answer_env_t env;                   /* the batch's, but for its client */
	acm_rrl_t *rrl;                         /* the server's rate limit table */
	bool snapshot_tried;                    /* the batch asked for its snapshot */
	bool snapshot_ok;                       /* and has it */
	bool keys_tried;                        /* keys is this batch's */
	uint16_t udp_payload;
	struct acm_tcp_limits *tcp_limits;     /* dnsd/tcp.h */
	struct acm_lookup_log *lookups;         /* NULL: lookups are not logged */
	acm_dns_metrics_t *metrics;             /* this worker's own; NULL: not counted */
	acm_sigcache_t *sigcache;               /* made when a signed zone is first served */
	uint64_t sig_counted[2];                /* its hits and misses already in metrics */
	size_t udp_count;
	struct acm_udp **udp;
	struct acm_udp_loop *udp_loop;          /* the UDP thread this context is (udp_loop.h) */
	size_t tcp_count;
	struct acm_tcp **tcp;
} acm_worker_t;

/* Begin a batch of messages (from the name index when it is current,
 * else from a store snapshot taken now) / end it, closing any snapshot:
 * none is kept between batches, so LMDB can reuse the pages freed since. */
void acm_worker_batch_begin(acm_worker_t *w);
void acm_worker_batch_end(acm_worker_t *w);

/* Answer one message from peer received inside a batch. Returns the
 * response length, or 0 when the message is dropped without a reply or,
 * over TCP (xfr not NULL), when *xfr was set to a zone transfer stream that
 * the caller sends and frees (dnsd/xfr.h). */
size_t acm_worker_answer(acm_worker_t *w, const uint8_t *in, size_t len, bool tcp,
                         const struct sockaddr *peer, uint8_t *out, size_t outcap,
                         acm_xfr_t **xfr);

/* Record an answered query in w->lookups (dnsd/lookup.c), at the batch's
 * time; the caller checks that there is one. info's TXT pointers must
 * still be valid. */
void acm_worker_log_lookup(acm_worker_t *w, const acm_query_t *q, const acm_answer_info_t *info,
                           bool tcp, const struct sockaddr *peer);


/*
 * Where the answer to a request goes, now or once it is durable: the
 * client, and the transport that received the request, which fills in
 * every field. Others read addr and answer through send, nothing else; ctx,
 * id and cmsg are the transport's. Copied by value, it stays valid while
 * its worker runs.
 */
#define ACM_PEER_CMSG_MAX 64
typedef struct acm_peer acm_peer_t;
struct acm_peer {
	struct sockaddr_storage addr;           /* the client */
	socklen_t addrlen;
	/* Send msg[0..len) to the client; len 0: no answer, the request is
	 * done with. Called on the worker's thread. */
	void (*send)(const acm_peer_t *peer, const uint8_t *msg, size_t len);
	void *ctx;                              /* the handler it came in on */
	uint64_t id;                            /* TCP: the connection, by its id */
	uint8_t cmsg[ACM_PEER_CMSG_MAX];        /* UDP: the reply's source address */
	size_t cmsg_len;
};

/* Dynamic update (update_io.c): false if msg is not an UPDATE; else it is
 * taken care of and answered through peer, now or once its changes are
 * durable: peer->send is called exactly once, maybe with nothing, unless
 * the worker stops first (acm_worker_updates_free). Inside a batch. On a
 * UDP thread (w->udp_loop set) an answer known at once is sent at once, in
 * the order of the socket's messages; an update to commit goes to the
 * worker's event loop (acm_udp_loop_submit), which submits it. */
bool acm_worker_update(acm_worker_t *w, const uint8_t *msg, size_t len, const acm_peer_t *peer);
/* On the event loop: submit an update checked by acm_worker_update on the
 * UDP thread (taking u), and answer through peer once it is durable. */
void acm_worker_update_submit(acm_worker_t *w, acm_update_t *u, const acm_peer_t *peer);
/* Drop the updates still waiting for their answer (the worker is stopping,
 * after group commit stopped). */
void acm_worker_updates_free(acm_worker_t *w);
/* The entry (key and allowfrom) of the account whose TSIG key bears the
 * lower-case wire name <subdomain>.<apex>, inside a batch: from the
 * in-memory table when it is current, else read from the store into buf.
 * ACM_OK and *out, ACM_ENOTFOUND (no such enabled account, or no key), or
 * a store failure. */
int acm_worker_account(acm_worker_t *w, const uint8_t *name, acm_keyrec_buf_t *buf,
                       const acm_keyrec_t **out);
/* A request refused before anyone was authenticated: counted every time,
 * logged (msg, the client, then at most ACM_REFUSED_DETAIL_MAX detail
 * fields) at most once in a while per reason, with the number left out. */
#define ACM_REFUSED_DETAIL_MAX 6
void acm_worker_refused(acm_worker_t *w, enum acm_m_refusal reason, const char *msg,
                        const struct sockaddr *peer, const acm_kv_t *detail, size_t n);
/* A refusal's reason in words, for its log line. */
const char *acm_refusal_words(enum acm_m_refusal reason);

#endif
