/* SPDX-License-Identifier: ISC */
/*
 * Worker threads and their sockets. Every worker binds its own UDP and TCP
 * socket on every listen address (SO_REUSEPORT lets the kernel spread
 * packets and connections), runs its own event base, and answers from its
 * own reference to the zone and its own store reader.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dnsd/answer.h"
#include "dnsd/server.h"
#include "dnsd/worker.h"
#include "dnsd/xfr.h"
#include "lib/error.h"
#include "lib/health.h"
#include "lib/log.h"

#define TCP_BACKLOG 1024
#define UDP_RCVBUF (4 * 1024 * 1024)
/* Seconds between two log lines of one kind of refusal (acm_worker_refused). */
#define REFUSAL_LOG_INTERVAL 10

struct acm_server {
	unsigned count;
	acm_worker_t *workers;
	acm_tcp_limits_t tcp_limits;
	acm_lookup_log_t *lookups;      /* NULL: lookups.enabled is false */
	acm_metrics_t *own_metrics;     /* when the caller passed none */
	acm_health_t *health;           /* the workers' heartbeats */
	acm_keyring_t *keyring;         /* the accounts' keys, shared by the workers */
	pthread_mutex_t closing_mu;
	pthread_cond_t closing_cv;
	unsigned closed;                /* workers that stopped taking updates */
};

void acm_worker_batch_begin(acm_worker_t *w)
{
	w->snapshot_ok = acm_reader_begin(w->reader, &w->serial) == ACM_OK;
	w->now = (uint64_t)time(NULL);
	/* Accounts changed after the table's generation, up to this
	 * snapshot's, are read from the store (acm_worker_account), so a
	 * change counts from the next packet. */
	w->keys = w->snapshot_ok ? acm_keyring_view(w->keyring, &w->keyview, w->reader) : NULL;
}

void acm_worker_batch_end(acm_worker_t *w)
{
	if (w->snapshot_ok)
		acm_reader_end(w->reader);
	w->snapshot_ok = false;
}

static int worker_lookup(void *ctx, const uint8_t *owner, size_t len, const uint8_t **rec,
                         size_t *reclen)
{
	acm_worker_t *w = ctx;
	if (!w->snapshot_ok)
		return ACM_ESTORE;
	return acm_reader_lookup(w->reader, owner, len, rec, reclen);
}

const char *acm_addr_text(const struct sockaddr *sa, char *buf, size_t len)
{
	const void *addr = NULL;
	if (sa && sa->sa_family == AF_INET)
		addr = &((const struct sockaddr_in *)sa)->sin_addr;
	else if (sa && sa->sa_family == AF_INET6)
		addr = &((const struct sockaddr_in6 *)sa)->sin6_addr;
	if (!addr || !inet_ntop(sa->sa_family, addr, buf, (socklen_t)len))
		snprintf(buf, len, "?");
	return buf;
}

/* An account's key is named <subdomain>.<apex>: the first label names the
 * account. acm_tsig_verify compares the whole name, so a label that reads
 * differently as a C string cannot borrow another account's key. */
int acm_worker_account(acm_worker_t *w, const uint8_t *name, acm_keyrec_buf_t *buf,
                       const acm_keyrec_t **out)
{
	size_t apex_len;
	const uint8_t *apex = acm_zone_apex(w->zone, &apex_len);
	char label[ACM_LABEL_MAX + 1];
	acm_account_t acc;
	if (acm_dname_under(name, apex) != 1 || memchr(name + 1, '\0', name[0]))
		return ACM_ENOTFOUND;
	if (w->keys && !acm_keyview_changed(&w->keyview, name + 1, name[0])) {
		*out = acm_keytab_find(w->keys, name + 1, name[0]);
		return *out ? ACM_OK : ACM_ENOTFOUND;
	}
	memcpy(label, name + 1, name[0]);
	label[name[0]] = '\0';
	int rc = acm_store_account_get(w->store, label, &acc);
	if (rc == ACM_OK)
		rc = acm_keyrec_from_account(&acc, buf->b, sizeof(buf->b));
	else if (rc == ACM_EBADNAME)
		rc = ACM_ENOTFOUND;
	memset(&acc, 0, sizeof(acc));
	*out = rc == ACM_OK ? (const acm_keyrec_t *)buf->b : NULL;
	return rc;
}

/* TSIG keys: transfer and notify keys from the configuration, then the
 * account whose name the key bears, so that a client holding an account
 * key (certbot's rfc2136 plugin) gets signed answers to its probes. */
static int worker_key(void *ctx, const uint8_t *name, size_t len, acm_tsig_key_t *out)
{
	acm_worker_t *w = ctx;
	const acm_tsig_key_t *k = acm_zone_tsig_key(w->zone, name, len);
	if (k) {
		*out = *k;
		return ACM_OK;
	}
	acm_keyrec_buf_t buf;
	const acm_keyrec_t *rec;
	int rc = acm_worker_account(w, name, &buf, &rec);
	if (rc == ACM_OK)
		acm_keyrec_key(rec, name, len, out);
	return rc;
}

