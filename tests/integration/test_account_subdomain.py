# SPDX-License-Identifier: ISC
"""acmensctl account register --subdomain NAME: an account with a chosen
label, whose _acme-challenge.NAME.<zone> is served (how a host of the zone,
the API's own name among them, gets its certificate); labels that are not
DNS labels, taken by an account, or shadowed by zone.records are refused
with a message naming why, and nothing is stored."""

import dns.rcode
import json

import pytest
import requests

from conftest import BASE_RECORDS, ZONE, dns_txt, value

RECORDS = BASE_RECORDS + [
    "api.auth.example.org. 300 IN A 127.0.0.1",               # the API's host name
    "note.auth.example.org. 300 IN TXT \"static\"",
    "_acme-challenge.fixed.auth.example.org. 300 IN TXT \"static\"",
    "x._acme-challenge.below.auth.example.org. 300 IN A 192.0.2.9",
]


@pytest.fixture
def srv(make_server):
    return make_server(records=RECORDS, http={})


def register(srv, *args, check=True):
    return srv.ctl("account", "register", *args, check=check)


def accounts(srv):
    return [a["subdomain"] for a in json.loads(srv.ctl("account", "list").stdout)["accounts"]]


def test_chosen_label_serves_its_challenge_name(srv):
    out = json.loads(register(srv, "--subdomain", "api").stdout)
    assert out["subdomain"] == "api"
    assert out["fulldomain"] == "api." + ZONE.rstrip(".")
    v = value(1)
    srv.ctl("txt", "add", "_acme-challenge.api", v)
    assert dns_txt(srv, "_acme-challenge.api." + ZONE) == (dns.rcode.NOERROR, [v])
    # the static address of the host stays as it was
    r = srv.query("api." + ZONE, "A")
    assert r.rcode() == dns.rcode.NOERROR
    assert [rr.address for rr in r.answer[0]] == ["127.0.0.1"]
    # the account's credentials work through the API like any other
    r = requests.post(srv.http_url + "/update",
                      json={"subdomain": "api", "txt": value(2)},
                      headers={"X-Api-User": out["username"], "X-Api-Key": out["password"]},
                      timeout=10)
    assert r.status_code == 200, r.text


def test_label_without_static_records(srv):
    out = json.loads(register(srv, "--subdomain", "web-1").stdout)
    r = requests.post(srv.http_url + "/update",
                      json={"subdomain": "web-1", "txt": value(3)},
                      headers={"X-Api-User": out["username"], "X-Api-Key": out["password"]},
                      timeout=10)
    assert r.status_code == 200, r.text
    assert dns_txt(srv, "web-1." + ZONE) == (dns.rcode.NOERROR, [value(3)])


@pytest.mark.parametrize("label,message", [
    ("API", "must be lower case"),
    ("_acme-challenge", "not a label an account can have"),
    ("-api", "not a label an account can have"),
    ("api-", "not a label an account can have"),
    ("a.b", "not a label an account can have"),
    ("", "not a label an account can have"),
    ("a" * 64, "not a label an account can have"),
    ("note", "zone.records has a TXT at note.auth.example.org"),
    ("www", "zone.records has a CNAME at www.auth.example.org"),
    ("fixed", "zone.records has names at or below _acme-challenge.fixed.auth.example.org"),
    ("below", "zone.records has names at or below _acme-challenge.below.auth.example.org"),
])
def test_refused_labels(srv, label, message):
    before = accounts(srv)
    p = register(srv, "--subdomain", label, check=False)
    assert p.returncode == 4, (p.returncode, p.stderr)
    assert message in p.stderr, p.stderr
    assert accounts(srv) == before
    p = srv.ctl("account", "register", "--subdomain", label, check=False, json_out=False)
    assert p.returncode == 4 and p.stdout == "" and message in p.stderr


def test_taken_label_is_refused_and_kept(srv):
    first = json.loads(register(srv, "--subdomain", "api").stdout)
    srv.ctl("txt", "add", "_acme-challenge.api", value(4))
    p = register(srv, "--subdomain", "api", check=False)
    assert p.returncode == 4
    assert "an account has the subdomain api" in p.stderr
    shown = json.loads(srv.ctl("account", "show", "api").stdout)
    assert shown["username"] == first["username"]
    assert dns_txt(srv, "_acme-challenge.api." + ZONE) == (dns.rcode.NOERROR, [value(4)])
