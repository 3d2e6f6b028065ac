/* SPDX-License-Identifier: ISC */
/*
 * Worker threads and their sockets. Every worker binds its own UDP and TCP
 * socket on every listen address (SO_REUSEPORT lets the kernel spread
 * packets and connections) and runs two threads: a UDP thread polling its
 * UDP sockets (dnsd/udp_loop.c), and an event loop for its TCP sockets,
 * timers, reloads and UPDATE commits. Each thread answers from its own
 * reference to the zone and its own store reader. What a worker does with
 * each message is dnsd/worker.c's; this file starts, reloads and stops the
 * threads.
 */
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dnsd/server.h"
#include "dnsd/tcp.h"
#include "dnsd/udp.h"
#include "dnsd/names.h"
#include "dnsd/udp_loop.h"
#include "dnsd/worker.h"
#include "lib/clock.h"
#include "lib/error.h"
#include "lib/rt/fdtimer.h"
#include "lib/rt/health.h"

#define TCP_BACKLOG 1024
#define UDP_RCVBUF (4 * 1024 * 1024)

struct acm_server {
	unsigned count;
	acm_worker_t *workers;
	acm_tcp_limits_t tcp_limits;
	acm_lookup_log_t *lookups;      /* NULL: lookups.enabled is false */
	acm_metrics_t *own_metrics;     /* when the caller passed none */
	acm_health_t *health;           /* the workers' heartbeats */
	acm_keyring_t *keyring;         /* the accounts' keys, shared by the workers */
	acm_names_t *names;             /* the name index; NULL: dns.name_index false */
	acm_rrl_t *rrl;                 /* dns.rrl's table, shared by the workers */
	pthread_mutex_t closing_mu;
	pthread_cond_t closing_cv;
	unsigned closed;                /* workers that stopped taking updates */
};

static void take_pending_zone(void *arg, bool deliver)
{
	acm_worker_t *w = arg;
	if (!deliver)
		return;   /* answer_free drops it */
	acm_zone_t *z = atomic_exchange(&w->pending_zone, NULL);
	if (z) {
		acm_zone_unref(w->zone);
		w->zone = z;
	}
}

/* Breaking the loop from inside it: mail posted before the loop starts
 * still runs once it does, where a loopbreak from outside would be
 * forgotten. */
static void end_loop(void *arg, bool deliver)
{
	acm_worker_t *w = arg;
	if (deliver)
		event_base_loopbreak(w->base);
}

/* On the worker, between two callbacks: no update is half submitted. */
static void close_updates(void *arg, bool deliver)
{
	acm_worker_t *w = arg;
	if (!deliver)
		return;   /* only a started worker is asked, and waited for */
	w->updates_closed = true;
	pthread_mutex_lock(&w->server->closing_mu);
	w->server->closed++;
	pthread_cond_signal(&w->server->closing_cv);
	pthread_mutex_unlock(&w->server->closing_mu);
}

void acm_server_close_updates(acm_server_t *srv)
{
	unsigned started = 0;
	for (unsigned i = 0; i < srv->count; i++)
		if (srv->workers[i].started) {
			acm_mailbox_post(srv->workers[i].mailbox, &srv->workers[i].close_mail);
			started++;
		}
	pthread_mutex_lock(&srv->closing_mu);
	while (srv->closed < started)
		pthread_cond_wait(&srv->closing_cv, &srv->closing_mu);
	pthread_mutex_unlock(&srv->closing_mu);
}

static void beat(void *arg)
{
	acm_worker_t *w = arg;
	acm_health_beat(w->health, w->index);
}

static void *worker_main(void *arg)
{
	acm_worker_t *w = arg;
	acm_health_beat(w->health, w->index);
	event_base_loop(w->base, EVLOOP_NO_EXIT_ON_EMPTY);
	return NULL;
}

static const char *proto(int type)
{
	return type == SOCK_DGRAM ? "udp" : "tcp";
}

/*
 * SO_REUSEPORT lets any process of the same user join the address and take
 * a share of its packets, silently. So before the workers bind, the
 * address is bound once without it (and, for UDP, without SO_REUSEADDR,
 * which lets UDP sockets share too): that fails if any other socket holds
 * it, ours being none yet. dns.listen cannot change on reload, so a
 * running acmensd never probes its own address.
 */
