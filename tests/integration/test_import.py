# SPDX-License-Identifier: ISC
"""acmensctl import-acmedns: an acme-dns SQLite database (made here with
acme-dns's own schema and bcrypt hashes) moves into the store; its clients
keep their credentials, which are upgraded to SHA-256 on first use; its
values are served; re-running, dry runs and bad files behave."""

import json
import os
import secrets
import sqlite3
import time
import uuid

import dns.rcode
import pytest

from acmedns_bulk import SCHEMA as ACMEDNS_SCHEMA
from conftest import ZONE, dns_txt, start_http, value

bcrypt = pytest.importorskip("bcrypt")

APEX = ZONE.rstrip(".")
FORBIDDEN = b'{"error": "forbidden"}'


def acmedns_account(allowfrom=(), values=(), blob=False):
    """An account as acme-dns registers it: UUIDs, a 40-character key and
    its bcrypt hash at cost 10; values: the TXT values it has set."""
    key = secrets.token_urlsafe(30)
    assert len(key) == 40
    hashed = bcrypt.hashpw(key.encode(), bcrypt.gensalt(rounds=10, prefix=b"2a"))
    return {"username": str(uuid.uuid4()), "password": key, "subdomain": str(uuid.uuid4()),
            "hash": hashed if blob else hashed.decode(), "allowfrom": list(allowfrom),
            "values": list(values)}


def write_acmedns_db(path, accounts, now=None):
    """An acme-dns database: one records row per account and, as acme-dns
    keeps them, two txt rows per subdomain, the unused ones empty."""
    now = int(time.time()) if now is None else now
    db = sqlite3.connect(path)
    db.executescript(ACMEDNS_SCHEMA)
    db.execute("INSERT INTO acmedns (Name, Value) VALUES ('db_version', '1')")
    for a in accounts:
        db.execute("INSERT INTO records (Username, Password, Subdomain, AllowFrom) "
                   "VALUES (?, ?, ?, ?)",
                   (a["username"], a["hash"], a["subdomain"], json.dumps(a["allowfrom"])))
        rows = [(v, now - 60 + i) for i, v in enumerate(a["values"][:2])]
        rows += [("", 0)] * (2 - len(rows))
        for v, t in rows:
            db.execute("INSERT INTO txt (Subdomain, Value, LastUpdate) VALUES (?, ?, ?)",
                       (a["subdomain"], v, t))
    db.commit()
    db.close()


def full(acct):
    return f"{acct['subdomain']}.{APEX}"


def import_db(api, path, *args, check=True):
    p = api.server.ctl("import-acmedns", path, *args, check=check)
    return p.returncode, json.loads(p.stdout) if p.stdout.strip() else None, p.stderr


def admin_account(api, acct):
    r = api.admin("GET", "/accounts/" + acct["subdomain"])
    assert r.status_code == 200, r.text
    return r.json()


def wait_scheme(api, acct, scheme, timeout=5.0):
    """An upgrade that rides on no write of its own commits just after the
    reply, so give it a moment."""
    deadline = time.monotonic() + timeout
    while admin_account(api, acct)["key_scheme"] != scheme:
        assert time.monotonic() < deadline, f"{acct['subdomain']} never became {scheme}"
        time.sleep(0.05)


def update(api, acct, txt, key=None):
    body = json.dumps({"subdomain": acct["subdomain"], "txt": txt})
    return api.call("POST", "/update", body, api.creds(acct, key=key))


@pytest.fixture
def api(make_server):
    return start_http(make_server)


@pytest.fixture
def accounts():
    return [
        acmedns_account(values=[value(1)]),                            # /update
        acmedns_account(values=[value(2), value(3)], blob=True),       # /v1 batch
        acmedns_account(allowfrom=["192.0.2.0/24", "not-a-cidr"], values=[value(4)]),
        acmedns_account(allowfrom=["127.0.0.0/8"]),                    # /v1 read only
    ]


