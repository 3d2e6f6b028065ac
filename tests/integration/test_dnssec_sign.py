# SPDX-License-Identifier: ISC
"""Signed answers from a live acmensd (dnssec.enabled: true).

dnspython's dns.dnssec checks every RRSIG of the answers to the
differential corpus of test_knot_diff.py (asked with DO) against the zone's
DNSKEY; compact denial (RFC 9824) is checked for its shapes; answers
without DO are compared byte for byte with the same store served with
dnssec off; a validating Unbound, given the zone's DS as its trust anchor,
sets AD on values, negative answers and CNAME chains, also across a key
rollover driven by acmensctl, and fails with a wrong anchor.
"""

import os
import re
import signal
import socket
import time

import dns.dnssec
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdatatype
import pytest

from conftest import (ZONE, BASE_RECORDS, _server_factory, recv_tcp_msg, start_http, tcp_frame,
                      value, wait_for)
from deleg_peers import Unbound
from test_knot_diff import CHAIN_RECORDS, TYPES, corpus_names, fqdn, setup_accounts
from test_api_v1 import txt_path

APEX = dns.name.from_text(ZONE)
ALGORITHMS = ["ecdsap256sha256", "ed25519"]


def dnssec_cfg(algorithm="ecdsap256sha256"):
    # write_config puts extra_dns just before store:, at the top level
    return f"dnssec:\n  enabled: true\n  algorithm: {algorithm}\n"


def ask(srv, name, rdtype, tcp=False, payload=1232, do=True):
    q = dns.message.make_query(name, rdtype, want_dnssec=do, use_edns=0, payload=payload)
    return srv.send(q, tcp=tcp)


def dnskeys(srv):
    r = ask(srv, ZONE, "DNSKEY", tcp=True)
    return {APEX: r.find_rrset(r.answer, APEX, dns.rdataclass.IN, dns.rdatatype.DNSKEY)}


def problems_of(desc, msg, keys):
    """Every RRset of answer and authority has an RRSIG that validates."""
    out = []
    for section in (msg.answer, msg.authority):
        sigs = {(s.name, s.covers): s for s in section if s.rdtype == dns.rdatatype.RRSIG}
        for rrset in section:
            if rrset.rdtype == dns.rdatatype.RRSIG:
                continue
            sig = sigs.get((rrset.name, rrset.rdtype))
            if sig is None:
                out.append(f"{desc}: {rrset.name} {dns.rdatatype.to_text(rrset.rdtype)} unsigned")
                continue
            try:
                dns.dnssec.validate(rrset, sig, keys)
            except dns.dnssec.ValidationFailure as e:
                out.append(f"{desc}: {rrset.name} {dns.rdatatype.to_text(rrset.rdtype)}: {e}")
    return out


def nsec_of(msg):
    found = [r for r in msg.authority if r.rdtype == dns.rdatatype.NSEC]
    assert len(found) == 1, msg
    return found[0]


def bitmap(nsec_rrset):
    """The NSEC's types, as a set of names."""
    types = set()
    for window, bits in nsec_rrset[0].windows:
        for i, byte in enumerate(bits):
            for b in range(8):
                if byte & (0x80 >> b):
                    types.add(dns.rdatatype.to_text(window * 256 + i * 8 + b))
    return types


def successor(name):
    return dns.name.Name((b"\x00",) + name.labels)


# --- the corpus, signed --------------------------------------------------------

@pytest.fixture(scope="module", params=ALGORITHMS)
def corpus(request, tmp_path_factory):
    factory, finish = _server_factory(tmp_path_factory.mktemp("signed"))
    try:
        srv = factory(start=False, extra_dns=dnssec_cfg(request.param))
        accs = setup_accounts(srv)
        recs = [r.format(acc=accs["acc2"], empty=accs["acc0"]) for r in CHAIN_RECORDS]
        srv.reconfigure(records=BASE_RECORDS + recs)
        srv.start()
        time.sleep(2.1)   # the --expires-in 1 values are gone now
        yield srv, corpus_names(accs, True), accs
    finally:
        finish()


