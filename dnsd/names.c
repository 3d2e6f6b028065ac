/* SPDX-License-Identifier: ISC */
/*
 * The maintainer of the DNS name index (see names.h): one thread, the
 * index's only writer. Every round reads one store snapshot: a transaction
 * id the index already holds costs nothing more; else the owners changed
 * since the index's generation are read again from that snapshot, or the
 * whole index is rebuilt from it, and the index says it holds that
 * snapshot. A failed round leaves the index claiming the snapshot before
 * (what it applied is newer, never older) and is tried again next round.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "dnsd/names.h"
#include "lib/clock.h"
#include "lib/error.h"
#include "lib/log.h"

struct acm_names {
	acm_store_t *store;
	acm_reader_t *reader;
	acm_name_index_t *ix;
	acm_names_metrics_t *metrics;   /* NULL: not counted */
	uint64_t gen;                   /* the rrsets generation the index holds */
	bool built;                     /* a whole build happened */
	_Atomic bool stop;
	pthread_t thread;
};

static void count(acm_names_t *n)
{
	if (!n->metrics)
		return;
	atomic_store_explicit(&n->metrics->entries, acm_name_index_count(n->ix),
	                      memory_order_relaxed);
	atomic_store_explicit(&n->metrics->bytes, acm_name_index_bytes(n->ix),
	                      memory_order_relaxed);
}

/* One changed owner, as the snapshot has it now. */
static int apply(void *ctx, uint64_t gen, const uint8_t *owner, size_t len)
{
	acm_names_t *n = ctx;
	const uint8_t *rec;
	size_t reclen;
	(void)gen;
	if (atomic_load_explicit(&n->stop, memory_order_relaxed))
		return -ECANCELED;
	int rc = acm_reader_lookup(n->reader, owner, len, &rec, &reclen);
	if (rc == ACM_OK)
		return acm_name_index_set(n->ix, owner, len, rec, reclen);
	if (rc == ACM_ENOTFOUND)
		acm_name_index_remove(n->ix, owner, len);
	return rc == ACM_ENOTFOUND ? ACM_OK : rc;
}

struct build {
	acm_names_t *n;
	acm_name_table_t *t;
};

static int add(const uint8_t *owner, const uint8_t *rec, size_t len, void *ctx)
{
	struct build *b = ctx;
	if (atomic_load_explicit(&b->n->stop, memory_order_relaxed))
		return -ECANCELED;
	return acm_name_table_add(&b->t, owner, acm_dname_len(owner), rec, len);
}

/* The whole index from the snapshot; the old one serves until it is done. */
static int rebuild(acm_names_t *n, uint64_t txnid, uint64_t gen, uint32_t serial)
{
	struct build b = { n, NULL };
	uint64_t began = acm_mono_ns();
	int rc = acm_name_table_new(&b.t);
	if (rc == ACM_OK)
		rc = acm_reader_rrsets_from(n->reader, NULL, 0, add, &b);
	if (rc != ACM_OK) {
		acm_name_table_free(b.t);
		static acm_log_limit_t failed = ACM_LOG_LIMIT_INIT(60);
		const acm_kv_t kv[] = { ACM_KS("error", acm_strerror(rc)) };
		if (rc != -ECANCELED)
			acm_log_limited_fields(&failed, ACM_LOG_WARNING,
			                       "name index build failed; answering from the store", kv, 1);
		return rc;
	}
	acm_name_index_swap(n->ix, b.t, txnid, serial);
	n->gen = gen;
	n->built = true;
	acm_log_kv(ACM_LOG_INFO, "name index built", ACM_KU("names", acm_name_index_count(n->ix)),
	           ACM_KU("bytes", acm_name_index_bytes(n->ix)),
	           ACM_KU("ms", (acm_mono_ns() - began) / 1000000));
	if (n->metrics)
		acm_counter_add(&n->metrics->rebuilds, 1);
	return ACM_OK;
}

static void round_in(acm_names_t *n, uint32_t serial)
{
	uint64_t txnid = acm_reader_txnid(n->reader), gen;
	if (txnid == acm_name_index_applied(n->ix))
		return;
	int rc = acm_reader_rrsets_gen(n->reader, &gen);
	if (rc != ACM_OK)
		return;
	/* A generation that went back is another store (a restored one). */
	rc = n->built && gen >= n->gen ? acm_reader_rrset_changes(n->reader, n->gen, gen, apply, n)
	                               : ACM_ENOTFOUND;
	if (rc == ACM_OK) {
		n->gen = gen;
		acm_name_index_publish(n->ix, txnid, serial);
	} else if (rc == ACM_ENOTFOUND) {
		rebuild(n, txnid, gen, serial);
	}
	count(n);
}

static void *names_main(void *arg)
{
	acm_names_t *n = arg;
	uint32_t serial;
	while (!atomic_load(&n->stop)) {
		if (acm_reader_begin(n->reader, &serial) == ACM_OK) {
			round_in(n, serial);
			acm_reader_end(n->reader);
		}
		acm_name_index_wait(n->ix, ACM_NAMES_POLL_MS);
	}
	return NULL;
}

int acm_names_start(acm_store_t *store, acm_metrics_t *metrics, acm_names_t **out)
{
	*out = NULL;
	acm_names_t *n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->store = store;
	n->metrics = metrics ? acm_metrics_names(metrics) : NULL;
	int rc = acm_name_index_new(&n->ix);
	if (rc == ACM_OK)
		rc = acm_reader_open(store, &n->reader);
	if (rc == ACM_OK)
		rc = -pthread_create(&n->thread, NULL, names_main, n);
	if (rc != ACM_OK) {
		acm_reader_close(n->reader);
		acm_name_index_free(n->ix);
		free(n);
		return rc;
	}
	*out = n;
	return ACM_OK;
}

acm_name_index_t *acm_names_index(acm_names_t *names)
{
	return names ? names->ix : NULL;
}

void acm_names_stop(acm_names_t *n)
{
	if (!n)
		return;
	atomic_store(&n->stop, true);
	acm_name_index_wake(n->ix);
	pthread_join(n->thread, NULL);
	acm_reader_close(n->reader);
	acm_name_index_free(n->ix);
	free(n);
}
