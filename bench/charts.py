#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""SVG charts of a bench/run result directory, from its records.jsonl alone.

    charts.py RESULTDIR [OUTDIR]     # OUTDIR defaults to RESULTDIR/charts

Writes, for whatever the records hold:
    dns-qps-per-cpu.svg   answered queries per server CPU-second, by N and case
    latency.svg           p50/p90/p99/p99.9 at half of acmens's peak, by N
    http.svg              /update requests/s and /v1/batch values/s by clients
    profile.svg           callgrind instructions per query, by N and case
Each carries the acmens commit and the run's date in its footer.
"""
import os
import sys

import matplotlib

matplotlib.use("Agg")   # files only, no display
import matplotlib.pyplot as plt   # noqa: E402
from matplotlib.ticker import FuncFormatter   # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import summarize   # noqa: E402

SERVERS = ("acmens", "nsd", "knot")
LABEL = {"acmens": "acmens", "nsd": "NSD", "knot": "Knot DNS"}
COLOUR = {"acmens": "#1b6ca8", "nsd": "#e08e0b", "knot": "#5a9e4b"}
CASES = (("udp", "hits"), ("udp", "mix"), ("tcp", "hits"), ("tcp", "mix"))
PERCENTILES = (("p50_ms", "p50"), ("p90_ms", "p90"), ("p99_ms", "p99"), ("p99.9_ms", "p99.9"))

plt.rcParams.update({"svg.fonttype": "none", "font.size": 9, "axes.titlesize": 10,
                     "figure.titlesize": 11, "svg.hashsalt": "acmens"})


THOUSANDS = FuncFormatter(lambda y, _: f"{y:,.0f}" if y >= 1 or y == 0 else f"{y:g}")


def goal_line(ax, y, text):
    """A dashed line at a goal's value, named in the legend (a label on
    the plot would cross the bars)."""
    ax.axhline(y, color="#b22222", linestyle="--", linewidth=0.8, label=text)


def run_info(records):
    r = next((r for r in records if r["kind"] == "run"), {})
    return f"acmens {r.get('commit', 'unknown')} · {r.get('date', 'date unknown')}"


def names_label(n):
    return f"N = {n:,} names"


def case_label(proto, mix):
    return f"{proto.upper()} {mix}"


def figure(ncols, title, footer, width=4.6):
    fig, axes = plt.subplots(1, ncols, figsize=(max(6.4, width * ncols), 4.2), squeeze=False)
    fig.suptitle(title)
    fig.text(0.99, 0.01, footer, ha="right", va="bottom", fontsize=7, color="#555555")
    return fig, list(axes[0])


def save(fig, outdir, name):
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    path = os.path.join(outdir, name)
    fig.savefig(path, format="svg", metadata={"Date": None})
    plt.close(fig)
    return path


def grouped_bars(ax, groups, servers, value, fmt="{:,.0f}"):
    """Bars of each server side by side in every group; value(group,
    server) is a number or None (no bar)."""
    width = 0.8 / max(1, len(servers))
    for i, s in enumerate(servers):
        xs, ys = [], []
        for g, grp in enumerate(groups):
            v = value(grp, s)
            if v is not None:
                xs.append(g + (i - (len(servers) - 1) / 2) * width)
                ys.append(v)
        bars = ax.bar(xs, ys, width, label=LABEL[s], color=COLOUR[s])
        ax.bar_label(bars, labels=[fmt.format(y) for y in ys], fontsize=6, padding=1, rotation=90)
    ax.set_xticks(range(len(groups)))
    ax.yaxis.set_major_formatter(THOUSANDS)
    ax.grid(axis="y", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)


def present(records, kind):
    return [s for s in SERVERS if any(r["kind"] == kind and r.get("server") == s for r in records)]


def chart_dns(records, outdir, footer):
    dns = summarize.dns_medians(records)
    if not dns:
        return None
    byk = {(d["names"], d["proto"], d["mix"], d["server"]): d for d in dns}
    names = sorted({d["names"] for d in dns})
    servers = present(records, "dnsperf")
    fig, axes = figure(len(names), "Answered queries per server CPU-second (median of repetitions)", footer)
    for ax, n in zip(axes, names):
        cases = [c for c in CASES if any((n,) + c + (s,) in byk for s in servers)]
        grouped_bars(ax, cases, servers,
                     lambda c, s: (byk.get((n,) + c + (s,)) or {}).get("qps_per_cpu_s"))
        ax.set_xticklabels([case_label(*c) for c in cases])
        ax.set_title(names_label(n))
        ax.set_xlabel("transport and query set")
        ax.set_ylabel("queries per CPU-second")
        ax.margins(y=0.25)
    axes[0].legend(loc="upper left", fontsize=8)
    return save(fig, outdir, "dns-qps-per-cpu.svg")


def chart_latency(records, outdir, footer):
    lat = [r for r in records if r["kind"] == "latency"]
    if not lat:
        return None
    names = sorted({r["names"] for r in lat})
    servers = present(records, "latency")
    fig, axes = figure(len(names), "Latency at half of acmens's peak UDP rate (TXT hits)", footer)
    for ax, n in zip(axes, names):
        rows = {r["server"]: r for r in lat if r["names"] == n}
        ax.set_yscale("log")
        grouped_bars(ax, PERCENTILES, servers,
                     lambda p, s: (rows.get(s) or {}).get(p[0]) or None, fmt="{:g}")
        goal_line(ax, 1.0, "goal: acmens p99 < 1 ms")
        ax.margins(y=0.3)
        ax.set_xticklabels([p[1] for p in PERCENTILES])
        rate = next(iter(rows.values()))["rate"]
        ax.set_title(f"{names_label(n)}, {rate:,} q/s")
        ax.set_xlabel("percentile")
        ax.set_ylabel("latency (ms, log scale)")
    axes[0].legend(loc="upper left", fontsize=8)
    return save(fig, outdir, "latency.svg")


def line(ax, rows, value, label, unit, goal=None):
    rows = sorted(rows, key=lambda r: r["clients"])
    if goal:
        goal_line(ax, *goal)
    xs, ys = [r["clients"] for r in rows], [value(r) for r in rows]
    ax.plot(xs, ys, marker="o", color=COLOUR["acmens"], label=label)
    for x, y in zip(xs, ys):
        ax.annotate(f"{y:,.0f}", (x, y), textcoords="offset points", xytext=(0, 6),
                    ha="center", fontsize=7)
    ax.set_xscale("log", base=2)
    ax.set_xticks(xs)
    ax.set_xticklabels([str(x) for x in xs])
    ax.set_xlabel("concurrent clients (log scale)")
    ax.set_ylabel(unit)
    ax.set_ylim(bottom=0, top=max(ys + [goal[0] if goal else 1]) * 1.2)
    ax.yaxis.set_major_formatter(THOUSANDS)
    ax.grid(color="#dddddd", linewidth=0.6)
    ax.legend(loc="lower right", fontsize=8)


def chart_http(records, outdir, footer):
    upd = [r for r in records if r["kind"] == "update"]
    batch = [r for r in records if r["kind"] == "batch"]
    if not upd and not batch:
        return None
    fig, axes = figure(2, "HTTP API, durable writes (every reply after fsync)", footer)
    if upd:
        line(axes[0], upd, summarize.update_ok_rps, "acmens /update (wrk, keep-alive)",
             "requests answered 2xx per second")
        axes[0].set_title("/update: requests per second")
    if batch:
        line(axes[1], batch, lambda r: r["values_per_s"], "acmens /v1/batch (1,000 adds each)", "values per second",
             (50000, "goal: 50,000 with 4 clients"))
        axes[1].set_title("/v1/batch: values per second")
    return save(fig, outdir, "http.svg")


def chart_profile(records, outdir, footer):
    prof = [r for r in records if r["kind"] == "profile" and r.get("ir_per_query")]
    if not prof:
        return None
    names = sorted({r.get("names", 0) for r in prof})
    servers = present(prof, "profile")
    fig, axes = figure(len(names), "callgrind: user-space instructions per answered query "
                       "(one worker, 1,000 q/s)", footer)
    for ax, n in zip(axes, names):
        cases = sorted({(r.get("proto", "udp"), r.get("mix", "hits")) for r in prof if r.get("names", 0) == n},
                       key=lambda c: (c[0] != "udp", c[1] != "hits"))
        grouped_bars(ax, cases, servers, lambda c, s: (
            summarize.profile_of(prof, s, n, *c) or {}).get("ir_per_query"))
        ax.set_xticklabels([case_label(*c) for c in cases])
        ax.set_title(names_label(n) if n else "N not recorded")
        ax.set_xlabel("transport and query set")
        ax.set_ylabel("instructions per query")
        ax.margins(y=0.25)
        goal_line(ax, 2500, "goal: acmens UDP hits <= 2,500")
    axes[0].legend(loc="upper left", fontsize=8)
    return save(fig, outdir, "profile.svg")


CHARTS = (chart_dns, chart_latency, chart_http, chart_profile)


def main(resdir, outdir=None):
    records = summarize.load_records(resdir)
    outdir = outdir or os.path.join(resdir, "charts")
    os.makedirs(outdir, exist_ok=True)
    footer = run_info(records)
    written = [p for p in (c(records, outdir, footer) for c in CHARTS) if p]
    for p in written:
        print(p)
    return written


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    main(*sys.argv[1:])
