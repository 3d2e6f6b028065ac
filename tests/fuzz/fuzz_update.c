/* SPDX-License-Identifier: ISC */
/*
 * Fuzz target: RFC 2136 UPDATE handling of dnsd/update.c, all of it but the
 * store: structure, TSIG, prerequisites and the update section, then the
 * answer to the chain it builds, with the ops' results made up from the
 * input. Each input goes in twice: as it is, and signed with the fixture
 * key at FUZZ_NOW, so that mutations still get past the TSIG check.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dnsd/update.h"
#include "lib/error.h"
#include "lib/dns/wire.h"
#include "tests/fuzz/fixture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The fixture account's key; a key named servfail.<apex> fails the store. */
static int key_lookup(void *ctx, const uint8_t *name, size_t len, acm_tsig_key_t *key,
                      char sub[ACM_LABEL_MAX + 1])
{
	const acm_tsig_key_t *k = fuzz_key();
	(void)ctx;
	if (len == k->name_len && memcmp(name, k->name, len) == 0) {
		*key = *k;
		snprintf(sub, ACM_LABEL_MAX + 1, "%s", FUZZ_ACCOUNT);
		return ACM_OK;
	}
	return len > 9 && memcmp(name, "\x08servfail", 9) == 0 ? ACM_ESTORE : ACM_ENOTFOUND;
}

static void run(const uint8_t *msg, size_t len, uint8_t salt)
{
	static const int results[] = { ACM_OK, ACM_OK, ACM_EEXIST, ACM_EUNMET, ACM_EABSENT,
	                               ACM_EFULL, -ECANCELED, ACM_ESTORE };
	acm_update_env_t env = { .zone = fuzz_zone(), .enabled = true, .now = FUZZ_NOW,
	                         .key = key_lookup };
	uint8_t out[ACM_UPDATE_RESPONSE_MAX];
	size_t n;
	int rcode;
	acm_update_t *u;
	const char *reason;

	acm_update_start(&env, msg, len, out, sizeof(out), &n, &u, &reason);
	if (n > sizeof(out) || (n > 0 && (n < 12 || acm_get_u16(out) != acm_get_u16(msg))))
		abort();
	if (!u)
		return;
	if (n != 0 || strcmp(acm_update_account(u), FUZZ_ACCOUNT) != 0)
		abort();
	unsigned i = 0;
	for (acm_op_t *op = acm_update_ops(u); op; op = op->next, i++)
		op->result = results[(salt + i) % (sizeof(results) / sizeof(results[0]))];
	n = acm_update_finish(u, FUZZ_NOW, out, sizeof(out), &rcode);
	if (n < 12 || n > sizeof(out) || acm_get_u16(out) != acm_get_u16(msg) || rcode < 0 ||
	    rcode > ACM_RCODE_NOTZONE)
		abort();
	acm_update_free(u);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[65535];
	if (size < 12 || size > sizeof(buf) - 512)
		return 0;
	uint8_t salt = data[size - 1];
	run(data, size, salt);
	memcpy(buf, data, size);
	int n = acm_tsig_sign(buf, size, sizeof(buf), fuzz_key(), NULL, 0, false, FUZZ_NOW,
	                      acm_get_u16(buf), 0, NULL, NULL);
	if (n < 0)
		abort();
	run(buf, (size_t)n, salt);
	return 0;
}
