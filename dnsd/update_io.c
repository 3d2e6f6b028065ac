/* SPDX-License-Identifier: ISC */
/*
 * Dynamic updates between a worker and group commit. The worker parses and
 * checks the message (dnsd/update.c) and submits its chain; the committer
 * writes the answer once the chain is durable and wakes the worker, which
 * sends it through the peer, the way the update came in (dnsd/worker.h).
 * The answer never goes out before the commit, and the worker never waits
 * for one.
 */
#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "dnsd/udp_loop.h"
#include "dnsd/update.h"
#include "dnsd/worker.h"
#include "lib/error.h"
#include "lib/log.h"
#include "lib/dns/wire.h"

/* An update between its submission and its answer; on the worker's list
 * until the answer is sent, so a stopping worker can free it. */
struct acm_pending {
	struct acm_pending *prev, *next;
	acm_worker_t *w;
	acm_mail_t ready;           /* posted by the committer: the answer is ready */
	acm_update_t *u;
	acm_peer_t peer;
	int rcode;
	size_t out_len;
	uint8_t out[ACM_UPDATE_RESPONSE_MAX];
};

/* The RCODE of the answer in out[0..n), or -1 when there is none. */
static int answer_rcode(const uint8_t *out, size_t n)
{
	return n >= ACM_DNS_HEADER ? acm_get_u16(out + ACM_DNS_FLAGS_OFF) & ACM_RCODE_MASK : -1;
}

/* What the key and allow callbacks share for one message. */
typedef struct {
	acm_worker_t *w;
	const acm_peer_t *peer;
	const acm_keyrec_t *rec;        /* the account whose key the request names */
	acm_keyrec_buf_t buf;
	bool named_key;                 /* the request named a key: key_name, for the log */
	uint8_t key_name[ACM_DNAME_MAX];
} update_ctx_t;

/* Account keys only: a configured key (for transfers) must not stand in
 * for an account whose name it happens to bear. */
static int update_key(void *ctx, const uint8_t *name, size_t len, acm_tsig_key_t *key,
                      char sub[ACM_LABEL_MAX + 1])
{
	update_ctx_t *c = ctx;
	c->named_key = len <= sizeof(c->key_name);
	if (c->named_key)
		memcpy(c->key_name, name, len);
	int rc = acm_worker_account(c->w, name, &c->buf, &c->rec);
	if (rc == ACM_OK) {
		acm_keyrec_key(c->rec, name, len, key);
		memcpy(sub, name + 1, name[0]);
		sub[name[0]] = '\0';
	}
	return rc;
}

/* The account's allowfrom, as the HTTP API applies it. */
static bool update_allow(void *ctx, const char *sub)
{
	update_ctx_t *c = ctx;
	(void)sub;
	return acm_keyrec_allows(c->rec, (const struct sockaddr *)&c->peer->addr);
}

static void count_answer(acm_worker_t *w, const uint8_t *out, size_t n)
{
	if (n >= ACM_DNS_HEADER)
		acm_counter_add(&w->metrics->updates[acm_m_rcode_index(answer_rcode(out, n))], 1);
}

static void pending_free(struct acm_pending *p)
{
	if (p->prev)
		p->prev->next = p->next;
	else
		p->w->pending = p->next;
	if (p->next)
		p->next->prev = p->prev;
	acm_update_free(p->u);
	free(p);
}

/* An authenticated update's answer: every one is logged (the account is
 * accountable for its requests), with the reason when it failed. */
static void log_signed(const acm_peer_t *peer, const char *account, int rcode,
                       const char *reason)
{
	char who[INET6_ADDRSTRLEN], rbuf[ACM_DNS_MNEMONIC_MAX];
	const acm_kv_t kv[] = {
		ACM_KS("client", acm_addr_text((const struct sockaddr *)&peer->addr, who, sizeof(who))),
		ACM_KS("account", account), ACM_KS("rcode", acm_dns_rcode_name(rcode, rbuf)),
		ACM_KS("reason", reason ? reason : "refused"),
	};
	if (rcode == ACM_RCODE_NOERROR)
		acm_log_fields(ACM_LOG_INFO, "update", kv, 3);
	else
		acm_log_fields(ACM_LOG_INFO, "update refused", kv, 4);
}

/* On the worker: the answer is ready. Not delivered: the worker stops,
 * and acm_worker_updates_free frees p. */
static void answer_ready(void *arg, bool deliver)
{
	struct acm_pending *p = arg;
	if (!deliver)
		return;
	log_signed(&p->peer, acm_update_account(p->u), p->rcode, acm_update_reason(p->u));
	count_answer(p->w, p->out, p->out_len);
	p->peer.send(&p->peer, p->out, p->out_len);
	pending_free(p);
}

/* On the committer thread: the chain is durable, or failed. */
static void chain_done(acm_op_t *first, void *arg)
{
	struct acm_pending *p = arg;
	(void)first;
	p->out_len = acm_update_finish(p->u, (uint64_t)time(NULL), p->out, sizeof(p->out),
	                               &p->rcode);
	acm_mailbox_post(p->w->mailbox, &p->ready);
}

static struct acm_pending *pending_new(acm_worker_t *w, acm_update_t *u, const acm_peer_t *peer)
{
	struct acm_pending *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	acm_mail_init(&p->ready, answer_ready, p);
	p->w = w;
	p->u = u;
	p->peer = *peer;
	p->next = w->pending;
	if (w->pending)
		w->pending->prev = p;
	w->pending = p;
	return p;
}

