# SPDX-License-Identifier: ISC
"""The native /v1 API against docs/api.md: registration, account view, add /
remove / replace of TXT values with the serial of every write, per-value
expiry, credentials, key rotation, concurrent workers, the batch endpoint and
group commit. Every refused request is checked to have changed nothing: the
store serial (from a DNS SOA query) and the values DNS serves."""

import json
import re
import threading
import time

import dns.rcode
import dns.rdatatype
import pytest

from conftest import ZONE, _server_factory, dns_txt, lives, start_http

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
KEY = r"[A-Za-z0-9_-]{40}"
APEX = ZONE.rstrip(".")
MAX_VALUES = 64        # zone.txt_max_values allows 1..64
BATCH_MAX = 600
VALUE_ERR = "a value is 1 to 255 printable ASCII characters"


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    """One daemon for the module: every test works on its own accounts."""
    factory, finish = _server_factory(tmp_path_factory.mktemp("v1"))
    yield start_http(factory, zone={"txt_max_values": MAX_VALUES}, register_rate=0,
                     batch_max=BATCH_MAX, max_body=1 << 20)
    finish()


def txt_path(acct, sub=None):
    return f"/v1/accounts/{acct['subdomain'] if sub is None else sub}/txt"


def add(api, acct, value, headers=None, **extra):
    return api.call("POST", txt_path(acct), dict(extra, value=value),
                    acct["headers"] if headers is None else headers)


def listed(api, acct):
    r = api.call("GET", txt_path(acct), headers=acct["headers"])
    assert r.status_code == 200, r.text
    return r.json()["values"]


def assert_error(r, status, code):
    assert r.status_code == status, r.text
    assert r.headers["Content-Type"] == "application/json"
    assert r.json()["error"] == code, r.text
    assert "X-Acmens-Serial" not in r.headers


class Unchanged:
    """Snapshot of the serial and of some accounts' DNS values; check()
    asserts that neither moved."""

    def __init__(self, api, *accts):
        self.api, self.accts = api, accts
        self.serial = api.server.serial()
        self.values = [api.txt(a) for a in accts]

    def check(self):
        assert self.api.server.serial() == self.serial
        assert [self.api.txt(a) for a in self.accts] == self.values


# ---- /v1/register ------------------------------------------------------------

def test_register_fields(api):
    serial = api.server.serial()
    r = api.call("POST", "/v1/register", "{}")
    assert r.status_code == 201
    assert r.headers["Content-Type"] == "application/json"
    acct = r.json()
    assert set(acct) == {"username", "password", "subdomain", "fulldomain", "allowfrom", "serial"}
    assert re.fullmatch(UUID, acct["username"]) and re.fullmatch(UUID, acct["subdomain"])
    assert re.fullmatch(KEY, acct["password"])
    assert acct["username"] != acct["subdomain"]
    assert acct["fulldomain"] == f"{acct['subdomain']}.{APEX}"
    assert acct["allowfrom"] == []
    # Creating an account changes no DNS data: the current serial.
    assert acct["serial"] == int(r.headers["X-Acmens-Serial"]) == serial == api.server.serial()
    # The credentials work at once; the name exists, with no values.
    acct["headers"] = api.creds(acct)
    info = api.call("GET", f"/v1/accounts/{acct['subdomain']}", headers=acct["headers"]).json()
    assert info["username"] == acct["username"] and info["values"] == []
    assert dns_txt(api.server, acct["fulldomain"]) == (dns.rcode.NOERROR, [])


@pytest.mark.parametrize("body", [None, "", "null", '{"unknown": 1}'])
def test_register_empty_bodies(api, body):
    r = api.call("POST", "/v1/register", body)
    assert r.status_code == 201, r.text
    assert r.json()["allowfrom"] == []


def test_register_allowfrom(api):
    acct = api.register({"allowfrom": ["127.0.0.0/8", "[2001:db8::]/32", "192.0.2.1/24"]})
    assert acct["allowfrom"] == ["127.0.0.0/8", "2001:db8::/32", "192.0.2.1/24"]
    r = api.call("GET", f"/v1/accounts/{acct['subdomain']}", headers=acct["headers"])
    assert r.status_code == 200
    assert r.json()["allowfrom"] == acct["allowfrom"]


