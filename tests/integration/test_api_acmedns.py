# SPDX-License-Identifier: ISC
"""The acme-dns API, byte for byte: status codes, exact bodies (acme-dns
formats its errors by hand, with a space after the colon), headers, and the
Go decoding rules acme-dns clients rely on without knowing it."""

import http.client
import json
import os
import re

import pytest

from conftest import ZONE, _server_factory, value

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
APEX = ZONE.rstrip(".")
FORBIDDEN = b'{"error": "forbidden"}'
MALFORMED = b'{"error": "malformed_json_payload"}'
BAD_CIDR = b'{"error": "invalid_allowfrom_cidr"}'
BAD_TXT = b'{"error": "bad_txt"}'


class Api:
    """An HTTP client that keeps the exact bytes of every reply."""

    def __init__(self, server, token):
        self.server = server
        self.port = server.http_port
        self.token = token

    def call(self, method, path, body=None, headers=None, host="127.0.0.1"):
        conn = http.client.HTTPConnection(host, self.port, timeout=10)
        if isinstance(body, str):
            body = body.encode()
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        data = r.read()
        conn.close()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data

    def register(self, body=None):
        status, _, data = self.call("POST", "/register", body)
        assert status == 201, data
        return json.loads(data)

    def update(self, acct, txt, sub=None, host="127.0.0.1"):
        body = json.dumps({"subdomain": acct["subdomain"] if sub is None else sub, "txt": txt})
        return self.call("POST", "/update", body, self.creds(acct), host=host)

    @staticmethod
    def creds(acct, user=None, key=None):
        return {"X-Api-User": acct["username"] if user is None else user,
                "X-Api-Key": acct["password"] if key is None else key}

    def accounts(self):
        status, _, data = self.call("GET", "/v1/admin/stats",
                                    headers={"Authorization": "Bearer " + self.token})
        assert status == 200, data
        return json.loads(data)["accounts"]


def start_api(make_server, **http):
    """A daemon with these http keys, listening on 127.0.0.1 and ::1, with
    an admin token so that tests can count accounts."""
    s = make_server(start=False, http=dict(http))
    token = "t" * 40
    token_file = os.path.join(s.dir, "token")
    with open(token_file, "w") as f:
        f.write(token + "\n")
    os.chmod(token_file, 0o600)
    s.reconfigure(http=dict(http, admin_token_file=token_file,
                            listen=[f"127.0.0.1:{s.http_port}", f"[::1]:{s.http_port}"]))
    s.start()
    return Api(s, token)


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    factory, finish = _server_factory(tmp_path_factory.mktemp("api"))
    yield start_api(factory, register_rate=0)
    finish()


def txt_values(server, acct):
    r = server.query(acct["fulldomain"] + ".", "TXT")
    return sorted(b"".join(rd.strings).decode() for rrset in r.answer for rd in rrset)


# ---- /register -------------------------------------------------------------

@pytest.mark.parametrize("body", [None, "", "{}", "null", " {} ", '{"unknown": [1, {"x": null}]}',
                                  '{"allowfrom": null}', '{"allowfrom": []}',
                                  '{"subdomain": "ignored", "txt": "ignored", "password": "x"}'])
def test_register_exact_body(api, body):
    status, headers, data = api.call("POST", "/register", body)
    assert status == 201
    assert headers["content-type"] == "application/json"
    m = re.fullmatch(rb'\{"username":"(' + UUID.encode() + rb')","password":"([A-Za-z0-9_-]{40})",'
                     rb'"fulldomain":"(' + UUID.encode() + rb')\.' + re.escape(APEX.encode()) +
                     rb'","subdomain":"(' + UUID.encode() + rb')","allowfrom":\[\]\}', data)
    assert m, data
    assert m.group(3) == m.group(4) and m.group(1) != m.group(4)


def test_register_allowfrom_echo(api):
    body = '{"AllowFrom": ["192.0.2.1/24", "[2001:db8::]/32", "10.0.0.0/008", "::ffff:1.2.3.0/120"]}'
    status, _, data = api.call("POST", "/register", body, {"Content-Type": "text/plain"})
    assert status == 201
    assert data.endswith(b',"allowfrom":["192.0.2.1/24","2001:db8::/32","10.0.0.0/008",'
                         b'"::ffff:1.2.3.0/120"]}')


def test_register_last_key_wins(api):
    acct = api.register('{"allowfrom": ["192.0.2.0/24"], "ALLOWFROM": ["198.51.100.0/24"]}')
    assert acct["allowfrom"] == ["198.51.100.0/24"]


