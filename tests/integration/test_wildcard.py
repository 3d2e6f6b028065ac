# SPDX-License-Identifier: ISC
"""A server bound to the wildcard address answers from the address each query
was sent to (IP_PKTINFO), so clients that check the source accept it."""

import socket
import time

import dns.message
import dns.rcode
import dns.rdatatype

from conftest import ZONE


def test_wildcard_bind_replies_from_the_queried_address(make_server):
    srv = make_server(start=False, listen=["0.0.0.0"])
    srv.start(wait=False)
    srv.wait_ready()
    for dest in ("127.0.0.1", "127.0.0.2", "127.0.0.3"):
        q = dns.message.make_query(ZONE, "SOA")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(2)
            s.sendto(q.to_wire(), (dest, srv.port))
            data, source = s.recvfrom(65535)
        assert source == (dest, srv.port)
        r = dns.message.from_wire(data)
        assert r.id == q.id and r.rcode() == dns.rcode.NOERROR


def test_wildcard_ipv6_bind_answers(make_server):
    """Bound to [::], a query to ::1 is answered from ::1. Until the
    listener is up a query times out or is refused; nothing else is
    expected, and the wait is bounded."""
    srv = make_server(start=False, listen=["[::]"])
    srv.start(wait=False)
    q = dns.message.make_query(ZONE, "SOA")
    deadline = time.monotonic() + 10
    with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
        s.settimeout(0.2)
        while True:
            assert srv.proc.poll() is None, "acmensd exited:\n" + srv.read_log()
            s.sendto(q.to_wire(), ("::1", srv.port))
            try:
                data, source = s.recvfrom(65535)
                break
            except (socket.timeout, ConnectionRefusedError):
                assert time.monotonic() < deadline, "no answer over IPv6 within 10 s"
    assert source[:2] == ("::1", srv.port)
    r = dns.message.from_wire(data)
    assert r.id == q.id and r.rcode() == dns.rcode.NOERROR
    assert [(rr.name.to_text(), dns.rdatatype.to_text(rr.rdtype)) for rr in r.answer] == \
        [(ZONE, "SOA")]
