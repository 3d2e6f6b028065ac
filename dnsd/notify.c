/* SPDX-License-Identifier: ISC */
/*
 * The notifier thread. It reads the store's serial when this process
 * commits (acm_zone_status_committed) and every TICK_MS (for commits made
 * by acmensctl). A change (or the first read, so secondaries catch up
 * after our restart) is announced at once when the last announcement is
 * COALESCE_MS old, else when it is: one NOTIFY per target announces
 * whatever the serial is then, so a burst of commits costs a NOTIFY per
 * COALESCE_MS at most, and a lone commit goes out at once.
 * Each is resent with doubling delays until the target answers NOERROR
 * with the same ID from the same address, or NOTIFY_TRIES ran out. Every
 * PROBE_MS, and right after an acknowledgement, each target is asked for
 * its SOA serial: that is the propagation status. After an announcement a
 * target that is behind is asked sooner: PROBE_FAST_MS after the NOTIFY,
 * then at doubling gaps up to PROBE_FAST_MAX_MS for PROBE_FAST_SPAN_MS
 * (a secondary may wait a while before it transfers), then doubling up
 * to PROBE_MS; once it answers the new serial, back to PROBE_MS. So a
 * writer waiting for the secondaries (acm_zone_status_want, which also
 * cuts the coalescing window to WANT_COALESCE_MS) learns within a gap when
 * they serve it, at a bounded cost: a query per gap per target, and never
 * two to a target within PROBE_FAST_MS, however often commits are
 * announced (an acknowledgement's probe waits its turn). Each
 * announcement is a round, logged once every target acknowledged, refused
 * or never answered.
 *
 * Everything but acm_notifier_reload runs on the thread; reload hands a
 * new target list over under a mutex and wakes the loop.
 */
#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dnsd/notify.h"
#include "lib/conf/cidr.h"
#include "lib/clock.h"
#include "lib/dns/serial.h"
#include "lib/error.h"
#include "lib/log.h"
#include "lib/rt/soa_probe.h"
#include "lib/dns/tsig.h"
#include "lib/dns/wire.h"

#define TICK_MS 100
#define COALESCE_MS 200
#define NOTIFY_TRIES 10
#define RETRY_FIRST_MS 1000
#define RETRY_MAX_MS 60000
#define PROBE_MS 5000
#define PROBE_FAST_MS 25
#define PROBE_FAST_MAX_MS 100
#define PROBE_FAST_SPAN_MS 10000
#define WANT_COALESCE_MS 5
#define MSG_MAX 1024        /* a NOTIFY with its TSIG; replies we read */

typedef struct {
	acm_listen_t addr;
	bool has_key;
	acm_tsig_key_t key;
	/* the NOTIFY in flight */
	bool pending;
	uint32_t serial;
	uint16_t id;
	unsigned tries;
	uint64_t next_ms;
	uint8_t mac[ACM_TSIG_MAC_MAX];   /* of our request, which the reply's covers */
	size_t mac_len;
	/* SOA probes; the previous ID still counts, for an answer slower
	 * than the gap between two probes */
	uint16_t probe_id, prev_probe_id;
	uint64_t probe_ms;
	uint64_t probe_sent_ms;          /* the last one; the next is PROBE_FAST_MS on */
	uint64_t probe_gap;
	uint64_t fast_until;             /* gaps stay short until then */
} target_t;

typedef struct {
	size_t count;
	target_t *t;
} targets_t;

/* One announcement to every target, for its log line. */
typedef struct {
	bool open;
	uint32_t serial;
	size_t targets, acked, refused, unanswered;
	uint64_t start_ms;
} round_t;

struct acm_notifier {
	acm_store_t *store;
	acm_zone_status_t *status;
	uint8_t apex[ACM_DNAME_MAX];
	pthread_t thread;
	bool started;
	struct event_base *base;
	struct event *tick, *reload_ev, *stop_ev, *want_ev, *commit_ev;
	struct event *sock_ev[2];
	int fd[2];                       /* IPv4, IPv6 */
	targets_t targets;
	pthread_mutex_t lock;
	targets_t *next;                 /* from reload, taken on the thread */
	bool have_serial;
	uint32_t serial;
	uint64_t dirty_ms;               /* 0: nothing to announce */
	uint64_t announced_ms;           /* the last announcement (0: none yet) */
	uint64_t tick_ms;                /* when the tick is due */
	round_t round;
};

