/* SPDX-License-Identifier: ISC */
/*
 * acmensctl dnssec: the zone's signing keys in the store
 * (lib/store/store_dnssec.h). keygen makes the first key, ds prints what
 * the parent zone needs, export-key writes a private key to a new file for
 * a secondary that signs with the same key; status and rollover are in
 * cli/dnssec_roll.c. A private key is never printed and never audited:
 * only its tag and where it was written.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "cli/dnssec_cli.h"
#include "lib/error.h"
#include "lib/store/store_dnssec.h"

const cli_usage_t cli_dnssec_usage[] = {
	{ "keygen", "dnssec keygen [--algorithm ecdsap256sha256|ed25519]",
	  "  Makes the zone's first key (default: dnssec.algorithm), active: it signs\n"
	  "  everything. Refused (exit 1) when the zone has a key: dnssec rollover\n"
	  "  replaces one. acmensd serves it within a second.\n" },
	{ "ds", "dnssec ds",
	  "  The DS record the parent zone should hold (SHA-256) and the key's\n"
	  "  DNSKEY record, for parents that take that, in zone-file syntax. During\n"
	  "  a rollover: the new key's, and the old DS to remove once the new one\n"
	  "  is in.\n" },
	{ "status", "dnssec status [--ds-ttl SECONDS]",
	  "  Whether dnssec.enabled, each key (id, tag, algorithm, state, created,\n"
	  "  changed), and the rollover's next step with when it is allowed.\n" },
	{ "export-key", "dnssec export-key TAG --out FILE",
	  "  Writes the key TAG's private key (PKCS#8 PEM) to FILE, created with\n"
	  "  mode 0600; an existing FILE is refused. For a secondary that signs\n"
	  "  with the same key (Knot: keymgr ZONE import-pem FILE). Never printed;\n"
	  "  the audit log records the tag and the file.\n" },
	{ "rollover", "dnssec rollover [--force] [--ds-ttl SECONDS]",
	  "  The next step of replacing the key: (1) a new key, published only;\n"
	  "  (2) the new key signs, the old one retires; (3) the old key goes.\n"
	  "  Refused (exit 4) until the DNSKEY TTL (step 2: plus the parent's DS\n"
	  "  TTL, default 86400) has passed since the last change; it says until\n"
	  "  when. --force goes ahead at once.\n" },
	{ NULL, NULL, NULL },
};

/* ---- what the verbs share ---------------------------------------------- */

int cli_keys_open(cli_t *c, bool read_only, cli_keys_t *k)
{
	memset(k, 0, sizeof(*k));
	int rc = cli_open_store(c, read_only, &k->store);
	if (rc != CLI_OK)
		return rc;
	rc = acm_store_dnssec_load(k->store, &k->ks, &k->generation);
	if (rc != ACM_OK) {
		acm_store_close(k->store);
		k->store = NULL;
		return cli_fail(c, CLI_STORE, "dnssec: cannot read the keys: %s", acm_strerror(rc));
	}
	return CLI_OK;
}

void cli_keys_close(cli_keys_t *k)
{
	acm_dnssec_keyset_clear(&k->ks);
	if (k->store)
		acm_store_close(k->store);
	k->store = NULL;
}

int cli_dnssec_record(const cli_t *c, const acm_dnssec_keyent_t *e, bool ds, char *out,
                      size_t len)
{
	char owner[ACM_DNAME_TXT_MAX], data[2 * ACM_DNSKEY_RDATA_MAX + 8];
	const acm_config_t *cfg = c->cfg;
	uint8_t rd[ACM_DS_RDATA_LEN];
	size_t n;

	acm_dname_to_text(cfg->apex, owner);
	if (ds) {
		if (acm_dnssec_key_ds(e->key, cfg->apex, acm_dname_len(cfg->apex), rd) != ACM_OK)
			return cli_fail(c, CLI_STORE, "dnssec: cannot compute the DS of key %u",
			                acm_dnssec_key_tag(e->key));
		char text[ACM_DS_TEXT_MAX];
		acm_dnssec_ds_text(rd, text);
		snprintf(out, len, "%s %u IN DS %s", owner, (unsigned)cfg->soa.ttl, text);
		return CLI_OK;
	}
	const uint8_t *dk = acm_dnssec_key_dnskey(e->key, &n);
	EVP_EncodeBlock((unsigned char *)data, dk + 4, (int)(n - 4));
	snprintf(out, len, "%s %u IN DNSKEY %u %u %u %s", owner, (unsigned)cfg->soa.ttl,
	         (unsigned)(dk[0] << 8 | dk[1]), dk[2], dk[3], data);
	return CLI_OK;
}

