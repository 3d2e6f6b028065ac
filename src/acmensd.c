/* SPDX-License-Identifier: ISC */
/*
 * acmensd: read the configuration, open the store, start the DNS workers,
 * the notifier (NOTIFY and propagation status for the secondaries) and
 * (with an http section) group commit and the HTTP API, then wait for
 * signals: SIGTERM/SIGINT stop, SIGHUP reloads the configuration (static
 * records, log level, TTLs, API settings and certificate) without dropping
 * queries. With dnssec.enabled, the keys' generation in the store is polled
 * every second and the zone rebuilt when acmensctl changed the keys.
 */
#include <errno.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif
#include "dnsd/notify.h"
#include "dnsd/server.h"
#include "httpapi/http.h"
#include "lib/clock.h"
#include "lib/store/commit.h"
#include "lib/conf/config.h"
#include "lib/conf/preflight.h"
#include "lib/error.h"
#include "lib/log.h"
#include "lib/rt/metrics.h"
#include "lib/store/store.h"
#include "lib/store/store_dnssec.h"
#include "lib/store/store_file.h"
#include "lib/conf/zone.h"
#include "lib/rt/zone_status.h"
#include "src/reload_report.h"
#include "src/zone_keys.h"

typedef struct {
	const char *config_path;
	acm_config_t *cfg;              /* as started: what is bound and built */
	acm_config_t *loaded;           /* the file as last reloaded, NULL before */
	acm_reload_report_t report;     /* what the last reload applied and left */
	acm_server_t *server;
	acm_zone_status_t *status;      /* written by the notifier, read by the API */
	acm_notifier_t *notifier;
	acm_commit_t *commit;           /* with the HTTP API or dynamic updates */
	acm_http_t *http;
	acm_metrics_t *metrics;         /* written by the workers, read by the API */
	acm_store_t *store;
	struct event_base *base;
	struct event *store_failed;     /* made active by the store's failure hook */
	struct event *key_poll;         /* every second: did the DNSSEC keys change? */
	uint64_t key_generation;        /* of the keys the served zone was built with */
	int exit_status;                /* once the loop ends */
} daemon_t;

/* Static records live in the configuration; when they change, the serial
 * must move so secondaries transfer again. */
static void sync_static(acm_store_t *store, const acm_zone_t *zone)
{
	bool changed;
	uint32_t serial;
	_Static_assert(ACM_ZONE_DIGEST_LEN == ACM_STATIC_DIGEST_LEN, "the store keeps the zone's digest");
	int rc = acm_store_sync_static(store, acm_zone_digest(zone), &changed, &serial);
	if (rc != ACM_OK)
		acm_err("cannot record the static zone's state: %s", acm_strerror(rc));
	else if (changed)
		acm_notice("static records changed: serial is now %u", serial);
}

/* Tell systemd (Type=notify) how far we are: READY=1, RELOADING=1,
 * STOPPING=1. A no-op without libsystemd or outside systemd (no
 * NOTIFY_SOCKET in the environment). */
static void notify_systemd(const char *state)
{
#ifdef HAVE_LIBSYSTEMD
	sd_notify(0, state);
#else
	(void)state;
#endif
}

/* log.level, log.format and log.target, at start and on reload. */
static void apply_log(const acm_config_t *cfg)
{
	acm_log_set_level(cfg->log_level);
	acm_log_set_format(cfg->log_format);
	acm_log_set_target(cfg->log_target, "acmensd");
}

/* Seconds between group commit's sweeps of expired TXT values. */
#define PURGE_INTERVAL 60

static void usage(FILE *f)
{
	fprintf(f, "usage: acmensd -c FILE\n"
	           "  -c, --config FILE   configuration file (YAML)\n"
	           "  -h, --help          this text\n"
	           "  -V, --version       print the version\n");
}

/* Only one acmensd may serve a store: hold an exclusive lock on a file in
 * it for the life of the process (the kernel drops it if we die). */
static int lock_store(const char *dir, int *fd_out)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/acmensd.lock", dir);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;
		close(fd);
		return e == EWOULDBLOCK ? ACM_ELOCKED : -e;
	}
	char pid[32];
	int n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == 0 && write(fd, pid, (size_t)n) != n)
		acm_warn("cannot write pid to %s", path);
	*fd_out = fd;
	return ACM_OK;
}

/* The reload report to the admin API, when it runs. */
static void publish_report(daemon_t *d)
{
	if (d->http)
		acm_http_set_report(d->http, acm_reload_report_text(&d->report));
}

/* A new zone to the workers, its static digest to the store (the serial
 * moves when it changed), and the keys' generation it was built from. */
static void publish_zone(daemon_t *d, acm_zone_t *zone, uint64_t key_generation)
{
	acm_server_set_zone(d->server, zone);
	sync_static(d->store, zone);
	d->key_generation = key_generation;
}

