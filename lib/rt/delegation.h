/* SPDX-License-Identifier: ISC */
/*
 * "Will this renewal validate?": resolve _acme-challenge.DOMAIN the way a
 * CA does (libunbound: iterating from the root, or through the configured
 * resolvers; DNSSEC validated against the configured trust anchors),
 * follow its CNAME chain one link at a time and say where it ends, for one
 * account of the zone. Many checks run at once on one resolver context,
 * which its owner drives from its own event loop: watch acm_deleg_fd(),
 * call acm_deleg_process() when it is readable and acm_deleg_expire() when
 * the deadline it returned comes. Every function is called on the owner's
 * thread; results come back through the callback, from process or expire
 * only, never from inside acm_deleg_start.
 *
 * Built with libunbound only (HAVE_LIBUNBOUND); without it acm_deleg_new
 * returns -ENOTSUP and the callers answer 501 / say so.
 */
#ifndef ACM_RT_DELEGATION_H
#define ACM_RT_DELEGATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/conf/config.h"
#include "lib/dns/dname.h"

#define ACM_DELEG_MAX_LINKS 8      /* CNAMEs followed before "loop" */
#define ACM_DELEG_MAX_VALUES 8     /* values_visible kept */
#define ACM_DELEG_VALUE_MAX 256    /* one TXT value, text, NUL included */
#define ACM_DELEG_REASON_MAX 256

/* In the order of the API's and the metrics' names; stored as a byte. */
typedef enum {
	ACM_DELEG_OK = 0,          /* the chain ends at the account's name or its _acme-challenge name */
	ACM_DELEG_MISSING,         /* NXDOMAIN, or neither CNAME nor TXT at _acme-challenge.DOMAIN */
	ACM_DELEG_NOT_DELEGATED,   /* TXT records at _acme-challenge.DOMAIN instead of a CNAME */
	ACM_DELEG_WRONG_TARGET,    /* the chain ends elsewhere (target names where) */
	ACM_DELEG_LOOP,            /* a name came back, or more than ACM_DELEG_MAX_LINKS links */
	ACM_DELEG_BOGUS,           /* DNSSEC validation failed (reason: unbound's why_bogus) */
	ACM_DELEG_SERVFAIL,        /* the resolver could not answer (reason says what) */
	ACM_DELEG_TIMEOUT,         /* no answer within delegation.timeout */
	ACM_DELEG_STATUS_COUNT
} acm_deleg_status_t;

/* "ok", "missing", "not_delegated", "wrong_target", "loop", "bogus",
 * "servfail", "timeout"; NULL out of range. */
const char *acm_deleg_status_name(acm_deleg_status_t s);
/* The status of a name above, or -1. */
int acm_deleg_status_parse(const char *name);

typedef struct {
	acm_deleg_status_t status;
	char domain[ACM_DNAME_TXT_MAX];      /* as asked, lower case, no final dot */
	char subdomain[ACM_LABEL_MAX + 1];   /* the account checked */
	/* The names resolved, no final dot: chain[0] is _acme-challenge.DOMAIN,
	 * chain[i + 1] the target of chain[i]'s CNAME. */
	char chain[ACM_DELEG_MAX_LINKS + 1][ACM_DNAME_TXT_MAX];
	size_t chain_len;
	bool secure;                         /* every answer on the way validated (but those
	                                      * from this zone, not the customer's to sign) */
	char target[ACM_DNAME_TXT_MAX];      /* wrong_target: where the chain ends */
	bool target_is_account;              /* wrong_target: at another account of this zone */
	char reason[ACM_DELEG_REASON_MAX];   /* bogus, servfail, loop: why, in words */
	/* ok: the TXT values at the chain's end as the resolver sees them. */
	size_t value_count;
	char values[ACM_DELEG_MAX_VALUES][ACM_DELEG_VALUE_MAX];
	uint64_t checked;                    /* when it ended, Unix seconds */
	uint32_t ms;                         /* how long it took */
} acm_deleg_result_t;

/* Called once per started check; r lives until the callback returns. */
typedef void (*acm_deleg_done_fn)(void *arg, const acm_deleg_result_t *r);
/* Whether LABEL (lower case) is an account of this zone: asked on the
 * owner's thread when a chain ends inside the zone at a name that is not
 * the checked account's. */
typedef bool (*acm_deleg_is_account_fn)(void *arg, const char *label);

typedef struct acm_deleg acm_deleg_t;

/* A resolver context after cfg->delegation (resolvers, trust_anchor_file,
 * root_hints, timeout, concurrency) for the zone cfg names. ACM_OK and
 * *out; -ENOTSUP without libunbound; -EINVAL with err (a resolver address
 * or the trust anchor file refused, in the operator's words with
 * libunbound's text after them); -ENOMEM. */
int acm_deleg_new(const acm_config_t *cfg, acm_deleg_is_account_fn is_account,
                  void *is_account_arg, acm_deleg_t **out, char *err, size_t errlen);
/* Cancels what runs, without callbacks. NULL: nothing. */
void acm_deleg_free(acm_deleg_t *d);

/* The descriptor to watch for readability. */
int acm_deleg_fd(const acm_deleg_t *d);
/* Start checking DOMAIN (text, final dot optional) for the account
 * SUBDOMAIN. ACM_OK; -EINVAL (not a domain name, or not a label);
 * -EBUSY (delegation.concurrency checks run: try again after a result);
 * -ENOMEM; -EIO (libunbound took no question). */
int acm_deleg_start(acm_deleg_t *d, const char *domain, const char *subdomain,
                    acm_deleg_done_fn done, void *arg);
/* When the descriptor is readable: take the resolver's answers, go on
 * with the chains, report what ended. ACM_OK or -EIO. */
int acm_deleg_process(acm_deleg_t *d);
/* End as timeout the checks started more than delegation.timeout before
 * now_ms (acm_boot_ms()). Milliseconds until the next deadline, or -1
 * when nothing runs. */
int64_t acm_deleg_expire(acm_deleg_t *d, uint64_t now_ms);
/* Checks running. */
size_t acm_deleg_running(const acm_deleg_t *d);

#endif
