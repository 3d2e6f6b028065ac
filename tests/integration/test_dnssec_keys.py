# SPDX-License-Identifier: ISC
"""The zone's DNSSEC keys through acmensctl dnssec, with acmensd running on
the same store: keygen, ds (checked against BIND's dnssec-dsfromkey and
ldns's ldns-key2ds fed the DNSKEY line it prints), status, export-key (the
private key of that DNSKEY, in a new 0600 file, and nowhere else), the
three rollover steps with and without --force, backups carrying the keys,
and the dnssec: section of the configuration refused as check-config and
acmensd both name it."""

import base64
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import time

import pytest

from conftest import ACMENSCTL, ZONE, free_port, write_config
from refusal import assert_same_refusal
from test_reload import APPLIED_MSG, RESTART_MSG, hup

DSFROMKEY = shutil.which("dnssec-dsfromkey")
KEY2DS = shutil.which("ldns-key2ds")
USAGE, NOTFOUND, REJECTED = 1, 2, 4


def ctl(s, *args, json_out=True, config=None):
    cmd = [ACMENSCTL, "-c", config or s.config] + (["--json"] if json_out else []) + list(args)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=30)


def ok(s, *args, **kw):
    p = ctl(s, *args, **kw)
    assert p.returncode == 0, (args, p.returncode, p.stderr)
    OUTPUTS.append(p.stdout + p.stderr)
    return json.loads(p.stdout) if kw.get("json_out", True) else p.stdout


OUTPUTS = []    # everything acmensctl printed, searched for private key bytes


def dnssec_server(make_server, section="  enabled: true\n", soa_ttl=3600, start=True):
    s = make_server(start=False, soa_ttl=soa_ttl)
    with open(s.config, "a") as f:
        f.write("dnssec:\n" + section)
    return s.start() if start else s


@pytest.fixture
def signed(make_server):
    """acmensd with dnssec.enabled and a key made by acmensctl."""
    s = dnssec_server(make_server)
    if not ok(s, "dnssec", "status")["keys"]:
        ok(s, "dnssec", "keygen")
    return s


def tags(status):
    return {k["tag"]: k["state"] for k in status["keys"]}


# --- keygen, status ----------------------------------------------------------

def test_keygen_then_status(make_server):
    s = dnssec_server(make_server, "  enabled: 'yes'\n  algorithm: \"ed25519\"\n")
    st = ok(s, "dnssec", "status")
    for k in st["keys"]:                      # a key acmensd made at start is one too
        assert k["state"] == "active"
    if not st["keys"]:
        key = ok(s, "dnssec", "keygen")
        assert key["algorithm"] == "ed25519"  # dnssec.algorithm, quoted, is the default
        assert key["state"] == "active" and 0 < key["tag"] < 65536
    st = ok(s, "dnssec", "status")
    assert st["zone"] == ZONE.rstrip(".") and st["enabled"] is True
    assert st["algorithm"] == "ed25519" and st["dnskey_ttl"] == 3600
    [k] = st["keys"]
    assert k["changed"] >= k["created"] > time.time() - 60
    nxt = st["next"]
    assert nxt["step"] == 1 and nxt["action"] == "publish"
    assert nxt["allowed"] == k["changed"] + 3600 and nxt["key"] is None
    text = ok(s, "dnssec", "status", json_out=False)
    assert re.search(rf"^ *{k['id']} +{k['tag']} ed25519 +active ", text, re.M), text
    assert "next rollover step: 1 (publish), allowed from " in text


def test_keygen_twice_is_refused(signed):
    before = tags(ok(signed, "dnssec", "status"))
    p = ctl(signed, "dnssec", "keygen", json_out=False)
    assert p.returncode == USAGE, p.stderr
    assert "already has a key" in p.stderr and "use dnssec rollover" in p.stderr, p.stderr
    assert tags(ok(signed, "dnssec", "status")) == before


