/* SPDX-License-Identifier: ISC */
/*
 * Fuzz target: the query parser and the answer builder, over a zone with
 * static records and a store record holding TXT values, unsigned and
 * signed (a query with DO gets RRSIGs and NSECs, through a signature cache
 * small enough to wrap). Every input is answered as over UDP and over TCP;
 * the response must fit and carry the query's ID.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dnsd/answer.h"
#include "dnsd/query.h"
#include "lib/error.h"
#include "lib/dns/wire.h"
#include "tests/fuzz/fixture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
static void answer_both(const acm_zone_t *zone, acm_sigcache_t *cache, const acm_query_t *q,
                        uint8_t *out, size_t outcap);

static uint8_t record[256];
static size_t record_len;
static uint8_t account[ACM_DNAME_MAX];
static size_t account_len;

static int lookup(void *ctx, const uint8_t *owner, size_t len, const uint8_t **rec, size_t *reclen)
{
	(void)ctx;
	if (len != account_len || memcmp(owner, account, len) != 0)
		return ACM_ENOTFOUND;
	*rec = record;
	*reclen = record_len;
	return ACM_OK;
}

/* Two values, the second already expired. */
static void make_record(void)
{
	static const char *values[] = { "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "expired" };
	uint8_t *p = record;
	*p++ = 1;
	*p++ = 2;
	for (int i = 0; i < 2; i++) {
		size_t len = strlen(values[i]);
		acm_put_u64(p, 1000);
		acm_put_u64(p + 8, i == 0 ? 0 : 1);
		acm_put_u16(p + 16, (uint16_t)(len + 1));
		p[18] = (uint8_t)len;
		memcpy(p + 19, values[i], len);
		p += 19 + len;
	}
	record_len = (size_t)(p - record);
	account_len = (size_t)acm_dname_from_text("d420c923-bbd7-4056-ab64-c3ca54c9b3cf.auth.example.org.", account);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static acm_zone_t *zones[2];
	static acm_sigcache_t *cache;
	static uint8_t out[65535];
	if (!zones[0]) {
		zones[0] = fuzz_zone();
		zones[1] = fuzz_signed_zone();
		make_record();
		if (acm_sigcache_new(0, &cache) != ACM_OK)
			abort();
	}
	acm_query_t q;
	if (!acm_query_parse(data, size, &q))
		return 0;
	for (int z = 0; z < 2; z++)
		answer_both(zones[z], z ? cache : NULL, &q, out, sizeof(out));
	return 0;
}

/* The answer over UDP and over TCP. */
static void answer_both(const acm_zone_t *zone, acm_sigcache_t *cache, const acm_query_t *q,
                        uint8_t *out, size_t outcap)
{
	acm_answer_env_t env = { .zone = zone, .lookup = lookup, .serial = 2026112301,
	                         .now = FUZZ_NOW, .udp_payload = 1232, .sigcache = cache };
	for (int tcp = 0; tcp < 2; tcp++) {
		size_t cap = tcp ? outcap : 1232;
		size_t n = acm_answer(&env, q, tcp, out, cap, NULL);
		if (n < ACM_DNS_HEADER || n > cap || acm_get_u16(out) != q->id)
			abort();
	}
}
