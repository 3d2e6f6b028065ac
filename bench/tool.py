#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Helpers for bench/run: query files, process-tree CPU and memory, the
first-answer poller, latency percentiles from dnsperf -v, the set->served
loop and the /v1/batch load. Standard library plus python3-requests.

    tool.py show RECORDS                # the last record, for people
    tool.py ports K                     # K ports free for both UDP and TCP
    tool.py queries NAMES ZONE OUTDIR [COUNT]
    tool.py tree PID                    # {"cpu_s":…, "rss_kb":…, "anon_kb":…, "pids":[…]}
    tool.py wait-idle PID [QUIET_S [TIMEOUT_S]]   # until the tree used no CPU for QUIET_S
    tool.py wait-answer PORT QNAME READYFILE [TIMEOUT [QTYPE]]
    tool.py latency DNSPERF_V_OUTPUT
    tool.py dnsperf DNSPERF_OUTPUT
    tool.py set-served API DNSPORT ZONE CREDS ITERATIONS
    tool.py batch API CREDS BATCHES BATCHSIZE CLIENTS
    tool.py profile DUMPDIR DNSPERF_OUTPUT ANNOTATE_PREFIX
"""
import glob
import json
import os
import random
import re
import shutil
import subprocess
import socket
import struct
import sys
import tempfile
import threading
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


# ---- query files ----------------------------------------------------------

def cmd_queries(names_file, zone, outdir, count="200000"):
    """hits.txt: TXT at loaded names; mix.txt: 80% TXT hits, 10% NXDOMAIN
    (names not loaded), 5% apex SOA, 5% NODATA (A at loaded names). The
    same seed every time, so a given N always gets the same files."""
    count = int(count)
    zone = zone.rstrip(".") + "."
    with open(names_file) as f:
        names = [line.strip() for line in f if line.strip()]
    rnd = random.Random(42)
    with open(os.path.join(outdir, "hits.txt"), "w") as out:
        for _ in range(count):
            out.write(f"{rnd.choice(names)}.{zone} TXT\n")
    with open(os.path.join(outdir, "mix.txt"), "w") as out:
        for _ in range(count):
            r = rnd.random()
            if r < 0.80:
                out.write(f"{rnd.choice(names)}.{zone} TXT\n")
            elif r < 0.90:
                # a UUID-shaped label that the loader never produces (version 0)
                h = "%032x" % rnd.getrandbits(128)
                out.write(f"{h[:8]}-{h[8:12]}-0{h[13:16]}-{h[16:20]}-{h[20:]}.{zone} TXT\n")
            elif r < 0.95:
                out.write(f"{zone} SOA\n")
            else:
                out.write(f"{rnd.choice(names)}.{zone} A\n")


# ---- process trees ----------------------------------------------------------

def _children():
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                st = f.read()
        except OSError:
            continue
        ppid = int(st[st.rindex(")") + 2:].split()[1])
        kids.setdefault(ppid, []).append(int(d))
    return kids


def tree(pid):
    """CPU seconds (utime+stime of every process of the tree; a process's
    counters include all its threads), VmRSS and RssAnon summed."""
    kids = _children()
    todo, pids = [int(pid)], []
    while todo:
        p = todo.pop()
        pids.append(p)
        todo.extend(kids.get(p, []))
    ticks = uticks = 0
    sums = dict.fromkeys(("VmRSS", "RssAnon", "voluntary_ctxt_switches",
                          "nonvoluntary_ctxt_switches"), 0)
    for p in pids:
        try:
            with open(f"/proc/{p}/stat") as f:
                st = f.read()
            fields = st[st.rindex(")") + 2:].split()
            ticks += int(fields[11]) + int(fields[12])   # utime, stime
            uticks += int(fields[11])
            _add_status(f"/proc/{p}/status", sums, ("VmRSS", "RssAnon"))
            # a thread that sleeps for its next datagram switches
            # voluntarily: over the queries answered, wake-ups per query
            for t in os.listdir(f"/proc/{p}/task"):
                _add_status(f"/proc/{p}/task/{t}/status", sums,
                            ("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches"))
        except OSError:
            pass
    return {"cpu_s": ticks / CLK_TCK, "user_s": uticks / CLK_TCK, "rss_kb": sums["VmRSS"],
            "anon_kb": sums["RssAnon"], "ctx_vol": sums["voluntary_ctxt_switches"],
            "ctx_invol": sums["nonvoluntary_ctxt_switches"], "pids": pids}


def _add_status(path, sums, keys):
    """Add the named numeric fields of a /proc status file into sums."""
    try:
        with open(path) as f:
            for line in f:
                key, _, rest = line.partition(":")
                if key in keys:
                    sums[key] += int(rest.split()[0])
    except OSError:
        pass


def cmd_tree(pid):
    print(json.dumps(tree(pid)))


def cmd_wait_idle(pid, quiet="2", timeout="600"):
    """Wait until the process tree of pid has used no CPU for `quiet`
    seconds (a server's work after start, such as building in-memory
    tables on threads of its own, is over), at most `timeout` seconds;
    print the seconds waited."""
    t0 = time.monotonic()
    last, still_since = tree(pid)["cpu_s"], time.monotonic()
    while time.monotonic() - t0 < float(timeout):
        time.sleep(0.25)
        now = tree(pid)["cpu_s"]
        if now - last > 0.02:
            last, still_since = now, time.monotonic()
        elif time.monotonic() - still_since >= float(quiet):
            break
    print(round(time.monotonic() - t0, 1))


# ---- DNS wire -----------------------------------------------------------------

def build_query(qid, qname, qtype=16):
    wire = b"".join(bytes([len(l)]) + l.encode() for l in qname.rstrip(".").split(".")) + b"\0"
    return struct.pack(">HHHHHH", qid, 0, 1, 0, 0, 0) + wire + struct.pack(">HH", qtype, 1)


def answer_ok(resp, qid):
    """NOERROR with at least one answer record, for our ID."""
    if len(resp) < 12:
        return False
    rid, flags, _, an = struct.unpack(">HHHH", resp[:8])
    return rid == qid and (flags & 0x8000) and (flags & 0xF) == 0 and an > 0


def cmd_wait_answer(port, qname, readyfile, timeout="120", qtype="16"):
    """Poll with a query (TXT unless qtype says otherwise) every 5 ms until
    a NOERROR answer with records comes; print the wall-clock time
    (time.time()) it arrived."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.005)
    addr = ("127.0.0.1", int(port))
    qid = 0
    with open(readyfile, "w") as f:
        f.write("ready\n")
    deadline = time.monotonic() + float(timeout)
    while time.monotonic() < deadline:
        qid = (qid + 1) & 0xFFFF
        sent = time.monotonic()
        try:
            s.sendto(build_query(qid, qname, int(qtype)), addr)
        except OSError:
            pass
        while True:
            left = 0.005 - (time.monotonic() - sent)
            if left <= 0:
                break
            s.settimeout(left)
            try:
                resp = s.recv(4096)
            except (socket.timeout, OSError):
                break
            if answer_ok(resp, qid):
                print(f"{time.time():.6f}")
                return
    print("timeout")
    sys.exit(1)


