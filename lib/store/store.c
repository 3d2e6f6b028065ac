/* SPDX-License-Identifier: ISC */
/*
 * The LMDB-backed store (see store.h for the layouts), core part: opening
 * and schema checks, the LMDB plumbing the other store files share, the
 * per-transaction diff that becomes one serial bump and one journal entry,
 * and write transactions from begin to commit. The operations are in
 * store_txt.c and store_account.c, the names and records they work on in
 * store_set.c, the audit log in store_audit.c, the reads in store_read.c;
 * the record codecs are lib/store/account.c and lib/dns/rrset.c. This core calls none
 * of them: they call it (store_int.h), and work a part leaves queued in a
 * transaction comes back through the hooks it registered (store_queue_t).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>

#include <lmdb.h>

#include "lib/error.h"
#include "lib/dns/dname.h"
#include "lib/dns/rrset.h"
#include "lib/store/store.h"
#include "lib/store/store_file.h"
#include "lib/store/store_int.h"
#include "lib/dns/wire.h"

#define DEFAULT_MAX_VALUES 8
#define DEFAULT_JOURNAL_MAX 10000
#define DEFAULT_AUDIT_MAX 100000
/* 4 GiB of address space, only as much disk as is used */
#define DEFAULT_MAPSIZE ((size_t)1 << (SIZE_MAX > 0xffffffffu ? 32 : 30))
#define DIFF_HDR 16

int store_err(int rc)
{
	switch (rc) {
	case MDB_SUCCESS:
		return ACM_OK;
	case MDB_MAP_FULL:
		return ACM_ESTOREFULL;
	case MDB_NOTFOUND:
		return ACM_ENOTFOUND;
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
		return ACM_ECORRUPT;
	case MDB_PANIC:
		return ACM_EPANIC;
	case MDB_INVALID:
		return ACM_EDAMAGED;
	default:
		/* LMDB passes system failures through as positive errno. */
		return rc > 0 ? -rc : ACM_ESTORE;
	}
}

/*
 * LMDB marks its environment fatally broken when writing a meta page fails
 * (the page cache may hold a meta page the disk does not): every
 * transaction after that, readers' included, gets MDB_PANIC, and only a
 * new environment on the intact file recovers. That needs every reader of
 * the process gone, so the store only says so, once, and leaves the
 * restart to its owner.
 */
static void note_failed(acm_store_t *s, int code)
{
	int none = 0;
	__atomic_compare_exchange_n(&s->failed_code, &none, code, false, __ATOMIC_ACQ_REL,
	                            __ATOMIC_ACQUIRE);
	if (__atomic_exchange_n(&s->failed, true, __ATOMIC_ACQ_REL))
		return;
	if (s->on_failure)
		s->on_failure(s->failure_arg);
}

int store_env_err(acm_store_t *s, int rc)
{
	if (rc == MDB_PANIC)
		note_failed(s, ACM_EPANIC);
	return store_err(rc);
}

/* After a commit failed: whether it left the environment unusable. */
static void probe_env(acm_store_t *s)
{
	MDB_txn *txn;
	int rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
	if (rc == 0)
		mdb_txn_abort(txn);
	store_env_err(s, rc);
}

/*
 * LMDB reports a short write (what a full filesystem gives) as EIO. After
 * a commit failed so, a filesystem with less than NOSPACE_BYTES free means
 * the disk is full: -ENOSPC, so that writers are told to make room, not to
 * wait for a failing disk.
 */
#define NOSPACE_BYTES (1u << 20)

static int commit_err(acm_store_t *s, int rc)
{
	const char *path;
	struct statvfs st;

	if (rc != -EIO || mdb_env_get_path(s->env, &path) != 0 || statvfs(path, &st) != 0)
		return rc;
	return (uint64_t)st.f_bavail * st.f_frsize < NOSPACE_BYTES ? -ENOSPC : rc;
}

/* The disk (not the map) is full: as ACM_ESTOREFULL for the caller's
 * purposes, writes fail until space is made. */
static bool is_nospace(int rc)
{
	return rc == -ENOSPC || rc == -EDQUOT;
}

