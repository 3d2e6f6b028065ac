/* SPDX-License-Identifier: ISC */
/*
 * What a worker does with one message, whatever the transport: the store
 * snapshot of a batch, the TSIG key a packet names (configured keys, then
 * the accounts' keyring), the answer, counting it, logging refusals (at
 * most once in a while per reason), and handing transfers to the caller.
 * Threads and sockets are dnsd/server.c's; UPDATE is dnsd/update_io.c's.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "dnsd/answer.h"
#include "dnsd/worker.h"
#include "dnsd/xfr.h"
#include "lib/clock.h"
#include "lib/dns/zone_names.h"
#include "lib/error.h"
#include "lib/log.h"

/* Seconds between two log lines of one kind of refusal (acm_worker_refused). */
#define REFUSAL_LOG_INTERVAL 10

static int worker_lookup(void *ctx, const uint8_t *owner, size_t len, const uint8_t **rec,
                         size_t *reclen);
static int worker_key(void *ctx, const uint8_t *name, size_t len, acm_tsig_key_t *out);

/* The batch's store snapshot, once: the name index answers most batches
 * alone, so only a batch that needs the store pays for opening one. */
static bool batch_snapshot(acm_worker_t *w)
{
	if (!w->snapshot_tried) {
		uint32_t serial;
		w->snapshot_tried = true;
		w->snapshot_ok = acm_reader_begin(w->reader, &serial) == ACM_OK;
		if (w->snapshot_ok && !w->names_ok)
			w->env.serial = serial;
	}
	return w->snapshot_ok;
}

/* The accounts' keys as of this batch, from its first TSIG on: accounts
 * changed after the table's generation, up to the snapshot's, are read
 * from the store (acm_worker_account), so a change counts from the next
 * packet. */
static const acm_keytab_t *batch_keys(acm_worker_t *w)
{
	if (!w->keys_tried) {
		w->keys_tried = true;
		w->keys = batch_snapshot(w) ? acm_keyring_view(w->keyring, &w->keyview, w->reader)
		                            : NULL;
	}
	return w->keys;
}

void acm_worker_batch_begin(acm_worker_t *w)
{
	acm_clocks_t c;
	uint32_t serial = w->env.serial;   /* the last one known, until this batch's */
	acm_clocks_read(&c);
	w->wall_ns = (uint64_t)c.wall.tv_sec * 1000000000u + (uint64_t)c.wall.tv_nsec;
	w->batch_ms = acm_clocks_boot_ms(&c);
	w->env = (acm_answer_env_t){
		.zone = w->zone,
		.lookup = worker_lookup,
		.lookup_ctx = w,
		.key_lookup = worker_key,
		.key_ctx = w,
		.serial = serial,
		.now = (uint64_t)c.wall.tv_sec,
		.expiry_now = acm_expiry_at(&c),
		.udp_payload = w->udp_payload,
		.sigcache = w->sigcache,
	};
	if (!w->sigcache && acm_zone_signing(w->zone) &&
	    acm_sigcache_new(ACM_SIGCACHE_BYTES, &w->sigcache) == ACM_OK)
		w->env.sigcache = w->sigcache;   /* else DO answers are SERVFAIL: no memory */
	w->snapshot_tried = w->snapshot_ok = w->keys_tried = false;
	w->keys = NULL;
	/* Current when it holds the newest commit of any process: then the
	 * batch needs no snapshot of the store. */
	uint64_t newest = acm_store_last_txnid(w->store);
	w->names_ok = newest && acm_name_index_begin(&w->names, newest, &w->env.serial);
	if (!w->names_ok)
		(void)batch_snapshot(w);
}

/* The batch's cache hits and misses into the metrics. */
static void count_signatures(acm_worker_t *w)
{
	uint64_t now[2];
	if (!w->sigcache || !w->metrics)
		return;
	acm_sigcache_counts(w->sigcache, &now[0], &now[1]);
	for (size_t i = 0; i < 2; i++) {
		acm_counter_add(&w->metrics->signatures[i], now[i] - w->sig_counted[i]);
		w->sig_counted[i] = now[i];
	}
}

void acm_worker_batch_end(acm_worker_t *w)
{
	count_signatures(w);
	if (w->snapshot_ok)
		acm_reader_end(w->reader);
	w->snapshot_ok = w->snapshot_tried = false;
	acm_name_index_end(&w->names);
	w->names_ok = false;
}

static int worker_lookup(void *ctx, const uint8_t *owner, size_t len, const uint8_t **rec,
                         size_t *reclen)
{
	acm_worker_t *w = ctx;
	if (w->names_ok)
		return acm_name_index_get(&w->names, owner, len, rec, reclen);
	if (!w->snapshot_ok)
		return ACM_ESTORE;
	if (w->names.ix && w->metrics)
		acm_counter_add(&w->metrics->index_lagged, 1);
	return acm_reader_lookup(w->reader, owner, len, rec, reclen);
}

