#!/usr/bin/python3
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


def main(resdir):
    records = [json.loads(l) for l in open(os.path.join(resdir, "records.jsonl"))]
    machine = {}
    for line in open(os.path.join(resdir, "machine.txt")):
        k, _, v = line.partition(":")
        machine[k.strip()] = v.strip()

    # ---- DNS throughput -----------------------------------------------------
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
    starts = [r for r in records if r["kind"] == "start" and r["tag"] not in ("http", "profile")]
    rss = [r for r in records if r["kind"] in ("rss", "rss_loaded")]
    lat = [r for r in records if r["kind"] == "latency"]
    prof = [r for r in records if r["kind"] == "profile"]
    upd = [r for r in records if r["kind"] == "update"]
    ss = [r for r in records if r["kind"] == "set_served"]
    batch = [r for r in records if r["kind"] == "batch"]
    loads = [r for r in records if r["kind"] == "load"]

    # ---- goals ------------------------------------------------------------------
    goals = []

    def goal(name, target, value, met, note=""):
        goals.append({"goal": name, "target": target, "value": value,
                      "met": met, "note": note})

    for proto, need in (("udp", 1.2), ("tcp", 1.0)):
        worst = None
        for row in comparisons:
            if row["proto"] != proto:
                continue
            vals = [row[f"per_cpu_vs_{o}"] for o in OTHERS if row.get(f"per_cpu_vs_{o}")]
            if not vals:
                continue
            v = min(vals)   # against the better of NSD and Knot
            if worst is None or v < worst[0]:
                worst = (v, row)
        if worst:
            v, row = worst
            goal(f"{proto.upper()} queries per server CPU-second vs the better of NSD and Knot",
                 f">= {need}x", v, v >= need,
                 f"lowest case: N={row['names']}, {row['mix']}")
    names = sorted({d["names"] for d in dns})
    if len(names) > 1 and names[0] <= 10000 and names[-1] >= 1000000:
        for proto in ("udp", "tcp"):
            for mix in ("hits", "mix"):
                lo = byk.get((names[0], proto, mix, "acmens"))
                hi = byk.get((names[-1], proto, mix, "acmens"))
                if lo and hi and lo["qps_per_cpu_s"] and hi["qps_per_cpu_s"]:
                    v = round(hi["qps_per_cpu_s"] / lo["qps_per_cpu_s"], 3)
                    goal(f"1M names within 10% of 10k (acmens {proto.upper()} {mix}, q/CPU-s)",
                         ">= 0.90", v, v >= 0.9)
    fa = [r for r in starts if r["server"] == "acmens"]
    if fa:
        big = max(int(r["tag"]) for r in fa)
        v = [r["first_answer_s"] for r in fa if int(r["tag"]) == big][0]
        goal(f"first answer with {big:,} names", "<= 0.2 s", v, v <= 0.2)
    for r in lat:
        if r["server"] == "acmens":
            goal(f"p99 latency at 50% of peak UDP load (N={r['names']:,}, {r['rate']:,} q/s)",
                 "< 1 ms", r["p99_ms"], r["p99_ms"] is not None and r["p99_ms"] < 1.0)
    if upd:
        best = max(upd, key=lambda r: r.get("rps", 0))
        goal("durable /update per second (best of 1/8/64 clients)", ">= 5,000",
             round(best.get("rps", 0)), best.get("rps", 0) >= 5000,
             f"{best['clients']} clients")
    if batch:
        best = max(batch, key=lambda r: r["values_per_s"])
        goal("values per second by /v1/batch", ">= 50,000", best["values_per_s"],
             best["values_per_s"] >= 50000, f"{best['clients']} clients")

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
        md.append("\n### callgrind: instructions per query (TXT hits, one worker, fixed rate)\n")
        md.append("| server | instructions/query | queries | process dumps |")
        md.append("|---|---|---|---|")
        for r in prof:
            md.append(f"| {r['server']} | {fmt(r['ir_per_query'] and float(r['ir_per_query']))} | "
                      f"{r['queries']:,} | {r['dumps']} |")
        for r in prof:
            if r.get("by_object"):
                md.append(f"\n{r['server']}: own instructions per object (program, libraries)\n")
                md.append("| share | instructions/query | object |")
                md.append("|---|---|---|")
                for t in r["by_object"][:8]:
                    per = t["ir"] / r["queries"] if r["queries"] else 0
                    md.append(f"| {t['share']}% | {per:,.0f} | `{t['object']}` |")
            if r["top_self"]:
                md.append(f"\n{r['server']}: top functions by own instructions\n")
                md.append("| share | instructions/query | function |")
                md.append("|---|---|---|")
                for t in r["top_self"][:12]:
                    per = t["ir"] / r["queries"] if r["queries"] else 0
                    md.append(f"| {t['share']:.1f}% | {per:,.0f} | `{t['fn']}` |")

    if upd or ss or batch:
        md.append("\n### HTTP API (durable: every reply after fsync)\n")
        if upd:
            md.append("| /update clients (keep-alive) | requests/s | p50 ms | p90 ms | p99 ms | errors | acmensd CPU per 1000 updates (s) |")
            md.append("|---|---|---|---|---|---|---|")
            for r in upd:
                per = r["cpu_s"] / r["requests"] * 1000 if r.get("requests") else None
                md.append(f"| {r['clients']} | {fmt(r.get('rps'))} | {r.get('p50_ms')} | {r.get('p90_ms')} | "
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
            note = f" ({g['note']})" if g["note"] else ""
            md.append(f"| {g['goal']}{note} | {g['target']} | {g['value']} | "
                      f"{'met' if g['met'] else 'MISSED'} |")
    text = "\n".join(md) + "\n"
    with open(os.path.join(resdir, "summary.md"), "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main(sys.argv[1])