/* IDs are the only thing between a spoofed reply and a false "acked". */
static uint16_t random_id(void)
{
	uint16_t id;
	if (getrandom(&id, sizeof(id), 0) != sizeof(id))
		id = (uint16_t)(acm_mono_ms() * 2654435761u >> 7);
	return id;
}

/* ---- targets from the configuration ---------------------------------- */

static const acm_tsig_key_t *config_key(const acm_config_t *cfg, const uint8_t *name, size_t len)
{
	for (size_t i = 0; i < cfg->tsig_count; i++)
		if (cfg->tsig[i].name_len == len && memcmp(cfg->tsig[i].name, name, len) == 0)
			return &cfg->tsig[i];
	return NULL;
}

/* The key of the first transfer.allow entry with a key whose address
 * range holds the target: the secondary will expect that key. */
static void target_key(const acm_config_t *cfg, target_t *t)
{
	for (size_t i = 0; i < cfg->transfer.allow_count; i++) {
		const struct acm_transfer_allow *a = &cfg->transfer.allow[i];
		if (!a->has_key || (a->has_address &&
		                    !acm_cidr_match(&a->address, (const struct sockaddr *)&t->addr.addr)))
			continue;
		const acm_tsig_key_t *k = config_key(cfg, a->key, a->key_len);
		if (k) {
			t->key = *k;
			t->has_key = true;
			return;
		}
	}
}

static void targets_free(targets_t *ts)
{
	if (!ts)
		return;
	free(ts->t);
	free(ts);
}

static targets_t *targets_new(const acm_config_t *cfg)
{
	targets_t *ts = calloc(1, sizeof(*ts));
	size_t n = cfg->transfer.notify_count;
	if (ts)
		ts->t = calloc(n ? n : 1, sizeof(*ts->t));
	if (!ts || !ts->t) {
		targets_free(ts);
		return NULL;
	}
	ts->count = n;
	for (size_t i = 0; i < n; i++) {
		ts->t[i].addr = cfg->transfer.notify[i];
		target_key(cfg, &ts->t[i]);
	}
	return ts;
}

static int status_targets(acm_notifier_t *n, const targets_t *ts)
{
	const char **names = calloc(ts->count ? ts->count : 1, sizeof(*names));
	if (!names)
		return -ENOMEM;
	for (size_t i = 0; i < ts->count; i++)
		names[i] = ts->t[i].addr.text;
	int rc = acm_zone_status_set_targets(n->status, names, ts->count);
	free(names);
	return rc;
}

/* ---- rounds --------------------------------------------------------------- */

/* The round's line, once every target is done with it, or when a new one
 * replaces it (superseded: those still waiting get the new serial). */
static void round_log(acm_notifier_t *n)
{
	round_t *r = &n->round;
	size_t done = r->acked + r->refused + r->unanswered;
	acm_log_kv(ACM_LOG_INFO, "notify round", ACM_KU("serial", r->serial),
	           ACM_KU("secondaries", r->targets), ACM_KU("acked", r->acked),
	           ACM_KU("refused", r->refused), ACM_KU("unanswered", r->unanswered),
	           ACM_KU("superseded", r->targets - done),
	           ACM_KU("ms", acm_mono_ms() - r->start_ms));
	r->open = false;
}

/* One target is done with the round: its counter is one of the round's. */
static void round_done(acm_notifier_t *n, size_t *counter)
{
	(*counter)++;
	if (n->round.open &&
	    n->round.acked + n->round.refused + n->round.unanswered >= n->round.targets)
		round_log(n);
}

static void round_open(acm_notifier_t *n, uint64_t now)
{
	if (n->round.open)
		round_log(n);
	n->round = (round_t){ .open = n->targets.count > 0, .serial = n->serial,
	                      .targets = n->targets.count, .start_ms = now };
}

/* ---- sending ------------------------------------------------------------- */

static int target_fd(const acm_notifier_t *n, const target_t *t)
{
	return n->fd[t->addr.addr.ss_family == AF_INET6 ? 1 : 0];
}