static json_t *time_or_null(uint64_t t)
{
	return t ? json_integer((json_int_t)t) : json_null();
}

json_t *cli_dnssec_key_json(const acm_dnssec_keyent_t *e)
{
	const char *alg = acm_dnssec_algorithm_name(acm_dnssec_key_algorithm(e->key));
	return json_pack("{s:I, s:i, s:s, s:s, s:o, s:o}", "id", (json_int_t)e->id,
	                 "tag", (int)acm_dnssec_key_tag(e->key), "algorithm", alg ? alg : "unknown",
	                 "state", acm_dnssec_key_state_name(e->state),
	                 "created", time_or_null(e->created), "changed", time_or_null(e->changed));
}

/* ---- keygen ------------------------------------------------------------- */

static int keygen_refused(const cli_t *c, const acm_dnssec_keyset_t *ks)
{
	char tags[64] = "";
	for (size_t i = 0; i < ks->count; i++) {
		size_t used = strlen(tags);
		snprintf(tags + used, sizeof(tags) - used, "%s%u", i ? ", " : "",
		         acm_dnssec_key_tag(ks->keys[i].key));
	}
	return cli_fail(c, CLI_USAGE, "dnssec keygen: the zone already has %s (%s); "
	                "use dnssec rollover to replace it", ks->count == 1 ? "a key" : "keys",
	                tags);
}

static int keygen_algorithm(const cli_t *c, const char *text, uint8_t *alg)
{
	*alg = c->cfg->dnssec.algorithm;
	if (!text || acm_dnssec_algorithm_parse(text, alg) == ACM_OK)
		return CLI_OK;
	return cli_fail(c, CLI_USAGE, "unknown --algorithm '%s': use ecdsap256sha256 or ed25519",
	                text);
}

/* JSON: the key as the store now holds it, so that created and changed are
 * the times dnssec status will show, not null as for never. */
static int keygen_done(cli_t *c, cli_keys_t *k, const acm_dnssec_key_t *key, uint32_t id)
{
	if (c->json) {
		acm_dnssec_keyset_clear(&k->ks);
		int rc = acm_store_dnssec_load(k->store, &k->ks, &k->generation);
		const acm_dnssec_keyent_t *e = rc == ACM_OK ? acm_dnssec_keyset_active(&k->ks) : NULL;
		if (!e || e->id != id)
			return cli_fail(c, CLI_STORE, "dnssec keygen: key %u made, but not read back: %s",
			                acm_dnssec_key_tag(key), rc == ACM_OK ? "another key is active"
			                                                      : acm_strerror(rc));
		cli_print_json(cli_dnssec_key_json(e));
		return CLI_OK;
	}
	printf("ok, key %u (%s) active; acmensctl dnssec ds prints the DS for the parent\n",
	       acm_dnssec_key_tag(key), acm_dnssec_algorithm_name(acm_dnssec_key_algorithm(key)));
	return CLI_OK;
}

static int dnssec_keygen(cli_t *c, int argc, char **argv)
{
	const char *alg_text = NULL;
	const cli_opt_t opts[] = { { "--algorithm", &alg_text, NULL }, { NULL, NULL, NULL } };
	char who[160];
	acm_dnssec_key_t *key = NULL;
	cli_keys_t k;
	uint8_t alg;
	uint32_t id;

	if (cli_parse(c, argc, argv, opts, true, NULL, 0) != 0)
		return cli_usage(c, cli_dnssec_usage, "keygen");
	int rc = cli_load_config(c);
	if (rc != CLI_OK || (rc = keygen_algorithm(c, alg_text, &alg)) != CLI_OK)
		return rc;
	if ((rc = cli_keys_open(c, false, &k)) != CLI_OK)
		return rc;
	if (k.ks.count) {
		rc = keygen_refused(c, &k.ks);
		cli_keys_close(&k);
		return rc;
	}
	cli_actor(who, sizeof(who));
	int err = acm_dnssec_key_generate(alg, &key);
	if (err == ACM_OK)
		err = acm_store_dnssec_add(k.store, key, ACM_KEY_ACTIVE, who, &id);
	if (err == ACM_EEXIST)
		rc = cli_fail(c, CLI_USAGE, "dnssec keygen: the zone already has an active key; "
		              "use dnssec rollover to replace it");
	else
		rc = err == ACM_OK ? keygen_done(c, &k, key, id)
		                   : cli_fail(c, cli_exit_code(err), "dnssec keygen: %s",
		                              acm_strerror(err));
	cli_keys_close(&k);
	acm_dnssec_key_free(key);
	return rc;
}

/* ---- ds ----------------------------------------------------------------- */

