# SPDX-License-Identifier: ISC
"""bench/summarize.py and bench/charts.py on a small made-up records.jsonl:
the goals table says met/MISSED/not measured from the numbers, and every
chart is an SVG that parses and carries its titles, labels and footer."""
import importlib.util
import json
import os
import xml.etree.ElementTree as ET

import pytest

BENCH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench")


def load(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(BENCH, f"{name}.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


summarize = load("summarize")
charts = load("charts")

# q/CPU-s per (N, proto, mix, server) = completed / cpu_s with cpu_s 1.
QPS = {("udp", "hits"): {"acmens": 130000, "nsd": 110000, "knot": 100000},
       ("udp", "mix"): {"acmens": 115000, "nsd": 110000, "knot": 100000},   # 1.15x Knot: missed
       ("tcp", "hits"): {"acmens": 200000, "nsd": 60000, "knot": 80000},
       ("tcp", "mix"): {"acmens": 190000, "nsd": 60000, "knot": 80000}}
IR = {("udp", "hits"): {"acmens": 2400, "nsd": 4200, "knot": 5000},
      ("udp", "mix"): {"acmens": 2600, "nsd": 4300, "knot": 5100},
      ("tcp", "hits"): {"acmens": 3600, "nsd": 9000, "knot": 8000}}   # 1.5x UDP hits: missed


def records():
    out = [{"kind": "run", "commit": "abc1234", "date": "2026-12-06T07:00Z",
            "names": ["5000", "1000000"], "profile_names": ["5000"]}]
    for n in (5000, 1000000):
        for s in ("acmens", "nsd", "knot"):
            out.append({"kind": "start", "server": s, "tag": str(n),
                        "first_answer_s": 0.01 if s == "acmens" else 1.5})
            for (proto, mix), per in QPS.items():
                for rep in (1, 2, 3):
                    out.append({"kind": "dnsperf", "names": n, "server": s, "proto": proto,
                                "mix": mix, "rep": rep, "qps": per[s] * 0.8, "completed": per[s],
                                "sent": per[s], "lost": 0, "cpu_s": 1.0, "user_s": 0.2})
            out.append({"kind": "latency", "names": n, "server": s, "rate": 50000, "answers": 1000,
                        "p50_ms": 0.1, "p90_ms": 0.5, "p99_ms": 2.0, "p99.9_ms": 5.0})
    out.append({"kind": "start", "server": "acmens", "tag": "profile-5000", "first_answer_s": 3.0})
    for (proto, mix), per in IR.items():
        for s, ir in per.items():
            out.append({"kind": "profile", "server": s, "names": 5000, "proto": proto, "mix": mix,
                        "dumps": 1, "ir_total": ir * 1000, "queries": 1000, "ir_per_query": ir,
                        "top_self": [{"ir": ir * 100, "share": 10.0, "fn": "udp_ready"}],
                        "by_object": [{"object": "acmensd", "ir": ir * 600, "share": 60.0}]})
    # 64 clients: wrk's rate is 14,000/s, but half of them were refused
    for c, rps, refused in ((1, 1000, 0), (8, 5200, 0), (64, 14000, 14000)):
        out.append({"kind": "update", "clients": c, "rps": rps, "requests": rps * 2, "seconds": 2.0,
                    "errors_status": refused, "cpu_s": 1.0, "p50_ms": 1, "p90_ms": 2, "p99_ms": 3})
    for c, vps in ((1, 22000), (2, 30000), (4, 55000), (8, 60000)):
        out.append({"kind": "batch", "clients": c, "batches": 8, "batch_size": 1000,
                    "values_per_s": vps, "values_failed": 0, "batch_p50_ms": 40, "batch_p99_ms": 50})
    return out


@pytest.fixture(scope="module")
def resdir(tmp_path_factory):
    d = tmp_path_factory.mktemp("results")
    with open(d / "records.jsonl", "w") as f:
        for r in records():
            f.write(json.dumps(r) + "\n")
    summarize.main(str(d))
    return d


def goal(resdir, start):
    with open(resdir / "summary.json") as f:
        goals = json.load(f)["goals"]
    found = [g for g in goals if g["goal"].startswith(start)]
    assert len(found) == 1, (start, [g["goal"] for g in goals])
    return found[0]


def test_goals_from_the_numbers(resdir):
    g = goal(resdir, "acmens instructions per UDP TXT hit, N=5,000")
    assert g["met"] is True and g["value"] == "2,400"
    assert goal(resdir, "acmens instructions per UDP TXT hit, N=1,000,000")["met"] is None
    g = goal(resdir, "acmens instructions per UDP mix query vs UDP hits, N=5,000")
    assert g["met"] is True and g["value"].startswith("1.08x")
    g = goal(resdir, "acmens instructions per TCP hits query vs UDP hits, N=5,000")
    assert g["met"] is False and g["value"].startswith("1.5x")
    assert goal(resdir, "acmens UDP hits q/CPU-s vs Knot, N=1,000,000")["met"] is True
    g = goal(resdir, "acmens UDP mix q/CPU-s vs Knot, N=5,000")
    assert g["met"] is False and g["value"].startswith("1.15x Knot")
    g = goal(resdir, "acmens TCP hits q/CPU-s vs NSD and Knot, N=5,000")
    assert g["met"] is True and "3.33x NSD" in g["value"] and "2.5x Knot" in g["value"]
    g = goal(resdir, "acmens first answer, N=1,000,000")
    assert g["met"] is True and g["value"] == "0.01 s"
    g = goal(resdir, "durable /update answered per second")
    assert g["met"] is True and g["value"] == "7,000 (64 clients)"
    g = goal(resdir, "values per second by /v1/batch, 4 clients")
    assert g["met"] is True and g["value"] == "55,000"
    assert goal(resdir, "acmens p99 latency at 50% of peak UDP load, N=5,000")["met"] is False


def test_summary_tables(resdir):
    md = (resdir / "summary.md").read_text()
    assert "| acmens UDP mix q/CPU-s vs Knot, N=5,000 | >= 1.2x | 1.15x Knot (100,000); acmens 115,000 | MISSED |" in md
    assert "| acmens instructions per UDP TXT hit, N=1,000,000 | <= 2,500 | – | not measured |" in md
    assert "| 5,000 | TCP | hits | 3,600 (1,000) | 9,000 (1,000) | 8,000 (1,000) |" in md
    assert "acmens, N=5,000, TCP hits: own instructions per object" in md
    assert "| 60.0% | 2,160 | `acmensd` |" in md and "| 10.0% | 240 | `udp_ready` |" in md
    # the others' details only for UDP hits
    assert "nsd, N=5,000, UDP hits: top functions" in md and "nsd, N=5,000, TCP" not in md
    # the profile's own start is not a first-answer figure
    assert "profile-5000" not in md


def svg_text(path):
    root = ET.parse(path).getroot()
    assert root.tag.endswith("svg")
    return " ".join(t for t in root.itertext())


def test_charts(resdir, tmp_path):
    written = charts.main(str(resdir), str(tmp_path))
    assert sorted(os.path.basename(p) for p in written) == [
        "dns-qps-per-cpu.svg", "http.svg", "latency.svg", "profile.svg"]
    expect = {
        "dns-qps-per-cpu.svg": ["queries per CPU-second", "N = 1,000,000 names", "TCP mix", "Knot DNS",
                                "130,000"],
        "latency.svg": ["latency (ms, log scale)", "p99.9", "50,000 q/s", "NSD", "goal: acmens p99 < 1 ms"],
        "http.svg": ["requests answered 2xx per second", "values per second", "concurrent clients (log scale)",
                     "55,000", "7,000", "goal: 50,000 with 4 clients"],
        "profile.svg": ["instructions per query", "UDP mix", "TCP hits", "3,600", "goal: acmens UDP hits <= 2,500"],
    }
    for name, words in expect.items():
        text = svg_text(tmp_path / name)
        assert "acmens abc1234 · 2026-12-06T07:00Z" in text, name
        for w in words:
            assert w in text, (name, w)


def test_charts_of_a_partial_run(tmp_path):
    """A run without HTTP and profiles (BENCH_HTTP=0 BENCH_PROFILE=0) gets
    the charts it has data for, and an unknown commit in the footer."""
    with open(tmp_path / "records.jsonl", "w") as f:
        for r in records():
            if r["kind"] in ("dnsperf", "latency"):
                f.write(json.dumps(r) + "\n")
    written = charts.main(str(tmp_path))
    assert sorted(os.path.basename(p) for p in written) == ["dns-qps-per-cpu.svg", "latency.svg"]
    assert "acmens unknown" in svg_text(tmp_path / "charts" / "latency.svg")


def test_publish(tmp_path):
    """bench/publish draws what a bare records.jsonl lacks, replaces an
    earlier run's charts, and prints the links for docs/PERFORMANCE.md."""
    import subprocess
    res, dest = tmp_path / "run", tmp_path / "perf"
    res.mkdir()
    dest.mkdir()
    (dest / "old-chart.svg").write_text("<svg/>")
    with open(res / "records.jsonl", "w") as f:
        for r in records():
            f.write(json.dumps(r) + "\n")
    publish = os.path.join(BENCH, "publish")
    p = subprocess.run([publish, str(res), str(dest)], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert sorted(os.listdir(dest)) == ["dns-qps-per-cpu.svg", "http.svg", "latency.svg",
                                        "profile.svg", "summary.md"]
    assert "![callgrind instructions per query](perf/profile.svg)" in p.stdout.splitlines()
    assert "| values per second by /v1/batch, 4 clients | >= 50,000 | 55,000 | met |" in \
        (dest / "summary.md").read_text()
    p = subprocess.run([publish, str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert p.returncode == 2 and "usage: bench/publish RESULTDIR" in p.stderr