static void send_to(const acm_notifier_t *n, const target_t *t, const uint8_t *msg, size_t len)
{
	/* A lost datagram is what the retries are for. */
	(void)sendto(target_fd(n, t), msg, len, MSG_DONTWAIT,
	             (const struct sockaddr *)&t->addr.addr, t->addr.addrlen);
}

static void send_notify(acm_notifier_t *n, size_t i, uint64_t now)
{
	target_t *t = &n->targets.t[i];
	uint8_t msg[MSG_MAX];
	int len = acm_soa_message(msg, sizeof(msg), t->id, ACM_OPCODE_NOTIFY, n->apex);
	if (len > 0 && t->has_key)
		len = acm_tsig_sign(msg, (size_t)len, sizeof(msg), &t->key, NULL, 0, false,
		                    (uint64_t)time(NULL), t->id, ACM_TSIG_OK, t->mac, &t->mac_len);
	if (len < 0) {
		acm_err("notify %s: cannot build the message: %s", t->addr.text, acm_strerror(len));
		t->pending = false;
		round_done(n, &n->round.unanswered);
		return;
	}
	send_to(n, t, msg, (size_t)len);
	t->tries++;
	uint64_t delay = RETRY_FIRST_MS << (t->tries - 1 < 6 ? t->tries - 1 : 6);
	t->next_ms = now + (delay < RETRY_MAX_MS ? delay : RETRY_MAX_MS);
	acm_zone_status_notify_sent(n->status, i, t->serial, t->tries, (uint64_t)time(NULL));
}

static void send_probe(acm_notifier_t *n, target_t *t, uint64_t now)
{
	uint8_t msg[ACM_SOA_MSG_MAX];
	t->prev_probe_id = t->probe_id;
	t->probe_id = random_id();
	int len = acm_soa_message(msg, sizeof(msg), t->probe_id, ACM_OPCODE_QUERY, n->apex);
	if (len > 0)
		send_to(n, t, msg, (size_t)len);
	t->probe_sent_ms = now;
	if (t->probe_gap == 0 || t->probe_gap > PROBE_MS)
		t->probe_gap = PROBE_MS;
	t->probe_ms = now + t->probe_gap;
	uint64_t cap = now < t->fast_until ? PROBE_FAST_MAX_MS : PROBE_MS;
	t->probe_gap = t->probe_gap * 2 < cap ? t->probe_gap * 2 : cap;
}

/* The target answered serial to a probe: once it is current, back to the
 * slow pace. */
static void probe_answered(acm_notifier_t *n, target_t *t, uint32_t serial)
{
	if (!n->have_serial || !acm_serial_ge(serial, n->serial))
		return;
	uint64_t now = acm_mono_ms();
	t->probe_gap = PROBE_MS;
	t->fast_until = 0;
	if (t->probe_ms < now + PROBE_MS)
		t->probe_ms = now + PROBE_MS;
}

/* A new serial to announce: a fresh NOTIFY (new ID, no tries) per target. */
static void announce(acm_notifier_t *n, uint64_t now)
{
	round_open(n, now);
	for (size_t i = 0; i < n->targets.count; i++) {
		target_t *t = &n->targets.t[i];
		t->pending = true;
		t->serial = n->serial;
		t->id = random_id();
		t->tries = 0;
		t->next_ms = now;
		t->probe_gap = PROBE_FAST_MS;
		t->probe_ms = now + PROBE_FAST_MS;
		t->fast_until = now + PROBE_FAST_SPAN_MS;
	}
	n->dirty_ms = 0;
	n->announced_ms = now;
}

static void retry_or_give_up(acm_notifier_t *n, size_t i, uint64_t now)
{
	target_t *t = &n->targets.t[i];
	if (!t->pending || now < t->next_ms)
		return;
	if (t->tries >= NOTIFY_TRIES) {
		acm_log_kv(ACM_LOG_WARNING, "notify unanswered; it will catch up at its SOA refresh",
		           ACM_KS("secondary", t->addr.text), ACM_KU("serial", t->serial),
		           ACM_KU("tries", t->tries));
		t->pending = false;
		round_done(n, &n->round.unanswered);
		return;
	}
	send_notify(n, i, now);
}

