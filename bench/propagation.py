#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""bench/propagation.py [N]: how long after a /v1 write the value is served
by the primary and by every secondary, and what `?wait=secondaries` costs.

acmensd is the primary of a Knot DNS and an NSD secondary on loopback
(TSIG transfers driven by NOTIFY, as in tests/e2e/test_secondaries.py).
Each of N writes is `POST /v1/accounts/SUB/txt` of a new value to its own
account (registered beforehand, so every write is one value added).

- plain: from the write's 201 reply, the primary and each secondary are
  asked for the name over UDP in a tight loop (one query in flight per
  server, round robin) until each answer holds the value: set->served on
  the primary (as bench/run's set-served measures it) and on all
  secondaries (the slower of the two), p50/p99/max.
- wait: the same write with `?wait=secondaries`; the reply's latency (from
  sending the request), its "propagated" flag, and whether every secondary
  already served the value at reply time: each is asked once, right after
  the reply, and must answer with it every time. Skipped, and said so, when
  acmensd does not know the parameter (no "propagated" in the reply).

Prints one JSON line per mode and a Markdown table; writes both to
bench/results/propagation-<time>/. docs/PERFORMANCE.md ("Propagation to
secondaries") has the figures of the last run.

Environment: BENCH_PROP_WRITES (N) [200]; BENCH_PROP_GAP (seconds of
quiet before each write) [0: back to back]; BENCH_BUILD (build directory)
[build]; BENCH_WORKDIR (scratch space) [mktemp under /var/tmp];
BENCH_KEEP=1 keeps it."""

import json
import os
import socket
import sys
import time

import requests

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "tests", "integration"))
sys.path.insert(0, os.path.join(TOP, "bench"))
os.environ.setdefault("ACMENS_BUILD", os.environ.get("BENCH_BUILD", os.path.join(TOP, "build")))
from conftest import (KnotSecondary, NsdSecondary, Server, free_port,  # noqa: E402
                      transfer_config)
from tool import (answer_ok, bench_dirs, build_query, percentile, save_results,  # noqa: E402
                  stop_all, value)

POLL_LIMIT_S = 30.0
GAP_S = float(os.environ.get("BENCH_PROP_GAP", 0))


class Poller:
    """UDP TXT queries to a set of servers on 127.0.0.1, one socket each."""

    def __init__(self, ports):
        self.socks = {}
        for name, port in ports.items():
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.settimeout(1.0)
            s.connect(("127.0.0.1", port))
            self.socks[name] = s
        self.qid = 0

    def has(self, name, qname, needle):
        """One query to server name: does its answer hold needle?"""
        self.qid = (self.qid + 1) & 0xFFFF
        s = self.socks[name]
        s.send(build_query(self.qid, qname))
        try:
            while True:     # a late answer to an earlier query is skipped
                resp = s.recv(4096)
                if resp[:2] == self.qid.to_bytes(2, "big"):
                    return answer_ok(resp, self.qid) and needle in resp
        except socket.timeout:
            return False

    def until_served(self, qname, needle, t0):
        """Seconds from t0 until each server answers with needle, asking
        them round robin (the ones already done are left out)."""
        took, pending = {}, list(self.socks)
        while pending:
            for name in list(pending):
                if self.has(name, qname, needle):
                    took[name] = time.perf_counter() - t0
                    pending.remove(name)
            if time.perf_counter() - t0 > POLL_LIMIT_S:
                sys.exit(f"{qname}: not served by {pending} after {POLL_LIMIT_S:.0f} s")
        return took

    def close(self):
        for s in self.socks.values():
            s.close()


def stats_ms(vals):
    vals = sorted(vals)
    return {"p50_ms": round(percentile(vals, 50) * 1000, 2),
            "p99_ms": round(percentile(vals, 99) * 1000, 2),
            "max_ms": round(vals[-1] * 1000, 2)}


def register(sess, api, n):
    accts = []
    for _ in range(n):
        r = sess.post(api + "/v1/register", timeout=10)
        if r.status_code != 201:
            sys.exit(f"register failed: {r.status_code} {r.text}")
        accts.append(r.json())
    return accts


def write(sess, api, acct, val, query=""):
    """POST the value; (seconds from sending to the reply, reply body)."""
    t0 = time.perf_counter()
    r = sess.post(f"{api}/v1/accounts/{acct['subdomain']}/txt{query}", json={"value": val},
                  headers={"X-Api-User": acct["username"], "X-Api-Key": acct["password"]},
                  timeout=180)
    took = time.perf_counter() - t0
    if r.status_code != 201:
        sys.exit(f"write failed: {r.status_code} {r.text}")
    return took, r.json()


def run_plain(sess, api, accts, poller, secondaries):
    primary, all_sec, reply, per = [], [], [], {s: [] for s in secondaries}
    for i, acct in enumerate(accts):
        time.sleep(GAP_S)
        val = value("p", i)
        took, _ = write(sess, api, acct, val)
        t0 = time.perf_counter()
        served = poller.until_served(acct["fulldomain"] + ".", val.encode(), t0)
        reply.append(took)
        primary.append(served["primary"])
        all_sec.append(max(served[s] for s in secondaries))
        for s in secondaries:
            per[s].append(served[s])
    rec = {"mode": "plain", "writes": len(accts), "reply": stats_ms(reply),
           "served_primary": stats_ms(primary), "served_all_secondaries": stats_ms(all_sec)}
    rec.update({f"served_{s}": stats_ms(v) for s, v in per.items()})
    return rec


def run_wait(sess, api, accts, poller, secondaries):
    """None when acmensd does not know ?wait=secondaries."""
    reply, propagated, on_all = [], 0, 0
    missing = []
    for i, acct in enumerate(accts):
        time.sleep(GAP_S)
        val = value("w", i)
        took, body = write(sess, api, acct, val, "?wait=secondaries")
        here = [s for s in secondaries
                if poller.has(s, acct["fulldomain"] + ".", val.encode())]
        if "propagated" not in body:
            return None
        reply.append(took)
        propagated += body["propagated"] is True
        on_all += len(here) == len(secondaries)
        if len(here) != len(secondaries):
            missing.append({"write": i, "served_by": here, "reply": body})
    return {"mode": "wait", "writes": len(accts), "reply": stats_ms(reply),
            "propagated_true": propagated, "on_every_secondary_at_reply": on_all,
            "missing": missing[:5]}


def table(recs):
    lines = ["| mode | writes | measured from | to | p50 ms | p99 ms | max ms |", "|---" * 7 + "|"]
    for r in recs:
        n = r["writes"]
        if r["mode"] == "plain":
            rows = [("201 reply", "served by the primary", r["served_primary"]),
                    ("201 reply", "served by Knot", r["served_knotd"]),
                    ("201 reply", "served by NSD", r["served_nsd"]),
                    ("201 reply", "served by both secondaries", r["served_all_secondaries"]),
                    ("request sent", "201 reply", r["reply"])]
        else:
            rows = [("request sent", "201 reply (`?wait=secondaries`)", r["reply"])]
        for frm, to, s in rows:
            lines.append(f"| {r['mode']} | {n} | {frm} | {to} | {s['p50_ms']} | {s['p99_ms']} "
                         f"| {s['max_ms']} |")
    for r in recs:
        if r["mode"] == "wait":
            lines.append(f"\n`?wait=secondaries`: propagated true {r['propagated_true']} times of "
                         f"{r['writes']}; the value on every secondary at reply time "
                         f"{r['on_every_secondary_at_reply']} times of {r['writes']}.")
    return "\n".join(lines) + "\n"


def wait_synced(srv, secondaries, timeout=30.0):
    serial = srv.serial()
    deadline = time.time() + timeout
    while any(s.serial() != serial for s in secondaries):
        if time.time() > deadline:
            sys.exit("the secondaries did not reach serial %d: %s" %
                     (serial, {s.name: s.serial() for s in secondaries}))
        time.sleep(0.05)


def start(work, daemons):
    knot_port, nsd_port = free_port(), free_port()
    while nsd_port == knot_port:
        nsd_port = free_port()
    os.makedirs(os.path.join(work, "acmens"))
    srv = Server(os.path.join(work, "acmens"),
                 http={"register_rate": 0, "register_rate_global": 0},
                 extra_dns=transfer_config([knot_port, nsd_port], 64))
    daemons["acmensd"] = srv.start()
    for cls, port in ((KnotSecondary, knot_port), (NsdSecondary, nsd_port)):
        daemons[cls.name] = cls(os.path.join(work, cls.name), port, srv.port).start(timeout=15)
    return srv


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else int(os.environ.get("BENCH_PROP_WRITES", 200))
    work, results = bench_dirs("propagation")
    daemons = {}
    try:
        srv = start(work, daemons)
        secondaries = [daemons["knotd"], daemons["nsd"]]
        sess = requests.Session()
        accts = register(sess, srv.http_url, 2 * n)
        wait_synced(srv, secondaries)
        poller = Poller({"primary": srv.port, **{s.name: s.port for s in secondaries}})
        names = [s.name for s in secondaries]
        recs = [run_plain(sess, srv.http_url, accts[:n], poller, names)]
        print(json.dumps(recs[-1]), flush=True)
        waited = run_wait(sess, srv.http_url, accts[n:], poller, names)
        if waited is None:
            print("?wait=secondaries: not supported by this acmensd (no \"propagated\" in "
                  "the reply); only the plain mode was measured", flush=True)
        else:
            recs.append(waited)
            print(json.dumps(waited), flush=True)
        poller.close()
        save_results(results, recs, table(recs))
        if waited is not None and waited["on_every_secondary_at_reply"] != n:
            sys.exit("a ?wait=secondaries reply came before every secondary served the value")
    finally:
        stop_all(daemons, work)


if __name__ == "__main__":
    main()
