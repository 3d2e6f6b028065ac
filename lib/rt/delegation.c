/* SPDX-License-Identifier: ISC */
/*
 * The delegation check (delegation.h) on libunbound. One resolver context
 * answers in its own thread (ub_ctx_async); each check is a small machine
 * that asks one question at a time: CNAME at the chain's last name until
 * there is none, then TXT where it ends. Asking link by link rather than
 * letting the resolver chase the chain is what lets a loop, a chain too
 * long, a typo or another account's name be told apart, and each answer's
 * DNSSEC state be counted. Without libunbound only the stub at the end is
 * built.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rt/delegation.h"

#ifdef HAVE_LIBUNBOUND

#include <arpa/inet.h>
#include <stdarg.h>
#include <time.h>
#include <unistd.h>

#include <unbound.h>

#include "lib/clock.h"
#include "lib/error.h"

#define TYPE_NS 2
#define TYPE_CNAME 5
#define TYPE_TXT 16
#define CLASS_IN 1
#define RCODE_NXDOMAIN 3

static const char challenge[] = "_acme-challenge";
#define CHALLENGE_LEN (sizeof(challenge) - 1)

/* The question a check waits for. */
enum step {
	ASK_CNAME,      /* at the chain's last name: is there a next link? */
	ASK_TXT_START,  /* no CNAME at _acme-challenge.DOMAIN: TXT there instead? */
	ASK_TXT_END,    /* the chain ends at the account: the values it shows */
};

struct check {
	acm_deleg_t *d;
	size_t slot;
	int async_id;
	enum step step;
	uint64_t started_ms;
	uint8_t name[ACM_DNAME_MAX];    /* the chain's last name, lower case wire */
	acm_deleg_done_fn done;
	void *arg;
	acm_deleg_result_t r;
};

struct acm_deleg {
	struct ub_ctx *ub;
	FILE *log;                      /* libunbound's messages: lib/ never logs */
	uint8_t apex[ACM_DNAME_MAX];
	uint64_t timeout_ms;
	size_t cap, running;
	struct check **slots;           /* cap of them, NULL where free */
	acm_deleg_is_account_fn is_account;
	void *is_account_arg;
};

/* ---- setting up ------------------------------------------------------------ */

/* The first error libunbound wrote to d->log, after its "error: " (the
 * lines after it say what failed because of it); false when it wrote none.
 * The log is emptied. */
static bool ub_said(acm_deleg_t *d, char *buf, size_t len)
{
	char line[512];
	bool any = false;

	fflush(d->log);
	rewind(d->log);
	while (!any && fgets(line, sizeof(line), d->log)) {
		line[strcspn(line, "\r\n")] = '\0';
		const char *e = strstr(line, "error: ");
		if (e) {
			snprintf(buf, len, "%s", e + 7);
			any = true;
		}
	}
	rewind(d->log);
	return ftruncate(fileno(d->log), 0) == 0 && any;
}

static int refused(acm_deleg_t *d, int ub_rc, char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* "WHAT: unbound's text", the operator's words first. */
static int refused(acm_deleg_t *d, int ub_rc, char *err, size_t errlen, const char *fmt, ...)
{
	char why[512];
	va_list ap;
	int n = 0;

	/* libunbound says "out of memory" for a root hints file it cannot read */
	if (!ub_said(d, why, sizeof(why))) {
		if (ub_rc == UB_NOMEM)
			return -ENOMEM;
		snprintf(why, sizeof(why), "%s", ub_strerror(ub_rc));
	}
	if (err && errlen) {
		va_start(ap, fmt);
		n = vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n < errlen)
			snprintf(err + n, errlen - (size_t)n, " (libunbound: %s)", why);
	}
	return -EINVAL;
}

/* "ADDR@PORT", libunbound's spelling of a forwarder. */
static void fwd_text(const acm_listen_t *l, char *out, size_t len)
{
	char addr[INET6_ADDRSTRLEN] = "?";
	const struct sockaddr_in *a4 = (const struct sockaddr_in *)&l->addr;
	const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)&l->addr;
	bool v6 = l->addr.ss_family == AF_INET6;

	inet_ntop(l->addr.ss_family, v6 ? (const void *)&a6->sin6_addr : (const void *)&a4->sin_addr,
		  addr, sizeof(addr));
	snprintf(out, len, "%s@%u", addr, (unsigned)ntohs(v6 ? a6->sin6_port : a4->sin_port));
}

