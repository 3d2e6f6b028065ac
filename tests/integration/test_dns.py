# SPDX-License-Identifier: ISC
"""DNS behaviour of acmensd, as seen on the wire (DESIGN.md, "DNS behaviour"):
authority and REFUSED outside the zone, NXDOMAIN and NODATA with the SOA,
TXT answers from the store and their expiry, static records with additional
addresses, ANY per RFC 8482, EDNS0 (payload size, DO, BADVERS), truncation
over UDP, TCP per RFC 7766 (pipelining, split messages, idle timeout,
connection cap), NOTIMP/FORMERR, silence for non-queries, IPv6, and two
real-client checks with kdig."""

import json
import re
import socket
import struct
import subprocess
import threading
import time

import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import pytest

from conftest import ZONE, BASE_RECORDS, recv_tcp_msg, tcp_frame, value

APEX = dns.name.from_text(ZONE)


def account(srv, *values):
    """Register an account, add values; returns (subdomain, fqdn)."""
    sub = srv.register()["subdomain"]
    for v in values:
        srv.ctl("txt", "add", sub, v)
    return sub, sub + "." + ZONE


def txt_values(r):
    """The TXT values of a response's answer, as a sorted list of str."""
    out = []
    for rrset in r.answer:
        assert rrset.rdtype == dns.rdatatype.TXT
        out += [b"".join(rd.strings).decode() for rd in rrset]
    return sorted(out)


def assert_negative(r, rcode, serial=None, ttl=60):
    """NXDOMAIN or NODATA: the rcode, AA, no answer, the SOA in authority."""
    assert r.rcode() == rcode
    assert r.flags & dns.flags.AA
    assert r.answer == []
    assert len(r.authority) == 1
    soa = r.authority[0]
    assert soa.rdtype == dns.rdatatype.SOA
    assert soa.name == APEX
    assert soa.ttl == ttl
    assert len(soa) == 1
    if serial is not None:
        assert soa[0].serial == serial
    return soa[0]


def raw_header(qid, flags=0, qd=1, an=0, ns=0, ar=0):
    return struct.pack("!HHHHHH", qid, flags, qd, an, ns, ar)


def raw_question(name=ZONE, rdtype=dns.rdatatype.SOA, rdclass=dns.rdataclass.IN):
    return dns.name.from_text(name).to_wire() + struct.pack("!HH", rdtype, rdclass)


@pytest.fixture(scope="module")
def srv(shared_server):
    return shared_server


# --- authority ---------------------------------------------------------------

def test_aa_on_zone_answers(srv):
    _, full = account(srv, value(1))
    for name, rdtype in ((ZONE, "SOA"), (full, "TXT"), ("ns1." + ZONE, "A")):
        r = srv.query(name, rdtype)
        assert r.rcode() == dns.rcode.NOERROR
        assert r.flags & dns.flags.AA, name
        assert r.flags & dns.flags.QR
        assert r.answer


@pytest.mark.parametrize("name", ["example.com.", "xauth.example.org.", "example.org.",
                                  "org.", ".", "auth.example.org.evil.com."])
def test_refused_outside_zone(srv, name):
    q = dns.message.make_query(name, "TXT")
    r = srv.send(q)
    assert r.rcode() == dns.rcode.REFUSED
    assert not r.flags & dns.flags.AA
    assert r.answer == [] and r.authority == []
    assert r.id == q.id
    assert r.question[0].name == dns.name.from_text(name)


def test_header_flags(srv):
    """RD and CD are copied, RA is never set (we do not recurse), the opcode
    and ID come back."""
    q = dns.message.make_query(ZONE, "SOA")
    q.flags = dns.flags.RD | dns.flags.CD
    r = srv.send(q)
    assert r.id == q.id
    assert r.flags & dns.flags.RD and r.flags & dns.flags.CD
    assert not r.flags & dns.flags.RA and not r.flags & dns.flags.TC
    q.flags = 0
    r = srv.send(q)
    assert not r.flags & (dns.flags.RD | dns.flags.CD | dns.flags.RA)
    assert r.flags & dns.flags.AA and r.flags & dns.flags.QR


@pytest.mark.parametrize("rdtype", ["AXFR", "IXFR"])
def test_transfers_refused(srv, rdtype):
    q = dns.message.make_query(ZONE, rdtype)
    data = srv.send_raw_tcp(q.to_wire())
    assert data is not None
    r = dns.message.from_wire(data)
    assert r.rcode() == dns.rcode.REFUSED and r.answer == []


def test_refused_class_ch(srv):
    r = srv.query(ZONE, "SOA", rdclass="CH")
    assert r.rcode() == dns.rcode.REFUSED
    assert not r.flags & dns.flags.AA
    assert r.answer == []
    r = srv.query("version.bind.", "TXT", rdclass="CH")
    assert r.rcode() == dns.rcode.REFUSED