# ---- dnsperf output -------------------------------------------------------------

def parse_dnsperf(path):
    r = {}
    with open(path, errors="replace") as f:
        for line in f:
            line = line.strip()
            if line.startswith("Queries sent:"):
                r["sent"] = int(line.split()[2])
            elif line.startswith("Queries completed:"):
                r["completed"] = int(line.split()[2])
            elif line.startswith("Queries lost:"):
                r["lost"] = int(line.split()[2])
            elif line.startswith("Run time (s):"):
                r["run_s"] = float(line.split()[3])
            elif line.startswith("Queries per second:"):
                r["qps"] = float(line.split()[3])
            elif line.startswith("Average Latency (s):"):
                r["avg_latency_s"] = float(line.split()[3])
            elif line.startswith("Response codes:"):
                r["rcodes"] = line.split(":", 1)[1].strip()
    return r


def cmd_dnsperf(path):
    print(json.dumps(parse_dnsperf(path)))


def percentile(sorted_vals, p):
    if not sorted_vals:
        return None
    k = min(len(sorted_vals) - 1, max(0, int(round(p / 100.0 * len(sorted_vals) + 0.5)) - 1))
    return sorted_vals[k]


def cmd_latency(path):
    """dnsperf -v prints '> RCODE name type latency-seconds' per answer."""
    lat = []
    with open(path, errors="replace") as f:
        for line in f:
            if line.startswith("> "):
                try:
                    lat.append(float(line.split()[-1]))
                except ValueError:
                    pass
    lat.sort()
    out = {"answers": len(lat)}
    for p in (50, 90, 99, 99.9):
        v = percentile(lat, p)
        out[f"p{p:g}_ms"] = None if v is None else round(v * 1000, 3)
    out.update(parse_dnsperf(path))
    print(json.dumps(out))