static int set_opt(acm_deleg_t *d, const char *opt, const char *val, const char *key,
		   char *err, size_t errlen)
{
	int rc = ub_ctx_set_option(d->ub, opt, val);
	return rc ? refused(d, rc, err, errlen, "%s %s: refused", key, val) : ACM_OK;
}

static void probe_done(void *arg, int err, struct ub_result *res)
{
	ub_resolve_free(res);
}

/* libunbound reads the trust anchors when it first needs them, and the
 * root hints when its thread starts: a local zone makes it read the
 * first, a question for that zone (answered there, nothing sent) the
 * second, so that a bad file is named here rather than in every result. */
static int probe(acm_deleg_t *d, const acm_config_t *cfg, char *err, size_t errlen)
{
	static const char zone[] = "acmens-probe.invalid.";
	int id, rc = ub_ctx_zone_add(d->ub, zone, "static");

	if (rc != 0)
		return refused(d, rc, err, errlen, "delegation.trust_anchor_file %s: cannot be used",
			       cfg->delegation.trust_anchor_file);
	rc = ub_resolve_async(d->ub, zone, TYPE_NS, CLASS_IN, NULL, probe_done, &id);
	if (rc != 0)
		return cfg->delegation.root_hints
			? refused(d, rc, err, errlen, "delegation.root_hints %s: cannot be used",
				  cfg->delegation.root_hints)
			: refused(d, rc, err, errlen, "delegation: the resolver cannot start");
	ub_cancel(d->ub, id);
	return ACM_OK;
}

static int configure(acm_deleg_t *d, const acm_config_t *cfg, char *err, size_t errlen)
{
	char fwd[INET6_ADDRSTRLEN + 8];
	int rc;
	bool local = cfg->delegation.resolver_count > 0 || cfg->delegation.root_hints;

	/* a thread, not a forked process: the owner's descriptors and its
	 * confinement stay its own */
	if ((rc = ub_ctx_async(d->ub, 1)) != 0)
		return refused(d, rc, err, errlen, "delegation: no resolver thread");
	ub_ctx_debuglevel(d->ub, 0);
	for (size_t i = 0; i < cfg->delegation.resolver_count; i++) {
		fwd_text(&cfg->delegation.resolvers[i], fwd, sizeof(fwd));
		if ((rc = ub_ctx_set_fwd(d->ub, fwd)) != 0)
			return refused(d, rc, err, errlen, "delegation.resolvers %s: refused",
				       cfg->delegation.resolvers[i].text);
	}
	/* resolvers and private roots on loopback are the operator's choice */
	if (local && (rc = set_opt(d, "do-not-query-localhost:", "no",
				   "delegation", err, errlen)) != ACM_OK)
		return rc;
	if (cfg->delegation.root_hints &&
	    (rc = set_opt(d, "root-hints:", cfg->delegation.root_hints,
			  "delegation.root_hints", err, errlen)) != ACM_OK)
		return rc;
	/* a fixed record must show at the next check, not after a day of
	 * negative caching; a burst of checks still shares the zones' keys */
	if ((rc = set_opt(d, "cache-max-negative-ttl:", "5", "delegation", err, errlen)) ||
	    (rc = set_opt(d, "cache-max-ttl:", "60", "delegation", err, errlen)))
		return rc;
	if ((rc = ub_ctx_add_ta_file(d->ub, cfg->delegation.trust_anchor_file)) != 0)
		return refused(d, rc, err, errlen, "delegation.trust_anchor_file %s: refused",
			       cfg->delegation.trust_anchor_file);
	return probe(d, cfg, err, errlen);
}

/* The context and the file its messages go to while it is set up: a
 * file, not memory, as libunbound writes it with stdio and we read it
 * back. ACM_OK, -ENOMEM or -errno. */
