/* SPDX-License-Identifier: ISC */
/*
 * Fuzz target: the parse of a secondary's reply to an SOA query or a
 * NOTIFY (lib/rt/soa_probe.c), and what the notifier does next with a reply
 * to a signed NOTIFY: the TSIG at the last additional record, verified
 * with the fixture key over the fixture NOTIFY's MAC.
 */
#include <stdlib.h>

#include "lib/error.h"
#include "lib/rt/soa_probe.h"
#include "lib/dns/wire.h"
#include "tests/fuzz/fixture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t apex[ACM_DNAME_MAX];
	size_t mac_len;
	const uint8_t *mac = fuzz_notify_mac(&mac_len);
	acm_soa_reply_t r;
	acm_tsig_rr_t t;

	if (!apex[0])
		acm_dname_from_text(FUZZ_APEX, apex);
	int rc = acm_soa_reply_parse(data, size, apex, &r);
	if (rc != ACM_OK) {
		if (rc != ACM_EMALF)
			abort();
		return 0;
	}
	if (size < 12 || !(data[2] & 0x80) || r.id != acm_get_u16(data) ||
	    r.opcode != ((data[2] >> 3) & 0xF) || r.rcode != (data[3] & 0xF) ||
	    r.has_additional != (acm_get_u16(data + 10) != 0) ||
	    (r.has_additional && (r.last_rr_offset < 12 || r.last_rr_offset >= size)))
		abort();
	if (r.has_additional && acm_tsig_parse(data, size, r.last_rr_offset, &t) == ACM_OK)
		(void)acm_tsig_verify_chained(data, size, &t, fuzz_key(), mac, mac_len, false,
		                              FUZZ_NOW);
	return 0;
}
