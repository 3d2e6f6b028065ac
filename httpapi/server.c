/* SPDX-License-Identifier: ISC */
/*
 * The HTTP server's life cycle: listening sockets, the HTTP thread and its
 * event base, configuration snapshots and their swap on reload, the table
 * of open connections behind the connection caps and the request
 * deadline, and the drain on stop. Requests themselves are request.c's.
 *
 * Connections count from accept. libevent 2.1 tells of an accepted
 * connection only through the bufferevent callback, before the connection
 * object exists; so that callback lists the new bufferevent (holding a
 * reference), and an event run right after the accept loop finds each
 * one's connection (the bufferevent's callback argument, as evhttp sets
 * it) and admits or refuses it before any byte of it is read.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "httpapi/auth.h"
#include "httpapi/deleg_wait.h"
#include "httpapi/propagation_wait.h"
#include "httpapi/server_int.h"
#include "lib/conf/preflight.h"
#include "lib/rt/accept_guard.h"
#include "lib/dns/zone_names.h"
#include "lib/error.h"
#include "lib/log.h"

#define CONN_BUCKETS 4096              /* a power of two */
#define MAX_HEADERS_SIZE (16 * 1024)
#define LISTEN_BACKLOG 1024
#define DRAIN_SECONDS 5                /* how long stop waits for commits */
#define DRAIN_POLL_US 20000
#define TOKEN_MIN_LEN 16               /* shorter admin tokens draw a warning */
#define ACCEPT_BATCH 64                /* accepts per turn of the loop */
#define FD_SHARE_PERCENT 50            /* of RLIMIT_NOFILE HTTP connections may take */
#define EVICT_WHEN_OUT_OF_FDS 16
#define LOG_INTERVAL_S 10

/* Outsiders cause these at will: one line per interval (lib/log.h). */
static acm_log_limit_t refused_log = ACM_LOG_LIMIT_INIT(LOG_INTERVAL_S);
static acm_log_limit_t accept_log = ACM_LOG_LIMIT_INIT(LOG_INTERVAL_S);

struct acm_http {
	struct event_base *base;
	struct evhttp *evhttp;
	pthread_t thread;
	bool running;
	bool tls;                          /* fixed at start: listeners keep their protocol */
	acm_req_env_t env;
	acm_http_conf_t *conf;             /* the current snapshot (HTTP thread) */

	pthread_mutex_t next_lock;         /* a reloaded snapshot on its way in */
	acm_http_conf_t *next;
	struct event *reload_ev;

	struct event *stop_ev;
	struct event *drain_ev;
	struct timespec drain_deadline;

	size_t nbound;
	struct evhttp_bound_socket **bound;
	acm_accept_guard_t **guards;       /* one per bound socket */

	acm_conn_limit_t *limit;           /* counts per client address */
	acm_conn_t *fresh;                 /* accepted, not yet admitted */
	struct event *admit_ev;
	unsigned batch;                    /* accepted in this turn of the loop */
	acm_conn_t *wait_head, *wait_tail; /* waiting for a request, oldest first */
	acm_conn_t *conns[CONN_BUCKETS];
};

/* ---- configuration snapshots ------------------------------------------- */

static void conf_free(acm_http_conf_t *c)
{
	if (!c)
		return;
	SSL_CTX_free(c->tls);
	for (size_t i = 0; i < c->cors_count; i++)
		free(c->cors_origins[i]);
	free(c->cors_origins);
	free(c->proxy_header);
	free(c->trusted);
	explicit_bzero(c->pub.admin_token, sizeof(c->pub.admin_token));
	free(c);
}

void acm_http_conf_ref(acm_http_conf_t *conf)
{
	conf->refs++;
}

void acm_http_conf_unref(acm_http_conf_t *conf)
{
	if (conf && --conf->refs == 0)
		conf_free(conf);
}

/* The admin token, read as acmensctl check-config reads it; only the
 * warnings are the daemon's own. */