/* Refusals that are checked before anything is written. */
static bool is_refusal(int rc)
{
	return rc == ACM_EEXIST || rc == ACM_ENOTFOUND || rc == ACM_EFULL ||
	       rc == ACM_EABSENT || rc == ACM_EBADVALUE || rc == ACM_EBADNAME ||
	       rc == ACM_ERANGE || rc == ACM_EACCOUNTCAP;
}

/*
 * Another process (acmensctl with a larger store.max_size) grew the file
 * past our map. mdb_env_set_mapsize() may only remap while no transaction
 * of this process is open, which a process with other threads reading
 * (the daemon, which has a failure hook) cannot promise: it is told to
 * restart instead, which maps the file whole. A single-threaded process
 * remaps.
 */
bool store_remap_refused(acm_store_t *s)
{
	if (!s->on_failure)
		return false;
	note_failed(s, ACM_EREMAP);
	return true;
}

/*
 * Begin a transaction, recovering once from a full reader table (slots of
 * dead processes) and from a map another process grew.
 */
static int txn_begin(acm_store_t *s, unsigned flags, MDB_txn **txn)
{
	bool checked = false, resized = false;

	for (;;) {
		int rc = mdb_txn_begin(s->env, NULL, flags, txn);
		if (rc == MDB_READERS_FULL && !checked) {
			int dead;
			checked = true;
			mdb_reader_check(s->env, &dead);
			continue;
		}
		if (rc == MDB_MAP_RESIZED && !resized) {
			if (store_remap_refused(s))
				return rc;
			resized = true;
			mdb_env_set_mapsize(s->env, 0);
			continue;
		}
		return rc;
	}
}

int store_read_begin(acm_store_t *s, MDB_txn **txn)
{
	return store_env_err(s, txn_begin(s, MDB_RDONLY, txn));
}

MDB_val store_val(const void *p, size_t n)
{
	MDB_val v = { n, (void *)p };
	return v;
}

/* A meta value that must be there once the store is initialised. */
static int meta_get(MDB_txn *txn, MDB_dbi meta, const char *key, MDB_val *v)
{
	MDB_val k = store_val(key, strlen(key));
	int rc = mdb_get(txn, meta, &k, v);
	return rc == MDB_NOTFOUND ? ACM_ECORRUPT : store_err(rc);
}

int store_get_serial(MDB_txn *txn, MDB_dbi meta, uint32_t *serial)
{
	MDB_val v;
	int rc = meta_get(txn, meta, "serial", &v);
	if (rc == ACM_OK && v.mv_size != 4)
		rc = ACM_ECORRUPT;
	if (rc == ACM_OK)
		*serial = acm_get_u32(v.mv_data);
	return rc;
}

/*
 * A change log in meta: a counter (8 bytes, big endian; a store from before
 * it has none: 0) that moves with every change, and per generation one
 * record of what changed, under the log's prefix and the generation (big
 * endian, so that the records sort by generation), the newest log->kept
 * kept. A reader holding the data in memory from an older generation
 * learns what changed since without reading it all again.
 *
 * "accounts"/"achg": one per write of an account (an account change does
 * not always move the serial), the label. "rrsets"/"rchg": one per write
 * of an rrsets record, its owner wire name.
 */
const store_log_t store_accounts_log = { "accounts", STORE_CHANGE_PREFIX, STORE_CHANGES_KEPT };
const store_log_t store_rrsets_log = { "rrsets", STORE_RRSET_CHANGE_PREFIX,
	                               STORE_RRSET_CHANGES_KEPT };

int store_log_gen(MDB_txn *txn, MDB_dbi meta, const store_log_t *log, uint64_t *gen)
{
	MDB_val k = store_val(log->counter, strlen(log->counter)), v;
	int rc = mdb_get(txn, meta, &k, &v);
	*gen = 0;
	if (rc == MDB_NOTFOUND)
		return ACM_OK;
	if (rc == 0 && v.mv_size != 8)
		return ACM_ECORRUPT;
	if (rc == 0)
		*gen = (uint64_t)acm_get_u32(v.mv_data) << 32 | acm_get_u32((uint8_t *)v.mv_data + 4);
	return store_err(rc);
}

void store_log_key(const store_log_t *log, uint64_t gen, uint8_t key[STORE_CHANGE_KEY_LEN])
{
	memcpy(key, log->prefix, 4);
	acm_put_u32(key + 4, (uint32_t)(gen >> 32));
	acm_put_u32(key + 8, (uint32_t)gen);
}

