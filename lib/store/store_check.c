/* SPDX-License-Identifier: ISC */
/*
 * A whole-store check, for acmensctl check-store: the map against the
 * data file's size, then every named database walked with a cursor in one
 * read snapshot and every record decoded (accounts, users, rrsets, meta,
 * journal, audit, delegation). Problems go to the caller's callback, one per record;
 * nothing is changed and nothing is logged.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/error.h"
#include "lib/dns/dname.h"
#include "lib/dns/wire.h"
#include "lib/store/store.h"
#include "lib/store/store_check.h"
#include "lib/store/store_deleg.h"
#include "lib/store/store_int.h"

#define DIFF_HDR 16             /* serial_from, serial_to, time */

typedef struct {
	acm_store_t *s;
	MDB_txn *txn;
	acm_check_fn fn;
	void *ctx;
	const char *db;             /* the database being walked */
	acm_store_check_t *out;
	uint64_t deleg_counted[ACM_DELEG_REC_STATUSES];   /* the counts kept */
	uint64_t deleg_found[ACM_DELEG_REC_STATUSES];     /* the records walked */
	unsigned dnssec_active;     /* active DNSSEC keys walked */
} check_t;

static void problem(check_t *c, const MDB_val *k, const char *what)
{
	char key[2 * 16 + 4] = "";
	size_t n = k ? k->mv_size : 0;
	/* The key as hex, its first 16 bytes: enough to find the record. */
	for (size_t i = 0; i < n && i < 16; i++)
		snprintf(key + 2 * i, 3, "%02x", ((const uint8_t *)k->mv_data)[i]);
	if (n > 16)
		strcat(key, "...");
	c->out->problems++;
	c->fn(c->ctx, c->db, key, what);
}

/* A key as a NUL-terminated label, or false if it cannot be one. */
static bool key_label(const MDB_val *k, char out[ACM_LABEL_MAX + 1])
{
	if (k->mv_size == 0 || k->mv_size > ACM_LABEL_MAX)
		return false;
	memcpy(out, k->mv_data, k->mv_size);
	out[k->mv_size] = '\0';
	return strlen(out) == k->mv_size;
}

static int check_account(const MDB_val *k, const MDB_val *v, void *p)
{
	check_t *c = p;
	char label[ACM_LABEL_MAX + 1];
	acm_account_t acc;
	c->out->accounts++;
	if (!key_label(k, label))
		problem(c, k, "the key is not a subdomain label");
	else if (acm_account_decode(v->mv_data, v->mv_size, label, &acc) != ACM_OK)
		problem(c, k, "the account record does not decode");
	else if (!acm_account_rec_is_bin(v->mv_data, v->mv_size))
		c->out->accounts_json++;
	return 0;
}

static int check_user(const MDB_val *k, const MDB_val *v, void *p)
{
	check_t *c = p;
	char label[ACM_LABEL_MAX + 1];
	MDB_val acc;
	if (!key_label(v, label))
		problem(c, k, "the username maps to no subdomain label");
	else if (mdb_get(c->txn, c->s->accounts, (MDB_val *)v, &acc) != 0)
		problem(c, k, "the username's account is missing");
	return 0;
}

static int check_rrset(const MDB_val *k, const MDB_val *v, void *p)
{
	check_t *c = p;
	static __thread acm_txt_set_t set;   /* 64 KiB: not on the stack */
	uint8_t owner[ACM_DNAME_MAX];
	size_t pos = 0;
	c->out->rrsets++;
	if (acm_dname_parse(k->mv_data, k->mv_size, &pos, owner) < 0 ||
	    pos != k->mv_size || acm_dname_under(owner, c->s->apex) <= 0)
		problem(c, k, "the owner is not a wire name under the zone");
	else if (acm_txt_set_decode(v->mv_data, v->mv_size, &set) != ACM_OK)
		problem(c, k, "the rrset record does not decode");
	else
		c->out->values += set.n;
	return 0;
}

