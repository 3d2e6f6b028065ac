/* SPDX-License-Identifier: ISC */
/*
 * The in-memory rrsets index (name_index.h): the table, its readers'
 * epochs and the reclamation of what the one writer replaced.
 *
 * Slots are written only by the writer, each once for a name: its hash,
 * then (release) its record. A removed name leaves a tombstone that is
 * never reused, so a slot's hash never changes while readers probe; the
 * table is rebuilt bigger (or just without tombstones) once taken slots
 * pass 70 %, and the old slot array retired.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "lib/dns/dname.h"
#include "lib/error.h"
#include "lib/rt/name_index.h"

typedef struct {
	uint32_t hash;
	uint32_t reclen;
	uint16_t len;
	uint8_t b[];                    /* the name, then the record */
} rec_t;

/* A removed name's slot. */
static rec_t tombstone;
#define TOMB (&tombstone)

struct slot {
	_Atomic uint32_t hash;
	_Atomic(rec_t *) rec;           /* NULL: never taken */
};

struct acm_name_table {
	size_t mask;
	size_t taken;                   /* slots with a record or a tombstone */
	size_t live;
	size_t rec_bytes;
	struct slot s[];
};

struct acm_name_epoch {
	_Alignas(64) _Atomic uint64_t active;   /* the epoch of its batch; 0: none */
	struct acm_name_epoch *next;
};

/* Retired, freed once no reader is older than epoch. */
struct retired {
	void *p;
	uint64_t epoch;
	enum { RET_REC, RET_SLOTS, RET_TABLE } kind;   /* table: with its records */
};

struct acm_name_index {
	_Atomic(acm_name_table_t *) tab;
	_Atomic uint64_t applied;
	_Atomic uint32_t serial;        /* the zone's serial in snapshot applied */
	_Atomic uint64_t epoch;
	_Atomic bool woken;
	_Atomic size_t count, bytes;    /* of the published table, for other threads */
	int efd;
	pthread_mutex_t mu;             /* the readers list */
	struct acm_name_epoch *readers;
	struct retired *ret;
	size_t nret, capret;
};

#define MIN_SLOTS 64

static size_t rec_size(const rec_t *r)
{
	return sizeof(*r) + r->len + r->reclen;
}

static rec_t *rec_new(const uint8_t *name, size_t len, const uint8_t *rec, size_t reclen)
{
	if (len > UINT16_MAX || reclen > UINT32_MAX)
		return NULL;
	rec_t *r = malloc(sizeof(*r) + len + reclen);
	if (!r)
		return NULL;
	r->hash = acm_dname_hash(name, len);
	r->len = (uint16_t)len;
	r->reclen = (uint32_t)reclen;
	memcpy(r->b, name, len);
	memcpy(r->b + len, rec, reclen);
	return r;
}

static acm_name_table_t *table_alloc(size_t slots)
{
	acm_name_table_t *t = calloc(1, sizeof(*t) + slots * sizeof(struct slot));
	if (t)
		t->mask = slots - 1;
	return t;
}

static size_t table_bytes(const acm_name_table_t *t)
{
	return t ? sizeof(*t) + (t->mask + 1) * sizeof(struct slot) + t->rec_bytes : 0;
}

static bool rec_is(const rec_t *r, uint32_t h, const uint8_t *name, size_t len)
{
	return r->hash == h && r->len == len && memcmp(r->b, name, len) == 0;
}

/* The slot holding name, or the empty one ending its probe; *rec gets
 * what the slot held when it was read (NULL: empty). */
static struct slot *table_slot(const acm_name_table_t *t, uint32_t h, const uint8_t *name,
                               size_t len, rec_t **rec)
{
	struct slot *s = (struct slot *)t->s;
	for (size_t i = h & t->mask;; i = (i + 1) & t->mask) {
		rec_t *r = atomic_load_explicit(&s[i].rec, memory_order_acquire);
		if (!r || (r != TOMB && atomic_load_explicit(&s[i].hash, memory_order_relaxed) == h &&
		           rec_is(r, h, name, len))) {
			*rec = r;
			return &s[i];
		}
	}
}

