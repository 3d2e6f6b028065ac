/* SPDX-License-Identifier: ISC */
/*
 * Account and admin authentication for the routes. Keys never leave this
 * file in any form but a yes or no, and nothing here logs.
 *
 * A bcrypt check (an account imported from acme-dns, until its first
 * successful use) costs tens of milliseconds, so it never runs on the HTTP
 * thread: the request parks (acm_req_park), a small worker pool runs every
 * check the request needs, one per username, and the route runs again with
 * the results kept in the request. A username whose checks keep failing
 * waits longer and longer before it is checked again (lib/rt/backoff.h);
 * until then its requests are refused at once.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>

#include "httpapi/auth.h"
#include "httpapi/json_util.h"
#include "httpapi/route_util.h"
#include "lib/rt/backoff.h"
#include "lib/clock.h"
#include "lib/error.h"
#include "lib/store/keys.h"
#include "lib/rt/workpool.h"

/* The limits documented in docs/security.md. */
#define VERIFY_THREADS 2           /* bcrypt checks at once */
#define VERIFY_QUEUE 64            /* requests waiting for a thread; then 503 */
#define VERIFY_PER_REQUEST 8       /* distinct bcrypt usernames per request; then 429 */
static const acm_backoff_limits_t backoff_limits = {
	.capacity = 4096,          /* usernames remembered */
	.free_failures = 5,        /* checks before the first wait */
	.base_ms = 1000,           /* first wait, doubled per further check */
	.max_ms = 300000,          /* at most 5 minutes */
};

struct acm_auth_env {
	acm_workpool_t *pool;
	acm_backoff_t *backoff;    /* HTTP thread only */
};

/* One username's bcrypt check within a request. */
enum { CHECK_NEW, CHECK_QUEUED, CHECK_DONE, CHECK_BUSY };
typedef struct check {
	struct check *next;
	char username[ACM_UUID_LEN + 1];
	char key_sha[65];                  /* SHA-256 of the key it checks */
	char key[ACM_PASSWORD_LEN + 1];    /* cleansed once checked */
	acm_account_t cred;                /* the scheme and bcrypt hash only */
	int state;                         /* worker-owned while QUEUED */
	bool ok;
	bool reported;                     /* a success cleared the backoff */
} check_t;

typedef struct {
	acm_req_t *r;
	acm_auth_env_t *env;
	check_t *checks;
	size_t n;
} auth_req_t;

/*
 * Checked against when the username is unknown, so that a miss costs the
 * same hash and compare as a hit on an account of our own (acme-dns does
 * the same with bcrypt). Accounts imported from acme-dns still cost a
 * bcrypt run until their first successful use upgrades them, so timing
 * tells someone who already holds such a username that it exists and is
 * not upgraded yet; a bcrypt run for every miss would hide that only by
 * letting anyone make the server spend bcrypt time for free, and usernames
 * are random UUIDs that cannot be guessed anyway.
 */
static const acm_account_t dummy_account = {
	.key_scheme = ACM_KEY_SHA256,
	.key_hash = "0000000000000000000000000000000000000000000000000000000000000000",
};

bool acm_allowfrom_ok(const acm_account_t *acc, const struct sockaddr *sa)
{
	acm_cidr_t cidr;

	if (acc->allowfrom_count == 0)
		return true;
	if (!sa)
		return false;
	for (size_t i = 0; i < acc->allowfrom_count && i < ACM_ALLOWFROM_MAX; i++)
		if (acm_allowfrom_entry(acc->allowfrom[i], &cidr) == ACM_OK &&
		    acm_cidr_match(&cidr, sa))
			return true;
	return false;
}

/*
 * The key to check against: the stored one, or, for an imported account
 * this request already authenticated (a batch may name it many times), its
 * queued upgrade, so that one request pays for one bcrypt run at most.
 */
static const acm_account_t *current_key(acm_req_t *r, const acm_account_t *acc)
{
	if (acc->key_scheme != ACM_KEY_BCRYPT)
		return acc;
	for (const acm_op_t *op = acm_req_piggybacked(r); op; op = op->next)
		if (op->kind == ACM_OP_ACCOUNT_UPDATE &&
		    strcmp(op->account.subdomain, acc->subdomain) == 0)
			return &op->account;
	return acc;
}

/*
 * Replace an imported account's bcrypt hash with the SHA-256 of the key
 * that just matched it, committed with the request's own write (or alone),
 * so that its later requests cost one hash instead of a bcrypt run. If the
 * upgrade is lost, the next successful request queues it again.
 */
