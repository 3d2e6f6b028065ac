/* SPDX-License-Identifier: ISC */
/*
 * The accounts' keys in memory (see keyring.h). A table is an arena of
 * variable-length entries and an open-addressed index of their offsets;
 * it never changes once published, so readers need no lock. The builder
 * thread reads the generation first and walks the accounts after, so a
 * table holds at least what its generation says (maybe more: harmless).
 */
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dnsd/keyring.h"
#include "lib/conf/cidr.h"
#include "lib/error.h"

#define EMPTY UINT32_MAX
#define RETRY_S 1               /* after a failed build */
#define GAP_FACTOR 2            /* rest after a build, times its duration */
#define GAP_MIN_MS 200

/* An entry: this header, the label, the secret, then (aligned) the
 * allowfrom ranges that parsed. */
struct acm_keyrec {
	uint32_t hash;
	uint8_t label_len;
	uint8_t alg;
	uint8_t secret_len;
	uint8_t cidr_count;
	bool restricted;                /* the account has allowfrom entries */
	char label[];                   /* label_len bytes and a NUL, then the secret */
};

struct acm_keytab {
	atomic_uint refs;
	uint64_t gen;
	size_t count;
	size_t mask;                    /* index slots - 1 (a power of two) */
	uint32_t *index;                /* arena offsets, EMPTY */
	uint8_t *arena;
	size_t used, cap;
};

struct acm_keyring {
	acm_store_t *store;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	acm_keytab_t *current;          /* under mu; NULL until the first build */
	_Atomic uint64_t published;     /* current->gen */
	_Atomic uint64_t wanted;        /* the newest generation asked for */
	bool stop;                      /* under mu */
	pthread_t thread;
};

/* FNV-1a: labels are short, and an attacker gains nothing from collisions
 * beyond a longer probe in a table it cannot add entries to. */