void acm_worker_refused(acm_worker_t *w, enum acm_m_refusal reason, const char *msg,
                        const struct sockaddr *peer, const acm_kv_t *detail, size_t n)
{
#define LIMIT ACM_LOG_LIMIT_INIT(REFUSAL_LOG_INTERVAL)
	static acm_log_limit_t limits[] = { LIMIT, LIMIT, LIMIT, LIMIT, LIMIT, LIMIT, LIMIT };
#undef LIMIT
	_Static_assert(sizeof(limits) / sizeof(limits[0]) == ACM_M_REFUSALS, "one limit per reason");
	char who[INET6_ADDRSTRLEN];
	acm_kv_t kv[ACM_REFUSED_DETAIL_MAX + 1];
	acm_counter_add(&w->metrics->refused[reason], 1);
	if (n > ACM_REFUSED_DETAIL_MAX)
		n = ACM_REFUSED_DETAIL_MAX;
	kv[0] = ACM_KS("client", acm_addr_text(peer, who, sizeof(who)));
	memcpy(kv + 1, detail, n * sizeof(*detail));
	acm_log_limited_fields(&limits[reason], ACM_LOG_INFO, msg, kv, n + 1);
}

/* The query's TSIG failed, or a transfer was refused: counted, and said
 * once in a while, with the client, where the answer ends. */
static void log_refusal(acm_worker_t *w, const acm_query_t *q, const acm_answer_info_t *info,
                        const struct sockaddr *peer)
{
	char name[ACM_DNAME_TXT_MAX];
	bool xfr = q->qtype == ACM_RRTYPE_AXFR || q->qtype == ACM_RRTYPE_IXFR;
	if (info->tsig_error == ACM_TSIG_OK && !info->xfr_refused)
		return;
	if (acm_dname_to_text(q->qname, name) < 0)
		snprintf(name, sizeof(name), "?");
	enum acm_m_refusal reason = info->tsig_error == ACM_TSIG_BADKEY    ? ACM_M_REFUSED_BADKEY
	                            : info->tsig_error == ACM_TSIG_BADTIME ? ACM_M_REFUSED_BADTIME
	                            : info->tsig_error == ACM_TSIG_BADSIG  ? ACM_M_REFUSED_BADSIG
	                            : info->tsig_error != ACM_TSIG_OK ? ACM_M_REFUSED_MALFORMED
	                                                              : ACM_M_REFUSED_TRANSFER;
	static const char *const tsig[ACM_M_REFUSALS] = {
		[ACM_M_REFUSED_BADKEY] = "BADKEY", [ACM_M_REFUSED_BADTIME] = "BADTIME",
		[ACM_M_REFUSED_BADSIG] = "BADSIG", [ACM_M_REFUSED_MALFORMED] = "malformed",
	};
	if (reason != ACM_M_REFUSED_TRANSFER) {
		const acm_kv_t kv[] = { ACM_KS("kind", xfr ? "transfer" : "query"),
			                ACM_KS("qname", name), ACM_KS("tsig", tsig[reason]) };
		acm_worker_refused(w, reason, "TSIG refused", peer, kv, 3);
	} else {
		const acm_kv_t kv[] = { ACM_KS("qname", name),
			                ACM_KS("reason", "not in transfer.allow") };
		acm_worker_refused(w, reason, "transfer refused", peer, kv, 2);
	}
}

/* Hand an allowed transfer to the TCP handler, or answer SERVFAIL. */
static size_t start_xfr(acm_worker_t *w, const acm_answer_env_t *env, const acm_query_t *q,
                        const acm_answer_info_t *info, const struct sockaddr *peer,
                        uint8_t *out, size_t outcap, acm_xfr_t **xfr)
{
	char who[INET6_ADDRSTRLEN];
	int rc = acm_xfr_start(w->zone, w->store, q, &info->tsig,
	                       acm_addr_text(peer, who, sizeof(who)), xfr);
	if (rc == ACM_OK)
		return 0;
	acm_log_kv(ACM_LOG_ERROR, "transfer failed", ACM_KS("client", who),
	           ACM_KS("error", acm_strerror(rc)));
	acm_query_t fail = *q;
	fail.rcode = ACM_RCODE_SERVFAIL;
	fail.has_tsig = false;
	return acm_answer(env, &fail, true, out, outcap, NULL);
}

/* Counted where the query, its answer and the transport meet. A TXT
 * lookup in the zone had values when some were sent, or when they did not
 * fit (only values make a TXT answer that large). */
