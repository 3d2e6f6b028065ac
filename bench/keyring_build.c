/* SPDX-License-Identifier: ISC */
/*
 * bench/keyring_build: how long the DNS workers' key table (dnsd/keyring.c)
 * takes to build from a store, and how much memory it holds.
 *
 *   keyring_build -d DIR -z ZONE [-r REPEATS]
 *
 * Opens the store read-only as acmensd would, builds the table REPEATS
 * times (default 5) and prints one JSON line: the entries, the fastest and
 * the median build, the bytes the table holds, and the resident memory the
 * first build added (the table and the store pages it read).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dnsd/keyring.h"
#include "lib/dns/dname.h"
#include "lib/error.h"

#define REPEATS_MAX 64

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Resident bytes of this process (statm's second field). */
static long rss_bytes(void)
{
	long pages = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (!f)
		return 0;
	if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
		rss = 0;
	fclose(f);
	return rss * sysconf(_SC_PAGESIZE);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void die(const char *what, int rc)
{
	fprintf(stderr, "keyring_build: %s: %s\n", what, acm_strerror(rc));
	exit(1);
}

int main(int argc, char **argv)
{
	const char *dir = NULL, *zone = NULL;
	int repeats = 5, opt;
	while ((opt = getopt(argc, argv, "d:z:r:")) != -1) {
		switch (opt) {
		case 'd': dir = optarg; break;
		case 'z': zone = optarg; break;
		case 'r': repeats = atoi(optarg); break;
		default: dir = NULL; break;
		}
	}
	if (!dir || !zone || repeats < 1 || repeats > REPEATS_MAX || optind != argc) {
		fprintf(stderr, "usage: keyring_build -d DIR -z ZONE [-r REPEATS]\n");
		return 2;
	}
	uint8_t apex[ACM_DNAME_MAX];
	if (acm_dname_from_text(zone, apex) < 0)
		die("zone name", ACM_EBADNAME);
	acm_store_opts_t so = { .mapsize = (size_t)16 << 30 };
	acm_store_t *store;
	int rc = acm_store_open(dir, apex, &so, &store);
	if (rc != ACM_OK)
		die(dir, rc);

	double times[REPEATS_MAX];
	long rss_added = 0;
	size_t entries = 0, bytes = 0;
	for (int i = 0; i < repeats; i++) {
		acm_keyring_t *kr;
		acm_keytab_t *held = NULL;
		long before = rss_bytes();
		double t0 = now_s();
		if ((rc = acm_keyring_start(store, &kr)) != ACM_OK)
			die("build", rc);
		times[i] = now_s() - t0;
		uint64_t gen;
		if ((rc = acm_store_accounts_gen(store, &gen)) != ACM_OK)
			die("generation", rc);
		const acm_keytab_t *t = acm_keyring_get(kr, &held, gen);
		entries = t ? acm_keytab_count(t) : 0;
		bytes = t ? acm_keytab_bytes(t) : 0;
		if (i == 0)
			rss_added = rss_bytes() - before;
		acm_keytab_unref(held);
		acm_keyring_stop(kr);
	}
	qsort(times, (size_t)repeats, sizeof(times[0]), cmp_double);
	printf("{\"entries\": %zu, \"build_seconds_min\": %.3f, \"build_seconds_median\": %.3f, "
	       "\"table_bytes\": %zu, \"rss_added_bytes\": %ld}\n",
	       entries, times[0], times[repeats / 2], bytes, rss_added);
	acm_store_close(store);
	return 0;
}