def test_corpus_validates(corpus):
    """Every RRset of every answer to the corpus with DO, over UDP (TCP
    when truncated), is signed, and every signature validates."""
    srv, names, _ = corpus
    keys = dnskeys(srv)
    problems, total, signed = [], 0, 0
    for name in names:
        for t in TYPES + ["ANY", "DNSKEY", "CDS", "CDNSKEY", "DS", "NSEC", "RRSIG"]:
            r = ask(srv, fqdn(name), t)
            if r.flags & dns.flags.TC:
                r = ask(srv, fqdn(name), t, tcp=True)
            total += 1
            signed += sum(1 for s in r.answer + r.authority if s.rdtype == dns.rdatatype.RRSIG)
            assert r.rcode() == dns.rcode.NOERROR, f"{name} {t}: {r}"
            problems += problems_of(f"{name} {t}", r, keys)
    assert not problems, f"{len(problems)} in {total} answers:\n" + "\n".join(problems)
    assert signed >= total


def test_dnskey_signed_by_every_key_and_cds(corpus):
    srv, _, _ = corpus
    r = ask(srv, ZONE, "DNSKEY")
    dnskey = r.find_rrset(r.answer, APEX, dns.rdataclass.IN, dns.rdatatype.DNSKEY)
    sig = r.find_rrset(r.answer, APEX, dns.rdataclass.IN, dns.rdatatype.RRSIG,
                       dns.rdatatype.DNSKEY)
    assert {s.key_tag for s in sig} == {dns.dnssec.key_id(k) for k in dnskey}
    soa = ask(srv, ZONE, "SOA").answer[0]
    assert dnskey.ttl == soa.ttl
    cds = ask(srv, ZONE, "CDS").answer[0]
    key = dnskey[0]
    assert cds[0].to_text() == dns.dnssec.make_ds(APEX, key, "SHA256").to_text()
    assert ask(srv, ZONE, "CDNSKEY").answer[0][0].key == key.key
    # without DO the keys are data like any other, and nothing is signed
    plain = ask(srv, ZONE, "DNSKEY", do=False)
    assert [s.rdtype for s in plain.answer] == [dns.rdatatype.DNSKEY]


def test_compact_denial_shapes(corpus):
    srv, _, accs = corpus
    keys = dnskeys(srv)
    # a name that does not exist: NOERROR, NSEC at it {RRSIG NSEC NXNAME}
    for qname in ("nonexistent." + ZONE, "a.b.nonexistent." + ZONE,
                  "below." + accs["acc2"] + "." + ZONE):
        r = ask(srv, qname, "TXT")
        assert r.rcode() == dns.rcode.NOERROR and not r.answer, r
        nsec = nsec_of(r)
        assert nsec.name == dns.name.from_text(qname)
        assert nsec[0].next == successor(nsec.name)
        assert bitmap(nsec) == {"RRSIG", "NSEC", "TYPE128"}
        assert nsec.ttl == 60   # the negative SOA's TTL: min(3600, minimum 60)
        assert not problems_of(qname, r, keys)
    # NODATA: an account without values, one with values (other type),
    # a static name, an empty non-terminal, the apex
    cases = [(accs["acc0"] + "." + ZONE, "TXT", {"RRSIG", "NSEC"}),
             (accs["expired"] + "." + ZONE, "TXT", {"RRSIG", "NSEC"}),
             (accs["acc2"] + "." + ZONE, "A", {"TXT", "RRSIG", "NSEC"}),
             ("mail." + ZONE, "A", {"MX", "RRSIG", "NSEC"}),
             ("deep." + ZONE, "A", {"RRSIG", "NSEC"}),
             (ZONE, "TXT", {"A", "NS", "SOA", "CAA", "DNSKEY", "CDS", "CDNSKEY", "RRSIG",
                            "NSEC"})]
    for qname, t, types in cases:
        r = ask(srv, qname, t)
        assert r.rcode() == dns.rcode.NOERROR and not r.answer, r
        nsec = nsec_of(r)
        assert nsec.name == dns.name.from_text(qname), r
        assert nsec[0].next == successor(nsec.name)
        assert bitmap(nsec) == types, (qname, t)
        assert not problems_of(qname, r, keys)
    # through a CNAME to a name that does not exist: NSEC at the target
    r = ask(srv, "dangling." + ZONE, "A")
    assert r.rcode() == dns.rcode.NOERROR
    assert nsec_of(r).name == dns.name.from_text("nothere." + ZONE)
    assert bitmap(nsec_of(r)) == {"RRSIG", "NSEC", "TYPE128"}
    assert not problems_of("dangling", r, keys)


