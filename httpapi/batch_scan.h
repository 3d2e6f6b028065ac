/* SPDX-License-Identifier: ISC */
/*
 * The quick reader of /v1/batch bodies: the shape batch clients send, read
 * without building a JSON tree. It takes only bodies it can read exactly
 * as the JSON decoder would, and declines any other, which the route then
 * decodes with jansson (and so refuses with the same errors as ever).
 */
#ifndef ACM_HTTPAPI_BATCH_SCAN_H
#define ACM_HTTPAPI_BATCH_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One operation; a string field is NULL when absent. */
typedef struct {
	const char *op, *username, *key, *subdomain, *value;
	size_t value_len;
	uint64_t expires_in;       /* 0: absent */
} acm_batch_item_t;

/*
 * Read text (len bytes, modified in place: each string gets its NUL where
 * its closing quote was) as {"operations": [OBJECT, ...]} with at most max
 * objects, each holding "op" and "value" and otherwise only "username",
 * "key", "subdomain" (strings) and "expires_in" (an integer from 1 to
 * ACM_EXPIRES_IN_MAX), once each. Strings are printable ASCII without
 * escapes. true and *n items in items[] when the body is exactly that;
 * false for anything else (the caller decodes it the general way).
 */
bool acm_batch_scan(char *text, size_t len, acm_batch_item_t *items, size_t max, size_t *n);

#endif