def test_import_and_first_use(api, accounts, tmp_path):
    db = str(tmp_path / "acme-dns.db")
    write_acmedns_db(db, accounts)
    rc, out, err = import_db(api, db)
    assert rc == 0, err
    assert out["accounts"] == {"imported": 4, "present": 0, "conflicts": 0, "invalid": 0}
    assert out["values"] == {"imported": 4, "skipped": 0}
    assert 'allowfrom entry "not-a-cidr"' in err
    assert out["serial"] == api.server.serial()

    a, b, c, d = accounts
    for acct in accounts:
        assert api.txt({"fulldomain": full(acct)}) == sorted(acct["values"])
        got = admin_account(api, acct)
        assert got["key_scheme"] == "bcrypt"
        assert got["username"] == acct["username"]
    assert admin_account(api, c)["allowfrom"] == ["192.0.2.0/24"]
    assert admin_account(api, d)["allowfrom"] == ["127.0.0.0/8"]

    # acme-dns's /update with the original credentials, byte for byte.
    r = update(api, a, value(10), key="x" * 40)
    assert (r.status_code, r.content) == (401, FORBIDDEN)
    r = update(api, a, value(10))
    assert r.status_code == 200
    assert r.content == json.dumps({"txt": value(10)}).encode()
    assert api.txt({"fulldomain": full(a)}) == sorted([value(1), value(10)])
    # The upgrade committed with the write it rode on.
    assert admin_account(api, a)["key_scheme"] == "sha256"
    audit = api.admin("GET", "/audit?subdomain=" + a["subdomain"]).json()["events"]
    assert [e.get("change") for e in audit if e["action"] == "update"] == ["key"]
    assert all(e["actor"] == "account:" + a["username"] for e in audit
               if e["action"] in ("update", "push"))
    # And the key keeps working, now against SHA-256; a wrong one does not.
    r = update(api, a, value(11))
    assert (r.status_code, r.content) == (200, json.dumps({"txt": value(11)}).encode())
    wrong = a["password"][:-1] + ("A" if a["password"][-1] != "A" else "B")
    r = update(api, a, value(12), key=wrong)
    assert (r.status_code, r.content) == (401, FORBIDDEN)

    # A batch naming a bcrypt account twice: both pass, one upgrade.
    ops = [{"op": "add", "username": b["username"], "key": b["password"], "value": value(20)},
           {"op": "remove", "username": b["username"], "key": b["password"], "value": value(2)}]
    r = api.call("POST", "/v1/batch", {"operations": ops})
    assert r.status_code == 200, r.text
    assert [x["status"] for x in r.json()["results"]] == [201, 200]
    assert admin_account(api, b)["key_scheme"] == "sha256"
    assert api.txt({"fulldomain": full(b)}) == sorted([value(3), value(20)])

    # allowfrom came along: 127.0.0.1 is outside c's range.
    r = update(api, c, value(30))
    assert (r.status_code, r.content) == (401, FORBIDDEN)
    assert admin_account(api, c)["key_scheme"] == "bcrypt"

    # A request that writes nothing upgrades on its own.
    r = api.call("GET", "/v1/accounts/" + d["subdomain"], headers=api.creds(d))
    assert r.status_code == 200, r.text
    wait_scheme(api, d, "sha256")
    r = api.call("GET", "/v1/accounts/" + d["subdomain"], headers=api.creds(d))
    assert r.status_code == 200, r.text

    # Importing again changes nothing and duplicates nothing.
    serial = api.server.serial()
    rc, out, err = import_db(api, db)
    assert rc == 0, err
    assert out["accounts"] == {"imported": 0, "present": 4, "conflicts": 0, "invalid": 0}
    assert out["values"]["imported"] == 0
    assert api.server.serial() == serial
    assert api.txt({"fulldomain": full(a)}) == sorted([value(10), value(11)])
    assert admin_account(api, a)["key_scheme"] == "sha256"


