/* SPDX-License-Identifier: ISC */
/*
 * The JSON shapes of the store's counts, of an audit record and of a TSIG
 * key (see store_json.h). Field order is part of the shape: jansson keeps
 * insertion order.
 */
#include <openssl/crypto.h>

#include "lib/store/store_json.h"
#include "lib/dns/zone_names.h"
#include "lib/error.h"

json_t *acm_stats_json(size_t accounts, size_t values, uint32_t serial,
                       const acm_store_info_t *info)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "accounts", (json_int_t)accounts,
	                 "values", (json_int_t)values, "serial", (json_int_t)serial,
	                 "file_bytes", (json_int_t)info->file_bytes, "used_bytes",
	                 (json_int_t)info->used_bytes, "map_size", (json_int_t)info->map_size,
	                 "last_txn", (json_int_t)info->last_txn);
}

json_t *acm_audit_entry_json(uint64_t seq, const char *text, size_t len)
{
	json_t *e = json_loadb(text, len, 0, NULL);

	/* A record that does not decode is still an event the operator
	 * should see, so it keeps its place. */
	if (!json_is_object(e)) {
		json_decref(e);
		e = json_pack("{s:s%}", "raw", text, len);
	}
	if (e && json_object_set_new(e, "seq", json_integer((json_int_t)seq)) != 0) {
		json_decref(e);
		return NULL;
	}
	return e;
}

json_t *acm_tsig_key_json(const acm_tsig_key_t *key)
{
	char name[ACM_DNAME_TXT_MAX], b64[4 * ((ACM_TSIG_SECRET_MAX + 2) / 3) + 1];
	json_t *o;

	if (acm_zname_zone_text(key->name, name) != ACM_OK)
		return NULL;
	acm_tsig_secret_to_b64(key, b64, sizeof(b64));
	o = json_pack("{s:s, s:s, s:s}", "name", name, "algorithm", acm_tsig_alg_name(key->alg),
	              "secret", b64);
	OPENSSL_cleanse(b64, sizeof(b64));
	return o;
}
