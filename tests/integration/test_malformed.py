# SPDX-License-Identifier: ISC
"""Malformed input: a table of broken packets (short headers, broken names,
compression loops, bad EDNS, wrong counts, trailing bytes, garbage), each
sent over UDP and over TCP; the daemon must answer FORMERR (or NOTIMP) with
the query's ID, or stay silent, exactly as the table says, and keep
answering normal queries. Then a storm of random packets, which it must
survive."""

import random
import socket
import struct

import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import pytest

from conftest import ZONE, recv_tcp_msg, tcp_frame, value

QID = 0x5A5A
SOA, TXT, A, OPT_T, IN = 6, 16, 1, 41, 1
APEX = dns.name.from_text(ZONE).to_wire()
DROP = None
FORMERR, NOTIMP, NOERROR, NXDOMAIN = 1, 4, 0, 3


def hdr(qid=QID, flags=0, qd=1, an=0, ns=0, ar=0):
    return struct.pack("!HHHHHH", qid, flags, qd, an, ns, ar)


def q(name=APEX, rdtype=SOA, rdclass=IN):
    return name + struct.pack("!HH", rdtype, rdclass)


def opt(rdata=b"", owner=b"\x00", size=1232, version=0, rdlen=None):
    rdlen = len(rdata) if rdlen is None else rdlen
    return owner + struct.pack("!HHBBHH", OPT_T, size, 0, version, 0, rdlen) + rdata


def option(code, data, length=None):
    return struct.pack("!HH", code, len(data) if length is None else length) + data


def label(s):
    return bytes([len(s)]) + s


A_RR = APEX + struct.pack("!HHIH", A, IN, 60, 4) + bytes([192, 0, 2, 1])


def garbage(seed, n=100):
    return random.Random(seed).randbytes(n)


def expected_for_garbage(data):
    """What a header alone decides for random bytes: drop a response, NOTIMP
    for opcodes other than QUERY and UPDATE, FORMERR otherwise (random bytes
    do not make a well-formed single-question query, nor a well-formed
    update)."""
    flags = struct.unpack("!H", data[2:4])[0]
    if flags & 0x8000:
        return DROP
    if (flags >> 11) & 0xF not in (0, 5):
        return NOTIMP
    return FORMERR


NAME_255 = label(b"a" * 63) * 3 + label(b"b" * 44) + APEX        # exactly 255 bytes
NAME_256 = label(b"a" * 63) * 3 + label(b"b" * 45) + APEX
assert len(NAME_255) == 255 and len(NAME_256) == 256

CASES = [
    # (id, packet, expected rcode or DROP)
    ("control-valid", hdr() + q(), NOERROR),
    ("control-edns", hdr(ar=1) + q() + opt(), NOERROR),
    ("control-edns-option", hdr(ar=1) + q() + opt(option(10, b"12345678")), NOERROR),
    ("control-extra-a-record", hdr(ar=1) + q() + A_RR, NOERROR),
    ("control-name-255", hdr() + q(NAME_255, TXT), NXDOMAIN),
    ("control-binary-label", hdr() + q(label(b"\x00\xff.\x80") + APEX, TXT), NXDOMAIN),
    ("control-opt-owner-pointer-to-root",
     hdr(ar=1) + q() + b"\xc0" + bytes([12 + len(APEX) - 1]) + opt()[1:], NOERROR),
    ("header-1-byte", b"\x5a", DROP),
    ("header-5-bytes", hdr()[:5], DROP),
    ("header-11-bytes", hdr()[:11], DROP),
    ("qr-set", hdr(flags=0x8000) + q(), DROP),
    ("qr-set-garbage", hdr(flags=0x8400, qd=7) + b"\xff" * 20, DROP),
    ("header-only-qd1", hdr(), FORMERR),
    ("truncated-name", hdr() + APEX[:7], FORMERR),
    ("truncated-name-no-root", hdr() + APEX[:-1], FORMERR),
    ("truncated-qtype", hdr() + APEX + b"\x00", FORMERR),
    ("truncated-qclass", hdr() + APEX + b"\x00\x06\x00", FORMERR),
    ("no-qtype", hdr() + APEX, FORMERR),
    ("pointer-to-itself", hdr() + b"\xc0\x0c" + struct.pack("!HH", SOA, IN), FORMERR),
    ("pointer-self-loop-in-header",
     hdr(qid=0xC000) + b"\xc0\x00" + struct.pack("!HH", SOA, IN), FORMERR),
    ("pointer-to-pointer-loop",
     hdr(qid=0xC00A, ar=0xC000) + b"\xc0\x00" + struct.pack("!HH", SOA, IN), FORMERR),
    ("pointer-pair-loop",
     hdr() + b"\xc0\x0e\xc0\x0c" + struct.pack("!HH", SOA, IN), FORMERR),
    ("forward-pointer",
     hdr() + b"\xc0\x12" + struct.pack("!HH", SOA, IN) + APEX, FORMERR),
    ("pointer-beyond-packet", hdr() + b"\xc0\xff" + struct.pack("!HH", SOA, IN), FORMERR),
    ("truncated-pointer", hdr() + b"\x03abc\xc0", FORMERR),
    ("label-length-64", hdr() + q(b"\x40" + b"a" * 64 + APEX), FORMERR),
    ("name-over-255", hdr() + q(label(b"x" * 63) * 5 + b"\x00"), FORMERR),
    ("name-256", hdr() + q(NAME_256, TXT), FORMERR),
    ("reserved-label-0x40", hdr() + q(b"\x41" + b"a" * 1 + APEX), FORMERR),
    ("reserved-label-0x80", hdr() + q(b"\x80" + APEX), FORMERR),
    ("reserved-label-0xbf", hdr() + q(b"\xbf\x01" + APEX), FORMERR),
    ("edns-option-length-beyond-rdata",
     hdr(ar=1) + q() + opt(option(10, b"12345678", length=20)), FORMERR),
    ("edns-option-header-cut", hdr(ar=1) + q() + opt(b"\x00\x0a\x00"), FORMERR),
    ("two-opt", hdr(ar=2) + q() + opt() + opt(), FORMERR),
    ("opt-non-root-owner", hdr(ar=1) + q() + opt(owner=label(b"a") + b"\x00"), FORMERR),
    ("opt-rdlength-beyond-packet", hdr(ar=1) + q() + opt(rdlen=100), FORMERR),
    ("opt-fixed-part-cut", hdr(ar=1) + q() + opt()[:7], FORMERR),
    ("arcount-without-records", hdr(ar=1) + q(), FORMERR),
    ("arcount-2-one-record", hdr(ar=2) + q() + opt(), FORMERR),
    ("qdcount-0", hdr(qd=0), FORMERR),
    ("qdcount-0-with-question", hdr(qd=0) + q(), FORMERR),
    ("qdcount-2", hdr(qd=2) + q() + q(), FORMERR),
    ("qdcount-65535", hdr(qd=65535) + q(), FORMERR),
    ("ancount-1", hdr(an=1) + q() + A_RR, FORMERR),
    ("nscount-1", hdr(ns=1) + q() + A_RR, FORMERR),
    ("trailing-after-question", hdr() + q() + b"\x00\x01\x02", FORMERR),
    ("trailing-one-byte", hdr() + q() + b"\x00", FORMERR),
    ("trailing-after-opt", hdr(ar=1) + q() + opt() + b"\xde\xad", FORMERR),
    ("qtype-opt", hdr() + q(rdtype=OPT_T), FORMERR),
    ("notimp-garbage-after-header", hdr(flags=6 << 11, qd=3) + b"\xff" * 9, NOTIMP),
    ("update-garbage-after-header", hdr(flags=5 << 11, qd=3) + b"\xff" * 9, FORMERR),
    ("update-no-zone", hdr(flags=5 << 11, qd=0), FORMERR),
    ("update-truncated-rr", hdr(flags=5 << 11, qd=1, an=1) + q(rdtype=6) + APEX, FORMERR),
] + [
    ("garbage-%d" % seed, garbage(seed), expected_for_garbage(garbage(seed)))
    for seed in (1, 2, 3, 4, 5, 6)
] + [
    ("garbage-query-header-%d" % seed, hdr() + garbage(seed, 88), FORMERR)
    for seed in (7, 8, 9)
]