static void reload(daemon_t *d)
{
	char err[ACM_CONFIG_ERR_MAX];
	acm_config_t *cfg = NULL;
	acm_zone_t *zone = NULL;
	uint64_t generation = 0;
	int rc = acm_config_load(d->config_path, &cfg, err, sizeof(err));
	if (rc == ACM_OK)
		rc = acm_zone_keys_build(cfg, d->store, &zone, &generation, err, sizeof(err));
	/* last of what can fail, so a failure leaves everything as it was */
	if (rc == ACM_OK && d->http && cfg->http.enabled)
		rc = acm_http_reload(d->http, cfg, err, sizeof(err));
	if (rc != ACM_OK) {
		acm_reload_report_failed(&d->report, d->config_path, err);
		publish_report(d);
		acm_zone_unref(zone);
		acm_config_free(cfg);
		return;
	}
	/* d->cfg stays what was started: what a reload cannot change */
	acm_reload_report_compare(&d->report, d->cfg, d->loaded ? d->loaded : d->cfg, cfg);
	apply_log(cfg);
	acm_store_set_max_accounts(d->store, cfg->store_max_accounts);
	publish_zone(d, zone, generation);
	if (acm_notifier_reload(d->notifier, cfg) != ACM_OK)
		acm_warn("reload: transfer.notify unchanged: out of memory");
	acm_zone_unref(zone);
	acm_reload_report_done(&d->report, d->config_path);
	publish_report(d);
	acm_config_free(d->loaded);
	d->loaded = cfg;
}

/* The keys changed (acmensctl dnssec rollover, keygen): the zone again,
 * with the same configuration, so its DNSKEY set and serial follow. */
static void on_key_poll(evutil_socket_t fd, short what, void *arg)
{
	daemon_t *d = arg;
	const acm_config_t *cfg = d->loaded ? d->loaded : d->cfg;
	char err[ACM_CONFIG_ERR_MAX];
	uint64_t generation;
	acm_zone_t *zone = NULL;
	(void)fd;
	(void)what;
	if (!cfg->dnssec.enabled || acm_store_dnssec_generation(d->store, &generation) != ACM_OK ||
	    generation == d->key_generation)
		return;
	int rc = acm_zone_keys_build(cfg, d->store, &zone, &generation, err, sizeof(err));
	if (rc != ACM_OK) {
		static acm_log_limit_t failed = ACM_LOG_LIMIT_INIT(60);
		const acm_kv_t kv[] = { ACM_KS("error", err) };
		acm_log_limited_fields(&failed, ACM_LOG_WARNING,
		                       "dnssec keys changed but the zone cannot be built; serving the old keys",
		                       kv, 1);
		return;
	}
	publish_zone(d, zone, generation);
	acm_zone_unref(zone);
	acm_log_kv(ACM_LOG_NOTICE, "dnssec keys changed: zone rebuilt", ACM_KU("generation", generation));
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	daemon_t *d = arg;
	(void)what;
	if (sig == SIGHUP) {
		notify_systemd("RELOADING=1");
		reload(d);
		notify_systemd("READY=1");
		return;
	}
	notify_systemd("STOPPING=1");
	acm_log_kv(ACM_LOG_NOTICE, "stopping", ACM_KS("signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"));
	event_base_loopbreak(d->base);
}

static const struct timeval STORE_FAILED_GRACE = { 0, 250000 };

/* Any thread: LMDB declared the environment unusable (see
 * acm_store_failed). Only the main loop may stop the daemon. */
static void store_failure_hook(void *arg)
{
	daemon_t *d = arg;
	event_active(d->store_failed, 0, 0);
}

/* Readers and writers alike fail from now on, and a new environment needs
 * every one of them gone: stop in order and exit non-zero, so that the
 * service manager starts acmensd again on the file, which holds the last
 * committed state. The loop runs a moment longer first, so that the
 * writes in flight get their 503 rather than a closed connection. */
static void on_store_failed(evutil_socket_t fd, short what, void *arg)
{
	daemon_t *d = arg;
	(void)fd;
	(void)what;
	notify_systemd("STOPPING=1");
	int why = acm_store_failed_code(d->store);
	acm_log_kv(ACM_LOG_ERROR,
	           why == ACM_EREMAP ? "store grown by another process; exiting to map it whole"
	                             : "store failed after a write error; exiting to reopen it",
	           ACM_KS("store", d->cfg->store_path), ACM_KS("error", acm_strerror(why)));
	d->exit_status = 1;
	event_base_loopexit(d->base, &STORE_FAILED_GRACE);
}

