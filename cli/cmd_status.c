/* SPDX-License-Identifier: ISC */
/*
 * acmensctl status: the zone's serial from the store and, for every
 * secondary in transfer.notify, the serial it serves now, asked with an
 * SOA query of our own, so the answer does not depend on acmensd running.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/table.h"
#include "lib/error.h"
#include "lib/dns/zone_names.h"
#include "lib/rt/soa_probe.h"
#include "lib/rt/status_json.h"

#define STATUS_TIMEOUT_MS 1000

static const cli_usage_t status_usage[] = {
	{ "", "status [--timeout MS]",
	  "  Prints the zone serial and, for each secondary in transfer.notify, the\n"
	  "  serial it answers to an SOA query (waiting up to MS milliseconds, default\n"
	  "  1000) and whether that is current. \"synced\" (--json) is true when every\n"
	  "  secondary is current.\n" },
	{ NULL, NULL, NULL },
};

/* A secondary as the shared encoder takes it, and why it gave no serial. */
typedef struct {
	acm_secondary_status_t st;
	char error[64];
} row_t;

static void probe(const cli_t *c, const acm_listen_t *l, unsigned timeout,
                  row_t *row)
{
	int rcode = 0;
	int rc = acm_soa_probe((const struct sockaddr *)&l->addr, l->addrlen, c->cfg->apex, timeout,
	                       &row->st.serial, &rcode);
	snprintf(row->st.address, sizeof(row->st.address), "%s", l->text);
	row->st.seen = rc == ACM_OK;
	row->st.last_seen = row->st.seen ? (uint64_t)time(NULL) : 0;
	char rbuf[ACM_DNS_MNEMONIC_MAX];
	if (rc == ACM_ENOTFOUND)
		snprintf(row->error, sizeof(row->error), "no SOA in the answer (rcode %s)",
		         acm_dns_rcode_name(rcode, rbuf));
	else if (rc == -ETIMEDOUT)
		snprintf(row->error, sizeof(row->error), "no answer");
	else if (rc != ACM_OK)
		snprintf(row->error, sizeof(row->error), "%s", acm_strerror(rc));
}

static void print_json(const cli_t *c, uint32_t serial, const row_t *rows, size_t n, bool synced)
{
	char zone[ACM_DNAME_TXT_MAX];
	json_t *list = json_array();
	acm_zname_zone_text(c->cfg->apex, zone);
	for (size_t i = 0; list && i < n; i++)
		json_array_append_new(list, acm_secondary_json(&rows[i].st, serial,
		                                               rows[i].st.seen ? NULL : rows[i].error));
	cli_print_json(acm_zone_status_json(zone, serial, synced, list));
}

static int print_table(const cli_t *c, uint32_t serial, const row_t *rows, size_t n)
{
	printf("serial %u\n", serial);
	if (n == 0) {
		printf("no secondaries in transfer.notify\n");
		return CLI_OK;
	}
	cli_table_t *t = cli_table_new("lrl", "SECONDARY", "SERIAL", "STATUS");
	for (size_t i = 0; i < n; i++) {
		char sn[16] = "-";
		if (rows[i].st.seen)
			snprintf(sn, sizeof(sn), "%u", rows[i].st.serial);
		cli_table_row(t, (const char *[]){ rows[i].st.address, sn,
		              !rows[i].st.seen ? rows[i].error
		              : acm_secondary_current(&rows[i].st, serial) ? "current" : "behind" });
	}
	return cli_table_finish(c, t, "status");
}

int cmd_status(cli_t *c, int argc, char **argv)
{
	const char *timeout_text = NULL;
	const cli_opt_t opts[] = { { "--timeout", &timeout_text, NULL }, { NULL, NULL, NULL } };
	uint64_t timeout = STATUS_TIMEOUT_MS;
	if (cli_help_asked(argc, argv))
		return cli_help(status_usage, argc, argv);
	if (cli_parse(c, argc, argv, opts, true, NULL, 0) != 0)
		return cli_usage(c, status_usage, NULL);
	if (timeout_text && cli_number(c, "--timeout", timeout_text, 1, 60000, &timeout) != CLI_OK)
		return CLI_USAGE;
	acm_store_t *store;
	uint32_t serial = 0;
	int rc = cli_open_store(c, true, &store);
	if (rc != CLI_OK)
		return rc;
	rc = acm_store_serial(store, &serial);
	acm_store_close(store);
	if (rc != ACM_OK)
		return cli_fail(c, CLI_STORE, "status: %s", acm_strerror(rc));
	size_t n = c->cfg->transfer.notify_count;
	row_t *rows = calloc(n ? n : 1, sizeof(*rows));
	if (!rows)
		return cli_fail(c, CLI_STORE, "status: %s", acm_strerror(-ENOMEM));
	bool synced = true;
	for (size_t i = 0; i < n; i++) {
		probe(c, &c->cfg->transfer.notify[i], (unsigned)timeout, &rows[i]);
		synced = synced && acm_secondary_current(&rows[i].st, serial);
	}
	if (c->json)
		print_json(c, serial, rows, n, synced);
	else
		rc = print_table(c, serial, rows, n);
	free(rows);
	return rc;
}
