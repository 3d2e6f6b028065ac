# SPDX-License-Identifier: ISC
"""TSIG keys outside the DNS path: acmensctl account tsig-key (human and
JSON output, replacing a key, errors), acmensctl tsig-keygen (its output
pasted into acmens.yaml passes check-config and starts acmensd),
POST /v1/register with "tsig" (acme-dns's /register unchanged), account
show and the admin API reporting a key without its secret, and the
configuration errors of the tsig, transfer and update sections."""

import base64
import json
import re
import subprocess

import pytest
import yaml

from conftest import ACMENSCTL, ZONE, register_ctl_secrets, start_http

OK, USAGE, NOTFOUND, STORE = 0, 1, 2, 3
UNKNOWN_SUB = "00000000-0000-4000-8000-000000000000"
SIZES = {"hmac-sha256": 32, "hmac-sha384": 48, "hmac-sha512": 64}
BLOCK = re.compile(r'^key "([^"]+)" \{\n\talgorithm (hmac-sha\d+);\n\tsecret "([^"]+)";\n\};\n$')
FULL = ZONE.rstrip(".")


def ctl(config, *args, json_out=False):
    cmd = [ACMENSCTL, "-c", config] + (["--json"] if json_out else []) + list(args)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    register_ctl_secrets(p.stdout)
    return p


def secret_len(b64):
    return len(base64.b64decode(b64, validate=True))


@pytest.fixture(scope="module")
def srv(shared_server):
    return shared_server


def test_account_tsig_key_block(srv):
    sub = srv.register()["subdomain"]
    p = ctl(srv.config, "account", "tsig-key", sub)
    assert p.returncode == OK, p.stderr
    m = BLOCK.match(p.stdout)
    assert m, p.stdout
    assert m.group(1) == f"{sub}.{FULL}"
    assert m.group(2) == "hmac-sha256"
    assert secret_len(m.group(3)) == 32


@pytest.mark.parametrize("alg", sorted(SIZES))
def test_account_tsig_key_json(srv, alg):
    sub = srv.register()["subdomain"]
    p = ctl(srv.config, "account", "tsig-key", sub, "--algorithm", alg, json_out=True)
    assert p.returncode == OK, p.stderr
    out = json.loads(p.stdout)
    assert set(out) == {"name", "algorithm", "secret"}
    assert out["name"] == f"{sub}.{FULL}" and out["algorithm"] == alg
    assert secret_len(out["secret"]) == SIZES[alg]


def test_account_tsig_key_replaces(srv):
    sub = srv.register()["subdomain"]
    shown = json.loads(ctl(srv.config, "account", "show", sub, json_out=True).stdout)
    assert shown["tsig"] is None
    assert "tsig:       none" in ctl(srv.config, "account", "show", sub).stdout
    first = json.loads(ctl(srv.config, "account", "tsig-key", sub, json_out=True).stdout)
    second = json.loads(ctl(srv.config, "account", "tsig-key", sub, "--algorithm",
                            "hmac-sha384", json_out=True).stdout)
    assert first["secret"] != second["secret"]
    shown = json.loads(ctl(srv.config, "account", "show", sub, json_out=True).stdout)
    assert shown["tsig"] == {"name": f"{sub}.{FULL}", "algorithm": "hmac-sha384"}
    text = ctl(srv.config, "account", "show", sub).stdout
    assert f"tsig:       hmac-sha384 (key {sub}.{FULL})" in text
    assert second["secret"] not in text and first["secret"] not in text
    # The account's other fields are untouched, and the change is audited.
    assert shown["username"] and not shown["disabled"]
    audit = ctl(srv.config, "audit", "--subdomain", sub).stdout
    assert "tsig" in audit and second["secret"] not in audit


def test_account_tsig_key_errors(srv):
    p = ctl(srv.config, "account", "tsig-key", UNKNOWN_SUB)
    assert p.returncode == NOTFOUND, p.stderr
    sub = srv.register()["subdomain"]
    p = ctl(srv.config, "account", "tsig-key", sub, "--algorithm", "hmac-md5")
    assert p.returncode == USAGE
    assert "unknown --algorithm 'hmac-md5'" in p.stderr and "hmac-sha512" in p.stderr
    p = ctl(srv.config, "account", "tsig-key")
    assert p.returncode == USAGE and "account tsig-key SUBDOMAIN" in p.stderr
    p = ctl(srv.config, "account", "tsig-key", "--help")
    assert p.returncode == OK and "nsupdate" in p.stdout


def keygen(config, *args, json_out=False):
    return ctl(config, "tsig-keygen", *args, json_out=json_out)


def test_tsig_keygen_in_config(make_server):
    s = make_server(start=False)
    p = keygen(s.config, "xfr.example.net", "--algorithm", "hmac-sha512")
    assert p.returncode == OK, p.stderr
    parsed = yaml.safe_load(p.stdout)
    (entry,) = parsed["tsig"]
    assert entry["name"] == "xfr.example.net" and entry["algorithm"] == "hmac-sha512"
    assert secret_len(entry["secret"]) == 64
    # The commented-out BIND/Knot block holds the same key.
    assert f'# \tsecret "{entry["secret"]}";' in p.stdout
    with open(s.config, "a") as f:
        f.write(p.stdout)
        f.write("transfer:\n  allow:\n    - key: xfr.example.net\n")
    assert ctl(s.config, "check-config").stdout == "ok\n"
    s.start()
    assert s.query(ZONE, "SOA").rcode() == 0