def test_keygen_algorithm_option(make_server):
    s = dnssec_server(make_server, "  enabled: false\n")
    p = ctl(s, "dnssec", "keygen", "--algorithm", "rsasha256", json_out=False)
    assert p.returncode == USAGE
    assert "unknown --algorithm 'rsasha256': use ecdsap256sha256 or ed25519" in p.stderr
    assert ok(s, "dnssec", "status")["keys"] == []
    key = ok(s, "dnssec", "keygen", "--algorithm", "ed25519")
    assert key["algorithm"] == "ed25519"
    st = ok(s, "dnssec", "status")
    assert st["enabled"] is False and st["algorithm"] == "ecdsap256sha256"
    assert [k["algorithm"] for k in st["keys"]] == ["ed25519"]
    # the key keygen prints is the one stored, times included (not null)
    assert st["keys"] == [key] and key["created"] > time.time() - 60


def test_without_keys(make_server):
    s = dnssec_server(make_server, "  enabled: false\n")
    p = ctl(s, "dnssec", "rollover", "--force", json_out=False)
    assert p.returncode == NOTFOUND and "no key" in p.stderr and "keygen" in p.stderr, p.stderr
    p = ctl(s, "dnssec", "ds", json_out=False)
    assert p.returncode == NOTFOUND and "no key" in p.stderr, p.stderr
    st = ok(s, "dnssec", "status")
    assert st["keys"] == [] and st["next"]["action"] == "keygen" and st["next"]["allowed"] is None


# --- ds against BIND and ldns ---------------------------------------------------

def ds_rdata(line):
    """(tag, algorithm, digest type, digest lower case) of a DS line."""
    f = line.split()
    i = f.index("DS")
    return int(f[i + 1]), int(f[i + 2]), int(f[i + 3]), "".join(f[i + 4:]).lower()


@pytest.mark.skipif(not DSFROMKEY or not KEY2DS, reason="bind9 or ldnsutils missing")
@pytest.mark.parametrize("alg", ["ecdsap256sha256", "ed25519"])
def test_ds_matches_bind_and_ldns(make_server, tmp_path, alg):
    s = dnssec_server(make_server, f"  enabled: false\n  algorithm: {alg}\n")
    ok(s, "dnssec", "keygen")
    out = ok(s, "dnssec", "ds")
    ds, dnskey = out["key"]["ds"], out["key"]["dnskey"]
    assert ds.startswith(f"{ZONE} 3600 IN DS {out['key']['tag']} ")
    assert out["remove"] == [] and out["zone"] == ZONE.rstrip(".")
    keyfile = tmp_path / "zone.key"
    keyfile.write_text(dnskey + "\n")
    bind = subprocess.run([DSFROMKEY, "-2", "-f", str(keyfile), ZONE], capture_output=True,
                          text=True, timeout=30)
    assert bind.returncode == 0, bind.stderr
    assert ds_rdata(bind.stdout) == ds_rdata(ds), (bind.stdout, ds)
    ldns = subprocess.run([KEY2DS, "-n", "-2", str(keyfile)], capture_output=True, text=True,
                          timeout=30)
    assert ldns.returncode == 0, ldns.stderr
    assert ds_rdata(ldns.stdout) == ds_rdata(ds), (ldns.stdout, ds)
    text = ok(s, "dnssec", "ds", json_out=False)
    assert ds in text.splitlines() and dnskey in text.splitlines()


# --- export-key ----------------------------------------------------------------

def public_key_of_pem(path):
    der = subprocess.run(["openssl", "pkey", "-in", str(path), "-pubout", "-outform", "DER"],
                         capture_output=True, timeout=30, check=True).stdout
    return der


def pem_body(path):
    return [line for line in open(path).read().splitlines() if not line.startswith("-----")]