static void count_answer(acm_worker_t *w, const acm_query_t *q, const acm_answer_info_t *info,
                         bool tcp, size_t n)
{
	if (n == 0 && !info->xfr)
		return;   /* no room to sign: nothing was answered */
	int rcode = !info->xfr ? info->rcode : n > 0 ? ACM_RCODE_SERVFAIL : ACM_RCODE_NOERROR;
	bool tc = !info->xfr && info->truncated;
	acm_dns_metrics_answer(w->metrics, tcp, q->qtype, rcode, n, tc);
	if (q->qtype != ACM_RRTYPE_TXT ||
	    (rcode != ACM_RCODE_NOERROR && rcode != ACM_RCODE_NXDOMAIN))
		return;
	acm_counter_add(info->txt_count > 0 || tc ? &w->metrics->txt_values
	                                          : &w->metrics->txt_novalues, 1);
}

size_t acm_worker_answer(acm_worker_t *w, const uint8_t *in, size_t len, bool tcp,
                         const struct sockaddr *peer, uint8_t *out, size_t outcap,
                         acm_xfr_t **xfr)
{
	acm_query_t q;
	acm_answer_info_t info;
	if (!acm_query_parse(in, len, &q)) {
		acm_counter_add(&w->metrics->dropped[ACM_M_DROP_MALFORMED], 1);
		return 0;
	}
	acm_answer_env_t env = {
		.zone = w->zone,
		.lookup = worker_lookup,
		.lookup_ctx = w,
		.key_lookup = worker_key,
		.key_ctx = w,
		.client = xfr || !tcp ? peer : NULL,
		.serial = w->serial,
		.now = w->now,
		.udp_payload = w->udp_payload,
	};
	size_t n = acm_answer(&env, &q, tcp, out, outcap, &info);
	if (info.xfr) {
		n = start_xfr(w, &env, &q, &info, peer, out, outcap, xfr);
		count_answer(w, &q, &info, tcp, n);
		return n;
	}
	count_answer(w, &q, &info, tcp, n);
	if (q.has_tsig || info.xfr_refused)
		log_refusal(w, &q, &info, peer);
	if (w->lookups && n > 0)
		acm_worker_log_lookup(w, &q, &info, tcp, peer);
	return n;
}

static void take_pending_zone(evutil_socket_t fd, short what, void *arg)
{
	acm_worker_t *w = arg;
	(void)fd;
	(void)what;
	acm_zone_t *z = atomic_exchange(&w->pending_zone, NULL);
	if (z) {
		acm_zone_unref(w->zone);
		w->zone = z;
	}
}

/* Breaking the loop from inside it: an event made active before the loop
 * starts still runs once it does, where a loopbreak from outside would be
 * forgotten. */
static void end_loop(evutil_socket_t fd, short what, void *arg)
{
	acm_worker_t *w = arg;
	(void)fd;
	(void)what;
	event_base_loopbreak(w->base);
}

/* On the worker, between two callbacks: no update is half submitted. */
static void close_updates(evutil_socket_t fd, short what, void *arg)
{
	acm_worker_t *w = arg;
	(void)fd;
	(void)what;
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
			event_active(srv->workers[i].close_ev, 0, 0);
			started++;
		}
	pthread_mutex_lock(&srv->closing_mu);
	while (srv->closed < started)
		pthread_cond_wait(&srv->closing_cv, &srv->closing_mu);
	pthread_mutex_unlock(&srv->closing_mu);
}