static uint32_t hash_label(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static size_t align4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

static const uint8_t *rec_secret(const acm_keyrec_t *r)
{
	return (const uint8_t *)r->label + r->label_len + 1;
}

static size_t cidrs_offset(size_t label_len, size_t secret_len)
{
	return align4(offsetof(acm_keyrec_t, label) + label_len + 1 + secret_len);
}

static const acm_cidr_t *rec_cidrs(const acm_keyrec_t *r)
{
	return (const acm_cidr_t *)((const uint8_t *)r + cidrs_offset(r->label_len, r->secret_len));
}

static size_t rec_size(size_t label_len, size_t secret_len, size_t cidrs)
{
	return align4(cidrs_offset(label_len, secret_len) + cidrs * sizeof(acm_cidr_t));
}

int acm_keyrec_from_account(const acm_account_t *acc, void *buf, size_t cap)
{
	size_t llen = strnlen(acc->subdomain, sizeof(acc->subdomain));
	acm_cidr_t cidrs[ACM_ALLOWFROM_MAX];
	size_t n = 0;
	if (acc->tsig_alg == 0 || (acc->flags & ACM_ACCOUNT_DISABLED) || llen == 0 ||
	    llen > ACM_LABEL_MAX || acc->tsig_secret_len > ACM_TSIG_SECRET_MAX)
		return ACM_ENOTFOUND;
	for (size_t i = 0; i < acc->allowfrom_count && i < ACM_ALLOWFROM_MAX; i++)
		if (acm_allowfrom_entry(acc->allowfrom[i], &cidrs[n]) == ACM_OK)
			n++;
	size_t size = rec_size(llen, acc->tsig_secret_len, n);
	if (size > cap)
		return ACM_ESPACE;
	acm_keyrec_t *r = buf;
	memset(r, 0, size);
	r->label_len = (uint8_t)llen;
	r->alg = (uint8_t)acc->tsig_alg;
	r->secret_len = (uint8_t)acc->tsig_secret_len;
	r->cidr_count = (uint8_t)n;
	r->restricted = acc->allowfrom_count > 0;
	memcpy(r->label, acc->subdomain, llen);
	r->hash = hash_label((const uint8_t *)r->label, llen);
	memcpy((uint8_t *)rec_secret(r), acc->tsig_secret, acc->tsig_secret_len);
	memcpy((uint8_t *)rec_cidrs(r), cidrs, n * sizeof(*cidrs));
	return ACM_OK;
}

void acm_keyrec_key(const acm_keyrec_t *r, const uint8_t *name, size_t name_len,
                    acm_tsig_key_t *out)
{
	out->name_len = name_len;
	memcpy(out->name, name, name_len);
	out->alg = (acm_tsig_alg_t)r->alg;
	out->secret_len = r->secret_len;
	memcpy(out->secret, rec_secret(r), r->secret_len);
}

const char *acm_keyrec_label(const acm_keyrec_t *r)
{
	return r->label;
}

bool acm_keyrec_allows(const acm_keyrec_t *r, const struct sockaddr *sa)
{
	if (!r->restricted)
		return true;
	const acm_cidr_t *c = rec_cidrs(r);
	for (size_t i = 0; i < r->cidr_count; i++)
		if (acm_cidr_match(&c[i], sa))
			return true;
	return false;
}

/* ---- a table ------------------------------------------------------------ */

static const acm_keyrec_t *rec_at(const acm_keytab_t *t, uint32_t off)
{
	return (const acm_keyrec_t *)(t->arena + off);
}

const acm_keyrec_t *acm_keytab_find(const acm_keytab_t *t, const uint8_t *label, size_t len)
{
	uint32_t h = hash_label(label, len);
	for (size_t i = h & t->mask;; i = (i + 1) & t->mask) {
		if (t->index[i] == EMPTY)
			return NULL;
		const acm_keyrec_t *r = rec_at(t, t->index[i]);
		if (r->hash == h && r->label_len == len && memcmp(r->label, label, len) == 0)
			return r;
	}
}

size_t acm_keytab_count(const acm_keytab_t *t)
{
	return t->count;
}

size_t acm_keytab_bytes(const acm_keytab_t *t)
{
	return sizeof(*t) + t->cap + (t->mask + 1) * sizeof(*t->index);
}

void acm_keytab_unref(acm_keytab_t *t)
{
	if (!t || atomic_fetch_sub(&t->refs, 1) != 1)
		return;
	free(t->index);
	free(t->arena);
	free(t);
}

/* Room for one more entry of at most ACM_KEYREC_MAX bytes. */
static int arena_reserve(acm_keytab_t *t)
{
	if (t->cap - t->used >= ACM_KEYREC_MAX)
		return ACM_OK;
	size_t cap = t->cap ? t->cap * 2 : 64 * 1024;
	if (cap > UINT32_MAX)
		return -ENOMEM;
	uint8_t *a = realloc(t->arena, cap);
	if (!a)
		return -ENOMEM;
	t->arena = a;
	t->cap = cap;
	return ACM_OK;
}

static int add_account(const acm_account_t *acc, void *ctx)
{
	acm_keytab_t *t = ctx;
	int rc = arena_reserve(t);
	if (rc != ACM_OK)
		return rc;
	rc = acm_keyrec_from_account(acc, t->arena + t->used, t->cap - t->used);
	if (rc == ACM_ENOTFOUND)
		return ACM_OK;
	if (rc != ACM_OK)
		return rc;
	const acm_keyrec_t *r = rec_at(t, (uint32_t)t->used);
	t->used += rec_size(r->label_len, r->secret_len, r->cidr_count);
	t->count++;
	return ACM_OK;
}

/* The index, at most half full so probes stay short. */
static int build_index(acm_keytab_t *t)
{
	size_t slots = 16;
	while (slots < 2 * t->count)
		slots *= 2;
	t->index = malloc(slots * sizeof(*t->index));
	if (!t->index)
		return -ENOMEM;
	memset(t->index, 0xff, slots * sizeof(*t->index));
	t->mask = slots - 1;
	for (size_t off = 0; off < t->used;) {
		const acm_keyrec_t *r = rec_at(t, (uint32_t)off);
		size_t i = r->hash & t->mask;
		while (t->index[i] != EMPTY)
			i = (i + 1) & t->mask;
		t->index[i] = (uint32_t)off;
		off += rec_size(r->label_len, r->secret_len, r->cidr_count);
	}
	return ACM_OK;
}

static int keytab_build(acm_store_t *store, acm_keytab_t **out)
{
	acm_keytab_t *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	atomic_init(&t->refs, 1);
	int rc = acm_store_accounts_gen(store, &t->gen);
	if (rc == ACM_OK)
		rc = acm_store_account_list(store, NULL, NULL, 0, add_account, t);
	if (rc == ACM_OK)
		rc = build_index(t);
	if (rc != ACM_OK) {
		acm_keytab_unref(t);
		return rc;
	}
	*out = t;
	return ACM_OK;
}

/* ---- publishing ---------------------------------------------------------- */

static void publish(acm_keyring_t *kr, acm_keytab_t *t)
{
	pthread_mutex_lock(&kr->mu);
	acm_keytab_t *old = kr->current;
	kr->current = t;
	atomic_store(&kr->published, t->gen);
	pthread_mutex_unlock(&kr->mu);
	acm_keytab_unref(old);
}

/* Wait on cv until ms from now or a stop (under mu). */
static void rest(acm_keyring_t *kr, uint64_t ms)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	uint64_t ns = (uint64_t)until.tv_nsec + ms % 1000 * 1000000;
	until.tv_sec += (time_t)(ms / 1000 + ns / 1000000000);
	until.tv_nsec = (long)(ns % 1000000000);
	while (!kr->stop && pthread_cond_timedwait(&kr->cv, &kr->mu, &until) == 0)
		;
}