def test_no_zone_walking(corpus):
    """No NSEC of any answer names another name than its owner's successor."""
    srv, names, _ = corpus
    for name in names:
        for t in ("A", "TXT", "MX"):
            r = ask(srv, fqdn(name), t, tcp=True)
            for rrset in r.authority:
                if rrset.rdtype == dns.rdatatype.NSEC:
                    assert rrset[0].next == successor(rrset.name), r


# --- without DO: byte for byte as with dnssec off ------------------------------

def zero_serial(wire):
    """The message with every SOA serial set to 0 (the zone's digest, and so
    its serial, differs with its keys)."""
    out = bytearray(wire)
    pos = 12
    if int.from_bytes(wire[4:6], "big"):
        pos = skip_name(wire, pos) + 4
    counts = [int.from_bytes(wire[i:i + 2], "big") for i in (6, 8, 10)]
    for _ in range(sum(counts)):
        pos = skip_name(wire, pos)
        rtype = int.from_bytes(wire[pos:pos + 2], "big")
        rdlen = int.from_bytes(wire[pos + 8:pos + 10], "big")
        rd = pos + 10
        if rtype == dns.rdatatype.SOA:
            serial = skip_name(wire, skip_name(wire, rd))
            out[serial:serial + 4] = b"\0\0\0\0"
        pos = rd + rdlen
    return bytes(out)


def skip_name(wire, pos):
    while True:
        n = wire[pos]
        if n >= 0xC0:
            return pos + 2
        if n == 0:
            return pos + 1
        pos += n + 1


def raw(srv, msg, tcp):
    """The response's wire bytes, as sent."""
    return tcp_raw(srv, msg) if tcp else udp_raw(srv, msg)


def udp_raw(srv, msg, sock=None):
    if sock is None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            return udp_raw(srv, msg, s)
    sock.settimeout(2)
    sock.sendto(msg.to_wire(), ("127.0.0.1", srv.port))
    while True:
        data, _ = sock.recvfrom(65535)
        if data[:2] == msg.to_wire()[:2]:
            return data


def tcp_raw(srv, msg):
    s = srv.tcp_connect()
    try:
        s.sendall(tcp_frame(msg.to_wire()))
        return recv_tcp_msg(s)
    finally:
        s.close()


def no_do_queries(names):
    qs = []
    for name in names:
        for t in TYPES + ["ANY", "DS"]:
            for edns in (None, 0):
                kw = {"use_edns": False} if edns is None else {"use_edns": 0, "payload": 1232}
                msg = dns.message.make_query(fqdn(name), t, **kw)
                msg.id = len(qs) + 1
                qs.append((f"{name} {t} edns={edns}", msg))
    return qs


def test_answers_without_do_unchanged(tmp_path):
    factory, finish = _server_factory(tmp_path)
    try:
        srv = factory(start=False, extra_dns=dnssec_cfg())
        accs = setup_accounts(srv)
        recs = [r.format(acc=accs["acc2"], empty=accs["acc0"]) for r in CHAIN_RECORDS]
        srv.reconfigure(records=BASE_RECORDS + recs)
        srv.start()
        time.sleep(2.1)
        qs = no_do_queries(corpus_names(accs, True))
        signed = {(d, tcp): raw(srv, m, tcp) for d, m in qs for tcp in (False, True)}
        assert ask(srv, ZONE, "SOA").answer[1].rdtype == dns.rdatatype.RRSIG
        srv.stop()
        srv.reconfigure(extra_dns="")
        srv.start()
        assert len(ask(srv, ZONE, "SOA").answer) == 1   # now unsigned
        diff = [f"{d} tcp={tcp}" for d, m in qs for tcp in (False, True)
                if zero_serial(raw(srv, m, tcp)) != zero_serial(signed[(d, tcp)])]
        assert not diff, f"{len(diff)} of {2 * len(qs)} differ:\n" + "\n".join(diff)
    finally:
        finish()


# --- through the API: the very next query --------------------------------------

def metric(api, result):
    import requests
    text = requests.get(api.url + "/metrics", timeout=10).text
    m = re.search(r'^acmens_dnssec_signatures_total\{result="%s"\} (\d+)$' % result, text,
                  re.M)
    assert m, text
    return int(m.group(1))


