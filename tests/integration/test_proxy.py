# SPDX-License-Identifier: ISC
"""The client address behind proxies: http.proxy_header is read only from a
trusted peer and walked from the right past trusted proxies; an entry that
is not an address ends the walk at the last trusted hop. The address the
server settled on is the "source" of the account's audit event, and what
allowfrom and the registration limit see."""

import http.client
import json

import pytest

from conftest import start_http

TRUSTED = ["127.0.0.1/32", "::1/128", "192.0.2.0/24"]
PEER = "127.0.0.1"

# (header lines, the client the server must settle on); the peer is
# 127.0.0.1, trusted, and 192.0.2.0/24 stands for proxies behind it.
CASES = [
    ([], PEER),
    (["198.51.100.7"], "198.51.100.7"),
    # a client's own entries are left of the address its first proxy saw
    (["10.1.1.1, 198.51.100.7"], "198.51.100.7"),
    (["10.1.1.1,198.51.100.7, 192.0.2.10"], "198.51.100.7"),
    (["203.0.113.9, 10.1.1.1, 192.0.2.10, 192.0.2.11"], "10.1.1.1"),
    # every entry trusted: the left-most
    (["192.0.2.10, 192.0.2.11"], "192.0.2.10"),
    (["127.0.0.1"], PEER),
    # not an address: the walk ends at the last trusted hop
    (["198.51.100.7, garbage"], PEER),
    (["198.51.100.7, garbage, 192.0.2.10"], "192.0.2.10"),
    (["garbage, 198.51.100.8"], "198.51.100.8"),
    (["198.51.100.7, unknown"], PEER),
    ([""], PEER),
    (["198.51.100.7,"], PEER),
    (["198.51.100.7,,192.0.2.10"], "192.0.2.10"),
    ([", 198.51.100.9"], "198.51.100.9"),
    (["198.51.100.7 203.0.113.1"], PEER),
    (["for=198.51.100.7"], PEER),
    (["fe80::1%eth0"], PEER),
    (["[192.0.2.10]"], PEER),
    (["198.51.100.7/32"], PEER),
    # IPv6, and ports as some proxies write them
    (["2001:db8::5"], "2001:db8::5"),
    (["  2001:db8::5\t"], "2001:db8::5"),
    (["[2001:db8::6]:443"], "2001:db8::6"),
    (["[2001:db8::6]"], "2001:db8::6"),
    (["10.1.1.1, 2001:db8::7, 192.0.2.10"], "2001:db8::7"),
    (["198.51.100.7:5678"], "198.51.100.7"),
    (["198.51.100.7:65536"], PEER),
    (["198.51.100.7:"], PEER),
    (["198.51.100.7:80:80"], PEER),
    (["[2001:db8::6]x"], PEER),
    (["[2001:db8::6]:99999"], PEER),
    # several header lines are one list, in order
    (["10.1.1.1", "198.51.100.7"], "198.51.100.7"),
    (["198.51.100.7", "192.0.2.10"], "198.51.100.7"),
    (["198.51.100.7, 192.0.2.10", "192.0.2.11"], "198.51.100.7"),
    (["198.51.100.7", "garbage"], PEER),
    (["garbage", "198.51.100.8"], "198.51.100.8"),
]


def post(api, path, header_lines, body=b"{}", name="X-Forwarded-For", host="127.0.0.1",
         extra=None):
    """POST with the header repeated once per line; (status, JSON body)."""
    conn = http.client.HTTPConnection(host, api.server.http_port, timeout=10)
    try:
        conn.putrequest("POST", path)
        for line in header_lines:
            conn.putheader(name, line)
        for k, v in (extra or {}).items():
            conn.putheader(k, v)
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        r = conn.getresponse()
        data = r.read()
    finally:
        conn.close()
    return r.status, json.loads(data) if data else None


def client_of(api, header_lines, **kw):
    """The source the audit log recorded for a registration sent so."""
    status, acct = post(api, "/v1/register", header_lines, **kw)
    assert status == 201, acct
    r = api.admin("GET", "/audit?subdomain=" + acct["subdomain"])
    assert r.status_code == 200, r.text
    sources = {e["source"] for e in r.json()["events"]}
    assert len(sources) == 1, r.json()
    return sources.pop()


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    from conftest import _server_factory
    factory, finish = _server_factory(tmp_path_factory.mktemp("proxy"))
    a = start_http(factory, proxy_header="X-Forwarded-For", trusted_proxies=TRUSTED,
                   register_rate=0, register_rate_global=0)
    yield a
    finish()