static uint64_t now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

static void *builder_main(void *arg)
{
	acm_keyring_t *kr = arg;
	pthread_mutex_lock(&kr->mu);
	while (!kr->stop) {
		if (kr->current && atomic_load(&kr->wanted) <= atomic_load(&kr->published)) {
			pthread_cond_wait(&kr->cv, &kr->mu);
			continue;
		}
		pthread_mutex_unlock(&kr->mu);
		acm_keytab_t *t;
		uint64_t began = now_ms();
		int rc = keytab_build(kr->store, &t);
		if (rc == ACM_OK)
			publish(kr, t);
		uint64_t took = now_ms() - began;
		pthread_mutex_lock(&kr->mu);
		/* Workers list what changed meanwhile (or, after a failure, read
		 * the store): rest so that changes arriving all the time cost a
		 * share of a core, not all of it. */
		if (rc != ACM_OK)
			rest(kr, RETRY_S * 1000);
		else
			rest(kr, took * GAP_FACTOR > GAP_MIN_MS ? took * GAP_FACTOR : GAP_MIN_MS);
	}
	pthread_mutex_unlock(&kr->mu);
	return NULL;
}

static int start(acm_store_t *store, bool build_first, acm_keyring_t **out)
{
	acm_keyring_t *kr = calloc(1, sizeof(*kr));
	if (!kr)
		return -ENOMEM;
	kr->store = store;
	pthread_mutex_init(&kr->mu, NULL);
	pthread_cond_init(&kr->cv, NULL);
	int rc = build_first ? keytab_build(store, &kr->current) : ACM_OK;
	if (rc == ACM_OK) {
		uint64_t gen = kr->current ? kr->current->gen : 0;
		atomic_init(&kr->published, gen);
		atomic_init(&kr->wanted, gen);
		rc = -pthread_create(&kr->thread, NULL, builder_main, kr);
	}
	if (rc != ACM_OK) {
		acm_keytab_unref(kr->current);
		pthread_cond_destroy(&kr->cv);
		pthread_mutex_destroy(&kr->mu);
		free(kr);
		return rc;
	}
	*out = kr;
	return ACM_OK;
}

int acm_keyring_start(acm_store_t *store, acm_keyring_t **out)
{
	return start(store, true, out);
}

int acm_keyring_start_background(acm_store_t *store, acm_keyring_t **out)
{
	return start(store, false, out);
}

void acm_keyring_stop(acm_keyring_t *kr)
{
	if (!kr)
		return;
	pthread_mutex_lock(&kr->mu);
	kr->stop = true;
	pthread_cond_signal(&kr->cv);
	pthread_mutex_unlock(&kr->mu);
	pthread_join(kr->thread, NULL);
	acm_keytab_unref(kr->current);
	pthread_cond_destroy(&kr->cv);
	pthread_mutex_destroy(&kr->mu);
	free(kr);
}

