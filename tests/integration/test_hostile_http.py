"""Hostile clients that hold HTTP connections: many trickling requests from
one address and from many, and accept() out of descriptors. Throughout,
/health and /update from another address answer within a second, the log
stays small, and nothing stored is lost."""
import json
import os
import socket
import subprocess
import sys
import threading
import time

import requests

from conftest import Server, closed_by_reason, dns_txt, start_http, value

HERE = os.path.dirname(os.path.abspath(__file__))
REQUEST_TIMEOUT = 3
ANSWER_WITHIN = 1.0


def attack(port, interval, duration, *groups):
    return subprocess.Popen([sys.executable, os.path.join(HERE, "slow_clients.py"), str(port),
                             "http", str(interval), str(duration), *groups],
                            stdout=subprocess.PIPE, text=True)


def serve_meanwhile(api, acct, seconds):
    """/health and /update on new connections for that long: the slowest
    answer and the values set."""
    slowest, values, n = 0.0, [], 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        v = value(n)
        n += 1
        t = time.monotonic()
        r = requests.get(api.url + "/health", timeout=10)
        assert r.status_code == 200
        r = requests.post(api.url + "/update", json={"subdomain": acct["subdomain"], "txt": v},
                          headers=acct["headers"], timeout=10)
        assert r.status_code == 200, r.text
        slowest = max(slowest, (time.monotonic() - t) / 2)
        values.append(v)
        time.sleep(0.2)
    return slowest, values


class HeldFrom(threading.Thread):
    """Samples, every 0.25 s, which connections from one address the server
    process has accepted and still holds (its socket descriptors whose peer
    is that address). A connection counts as held when it is in two samples
    half a second apart, so the instant between accept() and a refusal is
    not counted; the peak is the most held at once. Connections still in
    the kernel's accept queue belong to no process and are not counted."""

    def __init__(self, pid, port, addr):
        super().__init__(daemon=True)
        self.pid, self.port = pid, port
        self.peer = "%08X" % int.from_bytes(socket.inet_aton(addr), "little")
        self.stop, self.peak, self.samples = threading.Event(), 0, 0

    def held(self):
        fds = set()
        for fd in os.listdir(f"/proc/{self.pid}/fd"):
            try:
                link = os.readlink(f"/proc/{self.pid}/fd/{fd}")
            except OSError:
                continue
            if link.startswith("socket:["):
                fds.add(link[8:-1])
        mine = set()
        with open(f"/proc/{self.pid}/net/tcp") as f:
            next(f)
            for line in f:
                col = line.split()
                local, remote, inode = col[1], col[2], col[9]
                if (int(local.split(":")[1], 16) == self.port
                        and remote.split(":")[0] == self.peer and inode in fds):
                    mine.add(inode)
        return mine

    def run(self):
        history = []
        while not self.stop.is_set():
            history.append(self.held())
            self.samples += 1
            if len(history) >= 3:
                self.peak = max(self.peak, len(history[-1] & history[-3]))
            self.stop.wait(0.25)


def check_log(s, max_lines=60):
    text = s.read_log()
    assert len(text.splitlines()) < max_lines, text[-3000:]
    assert len(text) < 20000


def test_trickling_connections(make_server, monkeypatch):
    monkeypatch.setattr(Server, "argv_prefix", ["prlimit", "--nofile=1024", "--"])
    api = start_http(make_server, request_timeout=REQUEST_TIMEOUT)
    s = api.server
    acct = api.register()
    held = HeldFrom(s.proc.pid, s.http_port, "127.0.0.2")
    held.start()
    proc = attack(s.http_port, 1.0, REQUEST_TIMEOUT + 5,
                  "127.0.0.2:2000", "127.1.*:2000")
    slowest, values = serve_meanwhile(api, acct, REQUEST_TIMEOUT + 4)
    one, many = json.loads(proc.communicate()[0])
    held.stop.set()
    held.join()
    assert slowest < ANSWER_WITHIN, slowest
    assert len(values) >= 5
    # one address holds at most http.max_connections_per_client (32) at
    # once (more may wait in the kernel's queue to be accepted later; the
    # total cap evicts its waiting ones first, being the oldest)
    assert one["connected"] > 1000
    assert held.samples > 10
    assert held.peak <= 32, held.peak
    # nobody keeps a connection past the request deadline, trickle as it may
    assert many["connected"] > 1000
    kept = [k for k in one["kept"] + many["kept"]]
    assert None not in kept
    assert max(kept) < REQUEST_TIMEOUT + 1.5
    # the deadline, not a refusal, ended some: they were held a while
    assert sum(1 for k in many["kept"] if k > REQUEST_TIMEOUT - 0.5) > 100
    check_log(s)
    assert api.txt(acct) == sorted(values[-2:])
    assert requests.get(api.url + "/health", timeout=5).status_code == 200
    # and the metrics tell why they ended
    counts, _ = closed_counts(api)
    assert counts["max_connections_per_client"] > 0
    assert counts["request_timeout"] > 100


