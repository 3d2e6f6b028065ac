/* SPDX-License-Identifier: ISC */
/*
 * acmensd's side of DNSSEC: the zone built with the store's keys when
 * dnssec.enabled (the first key generated when the store has none), and
 * the keys' generation, which acmensd polls to rebuild the zone when
 * acmensctl changed the keys.
 */
#ifndef ACM_SRC_ZONE_KEYS_H
#define ACM_SRC_ZONE_KEYS_H

#include <stdint.h>

#include "lib/conf/config.h"
#include "lib/conf/zone.h"
#include "lib/store/store.h"

/*
 * The zone of cfg: unsigned when dnssec.enabled is false, else with every
 * key of the store, one ACTIVE key made (and logged by tag and DS) when
 * there is none. *generation gets the keys' generation (0 unsigned).
 * ACM_OK, or an error with a message in err.
 */
int acm_zone_keys_build(const acm_config_t *cfg, acm_store_t *store, acm_zone_t **out,
                        uint64_t *generation, char *err, size_t errlen);

#endif
