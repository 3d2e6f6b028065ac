/* SPDX-License-Identifier: ISC */
/*
 * The store's reads of zone data, each in a short snapshot of its own: the
 * serial, one name's values, the walks over rrsets and the journal; the
 * reusable snapshots of the DNS workers; and reads of the store as a whole,
 * its sizes and the hot backup. Account reads are in store_account.c, the
 * audit log in store_audit.c.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lmdb.h>

#include "lib/error.h"
#include "lib/dns/rrset.h"
#include "lib/store/store.h"
#include "lib/store/store_int.h"
#include "lib/dns/wire.h"

struct acm_reader {
	acm_store_t *s;
	MDB_txn *txn;
	bool active;
	size_t last_txnid;          /* snapshot the cached serial belongs to; 0 = none */
	uint32_t last_serial;
	uint64_t accounts_gen;      /* of that snapshot */
};

int acm_store_serial(acm_store_t *store, uint32_t *serial)
{
	MDB_txn *txn;
	int rc = store_read_begin(store, &txn);
	if (rc != ACM_OK)
		return rc;
	rc = store_get_serial(txn, store->meta, serial);
	mdb_txn_abort(txn);
	return rc;
}

static void txt_from_entry(acm_txt_t *t, const acm_rr_entry_t *e)
{
	t->len = e->rdata[0];
	memcpy(t->value, e->rdata + 1, t->len);
	t->value[t->len] = '\0';
	t->set_time = e->set_time;
	t->expires = e->expires;
}

static int txt_list_in(acm_store_t *s, MDB_txn *txn, const char *sub,
                       acm_txt_t *out, size_t max, size_t *n)
{
	store_name_t name;
	acm_rr_iter_t it;
	acm_rr_entry_t e;
	int rc = store_txt_name(s, sub, &name);
	if (rc != ACM_OK)
		return rc;
	MDB_val k = store_val(name.owner, name.olen), v;
	*n = 0;
	rc = mdb_get(txn, s->rrsets, &k, &v);
	if (rc == MDB_NOTFOUND && name.challenge)
		return store_account_exists(s, txn, &name);
	if (rc)
		return store_err(rc);
	if ((rc = acm_rr_iter_init(&it, v.mv_data, v.mv_size)))
		return rc;
	*n = 0;
	while ((rc = acm_rr_iter_next(&it, &e)) == 1) {
		if (e.rdlen != 1 + e.rdata[0])
			return ACM_ECORRUPT;
		if (*n < max)
			txt_from_entry(&out[*n], &e);
		(*n)++;
	}
	return rc;
}

int acm_store_txt_list(acm_store_t *store, const char *subdomain,
                       acm_txt_t *out, size_t max, size_t *n)
{
	MDB_txn *txn;
	int rc = store_read_begin(store, &txn);
	if (rc != ACM_OK)
		return rc;
	*n = 0;
	rc = txt_list_in(store, txn, subdomain, out, max, n);
	mdb_txn_abort(txn);
	return rc;
}

int acm_wtxn_txt_list(acm_wtxn_t *w, const char *subdomain, acm_txt_t *out, size_t max,
                      size_t *n)
{
	*n = 0;
	if (w->poisoned)
		return ACM_ESTORE;
	return store_wtxn_result(w, txt_list_in(w->s, w->txn, subdomain, out, max, n));
}

/* What the rrset and diff walks hand each key/value pair to. */
struct walk {
	acm_rrset_fn rrset;
	acm_diff_fn diff;
	void *ctx;
};

static int visit(const MDB_val *k, const MDB_val *v, void *p)
{
	const struct walk *wk = p;
	if (wk->rrset)
		return wk->rrset(k->mv_data, v->mv_data, v->mv_size, wk->ctx);
	if (k->mv_size != 8)
		return ACM_ECORRUPT;
	return wk->diff(acm_get_u64(k->mv_data), v->mv_data, v->mv_size, wk->ctx);
}

int acm_store_foreach_rrset(acm_store_t *store, acm_rrset_fn fn, void *ctx)
{
	struct walk wk = { fn, NULL, ctx };
	return store_read_walk(store, store->rrsets, NULL, false, visit, &wk);
}

int acm_store_foreach_diff(acm_store_t *store, uint64_t from_seq, acm_diff_fn fn,
                           void *ctx)
{
	struct walk wk = { NULL, fn, ctx };
	uint8_t key[8];
	acm_put_u64(key, from_seq);
	MDB_val start = store_val(key, 8);
	return store_read_walk(store, store->journal, &start, false, visit, &wk);
}

/* ---- the store as a whole ------------------------------------------------ */

int acm_store_info(acm_store_t *store, acm_store_info_t *info)
{
	MDB_envinfo ei;
	MDB_stat st;
	mdb_filehandle_t fd;
	struct stat fs;
	int rc;

	if ((rc = mdb_env_info(store->env, &ei)) || (rc = mdb_env_stat(store->env, &st)) ||
	    (rc = mdb_env_get_fd(store->env, &fd)))
		return store_err(rc);
	if (fstat(fd, &fs) != 0)
		return -errno;
	info->map_size = ei.me_mapsize;
	info->used_bytes = ((uint64_t)ei.me_last_pgno + 1) * st.ms_psize;
	info->file_bytes = (uint64_t)fs.st_size;
	info->last_txn = ei.me_last_txnid;
	return ACM_OK;
}

