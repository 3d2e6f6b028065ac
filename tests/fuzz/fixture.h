/* SPDX-License-Identifier: ISC */
/*
 * What the fuzz targets share, and make_seeds.py must agree with: the zone
 * auth.example.org. with its static records, the account whose TSIG key
 * (hmac-sha256, FUZZ_KEY_SECRET) signs the seeds, the clock they were
 * signed at, and the MAC of the signed NOTIFY the reply seeds answer.
 */
#ifndef ACM_TESTS_FUZZ_FIXTURE_H
#define ACM_TESTS_FUZZ_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "lib/dns/tsig.h"
#include "lib/conf/zone.h"

#define FUZZ_APEX "auth.example.org."
#define FUZZ_ACCOUNT "d420c923-bbd7-4056-ab64-c3ca54c9b3cf"
#define FUZZ_KEY_NAME FUZZ_ACCOUNT "." FUZZ_APEX
#define FUZZ_KEY_SECRET "YWNtZW5zIGZ1enoga2V5OiBub3QgYSBzZWNyZXQgYXQgYWxs"
#define FUZZ_NOW 1767225600u    /* 2026-01-01T00:00:00Z: when the seeds were signed */
#define FUZZ_NOTIFY_ID 0x4242

/* Built once; abort() if the fixture does not build. */
acm_zone_t *fuzz_zone(void);
/* The same zone, signed by one ECDSA key made on first use. */
acm_zone_t *fuzz_signed_zone(void);
const acm_tsig_key_t *fuzz_key(void);
/* The MAC of the NOTIFY for FUZZ_APEX with FUZZ_NOTIFY_ID signed with the
 * key at FUZZ_NOW, as the notifier keeps it to check the reply. */
const uint8_t *fuzz_notify_mac(size_t *len);

#endif
