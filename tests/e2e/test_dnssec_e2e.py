# SPDX-License-Identifier: ISC
"""A certificate issued through acmens with DNSSEC validated all the way:
the CA's resolver is a validating unbound, the customer's zone is signed by
Knot DNS (automatic signing, a CSK of its own) and acmens's zone by acmensd
(online signing, dnssec.enabled).

    lego --dns exec (validated_by.py)  --POST /update-->  acmensd (auth.example.org., signed)
      |  ACME (TLS)                                          ^
      v                                                      |  stub
    pebble --DNS-01-->  unbound, the CA's (validating: a DS for each zone)
                           |  stub                     (lego looks up through
                           v                            an unbound of its own)
                         knotd (example.test., signed: _acme-challenge CNAME
                                <sub>.auth.example.org.)

Each unbound has a trust anchor for each zone (the DS a parent would hold,
made from the DNSKEYs the servers publish at start) and no root: both
zones are islands of trust. The witness asks the CA's unbound, with DO,
for the challenge the moment /update has answered: the answer must carry
AD, the value and its RRSIG. The negative control gives unbound a DS that
matches no key of acmens's zone: then nothing under it validates
(SERVFAIL), while the customer's zone still does.

Skipped when any of knotd, unbound, pebble, lego or openssl is missing."""

import json
import os

import dns.flags
import dns.rcode
import dns.rdatatype
import pytest

from conftest import (KNOTD, LEGO, OPENSSL, PEBBLE, UNBOUND, ZONE, Knot, Pebble, Unbound,
                      have, start_http, value)
from dnssec_peers import ds_anchors, knot_signing, wrong_anchor
from test_lego_acmedns import DOMAIN, Stack, check_issued, customer_zone, exec_env

pytestmark = pytest.mark.skipif(not have(KNOTD, LEGO, OPENSSL, PEBBLE, UNBOUND),
                                reason="knotd, unbound, pebble, lego or openssl missing")

WITNESS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "validated_by.py")
CHALLENGE = f"_acme-challenge.{DOMAIN}."


def dnssec_config(algorithm="ecdsap256sha256"):
    """acmensd's dnssec section (top level, after dns's settings)."""
    return f"dnssec:\n  enabled: true\n  algorithm: {algorithm}\n"


def validated(r):
    return r.rcode() == dns.rcode.NOERROR and bool(r.flags & dns.flags.AD)


def rrsets(r, rdtype):
    return [rrset for rrset in r.answer if rrset.rdtype == rdtype]


class Peers:
    """acmensd signing its zone with an account, the customer's knotd
    signing example.test., and the trust anchors of both zones."""

    def __init__(self, tmp, api, acct, knot):
        self.tmp, self.api, self.srv, self.acct, self.knot = tmp, api, api.server, acct, knot
        self.anchors = {DOMAIN + ".": ds_anchors(knot.port, DOMAIN + "."),
                        ZONE: ds_anchors(self.srv.port, ZONE)}
        assert all(self.anchors.values()), self.anchors

    def resolver(self, daemons, name="unbound", anchors=None):
        """A validating unbound for both zones (stubs to both servers)."""
        return daemons(Unbound(self.tmp / name,
                               {DOMAIN + ".": self.knot.port, ZONE: self.srv.port},
                               anchors=anchors or self.anchors))

    def logs(self, *more):
        return "".join(f"\n--- {getattr(d, 'name', 'acmensd')}:\n{d.read_log()[-5000:]}"
                       for d in (self.srv, self.knot, *more))


@pytest.fixture
def peers(tmp_path, make_server, daemons):
    api = start_http(make_server, zone={"extra_dns": dnssec_config()})
    acct = api.register(path="/register")
    del acct["headers"]                 # the reply as acme-dns clients store it
    extra, zone_extra = knot_signing()
    knot = daemons(Knot(tmp_path / "knot", customer_zone(acct["fulldomain"]),
                        zone=DOMAIN + ".", extra=extra, zone_extra=zone_extra))
    return Peers(tmp_path, api, acct, knot)