@pytest.mark.parametrize("body,code", [
    ('{"allowfrom": ["192.0.2.1"]}', "invalid_allowfrom_cidr"),
    ('{"allowfrom": ["192.0.2.0/24", "192.0.2.0/33"]}', "invalid_allowfrom_cidr"),
    ('{"allowfrom": ["300.1.2.3/8"]}', "invalid_allowfrom_cidr"),
    ('{"allowfrom": [null]}', "invalid_allowfrom_cidr"),
    (json.dumps({"allowfrom": ["10.0.0.0/8"] * 17}), "invalid_allowfrom_cidr"),
    ('{"allowfrom": ["' + "0" * 47 + '1.2.3.4/32"]}', "invalid_allowfrom_cidr"),
    ("{", "malformed_json"),
    ("{} x", "malformed_json"),
    ("[]", "bad_request"),
    ('{"allowfrom": "192.0.2.0/24"}', "bad_request"),
    ('{"allowfrom": [1]}', "bad_request"),
])
def test_register_bad_input(api, body, code):
    before_accounts = api.stats()["accounts"]
    serial = api.server.serial()
    r = api.call("POST", "/v1/register", body)
    assert_error(r, 400, code)
    assert api.stats()["accounts"] == before_accounts
    assert api.server.serial() == serial


def test_register_disabled_is_not_found(make_server):
    a = start_http(make_server, disable_registration=True)
    for path in ("/v1/register", "/register"):
        r = a.call("POST", path, "{}")
        assert_error(r, 404, "not_found")
        assert r.json() == {"error": "not_found"}
    assert a.stats()["accounts"] == 0


def test_register_rate_limited(make_server):
    a = start_http(make_server, register_rate=2)
    assert [a.call("POST", "/v1/register").status_code for _ in range(2)] == [201, 201]
    r = a.call("POST", "/v1/register", "{}")
    assert_error(r, 429, "rate_limited")
    # The refusal created nothing; a bad request is not counted either way.
    assert a.stats()["accounts"] == 2
    assert_error(a.call("POST", "/v1/register", "{"), 400, "malformed_json")


# ---- account view --------------------------------------------------------------

def test_account_self_info(api):
    acct = api.register({"allowfrom": ["127.0.0.1/32"]})
    t0 = int(time.time())
    assert add(api, acct, "one").status_code == 201
    assert add(api, acct, "two", expires_in=600).status_code == 201
    sub = acct["subdomain"]
    for path_sub in (sub, sub.upper()):      # SUB is case-insensitive
        r = api.call("GET", f"/v1/accounts/{path_sub}", headers=acct["headers"])
        assert r.status_code == 200, r.text
        info = r.json()
        assert set(info) == {"subdomain", "fulldomain", "username", "allowfrom", "created",
                             "updated", "disabled", "values"}
        assert (info["subdomain"], info["fulldomain"], info["username"]) == \
            (sub, acct["fulldomain"], acct["username"])
        assert info["allowfrom"] == ["127.0.0.1/32"]
        assert info["disabled"] is False and len(info["values"]) == 2
        assert abs(info["created"] - t0) <= 2 and info["updated"] >= info["created"]
    assert "password" not in r.text and acct["password"] not in r.text


# ---- add -------------------------------------------------------------------------

def test_add_value_serial_and_dns(api):
    acct = api.register()
    before = api.server.serial()
    r = add(api, acct, "LPsIwTo7o8BoG0-vjCyGQGBWSVIPxI-i_X336eUOQZo")
    # The DNS side answers right away, with the serial of the reply.
    soa = api.server.serial()
    rcode, values = dns_txt(api.server, acct["fulldomain"], tcp=False)
    assert r.status_code == 201, r.text
    assert r.json() == {"serial": before + 1, "value": "LPsIwTo7o8BoG0-vjCyGQGBWSVIPxI-i_X336eUOQZo"}
    assert int(r.headers["X-Acmens-Serial"]) == before + 1 == soa
    assert (rcode, values) == (dns.rcode.NOERROR, ["LPsIwTo7o8BoG0-vjCyGQGBWSVIPxI-i_X336eUOQZo"])
    # Any printable ASCII, up to 255 characters.
    odd = ' !"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~'
    for v in (odd, "x" * 255, "a"):
        assert add(api, acct, v).status_code == 201
    assert api.txt(acct) == sorted(["LPsIwTo7o8BoG0-vjCyGQGBWSVIPxI-i_X336eUOQZo", odd, "x" * 255, "a"])
    assert api.server.serial() == before + 4


def test_add_duplicate_is_409(api):
    acct = api.register()
    assert add(api, acct, "dup", expires_in=600).status_code == 201
    first = listed(api, acct)
    snap = Unchanged(api, acct)
    for extra in ({}, {"expires_in": 5}):
        assert_error(add(api, acct, "dup", **extra), 409, "exists")
    snap.check()
    assert listed(api, acct) == first        # its expiry is left as it was


