/* SPDX-License-Identifier: ISC */
/*
 * Recording an answered query in the lookup log (lib/rt/lookup_log.h): into
 * this worker's own ring, copying bytes only, so the query path takes no
 * lock and allocates nothing.
 */
#include <string.h>

#include "dnsd/worker.h"
#include "lib/rt/lookup_log.h"

/* The text of each TXT value kept (its first character-string), cut to
 * what the log keeps; the slots after them read as empty. */
static void copy_values(acm_lookup_t *e, const acm_answer_info_t *info)
{
	_Static_assert(ACM_LOOKUP_VALUES <= ACM_ANSWER_TXT_KEEP, "values the answer keeps");
	size_t n = info->txt_count < ACM_LOOKUP_VALUES ? info->txt_count : ACM_LOOKUP_VALUES;
	e->nvalues = info->txt_count > UINT8_MAX ? UINT8_MAX : (uint8_t)info->txt_count;
	memset(e->value_len, 0, sizeof(e->value_len));
	memset(e->value_cut, 0, sizeof(e->value_cut));
	for (size_t i = 0; i < n; i++) {
		/* rdata is never empty (acm_rr_iter_next checks it) */
		size_t len = info->txt[i][0];
		if (len > (size_t)info->txt_len[i] - 1)
			len = (size_t)info->txt_len[i] - 1;
		e->value_cut[i] = len > ACM_LOOKUP_VALUE_MAX;
		e->value_len[i] = (uint8_t)(len > ACM_LOOKUP_VALUE_MAX ? ACM_LOOKUP_VALUE_MAX : len);
		memcpy(e->values[i], info->txt[i] + 1, e->value_len[i]);
	}
}

void acm_worker_log_lookup(acm_worker_t *w, const acm_query_t *q, const acm_answer_info_t *info,
                           bool tcp, const struct sockaddr *peer)
{
	/* Only names of the zone: a REFUSED query is someone else's name. */
	if (!q->has_question || info->rcode == ACM_RCODE_REFUSED)
		return;
	acm_lookup_t *e = acm_lookup_log_begin(w->lookups, w->index);
	if (!e)
		return;
	e->time_ns = w->wall_ns;
	acm_lookup_set_source(e, peer);
	e->tcp = tcp;
	e->edns = q->edns ? q->edns_size : 0;
	e->qtype = q->qtype;
	e->rcode = (uint8_t)info->rcode;
	e->qname_len = (uint8_t)q->qname_len;
	memcpy(e->qname, q->qname, q->qname_len);
	copy_values(e, info);
	acm_lookup_log_commit(w->lookups, w->index);
}