/* Put r in an empty slot of t (the writer's, or not yet published). */
static void table_place(acm_name_table_t *t, struct slot *s, rec_t *r)
{
	atomic_store_explicit(&s->hash, r->hash, memory_order_relaxed);
	atomic_store_explicit(&s->rec, r, memory_order_release);
	t->taken++;
	t->live++;
	t->rec_bytes += rec_size(r);
}

/* A copy of t's live records in a table sized for them and one more. */
static acm_name_table_t *table_regrow(const acm_name_table_t *t)
{
	size_t slots = MIN_SLOTS;
	while (slots < (t->live + 1) * 2)               /* at most half full */
		slots *= 2;
	acm_name_table_t *n = table_alloc(slots);
	if (!n)
		return NULL;
	for (size_t i = 0; i <= t->mask; i++) {
		rec_t *r = atomic_load_explicit(&t->s[i].rec, memory_order_relaxed);
		rec_t *none;
		if (r && r != TOMB)
			table_place(n, table_slot(n, r->hash, r->b, r->len, &none), r);
	}
	return n;
}

static bool table_full(const acm_name_table_t *t)
{
	return (t->taken + 1) * 10 > (t->mask + 1) * 7;
}

int acm_name_table_new(acm_name_table_t **out)
{
	*out = table_alloc(MIN_SLOTS);
	return *out ? ACM_OK : -ENOMEM;
}

static void table_free_records(acm_name_table_t *t)
{
	for (size_t i = 0; i <= t->mask; i++) {
		rec_t *r = atomic_load_explicit(&t->s[i].rec, memory_order_relaxed);
		if (r != TOMB)
			free(r);
	}
}

void acm_name_table_free(acm_name_table_t *t)
{
	if (!t)
		return;
	table_free_records(t);
	free(t);
}

/* A table not yet published: grown in place of the old one. */
int acm_name_table_add(acm_name_table_t **tp, const uint8_t *name, size_t len,
                       const uint8_t *rec, size_t reclen)
{
	acm_name_table_t *t = *tp;
	if (table_full(t)) {
		acm_name_table_t *n = table_regrow(t);
		if (!n)
			return -ENOMEM;
		free(t);
		*tp = t = n;
	}
	rec_t *r = rec_new(name, len, rec, reclen);
	if (!r)
		return -ENOMEM;
	rec_t *old;
	struct slot *s = table_slot(t, r->hash, name, len, &old);
	if (old) {                      /* a name twice: the last one counts */
		t->rec_bytes += rec_size(r) - rec_size(old);
		atomic_store_explicit(&s->rec, r, memory_order_relaxed);
		free(old);
		return ACM_OK;
	}
	table_place(t, s, r);
	return ACM_OK;
}

/* ---- the index ----------------------------------------------------------- */

int acm_name_index_new(acm_name_index_t **out)
{
	*out = NULL;
	acm_name_index_t *ix = calloc(1, sizeof(*ix));
	if (!ix)
		return -ENOMEM;
	ix->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (ix->efd < 0) {
		int rc = -errno;
		free(ix);
		return rc;
	}
	atomic_init(&ix->epoch, 1);
	pthread_mutex_init(&ix->mu, NULL);
	*out = ix;
	return ACM_OK;
}

static void retired_free(const struct retired *r)
{
	if (r->kind == RET_TABLE)
		acm_name_table_free(r->p);
	else
		free(r->p);
}

void acm_name_index_free(acm_name_index_t *ix)
{
	if (!ix)
		return;
	for (size_t i = 0; i < ix->nret; i++)
		retired_free(&ix->ret[i]);
	free(ix->ret);
	acm_name_table_free(atomic_load(&ix->tab));
	while (ix->readers) {
		struct acm_name_epoch *e = ix->readers;
		ix->readers = e->next;
		free(e);
	}
	pthread_mutex_destroy(&ix->mu);
	close(ix->efd);
	free(ix);
}

