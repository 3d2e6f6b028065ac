#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Server CPU per query for queries signed with a key nobody has, against
unsigned ones: what a flood of forged TSIG costs acmensd. Starts its own
acmensd (one worker, loopback), sends N queries of each kind from one
socket, paced so that loopback drops nothing, and reads the CPU time
(utime + stime, /proc) of the process and of its busiest thread (the DNS
worker) around each run.

    bench/tsig_flood.py [BUILD_DIR] [N] [--store DIR] [--register RATE]

BUILD_DIR defaults to build, N to 50000. --store: serve a store made
beforehand (bench/load_store -k fills one with accounts that have TSIG
keys; it gets the registrations below); default a scratch store.
--register RATE: meanwhile, register RATE accounts a second over the HTTP
API, so that the accounts' generation keeps moving (the signed run is then
measured while the key table is being rebuilt).
"""
import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import dns.message
import dns.tsigkeyring
import requests

ZONE = "acme.example.org."


def ticks(path):
    with open(path) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def threads(pid):
    """{tid: CPU seconds} of every thread of pid."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            out[tid] = ticks(f"/proc/{pid}/task/{tid}/stat")
        except OSError:
            pass
    return out


def send(port, wire, n, window=64):
    """n queries, at most window unanswered at a time; returns answers."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(1.0)
    got = sent = 0
    while got < n:
        while sent < n and sent - got < window:
            s.sendto(wire, ("127.0.0.1", port))
            sent += 1
        try:
            s.recv(4096)
            got += 1
        except socket.timeout:
            got = sent      # lost: move on
    s.close()
    return got


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def register_loop(url, rate, stop, done):
    """POST /register at rate a second until stop is set."""
    next_at = time.monotonic()
    with requests.Session() as session:
        while not stop.is_set():
            r = session.post(url + "/register", json={}, timeout=10)
            if r.status_code == 201:
                done.append(1)
            next_at += 1.0 / rate
            time.sleep(max(0.0, next_at - time.monotonic()))


def measure(pid, port, wire, n, worker=None):
    """(answered, seconds, process CPU per query in us, {tid: thread CPU per
    query in us}, the worker's tid: the busiest thread unless given)."""
    before, t_before = ticks(f"/proc/{pid}/stat"), threads(pid)
    t0 = time.monotonic()
    got = send(port, wire, n)
    secs = time.monotonic() - t0
    after, t_after = ticks(f"/proc/{pid}/stat"), threads(pid)
    per = {t: (t_after[t] - t_before.get(t, 0)) / got * 1e6 for t in t_after}
    worker = worker or max(per, key=per.get)
    return got, secs, (after - before) / got * 1e6, per, worker


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build", nargs="?", default="build")
    ap.add_argument("n", nargs="?", type=int, default=50000)
    ap.add_argument("--store")
    ap.add_argument("--register", type=float, default=0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        port, http_port = free_port(), free_port()
        cfg = os.path.join(d, "acmens.yaml")
        with open(cfg, "w") as f:
            f.write(f"zone:\n  name: {ZONE}\n  ns: [ns1.example.org.]\n"
                    f"  soa:\n    rname: hostmaster.example.org.\n"
                    f"dns:\n  listen: [\"127.0.0.1:{port}\"]\n  workers: 1\n"
                    f"  rrl: {{rate: 0}}\n"
                    f"http:\n  listen: [\"127.0.0.1:{http_port}\"]\n  register_rate: 0\n"
                    f"store:\n  path: {args.store or d + '/store'}\n  max_size: 4G\n"
                    f"log:\n  level: warning\n")
        p = subprocess.Popen([os.path.join(args.build, "src", "acmensd"), "-c", cfg],
                             stderr=subprocess.DEVNULL)
        stop, done = threading.Event(), []
        reg = None
        try:
            time.sleep(1.0)
            plain = dns.message.make_query("x." + ZONE, "TXT").to_wire()
            q = dns.message.make_query("x." + ZONE, "TXT")
            q.use_tsig(dns.tsigkeyring.from_text({"nobody." + ZONE: "A" * 43 + "="}),
                       keyname="nobody." + ZONE, algorithm="hmac-sha256")
            signed = q.to_wire()
            send(port, plain, 2000)          # warm up
            res, worker = {}, None
            for kind, wire in (("unsigned", plain), ("unknown key", signed)):
                if kind == "unknown key" and args.register:
                    reg = threading.Thread(target=register_loop, args=(
                        f"http://127.0.0.1:{http_port}", args.register, stop, done))
                    reg.start()
                    time.sleep(1.0)
                got, secs, proc, per, worker = measure(p.pid, port, wire, args.n, worker)
                res[kind] = per[worker]
                others = max([v for t, v in per.items() if t != worker] + [0])
                print(f"{kind:12s} {got} answered in {secs:.1f} s: {per[worker]:.2f} us worker "
                      f"CPU per query, {proc:.2f} us process CPU per query (busiest other "
                      f"thread {others:.2f})")
            stop.set()
            if reg:
                reg.join()
                print(f"registrations meanwhile: {len(done)}")
            print(f"ratio unknown key / unsigned (worker): "
                  f"{res['unknown key'] / res['unsigned']:.2f}")
        finally:
            stop.set()
            p.send_signal(signal.SIGTERM)
            p.wait(30)


if __name__ == "__main__":
    sys.exit(main())
