/* SPDX-License-Identifier: ISC */
/*
 * What acmensctl dnssec's verbs share (cli/cmd_dnssec.c, the key, DS and
 * export verbs; cli/dnssec_roll.c, status and rollover): the zone's keys
 * as loaded from the store, a key as zone-file text and JSON, and the plan
 * of the rollover's next step, so that status says exactly what rollover
 * would do.
 */
#ifndef ACM_CLI_DNSSEC_H
#define ACM_CLI_DNSSEC_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "cli/cli.h"
#include "lib/dns/dnssec.h"

#define CLI_DS_TTL_DEFAULT 86400u    /* the parent's DS TTL when not given */
#define CLI_RECORD_MAX 512           /* one DS or DNSKEY line */

typedef struct {
	acm_store_t *store;
	acm_dnssec_keyset_t ks;
	uint64_t generation;
} cli_keys_t;

/* Load the configuration, open the store and read its keys. CLI_OK, or
 * an exit code after the error message (nothing left open). */
int cli_keys_open(cli_t *c, bool read_only, cli_keys_t *k);
void cli_keys_close(cli_keys_t *k);

/* The key's DS (ds true) or DNSKEY record in zone-file syntax, owner the
 * zone's apex, TTL the SOA's (what DNSKEY, CDS and CDNSKEY are served
 * with). CLI_OK or CLI_STORE (reported). */
int cli_dnssec_record(const cli_t *c, const acm_dnssec_keyent_t *e, bool ds, char *out,
                      size_t len);
/* {"id", "tag", "algorithm", "state", "created", "changed"} */
json_t *cli_dnssec_key_json(const acm_dnssec_keyent_t *e);

/* The rollover's next step, as the key set stands. */
enum cli_roll_step {
	CLI_ROLL_NONE = 0,        /* no key: keygen first */
	CLI_ROLL_PUBLISH = 1,     /* one active key: add a new one, published */
	CLI_ROLL_ACTIVATE = 2,    /* active + published: the new one signs */
	CLI_ROLL_REMOVE = 3,      /* active + retiring: the old one goes */
	CLI_ROLL_STUCK = 4,       /* states no step leads to */
};

typedef struct {
	enum cli_roll_step step;
	const acm_dnssec_keyent_t *active;   /* the signing key (NULL for NONE) */
	const acm_dnssec_keyent_t *other;    /* ACTIVATE: the published key; REMOVE: the retiring one */
	uint64_t since;           /* the change the wait counts from */
	uint64_t allowed;         /* when the step may run without --force */
	char waits_for[256];      /* what the wait is for, in words */
} cli_roll_plan_t;

void cli_roll_plan(const acm_dnssec_keyset_t *ks, uint32_t dnskey_ttl, uint32_t ds_ttl,
                   cli_roll_plan_t *p);

/* Every verb's usage, for --help and usage errors. */
extern const cli_usage_t cli_dnssec_usage[];

int cmd_dnssec_status(cli_t *c, int argc, char **argv);
int cmd_dnssec_rollover(cli_t *c, int argc, char **argv);

#endif
