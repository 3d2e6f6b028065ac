# SPDX-License-Identifier: ISC
"""A secondary that signs: Knot DNS transfers acmens's zone (TSIG, NOTIFY,
as in test_secondaries.py) and signs its answers itself with
mod-onlinesign and acmens's own key, exported with `acmensctl dnssec
export-key` and imported with `keymgr import-pem`. A validating unbound
that asks only the secondary, with the DS of acmens's key as its trust
anchor, authenticates what acmens wrote: a TXT value, a name that does not
exist, a type that does not exist at a name. One DS at the parent serves
the primary and the secondary alike. docs/dnssec.md ("Secondaries")
says what knotd does with the DNSKEY a transfer brings along, and the
limits.

Skipped when knotd, keymgr or unbound is missing."""

import os
import stat
import time

import dns.dnssec
import dns.flags
import dns.rcode
import dns.rdatatype
import pytest

from conftest import (HAVE_KNOTD, UNBOUND, ZONE, Unbound, free_port, have, register_secret,
                      start_http, transfer_config, value, wait_for)
from dnssec_peers import KEYMGR, OnlineSignSecondary, ask, dnskeys, ds_anchors, wrong_anchor
from test_dnssec_e2e import dnssec_config, rrsets, validated

pytestmark = pytest.mark.skipif(not (HAVE_KNOTD and have(KEYMGR, UNBOUND)),
                                reason="knotd, keymgr or unbound missing")


class Signing:
    """acmensd signing its zone, the knotd secondary signing with the same
    key, and the DS of that key."""

    def __init__(self, tmp, api, knot, tag):
        self.tmp, self.api, self.srv, self.knot, self.tag = tmp, api, api.server, knot, tag
        self.anchors = ds_anchors(self.srv.port, ZONE)

    def resolver(self, daemons, name, anchors):
        """A validating unbound whose only server for the zone is knotd."""
        return daemons(Unbound(self.tmp / name, {ZONE: self.knot.port}, anchors={ZONE: anchors}))

    def synced(self, timeout=10.0):
        serial = self.srv.serial()
        deadline = time.time() + timeout
        while self.knot.serial() != serial:
            assert time.time() < deadline, (serial, self.knot.serial(), self.knot.read_log())
            time.sleep(0.05)

    def logs(self, *more):
        return "".join(f"\n--- {getattr(d, 'name', 'acmensd')}:\n{d.read_log()[-5000:]}"
                       for d in (self.srv, self.knot, *more))


def export_key(srv, tag, path):
    """acmensctl dnssec export-key: the file is new, 0600, PKCS#8 PEM; its
    body is registered as a secret, never to be seen in acmensd's log."""
    srv.ctl("dnssec", "export-key", str(tag), "--out", path, json_out=False)
    mode = stat.S_IMODE(os.stat(path).st_mode)
    assert mode == 0o600, oct(mode)
    with open(path) as f:
        pem = f.read()
    assert pem.startswith("-----BEGIN PRIVATE KEY-----\n"), pem[:40]
    for line in pem.splitlines()[1:-1]:
        register_secret(line)


@pytest.fixture
def signing(tmp_path, make_server, daemons):
    knot_port = free_port()
    api = start_http(make_server, admin_token=None, register_rate=0,
                     zone={"extra_dns": transfer_config([knot_port], 8) + dnssec_config()})
    srv = api.server
    keys = dnskeys(srv.port, ZONE)
    assert len(keys) == 1, keys       # the key acmensd made at start
    tag = dns.dnssec.key_id(keys[0])
    pem = str(tmp_path / "acmens-key.pem")
    export_key(srv, tag, pem)
    knot = daemons(OnlineSignSecondary(tmp_path / "knotd", knot_port, srv.port, pem), timeout=15)
    st = Signing(tmp_path, api, knot, tag)
    st.synced()
    return st


def test_secondary_signs_with_acmens_key(signing, daemons):
    st = signing
    acct = st.api.register()
    r = st.api.call("POST", f"/v1/accounts/{acct['subdomain']}/txt", {"value": value(7)},
                    headers=acct["headers"])
    assert r.status_code == 201, r.text
    st.synced()
    full = acct["fulldomain"] + "."

    # knotd signs with acmens's key: the same tag as acmensd's DNSKEY
    direct = ask(st.knot.port, full, "TXT")
    assert {rd.key_tag for rrset in rrsets(direct, dns.rdatatype.RRSIG) for rd in rrset} == \
        {st.tag}, direct

    unbound = st.resolver(daemons, "unbound", st.anchors)
    r = unbound.query(full, "TXT", dnssec=True)
    assert validated(r), (r, st.logs(unbound))
    assert [b"".join(rd.strings).decode() for rrset in rrsets(r, dns.rdatatype.TXT)
            for rd in rrset] == [value(7)]

    # A name that does not exist and a type that does not exist at a name
    # are authenticated denials (knotd's answer for the first is a NODATA
    # at the name: no NXDOMAIN with online signing).
    for name, rdtype in (("no-such-name." + ZONE, "TXT"), (full, "A"), (ZONE, "TXT")):
        r = unbound.query(name, rdtype, dnssec=True)
        assert bool(r.flags & dns.flags.AD) and r.rcode() in (dns.rcode.NOERROR,
                                                              dns.rcode.NXDOMAIN), \
            (name, rdtype, r, st.logs(unbound))
        assert r.answer == [], (name, rdtype, r)
    # and the DNSKEY RRset at the apex, whatever the transfer brought
    r = unbound.query(ZONE, "DNSKEY", dnssec=True)
    assert validated(r) and rrsets(r, dns.rdatatype.DNSKEY), (r, st.logs(unbound))