static int read_token(const char *path, char *out, size_t outlen, char *err, size_t errlen)
{
	int rc = acm_admin_token_read(path, out, outlen, err, errlen);
	size_t n = rc == ACM_OK ? strlen(out) : 0;

	if (rc == ACM_OK && n < TOKEN_MIN_LEN)
		acm_warn("http.admin_token_file %s: a token of %zu bytes is easy to guess", path, n);
	return rc;
}

static int copy_cors(acm_http_conf_t *c, const acm_config_t *cfg)
{
	if (cfg->http.cors_count == 0)
		return ACM_OK;
	c->cors_origins = calloc(cfg->http.cors_count, sizeof(char *));
	if (!c->cors_origins)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->http.cors_count; i++) {
		if (!(c->cors_origins[i] = strdup(cfg->http.cors_origins[i])))
			return -ENOMEM;
		c->cors_count = i + 1;
		if (strcmp(c->cors_origins[i], "*") == 0)
			c->cors_any = true;
	}
	return ACM_OK;
}

static int copy_proxy(acm_http_conf_t *c, const acm_config_t *cfg)
{
	if (cfg->http.proxy_header && !(c->proxy_header = strdup(cfg->http.proxy_header)))
		return -ENOMEM;
	if (cfg->http.trusted_proxy_count == 0)
		return ACM_OK;
	c->trusted = calloc(cfg->http.trusted_proxy_count, sizeof(*c->trusted));
	if (!c->trusted)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->http.trusted_proxy_count; i++) {
		/* the loader checked every entry */
		if (acm_cidr_parse(cfg->http.trusted_proxies[i], &c->trusted[i]) != ACM_OK)
			return ACM_ECONFIG;
	}
	c->trusted_count = cfg->http.trusted_proxy_count;
	return ACM_OK;
}

static void copy_settings(acm_http_settings_t *s, const acm_config_t *cfg)
{
	memcpy(s->apex, cfg->apex, acm_dname_len(cfg->apex));
	acm_zname_zone_text(cfg->apex, s->zone_text);
	s->disable_registration = cfg->http.disable_registration;
	s->txt_limit = cfg->http.txt_limit;
	s->txt_expiry = cfg->http.txt_expiry;
	s->txt_max_values = cfg->txt_max_values;
	s->batch_max = cfg->http.batch_max;
	s->register_rate = cfg->http.register_rate;
	s->register_rate_global = cfg->http.register_rate_global;
	s->admin_enabled = cfg->http.admin_token_file != NULL;
	s->metrics = cfg->http.metrics;
	s->update_waits = cfg->http.update_waits_for_secondaries;
}

/* A snapshot of cfg with one reference, or an error and message (nothing
 * is logged here but warnings about the token file). */
static int conf_new(const acm_config_t *cfg, acm_http_conf_t **out, char *err, size_t errlen)
{
	acm_http_conf_t *c = calloc(1, sizeof(*c));
	int rc = ACM_OK;

	*out = NULL;
	if (!c)
		return -ENOMEM;
	c->refs = 1;
	copy_settings(&c->pub, cfg);
	c->max_body = cfg->http.max_body;
	c->timeout = cfg->http.timeout;
	uint64_t nofile;
	c->max_connections = acm_conn_limit_fit(cfg->http.max_connections, FD_SHARE_PERCENT,
	                                        &nofile);
	if (c->max_connections < cfg->http.max_connections)
		acm_warn("http.max_connections %u is more than half the descriptor limit %llu: "
		         "at most %u connections", cfg->http.max_connections,
		         (unsigned long long)nofile, c->max_connections);
	c->max_per_client = cfg->http.max_connections_per_client;
	c->request_timeout = cfg->http.request_timeout;
	c->access_log = cfg->http.access_log;
	if (cfg->http.admin_token_file)
		rc = read_token(cfg->http.admin_token_file, c->pub.admin_token,
		                sizeof(c->pub.admin_token), err, errlen);
	if (rc == ACM_OK && cfg->http.tls_cert)
		rc = acm_tls_ctx_new(cfg->http.tls_cert, cfg->http.tls_key, &c->tls, err, errlen);
	if (rc == ACM_OK)
		rc = copy_cors(c, cfg);
	if (rc == ACM_OK)
		rc = copy_proxy(c, cfg);
	if (rc != ACM_OK) {
		if (rc == -ENOMEM)
			snprintf(err, errlen, "http: out of memory");
		conf_free(c);
		return rc;
	}
	*out = c;
	return ACM_OK;
}

