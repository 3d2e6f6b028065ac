/* SPDX-License-Identifier: ISC */
/*
 * Unit tests of the store's later operations (lib/store/store_txt.c,
 * lib/store/store_account.c, lib/store/store_audit.c, lib/store/store_read.c): push, account
 * update and delete, the sweep of expired values, the audit log, the account
 * list and counts, the store's sizes and its hot backup.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>

#include "lib/error.h"
#include "lib/store/store.h"
#include "lib/dns/wire.h"
#include "tests/unit/store_fx.h"

static int push(acm_store_t *s, const char *sub, const char *v, unsigned keep)
{
	acm_wtxn_t *w;
	assert_int_equal(acm_store_write_begin(s, &w), ACM_OK);
	int rc = acm_wtxn_txt_push(w, sub, v, strlen(v), 0, keep);
	assert_int_equal(acm_store_write_commit(w, NULL), ACM_OK);
	return rc;
}

/* The values of sub joined by commas, in stored order. */
static const char *values(acm_store_t *s, const char *sub)
{
	static char buf[512];
	acm_txt_t t[8];
	size_t n = list(s, sub, t, 8);
	buf[0] = '\0';
	for (size_t i = 0; i < n && i < 8; i++)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s", i ? "," : "",
		         t[i].value);
	return buf;
}

static struct diffs *diffs_of(acm_store_t *s)
{
	static struct diffs ds;
	memset(&ds, 0, sizeof(ds));
	assert_int_equal(acm_store_foreach_diff(s, 0, collect_diff, &ds), ACM_OK);
	return &ds;
}

/* ---- push ---------------------------------------------------------------- */

static void test_push_keep(void **state)
{
	struct fx *f = *state;
	acm_txt_t t[8];

	fx_open(f, NULL);
	make_account(f->s, "p", "u1");
	assert_int_equal(push(f->s, "p", "a", 2), ACM_OK);
	assert_int_equal(push(f->s, "p", "b", 2), ACM_OK);
	assert_int_equal(serial_of(f->s), 3);
	/* Age both so that new set_times stand out: a older than b. */
	acm_store_close(f->s);
	f->s = NULL;
	raw_patch_rrset(f, "p", 2, 1000);
	raw_patch_rrset(f, "p", 22, 2000);
	fx_open(f, NULL);

	/* A refresh makes a the newest: no DNS change, no serial, no diff. */
	assert_int_equal(push(f->s, "p", "a", 2), ACM_OK);
	assert_int_equal(serial_of(f->s), 3);
	assert_int_equal(diffs_of(f->s)->n, 2);
	assert_int_equal(list(f->s, "p", t, 8), 2);
	assert_string_equal(t[0].value, "b");
	assert_int_equal(t[0].set_time, 2000);
	assert_string_equal(t[1].value, "a");
	assert_true(t[1].set_time >= (uint64_t)time(NULL) - 60);

	/* So a new value at keep 2 evicts b. */
	assert_int_equal(push(f->s, "p", "c", 2), ACM_OK);
	assert_int_equal(serial_of(f->s), 4);
	assert_string_equal(values(f->s, "p"), "a,c");
	struct diffs *ds = diffs_of(f->s);
	assert_int_equal(ds->n, 3);
	assert_int_equal(ds->d[2].n, 2);
	assert_ent(&ds->d[2].e[0], 0, "p.acme.example.org.", "b");
	assert_ent(&ds->d[2].e[1], 1, "p.acme.example.org.", "c");

	/* keep 0 counts as 1. */
	assert_int_equal(push(f->s, "p", "d", 0), ACM_OK);
	assert_string_equal(values(f->s, "p"), "d");

	assert_int_equal(push(f->s, "p", "bad\tvalue", 2), ACM_EBADVALUE);
	assert_int_equal(push(f->s, "nobody", "x", 2), ACM_ENOTFOUND);
	assert_int_equal(push(f->s, "a_b", "x", 2), ACM_EBADNAME);
}

static void test_push_capped(void **state)
{
	struct fx *f = *state;
	acm_store_opts_t o = { .max_values = 3 };

	fx_open(f, &o);
	make_account(f->s, "cap", "u1");
	/* Within one second the order of setting decides what is oldest. */
	assert_int_equal(push(f->s, "cap", "a", 100), ACM_OK);
	assert_int_equal(push(f->s, "cap", "b", 100), ACM_OK);
	assert_int_equal(push(f->s, "cap", "c", 100), ACM_OK);
	assert_int_equal(push(f->s, "cap", "a", 100), ACM_OK);
	assert_string_equal(values(f->s, "cap"), "b,c,a");
	assert_int_equal(push(f->s, "cap", "d", 100), ACM_OK);
	assert_string_equal(values(f->s, "cap"), "c,a,d");
}

static void test_push_expired_first(void **state)
{
	struct fx *f = *state;

	fx_open(f, NULL);
	make_account(f->s, "ex", "u1");
	assert_int_equal(add(f->s, "ex", "y", 0), ACM_OK);
	assert_int_equal(add(f->s, "ex", "x", 1), ACM_OK);     /* long expired */
	assert_int_equal(push(f->s, "ex", "z", 2), ACM_OK);
	assert_string_equal(values(f->s, "ex"), "y,z");
	struct diffs *ds = diffs_of(f->s);
	assert_int_equal(ds->d[ds->n - 1].n, 2);
	assert_ent(&ds->d[ds->n - 1].e[0], 0, "ex.acme.example.org.", "x");
	assert_ent(&ds->d[ds->n - 1].e[1], 1, "ex.acme.example.org.", "z");
}

/* ---- account update and delete -------------------------------------------- */

static int update(acm_store_t *s, const acm_account_t *a)
{
	acm_wtxn_t *w;
	assert_int_equal(acm_store_write_begin(s, &w), ACM_OK);
	int rc = acm_wtxn_account_update(w, a);
	assert_int_equal(acm_store_write_commit(w, NULL), ACM_OK);
	return rc;
}