int store_log_append(MDB_txn *txn, MDB_dbi meta, const store_log_t *log, const void *what,
                     size_t len)
{
	uint64_t gen;
	uint8_t b[8], ck[STORE_CHANGE_KEY_LEN];
	int rc = store_log_gen(txn, meta, log, &gen);
	if (rc != ACM_OK)
		return rc;
	gen++;
	acm_put_u32(b, (uint32_t)(gen >> 32));
	acm_put_u32(b + 4, (uint32_t)gen);
	MDB_val k = store_val(log->counter, strlen(log->counter)), v = store_val(b, 8);
	rc = store_err(mdb_put(txn, meta, &k, &v, 0));
	store_log_key(log, gen, ck);
	k = store_val(ck, sizeof(ck));
	v = store_val(what, len);
	if (rc == ACM_OK)
		rc = store_err(mdb_put(txn, meta, &k, &v, 0));
	if (rc != ACM_OK || gen <= log->kept)
		return rc;
	store_log_key(log, gen - log->kept, ck);
	k = store_val(ck, sizeof(ck));
	int del = mdb_del(txn, meta, &k, NULL);
	return del == MDB_NOTFOUND ? ACM_OK : store_err(del);
}

static int put_u32(MDB_txn *txn, MDB_dbi dbi, const char *key, uint32_t x)
{
	uint8_t b[4];
	acm_put_u32(b, x);
	MDB_val k = store_val(key, strlen(key)), v = store_val(b, 4);
	return store_err(mdb_put(txn, dbi, &k, &v, 0));
}

/* ---- opening --------------------------------------------------------- */

int store_mkdir_p(const char *path)
{
	if (!*path)
		return -ENOENT;
	char *p = strdup(path);
	if (!p)
		return -ENOMEM;
	int rc = ACM_OK;
	for (char *q = p + 1;; q++) {
		if (*q != '/' && *q != '\0')
			continue;
		char c = *q;
		*q = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST) {
			rc = -errno;
			break;
		}
		*q = c;
		if (c == '\0')
			break;
	}
	free(p);
	return rc;
}

static int open_dbis(acm_store_t *s, MDB_txn *txn)
{
	unsigned fl = s->read_only ? 0 : MDB_CREATE;
	int rc;

	if ((rc = mdb_dbi_open(txn, "accounts", fl, &s->accounts)) ||
	    (rc = mdb_dbi_open(txn, "users", fl, &s->users)) ||
	    (rc = mdb_dbi_open(txn, "rrsets", fl, &s->rrsets)) ||
	    (rc = mdb_dbi_open(txn, "meta", fl, &s->meta)) ||
	    (rc = mdb_dbi_open(txn, "journal", fl, &s->journal)))
		return rc == MDB_NOTFOUND ? ACM_ESTORE : store_err(rc);
	/* A store no writer has opened since the audit log came has none yet;
	 * a read-only open then lists an empty log. */
	rc = mdb_dbi_open(txn, "audit", fl, &s->audit);
	s->has_audit = rc == 0;
	if (rc != 0 && !(rc == MDB_NOTFOUND && s->read_only))
		return store_err(rc);
	/* The same for the delegation records (lib/store/store_deleg.h). */
	rc = mdb_dbi_open(txn, "delegation", fl, &s->deleg);
	s->has_deleg = rc == 0;
	if (rc != 0 && !(rc == MDB_NOTFOUND && s->read_only))
		return store_err(rc);
	/* And the DNSSEC keys (lib/store/store_dnssec.h). */
	rc = mdb_dbi_open(txn, "dnssec", fl, &s->dnssec);
	s->has_dnssec = rc == 0;
	return rc == MDB_NOTFOUND && s->read_only ? ACM_OK : store_err(rc);
}

static int init_meta(acm_store_t *s, MDB_txn *txn)
{
	int rc;
	MDB_val k = store_val("zone", 4), v = store_val(s->apex, s->apex_len);

	if ((rc = put_u32(txn, s->meta, "schema", ACM_STORE_SCHEMA)) ||
	    (rc = put_u32(txn, s->meta, "serial", 1)))
		return rc;
	return store_err(mdb_put(txn, s->meta, &k, &v, 0));
}

