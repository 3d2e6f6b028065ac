/* SPDX-License-Identifier: ISC */
/*
 * acmensctl account ...: creating, listing, showing, disabling, enabling,
 * deleting accounts, rotating their keys and giving them TSIG keys for
 * RFC 2136 UPDATE. A change reads the account in
 * its own write transaction and rewrites only the field it changes, so an
 * API write that committed in between is not undone.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "cli/cli.h"
#include "cli/table.h"
#include "lib/store/account_json.h"
#include "lib/conf/cidr.h"
#include "lib/conf/zone.h"
#include "lib/dns/consts.h"
#include "lib/dns/zone_names.h"
#include "lib/error.h"
#include "lib/rt/deleg_record.h"
#include "lib/store/keys.h"
#include "lib/store/store_json.h"

#define LIST_LIMIT_DEFAULT 100
#define LIST_LIMIT_MAX 1000000

static const cli_usage_t account_usage[] = {
	{ "register", "account register [--subdomain NAME] [--allowfrom CIDR]...",
	  "  Creates an account and prints its username, key, subdomain and\n"
	  "  fulldomain; the key is shown only this once. --allowfrom (up to 16)\n"
	  "  limits where it may update from (HTTP API and RFC 2136).\n"
	  "  --subdomain chooses the label (a-z, 0-9, '-') instead of a random one,\n"
	  "  e.g. \"api\" so that _acme-challenge.api.<zone> takes the challenge\n"
	  "  for a certificate of api.<zone>; refused when an account has it or\n"
	  "  zone.records has a TXT or CNAME at <NAME>.<zone> or anything at\n"
	  "  _acme-challenge.<NAME>.<zone>.\n" },
	{ "list", "account list [--search TEXT] [--after SUBDOMAIN] [--limit N]",
	  "  Lists accounts in subdomain order: SUBDOMAIN USERNAME CREATED VALUES STATE.\n"
	  "  --search keeps those whose subdomain or username holds TEXT (any case);\n"
	  "  --limit (1 to 1000000, default 100) ends a page, and --after SUBDOMAIN\n"
	  "  starts the next one after the last shown (named on stderr, and as\n"
	  "  \"next\" with --json).\n" },
	{ "show", "account show SUBDOMAIN",
	  "  Prints the account (all but its key hash) and its values.\n" },
	{ "disable", "account disable SUBDOMAIN",
	  "  Refuses the account's credentials everywhere; its values stay served\n"
	  "  until they expire or are removed.\n" },
	{ "enable", "account enable SUBDOMAIN",
	  "  Accepts the account's credentials again.\n" },
	{ "delete", "account delete SUBDOMAIN --yes",
	  "  Deletes the account, its username and its values for good (the name\n"
	  "  then answers NXDOMAIN). Refused without --yes.\n" },
	{ "rotate-key", "account rotate-key SUBDOMAIN",
	  "  Gives the account a new key, printed only this once; the old key stops\n"
	  "  working at once.\n" },
	{ "tsig-key", "account tsig-key SUBDOMAIN [--algorithm hmac-sha256|hmac-sha384|hmac-sha512]",
	  "  Gives the account a new TSIG key for RFC 2136 UPDATE of its own names\n"
	  "  (default hmac-sha256), replacing any it had, and prints it once as a\n"
	  "  BIND/Knot key block (nsupdate -k FILE reads it). The key's name is the\n"
	  "  account's fulldomain.\n" },
	{ NULL, NULL, NULL },
};

/* The shape of GET /v1/admin/accounts/SUB, so scripts can use either. */
static json_t *account_json(const cli_t *c, const acm_account_t *acc)
{
	char zone[ACM_DNAME_TXT_MAX];
	acm_zname_zone_text(c->cfg->apex, zone);
	return acm_account_json(zone, acc, true);
}

static const char *state_of(const acm_account_t *acc)
{
	return acc->flags & ACM_ACCOUNT_DISABLED ? "disabled" : "enabled";
}

/* The one subdomain a verb takes, besides options. */
static int one_subdomain(cli_t *c, int argc, char **argv, const cli_opt_t *opts,
                         const char **sub)
{
	char *operands[1];
	if (cli_parse(c, argc, argv, opts, true, operands, 1) != 1)
		return cli_usage(c, account_usage, argv[0]);
	*sub = operands[0];
	return CLI_OK;
}