static int parse_args(int argc, char **argv, daemon_t *d)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	while ((c = getopt_long(argc, argv, "c:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'c': d->config_path = optarg; break;
		case 'h': usage(stdout); exit(0);
		case 'V': printf("acmensd %s\n", PACKAGE_VERSION); exit(0);
		default: usage(stderr); return 1;
		}
	}
	if (!d->config_path || optind != argc) {
		usage(stderr);
		return 1;
	}
	return 0;
}

/* Every committed transaction, on the committer thread: its figures to
 * the metrics, and the notifier woken to announce the new serial (it also
 * polls the store, for commits made by acmensctl). */
static void commit_observed(void *arg, size_t ops, uint64_t ns)
{
	daemon_t *d = arg;
	acm_metrics_commit_observe(d->metrics, ops, ns);
	acm_zone_status_committed(d->status);
}

/* Group commit, for the API and for dynamic updates, before the DNS
 * workers that submit updates to it. */
static int start_commit(daemon_t *d, acm_store_t *store, char *err, size_t errlen)
{
	if (!d->cfg->http.enabled && !d->cfg->update.enabled)
		return ACM_OK;
	/* The registry keeps the transactions' histograms; the notifier
	 * hears of each commit at once. */
	acm_commit_opts_t co = { .purge_interval = PURGE_INTERVAL,
	                         .observe = commit_observed,
	                         .observe_arg = d };
	int rc = acm_commit_start(store, &co, &d->commit);
	if (rc != ACM_OK)
		snprintf(err, errlen, "cannot start group commit: %s", acm_strerror(rc));
	return rc;
}

/* The API on top of group commit; logs its own failure. */
static int start_http(daemon_t *d, acm_store_t *store)
{
	char err[ACM_CONFIG_ERR_MAX] = "";
	int rc = acm_http_start(d->cfg, store, d->commit, d->status, acm_server_lookups(d->server),
	                        acm_server_health(d->server), d->metrics, &d->http, err,
	                        sizeof(err));
	if (rc != ACM_OK) {
		acm_err("cannot start the HTTP API: %s", err[0] ? err : acm_strerror(rc));
		return rc;
	}
	acm_notice("HTTP API%s on %zu addresses", d->cfg->http.tls_cert ? " (TLS)" : "",
	           d->cfg->http.listen_count);
	publish_report(d);
	return ACM_OK;
}

/* The notifier that fills the propagation status table; logs its own
 * failure. */
static int start_notifier(daemon_t *d, acm_store_t *store)
{
	char err[ACM_CONFIG_ERR_MAX] = "";
	int rc = acm_notifier_start(d->cfg, store, d->status, &d->notifier, err, sizeof(err));
	if (rc != ACM_OK)
		acm_err("cannot start the notifier: %s", err[0] ? err : acm_strerror(rc));
	return rc;
}

static void stop_notifier(daemon_t *d)
{
	acm_notifier_stop(d->notifier);
	d->notifier = NULL;
	acm_zone_status_free(d->status);
	d->status = NULL;
}