# ---- results and scratch space of the Python benches --------------------------

def build_load_store(build, work):
    """bench/load_store.c built into WORK against BUILD's library with its
    compiler and flags (the sanitizers' too, which an ASan build's library
    needs at link time); the program's path."""
    top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

    def var(name):
        p = subprocess.run(["make", "-s", "-C", build, "--no-print-directory", "-f", "Makefile",
                            "-f", "-", f"print-{name}"], input="print-%:\n\t@echo $($*)\n",
                           capture_output=True, text=True, check=True)
        return p.stdout.split()

    out = os.path.join(work, "load_store")
    subprocess.run([*var("CC"), *var("CFLAGS"), *var("WARN_CFLAGS"), *var("SAN_CFLAGS"),
                    "-pthread", "-I", top, "-I", build, "-include",
                    os.path.join(build, "config.h"), os.path.join(top, "bench", "load_store.c"),
                    os.path.join(build, "lib", "libacmens.a"), *var("LIB_LIBS"), "-o", out],
                   check=True, cwd=top)
    return out


def bench_dirs(kind):
    """(the scratch space: BENCH_WORKDIR, made if need be, or a new
    directory under /var/tmp; the results directory to be: BENCH_RESULTS,
    or bench/results/KIND-<UTC time>)."""
    work = os.environ.get("BENCH_WORKDIR") or tempfile.mkdtemp(prefix=f"acmens-{kind}-",
                                                               dir="/var/tmp")
    os.makedirs(work, exist_ok=True)
    if os.environ.get("BENCH_RESULTS"):
        return work, os.environ["BENCH_RESULTS"]
    top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return work, os.path.join(top, "bench", "results",
                              f"{kind}-" + time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()))


def save_results(path, records, md):
    """records.jsonl and summary.md in path (made if need be); prints md."""
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "records.jsonl"), "w") as f:
        f.write("".join(json.dumps(r) + "\n" for r in records))
    with open(os.path.join(path, "summary.md"), "w") as f:
        f.write(md)
    print(md + f"results: {path}")


def stop_all(daemons, work):
    """Stops the daemons ({name: daemon}), last started first, and removes
    the scratch space unless BENCH_KEEP=1."""
    for d in reversed(list(daemons.values())):
        d.stop()
    if os.environ.get("BENCH_KEEP") != "1":
        shutil.rmtree(work, ignore_errors=True)


# ---- HTTP -----------------------------------------------------------------------

def read_creds(path):
    with open(path) as f:
        return [tuple(line.split()) for line in f if line.strip()]


def value(tag, i):
    """A unique 43-character base64url value."""
    s = f"{tag}{i:d}"
    return (s + "A" * 43)[:43] if len(s) <= 43 else s[-43:]


