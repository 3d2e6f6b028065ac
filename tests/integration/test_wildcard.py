# SPDX-License-Identifier: ISC
"""A server bound to the wildcard address answers from the address each query
was sent to (IP_PKTINFO), so clients that check the source accept it."""

import socket

import dns.message
import dns.rcode

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
    srv = make_server(start=False, listen=["[::]"])
    srv.start(wait=False)
    r = None
    for _ in range(100):
        try:
            r = srv.query(ZONE, "SOA", addr="::1", timeout=0.2)
            break
        except Exception:
            continue
    assert r is not None and r.rcode() == dns.rcode.NOERROR