/* The chain never reached the committer: answer from its failure now. */
static void answer_failed(acm_worker_t *w, acm_update_t *u, const acm_peer_t *peer, int rc)
{
	uint8_t out[ACM_UPDATE_RESPONSE_MAX];
	int rcode;
	for (acm_op_t *op = acm_update_ops(u); op; op = op->next)
		op->result = rc;
	size_t n = acm_update_finish(u, (uint64_t)time(NULL), out, sizeof(out), &rcode);
	acm_err("update by account %s: %s", acm_update_account(u), acm_strerror(rc));
	count_answer(w, out, n);
	peer->send(peer, out, n);
}

static void submit(acm_worker_t *w, acm_update_t *u, const acm_peer_t *peer)
{
	char who[INET6_ADDRSTRLEN];
	acm_addr_text((const struct sockaddr *)&peer->addr, who, sizeof(who));
	for (acm_op_t *op = acm_update_ops(u); op; op = op->next)
		snprintf(op->source, sizeof(op->source), "%s", who);
	struct acm_pending *p = pending_new(w, u, peer);
	if (!p) {
		answer_failed(w, u, peer, -ENOMEM);
		acm_update_free(u);
		return;
	}
	int rc = acm_commit_submit_atomic(w->commit, acm_update_ops(u), chain_done, p);
	if (rc != ACM_OK) {
		p->u = NULL;
		pending_free(p);
		answer_failed(w, u, peer, rc);
		acm_update_free(u);
	}
}

/* An answer known at once: from an account (logged as any update), or a
 * refusal before anyone was authenticated (counted, logged now and then),
 * with the account and key when the request named them. */
static void log_answer(acm_worker_t *w, acm_update_why_t why, const update_ctx_t *c,
                       const uint8_t *out, size_t n, const char *reason)
{
	static const enum acm_m_refusal reasons[] = {
		[ACM_UPDATE_MALFORMED] = ACM_M_REFUSED_MALFORMED,
		[ACM_UPDATE_UNSIGNED] = ACM_M_REFUSED_UNSIGNED,
		[ACM_UPDATE_BADKEY] = ACM_M_REFUSED_BADKEY,
		[ACM_UPDATE_BADSIG] = ACM_M_REFUSED_BADSIG,
		[ACM_UPDATE_BADTIME] = ACM_M_REFUSED_BADTIME,
		[ACM_UPDATE_ALLOWFROM] = ACM_M_REFUSED_ALLOWFROM,
	};
	static acm_log_limit_t store_fail = ACM_LOG_LIMIT_INIT(10);
	const struct sockaddr *peer = (const struct sockaddr *)&c->peer->addr;
	char who[INET6_ADDRSTRLEN], rbuf[ACM_DNS_MNEMONIC_MAX], key[ACM_DNAME_TXT_MAX] = "none";
	const char *account = c->rec ? acm_keyrec_label(c->rec) : "";
	switch (why) {
	case ACM_UPDATE_SIGNED:
		if (n > 0)
			log_signed(c->peer, account, answer_rcode(out, n), reason);
		return;
	case ACM_UPDATE_STOREFAIL:
		acm_log_limited_kv(&store_fail, ACM_LOG_ERROR, "update: cannot read the account's key",
		                   ACM_KS("client", acm_addr_text(peer, who, sizeof(who))));
		return;
	default: {
		if (c->named_key && acm_dname_to_text(c->key_name, key) < 0)
			snprintf(key, sizeof(key), "?");
		acm_kv_t kv[] = {
			ACM_KS("rcode", n >= ACM_DNS_HEADER ? acm_dns_rcode_name(answer_rcode(out, n), rbuf)
			                                    : "none"),
			ACM_KS("reason", acm_refusal_words(reasons[why])), ACM_KS("key", key),
			ACM_KS("account", account),
		};
		acm_worker_refused(w, reasons[why], "update refused", peer, kv, c->rec ? 4 : 3);
		return;
	}
	}
}

bool acm_worker_update(acm_worker_t *w, const uint8_t *msg, size_t len, const acm_peer_t *peer)
{
	if (!acm_update_is(msg, len))
		return false;
	if (w->updates_closed) {
		/* stopping: group commit takes no more; the client asks again */
		peer->send(peer, NULL, 0);
		return true;
	}
	update_ctx_t ctx = { .w = w, .peer = peer };
	acm_update_env_t env = {
		.zone = w->zone,
		.enabled = w->commit && acm_zone_update_enabled(w->zone),
		.now = (uint64_t)time(NULL),
		.key = update_key,
		.key_ctx = &ctx,
		.allow = update_allow,
	};
	uint8_t out[ACM_UPDATE_RESPONSE_MAX];
	size_t n;
	acm_update_t *u;
	const char *reason;
	acm_update_why_t why = acm_update_start(&env, msg, len, out, sizeof(out), &n, &u, &reason);
	if (u && w->udp_loop)
		acm_udp_loop_submit(w->udp_loop, u, peer);
	else if (u)
		submit(w, u, peer);
	if (u)
		return true;
	log_answer(w, why, &ctx, out, n, reason);
	count_answer(w, out, n);
	peer->send(peer, out, n);
	return true;
}

void acm_worker_update_submit(acm_worker_t *w, acm_update_t *u, const acm_peer_t *peer)
{
	if (w->updates_closed) {
		acm_update_free(u);
		peer->send(peer, NULL, 0);
		return;
	}
	submit(w, u, peer);
}

void acm_worker_updates_free(acm_worker_t *w)
{
	while (w->pending)
		pending_free(w->pending);
}