/* ---- the loop ------------------------------------------------------------- */

static void read_serial(acm_notifier_t *n, uint64_t now)
{
	uint32_t serial;
	if (acm_store_serial(n->store, &serial) != ACM_OK)
		return;   /* a store hiccup: the next tick tries again */
	if (n->have_serial && serial == n->serial)
		return;
	n->serial = serial;
	n->have_serial = true;
	acm_zone_status_set_serial(n->status, serial);
	if (n->dirty_ms == 0) {
		uint64_t next = n->announced_ms ? n->announced_ms + COALESCE_MS : now;
		n->dirty_ms = next > now ? next : now;
	}
}

static uint64_t earlier(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* The next tick: TICK_MS from now, or sooner when something is due. Only
 * the tick itself moves it later, so replies arriving often (or a flood of
 * forged ones) cannot hold off reading the store's serial. */
static void schedule(acm_notifier_t *n, uint64_t now, bool from_tick)
{
	uint64_t next = now + TICK_MS;
	if (n->dirty_ms != 0)
		next = earlier(next, n->dirty_ms);
	for (size_t i = 0; i < n->targets.count; i++) {
		const target_t *t = &n->targets.t[i];
		next = earlier(next, t->probe_ms);
		if (t->pending)
			next = earlier(next, t->next_ms);
	}
	if (!from_tick && next >= n->tick_ms)
		return;
	n->tick_ms = next;
	uint64_t ms = next > now ? next - now : 1;
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000 * 1000) };
	event_add(n->tick, &tv);
}

static void run_due(acm_notifier_t *n, uint64_t now)
{
	read_serial(n, now);
	if (n->dirty_ms != 0 && now >= n->dirty_ms)
		announce(n, now);
	for (size_t i = 0; i < n->targets.count; i++) {
		retry_or_give_up(n, i, now);
		if (now >= n->targets.t[i].probe_ms)
			send_probe(n, &n->targets.t[i], now);
	}
	schedule(n, now, true);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	run_due(arg, acm_mono_ms());
}

/* A writer waits for the secondaries: its commit is durable, so the store
 * has its serial now; announce it almost at once. */
static void on_want(evutil_socket_t fd, short what, void *arg)
{
	acm_notifier_t *n = arg;
	uint64_t now = acm_mono_ms();
	(void)fd;
	(void)what;
	read_serial(n, now);
	if (n->dirty_ms != 0)
		n->dirty_ms = earlier(n->dirty_ms, now + WANT_COALESCE_MS);
	run_due(n, now);
}

/* This process committed: the serial to read is there now. */
static void on_commit(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	run_due(arg, acm_mono_ms());
}

/* The want hook, on the writer's thread. */
static void wake_for_want(void *arg)
{
	acm_notifier_t *n = arg;
	event_active(n->want_ev, 0, 0);
}

/* The commit hook, on the committer's thread. */
static void wake_for_commit(void *arg)
{
	acm_notifier_t *n = arg;
	event_active(n->commit_ev, 0, 0);
}

static bool same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
	return x->sin6_port == y->sin6_port &&
	       memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
}

/* A signed NOTIFY wants a reply signed with the same key over our MAC
 * (RFC 8945 5.3); anything else could be forged by whoever guessed the ID. */
static bool reply_signed_ok(const target_t *t, const uint8_t *msg, size_t len,
                            const acm_soa_reply_t *r)
{
	acm_tsig_rr_t rr;
	if (!t->has_key)
		return true;
	if (!r->has_additional || acm_tsig_parse(msg, len, r->last_rr_offset, &rr) != ACM_OK)
		return false;
	return acm_tsig_verify_chained(msg, len, &rr, &t->key, t->mac, t->mac_len, false,
	                               (uint64_t)time(NULL)) == ACM_TSIG_OK;
}