@pytest.mark.parametrize("body", ["{", "[]", '"x"', "1", "  ", '{"allowfrom": "192.0.2.0/24"}',
                                  '{"allowfrom": [1]}', '{"allowfrom": {}}', '{"txt": 5}',
                                  '{"username": "not-a-uuid"}', '{"password": true}', "{} {}",
                                  '{"allowfrom": []} x'])
def test_register_malformed(api, body):
    before = api.accounts()
    status, headers, data = api.call("POST", "/register", body)
    assert (status, data) == (400, MALFORMED)
    assert headers["content-type"] == "application/json"
    assert api.accounts() == before


@pytest.mark.parametrize("cidr", ["192.0.2.1", "192.0.2.0/33", "300.0.0.0/8", "", None,
                                  "01.2.3.4/32", "192.0.2.0/", "2001:db8::/129", "fe80::1%lo/64"])
def test_register_bad_cidr(api, cidr):
    before = api.accounts()
    body = json.dumps({"allowfrom": ["192.0.2.0/24", cidr]})
    status, _, data = api.call("POST", "/register", body)
    assert (status, data) == (400, BAD_CIDR)
    assert api.accounts() == before


def test_register_disabled_is_unknown_route(make_server):
    a = start_api(make_server, disable_registration=True)
    assert a.call("POST", "/register", "{}")[::2] == a.call("POST", "/nowhere", "{}")[::2]
    assert a.call("POST", "/register")[0] == 404


def test_register_rate_limited(make_server):
    a = start_api(make_server, register_rate=2)
    assert [a.call("POST", "/register")[0] for _ in range(2)] == [201, 201]
    status, _, data = a.call("POST", "/register")
    assert (status, data) == (429, b'{"error": "rate_limited"}')


# ---- /update ---------------------------------------------------------------

def test_update_exact_reply_and_serial(api):
    acct = api.register()
    txt = value(1)
    status, headers, data = api.update(acct, txt)
    assert status == 200
    assert data == b'{"txt": "' + txt.encode() + b'"}'
    assert headers["content-type"] == "application/json"
    assert int(headers["x-acmens-serial"]) == api.server.serial()
    assert txt_values(api.server, acct) == [txt]


def test_update_keeps_newest_two(api):
    acct = api.register()
    for n in range(10, 14):
        assert api.update(acct, value(n))[0] == 200
    assert txt_values(api.server, acct) == sorted([value(12), value(13)])
    # Re-sending an old value makes it the newest again.
    assert api.update(acct, value(12))[0] == 200
    assert api.update(acct, value(14))[0] == 200
    assert txt_values(api.server, acct) == sorted([value(12), value(14)])


def test_update_username_forms(api):
    acct = api.register()
    u = acct["username"]
    for n, form in enumerate([u.upper(), "{" + u + "}", "urn:uuid:" + u, u.replace("-", "")]):
        status, _, data = api.call("POST", "/update", json.dumps(
            {"subdomain": acct["subdomain"], "txt": value(20 + n)}), api.creds(acct, user=form))
        assert (status, data[:8]) == (200, b'{"txt": '), form


@pytest.mark.parametrize("case", ["no_user", "bad_user", "unknown_user", "short_key", "long_key",
                                  "bad_char_key", "wrong_key", "no_key", "other_sub", "upper_sub",
                                  "no_body", "bad_json", "array_body", "no_sub", "sub_number"])
def test_update_forbidden(api, case):
    acct = api.register()
    other = api.register()
    txt = value(2)
    body = json.dumps({"subdomain": acct["subdomain"], "txt": txt})
    headers = api.creds(acct)
    if case == "no_user":
        del headers["X-Api-User"]
    elif case == "bad_user":
        headers["X-Api-User"] = "admin"
    elif case == "unknown_user":
        headers["X-Api-User"] = other["username"][:-1] + ("0" if other["username"][-1] != "0" else "1")
    elif case == "short_key":
        headers["X-Api-Key"] = acct["password"][:-1]
    elif case == "long_key":
        headers["X-Api-Key"] = acct["password"] + "A"
    elif case == "bad_char_key":
        headers["X-Api-Key"] = acct["password"][:-1] + "+"
    elif case == "wrong_key":
        headers["X-Api-Key"] = other["password"]
    elif case == "no_key":
        del headers["X-Api-Key"]
    elif case == "other_sub":
        body = json.dumps({"subdomain": other["subdomain"], "txt": txt})
    elif case == "upper_sub":
        body = json.dumps({"subdomain": acct["subdomain"].upper(), "txt": txt})
    elif case == "no_body":
        body = None
    elif case == "bad_json":
        body = '{"subdomain": "' + acct["subdomain"] + '", "txt": '
    elif case == "array_body":
        body = json.dumps([acct["subdomain"], txt])
    elif case == "no_sub":
        body = json.dumps({"txt": txt})
    elif case == "sub_number":
        body = json.dumps({"subdomain": 5, "txt": txt})
    status, headers_out, data = api.call("POST", "/update", body, headers)
    assert (status, data) == (401, FORBIDDEN)
    assert headers_out["content-type"] == "application/json"
    assert "x-acmens-serial" not in headers_out
    assert txt_values(api.server, acct) == []