def test_export_key(signed, tmp_path):
    out = ok(signed, "dnssec", "ds")["key"]
    dest = tmp_path / "zone.pem"
    res = ok(signed, "dnssec", "export-key", str(out["tag"]), "--out", str(dest))
    assert res == {"tag": out["tag"], "id": out["id"], "state": "active", "file": str(dest)}
    assert stat.S_IMODE(os.stat(dest).st_mode) == 0o600
    assert open(dest).read().startswith("-----BEGIN PRIVATE KEY-----\n")
    # the file's key is the DNSKEY's: P-256's x||y ends the SubjectPublicKeyInfo
    pub = base64.b64decode(out["dnskey"].split()[-1])
    assert public_key_of_pem(dest).endswith(pub)
    # an existing file is refused and left as it was
    before = open(dest).read()
    p = ctl(signed, "dnssec", "export-key", str(out["tag"]), "--out", str(dest),
            json_out=False)
    assert p.returncode == REJECTED and "exists" in p.stderr and open(dest).read() == before
    link = tmp_path / "link.pem"
    os.symlink(tmp_path / "elsewhere.pem", link)
    p = ctl(signed, "dnssec", "export-key", str(out["tag"]), "--out", str(link), json_out=False)
    assert p.returncode == REJECTED and not (tmp_path / "elsewhere.pem").exists(), p.stderr
    # never to standard output
    p = ctl(signed, "dnssec", "export-key", str(out["tag"]), "--out", "-", json_out=False)
    assert p.returncode == USAGE and "never written to standard output" in p.stderr
    assert p.stdout == ""
    p = ctl(signed, "dnssec", "export-key", str(out["tag"]), json_out=False)
    assert p.returncode == USAGE and p.stdout == ""
    p = ctl(signed, "dnssec", "export-key", str((out["tag"] + 1) % 65536), "--out",
            str(tmp_path / "none.pem"), json_out=False)
    assert p.returncode == NOTFOUND and not (tmp_path / "none.pem").exists()
    # audited, by tag and file
    text = ok(signed, "audit", json_out=False)
    assert re.search(rf"dnssec_export .*dnssec key {out['tag']} exported", text), text
    assert_no_private_bytes(signed, dest)


def assert_no_private_bytes(s, pem_path):
    """No line of the PEM's body in anything acmensctl printed, in the
    audit log, or in acmensd's log."""
    body = pem_body(pem_path)
    audit = ok(s, "audit", json_out=False) + ctl(s, "audit").stdout
    for where, text in [("acmensctl", "\n".join(OUTPUTS)), ("audit", audit),
                        ("acmensd", s.read_log())]:
        for line in body:
            assert line not in text, (where, line)


# --- rollover ------------------------------------------------------------------