def test_dry_run_changes_nothing(api, accounts, tmp_path):
    db = str(tmp_path / "acme-dns.db")
    write_acmedns_db(db, accounts)
    serial = api.server.serial()
    rc, out, err = import_db(api, db, "--dry-run")
    assert rc == 0, err
    assert out["dry_run"] is True
    assert out["accounts"]["imported"] == 4 and out["values"]["imported"] == 4
    assert api.server.serial() == serial == out["serial"]
    assert api.admin("GET", "/accounts/" + accounts[0]["subdomain"]).status_code == 404
    assert api.stats()["accounts"] == 0
    p = api.server.ctl("import-acmedns", "--dry-run", db, json_out=False)
    assert p.stdout.startswith("dry run: nothing was changed")
    assert "accounts: 4 imported" in p.stdout
    assert api.server.serial() == serial


def test_conflicts_and_invalid_records(api, tmp_path):
    mine = api.register()
    taken = acmedns_account()
    taken["subdomain"] = mine["subdomain"]           # same subdomain, another username
    bad = acmedns_account(values=[value(5)])
    bad["hash"] = "$1$plainmd5$0123456789abcdefghijkl"
    old = acmedns_account(values=[value(6), value(7)])
    ok = acmedns_account(values=[value(8)])
    db = str(tmp_path / "acme-dns.db")
    now = int(time.time())
    write_acmedns_db(db, [taken, bad, old, ok], now=now)
    # A value acmensd would have expired by now (txt_expiry, 7 days) stays out.
    con = sqlite3.connect(db)
    con.execute("UPDATE txt SET LastUpdate = ? WHERE Value = ?", (now - 8 * 86400, value(6)))
    con.commit()
    con.close()

    rc, out, err = import_db(api, db, check=False)
    assert rc == 4, err
    assert out["accounts"] == {"imported": 2, "present": 0, "conflicts": 1, "invalid": 1}
    assert out["values"] == {"imported": 2, "skipped": 2}
    assert "conflict" in err and mine["subdomain"] in err
    assert "not a bcrypt hash" in err
    assert admin_account(api, mine)["username"] == mine["username"]
    assert api.txt({"fulldomain": full(old)}) == [value(7)]
    assert api.txt({"fulldomain": full(ok)}) == [value(8)]
    rcode, _ = dns_txt(api.server, full(bad))
    assert rcode == dns.rcode.NXDOMAIN


def test_bad_files(api, tmp_path):
    def run(path):
        p = api.server.ctl("import-acmedns", path, check=False, json_out=False)
        return p.returncode, p.stderr

    serial = api.server.serial()
    rc, err = run(str(tmp_path / "missing.db"))
    assert rc == 3 and "cannot open" in err

    junk = tmp_path / "junk.db"
    junk.write_bytes(os.urandom(4096))
    rc, err = run(str(junk))
    assert rc == 3 and "not an acme-dns database" in err

    other = str(tmp_path / "other.db")
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE records (name TEXT, rdata TEXT)")
    con.commit()
    con.close()
    rc, err = run(other)
    assert rc == 3 and "not an acme-dns database" in err

    rc, err = run("")
    assert rc == 3
    p = api.server.ctl("import-acmedns", check=False, json_out=False)
    assert p.returncode == 1 and "usage" in p.stderr
    assert api.server.serial() == serial


def test_reimport_says_why_values_are_skipped(api, accounts, tmp_path):
    """Importing again skips every value with its account, and says so, per
    reason, in the summary, in --json and in the audit record."""
    db = str(tmp_path / "acme-dns.db")
    write_acmedns_db(db, accounts)
    want = sum(len(a["values"]) for a in accounts)
    rc, out, err = import_db(api, db)
    assert rc == 0 and out["values"]["imported"] == want, err
    p = api.server.ctl("import-acmedns", db, json_out=False)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[1] == f"values:   0 imported, {want} skipped (account already present: {want})", \
        p.stdout
    rc, out, err = import_db(api, db)
    assert rc == 0, err
    assert out["skipped"]["values"] == {"invalid": 0, "expired": 0, "beyond the limit": 0,
                                        "account already present": want,
                                        "account conflicting": 0, "account invalid": 0}
    events = api.admin("GET", "/audit?limit=1000").json()["events"]
    last = [e for e in events if e["action"] == "import"][-1]
    assert last["change"].endswith(f"{want} skipped (account already present: {want})")