def signed_account(make_server, first):
    """A signed zone served with its API, its DNSKEYs, and an account that
    holds the value first: (api, srv, keys, acct, its name)."""
    api = start_http(make_server, zone={"extra_dns": dnssec_cfg()})
    acct = api.register()
    r = api.call("POST", txt_path(acct), {"value": first}, acct["headers"])
    assert r.status_code == 201, r.text
    return api, api.server, dnskeys(api.server), acct, acct["fulldomain"] + "."


def test_api_write_served_signed(make_server):
    api, srv, keys, acct, name = signed_account(make_server, "first")
    got = ask(srv, name, "TXT")
    assert [b"".join(rd.strings) for rd in got.answer[0]] == [b"first"]
    assert not problems_of("first", got, keys)
    # the same RRset again, from one socket (so one answering thread, whose
    # cache it is): the first signs or finds it, the second finds it
    q = dns.message.make_query(name, "TXT", want_dnssec=True, use_edns=0, payload=1232)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        first = dns.message.from_wire(udp_raw(srv, q, sock))
        hits, misses = metric(api, "hit"), metric(api, "miss")
        again = dns.message.from_wire(udp_raw(srv, q, sock))
    assert again.answer[1] == first.answer[1]   # the very same signature
    assert metric(api, "hit") == hits + 1 and metric(api, "miss") == misses
    # a second value: a new RRset, signed at once (a miss)
    r = api.call("POST", txt_path(acct), {"value": "second"}, acct["headers"])
    assert r.status_code == 201, r.text
    got = ask(srv, name, "TXT")
    assert sorted(b"".join(rd.strings) for rd in got.answer[0]) == [b"first", b"second"]
    assert not problems_of("second", got, keys)
    assert metric(api, "miss") > misses
    # both deleted: NODATA, the NSEC says the name has nothing
    for v in ("first", "second"):
        r = api.call("DELETE", txt_path(acct) + "/" + v, headers=acct["headers"])
        assert r.status_code == 200, r.text
    got = ask(srv, name, "TXT")
    assert not got.answer and got.rcode() == dns.rcode.NOERROR
    assert bitmap(nsec_of(got)) == {"RRSIG", "NSEC"}
    assert not problems_of("deleted", got, keys)


def test_random_name_flood_with_do(make_server):
    """An attacker asks DO queries for names that do not exist, each one
    new, so that every answer needs a signature of its own (dns.rrl off, as
    the worst case). Afterwards a legitimate client's write is served
    signed and valid within its deadline, the value written before the
    flood is still there, and the flood's answers were signed, not
    skipped."""
    api, srv, keys, acct, name = signed_account(make_server, "before")
    misses = metric(api, "miss")
    sent = answered = 0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.setblocking(False)
        deadline = time.monotonic() + 10
        while sent < 3000 and time.monotonic() < deadline:
            q = dns.message.make_query(f"x{sent}-{os.urandom(4).hex()}.{ZONE}", "TXT",
                                       want_dnssec=True, use_edns=0, payload=1232)
            sock.sendto(q.to_wire(), ("127.0.0.1", srv.port))
            sent += 1
            try:
                while True:
                    sock.recv(65535)
                    answered += 1
            except BlockingIOError:
                pass
    assert sent == 3000 and answered > 0
    # the legitimate client, within its deadline
    start = time.monotonic()
    r = api.call("POST", txt_path(acct), {"value": "after"}, acct["headers"], timeout=5)
    assert r.status_code == 201, r.text
    got = ask(srv, name, "TXT", tcp=True)
    assert time.monotonic() - start < 5
    assert sorted(b"".join(rd.strings) for rd in got.answer[0]) == [b"after", b"before"]
    assert not problems_of("after the flood", got, keys)
    # the flood's denials were each signed (a miss apiece, at least for
    # those answered)
    assert metric(api, "miss") - misses >= answered
    assert srv.proc.poll() is None


# --- UDP sizes -----------------------------------------------------------------

