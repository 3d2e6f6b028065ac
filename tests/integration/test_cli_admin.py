# SPDX-License-Identifier: ISC
"""acmensctl's operator commands: account list/show/disable/enable/delete/
rotate-key (checked against the live HTTP API and DNS), check-config, serial,
stats, audit, backup (under write load, and the copy served by a second
acmensd), --help for every command, and the usage, not-found and store
errors with their exit codes."""

import http.client
import json
import os
import pwd
import re
import subprocess
import threading
import time

import dns.rcode
import pytest

from conftest import ACMENSCTL, ZONE, register_ctl_secrets, value

OK, USAGE, NOTFOUND, STORE, REJECTED = 0, 1, 2, 3, 4
UNKNOWN_SUB = "00000000-0000-4000-8000-000000000000"
STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
ACCOUNT_FIELDS = {"subdomain", "fulldomain", "username", "allowfrom", "created", "updated",
                  "disabled", "key_scheme", "tsig"}


def login():
    return os.environ.get("SUDO_USER") or pwd.getpwuid(os.getuid()).pw_name


def ctl(config, *args, json_out=True):
    """Run acmensctl; (exit code, parsed JSON stdout or None, CompletedProcess)."""
    cmd = [ACMENSCTL, "-c", config] + (["--json"] if json_out else []) + list(args)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    register_ctl_secrets(p.stdout)
    out = None
    if json_out and p.stdout.strip():
        out = json.loads(p.stdout)
    return p.returncode, out, p


def ok(srv, *args):
    rc, out, p = ctl(srv.config, *args)
    assert rc == OK, p.stderr
    return out


def human(srv, *args):
    rc, _, p = ctl(srv.config, *args, json_out=False)
    assert rc == OK, p.stderr
    return p.stdout


def audit_count(srv):
    return len(human(srv, "audit", "--limit", "1000000").splitlines())