def test_rollover_three_steps_forced(signed, tmp_path):
    st = ok(signed, "dnssec", "status")
    [(old, _)] = tags(st).items()
    # not yet: the DNSKEY TTL (3600) has not passed since the key came
    p = ctl(signed, "dnssec", "rollover", json_out=False)
    assert p.returncode == REJECTED, p.stderr
    assert re.search(r"step 1 \(publish\) waits until \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ "
                     r"\(\d+ s from now\) for .*TTL 3600.*--force", p.stderr), p.stderr
    assert tags(ok(signed, "dnssec", "status")) == {old: "active"}

    r = ok(signed, "dnssec", "rollover", "--force")
    new = r["key"]
    assert r["step"] == 1 and r["active"] == old and new != old
    assert tags(ok(signed, "dnssec", "status")) == {old: "active", new: "published"}
    ds = ok(signed, "dnssec", "ds")
    assert ds["key"]["tag"] == new and ds["key"]["state"] == "published"
    assert [k["tag"] for k in ds["remove"]] == [old]
    text = ok(signed, "dnssec", "ds", json_out=False)
    assert f"key {old} (active) goes" in text and ds["remove"][0]["ds"] in text

    st = ok(signed, "dnssec", "status")
    pub = next(k for k in st["keys"] if k["tag"] == new)
    assert st["next"]["step"] == 2 and st["next"]["key"] == new
    assert st["next"]["allowed"] == pub["changed"] + 3600 + 86400
    assert ok(signed, "dnssec", "status", "--ds-ttl", "600")["next"]["allowed"] == \
        pub["changed"] + 3600 + 600
    p = ctl(signed, "dnssec", "rollover", "--ds-ttl", "600", json_out=False)
    assert p.returncode == REJECTED and "step 2 (activate)" in p.stderr
    assert "DS TTL 600" in p.stderr, p.stderr

    r = ok(signed, "dnssec", "rollover", "--force")
    assert r["step"] == 2 and r["active"] == new
    assert tags(ok(signed, "dnssec", "status")) == {old: "retiring", new: "active"}
    assert ok(signed, "dnssec", "ds")["key"]["tag"] == new
    p = ctl(signed, "dnssec", "rollover", json_out=False)
    assert p.returncode == REJECTED and "step 3 (remove)" in p.stderr, p.stderr

    r = ok(signed, "dnssec", "rollover", "--force")
    assert r["step"] == 3 and r["key"] == old
    assert tags(ok(signed, "dnssec", "status")) == {new: "active"}
    text = ok(signed, "audit", json_out=False)
    for change in [f"key {new} (ecdsap256sha256) added, published",
                   f"key {new} published -> active, key {old} active -> retiring",
                   f"key {old} deleted"]:
        assert change in text, text
    assert ok(signed, "check-store")["problem_count"] == 0


def test_rollover_waits_then_goes(make_server):
    """With a 1 s DNSKEY TTL and --ds-ttl 1 every step goes without --force
    once its wait is over."""
    s = dnssec_server(make_server, "  enabled: false\n", soa_ttl=1)
    ok(s, "dnssec", "keygen")
    for step in (1, 2, 3):
        st = ok(s, "dnssec", "status", "--ds-ttl", "1")
        assert st["next"]["step"] == step
        while time.time() < st["next"]["allowed"] + 1:
            time.sleep(0.2)
        assert ok(s, "dnssec", "rollover", "--ds-ttl", "1")["step"] == step
    assert [k["state"] for k in ok(s, "dnssec", "status")["keys"]] == ["active"]


def test_rollover_bad_ds_ttl(signed):
    p = ctl(signed, "dnssec", "rollover", "--ds-ttl", "1h", json_out=False)
    assert p.returncode == USAGE and "--ds-ttl takes 0 to 2147483647, not '1h'" in p.stderr


# --- the store ------------------------------------------------------------------

def test_store_files_and_backup(signed, tmp_path):
    for name in ("data.mdb", "lock.mdb"):
        assert stat.S_IMODE(os.stat(os.path.join(signed.store, name)).st_mode) == 0o600
    ok(signed, "dnssec", "rollover", "--force")
    want = tags(ok(signed, "dnssec", "status"))
    dest = tmp_path / "backup"
    ok(signed, "backup", str(dest))
    assert stat.S_IMODE(os.stat(dest / "data.mdb").st_mode) == 0o600
    other = tmp_path / "restored.yaml"
    text = open(signed.config).read().replace(f"  path: {signed.store}\n", f"  path: {dest}\n")
    other.write_text(text)
    assert tags(ok(signed, "dnssec", "status", config=str(other))) == want
    assert ok(signed, "dnssec", "ds", config=str(other)) == ok(signed, "dnssec", "ds")
    assert ok(signed, "check-store", config=str(other))["problem_count"] == 0


def test_acmensd_log_has_no_private_key(signed, tmp_path):
    tag = ok(signed, "dnssec", "status")["keys"][0]["tag"]
    dest = tmp_path / "k.pem"
    ok(signed, "dnssec", "export-key", str(tag), "--out", str(dest))
    ok(signed, "dnssec", "rollover", "--force")
    signed.proc.send_signal(signal.SIGHUP)
    time.sleep(0.5)
    signed.stop()
    assert_no_private_bytes(signed, dest)


