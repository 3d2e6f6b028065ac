/* SPDX-License-Identifier: ISC */
/*
 * acmensctl dnssec status and rollover: the key set read as a plan (which
 * step of the CSK rollover comes next, and from when resolvers' caches
 * allow it), shown by status and carried out by rollover. The waits count
 * from the last change of the keys: caches hold the DNSKEY set for its TTL
 * (the SOA's) and the parent's DS for the DS TTL, which only the operator
 * knows (--ds-ttl).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/dnssec_cli.h"
#include "cli/table.h"
#include "lib/error.h"
#include "lib/store/store_dnssec.h"

static const char *const step_names[] = {
	[CLI_ROLL_NONE] = "keygen", [CLI_ROLL_PUBLISH] = "publish",
	[CLI_ROLL_ACTIVATE] = "activate", [CLI_ROLL_REMOVE] = "remove",
	[CLI_ROLL_STUCK] = "none",
};

/* The one key in state, or NULL when none or several are. */
static const acm_dnssec_keyent_t *only_in(const acm_dnssec_keyset_t *ks, uint8_t state,
                                          size_t *count)
{
	const acm_dnssec_keyent_t *e = NULL;
	*count = 0;
	for (size_t i = 0; i < ks->count; i++)
		if (ks->keys[i].state == state) {
			e = &ks->keys[i];
			(*count)++;
		}
	return *count == 1 ? e : NULL;
}

void cli_roll_plan(const acm_dnssec_keyset_t *ks, uint32_t dnskey_ttl, uint32_t ds_ttl,
                   cli_roll_plan_t *p)
{
	size_t na, np, nr;
	memset(p, 0, sizeof(*p));
	p->active = only_in(ks, ACM_KEY_ACTIVE, &na);
	const acm_dnssec_keyent_t *pub = only_in(ks, ACM_KEY_PUBLISHED, &np);
	const acm_dnssec_keyent_t *ret = only_in(ks, ACM_KEY_RETIRING, &nr);
	for (size_t i = 0; i < ks->count; i++)
		if (ks->keys[i].changed > p->since)
			p->since = ks->keys[i].changed;
	p->allowed = p->since + dnskey_ttl;
	if (ks->count == 0) {
		p->step = CLI_ROLL_NONE;
		p->allowed = 0;
		snprintf(p->waits_for, sizeof(p->waits_for), "no key yet");
	} else if (!p->active || ks->count != 1 + np + nr || np + nr > 1) {
		p->step = CLI_ROLL_STUCK;
		p->allowed = 0;
		snprintf(p->waits_for, sizeof(p->waits_for),
		         "the keys' states fit no rollover step (one active key is needed)");
	} else if (pub) {
		p->step = CLI_ROLL_ACTIVATE;
		p->other = pub;
		p->allowed += ds_ttl;
		snprintf(p->waits_for, sizeof(p->waits_for),
		         "the DNSKEY set with key %u in caches (TTL %u) and the parent's new DS "
		         "replacing the old one in caches (DS TTL %u)",
		         acm_dnssec_key_tag(pub->key), dnskey_ttl, ds_ttl);
	} else if (ret) {
		p->step = CLI_ROLL_REMOVE;
		p->other = ret;
		snprintf(p->waits_for, sizeof(p->waits_for),
		         "the signatures of key %u to leave caches (TTL %u)",
		         acm_dnssec_key_tag(ret->key), dnskey_ttl);
	} else {
		p->step = CLI_ROLL_PUBLISH;
		snprintf(p->waits_for, sizeof(p->waits_for),
		         "the last change of the DNSKEY set to reach caches (TTL %u)", dnskey_ttl);
	}
}

/* The words of status (force NULL) or rollover (--force sets *force), the
 * keys (the store opened for writing by rollover) and the plan they give.
 * CLI_OK, or an exit code after the message, with nothing left open. */
