/* SPDX-License-Identifier: ISC */
/*
 * The delegation check's status names (delegation.h), built with or
 * without libunbound: the API, the store and acmensctl name statuses even
 * where nothing can be checked.
 */
#include <string.h>

#include "lib/rt/delegation.h"

static const char *const names[ACM_DELEG_STATUS_COUNT] = {
	[ACM_DELEG_OK] = "ok",
	[ACM_DELEG_MISSING] = "missing",
	[ACM_DELEG_NOT_DELEGATED] = "not_delegated",
	[ACM_DELEG_WRONG_TARGET] = "wrong_target",
	[ACM_DELEG_LOOP] = "loop",
	[ACM_DELEG_BOGUS] = "bogus",
	[ACM_DELEG_SERVFAIL] = "servfail",
	[ACM_DELEG_TIMEOUT] = "timeout",
};

const char *acm_deleg_status_name(acm_deleg_status_t s)
{
	if ((unsigned)s >= ACM_DELEG_STATUS_COUNT)
		return NULL;
	return names[s];
}

int acm_deleg_status_parse(const char *name)
{
	for (int i = 0; name && i < ACM_DELEG_STATUS_COUNT; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return -1;
}