static void notify_reply(acm_notifier_t *n, size_t i, const uint8_t *msg, size_t len,
                         const acm_soa_reply_t *r)
{
	target_t *t = &n->targets.t[i];
	if (!t->pending || r->id != t->id || !reply_signed_ok(t, msg, len, r))
		return;
	t->pending = false;
	if (r->rcode != 0) {
		acm_log_kv(ACM_LOG_WARNING, "notify refused; not retrying",
		           ACM_KS("secondary", t->addr.text), ACM_KU("serial", t->serial),
		           ACM_KI("rcode", r->rcode));
		round_done(n, &n->round.refused);
		return;
	}
	acm_log_kv(ACM_LOG_DEBUG, "notify acknowledged", ACM_KS("secondary", t->addr.text),
	           ACM_KU("serial", t->serial), ACM_KU("tries", t->tries));
	acm_zone_status_notify_acked(n->status, i, t->serial);
	round_done(n, &n->round.acked);
	if (t->probe_gap > PROBE_FAST_MS * 2)
		t->probe_gap = PROBE_FAST_MS * 2;
	/* See what it has soon, but not sooner than PROBE_FAST_MS after the
	 * last probe: writes that commit every few milliseconds, each waited
	 * for, are as many announcements and acknowledgements, and must not
	 * become as many probes. */
	uint64_t now = acm_mono_ms(), soonest = t->probe_sent_ms + PROBE_FAST_MS;
	if (now >= soonest)
		send_probe(n, t, now);
	else
		t->probe_ms = earlier(t->probe_ms, soonest);
}

static void handle_reply(acm_notifier_t *n, const struct sockaddr_storage *from,
                         const uint8_t *msg, size_t len)
{
	acm_soa_reply_t r;
	if (acm_soa_reply_parse(msg, len, n->apex, &r) != ACM_OK)
		return;
	for (size_t i = 0; i < n->targets.count; i++) {
		target_t *t = &n->targets.t[i];
		if (!same_addr(from, &t->addr.addr))
			continue;
		if (r.opcode == ACM_OPCODE_NOTIFY)
			notify_reply(n, i, msg, len, &r);
		else if (r.opcode == ACM_OPCODE_QUERY && r.has_serial && r.rcode == 0 &&
		         (r.id == t->probe_id || r.id == t->prev_probe_id)) {
			acm_zone_status_seen(n->status, i, r.serial, (uint64_t)time(NULL));
			probe_answered(n, t, r.serial);
		}
	}
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	acm_notifier_t *n = arg;
	uint8_t buf[MSG_MAX * 4];
	(void)what;
	for (int k = 0; k < 64; k++) {
		struct sockaddr_storage from;
		socklen_t fromlen = sizeof(from);
		ssize_t got = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from,
		                       &fromlen);
		if (got < 0)
			break;
		handle_reply(n, &from, buf, (size_t)got);
	}
	schedule(n, acm_mono_ms(), false);   /* an acknowledgement moved a probe closer */
}

static void take_reload(evutil_socket_t fd, short what, void *arg)
{
	acm_notifier_t *n = arg;
	(void)fd;
	(void)what;
	pthread_mutex_lock(&n->lock);
	targets_t *ts = n->next;
	n->next = NULL;
	pthread_mutex_unlock(&n->lock);
	if (!ts)
		return;
	free(n->targets.t);
	n->targets = *ts;
	free(ts);
	/* here, so no status row is written under an index of the old list */
	if (status_targets(n, &n->targets) != ACM_OK)
		acm_warn("notify: out of memory; status rows may be stale");
	if (n->have_serial) {
		announce(n, acm_mono_ms());   /* new secondaries learn of us at once */
		schedule(n, acm_mono_ms(), false);
	}
}

static void end_loop(evutil_socket_t fd, short what, void *arg)
{
	acm_notifier_t *n = arg;
	(void)fd;
	(void)what;
	event_base_loopbreak(n->base);
}

static void *notifier_main(void *arg)
{
	acm_notifier_t *n = arg;
	event_base_loop(n->base, EVLOOP_NO_EXIT_ON_EMPTY);
	return NULL;
}

/* ---- life cycle ----------------------------------------------------------- */

static int open_socket(acm_notifier_t *n, int family, int slot)
{
	n->fd[slot] = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (n->fd[slot] < 0)
		return family == AF_INET6 ? ACM_OK : -errno;   /* a host without IPv6 */
	n->sock_ev[slot] = event_new(n->base, n->fd[slot], EV_READ | EV_PERSIST, on_readable, n);
	if (!n->sock_ev[slot] || event_add(n->sock_ev[slot], NULL) != 0)
		return -ENOMEM;
	return ACM_OK;
}