static int plan_open(cli_t *c, int argc, char **argv, const char *verb, bool *force,
                     cli_keys_t *k, cli_roll_plan_t *p)
{
	const char *ds_text = NULL;
	cli_opt_t opts[] = { { "--ds-ttl", &ds_text, NULL }, { "--force", NULL, force },
	                     { NULL, NULL, NULL } };
	uint64_t ds_ttl = CLI_DS_TTL_DEFAULT;

	if (force)
		*force = false;
	else
		opts[1] = opts[2];      /* status takes no --force */
	if (cli_parse(c, argc, argv, opts, true, NULL, 0) != 0)
		return cli_usage(c, cli_dnssec_usage, verb);
	int rc = ds_text ? cli_number(c, "--ds-ttl", ds_text, 0, 2147483647, &ds_ttl) : CLI_OK;
	if (rc != CLI_OK || (rc = cli_keys_open(c, !force, k)) != CLI_OK)
		return rc;
	cli_roll_plan(&k->ks, c->cfg->soa.ttl, (uint32_t)ds_ttl, p);
	return CLI_OK;
}

/* ---- status ------------------------------------------------------------- */

static json_t *plan_json(const cli_roll_plan_t *p)
{
	json_t *o = json_pack("{s:i, s:s, s:s}", "step", (int)p->step, "action",
	                      step_names[p->step], "waits_for", p->waits_for);
	json_object_set_new(o, "allowed", p->allowed ? json_integer((json_int_t)p->allowed)
	                                             : json_null());
	json_object_set_new(o, "key", p->other ? json_integer(acm_dnssec_key_tag(p->other->key))
	                                       : json_null());
	return o;
}

static int status_json(const cli_t *c, const acm_dnssec_keyset_t *ks, const cli_roll_plan_t *p)
{
	char zone[ACM_DNAME_TXT_MAX];
	int n = acm_dname_to_text(c->cfg->apex, zone);
	json_t *keys = json_array();
	if (n > 1)
		zone[n - 1] = '\0';
	for (size_t i = 0; i < ks->count; i++)
		json_array_append_new(keys, cli_dnssec_key_json(&ks->keys[i]));
	cli_print_json(json_pack("{s:s, s:b, s:s, s:i, s:o, s:o}", "zone", zone,
	                         "enabled", c->cfg->dnssec.enabled, "algorithm",
	                         acm_dnssec_algorithm_name(c->cfg->dnssec.algorithm),
	                         "dnskey_ttl", (int)c->cfg->soa.ttl, "keys", keys,
	                         "next", plan_json(p)));
	return CLI_OK;
}

static int status_text(const cli_t *c, const acm_dnssec_keyset_t *ks, const cli_roll_plan_t *p)
{
	char created[CLI_TIME_MAX], changed[CLI_TIME_MAX], id[16], tag[8], when[CLI_TIME_MAX];
	cli_table_t *t = cli_table_new("rrllll", "ID", "TAG", "ALGORITHM", "STATE", "CREATED",
	                               "CHANGED");
	printf("dnssec.enabled: %s\n", c->cfg->dnssec.enabled ? "true" : "false (nothing is signed)");
	for (size_t i = 0; t && i < ks->count; i++) {
		const acm_dnssec_keyent_t *e = &ks->keys[i];
		snprintf(id, sizeof(id), "%u", (unsigned)e->id);
		snprintf(tag, sizeof(tag), "%u", acm_dnssec_key_tag(e->key));
		const char *row[] = { id, tag, acm_dnssec_algorithm_name(acm_dnssec_key_algorithm(e->key)),
		                      acm_dnssec_key_state_name(e->state),
		                      cli_time(e->created, created, "-"), cli_time(e->changed, changed, "-") };
		cli_table_row(t, row);
	}
	int rc = cli_table_finish(c, t, "dnssec status");
	if (rc != CLI_OK)
		return rc;
	if (p->step == CLI_ROLL_NONE)
		printf("no key: acmensctl dnssec keygen makes one%s\n",
		       c->cfg->dnssec.enabled ? " (acmensd makes one at start)" : "");
	else if (p->step == CLI_ROLL_STUCK)
		printf("next rollover step: none: %s\n", p->waits_for);
	else
		printf("next rollover step: %d (%s), allowed from %s: it waits for %s\n", (int)p->step,
		       step_names[p->step], cli_time(p->allowed, when, "now"), p->waits_for);
	return CLI_OK;
}

int cmd_dnssec_status(cli_t *c, int argc, char **argv)
{
	cli_roll_plan_t p;
	cli_keys_t k;
	int rc = plan_open(c, argc, argv, "status", NULL, &k, &p);
	if (rc != CLI_OK)
		return rc;
	rc = c->json ? status_json(c, &k.ks, &p) : status_text(c, &k.ks, &p);
	cli_keys_close(&k);
	return rc;
}

