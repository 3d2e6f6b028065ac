/* SPDX-License-Identifier: ISC */
/*
 * acmensctl secondary-config: the configuration of a Knot DNS, NSD or BIND 9
 * secondary of our zone, from acmensd's own configuration (zone.name and a
 * key of its tsig: list), so that an operator pastes one block instead of
 * translating names, keys and addresses between four syntaxes by hand.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cli/cli.h"
#include "lib/dns/dname.h"
#include "lib/dns/zone_names.h"
#include "lib/error.h"

static const cli_usage_t secondary_usage[] = {
	{ "", "secondary-config knot|nsd|bind --primary ADDRESS[:PORT] --key NAME [--dir DIR]",
	  "  Prints the configuration of a secondary of zone.name for Knot DNS\n"
	  "  (knot.conf), NSD (nsd.conf) or BIND 9 (named.conf): the TSIG key NAME\n"
	  "  from the tsig: list, acmensd at ADDRESS (IPv4, [IPv6]; port 53 by\n"
	  "  default) as the primary, NOTIFY allowed from it with that key, and the\n"
	  "  zone, transferred with the key. The zone file goes to DIR (default\n"
	  "  /var/lib/knot, /var/lib/nsd, /var/cache/bind). The server's own\n"
	  "  options (listen addresses) stay yours. Reads the configuration only.\n" },
	{ NULL, NULL, NULL },
};

/* What the printers need, as text. */
typedef struct {
	const char *zone;                       /* zone.name without the final dot */
	const char *key;                        /* the key's name without it */
	const char *dir;                        /* where the zone file goes */
	char file[ACM_DNAME_TXT_MAX + 8];       /* the zone file's name in dir */
	char host[INET6_ADDRSTRLEN];            /* the primary's address */
	unsigned port;
} secondary_t;

static const char *const server_names[] = {
	[CLI_KEY_BIND] = "BIND 9 (named.conf)", [CLI_KEY_KNOT] = "Knot DNS (knot.conf)",
	[CLI_KEY_NSD] = "NSD (nsd.conf)",
};
static const char *const default_dirs[] = {
	[CLI_KEY_BIND] = "/var/cache/bind", [CLI_KEY_KNOT] = "/var/lib/knot",
	[CLI_KEY_NSD] = "/var/lib/nsd",
};

static void print_knot(FILE *f, const secondary_t *s)
{
	fprintf(f, "\nremote:\n  - id: acmens-primary\n    address: %s@%u\n    key: %s\n",
	        s->host, s->port, s->key);
	fprintf(f, "\nacl:\n  - id: acmens-notify\n    address: %s\n    key: %s\n"
	        "    action: notify\n", s->host, s->key);
	fprintf(f, "\nzone:\n  - domain: %s.\n    storage: %s\n    file: %s\n"
	        "    master: acmens-primary\n    acl: acmens-notify\n", s->zone, s->dir, s->file);
}

static void print_nsd(FILE *f, const secondary_t *s)
{
	fprintf(f, "\nzone:\n\tname: \"%s\"\n\tzonefile: \"%s/%s\"\n\trequest-xfr: %s@%u %s\n"
	        "\tallow-notify: %s %s\n", s->zone, s->dir, s->file, s->host, s->port, s->key,
	        s->host, s->key);
}

static void print_bind(FILE *f, const secondary_t *s)
{
	fprintf(f, "\nprimaries acmens-primary {\n\t%s port %u key \"%s\";\n};\n", s->host,
	        s->port, s->key);
	/* notify no: this server only follows acmensd; NOTIFY messages of its
	 * own would go to the zone's NS names for nothing. */
	fprintf(f, "\nzone \"%s\" {\n\ttype secondary;\n\tfile \"%s/%s\";\n"
	        "\tprimaries { acmens-primary; };\n\tallow-notify { %s; };\n\tnotify no;\n};\n",
	        s->zone, s->dir, s->file, s->host);
}

/* The key NAME of the tsig: list, or NULL. */
static const acm_tsig_key_t *find_key(const acm_config_t *cfg, const char *name)
{
	uint8_t wire[ACM_DNAME_MAX];

	if (acm_dname_from_text(name, wire) < 0)
		return NULL;
	for (size_t i = 0; i < cfg->tsig_count; i++)
		if (acm_dname_equal(cfg->tsig[i].name, wire))
			return &cfg->tsig[i];
	return NULL;
}