/*
 * The layout version in meta, "schema". A store without one is new (no
 * serial either: initialised here) or from a release that did not record
 * it, whose layout is version 1: a writer records it, a reader takes it.
 * Any other version is refused, with the version found in *fault.
 */
static int check_schema(acm_store_t *s, MDB_txn *txn, acm_store_fault_t *fault)
{
	MDB_val k = store_val("schema", 6), v, sk = store_val("serial", 6), sv;
	int rc = mdb_get(txn, s->meta, &k, &v);

	if (rc == MDB_NOTFOUND && mdb_get(txn, s->meta, &sk, &sv) == MDB_NOTFOUND)
		return s->read_only ? ACM_ESCHEMA : init_meta(s, txn);
	if (rc == MDB_NOTFOUND)
		return s->read_only ? ACM_OK : put_u32(txn, s->meta, "schema", ACM_STORE_SCHEMA);
	if (rc)
		return store_err(rc);
	if (v.mv_size == 4 && acm_get_u32(v.mv_data) == ACM_STORE_SCHEMA)
		return ACM_OK;
	fault->schema_unknown = v.mv_size != 4;
	fault->schema_found = v.mv_size == 4 ? acm_get_u32(v.mv_data) : 0;
	return ACM_ESCHEMA;
}

/* Both zones of a refusal as text, for the message: the store's as it
 * recorded it (which need not decode), and the configuration's. */
static void zone_names(const acm_store_t *s, const MDB_val *v, acm_store_fault_t *fault)
{
	uint8_t wire[ACM_DNAME_MAX];
	size_t pos = 0;

	if (acm_dname_parse(v->mv_data, v->mv_size, &pos, wire) < 0 || pos != v->mv_size ||
	    acm_dname_to_text(wire, fault->zone_found) < 0)
		snprintf(fault->zone_found, sizeof(fault->zone_found), "(undecodable, %zu bytes)",
			 v->mv_size);
	if (acm_dname_to_text(s->apex, fault->zone_wanted) < 0)
		fault->zone_wanted[0] = '\0';
}

static int check_meta(acm_store_t *s, MDB_txn *txn, acm_store_fault_t *fault)
{
	MDB_val v;
	int rc = check_schema(s, txn, fault);
	if (rc)
		return rc;
	if ((rc = meta_get(txn, s->meta, "zone", &v)))
		return rc;
	if (v.mv_size != s->apex_len || memcmp(v.mv_data, s->apex, s->apex_len)) {
		zone_names(s, &v, fault);
		return ACM_EZONE;
	}
	uint32_t serial;
	return store_get_serial(txn, s->meta, &serial);
}

static int env_open(acm_store_t *s, const char *path, size_t mapsize)
{
	int rc = mdb_env_create(&s->env);
	if (rc)
		return store_err(rc);
	unsigned fl = MDB_NOTLS | (s->read_only ? MDB_RDONLY : 0);
	if ((rc = mdb_env_set_mapsize(s->env, mapsize)) ||
	    (rc = mdb_env_set_maxdbs(s->env, 16)) ||
	    (rc = mdb_env_set_maxreaders(s->env, 256)) ||
	    (rc = mdb_env_open(s->env, path, fl, 0600)))
		return store_err(rc);
	/* Reader slots of processes that died (kill -9) would pin old pages
	 * and fill the table: free them before the first transaction. */
	int dead;
	mdb_reader_check(s->env, &dead);
	return ACM_OK;
}

static void set_limits(acm_store_t *s, const acm_store_opts_t *o)
{
	s->max_values = o->max_values ? o->max_values : DEFAULT_MAX_VALUES;
	if (s->max_values > ACM_RR_COUNT_MAX)
		s->max_values = ACM_RR_COUNT_MAX;
	s->journal_max = o->journal_max ? o->journal_max : DEFAULT_JOURNAL_MAX;
	s->journal_max_age = o->journal_max_age;
	s->audit_max = o->audit_max ? o->audit_max : DEFAULT_AUDIT_MAX;
	s->audit_max_age = o->audit_max_age;
	s->read_only = o->read_only;
	s->max_accounts = o->max_accounts;
}

int acm_store_open(const char *path, const uint8_t *apex,
                   const acm_store_opts_t *opts, acm_store_t **out)
{
	acm_store_fault_t fault;
	return acm_store_open_ex(path, apex, opts, out, &fault);
}