int acm_name_index_join(acm_name_index_t *ix, acm_name_reader_t *r)
{
	memset(r, 0, sizeof(*r));
	if (!ix)
		return ACM_OK;
	struct acm_name_epoch *e = aligned_alloc(64, sizeof(*e));
	if (!e)
		return -ENOMEM;
	atomic_init(&e->active, 0);
	pthread_mutex_lock(&ix->mu);
	e->next = ix->readers;
	ix->readers = e;
	pthread_mutex_unlock(&ix->mu);
	r->ix = ix;
	r->epoch = e;
	return ACM_OK;
}

void acm_name_index_leave(acm_name_reader_t *r)
{
	acm_name_index_t *ix = r->ix;
	if (!ix)
		return;
	pthread_mutex_lock(&ix->mu);
	for (struct acm_name_epoch **p = &ix->readers; *p; p = &(*p)->next)
		if (*p == r->epoch) {
			*p = r->epoch->next;
			break;
		}
	pthread_mutex_unlock(&ix->mu);
	free(r->epoch);
	memset(r, 0, sizeof(*r));
}

void acm_name_index_wake(acm_name_index_t *ix)
{
	uint64_t one = 1;
	if (!atomic_load_explicit(&ix->woken, memory_order_relaxed) &&
	    !atomic_exchange(&ix->woken, true))
		(void)!write(ix->efd, &one, sizeof(one));
}

bool acm_name_index_wait(acm_name_index_t *ix, int timeout_ms)
{
	struct pollfd p = { .fd = ix->efd, .events = POLLIN };
	uint64_t n;
	if (poll(&p, 1, timeout_ms) <= 0)
		return false;
	(void)!read(ix->efd, &n, sizeof(n));
	atomic_store(&ix->woken, false);
	return true;
}

/*
 * The epoch is stored before the table is read, with a full fence between,
 * and the writer fences between unlinking and reading the epochs: either
 * the writer sees this reader active, or the reader sees the unlink.
 */
bool acm_name_index_begin(acm_name_reader_t *r, uint64_t snapshot, uint32_t *serial)
{
	acm_name_index_t *ix = r->ix;
	r->tab = NULL;
	if (!ix)
		return false;
	atomic_store_explicit(&r->epoch->active, atomic_load(&ix->epoch), memory_order_relaxed);
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(&ix->applied, memory_order_acquire) < snapshot) {
		atomic_store_explicit(&r->epoch->active, 0, memory_order_release);
		acm_name_index_wake(ix);
		return false;
	}
	*serial = atomic_load_explicit(&ix->serial, memory_order_relaxed);
	r->tab = atomic_load_explicit(&ix->tab, memory_order_acquire);
	return r->tab != NULL;
}

int acm_name_index_get(const acm_name_reader_t *r, const uint8_t *name, size_t len,
                       const uint8_t **rec, size_t *reclen)
{
	rec_t *x;
	table_slot(r->tab, acm_dname_hash(name, len), name, len, &x);
	if (!x)
		return ACM_ENOTFOUND;
	*rec = x->b + x->len;
	*reclen = x->reclen;
	return ACM_OK;
}

void acm_name_index_end(acm_name_reader_t *r)
{
	if (r->epoch)
		atomic_store_explicit(&r->epoch->active, 0, memory_order_release);
	r->tab = NULL;
}

/* ---- the writer ----------------------------------------------------------- */

static void retire(acm_name_index_t *ix, void *p, int kind)
{
	if (ix->nret == ix->capret) {
		size_t cap = ix->capret ? ix->capret * 2 : 64;
		struct retired *n = realloc(ix->ret, cap * sizeof(*n));
		if (!n) {
			/* Better a leak than a reader on freed memory. */
			return;
		}
		ix->ret = n;
		ix->capret = cap;
	}
	ix->ret[ix->nret++] = (struct retired){ p, atomic_load(&ix->epoch), kind };
}

