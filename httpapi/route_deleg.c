/* SPDX-License-Identifier: ISC */
/*
 * The delegation routes' common part (route_deleg.h): the domain parameter,
 * the check and its refusals, the result kept per account through group
 * commit (no DNS change: no serial, no journal), and the reply, which is
 * acm_deleg_result_json's shape on both routes.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "httpapi/route_deleg.h"
#include "httpapi/route_util.h"
#include "lib/error.h"
#include "lib/log.h"
#include "lib/rt/delegation_json.h"

/* _acme-challenge. and the domain must make a name of at most 255 bytes on
 * the wire: 16 for the label, so 239 for the domain, 237 characters. */
#define DOMAIN_TEXT_MAX 237

static bool bad_domain(acm_req_t *r, const char *message)
{
	acm_reply_error(r, 400, "bad_request", message);
	return false;
}

bool acm_deleg_domain(acm_req_t *r, char out[ACM_DNAME_TXT_MAX])
{
	const char *d = acm_req_query(r, "domain");
	uint8_t wire[ACM_DNAME_MAX];
	size_t len = d ? strlen(d) : 0;

	if (len == 0)
		return bad_domain(r, "domain is required: ?domain=example.com");
	if (len > 1 && d[len - 1] == '.')
		len--;
	if (len > DOMAIN_TEXT_MAX)
		return bad_domain(r, "domain is too long: _acme-challenge.DOMAIN must be a name "
		                     "(the domain at most 237 characters)");
	if (d[0] == '.' || strchr(d, '\\') || acm_dname_from_text(d, wire) < 0 ||
	    acm_dname_len(wire) > ACM_DNAME_MAX - 16)
		return bad_domain(r, "domain is not a domain name");
	snprintf(out, ACM_DNAME_TXT_MAX, "%.*s", (int)len, d);
	return true;
}

static void reply_result(acm_req_t *r, bool admin)
{
	const acm_deleg_result_t *res;
	acm_req_deleg_result(r, &res);
	json_t *o = acm_deleg_result_json(res, admin);
	if (!o)
		acm_reply_error(r, 500, "out_of_memory", NULL);
	else
		acm_reply_json(r, 200, o);
}

/* The result is kept (or the store said why not: logged, and the check's
 * answer still goes out, it ran). */
static void recorded(acm_req_t *r, acm_op_t *op, bool admin)
{
	if (op->result != ACM_OK && op->result != ACM_ENOTFOUND)
		acm_err("http: delegation check of %s: keeping the result: %s", op->subdomain,
		        acm_strerror(op->result));
	reply_result(r, admin);
}

static void then_account(acm_req_t *r, acm_op_t *op)
{
	recorded(r, op, false);
}

static void then_admin(acm_req_t *r, acm_op_t *op)
{
	recorded(r, op, true);
}

static void keep_result(acm_req_t *r, const acm_deleg_result_t *res, bool admin,
                        const char *actor)
{
	acm_op_t *op = acm_req_alloc(r, sizeof(*op));
	int rc = op ? ACM_OK : -ENOMEM;

	if (op) {
		acm_op_init(r, op, ACM_OP_DELEG_RECORD, actor);
		snprintf(op->subdomain, sizeof(op->subdomain), "%s", res->subdomain);
		op->deleg.checked = res->checked;
		op->deleg.status = (uint8_t)res->status;
		op->deleg.secure = res->secure;
		rc = acm_req_commit(r, op, admin ? then_admin : then_account);
	}
	if (rc != ACM_OK) {
		acm_err("http: delegation check of %s: keeping the result: %s", res->subdomain,
		        acm_strerror(rc));
		reply_result(r, admin);
	}
}

static void refused(acm_req_t *r, int rc)
{
	if (rc == -ENOTSUP)
		acm_reply_error(r, 501, "not_implemented",
		                "built without libunbound: delegation checks are unavailable");
	else if (rc == -EAGAIN)
		acm_reply_error(r, 503, "delegation_unavailable", acm_req_deleg_why(r));
	else if (rc == -ESHUTDOWN)
		acm_reply_error(r, 503, "shutting_down", "acmensd is stopping; retry shortly");
	else if (rc == -EBUSY)
		acm_reply_error(r, 503, "busy", "too many delegation checks waiting; retry shortly");
	else if (rc == -EIO)
		acm_reply_error(r, 503, "resolver_error", "the resolver took no question; retry shortly");
	else if (rc == -EINVAL)
		acm_reply_error(r, 400, "bad_request", "domain is not a domain name");
	else
		acm_reply_error(r, 500, "out_of_memory", NULL);
}

void acm_deleg_route(acm_req_t *r, const char *domain, const char *sub, bool admin,
                     const char *actor)
{
	const acm_deleg_result_t *res;
	int rc = acm_req_deleg_result(r, &res);

	if (res) {
		keep_result(r, res, admin, actor);
		return;
	}
	if (rc != ACM_OK) {
		refused(r, rc);
		return;
	}
	if (!admin && !acm_req_deleg_allowed(r, sub)) {
		acm_reply_error(r, 429, "rate_limited",
		                "an account may run 10 delegation checks in a row, then one every 6 seconds");
		return;
	}
	if ((rc = acm_req_deleg_check(r, domain, sub)) != ACM_OK)
		refused(r, rc);
}