/* 1 if dir is an empty directory, 0 if it holds anything, else -errno
 * (-ENOENT when it is missing). */
static int dir_empty(const char *dir)
{
	DIR *d = opendir(dir);
	const struct dirent *e;
	int empty = 1;

	if (!d)
		return -errno;
	while (empty && (e = readdir(d)))
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			empty = 0;
	closedir(d);
	return empty;
}

/* fsync a directory, so that a rename in it lasts. */
static int fsync_dir(const char *path)
{
	int rc = ACM_OK, fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) != 0)
		rc = -errno;
	if (fd >= 0)
		close(fd);
	return rc;
}

/* The compacted copy into a new file of its own, on disk before this
 * returns. LMDB does not sync the copy; the file is 0600 from the start
 * (it holds key hashes). */
static int copy_to(acm_store_t *store, const char *tmp)
{
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	int rc = store_err(mdb_env_copyfd2(store->env, fd, MDB_CP_COMPACT));
	if (rc == ACM_OK && fsync(fd) != 0)
		rc = -errno;
	if (close(fd) != 0 && rc == ACM_OK)
		rc = -errno;
	return rc;
}

/*
 * The copy is written under a name LMDB does not open (data.mdb.partial)
 * and renamed to data.mdb only once it is complete and synced, so a full
 * disk, an I/O error or a crash never leaves a data.mdb that looks like a
 * backup and is not one.
 */
int acm_store_backup(acm_store_t *store, const char *dest_dir)
{
	char file[PATH_MAX], tmp[PATH_MAX];
	bool made = false, renamed = false;
	int rc;

	if ((size_t)snprintf(file, sizeof(file), "%s/data.mdb", dest_dir) >= sizeof(file) ||
	    (size_t)snprintf(tmp, sizeof(tmp), "%s/data.mdb.partial", dest_dir) >= sizeof(tmp))
		return -ENAMETOOLONG;
	rc = dir_empty(dest_dir);
	if (rc == -ENOENT) {
		if ((rc = store_mkdir_p(dest_dir)) != ACM_OK)
			return rc;
		made = true;
		rc = 1;
	}
	if (rc <= 0)
		return rc == 0 ? ACM_EEXIST : rc;
	rc = copy_to(store, tmp);
	if (rc == ACM_OK)
		rc = rename(tmp, file) == 0 ? ACM_OK : -errno;
	renamed = rc == ACM_OK;
	if (rc == ACM_OK)
		rc = fsync_dir(dest_dir);
	if (rc != ACM_OK) {
		/* Someone else's file, if a racing copy got there first. */
		if (rc != -EEXIST)
			unlink(renamed ? file : tmp);
		if (made)
			rmdir(dest_dir);
	}
	return rc;
}

/* ---- DNS readers ------------------------------------------------------- */

int acm_reader_open(acm_store_t *store, acm_reader_t **out)
{
	*out = NULL;
	acm_reader_t *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->s = store;
	int rc = store_read_begin(store, &r->txn);
	if (rc != ACM_OK) {
		free(r);
		return rc;
	}
	/* Reset keeps the reader slot, so every later begin is only a renew. */
	mdb_txn_reset(r->txn);
	*out = r;
	return ACM_OK;
}

void acm_reader_close(acm_reader_t *r)
{
	if (!r)
		return;
	mdb_txn_abort(r->txn);
	free(r);
}

uint64_t acm_store_last_txnid(acm_store_t *store)
{
	MDB_envinfo ei;
	return mdb_env_info(store->env, &ei) == 0 ? (uint64_t)ei.me_last_txnid : 0;
}

int acm_reader_begin(acm_reader_t *r, uint32_t *serial)
{
	if (r->active)
		acm_reader_end(r);
	int rc = mdb_txn_renew(r->txn);
	if (rc == MDB_MAP_RESIZED && !store_remap_refused(r->s)) {
		mdb_env_set_mapsize(r->s->env, 0);
		rc = mdb_txn_renew(r->txn);
	}
	if (rc)
		return store_env_err(r->s, rc);
	r->active = true;
	/* Most batches see the same snapshot as the one before: the serial
	 * only needs reading again when a write has committed since. */
	size_t id = mdb_txn_id(r->txn);
	if (id != 0 && id == r->last_txnid) {
		*serial = r->last_serial;
		return ACM_OK;
	}
	rc = store_get_serial(r->txn, r->s->meta, serial);
	if (rc == ACM_OK)
		rc = store_log_gen(r->txn, r->s->meta, &store_accounts_log, &r->accounts_gen);
	if (rc != ACM_OK) {
		acm_reader_end(r);
		return rc;
	}
	r->last_txnid = id;
	r->last_serial = *serial;
	return ACM_OK;
}