static int delete(acm_store_t *s, const char *sub)
{
	acm_wtxn_t *w;
	assert_int_equal(acm_store_write_begin(s, &w), ACM_OK);
	int rc = acm_wtxn_account_delete(w, sub);
	assert_int_equal(acm_store_write_commit(w, NULL), ACM_OK);
	return rc;
}

static void test_account_update(void **state)
{
	struct fx *f = *state;
	acm_account_t a, b;

	fx_open(f, NULL);
	make_account(f->s, "upd", "uu");
	make_account(f->s, "other", "uo");
	assert_int_equal(add(f->s, "upd", "v", 0), ACM_OK);
	assert_int_equal(acm_store_account_get(f->s, "upd", &a), ACM_OK);
	a.flags |= ACM_ACCOUNT_DISABLED;
	a.updated = 1800000000;
	strcpy(a.subdomain, "UPD");
	assert_int_equal(update(f->s, &a), ACM_OK);
	assert_int_equal(serial_of(f->s), 2);
	assert_int_equal(acm_store_account_get(f->s, "upd", &b), ACM_OK);
	assert_int_equal(b.flags, ACM_ACCOUNT_DISABLED);
	assert_int_equal(b.updated, 1800000000);
	assert_string_equal(values(f->s, "upd"), "v");

	/* The username is the account's: another one is refused. */
	strcpy(b.username, "uo");
	assert_int_equal(update(f->s, &b), ACM_EEXIST);
	assert_int_equal(acm_store_account_by_user(f->s, "uu", &b), ACM_OK);
	assert_string_equal(b.subdomain, "upd");
	assert_int_equal(acm_store_account_by_user(f->s, "uo", &b), ACM_OK);
	assert_string_equal(b.subdomain, "other");

	strcpy(a.subdomain, "nobody");
	assert_int_equal(update(f->s, &a), ACM_ENOTFOUND);
	strcpy(a.subdomain, "a_b");
	assert_int_equal(update(f->s, &a), ACM_EBADNAME);
}

static void test_account_delete(void **state)
{
	struct fx *f = *state;
	acm_account_t a;
	acm_txt_t t[2];
	size_t n;

	fx_open(f, NULL);
	make_account(f->s, "del", "ud");
	make_account(f->s, "empty", "ue");
	assert_int_equal(add(f->s, "del", "v1", 0), ACM_OK);
	assert_int_equal(add(f->s, "del", "v2", 1), ACM_OK);    /* expired still goes */
	assert_int_equal(serial_of(f->s), 3);

	assert_int_equal(delete(f->s, "DEL"), ACM_OK);
	assert_int_equal(serial_of(f->s), 4);
	assert_int_equal(acm_store_txt_list(f->s, "del", t, 2, &n), ACM_ENOTFOUND);
	assert_int_equal(acm_store_account_get(f->s, "del", &a), ACM_ENOTFOUND);
	assert_int_equal(acm_store_account_by_user(f->s, "ud", &a), ACM_ENOTFOUND);
	struct diffs *ds = diffs_of(f->s);
	assert_int_equal(ds->n, 3);
	assert_int_equal(ds->d[2].n, 2);
	assert_ent(&ds->d[2].e[0], 0, "del.acme.example.org.", "v1");
	assert_ent(&ds->d[2].e[1], 0, "del.acme.example.org.", "v2");

	/* No values, no DNS data changed: no serial. */
	assert_int_equal(delete(f->s, "empty"), ACM_OK);
	assert_int_equal(serial_of(f->s), 4);
	assert_int_equal(acm_store_account_get(f->s, "empty", &a), ACM_ENOTFOUND);

	assert_int_equal(delete(f->s, "del"), ACM_ENOTFOUND);
	assert_int_equal(delete(f->s, "a_b"), ACM_EBADNAME);
	/* Subdomain and username are free again. */
	make_account(f->s, "del", "ud");
	assert_string_equal(values(f->s, "del"), "");
}

/* ---- the sweep ---------------------------------------------------------- */

static size_t purge(acm_store_t *s, size_t max, uint32_t *serial)
{
	acm_wtxn_t *w;
	size_t removed = 999;
	assert_int_equal(acm_store_write_begin(s, &w), ACM_OK);
	acm_wtxn_set_actor(w, "expiry", NULL);
	assert_int_equal(acm_wtxn_purge_expired(w, (uint64_t)time(NULL), max, &removed),
	                 ACM_OK);
	assert_int_equal(acm_store_write_commit(w, serial), ACM_OK);
	return removed;
}

static void test_purge(void **state)
{
	struct fx *f = *state;
	uint32_t sn = 0;

	fx_open(f, NULL);
	make_account(f->s, "p1", "u1");
	make_account(f->s, "p2", "u2");
	make_account(f->s, "p3", "u3");
	/* (an add drops expired values of its name: add those last) */
	assert_int_equal(add(f->s, "p1", "keep", 0), ACM_OK);
	assert_int_equal(add(f->s, "p1", "old1", 1), ACM_OK);
	assert_int_equal(add(f->s, "p2", "future", 4000000000u), ACM_OK);
	assert_int_equal(add(f->s, "p2", "old2", 5), ACM_OK);
	assert_int_equal(serial_of(f->s), 5);

	assert_int_equal(purge(f->s, 100, &sn), 2);
	assert_int_equal(sn, 6);
	assert_string_equal(values(f->s, "p1"), "keep");
	assert_string_equal(values(f->s, "p2"), "future");
	struct diffs *ds = diffs_of(f->s);
	assert_int_equal(ds->d[ds->n - 1].n, 2);
	assert_ent(&ds->d[ds->n - 1].e[0], 0, "p1.acme.example.org.", "old1");
	assert_ent(&ds->d[ds->n - 1].e[1], 0, "p2.acme.example.org.", "old2");

	/* Nothing left to do: no serial. */
	assert_int_equal(purge(f->s, 100, &sn), 0);
	assert_int_equal(sn, 6);

	/* At most max per call. */
	acm_txt_t two[2] = { txt("e1", 1), txt("e2", 2) };
	assert_int_equal(acm_store_txt_replace(f->s, "p3", two, 2, NULL), ACM_OK);
	assert_int_equal(purge(f->s, 1, &sn), 1);
	assert_string_equal(values(f->s, "p3"), "e2");
	assert_int_equal(purge(f->s, 0, &sn), 0);
	assert_int_equal(purge(f->s, 1, &sn), 1);
	assert_string_equal(values(f->s, "p3"), "");
}