static void queue_upgrade(acm_req_t *r, const acm_account_t *acc, const char *key,
                          size_t klen)
{
	acm_op_t *op = acm_req_alloc(r, sizeof(*op));
	char actor[ACM_ACTOR_MAX];

	if (!op)
		return;
	acm_account_actor(acc, actor);
	acm_op_init(r, op, ACM_OP_ACCOUNT_UPDATE, actor);
	op->account = *acc;
	op->fields = ACM_FIELD_KEY | ACM_FIELD_IF_BCRYPT;
	op->account.key_scheme = ACM_KEY_SHA256;
	if (acm_key_hash(key, klen, op->account.key_hash) == ACM_OK)
		acm_req_piggyback(r, op);
}

int acm_auth_env_new(acm_auth_env_t **out)
{
	acm_auth_env_t *e = calloc(1, sizeof(*e));
	int rc;

	*out = NULL;
	if (!e)
		return -ENOMEM;
	if ((rc = acm_workpool_new(VERIFY_THREADS, VERIFY_QUEUE, &e->pool)) != ACM_OK ||
	    (rc = acm_backoff_new(&backoff_limits, &e->backoff)) != ACM_OK) {
		acm_auth_env_free(e);
		return rc;
	}
	*out = e;
	return ACM_OK;
}

void acm_auth_env_free(acm_auth_env_t *e)
{
	if (!e)
		return;
	acm_workpool_free(e->pool);
	acm_backoff_free(e->backoff);
	free(e);
}

/* ---- bcrypt checks off the HTTP thread --------------------------------- */

/* A pool thread: every check the request queued, then the wake-up, which
 * is the last time anything here touches the request. */
static void run_checks(void *arg)
{
	auth_req_t *a = arg;

	for (check_t *c = a->checks; c; c = c->next) {
		if (c->state != CHECK_QUEUED)
			continue;
		c->ok = acm_account_key_ok(&c->cred, c->key, strlen(c->key));
		OPENSSL_cleanse(c->key, sizeof(c->key));
		c->state = CHECK_DONE;
	}
	acm_req_wake(a->r);
}

/* The HTTP thread, once the route parked: hand the new checks over. Each
 * counts as a failure of its username until it succeeds, so that checks
 * in flight (or refused for a full queue) count toward the backoff too;
 * after the submit the pool owns their state. */
static void submit_checks(acm_req_t *r, void *arg)
{
	auth_req_t *a = arg;
	uint64_t now = acm_mono_ms();

	for (check_t *c = a->checks; c; c = c->next) {
		if (c->state == CHECK_NEW) {
			acm_backoff_failed(a->env->backoff, c->username, now);
			c->state = CHECK_QUEUED;
		}
	}
	if (acm_workpool_submit(a->env->pool, run_checks, a) == ACM_OK)
		return;
	for (check_t *c = a->checks; c; c = c->next) {
		if (c->state == CHECK_QUEUED) {
			OPENSSL_cleanse(c->key, sizeof(c->key));
			c->state = CHECK_BUSY;
		}
	}
	acm_req_wake(r);
}

static auth_req_t *auth_req(acm_req_t *r)
{
	void **slot = acm_req_auth_state(r);
	auth_req_t *a = *slot;

	if (!a && (a = acm_req_alloc(r, sizeof(*a)))) {
		a->r = r;
		a->env = acm_req_auth_env(r);
		*slot = a;
	}
	return a;
}

/* Queue a check of key against the account's bcrypt hash and park the
 * request for it. -EINPROGRESS when parked. */
static int start_check(acm_req_t *r, auth_req_t *a, const acm_account_t *acc,
                       const char *key, size_t klen, const char *key_sha)
{
	check_t *c;

	if (acm_backoff_wait(a->env->backoff, acc->username, acm_mono_ms()) > 0)
		return -EACCES;
	if (a->n == VERIFY_PER_REQUEST)
		return -EAGAIN;
	if (klen > ACM_PASSWORD_LEN || !(c = acm_req_alloc(r, sizeof(*c))) ||
	    acm_req_park(r, submit_checks, a) != ACM_OK)
		return -ENOMEM;
	memcpy(c->username, acc->username, sizeof(c->username));
	memcpy(c->key_sha, key_sha, sizeof(c->key_sha));
	memcpy(c->key, key, klen);
	c->cred.key_scheme = ACM_KEY_BCRYPT;
	memcpy(c->cred.key_hash, acc->key_hash, sizeof(c->cred.key_hash));
	c->state = CHECK_NEW;
	c->next = a->checks;
	a->checks = c;
	a->n++;
	return -EINPROGRESS;
}

/*
 * The bcrypt verdict on key for an imported account: ACM_OK, -EACCES,
 * -EINPROGRESS (parked: the route must return), -EAGAIN (too many in one
 * request), -EBUSY (the pool is full) or -ENOMEM. One check per username
 * per request: a later operation with the same key reuses it, any other
 * key for that username is refused.
 */