def test_update_go_decoder_rules(api):
    acct = api.register()
    sub, txt = acct["subdomain"], value(3)
    # Data after the first JSON value is never read.
    status, _, _ = api.call("POST", "/update", json.dumps({"subdomain": sub, "txt": txt}) + " junk{",
                            api.creds(acct))
    assert status == 200
    # Keys match case-insensitively; the last one wins.
    status, _, data = api.call("POST", "/update", json.dumps(
        {"SubDomain": "nope", "SUBDOMAIN": sub, "TXT": value(4)}), api.creds(acct))
    assert (status, data) == (200, b'{"txt": "' + value(4).encode() + b'"}')
    # A Username that is no UUID stops Go's decoding: later fields stay empty.
    status, _, data = api.call("POST", "/update", '{"subdomain": "%s", "username": "x", "txt": "%s"}'
                               % (sub, value(5)), api.creds(acct))
    assert (status, data) == (400, BAD_TXT)
    status, _, data = api.call("POST", "/update", '{"username": "x", "subdomain": "%s", "txt": "%s"}'
                               % (sub, value(5)), api.creds(acct))
    assert (status, data) == (401, FORBIDDEN)


@pytest.mark.parametrize("txt", ["", "short", value(6)[:-1], value(6) + "A", value(6)[:-1] + "=",
                                 value(6)[:-1] + ".", None, 43, "é" * 43])
def test_update_bad_txt(api, txt):
    acct = api.register()
    body = json.dumps({"subdomain": acct["subdomain"], "txt": txt}, ensure_ascii=False)
    status, _, data = api.call("POST", "/update", body, api.creds(acct))
    assert (status, data) == (400, BAD_TXT)
    assert txt_values(api.server, acct) == []


def test_update_invalid_utf8_is_replaced_as_go_does(api):
    acct = api.register()
    body = b'{"subdomain": "' + acct["subdomain"].encode() + b'", "txt": "\xff' + b"A" * 42 + b'"}'
    status, _, data = api.call("POST", "/update", body, api.creds(acct))
    assert (status, data) == (400, BAD_TXT)


def test_update_allowfrom(api):
    inside = api.register('{"allowfrom": ["127.0.0.0/8"]}')
    assert api.update(inside, value(7))[0] == 200
    assert api.update(inside, value(7), host="::1")[::2] == (401, FORBIDDEN)
    outside = api.register('{"allowfrom": ["192.0.2.0/24", "[2001:db8::]/32"]}')
    assert api.update(outside, value(8))[::2] == (401, FORBIDDEN)
    v6 = api.register('{"allowfrom": ["[::1]/128"]}')
    assert api.update(v6, value(9), host="::1")[0] == 200
    # Host bits set, as acme-dns allows: the network still matches.
    loose = api.register('{"allowfrom": ["127.0.0.99/8"]}')
    assert api.update(loose, value(9))[0] == 200


# ---- /health and errors ----------------------------------------------------

def test_health(api):
    status, headers, data = api.call("GET", "/health")
    assert (status, data) == (200, b"")
    assert headers["content-length"] == "0"
    assert "content-type" not in headers


def test_keys_never_logged(api):
    acct = api.register()
    api.update(acct, value(30))
    api.call("POST", "/update", "{}", api.creds(acct, key=acct["password"][::-1]))
    log = api.server.read_log()
    assert acct["password"] not in log and acct["password"][::-1] not in log


def test_update_expiry_and_limit_follow_config(make_server):
    a = start_api(make_server, txt_limit=3, txt_expiry=600)
    acct = a.register()
    for n in range(40, 44):
        assert a.update(acct, value(n))[0] == 200
    assert txt_values(a.server, acct) == sorted(value(n) for n in range(41, 44))
    status, _, data = a.call("GET", f"/v1/accounts/{acct['subdomain']}/txt", headers=a.creds(acct))
    assert status == 200
    # At least the configured lifetime: whole-second clocks add up to one.
    assert all(v["expires"] - v["set"] in (600, 601) for v in json.loads(data)["values"])