def cmd_set_served(api, dnsport, zone, creds, iterations):
    """POST /update, then from its 200 query UDP immediately, again and
    again, until an answer carries the new value."""
    import requests
    creds = read_creds(creds)
    iterations = int(iterations)
    sess = requests.Session()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(1.0)
    addr = ("127.0.0.1", int(dnsport))
    delays, polls, qid = [], [], 0
    run = "s%x" % (int(time.time()) & 0xFFFFFF)
    for i in range(iterations):
        user, key, sub = creds[i % len(creds)]
        val = value(run + "x", i)
        r = sess.post(api + "/update", headers={"X-Api-User": user, "X-Api-Key": key},
                      json={"subdomain": sub, "txt": val}, timeout=10)
        t0 = time.perf_counter()
        if r.status_code != 200:
            sys.exit(f"update failed: {r.status_code} {r.text}")
        n, needle = 0, val.encode()
        while True:
            qid = (qid + 1) & 0xFFFF
            n += 1
            s.sendto(build_query(qid, f"{sub}.{zone}"), addr)
            resp = s.recv(4096)
            if answer_ok(resp, qid) and needle in resp:
                break
            if n > 100000:
                sys.exit("value never served")
        delays.append(time.perf_counter() - t0)
        polls.append(n)
    delays.sort()
    print(json.dumps({"iterations": iterations,
                      "p50_ms": round(percentile(delays, 50) * 1000, 3),
                      "p99_ms": round(percentile(delays, 99) * 1000, 3),
                      "max_ms": round(delays[-1] * 1000, 3),
                      "queries_needed_max": max(polls),
                      "first_query_served": sum(1 for p in polls if p == 1)}))