def test_add_beyond_max_values(api):
    acct = api.register()
    full = [f"v{i}" for i in range(MAX_VALUES)]
    r = api.call("PUT", txt_path(acct), {"values": full}, acct["headers"])
    assert r.status_code == 200, r.text
    assert api.txt(acct) == sorted(full)
    snap = Unchanged(api, acct)
    r = add(api, acct, "one-too-many")
    assert_error(r, 409, "too_many_values")
    assert str(MAX_VALUES) in r.json()["message"]
    r = api.call("PUT", txt_path(acct), {"values": full + ["extra"]}, acct["headers"])
    assert_error(r, 409, "too_many_values")
    snap.check()
    # Making room lets an add through again; nothing was evicted.
    assert api.call("DELETE", txt_path(acct) + "/v0", headers=acct["headers"]).status_code == 200
    assert add(api, acct, "one-too-many").status_code == 201
    assert api.txt(acct) == sorted(full[1:] + ["one-too-many"])


@pytest.mark.parametrize("body,code,message", [
    ({"value": ""}, "bad_value", VALUE_ERR),
    ({"value": "x" * 256}, "bad_value", VALUE_ERR),
    ({"value": "a\u0001b"}, "bad_value", VALUE_ERR),
    ({"value": "tab\there"}, "bad_value", VALUE_ERR),
    ({"value": "del\x7f"}, "bad_value", VALUE_ERR),
    ({"value": "caf\u00e9"}, "bad_value", VALUE_ERR),
    ({"value": 5}, "bad_request", "value must be a string"),
    ({"value": ["a"]}, "bad_request", "value must be a string"),
    ({"value": None}, "bad_request", "value is required"),
    ({}, "bad_request", "value is required"),
    ({"txt": "a"}, "bad_request", "value is required"),
])
def test_add_bad_value(api, body, code, message):
    acct = api.register()
    assert add(api, acct, "keep").status_code == 201
    snap = Unchanged(api, acct)
    r = api.call("POST", txt_path(acct), body, acct["headers"])
    assert_error(r, 400, code)
    assert r.json()["message"] == message
    snap.check()


@pytest.mark.parametrize("expires_in", [0, -1, 31536001, 2 ** 53, 1.5, 60.0, "60", True, [1]])
def test_add_expires_in_out_of_range(api, expires_in):
    acct = api.register()
    snap = Unchanged(api, acct)
    r = add(api, acct, "v", expires_in=expires_in)
    assert_error(r, 400, "bad_request")
    assert r.json()["message"] == "expires_in must be an integer from 1 to 31536000"
    snap.check()


def test_add_expires_in_bounds(api):
    acct = api.register()
    assert add(api, acct, "max", expires_in=31536000).status_code == 201
    assert add(api, acct, "never", expires_in=None).status_code == 201
    vals = {v["value"]: v for v in listed(api, acct)}
    assert lives(vals["max"], 31536000)
    assert vals["never"]["expires"] is None


def test_expiry_without_restart(make_server):
    # A daemon of its own: the sweep of the expired value (every 60 s) would
    # bump the shared daemon's serial under other tests' feet.
    api = start_http(make_server, register_rate=0)
    acct = api.register()
    assert add(api, acct, "stays").status_code == 201
    # A value lives at least expires_in seconds, and at most one more
    # (clocks read whole seconds).
    sent = time.time()
    r = add(api, acct, "short", expires_in=1)
    deadline = sent + 2.5
    assert r.status_code == 201
    assert api.txt(acct) == ["short", "stays"]
    time.sleep(max(0.0, sent + 0.8 - time.time()))
    assert api.txt(acct) == ["short", "stays"]
    while api.txt(acct) != ["stays"] and time.time() < deadline:
        time.sleep(0.1)
    assert api.txt(acct) == ["stays"]
    # The list and the count leave it out too.
    assert [v["value"] for v in listed(api, acct)] == ["stays"]
    info = api.call("GET", f"/v1/accounts/{acct['subdomain']}", headers=acct["headers"]).json()
    assert [v["value"] for v in info["values"]] == ["stays"]
    # stats counts values expired but not yet swept (sweeps run every 60 s).
    assert api.stats()["values"] == 2


# ---- list ----------------------------------------------------------------------

def test_list_values(api):
    acct = api.register()
    t0 = int(time.time())
    assert add(api, acct, "a").status_code == 201
    assert add(api, acct, "b", expires_in=600).status_code == 201
    r = api.call("GET", txt_path(acct), headers=acct["headers"])
    assert r.status_code == 200
    body = r.json()
    assert (body["subdomain"], body["fulldomain"]) == (acct["subdomain"], acct["fulldomain"])
    assert body["serial"] == api.server.serial()
    vals = sorted(body["values"], key=lambda v: v["value"])
    assert [v["value"] for v in vals] == ["a", "b"]
    assert all(abs(v["set"] - t0) <= 2 for v in vals)
    assert vals[0]["expires"] is None and lives(vals[1], 600)