/* ---- register --------------------------------------------------------------- */

static int create_op(acm_wtxn_t *w, void *arg)
{
	return acm_wtxn_account_create(w, arg);
}

/* Whether zone.records leaves label's names to an account: static records
 * at _acme-challenge.<label> (or below it, which makes it a node) would
 * answer instead of the account's challenge values, and a TXT or CNAME at
 * <label> would shadow or redirect its own name. Other records there (the
 * address of a host named <label>.<zone>) may stay: they answer beside the
 * challenge name, which is how a host of the zone gets its certificate. */
static int static_names_free(cli_t *c, const char *label)
{
	char err[ACM_CONFIG_ERR_MAX] = "", full[ACM_FULLDOMAIN_MAX];
	uint8_t own[ACM_DNAME_MAX], chal[ACM_DNAME_MAX];
	acm_zone_t *zone;
	int rc = acm_zone_build(c->cfg, &zone, err, sizeof(err));
	if (rc != ACM_OK)
		return cli_fail(c, CLI_STORE, "%s: %s", c->config_path, err[0] ? err : acm_strerror(rc));
	int own_len = acm_zname_account(label, c->cfg->apex, own);
	int chal_len = own_len < 0 ? own_len : acm_zname_challenge(own, (size_t)own_len, chal);
	const acm_node_t *node = own_len < 0 ? NULL : acm_zone_find(zone, own, (size_t)own_len);
	bool chal_static = chal_len >= 0 && acm_zone_find(zone, chal, (size_t)chal_len);
	const char *own_clash = !node ? NULL : node->cname ? "CNAME"
	                        : acm_node_rrset(node, ACM_RRTYPE_TXT) ? "TXT" : NULL;
	acm_zone_unref(zone);       /* node goes with it */
	cli_fulldomain(c, label, full, sizeof(full));
	if (own_len < 0 || chal_len < 0)
		return cli_fail(c, CLI_REJECTED, "--subdomain %s: the name %s would be too long",
		                label, full);
	if (chal_static)
		return cli_fail(c, CLI_REJECTED, "--subdomain %s: zone.records has names at or below "
		                ACM_CHALLENGE_LABEL ".%s, which would answer instead of the "
		                "account's values", label, full);
	if (own_clash)
		return cli_fail(c, CLI_REJECTED, "--subdomain %s: zone.records has a %s at %s, which "
		                "would shadow the account's own name", label, own_clash, full);
	return CLI_OK;
}

/* A chosen account label: one DNS label as accounts have them, and not
 * taken by zone.records (the store refuses one an account has). */
static int take_subdomain(cli_t *c, const char *label, acm_account_t *acc)
{
	size_t len = strlen(label);
	for (size_t i = 0; i < len; i++)
		if (label[i] >= 'A' && label[i] <= 'Z')
			return cli_fail(c, CLI_REJECTED, "--subdomain %s: must be lower case", label);
	if (acm_label_check(label, len) != ACM_OK)
		return cli_fail(c, CLI_REJECTED, "--subdomain '%s': not a label an account can have "
		                "(1 to %d of a-z, 0-9 and '-', not starting or ending with '-')",
		                label, ACM_LABEL_MAX);
	int rc = cli_load_config(c);
	if (rc == CLI_OK)
		rc = static_names_free(c, label);
	if (rc == CLI_OK)
		snprintf(acc->subdomain, sizeof(acc->subdomain), "%s", label);
	return rc;
}

