/* SPDX-License-Identifier: ISC */
/*
 * The dnssec: section's own rules: the algorithm by its name, and the
 * signature refresh within the validity. The refresh's default follows a
 * shorter validity (half of it), so that setting the validity alone never
 * makes the file wrong.
 */
#include <stdio.h>

#include "lib/conf/config_int.h"
#include "lib/dns/dnssec.h"
#include "lib/error.h"

#define REFRESH_DEFAULT (7 * 86400u)

int acm_cfg_dnssec_algorithm(struct loader *ld, const struct opt *o, yaml_node_t *value,
			     unsigned line)
{
	char shown[ACM_CFG_WRITTEN_MAX];
	const char *text = acm_cfg_scalar(value);
	uint8_t alg;

	if (text && acm_dnssec_algorithm_parse(text, &alg) == ACM_OK) {
		ld->cfg->dnssec.algorithm = alg;
		return ACM_OK;
	}
	return acm_cfg_fail(ld, line, o->path, "expected one of ecdsap256sha256, ed25519 (got %s)",
			    acm_cfg_written(value, shown, sizeof(shown)));
}

int acm_cfg_check_dnssec(struct loader *ld)
{
	acm_config_t *c = ld->cfg;
	uint32_t validity = c->dnssec.signature_validity;
	unsigned line = acm_config_line(c, "dnssec.signature_refresh");

	if (!c->dnssec.algorithm)
		c->dnssec.algorithm = ACM_DNSSEC_ALG_ECDSAP256SHA256;
	if (!line) {
		c->dnssec.signature_refresh = validity / 2 < REFRESH_DEFAULT ? validity / 2
									     : REFRESH_DEFAULT;
		return ACM_OK;
	}
	if (c->dnssec.signature_refresh + ACM_CFG_SIG_GAP > validity)
		return acm_cfg_fail(ld, line, "dnssec.signature_refresh",
				    "expected at most dnssec.signature_validity - %u (%u; got %u)",
				    ACM_CFG_SIG_GAP, validity - ACM_CFG_SIG_GAP,
				    c->dnssec.signature_refresh);
	return ACM_OK;
}