def test_tsig_keygen_json_and_errors(tmp_path):
    config = str(tmp_path / "none.yaml")      # never read: no store, no config
    out = json.loads(keygen(config, "k.example.", json_out=True).stdout)
    assert out["name"] == "k.example" and out["algorithm"] == "hmac-sha256"
    assert secret_len(out["secret"]) == 32
    assert out["secret"] != json.loads(keygen(config, "k", json_out=True).stdout)["secret"]
    p = keygen(config, "k", "--algorithm", "sha1")
    assert p.returncode == USAGE and "unknown --algorithm" in p.stderr
    p = keygen(config, "a..b")
    assert p.returncode == USAGE and "invalid key name" in p.stderr
    assert keygen(config).returncode == USAGE


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    from conftest import _server_factory
    factory, finish = _server_factory(tmp_path_factory.mktemp("tsigapi"))
    yield start_http(factory)
    finish()


@pytest.mark.parametrize("tsig,alg", [(True, "hmac-sha256"), ("hmac-sha384", "hmac-sha384"),
                                      ("HMAC-SHA512", "hmac-sha512")])
def test_v1_register_tsig(api, tsig, alg):
    acct = api.register({"tsig": tsig})
    assert set(acct["tsig"]) == {"name", "algorithm", "secret"}
    assert acct["tsig"]["name"] == acct["fulldomain"]
    assert acct["tsig"]["algorithm"] == alg
    assert secret_len(acct["tsig"]["secret"]) == SIZES[alg]
    shown = json.loads(ctl(api.server.config, "account", "show", acct["subdomain"],
                           json_out=True).stdout)
    assert shown["tsig"] == {"name": acct["fulldomain"], "algorithm": alg}
    r = api.admin("GET", "/accounts/" + acct["subdomain"])
    assert r.status_code == 200, r.text
    assert r.json()["tsig"] == {"name": acct["fulldomain"], "algorithm": alg}
    assert acct["tsig"]["secret"] not in r.text


@pytest.mark.parametrize("body", [{}, {"tsig": False}, {"tsig": None}])
def test_v1_register_without_tsig(api, body):
    acct = api.register(body)
    assert "tsig" not in acct
    r = api.admin("GET", "/accounts/" + acct["subdomain"])
    assert r.json()["tsig"] is None


@pytest.mark.parametrize("tsig", ["hmac-md5", 1, [], {"algorithm": "hmac-sha256"}])
def test_v1_register_bad_tsig(api, tsig):
    r = api.call("POST", "/v1/register", {"tsig": tsig})
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "bad_request"


def test_acmedns_register_ignores_tsig(api):
    r = api.call("POST", "/register", {"tsig": True})
    assert r.status_code == 201, r.text
    assert list(r.json()) == ["username", "password", "fulldomain", "subdomain", "allowfrom"]
    shown = json.loads(ctl(api.server.config, "account", "show", r.json()["subdomain"],
                           json_out=True).stdout)
    assert shown["tsig"] is None
    # Not even a bad value is looked at.
    assert api.call("POST", "/register", {"tsig": "hmac-md5"}).status_code == 201


CONFIG_ERRORS = [
    ("tsig:\n  - name: k.example\n", "tsig.secret: required key missing"),
    ("tsig:\n  - name: k.example\n    secret: not-base64\n", "tsig.secret: expected a base64"),
    ("tsig:\n  - name: k.example\n    algorithm: hmac-md5\n    secret: YQ==\n",
     "tsig.algorithm: expected one of hmac-sha256, hmac-sha384, hmac-sha512"),
    ("tsig:\n  - {name: k.example, secret: YQ==}\n  - {name: K.example., secret: YQ==}\n",
     "tsig.name: duplicate key name k.example."),
    ("transfer:\n  allow:\n    - key: nokey.example\n", "transfer.allow.key: no key nokey.example."),
    ("transfer:\n  allow:\n    - {}\n", "transfer.allow: each entry needs an address, a key"),
    ("transfer:\n  notify: [not-an-address]\n", "transfer.notify: invalid address"),
    ("transfer:\n  journal:\n    max_age: 10\n", "transfer.journal.max_age: expected an integer"),
    ("update:\n  enabled: 1\n", "update.enabled: expected true or false"),
]


@pytest.mark.parametrize("extra,message", CONFIG_ERRORS)
def test_config_errors(make_server, extra, message):
    s = make_server(start=False)
    with open(s.config) as f:
        lines = len(f.read().splitlines())
    with open(s.config, "a") as f:
        f.write(extra)
    p = ctl(s.config, "check-config")
    assert p.returncode == STORE
    m = re.search(r"acmens\.yaml:(\d+): (.*)$", p.stderr.strip())
    assert m, p.stderr
    assert lines < int(m.group(1)) <= lines + extra.count("\n")
    assert m.group(2).startswith(message), p.stderr


def test_config_accepted(make_server):
    s = make_server(start=False)
    with open(s.config, "a") as f:
        f.write("tsig:\n  - {name: xfr.example, algorithm: hmac-sha384, secret: YWJjZA==}\n"
                "transfer:\n  allow:\n    - {address: 127.0.0.0/8, key: xfr.example}\n"
                "    - address: \"::1\"\n"
                "  notify: [\"127.0.0.1:5399\"]\n"
                "  journal: {max_entries: 50, max_age: 3600}\n"
                "update:\n  enabled: true\n")
    assert ctl(s.config, "check-config").stdout == "ok\n"
    s.start()
    assert s.query(ZONE, "SOA").rcode() == 0