static int account_register(cli_t *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "allowfrom", required_argument, NULL, 'a' },
		{ "subdomain", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	acm_account_t acc;
	char password[ACM_PASSWORD_LEN + 1];
	int rc = acm_account_new(&acc, password);
	if (rc != ACM_OK)
		return cli_fail(c, CLI_STORE, "cannot create credentials: %s", acm_strerror(rc));
	int opt;
	const char *subdomain = NULL;
	opterr = 0;     /* cli_usage names the word */
	while ((opt = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		acm_cidr_t cidr;
		if (opt == 'j' || opt == 's') {
			c->json |= opt == 'j';
			subdomain = opt == 's' ? optarg : subdomain;
			continue;
		}
		if (opt != 'a') {
			cli_bad_word(c, opt == ':' ? CLI_BAD_VALUE : CLI_BAD_OPTION, argv[optind - 1]);
			return cli_usage(c, account_usage, "register");
		}
		if (acm_cidr_parse(optarg, &cidr) != ACM_OK)
			return cli_fail(c, CLI_REJECTED, "invalid --allowfrom CIDR: %s", optarg);
		if (acc.allowfrom_count == ACM_ALLOWFROM_MAX)
			return cli_fail(c, CLI_REJECTED, "at most %d --allowfrom ranges", ACM_ALLOWFROM_MAX);
		snprintf(acc.allowfrom[acc.allowfrom_count++], sizeof(acc.allowfrom[0]), "%s", optarg);
	}
	if (optind != argc) {
		cli_bad_word(c, CLI_BAD_OPERAND, argv[optind]);
		return cli_usage(c, account_usage, "register");
	}
	if (subdomain && (rc = take_subdomain(c, subdomain, &acc)) != CLI_OK)
		return rc;
	acm_store_t *store;
	if ((rc = cli_open_store(c, false, &store)) != CLI_OK)
		return rc;
	rc = cli_write(store, create_op, &acc, NULL);
	acm_store_close(store);
	if (rc == ACM_EEXIST && subdomain)
		return cli_fail(c, cli_exit_code(rc), "cannot register: an account has the subdomain %s",
		                subdomain);
	if (rc != ACM_OK)
		return cli_fail(c, cli_exit_code(rc), "cannot register: %s", acm_strerror(rc));
	char full[ACM_FULLDOMAIN_MAX];
	cli_fulldomain(c, acc.subdomain, full, sizeof(full));
	if (c->json) {
		cli_print_json(json_pack("{s:s, s:s, s:s, s:s, s:o}", "username", acc.username,
		                         "password", password, "fulldomain", full, "subdomain",
		                         acc.subdomain, "allowfrom", acm_allowfrom_json(&acc)));
	} else {
		printf("username:   %s\npassword:   %s\nsubdomain:  %s\nfulldomain: %s\n", acc.username,
		       password, acc.subdomain, full);
		for (size_t i = 0; i < acc.allowfrom_count; i++)
			printf("allowfrom:  %s\n", acc.allowfrom[i]);
	}
	return CLI_OK;
}

/* ---- list and show -------------------------------------------------------------- */

typedef struct {
	const cli_t *c;
	acm_store_t *store;
	json_t *list;            /* with --json */
	cli_table_t *table;      /* without */
	size_t want, count;
	bool more;
	char last[ACM_LABEL_MAX + 1];
} page_t;

static int page_account(const acm_account_t *acc, void *ctx)
{
	page_t *p = ctx;
	size_t values = 0;
	if (p->count == p->want) {
		p->more = true;
		return 1;
	}
	/* A name deleted since the list's snapshot has no values left. */
	int rc = acm_store_txt_list(p->store, acc->subdomain, NULL, 0, &values);
	if (rc != ACM_OK && rc != ACM_ENOTFOUND)
		return rc;
	if (p->list) {
		char zone[ACM_DNAME_TXT_MAX];
		acm_zname_zone_text(p->c->cfg->apex, zone);
		if (json_array_append_new(p->list, acm_account_entry_json(zone, acc, values)) != 0)
			return -ENOMEM;
	} else {
		char created[CLI_TIME_MAX], count[24];
		snprintf(count, sizeof(count), "%zu", values);
		cli_table_row(p->table, (const char *[]){ acc->subdomain, acc->username,
		              cli_time(acc->created, created, "-"), count, state_of(acc) });
	}
	memcpy(p->last, acc->subdomain, sizeof(p->last));
	p->count++;
	return 0;
}

static int account_list(cli_t *c, int argc, char **argv)
{
	const char *search = NULL, *after = NULL, *limit = NULL;
	const cli_opt_t opts[] = { { "--search", &search, NULL }, { "--after", &after, NULL },
	                           { "--limit", &limit, NULL }, { NULL, NULL, NULL } };
	uint64_t want = LIST_LIMIT_DEFAULT;
	if (cli_parse(c, argc, argv, opts, true, NULL, 0) != 0)
		return cli_usage(c, account_usage, "list");
	if (limit && cli_number(c, "--limit", limit, 1, LIST_LIMIT_MAX, &want) != CLI_OK)
		return CLI_USAGE;
	acm_store_t *store;
	int rc = cli_open_store(c, true, &store);
	if (rc != CLI_OK)
		return rc;
	page_t p = { .c = c, .store = store, .want = want, .list = c->json ? json_array() : NULL };
	if (!c->json)
		p.table = cli_table_new("lllrl", "SUBDOMAIN", "USERNAME", "CREATED", "VALUES", "STATE");
	/* One more than asked tells whether there is a next page. */
	rc = acm_store_account_list(store, after, search, p.want + 1, page_account, &p);
	acm_store_close(store);
	if (rc >= 0 && !c->json && (rc = cli_table_finish(c, p.table, "account list")) != CLI_OK)
		return rc;
	if (rc < 0) {
		cli_table_free(p.table);
		json_decref(p.list);
		if (rc == ACM_EBADNAME)
			return cli_fail(c, CLI_USAGE, "--after takes a subdomain, not '%s'", after);
		return cli_fail(c, CLI_STORE, "account list: %s", acm_strerror(rc));
	}
	if (c->json)
		cli_print_json(json_pack("{s:o, s:o}", "accounts", p.list, "next",
		                         p.more ? json_string(p.last) : json_null()));
	else if (p.more)
		fprintf(stderr, "acmensctl: more accounts follow: continue with --after %s\n", p.last);
	return CLI_OK;
}

static void print_account(const cli_t *c, const acm_account_t *acc)
{
	char full[ACM_DNAME_TXT_MAX + 80], created[CLI_TIME_MAX], updated[CLI_TIME_MAX];
	cli_fulldomain(c, acc->subdomain, full, sizeof(full));
	printf("subdomain:  %s\nfulldomain: %s\nusername:   %s\nkey_scheme: %s\nstate:      %s\n"
	       "created:    %s\nupdated:    %s\n", acc->subdomain, full, acc->username,
	       acc->key_scheme == ACM_KEY_BCRYPT ? "bcrypt" : "sha256", state_of(acc),
	       cli_time(acc->created, created, "-"), cli_time(acc->updated, updated, "-"));
	for (size_t i = 0; i < acc->allowfrom_count; i++)
		printf("allowfrom:  %s\n", acc->allowfrom[i]);
	if (acc->tsig_alg)
		printf("tsig:       %s (key %s)\n", acm_tsig_alg_name((acm_tsig_alg_t)acc->tsig_alg),
		       full);
	else
		printf("tsig:       none\n");
}

/* The account's last delegation check: a member of obj with --json (null
 * when never checked), else a line. */
static int show_delegation(const cli_t *c, acm_store_t *store, const char *sub, json_t *obj)
{
	acm_deleg_rec_t rec;
	char when[CLI_TIME_MAX];
	int rc;

	if (c->json) {
		json_t *d;
		if ((rc = acm_deleg_last_json(store, sub, &d)) == ACM_OK)
			json_object_set_new(obj, "delegation", d);
		return rc;
	}
	rc = acm_store_deleg_get(store, sub, &rec);
	if (rc == ACM_ENOTFOUND)
		printf("delegation: never checked\n");
	else if (rc == ACM_OK)
		printf("delegation: %s (%s), checked %s\n", acm_deleg_rec_status(&rec),
		       rec.secure ? "secure" : "insecure", cli_time(rec.checked, when, "-"));
	return rc == ACM_ENOTFOUND ? ACM_OK : rc;
}

static int account_show(cli_t *c, int argc, char **argv)
{
	const char *sub = NULL;
	acm_store_t *store;
	acm_account_t acc;
	int rc = one_subdomain(c, argc, argv, NULL, &sub);
	if (rc != CLI_OK || (rc = cli_open_store(c, true, &store)) != CLI_OK)
		return rc;
	json_t *obj = NULL;
	rc = acm_store_account_get(store, sub, &acc);
	if (rc == ACM_OK && c->json)
		obj = account_json(c, &acc);
	else if (rc == ACM_OK)
		print_account(c, &acc);
	if (rc == ACM_OK)
		rc = show_delegation(c, store, acc.subdomain, obj);
	if (rc == ACM_OK)
		rc = cli_values(c, store, acc.subdomain, obj);
	acm_store_close(store);
	if (rc != ACM_OK) {
		json_decref(obj);
		return cli_fail(c, cli_exit_code(rc), "account %s: %s", sub, acm_strerror(rc));
	}
	if (c->json)
		cli_print_json(obj);
	return CLI_OK;
}

/* ---- changes ---------------------------------------------------------------- */

typedef enum { CH_DISABLE, CH_ENABLE, CH_ROTATE, CH_DELETE } change_kind_t;

typedef struct {
	change_kind_t kind;
	const char *subdomain;
	char key_hash[65];         /* CH_ROTATE: the new key's */
	acm_account_t acc;         /* the account as the change left it */
} change_t;

static void change_apply(change_t *ch)
{
	acm_account_t *acc = &ch->acc;
	if (ch->kind == CH_DISABLE)
		acc->flags |= ACM_ACCOUNT_DISABLED;
	else if (ch->kind == CH_ENABLE)
		acc->flags &= ~(uint32_t)ACM_ACCOUNT_DISABLED;
	else {
		acc->key_scheme = ACM_KEY_SHA256;
		memcpy(acc->key_hash, ch->key_hash, sizeof(ch->key_hash));
	}
}

static int change_op(acm_wtxn_t *w, void *arg)
{
	change_t *ch = arg;
	/* Reading first also makes an impossible name "not found", not "invalid". */
	int rc = acm_wtxn_account_get(w, ch->subdomain, &ch->acc);
	if (rc != ACM_OK)
		return rc;
	if (ch->kind == CH_DELETE)
		return acm_wtxn_account_delete(w, ch->acc.subdomain);
	uint32_t flags = ch->acc.flags;
	change_apply(ch);
	/* Disabling a disabled account is done already: no write, no audit. */
	if (ch->kind != CH_ROTATE && ch->acc.flags == flags)
		return ACM_OK;
	ch->acc.updated = (uint64_t)time(NULL);
	return acm_wtxn_account_update(w, &ch->acc);
}

static int change_run(cli_t *c, change_t *ch, uint32_t *serial)
{
	acm_store_t *store;
	int rc = cli_open_store(c, false, &store);
	if (rc != CLI_OK)
		return rc;
	rc = cli_write(store, change_op, ch, serial);
	acm_store_close(store);
	if (rc != ACM_OK)
		return cli_fail(c, cli_exit_code(rc), "account %s: %s", ch->subdomain,
		                acm_strerror(rc));
	return CLI_OK;
}

static int account_state(cli_t *c, int argc, char **argv)
{
	change_t ch = { .kind = strcmp(argv[0], "disable") == 0 ? CH_DISABLE : CH_ENABLE };
	uint32_t serial = 0;
	int rc = one_subdomain(c, argc, argv, NULL, &ch.subdomain);
	if (rc != CLI_OK || (rc = change_run(c, &ch, &serial)) != CLI_OK)
		return rc;
	if (c->json)
		cli_print_json(json_pack("{s:s, s:b, s:I}", "subdomain", ch.acc.subdomain, "disabled",
		                         ch.kind == CH_DISABLE, "serial", (json_int_t)serial));
	else
		printf("ok, %s %s\n", ch.acc.subdomain, state_of(&ch.acc));
	return CLI_OK;
}

static int account_delete(cli_t *c, int argc, char **argv)
{
	change_t ch = { .kind = CH_DELETE };
	bool yes = false;
	const cli_opt_t opts[] = { { "--yes", NULL, &yes }, { NULL, NULL, NULL } };
	uint32_t serial = 0;
	int rc = one_subdomain(c, argc, argv, opts, &ch.subdomain);
	if (rc != CLI_OK)
		return rc;
	/* Nothing to confirm with on a pipe, and a typo at a terminal deletes
	 * for good: always ask for --yes. */
	if (!yes)
		return cli_fail(c, CLI_USAGE, "account delete %s: pass --yes to delete the account, "
		                "its key and its values for good", ch.subdomain);
	if ((rc = change_run(c, &ch, &serial)) != CLI_OK)
		return rc;
	if (c->json)
		cli_print_json(json_pack("{s:s, s:s, s:I}", "result", "ok", "subdomain",
		                         ch.acc.subdomain, "serial", (json_int_t)serial));
	else
		printf("ok, deleted %s, serial %u\n", ch.acc.subdomain, serial);
	return CLI_OK;
}

static int account_rotate(cli_t *c, int argc, char **argv)
{
	change_t ch = { .kind = CH_ROTATE };
	char password[ACM_PASSWORD_LEN + 1];
	uint32_t serial = 0;
	int rc = one_subdomain(c, argc, argv, NULL, &ch.subdomain);
	if (rc != CLI_OK)
		return rc;
	if ((rc = acm_password_new(password)) != ACM_OK ||
	    (rc = acm_key_hash(password, ACM_PASSWORD_LEN, ch.key_hash)) != ACM_OK)
		return cli_fail(c, CLI_STORE, "cannot create a key: %s", acm_strerror(rc));
	if ((rc = change_run(c, &ch, &serial)) != CLI_OK)
		return rc;
	if (c->json)
		cli_print_json(json_pack("{s:s, s:s, s:s, s:I}", "subdomain", ch.acc.subdomain,
		                         "username", ch.acc.username, "password", password,
		                         "serial", (json_int_t)serial));
	else
		printf("username:   %s\npassword:   %s\nsubdomain:  %s\n", ch.acc.username,
		       password, ch.acc.subdomain);
	return CLI_OK;
}

/* ---- TSIG key -------------------------------------------------------------- */

typedef struct {
	const char *subdomain;
	acm_tsig_alg_t alg;
	acm_account_t acc;         /* the account with its new key */
} tsig_change_t;

/* Read-modify-write of the key alone, as the other changes do. */
static int tsig_op(acm_wtxn_t *w, void *arg)
{
	tsig_change_t *t = arg;
	int rc = acm_wtxn_account_get(w, t->subdomain, &t->acc);
	if (rc != ACM_OK || (rc = acm_account_tsig_new(&t->acc, t->alg)) != ACM_OK)
		return rc;
	t->acc.updated = (uint64_t)time(NULL);
	return acm_wtxn_account_update(w, &t->acc);
}

static int account_tsig(cli_t *c, int argc, char **argv)
{
	const char *alg = NULL;
	const cli_opt_t opts[] = { { "--algorithm", &alg, NULL }, { NULL, NULL, NULL } };
	tsig_change_t t = { 0 };
	acm_tsig_key_t key;
	acm_store_t *store;
	int rc = one_subdomain(c, argc, argv, opts, &t.subdomain);
	if (rc != CLI_OK || (rc = cli_tsig_alg(c, alg, &t.alg)) != CLI_OK ||
	    (rc = cli_open_store(c, false, &store)) != CLI_OK)
		return rc;
	rc = cli_write(store, tsig_op, &t, NULL);
	acm_store_close(store);
	if (rc == ACM_OK)
		rc = acm_account_tsig_key(&t.acc, c->cfg->apex, &key);
	OPENSSL_cleanse(&t.acc, sizeof(t.acc));
	if (rc != ACM_OK)
		return cli_fail(c, cli_exit_code(rc), "account %s: %s", t.subdomain, acm_strerror(rc));
	if (c->json)
		cli_print_json(acm_tsig_key_json(&key));
	else
		cli_tsig_print(stdout, &key, CLI_KEY_BIND, "");
	OPENSSL_cleanse(&key, sizeof(key));
	return CLI_OK;
}

static const cli_command_t account_verbs[] = {
	{ "register", account_register },
	{ "list", account_list },
	{ "show", account_show },
	{ "disable", account_state },
	{ "enable", account_state },
	{ "delete", account_delete },
	{ "rotate-key", account_rotate },
	{ "tsig-key", account_tsig },
	{ NULL, NULL },
};

int cmd_account(cli_t *c, int argc, char **argv)
{
	if (cli_help_asked(argc, argv))
		return cli_help(account_usage, argc, argv);
	for (size_t i = 0; argc >= 2 && account_verbs[i].name; i++)
		if (strcmp(argv[1], account_verbs[i].name) == 0)
			return account_verbs[i].fn(c, argc - 1, argv + 1);
	if (argc < 2)
		return cli_usage(c, account_usage, NULL);
	return cli_unknown_verb(c, "account", argv[1]);
}