int acm_store_open_ex(const char *path, const uint8_t *apex, const acm_store_opts_t *opts,
                      acm_store_t **out, acm_store_fault_t *fault)
{
	acm_store_opts_t none = { 0 };
	const acm_store_opts_t *o = opts ? opts : &none;
	size_t alen = acm_dname_len(apex);
	int rc;

	*out = NULL;
	memset(fault, 0, sizeof(*fault));
	if (alen == 0 || alen > ACM_DNAME_MAX)
		return ACM_EBADNAME;
	if (!o->read_only && (rc = store_mkdir_p(path)) != ACM_OK)
		return rc;
	acm_store_t *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	memcpy(s->apex, apex, alen);
	acm_dname_lower(s->apex);
	s->apex_len = alen;
	set_limits(s, o);

	/* Before LMDB maps the file: a truncated one would be a SIGBUS. */
	rc = acm_store_file_check(path, fault);
	if (rc == ACM_OK)
		rc = env_open(s, path, o->mapsize ? o->mapsize : DEFAULT_MAPSIZE);
	MDB_txn *txn = NULL;
	if (rc == ACM_OK)
		rc = store_err(txn_begin(s, s->read_only ? MDB_RDONLY : 0, &txn));
	if (rc == ACM_OK) {
		rc = open_dbis(s, txn);
		if (rc == ACM_OK)
			rc = check_meta(s, txn, fault);
		/* Committing also keeps the dbi handles for the environment. */
		if (rc == ACM_OK)
			rc = store_err(mdb_txn_commit(txn));
		else
			mdb_txn_abort(txn);
	}
	if (rc != ACM_OK) {
		fault->problem = rc;
		acm_store_close(s);
		return rc;
	}
	*out = s;
	return ACM_OK;
}

void acm_store_close(acm_store_t *store)
{
	if (!store)
		return;
	if (store->env)
		mdb_env_close(store->env);
	free(store);
}

const uint8_t *acm_store_apex(const acm_store_t *store)
{
	return store->apex;
}

unsigned acm_store_max_values(const acm_store_t *store)
{
	return store->max_values;
}

void acm_store_set_max_accounts(acm_store_t *store, unsigned max)
{
	__atomic_store_n(&store->max_accounts, max, __ATOMIC_RELAXED);
}

bool acm_store_full(const acm_store_t *store)
{
	return __atomic_load_n(&store->full, __ATOMIC_RELAXED);
}

int acm_store_failed_code(const acm_store_t *store)
{
	return __atomic_load_n(&store->failed, __ATOMIC_ACQUIRE)
	               ? __atomic_load_n(&store->failed_code, __ATOMIC_ACQUIRE)
	               : ACM_OK;
}

bool acm_store_failed(const acm_store_t *store)
{
	return __atomic_load_n(&store->failed, __ATOMIC_ACQUIRE);
}

void acm_store_on_failure(acm_store_t *store, void (*fn)(void *arg), void *arg)
{
	store->on_failure = fn;
	store->failure_arg = arg;
}

/* Remember whether the store ran out of space, for monitoring. */
static void note_full(acm_store_t *s, bool full)
{
	__atomic_store_n(&s->full, full, __ATOMIC_RELAXED);
}

/* ---- cursors ----------------------------------------------------------- */

int store_cursor_after(MDB_cursor *c, const void *key, size_t klen, MDB_val *k,
                       MDB_val *v)
{
	if (klen == 0)
		return mdb_cursor_get(c, k, v, MDB_FIRST);
	*k = store_val(key, klen);
	int rc = mdb_cursor_get(c, k, v, MDB_SET_RANGE);
	if (rc == 0 && k->mv_size == klen && memcmp(k->mv_data, key, klen) == 0)
		rc = mdb_cursor_get(c, k, v, MDB_NEXT);
	return rc;
}

int store_walk(MDB_txn *txn, MDB_dbi dbi, const MDB_val *from, bool skip_from,
               store_kv_fn fn, void *ctx)
{
	MDB_cursor *c;
	MDB_val k = from ? *from : store_val(NULL, 0), v;
	int rc = mdb_cursor_open(txn, dbi, &c);
	if (rc)
		return store_err(rc);
	int r;
	if (from && skip_from)
		r = store_cursor_after(c, from->mv_data, from->mv_size, &k, &v);
	else
		r = mdb_cursor_get(c, &k, &v, from ? MDB_SET_RANGE : MDB_FIRST);
	for (rc = 0; r == 0 && rc == 0; r = mdb_cursor_get(c, &k, &v, MDB_NEXT))
		rc = fn(&k, &v, ctx);
	if (rc == 0 && r != MDB_NOTFOUND)
		rc = store_err(r);
	mdb_cursor_close(c);
	return rc;
}