static int bcrypt_verdict(acm_req_t *r, const acm_account_t *acc, const char *key,
                          size_t klen)
{
	auth_req_t *a = auth_req(r);
	char sha[65];
	check_t *c;

	if (!a || acm_key_hash(key, klen, sha) != ACM_OK)
		return -ENOMEM;
	for (c = a->checks; c; c = c->next)
		if (strcmp(c->username, acc->username) == 0)
			break;
	if (!c)
		return start_check(r, a, acc, key, klen, sha);
	if (c->state == CHECK_NEW)
		return -EINPROGRESS;
	if (c->state == CHECK_BUSY)
		return -EBUSY;
	if (!c->ok || CRYPTO_memcmp(c->key_sha, sha, 64) != 0)
		return -EACCES;
	if (!c->reported)
		acm_backoff_succeeded(a->env->backoff, acc->username);
	c->reported = true;
	return ACM_OK;
}

/* ---- account credentials ----------------------------------------------- */

static int check_account(acm_req_t *r, const char *uname, const char *key, size_t klen,
                         acm_account_t *out)
{
	int rc = acm_store_account_by_user(acm_req_store(r), uname, out);
	const acm_account_t *cred;

	if (rc == ACM_ENOTFOUND) {
		(void)acm_account_key_ok(&dummy_account, key, klen);
		return -EACCES;
	}
	if (rc != ACM_OK)
		return rc;
	cred = current_key(r, out);
	if (cred->key_scheme == ACM_KEY_BCRYPT) {
		/* Nothing a bcrypt run could change is worth one. */
		if ((out->flags & ACM_ACCOUNT_DISABLED) || !acm_allowfrom_ok(out, acm_req_client(r)))
			return -EACCES;
		if ((rc = bcrypt_verdict(r, out, key, klen)) != ACM_OK)
			return rc;
		queue_upgrade(r, out, key, klen);
		return ACM_OK;
	}
	if (!acm_account_key_ok(cred, key, klen) || (out->flags & ACM_ACCOUNT_DISABLED) ||
	    !acm_allowfrom_ok(out, acm_req_client(r)))
		return -EACCES;
	return ACM_OK;
}

int acm_auth_account(acm_req_t *r, const char *user, const char *key, acm_account_t *out)
{
	char uname[ACM_UUID_LEN + 1];
	size_t klen = key ? strlen(key) : 0;
	int rc;

	if (!user || acm_uuid_parse_go(user, strlen(user), uname) != ACM_OK ||
	    !key || !acm_b64url_ok(key, klen, ACM_PASSWORD_LEN))
		return -EACCES;
	if ((rc = check_account(r, uname, key, klen, out)) != ACM_OK)
		OPENSSL_cleanse(out, sizeof(*out));
	else
		acm_req_note_account(r, out->subdomain);
	return rc;
}

void acm_auth_stamp(acm_req_t *r, const acm_account_t *acc, acm_op_t *op)
{
	acm_op_cred_t *c = &op->cred;
	/* A SHA-256 account's hash is the key's; an imported one's upgrade,
	 * queued by the check, holds it (without one, none is accepted). */
	const acm_account_t *cur = current_key(r, acc);

	memcpy(c->account, acc->subdomain, sizeof(c->account));
	memcpy(c->key_hash, acc->key_hash, sizeof(c->key_hash));
	if (cur->key_scheme == ACM_KEY_SHA256)
		memcpy(c->key_sha, cur->key_hash, sizeof(c->key_sha) - 1);
}

int acm_auth_headers(acm_req_t *r, acm_account_t *out)
{
	return acm_auth_account(r, acm_req_header(r, "X-Api-User"),
	                        acm_req_header(r, "X-Api-Key"), out);
}

bool acm_auth_admin(acm_req_t *r)
{
	const acm_http_settings_t *s = acm_req_settings(r);
	const char *h = acm_req_header(r, "Authorization");
	char want[65], got[65];
	bool ok;

	if (!s->admin_enabled || s->admin_token[0] == '\0' || !h ||
	    strncasecmp(h, "Bearer ", 7) != 0)
		return false;
	h += 7;
	while (*h == ' ')
		h++;
	/* Hashing both sides first makes the compare constant-time whatever
	 * the lengths. */
	if (acm_key_hash(s->admin_token, strlen(s->admin_token), want) != ACM_OK ||
	    acm_key_hash(h, strlen(h), got) != ACM_OK)
		return false;
	ok = CRYPTO_memcmp(want, got, 64) == 0;
	OPENSSL_cleanse(want, sizeof(want));
	return ok;
}