def cmd_batch(api, creds, batches, size, clients):
    """/v1/batch of `size` add operations each, to distinct accounts,
    from `clients` threads with keep-alive sessions; values/s over the
    whole run (only 201 results count)."""
    import requests
    creds = read_creds(creds)
    batches, size, clients = int(batches), int(size), int(clients)
    run = "b%x" % (int(time.time() * 10) & 0xFFFFFFF)
    bodies = []
    for b in range(batches):
        ops = []
        for j in range(size):
            i = b * size + j
            user, key, sub = creds[i % len(creds)]
            ops.append({"op": "add", "username": user, "key": key, "subdomain": sub,
                        "value": value(run + "x", i)})
        bodies.append(json.dumps({"operations": ops}))
    lock = threading.Lock()
    todo = list(range(batches))
    ok, bad, lat, errors = [0], [0], [], []

    def worker():
        sess = requests.Session()
        while True:
            with lock:
                if not todo:
                    return
                b = todo.pop(0)
            t = time.perf_counter()
            r = sess.post(api + "/v1/batch", data=bodies[b], timeout=60)
            dt = time.perf_counter() - t
            res = r.json().get("results", []) if r.status_code == 200 else []
            with lock:
                if r.status_code != 200:
                    errors.append(f"{r.status_code} {r.text[:100]}")
                else:
                    errors.extend(json.dumps(x) for x in res if x.get("status") != 201)
                lat.append(dt)
                good = sum(1 for x in res if x.get("status") == 201)
                ok[0] += good
                bad[0] += size - good
    threads = [threading.Thread(target=worker) for _ in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    lat.sort()
    print(json.dumps({"batches": batches, "batch_size": size, "clients": clients,
                      "values_ok": ok[0], "values_failed": bad[0],
                      "seconds": round(wall, 3), "values_per_s": round(ok[0] / wall, 1),
                      "batch_p50_ms": round(percentile(lat, 50) * 1000, 1),
                      "batch_p99_ms": round(percentile(lat, 99) * 1000, 1),
                      "first_errors": errors[:3]}))


# ---- callgrind -------------------------------------------------------------------

def _dump_total(path):
    with open(path) as f:
        for line in f:
            if line.startswith("summary:") or line.startswith("totals:"):
                return int(line.split()[1])
    return 0


def _annotate(dump, inclusive):
    return subprocess.run(["callgrind_annotate", f"--inclusive={inclusive}", "--auto=no",
                           "--threshold=100", dump], capture_output=True, text=True).stdout


def _functions(report):
    """(instructions, share of its dump in %, function) of every function
    line of one callgrind_annotate report."""
    for line in report.splitlines():
        m = re.match(r"\s*([\d,]+)\s+\(\s*([\d.]+)%\)\s+(.*)$", line)
        if m and "PROGRAM TOTALS" not in line:
            yield int(m.group(1).replace(",", "")), float(m.group(2)), m.group(3)


def cmd_profile(dumpdir, perf, prefix):
    """Instructions per answered query from the callgrind dumps of one
    query set (every process of the server's tree), the top functions by
    own instructions and the cost per object; writes PREFIX-annotate-self.txt
    and PREFIX-annotate-inclusive.txt (one report per dump: callgrind_annotate
    reads one file). Answered = dnsperf's "Queries completed", which over
    TCP counts answers, not connections."""
    # Dumps made by callgrind_control -d end in .N; the final dump at exit
    # holds only what ran after it (shutdown) and is not here.
    dumps = sorted(f for f in glob.glob(f"{dumpdir}/callgrind.out.*") if re.search(r"\.\d+\.\d+$", f))
    total = sum(_dump_total(f) for f in dumps)
    completed = parse_dnsperf(perf).get("completed", 0)
    fns, objs = {}, {}
    for kind, inclusive in (("self", "no"), ("inclusive", "yes")):
        reports = [_annotate(f, inclusive) for f in dumps]
        with open(f"{prefix}-annotate-{kind}.txt", "w") as f:
            f.write("\n".join(reports))
        if kind != "self":
            continue
        for rep in reports:
            # Switching instrumentation on while frames are live leaves those
            # frames (thread start, main loop) with nearly their dump's whole
            # total as "self" cost: an artefact, skipped (no real function
            # has 90%). Cost is also summed per object (program, each
            # library); libraries without symbols show as ???.
            for ir, share, fn in _functions(rep):
                if share >= 90:
                    continue
                fns[fn] = fns.get(fn, 0) + ir
                o = re.search(r"\[([^\]]+)\]\s*$", fn)
                obj = os.path.basename(o.group(1)) if o else "(inlined, program)"
                objs[obj] = objs.get(obj, 0) + ir

    def share(ir):
        return round(100.0 * ir / total, 1) if total else None
    top = [{"ir": ir, "share": share(ir), "fn": fn}
           for fn, ir in sorted(fns.items(), key=lambda x: -x[1])[:15]]
    by_obj = [{"object": k, "ir": v, "share": share(v)}
              for k, v in sorted(objs.items(), key=lambda x: -x[1])]
    print(json.dumps({"kind": "profile", "dumps": len(dumps), "ir_total": total,
                      "queries": completed,
                      "ir_per_query": round(total / completed) if completed else None,
                      "top_self": top, "by_object": by_obj}))


def cmd_ports(k):
    """K distinct loopback ports, each free for both TCP and UDP right now."""
    found, held = [], []
    while len(found) < int(k):
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        t.bind(("127.0.0.1", 0))
        port = t.getsockname()[1]
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind(("127.0.0.1", port))
        except OSError:
            t.close()
            continue
        held += [t, u]
        found.append(port)
    print(" ".join(map(str, found)))


def cmd_show(records):
    """One line for people about the last record bench/run wrote."""
    with open(records) as f:
        r = json.loads(f.readlines()[-1])
    k = r["kind"]
    if k == "dnsperf":
        c = r.get("cpu_s") or 0
        q = r.get("completed", 0)
        print(f"{r.get('qps', 0):9.0f} q/s {q / c if c else 0:9.0f} q/cpu-s"
              f"  lost {r.get('lost', '?')}  cpu {c:.2f} s")
    elif k == "start":
        print(f"first answer after {r['first_answer_s']:.3f} s")
    elif k == "profile":
        print(f"{r['ir_per_query']} instructions/query over {r['queries']} queries"
              f" ({r['dumps']} dumps)")
    else:
        print(json.dumps(r))


COMMANDS = {
    "show": cmd_show, "ports": cmd_ports, "queries": cmd_queries, "tree": cmd_tree, "wait-idle": cmd_wait_idle, "wait-answer": cmd_wait_answer,
    "dnsperf": cmd_dnsperf, "latency": cmd_latency, "set-served": cmd_set_served,
    "batch": cmd_batch, "profile": cmd_profile,
}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(__doc__)
    COMMANDS[sys.argv[1]](*sys.argv[2:])