# --- the configuration -----------------------------------------------------------

STYLES = ["{}", "'{}'", '"{}"']


def dnssec_config(tmp_path, name, written):
    cfg = str(tmp_path / "acmens.yaml")
    write_config(cfg, free_port(), str(tmp_path / "store"))
    extra = {"signature_refresh": "  signature_validity: 7200\n",
             "enabled": ""}.get(name, "  enabled: true\n")
    with open(cfg, "a") as f:
        f.write(f"dnssec:\n{extra}  {name}: {written}\n")
    lines = open(cfg).read().splitlines()
    return cfg, lines.index(f"  {name}: {written}") + 1


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("name,value,accepted", [
    ("algorithm", "rsasha256", "expected one of ecdsap256sha256, ed25519"),
    ("algorithm", "ECDSAP256SHA256", "expected one of ecdsap256sha256, ed25519"),
    ("algorithm", "13", "expected one of ecdsap256sha256, ed25519"),
    ("signature_validity", "3600", "expected an integer from 7200 to 31536000"),
    ("signature_validity", "31536001", "expected an integer from 7200 to 31536000"),
    ("signature_validity", "14d", "expected an integer from 7200 to 31536000"),
    ("signature_refresh", "3599", "expected an integer from 3600 to 31532400"),
    ("enabled", "sometimes", "expected true or false"),
])
def test_bad_values(tmp_path, style, name, value, accepted):
    written = style.format(value)
    cfg, line = dnssec_config(tmp_path, name, written)
    msg = assert_same_refusal(cfg, f"{cfg}:{line}: dnssec.{name}: {accepted}")
    assert msg.endswith(f"got {written})"), msg
    assert not os.path.exists(tmp_path / "store")


@pytest.mark.parametrize("style", STYLES)
def test_refresh_within_validity(tmp_path, style):
    """validity 7200: the refresh may be 3600 at most."""
    cfg, line = dnssec_config(tmp_path, "signature_refresh", style.format(3601))
    msg = assert_same_refusal(cfg, f"{cfg}:{line}: dnssec.signature_refresh: expected at most "
                              "dnssec.signature_validity - 3600 (3600; got 3601)")
    assert msg


@pytest.mark.parametrize("style", STYLES)
def test_good_values_quoted(tmp_path, style):
    cfg, _ = dnssec_config(tmp_path, "signature_refresh", style.format(3600))
    p = subprocess.run([ACMENSCTL, "-c", cfg, "check-config"], capture_output=True, text=True,
                       timeout=30)
    assert p.returncode == 0 and p.stdout == "ok\n", p.stderr


def test_reload_applies_dnssec_settings(make_server):
    """A SIGHUP applies every dnssec.* key (the zone is rebuilt with them):
    each logged as applied, none as needing a restart."""
    s = make_server(start=False, log_extra={"format": "json"})
    base = open(s.config).read()
    with open(s.config, "a") as f:
        f.write("dnssec:\n  enabled: false\n")
    s.start()
    with open(s.config, "w") as f:
        f.write(base + "dnssec:\n  enabled: 'on'\n  algorithm: ed25519\n"
                "  signature_validity: \"86400\"\n  signature_refresh: 7200\n")
    lines = hup(s)
    applied = {e["key"]: (e["old"], e["new"]) for e in lines if e["msg"] == APPLIED_MSG}
    assert applied == {"dnssec.enabled": ("false", "true"),
                       "dnssec.algorithm": ("ecdsap256sha256", "ed25519"),
                       "dnssec.signature_validity": ("1209600", "86400"),
                       "dnssec.signature_refresh": ("604800", "7200")}, lines
    assert not [e for e in lines if e["msg"] == RESTART_MSG], lines