def test_secondary_wrong_anchor_fails(signing, daemons):
    st = signing
    unbound = st.resolver(daemons, "unbound-wrong", [wrong_anchor(a) for a in st.anchors])
    for name, rdtype in ((ZONE, "SOA"), ("no-such-name." + ZONE, "TXT")):
        r = unbound.query(name, rdtype, dnssec=True)
        assert r.rcode() == dns.rcode.SERVFAIL, (name, r, st.logs(unbound))


def rollover_step(st, done):
    """One forced `acmensctl dnssec rollover` step; then until acmensd
    serves it (done() is true: acmensd polls its keys every second) and
    knotd has the zone as it is then."""
    st.srv.ctl("dnssec", "rollover", "--force", json_out=False)
    deadline = time.time() + 5
    while not done():
        assert time.time() < deadline, "acmensd does not serve the rollover's step"
        time.sleep(0.05)
    st.synced()


def tags(port, name, rdtype):
    """Key tags: of the DNSKEYs at name (rdtype DNSKEY), else of the
    RRSIGs in the answer for rdtype."""
    if rdtype == "DNSKEY":
        return {dns.dnssec.key_id(k) for k in dnskeys(port, name)}
    return {rd.key_tag for rrset in rrsets(ask(port, name, rdtype), dns.rdatatype.RRSIG)
            for rd in rrset}


def knot_tags(st, rdtype, want, timeout=5.0):
    """tags() at knotd for the apex, once they are want (or the timeout is
    over): knotd takes a transfer, and its signing module the transferred
    DNSKEYs and imported keys, a moment after the SOA shows the serial."""
    wait_for(lambda: tags(st.knot.port, ZONE, rdtype) == want, timeout, step=0.05)
    return tags(st.knot.port, ZONE, rdtype)


def check_validates(st, unbound, rcode=dns.rcode.NOERROR):
    for name, rdtype in ((ZONE, "DNSKEY"), (ZONE, "SOA"), ("no-such-name." + ZONE, "TXT")):
        r = unbound.query(name, rdtype, dnssec=True)
        ok = r.rcode() == rcode and (rcode != dns.rcode.NOERROR or bool(r.flags & dns.flags.AD))
        assert ok, (name, rdtype, r, st.logs(unbound))


def test_secondary_follows_a_rollover(signing, daemons, tmp_path):
    """The three steps of acmens's rollover with the secondary kept level
    by hand (docs/dnssec.md): nothing at step 1, the new key
    imported before step 2, the old one deleted after step 3. A resolver
    with the old DS validates through step 2, one with both DS (the
    parent's during the change) from the import on, one with the new DS
    alone at the end; one with the old DS alone fails at the end."""
    st = signing
    old = st.tag
    only_old = st.resolver(daemons, "unbound-old", st.anchors)

    # Step 1: a second key published at acmens; knotd answers its own
    # DNSKEY RRset beside the transferred two-key one and still validates.
    rollover_step(st, lambda: len(tags(st.srv.port, ZONE, "DNSKEY")) == 2)
    new = (tags(st.srv.port, ZONE, "DNSKEY") - {old}).pop()
    assert knot_tags(st, "DNSKEY", {old, new}) == {old, new}
    check_validates(st, only_old)

    pem = str(tmp_path / "new-key.pem")
    export_key(st.srv, new, pem)
    st.knot.add_key(pem)
    assert knot_tags(st, "SOA", {old, new}) == {old, new}
    new_ds = ds_anchors(st.srv.port, ZONE)
    assert len(new_ds) == 2
    both = st.resolver(daemons, "unbound-both", new_ds)
    check_validates(st, both)

    # step 2: the new key signs at acmens; step 3: the old key leaves it
    rollover_step(st, lambda: tags(st.srv.port, ZONE, "SOA") == {new})
    check_validates(st, only_old)
    check_validates(st, both)
    rollover_step(st, lambda: tags(st.srv.port, ZONE, "DNSKEY") == {new})
    check_validates(st, both)

    st.knot.delete_key(old)
    assert knot_tags(st, "SOA", {new}) == {new}
    only_new = st.resolver(daemons, "unbound-new", [a for a in new_ds if a.split()[3] == str(new)])
    check_validates(st, only_new)
    check_validates(st, both)
    # a fresh resolver, so nothing it validated before counts
    stale = st.resolver(daemons, "unbound-old-again", st.anchors)
    check_validates(st, stale, dns.rcode.SERVFAIL)