@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_udp_sizes(make_server, algorithm):
    srv = make_server(extra_dns=dnssec_cfg(algorithm), txt_max_values=64)
    sub = srv.register()["subdomain"]
    name = f"{sub}.{ZONE}"
    for i in range(2):
        srv.ctl("txt", "add", sub, "--", value(i))
    m = dns.message.make_query(name, "TXT", want_dnssec=True, use_edns=0, payload=1232)
    wire = udp_raw(srv, m)
    r = dns.message.from_wire(wire)
    assert not r.flags & dns.flags.TC and len(r.answer[0]) == 2
    assert len(wire) < 1232, len(wire)
    for i in range(2, 30):
        srv.ctl("txt", "add", sub, "--", value(i))
    r = dns.message.from_wire(udp_raw(srv, m))
    assert r.flags & dns.flags.TC and not r.answer
    r = ask(srv, name, "TXT", tcp=True)
    assert len(r.answer[0]) == 30
    assert not problems_of("tcp", r, dnskeys(srv))


# --- a validating resolver ----------------------------------------------------

def ds_anchor(srv):
    """The DS the parent would hold: of the key CDS names."""
    cds = ask(srv, ZONE, "CDS").answer[0][0]
    return f"{ZONE} DS {cds.key_tag} {cds.algorithm} {cds.digest_type} {cds.digest.hex()}"


@pytest.fixture
def resolver(tmp_path):
    started = []

    def start(srv, anchor):
        """unbound validating with anchor as its only trust anchor,
        acmensd as the zone's stub, nothing cached."""
        d = tmp_path / f"unbound{len(started)}"
        d.mkdir()
        (d / "anchor").write_text(anchor + "\n")
        u = Unbound(d, "127.0.0.1", {ZONE: f"127.0.0.1@{srv.port}"}, None, str(d / "anchor"))
        started.append(u)
        return u.start()
    yield start
    for u in started:
        u.stop()


def assert_secure(u, name, rdtype, rcode=dns.rcode.NOERROR, answers=True):
    r = u.query(name, rdtype)
    assert r.rcode() == rcode, f"{name} {rdtype}: {r}\n" + u.read_log()[-3000:]
    assert r.flags & dns.flags.AD, f"{name} {rdtype}: no AD: {r}\n" + u.read_log()[-3000:]
    assert bool(r.answer) == answers, r
    return r


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_unbound_validates(make_server, resolver, algorithm):
    srv = make_server(start=False, extra_dns=dnssec_cfg(algorithm))
    sub = srv.register()["subdomain"]
    empty = srv.register()["subdomain"]
    srv.ctl("txt", "add", sub, "--", value(1))
    srv.reconfigure(records=BASE_RECORDS + [f"toacct.{ZONE} 300 IN CNAME {sub}.{ZONE}",
                                            f"dangling.{ZONE} 300 IN CNAME nothere.{ZONE}"])
    srv.start()
    u = resolver(srv, ds_anchor(srv))
    r = assert_secure(u, f"{sub}.{ZONE}", "TXT")
    assert b"".join(r.answer[0][0].strings) == value(1).encode()
    assert_secure(u, f"nonexistent.{ZONE}", "TXT", answers=False)   # compact denial
    assert_secure(u, f"{empty}.{ZONE}", "TXT", answers=False)       # NODATA, account
    assert_secure(u, f"mail.{ZONE}", "A", answers=False)            # NODATA, static
    assert_secure(u, ZONE, "TXT", answers=False)                    # NODATA, apex
    r = assert_secure(u, f"www.{ZONE}", "A")                        # a CNAME chain
    assert [s.rdtype for s in r.answer if s.rdtype != dns.rdatatype.RRSIG] == \
        [dns.rdatatype.CNAME, dns.rdatatype.A]
    r = assert_secure(u, f"toacct.{ZONE}", "TXT")                 # CNAME to an account
    assert [s.rdtype for s in r.answer if s.rdtype != dns.rdatatype.RRSIG] == \
        [dns.rdatatype.CNAME, dns.rdatatype.TXT]
    r = assert_secure(u, f"dangling.{ZONE}", "TXT")                 # CNAME, then denial
    assert [s.rdtype for s in r.answer if s.rdtype != dns.rdatatype.RRSIG] == \
        [dns.rdatatype.CNAME]
    # a wrong anchor: nothing validates
    bad = resolver(srv, f"{ZONE} DS 12345 13 2 " + "ab" * 32)
    assert bad.query(f"{sub}.{ZONE}", "TXT").rcode() == dns.rcode.SERVFAIL