static int run(daemon_t *d)
{
	char err[ACM_CONFIG_ERR_MAX] = "";
	acm_store_t *store = NULL;
	acm_zone_t *zone = NULL;
	int lock_fd = -1;
	acm_store_opts_t so = { .mapsize = d->cfg->store_max_size,
	                        .max_values = d->cfg->txt_max_values,
	                        .journal_max = d->cfg->transfer.journal_max_entries,
	                        .journal_max_age = d->cfg->transfer.journal_max_age,
	                        .audit_max = d->cfg->audit_max_entries,
	                        .audit_max_age = d->cfg->audit_max_age,
	                        .max_accounts = d->cfg->store_max_accounts };
	acm_store_fault_t fault;
	acm_expiry_now();      /* the expiry clock starts with the daemon */
	int rc = acm_store_open_ex(d->cfg->store_path, d->cfg->apex, &so, &store, &fault);
	if (rc != ACM_OK) {
		char why[1024];
		acm_err("%s", acm_store_fault_text(&fault, rc, d->cfg->store_path, why, sizeof(why)));
		return 1;
	}
	rc = lock_store(d->cfg->store_path, &lock_fd);
	if (rc != ACM_OK) {
		acm_err("cannot lock store %s: %s", d->cfg->store_path,
		        rc == ACM_ELOCKED ? "another acmensd is serving this store" : acm_strerror(rc));
		acm_store_close(store);
		return 1;
	}
	d->store_failed = event_new(d->base, -1, 0, on_store_failed, d);
	if (!d->store_failed) {
		acm_err("cannot start: %s", acm_strerror(-ENOMEM));
		acm_store_close(store);
		close(lock_fd);
		return 1;
	}
	acm_store_on_failure(store, store_failure_hook, d);
	d->store = store;
	rc = acm_zone_keys_build(d->cfg, store, &zone, &d->key_generation, err, sizeof(err));
	/* The status table before group commit, which tells it of commits. */
	if (rc == ACM_OK)
		rc = acm_zone_status_new(&d->status);
	if (rc == ACM_OK) {
		sync_static(store, zone);
		rc = start_commit(d, store, err, sizeof(err));
	}
	if (rc == ACM_OK)
		rc = acm_server_start(d->cfg, store, zone, d->commit, d->metrics, &d->server, err,
		                      sizeof(err));
	acm_zone_unref(zone);
	if (rc != ACM_OK) {
		acm_err("cannot start: %s", err[0] ? err : acm_strerror(rc));
		acm_commit_stop(d->commit);
		stop_notifier(d);
		acm_store_close(store);
		close(lock_fd);
		return 1;
	}
	if (start_notifier(d, store) != ACM_OK ||
	    (d->cfg->http.enabled && start_http(d, store) != ACM_OK)) {
		acm_http_stop(d->http);
		acm_server_close_updates(d->server);
		acm_commit_stop(d->commit);
		stop_notifier(d);
		acm_server_stop(d->server);
		acm_store_close(store);
		close(lock_fd);
		return 1;
	}
	struct event *sigs[3];
	int signums[3] = { SIGTERM, SIGINT, SIGHUP };
	for (int i = 0; i < 3; i++) {
		sigs[i] = evsignal_new(d->base, signums[i], on_signal, d);
		event_add(sigs[i], NULL);
	}
	char apex[ACM_DNAME_TXT_MAX];
	acm_dname_to_text(d->cfg->apex, apex);
	acm_log_kv(ACM_LOG_NOTICE, "serving", ACM_KS("version", PACKAGE_VERSION), ACM_KS("zone", apex),
	           ACM_KU("workers", acm_server_workers(d->server)),
	           ACM_KU("addresses", d->cfg->listen_count), ACM_KB("http", d->http != NULL));
	static const struct timeval KEY_POLL = { 1, 0 };
	d->key_poll = event_new(d->base, -1, EV_PERSIST, on_key_poll, d);
	if (d->key_poll)
		event_add(d->key_poll, &KEY_POLL);
	notify_systemd("READY=1");
	event_base_dispatch(d->base);
	if (d->key_poll)
		event_free(d->key_poll);
	/* Shutting down: a second SIGTERM (an impatient supervisor) must not
	 * kill the process halfway through the orderly stop. Removing the
	 * events puts back the default action, so hold the signals off across
	 * that and ignore them from then on. */
	sigset_t stop_set;
	sigemptyset(&stop_set);
	for (int i = 0; i < 3; i++)
		sigaddset(&stop_set, signums[i]);
	pthread_sigmask(SIG_BLOCK, &stop_set, NULL);
	for (int i = 0; i < 3; i++) {
		event_free(sigs[i]);
		signal(signums[i], SIG_IGN);
	}
	/* No new writes first: the HTTP API drains and stops, the DNS
	 * workers stop submitting updates (they keep running, to send the
	 * answers of those submitted). Group commit then finishes what it
	 * holds and goes; only then may the workers, and the store, go. */
	acm_http_stop(d->http);
	acm_server_close_updates(d->server);
	if (d->commit)
		acm_commit_stop(d->commit);
	stop_notifier(d);
	acm_server_stop(d->server);
	acm_store_close(store);
	close(lock_fd);
	acm_notice("stopped");
	return d->exit_status;
}

int main(int argc, char **argv)
{
	daemon_t d = { 0 };
	if (parse_args(argc, argv, &d) != 0)
		return 1;
	char err[ACM_CONFIG_ERR_MAX];
	int rc = acm_config_load(d.config_path, &d.cfg, err, sizeof(err));
	if (rc != ACM_OK) {
		acm_err("%s", rc == ACM_ECONFIG ? err : acm_strerror(rc));
		if (rc != ACM_ECONFIG)
			acm_err("cannot read %s", d.config_path);
		return 1;
	}
	apply_log(d.cfg);
	/* what acmensctl check-config checks, before the store or a socket */
	if (acm_preflight(d.cfg, err, sizeof(err)) != ACM_OK) {
		acm_err("%s", err);
		acm_config_free(d.cfg);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	evthread_use_pthreads();
	d.base = event_base_new();
	rc = d.base && acm_metrics_new((uint64_t)time(NULL), &d.metrics) == ACM_OK &&
	             acm_reload_report_init(&d.report, d.config_path) == ACM_OK
	             ? run(&d)
	             : 1;
	acm_metrics_free(d.metrics);
	if (d.store_failed)
		event_free(d.store_failed);
	if (d.base)
		event_base_free(d.base);
	/* Freeing the base put back the signals' default actions; the exit
	 * (and a sanitizer's leak check) may still take a moment. */
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	acm_config_free(d.cfg);
	acm_config_free(d.loaded);
	acm_reload_report_free(&d.report);
	libevent_global_shutdown();
	return rc;
}