int store_read_walk(acm_store_t *s, MDB_dbi dbi, const MDB_val *from, bool skip_from,
                    store_kv_fn fn, void *ctx)
{
	MDB_txn *txn;
	int rc = store_read_begin(s, &txn);
	if (rc != ACM_OK)
		return rc;
	rc = store_walk(txn, dbi, from, skip_from, fn, ctx);
	mdb_txn_abort(txn);
	return rc;
}

int store_limit_step(store_limit_t *l, int rc)
{
	if (rc != 0 || l->limit == 0 || ++l->seen < l->limit)
		return rc;
	l->stopped = true;
	return 1;
}

int store_limit_end(const store_limit_t *l, int rc)
{
	return l->stopped ? ACM_OK : rc;
}

int store_next_seq(MDB_txn *txn, MDB_dbi dbi, uint64_t *seq)
{
	MDB_cursor *c;
	MDB_val k, v;
	int rc = mdb_cursor_open(txn, dbi, &c);
	if (rc)
		return store_err(rc);
	rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
	mdb_cursor_close(c);
	if (rc == MDB_NOTFOUND) {
		*seq = 1;
		return ACM_OK;
	}
	if (rc)
		return store_err(rc);
	if (k.mv_size != 8)
		return ACM_ECORRUPT;
	*seq = acm_get_u64(k.mv_data) + 1;
	return ACM_OK;
}

int store_trim(MDB_txn *txn, MDB_dbi dbi, size_t max)
{
	MDB_stat st;
	MDB_cursor *c;
	MDB_val k, v;
	int rc = mdb_stat(txn, dbi, &st);
	if (rc)
		return store_err(rc);
	if (st.ms_entries <= max)
		return ACM_OK;
	if ((rc = mdb_cursor_open(txn, dbi, &c)))
		return store_err(rc);
	for (size_t n = st.ms_entries; rc == 0 && n > max; n--) {
		rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
		if (rc == 0)
			rc = mdb_cursor_del(c, 0);
	}
	mdb_cursor_close(c);
	return store_err(rc);
}

/* ---- the transaction's diff -------------------------------------------- */

int store_reserve(void **buf, size_t *cap, size_t len, size_t more, size_t first)
{
	if (*cap - len >= more)
		return ACM_OK;
	size_t grown = *cap ? *cap : first;
	while (grown - len < more)
		grown *= 2;
	void *p = realloc(*buf, grown);
	if (!p)
		return -ENOMEM;
	*buf = p;
	*cap = grown;
	return ACM_OK;
}

int store_diff_add(acm_wtxn_t *w, uint8_t op, const uint8_t *owner, size_t olen,
                   const acm_txt_ent_t *t)
{
	void *diff = w->diff;
	int rc = store_reserve(&diff, &w->diff_cap, w->diff_len, 1 + olen + 2 + 1 + t->len, 1024);
	w->diff = diff;
	if (rc != ACM_OK)
		return rc;
	uint8_t *p = w->diff + w->diff_len;
	*p++ = op;
	memcpy(p, owner, olen);
	p += olen;
	acm_put_u16(p, (uint16_t)(1 + t->len));
	p[2] = t->len;
	memcpy(p + 3, t->val, t->len);
	w->diff_len += 1 + olen + 2 + 1 + t->len;
	return ACM_OK;
}

/* ---- write transactions ---------------------------------------------- */

int store_wtxn_result(acm_wtxn_t *w, int rc)
{
	if (rc < 0 && !is_refusal(rc))
		w->poisoned = true;
	if (rc == ACM_ESTOREFULL || is_nospace(rc))
		note_full(w->s, true);
	return rc;
}