static void beat(evutil_socket_t fd, short what, void *arg)
{
	acm_worker_t *w = arg;
	(void)fd;
	(void)what;
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

static int worker_init(acm_server_t *srv, acm_worker_t *w, const acm_config_t *cfg,
                       acm_store_t *store, acm_zone_t *zone, acm_metrics_t *metrics,
                       char *err, size_t errlen)
{
	w->metrics = acm_metrics_dns_block(metrics);
	w->base = event_base_new();
	w->reload_ev = w->base ? event_new(w->base, -1, 0, take_pending_zone, w) : NULL;
	w->stop_ev = w->base ? event_new(w->base, -1, 0, end_loop, w) : NULL;
	w->beat_ev = w->base ? event_new(w->base, -1, EV_PERSIST, beat, w) : NULL;
	w->close_ev = w->base ? event_new(w->base, -1, 0, close_updates, w) : NULL;
	w->server = srv;
	const struct timeval every = { ACM_HEALTH_BEAT_MS / 1000, 0 };
	if (w->beat_ev)
		event_add(w->beat_ev, &every);
	w->udp = calloc(cfg->listen_count, sizeof(*w->udp));
	w->tcp = calloc(cfg->listen_count, sizeof(*w->tcp));
	if (!w->metrics || !w->reload_ev || !w->stop_ev || !w->beat_ev || !w->close_ev || !w->udp ||
	    !w->tcp) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	w->store = store;
	w->keyring = srv->keyring;
	int rc = acm_reader_open(store, &w->reader);
	if (rc != ACM_OK) {
		snprintf(err, errlen, "store reader: %s", acm_strerror(rc));
		return rc;
	}
	acm_zone_ref(zone);
	w->zone = zone;
	atomic_init(&w->pending_zone, NULL);
	w->udp_payload = (uint16_t)cfg->udp_payload;
	w->tcp_limits = &srv->tcp_limits;
	for (size_t i = 0; rc == ACM_OK && i < cfg->listen_count; i++) {
		rc = open_listener(w, &cfg->listen[i], SOCK_DGRAM, err, errlen);
		if (rc == ACM_OK)
			rc = open_listener(w, &cfg->listen[i], SOCK_STREAM, err, errlen);
	}
	return rc;
}

static void worker_free(acm_worker_t *w)
{
	acm_worker_updates_free(w);
	for (size_t i = 0; i < w->udp_count; i++)
		acm_udp_close(w->udp[i]);
	for (size_t i = 0; i < w->tcp_count; i++)
		acm_tcp_close(w->tcp[i]);
	free(w->udp);
	free(w->tcp);
	if (w->reload_ev)
		event_free(w->reload_ev);
	if (w->stop_ev)
		event_free(w->stop_ev);
	if (w->beat_ev)
		event_free(w->beat_ev);
	if (w->close_ev)
		event_free(w->close_ev);
	if (w->base)
		event_base_free(w->base);
	if (w->reader)
		acm_reader_close(w->reader);
	acm_zone_unref(atomic_exchange(&w->pending_zone, NULL));
	acm_zone_unref(w->zone);
	acm_keyview_release(&w->keyview);
}

static unsigned worker_count(const acm_config_t *cfg)
{
	if (cfg->workers > 0)
		return cfg->workers;
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (unsigned)n : 1;
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
	    (rc = acm_lookup_log_new(n, cfg->lookups.total, cfg->lookups.per_name, &srv->lookups)) !=
	            ACM_OK)
		snprintf(err, errlen, "lookup log: %s", acm_strerror(rc));
	if (rc == ACM_OK && (rc = acm_health_new(n, &srv->health)) != ACM_OK)
		snprintf(err, errlen, "out of memory");
	if (rc == ACM_OK && !metrics && (rc = acm_metrics_new(0, &srv->own_metrics)) == ACM_OK)
		metrics = srv->own_metrics;
	for (size_t i = 0; rc == ACM_OK && i < cfg->listen_count; i++) {
		rc = probe_free(&cfg->listen[i], SOCK_DGRAM, err, errlen);
		if (rc == ACM_OK)
			rc = probe_free(&cfg->listen[i], SOCK_STREAM, err, errlen);
	}
	if (rc == ACM_OK && (rc = acm_keyring_start(store, &srv->keyring)) != ACM_OK)
		snprintf(err, errlen, "accounts' keys: %s", acm_strerror(rc));
	for (unsigned i = 0; rc == ACM_OK && i < n; i++) {
		srv->workers[i].index = i;
		srv->workers[i].commit = commit;
		srv->workers[i].lookups = srv->lookups;
		srv->workers[i].health = srv->health;
		rc = worker_init(srv, &srv->workers[i], cfg, store, zone, metrics, err, errlen);
	}
	/* Workers never see signals: the main thread handles them. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (unsigned i = 0; rc == ACM_OK && i < n; i++) {
		acm_worker_t *w = &srv->workers[i];
		rc = -pthread_create(&w->thread, NULL, worker_main, w);
		if (rc != ACM_OK)
			snprintf(err, errlen, "cannot start worker thread: %s", strerror(-rc));
		w->started = rc == ACM_OK;
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
		acm_zone_ref(zone);
		acm_zone_unref(atomic_exchange(&w->pending_zone, zone));
		event_active(w->reload_ev, 0, 0);
	}
}

void acm_server_stop(acm_server_t *srv)
{
	if (!srv)
		return;
	for (unsigned i = 0; i < srv->count; i++)
		if (srv->workers[i].started)
			event_active(srv->workers[i].stop_ev, 0, 0);
	for (unsigned i = 0; i < srv->count; i++)
		if (srv->workers[i].started)
			pthread_join(srv->workers[i].thread, NULL);
	for (unsigned i = 0; i < srv->count; i++)
		worker_free(&srv->workers[i]);
	acm_keyring_stop(srv->keyring);
	pthread_cond_destroy(&srv->closing_cv);
	pthread_mutex_destroy(&srv->closing_mu);
	free(srv->workers);
	acm_lookup_log_free(srv->lookups);
	acm_health_free(srv->health);
	acm_metrics_free(srv->own_metrics);
	acm_tcp_limits_fini(&srv->tcp_limits);
	free(srv);
}