@pytest.mark.parametrize("lines,want", CASES, ids=[" | ".join(c[0]) or "none" for c in CASES])
def test_client_address(api, lines, want):
    assert client_of(api, lines) == want


def test_header_name_any_case(api):
    assert client_of(api, ["198.51.100.7"], name="x-forwarded-for") == "198.51.100.7"
    # another header with a similar name is not the one configured
    assert client_of(api, ["198.51.100.7"], name="X-Forwarded-For-Not") == PEER


def test_ipv6_peer(make_server):
    a = start_http(make_server, proxy_header="X-Forwarded-For", trusted_proxies=TRUSTED,
                   register_rate=0)
    port = a.server.http_port
    a.server.stop()
    a.server.reconfigure(http=dict(a.server.cfg["http"],
                                   listen=[f"127.0.0.1:{port}", f"[::1]:{port}"]))
    a.server.start()
    assert client_of(a, ["198.51.100.7"], host="::1") == "198.51.100.7"
    assert client_of(a, [], host="::1") == "::1"
    assert client_of(a, ["garbage"], host="::1") == "::1"


def test_untrusted_peer_header_ignored(make_server):
    a = start_http(make_server, proxy_header="X-Forwarded-For",
                   trusted_proxies=["192.0.2.0/24"], register_rate=0)
    for lines in (["198.51.100.7"], ["192.0.2.10"], ["10.1.1.1", "198.51.100.7"]):
        assert client_of(a, lines) == PEER


def test_spoofed_leftmost_entry_does_not_pass_allowfrom(api):
    status, acct = post(api, "/v1/register", [], body=b'{"allowfrom": ["10.0.0.0/8"]}')
    assert status == 201, acct
    creds = {"X-Api-User": acct["username"], "X-Api-Key": acct["password"]}
    body = json.dumps({"subdomain": acct["subdomain"], "txt": "a" * 43}).encode()
    # the client (198.51.100.7) put 10.1.1.1 in front of what its proxy added
    assert post(api, "/update", ["10.1.1.1, 198.51.100.7"], body=body, extra=creds) == \
        (401, {"error": "forbidden"})
    assert post(api, "/update", ["10.1.1.1", "198.51.100.7"], body=body, extra=creds) == \
        (401, {"error": "forbidden"})
    assert post(api, "/update", ["10.1.1.1, garbage"], body=body, extra=creds) == \
        (401, {"error": "forbidden"})
    # the address the trusted proxy saw is in the range
    assert post(api, "/update", ["198.51.100.7, 10.1.1.1"], body=body, extra=creds) == \
        (200, {"txt": "a" * 43})
    assert post(api, "/update", ["10.1.1.1, 192.0.2.10"], body=body, extra=creds)[0] == 200


def test_rotating_leftmost_entry_does_not_pass_rate_limit(make_server):
    a = start_http(make_server, proxy_header="X-Forwarded-For", trusted_proxies=TRUSTED,
                   register_rate=1, register_rate_global=0)
    statuses = [post(a, "/register", [f"10.0.{i}.1, 198.51.100.7"])[0] for i in range(20)]
    assert statuses[0] == 201
    assert statuses[1:] == [429] * 19
    status, body = post(a, "/register", ["10.0.99.1, 198.51.100.7"])
    assert (status, body) == (429, {"error": "rate_limited"})
    # a client behind the same proxy with its own address is served
    status, acct = post(a, "/register", ["198.51.100.99"])
    assert status == 201, acct
    assert a.admin("GET", "/accounts").json()["accounts"].__len__() == 2


def test_proxy_header_without_trusted_proxies_is_refused(make_server, tmp_path):
    s = make_server(start=False, http={"proxy_header": "X-Forwarded-For"})
    p = s.ctl("check-config", check=False, json_out=False)
    assert p.returncode != 0
    assert "http.proxy_header" in p.stderr and "trusted_proxies" in p.stderr, p.stderr
    s.start(wait=False)
    assert s.proc.wait(10) != 0
    assert "requires http.trusted_proxies" in s.read_log()
