/* SPDX-License-Identifier: ISC */
/*
 * TSIG keys on the command line: acmensctl tsig-keygen (a new key for the
 * configuration file, no store involved), and the printing that it shares
 * with account tsig-key and secondary-config: a key in the syntax of
 * acmens.yaml, BIND's named.conf, knot.conf or nsd.conf, or JSON.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cli/cli.h"
#include "lib/error.h"
#include "lib/dns/tsig.h"
#include "lib/store/store_json.h"

#define B64_MAX (4 * ((ACM_TSIG_SECRET_MAX + 2) / 3) + 1)

static const cli_usage_t keygen_usage[] = {
	{ "", "tsig-keygen NAME [--algorithm hmac-sha256|hmac-sha384|hmac-sha512]\n"
	  "                   [--format acmens|bind|knot|nsd]",
	  "  Makes a new random TSIG key (32, 48 or 64 bytes for sha256, sha384,\n"
	  "  sha512; default hmac-sha256). Without --format: a tsig: entry to paste\n"
	  "  into acmens.yaml, followed by the same key in BIND's named.conf syntax\n"
	  "  (commented out). --format prints the key only, in the syntax of\n"
	  "  acmens.yaml, named.conf, knot.conf or nsd.conf. Does not touch the\n"
	  "  store; secondary-config prints a whole secondary with a configured key.\n" },
	{ NULL, NULL, NULL },
};

static const char *const format_names[] = {
	[CLI_KEY_ACMENS] = "acmens", [CLI_KEY_BIND] = "bind", [CLI_KEY_KNOT] = "knot",
	[CLI_KEY_NSD] = "nsd",
};

int cli_key_format(const cli_t *c, const char *what, const char *text, bool acmens,
                   cli_key_format_t *out)
{
	for (size_t i = acmens ? 0 : 1; i < sizeof(format_names) / sizeof(format_names[0]); i++)
		if (strcmp(text, format_names[i]) == 0) {
			*out = (cli_key_format_t)i;
			return CLI_OK;
		}
	return cli_fail(c, CLI_USAGE, "unknown %s '%s': use %sbind, knot or nsd", what, text,
	                acmens ? "acmens, " : "");
}

int cli_tsig_alg(const cli_t *c, const char *text, acm_tsig_alg_t *out)
{
	*out = ACM_TSIG_HMAC_SHA256;
	if (!text || acm_tsig_alg_from_text(text, out) == ACM_OK)
		return CLI_OK;
	return cli_fail(c, CLI_USAGE, "unknown --algorithm '%s': use hmac-sha256, hmac-sha384 "
	                "or hmac-sha512", text);
}

void cli_tsig_name(const acm_tsig_key_t *key, char out[ACM_DNAME_TXT_MAX])
{
	int n = acm_dname_to_text(key->name, out);

	if (n > 1 && out[n - 1] == '.')
		out[n - 1] = '\0';
}

bool cli_tsig_name_plain(const acm_tsig_key_t *key)
{
	char name[ACM_DNAME_TXT_MAX];

	cli_tsig_name(key, name);
	/* what every one of the three syntaxes takes unquoted and unescaped */
	return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
	       == strlen(name);
}

/* A tsig: list in YAML; the name single-quoted, since escapes in it (\DDD)
 * mean nothing to YAML there. */
static void yaml_entry(FILE *f, const char *name, const char *alg, const char *b64,
                       const char *p)
{
	fprintf(f, "%stsig:\n%s  - name: '", p, p);
	for (const char *s = name; *s; s++) {
		if (*s == '\'')
			fputc('\'', f);
		fputc(*s, f);
	}
	fprintf(f, "'\n%s    algorithm: %s\n%s    secret: \"%s\"\n", p, alg, p, b64);
}

void cli_tsig_print(FILE *f, const acm_tsig_key_t *key, cli_key_format_t fmt, const char *p)
{
	char name[ACM_DNAME_TXT_MAX], b64[B64_MAX];
	const char *alg = acm_tsig_alg_name(key->alg);

	cli_tsig_name(key, name);
	acm_tsig_secret_to_b64(key, b64, sizeof(b64));
	switch (fmt) {
	case CLI_KEY_ACMENS:
		yaml_entry(f, name, alg, b64, p);
		break;
	case CLI_KEY_BIND:
		fprintf(f, "%skey \"%s\" {\n%s\talgorithm %s;\n%s\tsecret \"%s\";\n%s};\n", p, name,
		        p, alg, p, b64, p);
		break;
	case CLI_KEY_KNOT:
		fprintf(f, "%skey:\n%s  - id: %s\n%s    algorithm: %s\n%s    secret: %s\n", p, p,
		        name, p, alg, p, b64);
		break;
	case CLI_KEY_NSD:
		fprintf(f, "%skey:\n%s\tname: \"%s\"\n%s\talgorithm: %s\n%s\tsecret: \"%s\"\n", p, p,
		        name, p, alg, p, b64);
		break;
	}
	OPENSSL_cleanse(b64, sizeof(b64));
}

int cmd_tsig_keygen(cli_t *c, int argc, char **argv)
{
	const char *alg_text = NULL, *format_text = NULL;
	const cli_opt_t opts[] = { { "--algorithm", &alg_text, NULL },
	                           { "--format", &format_text, NULL }, { NULL, NULL, NULL } };
	char *operands[1];
	cli_key_format_t fmt = CLI_KEY_ACMENS;
	acm_tsig_alg_t alg;
	acm_tsig_key_t key;
	int rc;

	if (cli_help_asked(argc, argv))
		return cli_help(keygen_usage, argc, argv);
	if (cli_parse(c, argc, argv, opts, true, operands, 1) != 1)
		return cli_usage(c, keygen_usage, NULL);
	if ((rc = cli_tsig_alg(c, alg_text, &alg)) != CLI_OK)
		return rc;
	if (format_text && (rc = cli_key_format(c, "--format", format_text, true, &fmt)) != CLI_OK)
		return rc;
	rc = acm_tsig_key_generate(operands[0], alg, &key);
	if (rc == ACM_EBADNAME)
		return cli_fail(c, CLI_USAGE, "invalid key name '%s'", operands[0]);
	if (rc != ACM_OK)
		return cli_fail(c, CLI_STORE, "cannot make a key: %s", acm_strerror(rc));
	if (fmt != CLI_KEY_ACMENS && !cli_tsig_name_plain(&key)) {
		OPENSSL_cleanse(&key, sizeof(key));
		return cli_fail(c, CLI_USAGE, "key name '%s': for --format %s use letters, digits, "
		                "'-', '_' and '.' only", operands[0], format_text);
	}
	if (c->json) {
		cli_print_json(acm_tsig_key_json(&key));
	} else if (format_text) {
		cli_tsig_print(stdout, &key, fmt, "");
	} else {
		printf("# for acmens.yaml:\n");
		cli_tsig_print(stdout, &key, CLI_KEY_ACMENS, "");
		printf("# the same key in BIND's named.conf syntax, for a secondary (--format knot\n"
		       "# or nsd for those; secondary-config prints a whole secondary):\n");
		cli_tsig_print(stdout, &key, CLI_KEY_BIND, "# ");
	}
	OPENSSL_cleanse(&key, sizeof(key));
	return CLI_OK;
}
