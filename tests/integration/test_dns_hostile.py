# SPDX-License-Identifier: ISC
"""Hostile DNS clients: a flood of UPDATEs nobody may make (unsigned, signed
with a key nobody has, signed badly) costs a few log lines, and every one
is counted in the metrics; a second process cannot take a share of
dns.listen, be it another acmensd or any socket."""

import json
import socket
import subprocess
import time

import dns.message
import dns.query
import dns.rcode
import dns.tsigkeyring
import dns.update
import pytest

from conftest import ACMENSD, ZONE, start_http, wait_for
from test_metrics import get, metrics

FLOOD = 60000
UPDATE_ON = "update:\n  enabled: true\n"


def bad_updates(key_name):
    """Three UPDATEs an outsider can send: unsigned, signed with a key
    nobody has, and signed with an account's key name but a wrong secret."""
    def signed(name, secret):
        ring = dns.tsigkeyring.from_text({name: ("hmac-sha256", secret)})
        u = dns.update.UpdateMessage(ZONE, keyring=ring, keyname=name,
                                     keyalgorithm="hmac-sha256")
        u.add(name, 60, "TXT", "x")
        return u.to_wire()
    u = dns.update.UpdateMessage(ZONE)
    u.add("x." + ZONE, 60, "TXT", "x")
    return [u.to_wire(), signed("nobody." + ZONE, "A" * 43 + "="),
            signed(key_name, "B" * 43 + "=")]


def flood(port, msgs, count, pace=200):
    """count datagrams, round robin over msgs, paced in bursts so that the
    loopback queue rarely overflows; bounded in time."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setblocking(False)
    deadline = time.monotonic() + 60
    try:
        for i in range(count):
            try:
                s.sendto(msgs[i % len(msgs)], ("127.0.0.1", port))
            except BlockingIOError:
                time.sleep(0.001)
            if i % pace == pace - 1:
                time.sleep(0.002)
                try:   # answers pile up in our buffer: throw them away
                    while s.recv(4096):
                        pass
                except BlockingIOError:
                    pass
            assert time.monotonic() < deadline
    finally:
        s.close()


def refused_total(samples):
    return sum(get(samples, "acmens_dns_refused_total", reason=r)
               for r in ("unsigned", "badkey", "badsig"))


def test_bad_update_flood_costs_few_log_lines(make_server):
    api = start_http(make_server, zone={"extra_dns": UPDATE_ON})
    s = api.server
    sub = s.register()["subdomain"]
    key = json.loads(s.ctl("account", "tsig-key", sub).stdout)
    name = key["name"].rstrip(".") + "."
    lines_before = len(s.read_log().splitlines())
    flood(s.port, bad_updates(name), FLOOD)
    # the server has taken in what it will: the counters stop moving
    last = [-1]

    def settled():
        n = refused_total(metrics(api)[1])
        done = n == last[0]
        last[0] = n
        return done
    assert wait_for(settled, 30, step=0.5)
    _, m = metrics(api)
    got = refused_total(m)
    answered = sum(get(m, "acmens_dns_updates_total", rcode=r)
                   for r in ("REFUSED", "NOTAUTH"))
    # every UPDATE received was answered and counted as a refusal, by kind
    assert got == answered
    assert got >= FLOOD // 2, f"only {got} of {FLOOD} counted"
    for reason in ("unsigned", "badkey", "badsig"):
        assert get(m, "acmens_dns_refused_total", reason=reason) >= got // 4
    log = s.read_log().splitlines()[lines_before:]
    assert len(log) < 100, "\n".join(log[:20])
    refusals = [ln for ln in log if "update refused" in ln]
    assert refusals, "the first refusal of each kind is logged"
    # what the lines left out is said, and adds up to what was counted
    logged = len(refusals) + sum(int(f.split("=")[1]) for ln in refusals
                                 for f in ln.split() if f.startswith("suppressed="))
    assert logged <= got
    # and a legitimate client is still served, its update kept
    ring = dns.tsigkeyring.from_text({name: ("hmac-sha256", key["secret"])})
    u = dns.update.UpdateMessage(ZONE, keyring=ring, keyname=name, keyalgorithm="hmac-sha256")
    u.add(name, 60, "TXT", "legit")
    assert dns.query.udp(u, "127.0.0.1", port=s.port, timeout=5).rcode() == dns.rcode.NOERROR
    r = s.query(name, "TXT")
    assert [t.decode() for rr in r.answer for t in rr[0].strings] == ["legit"]


def serves(server, tries=50):
    """Every one of tries queries is answered (none goes to someone else)."""
    for _ in range(tries):
        r = server.query(ZONE, "SOA", timeout=2.0)
        if r.rcode() != dns.rcode.NOERROR or not r.answer:
            return False
    return True


def run_once(server):
    """Run acmensd on server's configuration until it exits (it must fail
    to start); returns (exit code, log)."""
    p = subprocess.run([ACMENSD, "-c", server.config], capture_output=True, text=True,
                       timeout=30)
    return p.returncode, p.stderr + p.stdout


def test_second_acmensd_on_the_same_address(make_server):
    first = make_server()
    assert serves(first)
    other = make_server(start=False)     # its own store
    other.port = first.port
    other.reconfigure()
    code, log = run_once(other)
    assert code != 0
    assert f"127.0.0.1:{first.port}" in log and "in use by another process" in log, log
    # the first still answers every query
    assert serves(first)


@pytest.mark.parametrize("kind", [socket.SOCK_DGRAM, socket.SOCK_STREAM], ids=["udp", "tcp"])
def test_address_held_by_another_socket(make_server, kind):
    s = make_server(start=False)
    holder = socket.socket(socket.AF_INET, kind)
    try:
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        holder.bind(("127.0.0.1", s.port))
        if kind == socket.SOCK_STREAM:
            holder.listen(1)
        code, log = run_once(s)
        assert code != 0
        proto = "udp" if kind == socket.SOCK_DGRAM else "tcp"
        assert f"127.0.0.1:{s.port} ({proto})" in log, log
        assert "in use by another process" in log
    finally:
        holder.close()
    # once the port is free it starts
    s.start()
    assert serves(s, 3)