/* A diff record: header, then entries of op, owner, rdlen, TXT rdata. */
static bool diff_sound(const uint8_t *p, size_t len)
{
	size_t pos = DIFF_HDR;
	uint8_t owner[ACM_DNAME_MAX];
	if (len < DIFF_HDR)
		return false;
	while (pos < len) {
		if (p[pos] != STORE_DIFF_DEL && p[pos] != STORE_DIFF_ADD)
			return false;
		pos++;
		if (acm_dname_parse(p, len, &pos, owner) < 0 || len - pos < 2)
			return false;
		size_t rdlen = acm_get_u16(p + pos);
		pos += 2;
		if (rdlen < 2 || len - pos < rdlen || p[pos] + 1u != rdlen)
			return false;
		pos += rdlen;
	}
	return true;
}

static int check_diff(const MDB_val *k, const MDB_val *v, void *p)
{
	check_t *c = p;
	c->out->journal++;
	if (k->mv_size != 8)
		problem(c, k, "the key is not a sequence number");
	else if (!diff_sound(v->mv_data, v->mv_size))
		problem(c, k, "the diff record does not decode");
	return 0;
}

static int check_audit(const MDB_val *k, const MDB_val *v, void *p)
{
	check_t *c = p;
	json_t *o = json_loadb(v->mv_data, v->mv_size, 0, NULL);
	c->out->audit++;
	if (k->mv_size != 8)
		problem(c, k, "the key is not a sequence number");
	else if (!json_is_integer(json_object_get(o, "time")) ||
	         !json_is_string(json_object_get(o, "action")))
		problem(c, k, "the audit record does not decode");
	json_decref(o);
	return 0;
}

/* The meta keys and the size of each value (0: any). */
static const struct {
	const char *key;
	size_t size;
} meta_keys[] = {
	{ "schema", 4 }, { "serial", 4 }, { "zone", 0 }, { "accounts", 8 }, { "rrsets", 8 },
	{ "static", ACM_STATIC_DIGEST_LEN },
};

static int check_meta_rec(const MDB_val *k, const MDB_val *v, void *p)
{
	check_t *c = p;
	if (k->mv_size == STORE_CHANGE_KEY_LEN && memcmp(k->mv_data, STORE_CHANGE_PREFIX, 4) == 0) {
		char label[ACM_LABEL_MAX + 1];
		if (!key_label(v, label))
			problem(c, k, "an account change record holds no label");
		return 0;
	}
	if (k->mv_size == STORE_CHANGE_KEY_LEN &&
	    memcmp(k->mv_data, STORE_RRSET_CHANGE_PREFIX, 4) == 0) {
		if (v->mv_size == 0 || v->mv_size > ACM_DNAME_MAX)
			problem(c, k, "an rrset change record holds no owner");
		return 0;
	}
	for (size_t i = 0; i < sizeof(meta_keys) / sizeof(meta_keys[0]); i++) {
		if (k->mv_size != strlen(meta_keys[i].key) ||
		    memcmp(k->mv_data, meta_keys[i].key, k->mv_size) != 0)
			continue;
		if (meta_keys[i].size && v->mv_size != meta_keys[i].size)
			problem(c, k, "the meta value has the wrong size");
		else if (i == 0)
			c->out->schema = acm_get_u32(v->mv_data);
		return 0;
	}
	problem(c, k, "unknown meta key");
	return 0;
}

/* The map against the file: the last page in use must lie in data.mdb. */
static int check_size(check_t *c)
{
	MDB_envinfo info;
	MDB_stat st;
	const char *dir;
	char path[4096];
	struct stat fs;
	int rc = mdb_env_info(c->s->env, &info);
	if (rc == 0)
		rc = mdb_env_stat(c->s->env, &st);
	if (rc == 0)
		rc = mdb_env_get_path(c->s->env, &dir);
	if (rc)
		return store_err(rc);
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	if (stat(path, &fs) != 0)
		return ACM_ESTORE;
	c->out->file_bytes = (uint64_t)fs.st_size;
	c->out->used_bytes = ((uint64_t)info.me_last_pgno + 1) * st.ms_psize;
	c->db = "file";
	if (c->out->used_bytes > c->out->file_bytes)
		problem(c, NULL, "the map's last page lies beyond the end of data.mdb (truncated)");
	return ACM_OK;
}

/* The delegation records: each decodes and has its account, and the
 * counts are the records' (compared once the walk is over). */
