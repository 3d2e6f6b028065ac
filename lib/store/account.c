/* SPDX-License-Identifier: ISC */
/*
 * The account record codec (see account.h): the JSON form of the record
 * (read from stores written before the binary form, account_bin.c), the
 * dispatch between the two, the checks an account passes before it is stored, and the
 * account's TSIG key.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "lib/store/account.h"
#include "lib/dns/zone_names.h"
#include "lib/error.h"

int acm_account_check(const acm_account_t *acc, size_t *ulen)
{
	*ulen = strnlen(acc->username, sizeof(acc->username));
	if (*ulen == 0 || *ulen > ACM_USERNAME_MAX)
		return ACM_EBADNAME;
	if (strnlen(acc->key_hash, sizeof(acc->key_hash)) > ACM_KEYHASH_MAX ||
	    acc->allowfrom_count > ACM_ALLOWFROM_MAX)
		return ACM_ERANGE;
	for (size_t i = 0; i < acc->allowfrom_count; i++)
		if (strnlen(acc->allowfrom[i], sizeof(acc->allowfrom[i])) > ACM_CIDR_MAX)
			return ACM_ERANGE;
	if (acc->tsig_alg != 0 &&
	    (acc->tsig_alg < ACM_TSIG_HMAC_SHA256 || acc->tsig_alg > ACM_TSIG_HMAC_SHA512 ||
	     acc->tsig_secret_len == 0 || acc->tsig_secret_len > ACM_TSIG_SECRET_MAX))
		return ACM_ERANGE;
	return ACM_OK;
}

/* {"algorithm": NAME, "secret": BASE64}, or NULL when out of memory. */
static json_t *tsig_to_json(const acm_account_t *acc)
{
	acm_tsig_key_t k = { .alg = acc->tsig_alg, .secret_len = acc->tsig_secret_len };
	char b64[4 * ((ACM_TSIG_SECRET_MAX + 2) / 3) + 1];
	json_t *o;

	memcpy(k.secret, acc->tsig_secret, sizeof(k.secret));
	acm_tsig_secret_to_b64(&k, b64, sizeof(b64));
	o = json_pack("{s:s, s:s}", "algorithm", acm_tsig_alg_name(k.alg), "secret", b64);
	OPENSSL_cleanse(&k, sizeof(k));
	OPENSSL_cleanse(b64, sizeof(b64));
	return o;
}

