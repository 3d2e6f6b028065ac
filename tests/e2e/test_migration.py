# SPDX-License-Identifier: ISC
"""docs/migrating-from-acme-dns.md, step by step, with SQLite: an acme-dns
installation (its database with bcrypt keys and values, and its
config.cfg, as acme-dns has them) moves to acmens: convert the
configuration, stop acme-dns, import, start acmensd, then an acme-dns
client updates with its old credentials and the value is served. The
rollback step holds: acme-dns's database is byte for byte what it was, and
its keys still verify against it."""

import base64
import hashlib
import json
import os
import sqlite3
import subprocess
import sys

import pytest
import yaml

from conftest import ACMENSCTL, ZONE, dns_txt, value

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))
from test_import import acmedns_account, write_acmedns_db  # noqa: E402

bcrypt = pytest.importorskip("bcrypt")

CLIENT = os.path.join(HERE, "acmedns_client.py")
APEX = ZONE.rstrip(".")


def acmedns_config(db):
    """config.cfg as an acme-dns server for auth.example.org has it."""
    return f"""\
[general]
listen = "0.0.0.0:53"
protocol = "both"
domain = "{APEX}"
nsname = "ns1.{APEX}"
nsadmin = "hostmaster.example.org"
records = [
    "ns1.{APEX}. A 192.0.2.53",
    "{APEX}. NS ns1.{APEX}.",
    "{APEX}. CAA 0 issue \\"letsencrypt.org\\"",
]
debug = false

[database]
engine = "sqlite3"
connection = "{db}"

[api]
ip = "0.0.0.0"
disable_registration = false
port = "443"
tls = "none"
corsorigins = ["*"]
use_header = false
header_name = "X-Forwarded-For"

[logconfig]
loglevel = "info"
logtype = "stdout"
logformat = "json"
"""


def sha256_file(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def ctl(config, *args):
    p = subprocess.run([ACMENSCTL, "-c", config, *args], capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 0, p.stderr
    return p.stdout


def client_update(api_base, tmp_path, acct, domain, key_auth):
    """The acme-dns client (lego's acme-dns provider, request for request)
    with the credentials the customer stored when it registered at
    acme-dns; returns the TXT value it set."""
    storage = tmp_path / "acme-dns-accounts.json"
    storage.write_text(json.dumps({domain: {
        "fulldomain": f"{acct['subdomain']}.{APEX}", "subdomain": acct["subdomain"],
        "username": acct["username"], "password": acct["password"], "allowfrom": []}}))
    p = subprocess.run([sys.executable, CLIENT, "present", "--", domain, "token", key_auth],
                       capture_output=True, text=True, timeout=60,
                       env={**os.environ, "ACME_DNS_STORAGE_PATH": str(storage),
                            "ACME_DNS_API_BASE": api_base})
    digest = hashlib.sha256(key_auth.encode()).digest()
    return p, base64.urlsafe_b64encode(digest).decode().rstrip("=")


def test_migration_runbook(make_server, tmp_path):
    # The acme-dns installation: three customers, one with allowfrom, two
    # with values set; acme-dns itself is stopped (the test runs none).
    acme = tmp_path / "acme-dns"
    acme.mkdir()
    db = str(acme / "acme-dns.db")
    accounts = [acmedns_account(values=[value(1)]),
                acmedns_account(allowfrom=["127.0.0.0/8"], values=[value(2), value(3)]),
                acmedns_account(allowfrom=["198.51.100.0/24"])]
    write_acmedns_db(db, accounts)
    cfg_path = acme / "config.cfg"
    cfg_path.write_text(acmedns_config(db))
    db_hash = sha256_file(db)

    # 1. Convert the configuration (before the downtime), and check it.
    p = subprocess.run([ACMENSCTL, "convert-acmedns-config", str(cfg_path)],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert f"import-acmedns {db}" in p.stdout
    cfg = yaml.safe_load(p.stdout)
    # Here the test differs from a real move: loopback test ports and a
    # store in the test's directory instead of :53, :443, /var/lib/acmens.
    srv = make_server(start=False, http={})
    cfg["dns"]["listen"] = [f"127.0.0.1:{srv.port}"]
    cfg["http"]["listen"] = [f"127.0.0.1:{srv.http_port}"]
    cfg["store"]["path"] = srv.store
    with open(srv.config, "w") as f:
        yaml.safe_dump(cfg, f)
    assert ctl(srv.config, "check-config").strip() == "ok"

    # 2. acme-dns is stopped. 3. Import its database.
    out = json.loads(ctl(srv.config, "--json", "import-acmedns", db))
    assert out["accounts"]["imported"] == 3 and out["values"]["imported"] == 3

    # 4. Start acmensd on the converted configuration.
    srv.start()
    assert [rd.to_text() for rd in srv.query(ZONE, "NS").answer[0]] == [f"ns1.{ZONE}"]
    assert srv.query(f"ns1.{ZONE}", "A").answer[0][0].to_text() == "192.0.2.53"
    # The values set at acme-dns are served at once.
    assert dns_txt(srv, f"{accounts[1]['subdomain']}.{ZONE}") == \
        (0, sorted([value(2), value(3)]))

    # 5. The API URL now reaches acmensd: the clients update with their old
    # credentials, and the values are served.
    for i, acct in enumerate(accounts[:2]):
        p, v = client_update(srv.http_url, tmp_path, acct, f"site{i}.example.com", f"ka{i}")
        assert p.returncode == 0, p.stderr
        assert v in dns_txt(srv, f"{acct['subdomain']}.{ZONE}")[1]
        show = json.loads(ctl(srv.config, "--json", "account", "show", acct["subdomain"]))
        assert show["key_scheme"] == "sha256"   # upgraded on first use
    # allowfrom means what it meant at acme-dns: 127.0.0.1 is outside.
    p, _ = client_update(srv.http_url, tmp_path, accounts[2], "site2.example.com", "ka2")
    assert p.returncode != 0 and "status code 401" in p.stderr
    show = json.loads(ctl(srv.config, "--json", "account", "show", accounts[2]["subdomain"]))
    assert show["key_scheme"] == "bcrypt"
    # A wrong key is still refused after the upgrade.
    wrong = dict(accounts[0], password="x" * 40)
    p, _ = client_update(srv.http_url, tmp_path, wrong, "site0.example.com", "ka9")
    assert p.returncode != 0 and "status code 401" in p.stderr

    # 6. Roll back: stop acmensd; acme-dns's database is untouched, so
    # acme-dns starts on it again with every customer's key as it was.
    assert srv.stop() == 0
    assert sha256_file(db) == db_hash
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    rows = dict(con.execute("SELECT Username, Password FROM records").fetchall())
    con.close()
    for acct in accounts:
        assert bcrypt.checkpw(acct["password"].encode(), rows[acct["username"]].encode())
