/* SPDX-License-Identifier: ISC */
/*
 * One error space for all of acmens: 0 is success, negative errno values
 * pass through unchanged, and acmens' own codes start at -1000. Foreign
 * codes (LMDB, OpenSSL, libyaml) are mapped where they enter, once.
 */
#ifndef ACM_ERROR_H
#define ACM_ERROR_H

enum {
	ACM_OK = 0,
	ACM_ERROR = -1000,   /* unspecified failure */
	ACM_ENOTFOUND,       /* no such account or name */
	ACM_EEXIST,          /* value or account already present */
	ACM_EFULL,           /* the name already holds the maximum number of values */
	ACM_EABSENT,         /* the value to remove is not there */
	ACM_ESTORE,          /* the store failed (I/O, LMDB internal error) */
	ACM_ESTOREFULL,      /* the store reached its map size */
	ACM_ECORRUPT,        /* a stored record does not decode */
	ACM_ESCHEMA,         /* the store has an unknown schema version */
	ACM_EZONE,           /* the store belongs to another zone */
	ACM_ELOCKED,         /* another acmensd holds the store */
	ACM_EBADNAME,        /* not a valid domain name or label */
	ACM_EBADVALUE,       /* not a valid TXT value */
	ACM_ECONFIG,         /* invalid configuration */
	ACM_EMALF,           /* malformed wire data */
	ACM_ETRAIL,          /* trailing data after a message */
	ACM_ESPACE,          /* output buffer too small */
	ACM_ERANGE,          /* number out of range */
	ACM_ECRYPTO,         /* the crypto library failed */
	ACM_EUNMET,          /* a prerequisite of an update does not hold */
	ACM_EACCOUNTCAP,     /* the store holds store.max_accounts accounts */
	ACM_EPANIC,          /* the store's environment is unusable after a failed write */
	ACM_EREMAP,          /* another process grew the store's map past this process's */
	ACM_ETRUNCATED,      /* the store's data file is shorter than its pages */
	ACM_EDAMAGED,        /* the store's data file is not a sound LMDB file */
	ACM_ECREDS,          /* the account's key or state changed since its credentials were checked */
	ACM_ERROR_LAST
};

/* Text for any acmens error code (own or -errno); never NULL. */
const char *acm_strerror(int code);

#endif