# ---- remove ----------------------------------------------------------------------

def test_remove(api):
    acct = api.register()
    for v in ("gone", "kept", "with space"):
        assert add(api, acct, v).status_code == 201
    before = api.server.serial()
    r = api.call("DELETE", txt_path(acct) + "/gone", headers=acct["headers"])
    assert r.status_code == 200, r.text
    assert r.json() == {"serial": before + 1}
    assert int(r.headers["X-Acmens-Serial"]) == before + 1 == api.server.serial()
    assert api.txt(acct) == ["kept", "with space"]
    # VALUE is percent-encoded.
    r = api.call("DELETE", txt_path(acct) + "/with%20space", headers=acct["headers"])
    assert r.json() == {"serial": before + 2}
    assert api.txt(acct) == ["kept"]


@pytest.mark.parametrize("stored,path", [
    ("c%d", "c%25d"), ("a+b", "a+b"), ("q?x", "q%3Fx"), ("h#y", "h%23y"),
    ("semi;colon", "semi;colon"), ("a b/c", "a%20b%2Fc"), ("/", "%2F"), ("x" * 255, "x" * 255),
])
def test_remove_percent_encoded(api, stored, path):
    acct = api.register()
    assert add(api, acct, stored).status_code == 201
    assert add(api, acct, "other").status_code == 201
    before = api.server.serial()
    r = api.call("DELETE", txt_path(acct) + "/" + path, headers=acct["headers"])
    assert r.status_code == 200, r.text
    assert r.json() == {"serial": before + 1}
    assert api.txt(acct) == ["other"]


@pytest.mark.parametrize("path,status,code", [
    ("/absent", 404, "not_found"),
    ("/gone", 404, "not_found"),
    ("/KEPT", 404, "not_found"),
    ("/%01", 400, "bad_value"),
    ("/%C3%A9", 400, "bad_value"),
    ("/" + "x" * 256, 400, "bad_value"),
])
def test_remove_refused(api, path, status, code):
    acct = api.register()
    assert add(api, acct, "kept").status_code == 201
    snap = Unchanged(api, acct)
    assert_error(api.call("DELETE", txt_path(acct) + path, headers=acct["headers"]), status, code)
    snap.check()


# ---- replace ---------------------------------------------------------------------

def test_replace_set(api):
    acct = api.register()
    assert add(api, acct, "old").status_code == 201
    before = api.server.serial()
    r = api.call("PUT", txt_path(acct), {"values": ["one", "two", "one"], "expires_in": 3600},
                 acct["headers"])
    assert r.status_code == 200, r.text
    assert r.json() == {"serial": before + 1, "values": ["one", "two"]}
    assert int(r.headers["X-Acmens-Serial"]) == before + 1 == api.server.serial()
    assert api.txt(acct) == ["one", "two"]
    assert all(lives(v, 3600) for v in listed(api, acct))
    # To empty: the name stays (NODATA), with no TXT.
    r = api.call("PUT", txt_path(acct), {"values": []}, acct["headers"])
    assert r.json() == {"serial": before + 2, "values": []}
    resp = api.server.query(acct["fulldomain"] + ".", "TXT")
    assert resp.rcode() == dns.rcode.NOERROR and resp.answer == []
    assert resp.authority[0].rdtype == dns.rdatatype.SOA
    assert listed(api, acct) == []


def test_replace_counts_distinct_values(api):
    """Duplicates are merged before the limit applies: a long list of few
    values is fine, however long."""
    acct = api.register()
    r = api.call("PUT", txt_path(acct), {"values": ["a", "b"] * 300}, acct["headers"])
    assert r.status_code == 200, r.text
    assert r.json()["values"] == ["a", "b"]
    assert api.txt(acct) == ["a", "b"]
    snap = Unchanged(api, acct)
    many = [f"d{i}" for i in range(300)]
    assert_error(api.call("PUT", txt_path(acct), {"values": many}, acct["headers"]),
                 409, "too_many_values")
    snap.check()


@pytest.mark.parametrize("body,code", [
    ({}, "bad_request"),
    ({"values": "one"}, "bad_request"),
    ({"values": ["one", 2]}, "bad_request"),
    ({"values": ["one", ""]}, "bad_value"),
    ({"values": ["one", "\u00e9"]}, "bad_value"),
    ({"values": ["one"], "expires_in": 0}, "bad_request"),
])
def test_replace_refused(api, body, code):
    acct = api.register()
    assert add(api, acct, "kept").status_code == 201
    snap = Unchanged(api, acct)
    assert_error(api.call("PUT", txt_path(acct), body, acct["headers"]), 400, code)
    snap.check()


# ---- credentials -----------------------------------------------------------------