def call(srv, method, path, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", srv.http_port, timeout=10)
    conn.request(method, path, body=json.dumps(body) if body is not None else None,
                 headers=headers or {})
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r.status, data


def creds(acct, key=None):
    return {"X-Api-User": acct["username"], "X-Api-Key": key or acct["password"]}


def update(srv, acct, txt, key=None):
    """acme-dns /update; returns the HTTP status."""
    return call(srv, "POST", "/update", {"subdomain": acct["subdomain"], "txt": txt},
                creds(acct, key))[0]


@pytest.fixture(scope="module")
def srv(shared_server):
    return shared_server


@pytest.fixture
def api(make_server):
    """A daemon with the HTTP API on."""
    return make_server(http={}, txt_max_values=64)


# --- account list ----------------------------------------------------------------

def test_list_pages_search_and_json(make_server):
    s = make_server()
    accts = [s.register() for _ in range(5)]
    subs = sorted(a["subdomain"] for a in accts)
    ok(s, "txt", "add", accts[0]["subdomain"], value(1))
    ok(s, "txt", "add", accts[0]["subdomain"], value(2))
    ok(s, "account", "disable", accts[1]["subdomain"])

    out = ok(s, "account", "list")
    assert [a["subdomain"] for a in out["accounts"]] == subs and out["next"] is None
    by_sub = {a["subdomain"]: a for a in out["accounts"]}
    for a in accts:
        row = by_sub[a["subdomain"]]
        assert set(row) == ACCOUNT_FIELDS | {"value_count"}
        assert row["username"] == a["username"] and row["fulldomain"] == a["fulldomain"]
        assert row["key_scheme"] == "sha256" and abs(row["created"] - time.time()) < 60
    assert by_sub[accts[0]["subdomain"]]["value_count"] == 2
    assert by_sub[accts[1]["subdomain"]]["disabled"] is True
    assert sum(r["disabled"] for r in out["accounts"]) == 1

    # pages of two, each continuing after the last
    seen, after, pages = [], None, 0
    while True:
        args = ["account", "list", "--limit", "2"] + (["--after", after] if after else [])
        page = ok(s, *args)
        pages += 1
        seen += [a["subdomain"] for a in page["accounts"]]
        if page["next"] is None:
            break
        assert page["next"] == seen[-1] and len(page["accounts"]) == 2
        after = page["next"]
    assert seen == subs and pages == 3
    # --after takes any case; the last subdomain ends the list
    page = ok(s, "account", "list", "--after", subs[2].upper(), "--limit=1")
    assert [a["subdomain"] for a in page["accounts"]] == [subs[3]]
    assert ok(s, "account", "list", "--after", subs[-1]) == {"accounts": [], "next": None}

    # search: part of a username or subdomain, any case
    who = accts[3]
    for text in (who["username"][9:18].upper(), who["subdomain"][-12:]):
        found = ok(s, "account", "list", "--search", text)["accounts"]
        assert [a["subdomain"] for a in found] == [who["subdomain"]], text
    assert ok(s, "account", "list", "--search", "no-such-thing")["accounts"] == []


def test_list_human(make_server):
    s = make_server()
    accts = sorted((s.register() for _ in range(3)), key=lambda a: a["subdomain"])
    ok(s, "txt", "add", accts[2]["subdomain"], value(3))
    ok(s, "account", "disable", accts[0]["subdomain"])
    lines = human(s, "account", "list").splitlines()
    assert lines[0].split() == ["SUBDOMAIN", "USERNAME", "CREATED", "VALUES", "STATE"]
    rows = [l.split() for l in lines[1:]]
    assert [r[0] for r in rows] == [a["subdomain"] for a in accts]
    assert [r[1] for r in rows] == [a["username"] for a in accts]
    assert all(STAMP.match(r[2]) for r in rows)
    assert [r[3] for r in rows] == ["0", "0", "1"]
    assert [r[4] for r in rows] == ["disabled", "enabled", "enabled"]
    # a page that is not the last names where to go on, on stderr
    rc, _, p = ctl(s.config, "account", "list", "--limit", "2", json_out=False)
    assert rc == OK and len(p.stdout.splitlines()) == 3
    assert "--after " + accts[1]["subdomain"] in p.stderr
    # an empty list prints nothing
    rc, _, p = ctl(s.config, "account", "list", "--search", "zzzz", json_out=False)
    assert rc == OK and p.stdout == ""


# --- account show ----------------------------------------------------------------

def test_show(srv):
    acct = srv.register("192.0.2.0/24")
    sub = acct["subdomain"]
    ok(srv, "txt", "add", sub, value(1))
    ok(srv, "txt", "add", sub, value(2), "--expires-in", "600")
    out = ok(srv, "account", "show", sub.upper())
    assert set(out) == ACCOUNT_FIELDS | {"values", "delegation"}
    assert out["delegation"] is None         # never checked
    assert (out["subdomain"], out["username"], out["allowfrom"], out["disabled"]) == (
        sub, acct["username"], ["192.0.2.0/24"], False)
    vals = {v["value"]: v for v in out["values"]}
    assert set(vals) == {value(1), value(2)}
    assert vals[value(1)]["expires"] is None
    assert abs(vals[value(2)]["expires"] - time.time() - 600) < 5
    assert all(abs(v["set"] - time.time()) < 60 for v in vals.values())

    text = human(srv, "account", "show", sub)
    fields = dict(re.findall(r"^(\w+):\s+(\S+)$", text, re.M))
    assert fields["subdomain"] == sub and fields["username"] == acct["username"]
    assert fields["fulldomain"] == acct["fulldomain"] and fields["state"] == "enabled"
    assert fields["key_scheme"] == "sha256" and fields["allowfrom"] == "192.0.2.0/24"
    assert STAMP.match(fields["created"]) and STAMP.match(fields["updated"])
    assert re.search(r"^delegation: never checked$", text, re.M)
    assert re.search(r"^VALUE\s+SET\s+EXPIRES$", text, re.M)
    assert re.search(r"^%s\s+\S+\s+never$" % re.escape(value(1)), text, re.M)
    # neither the key nor its hash is shown
    import hashlib
    digest = hashlib.sha256(acct["password"].encode()).hexdigest()
    for shown in (text, json.dumps(out)):
        assert acct["password"] not in shown and digest not in shown and "hash" not in shown


@pytest.mark.parametrize("verb", ["show", "disable", "enable", "rotate-key", "delete"])
@pytest.mark.parametrize("sub", [UNKNOWN_SUB, "no_such!label", "x" * 64])
def test_unknown_account_is_2_and_changes_nothing(srv, verb, sub):
    serial, events = srv.serial(), audit_count(srv)
    extra = ["--yes"] if verb == "delete" else []
    rc, out, p = ctl(srv.config, "account", verb, sub, *extra)
    assert rc == NOTFOUND and out["code"] == NOTFOUND
    assert "not found" in out["error"] and sub in out["error"]
    rc, _, p = ctl(srv.config, "account", verb, sub, *extra, json_out=False)
    assert rc == NOTFOUND and p.stdout == "" and "not found" in p.stderr
    assert srv.serial() == serial and audit_count(srv) == events


# --- disable, enable, rotate-key, delete against the API ---------------------------

def test_disable_and_enable(api):
    acct = api.register()
    other = api.register()
    assert update(api, acct, value(1)) == 200
    out = ok(api, "account", "disable", acct["subdomain"])
    assert out == {"subdomain": acct["subdomain"], "disabled": True, "serial": api.serial()}
    assert update(api, acct, value(2)) == 401
    assert update(api, other, value(2)) == 200       # only that account
    # its values stay served until removed or expired
    r = api.query(acct["fulldomain"] + ".", "TXT")
    assert [b"".join(rd.strings).decode() for rs in r.answer for rd in rs] == [value(1)]
    assert ok(api, "account", "show", acct["subdomain"])["disabled"] is True
    # disabling again is fine and writes nothing
    events = audit_count(api)
    assert human(api, "account", "disable", acct["subdomain"]) == (
        "ok, %s disabled\n" % acct["subdomain"])
    assert audit_count(api) == events

    assert human(api, "account", "enable", acct["subdomain"]) == (
        "ok, %s enabled\n" % acct["subdomain"])
    assert update(api, acct, value(3)) == 200
    assert ok(api, "account", "show", acct["subdomain"])["disabled"] is False


def test_rotate_key(api):
    acct = api.register()
    old = acct["password"]
    assert update(api, acct, value(1)) == 200
    out = ok(api, "account", "rotate-key", acct["subdomain"])
    assert set(out) == {"subdomain", "username", "password", "serial"}
    assert out["username"] == acct["username"] and out["subdomain"] == acct["subdomain"]
    assert re.match(r"^[A-Za-z0-9_-]{40}$", out["password"]) and out["password"] != old
    assert update(api, acct, value(2), key=old) == 401
    assert update(api, acct, value(3), key=out["password"]) == 200
    # human output, the key shown once more, and rotating again
    fields = dict(re.findall(r"^(\w+):\s+(\S+)$", human(api, "account", "rotate-key",
                                                          acct["subdomain"]), re.M))
    assert set(fields) == {"username", "password", "subdomain"}
    assert update(api, acct, value(4), key=out["password"]) == 401
    assert update(api, acct, value(5), key=fields["password"]) == 200


def test_changes_keep_other_fields(api):
    """disable/enable rewrite only the flag: a key rotated over the API in
    between stays rotated (read-modify-write inside the transaction)."""
    acct = api.register()
    status, data = call(api, "POST", "/v1/accounts/%s/rotate-key" % acct["subdomain"],
                        headers=creds(acct))
    assert status == 200, data
    new_key = json.loads(data)["password"]
    ok(api, "account", "disable", acct["subdomain"])
    ok(api, "account", "enable", acct["subdomain"])
    assert update(api, acct, value(1), key=acct["password"]) == 401
    assert update(api, acct, value(1), key=new_key) == 200
    # and a CLI rotation keeps the disabled flag
    ok(api, "account", "disable", acct["subdomain"])
    rotated = ok(api, "account", "rotate-key", acct["subdomain"])
    assert update(api, acct, value(2), key=rotated["password"]) == 401
    assert ok(api, "account", "show", acct["subdomain"])["disabled"] is True


def test_delete(api):
    acct = api.register()
    sub = acct["subdomain"]
    ok(api, "txt", "add", sub, value(1))
    name = acct["fulldomain"] + "."
    assert api.query(name, "TXT").rcode() == dns.rcode.NOERROR

    # never without --yes, in any mode; nothing changes
    for json_out in (True, False):
        rc, out, p = ctl(api.config, "account", "delete", sub, json_out=json_out)
        assert rc == USAGE and "--yes" in p.stderr
        if json_out:
            assert out["code"] == USAGE and "--yes" in out["error"]
    assert ok(api, "account", "show", sub)["subdomain"] == sub

    serial = api.serial()
    out = ok(api, "account", "delete", sub, "--yes")
    assert out == {"result": "ok", "subdomain": sub, "serial": serial + 1}
    r = api.query(name, "TXT")
    assert r.rcode() == dns.rcode.NXDOMAIN
    assert update(api, acct, value(2)) == 401
    rc, out, _ = ctl(api.config, "account", "delete", sub, "--yes")
    assert rc == NOTFOUND and out["code"] == NOTFOUND
    rc, _, _ = ctl(api.config, "account", "show", sub)
    assert rc == NOTFOUND
    # human output; an account without values bumps no serial
    other = api.register()["subdomain"]
    serial = api.serial()
    assert human(api, "account", "delete", "--yes", other) == (
        "ok, deleted %s, serial %d\n" % (other, serial))
    assert api.query(other + "." + ZONE, "TXT").rcode() == dns.rcode.NXDOMAIN


# --- check-config, serial, stats ------------------------------------------------------

def test_check_config_ok(srv, tmp_path):
    assert human(srv, "check-config") == "ok\n"
    assert ok(srv, "check-config") == {"result": "ok", "config": srv.config}
    # the store is not opened, so not created either
    text = open(srv.config).read().replace(srv.store, str(tmp_path / "nowhere"))
    cfg = tmp_path / "other.yaml"
    cfg.write_text(text)
    rc, _, p = ctl(str(cfg), "check-config", json_out=False)
    assert (rc, p.stdout) == (OK, "ok\n")
    assert not (tmp_path / "nowhere").exists()


@pytest.mark.parametrize("kind,message", [
    ("unknown-key", ":4: zone.colour: unknown key"),
    ("bad-record", ": zone.records:"),
    ("bad-yaml", ""),
    ("missing", ""),
])
def test_check_config_bad_is_3(srv, tmp_path, kind, message):
    text = open(srv.config).read()
    if kind == "unknown-key":
        lines = text.splitlines(True)
        lines.insert(3, "  colour: blue\n")
        text = "".join(lines)
    elif kind == "bad-record":
        text = text.replace("IN A 192.0.2.1", "IN A 192.0.2.999")
    elif kind == "bad-yaml":
        text = "zone: [\n"
    cfg = tmp_path / "acmens.yaml"
    if kind != "missing":
        cfg.write_text(text)
    rc, _, p = ctl(str(cfg), "check-config", json_out=False)
    assert rc == STORE and p.stdout == ""
    assert str(cfg) in p.stderr and message in p.stderr, p.stderr
    if kind == "bad-record":
        assert re.search(re.escape(str(cfg)) + r":\d+: zone\.records:", p.stderr), p.stderr
    rc, out, _ = ctl(str(cfg), "check-config")
    assert rc == STORE and out["code"] == STORE and str(cfg) in out["error"]


def test_serial_matches_soa(srv):
    sub = srv.register()["subdomain"]
    assert ok(srv, "serial") == {"serial": srv.serial()}
    ok(srv, "txt", "add", sub, value(1))
    assert human(srv, "serial") == "%d\n" % srv.serial()
    # --json after the command too
    rc, _, p = ctl(srv.config, "serial", "--json", json_out=False)
    assert rc == OK and json.loads(p.stdout) == {"serial": srv.serial()}


def test_stats(make_server):
    s = make_server()
    subs = [s.register()["subdomain"] for _ in range(4)]
    ok(s, "txt", "add", subs[0], value(1))
    ok(s, "txt", "add", subs[0], value(2))
    ok(s, "txt", "add", subs[1], value(3), "--expires-in", "1")
    ok(s, "account", "delete", subs[3], "--yes")
    out = ok(s, "stats")
    # the shape of GET /v1/admin/stats (docs/api.md, "JSON objects")
    assert set(out) == {"accounts", "values", "serial", "file_bytes", "used_bytes",
                        "map_size", "last_txn"}
    assert (out["accounts"], out["values"], out["serial"]) == (3, 3, s.serial())
    assert out["accounts"] == len(ok(s, "account", "list")["accounts"])
    assert out["file_bytes"] == os.path.getsize(os.path.join(s.store, "data.mdb"))
    assert 0 < out["used_bytes"] <= out["file_bytes"] <= out["map_size"]
    assert out["last_txn"] >= 7
    fields = dict(re.findall(r"^(\w+):\s+(\S+)$", human(s, "stats"), re.M))
    assert {k: fields[k] for k in ("accounts", "values", "serial", "store")} == {
        "accounts": "3", "values": "3", "serial": str(s.serial()), "store": s.store}
    assert int(fields["file_bytes"]) == os.path.getsize(os.path.join(s.store, "data.mdb"))


# --- audit ---------------------------------------------------------------------------

def audit_lines(srv, *args):
    rc, _, p = ctl(srv.config, "--json", "audit", *args, json_out=False)
    assert rc == OK, p.stderr
    return [json.loads(l) for l in p.stdout.splitlines()]


def test_audit(make_server):
    s = make_server()
    sub = s.register()["subdomain"]
    other = s.register()["subdomain"]
    ok(s, "txt", "add", sub, value(1))
    ok(s, "account", "disable", sub)
    ok(s, "txt", "remove", sub, value(1))
    ok(s, "txt", "add", other, value(2))
    actor = "cli:" + login()

    events = audit_lines(s)
    assert [(e["action"], e["subdomain"]) for e in events] == [
        ("create", sub), ("create", other), ("add", sub), ("update", sub),
        ("remove", sub), ("add", other)]
    assert all(e["actor"] == actor and e["source"] == "local" for e in events)
    assert [e["seq"] for e in events] == sorted(e["seq"] for e in events)
    assert events[2]["after"] == [value(1)] and events[2]["before"] == []
    assert events[3]["change"] == "disabled"
    assert events[2]["serial"] == events[3]["serial"] == events[4]["serial"] - 1
    assert events[-1]["serial"] == s.serial()

    mine = audit_lines(s, "--subdomain", sub.upper())
    assert [e["action"] for e in mine] == ["create", "add", "update", "remove"]
    page = audit_lines(s, "--after", str(events[1]["seq"]), "--limit", "2")
    assert [e["seq"] for e in page] == [events[2]["seq"], events[3]["seq"]]
    rc, _, p = ctl(s.config, "audit", "--limit", "2", json_out=False)
    assert "--after %d" % events[1]["seq"] in p.stderr
    assert audit_lines(s, "--after", str(events[-1]["seq"])) == []

    lines = human(s, "audit").splitlines()
    assert lines[0].split() == ["SEQ", "TIME", "ACTOR", "SOURCE", "ACTION", "SUBDOMAIN",
                                "SERIAL", "DETAIL"]
    rows = [l.split() for l in lines[1:]]
    assert [r[0] for r in rows] == [str(e["seq"]) for e in events]
    assert all(STAMP.match(r[1]) and r[2] == actor for r in rows)
    assert rows[2][4:] == ["add", sub, str(events[2]["serial"]), "+" + value(1)]
    assert rows[3][4:] == ["update", sub, str(events[3]["serial"]), "disabled"]
    assert rows[4][7] == "-" + value(1)


# --- backup ------------------------------------------------------------------------

def copy_config(srv, dest, path):
    """A configuration like srv's whose store is dest."""
    text = open(srv.config).read().replace("path: " + srv.store, "path: " + str(dest))
    with open(path, "w") as f:
        f.write(text)
    return str(path)


class Writer(threading.Thread):
    """Adds values over /v1 until stopped; keeps when each was acknowledged."""

    def __init__(self, srv, accts):
        super().__init__(daemon=True)
        self.srv, self.accts = srv, accts
        self.acked = []           # (time acknowledged, subdomain, value)
        self.stop_flag = threading.Event()
        self.error = None

    def run(self):
        n = 0
        try:
            while not self.stop_flag.is_set():
                acct = self.accts[n % len(self.accts)]
                v = "load-%06d" % n
                status, data = call(self.srv, "POST", "/v1/accounts/%s/txt" % acct["subdomain"],
                                    {"value": v}, creds(acct))
                assert status == 201, data
                self.acked.append((time.time(), acct["subdomain"], v))
                n += 1
        except Exception as e:       # reported by the test
            self.error = e


def test_backup_under_write_load(make_server, tmp_path):
    s = make_server(http={}, txt_max_values=64)
    accts = [s.register() for _ in range(40)]
    writer = Writer(s, accts)
    writer.start()
    try:
        deadline = time.time() + 20
        while len(writer.acked) < 50 and writer.error is None and time.time() < deadline:
            time.sleep(0.01)
        results, during = [], 0
        for i in range(3):
            dest = tmp_path / ("bk%d" % i) / "copy"      # parents are made
            t0 = time.time()
            rc, out, p = ctl(s.config, "backup", str(dest))
            assert rc == OK, p.stderr
            results.append((t0, dest, out))
            during += sum(1 for t, _, _ in list(writer.acked) if t >= t0)
            time.sleep(0.1)
    finally:
        writer.stop_flag.set()
        writer.join(30)
    assert writer.error is None, writer.error
    assert len(writer.acked) > 100
    assert during > 0, "no write was acknowledged while a backup ran"

    for i, (t0, dest, out) in enumerate(results):
        assert out["result"] == "ok" and out["path"] == str(dest)
        assert out["accounts"] == 40
        assert os.path.getsize(dest / "data.mdb") == out["file_bytes"]
        assert os.stat(dest / "data.mdb").st_mode & 0o777 == 0o600
        cfg = copy_config(s, dest, tmp_path / ("copy%d.yaml" % i))
        held = set()
        for a in accts:
            rc, lst, p = ctl(cfg, "txt", "list", a["subdomain"])
            assert rc == OK, p.stderr
            held |= {(a["subdomain"], v["value"]) for v in lst["values"]}
        before = {(sub, v) for t, sub, v in writer.acked if t < t0}
        assert before <= held, sorted(before - held)[:5]
        # nothing in the copy that was never written, and the counts agree
        assert held <= {(sub, v) for _, sub, v in writer.acked}
        assert out["values"] == len(held)
        rc, ser, _ = ctl(cfg, "serial")
        assert ser["serial"] == out["serial"]

    # a second acmensd serves the last copy
    t0, dest, out = results[-1]
    s2 = make_server(start=False)
    s2.store = str(dest)
    s2.reconfigure()
    s2.start()
    assert s2.serial() == out["serial"]
    some = next((sub, v) for t, sub, v in writer.acked if t < t0)
    r = s2.query(some[0] + "." + ZONE, "TXT", tcp=True)
    assert r.rcode() == dns.rcode.NOERROR
    assert some[1] in {b"".join(rd.strings).decode() for rs in r.answer for rd in rs}
    # the original goes on independently
    ok(s, "txt", "add", accts[0]["subdomain"], "after-the-backup")
    assert s2.query(accts[0]["subdomain"] + "." + ZONE, "TXT").rcode() == dns.rcode.NOERROR
    rc, lst, _ = ctl(s2.config, "txt", "list", accts[0]["subdomain"])
    assert "after-the-backup" not in {v["value"] for v in lst["values"]}


def test_backup_human_and_into_empty_dir(srv, tmp_path):
    sub = srv.register()["subdomain"]
    ok(srv, "txt", "add", sub, value(1))
    dest = tmp_path / "empty"
    dest.mkdir()
    text = human(srv, "backup", str(dest))
    m = re.match(r"^ok, backup in (\S+): serial (\d+), (\d+) accounts, (\d+) values, "
                 r"(\d+) bytes\n$", text)
    assert m and m.group(1) == str(dest) and int(m.group(2)) == srv.serial(), text
    assert int(m.group(5)) == os.path.getsize(dest / "data.mdb")


@pytest.mark.parametrize("kind", ["not-empty", "file", "used-before"])
def test_backup_refuses_to_overwrite(srv, tmp_path, kind):
    dest = tmp_path / "dest"
    if kind == "not-empty":
        dest.mkdir()
        (dest / "keep.txt").write_text("mine")
    elif kind == "file":
        dest.write_text("mine")
    else:
        ok(srv, "backup", str(dest))
    before = sorted(os.listdir(dest)) if dest.is_dir() else None
    size = os.path.getsize(dest / "data.mdb") if kind == "used-before" else None
    rc, out, p = ctl(srv.config, "backup", str(dest))
    assert rc in (USAGE, STORE) and out["code"] == rc
    want = "is not a directory" if kind == "file" else "is not empty"
    assert str(dest) in out["error"] and want in out["error"]
    rc2, _, p = ctl(srv.config, "backup", str(dest), json_out=False)
    assert rc2 == rc and p.stdout == "" and want in p.stderr
    if kind == "file":
        assert dest.read_text() == "mine"
    else:
        assert sorted(os.listdir(dest)) == before
    if size is not None:
        assert os.path.getsize(dest / "data.mdb") == size


# --- store errors -----------------------------------------------------------------------

@pytest.mark.parametrize("args", [
    ("serial",), ("stats",), ("audit",), ("account", "list"), ("account", "show", "x"),
    ("backup", "DEST"),
], ids=lambda a: "-".join(a))
def test_missing_store_is_3(srv, tmp_path, args):
    cfg = copy_config(srv, tmp_path / "no-store", tmp_path / "acmens.yaml")
    args = [str(tmp_path / "bk") if a == "DEST" else a for a in args]
    rc, out, p = ctl(cfg, *args)
    assert rc == STORE and out["code"] == STORE and "store" in out["error"], p.stderr
    assert not (tmp_path / "no-store").exists() and not (tmp_path / "bk").exists()


# --- usage and --help --------------------------------------------------------------------

@pytest.mark.parametrize("args", [
    ("account", "list", "extra"), ("account", "list", "--limit", "0"),
    ("account", "list", "--limit", "x"), ("account", "list", "--limit"),
    ("account", "list", "--bogus"), ("account", "list", "--after", "x" * 64),
    ("account", "show"), ("account", "show", "a", "b"), ("account", "disable"),
    ("account", "enable", "a", "--bogus"), ("account", "delete"),
    ("account", "delete", "a", "b", "--yes"), ("account", "rotate-key"),
    ("check-config", "x"), ("serial", "x"), ("stats", "--bogus"), ("audit", "extra"),
    ("audit", "--after", "-1"), ("audit", "--limit", "0"), ("audit", "--limit", "1000001"),
    ("backup",), ("backup", "a", "b"), ("export", "x"), ("account", "tsig-key"),
    ("account", "tsig-key", "a", "b"), ("tsig-keygen",), ("tsig-keygen", "a", "b"),
    ("secondary-config",), ("secondary-config", "knot", "--primary", "127.0.0.1"),
    ("secondary-config", "knot", "nsd", "--primary", "127.0.0.1", "--key", "k"),
], ids=lambda a: "-".join(a))
def test_usage_errors_are_1(srv, args):
    rc, _, p = ctl(srv.config, *args, json_out=False)
    assert rc == USAGE, (p.stdout, p.stderr)
    assert p.stdout == "" and p.stderr.startswith("acmensctl: ")
    assert "usage" in p.stderr or "takes" in p.stderr, p.stderr
    rc, out, _ = ctl(srv.config, *args)
    assert rc == USAGE and out["code"] == USAGE


HELP = [
    ("account",), ("account", "register"), ("account", "list"), ("account", "show"),
    ("account", "disable"), ("account", "enable"), ("account", "delete"),
    ("account", "rotate-key"), ("txt",), ("txt", "add"), ("txt", "remove"), ("txt", "set"),
    ("txt", "list"), ("export",), ("check-config",), ("serial",), ("stats",), ("audit",),
    ("backup",), ("account", "tsig-key"), ("tsig-keygen",), ("secondary-config",),
]


@pytest.mark.parametrize("words", HELP, ids=lambda a: "-".join(a))
def test_help_for_every_command(words):
    # no configuration is read: the default path need not exist
    p = subprocess.run([ACMENSCTL] + list(words) + ["--help"], capture_output=True, text=True,
                       timeout=10)
    assert p.returncode == OK and p.stderr == ""
    first = p.stdout.splitlines()[0]
    assert first.startswith("usage: acmensctl [-c FILE] [--json] " + " ".join(words)), first
    assert "exit codes:" in p.stdout
    if len(words) == 2 or words[0] not in ("account", "txt"):
        assert p.stdout.count("usage:") == 1
    else:
        assert p.stdout.count("usage:") > 3
    # --help anywhere among the command's words
    if len(words) == 2:
        q = subprocess.run([ACMENSCTL, words[0], "--help", words[1]], capture_output=True,
                           text=True, timeout=10)
        assert q.returncode == OK and q.stdout == p.stdout


def test_help_after_double_dash_is_a_value(srv):
    """A TXT value may be "--help": after "--" it is one."""
    sub = srv.register()["subdomain"]
    ok(srv, "txt", "add", sub, "--", "--help")
    assert [v["value"] for v in ok(srv, "txt", "list", sub)["values"]] == ["--help"]


def test_top_level_help_names_every_command():
    p = subprocess.run([ACMENSCTL, "--help"], capture_output=True, text=True, timeout=10)
    assert p.returncode == OK
    for words in HELP:
        assert " ".join(words) in p.stdout, words
