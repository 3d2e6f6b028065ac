# SPDX-License-Identifier: ISC
"""A damaged store is refused, never served and never a crash.

A store with accounts and values is made by a live acmensd, stopped, and
copied; each case damages a fresh copy the way disks and people do (data.mdb
truncated, an LMDB meta page zeroed, then both, a layout version from
another release, a record overwritten) and then runs acmensd and acmensctl
on it: acmensd must exit with a failure status of its own (not a signal:
a truncated map used to be SIGBUS, -7), naming the problem and the way out
(a backup, acmensctl check-store), with no sanitizer report; acmensctl must
refuse with exit 3 and the same words. After each case the intact copy
goes back and is served in full. Locks left by dead processes (acmensd.lock
with a dead PID, a kill -9 that leaves reader slots in lock.mdb, a killed
holder of the flock) must not keep acmensd from starting."""

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys

import pytest

from conftest import ACMENSCTL, ACMENSD, dns_txt, value

SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "runtime error:", "ERROR: LeakSanitizer")
PAGE = 4096          # LMDB's page size is the system's: 4 KiB on this platform


@pytest.fixture
def made(make_server):
    """A stopped server whose store holds two accounts with values, and an
    intact copy of that store."""
    s = make_server()
    accts = [s.register() for _ in range(2)]
    for i, a in enumerate(accts):
        s.ctl("txt", "add", a["subdomain"], value(i))
    s.stop()
    golden = os.path.join(s.dir, "golden")
    shutil.copytree(s.store, golden)
    return s, accts, golden


def served(s, sub, tcp=True):
    rcode, values = dns_txt(s, sub, tcp=tcp)
    assert rcode == 0
    return set(values)


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def restore(s, golden):
    shutil.rmtree(s.store)
    shutil.copytree(golden, s.store)


def data_path(s):
    return os.path.join(s.store, "data.mdb")


def run_acmensd(s, timeout=20):
    p = subprocess.run([ACMENSD, "-c", s.config], capture_output=True, text=True,
                       timeout=timeout)
    for m in SANITIZER_MARKERS:
        assert m not in p.stderr, p.stderr
    return p


def ctl(s, *args):
    return subprocess.run([ACMENSCTL, "-c", s.config] + list(args), capture_output=True,
                          text=True, timeout=30)


def replace_bytes(path, old, new):
    """Overwrite every copy of old (LMDB keeps older copies of pages) in place."""
    assert len(old) == len(new)
    with open(path, "rb") as f:
        data = f.read()
    count = data.count(old)
    assert count > 0, f"{old!r} not in {path}"
    with open(path, "wb") as f:
        f.write(data.replace(old, new))
    return count


def zero_page(path, n):
    with open(path, "r+b") as f:
        f.seek(n * PAGE)
        f.write(bytes(PAGE))


DAMAGE = {
    # name: (how, words every refusal must hold)
    "truncated_8k": (lambda p: os.truncate(p, 8192), ["truncated", "8192 bytes"]),
    "truncated_in_meta": (lambda p: os.truncate(p, 5000), ["truncated", "5000 bytes"]),
    "empty": (lambda p: os.truncate(p, 0), ["empty"]),
    "meta0_zeroed": (lambda p: zero_page(p, 0), ["damaged", "meta page 0 is not sound"]),
    "meta1_zeroed": (lambda p: zero_page(p, 1), ["damaged", "meta page 1 is not sound"]),
    "both_metas_zeroed": (lambda p: (zero_page(p, 0), zero_page(p, 1)),
                          ["damaged", "neither LMDB meta page"]),
    "layout_version_99": (lambda p: replace_bytes(p, b"schema\x00\x00\x00\x01",
                                                  b"schema\x00\x00\x00\x63"),
                          ["layout version 99", "reads version 1", "newer release"]),
}
RECOVERY = ["backup", "check-store"]


@pytest.mark.parametrize("case", sorted(DAMAGE))
def test_damaged_store_is_refused(made, case):
    s, accts, golden = made
    how, words = DAMAGE[case]
    before = os.path.getsize(data_path(s))
    how(data_path(s))
    if case.startswith("truncated"):
        assert os.path.getsize(data_path(s)) < before

    damaged = digest(data_path(s))
    p = run_acmensd(s)
    assert p.returncode > 0, f"acmensd: status {p.returncode} (a signal is negative)\n{p.stderr}"
    for w in words + RECOVERY:
        assert w in p.stderr, (w, p.stderr)

    # acmensctl refuses every command with the same diagnosis, exit 3 ...
    for args in (["txt", "list", accts[0]["subdomain"]], ["check-store"],
                 ["--json", "check-store"], ["txt", "add", accts[0]["subdomain"], value(9)]):
        q = ctl(s, *args)
        assert q.returncode == 3, (args, q.returncode, q.stdout, q.stderr)
        for w in words:
            assert w in q.stderr, (args, w, q.stderr)
        for m in SANITIZER_MARKERS:
            assert m not in q.stderr, q.stderr
        if "--json" in args:
            assert json.loads(q.stdout)["code"] == 3
    # ... and none of them changed the damaged file (nothing was written).
    assert digest(data_path(s)) == damaged

    # The intact copy is served in full.
    restore(s, golden)
    assert ctl(s, "check-store").returncode == 0
    s.start()
    for i, a in enumerate(accts):
        assert served(s, a["subdomain"]) == {value(i)}
    s.stop()


