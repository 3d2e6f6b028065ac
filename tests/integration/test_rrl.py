# SPDX-License-Identifier: ISC
"""dns.rrl against a live acmensd. One source flooding one name gets the
rate plus the burst, every other limited response back truncated (slip 2),
its TCP retry answered, and fewer bytes back than it sent, while a client
in another /24 is answered in full throughout. Exempt networks are never
limited, rate 0 is off, and SIGHUP applies new limits. A random-subdomain
flood from many networks leaves a legitimate client answered."""

import re
import signal
import socket
import struct
import threading
import time
import uuid

import dns.exception
import dns.flags
import dns.message
import dns.query
import dns.rcode

from conftest import BASE_RECORDS, ZONE, start_http, value, wait_for

NAME = "static-txt." + ZONE
RECORDS = BASE_RECORDS + [f'{NAME} 300 IN TXT "reflect me"']
RATE = 20            # dns.rrl.rate's default, which the flood runs against
FLOOD = 20000
TC = 0x0200


def rrl_counts(api):
    """{(action, class): n} from acmens_dns_rrl_total in /metrics."""
    r = api.call("GET", "/metrics")
    assert r.status_code == 200, r.text
    found = re.findall(r'^acmens_dns_rrl_total\{action="(\w+)",class="(\w+)"\} (\d+)$',
                       r.text, re.M)
    assert found, "no acmens_dns_rrl_total in /metrics"
    return {(a, c): int(n) for a, c, n in found}


class Tally:
    """What one client sent and got back, counted from the raw replies."""

    def __init__(self):
        self.sent = self.bytes_sent = self.bytes_received = 0
        self.answered = self.truncated = 0      # answers with records; TC replies
        self.seconds = 0.0

    def take(self, sock):
        """Count every reply waiting on the (non-blocking) socket."""
        while True:
            try:
                data = sock.recv(65535)
            except BlockingIOError:
                return
            self.bytes_received += len(data)
            flags, ancount = struct.unpack_from("!2xH2xH", data)
            if flags & TC:
                self.truncated += 1
            elif ancount:
                self.answered += 1


def udp_socket(source):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    s.bind((source, 0))
    s.setblocking(False)
    return s


def flood(port, source, wire, count, seconds=30.0):
    """count copies of wire from source, as fast as the socket takes them
    (within seconds), replies read as they come and for 1 s after."""
    t = Tally()
    with udp_socket(source) as s:
        start = time.monotonic()
        while t.sent < count and time.monotonic() - start < seconds:
            try:
                s.sendto(wire, ("127.0.0.1", port))
            except BlockingIOError:    # the send buffer is full: read, then go on
                t.take(s)
                time.sleep(0.0005)
                continue
            t.sent += 1
            t.bytes_sent += len(wire)
            if t.sent % 32 == 0:
                t.take(s)
        t.seconds = time.monotonic() - start
        end = time.monotonic() + 1.0
        while time.monotonic() < end:
            t.take(s)
            time.sleep(0.01)
    return t


def lockstep(port, source, wire, count, batch=20):
    """count copies of wire from source, batch at a time, each batch's
    replies awaited (up to 2 s) before the next: nothing is lost to a full
    queue, so every query the server answers comes back."""
    t = Tally()
    with udp_socket(source) as s:
        while t.sent < count:
            n = min(batch, count - t.sent)
            got = t.answered + t.truncated + n
            for _ in range(n):
                s.sendto(wire, ("127.0.0.1", port))
            t.sent += n
            t.bytes_sent += n * len(wire)
            deadline = time.monotonic() + 2.0
            while t.answered + t.truncated < got and time.monotonic() < deadline:
                t.take(s)
                time.sleep(0.001)
    return t


def ask(port, source, name, tries=3, timeout=1.0):
    """One question over UDP from source, asked again on a timeout as a
    resolver would; the response, or None."""
    q = dns.message.make_query(name, "TXT")
    for _ in range(tries):
        try:
            return dns.query.udp(q, "127.0.0.1", port=port, timeout=timeout, source=source)
        except dns.exception.Timeout:
            pass
    return None


def steadily(port, source, name, stop, out, interval, at_least=5):
    """Ask every interval seconds until stop is set (at least at_least times)."""
    while len(out) < at_least or not stop.is_set():
        out.append(ask(port, source, name))
        time.sleep(interval)


def txt_of(r):
    return [b"".join(rd.strings).decode() for rrset in r.answer for rd in rrset]


def assert_served(replies, expect):
    """Every reply arrived, in full (no TC), with the value expected."""
    assert replies
    for i, r in enumerate(replies):
        assert r is not None, f"query {i} of {len(replies)} was never answered"
        assert r.rcode() == dns.rcode.NOERROR, r
        assert not r.flags & dns.flags.TC, f"query {i}: truncated"
        assert txt_of(r) == [expect], r


