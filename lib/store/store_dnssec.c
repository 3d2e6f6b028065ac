/* SPDX-License-Identifier: ISC */
/*
 * The store's part for the zone's DNSSEC keys (see store_dnssec.h): a
 * record per key and the generation every change bumps, in the named
 * database "dnssec". Each change is one transaction with its audit note,
 * which names the key by tag, algorithm and state only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "lib/dns/wire.h"
#include "lib/error.h"
#include "lib/store/store_dnssec.h"
#include "lib/store/store_int.h"

#define REC_VERSION 1
#define REC_HEAD 19             /* u8 version, u8 alg, u8 state, u64 created, u64 changed */
static const char GEN_KEY[] = "\0generation";
#define GEN_KEY_LEN (sizeof(GEN_KEY) - 1)

static bool state_ok(uint8_t state)
{
	return state == ACM_KEY_PUBLISHED || state == ACM_KEY_ACTIVE || state == ACM_KEY_RETIRING;
}

int store_dnssec_entry(const MDB_val *k, const MDB_val *v, acm_dnssec_keyent_t *out)
{
	const uint8_t *p = v->mv_data;
	memset(out, 0, sizeof(*out));
	if (k->mv_size == GEN_KEY_LEN && memcmp(k->mv_data, GEN_KEY, GEN_KEY_LEN) == 0)
		return v->mv_size == 8 ? ACM_ENOTFOUND : ACM_ECORRUPT;
	if (k->mv_size != 4 || v->mv_size <= REC_HEAD || p[0] != REC_VERSION || !state_ok(p[2]))
		return ACM_ECORRUPT;
	out->id = acm_get_u32(k->mv_data);
	out->state = p[2];
	out->created = acm_get_u64(p + 3);
	out->changed = acm_get_u64(p + 11);
	if (out->id == 0 ||
	    acm_dnssec_key_from_pem(p + REC_HEAD, v->mv_size - REC_HEAD, &out->key) != ACM_OK)
		return ACM_ECORRUPT;
	if (acm_dnssec_key_algorithm(out->key) != p[1]) {
		acm_dnssec_key_free(out->key);
		out->key = NULL;
		return ACM_ECORRUPT;
	}
	return ACM_OK;
}

static int read_generation(MDB_txn *txn, MDB_dbi dbi, uint64_t *gen)
{
	MDB_val k = store_val(GEN_KEY, GEN_KEY_LEN), v;
	int rc = mdb_get(txn, dbi, &k, &v);
	*gen = 0;
	if (rc == MDB_NOTFOUND)
		return ACM_OK;
	if (rc != 0)
		return store_err(rc);
	if (v.mv_size != 8)
		return ACM_ECORRUPT;
	*gen = acm_get_u64(v.mv_data);
	return ACM_OK;
}

/* A failure stops the walk and is what it returns. */
static int load_one(const MDB_val *k, const MDB_val *v, void *p)
{
	acm_dnssec_keyset_t *set = p;
	acm_dnssec_keyent_t ent;
	int rc = store_dnssec_entry(k, v, &ent);
	if (rc == ACM_ENOTFOUND)
		return ACM_OK;   /* the generation */
	if (rc == ACM_OK && set->count == ACM_DNSSEC_KEYS_MAX) {
		acm_dnssec_key_free(ent.key);
		rc = ACM_ECORRUPT;
	}
	if (rc == ACM_OK)
		set->keys[set->count++] = ent;
	return rc;
}

/* The keys in txn into out (emptied first). */
static int load_txn(const acm_store_t *s, MDB_txn *txn, acm_dnssec_keyset_t *out, uint64_t *gen)
{
	memset(out, 0, sizeof(*out));
	*gen = 0;
	if (!s->has_dnssec)
		return ACM_OK;
	int rc = read_generation(txn, s->dnssec, gen);
	if (rc == ACM_OK)
		rc = store_walk(txn, s->dnssec, NULL, false, load_one, out);
	if (rc != ACM_OK)
		acm_dnssec_keyset_clear(out);
	return rc;
}