/* Limits evhttp applies by itself; new connections get the new ones. */
static void apply_limits(struct evhttp *evhttp, const acm_http_conf_t *c)
{
	evhttp_set_max_body_size(evhttp, (ev_ssize_t)c->max_body);
	evhttp_set_max_headers_size(evhttp, MAX_HEADERS_SIZE);
	evhttp_set_timeout(evhttp, (int)c->timeout);
}

/* ---- connections ------------------------------------------------------- */

static size_t conn_bucket(const struct evhttp_connection *evcon)
{
	uintptr_t p = (uintptr_t)evcon;
	return (size_t)((p >> 4) ^ (p >> 16)) & (CONN_BUCKETS - 1);
}

static acm_conn_t *conn_find(acm_http_t *h, const struct evhttp_connection *evcon)
{
	for (acm_conn_t *c = h->conns[conn_bucket(evcon)]; c; c = c->hash_next)
		if (c->evcon == evcon)
			return c;
	return NULL;
}

/* A connection stops waiting for a request: its deadline is off. */
static void conn_unwait(acm_http_t *h, acm_conn_t *c)
{
	evtimer_del(c->deadline);
	if (!c->waiting)
		return;
	if (c->wait_prev)
		c->wait_prev->wait_next = c->wait_next;
	else
		h->wait_head = c->wait_next;
	if (c->wait_next)
		c->wait_next->wait_prev = c->wait_prev;
	else
		h->wait_tail = c->wait_prev;
	c->wait_prev = c->wait_next = NULL;
	c->waiting = false;
}

/* A connection waits for its next request: the whole request, however
 * slowly it comes, must arrive within http.request_timeout. One that has
 * not sent a request yet is listed, oldest first, for eviction; a client
 * that was served keeps its connection until its deadline. */
static void conn_wait(acm_http_t *h, acm_conn_t *c)
{
	struct timeval tv = { (time_t)h->conf->request_timeout, 0 };
	conn_unwait(h, c);
	evtimer_add(c->deadline, &tv);
	if (c->served)
		return;
	c->wait_prev = h->wait_tail;
	if (h->wait_tail)
		h->wait_tail->wait_next = c;
	else
		h->wait_head = c;
	h->wait_tail = c;
	c->waiting = true;
}

static void conn_free(acm_conn_t *c)
{
	if (c->deadline)
		event_free(c->deadline);
	free(c);
}

/* Everything but the evhttp connection itself. */
static void conn_forget(acm_http_t *h, acm_conn_t *c)
{
	acm_conn_t **pp = &h->conns[conn_bucket(c->evcon)];
	while (*pp && *pp != c)
		pp = &(*pp)->hash_next;
	if (*pp)
		*pp = c->hash_next;
	conn_unwait(h, c);
	acm_req_conn_closed(c);
	acm_conn_limit_release(h->limit, &c->slot);
	acm_http_metrics_open(h->env.http_metrics, -1);
	conn_free(c);
}

/* libevent calls this before it frees the connection and its requests. */
static void on_conn_close(struct evhttp_connection *evcon, void *arg)
{
	acm_http_t *h = arg;
	acm_conn_t *c = conn_find(h, evcon);
	if (c)
		conn_forget(h, c);
}

