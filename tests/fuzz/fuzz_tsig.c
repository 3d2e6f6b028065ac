/* SPDX-License-Identifier: ISC */
/*
 * Fuzz target: TSIG on arbitrary messages (lib/dns/tsig.c). The TSIG RR is
 * looked for where the server finds it: the last additional record of a
 * query as acm_query_parse reports it, or of a reply as
 * acm_soa_reply_parse does (the notifier's case). A TSIG that parses is
 * verified with the fixture key (a request alone, a reply chained to the
 * fixture NOTIFY's MAC); then the message up to it is answered signed, as
 * the server does, into a buffer of a size the input picks, and that
 * answer must parse and verify.
 */
#include <stdlib.h>
#include <string.h>

#include "dnsd/query.h"
#include "lib/error.h"
#include "lib/rt/soa_probe.h"
#include "lib/dns/wire.h"
#include "tests/fuzz/fixture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ANSWER_MAX 1232

static bool tsig_offset(const uint8_t *data, size_t size, bool *reply, size_t *off)
{
	static uint8_t apex[ACM_DNAME_MAX];
	acm_query_t q;
	acm_soa_reply_t r;
	if (!apex[0])
		acm_dname_from_text(FUZZ_APEX, apex);
	*reply = false;
	if (acm_query_parse(data, size, &q)) {
		*off = q.tsig_offset;
		return q.has_tsig;
	}
	*reply = true;
	if (acm_soa_reply_parse(data, size, apex, &r) != ACM_OK || !r.has_additional)
		return false;
	*off = r.last_rr_offset;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[ANSWER_MAX];
	const acm_tsig_key_t *key = fuzz_key();
	size_t off, prior_len;
	const uint8_t *prior = fuzz_notify_mac(&prior_len);
	bool reply;
	acm_tsig_rr_t t, t2;

	if (!tsig_offset(data, size, &reply, &off) || acm_tsig_parse(data, size, off, &t) != ACM_OK)
		return 0;
	if (t.rr_offset != off || t.mac + t.mac_len > data + size ||
	    t.other + t.other_len > data + size ||
	    acm_tsig_verify(data, size, &t, NULL, FUZZ_NOW) != ACM_TSIG_BADKEY)
		abort();
	int err = reply ? acm_tsig_verify_chained(data, size, &t, key, prior, prior_len, false,
	                                          FUZZ_NOW)
	                : acm_tsig_verify(data, size, &t, key, FUZZ_NOW);
	/* The answer: the message without its TSIG, ARCOUNT one less. */
	size_t len = off < sizeof(buf) ? off : sizeof(buf);
	size_t cap = len + size % 256 < sizeof(buf) ? len + size % 256 : sizeof(buf);
	memcpy(buf, data, len);
	acm_put_u16(buf + 10, (uint16_t)(acm_get_u16(buf + 10) - 1));
	int n = acm_tsig_sign(buf, len, cap, key, t.mac, t.mac_len, false, FUZZ_NOW, t.orig_id,
	                      (uint16_t)err, NULL, NULL);
	if (n < 0) {
		if (n != ACM_ESPACE && !(n == ACM_EBADVALUE && t.mac_len > ACM_TSIG_MAC_MAX))
			abort();
		return 0;
	}
	if ((size_t)n > cap || acm_tsig_parse(buf, (size_t)n, len, &t2) != ACM_OK ||
	    t2.error != err)
		abort();
	bool unsigned_error = err == ACM_TSIG_BADSIG || err == ACM_TSIG_BADKEY;
	if (!unsigned_error && acm_tsig_verify_chained(buf, (size_t)n, &t2, key, t.mac, t.mac_len,
	                                               false, FUZZ_NOW) != ACM_TSIG_OK)
		abort();
	return 0;
}