/* Free what was retired before the oldest active reader began. */
static void reclaim(acm_name_index_t *ix)
{
	atomic_thread_fence(memory_order_seq_cst);
	uint64_t min = atomic_fetch_add(&ix->epoch, 1) + 1;
	pthread_mutex_lock(&ix->mu);
	for (const struct acm_name_epoch *e = ix->readers; e; e = e->next) {
		uint64_t a = atomic_load(&e->active);
		if (a && a < min)
			min = a;
	}
	pthread_mutex_unlock(&ix->mu);
	size_t kept = 0;
	for (size_t i = 0; i < ix->nret; i++) {
		if (ix->ret[i].epoch < min)
			retired_free(&ix->ret[i]);
		else
			ix->ret[kept++] = ix->ret[i];
	}
	ix->nret = kept;
}

static void counts(acm_name_index_t *ix, const acm_name_table_t *t)
{
	atomic_store_explicit(&ix->count, t ? t->live : 0, memory_order_relaxed);
	atomic_store_explicit(&ix->bytes, table_bytes(t), memory_order_relaxed);
}

/* The published table, grown first when one more name would not fit. */
static acm_name_table_t *writable(acm_name_index_t *ix)
{
	acm_name_table_t *t = atomic_load_explicit(&ix->tab, memory_order_relaxed);
	if (!t) {
		if (acm_name_table_new(&t) != ACM_OK)
			return NULL;
		atomic_store_explicit(&ix->tab, t, memory_order_release);
	}
	if (!table_full(t))
		return t;
	acm_name_table_t *n = table_regrow(t);
	if (!n)
		return NULL;
	atomic_store_explicit(&ix->tab, n, memory_order_release);
	retire(ix, t, RET_SLOTS);
	return n;
}

int acm_name_index_set(acm_name_index_t *ix, const uint8_t *name, size_t len,
                       const uint8_t *rec, size_t reclen)
{
	acm_name_table_t *t = writable(ix);
	rec_t *r = t ? rec_new(name, len, rec, reclen) : NULL;
	if (!r)
		return -ENOMEM;
	rec_t *old;
	struct slot *s = table_slot(t, r->hash, name, len, &old);
	if (!old) {
		table_place(t, s, r);
	} else {
		t->rec_bytes += rec_size(r) - rec_size(old);
		atomic_store_explicit(&s->rec, r, memory_order_release);
		retire(ix, old, RET_REC);
	}
	counts(ix, t);
	return ACM_OK;
}

void acm_name_index_remove(acm_name_index_t *ix, const uint8_t *name, size_t len)
{
	acm_name_table_t *t = atomic_load_explicit(&ix->tab, memory_order_relaxed);
	if (!t)
		return;
	rec_t *old;
	struct slot *s = table_slot(t, acm_dname_hash(name, len), name, len, &old);
	if (!old)
		return;
	atomic_store_explicit(&s->rec, TOMB, memory_order_release);
	t->live--;
	t->rec_bytes -= rec_size(old);
	retire(ix, old, RET_REC);
	counts(ix, t);
}

void acm_name_index_publish(acm_name_index_t *ix, uint64_t applied, uint32_t serial)
{
	/* the serial first: a reader that sees the new mark sees it, or a
	 * later one, as the table it reads may be later too */
	atomic_store_explicit(&ix->serial, serial, memory_order_relaxed);
	atomic_store_explicit(&ix->applied, applied, memory_order_release);
	reclaim(ix);
}

/* The table before the applied mark: a reader that sees the new mark sees
 * the new table. */
void acm_name_index_swap(acm_name_index_t *ix, acm_name_table_t *t, uint64_t applied,
                         uint32_t serial)
{
	acm_name_table_t *old = atomic_exchange(&ix->tab, t);
	if (old)
		retire(ix, old, RET_TABLE);
	counts(ix, t);
	acm_name_index_publish(ix, applied, serial);
}

uint64_t acm_name_index_applied(const acm_name_index_t *ix)
{
	return atomic_load(&((acm_name_index_t *)ix)->applied);
}

size_t acm_name_index_count(const acm_name_index_t *ix)
{
	return atomic_load_explicit(&((acm_name_index_t *)ix)->count, memory_order_relaxed);
}

size_t acm_name_index_bytes(const acm_name_index_t *ix)
{
	return atomic_load_explicit(&((acm_name_index_t *)ix)->bytes, memory_order_relaxed);
}