/* Close a connection of ours (deadline, eviction). */
static void conn_drop(acm_http_t *h, acm_conn_t *c)
{
	struct evhttp_connection *evcon = c->evcon;
	evhttp_connection_set_closecb(evcon, NULL, NULL);
	conn_forget(h, c);
	evhttp_connection_free(evcon);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	acm_conn_t *c = arg;
	(void)fd;
	(void)what;
	acm_http_metrics_closed(c->server->env.http_metrics, ACM_HTTP_CLOSE_REQUEST_TIMEOUT, 1);
	conn_drop(c->server, c);
}

/* The reply went out: the connection may wait for another request. */
static void on_reply_sent(struct evhttp_request *req, void *arg)
{
	acm_conn_t *c = arg;
	(void)req;
	conn_wait(c->server, c);
}

static const char *verdict_code(int verdict)
{
	return verdict == ACM_CONN_CLIENT_FULL ? "too_many_client_connections"
	                                       : "too_many_connections";
}

static enum acm_http_close verdict_reason(int verdict)
{
	return verdict == ACM_CONN_CLIENT_FULL ? ACM_HTTP_CLOSE_MAX_PER_CLIENT
	       : verdict == ACM_CONN_FULL      ? ACM_HTTP_CLOSE_MAX_CONNECTIONS
	                                       : ACM_HTTP_CLOSE_NO_MEMORY;
}

/* A refused connection hears why, in the API's terms, when that can be
 * said without TLS and without waiting; then it is closed. */
static void conn_refuse(acm_http_t *h, struct evhttp_connection *evcon,
                        const struct sockaddr *sa, int verdict)
{
	char addr[INET6_ADDRSTRLEN];
	const char *code = verdict_code(verdict);

	acm_http_metrics_closed(h->env.http_metrics, verdict_reason(verdict), 1);
	if (!h->tls) {
		char msg[256];
		char body[64];
		int blen = snprintf(body, sizeof(body), "{\"error\":\"%s\"}", code);
		int n = snprintf(msg, sizeof(msg),
		                 "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json"
		                 "\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
		                 blen, body);
		int fd = bufferevent_getfd(evhttp_connection_get_bufferevent(evcon));
		if (fd >= 0 && n > 0 && (size_t)n < sizeof(msg))
			(void)!send(fd, msg, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL);
	}
	acm_log_limited_kv(&refused_log, ACM_LOG_NOTICE, "http connection refused",
	                   ACM_KS("client", acm_addr_text(sa, addr, sizeof(addr))),
	                   ACM_KS("error", code));
	evhttp_connection_free(evcon);
}

/* Count the new connection against the caps. At the total cap the
 * connection that has waited longest for its first request makes room:
 * slow clients hold those, and a client that sends its request at once is
 * served before it is the oldest. A client at its own cap is refused. */
static void conn_admit(acm_http_t *h, acm_conn_t *c, struct evhttp_connection *evcon)
{
	const struct sockaddr *sa = evhttp_connection_get_addr(evcon);
	struct sockaddr_storage ss;
	acm_conn_caps_t caps = { .max_total = h->conf->max_connections,
		                 .max_per_client = h->conf->max_per_client };

	if (!sa || sa->sa_family == AF_UNSPEC) {
		socklen_t len = sizeof(ss);
		memset(&ss, 0, sizeof(ss));
		if (getpeername(bufferevent_getfd(c->bev), (struct sockaddr *)&ss, &len) == 0)
			sa = (const struct sockaddr *)&ss;
	}
	int verdict = acm_conn_limit_take(h->limit, sa, &caps, &c->slot);
	if (verdict == ACM_CONN_FULL && h->wait_head) {
		acm_http_metrics_closed(h->env.http_metrics, ACM_HTTP_CLOSE_EVICTED, 1);
		conn_drop(h, h->wait_head);
		verdict = acm_conn_limit_take(h->limit, sa, &caps, &c->slot);
	}
	if (verdict != ACM_CONN_ADMITTED) {
		conn_free(c);
		conn_refuse(h, evcon, sa, verdict);
		return;
	}
	c->evcon = evcon;
	size_t b = conn_bucket(evcon);
	c->hash_next = h->conns[b];
	h->conns[b] = c;
	evhttp_connection_set_closecb(evcon, on_conn_close, h);
	acm_http_metrics_open(h->env.http_metrics, 1);
	conn_wait(h, c);
}