# --- negative answers ---------------------------------------------------------

def test_nxdomain_with_soa(srv):
    sub, full = account(srv)
    out = srv.ctl("txt", "add", sub, value(2))
    serial = int(json.loads(out.stdout)["serial"])
    for name in ("nosuch." + ZONE, "a.b.c." + ZONE, "x." + full, "NoSuch2." + ZONE):
        r = srv.query(name, "TXT")
        soa = assert_negative(r, dns.rcode.NXDOMAIN, serial=serial, ttl=60)
        assert soa.minimum == 60
        assert soa.mname == dns.name.from_text("ns1." + ZONE)
        assert soa.rname == dns.name.from_text("hostmaster.example.org.")
    assert srv.serial() == serial


def test_negative_ttl_is_min_of_soa_ttl_and_minimum(make_server):
    s = make_server(soa_ttl=30, minimum=300)
    r = s.query("nosuch." + ZONE, "A")
    soa = assert_negative(r, dns.rcode.NXDOMAIN, ttl=30)
    assert soa.minimum == 300
    # the apex SOA itself keeps its own TTL
    assert s.query(ZONE, "SOA").answer[0].ttl == 30


@pytest.mark.parametrize("where,rdtype", [
    ("account", "A"), ("account", "AAAA"), ("apex", "MX"), ("apex", "TXT"),
    ("ns1", "TXT"), ("ns1", "MX"), ("deep", "A"), ("deep", "TXT"), ("mail", "A"),
])
def test_nodata(srv, where, rdtype):
    _, full = account(srv, value(3))
    name = {"account": full, "apex": ZONE, "ns1": "ns1." + ZONE,
            "deep": "deep." + ZONE, "mail": "mail." + ZONE}[where]
    r = srv.query(name, rdtype)
    assert_negative(r, dns.rcode.NOERROR, serial=srv.serial())


def test_registered_account_without_values_is_nodata(srv):
    sub, full = account(srv)
    assert_negative(srv.query(full, "TXT"), dns.rcode.NOERROR)
    assert_negative(srv.query(full, "ANY"), dns.rcode.NOERROR)
    # an unregistered name of the same shape is NXDOMAIN
    assert_negative(srv.query("00000000-0000-4000-8000-000000000000." + ZONE, "TXT"),
                    dns.rcode.NXDOMAIN)


# --- TXT answers --------------------------------------------------------------

def test_txt_one_two_remove_clear(srv):
    sub, full = account(srv, value(10))
    r = srv.query(full, "TXT")
    assert r.rcode() == dns.rcode.NOERROR and r.flags & dns.flags.AA
    assert txt_values(r) == [value(10)]
    assert r.answer[0].ttl == 1
    assert r.authority == []

    srv.ctl("txt", "add", sub, value(11))
    r = srv.query(full, "TXT")
    assert txt_values(r) == sorted([value(10), value(11)])
    assert len(r.answer) == 1 and len(r.answer[0]) == 2

    srv.ctl("txt", "remove", sub, value(10))
    assert txt_values(srv.query(full, "TXT")) == [value(11)]

    srv.ctl("txt", "set", sub, value(12), value(13))
    assert txt_values(srv.query(full, "TXT")) == sorted([value(12), value(13)])

    srv.ctl("txt", "set", sub)
    assert_negative(srv.query(full, "TXT"), dns.rcode.NOERROR)


@pytest.mark.parametrize("tcp", [False, True], ids=["udp", "tcp"])
def test_case_is_echoed_0x20(srv, tcp):
    sub, full = account(srv, value(20))
    mixed = "".join(c.upper() if i % 2 else c for i, c in enumerate(sub)) + ".AuTh.ExAmPlE.oRg."
    q = dns.message.make_query(mixed, "TXT")
    wire = q.to_wire()
    qname_wire = dns.name.from_text(mixed).to_wire()
    data = srv.send_raw_tcp(wire) if tcp else srv.send_raw_udp(wire)
    assert data is not None
    # the question's bytes come back exactly as sent
    assert data[12:12 + len(qname_wire)] == qname_wire
    r = dns.message.from_wire(data)
    assert str(r.question[0].name) == mixed
    assert r.rcode() == dns.rcode.NOERROR
    assert len(r.answer) == 1
    assert str(r.answer[0].name) == mixed
    assert txt_values(r) == [value(20)]
    # a mixed-case apex also works, for static and negative answers
    r = srv.query("AUTH.example.ORG.", "SOA")
    assert str(r.answer[0].name) == "AUTH.example.ORG."
    r = srv.query("NoSuchName.AUTH.example.ORG.", "TXT")
    assert r.rcode() == dns.rcode.NXDOMAIN
    assert str(r.question[0].name) == "NoSuchName.AUTH.example.ORG."


