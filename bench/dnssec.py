#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""bench/dnssec.py: signed TXT answers per server CPU-second, acmensd's
online signing against Knot DNS's mod-onlinesign on the same data with the
same key, with the signature cache warm and cold; and the UDP answer sizes
with DO for 1, 2 and 4 TXT values. Per algorithm (ECDSA P-256, Ed25519):

- the store is filled by bench/load_store (as bench/run does: N accounts,
  BENCH_DNSSEC_VALUES values each) and acmensd starts with dnssec.enabled,
  making its key; the key goes to knotd through `acmensctl dnssec
  export-key` and `keymgr import-pem`, and knotd serves the zone file
  load_store wrote, signing every answer as it goes out (knotd keeps no
  signatures: warm and cold are the same work for it);
- warm: dnsperf with DO asks TXT at the first BENCH_DNSSEC_WARM names, over
  and over: after the first pass every RRset's signature is in acmensd's
  cache;
- cold: dnsperf asks TXT at all N names in a shuffled order, each once per
  pass of the file. acmensd's cache (docs/dnssec.md, "The signature cache": per
  answering thread an 8 MiB ring found through 32,768 slots,
  two to a hash) holds far fewer than N signatures, and has long dropped a name's
  when the name comes round again, so every answer is signed, as if the
  values changed between queries. The signature cache's hits and misses
  (acmensd's /metrics) are recorded to show it;
- unsigned: the warm names without DO, for what each server does
  without signing;
- CPU seconds are the server's process tree's (utime + stime from /proc,
  bench/tool.py), read before and after each dnsperf run; the figure is
  answers (NOERROR) per CPU-second;
- sizes: three accounts with 1, 2 and 4 values (in both servers' data), each
  asked with DO (EDNS payload 1232) over UDP: the answer's bytes.

Writes records.jsonl and summary.md to bench/results/dnssec-<time>/;
docs/PERFORMANCE.md ("DNSSEC: signed answers") has the last run's figures.

Environment (defaults in brackets): BENCH_DNSSEC_NAMES (N) [200000];
BENCH_DNSSEC_WARM [1000]; BENCH_DNSSEC_VALUES [1]; BENCH_DNSSEC_SECONDS
per dnsperf run [5]; BENCH_DNSSEC_ALGORITHMS [ecdsap256sha256 ed25519];
BENCH_CLIENTS (dnsperf -c) [10]; BENCH_REPS [1]; BENCH_BUILD (build
directory) [build]; BENCH_WORKDIR [mktemp under /var/tmp]; BENCH_KEEP=1
keeps it."""

import json
import os
import random
import re
import socket
import subprocess
import sys

import dns.dnssec
import dns.flags
import dns.message
import requests

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("BENCH_BUILD", os.path.join(TOP, "build"))
sys.path.insert(0, os.path.join(TOP, "tests", "integration"))
sys.path.insert(0, os.path.join(TOP, "bench"))
sys.path.append(os.path.join(TOP, "tests", "e2e"))     # after: conftest is integration's
os.environ.setdefault("ACMENS_BUILD", BUILD)
from conftest import ZONE, Knot, Server, value  # noqa: E402
from dnssec_peers import dnskeys, import_key, onlinesign  # noqa: E402
from tool import (bench_dirs, build_load_store, parse_dnsperf, save_results, stop_all,  # noqa: E402
                  tree)

NAMES = int(os.environ.get("BENCH_DNSSEC_NAMES", 200000))
WARM = int(os.environ.get("BENCH_DNSSEC_WARM", 1000))
VALUES = int(os.environ.get("BENCH_DNSSEC_VALUES", 1))
SECS = int(os.environ.get("BENCH_DNSSEC_SECONDS", 5))
ALGORITHMS = os.environ.get("BENCH_DNSSEC_ALGORITHMS", "ecdsap256sha256 ed25519").split()
CLIENTS = int(os.environ.get("BENCH_CLIENTS", 10))
REPS = int(os.environ.get("BENCH_REPS", 1))
SIZES = (1, 2, 4)


def query_files(names_file, d):
    """warm.txt: TXT at the first WARM names; cold.txt: every name once, in
    a shuffled order (the same seed every time)."""
    with open(names_file) as f:
        names = [line.strip() for line in f if line.strip()]
    random.Random(42).shuffle(names)
    for kind, subset in (("warm", names[:WARM]), ("cold", names)):
        with open(os.path.join(d, f"{kind}.txt"), "w") as f:
            f.write("".join(f"{n}.{ZONE} TXT\n" for n in subset))


def sigcache_counts(srv):
    """{metric: value} of acmensd's signature-cache and signing counters."""
    r = requests.get(srv.http_url + "/metrics", timeout=10)
    out = {}
    for line in r.text.splitlines():
        m = re.match(r"(acmens_\w*(?:sigcache|signature|sign)\w*(?:\{[^}]*\})?) (\d+)$", line)
        if m:
            out[m.group(1)] = int(m.group(2))
    return out


def dnsperf(name, port, pid, qfile, tag, out, do=True):
    """One dnsperf run, with DO unless told; the record with CPU seconds
    and answers per CPU-second of the server's process tree."""
    raw = os.path.join(out, f"{tag}.txt")
    before = tree(pid)
    with open(raw, "w") as f:
        subprocess.run(["dnsperf", "-s", "127.0.0.1", "-p", str(port), "-d", qfile,
                        *(["-D"] if do else []),
                        "-t", "2", "-q", "300", "-l", str(SECS), "-c", str(CLIENTS)],
                       stdout=f, stderr=subprocess.STDOUT, check=False)
    after = tree(pid)
    r = parse_dnsperf(raw)
    cpu = round(after["cpu_s"] - before["cpu_s"], 3)
    noerror = int(re.search(r"NOERROR (\d+)", r.get("rcodes", "NOERROR 0")).group(1))
    r.update(kind="dnsperf", server=name, cpu_s=cpu, noerror=noerror,
             per_cpu_s=round(noerror / cpu) if cpu > 0 else None)
    return r


def size_accounts(srv):
    """Accounts with 1, 2 and 4 values: {count: (fulldomain, [values])}."""
    sess, out = requests.Session(), {}
    for n in SIZES:
        acct = sess.post(srv.http_url + "/v1/register", timeout=10).json()
        creds = {"X-Api-User": acct["username"], "X-Api-Key": acct["password"]}
        vals = [value(100 * n + i) for i in range(n)]
        for v in vals:
            r = sess.post(f"{srv.http_url}/v1/accounts/{acct['subdomain']}/txt",
                          json={"value": v}, headers=creds, timeout=10)
            if r.status_code != 201:
                sys.exit(f"adding a value failed: {r.status_code} {r.text}")
        out[n] = (acct["fulldomain"] + ".", vals)
    return out


def sizes(servers, accounts):
    """Bytes of the UDP answer with DO (payload 1232) for each count, as
    they came off the socket."""
    recs = []
    for name, port in servers.items():
        for n, (fqdn, _) in accounts.items():
            q = dns.message.make_query(fqdn, "TXT", want_dnssec=True, payload=1232)
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.settimeout(2.0)
                s.sendto(q.to_wire(), ("127.0.0.1", port))
                raw = s.recv(65535)
            r = dns.message.from_wire(raw)
            recs.append({"kind": "size", "server": name, "values": n, "bytes": len(raw),
                         "tc": bool(r.flags & dns.flags.TC),
                         "rrsigs": sum(len(x) for x in r.answer if x.rdtype == 46)})
    return recs


class Run:
    """One algorithm: acmensd and knotd on the same data and key."""

    def __init__(self, work, loader, algorithm, daemons):
        self.dir = os.path.join(work, algorithm)
        self.algorithm = algorithm
        os.makedirs(os.path.join(self.dir, "acmens"))
        srv = Server(os.path.join(self.dir, "acmens"), http={"register_rate": 0},
                     extra_dns=f"dnssec:\n  enabled: true\n  algorithm: {algorithm}\n",
                     log_level="warning")
        zonefile, names = os.path.join(self.dir, "zone"), os.path.join(self.dir, "names")
        load = subprocess.run([loader, "-d", srv.store, "-z", ZONE, "-n", str(NAMES),
                               "-v", str(VALUES), "-Z", zonefile, "-L", names],
                              capture_output=True, text=True, check=True)
        self.load = json.loads(load.stdout) if load.stdout.strip().startswith("{") else {}
        daemons[f"acmensd-{algorithm}"] = self.srv = srv.start()
        query_files(names, self.dir)
        self.accounts = size_accounts(srv)
        self.knot = self.start_knot(zonefile, daemons)

    def start_knot(self, zonefile, daemons):
        keys = dnskeys(self.srv.port, ZONE)
        tag = dns.dnssec.key_id(keys[0])
        pem = os.path.join(self.dir, "key.pem")
        self.srv.ctl("dnssec", "export-key", str(tag), "--out", pem, json_out=False)
        with open(zonefile) as f:
            text = f.read()
        for fqdn, vals in self.accounts.values():
            text += "".join(f'{fqdn} 1 IN TXT "{v}"\n' for v in vals)
        extra, zone_extra = onlinesign(self.algorithm)
        knot = Knot(os.path.join(self.dir, "knot"), text, zone=ZONE, extra=extra,
                    zone_extra=zone_extra)
        import_key(knot.conf, ZONE, pem, self.algorithm)
        daemons[f"knotd-{self.algorithm}"] = knot.start(timeout=120)
        return knot

    def measure(self, out):
        servers = {"acmens": (self.srv.port, self.srv.proc.pid),
                   "knot": (self.knot.port, self.knot.proc.pid)}
        recs = []
        # unsigned: the warm names without DO, what the same servers do
        # without signing
        for mode in ("unsigned", "warm", "cold"):
            qfile = os.path.join(self.dir, f"{'warm' if mode == 'unsigned' else mode}.txt")
            for rep in range(REPS):
                for name, (port, pid) in servers.items():
                    before = sigcache_counts(self.srv)
                    r = dnsperf(name, port, pid, qfile, f"{self.algorithm}-{mode}-{name}-r{rep}",
                                out, do=mode != "unsigned")
                    after = sigcache_counts(self.srv)
                    if name == "acmens":
                        r["acmens_counters"] = {k: v - before.get(k, 0) for k, v in after.items()
                                                if v != before.get(k, 0)}
                    r.update(algorithm=self.algorithm, mode=mode, rep=rep, clients=CLIENTS,
                             names=NAMES if mode == "cold" else WARM)
                    print(json.dumps(r), flush=True)
                    recs.append(r)
        ports = {k: v[0] for k, v in servers.items()}
        for r in sizes(ports, self.accounts):
            r["algorithm"] = self.algorithm
            print(json.dumps(r), flush=True)
            recs.append(r)
        return recs


def hit_share(r):
    """The share of signature lookups the cache answered (acmens only)."""
    c = r.get("acmens_counters")
    if not c:           # knotd, or no signature asked for
        return "-"
    hits = sum(v for k, v in c.items() if 'result="hit"' in k)
    misses = sum(v for k, v in c.items() if 'result="miss"' in k)
    return f"{100 * hits / (hits + misses):.1f}%" if hits + misses else "?"


def table(recs):
    lines = ["| algorithm | cache | server | names asked | answers/s | CPU s | "
             "answers per CPU-second | cache hits |", "|---" * 8 + "|"]
    for r in recs:
        if r["kind"] == "dnsperf":
            lines.append(f"| {r['algorithm']} | {r['mode']} | {r['server']} | {r['names']} | "
                         f"{r.get('qps', 0):.0f} | {r['cpu_s']} | {r['per_cpu_s']} | "
                         f"{hit_share(r)} |")
    lines += ["", "| algorithm | server | TXT values | UDP answer bytes (DO) | TC |",
              "|---" * 5 + "|"]
    for r in recs:
        if r["kind"] == "size":
            lines.append(f"| {r['algorithm']} | {r['server']} | {r['values']} | {r['bytes']} | "
                         f"{'yes' if r['tc'] else 'no'} |")
    return "\n".join(lines) + "\n"


def main():
    work, results = bench_dirs("dnssec")
    out = os.path.join(results, "raw")
    os.makedirs(out)
    daemons = {}
    recs = [{"kind": "run", "names": NAMES, "warm": WARM, "values": VALUES, "seconds": SECS,
             "clients": CLIENTS, "commit": subprocess.run(
                 ["git", "describe", "--always", "--dirty"], cwd=TOP, capture_output=True,
                 text=True).stdout.strip()}]
    try:
        loader = build_load_store(BUILD, work)
        for algorithm in ALGORITHMS:
            run = Run(work, loader, algorithm, daemons)
            recs += run.measure(out)
            for d in (run.knot, run.srv):
                d.stop()
        save_results(results, recs, table(recs))
    finally:
        stop_all(daemons, work)


if __name__ == "__main__":
    main()
