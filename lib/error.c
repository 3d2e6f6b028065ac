/* SPDX-License-Identifier: ISC */
/* Texts for the acmens error space (see error.h). */
#include <string.h>

#include "lib/error.h"

static const char *const own_errors[] = {
	[0] = "unspecified error",
	[ACM_ENOTFOUND - ACM_ERROR] = "not found",
	[ACM_EEXIST - ACM_ERROR] = "already exists",
	[ACM_EFULL - ACM_ERROR] = "too many values for this name",
	[ACM_EABSENT - ACM_ERROR] = "value not present",
	[ACM_ESTORE - ACM_ERROR] = "store failure",
	[ACM_ESTOREFULL - ACM_ERROR] = "store is full (raise store.max_size)",
	[ACM_ECORRUPT - ACM_ERROR] = "stored record is corrupt",
	[ACM_ESCHEMA - ACM_ERROR] = "store has an unsupported schema version",
	[ACM_EZONE - ACM_ERROR] = "store belongs to another zone",
	[ACM_ELOCKED - ACM_ERROR] = "store is in use by another acmensd",
	[ACM_EBADNAME - ACM_ERROR] = "invalid domain name",
	[ACM_EBADVALUE - ACM_ERROR] = "invalid TXT value",
	[ACM_ECONFIG - ACM_ERROR] = "invalid configuration",
	[ACM_EMALF - ACM_ERROR] = "malformed data",
	[ACM_ETRAIL - ACM_ERROR] = "trailing data",
	[ACM_ESPACE - ACM_ERROR] = "not enough space",
	[ACM_ERANGE - ACM_ERROR] = "value out of range",
	[ACM_ECRYPTO - ACM_ERROR] = "crypto library failure",
	[ACM_EUNMET - ACM_ERROR] = "prerequisite not met",
	[ACM_EACCOUNTCAP - ACM_ERROR] = "account cap reached (raise store.max_accounts)",
	[ACM_EPANIC - ACM_ERROR] = "store unusable after a failed write (restart to reopen it)",
	[ACM_EREMAP - ACM_ERROR] = "another process grew the store past this process's store.max_size (restart to map it whole)",
	[ACM_ETRUNCATED - ACM_ERROR] = "store data file is truncated",
	[ACM_EDAMAGED - ACM_ERROR] = "store data file is damaged (bad LMDB meta page)",
	[ACM_ECREDS - ACM_ERROR] = "the account's key was changed or the account disabled since the credentials were checked",
};

const char *acm_strerror(int code)
{
	if (code == ACM_OK)
		return "ok";
	if (code >= ACM_ERROR && code < ACM_ERROR_LAST) {
		const char *s = own_errors[code - ACM_ERROR];
		return s ? s : "unknown error";
	}
	if (code < 0 && code > -4096)
		return strerror(-code);
	return "unknown error";
}