@pytest.mark.parametrize("tcp", [False, True], ids=["udp", "tcp"])
def test_write_is_served_by_next_query(srv, tcp):
    sub, full = account(srv)
    expected = []
    for i in range(5):
        v = value(100 + i + (50 if tcp else 0))
        serial = int(json.loads(srv.ctl("txt", "add", sub, v).stdout)["serial"])
        expected.append(v)
        r = srv.query(full, "TXT", tcp=tcp)
        assert txt_values(r) == sorted(expected)
        assert srv.query(ZONE, "SOA", tcp=tcp).answer[0][0].serial == serial
    srv.ctl("txt", "remove", sub, expected[0])
    assert txt_values(srv.query(full, "TXT", tcp=tcp)) == sorted(expected[1:])


def test_expired_value_leaves_the_answer(srv):
    sub, full = account(srv, value(30))
    srv.ctl("txt", "add", sub, value(31), "--expires-in", "1")
    assert txt_values(srv.query(full, "TXT")) == sorted([value(30), value(31)])
    deadline = time.time() + 4
    while time.time() < deadline:
        if txt_values(srv.query(full, "TXT")) == [value(30)]:
            break
        time.sleep(0.1)
    assert txt_values(srv.query(full, "TXT")) == [value(30)]


def test_only_expiring_value_expires_to_nodata(srv):
    sub, full = account(srv)
    srv.ctl("txt", "add", sub, value(32), "--expires-in", "1")
    assert txt_values(srv.query(full, "TXT")) == [value(32)]
    deadline = time.time() + 4
    while time.time() < deadline and srv.query(full, "TXT").answer:
        time.sleep(0.1)
    assert_negative(srv.query(full, "TXT"), dns.rcode.NOERROR)


# --- static records -----------------------------------------------------------

def test_apex_soa(srv):
    r = srv.query(ZONE, "SOA")
    assert r.rcode() == dns.rcode.NOERROR and r.flags & dns.flags.AA
    assert len(r.answer) == 1 and len(r.answer[0]) == 1
    rrset = r.answer[0]
    assert rrset.name == APEX and rrset.ttl == 3600
    soa = rrset[0]
    assert soa.mname == dns.name.from_text("ns1." + ZONE)
    assert soa.rname == dns.name.from_text("hostmaster.example.org.")
    assert (soa.refresh, soa.retry, soa.expire, soa.minimum) == (3600, 600, 604800, 60)
    sub, _ = account(srv)
    serial = int(json.loads(srv.ctl("txt", "add", sub, value(40)).stdout)["serial"])
    assert srv.query(ZONE, "SOA").answer[0][0].serial == serial


def test_apex_ns_with_glue(srv):
    r = srv.query(ZONE, "NS")
    assert r.rcode() == dns.rcode.NOERROR and r.flags & dns.flags.AA
    assert len(r.answer) == 1
    assert sorted(str(rd.target) for rd in r.answer[0]) == ["ns1.auth.example.org.",
                                                           "ns2.example.net."]
    extra = {(str(rr.name), dns.rdatatype.to_text(rr.rdtype)): sorted(rd.address for rd in rr)
             for rr in r.additional}
    assert extra == {("ns1.auth.example.org.", "A"): ["127.0.0.1"],
                     ("ns1.auth.example.org.", "AAAA"): ["::1"]}
    assert r.authority == []


@pytest.mark.parametrize("name,rdtype,expect", [
    (ZONE, "A", ["192.0.2.1"]),
    ("ns1." + ZONE, "A", ["127.0.0.1"]),
    ("ns1." + ZONE, "AAAA", ["::1"]),
    ("host.deep." + ZONE, "A", ["192.0.2.7"]),
    ("HOST.Deep." + ZONE, "A", ["192.0.2.7"]),
    (ZONE, "CAA", ['0 issue "letsencrypt.org"']),
])
def test_static_records(srv, name, rdtype, expect):
    r = srv.query(name, rdtype)
    assert r.rcode() == dns.rcode.NOERROR and r.flags & dns.flags.AA
    assert len(r.answer) == 1
    assert r.answer[0].rdtype == dns.rdatatype.from_text(rdtype)
    assert r.answer[0].name == dns.name.from_text(name)
    assert sorted(rd.to_text() for rd in r.answer[0]) == expect