/* Right after the accept loop: admit or refuse what it accepted. */
static void on_admit(evutil_socket_t fd, short what, void *arg)
{
	acm_http_t *h = arg;
	acm_conn_t *next;
	(void)fd;
	(void)what;

	acm_conn_t *list = NULL;
	/* in the order of accept, so that an earlier one is never evicted
	 * to make room for a later one of the same batch */
	for (acm_conn_t *c = h->fresh; c; c = next) {
		next = c->hash_next;
		c->hash_next = list;
		list = c;
	}
	h->fresh = NULL;
	h->batch = 0;
	for (acm_conn_t *c = list; c; c = next) {
		next = c->hash_next;
		c->hash_next = NULL;
		struct bufferevent *bev = c->bev;
		void *cbarg = NULL;
		bufferevent_getcb(bev, NULL, NULL, NULL, &cbarg);
		/* NULL when evhttp already gave the connection up */
		struct evhttp_connection *evcon = cbarg;
		if (evcon && evhttp_connection_get_bufferevent(evcon) == bev)
			conn_admit(h, c, evcon);
		else
			conn_free(c);
		bufferevent_decref(bev);
	}
}

static void yield_listeners(acm_http_t *h)
{
	for (size_t i = 0; i < h->nbound; i++)
		acm_accept_guard_yield(h->guards[i]);
}

/* evhttp accepted a connection and asks for its bufferevent. */
static struct bufferevent *on_new_connection(struct event_base *base, void *arg)
{
	acm_http_t *h = arg;
	struct bufferevent *bev = h->tls ? acm_tls_bev_new(base, h->conf->tls)
	                                 : bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (!bev)
		return NULL;
	acm_conn_t *c = calloc(1, sizeof(*c));
	if (c && !(c->deadline = evtimer_new(base, on_deadline, c))) {
		free(c);
		c = NULL;
	}
	/* Without memory for the record the connection is refused at its
	 * first request. */
	if (c) {
		c->server = h;
		c->bev = bev;
		bufferevent_incref(bev);
		c->hash_next = h->fresh;
		h->fresh = c;
		event_active(h->admit_ev, 0, 0);
	}
	/* Let the connections accepted so far be read before more come. */
	if (++h->batch >= ACCEPT_BATCH)
		yield_listeners(h);
	return bev;
}

static void on_request(struct evhttp_request *req, void *arg)
{
	acm_http_t *h = arg;
	acm_conn_t *c = conn_find(h, evhttp_request_get_connection(req));

	if (!c) {
		acm_req_refuse(h->conf, req, 503, "too_many_connections");
		return;
	}
	conn_unwait(h, c);
	c->served = true;
	evhttp_request_set_on_complete_cb(req, on_reply_sent, c);
	acm_req_handle(&h->env, h->conf, c, req);
}

/* accept() is out of descriptors: the connections waiting longest for
 * their first request give theirs up. */
static unsigned on_out_of_fds(void *arg, int err)
{
	acm_http_t *h = arg;
	unsigned n = 0;
	(void)err;
	while (n < EVICT_WHEN_OUT_OF_FDS && h->wait_head) {
		conn_drop(h, h->wait_head);
		n++;
	}
	acm_http_metrics_closed(h->env.http_metrics, ACM_HTTP_CLOSE_EVICTED, n);
	return n;
}

static void on_accept_failed(void *arg, int err, unsigned shed, bool paused)
{
	acm_http_t *h = arg;
	acm_http_metrics_closed(h->env.http_metrics, ACM_HTTP_CLOSE_SHED, shed);
	acm_log_limited_kv(&accept_log, ACM_LOG_WARNING, "http accept failed",
	                   ACM_KS("error", strerror(err)), ACM_KU("shed", shed),
	                   ACM_KB("paused", paused));
}