def test_issuance_validated_end_to_end(peers, daemons, test_ca):
    # Two validating resolvers, as in real life: lego's (its zone lookups
    # and pre-checks) and the CA's (pebble's, and the witness's). A
    # validating resolver may deny TXT at a name from a cached NSEC that
    # any earlier query there brought back (docs/dnssec.md): so the
    # CA's resolver must not share lego's lookups made before the value.
    client = peers.resolver(daemons, "unbound-client")
    ca = peers.resolver(daemons, "unbound-ca")
    full = peers.acct["fulldomain"] + "."

    # Before any value: the CNAME validates in the customer's zone, and the
    # NODATA at the account's name (compact denial) validates in acmens's.
    r = client.query(CHALLENGE, "TXT", dnssec=True)
    assert validated(r), (r, peers.logs(client))
    assert [rd.target.to_text() for rrset in rrsets(r, dns.rdatatype.CNAME)
            for rd in rrset] == [full]
    assert rrsets(r, dns.rdatatype.TXT) == []

    pebble = daemons(Pebble(peers.tmp / "pebble", test_ca, ca.port))
    (peers.tmp / "acmedns.json").write_text(json.dumps({DOMAIN: peers.acct}))
    stack = Stack(peers.tmp, peers.api, peers.acct, peers.knot, client, pebble, test_ca)
    witness = peers.tmp / "validated_by.jsonl"
    env = exec_env(stack, WITNESS, EXEC_SEQUENCE_INTERVAL="1", EXEC_POLLING_INTERVAL="1",
                   EXEC_PROPAGATION_TIMEOUT="30", VALIDATED_BY_PORT=str(ca.port),
                   VALIDATED_BY_NAME=CHALLENGE, VALIDATED_BY_OUT=str(witness))
    p = stack.lego("exec", env)
    check_issued(stack, p)

    # Each value, the moment /update answered, came through the CA's
    # validating resolver authenticated (AD) with its signature.
    seen = [json.loads(line) for line in witness.read_text().splitlines()]
    assert len(seen) == 2 and seen[0]["value"] != seen[1]["value"], seen
    assert all(s.get("rcode") == "NOERROR" and s["ad"] and s["served"] and s["signed"]
               for s in seen), (seen, peers.logs(ca))

    # and both values together, after the order
    r = ca.query(CHALLENGE, "TXT", dnssec=True)
    assert validated(r), r
    assert sorted(b"".join(rd.strings).decode() for rrset in rrsets(r, dns.rdatatype.TXT)
                  for rd in rrset) == sorted(s["value"] for s in seen)


def test_wrong_anchor_for_acmens_zone_fails_validation(peers, daemons):
    """The control: the same answers do not validate against a DS of no
    key of acmens's zone, so the AD above is the signatures' doing."""
    r = peers.api.call("POST", "/update", {"subdomain": peers.acct["subdomain"],
                                           "txt": value(1)},
                       headers={"X-Api-User": peers.acct["username"],
                                "X-Api-Key": peers.acct["password"]})
    assert r.status_code == 200, r.text
    good = peers.resolver(daemons)
    r = good.query(CHALLENGE, "TXT", dnssec=True)
    assert validated(r) and rrsets(r, dns.rdatatype.TXT), (r, peers.logs(good))

    anchors = dict(peers.anchors, **{ZONE: [wrong_anchor(a) for a in peers.anchors[ZONE]]})
    bad = peers.resolver(daemons, "unbound-wrong", anchors)
    for name in (CHALLENGE, peers.acct["fulldomain"] + "."):
        r = bad.query(name, "TXT", dnssec=True)
        assert r.rcode() == dns.rcode.SERVFAIL, (name, r, peers.logs(bad))
    # the customer's zone alone still validates there
    r = bad.query(DOMAIN + ".", "SOA", dnssec=True)
    assert validated(r), (r, peers.logs(bad))
    assert "validation failure" in bad.read_log(), bad.read_log()[-3000:]
