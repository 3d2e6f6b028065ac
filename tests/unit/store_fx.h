/* SPDX-License-Identifier: ISC */
/*
 * The fixture the store's unit tests share: a store in a temporary
 * directory per test, shorthands for common operations, back-door edits of
 * records, and a strict decoder of journal diffs.
 */
#ifndef ACM_TEST_STORE_FX_H
#define ACM_TEST_STORE_FX_H

#include <stddef.h>
#include <stdint.h>

#include "lib/dns/dname.h"
#include "lib/store/store.h"

struct fx {
	char dir[64];
	uint8_t apex[ACM_DNAME_MAX];
	acm_store_t *s;
};

/* cmocka setup and teardown: a fresh directory, the store not yet open. */
int fx_setup(void **state);
int fx_teardown(void **state);
/* (Re)open the store of f with opts. */
void fx_open(struct fx *f, const acm_store_opts_t *opts);

/* A fresh account on subdomain sub with a predictable username. */
void make_account(acm_store_t *s, const char *sub, const char *user);
uint32_t serial_of(acm_store_t *s);
/* The values of sub (at most max written); returns the count. */
size_t list(acm_store_t *s, const char *sub, acm_txt_t *out, size_t max);
int add(acm_store_t *s, const char *sub, const char *v, uint64_t expires);
acm_txt_t txt(const char *v, uint64_t expires);
size_t owner_of(const struct fx *f, const char *label, uint8_t *owner);
/* Edit a byte range of a stored record behind the store's back (closed). */
void raw_patch(const struct fx *f, const char *db, const void *key, size_t klen,
               size_t off, const void *bytes, size_t n);
void raw_patch_rrset(const struct fx *f, const char *label, size_t off, uint64_t x);

struct diff_ent {
	int op;
	char owner[ACM_DNAME_TXT_MAX];
	char value[ACM_TXT_MAX + 1];
};

struct diff_rec {
	uint64_t seq;
	uint32_t from, to;
	uint64_t time;
	size_t n;
	struct diff_ent e[16];
};

struct diffs {
	size_t n;
	struct diff_rec d[8];
};

/* An acm_diff_fn decoding each diff into the struct diffs at ctx. */
int collect_diff(uint64_t seq, const uint8_t *rec, size_t len, void *ctx);
void assert_ent(const struct diff_ent *e, int op, const char *owner, const char *value);

#endif
