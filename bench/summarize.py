#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Summarize a bench/run result directory: medians over repetitions,
acmens/NSD and acmens/Knot ratios, the goals, and Markdown tables.

    summarize.py RESULTDIR     # writes RESULTDIR/summary.json and summary.md
"""
import json
import os
import statistics
import sys

OTHERS = ("nsd", "knot")


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(x, digits=0):
    if x is None:
        return "–"
    if isinstance(x, float) and digits == 0:
        return f"{x:,.0f}"
    return f"{x:,.{digits}f}"


def ratio(a, b):
    return round(a / b, 2) if a and b else None


def load_records(resdir):
    with open(os.path.join(resdir, "records.jsonl")) as f:
        return [json.loads(line) for line in f if line.strip()]


def dns_medians(records):
    """One row per (N, transport, query set, server): medians over the
    repetitions of q/s and q/CPU-s, and the share of queries lost."""
    runs = {}
    for r in records:
        if r["kind"] != "dnsperf" or "qps" not in r:
            continue
        key = (r["names"], r["proto"], r["mix"], r["server"])
        cpu = r.get("cpu_s") or 0
        runs.setdefault(key, []).append({
            "qps": r["qps"], "per_cpu": r["completed"] / cpu if cpu > 0 else None,
            "lost": r.get("lost", 0), "sent": r.get("sent", 0)})
    dns = []
    for (n, proto, mix, server), rs in sorted(runs.items()):
        dns.append({"names": n, "proto": proto, "mix": mix, "server": server, "reps": len(rs),
                    "qps": med([x["qps"] for x in rs]),
                    "qps_per_cpu_s": med([x["per_cpu"] for x in rs]),
                    "lost_pct": round(100.0 * sum(x["lost"] for x in rs) /
                                      max(1, sum(x["sent"] for x in rs)), 3)})
    return dns


def update_ok_rps(r):
    """/update requests per second answered 2xx: wrk's own rate counts
    refusals (503 at a connection cap) as requests too."""
    if not r.get("requests") or not r.get("seconds"):
        return 0 if r.get("errors_status") else r.get("rps", 0)
    return (r["requests"] - r.get("errors_status", 0)) / r["seconds"]


# ---- goals ----------------------------------------------------------------------

GOAL_NAMES = (5000, 1000000)   # the data sizes the project states its goals at
OTHER_NAME = {"nsd": "NSD", "knot": "Knot"}


def verdict(met):
    return {True: "met", False: "MISSED", None: "not measured"}[met]


def profile_of(prof, server, n, proto, mix):
    return next((r for r in prof if r["server"] == server and r.get("names") == n and
                 r.get("proto", "udp") == proto and r.get("mix", "hits") == mix), None)


def check_goals(byk, prof, starts, lat, upd, batch):
    """The project's goals, each with its measured numbers; met is None
    where the run did not measure it (e.g. BENCH_QUICK has no 1M names)."""
    goals = []

    def goal(name, target, value, met):
        goals.append({"goal": name, "target": target, "value": value, "met": met})

    # instructions per query (callgrind, one worker, 1,000 q/s)
    for n in sorted(set(GOAL_NAMES) | {r.get("names") for r in prof if r["server"] == "acmens"} - {None}):
        hit = profile_of(prof, "acmens", n, "udp", "hits")
        h = hit and hit["ir_per_query"]
        goal(f"acmens instructions per UDP TXT hit, N={n:,}", "<= 2,500",
             fmt(h and float(h)) if h else "–", (h <= 2500) if h else None)
        for proto, mix in (("udp", "mix"), ("tcp", "hits")):
            o = profile_of(prof, "acmens", n, proto, mix)
            v = o and o["ir_per_query"]
            r = round(v / h, 2) if v and h else None
            goal(f"acmens instructions per {proto.upper()} {mix} query vs UDP hits, N={n:,}",
                 "<= 1.3x", f"{r}x ({v:,} vs {h:,})" if r else "–", (r <= 1.3) if r else None)
    # queries per CPU-second against the others
    names = sorted({k[0] for k in byk})
    for proto, others, need in (("udp", ("knot",), 1.2), ("tcp", ("nsd", "knot"), 1.0)):
        for n in names:
            for mix in ("hits", "mix"):
                a = byk.get((n, proto, mix, "acmens"))
                parts, worst = [], None
                for o in others:
                    b = byk.get((n, proto, mix, o))
                    r = ratio(a and a["qps_per_cpu_s"], b and b["qps_per_cpu_s"])
                    if r is None:
                        continue
                    parts.append(f"{r}x {OTHER_NAME[o]} ({fmt(b['qps_per_cpu_s'])})")
                    worst = r if worst is None else min(worst, r)
                if a is None or worst is None:
                    continue
                goal(f"acmens {proto.upper()} {mix} q/CPU-s vs {' and '.join(OTHER_NAME[o] for o in others)}, "
                     f"N={n:,}", f">= {need}x",
                     f"{', '.join(parts)}; acmens {fmt(a['qps_per_cpu_s'])}", worst >= need)
    if len(names) > 1:
        for proto in ("udp", "tcp"):
            for mix in ("hits", "mix"):
                lo = byk.get((names[0], proto, mix, "acmens"))
                hi = byk.get((names[-1], proto, mix, "acmens"))
                if lo and hi and lo["qps_per_cpu_s"] and hi["qps_per_cpu_s"]:
                    v = round(hi["qps_per_cpu_s"] / lo["qps_per_cpu_s"], 3)
                    goal(f"acmens {proto.upper()} {mix} q/CPU-s at N={names[-1]:,} over N={names[0]:,}",
                         ">= 0.90", v, v >= 0.9)
    fa = {int(r["tag"]): r["first_answer_s"] for r in starts if r["server"] == "acmens"}
    big = GOAL_NAMES[-1] if GOAL_NAMES[-1] in fa else max(fa, default=None)
    if big is not None:
        goal(f"acmens first answer, N={big:,}", "< 0.2 s", f"{fa[big]} s"
             + ("" if big == GOAL_NAMES[-1] else f" ({GOAL_NAMES[-1]:,} not run)"),
             fa[big] < 0.2 if big == GOAL_NAMES[-1] else None)
    for r in lat:
        if r["server"] == "acmens":
            goal(f"acmens p99 latency at 50% of peak UDP load, N={r['names']:,} ({r['rate']:,} q/s)",
                 "< 1 ms", f"{r['p99_ms']} ms", r["p99_ms"] is not None and r["p99_ms"] < 1.0)
    if upd:
        best = max(upd, key=update_ok_rps)
        goal("durable /update answered per second (best client count)", ">= 5,000",
             f"{fmt(float(update_ok_rps(best)))} ({best['clients']} clients)", update_ok_rps(best) >= 5000)
    b4 = next((r for r in batch if r["clients"] == 4), None)
    goal("values per second by /v1/batch, 4 clients", ">= 50,000",
         fmt(float(b4["values_per_s"])) if b4 else "–", (b4["values_per_s"] >= 50000) if b4 else None)
    return goals


def profile_key(r):
    return (r.get("names", 0), r.get("proto", "udp") != "udp", r.get("mix", "hits") != "hits")


def profile_md(prof):
    """Instructions per query by N, transport and query set (one column per
    server), then where acmensd's go in every set, and the others' in UDP
    hits."""
    md = ["\n### callgrind: user-space instructions per answered query (one worker, 1,000 q/s)\n"]
    servers = [s for s in ("acmens", "nsd", "knot") if any(r["server"] == s for r in prof)]
    md.append("| N | transport | query set | " + " | ".join(f"{s} instructions/query (answered)"
                                                       for s in servers) + " |")
    md.append("|" + "---|" * (3 + len(servers)))
    for key in sorted({(r.get("names"), r.get("proto", "udp"), r.get("mix", "hits")) for r in prof},
                      key=lambda k: profile_key({"names": k[0], "proto": k[1], "mix": k[2]})):
        cells = [fmt(key[0]), key[1].upper(), key[2]]
        for s in servers:
            r = profile_of(prof, s, *key)
            cells.append(f"{fmt(float(r['ir_per_query']))} ({r['queries']:,})"
                         if r and r["ir_per_query"] else "–")
        md.append("| " + " | ".join(cells) + " |")
    for r in sorted(prof, key=profile_key):
        if r["server"] != "acmens" and (r.get("proto"), r.get("mix")) != ("udp", "hits"):
            continue
        what = f"{r['server']}, N={fmt(r.get('names'))}, {r.get('proto', 'udp').upper()} {r.get('mix', 'hits')}"
        q = r["queries"] or 0
        for field, key, label, title, rows in (
                ("by_object", "object", "object", "own instructions per object (program, libraries)", 8),
                ("top_self", "fn", "function", "top functions by own instructions", 10)):
            if not r.get(field):
                continue
            md.append(f"\n{what}: {title}\n")
            md.append(f"| share | instructions/query | {label} |")
            md.append("|---|---|---|")
            for t in r[field][:rows]:
                md.append(f"| {float(t['share'] or 0):.1f}% | {t['ir'] / q if q else 0:,.0f} | `{t[key]}` |")
    return md


def main(resdir):
    records = load_records(resdir)
    machine = {}
    mpath = os.path.join(resdir, "machine.txt")
    if os.path.exists(mpath):
        for line in open(mpath):
            k, _, v = line.partition(":")
            machine[k.strip()] = v.strip()
    dns = dns_medians(records)
    byk = {(d["names"], d["proto"], d["mix"], d["server"]): d for d in dns}
    cases = sorted({(d["names"], d["proto"], d["mix"]) for d in dns},
                   key=lambda c: (c[0], c[1] != "udp", c[2] != "hits"))
    comparisons = []
    for c in cases:
        a = byk.get(c + ("acmens",))
        if not a:
            continue
        row = {"names": c[0], "proto": c[1], "mix": c[2]}
        for o in OTHERS:
            b = byk.get(c + (o,))
            row[f"qps_vs_{o}"] = ratio(a["qps"], b and b["qps"])
            row[f"per_cpu_vs_{o}"] = ratio(a["qps_per_cpu_s"], b and b["qps_per_cpu_s"])
        comparisons.append(row)

    # ---- the rest ---------------------------------------------------------------
    starts = [r for r in records if r["kind"] == "start" and r["tag"].isdigit()]
    rss = [r for r in records if r["kind"] in ("rss", "rss_loaded")]
    lat = [r for r in records if r["kind"] == "latency"]
    prof = [r for r in records if r["kind"] == "profile"]
    upd = [r for r in records if r["kind"] == "update"]
    ss = [r for r in records if r["kind"] == "set_served"]
    batch = [r for r in records if r["kind"] == "batch"]
    loads = [r for r in records if r["kind"] == "load"]

    goals = check_goals(byk, prof, starts, lat, upd, batch)
    names = sorted({d["names"] for d in dns})

    summary = {"machine": machine, "loads": loads, "dns": dns, "comparisons": comparisons,
               "first_answer": starts, "memory": rss, "latency": lat, "profile": prof,
               "update": upd, "set_served": ss, "batch": batch, "goals": goals}
    with open(os.path.join(resdir, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)

    # ---- Markdown ------------------------------------------------------------------
    md = []
    servers = [s for s in ("acmens", "nsd", "knot") if any(d["server"] == s for d in dns)]
    md.append("### DNS throughput (medians; q/CPU-s = answered queries per second of server CPU)\n")
    md.append("| N | proto | mix | " + " | ".join(f"{s} q/s | {s} q/CPU-s" for s in servers) +
              " | acmens/NSD q/s, q/CPU-s | acmens/Knot q/s, q/CPU-s |")
    md.append("|" + "---|" * (3 + 2 * len(servers) + 2))
    for c in cases:
        cells = [f"{c[0]:,}", c[1].upper(), c[2]]
        for s in servers:
            d = byk.get(c + (s,))
            cells += [fmt(d and d["qps"]), fmt(d and d["qps_per_cpu_s"])]
        row = next((x for x in comparisons if (x["names"], x["proto"], x["mix"]) == c), {})
        for o in OTHERS:
            cells.append(f"{fmt(row.get(f'qps_vs_{o}'), 2)}, {fmt(row.get(f'per_cpu_vs_{o}'), 2)}")
        md.append("| " + " | ".join(cells) + " |")
    lost = [d for d in dns if d["lost_pct"] > 0.5]
    if lost:
        md.append("\nRuns losing more than 0.5% of queries: " + ", ".join(
            f"{d['server']} N={d['names']} {d['proto']} {d['mix']} {d['lost_pct']}%" for d in lost))

    if rss or starts:
        md.append("\n### Memory (VmRSS of the process tree, MiB; anonymous part in brackets) and first answer\n")
        md.append("| N | " + " | ".join(f"{s} RSS loaded | {s} RSS after runs | {s} first answer (s)"
                                          for s in servers) + " |")
        md.append("|" + "---|" * (1 + 3 * len(servers)))
        for n in names:
            cells = [f"{n:,}"]
            for s in servers:
                for kind in ("rss_loaded", "rss"):
                    r = next((x for x in rss if x["kind"] == kind and x["names"] == n and
                              x["server"] == s), None)
                    cells.append(f"{r['rss_kb'] / 1024:,.0f} ({r['anon_kb'] / 1024:,.0f})" if r else "–")
                r = next((x for x in starts if x["tag"] == str(n) and x["server"] == s), None)
                cells.append(f"{r['first_answer_s']:.3f}" if r else "–")
            md.append("| " + " | ".join(cells) + " |")
    if loads:
        md.append("\nStore loads (lib/store, 10,000 accounts per transaction): " + ", ".join(
            f"{l['names']:,} names in {l['load_seconds']:.1f} s" for l in loads))

    if lat:
        md.append("\n### Latency at half of acmens's peak UDP rate (dnsperf -Q, TXT hits, -v per-answer times)\n")
        md.append("| N | rate (q/s) | server | p50 ms | p90 ms | p99 ms | p99.9 ms | answered | lost |")
        md.append("|---|---|---|---|---|---|---|---|---|")
        for r in lat:
            md.append(f"| {r['names']:,} | {r['rate']:,} | {r['server']} | {r['p50_ms']} | {r['p90_ms']} | "
                      f"{r['p99_ms']} | {r['p99.9_ms']} | {r['answers']:,} | {r.get('lost', '–')} |")

    if prof:
        md.extend(profile_md(prof))

    if upd or ss or batch:
        md.append("\n### HTTP API (durable: every reply after fsync)\n")
        if upd:
            md.append("| /update clients (keep-alive) | answered (2xx) requests/s | p50 ms | p90 ms | p99 ms | errors | acmensd CPU per 1000 updates (s) |")
            md.append("|---|---|---|---|---|---|---|")
            for r in upd:
                per = r["cpu_s"] / r["requests"] * 1000 if r.get("requests") else None
                md.append(f"| {r['clients']} | {fmt(float(update_ok_rps(r)))} | {r.get('p50_ms')} | {r.get('p90_ms')} | "
                          f"{r.get('p99_ms')} | {r.get('errors_status', 0) + r.get('errors_socket', 0)} | "
                          f"{fmt(per, 3)} |")
        for r in ss:
            md.append(f"\nset→served ({r['iterations']} updates; from the HTTP 200 to the first UDP "
                      f"answer holding the value): p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms, max "
                      f"{r['max_ms']} ms; the first query already served it {r['first_query_served']} "
                      f"times of {r['iterations']}.")
        if batch:
            md.append("\n| /v1/batch clients | batches × adds | values/s | batch p50 ms | batch p99 ms | failed |")
            md.append("|---|---|---|---|---|---|")
            for r in batch:
                md.append(f"| {r['clients']} | {r['batches']} × {r['batch_size']} | {fmt(r['values_per_s'])} | "
                          f"{r['batch_p50_ms']} | {r['batch_p99_ms']} | {r['values_failed']} |")

    if goals:
        md.append("\n### Goals\n")
        md.append("| goal | target | measured | met |")
        md.append("|---|---|---|---|")
        for g in goals:
            md.append(f"| {g['goal']} | {g['target']} | {g['value']} | {verdict(g['met'])} |")
    text = "\n".join(md) + "\n"
    with open(os.path.join(resdir, "summary.md"), "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main(sys.argv[1])
