/* SPDX-License-Identifier: ISC */
/*
 * TSIG keys on the command line: acmensctl tsig-keygen (a new key for the
 * configuration file, no store involved), and the printing that it shares
 * with account tsig-key: a BIND/Knot key block, or JSON with --json.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cli/cli.h"
#include "lib/error.h"
#include "lib/dns/tsig.h"

#define B64_MAX (4 * ((ACM_TSIG_SECRET_MAX + 2) / 3) + 1)

static const cli_usage_t keygen_usage[] = {
	{ "", "tsig-keygen NAME [--algorithm hmac-sha256|hmac-sha384|hmac-sha512]",
	  "  Makes a new random TSIG key (32, 48 or 64 bytes for sha256, sha384,\n"
	  "  sha512; default hmac-sha256) and prints it as a tsig: entry to paste\n"
	  "  into acmens.yaml, followed by the same key as a BIND/Knot key block\n"
	  "  (commented out) for the other side. Does not touch the store.\n" },
	{ NULL, NULL, NULL },
};

int cli_tsig_alg(const cli_t *c, const char *text, acm_tsig_alg_t *out)
{
	*out = ACM_TSIG_HMAC_SHA256;
	if (!text || acm_tsig_alg_from_text(text, out) == ACM_OK)
		return CLI_OK;
	return cli_fail(c, CLI_USAGE, "unknown --algorithm '%s': use hmac-sha256, hmac-sha384 "
	                "or hmac-sha512", text);
}

/* The key's name as text without the final dot, as key files write it. */
static void name_text(const acm_tsig_key_t *key, char out[ACM_DNAME_TXT_MAX])
{
	int n = acm_dname_to_text(key->name, out);

	if (n > 1 && out[n - 1] == '.')
		out[n - 1] = '\0';
}

json_t *cli_tsig_json(const acm_tsig_key_t *key)
{
	char name[ACM_DNAME_TXT_MAX], b64[B64_MAX];
	json_t *o;

	name_text(key, name);
	acm_tsig_secret_to_b64(key, b64, sizeof(b64));
	o = json_pack("{s:s, s:s, s:s}", "name", name, "algorithm", acm_tsig_alg_name(key->alg),
	              "secret", b64);
	OPENSSL_cleanse(b64, sizeof(b64));
	return o;
}

void cli_tsig_block(const acm_tsig_key_t *key, const char *prefix)
{
	char name[ACM_DNAME_TXT_MAX], b64[B64_MAX];

	name_text(key, name);
	acm_tsig_secret_to_b64(key, b64, sizeof(b64));
	printf("%skey \"%s\" {\n%s\talgorithm %s;\n%s\tsecret \"%s\";\n%s};\n", prefix, name,
	       prefix, acm_tsig_alg_name(key->alg), prefix, b64, prefix);
	OPENSSL_cleanse(b64, sizeof(b64));
}

/* A tsig: list in YAML; the name single-quoted, since escapes in it (\DDD)
 * mean nothing to YAML there. */
static void yaml_entry(const acm_tsig_key_t *key)
{
	char name[ACM_DNAME_TXT_MAX], b64[B64_MAX];

	name_text(key, name);
	acm_tsig_secret_to_b64(key, b64, sizeof(b64));
	printf("tsig:\n  - name: '");
	for (const char *p = name; *p; p++) {
		if (*p == '\'')
			putchar('\'');
		putchar(*p);
	}
	printf("'\n    algorithm: %s\n    secret: \"%s\"\n", acm_tsig_alg_name(key->alg), b64);
	OPENSSL_cleanse(b64, sizeof(b64));
}

int cmd_tsig_keygen(cli_t *c, int argc, char **argv)
{
	const char *alg_text = NULL;
	const cli_opt_t opts[] = { { "--algorithm", &alg_text, NULL }, { NULL, NULL, NULL } };
	char *operands[1];
	acm_tsig_alg_t alg;
	acm_tsig_key_t key;
	int rc;

	if (cli_help_asked(argc, argv))
		return cli_help(keygen_usage, argc, argv);
	if (cli_parse(c, argc, argv, opts, true, operands, 1) != 1)
		return cli_usage(c, keygen_usage, NULL);
	if ((rc = cli_tsig_alg(c, alg_text, &alg)) != CLI_OK)
		return rc;
	rc = acm_tsig_key_generate(operands[0], alg, &key);
	if (rc == ACM_EBADNAME)
		return cli_fail(c, CLI_USAGE, "invalid key name '%s'", operands[0]);
	if (rc != ACM_OK)
		return cli_fail(c, CLI_STORE, "cannot make a key: %s", acm_strerror(rc));
	if (c->json) {
		cli_print_json(cli_tsig_json(&key));
	} else {
		printf("# for acmens.yaml:\n");
		yaml_entry(&key);
		printf("# the same key for BIND or Knot (the other side):\n");
		cli_tsig_block(&key, "# ");
	}
	OPENSSL_cleanse(&key, sizeof(key));
	return CLI_OK;
}
