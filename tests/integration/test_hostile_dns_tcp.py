"""Hostile DNS-over-TCP clients: one address, then one network, try to
take every connection slot by trickling bytes; another client's TCP query
is still answered, UDP too; a message that trickles in slower than
dns.tcp_message_timeout is cut off; a peer that stops reading its answers
is closed."""
import json
import os
import socket
import subprocess
import sys
import time

import dns.message
import dns.rcode

from conftest import ZONE, closed_by_reason, recv_tcp_msg, tcp_frame

HERE = os.path.dirname(os.path.abspath(__file__))
MESSAGE_TIMEOUT = 2
EXTRA = f"  tcp_message_timeout: {MESSAGE_TIMEOUT}\n"
IDLE = 30     # far above the message deadline: only the deadline can close


def ask_tcp(s):
    q = dns.message.make_query(ZONE, "SOA")
    with socket.create_connection(("127.0.0.1", s.port), timeout=2) as c:
        c.sendall(tcp_frame(q.to_wire()))
        data = recv_tcp_msg(c)
    return data is not None and dns.message.from_wire(data).id == q.id


def closed_counts(s):
    """acmens_dns_tcp_connections_closed_total by reason, and
    acmens_dns_tcp_refused_total."""
    return closed_by_reason(s.http_url, "acmens_dns_tcp_connections_closed_total",
                            "acmens_dns_tcp_refused_total")


def test_one_network_cannot_take_every_slot(make_server):
    # 64 slots: one address may hold 16, one /24 at most 56
    s = make_server(tcp_max_clients=64, tcp_idle_timeout=IDLE, extra_dns=EXTRA, http={})
    duration = MESSAGE_TIMEOUT + 3
    proc = subprocess.Popen([sys.executable, os.path.join(HERE, "slow_clients.py"),
                             str(s.port), "dns", "0.5", str(duration),
                             "127.0.9.200:100", "127.0.9.*:150"],
                            stdout=subprocess.PIPE, text=True)
    time.sleep(1.0)
    answered = 0
    while proc.poll() is None:
        assert ask_tcp(s)
        assert s.query(ZONE, "SOA").rcode() == dns.rcode.NOERROR
        answered += 1
        time.sleep(0.2)
        if answered >= 10:
            break
    one, net = json.loads(proc.communicate()[0])
    assert answered >= 5
    # held a second or more: what the caps let in
    assert sum(1 for k in one["kept"] if k is None or k > 1.0) <= 16
    held = sum(1 for k in one["kept"] + net["kept"] if k is None or k > 1.0)
    assert 16 < held <= 56
    # trickling never kept one past the message deadline
    assert max(k for k in one["kept"] + net["kept"] if k is not None) < MESSAGE_TIMEOUT + 1.5
    assert len(s.read_log().splitlines()) < 40
    assert ask_tcp(s)
    # each refusal counted under its cap, and once in the total
    counts, refused = closed_counts(s)
    assert counts["max_per_client"] > 0 and counts["network_share"] > 0, counts
    assert refused == sum(counts[k] for k in ("max_clients", "max_per_client",
                                              "network_share", "no_memory"))
    assert refused >= one["connected"] + net["connected"] - held
    # the held ones, trickling, ended at the message deadline
    assert counts["message_timeout"] >= held, counts
    assert counts["idle_timeout"] == 0


def test_trickle_slower_than_the_deadline(make_server):
    s = make_server(tcp_idle_timeout=IDLE, extra_dns=EXTRA, http={})
    before, _ = closed_counts(s)
    wire = tcp_frame(dns.message.make_query(ZONE, "SOA").to_wire())
    with socket.create_connection(("127.0.0.1", s.port), timeout=5) as c:
        start = time.monotonic()
        closed = None
        for i in range(len(wire)):
            try:
                c.sendall(wire[i:i + 1])
                c.settimeout(0.7)
                if c.recv(1) == b"":
                    closed = time.monotonic() - start
                    break
            except socket.timeout:
                continue
            except OSError:
                closed = time.monotonic() - start
                break
        # each byte came well within the idle timeout, the whole message did not
        assert closed is not None
        assert MESSAGE_TIMEOUT - 0.5 < closed < MESSAGE_TIMEOUT + 2
    # a complete query on a new connection is answered as always
    assert ask_tcp(s)
    after, _ = closed_counts(s)
    assert {k: after[k] - before[k] for k in after} == {
        "max_clients": 0, "max_per_client": 0, "network_share": 0, "no_memory": 0,
        "message_timeout": 1, "idle_timeout": 0}


def test_idle_connections_end_counted(make_server):
    s = make_server(tcp_idle_timeout=1, extra_dns="  tcp_max_per_client: 2\n", http={})
    before, refused = closed_counts(s)
    two = [socket.create_connection(("127.0.0.1", s.port), timeout=5,
                                    source_address=("127.0.8.1", 0)) for _ in range(2)]
    time.sleep(0.2)
    with socket.create_connection(("127.0.0.1", s.port), timeout=5,
                                  source_address=("127.0.8.1", 0)) as third:
        assert third.recv(1) == b""           # refused at once
    for c in two:
        assert c.recv(1) == b""               # silent past dns.tcp_idle_timeout
        c.close()
    after, refused_after = closed_counts(s)
    assert {k: after[k] - before[k] for k in after} == {
        "max_clients": 0, "max_per_client": 1, "network_share": 0, "no_memory": 0,
        "message_timeout": 0, "idle_timeout": 2}
    assert refused_after - refused == 1
    assert ask_tcp(s)


def test_a_peer_that_stops_reading_is_closed(make_server):
    """Queries whose answers (7.7 MB) the peer never takes: once the
    socket and the daemon's high-water mark are full and nothing drains
    for dns.tcp_idle_timeout, the connection ends (reset: queries were
    left unread), long before all the answers."""
    from conftest import value
    s = make_server(tcp_idle_timeout=1, txt_max_values=32)
    sub = s.register()["subdomain"]
    s.ctl("txt", "set", sub, *[(value(i) * 5)[:200] for i in range(30)])
    n = 1200
    wire = b"".join(tcp_frame(dns.message.make_query(f"{sub}.{ZONE}", "TXT").to_wire())
                    for _ in range(n))
    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    c.settimeout(5)
    with c:
        c.connect(("127.0.0.1", s.port))
        c.sendall(wire)
        time.sleep(2.5)
        got = 0
        try:
            while recv_tcp_msg(c) is not None:
                got += 1
        except ConnectionResetError:
            pass
    assert got < n
    assert ask_tcp(s)