/* The key's DS and DNSKEY lines, as text or into obj. */
static int ds_key(cli_t *c, const acm_dnssec_keyent_t *e, const char *comment, json_t *obj)
{
	char ds[CLI_RECORD_MAX], dnskey[CLI_RECORD_MAX];
	int rc = cli_dnssec_record(c, e, true, ds, sizeof(ds));
	if (rc != CLI_OK || (rc = cli_dnssec_record(c, e, false, dnskey, sizeof(dnskey))) != CLI_OK)
		return rc;
	if (obj) {
		json_t *key = cli_dnssec_key_json(e);
		json_object_set_new(key, "ds", json_string(ds));
		json_object_set_new(key, "dnskey", json_string(dnskey));
		json_object_set_new(obj, "key", key);
		return CLI_OK;
	}
	printf("; %s\n%s\n; the same key as a DNSKEY record, for parents that take that:\n%s\n",
	       comment, ds, dnskey);
	return CLI_OK;
}

/* The DS lines of the keys other than the parent's, which it should lose. */
static int ds_others(cli_t *c, const acm_dnssec_keyset_t *ks, const acm_dnssec_keyent_t *keep,
                     json_t *list)
{
	char ds[CLI_RECORD_MAX];
	for (size_t i = 0; i < ks->count; i++) {
		const acm_dnssec_keyent_t *e = &ks->keys[i];
		int rc = e == keep ? CLI_OK : cli_dnssec_record(c, e, true, ds, sizeof(ds));
		if (rc != CLI_OK)
			return rc;
		if (e == keep)
			continue;
		if (list) {
			json_t *key = cli_dnssec_key_json(e);
			json_object_set_new(key, "ds", json_string(ds));
			json_array_append_new(list, key);
		} else {
			printf("; key %u (%s) goes: once the DS above is at the parent, remove this one:\n"
			       "; %s\n", acm_dnssec_key_tag(e->key), acm_dnssec_key_state_name(e->state),
			       ds);
		}
	}
	return CLI_OK;
}

static int dnssec_ds(cli_t *c, int argc, char **argv)
{
	char comment[160];
	cli_keys_t k;

	if (cli_parse(c, argc, argv, NULL, true, NULL, 0) != 0)
		return cli_usage(c, cli_dnssec_usage, "ds");
	int rc = cli_keys_open(c, true, &k);
	if (rc != CLI_OK)
		return rc;
	const acm_dnssec_keyent_t *e = acm_dnssec_keyset_ds_key(&k.ks);
	json_t *obj = c->json ? json_object() : NULL, *remove = c->json ? json_array() : NULL;
	if (!e) {
		rc = cli_fail(c, CLI_NOTFOUND, "dnssec ds: the zone has no key; "
		              "acmensctl dnssec keygen makes one");
	} else {
		snprintf(comment, sizeof(comment), "the DS for the parent zone: key %u (%s)",
		         acm_dnssec_key_tag(e->key), acm_dnssec_key_state_name(e->state));
		rc = ds_key(c, e, comment, obj);
		if (rc == CLI_OK)
			rc = ds_others(c, &k.ks, e, remove);
	}
	cli_keys_close(&k);
	if (rc == CLI_OK && obj) {
		char zone[ACM_DNAME_TXT_MAX];
		int n = acm_dname_to_text(c->cfg->apex, zone);
		if (n > 1)
			zone[n - 1] = '\0';
		json_object_set_new(obj, "zone", json_string(zone));
		json_object_set_new(obj, "ttl", json_integer(c->cfg->soa.ttl));
		json_object_set(obj, "remove", remove);
		cli_print_json(json_incref(obj));
	}
	json_decref(remove);
	json_decref(obj);
	return rc;
}

/* ---- export-key --------------------------------------------------------- */

static const acm_dnssec_keyent_t *key_by_tag(const acm_dnssec_keyset_t *ks, uint16_t tag,
                                             size_t *found)
{
	const acm_dnssec_keyent_t *e = NULL;
	*found = 0;
	for (size_t i = 0; i < ks->count; i++)
		if (acm_dnssec_key_tag(ks->keys[i].key) == tag) {
			e = &ks->keys[i];
			(*found)++;
		}
	return e;
}

/* The PEM into a file that did not exist, readable by its owner alone.
 * ACM_OK or -errno (a file begun is removed). */
static int write_new_file(const char *path, const uint8_t *pem, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	int rc = fchmod(fd, 0600) == 0 ? ACM_OK : -errno;
	for (size_t done = 0; rc == ACM_OK && done < len;) {
		ssize_t n = write(fd, pem + done, len - done);
		if (n < 0 && errno != EINTR)
			rc = -errno;
		else if (n > 0)
			done += (size_t)n;
	}
	if (rc == ACM_OK && fsync(fd) != 0)
		rc = -errno;
	if (close(fd) != 0 && rc == ACM_OK)
		rc = -errno;
	if (rc != ACM_OK)
		unlink(path);
	return rc;
}