/* ---- the audit log -------------------------------------------------------- */

struct audits {
	size_t n;
	uint64_t seq[16];
	json_t *rec[16];
	int stop_at;                /* return 99 from this record on (1-based) */
};

static int collect_audit(uint64_t seq, const char *json, size_t len, void *ctx)
{
	struct audits *as = ctx;
	assert_true(as->n < 16);
	as->seq[as->n] = seq;
	as->rec[as->n] = json_loadb(json, len, JSON_REJECT_DUPLICATES, NULL);
	assert_non_null(as->rec[as->n]);
	as->n++;
	return as->stop_at && (int)as->n >= as->stop_at ? 99 : 0;
}

static void audits_free(struct audits *as)
{
	for (size_t i = 0; i < as->n; i++)
		json_decref(as->rec[i]);
	memset(as, 0, sizeof(*as));
}

static const char *field(json_t *rec, const char *key)
{
	const char *s = json_string_value(json_object_get(rec, key));
	assert_non_null(s);
	return s;
}

/* The values of an audit field joined by commas. */
static void assert_vals(json_t *rec, const char *key, const char *want)
{
	char buf[256] = "";
	json_t *a = json_object_get(rec, key), *v;
	size_t i;
	assert_true(json_is_array(a));
	json_array_foreach(a, i, v)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s", i ? "," : "",
		         json_string_value(v));
	assert_string_equal(buf, want);
}

static void assert_audit(json_t *rec, const char *action, const char *sub,
                         const char *before, const char *after, uint32_t serial)
{
	assert_string_equal(field(rec, "action"), action);
	assert_string_equal(field(rec, "subdomain"), sub);
	assert_vals(rec, "before", before);
	assert_vals(rec, "after", after);
	assert_int_equal(json_integer_value(json_object_get(rec, "serial")), serial);
	json_int_t t = json_integer_value(json_object_get(rec, "time"));
	assert_true(t > (json_int_t)time(NULL) - 60 && t <= (json_int_t)time(NULL));
}

static void assert_actor(json_t *rec, const char *actor, const char *source)
{
	assert_string_equal(field(rec, "actor"), actor);
	assert_string_equal(field(rec, "source"), source);
}

static void test_audit_records(void **state)
{
	struct fx *f = *state;
	struct audits as = { 0 };
	acm_wtxn_t *w;
	acm_account_t a;
	acm_txt_t r = txt("r", 0);
	uint32_t sn;

	fx_open(f, NULL);
	make_account(f->s, "au", "ua");
	assert_int_equal(acm_store_write_begin(f->s, &w), ACM_OK);
	acm_wtxn_set_actor(w, "account:ua", "192.0.2.1");
	assert_int_equal(acm_wtxn_txt_add(w, "au", "v1", 2, 0), ACM_OK);
	assert_int_equal(acm_wtxn_txt_add(w, "au", "v1", 2, 0), ACM_EEXIST);
	assert_int_equal(acm_wtxn_txt_remove(w, "au", "zz", 2), ACM_EABSENT);
	assert_int_equal(acm_wtxn_txt_replace(w, "au", NULL, 0), ACM_OK);
	assert_int_equal(acm_wtxn_txt_add(w, "au", "v1", 2, 0), ACM_OK);
	/* The actor stays until set again; text that JSON would mangle is not kept. */
	acm_wtxn_set_actor(w, "cli:r\x01t", NULL);
	assert_int_equal(acm_wtxn_txt_push(w, "au", "v1", 2, 0, 2), ACM_OK);
	assert_int_equal(acm_store_account_get(f->s, "au", &a), ACM_OK);
	a.flags = ACM_ACCOUNT_DISABLED;
	assert_int_equal(acm_wtxn_account_update(w, &a), ACM_OK);
	assert_int_equal(acm_store_write_commit(w, &sn), ACM_OK);
	assert_int_equal(sn, 2);
	assert_int_equal(acm_store_txt_replace(f->s, "au", &r, 1, NULL), ACM_OK);
	assert_int_equal(delete(f->s, "au"), ACM_OK);
	assert_int_equal(serial_of(f->s), 4);

	assert_int_equal(acm_store_audit_list(f->s, 0, NULL, 0, collect_audit, &as), ACM_OK);
	assert_int_equal(as.n, 8);
	for (size_t i = 0; i < as.n; i++)
		assert_int_equal(as.seq[i], i + 1);
	assert_audit(as.rec[0], "create", "au", "", "", 1);
	assert_actor(as.rec[0], "unknown", "local");
	/* All of one commit carry its serial, the adds before the remove too. */
	assert_audit(as.rec[1], "add", "au", "", "v1", 2);
	assert_actor(as.rec[1], "account:ua", "192.0.2.1");
	assert_audit(as.rec[2], "replace", "au", "v1", "", 2);
	assert_audit(as.rec[3], "add", "au", "", "v1", 2);
	assert_audit(as.rec[4], "push", "au", "v1", "v1", 2);
	assert_actor(as.rec[4], "cli:r?t", "local");
	assert_audit(as.rec[5], "update", "au", "v1", "v1", 2);
	assert_string_equal(field(as.rec[5], "change"), "disabled");
	assert_null(json_object_get(as.rec[4], "change"));
	assert_audit(as.rec[6], "replace", "au", "v1", "r", 3);
	assert_audit(as.rec[7], "delete", "au", "r", "", 4);
	assert_actor(as.rec[7], "unknown", "local");
	audits_free(&as);
}

