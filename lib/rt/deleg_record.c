/* SPDX-License-Identifier: ISC */
/*
 * The stored last check of an account, named (lib/rt/deleg_record.h): the
 * store keeps the status as a byte, this file gives it its name.
 */
#include <errno.h>

#include "lib/error.h"
#include "lib/rt/deleg_record.h"

/* The store and this layer must agree on the bytes. */
_Static_assert(ACM_DELEG_STATUS_COUNT <= ACM_DELEG_REC_STATUSES,
               "every status must fit the store's counts");

const char *acm_deleg_rec_status(const acm_deleg_rec_t *rec)
{
	const char *name = acm_deleg_status_name((acm_deleg_status_t)rec->status);
	return name ? name : "unknown";
}

json_t *acm_deleg_rec_json(const acm_deleg_rec_t *rec)
{
	return json_pack("{s:I, s:s, s:b}", "checked", (json_int_t)rec->checked, "status",
	                 acm_deleg_rec_status(rec), "secure", rec->secure);
}

int acm_deleg_last_json(acm_store_t *store, const char *subdomain, json_t **out)
{
	acm_deleg_rec_t rec;
	int rc = acm_store_deleg_get(store, subdomain, &rec);

	*out = NULL;
	if (rc == ACM_ENOTFOUND)
		*out = json_null();
	else if (rc == ACM_OK)
		*out = acm_deleg_rec_json(&rec);
	else
		return rc;
	return *out ? ACM_OK : -ENOMEM;
}

int acm_deleg_counts(acm_store_t *store, uint64_t counts[ACM_DELEG_STATUS_COUNT])
{
	return acm_store_deleg_counts(store, counts, ACM_DELEG_STATUS_COUNT);
}