# www is a CNAME to the apex: the chain is followed in the zone (RFC 1034
# 4.3.2 step 3a): the apex's A comes after the CNAME; the apex has no TXT
# or AAAA, so those end in NODATA with the SOA; CNAME itself is the CNAME.
@pytest.mark.parametrize("rdtype, chased", [
    ("A", [(ZONE, "A", 3600, ["192.0.2.1"])]),
    ("TXT", []),
    ("CNAME", []),
    ("AAAA", []),
])
def test_cname_at_www(srv, rdtype, chased):
    r = srv.query("www." + ZONE, rdtype)
    assert r.rcode() == dns.rcode.NOERROR and r.flags & dns.flags.AA
    got = [(rr.name.to_text(), dns.rdatatype.to_text(rr.rdtype), rr.ttl,
            sorted(rd.to_text() for rd in rr)) for rr in r.answer]
    assert got == [("www." + ZONE, "CNAME", 300, [ZONE])] + chased
    soa = [(rr.name.to_text(), dns.rdatatype.to_text(rr.rdtype)) for rr in r.authority]
    assert soa == ([] if chased or rdtype == "CNAME" else [(ZONE, "SOA")])


def test_mx_with_additional(srv):
    r = srv.query("mail." + ZONE, "MX")
    assert r.rcode() == dns.rcode.NOERROR and r.flags & dns.flags.AA
    assert [(rd.preference, str(rd.exchange)) for rd in r.answer[0]] == [(10, "ns1." + ZONE)]
    extra = sorted((str(rr.name), rd.address) for rr in r.additional for rd in rr)
    assert extra == [("ns1." + ZONE, "127.0.0.1"), ("ns1." + ZONE, "::1")]


# --- ANY (RFC 8482) -------------------------------------------------------------

def test_any_at_account_is_the_txt_rrset(srv):
    _, full = account(srv, value(50), value(51))
    r = srv.query(full, "ANY")
    assert r.rcode() == dns.rcode.NOERROR and r.flags & dns.flags.AA
    assert len(r.answer) == 1
    assert r.answer[0].rdtype == dns.rdatatype.TXT
    assert txt_values(r) == sorted([value(50), value(51)])


# RFC 8482 4.1: one RRset answers ANY; the zone hands out its RRset of the
# lowest type at the name, A at both.
@pytest.mark.parametrize("name, expect", [
    (ZONE, ["192.0.2.1"]),
    ("ns1." + ZONE, ["127.0.0.1"]),
])
def test_any_static_is_one_rrset(srv, name, expect):
    r = srv.query(name, "ANY")
    assert r.rcode() == dns.rcode.NOERROR and r.flags & dns.flags.AA
    assert len(r.answer) == 1
    assert r.answer[0].rdtype == dns.rdatatype.A
    assert r.answer[0].name == dns.name.from_text(name)
    assert sorted(rd.to_text() for rd in r.answer[0]) == expect


# --- QCLASS ANY (RFC 1035 3.2.5) ---------------------------------------------
# The zone is class IN, and a question of class ANY asks for it too: answered
# as the same question in class IN would be, AA set, as Knot and NSD do
# (test_knot_diff.py test_qclass_any compares every name and type with Knot).

def test_qclass_any_at_txt_name_is_answered(srv):
    _, full = account(srv, value(60), value(61))
    r = srv.query(full, "TXT", rdclass="ANY")
    assert r.rcode() == dns.rcode.NOERROR and r.flags & dns.flags.AA
    assert [(q.name.to_text(), q.rdclass) for q in r.question] == [(full, dns.rdataclass.ANY)]
    assert [rr.rdclass for rr in r.answer] == [dns.rdataclass.IN]
    assert txt_values(r) == sorted([value(60), value(61)])


@pytest.mark.parametrize("name, rdtype, expect", [
    (ZONE, "SOA", None),
    (ZONE, "A", ["192.0.2.1"]),
    ("ns1." + ZONE, "AAAA", ["::1"]),
    ("mail." + ZONE, "MX", ["10 ns1." + ZONE]),
])
def test_qclass_any_static(srv, name, rdtype, expect):
    r = srv.query(name, rdtype, rdclass="ANY")
    assert r.rcode() == dns.rcode.NOERROR and r.flags & dns.flags.AA
    assert len(r.answer) == 1
    assert r.answer[0].rdclass == dns.rdataclass.IN
    assert r.answer[0].rdtype == dns.rdatatype.from_text(rdtype)
    if expect is not None:
        assert sorted(rd.to_text() for rd in r.answer[0]) == expect


def test_qclass_any_negative_answers(srv):
    r = srv.query("nonexistent." + ZONE, "TXT", rdclass="ANY")
    assert r.rcode() == dns.rcode.NXDOMAIN and r.flags & dns.flags.AA
    assert [dns.rdatatype.to_text(rr.rdtype) for rr in r.authority] == ["SOA"]
    r = srv.query("ns1." + ZONE, "TXT", rdclass="ANY")
    assert r.rcode() == dns.rcode.NOERROR and r.flags & dns.flags.AA and r.answer == []
    assert [dns.rdatatype.to_text(rr.rdtype) for rr in r.authority] == ["SOA"]