typedef struct {
	uint16_t tag;
	uint32_t id;
	const char *file;
} export_note_t;

static int export_audit(acm_wtxn_t *w, void *arg)
{
	const export_note_t *x = arg;
	char change[64];
	snprintf(change, sizeof(change), "dnssec key %u exported", x->tag);
	return acm_wtxn_audit_note(w, "dnssec_export",
	                           json_pack("{s:s, s:i, s:I, s:s}", "change", change, "tag",
	                                     (int)x->tag, "id", (json_int_t)x->id, "file", x->file));
}

static int export_write(cli_t *c, cli_keys_t *k, const acm_dnssec_keyent_t *e, const char *out)
{
	export_note_t note = { acm_dnssec_key_tag(e->key), e->id, out };
	uint8_t *pem = NULL;
	size_t len = 0;
	int rc = acm_dnssec_key_to_pem(e->key, &pem, &len);
	if (rc != ACM_OK)
		return cli_fail(c, CLI_STORE, "dnssec export-key: %s", acm_strerror(rc));
	rc = write_new_file(out, pem, len);
	acm_dnssec_pem_free(pem, len);
	if (rc == -EEXIST)
		return cli_fail(c, CLI_REJECTED, "dnssec export-key: %s exists; "
		                "give a new file (it is never overwritten)", out);
	if (rc != ACM_OK)
		return cli_fail(c, CLI_STORE, "dnssec export-key: %s: %s", out, strerror(-rc));
	if ((rc = cli_write(k->store, export_audit, &note, NULL)) != ACM_OK) {
		unlink(out);
		return cli_fail(c, CLI_STORE, "dnssec export-key: cannot write the audit record "
		                "(%s), so %s was removed", acm_strerror(rc), out);
	}
	return CLI_OK;
}

static int dnssec_export_key(cli_t *c, int argc, char **argv)
{
	const char *out = NULL;
	const cli_opt_t opts[] = { { "--out", &out, NULL }, { NULL, NULL, NULL } };
	char *words[1];
	uint64_t tag;
	size_t found;
	cli_keys_t k;

	if (cli_parse(c, argc, argv, opts, true, words, 1) != 1 || !out || !*out)
		return cli_usage(c, cli_dnssec_usage, "export-key");
	if (strcmp(out, "-") == 0)
		return cli_fail(c, CLI_USAGE, "dnssec export-key: --out needs a file: "
		                "a private key is never written to standard output");
	int rc = cli_number(c, "TAG", words[0], 0, 65535, &tag);
	if (rc != CLI_OK || (rc = cli_keys_open(c, false, &k)) != CLI_OK)
		return rc;
	const acm_dnssec_keyent_t *e = key_by_tag(&k.ks, (uint16_t)tag, &found);
	if (found > 1)
		rc = cli_fail(c, CLI_REJECTED, "dnssec export-key: %zu keys have the tag %s",
		              found, words[0]);
	else if (!found)
		rc = cli_fail(c, CLI_NOTFOUND, "dnssec export-key: no key has the tag %s "
		              "(acmensctl dnssec status lists them)", words[0]);
	else
		rc = export_write(c, &k, e, out);
	if (rc == CLI_OK && c->json)
		cli_print_json(json_pack("{s:i, s:I, s:s, s:s}", "tag", (int)tag, "id",
		                         (json_int_t)e->id, "state", acm_dnssec_key_state_name(e->state),
		                         "file", out));
	else if (rc == CLI_OK)
		printf("ok, key %u (%s) written to %s (PKCS#8 PEM, mode 0600)\n", (unsigned)tag,
		       acm_dnssec_key_state_name(e->state), out);
	cli_keys_close(&k);
	return rc;
}

/* ---- the command -------------------------------------------------------- */

int cmd_dnssec(cli_t *c, int argc, char **argv)
{
	static const cli_command_t verbs[] = {
		{ "keygen", dnssec_keygen }, { "ds", dnssec_ds }, { "status", cmd_dnssec_status },
		{ "export-key", dnssec_export_key }, { "rollover", cmd_dnssec_rollover },
	};

	if (cli_help_asked(argc, argv))
		return cli_help(cli_dnssec_usage, argc, argv);
	if (argc < 2)
		return cli_usage(c, cli_dnssec_usage, NULL);
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(argv[1], verbs[i].name) == 0)
			return verbs[i].fn(c, argc - 1, argv + 1);
	return cli_unknown_verb(c, "dnssec", argv[1]);
}
