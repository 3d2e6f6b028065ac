#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""bench/delegation_check.py [N]: pairs per second of `acmensctl delegation
check --file` over N customer domains, each with a correct CNAME to its own
account, through a local validating Unbound.

N accounts go into a store (bench/load_store, UUID-style subdomains, two
values each) served by acmensd; a knotd serves bench-customers.example.
with _acme-challenge.cI CNAME SUBDOMAIN_I.auth.example.org. for every I;
Unbound (the deleg_peers.py resolver: stub zones to both, caching, one
thread) is what acmensctl forwards to. The check runs twice: the resolver
cold (just started), then warm (the CNAMEs cached for their 300 s; the TXT
values, whose TTL is acmens's txt_ttl of 1 s, asked again). For each run:
wall time, pairs/s, acmensctl's CPU (its rusage), Unbound's, acmensd's and
knotd's (from /proc), and the statuses, which must all be ok.

Prints one JSON line per run and a Markdown table; writes both to
bench/results/delegation-<time>/. docs/PERFORMANCE.md ("Delegation check")
has the figures of the last run.

Environment: BENCH_DELEG_PAIRS (N) [250000]; BENCH_DELEG_CONCURRENCY
(delegation.concurrency) [the default, 64]; BENCH_DELEG_UNBOUND_THREADS
[1]; BENCH_BUILD (build directory) [build]; BENCH_WORKDIR (scratch space)
[mktemp under /var/tmp]; BENCH_KEEP=1 keeps it; BENCH_RESULTS (the results
directory) [bench/results/delegation-<time>]. tests/bench/
test_delegation_bench.py runs it on 300 pairs."""

import collections
import json
import os
import subprocess
import sys
import time

import dns.rdatatype

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "tests", "integration"))
sys.path.insert(0, os.path.join(TOP, "bench"))
os.environ.setdefault("ACMENS_BUILD", os.environ.get("BENCH_BUILD", os.path.join(TOP, "build")))
from conftest import ZONE, Server, free_port  # noqa: E402
from deleg_peers import Knotd, Unbound  # noqa: E402
from tool import bench_dirs, build_load_store, save_results, stop_all, tree  # noqa: E402

BUILD = os.environ["ACMENS_BUILD"]
ACMENSCTL = os.path.join(BUILD, "cli", "acmensctl")
CUSTOMERS = "bench-customers.example."
CNAME_TTL = 300
# Nothing on the way is signed: an anchor for a zone nobody asks about
# keeps libunbound validating without the real root's key, which would
# need the internet to prove example. insecure.
ANCHOR = "anchor.invalid. IN DS 1 13 2 " + "00" * 32 + "\n"


def load(work, n, srv):
    """The store (N accounts), the customers' zone text and the pairs file."""
    names = os.path.join(work, "names")
    t0 = time.monotonic()
    out = subprocess.run([build_load_store(BUILD, work), "-d", srv.store, "-z", ZONE, "-n", str(n),
                          "-L", names], capture_output=True, text=True, check=True).stdout
    print(f"store: {n} accounts in {time.monotonic() - t0:.1f} s ({out.strip()})", flush=True)
    with open(names) as f:
        labels = [line.strip() for line in f if line.strip()]
    zone = [f"$ORIGIN {CUSTOMERS}", f"$TTL {CNAME_TTL}",
            "@ SOA ns hostmaster 1 3600 600 604800 300", "@ NS ns", "ns A 127.0.0.1"]
    pairs = os.path.join(work, "pairs")
    with open(pairs, "w") as f:
        f.write("# DOMAIN SUBDOMAIN\n")
        for i, label in enumerate(labels):
            zone.append(f"_acme-challenge.c{i} CNAME {label}.{ZONE}")
            f.write(f"c{i}.{CUSTOMERS.rstrip('.')} {label}\n")
    return "\n".join(zone) + "\n", pairs


def ctl_config(srv, unbound, work):
    anchors = os.path.join(work, "anchors.key")
    with open(anchors, "w") as f:
        f.write(ANCHOR)
    path = os.path.join(work, "acmensctl.yaml")
    with open(srv.config) as f:
        text = f.read()
    text += (f"delegation:\n  resolvers: [\"{unbound.address}\"]\n"
             f"  trust_anchor_file: {anchors}\n  timeout: 10\n")
    if os.environ.get("BENCH_DELEG_CONCURRENCY"):
        text += f"  concurrency: {int(os.environ['BENCH_DELEG_CONCURRENCY'])}\n"
    with open(path, "w") as f:
        f.write(text)
    return path


def cpu(daemon):
    return tree(daemon.proc.pid)["cpu_s"]


def check(config, pairs, out_path, daemons):
    """One run of acmensctl delegation check; its figures."""
    before = {k: cpu(d) for k, d in daemons.items()}
    timing = out_path + ".time"
    t0 = time.monotonic()
    with open(out_path, "w") as out:
        p = subprocess.run(["/usr/bin/time", "-o", timing, "-f", "%U %S %M", ACMENSCTL,
                            "-c", config, "delegation", "check", "--json", "--file", pairs],
                           stdout=out, stderr=subprocess.PIPE, text=True)
    wall = time.monotonic() - t0
    with open(timing) as f:
        user, system, maxrss = f.read().split()[-3:]
    statuses = collections.Counter()
    with open(out_path) as f:
        for line in f:
            if line.startswith("{"):
                r = json.loads(line)
                if "status" in r and "domain" in r:
                    statuses[r["status"]] += 1
    if not statuses:
        sys.exit(f"acmensctl delegation check gave no result ({p.returncode}): "
                 f"{p.stderr[-2000:]}")
    rec = {"exit": p.returncode, "wall_s": round(wall, 2),
           "ctl_cpu_s": round(float(user) + float(system), 2),
           "ctl_maxrss_mib": round(int(maxrss) / 1024), "statuses": dict(statuses)}
    rec.update({f"{k}_cpu_s": round(cpu(d) - before[k], 2) for k, d in daemons.items()})
    return rec


def probe(unbound, pairs):
    """The world answers before anything is timed: the first and the last
    pair's chain ends in the account's two values."""
    with open(pairs) as f:
        lines = [line.split() for line in f if not line.startswith("#")]
    for domain, sub in (lines[0], lines[-1]):
        r = unbound.query(f"_acme-challenge.{domain}.", "TXT", timeout=10)
        types = sorted(dns.rdatatype.to_text(a.rdtype) for a in r.answer)
        if types != ["CNAME", "TXT"] or len(r.answer[-1]) != 2 \
                or r.answer[0][0].target.labels[0].decode() != sub:
            sys.exit(f"the resolver's answer for {domain} is wrong:\n{r}")


def table(n, runs):
    lines = ["| resolver | pairs | wall s | pairs/s | acmensctl CPU s | Unbound CPU s "
             "| acmensd CPU s | knotd CPU s | statuses |", "|---" * 9 + "|"]
    for r in runs:
        lines.append(f"| {r['resolver']} | {n:,} | {r['wall_s']} | {r['pairs_per_s']:,} "
                     f"| {r['ctl_cpu_s']} | {r['unbound_cpu_s']} | {r['acmensd_cpu_s']} "
                     f"| {r['knotd_cpu_s']} | "
                     + ", ".join(f"{k} {v:,}" for k, v in sorted(r["statuses"].items())) + " |")
    return "\n".join(lines) + "\n"


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else int(os.environ.get("BENCH_DELEG_PAIRS", 250000))
    work, results = bench_dirs("delegation")
    daemons = {}
    try:
        os.makedirs(os.path.join(work, "acmens"))
        srv = Server(os.path.join(work, "acmens"), rrl="{rate: 0}")
        zone_text, pairs = load(work, n, srv)
        daemons["acmensd"] = srv.start()
        knot = Knotd(os.path.join(work, "knot"), "127.0.0.1",
                     {CUSTOMERS: (zone_text, None)}, port=free_port())
        daemons["knotd"] = knot.start(timeout=600)
        unbound = Unbound(os.path.join(work, "unbound"), "127.0.0.1",
                          {CUSTOMERS: f"127.0.0.1@{knot.port}", ZONE: f"127.0.0.1@{srv.port}"},
                          None, None, cache=True,
                          threads=int(os.environ.get("BENCH_DELEG_UNBOUND_THREADS", 1)))
        daemons["unbound"] = unbound.start()
        probe(unbound, pairs)
        config = ctl_config(srv, unbound, work)
        runs = []
        for resolver in ("cold", "warm"):
            rec = check(config, pairs, os.path.join(work, f"{resolver}.jsonl"), daemons)
            rec.update(resolver=resolver, pairs=n, pairs_per_s=round(n / rec["wall_s"]))
            print(json.dumps(rec), flush=True)
            runs.append(rec)
        save_results(results, runs, table(n, runs))
        if any(r["statuses"] != {"ok": n} or r["exit"] != 0 for r in runs):
            sys.exit("not every pair was ok: see the statuses above")
    finally:
        stop_all(daemons, work)


if __name__ == "__main__":
    main()