static int probe_free(const acm_listen_t *l, int type, char *err, size_t errlen)
{
	int fd = socket(l->addr.ss_family, type | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "dns.listen %s: socket: %s", l->text, strerror(errno));
		return -errno;
	}
	int one = 1, rc = ACM_OK;
	if (type == SOCK_STREAM)   /* a connection of ours in TIME_WAIT is no owner */
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (l->addr.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&l->addr, l->addrlen) != 0) {
		rc = -errno;
		if (errno == EADDRINUSE)
			snprintf(err, errlen, "dns.listen %s (%s): address already in use by another process",
			         l->text, proto(type));
		else
			snprintf(err, errlen, "dns.listen %s (%s): %s", l->text, proto(type),
			         strerror(errno));
	}
	close(fd);
	return rc;
}

static int bind_socket(const acm_listen_t *l, int type, char *err, size_t errlen)
{
	int fd = socket(l->addr.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "dns.listen %s: socket: %s", l->text, strerror(errno));
		return -errno;
	}
	int one = 1;
	if (type == SOCK_STREAM)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (l->addr.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (type == SOCK_DGRAM) {
		int size = UDP_RCVBUF;
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	}
	if (bind(fd, (const struct sockaddr *)&l->addr, l->addrlen) != 0 ||
	    (type == SOCK_STREAM && listen(fd, TCP_BACKLOG) != 0)) {
		int e = errno;
		snprintf(err, errlen, "dns.listen %s (%s): %s", l->text, proto(type), strerror(e));
		close(fd);
		return -e;
	}
	return fd;
}

/* Bind one socket of a listen address and hand it to this worker's loop. */
static int open_listener(acm_worker_t *w, const acm_listen_t *l, int type, char *err,
                         size_t errlen)
{
	int fd = bind_socket(l, type, err, errlen);
	if (fd < 0)
		return fd;
	int rc = type == SOCK_DGRAM ? acm_udp_open(w, fd, &w->udp[w->udp_count])
	                            : acm_tcp_open(w, fd, &w->tcp[w->tcp_count]);
	if (rc != ACM_OK) {
		close(fd);
		snprintf(err, errlen, "dns.listen %s: %s", l->text, acm_strerror(rc));
		return rc;
	}
	if (type == SOCK_DGRAM)
		w->udp_count++;
	else
		w->tcp_count++;
	return ACM_OK;
}

/* What a thread answers from: every worker has two, its event loop's and
 * its UDP thread's. */
static int answer_init(acm_server_t *srv, acm_worker_t *w, const acm_config_t *cfg,
                       acm_store_t *store, acm_zone_t *zone, acm_metrics_t *metrics,
                       char *err, size_t errlen)
{
	w->server = srv;
	w->lookups = srv->lookups;
	w->health = srv->health;
	w->rrl = srv->rrl;
	w->metrics = acm_metrics_dns_block(metrics);
	w->udp = calloc(cfg->listen_count, sizeof(*w->udp));
	w->tcp = calloc(cfg->listen_count, sizeof(*w->tcp));
	if (!w->metrics || !w->udp || !w->tcp) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	w->store = store;
	w->keyring = srv->keyring;
	int rc = acm_reader_open(store, &w->reader);
	if (rc == ACM_OK)
		rc = acm_name_index_join(acm_names_index(srv->names), &w->names);
	if (rc != ACM_OK) {
		snprintf(err, errlen, "store reader: %s", acm_strerror(rc));
		return rc;
	}
	acm_zone_ref(zone);
	w->zone = zone;
	w->udp_payload = (uint16_t)cfg->udp_payload;
	w->tcp_limits = &srv->tcp_limits;
	return ACM_OK;
}

/* Only the worker's thread touches its base; other threads post mail
 * (lib/rt/mailbox.h). So the base takes no lock, which saves a lock and
 * an unlock at every turn of the loop and around every event call. Its
 * timers are descriptors (lib/rt/fdtimer.h): with none in its heap, and
 * no time cached (nothing here asks for it), a turn of the loop reads no
 * clock. */
static struct event_base *base_new(void)
{
	struct event_config *cfg = event_config_new();
	struct event_base *base = NULL;
	if (cfg && event_config_set_flag(cfg, EVENT_BASE_FLAG_NOLOCK) == 0 &&
	    event_config_set_flag(cfg, EVENT_BASE_FLAG_NO_CACHE_TIME) == 0)
		base = event_base_new_with_config(cfg);
	if (cfg)
		event_config_free(cfg);
	return base;
}