def test_one_source_flooding_one_name(make_server):
    api = start_http(make_server, admin_token=None, zone={"records": RECORDS, "rrl": None})
    srv = api.server
    wire = dns.message.make_query(NAME, "TXT").to_wire()
    before = rrl_counts(api)
    stop, other = threading.Event(), []
    # the same name from 127.0.1.0/24, ten times a second, all along
    t = threading.Thread(target=steadily, args=(srv.port, "127.0.1.10", NAME, stop, other, 0.1))
    t.start()
    try:
        f = flood(srv.port, "127.0.0.10", wire, FLOOD)
    finally:
        stop.set()
        t.join(30)
    after = rrl_counts(api)
    assert f.sent == FLOOD
    slipped = after[("slipped", "answer")] - before[("slipped", "answer")]
    dropped = after[("dropped", "answer")] - before[("dropped", "answer")]

    # answers with records: the burst (one second's worth), then the rate
    assert RATE // 2 <= f.answered <= RATE * (f.seconds + 1) + RATE, vars(f)
    # the server limited the rest, and sent every second one truncated
    assert slipped + dropped >= FLOOD // 20, (slipped, dropped)
    assert abs(slipped - dropped) <= 2, (slipped, dropped)
    assert 0.9 * slipped <= f.truncated <= slipped, (vars(f), slipped)
    # no amplification: what came back is smaller than what was sent
    assert f.bytes_received <= f.bytes_sent, vars(f)
    # the other /24 was answered in full throughout
    assert_served(other, "reflect me")

    # still limited: a truncated reply comes within a few tries (every
    # second limited one), and the TCP retry is answered in full
    q = dns.message.make_query(NAME, "TXT")
    tc = None
    for _ in range(8):
        try:
            r = dns.query.udp(q, "127.0.0.1", port=srv.port, timeout=0.3, source="127.0.0.10")
        except dns.exception.Timeout:
            continue
        if r.flags & dns.flags.TC:
            tc = r
            break
    assert tc is not None, "no truncated reply to a limited client"
    assert not tc.answer and tc.question[0].name == q.question[0].name
    r = dns.query.tcp(q, "127.0.0.1", port=srv.port, timeout=5, source="127.0.0.10")
    assert_served([r], "reflect me")


def test_exempt_rate_zero_and_reload(make_server):
    api = start_http(make_server, admin_token=None,
                     zone={"records": RECORDS, "rrl": "{rate: 5, exempt: [127.0.2.0/24]}"})
    srv = api.server
    wire = dns.message.make_query(NAME, "TXT").to_wire()
    before = rrl_counts(api)
    t = lockstep(srv.port, "127.0.2.1", wire, 1000)
    assert (t.answered, t.truncated) == (1000, 0), vars(t)
    assert rrl_counts(api) == before

    # outside the exempt range the same queries are limited
    f = flood(srv.port, "127.0.0.20", wire, 500)
    assert f.answered <= 5 * (f.seconds + 1) + 5 and f.truncated > 0, vars(f)
    assert rrl_counts(api) != before

    # rate 0 on SIGHUP: off at once, even for a client in debt
    srv.reconfigure(rrl="{rate: 0}")
    mark = srv.read_log().count("configuration reloaded")
    srv.proc.send_signal(signal.SIGHUP)
    assert wait_for(lambda: srv.read_log().count("configuration reloaded") > mark, 10)
    before = rrl_counts(api)
    t = lockstep(srv.port, "127.0.0.20", wire, 1000)
    assert (t.answered, t.truncated) == (1000, 0), vars(t)
    assert rrl_counts(api) == before


def test_random_subdomain_flood_leaves_legitimate_client_served(make_server):
    """Never-registered names from 64 networks, one of them the resolver's
    own (its NXDOMAIN bucket is the flood's; its answers have their own),
    while the resolver asks for a real TXT name every 50 ms: each of its
    questions is answered, with the value, within 3 s (resolver retries
    included)."""
    srv = make_server(rrl=None)
    sub = srv.register()["subdomain"]
    srv.ctl("txt", "add", sub, value(1))
    real = f"{sub}.{ZONE}"
    sources = [udp_socket(f"127.20.{i}.1") for i in range(63)] + [udp_socket("127.0.9.2")]
    stop, legit = threading.Event(), []
    t = threading.Thread(target=steadily, args=(srv.port, "127.0.9.1", real, stop, legit, 0.05))
    t.start()
    flood_replies = Tally()
    try:
        deadline = time.monotonic() + 60
        for _ in range(100):
            for s in sources:
                name = f"{uuid.uuid4()}.{ZONE}"
                s.sendto(dns.message.make_query(name, "TXT").to_wire(), ("127.0.0.1", srv.port))
                flood_replies.take(s)
            if time.monotonic() > deadline:
                break
        time.sleep(0.5)
        for s in sources:
            flood_replies.take(s)
    finally:
        stop.set()
        t.join(60)
        for s in sources:
            s.close()
    assert flood_replies.bytes_received > 0, "the flood was not answered at all"
    assert_served(legit, value(1))
    assert len(legit) >= 5