static int make_ctx(acm_deleg_t *d, char *err, size_t errlen)
{
	if (!(d->log = tmpfile())) {
		int e = errno;
		if (err && errlen)
			snprintf(err, errlen, "delegation: no file for libunbound's messages: %s",
				 strerror(e));
		return -e;
	}
	if (!(d->ub = ub_ctx_create()))
		return -ENOMEM;
	ub_ctx_debugout(d->ub, d->log);
	return ACM_OK;
}

int acm_deleg_new(const acm_config_t *cfg, acm_deleg_is_account_fn is_account,
		  void *is_account_arg, acm_deleg_t **out, char *err, size_t errlen)
{
	acm_deleg_t *d = calloc(1, sizeof(*d));
	int rc;

	*out = NULL;
	if (err && errlen)
		err[0] = '\0';
	if (!d)
		return -ENOMEM;
	d->cap = cfg->delegation.concurrency ? cfg->delegation.concurrency : 1;
	d->timeout_ms = (uint64_t)cfg->delegation.timeout * 1000u;
	d->is_account = is_account;
	d->is_account_arg = is_account_arg;
	memcpy(d->apex, cfg->apex, acm_dname_len(cfg->apex));
	d->slots = calloc(d->cap, sizeof(*d->slots));
	rc = d->slots ? make_ctx(d, err, errlen) : -ENOMEM;
	if (rc == ACM_OK)
		rc = configure(d, cfg, err, errlen);
	/* what libunbound says from now on (a server that did not answer)
	 * is said again in the results */
	if (rc == ACM_OK && !freopen("/dev/null", "w", d->log)) {
		rc = -errno;
		d->log = NULL;
	}
	if (rc != ACM_OK) {
		acm_deleg_free(d);
		return rc;
	}
	*out = d;
	return ACM_OK;
}

void acm_deleg_free(acm_deleg_t *d)
{
	if (!d)
		return;
	/* deleting the context drops the questions asked, without answers */
	if (d->ub)
		ub_ctx_delete(d->ub);
	for (size_t i = 0; d->slots && i < d->cap; i++)
		free(d->slots[i]);
	free(d->slots);
	if (d->log)
		fclose(d->log);
	free(d);
}

int acm_deleg_fd(const acm_deleg_t *d)
{
	return ub_fd(d->ub);
}

size_t acm_deleg_running(const acm_deleg_t *d)
{
	return d->running;
}

/* ---- a check's steps -------------------------------------------------------- */

static void say(struct check *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(struct check *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->r.reason, sizeof(c->r.reason), fmt, ap);
	va_end(ap);
}

/* Reports and frees c; its slot is free again before the callback runs,
 * so that the callback may start the next check. */
static void finish(struct check *c, acm_deleg_status_t status)
{
	acm_deleg_t *d = c->d;

	c->r.status = status;
	c->r.checked = (uint64_t)time(NULL);
	c->r.ms = (uint32_t)(acm_boot_ms() - c->started_ms);
	/* a chain not seen to its end was not seen secure */
	if (status == ACM_DELEG_BOGUS || status == ACM_DELEG_SERVFAIL || status == ACM_DELEG_TIMEOUT)
		c->r.secure = false;
	d->slots[c->slot] = NULL;
	d->running--;
	c->done(c->arg, &c->r);
	free(c);
}

/* A name as text without the final dot (the root stays "."). */
static void name_text(const uint8_t *wire, char *out)
{
	if (acm_dname_to_text(wire, out) < 0) {
		strcpy(out, "?");
		return;
	}
	size_t len = strlen(out);
	if (len > 1)
		out[len - 1] = '\0';
}

static void on_answer(void *arg, int err, struct ub_result *res);

/* Asks type at c's last name. ACM_OK, or libunbound's error code. */
static int ask(struct check *c, enum step step, int type)
{
	char text[ACM_DNAME_TXT_MAX];

	if (acm_dname_to_text(c->name, text) < 0)
		return UB_SYNTAX;
	c->step = step;
	return ub_resolve_async(c->d->ub, text, type, CLASS_IN, c, on_answer, &c->async_id);
}

/* The next question, from an answer: a failure to ask ends the check. */
static void go_on(struct check *c, enum step step, int type)
{
	int rc = ask(c, step, type);

	if (rc != 0) {
		say(c, "the resolver took no question: %s", ub_strerror(rc));
		finish(c, ACM_DELEG_SERVFAIL);
	}
}