def test_qclass_any_outside_the_zone_and_transfers_refused(srv):
    r = srv.query("example.net.", "TXT", rdclass="ANY")
    assert r.rcode() == dns.rcode.REFUSED and not r.flags & dns.flags.AA and r.answer == []
    q = dns.message.make_query(ZONE, "AXFR", rdclass="ANY")
    r = dns.message.from_wire(srv.send_raw_tcp(q.to_wire()))
    assert r.rcode() == dns.rcode.REFUSED and r.answer == []


# --- EDNS ---------------------------------------------------------------------

def test_edns_opt_echoed_with_our_size(srv):
    r = srv.query(ZONE, "SOA", use_edns=0, payload=4096)
    assert r.edns == 0
    assert r.payload == 1232
    assert not r.ednsflags & dns.flags.DO
    assert list(r.options) == []
    assert r.rcode() == dns.rcode.NOERROR


def test_edns_do_bit(srv):
    r = srv.query(ZONE, "SOA", use_edns=0, payload=1232, want_dnssec=True)
    assert r.edns == 0 and r.ednsflags & dns.flags.DO
    r = srv.query(ZONE, "SOA", use_edns=0, payload=1232, want_dnssec=False)
    assert r.edns == 0 and not r.ednsflags & dns.flags.DO


def test_no_edns_no_opt(srv):
    q = dns.message.make_query(ZONE, "SOA", use_edns=False)
    data = srv.send_raw_udp(q.to_wire())
    assert data is not None
    assert struct.unpack("!H", data[10:12])[0] == 0   # ARCOUNT
    r = dns.message.from_wire(data)
    assert r.edns == -1 and r.opt is None


@pytest.mark.parametrize("tcp", [False, True], ids=["udp", "tcp"])
def test_badvers(srv, tcp):
    q = dns.message.make_query(ZONE, "SOA")
    q.use_edns(1, payload=1232)   # make_query(use_edns=1) sends version 0
    wire = q.to_wire()
    assert wire[-5] == 1          # the OPT's version byte
    data = srv.send_raw_tcp(wire) if tcp else srv.send_raw_udp(wire)
    assert data is not None
    flags = struct.unpack("!H", data[2:4])[0]
    assert flags & 0xF == 0                 # header rcode: the low bits of 16
    r = dns.message.from_wire(data)
    assert r.id == q.id
    assert r.rcode() == dns.rcode.BADVERS
    assert r.edns == 0                      # we answer with the version we do
    assert (r.ednsflags >> 24) & 0xFF == 1  # extended rcode
    assert r.answer == []


# --- truncation -----------------------------------------------------------------

BIG_STRINGS = [chr(ord("a") + i) * 255 for i in range(6)]   # 1536 bytes of rdata


@pytest.fixture(scope="module")
def big_server(tmp_path_factory):
    import conftest
    factory, finish = conftest._server_factory(tmp_path_factory.mktemp("big"))
    records = BASE_RECORDS + ["big.auth.example.org. 300 IN TXT " +
                              " ".join('"%s"' % s for s in BIG_STRINGS)]
    s = factory(records=records, txt_max_values=32)
    yield s
    finish()


def long_value(i):
    return (value(i) * 5)[:200]


@pytest.fixture(scope="module")
def big_account(big_server):
    sub, full = account(big_server)
    big_server.ctl("txt", "set", sub, *[long_value(i) for i in range(30)])
    return full


@pytest.mark.parametrize("edns", [None, 4096, 1000], ids=["no-edns", "edns4096", "edns1000"])
@pytest.mark.parametrize("which", ["store", "static"])
def test_tc_when_udp_answer_does_not_fit(big_server, big_account, edns, which):
    name = big_account if which == "store" else "big." + ZONE
    kw = {"use_edns": 0, "payload": edns} if edns else {}
    q = dns.message.make_query(name, "TXT", **kw)
    data = big_server.send_raw_udp(q.to_wire())
    assert data is not None
    assert len(data) <= (min(edns, 1232) if edns else 512)
    r = dns.message.from_wire(data)
    assert r.flags & dns.flags.TC
    assert r.flags & dns.flags.AA
    assert r.answer == [] and r.authority == []
    assert r.question[0].name == dns.name.from_text(name)
    assert (r.edns == 0 and r.payload == 1232) if edns else r.edns == -1


@pytest.mark.parametrize("which", ["store", "static"])
def test_tcp_gets_the_full_big_answer(big_server, big_account, which):
    name = big_account if which == "store" else "big." + ZONE
    r = big_server.query(name, "TXT", tcp=True)
    assert not r.flags & dns.flags.TC
    if which == "store":
        assert txt_values(r) == sorted(long_value(i) for i in range(30))
    else:
        assert [tuple(s.decode() for s in rd.strings) for rd in r.answer[0]] == [
            tuple(BIG_STRINGS)]


