#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""A random-subdomain flood: N queries for names never registered under the
zone (UUID-shaped labels, so each is a store lookup), sent round-robin from
SOURCES sockets bound to as many 127.x /24s, as fast as one process can
(or at --qps), while a resolver in another /24 asks for real TXT names
(NAMES accounts in turn, each below dns.rrl.rate) every 2 ms with no
retry. Starts its own acmensd (two workers, loopback, a scratch store),
reads the server's CPU from /proc and its counters from /metrics around
the flood, and prints one JSON record.

    bench/subdomain_flood.py [BUILD_DIR] [N] [--sources K] [--names M] [--qps Q] [--rrl YAML]

BUILD_DIR defaults to build, N to 200000, K to 256, M to 64, Q to 0 (as
fast as it goes). --rrl: the dns.rrl mapping (default: none, so the
defaults apply; "{rate: 0}" turns it off).
"""
import argparse
import json
import multiprocessing
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid

import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tool import answer_ok, build_query, tree  # noqa: E402

ZONE = "acme.example.org."
LEGIT_SOURCE = "127.0.9.1"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def flood(port, n, sources, qps, ready, out):
    """The flood, in its own process so that it does not slow the resolver:
    wires made first, then sent (qps 0: as fast as it goes); out gets
    (sent, seconds). At nice 19: on one machine the generator must not take
    the CPU the server needs, which a flood from elsewhere would not."""
    os.nice(19)
    wires = [build_query(i & 0xFFFF, f"{uuid.uuid4()}.{ZONE}") for i in range(n)]
    socks = []
    for i in range(sources):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((f"127.{30 + i // 256}.{i % 256}.1", 0))
        s.setblocking(False)
        socks.append(s)
    ready.set()
    start, sent = time.monotonic(), 0
    for i, w in enumerate(wires):
        s = socks[i % sources]
        while True:
            try:
                s.sendto(w, ("127.0.0.1", port))
                break
            except BlockingIOError:
                time.sleep(0.0002)
        sent += 1
        if qps and i % 64 == 0:
            time.sleep(max(0.0, start + i / qps - time.monotonic()))
        if i % 1024 == 0:     # replies are not needed: let the kernel drop them
            for s in socks:
                try:
                    while s.recv(4096):
                        pass
                except BlockingIOError:
                    pass
    out.put((sent, time.monotonic() - start))
    for s in socks:
        s.close()


def resolver(port, qnames, until, interval=0.002, timeout=1.0):
    """Ask the names in turn every interval seconds until until() is true:
    latencies in ms of the full answers, how many got no answer within
    timeout, and how many got another (truncated, an error)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((LEGIT_SOURCE, 0))
    s.settimeout(timeout)
    lat, lost, bad, qid = [], 0, 0, 0
    while not until():
        qid = (qid + 1) & 0xFFFF
        t0 = time.monotonic()
        s.sendto(build_query(qid, qnames[qid % len(qnames)]), ("127.0.0.1", port))
        try:
            while True:
                resp = s.recv(4096)
                if resp[:2] == qid.to_bytes(2, "big"):
                    break
            if answer_ok(resp, qid) and not resp[2] & 0x02:
                lat.append((time.monotonic() - t0) * 1000)
            else:
                bad += 1
        except socket.timeout:
            lost += 1
        time.sleep(max(0.0, interval - (time.monotonic() - t0)))
    s.close()
    return lat, lost, bad


def pct(v, p):
    v = sorted(v)
    return round(v[min(len(v) - 1, int(len(v) * p / 100))], 3) if v else None


def counters(url):
    """The DNS counters of /metrics that tell what the flood got."""
    text = requests.get(url + "/metrics", timeout=10).text
    out = {"nxdomain": 0, "limited": 0}
    for m in re.finditer(r'^acmens_dns_queries_total\{transport="udp",qtype="\w+",'
                         r'rcode="NXDOMAIN"\} (\d+)$', text, re.M):
        out["nxdomain"] += int(m[1])
    for m in re.finditer(r'^acmens_dns_rrl_limited_total\{class="\w+"\} (\d+)$', text, re.M):
        out["limited"] += int(m[1])
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build", nargs="?", default="build")
    ap.add_argument("n", nargs="?", type=int, default=200000)
    ap.add_argument("--sources", type=int, default=256)
    ap.add_argument("--names", type=int, default=64)
    ap.add_argument("--qps", type=float, default=0)
    ap.add_argument("--rrl")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        port, http_port = free_port(), free_port()
        cfg = os.path.join(d, "acmens.yaml")
        rrl = f"  rrl: {args.rrl}\n" if args.rrl else ""
        with open(cfg, "w") as f:
            f.write(f"zone:\n  name: {ZONE}\n  ns: [ns1.example.org.]\n"
                    f"  soa:\n    rname: hostmaster.example.org.\n"
                    f"dns:\n  listen: [\"127.0.0.1:{port}\"]\n  workers: 2\n{rrl}"
                    f"http:\n  listen: [\"127.0.0.1:{http_port}\"]\n"
                    f"store:\n  path: {d}/store\n"
                    f"log:\n  level: warning\n")
        ctl = [os.path.join(args.build, "cli", "acmensctl"), "-c", cfg, "--json"]
        qnames = []
        for _ in range(args.names):
            acct = json.loads(subprocess.run(ctl + ["account", "register"], check=True,
                                             capture_output=True, text=True).stdout)
            subprocess.run(ctl + ["txt", "add", acct["subdomain"], "x" * 43], check=True,
                           capture_output=True)
            qnames.append(f"{acct['subdomain']}.{ZONE}")
        url = f"http://127.0.0.1:{http_port}"
        p = subprocess.Popen([os.path.join(args.build, "src", "acmensd"), "-c", cfg],
                             stderr=subprocess.DEVNULL)
        try:
            time.sleep(1.0)
            end = time.monotonic() + 2
            base_lat, base_lost, base_bad = resolver(port, qnames, lambda: time.monotonic() > end)
            ready, out = multiprocessing.Event(), multiprocessing.Queue()
            fl = multiprocessing.Process(target=flood, args=(port, args.n, args.sources,
                                                             args.qps, ready, out))
            fl.start()
            ready.wait(120)
            c0, cpu0, t0 = counters(url), tree(p.pid)["cpu_s"], time.monotonic()
            lat, lost, bad = resolver(port, qnames, lambda: not fl.is_alive())
            sent, secs = out.get(timeout=60)
            fl.join(60)
            time.sleep(0.5)
            c1, cpu1, wall = counters(url), tree(p.pid)["cpu_s"], time.monotonic() - t0
            print(json.dumps({
                "rrl": args.rrl or "defaults", "flood_sent": sent, "flood_seconds": round(secs, 2),
                "flood_qps": round(sent / secs), "sources": args.sources,
                "server_nxdomain": c1["nxdomain"] - c0["nxdomain"],
                "server_limited": c1["limited"] - c0["limited"],
                "server_cpu_s": round(cpu1 - cpu0, 2),
                "server_cores": round((cpu1 - cpu0) / wall, 2),
                "legit_asked": len(lat) + lost + bad, "legit_lost": lost, "legit_other": bad,
                "legit_p50_ms": pct(lat, 50), "legit_p99_ms": pct(lat, 99),
                "legit_max_ms": pct(lat, 100),
                "baseline_p50_ms": pct(base_lat, 50), "baseline_p99_ms": pct(base_lat, 99),
                "baseline_lost": base_lost, "baseline_other": base_bad,
            }))
        finally:
            p.send_signal(signal.SIGTERM)
            p.wait(30)


if __name__ == "__main__":
    sys.exit(main())