int acm_store_dnssec_load(acm_store_t *store, acm_dnssec_keyset_t *out, uint64_t *generation)
{
	MDB_txn *txn;
	int rc = store_read_begin(store, &txn);
	if (rc != ACM_OK) {
		memset(out, 0, sizeof(*out));
		return rc;
	}
	rc = load_txn(store, txn, out, generation);
	mdb_txn_abort(txn);
	return rc;
}

int acm_store_dnssec_generation(acm_store_t *store, uint64_t *generation)
{
	MDB_txn *txn;
	*generation = 0;
	if (!store->has_dnssec)
		return ACM_OK;
	int rc = store_read_begin(store, &txn);
	if (rc != ACM_OK)
		return rc;
	rc = read_generation(txn, store->dnssec, generation);
	mdb_txn_abort(txn);
	return rc;
}

/* Bump the generation and note the change for the audit log. */
static int changed(acm_wtxn_t *w, uint64_t gen, const char *change, uint16_t tag)
{
	uint8_t buf[8];
	acm_put_u64(buf, gen + 1);
	MDB_val k = store_val(GEN_KEY, GEN_KEY_LEN), v = store_val(buf, 8);
	int rc = store_err(mdb_put(w->txn, w->s->dnssec, &k, &v, 0));
	if (rc != ACM_OK)
		return rc;
	return acm_wtxn_audit_note(w, "dnssec_key",
	                           json_pack("{s:s, s:i}", "change", change, "key_tag", (int)tag));
}

/* Run fn on a write transaction holding the current keys, then commit. */
typedef int (*key_change_fn)(acm_wtxn_t *w, acm_dnssec_keyset_t *ks, uint64_t gen, void *arg);

static int key_change(acm_store_t *store, const char *actor, key_change_fn fn, void *arg)
{
	if (!store->has_dnssec)
		return -EROFS;
	acm_wtxn_t *w;
	acm_dnssec_keyset_t ks;
	uint64_t gen;
	int rc = acm_store_write_begin(store, &w);
	if (rc != ACM_OK)
		return rc;
	acm_wtxn_set_actor(w, actor, "local");
	rc = load_txn(store, w->txn, &ks, &gen);
	if (rc == ACM_OK)
		rc = fn(w, &ks, gen, arg);
	acm_dnssec_keyset_clear(&ks);
	if (rc != ACM_OK) {
		acm_store_write_abort(w);
		return rc;
	}
	return acm_store_write_commit(w, NULL);
}

static int put_record(acm_wtxn_t *w, uint32_t id, const acm_dnssec_key_t *key, uint8_t state,
                      uint64_t created, uint64_t now)
{
	uint8_t *pem;
	size_t pem_len;
	int rc = acm_dnssec_key_to_pem(key, &pem, &pem_len);
	if (rc != ACM_OK)
		return rc;
	uint8_t *rec = malloc(REC_HEAD + pem_len);
	if (!rec) {
		acm_dnssec_pem_free(pem, pem_len);
		return -ENOMEM;
	}
	rec[0] = REC_VERSION;
	rec[1] = acm_dnssec_key_algorithm(key);
	rec[2] = state;
	acm_put_u64(rec + 3, created);
	acm_put_u64(rec + 11, now);
	memcpy(rec + REC_HEAD, pem, pem_len);
	uint8_t kb[4];
	acm_put_u32(kb, id);
	MDB_val k = store_val(kb, 4), v = store_val(rec, REC_HEAD + pem_len);
	rc = store_err(mdb_put(w->txn, w->s->dnssec, &k, &v, 0));
	acm_dnssec_pem_free(rec, REC_HEAD + pem_len);
	acm_dnssec_pem_free(pem, pem_len);
	return rc;
}

typedef struct {
	const acm_dnssec_key_t *key;
	uint8_t state;
	uint32_t id;
} add_t;