def test_edns_lets_a_medium_answer_fit(big_server):
    """About 900 bytes: over 512, under 1232."""
    sub, full = account(big_server, *[long_value(100 + i) for i in range(4)])
    r = big_server.query(full, "TXT")
    assert r.flags & dns.flags.TC and r.answer == []
    r = big_server.query(full, "TXT", use_edns=0, payload=4096)
    assert not r.flags & dns.flags.TC
    assert txt_values(r) == sorted(long_value(100 + i) for i in range(4))
    # a requestor's size below 512 counts as 512 (RFC 6891 6.2.5)
    r = big_server.query(full, "TXT", use_edns=0, payload=100)
    assert r.flags & dns.flags.TC and r.answer == []


def big_queries(name, n):
    out = []
    for i in range(n):
        q = dns.message.make_query(name, "TXT")
        q.id = i
        out.append(q)
    return out


def read_answers(sock, n):
    """n responses from sock, checked to be full answers of 30 values."""
    ids = []
    for _ in range(n):
        data = recv_tcp_msg(sock)
        assert data is not None, "connection closed after %d answers" % len(ids)
        r = dns.message.from_wire(data)
        assert len(r.answer) == 1 and len(r.answer[0]) == 30
        ids.append(r.id)
    return ids


def test_tcp_pipelining_past_the_output_high_water_mark(big_server, big_account):
    """200 answers of about 6.4 KB each: the daemon pauses reading while
    they pile up, and must come back to the queries it had already read."""
    queries = big_queries(big_account, 200)
    with big_server.tcp_connect(timeout=5) as s:
        s.sendall(b"".join(tcp_frame(q.to_wire()) for q in queries))
        time.sleep(0.2)   # a slow reader: let the daemon's output back up
        assert read_answers(s, 200) == list(range(200))


def test_tcp_slow_reader_with_a_small_window(big_server, big_account):
    """1,200 answers (7.7 MB, more than the socket buffers take) to a peer
    with a receive window of a few KB: the daemon holds answers, stops
    reading at its high-water mark, answers the queries it had read once
    the peer drains them, and reads again."""
    queries = big_queries(big_account, 1200)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(5)
    with s:
        s.connect(("127.0.0.1", big_server.port))
        s.sendall(b"".join(tcp_frame(q.to_wire()) for q in queries))
        time.sleep(0.5)
        assert read_answers(s, 1200) == list(range(1200))
        q = dns.message.make_query(ZONE, "SOA")
        s.sendall(tcp_frame(q.to_wire()))
        assert dns.message.from_wire(recv_tcp_msg(s)).id == q.id


def test_tcp_half_close_still_gets_every_answer(big_server, big_account):
    queries = big_queries(big_account, 100)
    with big_server.tcp_connect(timeout=5) as s:
        s.sendall(b"".join(tcp_frame(q.to_wire()) for q in queries))
        s.shutdown(socket.SHUT_WR)
        assert read_answers(s, 100) == list(range(100))
        assert recv_tcp_msg(s) is None   # then the daemon closes


def test_tcp_zero_length_message_ends_the_connection_after_the_answers(big_server,
                                                                      big_account):
    queries = big_queries(big_account, 60)
    with big_server.tcp_connect(timeout=5) as s:
        s.sendall(b"".join(tcp_frame(q.to_wire()) for q in queries) + b"\x00\x00"
                  + tcp_frame(dns.message.make_query(ZONE, "SOA").to_wire()))
        assert read_answers(s, 60) == list(range(60))
        assert recv_tcp_msg(s) is None


# --- TCP (RFC 7766) ---------------------------------------------------------------

def test_tcp_pipelining(srv):
    _, full = account(srv, value(60))
    queries = []
    for i in range(20):
        if i % 3 == 0:
            q = dns.message.make_query(ZONE, "SOA")
        elif i % 3 == 1:
            q = dns.message.make_query(full, "TXT")
        else:
            q = dns.message.make_query("nx%d.%s" % (i, ZONE), "TXT")
        q.id = 1000 + i
        queries.append(q)
    with srv.tcp_connect() as s:
        s.sendall(b"".join(tcp_frame(q.to_wire()) for q in queries))
        replies = {}
        for _ in range(20):
            data = recv_tcp_msg(s)
            assert data is not None
            r = dns.message.from_wire(data)
            replies[r.id] = r
    assert sorted(replies) == [q.id for q in queries]
    for q in queries:
        r = replies[q.id]
        assert r.question[0].name == q.question[0].name
        if q.question[0].rdtype == dns.rdatatype.SOA:
            assert r.answer[0].rdtype == dns.rdatatype.SOA
        elif q.question[0].name.labels[0].startswith(b"nx"):
            assert r.rcode() == dns.rcode.NXDOMAIN
        else:
            assert txt_values(r) == [value(60)]