static int worker_init(acm_server_t *srv, acm_worker_t *w, const acm_config_t *cfg,
                       acm_store_t *store, acm_zone_t *zone, acm_metrics_t *metrics,
                       char *err, size_t errlen)
{
	atomic_init(&w->pending_zone, NULL);
	acm_mail_init(&w->reload_mail, take_pending_zone, w);
	acm_mail_init(&w->stop_mail, end_loop, w);
	acm_mail_init(&w->close_mail, close_updates, w);
	w->base = base_new();
	if (!w->base || acm_fdtimer_new(w->base, beat, w, &w->beat) != ACM_OK ||
	    acm_fdtimer_set(w->beat, acm_boot_ms() + ACM_HEALTH_BEAT_MS, ACM_HEALTH_BEAT_MS) ||
	    acm_mailbox_new(w->base, &w->mailbox) != ACM_OK ||
	    acm_udp_loop_new(w, cfg->udp_yield, &w->udp_loop) != ACM_OK) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	acm_worker_t *u = acm_udp_loop_worker(w->udp_loop);
	u->index = srv->count + w->index;   /* its own lookup-log ring and heartbeat */
	u->commit = w->commit;              /* UPDATEs are checked there, submitted here */
	int rc = answer_init(srv, w, cfg, store, zone, metrics, err, errlen);
	if (rc == ACM_OK)
		rc = answer_init(srv, u, cfg, store, zone, metrics, err, errlen);
	for (size_t i = 0; rc == ACM_OK && i < cfg->listen_count; i++) {
		rc = open_listener(u, &cfg->listen[i], SOCK_DGRAM, err, errlen);
		if (rc == ACM_OK)
			rc = open_listener(w, &cfg->listen[i], SOCK_STREAM, err, errlen);
	}
	return rc;
}

static void answer_free(acm_worker_t *w)
{
	for (size_t i = 0; i < w->udp_count; i++)
		acm_udp_close(w->udp[i]);
	for (size_t i = 0; i < w->tcp_count; i++)
		acm_tcp_close(w->tcp[i]);
	free(w->udp);
	free(w->tcp);
	if (w->reader)
		acm_reader_close(w->reader);
	acm_zone_unref(atomic_exchange(&w->pending_zone, NULL));
	acm_zone_unref(w->zone);
	acm_keyview_release(&w->keyview);
	acm_name_index_leave(&w->names);
	acm_sigcache_free(w->sigcache);
}

static void worker_free(acm_worker_t *w)
{
	/* First: a dropped answer's mail lies in the update it answers. */
	acm_mailbox_free(w->mailbox);
	acm_worker_updates_free(w);
	if (w->udp_loop)
		answer_free(acm_udp_loop_worker(w->udp_loop));
	acm_udp_loop_free(w->udp_loop);
	answer_free(w);
	acm_fdtimer_free(w->beat);
	if (w->base)
		event_base_free(w->base);
}

static unsigned worker_count(const acm_config_t *cfg)
{
	if (cfg->workers > 0)
		return cfg->workers;
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (unsigned)n : 1;
}

/* Shares of lookups.total by where the traffic goes: a worker's event loop
 * (ring i) takes TCP only, its UDP thread (ring n + i) nearly every query.
 * The TCP rings share a sixteenth, each at least LOOKUP_TCP_FLOOR entries
 * but never more than an equal share; the UDP rings share the rest. */
#define LOOKUP_TCP_SHARE 16
#define LOOKUP_TCP_FLOOR 64
static int lookup_log_new(unsigned n, size_t total, unsigned per_name, acm_lookup_log_t **out)
{
	size_t tcp = total / LOOKUP_TCP_SHARE / n;
	if (tcp < LOOKUP_TCP_FLOOR)
		tcp = LOOKUP_TCP_FLOOR;
	if (tcp > total / (2 * n))
		tcp = total / (2 * n);
	size_t udp = (total - tcp * n) / n;
	size_t *caps = malloc(2 * n * sizeof(*caps));
	if (!caps)
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++) {
		caps[i] = tcp;
		caps[n + i] = udp;
	}
	int rc = acm_lookup_log_new_caps(2 * n, caps, per_name, out);
	free(caps);
	return rc;
}

