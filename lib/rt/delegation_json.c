/* SPDX-License-Identifier: ISC */
/*
 * A delegation check's result as JSON (delegation_json.h): the one place
 * that decides which fields are null for which status, and what an
 * account's own route may not learn about another account.
 */
#include <jansson.h>
#include <string.h>

#include "lib/rt/delegation_json.h"

static json_t *text_or_null(bool present, const char *text)
{
	return present && text[0] ? json_string(text) : json_null();
}

/* n strings laid out every stride bytes from first (a result's chain or
 * values, fixed-width rows of different widths). */
static json_t *string_array(const char *first, size_t stride, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < n; i++) {
		if (json_array_append_new(a, json_string(first + i * stride)) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/* The reason, where it may be given: with the other account's name in it
 * replaced by words that do not say which ("X does not exist" for its
 * _acme-challenge name, "the resolver answered SERVFAIL for X CNAME"). */
static json_t *reason_json(const acm_deleg_result_t *r, const char *hidden)
{
	const char *at = hidden ? strstr(r->reason, hidden) : NULL;

	if (!r->reason[0])
		return json_null();
	if (!at)
		return json_string(r->reason);
	return json_sprintf("%.*sanother account's name%s", (int)(at - r->reason), r->reason,
			    at + strlen(hidden));
}

json_t *acm_deleg_result_json(const acm_deleg_result_t *r, bool name_other_account)
{
	bool wrong = r->status == ACM_DELEG_WRONG_TARGET;
	/* the other account's name is the chain's last one, whatever the
	 * status: a check may also fail (servfail, timeout) once there */
	bool hide = r->target_is_account && !name_other_account && r->chain_len > 0;
	size_t shown = hide ? r->chain_len - 1 : r->chain_len;
	const char *status = acm_deleg_status_name(r->status);
	json_t *chain = string_array(r->chain[0], sizeof(r->chain[0]), shown);
	json_t *values = r->status != ACM_DELEG_OK
	                 ? json_null()
	                 : string_array(r->values[0], sizeof(r->values[0]), r->value_count);

	if (!chain || !values || !status) {
		json_decref(chain);
		json_decref(values);
		return NULL;
	}
	return json_pack("{s:s, s:s, s:s, s:o, s:b, s:o, s:o, s:o, s:o, s:I, s:I}",
			 "domain", r->domain,
			 "subdomain", r->subdomain,
			 "status", status,
			 "chain", chain,
			 "secure", r->secure,
			 "target", text_or_null(wrong && !hide, r->target),
			 "target_is_account", wrong ? json_boolean(r->target_is_account) : json_null(),
			 "reason", reason_json(r, hide ? r->chain[r->chain_len - 1] : NULL),
			 "values_visible", values,
			 "checked", (json_int_t)r->checked,
			 "ms", (json_int_t)r->ms);
}
