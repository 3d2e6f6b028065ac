/* SPDX-License-Identifier: ISC */
/*
 * Fuzz target: the quick reader of /v1/batch bodies (httpapi/batch_scan.c),
 * on any bytes. A body it takes must be one jansson reads the same way:
 * {"operations": [...]} with as many objects, each with the same string
 * fields and expiry, every string printable ASCII inside the body.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "httpapi/batch_scan.h"
#include "httpapi/json_util.h"

#define ITEMS_MAX 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* s (NULL: absent) is what obj holds at key, and lies inside [lo, hi). */
static void same_string(json_t *obj, const char *key, const char *s, const char *lo,
                        const char *hi)
{
	json_t *v = json_object_get(obj, key);
	if (!s) {
		if (v)
			abort();
		return;
	}
	if (s < lo || s >= hi || !json_is_string(v) || strcmp(json_string_value(v), s) != 0)
		abort();
	for (const char *p = s; *p; p++)
		if (*p < 0x20 || *p > 0x7e || *p == '"' || *p == '\\')
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	acm_batch_item_t items[ITEMS_MAX];
	size_t n;
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (!acm_batch_scan(text, size, items, ITEMS_MAX, &n)) {
		free(text);
		return 0;
	}
	json_error_t err;
	json_t *root = json_loadb((const char *)data, size, 0, &err);
	json_t *ops = root ? json_object_get(root, "operations") : NULL;
	if (n > ITEMS_MAX || !json_is_object(root) || json_object_size(root) != 1 ||
	    !json_is_array(ops) || json_array_size(ops) != n)
		abort();
	for (size_t i = 0; i < n; i++) {
		const acm_batch_item_t *it = &items[i];
		json_t *o = json_array_get(ops, i);
		json_t *exp = json_object_get(o, "expires_in");
		if (!json_is_object(o) || !it->op || !it->value || strlen(it->value) != it->value_len ||
		    it->expires_in > ACM_EXPIRES_IN_MAX ||
		    (it->expires_in ? !json_is_integer(exp) ||
		                              (uint64_t)json_integer_value(exp) != it->expires_in
		                    : exp != NULL))
			abort();
		same_string(o, "op", it->op, text, text + size);
		same_string(o, "username", it->username, text, text + size);
		same_string(o, "key", it->key, text, text + size);
		same_string(o, "subdomain", it->subdomain, text, text + size);
		same_string(o, "value", it->value, text, text + size);
	}
	json_decref(root);
	free(text);
	return 0;
}