int acm_store_write_begin(acm_store_t *store, acm_wtxn_t **out)
{
	*out = NULL;
	if (store->read_only)
		return -EROFS;
	acm_wtxn_t *w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->s = store;
	acm_wtxn_set_actor(w, NULL, NULL);
	int rc = store_env_err(store, txn_begin(store, 0, &w->txn));
	if (rc != ACM_OK) {
		free(w);
		return rc;
	}
	*out = w;
	return ACM_OK;
}

/* Audit text is JSON: keep it to printable ASCII rather than fail later. */
static void copy_printable(char *dst, size_t cap, const char *src, const char *dflt)
{
	size_t i = 0;
	if (!src)
		src = dflt;
	for (; src[i] && i + 1 < cap; i++)
		dst[i] = src[i] >= 0x20 && src[i] <= 0x7e ? src[i] : '?';
	dst[i] = '\0';
}

void acm_wtxn_set_actor(acm_wtxn_t *w, const char *actor, const char *source)
{
	copy_printable(w->actor, sizeof(w->actor), actor, "unknown");
	copy_printable(w->source, sizeof(w->source), source, "local");
}

static void wtxn_free(acm_wtxn_t *w)
{
	if (w->queue)
		w->queue->release(w);
	free(w->diff);
	free(w);
}

void acm_store_write_abort(acm_wtxn_t *w)
{
	if (!w)
		return;
	if (w->outer)
		acm_wtxn_rollback(w);
	mdb_txn_abort(w->txn);
	wtxn_free(w);
}

/* ---- savepoints ---------------------------------------------------------- */

int acm_wtxn_savepoint(acm_wtxn_t *w)
{
	if (w->outer)
		return -EBUSY;
	if (w->poisoned)
		return ACM_ESTORE;
	MDB_txn *child;
	int rc = store_err(mdb_txn_begin(w->s->env, w->txn, 0, &child));
	if (rc != ACM_OK) {
		w->poisoned = true;
		return rc;
	}
	w->outer = w->txn;
	w->txn = child;
	w->sp_diff_len = w->diff_len;
	w->sp_queue_len = w->queue ? w->queue->count(w) : 0;
	return ACM_OK;
}

int acm_wtxn_release(acm_wtxn_t *w)
{
	if (!w->outer)
		return ACM_OK;
	int rc = store_err(mdb_txn_commit(w->txn));
	w->txn = w->outer;
	w->outer = NULL;
	return store_wtxn_result(w, rc);
}

/* The in-memory parts are cut back to where they stood, so that a commit
 * after the rollback journals and audits only what the outer txn holds. */
void acm_wtxn_rollback(acm_wtxn_t *w)
{
	if (!w->outer)
		return;
	mdb_txn_abort(w->txn);
	w->txn = w->outer;
	w->outer = NULL;
	w->diff_len = w->sp_diff_len;
	if (w->queue)
		w->queue->truncate(w, w->sp_queue_len);
}

/* Diffs are appended in time order, so the old ones are all at the front.
 * A clock stepped back only keeps diffs longer; the newest is never old. */