/* ---- the HTTP thread's events ------------------------------------------- */

static void on_reload(evutil_socket_t fd, short what, void *arg)
{
	acm_http_t *h = arg;
	(void)fd;
	(void)what;

	pthread_mutex_lock(&h->next_lock);
	acm_http_conf_t *next = h->next;
	h->next = NULL;
	pthread_mutex_unlock(&h->next_lock);
	if (!next)
		return;
	acm_http_conf_unref(h->conf);
	h->conf = next;
	if (h->evhttp)
		apply_limits(h->evhttp, next);
}

static bool past(const struct timespec *deadline)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > deadline->tv_sec ||
	       (now.tv_sec == deadline->tv_sec && now.tv_nsec >= deadline->tv_nsec);
}

static const struct timeval drain_poll = { 0, DRAIN_POLL_US };

/* Waits for the commits in flight, so their replies still go out; then
 * closes every connection and ends the loop. */
static void on_drain(evutil_socket_t fd, short what, void *arg)
{
	acm_http_t *h = arg;
	(void)fd;
	(void)what;

	if (h->env.pending > 0 && !past(&h->drain_deadline)) {
		evtimer_add(h->drain_ev, &drain_poll);
		return;
	}
	evhttp_free(h->evhttp);
	h->evhttp = NULL;
	event_base_loopbreak(h->base);
}

static void on_stop(evutil_socket_t fd, short what, void *arg)
{
	acm_http_t *h = arg;
	(void)fd;
	(void)what;

	for (size_t i = 0; i < h->nbound; i++) {
		acm_accept_guard_free(h->guards[i]);
		h->guards[i] = NULL;
		evhttp_del_accept_socket(h->evhttp, h->bound[i]);
	}
	h->nbound = 0;
	/* The requests waiting for a check are answered now; the drain looks
	 * a poll later, once those replies had a turn of the loop to go out. */
	acm_deleg_env_stop(h->env.deleg);
	acm_prop_env_stop(h->env.prop);
	clock_gettime(CLOCK_MONOTONIC, &h->drain_deadline);
	h->drain_deadline.tv_sec += DRAIN_SECONDS;
	evtimer_add(h->drain_ev, &drain_poll);
}

static void *http_thread(void *arg)
{
	acm_http_t *h = arg;
	event_base_loop(h->base, EVLOOP_NO_EXIT_ON_EMPTY);
	return NULL;
}

/* ---- listening ----------------------------------------------------------- */

static int bind_listener(const acm_listen_t *l, char *err, size_t errlen)
{
	int one = 1;
	int fd = socket(l->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		int e = errno;
		snprintf(err, errlen, "http.listen %s: socket: %s", l->text, strerror(e));
		return -e;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (l->addr.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&l->addr, l->addrlen) != 0 ||
	    listen(fd, LISTEN_BACKLOG) != 0) {
		int e = errno;
		snprintf(err, errlen, "http.listen %s: %s", l->text, strerror(e));
		close(fd);
		return -e;
	}
	return fd;
}

static int open_listeners(acm_http_t *h, const acm_config_t *cfg, char *err, size_t errlen)
{
	h->bound = calloc(cfg->http.listen_count, sizeof(*h->bound));
	h->guards = calloc(cfg->http.listen_count, sizeof(*h->guards));
	if (!h->bound || !h->guards)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->http.listen_count; i++) {
		const acm_listen_t *l = &cfg->http.listen[i];
		int fd = bind_listener(l, err, errlen);
		if (fd < 0)
			return fd;
		h->bound[i] = evhttp_accept_socket_with_handle(h->evhttp, fd);
		if (!h->bound[i]) {
			close(fd);
			snprintf(err, errlen, "http.listen %s: cannot listen", l->text);
			return ACM_ERROR;
		}
		h->nbound = i + 1;
		int rc = acm_accept_guard_new(evhttp_bound_socket_get_listener(h->bound[i]),
		                              on_out_of_fds, on_accept_failed, h, &h->guards[i]);
		if (rc != ACM_OK) {
			snprintf(err, errlen, "http.listen %s: %s", l->text, acm_strerror(rc));
			return rc;
		}
	}
	return ACM_OK;
}