/* Replace *held by the published table when that one is newer. */
static void take_newest(acm_keyring_t *kr, acm_keytab_t **held)
{
	if (*held && atomic_load(&kr->published) <= (*held)->gen)
		return;
	pthread_mutex_lock(&kr->mu);
	acm_keytab_t *t = kr->current;
	if (t)
		atomic_fetch_add(&t->refs, 1);
	pthread_mutex_unlock(&kr->mu);
	if (!t)
		return;   /* none built yet */
	acm_keytab_unref(*held);
	*held = t;
}

/* Ask for a table at gen or later, once per generation: the flag is
 * cheap, the lock is not. */
static void ask_rebuild(acm_keyring_t *kr, uint64_t gen)
{
	uint64_t w = atomic_load(&kr->wanted);
	while (w < gen && !atomic_compare_exchange_weak(&kr->wanted, &w, gen))
		;
	if (w < gen) {
		pthread_mutex_lock(&kr->mu);
		pthread_cond_signal(&kr->cv);
		pthread_mutex_unlock(&kr->mu);
	}
}

const acm_keytab_t *acm_keyring_get(acm_keyring_t *kr, acm_keytab_t **held, uint64_t gen)
{
	if (*held && (*held)->gen >= gen)
		return *held;
	take_newest(kr, held);
	if (*held && (*held)->gen >= gen)
		return *held;
	ask_rebuild(kr, gen);
	return NULL;
}

/* ---- a worker's view ----------------------------------------------------- */

static int list_change(void *ctx, uint64_t gen, const char *label)
{
	acm_keyview_t *v = ctx;
	size_t len = strlen(label);
	if (v->n == ACM_KEYVIEW_CHANGES)
		return ACM_ESPACE;
	struct acm_keyview_change *c = &v->changed[v->n++];
	c->gen = gen;
	c->len = (uint8_t)len;
	c->hash = hash_label((const uint8_t *)label, len);
	memcpy(c->label, label, len + 1);
	return ACM_OK;
}

/* Forget the changes the view's table already holds. */
static void drop_held_changes(acm_keyview_t *v)
{
	uint64_t tgen = v->held->gen;
	size_t k = 0;
	for (size_t i = 0; i < v->n; i++)
		if (v->changed[i].gen > tgen)
			v->changed[k++] = v->changed[i];
	v->n = k;
	if (v->gen < tgen)
		v->gen = tgen;
}

const acm_keytab_t *acm_keyring_view(acm_keyring_t *kr, acm_keyview_t *v, acm_reader_t *r)
{
	uint64_t gen = acm_reader_accounts_gen(r);
	take_newest(kr, &v->held);
	if (!v->held)
		return NULL;                    /* the first table is being built */
	if (v->held->gen >= gen) {
		v->n = 0;
		v->gen = v->held->gen;
		return v->held;
	}
	ask_rebuild(kr, gen);
	if (v->unlisted == v->held->gen + 1)
		return NULL;                    /* tried already with this table */
	drop_held_changes(v);
	if (v->gen < gen) {
		int rc = acm_reader_account_changes(r, v->gen, list_change, v);
		if (rc != ACM_OK) {
			v->n = 0;
			v->gen = v->held->gen;
			v->unlisted = v->held->gen + 1;
			return NULL;
		}
		v->gen = gen;
	}
	return v->held;
}

bool acm_keyview_changed(const acm_keyview_t *v, const uint8_t *label, size_t len)
{
	uint32_t h = hash_label(label, len);
	for (size_t i = 0; i < v->n; i++) {
		const struct acm_keyview_change *c = &v->changed[i];
		if (c->hash == h && c->len == len && memcmp(c->label, label, len) == 0)
			return true;
	}
	return false;
}

void acm_keyview_release(acm_keyview_t *v)
{
	acm_keytab_unref(v->held);
	v->held = NULL;
	v->n = 0;
	v->gen = 0;
	v->unlisted = 0;
}
