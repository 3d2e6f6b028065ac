/* SPDX-License-Identifier: ISC */
/*
 * The zone's DNSSEC keys, kept in the store beside the data they sign, so
 * that `acmensctl backup` copies them with it and acmensd and acmensctl
 * see one truth. The named database "dnssec":
 *
 *   u32 BE id (>= 1)  -> u8 version (1), u8 algorithm, u8 state,
 *                        u64 BE created, u64 BE changed, private key PEM
 *   0x00 "generation" -> u64 BE, bumped by every change of the keys
 *
 * The store's files are 0600. Changes of the keys change no DNS data by
 * themselves (no serial bump, no journal entry): the zone built from them
 * carries DNSKEY, CDS and CDNSKEY, and its digest moves the serial
 * (acm_store_sync_static) when acmensd publishes it. Each change is in the
 * audit log (actor as given, never the key's bytes).
 */
#ifndef ACM_STORE_DNSSEC_H
#define ACM_STORE_DNSSEC_H

#include <stdint.h>

#include "lib/dns/dnssec.h"
#include "lib/store/store.h"

/* Every key, decoded, in id order, into out (emptied first; free with
 * acm_dnssec_keyset_clear), and the keys' generation. ACM_OK (none is
 * count 0); ACM_ECORRUPT for a record that does not decode; a store
 * failure. */
int acm_store_dnssec_load(acm_store_t *store, acm_dnssec_keyset_t *out, uint64_t *generation);
/* The keys' generation alone, cheap enough to poll: 0 when no key was
 * ever stored. */
int acm_store_dnssec_generation(acm_store_t *store, uint64_t *generation);
/* Add a key in a state; *id gets its number. ACM_EFULL when the zone
 * already has ACM_DNSSEC_KEYS_MAX keys. */
int acm_store_dnssec_add(acm_store_t *store, const acm_dnssec_key_t *key, uint8_t state,
                         const char *actor, uint32_t *id);
/* Move a key to a state, or delete it (state 0). ACM_ENOTFOUND. */
int acm_store_dnssec_set_state(acm_store_t *store, uint32_t id, uint8_t state,
                               const char *actor);
/* A rollover's swap in one change: key id becomes active, and the key
 * active until then retiring. ACM_ENOTFOUND; ACM_EEXIST when id is the
 * active key already. */
int acm_store_dnssec_activate(acm_store_t *store, uint32_t id, const char *actor);

#endif
