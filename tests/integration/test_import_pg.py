# SPDX-License-Identifier: ISC
"""acmensctl import-acmedns postgres://...: a real PostgreSQL server (Debian's
postgresql, run as an unprivileged user in a temporary directory) holding
acme-dns's tables exactly as acme-dns creates them for its postgres engine;
the accounts keep their credentials through /update and every value is
served over DNS; bad URLs and foreign databases fail clearly."""

import glob
import json
import os
import pwd
import shutil
import subprocess
import tempfile
import time

import pytest

from acmedns_bulk import PG_SCHEMA
from conftest import ZONE, dns_txt, free_port, start_http, value
from test_import import acmedns_account, update

APEX = ZONE.rstrip(".")
PG_BINS = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
PG_USER = "nobody"
PG_PASSWORD = "acme-dns-pw-" + "q" * 12

# acme-dns's tables for its postgres engine (names unquoted, so lower-case).
ACMEDNS_PG_SCHEMA = PG_SCHEMA + """
INSERT INTO acmedns (Name, Value) values('db_version', '1');
"""


def sql_text(s):
    return "'" + s.replace("'", "''") + "'"


class Postgres:
    """A PostgreSQL server of its own: data and socket in a directory
    owned by an unprivileged user, listening on 127.0.0.1:port."""

    def __init__(self):
        self.bin = PG_BINS[-1]
        self.dir = tempfile.mkdtemp(prefix="acmens-pg-")
        uid = pwd.getpwnam(PG_USER).pw_uid
        os.chown(self.dir, uid, -1)
        os.chmod(self.dir, 0o700)
        self.data = os.path.join(self.dir, "data")
        self.port = free_port()
        self.proc = None
        self.run_as("initdb", "-D", self.data, "-U", "postgres", "-A", "trust",
                    "--auth-host=scram-sha-256")

    def run_as(self, prog, *args):
        return subprocess.run(["runuser", "-u", PG_USER, "--", os.path.join(self.bin, prog),
                               *args], check=True, capture_output=True, text=True, timeout=60)

    def start(self):
        self.proc = subprocess.Popen(
            ["runuser", "-u", PG_USER, "--", os.path.join(self.bin, "postgres"),
             "-D", self.data, "-p", str(self.port), "-k", self.dir,
             "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 30
        while True:
            if self.psql("postgres", "SELECT 1", check=False).returncode == 0:
                return self
            assert self.proc.poll() is None, self.proc.stderr.read()
            assert time.monotonic() < deadline, "postgres did not start"
            time.sleep(0.1)

    def psql(self, db, sql, user="postgres", check=True):
        """sql through the unix socket (trust), as the server's user."""
        p = subprocess.run(["runuser", "-u", PG_USER, "--", os.path.join(self.bin, "psql"),
                            "-h", self.dir, "-p", str(self.port), "-U", user, "-d", db,
                            "-v", "ON_ERROR_STOP=1", "-q", "-At", "-f", "-"],
                           input=sql, capture_output=True, text=True, timeout=60)
        if check:
            assert p.returncode == 0, p.stderr
        return p

    def url(self, db="acmedns", user="acmedns", password=PG_PASSWORD):
        return f"postgres://{user}:{password}@127.0.0.1:{self.port}/{db}"

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def postgres():
    if not PG_BINS or not shutil.which("runuser"):
        pytest.skip("Debian's postgresql package is not installed")
    pg = Postgres()
    try:
        pg.start()
        pg.psql("postgres", f"CREATE ROLE acmedns LOGIN PASSWORD {sql_text(PG_PASSWORD)};"
                            "CREATE DATABASE acmedns OWNER acmedns;")
        pg.psql("acmedns", ACMEDNS_PG_SCHEMA, user="acmedns")
        yield pg
    finally:
        pg.stop()


def load_accounts(pg, accounts, now):
    """Rows as acme-dns writes them: one records row per account, two txt
    rows per subdomain (the unused ones empty, LastUpdate 0)."""
    sql = ["BEGIN;"]
    for a in accounts:
        sql.append("INSERT INTO records (Username, Password, Subdomain, AllowFrom) VALUES "
                   f"({sql_text(a['username'])}, {sql_text(a['hash'])}, "
                   f"{sql_text(a['subdomain'])}, {sql_text(json.dumps(a['allowfrom']))});")
        rows = [(v, now - 60 + i) for i, v in enumerate(a["values"][:2])]
        rows += [("", 0)] * (2 - len(rows))
        for v, t in rows:
            sql.append("INSERT INTO txt (Subdomain, LastUpdate) VALUES "
                       f"({sql_text(a['subdomain'])}, 0);" if v == "" else
                       "INSERT INTO txt (Subdomain, Value, LastUpdate) VALUES "
                       f"({sql_text(a['subdomain'])}, {sql_text(v)}, {t});")
    sql.append("COMMIT;")
    pg.psql("acmedns", "\n".join(sql), user="acmedns")


def ctl(api, *args):
    p = api.server.ctl("import-acmedns", *args, check=False)
    return p.returncode, json.loads(p.stdout) if p.stdout.strip() else None, p.stderr


def test_import_from_postgres(make_server, postgres):
    api = start_http(make_server)
    accounts = [acmedns_account(values=[value(100 + i), value(200 + i)][:i % 3])
                for i in range(12)]
    accounts.append(acmedns_account(allowfrom=["127.0.0.0/8"], values=[value(300)]))
    load_accounts(postgres, accounts, int(time.time()))
    serial = api.server.serial()

    rc, out, err = ctl(api, postgres.url())
    assert rc == 0, err
    want_values = sum(len(a["values"]) for a in accounts)
    assert out["accounts"] == {"imported": len(accounts), "present": 0, "conflicts": 0,
                               "invalid": 0}
    assert out["values"] == {"imported": want_values, "skipped": 0}
    assert out["serial"] == api.server.serial() != serial
    assert PG_PASSWORD not in err

    # Every value is served over DNS, at the account name's challenge.
    for a in accounts:
        rcode, got = dns_txt(api.server, f"{a['subdomain']}.{APEX}")
        assert got == sorted(a["values"]), a["subdomain"]
    # The old credentials work through /update, and wrong ones do not.
    for a in accounts[:3] + accounts[-1:]:
        r = update(api, a, value(400))
        assert r.status_code == 200, r.text
        assert value(400) in dns_txt(api.server, f"{a['subdomain']}.{APEX}")[1]
    r = update(api, accounts[4], value(401), key="y" * 40)
    assert r.status_code == 401

    # One audit record for the import, naming the database without its password.
    events = api.admin("GET", "/audit?limit=1000").json()["events"]
    imports = [e for e in events if e["action"] == "import"]
    assert len(imports) == 1 and imports[0]["from"] == postgres.url(password="***")
    assert imports[0]["accounts"]["imported"] == len(accounts)
    assert not [e for e in events if e["action"] == "create"]

    # Again: everything is already present, nothing is duplicated.
    rc, out, err = ctl(api, postgres.url())
    assert rc == 0, err
    assert out["accounts"]["present"] == len(accounts) and out["accounts"]["imported"] == 0
    assert out["skipped"]["accounts"]["already present"] == len(accounts)
    assert out["skipped"]["values"]["account already present"] == want_values
    assert api.stats()["accounts"] == len(accounts)


def test_postgres_errors(make_server, postgres):
    api = start_http(make_server)
    serial = api.server.serial()
    # Wrong password: the server says no; the password is not repeated.
    rc, _, err = ctl(api, postgres.url(password="wrong-password"))
    assert rc == 3 and "cannot open postgres://acmedns:***@" in err, err
    assert "wrong-password" not in err
    # Nothing listening.
    rc, _, err = ctl(api, f"postgres://acmedns:x@127.0.0.1:{free_port()}/acmedns")
    assert rc == 3 and "cannot open" in err, err
    # A database without acme-dns's tables.
    postgres.psql("postgres", "CREATE DATABASE other OWNER acmedns;")
    rc, _, err = ctl(api, postgres.url(db="other"))
    assert rc == 3 and "not an acme-dns database" in err and "records" in err, err
    # A records table of another shape.
    postgres.psql("other", "CREATE TABLE records (name TEXT); CREATE TABLE txt (x INT);",
                  user="acmedns")
    rc, _, err = ctl(api, postgres.url(db="other"))
    assert rc == 3 and "not an acme-dns database" in err, err
    assert api.server.serial() == serial and api.stats()["accounts"] == 0
