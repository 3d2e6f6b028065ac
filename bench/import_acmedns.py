#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""bench/import_acmedns.py [N ...]: how long acmensctl import-acmedns takes
for an acme-dns SQLite database of N accounts (one value each, as acme-dns
keeps them: two txt rows per account), and its peak memory (maximum RSS,
from /usr/bin/time). Into an empty store, then again (everything already
present, as a rerun after an interruption finds it). Default N: 1000000.
Prints one line per run; docs/PERFORMANCE.md has the figures.

Environment: BENCH_BUILD (build directory) [build], BENCH_WORKDIR (scratch
space) [mktemp under /var/tmp], BENCH_KEEP=1 keeps it."""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "tests", "integration"))
from acmedns_bulk import write_bulk_db  # noqa: E402

BUILD = os.environ.get("BENCH_BUILD", os.path.join(TOP, "build"))
CONFIG = """zone:
  name: auth.example.org.
  ns: [ns1.auth.example.org.]
  soa: {{rname: hostmaster.example.org.}}
  records: ["ns1.auth.example.org. 3600 IN A 127.0.0.1"]
dns:
  listen: ["127.0.0.1:53530"]
store:
  path: {store}
  max_size: 8589934592
"""


def run_import(config, db):
    cmd = ["/usr/bin/time", "-f", "maxrss_kb=%M", os.path.join(BUILD, "cli", "acmensctl"),
           "-c", config, "--json", "import-acmedns", db]
    t0 = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True)
    took = time.monotonic() - t0
    if p.returncode != 0:
        sys.exit(f"import failed ({p.returncode}): {p.stderr[-2000:]}")
    rss = int(re.findall(r"maxrss_kb=(\d+)", p.stderr)[-1])
    return took, rss, json.loads(p.stdout)


def bench(n, work):
    db = os.path.join(work, f"acme-dns-{n}.db")
    store = os.path.join(work, f"store-{n}")
    config = os.path.join(work, f"acmens-{n}.yaml")
    with open(config, "w") as f:
        f.write(CONFIG.format(store=store))
    t0 = time.monotonic()
    write_bulk_db(db, n, int(time.time()))
    print(f"N={n}: source database written in {time.monotonic() - t0:.1f} s "
          f"({os.path.getsize(db) / 1e6:.0f} MB)", flush=True)
    for what in ("empty store", "rerun, all present"):
        took, rss, out = run_import(config, db)
        acc = out["accounts"]
        print(f"N={n}: {what}: {took:.1f} s ({n / took:,.0f} accounts/s), "
              f"peak RSS {rss / 1024:.0f} MiB; imported {acc['imported']}, "
              f"present {acc['present']}, values {out['values']['imported']}; "
              f"store {sum(os.path.getsize(os.path.join(store, x)) for x in os.listdir(store)) / 1e6:.0f} MB",
              flush=True)


def main():
    counts = [int(a) for a in sys.argv[1:]] or [1000000]
    work = os.environ.get("BENCH_WORKDIR") or tempfile.mkdtemp(prefix="acmens-import-",
                                                               dir="/var/tmp")
    try:
        for n in counts:
            bench(n, work)
    finally:
        if os.environ.get("BENCH_KEEP") != "1":
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
