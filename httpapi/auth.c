/* SPDX-License-Identifier: ISC */
/*
 * Account and admin authentication for the routes. Keys never leave this
 * file in any form but a yes or no, and nothing here logs.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "httpapi/auth.h"
#include "httpapi/json_util.h"
#include "httpapi/route_util.h"
#include "lib/error.h"
#include "lib/keys.h"

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
	if (!acm_account_key_ok(cred, key, klen) || (out->flags & ACM_ACCOUNT_DISABLED) ||
	    !acm_allowfrom_ok(out, acm_req_client(r)))
		return -EACCES;
	if (cred->key_scheme == ACM_KEY_BCRYPT)
		queue_upgrade(r, out, key, klen);
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
	return rc;
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
