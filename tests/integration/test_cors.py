# SPDX-License-Identifier: ISC
"""CORS origins with one "*" as acme-dns (rs/cors) takes them: a prefix and
a suffix that an Origin must both hold, without case, and nothing more; on
plain replies and on preflights. A second "*" is a configuration error."""

import subprocess

import pytest
import requests

from conftest import ACMENSCTL, ACMENSD, _server_factory, free_port, write_config

WILD = "https://*.example.org"
PORTS = "http://localhost:*"


def allow(s, origin, method="GET"):
    """Access-Control-Allow-Origin for a request (or, with method OPTIONS, a
    preflight) from origin; None when absent."""
    if method == "OPTIONS":
        r = requests.options(s.http_url + "/register",
                             headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
                             timeout=5)
        assert r.status_code == 204
        if "Access-Control-Allow-Origin" in r.headers:
            assert "POST" in r.headers["Access-Control-Allow-Methods"]
            assert "X-Api-Key" in r.headers["Access-Control-Allow-Headers"]
        else:
            assert "Access-Control-Allow-Methods" not in r.headers
    else:
        r = requests.get(s.http_url + "/health", headers={"Origin": origin}, timeout=5)
        assert r.status_code == 200
    assert "Origin" in r.headers["Vary"]
    return r.headers.get("Access-Control-Allow-Origin")


MATCHING = [
    "https://a.example.org",
    "https://a.b.example.org",
    "HTTPS://UI.EXAMPLE.ORG",            # rs/cors lowercases the origin
    "https://.example.org",              # the "*" may stand for nothing
    "http://localhost:8080",
    "http://localhost:",
    "https://ui.example.net",            # exact entry beside the patterns
]

NOT_MATCHING = [
    "https://example.org",               # the dot before the suffix is required
    "http://a.example.org",              # another scheme
    "https://a.example.org.evil.com",    # the suffix must end the origin
    "https://a.example.org:8443",        # a port is part of the origin
    "https://evilexample.org",
    "https:/a.example.org",
    "https://a.example.or",
    "http://localhost",                  # prefix and suffix may not overlap
    "https://localhost:8080",
    "https://a.example.net",
    "null",
]


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    factory, finish = _server_factory(tmp_path_factory.mktemp("cors"))
    yield factory(http={"cors_origins": [WILD, PORTS, "https://ui.example.net"]})
    finish()


@pytest.mark.parametrize("method", ["GET", "OPTIONS"])
@pytest.mark.parametrize("origin", MATCHING)
def test_matching_origin_is_echoed(srv, origin, method):
    assert allow(srv, origin, method) == origin


@pytest.mark.parametrize("method", ["GET", "OPTIONS"])
@pytest.mark.parametrize("origin", NOT_MATCHING)
def test_other_origin_is_not_allowed(srv, origin, method):
    assert allow(srv, origin, method) is None


def test_suffix_only_and_prefix_only(make_server):
    """"*.example.org" leaves the scheme open; "https://*" any https origin."""
    s = make_server(http={"cors_origins": ["*.example.org"]})
    assert allow(s, "http://a.example.org") == "http://a.example.org"
    assert allow(s, "https://a.example.org", "OPTIONS") == "https://a.example.org"
    assert allow(s, "https://a.example.org.evil.com") is None
    s = make_server(http={"cors_origins": ["https://*"]})
    assert allow(s, "https://anything.example") == "https://anything.example"
    assert allow(s, "http://anything.example", "OPTIONS") is None


def test_star_alone_allows_every_origin(make_server):
    s = make_server(http={"cors_origins": ["https://*.example.org", "*"]})
    r = requests.get(s.http_url + "/health", headers={"Origin": "https://x.test"}, timeout=5)
    assert r.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("entry,message", [
    ("https://*.*.example.org", 'has more than one "*"'),
    ("*://*", 'has more than one "*"'),
    ("https://*.example.org/", 'invalid origin "https://*.example.org/"'),
    ("a.*.example.org", 'invalid origin "a.*.example.org"'),
])
def test_bad_wildcard_entry_is_a_config_error(tmp_path, entry, message):
    """check-config and acmensd both refuse the entry, naming it."""
    cfg = tmp_path / "acmens.yaml"
    write_config(str(cfg), free_port(), str(tmp_path / "store"),
                 http={"cors_origins": [entry]}, http_port=free_port())
    p = subprocess.run([ACMENSCTL, "-c", str(cfg), "check-config"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 3 and "http.cors_origins" in p.stderr and message in p.stderr, p.stderr
    p = subprocess.run([ACMENSD, "-c", str(cfg)], capture_output=True, text=True, timeout=30)
    # the daemon's log line is logfmt, which escapes the quotes
    assert p.returncode != 0 and message.replace('"', '\\"') in p.stderr, p.stderr
    assert not (tmp_path / "store").exists()