/* ---- life cycle ---------------------------------------------------------- */

static int create_events(acm_http_t *h)
{
	h->reload_ev = event_new(h->base, -1, 0, on_reload, h);
	h->stop_ev = event_new(h->base, -1, 0, on_stop, h);
	h->drain_ev = evtimer_new(h->base, on_drain, h);
	h->admit_ev = event_new(h->base, -1, 0, on_admit, h);
	return h->reload_ev && h->stop_ev && h->drain_ev && h->admit_ev ? ACM_OK : -ENOMEM;
}

static int create_evhttp(acm_http_t *h)
{
	h->evhttp = evhttp_new(h->base);
	if (!h->evhttp)
		return -ENOMEM;
	apply_limits(h->evhttp, h->conf);
	/* Every method libevent knows reaches the router, which answers 405
	 * with an Allow header on a known path (libevent itself would send a
	 * bare 501 page). */
	evhttp_set_allowed_methods(h->evhttp, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
	                                          EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS |
	                                          EVHTTP_REQ_HEAD | EVHTTP_REQ_PATCH |
	                                          EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT);
	/* Read the rest of an oversized body before answering 413, so that a
	 * client still sending it reads the answer instead of a reset. */
	evhttp_set_flags(h->evhttp, EVHTTP_SERVER_LINGERING_CLOSE);
	/* A reply without a body type has none (acme-dns's empty 200 on
	 * /health), not libevent's default text/html. */
	evhttp_set_default_content_type(h->evhttp, NULL);
	evhttp_set_gencb(h->evhttp, on_request, h);
	evhttp_set_bevcb(h->evhttp, on_new_connection, h);
	return ACM_OK;
}

/* Everything but the thread, which must have stopped (or never run). */
static void http_free(acm_http_t *h)
{
	for (size_t i = 0; h->guards && i < h->nbound; i++)
		acm_accept_guard_free(h->guards[i]);
	if (h->evhttp)
		evhttp_free(h->evhttp);
	/* accepted but never admitted (the loop stopped first) */
	for (acm_conn_t *c = h->fresh, *next; c; c = next) {
		next = c->hash_next;
		bufferevent_decref(c->bev);
		conn_free(c);
	}
	if (h->admit_ev)
		event_free(h->admit_ev);
	if (h->reload_ev)
		event_free(h->reload_ev);
	if (h->stop_ev)
		event_free(h->stop_ev);
	if (h->drain_ev)
		event_free(h->drain_ev);
	acm_http_conf_unref(h->conf);
	acm_http_conf_unref(h->next);
	acm_ratelimit_free(h->env.ratelimit);
	acm_http_metrics_free(h->env.http_metrics);
	acm_auth_env_free(h->env.auth);
	acm_deleg_env_free(h->env.deleg);
	acm_prop_env_free(h->env.prop);
	if (h->base)
		event_base_free(h->base);
	pthread_mutex_destroy(&h->next_lock);
	pthread_mutex_destroy(&h->env.report_lock);
	free(h->env.report);
	acm_conn_limit_free(h->limit);
	free(h->guards);
	free(h->bound);
	free(h);
}