@pytest.mark.parametrize("case", ["no_headers", "no_key", "wrong_key", "unknown_user",
                                  "bad_user", "disabled", "allowfrom"])
def test_auth_failures(api, case):
    acct = api.register({"allowfrom": ["192.0.2.0/24"]} if case == "allowfrom" else None)
    other = api.register()
    headers = dict(acct["headers"])
    if case != "allowfrom":
        assert add(api, acct, "mine").status_code == 201
    if case == "no_headers":
        headers = {}
    elif case == "no_key":
        del headers["X-Api-Key"]
    elif case == "wrong_key":
        headers["X-Api-Key"] = other["password"]
    elif case == "unknown_user":
        u = acct["username"]
        headers["X-Api-User"] = u[:-1] + ("0" if u[-1] != "0" else "1")
    elif case == "bad_user":
        headers["X-Api-User"] = "admin"
    elif case == "disabled":
        r = api.admin("POST", f"/accounts/{acct['subdomain']}/disable")
        assert r.status_code == 200 and r.json()["disabled"] is True
    snap = Unchanged(api, acct)
    sub = acct["subdomain"]
    for method, path, body in [("POST", f"/v1/accounts/{sub}/txt", {"value": "x"}),
                               ("PUT", f"/v1/accounts/{sub}/txt", {"values": []}),
                               ("DELETE", f"/v1/accounts/{sub}/txt/mine", None),
                               ("GET", f"/v1/accounts/{sub}/txt", None),
                               ("GET", f"/v1/accounts/{sub}", None),
                               ("POST", f"/v1/accounts/{sub}/rotate-key", None)]:
        r = api.call(method, path, body, headers)
        assert_error(r, 401, "forbidden")
        assert r.json() == {"error": "forbidden"}
    snap.check()
    # The key was not rotated: the account's real key still works (unless
    # refused for being disabled or outside allowfrom).
    if case not in ("disabled", "allowfrom"):
        assert api.call("GET", f"/v1/accounts/{sub}", headers=acct["headers"]).status_code == 200


def test_allowfrom_inside_is_accepted(api):
    acct = api.register({"allowfrom": ["192.0.2.0/24", "127.0.0.0/8"]})
    assert add(api, acct, "inside").status_code == 201
    assert api.txt(acct) == ["inside"]


def test_other_accounts_sub_is_403(api):
    mine, theirs = api.register(), api.register()
    assert add(api, theirs, "theirs").status_code == 201
    snap = Unchanged(api, mine, theirs)
    sub = theirs["subdomain"]
    for method, path, body in [("POST", f"/v1/accounts/{sub}/txt", {"value": "x"}),
                               ("PUT", f"/v1/accounts/{sub}/txt", {"values": []}),
                               ("DELETE", f"/v1/accounts/{sub}/txt/theirs", None),
                               ("GET", f"/v1/accounts/{sub}/txt", None),
                               ("GET", f"/v1/accounts/{sub}", None),
                               ("POST", f"/v1/accounts/{sub}/rotate-key", None),
                               ("POST", "/v1/accounts/not-an-account/txt", {"value": "x"})]:
        assert_error(api.call(method, path, body, mine["headers"]), 403, "wrong_account")
    snap.check()


# ---- routing and bodies -----------------------------------------------------------

@pytest.mark.parametrize("method,path,allow", [
    ("GET", "/v1/register", "POST"),
    ("GET", "/v1/batch", "POST"),
    ("DELETE", "/v1/accounts/SUB/txt", "GET, POST, PUT"),
    ("POST", "/v1/accounts/SUB", "GET"),
    ("PUT", "/v1/accounts/SUB/txt/v", "DELETE"),
    ("GET", "/v1/accounts/SUB/rotate-key", "POST"),
])
def test_wrong_method_is_405(api, method, path, allow):
    acct = api.register()
    assert add(api, acct, "v").status_code == 201
    snap = Unchanged(api, acct)
    r = api.call(method, path.replace("SUB", acct["subdomain"]), {"values": []}, acct["headers"])
    assert_error(r, 405, "method_not_allowed")
    got = {m.strip() for m in r.headers["Allow"].split(",")} - {"OPTIONS"}
    want = {m.strip() for m in allow.split(",")}
    assert got == want | ({"HEAD"} if "GET" in want else set())
    snap.check()


@pytest.mark.parametrize("path", ["/v1", "/v1/", "/v1/nothing", "/v1/accounts", "/v1/accounts/SUB/txt/a/b",
                                  "/v1/accounts/SUB/values", "/v2/register", "/v1/registerx"])
def test_unknown_route_is_404(api, path):
    acct = api.register()
    r = api.call("POST", path.replace("SUB", acct["subdomain"]), {"value": "x"}, acct["headers"])
    assert_error(r, 404, "not_found")
    assert r.json() == {"error": "not_found"}
    assert api.txt(acct) == []