static void test_audit_update_changes(void **state)
{
	struct fx *f = *state;
	struct audits as = { 0 };
	acm_account_t a;

	fx_open(f, NULL);
	make_account(f->s, "ch", "uc");
	assert_int_equal(acm_store_account_get(f->s, "ch", &a), ACM_OK);
	assert_int_equal(update(f->s, &a), ACM_OK);          /* nothing changed */
	a.flags = ACM_ACCOUNT_DISABLED;
	assert_int_equal(update(f->s, &a), ACM_OK);
	a.flags = 0;
	strcpy(a.key_hash, "11");
	a.allowfrom_count = 1;
	strcpy(a.allowfrom[0], "192.0.2.0/24");
	assert_int_equal(update(f->s, &a), ACM_OK);
	a.updated++;
	assert_int_equal(update(f->s, &a), ACM_OK);
	assert_int_equal(acm_store_audit_list(f->s, 1, "ch", 0, collect_audit, &as), ACM_OK);
	assert_int_equal(as.n, 3);
	assert_string_equal(field(as.rec[0], "change"), "disabled");
	assert_string_equal(field(as.rec[1], "change"), "enabled,key,allowfrom");
	assert_string_equal(field(as.rec[2], "change"), "updated");
	audits_free(&as);
}

/* A bulk import: no record per change, one note for all of it, which
 * alone makes a commit store something but bumps no serial. */
static void test_audit_off_and_note(void **state)
{
	struct fx *f = *state;
	struct audits as = { 0 };
	acm_account_t a = { .key_scheme = ACM_KEY_SHA256 };
	acm_txt_t v = txt("v", 0);
	acm_wtxn_t *w;
	uint32_t sn;

	fx_open(f, NULL);
	strcpy(a.subdomain, "im");
	strcpy(a.username, "ui");
	assert_int_equal(acm_store_write_begin(f->s, &w), ACM_OK);
	acm_wtxn_set_actor(w, "cli:root", NULL);
	acm_wtxn_set_audit(w, false);
	assert_int_equal(acm_wtxn_account_create(w, &a), ACM_OK);
	assert_int_equal(acm_wtxn_txt_replace(w, "im", &v, 1), ACM_OK);
	assert_int_equal(acm_wtxn_audit_note(w, "import", json_array()), -EINVAL);
	assert_int_equal(acm_wtxn_audit_note(w, "import", json_pack("{s:s, s:i}", "change",
	                                                           "import from x", "n", 1)),
	                 ACM_OK);
	assert_int_equal(acm_store_write_commit(w, &sn), ACM_OK);
	assert_int_equal(sn, 2);
	assert_int_equal(acm_store_write_begin(f->s, &w), ACM_OK);
	assert_int_equal(acm_wtxn_audit_note(w, "import", json_object()), ACM_OK);
	assert_int_equal(acm_store_write_commit(w, &sn), ACM_OK);
	assert_int_equal(sn, 2);                 /* no DNS change, no new serial */

	assert_int_equal(acm_store_audit_list(f->s, 0, NULL, 0, collect_audit, &as), ACM_OK);
	assert_int_equal(as.n, 2);
	assert_audit(as.rec[0], "import", "", "", "", 2);
	assert_audit(as.rec[1], "import", "", "", "", 2);
	assert_actor(as.rec[0], "cli:root", "local");
	assert_string_equal(field(as.rec[0], "change"), "import from x");
	assert_int_equal(json_integer_value(json_object_get(as.rec[0], "n")), 1);
	audits_free(&as);
	/* Listing one account's records reads past the note. */
	assert_int_equal(acm_store_audit_list(f->s, 0, "im", 0, collect_audit, &as), ACM_OK);
	assert_int_equal(as.n, 0);
	audits_free(&as);
}

static void test_audit_trim_filter(void **state)
{
	struct fx *f = *state;
	acm_store_opts_t o = { .audit_max = 3 };
	struct audits as = { 0 };

	fx_open(f, &o);
	make_account(f->s, "x", "ux");                           /* 1 */
	make_account(f->s, "y", "uy");                           /* 2 */
	assert_int_equal(add(f->s, "x", "a", 0), ACM_OK);        /* 3 */
	assert_int_equal(add(f->s, "y", "b", 0), ACM_OK);        /* 4 */
	assert_int_equal(add(f->s, "x", "c", 0), ACM_OK);        /* 5 */
	assert_int_equal(add(f->s, "x", "c", 0), ACM_EEXIST);    /* none */

	assert_int_equal(acm_store_audit_list(f->s, 0, NULL, 0, collect_audit, &as), ACM_OK);
	assert_int_equal(as.n, 3);
	assert_int_equal(as.seq[0], 3);
	assert_int_equal(as.seq[2], 5);
	assert_audit(as.rec[2], "add", "x", "a", "a,c", 4);
	audits_free(&as);

	assert_int_equal(acm_store_audit_list(f->s, 3, NULL, 0, collect_audit, &as), ACM_OK);
	assert_int_equal(as.n, 2);
	assert_int_equal(as.seq[0], 4);
	audits_free(&as);
	assert_int_equal(acm_store_audit_list(f->s, 0, "X", 0, collect_audit, &as), ACM_OK);
	assert_int_equal(as.n, 2);
	assert_int_equal(as.seq[0], 3);
	assert_int_equal(as.seq[1], 5);
	audits_free(&as);
	assert_int_equal(acm_store_audit_list(f->s, 0, "x", 1, collect_audit, &as), ACM_OK);
	assert_int_equal(as.n, 1);
	assert_int_equal(as.seq[0], 3);
	audits_free(&as);
	assert_int_equal(acm_store_audit_list(f->s, 0, "nobody", 0, collect_audit, &as),
	                 ACM_OK);
	assert_int_equal(as.n, 0);
	as.stop_at = 2;
	assert_int_equal(acm_store_audit_list(f->s, 0, NULL, 0, collect_audit, &as), 99);
	assert_int_equal(as.n, 2);
	audits_free(&as);

	/* Sequences continue after a reopen, and a read-only open lists them. */
	fx_open(f, &o);
	assert_int_equal(add(f->s, "y", "d", 0), ACM_OK);
	o.read_only = true;
	fx_open(f, &o);
	assert_int_equal(acm_store_audit_list(f->s, 5, NULL, 0, collect_audit, &as), ACM_OK);
	assert_int_equal(as.n, 1);
	assert_int_equal(as.seq[0], 6);
	audits_free(&as);
}

