/* SPDX-License-Identifier: ISC */
/*
 * JSON and input rules shared by the route files: decoding acme-dns bodies
 * the way Go's encoding/json does (so acme-dns clients see no difference),
 * acme-dns's username, key and TXT rules (its allowfrom rule is in
 * lib/conf/cidr.h, which acmensctl shares), strict field access for /v1 bodies,
 * and the JSON shapes of accounts and values. No requests here; see
 * route_util.h for those.
 */
#ifndef ACM_HTTPAPI_JSON_UTIL_H
#define ACM_HTTPAPI_JSON_UTIL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/store/account.h"
#include "lib/store/account_json.h"   /* the account and values shapes */
#include "lib/conf/cidr.h"
#include "lib/store/keys.h"
#include "lib/store/store.h"

#define ACM_FIELD_ERR_MAX 96     /* room for a message naming a bad field */
#define ACM_EXPIRES_IN_MAX 31536000u
#define ACM_ACME_TXT_LEN 43      /* acme-dns accepts nothing else on /update */

/* ---- acme-dns (Go) compatibility -------------------------------------- */

/*
 * Go's decoder replaces each invalid UTF-8 byte with U+FFFD where jansson
 * would fail. Returns NULL when the body is valid as it is (use it), else
 * a malloc'd copy with the replacements (the caller frees it); on
 * allocation failure also NULL, and *failed is set.
 */
char *acm_utf8_repair(const uint8_t *in, size_t len, size_t *outlen, bool *failed);

/*
 * Load a body as Go's json would see it: any top-level value, NUL escapes
 * allowed, numbers never overflow. first_only stops after the first value
 * (json.Decoder) instead of requiring the whole body (json.Unmarshal).
 * NULL if it is not JSON.
 */
json_t *acm_json_load_go(const uint8_t *body, size_t len, bool first_only);

/* acme-dns's request struct (ACMETxt) as Go fills it from a decoded value. */
typedef struct {
	json_t *subdomain;   /* borrowed JSON string, or NULL */
	json_t *txt;         /* borrowed JSON string, or NULL */
	json_t *allowfrom;   /* borrowed JSON array, or NULL */
	bool type_error;     /* Go would report an UnmarshalTypeError */
	bool aborted;        /* a "Username" that is no UUID stopped the decoding */
} acm_acmetxt_t;

/* Field names match case-insensitively (Unicode simple folding, as Go),
 * later keys override earlier ones, unknown keys are ignored. */
void acm_acmetxt_decode(json_t *root, acm_acmetxt_t *out);

/* google/uuid's Parse: 36-character form, {..}, urn:uuid:.., or 32 hex
 * digits, any case. out gets the canonical lower-case form. */
int acm_uuid_parse_go(const char *s, size_t len, char out[ACM_UUID_LEN + 1]);

/* Exactly want characters, each from the base64url alphabet (acme-dns's
 * rule for keys, 40, and TXT values, 43). */
bool acm_b64url_ok(const char *s, size_t len, size_t want);

/* acme-dns's subdomain rule: one DNS label of letters, digits, hyphens,
 * not starting or ending with a hyphen. */
bool acm_label_ok(const char *s, size_t len);

/* ---- /v1 bodies -------------------------------------------------------- */

/*
 * Optional or required members of a /v1 body object. Absent (or null)
 * optional members leave the output untouched and return ACM_OK; a wrong
 * type returns ACM_EMALF with a message naming the field in err.
 */
int acm_field_str(json_t *obj, const char *name, bool required, const char **s,
                  size_t *len, char err[ACM_FIELD_ERR_MAX]);
/* "expires_in": 1..ACM_EXPIRES_IN_MAX seconds -> *expires = now + it. */
int acm_field_expires(json_t *obj, uint64_t now, uint64_t *expires,
                      char err[ACM_FIELD_ERR_MAX]);

#endif