/* An account's key is named <subdomain>.<apex>: the first label names the
 * account. acm_tsig_verify compares the whole name, so a label that reads
 * differently as a C string cannot borrow another account's key. */
int acm_worker_account(acm_worker_t *w, const uint8_t *name, acm_keyrec_buf_t *buf,
                       const acm_keyrec_t **out)
{
	size_t apex_len;
	acm_zname_t zn;
	char label[ACM_LABEL_MAX + 1];
	acm_account_t acc;
	acm_zname_shape(name, acm_zone_apex(w->zone, &apex_len), &zn);
	if (zn.kind != ACM_ZNAME_ACCOUNT || memchr(name + 1, '\0', name[0]))
		return ACM_ENOTFOUND;
	if (batch_keys(w) && !acm_keyview_changed(&w->keyview, name + 1, name[0])) {
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

const char *acm_refusal_words(enum acm_m_refusal reason)
{
	static const char *const words[ACM_M_REFUSALS] = {
		[ACM_M_REFUSED_UNSIGNED] = "not signed (no TSIG)",
		[ACM_M_REFUSED_MALFORMED] = "malformed message or TSIG",
		[ACM_M_REFUSED_BADKEY] = "unknown TSIG key",
		[ACM_M_REFUSED_BADSIG] = "TSIG signature does not verify",
		[ACM_M_REFUSED_BADTIME] = "TSIG time outside the fudge",
		[ACM_M_REFUSED_ALLOWFROM] = "client not in the account's allowfrom",
		[ACM_M_REFUSED_TRANSFER] = "no transfer.allow entry matches the address and key",
	};
	return (size_t)reason < ACM_M_REFUSALS ? words[reason] : "?";
}

/* The name of the key a query's TSIG names (verified or not), as text:
 * "none" when unsigned. */
static void query_key(const acm_query_t *q, char out[ACM_DNAME_TXT_MAX])
{
	acm_tsig_rr_t rr;
	snprintf(out, ACM_DNAME_TXT_MAX, "none");
	if (q->has_tsig && acm_tsig_parse(q->msg, q->msg_len, q->tsig_offset, &rr) == ACM_OK &&
	    acm_dname_to_text(rr.key_name, out) < 0)
		snprintf(out, ACM_DNAME_TXT_MAX, "?");
}

/* The query's TSIG failed, or a transfer was refused: counted, and said
 * once in a while, with the client and the key, where the answer ends. */
static void log_refusal(acm_worker_t *w, const acm_query_t *q, const acm_answer_info_t *info,
                        const struct sockaddr *peer)
{
	char name[ACM_DNAME_TXT_MAX], key[ACM_DNAME_TXT_MAX];
	size_t apex_len;
	bool xfr = q->qtype == ACM_RRTYPE_AXFR || q->qtype == ACM_RRTYPE_IXFR;
	if (info->tsig_error == ACM_TSIG_OK && !info->xfr_refused)
		return;
	if (acm_dname_to_text(q->qname, name) < 0)
		snprintf(name, sizeof(name), "?");
	query_key(q, key);
	enum acm_m_refusal reason = info->tsig_error == ACM_TSIG_BADKEY    ? ACM_M_REFUSED_BADKEY
	                            : info->tsig_error == ACM_TSIG_BADTIME ? ACM_M_REFUSED_BADTIME
	                            : info->tsig_error == ACM_TSIG_BADSIG  ? ACM_M_REFUSED_BADSIG
	                            : info->tsig_error != ACM_TSIG_OK ? ACM_M_REFUSED_MALFORMED
	                                                              : ACM_M_REFUSED_TRANSFER;
	const char *why = acm_refusal_words(reason);
	if (reason != ACM_M_REFUSED_TRANSFER) {
		const char *tsig = reason == ACM_M_REFUSED_MALFORMED
		                           ? "malformed"
		                           : acm_dns_tsig_error_name(info->tsig_error);
		const acm_kv_t kv[] = { ACM_KS("kind", xfr ? "transfer" : "query"),
			                ACM_KS("qname", name), ACM_KS("tsig", tsig),
			                ACM_KS("key", key), ACM_KS("reason", why) };
		acm_worker_refused(w, reason, "TSIG refused", peer, kv, 5);
		return;
	}
	if (!acm_dname_equal(q->lname, acm_zone_apex(w->zone, &apex_len)))
		why = "not the zone's apex";
	const acm_kv_t kv[] = { ACM_KS("qname", name),
		                ACM_KS("type", q->qtype == ACM_RRTYPE_AXFR ? "AXFR" : "IXFR"),
		                ACM_KS("key", key), ACM_KS("reason", why) };
	acm_worker_refused(w, reason, "transfer refused", peer, kv, 4);
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

/* An IXFR answered over UDP with the one SOA of "you are current" (RFC
 * 1995 2) is a transfer served: logged like one, but through a limit, as
 * a UDP source address can be forged. */
static void log_udp_ixfr(const acm_worker_t *w, const acm_query_t *q,
                         const acm_answer_info_t *info, const struct sockaddr *peer, size_t n,
                         uint64_t start_ns)
{
	static acm_log_limit_t limit = ACM_LOG_LIMIT_INIT(1);
	char who[INET6_ADDRSTRLEN];
	acm_tsig_rr_t rr;
	if (q->qtype != ACM_RRTYPE_IXFR || info->rcode != ACM_RCODE_NOERROR || info->truncated ||
	    info->answers == 0)
		return;
	bool signed_ok = q->has_tsig && info->tsig_error == ACM_TSIG_OK &&
	                 acm_tsig_parse(q->msg, q->msg_len, q->tsig_offset, &rr) == ACM_OK;
	const acm_xfr_report_t r = {
		.client = acm_addr_text(peer, who, sizeof(who)),
		.key = signed_ok ? rr.key_name : NULL,
		.type = ACM_XFR_IXFR_CURRENT,
		.ixfr = true,
		.from_serial = q->ixfr_serial,
		.serial = w->env.serial,
		.records = info->answers,
		.bytes = n,
		.messages = 1,
		.ns = acm_mono_ns() - start_ns,
		.limit = &limit,
	};
	acm_xfr_log(&r, NULL);
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

/* The bucket a UDP response counts against (lib/rt/rrl.h): answers per
 * name (a TXT answer too large for UDP is still an answer), NXDOMAIN and
 * NODATA per zone, errors and refusals one bucket each. */
static enum acm_rrl_action rate_limit(acm_worker_t *w, const acm_query_t *q,
                                      const acm_answer_info_t *info, const struct sockaddr *peer)
{
	size_t len;
	const uint8_t *name = acm_zone_apex(w->zone, &len);
	enum acm_rrl_class cls = ACM_RRL_NEGATIVE;
	if (info->rcode == ACM_RCODE_REFUSED)
		cls = ACM_RRL_REFUSED;
	else if (info->rcode != ACM_RCODE_NOERROR && info->rcode != ACM_RCODE_NXDOMAIN)
		cls = ACM_RRL_ERROR;
	else if (info->rcode == ACM_RCODE_NOERROR && (info->answers > 0 || info->truncated))
		cls = ACM_RRL_ANSWER, name = q->lname, len = q->qname_len;
	enum acm_rrl_action a = acm_rrl_check(w->rrl, acm_zone_rrl(w->zone), peer, cls, name, len,
	                                      w->batch_ms / 1000);
	if (a == ACM_RRL_SLIP)
		acm_counter_add(&w->metrics->rrl_slipped[cls], 1);
	else if (a == ACM_RRL_DROP)
		acm_counter_add(&w->metrics->rrl_dropped[cls], 1);
	return a;
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
	w->env.client = xfr || !tcp ? peer : NULL;
	uint64_t start_ns = q.qtype == ACM_RRTYPE_IXFR ? acm_mono_ns() : 0;
	size_t n = acm_answer(&w->env, &q, tcp, out, outcap, &info);
	if (info.xfr) {
		n = start_xfr(w, &w->env, &q, &info, peer, out, outcap, xfr);
		count_answer(w, &q, &info, tcp, n);
		return n;
	}
	/* Only UDP can be spoofed; a verified TSIG cannot be. */
	bool verified = q.has_tsig && q.rcode == ACM_RCODE_NOERROR && info.tsig_error == ACM_TSIG_OK;
	enum acm_rrl_action limit = ACM_RRL_SEND;
	if (!tcp && n > 0 && !verified)
		limit = rate_limit(w, &q, &info, peer);
	if (q.has_tsig || info.xfr_refused)
		log_refusal(w, &q, &info, peer);
	if (limit == ACM_RRL_DROP)
		return 0;
	if (limit == ACM_RRL_SLIP) {
		n = acm_answer_slip(&q, out, n);
		acm_dns_metrics_answer(w->metrics, tcp, q.qtype, info.rcode, n, true);
		return n;
	}
	count_answer(w, &q, &info, tcp, n);
	if (n > 0 && !tcp)
		log_udp_ixfr(w, &q, &info, peer, n, start_ns);
	if (w->lookups && n > 0)
		acm_worker_log_lookup(w, &q, &info, tcp, peer);
	return n;
}