def test_tcp_busy_connections_see_every_write(srv):
    """Connections kept busy keep a worker's store snapshot open from one
    read to the next: a write committed meanwhile is served by the next
    query all the same."""
    sub, full = account(srv)
    stop = threading.Event()
    failures = []

    def keep_busy(conns):
        q = dns.message.make_query(ZONE, "SOA")
        try:
            while not stop.is_set():
                for c in conns:
                    c.sendall(tcp_frame(q.to_wire()))
                    assert recv_tcp_msg(c) is not None
                time.sleep(0.002)
        except (AssertionError, OSError) as e:
            failures.append(e)

    # several, so that every worker (SO_REUSEPORT) holds some
    conns = [srv.tcp_connect(timeout=5) for _ in range(8)]
    keeper = threading.Thread(target=keep_busy, args=(conns,))
    keeper.start()
    try:
        expected = []
        for i in range(5):
            expected.append(value(170 + i))
            srv.ctl("txt", "add", sub, expected[-1])
            assert txt_values(srv.query(full, "TXT", tcp=True)) == sorted(expected)
    finally:
        stop.set()
        keeper.join()
        for c in conns:
            c.close()
    assert not failures


def test_tcp_query_split_across_segments(srv):
    _, full = account(srv, value(61))
    q = dns.message.make_query(full, "TXT")
    framed = tcp_frame(q.to_wire())
    with srv.tcp_connect() as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in range(len(framed)):
            s.sendall(framed[i:i + 1])
            time.sleep(0.005)
        r = dns.message.from_wire(recv_tcp_msg(s))
        assert r.id == q.id and txt_values(r) == [value(61)]
        # the connection is still good for another query
        q2 = dns.message.make_query(ZONE, "SOA")
        s.sendall(tcp_frame(q2.to_wire()))
        r2 = dns.message.from_wire(recv_tcp_msg(s))
        assert r2.id == q2.id and r2.answer[0].rdtype == dns.rdatatype.SOA


def test_tcp_idle_timeout(make_server):
    s = make_server(tcp_idle_timeout=1)
    with s.tcp_connect(timeout=5) as c:
        t0 = time.monotonic()
        # activity keeps it open past the timeout
        for _ in range(3):
            time.sleep(0.5)
            q = dns.message.make_query(ZONE, "SOA")
            c.sendall(tcp_frame(q.to_wire()))
            assert dns.message.from_wire(recv_tcp_msg(c)).id == q.id
        assert time.monotonic() - t0 > 1.4
        t1 = time.monotonic()
        assert recv_tcp_msg(c) is None   # EOF once idle
        idle = time.monotonic() - t1
    assert 0.8 <= idle <= 3.0, idle


def test_tcp_idle_timeout_default_fixture(srv):
    """The fixture's tcp_idle_timeout is 3 seconds."""
    with srv.tcp_connect(timeout=6) as c:
        t0 = time.monotonic()
        assert recv_tcp_msg(c) is None
        idle = time.monotonic() - t0
    assert 2.5 <= idle <= 5.0, idle


def test_tcp_connection_cap(make_server):
    s = make_server(tcp_max_clients=2)

    def ask(c):
        q = dns.message.make_query(ZONE, "SOA")
        c.sendall(tcp_frame(q.to_wire()))
        data = recv_tcp_msg(c)
        return data is not None and dns.message.from_wire(data).id == q.id

    a, b = s.tcp_connect(), s.tcp_connect()
    try:
        assert ask(a) and ask(b)
        with s.tcp_connect() as c:
            try:
                c.sendall(tcp_frame(dns.message.make_query(ZONE, "SOA").to_wire()))
            except (BrokenPipeError, ConnectionResetError):
                pass
            assert recv_tcp_msg(c) is None   # closed by the server
        assert ask(a) and ask(b)
        a.close()
        # once the server has seen the close, a new connection gets in
        deadline = time.time() + 3
        ok = False
        while not ok and time.time() < deadline:
            with s.tcp_connect() as d:
                try:
                    ok = ask(d)
                except (BrokenPipeError, ConnectionResetError):
                    ok = False
            if not ok:
                time.sleep(0.05)
        assert ok
        assert ask(b)
    finally:
        a.close()
        b.close()


# --- opcodes, counts, silence -------------------------------------------------------

# UPDATE has its own answers: test_update.py
@pytest.mark.parametrize("opcode", [dns.opcode.STATUS, 3, 6, 15],
                         ids=["status", "op3", "op6", "op15"])