int acm_server_start(const acm_config_t *cfg, acm_store_t *store, acm_zone_t *zone,
                     acm_commit_t *commit, acm_metrics_t *metrics, acm_server_t **out,
                     char *err, size_t errlen)
{
	acm_server_t *srv = calloc(1, sizeof(*srv));
	unsigned n = worker_count(cfg);
	if (!srv || !(srv->workers = calloc(n, sizeof(*srv->workers)))) {
		free(srv);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	srv->count = n;
	pthread_mutex_init(&srv->closing_mu, NULL);
	pthread_cond_init(&srv->closing_cv, NULL);
	int rc = acm_tcp_limits_init(&srv->tcp_limits, cfg);
	if (rc != ACM_OK)
		snprintf(err, errlen, "TCP connection table: %s", acm_strerror(rc));
	if (rc == ACM_OK && cfg->lookups.enabled &&
	    (rc = lookup_log_new(n, cfg->lookups.total, cfg->lookups.per_name, &srv->lookups)) !=
	            ACM_OK)
		snprintf(err, errlen, "lookup log: %s", acm_strerror(rc));
	if (rc == ACM_OK && (rc = acm_health_new(n, 2, &srv->health)) != ACM_OK)
		snprintf(err, errlen, "out of memory");
	/* Made even with dns.rrl.rate 0, so that a reload can turn it on. */
	if (rc == ACM_OK && (rc = acm_rrl_new(ACM_RRL_SLOTS_LOG2, NULL, &srv->rrl)) != ACM_OK)
		snprintf(err, errlen, "rate limit table: %s", acm_strerror(rc));
	if (rc == ACM_OK && !metrics && (rc = acm_metrics_new(0, &srv->own_metrics)) == ACM_OK)
		metrics = srv->own_metrics;
	for (size_t i = 0; rc == ACM_OK && i < cfg->listen_count; i++) {
		rc = probe_free(&cfg->listen[i], SOCK_DGRAM, err, errlen);
		if (rc == ACM_OK)
			rc = probe_free(&cfg->listen[i], SOCK_STREAM, err, errlen);
	}
	if (rc == ACM_OK && (rc = acm_keyring_start_background(store, &srv->keyring)) != ACM_OK)
		snprintf(err, errlen, "accounts' keys: %s", acm_strerror(rc));
	if (rc == ACM_OK && cfg->name_index && (rc = acm_names_start(store, metrics, &srv->names)))
		snprintf(err, errlen, "name index: %s", acm_strerror(rc));
	for (unsigned i = 0; rc == ACM_OK && i < n; i++) {
		srv->workers[i].index = i;
		srv->workers[i].commit = commit;
		rc = worker_init(srv, &srv->workers[i], cfg, store, zone, metrics, err, errlen);
	}
	/* Workers never see signals: the main thread handles them. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (unsigned i = 0; rc == ACM_OK && i < n; i++) {
		acm_worker_t *w = &srv->workers[i];
		rc = -pthread_create(&w->thread, NULL, worker_main, w);
		w->started = rc == ACM_OK;
		if (rc == ACM_OK)
			rc = acm_udp_loop_start(w->udp_loop);
		if (rc != ACM_OK)
			snprintf(err, errlen, "cannot start worker thread: %s", strerror(-rc));
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != ACM_OK) {
		acm_server_stop(srv);
		return rc;
	}
	*out = srv;
	return ACM_OK;
}

unsigned acm_server_workers(const acm_server_t *srv)
{
	return srv->count;
}

acm_lookup_log_t *acm_server_lookups(const acm_server_t *srv)
{
	return srv->lookups;
}

acm_health_t *acm_server_health(const acm_server_t *srv)
{
	return srv->health;
}

void acm_server_set_zone(acm_server_t *srv, acm_zone_t *zone)
{
	for (unsigned i = 0; i < srv->count; i++) {
		acm_worker_t *w = &srv->workers[i];
		acm_worker_t *u = acm_udp_loop_worker(w->udp_loop);
		acm_zone_ref(zone);
		acm_zone_unref(atomic_exchange(&w->pending_zone, zone));
		acm_mailbox_post(w->mailbox, &w->reload_mail);
		acm_zone_ref(zone);   /* the UDP thread takes it at the top of its loop */
		acm_zone_unref(atomic_exchange(&u->pending_zone, zone));
	}
}

void acm_server_stop(acm_server_t *srv)
{
	if (!srv)
		return;
	/* The UDP threads first: they hand UPDATEs to the event loops. */
	for (unsigned i = 0; i < srv->count; i++)
		acm_udp_loop_stop(srv->workers[i].udp_loop);
	for (unsigned i = 0; i < srv->count; i++)
		if (srv->workers[i].started)
			acm_mailbox_post(srv->workers[i].mailbox, &srv->workers[i].stop_mail);
	for (unsigned i = 0; i < srv->count; i++)
		if (srv->workers[i].started)
			pthread_join(srv->workers[i].thread, NULL);
	for (unsigned i = 0; i < srv->count; i++)
		worker_free(&srv->workers[i]);
	acm_keyring_stop(srv->keyring);
	acm_names_stop(srv->names);
	pthread_cond_destroy(&srv->closing_cv);
	pthread_mutex_destroy(&srv->closing_mu);
	free(srv->workers);
	acm_lookup_log_free(srv->lookups);
	acm_health_free(srv->health);
	acm_rrl_free(srv->rrl);
	acm_metrics_free(srv->own_metrics);
	acm_tcp_limits_fini(&srv->tcp_limits);
	free(srv);
}