/* A name from rdata (uncompressed wire, as libunbound gives it), checked
 * against the rdata's length. ACM_OK or ACM_EMALF. */
static int rdata_name(const char *rdata, int len, uint8_t *out)
{
	const uint8_t *p = (const uint8_t *)rdata;
	size_t pos = 0;

	while (len > 0 && pos < (size_t)len && pos < ACM_DNAME_MAX) {
		uint8_t l = p[pos];
		if (l == 0) {
			memcpy(out, p, pos + 1);
			acm_dname_lower(out);
			return ACM_OK;
		}
		if (l > ACM_LABEL_MAX)
			break;
		pos += (size_t)l + 1;
	}
	return ACM_EMALF;
}

/* ACM_DELEG_OK where name is the account's name or its _acme-challenge
 * name; ACM_DELEG_WRONG_TARGET elsewhere, with target_is_account set when
 * it is that of another account of the zone. */
static acm_deleg_status_t where_it_ends(struct check *c, const uint8_t *name)
{
	acm_deleg_t *d = c->d;
	char label[ACM_LABEL_MAX + 1];
	int above = acm_dname_under(name, d->apex);
	const uint8_t *l = name;

	c->r.target_is_account = false;
	if (above == 2 && name[0] == CHALLENGE_LEN && memcmp(name + 1, challenge, CHALLENGE_LEN) == 0)
		l = name + 1 + CHALLENGE_LEN;
	else if (above != 1)
		return ACM_DELEG_WRONG_TARGET;
	memcpy(label, l + 1, l[0]);
	label[l[0]] = '\0';
	if (strcmp(label, c->r.subdomain) == 0)
		return ACM_DELEG_OK;
	c->r.target_is_account = acm_label_check(label, l[0]) == ACM_OK && d->is_account &&
				 d->is_account(d->is_account_arg, label);
	return ACM_DELEG_WRONG_TARGET;
}

static void next_link(struct check *c, const struct ub_result *res)
{
	uint8_t target[ACM_DNAME_MAX];
	char text[ACM_DNAME_TXT_MAX];

	if (rdata_name(res->data[0], res->len[0], target) != ACM_OK) {
		say(c, "the CNAME at %s has a target that cannot be read",
		    c->r.chain[c->r.chain_len - 1]);
		finish(c, ACM_DELEG_SERVFAIL);
		return;
	}
	name_text(target, text);
	for (size_t i = 0; i < c->r.chain_len; i++) {
		if (strcmp(c->r.chain[i], text) == 0) {
			size_t links = c->r.chain_len - i;
			say(c, "%s comes back after %zu link%s", text, links, links == 1 ? "" : "s");
			/* the name that came back closes the chain, where there is room */
			if (c->r.chain_len <= ACM_DELEG_MAX_LINKS)
				snprintf(c->r.chain[c->r.chain_len++], sizeof(c->r.chain[0]), "%s", text);
			finish(c, ACM_DELEG_LOOP);
			return;
		}
	}
	if (c->r.chain_len == ACM_DELEG_MAX_LINKS + 1) {
		say(c, "more than %d CNAME links", ACM_DELEG_MAX_LINKS);
		finish(c, ACM_DELEG_LOOP);
		return;
	}
	snprintf(c->r.chain[c->r.chain_len++], sizeof(c->r.chain[0]), "%s", text);
	memcpy(c->name, target, acm_dname_len(target));
	/* at the account, the values are the next question: acmens holds no
	 * CNAME at an account's names, and the TXT question would follow one
	 * as the CA's does */
	if (where_it_ends(c, target) == ACM_DELEG_OK)
		go_on(c, ASK_TXT_END, TYPE_TXT);
	else
		go_on(c, ASK_CNAME, TYPE_CNAME);
}

/* No CNAME at c->name, a name the chain reached through one. */
static void chain_end(struct check *c, bool nxdomain)
{
	if (where_it_ends(c, c->name) == ACM_DELEG_OK) {
		go_on(c, ASK_TXT_END, TYPE_TXT);
		return;
	}
	snprintf(c->r.target, sizeof(c->r.target), "%s", c->r.chain[c->r.chain_len - 1]);
	if (nxdomain)
		say(c, "%s does not exist", c->r.target);
	finish(c, ACM_DELEG_WRONG_TARGET);
}