@pytest.fixture(scope="module")
def srv(shared_server):
    acc = shared_server.register()
    shared_server.ctl("txt", "add", acc["subdomain"], value(1))
    shared_server.full = acc["subdomain"] + "." + ZONE
    return shared_server


def assert_still_serving(srv):
    r = srv.query(srv.full, "TXT")
    assert r.rcode() == dns.rcode.NOERROR
    assert [b"".join(rd.strings).decode() for rd in r.answer[0]] == [value(1)]
    assert srv.proc.poll() is None


@pytest.mark.parametrize("tcp", [False, True], ids=["udp", "tcp"])
@pytest.mark.parametrize("packet,expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_malformed(srv, packet, expected, tcp):
    replies = srv.replies_before_probe(packet, tcp=tcp)
    if expected is DROP:
        assert replies == []
    else:
        assert len(replies) == 1
        reply = replies[0]
        rid, flags, qd, an, ns, ar = struct.unpack("!HHHHHH", reply[:12])
        assert rid == struct.unpack("!H", packet[:2])[0]
        assert flags & 0x8000                       # QR
        assert flags & 0xF == expected, "rcode %d" % (flags & 0xF)
        if expected in (FORMERR, NOTIMP):
            assert (an, ns) == (0, 0)
            assert not flags & 0x0400               # no AA on an error
        else:
            # the well-formed controls parse as normal DNS messages
            r = dns.message.from_wire(reply)
            assert r.rcode() == expected
    assert_still_serving(srv)


def test_garbage_storm(srv):
    rng = random.Random(42)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.setblocking(True)
        for _ in range(2000):
            s.sendto(rng.randbytes(rng.randint(12, 600)), ("127.0.0.1", srv.port))
    assert_still_serving(srv)
    assert srv.query(ZONE, "SOA").answer[0].rdtype == dns.rdatatype.SOA
    assert srv.proc.poll() is None


def test_tcp_garbage_stream(srv):
    """Random framed messages on one connection, then a real query: its
    answer arrives after at most one reply per garbage message."""
    rng = random.Random(43)
    msgs = [rng.randbytes(rng.randint(1, 600)) for _ in range(300)]
    probe = dns.message.make_query(srv.full, "TXT")
    probe.id = 0xFFFF
    for m in msgs:   # no garbage message may share the probe's ID
        assert m[:2] != b"\xff\xff"
    with srv.tcp_connect(timeout=5) as c:
        c.sendall(b"".join(tcp_frame(m) for m in msgs) + tcp_frame(probe.to_wire()))
        n = 0
        while True:
            data = recv_tcp_msg(c)
            assert data is not None
            if data[:2] == b"\xff\xff":
                break
            n += 1
        assert n <= len(msgs)
        r = dns.message.from_wire(data)
        assert [b"".join(rd.strings).decode() for rd in r.answer[0]] == [value(1)]
    assert_still_serving(srv)