/* ---- account list and counts ---------------------------------------------- */

struct names {
	char buf[256];
	int stop;
};

static int collect_name(const acm_account_t *acc, void *ctx)
{
	struct names *ns = ctx;
	size_t used = strlen(ns->buf);
	snprintf(ns->buf + used, sizeof(ns->buf) - used, "%s%s", used ? "," : "",
	         acc->subdomain);
	return ns->stop;
}

static const char *names(acm_store_t *s, const char *after, const char *search,
                         size_t limit)
{
	static struct names ns;
	memset(&ns, 0, sizeof(ns));
	assert_int_equal(acm_store_account_list(s, after, search, limit, collect_name, &ns),
	                 ACM_OK);
	return ns.buf;
}

static void test_account_list(void **state)
{
	struct fx *f = *state;
	struct names ns = { "", 7 };

	fx_open(f, NULL);
	assert_string_equal(names(f->s, NULL, NULL, 0), "");
	make_account(f->s, "d-four", "dave");
	make_account(f->s, "b-two", "bob");
	make_account(f->s, "a-one", "alice");
	make_account(f->s, "c-three", "carol");
	assert_string_equal(names(f->s, NULL, NULL, 0), "a-one,b-two,c-three,d-four");
	assert_string_equal(names(f->s, "", "", 2), "a-one,b-two");
	assert_string_equal(names(f->s, "b-two", NULL, 2), "c-three,d-four");
	assert_string_equal(names(f->s, "B-TWO", NULL, 1), "c-three");
	assert_string_equal(names(f->s, "bb", NULL, 0), "c-three,d-four");
	assert_string_equal(names(f->s, "d-four", NULL, 0), "");
	/* Search: subdomain or username, any case. */
	assert_string_equal(names(f->s, NULL, "AR", 0), "c-three");
	assert_string_equal(names(f->s, NULL, "o", 0), "a-one,b-two,c-three,d-four");
	assert_string_equal(names(f->s, NULL, "O", 2), "a-one,b-two");
	assert_string_equal(names(f->s, "a-one", "e", 0), "c-three,d-four");
	assert_string_equal(names(f->s, NULL, "zzz", 0), "");
	/* The callback stops the walk. */
	assert_int_equal(acm_store_account_list(f->s, NULL, NULL, 0, collect_name, &ns), 7);
	assert_string_equal(ns.buf, "a-one");
}

static void test_counts(void **state)
{
	struct fx *f = *state;
	size_t accounts = 99, vals = 99;

	fx_open(f, NULL);
	assert_int_equal(acm_store_counts(f->s, &accounts, &vals), ACM_OK);
	assert_int_equal(accounts, 0);
	assert_int_equal(vals, 0);
	make_account(f->s, "c1", "u1");
	make_account(f->s, "c2", "u2");
	make_account(f->s, "c3", "u3");
	assert_int_equal(add(f->s, "c1", "a", 0), ACM_OK);
	assert_int_equal(add(f->s, "c1", "b", 1), ACM_OK);      /* expired counts */
	assert_int_equal(add(f->s, "c3", "c", 0), ACM_OK);
	assert_int_equal(acm_store_counts(f->s, &accounts, &vals), ACM_OK);
	assert_int_equal(accounts, 3);
	assert_int_equal(vals, 3);
	assert_int_equal(delete(f->s, "c1"), ACM_OK);
	assert_int_equal(acm_store_counts(f->s, &accounts, &vals), ACM_OK);
	assert_int_equal(accounts, 2);
	assert_int_equal(vals, 1);
}

/* ---- the store as a whole ----------------------------------------------- */

static void test_info(void **state)
{
	struct fx *f = *state;
	acm_store_opts_t o = { .mapsize = 64u << 20 };
	acm_store_info_t a, b;

	fx_open(f, &o);
	assert_int_equal(acm_store_info(f->s, &a), ACM_OK);
	assert_int_equal(a.map_size, 64u << 20);
	assert_true(a.used_bytes > 0 && a.used_bytes <= a.file_bytes);
	make_account(f->s, "i1", "u1");
	for (int i = 0; i < 50; i++) {
		char v[32];
		snprintf(v, sizeof(v), "value-%d", i);
		assert_int_equal(add(f->s, "i1", v, 0), ACM_OK);
		assert_int_equal(acm_store_txt_remove(f->s, "i1", v, strlen(v), NULL), ACM_OK);
	}
	assert_int_equal(acm_store_info(f->s, &b), ACM_OK);
	assert_true(b.last_txn >= a.last_txn + 101);
	assert_true(b.used_bytes >= a.used_bytes && b.used_bytes <= b.file_bytes);
}