def test_oversize_body_is_413(api):
    # evhttp answers this itself, before any route runs: status only.
    acct = api.register()
    snap = Unchanged(api, acct)
    body = json.dumps({"value": "x", "pad": "p" * (1024 * 1024)})
    r = api.call("POST", txt_path(acct), body, acct["headers"])
    assert r.status_code == 413
    snap.check()
    assert add(api, acct, "x").status_code == 201


@pytest.mark.parametrize("body,code", [
    (b'{"value": "\xff"}', "malformed_json"),
    (b'{"value": "a\xc3"}', "malformed_json"),
    (b'{"value": "a\x01"}', "malformed_json"),
    (b'{"value": "x"', "malformed_json"),
    (b'{"value": "x"} {}', "malformed_json"),
    (b'', "malformed_json"),
    (b'{"value": "\\ud800"}', "malformed_json"),
    (b'[{"value": "x"}]', "bad_request"),
    (b'"x"', "bad_request"),
    (b'null', "bad_request"),
])
def test_invalid_body(api, body, code):
    acct = api.register()
    snap = Unchanged(api, acct)
    for method in ("POST", "PUT"):
        assert_error(api.call(method, txt_path(acct), body, acct["headers"]), 400, code)
    assert_error(api.call("POST", "/v1/batch", body), 400, code)
    snap.check()


# ---- key rotation --------------------------------------------------------------

def test_rotate_key(api):
    acct = api.register()
    assert add(api, acct, "before").status_code == 201
    serial = api.server.serial()
    r = api.call("POST", f"/v1/accounts/{acct['subdomain']}/rotate-key", None, acct["headers"])
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"username", "password", "serial"}
    assert body["username"] == acct["username"]
    assert re.fullmatch(KEY, body["password"]) and body["password"] != acct["password"]
    assert body["serial"] == int(r.headers["X-Acmens-Serial"]) == serial == api.server.serial()
    # The old key is refused and changes nothing; the new one works.
    snap = Unchanged(api, acct)
    assert_error(add(api, acct, "old-key"), 401, "forbidden")
    snap.check()
    new = dict(acct, password=body["password"])
    new["headers"] = api.creds(new)
    assert add(api, new, "new-key").status_code == 201
    assert api.txt(acct) == ["before", "new-key"]
    # /update takes the new key too, and not the old one.
    upd = json.dumps({"subdomain": acct["subdomain"], "txt": "A" * 43})
    assert api.call("POST", "/update", upd, acct["headers"]).status_code == 401
    assert api.call("POST", "/update", upd, new["headers"]).status_code == 200


# ---- concurrent workers ----------------------------------------------------------

def test_concurrent_workers_never_evict(api):
    """Two renewal workers share one name and add their values at the same
    time; /v1 never evicts, so both keep all of theirs. The docs' eviction
    race would need 2 x 50 values; zone.txt_max_values is at most 64, so each
    worker adds 32 and the name ends up exactly full."""
    acct = api.register()
    per = MAX_VALUES // 2
    results = {0: [], 1: []}
    start = threading.Barrier(2)

    def worker(w):
        from conftest import HttpApi
        client = HttpApi(api.server)
        start.wait(5)
        for i in range(per):
            r = client.call("POST", txt_path(acct), {"value": f"w{w}-{i}"}, acct["headers"])
            results[w].append((r.status_code, r.json().get("serial")))

    threads = [threading.Thread(target=worker, args=(w,)) for w in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads)
    for w in (0, 1):
        assert [s for s, _ in results[w]] == [201] * per
        serials = [s for _, s in results[w]]
        assert serials == sorted(serials)          # one worker's writes in order
    want = sorted(f"w{w}-{i}" for w in (0, 1) for i in range(per))
    assert api.txt(acct) == want
    # The name is full now: a third value is refused rather than pushing one out.
    assert_error(add(api, acct, "third"), 409, "too_many_values")
    # Worker 0 removes exactly its own values; worker 1's stay.
    for i in range(per):
        assert api.call("DELETE", txt_path(acct) + f"/w0-{i}", headers=acct["headers"]).status_code == 200
    assert api.txt(acct) == sorted(f"w1-{i}" for i in range(per))


# ---- batch -----------------------------------------------------------------------

def op(acct, kind, **kw):
    return dict(kw, op=kind, username=acct["username"], key=acct["password"])


