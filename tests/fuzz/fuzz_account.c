/* SPDX-License-Identifier: ISC */
/*
 * Fuzz target: the account record decoder (lib/store/account.c and
 * account_bin.c), on any bytes, binary or JSON. A record that decodes must
 * pass the checks every stored account passes, and encode to a binary
 * record that decodes to the very same account and encodes to the same
 * bytes again.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/error.h"
#include "lib/store/account.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t rec[ACM_ACCOUNT_REC_MAX], again[ACM_ACCOUNT_REC_MAX];
	acm_account_t a, b;
	size_t len, len2, ulen;

	int rc = acm_account_decode(data, size, "fuzz", &a);
	if (rc != ACM_OK) {
		if (rc != ACM_ECORRUPT)
			abort();
		return 0;
	}
	/* A username may be empty in a record, never too long; the rest must
	 * be what acm_account_check lets into the store. */
	rc = acm_account_check(&a, &ulen);
	if (rc != ACM_OK && !(rc == ACM_EBADNAME && ulen == 0))
		abort();
	if (acm_account_encode(&a, rec, sizeof(rec), &len) != ACM_OK ||
	    acm_account_decode(rec, len, "fuzz", &b) != ACM_OK ||
	    memcmp(&a, &b, sizeof(a)) != 0 ||
	    acm_account_encode(&b, again, sizeof(again), &len2) != ACM_OK || len2 != len ||
	    memcmp(rec, again, len) != 0)
		abort();
	if (acm_account_rec_is_bin(data, size) && (len != size || memcmp(rec, data, size) != 0))
		abort();
	return 0;
}