static void test_backup(void **state)
{
	struct fx *f = *state;
	char dest[128], file[160];
	struct stat st;
	acm_store_t *copy;
	acm_store_opts_t ro = { .read_only = true };
	acm_txt_t t[4];
	size_t n = 0, accounts = 0, vals = 0;

	fx_open(f, NULL);
	make_account(f->s, "b1", "u1");
	make_account(f->s, "b2", "u2");
	assert_int_equal(add(f->s, "b1", "one", 0), ACM_OK);
	assert_int_equal(add(f->s, "b2", "two", 0), ACM_OK);
	assert_int_equal(delete(f->s, "b2"), ACM_OK);
	/* parents are made too */
	snprintf(dest, sizeof(dest), "%s/bk/copy", f->dir);
	assert_int_equal(acm_store_backup(f->s, dest), ACM_OK);
	snprintf(file, sizeof(file), "%s/data.mdb", dest);
	assert_int_equal(stat(file, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* later writes are not in the copy */
	assert_int_equal(add(f->s, "b1", "later", 0), ACM_OK);

	assert_int_equal(acm_store_open(dest, f->apex, &ro, &copy), ACM_OK);
	assert_int_equal(serial_of(copy), serial_of(f->s) - 1);
	assert_int_equal(acm_store_counts(copy, &accounts, &vals), ACM_OK);
	assert_int_equal(accounts, 1);
	assert_int_equal(vals, 1);
	assert_int_equal(acm_store_txt_list(copy, "b1", t, 4, &n), ACM_OK);
	assert_int_equal(n, 1);
	assert_string_equal(t[0].value, "one");
	acm_store_close(copy);

	/* never over anything: a used directory, a file */
	assert_int_equal(acm_store_backup(f->s, dest), ACM_EEXIST);
	assert_int_equal(acm_store_backup(f->s, file), -ENOTDIR);
	/* an empty directory is fine, and a read-only handle can copy */
	snprintf(dest, sizeof(dest), "%s/empty", f->dir);
	assert_int_equal(mkdir(dest, 0700), 0);
	fx_open(f, &ro);
	assert_int_equal(acm_store_backup(f->s, dest), ACM_OK);
}

/* ---- savepoints ---------------------------------------------------------- */

/* A rollback undoes the writes, the diff and the audit records made since
 * the savepoint, and nothing before it; a release keeps them. */
static void test_savepoint(void **state)
{
	struct fx *f = *state;
	struct audits as = { 0 };
	acm_wtxn_t *w;
	acm_txt_t t[4];
	size_t n;
	uint32_t sn;

	fx_open(f, NULL);
	make_account(f->s, "sp", "usp");
	assert_int_equal(acm_store_write_begin(f->s, &w), ACM_OK);
	assert_int_equal(acm_wtxn_txt_add(w, "sp", "keep", 4, 0), ACM_OK);
	assert_int_equal(acm_wtxn_savepoint(w), ACM_OK);
	assert_int_equal(acm_wtxn_savepoint(w), -EBUSY);
	assert_int_equal(acm_wtxn_txt_add(w, "sp", "gone", 4, 0), ACM_OK);
	assert_int_equal(acm_wtxn_txt_remove(w, "sp", "keep", 4), ACM_OK);
	assert_int_equal(acm_wtxn_txt_list(w, "sp", t, 4, &n), ACM_OK);
	assert_int_equal(n, 1);
	acm_wtxn_rollback(w);
	acm_wtxn_rollback(w);     /* none open: nothing to do */
	assert_int_equal(acm_wtxn_txt_list(w, "sp", t, 4, &n), ACM_OK);
	assert_int_equal(n, 1);
	assert_string_equal(t[0].value, "keep");
	assert_int_equal(acm_wtxn_savepoint(w), ACM_OK);
	assert_int_equal(acm_wtxn_txt_add(w, "sp", "also", 4, 0), ACM_OK);
	assert_int_equal(acm_wtxn_release(w), ACM_OK);
	/* committing releases a savepoint left open */
	assert_int_equal(acm_wtxn_savepoint(w), ACM_OK);
	assert_int_equal(acm_wtxn_txt_add(w, "sp", "last", 4, 0), ACM_OK);
	assert_int_equal(acm_store_write_commit(w, &sn), ACM_OK);
	assert_int_equal(sn, 2);
	assert_string_equal(values(f->s, "sp"), "keep,also,last");

	struct diffs *ds = diffs_of(f->s);
	assert_int_equal(ds->n, 1);
	assert_int_equal(ds->d[0].n, 3);
	assert_ent(&ds->d[0].e[0], 1, "sp.acme.example.org.", "keep");
	assert_ent(&ds->d[0].e[1], 1, "sp.acme.example.org.", "also");
	assert_ent(&ds->d[0].e[2], 1, "sp.acme.example.org.", "last");
	assert_int_equal(acm_store_audit_list(f->s, 0, NULL, 0, collect_audit, &as), ACM_OK);
	assert_int_equal(as.n, 4);
	assert_audit(as.rec[1], "add", "sp", "", "keep", 2);
	assert_audit(as.rec[2], "add", "sp", "keep", "keep,also", 2);
	audits_free(&as);

	/* aborting with a savepoint open drops everything */
	assert_int_equal(acm_store_write_begin(f->s, &w), ACM_OK);
	assert_int_equal(acm_wtxn_txt_add(w, "sp", "x", 1, 0), ACM_OK);
	assert_int_equal(acm_wtxn_savepoint(w), ACM_OK);
	assert_int_equal(acm_wtxn_txt_add(w, "sp", "y", 1, 0), ACM_OK);
	acm_store_write_abort(w);
	assert_string_equal(values(f->s, "sp"), "keep,also,last");
	assert_int_equal(serial_of(f->s), 2);
}

/* ---- the challenge name ---------------------------------------------------- */

static int count_rrset(const uint8_t *owner, const uint8_t *rec, size_t len, void *ctx)
{
	(void)owner;
	(void)rec;
	(void)len;
	(*(int *)ctx)++;
	return 0;
}

static int rrsets_of(acm_store_t *s)
{
	int n = 0;
	assert_int_equal(acm_store_foreach_rrset(s, count_rrset, &n), ACM_OK);
	return n;
}

/* Values at _acme-challenge.<sub>: the account's, kept apart from its own
 * name's, journaled under their owner, gone with the account. */
static void test_challenge_name(void **state)
{
	struct fx *f = *state;
	struct audits as = { 0 };
	acm_txt_t t[4];
	size_t n;
	const char *ch = "_acme-challenge.cn";

	fx_open(f, NULL);
	make_account(f->s, "cn", "ucn");
	assert_int_equal(rrsets_of(f->s), 1);
	assert_int_equal(acm_store_txt_list(f->s, ch, t, 4, &n), ACM_OK);
	assert_int_equal(n, 0);
	assert_int_equal(add(f->s, "_ACME-Challenge.CN", "c1", 0), ACM_OK);
	assert_int_equal(add(f->s, ch, "c1", 0), ACM_EEXIST);
	assert_int_equal(add(f->s, "cn", "own", 0), ACM_OK);
	assert_string_equal(values(f->s, ch), "c1");
	assert_string_equal(values(f->s, "cn"), "own");
	assert_int_equal(rrsets_of(f->s), 2);
	/* no account, no challenge name; nor one deeper */
	assert_int_equal(add(f->s, "_acme-challenge.nobody", "x", 0), ACM_ENOTFOUND);
	assert_int_equal(add(f->s, "_acme-challenge._acme-challenge.cn", "x", 0), ACM_EBADNAME);
	assert_int_equal(acm_store_txt_list(f->s, "_acme-challenge.nobody", t, 4, &n),
	                 ACM_ENOTFOUND);

	/* emptied, the record goes: the name does not exist any more */
	assert_int_equal(acm_store_txt_remove(f->s, ch, "c1", 2, NULL), ACM_OK);
	assert_int_equal(rrsets_of(f->s), 1);
	assert_int_equal(acm_store_txt_replace(f->s, ch, NULL, 0, NULL), ACM_OK);
	assert_int_equal(add(f->s, ch, "c2", 0), ACM_OK);

	uint32_t before = serial_of(f->s);
	assert_int_equal(delete(f->s, "cn"), ACM_OK);
	assert_int_equal(serial_of(f->s), before + 1);
	assert_int_equal(rrsets_of(f->s), 0);
	struct diffs *ds = diffs_of(f->s);
	struct diff_rec *last = &ds->d[ds->n - 1];
	assert_int_equal(last->n, 2);
	assert_ent(&last->e[0], 0, "cn.acme.example.org.", "own");
	assert_ent(&last->e[1], 0, "_acme-challenge.cn.acme.example.org.", "c2");

	assert_int_equal(acm_store_audit_list(f->s, 0, "cn", 0, collect_audit, &as), ACM_OK);
	assert_string_equal(field(as.rec[1], "name"), "_acme-challenge");
	assert_audit(as.rec[1], "add", "cn", "", "c1", 2);
	assert_null(json_object_get(as.rec[2], "name"));
	assert_string_equal(field(as.rec[as.n - 1], "name"), "_acme-challenge");
	assert_audit(as.rec[as.n - 1], "delete", "cn", "c2", "", before + 1);
	audits_free(&as);
}

/* The sweep sees challenge names too. */
static void test_challenge_purge(void **state)
{
	struct fx *f = *state;
	acm_wtxn_t *w;
	size_t removed;

	fx_open(f, NULL);
	make_account(f->s, "cp", "ucp");
	assert_int_equal(add(f->s, "_acme-challenge.cp", "old", 1), ACM_OK);
	assert_int_equal(add(f->s, "cp", "old", 1), ACM_OK);
	assert_int_equal(acm_store_write_begin(f->s, &w), ACM_OK);
	assert_int_equal(acm_wtxn_purge_expired(w, 2, 10, &removed), ACM_OK);
	assert_int_equal(acm_store_write_commit(w, NULL), ACM_OK);
	assert_int_equal(removed, 2);
	assert_int_equal(rrsets_of(f->s), 1);
}

#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)

/* ---- journal age ---------------------------------------------------------- */

/* The store is closed for the raw edit: LMDB allows one open per process. */
static void backdate_diff(struct fx *f, uint64_t seq, uint64_t when)
{
	uint8_t key[8], t[8];

	if (f->s) {
		acm_store_close(f->s);
		f->s = NULL;
	}

	acm_put_u64(key, seq);
	acm_put_u64(t, when);
	raw_patch(f, "journal", key, sizeof(key), 8, t, sizeof(t));
}

/* Diffs older than journal_max_age go at the next commit, oldest first,
 * even when the count bound would keep them; the newest always stays. */
/* A change of the static records bumps the serial once and empties the
 * journal; the first digest and an unchanged one change nothing. */
static void test_sync_static(void **state)
{
	struct fx *f = *state;
	uint8_t a[ACM_STATIC_DIGEST_LEN], b[ACM_STATIC_DIGEST_LEN];
	bool changed = true;
	uint32_t sn = 0;
	struct diffs d = { 0 };

	memset(a, 0xAA, sizeof(a));
	memset(b, 0xBB, sizeof(b));
	fx_open(f, NULL);
	make_account(f->s, "st", "user-st");
	assert_int_equal(add(f->s, "st", "v1", 0), ACM_OK);
	uint32_t before = serial_of(f->s);

	assert_int_equal(acm_store_sync_static(f->s, a, &changed, &sn), ACM_OK);
	assert_false(changed);
	assert_int_equal(sn, before);
	assert_int_equal(acm_store_sync_static(f->s, a, &changed, &sn), ACM_OK);
	assert_false(changed);
	assert_int_equal(serial_of(f->s), before);

	assert_int_equal(acm_store_sync_static(f->s, b, &changed, &sn), ACM_OK);
	assert_true(changed);
	assert_int_equal(sn, before + 1);
	assert_int_equal(serial_of(f->s), before + 1);
	assert_int_equal(acm_store_foreach_diff(f->s, 0, collect_diff, &d), ACM_OK);
	assert_int_equal(d.n, 0);

	/* The journal starts again from the new serial. */
	assert_int_equal(add(f->s, "st", "v2", 0), ACM_OK);
	assert_int_equal(acm_store_foreach_diff(f->s, 0, collect_diff, &d), ACM_OK);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.d[0].from, before + 1);
	assert_int_equal(d.d[0].to, before + 2);
}

static void test_journal_max_age(void **state)
{
	struct fx *f = *state;
	acm_store_opts_t o = { .journal_max = 100, .journal_max_age = 3600 };
	uint64_t now = (uint64_t)time(NULL);
	struct diffs *ds;

	fx_open(f, &o);
	make_account(f->s, "j", "u1");
	assert_int_equal(add(f->s, "j", "a", 0), ACM_OK);       /* seq 1 */
	assert_int_equal(add(f->s, "j", "b", 0), ACM_OK);       /* seq 2 */
	assert_int_equal(add(f->s, "j", "c", 0), ACM_OK);       /* seq 3 */
	backdate_diff(f, 1, now - 7200);
	backdate_diff(f, 2, now - 3500);
	fx_open(f, &o);
	assert_int_equal(diffs_of(f->s)->n, 3);                  /* nothing trims on open */
	assert_int_equal(add(f->s, "j", "d", 0), ACM_OK);       /* seq 4 */
	ds = diffs_of(f->s);
	assert_int_equal(ds->n, 3);
	assert_int_equal(ds->d[0].seq, 2);
	assert_int_equal(ds->d[2].seq, 4);

	for (uint64_t seq = 2; seq <= 4; seq++)
		backdate_diff(f, seq, now - 100000);
	fx_open(f, &o);
	assert_int_equal(add(f->s, "j", "e", 0), ACM_OK);       /* seq 5 */
	ds = diffs_of(f->s);
	assert_int_equal(ds->n, 1);
	assert_int_equal(ds->d[0].seq, 5);

	/* No age limit: only the count bound applies. */
	o.journal_max_age = 0;
	backdate_diff(f, 5, 1);
	fx_open(f, &o);
	assert_int_equal(add(f->s, "j", "f", 0), ACM_OK);
	assert_int_equal(diffs_of(f->s)->n, 2);
}

/* ---- audit age ------------------------------------------------------------ */

/* Records start {"time":<10 digits>: overwrite the digits (store closed). */
static void backdate_audit(struct fx *f, uint64_t seq, const char *ten_digits)
{
	uint8_t key[8];

	if (f->s) {
		acm_store_close(f->s);
		f->s = NULL;
	}
	acm_put_u64(key, seq);
	raw_patch(f, "audit", key, sizeof(key), strlen("{\"time\":"), ten_digits, 10);
}

/* Records older than audit_max_age go at the next commit, oldest first,
 * even when the count bound would keep them; without an age limit only
 * the count applies. */
static void test_audit_max_age(void **state)
{
	struct fx *f = *state;
	acm_store_opts_t o = { .audit_max = 100, .audit_max_age = 3600 };
	struct audits as = { 0 };

	fx_open(f, &o);
	make_account(f->s, "q", "uq");                           /* 1 */
	assert_int_equal(add(f->s, "q", "a", 0), ACM_OK);        /* 2 */
	assert_int_equal(add(f->s, "q", "b", 0), ACM_OK);        /* 3 */
	assert_int_equal(acm_store_audit_list(f->s, 0, NULL, 0, collect_audit, &as), ACM_OK);
	assert_int_equal(as.n, 3);
	assert_true(json_integer_value(json_object_get(as.rec[0], "time")) > 1000000000);
	audits_free(&as);

	backdate_audit(f, 1, "1000000000");
	backdate_audit(f, 2, "1000000000");
	fx_open(f, &o);
	assert_int_equal(acm_store_audit_list(f->s, 0, NULL, 0, collect_audit, &as), ACM_OK);
	assert_int_equal(as.n, 3);              /* trimmed at a commit, not at open */
	assert_int_equal(json_integer_value(json_object_get(as.rec[1], "time")), 1000000000);
	audits_free(&as);
	assert_int_equal(add(f->s, "q", "c", 0), ACM_OK);        /* 4 */
	assert_int_equal(acm_store_audit_list(f->s, 0, NULL, 0, collect_audit, &as), ACM_OK);
	assert_int_equal(as.n, 2);
	assert_int_equal(as.seq[0], 3);
	assert_int_equal(as.seq[1], 4);
	audits_free(&as);

	o.audit_max_age = 0;
	backdate_audit(f, 3, "1000000000");
	fx_open(f, &o);
	assert_int_equal(add(f->s, "q", "d", 0), ACM_OK);        /* 5 */
	assert_int_equal(acm_store_audit_list(f->s, 0, NULL, 0, collect_audit, &as), ACM_OK);
	assert_int_equal(as.n, 3);
	audits_free(&as);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_push_keep),
		T(test_push_capped),
		T(test_push_expired_first),
		T(test_account_update),
		T(test_account_delete),
		T(test_purge),
		T(test_audit_records),
		T(test_audit_update_changes),
		T(test_audit_trim_filter),
		T(test_audit_off_and_note),
		T(test_account_list),
		T(test_counts),
		T(test_info),
		T(test_backup),
		T(test_savepoint),
		T(test_challenge_name),
		T(test_challenge_purge),
		T(test_journal_max_age),
		T(test_sync_static),
		T(test_audit_max_age),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