def test_batch_one_serial(api):
    a, b, c = api.register(), api.register(), api.register()
    assert add(api, a, "a-old").status_code == 201
    assert add(api, c, "c-old").status_code == 201
    push = "LPsIwTo7o8BoG0-vjCyGQGBWSVIPxI-i_X336eUOQZo"
    ops = [op(a, "add", value="a1", subdomain=a["subdomain"]),
           op(b, "add", value="b1", expires_in=600),
           op(c, "set", values=["c1", "c2"]),
           op(a, "remove", value="a-old"),
           op(b, "push", value=push),
           op(a, "add", value="a2", subdomain=a["subdomain"].upper()),
           op(c, "add", value="c3"),
           op(b, "remove", value="b1")]            # sees the add above
    before = api.server.serial()
    r = api.call("POST", "/v1/batch", {"operations": ops})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["serial"] == int(r.headers["X-Acmens-Serial"]) == before + 1 == api.server.serial()
    assert body["results"] == [{"status": 201}, {"status": 201}, {"status": 200}, {"status": 200},
                               {"status": 200}, {"status": 201}, {"status": 201}, {"status": 200}]
    assert api.txt(a) == ["a1", "a2"]
    assert api.txt(b) == [push]
    assert api.txt(c) == ["c1", "c2", "c3"]


def test_batch_mixed_results(api):
    a, b = api.register(), api.register()
    assert add(api, a, "dup").status_code == 201
    bad = dict(op(a, "add", value="bad-creds"), key=b["password"])
    ops = [op(a, "add", value="ok1"),
           bad,
           op(a, "add", value="dup"),
           op(b, "add", value="ok2"),
           op(a, "add", value="x", subdomain=b["subdomain"]),
           op(a, "add", value=""),
           op(b, "remove", value="absent"),
           op(a, "frobnicate", value="x"),
           "not an object",
           op(b, "add", value="ok3", expires_in=0),
           op(b, "add", value="ok3")]
    before = api.server.serial()
    r = api.call("POST", "/v1/batch", {"operations": ops})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["serial"] == before + 1 == api.server.serial()
    got = [(x["status"], x.get("error")) for x in body["results"]]
    assert got == [(201, None), (401, "forbidden"), (409, "exists"), (201, None),
                   (403, "wrong_account"), (400, "bad_value"), (404, "not_found"),
                   (400, "bad_request"), (400, "bad_request"), (400, "bad_request"), (201, None)]
    assert api.txt(a) == ["dup", "ok1"]
    assert api.txt(b) == ["ok2", "ok3"]


def test_batch_all_refused_changes_nothing(api):
    a = api.register()
    assert add(api, a, "dup").status_code == 201
    snap = Unchanged(api, a)
    r = api.call("POST", "/v1/batch", {"operations": [op(a, "add", value="dup"),
                                                      dict(op(a, "add", value="n"), key="k" * 40)]})
    assert r.status_code == 200
    assert r.json() == {"serial": snap.serial,
                        "results": [{"status": 409, "error": "exists"},
                                    {"status": 401, "error": "forbidden"}]}
    snap.check()


def batch_of_each_refusal(api):
    """Operations in the shape batch clients send (flat objects of strings),
    one of each outcome, on two fresh accounts; and what they leave."""
    a, b = api.register(), api.register()
    assert add(api, a, "dup").status_code == 201
    ops = [op(a, "add", value="ok1", subdomain=a["subdomain"]),
           dict(op(a, "add", value="bad-creds"), key=b["password"]),
           op(a, "add", value="dup"),
           op(a, "add", value="x", subdomain=b["subdomain"]),
           op(a, "add", value=""),
           op(a, "add", value="x" * 256),
           op(b, "remove", value="absent"),
           op(a, "frobnicate", value="x"),
           op(b, "set", value="no-values"),
           op(b, "add", value="ok2", expires_in=600),
           op(b, "push", value="LPsIwTo7o8BoG0-vjCyGQGBWSVIPxI-i_X336eUOQZo"),
           dict(op(a, "add", value="no-user"), username="nobody"),
           op(a, "remove", value="dup")]
    return a, b, ops


def test_batch_quick_reader_matches_decoder(api):
    """The common body shape is read without a JSON tree; the same
    operations in a body only the JSON decoder takes (an extra top-level
    member) give the very same results."""
    got = []
    for extra in ({}, {"comment": "decoded"}):
        a, b, ops = batch_of_each_refusal(api)
        r = api.call("POST", "/v1/batch", dict({"operations": ops}, **extra))
        assert r.status_code == 200, r.text
        got.append((r.json()["results"], api.txt(a), api.txt(b)))
    assert got[0] == got[1]
    results, txt_a, txt_b = got[0]
    assert [(x["status"], x.get("error")) for x in results] == [
        (201, None), (401, "forbidden"), (409, "exists"), (403, "wrong_account"),
        (400, "bad_value"), (400, "bad_value"), (404, "not_found"), (400, "bad_request"),
        (400, "bad_request"), (201, None), (200, None), (401, "forbidden"), (200, None)]
    assert txt_a == ["ok1"]
    assert txt_b == ["LPsIwTo7o8BoG0-vjCyGQGBWSVIPxI-i_X336eUOQZo", "ok2"]