int acm_http_start(const acm_config_t *cfg, acm_store_t *store, acm_commit_t *commit,
                   acm_zone_status_t *status, acm_lookup_log_t *lookups,
                   const acm_health_t *health, acm_metrics_t *metrics, acm_http_t **out,
                   char *err, size_t errlen)
{
	acm_http_t *h = calloc(1, sizeof(*h));
	int rc;

	*out = NULL;
	if (errlen)
		err[0] = '\0';
	if (!h)
		return -ENOMEM;
	pthread_mutex_init(&h->next_lock, NULL);
	pthread_mutex_init(&h->env.report_lock, NULL);
	h->env.store = store;
	h->env.commit = commit;
	h->env.status = status;
	h->env.lookups = lookups;
	h->env.health = health;
	h->env.metrics = metrics;
	rc = conf_new(cfg, &h->conf, err, errlen);
	if (rc == ACM_OK) {
		h->tls = h->conf->tls != NULL;
		rc = acm_ratelimit_new(&h->env.ratelimit);
	}
	if (rc == ACM_OK)
		rc = acm_conn_limit_new(h->conf->max_connections, false, &h->limit);
	if (rc == ACM_OK)
		rc = acm_http_metrics_new(&h->env.http_metrics);
	if (rc == ACM_OK)
		rc = acm_auth_env_new(&h->env.auth);
	if (rc == ACM_OK && !(h->env.base = h->base = event_base_new()))
		rc = -ENOMEM;
	if (rc == ACM_OK)
		rc = acm_deleg_env_new(cfg, h->base, store, &h->env.deleg);
	if (rc == ACM_OK)
		rc = acm_prop_env_new(h->base, status, &h->env.prop);
	if (rc == ACM_OK)
		rc = create_events(h);
	if (rc == ACM_OK)
		rc = create_evhttp(h);
	if (rc == ACM_OK)
		rc = open_listeners(h, cfg, err, errlen);
	if (rc == ACM_OK) {
		int e = pthread_create(&h->thread, NULL, http_thread, h);
		rc = e ? -e : ACM_OK;
	}
	if (rc != ACM_OK) {
		if (rc == -ENOMEM || (rc < 0 && !err[0]))
			snprintf(err, errlen, "http: %s", acm_strerror(rc));
		http_free(h);
		return rc;
	}
	h->running = true;
	*out = h;
	return ACM_OK;
}

int acm_http_reload(acm_http_t *h, const acm_config_t *cfg, char *err, size_t errlen)
{
	acm_http_conf_t *c;

	if (!cfg->http.enabled) {
		snprintf(err, errlen, "http: removing the section needs a restart");
		return ACM_ECONFIG;
	}
	int rc = conf_new(cfg, &c, err, errlen);
	if (rc != ACM_OK)
		return rc;
	if ((c->tls != NULL) != h->tls) {
		snprintf(err, errlen, "http.tls: turning TLS on or off needs a restart");
		acm_http_conf_unref(c);
		return ACM_ECONFIG;
	}
	pthread_mutex_lock(&h->next_lock);
	acm_http_conf_t *unused = h->next;    /* never seen by the HTTP thread */
	h->next = c;
	pthread_mutex_unlock(&h->next_lock);
	acm_http_conf_unref(unused);
	event_active(h->reload_ev, 0, 0);
	return ACM_OK;
}

void acm_http_set_report(acm_http_t *h, char *json)
{
	pthread_mutex_lock(&h->env.report_lock);
	char *old = h->env.report;
	h->env.report = json;
	pthread_mutex_unlock(&h->env.report_lock);
	free(old);
}

json_t *acm_req_report(const acm_req_t *r)
{
	acm_req_env_t *env = acm_req_env(r);
	pthread_mutex_lock(&env->report_lock);
	json_t *doc = env->report ? json_loads(env->report, 0, NULL) : NULL;
	pthread_mutex_unlock(&env->report_lock);
	return doc;
}

void acm_http_stop(acm_http_t *h)
{
	if (!h)
		return;
	if (h->running) {
		event_active(h->stop_ev, 0, 0);
		pthread_join(h->thread, NULL);
	}
	if (h->env.pending > 0) {
		/* The committer still holds events in our base and will activate
		 * them: leave it all allocated rather than risk a use after free. */
		acm_err("http: %u requests still waiting for the store after %d s; not freeing them",
		        h->env.pending, DRAIN_SECONDS);
		return;
	}
	http_free(h);
}