static int add_fn(acm_wtxn_t *w, acm_dnssec_keyset_t *ks, uint64_t gen, void *arg)
{
	add_t *a = arg;
	if (ks->count >= ACM_DNSSEC_KEYS_MAX)
		return ACM_EFULL;
	/* one active key at most (acm_store_check): a second is a race lost */
	if (a->state == ACM_KEY_ACTIVE && acm_dnssec_keyset_active(ks))
		return ACM_EEXIST;
	a->id = 1;
	for (size_t i = 0; i < ks->count; i++)
		if (ks->keys[i].id >= a->id)
			a->id = ks->keys[i].id + 1;
	uint64_t now = (uint64_t)time(NULL);
	int rc = put_record(w, a->id, a->key, a->state, now, now);
	char change[96];
	snprintf(change, sizeof(change), "key %u (%s) added, %s", acm_dnssec_key_tag(a->key),
	         acm_dnssec_algorithm_name(acm_dnssec_key_algorithm(a->key)),
	         acm_dnssec_key_state_name(a->state));
	return rc == ACM_OK ? changed(w, gen, change, acm_dnssec_key_tag(a->key)) : rc;
}

int acm_store_dnssec_add(acm_store_t *store, const acm_dnssec_key_t *key, uint8_t state,
                         const char *actor, uint32_t *id)
{
	if (!state_ok(state))
		return -EINVAL;
	add_t a = { .key = key, .state = state };
	int rc = key_change(store, actor, add_fn, &a);
	if (rc == ACM_OK && id)
		*id = a.id;
	return rc;
}

typedef struct {
	uint32_t id;
	uint8_t state;
} move_t;

static const acm_dnssec_keyent_t *find_id(const acm_dnssec_keyset_t *ks, uint32_t id)
{
	for (size_t i = 0; i < ks->count; i++)
		if (ks->keys[i].id == id)
			return &ks->keys[i];
	return NULL;
}

static int move_fn(acm_wtxn_t *w, acm_dnssec_keyset_t *ks, uint64_t gen, void *arg)
{
	move_t *m = arg;
	const acm_dnssec_keyent_t *e = find_id(ks, m->id);
	if (!e)
		return ACM_ENOTFOUND;
	uint16_t tag = acm_dnssec_key_tag(e->key);
	char change[96];
	int rc;
	if (m->state == 0) {
		uint8_t kb[4];
		acm_put_u32(kb, m->id);
		MDB_val k = store_val(kb, 4);
		rc = store_err(mdb_del(w->txn, w->s->dnssec, &k, NULL));
		snprintf(change, sizeof(change), "key %u deleted", tag);
	} else {
		rc = put_record(w, m->id, e->key, m->state, e->created, (uint64_t)time(NULL));
		snprintf(change, sizeof(change), "key %u %s -> %s", tag,
		         acm_dnssec_key_state_name(e->state), acm_dnssec_key_state_name(m->state));
	}
	return rc == ACM_OK ? changed(w, gen, change, tag) : rc;
}

int acm_store_dnssec_set_state(acm_store_t *store, uint32_t id, uint8_t state,
                               const char *actor)
{
	if (state != 0 && !state_ok(state))
		return -EINVAL;
	move_t m = { .id = id, .state = state };
	return key_change(store, actor, move_fn, &m);
}

/* The key id becomes active and the active one retiring, in one change:
 * readers never see two active keys, or none. */
static int activate_fn(acm_wtxn_t *w, acm_dnssec_keyset_t *ks, uint64_t gen, void *arg)
{
	const uint32_t *id = arg;
	const acm_dnssec_keyent_t *e = find_id(ks, *id), *old = acm_dnssec_keyset_active(ks);
	uint64_t now = (uint64_t)time(NULL);
	char change[96];
	int rc = ACM_OK;

	if (!e)
		return ACM_ENOTFOUND;
	if (e == old)
		return ACM_EEXIST;
	if (old)
		rc = put_record(w, old->id, old->key, ACM_KEY_RETIRING, old->created, now);
	if (rc == ACM_OK)
		rc = put_record(w, e->id, e->key, ACM_KEY_ACTIVE, e->created, now);
	snprintf(change, sizeof(change), "key %u %s -> active", acm_dnssec_key_tag(e->key),
	         acm_dnssec_key_state_name(e->state));
	if (old)
		snprintf(change + strlen(change), sizeof(change) - strlen(change),
		         ", key %u active -> retiring", acm_dnssec_key_tag(old->key));
	return rc == ACM_OK ? changed(w, gen, change, acm_dnssec_key_tag(e->key)) : rc;
}

int acm_store_dnssec_activate(acm_store_t *store, uint32_t id, const char *actor)
{
	return key_change(store, actor, activate_fn, &id);
}
