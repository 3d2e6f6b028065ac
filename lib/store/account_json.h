/* SPDX-License-Identifier: ISC */
/*
 * The JSON an operator and a client see of an account and of its TXT
 * values: one encoder for the HTTP API's replies and for acmensctl --json,
 * so that a script can read either. Never any key material.
 */
#ifndef ACM_ACCOUNT_JSON_H
#define ACM_ACCOUNT_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "lib/store/account.h"
#include "lib/store/store.h"

/* The JSON array of an account's allowfrom entries; NULL when out of
 * memory. */
json_t *acm_allowfrom_json(const acm_account_t *acc);

/*
 * {"subdomain","fulldomain","username","allowfrom","created","updated",
 * "disabled"}, the fulldomain under zone_text (acm_zname_zone_text); with
 * admin also "key_scheme" and "tsig" (null, or the key's name and
 * algorithm, never its secret), as the admin API and acmensctl show it.
 * NULL when out of memory.
 */
json_t *acm_account_json(const char *zone_text, const acm_account_t *acc, bool admin);

/* An account as lists show it: acm_account_json's admin view with
 * "value_count", its values (expired ones not yet swept included). */
json_t *acm_account_entry_json(const char *zone_text, const acm_account_t *acc, size_t values);

/* acm_values_json's flags */
#define ACM_VALUES_ALL 0x1   /* also the expired values (acmensctl) */

/*
 * [{"value","set","expires","expired"}] of the n values ("expires" null
 * when never): without flags those not expired at now (the API). *live
 * gets the count of those not expired. NULL when out of memory.
 */
json_t *acm_values_json(const acm_txt_t *v, size_t n, uint64_t now, unsigned flags,
                        size_t *live);

#endif