def test_one_address_holds_its_cap(make_server):
    api = start_http(make_server, request_timeout=REQUEST_TIMEOUT)
    s = api.server
    acct = api.register()
    held = HeldFrom(s.proc.pid, s.http_port, "127.0.0.3")
    held.start()
    proc = attack(s.http_port, 1.0, REQUEST_TIMEOUT + 2, "127.0.0.3:300")
    slowest, values = serve_meanwhile(api, acct, REQUEST_TIMEOUT + 1)
    one, = json.loads(proc.communicate()[0])
    held.stop.set()
    held.join()
    assert slowest < ANSWER_WITHIN, slowest
    assert one["connected"] == 300
    # exactly http.max_connections_per_client (32) held at once
    assert held.samples > 10
    assert held.peak == 32, held.peak
    counts, _ = closed_counts(api)
    assert counts["max_connections_per_client"] > 0
    assert api.txt(acct) == sorted(values[-2:])


def test_out_of_descriptors(make_server):
    api = start_http(make_server, request_timeout=REQUEST_TIMEOUT)
    s = api.server
    acct = api.register()
    in_use = len(os.listdir(f"/proc/{s.proc.pid}/fd"))
    # accept() runs out long before any cap of ours is reached
    subprocess.run(["prlimit", f"--pid={s.proc.pid}", f"--nofile={in_use + 40}"], check=True)
    proc = attack(s.http_port, 1.0, REQUEST_TIMEOUT + 2, "127.2.*:1500")
    slowest, values = serve_meanwhile(api, acct, REQUEST_TIMEOUT + 1)
    proc.communicate()
    assert slowest < ANSWER_WITHIN, slowest
    text = s.read_log()
    assert "http accept failed" in text          # it did run out
    counts, _ = closed_counts(api)
    assert counts["evicted"] + counts["shed"] > 0, counts
    check_log(s)
    assert api.txt(acct) == sorted(values[-2:])
    # DNS over TCP has its descriptors back once the clients are gone
    rcode, got = dns_txt(s, acct["fulldomain"], tcp=True)
    assert got == sorted(values[-2:])


def closed_counts(api):
    """acmens_http_connections_closed_total by reason, and the open
    connections gauge, scraped on a connection the server closes after."""
    return closed_by_reason(api.url, "acmens_http_connections_closed_total",
                            "acmens_http_connections", {"Connection": "close"})


def connect(api, addr):
    """A connection from addr that has sent nothing yet."""
    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    c.bind((addr, 0))
    c.settimeout(REQUEST_TIMEOUT + 5)
    c.connect(("127.0.0.1", api.server.http_port))
    return c


def closed_by_server(c):
    """Wait for the server to close c; what it said before."""
    data = b""
    while True:
        chunk = c.recv(4096)
        if not chunk:
            c.close()
            return data.decode(errors="replace")
        data += chunk


def health(c):
    c.sendall(b"GET /health HTTP/1.1\r\nHost: acmens\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = c.recv(4096)
        assert chunk, data
        data += chunk
    assert data.startswith(b"HTTP/1.1 200"), data
    assert b"Connection: close" not in data


def test_closed_connections_are_counted(make_server):
    cap = 8
    api = start_http(make_server, request_timeout=REQUEST_TIMEOUT, max_connections=cap,
                     max_connections_per_client=2)
    before, _ = closed_counts(api)
    # a third connection from one address is refused; the two it has,
    # silent, end at the request deadline
    two = [connect(api, "127.0.3.1") for _ in range(2)]
    time.sleep(0.3)
    third = connect(api, "127.0.3.1")
    assert "too_many_client_connections" in closed_by_server(third)
    for c in two:
        assert closed_by_server(c) == ""
    # every slot taken by silent clients: a new one evicts the oldest
    full = [connect(api, f"127.0.4.{i + 1}") for i in range(cap)]
    time.sleep(0.3)
    newest = connect(api, "127.0.4.100")
    assert closed_by_server(full[0]) == ""
    # every slot held by served clients: a new one is refused
    held = full[1:] + [newest]
    for c in held:
        health(c)
    assert "too_many_connections" in closed_by_server(connect(api, "127.0.5.1"))
    # the served ones end at the deadline too
    for c in held:
        assert closed_by_server(c) == ""
    after, gauge = closed_counts(api)
    moved = {k: after[k] - before.get(k, 0) for k in after}
    assert moved == {"max_connections": 1, "max_connections_per_client": 1, "no_memory": 0,
                     "evicted": 1, "request_timeout": 2 + cap, "shed": 0}, moved
    assert gauge == 1          # this scrape's own connection