/* No CNAME at c->name. */
static void no_link(struct check *c, bool nxdomain)
{
	/* the account's own challenge name is served here, not delegated */
	if (c->r.chain_len > 1 || where_it_ends(c, c->name) == ACM_DELEG_OK) {
		chain_end(c, nxdomain);
		return;
	}
	c->r.target_is_account = false;    /* the start is no target */
	if (!nxdomain) {
		go_on(c, ASK_TXT_START, TYPE_TXT);
		return;
	}
	say(c, "%s does not exist", c->r.chain[0]);
	finish(c, ACM_DELEG_MISSING);
}

/* One TXT record's strings, joined, as printable text (\DDD for the rest). */
static void value_text(const uint8_t *p, size_t len, char *out, size_t outlen)
{
	size_t o = 0, pos = 0;

	while (pos < len) {
		size_t n = p[pos++];
		for (size_t k = 0; k < n && pos < len; k++, pos++) {
			uint8_t b = p[pos];
			bool plain = b >= 0x20 && b < 0x7f && b != '\\';
			if (o + (plain ? 1 : 4) >= outlen)
				goto done;
			if (plain)
				out[o++] = (char)b;
			else
				o += (size_t)snprintf(out + o, outlen - o, "\\%03u", b);
		}
	}
done:
	out[o] = '\0';
}

static void keep_values(struct check *c, const struct ub_result *res)
{
	for (size_t i = 0; res->havedata && res->data[i] && i < ACM_DELEG_MAX_VALUES; i++) {
		value_text((const uint8_t *)res->data[i], (size_t)res->len[i],
			   c->r.values[i], sizeof(c->r.values[i]));
		c->r.value_count = i + 1;
	}
}

static const char *rcode_name(int rcode)
{
	static const char *const names[] = { "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
					     "NOTIMP", "REFUSED" };
	return rcode >= 0 && rcode < 6 ? names[rcode] : "an error";
}

/* The answer to c's question, taken for the step it was asked in. */
static void take(struct check *c, const struct ub_result *res)
{
	static const char *const asked[] = { "CNAME", "TXT", "TXT" };

	if (res->bogus) {
		say(c, "%s", res->why_bogus ? res->why_bogus : "DNSSEC validation failed");
		finish(c, ACM_DELEG_BOGUS);
		return;
	}
	/* acmens's zone is signed only where dnssec.enabled and a DS say
	 * so: secure is about the customer's side of the chain alone */
	if (!res->secure && acm_dname_under(c->name, c->d->apex) < 0)
		c->r.secure = false;
	if (res->rcode != 0 && res->rcode != RCODE_NXDOMAIN) {
		say(c, "the resolver answered %s for %s %s%s%s", rcode_name(res->rcode), c->r.chain[c->r.chain_len - 1],
		    asked[c->step], res->why_bogus ? ": " : "", res->why_bogus ? res->why_bogus : "");
		finish(c, ACM_DELEG_SERVFAIL);
		return;
	}
	switch (c->step) {
	case ASK_CNAME:
		if (res->havedata)
			next_link(c, res);
		else
			no_link(c, res->nxdomain);
		break;
	case ASK_TXT_START:
		if (!res->havedata)
			say(c, "%s has neither a CNAME nor TXT records", c->r.chain[0]);
		finish(c, res->havedata ? ACM_DELEG_NOT_DELEGATED : ACM_DELEG_MISSING);
		break;
	case ASK_TXT_END:
		keep_values(c, res);
		finish(c, ACM_DELEG_OK);
		break;
	}
}

static void on_answer(void *arg, int err, struct ub_result *res)
{
	struct check *c = arg;

	c->async_id = 0;
	if (err != 0 || !res) {
		say(c, "the resolver failed: %s", ub_strerror(err));
		finish(c, ACM_DELEG_SERVFAIL);
	} else {
		take(c, res);
	}
	ub_resolve_free(res);
}

/* ---- starting, answers, deadlines -------------------------------------------- */

