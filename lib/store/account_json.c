/* SPDX-License-Identifier: ISC */
/*
 * The JSON shapes of an account and of its values (see account_json.h).
 * Field order is part of the shape: jansson keeps insertion order, and
 * clients and tests compare the text.
 */
#include "lib/store/account_json.h"
#include "lib/dns/zone_names.h"
#include "lib/dns/rrset.h"
#include "lib/dns/tsig.h"

json_t *acm_allowfrom_json(const acm_account_t *acc)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < acc->allowfrom_count; i++) {
		if (json_array_append_new(a, json_string(acc->allowfrom[i])) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/* Whether the account has a TSIG key, and its name (the fulldomain). */
static json_t *tsig_json(const char *full, const acm_account_t *acc)
{
	if (!acc->tsig_alg)
		return json_null();
	return json_pack("{s:s, s:s}", "name", full, "algorithm",
	                 acm_tsig_alg_name((acm_tsig_alg_t)acc->tsig_alg));
}

json_t *acm_account_json(const char *zone_text, const acm_account_t *acc, bool admin)
{
	char full[ACM_FULLDOMAIN_MAX];

	acm_zname_fulldomain(zone_text, acc->subdomain, full, sizeof(full));
	json_t *o = json_pack("{s:s, s:s, s:s, s:o, s:I, s:I, s:b}",
	                      "subdomain", acc->subdomain, "fulldomain", full,
	                      "username", acc->username, "allowfrom", acm_allowfrom_json(acc),
	                      "created", (json_int_t)acc->created,
	                      "updated", (json_int_t)acc->updated,
	                      "disabled", (acc->flags & ACM_ACCOUNT_DISABLED) != 0);
	if (!o || !admin)
		return o;
	if (json_object_set_new(o, "key_scheme",
	                        json_string(acc->key_scheme == ACM_KEY_BCRYPT ? "bcrypt"
	                                                                      : "sha256")) != 0 ||
	    json_object_set_new(o, "tsig", tsig_json(full, acc)) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *acm_account_entry_json(const char *zone_text, const acm_account_t *acc, size_t values)
{
	json_t *o = acm_account_json(zone_text, acc, true);

	if (o && json_object_set_new(o, "value_count", json_integer((json_int_t)values)) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *acm_values_json(const acm_txt_t *v, size_t n, uint64_t now, unsigned flags,
                        size_t *live)
{
	json_t *a = json_array();
	bool all = flags & ACM_VALUES_ALL;

	*live = 0;
	for (size_t i = 0; a && i < n; i++) {
		bool expired = acm_expired(v[i].expires, now);
		json_t *e;
		if (expired && !all)
			continue;
		e = json_pack("{s:s%, s:I, s:o, s:b}", "value", v[i].value, v[i].len,
		              "set", (json_int_t)v[i].set_time, "expires",
		              v[i].expires ? json_integer((json_int_t)v[i].expires) : json_null(),
		              "expired", expired);
		if (json_array_append_new(a, e) != 0) {
			json_decref(a);
			return NULL;
		}
		if (!expired)
			(*live)++;
	}
	return a;
}