def test_check_store_reports_a_damaged_record(made):
    """A record overwritten in place (LMDB itself stays sound): check-store
    names the database and exits 3; an intact store is exit 0."""
    s, accts, golden = made
    q = ctl(s, "--json", "check-store")
    assert q.returncode == 0, q.stderr
    out = json.loads(q.stdout)
    assert out["ok"] and out["accounts"] == 2 and out["values"] == 2 and out["schema"] == 1
    assert out["accounts_json"] == 0
    # Every account record is binary: its version byte (0x81), then the
    # username's length and bytes. Give each an unknown version.
    for a in accts:
        user = a["username"].encode()
        replace_bytes(data_path(s), b"\x81" + bytes([len(user)]) + user,
                      b"\x82" + bytes([len(user)]) + user)
    q = ctl(s, "--json", "check-store")
    assert q.returncode == 3, q.stdout
    out = json.loads(q.stdout)
    assert not out["ok"] and out["problem_count"] >= 2
    assert {p["database"] for p in out["problems"]} == {"accounts"}
    assert all("does not decode" in p["problem"] for p in out["problems"])
    q = ctl(s, "check-store")
    assert q.returncode == 3 and q.stdout.startswith("accounts "), q.stdout
    assert "damaged:" in q.stdout


def test_store_without_layout_version_is_given_one(made):
    """A store from before the version was recorded (no "schema" in meta)
    is read as layout 1; the first acmensd records the version."""
    s, accts, golden = made
    replace_bytes(data_path(s), b"schema\x00\x00\x00\x01", b"schemX\x00\x00\x00\x01")
    out = json.loads(ctl(s, "--json", "check-store").stdout)
    assert out["schema"] == 0
    q = ctl(s, "txt", "list", accts[0]["subdomain"])
    assert q.returncode == 0 and value(0) in q.stdout, q.stderr
    s.start()
    assert served(s, accts[1]["subdomain"]) == {value(1)}
    s.stop()
    out = json.loads(ctl(s, "--json", "check-store").stdout)
    assert out["schema"] == 1


def test_stale_acmensd_lock_does_not_block(made):
    """acmensd.lock is an flock, which the kernel drops when its holder
    dies: a file naming a dead PID, or left by a killed holder, is no lock;
    a live holder is."""
    s, accts, golden = made
    lock = os.path.join(s.store, "acmensd.lock")
    dead = subprocess.Popen(["true"])
    dead.wait()
    with open(lock, "w") as f:
        f.write(f"{dead.pid}\n")
    s.start()
    assert served(s, accts[0]["subdomain"]) == {value(0)}
    s.stop()

    holder = subprocess.Popen(
        [sys.executable, "-c", "import fcntl, sys, time\n"
         "f = open(sys.argv[1], 'a'); fcntl.flock(f, fcntl.LOCK_EX)\n"
         "print('held', flush=True); time.sleep(60)", lock],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        p = run_acmensd(s)
        assert p.returncode == 1 and "another acmensd" in p.stderr, p.stderr
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        holder.stdout.close()
    s.start()
    assert served(s, accts[1]["subdomain"]) == {value(1)}
    s.stop()


def test_kill_9_leaves_no_blocking_reader_slots(made):
    """acmensd killed with -9 while its workers hold read snapshots leaves
    their slots in lock.mdb: the next acmensd and acmensctl clear them
    (mdb_reader_check) and work, writes included, nothing lost."""
    s, accts, golden = made
    for round_ in range(3):
        s.start()
        for _ in range(20):                  # workers take their snapshots
            assert served(s, accts[0]["subdomain"], tcp=False) == {value(0)}
        s.stop(sig=signal.SIGKILL)
        q = ctl(s, "txt", "add", accts[1]["subdomain"], value(100 + round_))
        assert q.returncode == 0, q.stderr
        assert ctl(s, "check-store").returncode == 0
    s.start()
    assert served(s, accts[1]["subdomain"]) == {value(1), value(100), value(101), value(102)}
    s.stop()