static int journal_trim_age(acm_wtxn_t *w, uint64_t now)
{
	MDB_cursor *c;
	MDB_val k, v;
	int rc;

	if (!w->s->journal_max_age || now < w->s->journal_max_age)
		return ACM_OK;
	if ((rc = mdb_cursor_open(w->txn, w->s->journal, &c)))
		return store_err(rc);
	while ((rc = mdb_cursor_get(c, &k, &v, MDB_FIRST)) == 0) {
		if (v.mv_size < DIFF_HDR) {
			mdb_cursor_close(c);
			return ACM_ECORRUPT;
		}
		if (acm_get_u64((const uint8_t *)v.mv_data + 8) >= now - w->s->journal_max_age)
			break;
		if ((rc = mdb_cursor_del(c, 0)))
			break;
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? ACM_OK : store_err(rc);
}

static int journal_append(acm_wtxn_t *w, uint32_t from, uint32_t to)
{
	uint64_t now = (uint64_t)time(NULL);
	uint64_t seq;
	uint8_t key[8];
	int rc = store_next_seq(w->txn, w->s->journal, &seq);
	if (rc != ACM_OK)
		return rc;
	acm_put_u64(key, seq);
	MDB_val k = store_val(key, 8), v = store_val(NULL, DIFF_HDR + w->diff_len);
	if ((rc = mdb_put(w->txn, w->s->journal, &k, &v, MDB_RESERVE)))
		return store_err(rc);
	uint8_t *p = v.mv_data;
	acm_put_u32(p, from);
	acm_put_u32(p + 4, to);
	acm_put_u64(p + 8, now);
	memcpy(p + DIFF_HDR, w->diff, w->diff_len);
	if ((rc = store_trim(w->txn, w->s->journal, w->s->journal_max)))
		return rc;
	return journal_trim_age(w, now);
}

/* Bump the serial once and journal the diff: the first half of a commit. */
static int publish_diff(acm_wtxn_t *w, uint32_t *serial)
{
	int rc = store_get_serial(w->txn, w->s->meta, serial);
	if (rc != ACM_OK || (w->diff_len == 0 && !w->restart_journal))
		return rc;
	uint32_t next = *serial + 1;    /* unsigned wrap is RFC 1982 addition */
	if ((rc = put_u32(w->txn, w->s->meta, "serial", next)))
		return rc;
	/* A journal that cannot describe a change must not pretend to: with
	 * it emptied, IXFR from any earlier serial falls back to AXFR. */
	if (w->restart_journal)
		rc = store_err(mdb_drop(w->txn, w->s->journal, 0));
	if (rc == ACM_OK && w->diff_len > 0)
		rc = journal_append(w, *serial, next);
	if (rc != ACM_OK)
		return rc;
	*serial = next;
	return ACM_OK;
}

int acm_store_write_commit(acm_wtxn_t *w, uint32_t *serial)
{
	uint32_t sn = 0;
	int rc = w->outer ? acm_wtxn_release(w) : ACM_OK;
	/* An empty commit (a sweep that found nothing) proves no room. */
	bool stores = w->diff_len > 0 || (w->queue && w->queue->count(w) > 0);
	if (rc == ACM_OK)
		rc = w->poisoned ? ACM_ESTORE : publish_diff(w, &sn);

	if (rc == ACM_OK && w->queue)
		rc = w->queue->flush(w, sn);
	if (rc == ACM_OK) {
		rc = commit_err(w->s, store_err(mdb_txn_commit(w->txn)));
		/* A failed write or sync of the data pages leaves the old
		 * state in force; a failed meta page write does not. */
		if (rc != ACM_OK && rc != ACM_ESTOREFULL)
			probe_env(w->s);
	} else {
		mdb_txn_abort(w->txn);
	}
	bool no_room = rc == ACM_ESTOREFULL || is_nospace(rc);
	if (no_room || (rc == ACM_OK && stores))
		note_full(w->s, no_room);
	wtxn_free(w);
	if (rc == ACM_OK && serial)
		*serial = sn;
	return rc;
}

/* ---- the static part of the zone ---------------------------------------- */

int acm_store_sync_static(acm_store_t *store, const uint8_t digest[ACM_STATIC_DIGEST_LEN],
                          bool *changed, uint32_t *serial)
{
	acm_wtxn_t *w;
	MDB_val v;
	*changed = false;
	int rc = acm_store_write_begin(store, &w);
	if (rc != ACM_OK)
		return rc;
	MDB_val key = store_val("static", 6);
	rc = mdb_get(w->txn, store->meta, &key, &v);
	bool known = rc == 0;
	rc = rc == MDB_NOTFOUND ? ACM_OK : store_err(rc);
	if (rc == ACM_OK && known && v.mv_size == ACM_STATIC_DIGEST_LEN &&
	    memcmp(v.mv_data, digest, ACM_STATIC_DIGEST_LEN) == 0) {
		acm_store_write_abort(w);
		return acm_store_serial(store, serial);
	}
	if (rc == ACM_OK) {
		MDB_val d = store_val(digest, ACM_STATIC_DIGEST_LEN);
		rc = store_err(mdb_put(w->txn, store->meta, &key, &d, 0));
	}
	if (rc != ACM_OK) {
		acm_store_write_abort(w);
		return rc;
	}
	/* The first digest only records the starting point. */
	w->restart_journal = known;
	*changed = known;
	return acm_store_write_commit(w, serial);
}

/* ---- one-operation conveniences ---------------------------------------- */

int store_finish(acm_wtxn_t *w, int rc, uint32_t *serial)
{
	if (rc != ACM_OK) {
		acm_store_write_abort(w);
		return rc;
	}
	return acm_store_write_commit(w, serial);
}
