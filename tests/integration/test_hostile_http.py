"""Hostile clients that hold HTTP connections: many trickling requests from
one address and from many, and accept() out of descriptors. Throughout,
/health and /update from another address answer within a second, the log
stays small, and nothing stored is lost."""
import json
import os
import subprocess
import sys
import time

import requests

from conftest import Server, dns_txt, start_http, value

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


def check_log(s, max_lines=60):
    text = s.read_log()
    assert len(text.splitlines()) < max_lines, text[-3000:]
    assert len(text) < 20000


def test_trickling_connections(make_server, monkeypatch):
    monkeypatch.setattr(Server, "argv_prefix", ["prlimit", "--nofile=1024", "--"])
    api = start_http(make_server, request_timeout=REQUEST_TIMEOUT)
    s = api.server
    acct = api.register()
    proc = attack(s.http_port, 1.0, REQUEST_TIMEOUT + 5,
                  "127.0.0.2:2000", "127.1.*:2000")
    slowest, values = serve_meanwhile(api, acct, REQUEST_TIMEOUT + 4)
    one, many = json.loads(proc.communicate()[0])
    assert slowest < ANSWER_WITHIN, slowest
    assert len(values) >= 5
    # one address keeps at most http.max_connections_per_client (32)
    assert one["connected"] > 1000
    assert sum(1 for k in one["kept"] if k is None or k > 1.0) <= 32
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
    check_log(s)
    assert api.txt(acct) == sorted(values[-2:])
    # DNS over TCP has its descriptors back once the clients are gone
    rcode, got = dns_txt(s, acct["fulldomain"], tcp=True)
    assert got == sorted(values[-2:])