static json_t *account_to_json(const acm_account_t *acc)
{
	json_t *allow = json_array();
	for (size_t i = 0; allow && i < acc->allowfrom_count; i++) {
		if (json_array_append_new(allow, json_string(acc->allowfrom[i]))) {
			json_decref(allow);
			return NULL;
		}
	}
	json_t *o = json_pack("{s:s, s:i, s:s, s:o, s:I, s:I, s:I}",
	                      "username", acc->username,
	                      "key_scheme", acc->key_scheme,
	                      "key_hash", acc->key_hash,
	                      "allowfrom", allow,
	                      "created", (json_int_t)acc->created,
	                      "updated", (json_int_t)acc->updated,
	                      "flags", (json_int_t)acc->flags);
	/* Only accounts with a key carry the field: the others' records stay
	 * as they were before TSIG existed. */
	if (o && acc->tsig_alg != 0 && json_object_set_new(o, "tsig", tsig_to_json(acc)) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int acm_account_encode_json(const acm_account_t *acc, char **text)
{
	json_t *o = account_to_json(acc);
	*text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	return *text ? ACM_OK : -ENOMEM;
}

/* Copy a decoded string, refusing what the stored struct cannot hold. */
static bool str_fits(char *dst, const char *src, size_t cap)
{
	if (strlen(src) >= cap)
		return false;
	strcpy(dst, src);
	return true;
}

static int tsig_from_json(json_t *t, acm_account_t *acc)
{
	const char *alg, *secret;
	acm_tsig_alg_t a;

	if (json_unpack(t, "{s:s, s:s}", "algorithm", &alg, "secret", &secret) ||
	    acm_tsig_alg_from_text(alg, &a) != ACM_OK ||
	    acm_tsig_secret_from_b64(secret, acc->tsig_secret, &acc->tsig_secret_len) != ACM_OK)
		return ACM_ECORRUPT;
	acc->tsig_alg = (int)a;
	return ACM_OK;
}

static int account_from_json(json_t *o, acm_account_t *acc)
{
	const char *user, *hash;
	json_t *allow, *tsig = NULL;
	json_int_t scheme, created, updated, flags;

	if (json_unpack(o, "{s:s, s:I, s:s, s:o, s:I, s:I, s:I, s?o}", "username", &user,
	                "key_scheme", &scheme, "key_hash", &hash, "allowfrom", &allow,
	                "created", &created, "updated", &updated, "flags", &flags,
	                "tsig", &tsig) ||
	    !str_fits(acc->username, user, sizeof(acc->username)) ||
	    !str_fits(acc->key_hash, hash, sizeof(acc->key_hash)) ||
	    scheme < 0 || scheme > INT32_MAX || created < 0 || updated < 0 ||
	    flags < 0 || flags > UINT32_MAX || !json_is_array(allow) ||
	    json_array_size(allow) > ACM_ALLOWFROM_MAX)
		return ACM_ECORRUPT;
	acc->key_scheme = (int)scheme;
	acc->created = (uint64_t)created;
	acc->updated = (uint64_t)updated;
	acc->flags = (uint32_t)flags;
	acc->allowfrom_count = json_array_size(allow);
	for (size_t i = 0; i < acc->allowfrom_count; i++) {
		const char *cidr = json_string_value(json_array_get(allow, i));
		if (!cidr || !str_fits(acc->allowfrom[i], cidr, sizeof(acc->allowfrom[i])))
			return ACM_ECORRUPT;
	}
	return tsig ? tsig_from_json(tsig, acc) : ACM_OK;
}

int acm_account_decode(const void *rec, size_t len, const char *label,
                       acm_account_t *out)
{
	if (strnlen(label, ACM_LABEL_MAX + 1) > ACM_LABEL_MAX)
		return ACM_EBADNAME;
	memset(out, 0, sizeof(*out));
	strcpy(out->subdomain, label);
	if (acm_account_rec_is_bin(rec, len))
		return acm_account_decode_bin(rec, len, out);
	json_t *o = json_loadb(rec, len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(o)) {
		json_decref(o);
		return ACM_ECORRUPT;
	}
	int rc = account_from_json(o, out);
	json_decref(o);
	return rc;
}

bool acm_account_rec_is_bin(const void *rec, size_t len)
{
	return len > 0 && *(const uint8_t *)rec == ACM_ACCOUNT_REC_V1;
}

int acm_account_tsig_key(const acm_account_t *acc, const uint8_t *apex, acm_tsig_key_t *out)
{
	if (acc->tsig_alg == 0)
		return ACM_ENOTFOUND;
	memset(out, 0, sizeof(*out));
	/* The key is named as the account: <subdomain>.<apex>. */
	int len = acm_zname_account(acc->subdomain, apex, out->name);
	if (len < 0)
		return ACM_EBADNAME;
	out->name_len = (size_t)len;
	out->alg = (acm_tsig_alg_t)acc->tsig_alg;
	out->secret_len = acc->tsig_secret_len;
	memcpy(out->secret, acc->tsig_secret, sizeof(out->secret));
	return ACM_OK;
}

int acm_account_tsig_new(acm_account_t *acc, acm_tsig_alg_t alg)
{
	acm_tsig_key_t k;
	/* The name is the account's, derived when the key is used. */
	int rc = acm_tsig_key_generate(".", alg, &k);

	if (rc != ACM_OK)
		return rc;
	acc->tsig_alg = (int)k.alg;
	acc->tsig_secret_len = k.secret_len;
	memcpy(acc->tsig_secret, k.secret, sizeof(acc->tsig_secret));
	OPENSSL_cleanse(&k, sizeof(k));
	return ACM_OK;
}