static int check_deleg(const MDB_val *k, const MDB_val *v, void *p)
{
	check_t *c = p;
	char label[ACM_LABEL_MAX + 1];
	MDB_val acc;
	bool is_count;
	uint8_t status;
	uint64_t n;

	if (store_deleg_entry(k, v, &is_count, &status, &n) != ACM_OK ||
	    status >= ACM_DELEG_REC_STATUSES)
		problem(c, k, "the delegation record does not decode");
	else if (is_count)
		c->deleg_counted[status] = n;
	else if (!key_label(k, label) || mdb_get(c->txn, c->s->accounts, (MDB_val *)k, &acc) != 0)
		problem(c, k, "the delegation record's account is missing");
	else
		c->deleg_found[status]++;
	return 0;
}

static void check_deleg_counts(check_t *c)
{
	uint8_t key[2] = { 0x00, 0 };
	MDB_val k = { 2, key };

	for (unsigned s = 0; s < ACM_DELEG_REC_STATUSES; s++) {
		key[1] = (uint8_t)s;
		if (c->deleg_counted[s] != c->deleg_found[s])
			problem(c, &k, "the count of delegation records is not the records'");
	}
}

/* A key record decodes to a key of ours; at most one key is active. */
static int check_dnssec(const MDB_val *k, const MDB_val *v, void *p)
{
	check_t *c = p;
	acm_dnssec_keyent_t ent;
	int rc = store_dnssec_entry(k, v, &ent);
	if (rc == ACM_ENOTFOUND)
		return 0;
	if (rc != ACM_OK)
		problem(c, k, "the DNSSEC key record does not decode");
	else if (ent.state == ACM_KEY_ACTIVE && c->dnssec_active++ > 0)
		problem(c, k, "a second active DNSSEC key");
	acm_dnssec_key_free(ent.key);
	return 0;
}

static const char *const known_dbs[] = { "accounts", "users", "rrsets", "meta", "journal", "audit",
                                         "delegation", "dnssec" };

static int check_name(const MDB_val *k, const MDB_val *v, void *p)
{
	(void)v;
	check_t *c = p;
	for (size_t i = 0; i < sizeof(known_dbs) / sizeof(known_dbs[0]); i++)
		if (k->mv_size == strlen(known_dbs[i]) && memcmp(k->mv_data, known_dbs[i], k->mv_size) == 0)
			return 0;
	problem(c, k, "unknown named database");
	return 0;
}

int acm_store_check(acm_store_t *s, acm_check_fn fn, void *ctx, acm_store_check_t *out)
{
	check_t c = { .s = s, .fn = fn, .ctx = ctx, .out = out };
	memset(out, 0, sizeof(*out));
	int rc = check_size(&c);
	if (rc != ACM_OK || out->problems)
		return rc;          /* nothing past the file's end may be read */
	if ((rc = store_read_begin(s, &c.txn)) != ACM_OK)
		return rc;
	MDB_dbi main;
	struct {
		const char *name;
		MDB_dbi dbi;
		store_kv_fn fn;
	} walks[] = {
		{ "main", 0, check_name }, { "accounts", s->accounts, check_account },
		{ "users", s->users, check_user }, { "rrsets", s->rrsets, check_rrset },
		{ "meta", s->meta, check_meta_rec }, { "journal", s->journal, check_diff },
		{ "audit", s->audit, check_audit }, { "delegation", s->deleg, check_deleg },
		{ "dnssec", s->dnssec, check_dnssec },
	};
	rc = store_err(mdb_dbi_open(c.txn, NULL, 0, &main));
	walks[0].dbi = main;
	for (size_t i = 0; rc == ACM_OK && i < sizeof(walks) / sizeof(walks[0]); i++) {
		if ((walks[i].fn == check_audit && !s->has_audit) ||
		    (walks[i].fn == check_deleg && !s->has_deleg) ||
		    (walks[i].fn == check_dnssec && !s->has_dnssec))
			continue;
		c.db = walks[i].name;
		rc = store_walk(c.txn, walks[i].dbi, NULL, false, walks[i].fn, &c);
	}
	if (rc == ACM_OK && s->has_deleg) {
		c.db = "delegation";
		check_deleg_counts(&c);
	}
	mdb_txn_abort(c.txn);
	return rc;
}