@pytest.mark.parametrize("fields,status,stored", [
    ('"value":"v","value":"w"', 201, ["w"]),          # repeated: the last one counts
    ('"value":"v\\u0041"', 201, ["vA"]),                # an escape
    ('"value":"v","expires_in":1.5', 400, []),
    ('"value":"v","expires_in":0', 400, []),
    ('"value":"v","subdomain":null', 201, ["v"]),
    ('"value":"v","comment":"unknown fields are ignored"', 201, ["v"]),
])
def test_batch_unusual_bodies_are_decoded(api, fields, status, stored):
    """Operations the quick reader declines get the JSON decoder's answer."""
    a = api.register()
    text = ('{"operations":[{"op":"add","username":"%s","key":"%s",%s}]}'
            % (a["username"], a["password"], fields))
    r = api.call("POST", "/v1/batch", text)
    assert r.status_code == 200, r.text
    assert r.json()["results"][0]["status"] == status
    assert api.txt(a) == stored
    assert_error(api.call("POST", "/v1/batch", text + " x"), 400, "malformed_json")


def test_batch_empty(api):
    """No operations: nothing to commit, the current serial, no results."""
    a = api.register()
    snap = Unchanged(api, a)
    r = api.call("POST", "/v1/batch", {"operations": []})
    assert r.status_code == 200, r.text
    assert r.text == '{"serial":%d,"results":[]}' % snap.serial
    assert r.headers["X-Acmens-Serial"] == str(snap.serial)
    snap.check()


def test_batch_too_many_operations(api):
    a = api.register()
    assert add(api, a, "kept").status_code == 201
    snap = Unchanged(api, a)
    ops = [op(a, "add", value=f"n{i}") for i in range(BATCH_MAX + 1)]
    assert_error(api.call("POST", "/v1/batch", {"operations": ops}), 413, "too_many_operations")
    snap.check()


@pytest.mark.parametrize("body", [{}, {"operations": {}}, {"operations": "x"}, {"operations": None}])
def test_batch_bad_request(api, body):
    a = api.register()
    snap = Unchanged(api, a)
    assert_error(api.call("POST", "/v1/batch", body), 400, "bad_request")
    snap.check()


def test_batch_large(api):
    """500 adds in one request: ten accounts, 50 values each."""
    accts = [api.register() for _ in range(10)]
    ops = [op(a, "add", value=f"big-{n}-{i}") for i in range(50) for n, a in enumerate(accts)]
    before = api.server.serial()
    r = api.call("POST", "/v1/batch", {"operations": ops})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["serial"] == before + 1 == api.server.serial()
    assert body["results"] == [{"status": 201}] * 500
    for n, a in enumerate(accts):
        assert api.txt(a) == sorted(f"big-{n}-{i}" for i in range(50))


# ---- group commit ----------------------------------------------------------------

def test_group_commit(api):
    """24 concurrent writers (/update and /v1 adds, 12 each) all succeed, each
    with a serial in (before, after]; writes committed together share one
    serial bump, so there are fewer bumps than requests. They and the
    fixture's own connection stay under http.max_connections_per_client (32):
    all come from 127.0.0.1."""
    n = 24
    accts = [api.register() for _ in range(n)]
    results = [None] * n
    start = threading.Barrier(n)

    def worker(i):
        from conftest import HttpApi
        client = HttpApi(api.server)
        a = accts[i]
        client.call("GET", "/health")            # connect before the start line
        start.wait(10)
        if i % 2:
            r = client.call("POST", "/update",
                            {"subdomain": a["subdomain"], "txt": f"{i:02d}" + "g" * 41}, a["headers"])
        else:
            r = client.call("POST", txt_path(a), {"value": f"g{i}"}, a["headers"])
        results[i] = (r.status_code, int(r.headers.get("X-Acmens-Serial", 0)))

    before = api.server.serial()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads)
    after = api.server.serial()
    assert [s for s, _ in results] == [200 if i % 2 else 201 for i in range(n)]
    serials = [s for _, s in results]
    assert all(before < s <= after for s in serials)
    # Every serial in the range was produced by some reply: no bump is lost.
    assert set(serials) == set(range(before + 1, after + 1))
    for i, a in enumerate(accts):
        assert api.txt(a) == [f"{i:02d}" + "g" * 41 if i % 2 else f"g{i}"]
    assert after - before < n, f"no two of {n} concurrent writes shared a commit"