def test_notimp_for_other_opcodes(srv, opcode):
    qid = 0xBEEF
    packet = raw_header(qid, flags=opcode << 11) + raw_question(ZONE, dns.rdatatype.SOA)
    data = srv.send_raw_udp(packet)
    assert data is not None
    # parsed by hand: dnspython rejects unassigned opcodes
    rid, flags, qd, an, ns, ar = struct.unpack("!HHHHHH", data[:12])
    assert rid == qid
    assert flags & 0xF == dns.rcode.NOTIMP
    assert (flags >> 11) & 0xF == opcode
    assert flags & 0x8000                  # QR
    assert not flags & 0x0400              # not AA: we did not answer anything
    assert (an, ns, ar) == (0, 0, 0)
    assert qd == 1 and data[12:] == raw_question(ZONE, dns.rdatatype.SOA)


@pytest.mark.parametrize("qd", [0, 2])
@pytest.mark.parametrize("tcp", [False, True], ids=["udp", "tcp"])
def test_formerr_for_question_count(srv, qd, tcp):
    qid = 0x1234 + qd
    packet = raw_header(qid, qd=qd) + raw_question() * qd
    data = srv.send_raw_tcp(packet) if tcp else srv.send_raw_udp(packet)
    assert data is not None
    assert struct.unpack("!H", data[:2])[0] == qid
    flags = struct.unpack("!H", data[2:4])[0]
    assert flags & 0x8000 and flags & 0xF == dns.rcode.FORMERR
    assert struct.unpack("!HHHH", data[4:12])[1:] == (0, 0, 0)


@pytest.mark.parametrize("size", range(0, 12))
def test_no_reply_for_short_packets(srv, size):
    assert srv.replies_before_probe(bytes([0x42]) * size) == []
    assert srv.replies_before_probe(bytes(size)) == []
    if size > 0:   # a zero-length TCP message is not a message at all
        assert srv.replies_before_probe(bytes([0x42]) * size, tcp=True) == []


def test_no_reply_for_responses(srv):
    q = dns.message.make_query(ZONE, "SOA")
    wire = bytearray(q.to_wire())
    wire[2] |= 0x80   # QR
    assert srv.replies_before_probe(bytes(wire)) == []
    # and a real response, as a reflection attack would send
    r = srv.query(ZONE, "SOA")
    assert srv.replies_before_probe(r.to_wire()) == []


# --- IPv6 ---------------------------------------------------------------------

@pytest.mark.parametrize("tcp", [False, True], ids=["udp", "tcp"])
def test_ipv6(srv, tcp):
    _, full = account(srv, value(70))
    r = srv.query(full, "TXT", tcp=tcp, addr="::1")
    assert r.flags & dns.flags.AA
    assert txt_values(r) == [value(70)]
    r = srv.query("nosuch." + ZONE, "TXT", tcp=tcp, addr="::1")
    assert r.rcode() == dns.rcode.NXDOMAIN


# --- kdig ---------------------------------------------------------------------

def kdig(srv, *args):
    p = subprocess.run(["kdig", "@127.0.0.1", "-p", str(srv.port), "+time=2", "+retry=0"]
                       + list(args), capture_output=True, text=True, timeout=20)
    assert p.returncode == 0, p.stderr
    return p.stdout


def test_kdig_simple(srv):
    _, full = account(srv, value(80))
    out = kdig(srv, full, "TXT")
    assert re.search(r"status: NOERROR", out)
    assert re.search(r"Flags: qr aa rd;", out), out
    assert re.search(r"^%s\s+1\s+IN\s+TXT\s+\"%s\"$" % (re.escape(full), re.escape(value(80))),
                     out, re.M), out
    out = kdig(srv, "nosuch." + ZONE, "TXT")
    assert "status: NXDOMAIN" in out
    assert re.search(r"^auth\.example\.org\.\s+60\s+IN\s+SOA\s+ns1\.auth\.example\.org\. "
                     r"hostmaster\.example\.org\. \d+ 3600 600 604800 60$", out, re.M), out


def test_kdig_tcp_keepopen(srv):
    _, full = account(srv, value(81), value(82))
    out = kdig(srv, "+tcp", "+keepopen", full, "TXT", ZONE, "SOA", "nosuch." + ZONE, "A",
               "ns1." + ZONE, "AAAA")
    statuses = re.findall(r"status: (\w+)", out)
    assert statuses == ["NOERROR", "NOERROR", "NXDOMAIN", "NOERROR"], out
    assert len(re.findall(r"\(TCP\)", out)) == 4, out
    txt = sorted(re.findall(r"^%s\s+1\s+IN\s+TXT\s+\"([^\"]+)\"$" % re.escape(full), out, re.M))
    assert txt == sorted([value(81), value(82)])
    assert re.search(r"^ns1\.auth\.example\.org\.\s+3600\s+IN\s+AAAA\s+::1$", out, re.M)
