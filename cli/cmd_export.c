/* SPDX-License-Identifier: ISC */
/*
 * acmensctl export: the whole zone (SOA with the store's serial, apex NS,
 * static records, every unexpired TXT value) as an RFC 1035 zone file,
 * formatted by ldns so any standard server can load it.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <ldns/ldns.h>

#include "cli/cli.h"
#include "lib/error.h"
#include "lib/conf/zone.h"

static const cli_usage_t export_usage[] = {
	{ "", "export",
	  "  Prints the zone as an RFC 1035 zone file: SOA (with the store's serial),\n"
	  "  apex NS, the static records and every unexpired TXT value.\n" },
	{ NULL, NULL, NULL },
};

typedef struct {
	uint32_t ttl;
	uint64_t now;
	FILE *out;
	int err;
} export_ctx_t;

static ldns_rr *txt_rr(const uint8_t *owner, const acm_rr_entry_t *e, uint32_t ttl)
{
	ldns_rr *rr = ldns_rr_new();
	ldns_rdf *o = rr ? ldns_rdf_new_frm_data(LDNS_RDF_TYPE_DNAME, acm_dname_len(owner), owner)
	                 : NULL;
	if (!o) {
		ldns_rr_free(rr);
		return NULL;
	}
	ldns_rr_set_owner(rr, o);
	ldns_rr_set_type(rr, LDNS_RR_TYPE_TXT);
	ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
	ldns_rr_set_ttl(rr, ttl);
	/* rdata is a run of <character-string>s; each becomes one rdf. */
	for (size_t pos = 0; pos < e->rdlen;) {
		size_t len = e->rdata[pos];
		if (pos + 1 + len > e->rdlen)
			break;
		ldns_rdf *s = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_STR, len + 1, e->rdata + pos);
		if (!s || !ldns_rr_push_rdf(rr, s)) {
			ldns_rdf_deep_free(s);
			ldns_rr_free(rr);
			return NULL;
		}
		pos += 1 + len;
	}
	return rr;
}

static int export_rrset(const uint8_t *owner, const uint8_t *rec, size_t len, void *arg)
{
	export_ctx_t *x = arg;
	acm_rr_iter_t it;
	acm_rr_entry_t e;
	int rc = acm_rr_iter_init(&it, rec, len);
	while (rc == ACM_OK && (rc = acm_rr_iter_next(&it, &e)) == 1) {
		rc = ACM_OK;
		if (acm_expired(e.expires, x->now))
			continue;
		ldns_rr *rr = txt_rr(owner, &e, x->ttl);
		if (!rr)
			return ACM_ECORRUPT;
		ldns_rr_print(x->out, rr);
		ldns_rr_free(rr);
	}
	return rc < 0 ? rc : ACM_OK;
}

int cmd_export(cli_t *c, int argc, char **argv)
{
	if (cli_help_asked(argc, argv))
		return cli_help(export_usage, argc, argv);
	if (argc != 1)
		return cli_usage(c, export_usage, NULL);
	if (c->json)
		return cli_fail(c, CLI_USAGE, "export prints a zone file; --json does not apply");
	acm_store_t *store;
	int rc = cli_open_store(c, true, &store);
	if (rc != CLI_OK)
		return rc;
	uint32_t serial = 0;
	ldns_rr_list *rrs = NULL;
	char err[ACM_CONFIG_ERR_MAX] = "";
	rc = acm_store_serial(store, &serial);
	if (rc == ACM_OK)
		rc = acm_zone_static_rrs(c->cfg, serial, &rrs, err, sizeof(err));
	if (rc != ACM_OK) {
		acm_store_close(store);
		return cli_fail(c, CLI_STORE, "export: %s", err[0] ? err : acm_strerror(rc));
	}
	char apex[ACM_DNAME_TXT_MAX];
	acm_dname_to_text(c->cfg->apex, apex);
	printf("$ORIGIN %s\n", apex);
	ldns_rr_list_print(stdout, rrs);
	ldns_rr_list_deep_free(rrs);
	export_ctx_t x = { c->cfg->txt_ttl, (uint64_t)time(NULL), stdout, ACM_OK };
	rc = acm_store_foreach_rrset(store, export_rrset, &x);
	acm_store_close(store);
	if (rc != ACM_OK)
		return cli_fail(c, CLI_STORE, "export: %s", acm_strerror(rc));
	return CLI_OK;
}