static int notifier_init(acm_notifier_t *n, const acm_config_t *cfg)
{
	struct timeval tick = { 0, TICK_MS * 1000 };
	targets_t *ts = targets_new(cfg);
	if (!ts)
		return -ENOMEM;
	n->targets = *ts;
	free(ts);
	int rc = status_targets(n, &n->targets);
	if (rc != ACM_OK)
		return rc;
	n->base = event_base_new();
	if (!n->base)
		return -ENOMEM;
	n->tick = event_new(n->base, -1, 0, on_tick, n);
	n->reload_ev = event_new(n->base, -1, 0, take_reload, n);
	n->stop_ev = event_new(n->base, -1, 0, end_loop, n);
	n->want_ev = event_new(n->base, -1, 0, on_want, n);
	n->commit_ev = event_new(n->base, -1, 0, on_commit, n);
	if (!n->tick || !n->reload_ev || !n->stop_ev || !n->want_ev || !n->commit_ev ||
	    event_add(n->tick, &tick) != 0)
		return -ENOMEM;
	n->tick_ms = acm_mono_ms() + TICK_MS;
	if ((rc = open_socket(n, AF_INET, 0)) != ACM_OK)
		return rc;
	return open_socket(n, AF_INET6, 1);
}

static void notifier_free(acm_notifier_t *n)
{
	struct event *evs[] = { n->tick, n->reload_ev, n->stop_ev, n->want_ev, n->commit_ev,
	                        n->sock_ev[0], n->sock_ev[1] };
	for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
		if (evs[i])
			event_free(evs[i]);
	for (int i = 0; i < 2; i++)
		if (n->fd[i] >= 0)
			close(n->fd[i]);
	if (n->base)
		event_base_free(n->base);
	targets_free(n->next);
	free(n->targets.t);
	pthread_mutex_destroy(&n->lock);
	free(n);
}

int acm_notifier_start(const acm_config_t *cfg, acm_store_t *store, acm_zone_status_t *status,
                       acm_notifier_t **out, char *err, size_t errlen)
{
	acm_notifier_t *n = calloc(1, sizeof(*n));
	if (!n) {
		snprintf(err, errlen, "notifier: out of memory");
		return -ENOMEM;
	}
	n->fd[0] = n->fd[1] = -1;
	n->store = store;
	n->status = status;
	memcpy(n->apex, cfg->apex, acm_dname_len(cfg->apex));
	pthread_mutex_init(&n->lock, NULL);
	int rc = notifier_init(n, cfg);
	if (rc == ACM_OK) {
		/* The thread never sees signals: the main thread handles them. */
		sigset_t all, old;
		sigfillset(&all);
		pthread_sigmask(SIG_BLOCK, &all, &old);
		rc = -pthread_create(&n->thread, NULL, notifier_main, n);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		n->started = rc == ACM_OK;
	}
	if (rc == ACM_OK) {
		acm_zone_status_on_want(status, wake_for_want, n);
		acm_zone_status_on_commit(status, wake_for_commit, n);
	}
	if (rc != ACM_OK) {
		snprintf(err, errlen, "notifier: %s", acm_strerror(rc));
		notifier_free(n);
		return rc;
	}
	*out = n;
	return ACM_OK;
}

int acm_notifier_reload(acm_notifier_t *n, const acm_config_t *cfg)
{
	targets_t *ts = targets_new(cfg);
	if (!ts)
		return -ENOMEM;
	pthread_mutex_lock(&n->lock);
	targets_free(n->next);
	n->next = ts;
	pthread_mutex_unlock(&n->lock);
	event_active(n->reload_ev, 0, 0);
	return ACM_OK;
}

void acm_notifier_stop(acm_notifier_t *n)
{
	if (!n)
		return;
	acm_zone_status_on_want(n->status, NULL, NULL);
	acm_zone_status_on_commit(n->status, NULL, NULL);
	if (n->started) {
		event_active(n->stop_ev, 0, 0);
		pthread_join(n->thread, NULL);
	}
	notifier_free(n);
}
