/* SPDX-License-Identifier: ISC */
/*
 * bench/load_store: fill an acmens store with N accounts through the store
 * API (the same code path acmensd and acmensctl write with), and write the
 * identical zone for other servers.
 *
 *   load_store -d DIR -z ZONE -n N [-v VALUES] [-b BATCH] [-s SEED]
 *              [-Z ZONEFILE] [-L NAMESFILE] [-C CREDSFILE] [-k]
 *
 * Every account gets a UUID-style subdomain and username and a 40-character
 * key, and VALUES (default 2) TXT values of 43 base64url characters, all
 * drawn from a seeded PRNG, so the same N and SEED give the same data.
 * Writes go in transactions of BATCH accounts (default 10,000).
 *
 * -Z writes a zone file (apex SOA and NS, ns1 A 127.0.0.1, and every TXT
 *    record, TTL 1) whose SOA serial is the store's serial after the load.
 * -L writes the subdomain labels, one per line (for query files).
 * -C writes "username key subdomain" per line (for the HTTP benchmarks).
 * -k gives every account a TSIG key (hmac-sha256, random secret), as
 *    acmensctl's --tsig does (for the keyring benchmarks).
 *
 * The zone apex must be given as in the acmensd configuration; DIR must
 * hold no store yet (loading twice fails with "exists").
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/error.h"
#include "lib/store/keys.h"
#include "lib/store/store.h"

#define VALUE_LEN 43
#define MAX_VALUES 8

static const char b64url[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
static const char hexd[] = "0123456789abcdef";

static uint64_t rng_state;

/* splitmix64: small, fast, and good enough for test data. */
static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

/* A version 4 UUID in lower case. */
static void uuid(char out[ACM_UUID_LEN + 1])
{
	uint64_t a = rnd(), b = rnd();
	uint8_t by[16];
	for (int i = 0; i < 8; i++) {
		by[i] = (uint8_t)(a >> (8 * i));
		by[8 + i] = (uint8_t)(b >> (8 * i));
	}
	by[6] = (uint8_t)((by[6] & 0x0F) | 0x40);
	by[8] = (uint8_t)((by[8] & 0x3F) | 0x80);
	char *p = out;
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*p++ = '-';
		*p++ = hexd[by[i] >> 4];
		*p++ = hexd[by[i] & 15];
	}
	*p = '\0';
}

static void b64str(char *out, size_t len)
{
	uint64_t r = 0;
	for (size_t i = 0; i < len; i++) {
		if (i % 10 == 0)
			r = rnd();
		out[i] = b64url[r & 63];
		r >>= 6;
	}
	out[len] = '\0';
}

static void usage(void)
{
	fprintf(stderr, "usage: load_store -d DIR -z ZONE -n N [-v VALUES] [-b BATCH] [-s SEED]\n"
	                "                  [-Z ZONEFILE] [-L NAMESFILE] [-C CREDSFILE] [-k]\n");
	exit(2);
}

static void die(const char *what, int rc)
{
	fprintf(stderr, "load_store: %s: %s\n", what, acm_strerror(rc));
	exit(1);
}

static FILE *open_out(const char *path)
{
	if (!path)
		return NULL;
	FILE *f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "load_store: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	return f;
}