/* The primary's address and port as text, from ADDRESS[:PORT]. */
static int primary_text(const cli_t *c, const char *text, secondary_t *s)
{
	acm_listen_t l;
	const void *addr;
	int family;

	if (acm_listen_parse(text, 53, &l) != ACM_OK)
		return cli_fail(c, CLI_USAGE, "--primary '%s': use an address, IPv4[:PORT] or "
		                "[IPv6][:PORT], not a host name", text);
	family = l.addr.ss_family;
	if (family == AF_INET6) {
		const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)&l.addr;
		addr = &a6->sin6_addr;
		s->port = ntohs(a6->sin6_port);
	} else {
		const struct sockaddr_in *a4 = (const struct sockaddr_in *)&l.addr;
		addr = &a4->sin_addr;
		s->port = ntohs(a4->sin_port);
	}
	inet_ntop(family, addr, s->host, sizeof(s->host));
	return CLI_OK;
}

/* The configuration on f, after a header saying what it is and what the
 * acmens side needs for it. */
static void print_config(FILE *f, cli_key_format_t server, const acm_tsig_key_t *key,
                         const secondary_t *s)
{
	fprintf(f, "# %s: a secondary of %s, from acmensd at %s port %u,\n"
	        "# transfers and NOTIFY signed with the key %s.\n"
	        "# Made by acmensctl secondary-config; the server's own options (listen\n"
	        "# addresses) are not part of it. acmens.yaml needs this secondary in\n"
	        "# transfer.allow (with key %s) and in transfer.notify.\n",
	        server_names[server], s->zone, s->host, s->port, s->key, s->key);
	cli_tsig_print(f, key, server, "");
	if (server == CLI_KEY_KNOT)
		print_knot(f, s);
	else if (server == CLI_KEY_NSD)
		print_nsd(f, s);
	else
		print_bind(f, s);
}

int cmd_secondary_config(cli_t *c, int argc, char **argv)
{
	const char *primary = NULL, *key_name = NULL, *dir = NULL;
	const cli_opt_t opts[] = { { "--primary", &primary, NULL }, { "--key", &key_name, NULL },
	                           { "--dir", &dir, NULL }, { NULL, NULL, NULL } };
	char zone[ACM_DNAME_TXT_MAX], key_text[ACM_DNAME_TXT_MAX];
	char *operands[1], *text = NULL;
	size_t text_len = 0;
	const acm_tsig_key_t *key;
	cli_key_format_t server;
	secondary_t s = { 0 };
	FILE *f;
	int rc;

	if (cli_help_asked(argc, argv))
		return cli_help(secondary_usage, argc, argv);
	if (cli_parse(c, argc, argv, opts, true, operands, 1) != 1 || !primary || !key_name)
		return cli_usage(c, secondary_usage, NULL);
	if ((rc = cli_key_format(c, "server", operands[0], false, &server)) != CLI_OK)
		return rc;
	if ((rc = primary_text(c, primary, &s)) != CLI_OK)
		return rc;
	/* the directory goes into quoted strings of all three syntaxes */
	if (dir && (dir[0] != '/' || strpbrk(dir, "\"\\\n\r#;") || strlen(dir) > 1024))
		return cli_fail(c, CLI_USAGE, "--dir '%s': use an absolute path without quotes, "
		                "backslashes, '#', ';' or line breaks", dir);
	if ((rc = cli_load_config(c)) != CLI_OK)
		return rc;
	if (!(key = find_key(c->cfg, key_name)))
		return cli_fail(c, CLI_NOTFOUND, "no key '%s' in the tsig: list of %s", key_name,
		                c->config_path);
	if (!cli_tsig_name_plain(key))
		return cli_fail(c, CLI_USAGE, "key name '%s': %s takes letters, digits, '-', '_' "
		                "and '.' only; name the key so", key_name, operands[0]);
	acm_zname_zone_text(c->cfg->apex, zone);
	cli_tsig_name(key, key_text);
	s.zone = zone;
	s.key = key_text;
	s.dir = dir ? dir : default_dirs[server];
	snprintf(s.file, sizeof(s.file), "%s.zone", strcmp(zone, ".") ? zone : "root");

	if (!(f = open_memstream(&text, &text_len)))
		return cli_fail(c, CLI_STORE, "out of memory");
	print_config(f, server, key, &s);
	fclose(f);
	if (c->json)
		cli_print_json(json_pack("{s:s, s:s, s:s}", "server", operands[0], "zone", zone,
		                         "config", text));
	else
		fputs(text, stdout);
	OPENSSL_cleanse(text, text_len);
	free(text);
	return CLI_OK;
}