uint64_t acm_reader_accounts_gen(const acm_reader_t *r)
{
	return r->accounts_gen;
}

int acm_store_accounts_gen(acm_store_t *store, uint64_t *gen)
{
	MDB_txn *txn;
	int rc = store_read_begin(store, &txn);
	if (rc != ACM_OK)
		return rc;
	rc = store_log_gen(txn, store->meta, &store_accounts_log, gen);
	mdb_txn_abort(txn);
	return rc;
}

/* The records of log after generation since up to upto, each handed to
 * fn with its value (at most max bytes, at least one). */
typedef int (*log_fn)(void *ctx, uint64_t gen, const uint8_t *v, size_t len);

static int log_walk(acm_reader_t *r, const store_log_t *log, uint64_t since, uint64_t upto,
                    size_t max, log_fn fn, void *ctx)
{
	uint8_t key[STORE_CHANGE_KEY_LEN];
	MDB_cursor *c;
	if (!r->active)
		return ACM_ESTORE;
	if (since >= upto)
		return ACM_OK;
	int rc = store_err(mdb_cursor_open(r->txn, r->s->meta, &c));
	if (rc != ACM_OK)
		return rc;
	store_log_key(log, since + 1, key);
	MDB_val k = store_val(key, sizeof(key)), v;
	int op = MDB_SET_KEY;
	/* one record per generation, none missing: any gap is a record trimmed */
	for (uint64_t gen = since + 1; rc == ACM_OK && gen <= upto; gen++, op = MDB_NEXT) {
		int g = mdb_cursor_get(c, &k, &v, op);
		store_log_key(log, gen, key);
		if (g == MDB_NOTFOUND || (g == 0 && (k.mv_size != sizeof(key) ||
		                                     memcmp(k.mv_data, key, sizeof(key)) != 0)))
			rc = ACM_ENOTFOUND;
		else if (g != 0)
			rc = store_err(g);
		else if (v.mv_size == 0 || v.mv_size > max)
			rc = ACM_ECORRUPT;
		if (rc == ACM_OK)
			rc = fn(ctx, gen, v.mv_data, v.mv_size);
	}
	mdb_cursor_close(c);
	return rc;
}

struct label_walk {
	int (*fn)(void *ctx, uint64_t gen, const char *label);
	void *ctx;
};

static int label_change(void *ctx, uint64_t gen, const uint8_t *v, size_t len)
{
	const struct label_walk *lw = ctx;
	char label[ACM_LABEL_MAX + 1];
	memcpy(label, v, len);
	label[len] = '\0';
	return lw->fn(lw->ctx, gen, label);
}

int acm_reader_account_changes(acm_reader_t *r, uint64_t since,
                               int (*fn)(void *ctx, uint64_t gen, const char *label),
                               void *ctx)
{
	struct label_walk lw = { fn, ctx };
	return log_walk(r, &store_accounts_log, since, r->accounts_gen, ACM_LABEL_MAX,
	                label_change, &lw);
}

uint64_t acm_reader_txnid(const acm_reader_t *r)
{
	return r->active ? r->last_txnid : 0;
}

int acm_reader_rrsets_gen(acm_reader_t *r, uint64_t *gen)
{
	*gen = 0;
	if (!r->active)
		return ACM_ESTORE;
	return store_log_gen(r->txn, r->s->meta, &store_rrsets_log, gen);
}

int acm_reader_rrset_changes(acm_reader_t *r, uint64_t since, uint64_t upto,
                             acm_owner_change_fn fn, void *ctx)
{
	return log_walk(r, &store_rrsets_log, since, upto, ACM_DNAME_MAX, fn, ctx);
}

void acm_reader_end(acm_reader_t *r)
{
	if (r->active)
		mdb_txn_reset(r->txn);
	r->active = false;
}

int acm_reader_lookup(acm_reader_t *r, const uint8_t *owner, size_t owner_len,
                      const uint8_t **rec, size_t *len)
{
	if (!r->active)
		return ACM_ESTORE;
	MDB_val k = store_val(owner, owner_len), v;
	int rc = mdb_get(r->txn, r->s->rrsets, &k, &v);
	if (rc)
		return store_err(rc);
	*rec = v.mv_data;
	*len = v.mv_size;
	return ACM_OK;
}

int acm_reader_rrsets_from(acm_reader_t *r, const uint8_t *from, size_t from_len,
                           acm_rrset_fn fn, void *ctx)
{
	if (!r->active)
		return ACM_ESTORE;
	struct walk wk = { fn, NULL, ctx };
	MDB_val start = store_val(from, from_len);
	return store_walk(r->txn, r->s->rrsets, from_len ? &start : NULL, false, visit, &wk);
}

int acm_reader_diffs_from(acm_reader_t *r, uint64_t from_seq, acm_diff_fn fn, void *ctx)
{
	if (!r->active)
		return ACM_ESTORE;
	struct walk wk = { NULL, fn, ctx };
	uint8_t key[8];
	acm_put_u64(key, from_seq);
	MDB_val start = store_val(key, 8);
	return store_walk(r->txn, r->s->journal, &start, false, visit, &wk);
}