int main(int argc, char **argv)
{
	const char *dir = NULL, *zone = NULL, *zonefile = NULL, *namesfile = NULL,
	           *credsfile = NULL;
	unsigned long n = 0, batch = 10000, nvalues = 2;
	unsigned long long seed = 1;
	int opt;
	bool tsig = false;

	while ((opt = getopt(argc, argv, "d:z:n:v:b:s:Z:L:C:k")) != -1) {
		switch (opt) {
		case 'd': dir = optarg; break;
		case 'z': zone = optarg; break;
		case 'n': n = strtoul(optarg, NULL, 10); break;
		case 'v': nvalues = strtoul(optarg, NULL, 10); break;
		case 'b': batch = strtoul(optarg, NULL, 10); break;
		case 's': seed = strtoull(optarg, NULL, 10); break;
		case 'Z': zonefile = optarg; break;
		case 'L': namesfile = optarg; break;
		case 'C': credsfile = optarg; break;
		case 'k': tsig = true; break;
		default: usage();
		}
	}
	if (!dir || !zone || n == 0 || batch == 0 || nvalues > MAX_VALUES || optind != argc)
		usage();
	rng_state = seed;

	uint8_t apex[ACM_DNAME_MAX];
	if (acm_dname_from_text(zone, apex) < 0)
		die("zone name", ACM_EBADNAME);
	char apex_text[ACM_DNAME_TXT_MAX];
	acm_dname_to_text(apex, apex_text);

	acm_store_opts_t so = { .mapsize = (size_t)16 << 30 };
	acm_store_t *store;
	int rc = acm_store_open(dir, apex, &so, &store);
	if (rc != ACM_OK)
		die(dir, rc);

	FILE *zf = open_out(zonefile), *nf = open_out(namesfile), *cf = open_out(credsfile);
	/* The records are written as they are stored; the SOA (which needs the
	 * final serial) goes into a separate head file joined at the end. */
	char zbody[4096] = "";
	if (zf && snprintf(zbody, sizeof(zbody), "%s.body", zonefile) >= (int)sizeof(zbody))
		die("zone file name", ACM_ERANGE);
	FILE *zb = zf ? open_out(zbody) : NULL;

	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	uint32_t serial = 0;
	uint64_t now = (uint64_t)time(NULL);
	for (unsigned long done = 0; done < n;) {
		acm_wtxn_t *w;
		if ((rc = acm_store_write_begin(store, &w)) != ACM_OK)
			die("write begin", rc);
		acm_wtxn_set_actor(w, "bench", "local");
		unsigned long end = done + batch < n ? done + batch : n;
		for (; done < end; done++) {
			acm_account_t acc;
			char key[ACM_PASSWORD_LEN + 1];
			memset(&acc, 0, sizeof(acc));
			uuid(acc.subdomain);
			uuid(acc.username);
			b64str(key, ACM_PASSWORD_LEN);
			if ((rc = acm_key_hash(key, ACM_PASSWORD_LEN, acc.key_hash)) != ACM_OK)
				die("key hash", rc);
			acc.key_scheme = ACM_KEY_SHA256;
			acc.created = acc.updated = now;
			if (tsig && (rc = acm_account_tsig_new(&acc, ACM_TSIG_HMAC_SHA256)) != ACM_OK)
				die("tsig key", rc);
			rc = acm_wtxn_account_create(w, &acc);
			if (rc != ACM_OK)
				die("account create", rc);
			for (unsigned long v = 0; v < nvalues; v++) {
				char val[VALUE_LEN + 1];
				b64str(val, VALUE_LEN);
				if ((rc = acm_wtxn_txt_add(w, acc.subdomain, val, VALUE_LEN, 0)) != ACM_OK)
					die("txt add", rc);
				if (zb)
					fprintf(zb, "%s 1 IN TXT \"%s\"\n", acc.subdomain, val);
			}
			if (nf)
				fprintf(nf, "%s\n", acc.subdomain);
			if (cf)
				fprintf(cf, "%s %s %s\n", acc.username, key, acc.subdomain);
		}
		if ((rc = acm_store_write_commit(w, &serial)) != ACM_OK)
			die("commit", rc);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (rc == ACM_OK && acm_store_serial(store, &serial) != ACM_OK)
		serial = 1;
	acm_store_close(store);

	if (zf) {
		fclose(zb);
		fprintf(zf, "$ORIGIN %s\n", apex_text);
		fprintf(zf, "@ 3600 IN SOA ns1.%s hostmaster.%s %u 3600 600 604800 60\n",
		        apex_text, apex_text, serial);
		fprintf(zf, "@ 3600 IN NS ns1.%s\n", apex_text);
		fprintf(zf, "ns1 3600 IN A 127.0.0.1\n");
		/* Append the records written meanwhile. */
		FILE *in = fopen(zbody, "r");
		char buf[65536];
		size_t got;
		if (!in) {
			fprintf(stderr, "load_store: %s: %s\n", zbody, strerror(errno));
			return 1;
		}
		while ((got = fread(buf, 1, sizeof(buf), in)) > 0)
			if (fwrite(buf, 1, got, zf) != got)
				return 1;
		fclose(in);
		unlink(zbody);
		if (fclose(zf) != 0)
			return 1;
	}
	if (nf && fclose(nf) != 0)
		return 1;
	if (cf && fclose(cf) != 0)
		return 1;
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("{\"names\": %lu, \"values_per_name\": %lu, \"batch\": %lu, \"serial\": %u, "
	       "\"load_seconds\": %.3f}\n", n, nvalues, batch, serial, secs);
	return 0;
}