def key_tags(srv):
    return {dns.dnssec.key_id(k) for k in dnskeys(srv)[APEX]}


def test_rollover_followed(make_server, resolver):
    """Each acmensctl dnssec rollover step shows in the DNSKEY set within
    about a second, and a validating resolver keeps validating: with the
    old key's DS until the parent would have changed it (after step 2),
    with the new one's from then on."""
    srv = make_server(extra_dns=dnssec_cfg(), soa_ttl=1, minimum=1)
    sub = srv.register()["subdomain"]
    srv.ctl("txt", "add", sub, "--", value(1))
    name = f"{sub}.{ZONE}"
    old = key_tags(srv)
    assert len(old) == 1
    u = resolver(srv, ds_anchor(srv))
    assert_secure(u, name, "TXT")
    serial = srv.serial()

    srv.ctl("dnssec", "rollover", "--force")            # 1: a new key, published
    assert wait_for(lambda: len(key_tags(srv)) == 2, 3.0), key_tags(srv)
    new = key_tags(srv) - old
    assert srv.serial() > serial                        # secondaries transfer it
    time.sleep(1.1)
    assert_secure(u, name, "TXT")

    srv.ctl("dnssec", "rollover", "--force")            # 2: the new key signs
    def signer():
        r = ask(srv, name, "TXT")
        return {rd.key_tag for s in r.answer if s.rdtype == dns.rdatatype.RRSIG for rd in s}
    assert wait_for(lambda: signer() == new, 3.0), signer()
    assert key_tags(srv) == old | new
    time.sleep(1.1)
    assert_secure(u, name, "TXT")                       # the old DS still holds
    assert {ds_anchor(srv).split()[2]} == {str(t) for t in new}
    u = resolver(srv, ds_anchor(srv))                   # the parent's DS changed
    assert_secure(u, name, "TXT")

    srv.ctl("dnssec", "rollover", "--force")            # 3: the old key goes
    assert wait_for(lambda: key_tags(srv) == new, 3.0), key_tags(srv)
    time.sleep(1.1)
    assert_secure(u, name, "TXT")
    assert_secure(u, f"nonexistent.{ZONE}", "TXT", answers=False)
    assert "dnssec keys changed" in srv.read_log()


def test_keys_transferred(make_server):
    """DNSKEY, CDS and CDNSKEY go to secondaries like any apex RRset; the
    zone's other data is not signed in a transfer (a signing secondary
    signs it itself)."""
    srv = make_server(extra_dns=dnssec_cfg() + 'transfer:\n  allow:\n    - {address: 127.0.0.1/32}\n')
    got = {}
    for msg in dns.query.xfr("127.0.0.1", ZONE, port=srv.port, timeout=5, relativize=False):
        for rrset in msg.answer:
            got.setdefault((rrset.name, rrset.rdtype), set()).update(rrset)
    for t in (dns.rdatatype.DNSKEY, dns.rdatatype.CDS, dns.rdatatype.CDNSKEY):
        served = ask(srv, ZONE, t).answer[0]
        assert got[(APEX, t)] == set(served), dns.rdatatype.to_text(t)
    assert not any(t == dns.rdatatype.RRSIG for _, t in got)


def test_reload_turns_signing_on_and_off(make_server):
    """dnssec.enabled by SIGHUP: the first key is made and answers are
    signed from then on; turned off again, the zone has no keys and DO
    answers carry no RRSIG."""
    srv = make_server()
    assert not ask(srv, ZONE, "DNSKEY").answer
    srv.reconfigure(extra_dns=dnssec_cfg("ed25519"))
    srv.proc.send_signal(signal.SIGHUP)
    assert wait_for(lambda: ask(srv, ZONE, "DNSKEY").answer, 5.0), srv.read_log()
    r = ask(srv, ZONE, "SOA")
    assert not problems_of("SOA", r, dnskeys(srv)) and len(r.answer) == 2
    assert "generated one" in srv.read_log()
    srv.reconfigure(extra_dns="")
    srv.proc.send_signal(signal.SIGHUP)
    assert wait_for(lambda: not ask(srv, ZONE, "DNSKEY").answer, 5.0), srv.read_log()
    assert [s.rdtype for s in ask(srv, ZONE, "SOA").answer] == [dns.rdatatype.SOA]