/* The result's names and c->name from the text given. ACM_OK or -EINVAL. */
static int first_name(struct check *c, const char *domain, const char *subdomain)
{
	char text[ACM_DNAME_TXT_MAX + sizeof(challenge) + 1];
	uint8_t wire[ACM_DNAME_MAX];
	size_t sl = strlen(subdomain), dl = strlen(domain);

	if (sl > ACM_LABEL_MAX || dl == 0 || dl >= ACM_DNAME_TXT_MAX || strcmp(domain, ".") == 0)
		return -EINVAL;
	for (size_t i = 0; i <= sl; i++)
		c->r.subdomain[i] = (char)(subdomain[i] >= 'A' && subdomain[i] <= 'Z'
					   ? subdomain[i] + 32 : subdomain[i]);
	if (acm_label_check(c->r.subdomain, sl) != ACM_OK || acm_dname_from_text(domain, wire) < 0)
		return -EINVAL;
	acm_dname_lower(wire);
	name_text(wire, c->r.domain);
	snprintf(text, sizeof(text), "%s.%s", challenge, domain);
	if (acm_dname_from_text(text, c->name) < 0)
		return -EINVAL;
	acm_dname_lower(c->name);
	name_text(c->name, c->r.chain[0]);
	c->r.chain_len = 1;
	return ACM_OK;
}

int acm_deleg_start(acm_deleg_t *d, const char *domain, const char *subdomain,
		    acm_deleg_done_fn done, void *arg)
{
	if (!domain || !subdomain)
		return -EINVAL;
	struct check *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	int rc = first_name(c, domain, subdomain);
	if (rc == ACM_OK && d->running == d->cap)
		rc = -EBUSY;
	if (rc != ACM_OK) {
		free(c);
		return rc;
	}
	while (d->slots[c->slot])
		c->slot++;
	c->d = d;
	c->done = done;
	c->arg = arg;
	c->r.secure = true;
	c->started_ms = acm_boot_ms();
	rc = ask(c, ASK_CNAME, TYPE_CNAME);
	if (rc != 0) {
		free(c);
		return rc == UB_NOMEM ? -ENOMEM : -EIO;
	}
	d->slots[c->slot] = c;
	d->running++;
	return ACM_OK;
}

int acm_deleg_process(acm_deleg_t *d)
{
	return ub_process(d->ub) == 0 ? ACM_OK : -EIO;
}

int64_t acm_deleg_expire(acm_deleg_t *d, uint64_t now_ms)
{
	int64_t next = -1;

	for (size_t i = 0; i < d->cap; i++) {
		struct check *c = d->slots[i];
		if (!c)
			continue;
		uint64_t due = c->started_ms + d->timeout_ms;
		if (now_ms >= due) {
			ub_cancel(d->ub, c->async_id);
			unsigned long long s = (unsigned long long)(d->timeout_ms / 1000u);
			say(c, "no answer within %llu second%s", s, s == 1 ? "" : "s");
			finish(c, ACM_DELEG_TIMEOUT);
			/* the callback may have started another in this slot */
			c = d->slots[i];
			if (!c)
				continue;
			due = c->started_ms + d->timeout_ms;
		}
		int64_t left = (int64_t)(due > now_ms ? due - now_ms : 0);
		if (next < 0 || left < next)
			next = left;
	}
	return next;
}

#else /* !HAVE_LIBUNBOUND */

int acm_deleg_new(const acm_config_t *cfg, acm_deleg_is_account_fn is_account,
		  void *is_account_arg, acm_deleg_t **out, char *err, size_t errlen)
{
	*out = NULL;
	if (err && errlen)
		snprintf(err, errlen, "built without libunbound: the delegation check is not available");
	return -ENOTSUP;
}

void acm_deleg_free(acm_deleg_t *d)
{
}

int acm_deleg_fd(const acm_deleg_t *d)
{
	return -1;
}

int acm_deleg_start(acm_deleg_t *d, const char *domain, const char *subdomain,
		    acm_deleg_done_fn done, void *arg)
{
	return -ENOTSUP;
}

int acm_deleg_process(acm_deleg_t *d)
{
	return -ENOTSUP;
}

int64_t acm_deleg_expire(acm_deleg_t *d, uint64_t now_ms)
{
	return -1;
}

size_t acm_deleg_running(const acm_deleg_t *d)
{
	return 0;
}

#endif
