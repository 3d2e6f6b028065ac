# SPDX-License-Identifier: ISC
"""bench/delegation_check.py, the command behind the delegation figures of
docs/PERFORMANCE.md, on 300 pairs: both runs (the resolver cold, then
warm) check every pair, every one ok, acmensctl exits 0, and the records
and the table are written where BENCH_RESULTS says."""
import json
import os
import subprocess

BENCH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench")
PAIRS = 300


def test_delegation_bench_runs(tmp_path):
    results = tmp_path / "results"
    env = dict(os.environ, BENCH_WORKDIR=str(tmp_path / "work"), BENCH_RESULTS=str(results))
    p = subprocess.run(["/usr/bin/python3", os.path.join(BENCH, "delegation_check.py"),
                        str(PAIRS)], env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    with open(results / "records.jsonl") as f:
        runs = [json.loads(line) for line in f]
    assert [r["resolver"] for r in runs] == ["cold", "warm"]
    for r in runs:
        assert r["exit"] == 0 and r["pairs"] == PAIRS, r
        assert r["statuses"] == {"ok": PAIRS}, r
        assert r["pairs_per_s"] > 0 and r["ctl_cpu_s"] > 0, r
    table = (results / "summary.md").read_text()
    assert f"| cold | {PAIRS} |" in table and f"| warm | {PAIRS} |" in table, table
    # the scratch space is removed
    assert not (tmp_path / "work").exists()
