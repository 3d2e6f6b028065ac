/* SPDX-License-Identifier: ISC */
/*
 * The server's side of the delegation checks requests wait for (http.h,
 * acm_req_deleg_check): one resolver context per HTTP thread, made when the
 * server starts from the configuration's delegation section. HTTP thread
 * only, once the server runs.
 */
#ifndef ACM_HTTPAPI_DELEG_WAIT_H
#define ACM_HTTPAPI_DELEG_WAIT_H

#include <event2/event.h>

#include "httpapi/server_int.h"

/* The context and its events on base. A resolver that cannot be made
 * (-ENOTSUP without libunbound, a refused resolver address or trust anchor,
 * logged once here) leaves the checks unavailable, not the server: ACM_OK
 * and *out in those cases too; -ENOMEM. */
int acm_deleg_env_new(const acm_config_t *cfg, struct event_base *base, acm_store_t *store,
                      acm_deleg_env_t **out);
/* The server stops: cancel every check and end the requests waiting for
 * one (their result: -ESHUTDOWN), so the drain need not wait for the
 * resolver; checks asked for afterwards are refused the same way. */
void acm_deleg_env_stop(acm_deleg_env_t *e);
/* Cancels the checks running, without waking their requests: only once no
 * request waits (the server's drain). NULL: nothing. */
void acm_deleg_env_free(acm_deleg_env_t *e);

#endif