/* ---- rollover ----------------------------------------------------------- */

/* Step 1: a new key of the active key's algorithm, published only. */
static int roll_publish(cli_keys_t *k, const cli_roll_plan_t *p, const char *who,
                        uint16_t *tag)
{
	acm_dnssec_key_t *key = NULL;
	uint32_t id;
	int rc = acm_dnssec_key_generate(acm_dnssec_key_algorithm(p->active->key), &key);
	if (rc == ACM_OK)
		rc = acm_store_dnssec_add(k->store, key, ACM_KEY_PUBLISHED, who, &id);
	if (rc == ACM_OK)
		*tag = acm_dnssec_key_tag(key);
	acm_dnssec_key_free(key);
	return rc;
}

static void roll_said(const cli_t *c, const cli_roll_plan_t *p, uint16_t new_tag)
{
	unsigned act = acm_dnssec_key_tag(p->active->key);
	unsigned other = p->other ? acm_dnssec_key_tag(p->other->key) : new_tag;
	if (c->json) {
		cli_print_json(json_pack("{s:i, s:s, s:i, s:i}", "step", (int)p->step, "action",
		                         step_names[p->step], "key", (int)other, "active",
		                         (int)(p->step == CLI_ROLL_ACTIVATE ? other : act)));
		return;
	}
	if (p->step == CLI_ROLL_PUBLISH)
		printf("step 1 of 3 done: key %u published beside key %u, which still signs.\n"
		       "Next: put the new DS at the parent (acmensctl dnssec ds), then run\n"
		       "acmensctl dnssec rollover again (acmensctl dnssec status says when).\n",
		       other, act);
	else if (p->step == CLI_ROLL_ACTIVATE)
		printf("step 2 of 3 done: key %u signs, key %u retires (still in the DNSKEY set).\n"
		       "Next: acmensctl dnssec rollover removes key %u once caches let it.\n",
		       other, act, act);
	else
		printf("step 3 of 3 done: key %u removed; key %u alone signs.\n", other, act);
}

static int roll_refused(const cli_t *c, const cli_roll_plan_t *p, uint64_t now)
{
	char when[CLI_TIME_MAX];
	if (p->step == CLI_ROLL_NONE)
		return cli_fail(c, CLI_NOTFOUND, "dnssec rollover: the zone has no key; "
		                "acmensctl dnssec keygen makes the first one");
	if (p->step == CLI_ROLL_STUCK)
		return cli_fail(c, CLI_REJECTED, "dnssec rollover: %s; see acmensctl dnssec status",
		                p->waits_for);
	return cli_fail(c, CLI_REJECTED, "dnssec rollover: step %d (%s) waits until %s "
	                "(%llu s from now) for %s; --force goes ahead now", (int)p->step,
	                step_names[p->step], cli_time(p->allowed, when, "-"),
	                (unsigned long long)(p->allowed - now), p->waits_for);
}

static int roll_step(cli_keys_t *k, const cli_roll_plan_t *p, uint16_t *new_tag)
{
	char who[160];
	cli_actor(who, sizeof(who));
	switch (p->step) {
	case CLI_ROLL_PUBLISH: return roll_publish(k, p, who, new_tag);
	case CLI_ROLL_ACTIVATE: return acm_store_dnssec_activate(k->store, p->other->id, who);
	case CLI_ROLL_REMOVE: return acm_store_dnssec_set_state(k->store, p->other->id, 0, who);
	default: return ACM_ERROR;
	}
}

int cmd_dnssec_rollover(cli_t *c, int argc, char **argv)
{
	uint64_t now = (uint64_t)time(NULL);
	bool force = false;
	cli_roll_plan_t p;
	uint16_t new_tag = 0;
	cli_keys_t k;
	int rc = plan_open(c, argc, argv, "rollover", &force, &k, &p);
	if (rc != CLI_OK)
		return rc;
	if (p.step == CLI_ROLL_NONE || p.step == CLI_ROLL_STUCK || (!force && now < p.allowed)) {
		rc = roll_refused(c, &p, now);
	} else {
		int err = roll_step(&k, &p, &new_tag);
		if (err == ACM_OK)
			roll_said(c, &p, new_tag);
		else
			rc = cli_fail(c, cli_exit_code(err), "dnssec rollover: step %d: %s",
			              (int)p.step, acm_strerror(err));
	}
	cli_keys_close(&k);
	return rc;
}
