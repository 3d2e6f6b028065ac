# SPDX-License-Identifier: ISC
"""The HTTP server core: routing errors, limits, TLS and its reload,
keep-alive, the connection cap, CORS and the trusted proxy header. Routes are
only used as acme-dns documents them: GET /health -> 200, POST /register ->
201."""

import hashlib
import json
import os
import signal
import socket
import ssl
import struct
import subprocess
import time

import pytest
import requests

# The tests make their own self-signed certificates and need a TLS 1.1 client.
pytestmark = [
    pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning"),
    pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1_1 is deprecated"),
]


def make_cert(directory, name):
    """A self-signed certificate and key for 127.0.0.1; returns their paths."""
    cert = os.path.join(directory, f"{name}.crt")
    key = os.path.join(directory, f"{name}.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj",
                    f"/CN={name}.test", "-keyout", key, "-out", cert],
                   check=True, capture_output=True)
    return cert, key


def der_fingerprint(pem_path):
    with open(pem_path) as f:
        return hashlib.sha256(ssl.PEM_cert_to_DER_cert(f.read())).hexdigest()


def served_fingerprint(port, **ctx_opts):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    for k, v in ctx_opts.items():
        setattr(ctx, k, v)
    with socket.create_connection(("127.0.0.1", port), timeout=2) as raw:
        with ctx.wrap_socket(raw) as s:
            return hashlib.sha256(s.getpeercert(binary_form=True)).hexdigest()


def read_responses(sock, count, timeout=2.0):
    """The raw bytes of count HTTP responses, each with a Content-Length."""
    sock.settimeout(timeout)
    data = b""
    responses = []
    while len(responses) < count:
        head_end = data.find(b"\r\n\r\n")
        if head_end >= 0:
            head = data[:head_end].decode()
            length = 0
            for line in head.split("\r\n")[1:]:
                k, _, v = line.partition(":")
                if k.strip().lower() == "content-length":
                    length = int(v)
            if len(data) >= head_end + 4 + length:
                responses.append(data[:head_end + 4 + length])
                data = data[head_end + 4 + length:]
                continue
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return responses


def status_of(response):
    return int(response.split(b" ", 2)[1])


GET_HEALTH = b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n"


def test_unknown_route_is_json_404(make_server):
    s = make_server(http={})
    r = requests.get(s.http_url + "/no/such/route", timeout=5)
    assert r.status_code == 404
    assert r.headers["Content-Type"] == "application/json"
    assert r.headers["Server"] == "acmens"
    assert r.json()["error"] == "not_found"
    assert requests.get(s.http_url + "/health", timeout=5).status_code == 200


def test_wrong_method_is_405_with_allow(make_server):
    s = make_server(http={})
    r = requests.post(s.http_url + "/health", timeout=5)
    assert r.status_code == 405
    assert r.json()["error"] == "method_not_allowed"
    allow = [m.strip() for m in r.headers["Allow"].split(",")]
    assert "GET" in allow and "POST" not in allow
    r = requests.get(s.http_url + "/register", timeout=5)
    assert r.status_code == 405
    assert "POST" in r.headers["Allow"]


def test_body_over_max_body_is_413(make_server):
    # evhttp 2.1 answers this itself (before any route runs), so only the
    # status is ours to check, not the JSON body.
    s = make_server(http={"max_body": 1024})
    r = requests.post(s.http_url + "/register", data=b"x" * 4096, timeout=5)
    assert r.status_code == 413
    r = requests.post(s.http_url + "/register", data=b"{}", timeout=5)
    assert r.status_code == 201


def test_https_and_tls_versions(make_server, tmp_path):
    cert, key = make_cert(str(tmp_path), "a")
    s = make_server(http={"tls": {"cert": cert, "key": key}})
    assert s.http_url.startswith("https://")
    assert requests.get(s.http_url + "/health", verify=False, timeout=5).status_code == 200
    assert served_fingerprint(s.http_port, maximum_version=ssl.TLSVersion.TLSv1_2) \
        == der_fingerprint(cert)

    # A client that would speak TLS 1.1 is turned away by the server (the
    # low security level only lets this client offer it).
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    ctx.minimum_version = ssl.TLSVersion.TLSv1_1
    ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    with socket.create_connection(("127.0.0.1", s.http_port), timeout=2) as raw:
        with pytest.raises(ssl.SSLError) as e:
            ctx.wrap_socket(raw)
    assert "PROTOCOL_VERSION" in str(e.value).upper()

    # plain HTTP to the TLS port gets nothing useful
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"http://127.0.0.1:{s.http_port}/health", timeout=5)


def test_certificate_reload_on_sighup(make_server, tmp_path):
    a_cert, a_key = make_cert(str(tmp_path), "a")
    b_cert, b_key = make_cert(str(tmp_path), "b")
    cert, key = os.path.join(str(tmp_path), "live.crt"), os.path.join(str(tmp_path), "live.key")
    for src, dst in ((a_cert, cert), (a_key, key)):
        with open(src, "rb") as f, open(dst, "wb") as g:
            g.write(f.read())
    s = make_server(http={"tls": {"cert": cert, "key": key}})
    assert served_fingerprint(s.http_port) == der_fingerprint(a_cert)

    # an open connection keeps working across the reload
    session = requests.Session()
    assert session.get(s.http_url + "/health", verify=False, timeout=5).status_code == 200

    for src, dst in ((b_cert, cert), (b_key, key)):
        with open(src, "rb") as f, open(dst, "wb") as g:
            g.write(f.read())
    s.proc.send_signal(signal.SIGHUP)
    deadline = time.time() + 5
    while served_fingerprint(s.http_port) != der_fingerprint(b_cert):
        assert time.time() < deadline, "the new certificate was not served:\n" + s.read_log()
        time.sleep(0.05)
    assert session.get(s.http_url + "/health", verify=False, timeout=5).status_code == 200

    # a certificate that does not match the key is refused; B stays
    with open(a_cert, "rb") as f, open(cert, "wb") as g:
        g.write(f.read())
    s.proc.send_signal(signal.SIGHUP)
    deadline = time.time() + 5
    while "reload failed" not in s.read_log():
        assert time.time() < deadline
        time.sleep(0.05)
    assert served_fingerprint(s.http_port) == der_fingerprint(b_cert)


def test_keep_alive(make_server):
    s = make_server(http={})
    # two pipelined requests, two answers on one connection
    with socket.create_connection(("127.0.0.1", s.http_port), timeout=2) as sock:
        sock.sendall(GET_HEALTH + b"GET /nope HTTP/1.1\r\nHost: t\r\n\r\n")
        responses = read_responses(sock, 2)
        assert [status_of(r) for r in responses] == [200, 404]
        # and the connection is still open for a third
        sock.sendall(GET_HEALTH)
        assert [status_of(r) for r in read_responses(sock, 1)] == [200]

    session = requests.Session()
    for _ in range(3):
        assert session.get(s.http_url + "/health", timeout=5).status_code == 200
    pool = session.get_adapter(s.http_url).poolmanager.connection_from_url(s.http_url)
    assert pool.num_connections == 1


def test_connection_cap(make_server):
    s = make_server(http={"max_connections": 2})
    held = [socket.create_connection(("127.0.0.1", s.http_port), timeout=2) for _ in range(2)]
    try:
        for sock in held:
            sock.sendall(GET_HEALTH)
            assert status_of(read_responses(sock, 1)[0]) == 200
        with socket.create_connection(("127.0.0.1", s.http_port), timeout=2) as third:
            third.sendall(GET_HEALTH)
            reply = read_responses(third, 1)[0]
            assert status_of(reply) == 503
            head, _, body = reply.partition(b"\r\n\r\n")
            assert b"Connection: close" in head
            assert json.loads(body)["error"] == "too_many_connections"
        # a slot frees when a connection closes
        held.pop().close()
        deadline = time.time() + 5
        while True:
            r = requests.get(s.http_url + "/health", timeout=5)
            if r.status_code == 200:
                break
            assert r.status_code == 503 and time.time() < deadline
            time.sleep(0.05)
    finally:
        for sock in held:
            sock.close()


def test_cors(make_server):
    ui = "https://ui.example"
    s = make_server(http={"cors_origins": [ui]})
    r = requests.get(s.http_url + "/health", headers={"Origin": ui}, timeout=5)
    assert r.headers["Access-Control-Allow-Origin"] == ui
    assert "Origin" in r.headers["Vary"]
    r = requests.get(s.http_url + "/health", headers={"Origin": "https://evil.example"},
                     timeout=5)
    assert "Access-Control-Allow-Origin" not in r.headers
    r = requests.get(s.http_url + "/health", timeout=5)
    assert "Access-Control-Allow-Origin" not in r.headers

    r = requests.options(s.http_url + "/register",
                         headers={"Origin": ui, "Access-Control-Request-Method": "POST"},
                         timeout=5)
    assert r.status_code == 204
    assert r.headers["Access-Control-Allow-Origin"] == ui
    assert "POST" in r.headers["Access-Control-Allow-Methods"]
    assert "X-Api-Key" in r.headers["Access-Control-Allow-Headers"]
    r = requests.options(s.http_url + "/register",
                         headers={"Origin": "https://evil.example"}, timeout=5)
    assert r.status_code == 204
    assert "Access-Control-Allow-Origin" not in r.headers


def test_cors_not_configured(make_server):
    s = make_server(http={})
    r = requests.get(s.http_url + "/health", headers={"Origin": "https://ui.example"},
                     timeout=5)
    assert "Access-Control-Allow-Origin" not in r.headers


def register_from(s, forwarded):
    return requests.post(s.http_url + "/register", data=b"{}",
                         headers={"X-Forwarded-For": forwarded}, timeout=5).status_code


def test_proxy_header_from_trusted_proxy(make_server):
    # one registration a minute per client address shows whose address counts
    s = make_server(http={"proxy_header": "X-Forwarded-For",
                          "trusted_proxies": ["127.0.0.0/8"], "register_rate": 1})
    assert register_from(s, "192.0.2.1") == 201
    assert register_from(s, "192.0.2.1, 127.0.0.1") == 429
    assert register_from(s, "198.51.100.7") == 201
    # read from the right: the entry the trusted proxy added is the client
    assert register_from(s, "[2001:db8::1]:443, 192.0.2.1") == 429
    assert register_from(s, "192.0.2.1, [2001:db8::1]:443") == 201
    # not an address: the peer (127.0.0.1) is the client
    assert register_from(s, "unknown") == 201
    assert register_from(s, "garbage") == 429


def test_proxy_header_ignored_from_untrusted_peer(make_server):
    s = make_server(http={"proxy_header": "X-Forwarded-For",
                          "trusted_proxies": ["192.0.2.0/24"], "register_rate": 1})
    assert register_from(s, "198.51.100.1") == 201
    # the header is ignored: both come from 127.0.0.1
    assert register_from(s, "198.51.100.2") == 429


def wait_for_slot(s, deadline_s=5.0):
    """A fresh connection gets 200 (the cap's count came back down)."""
    deadline = time.time() + deadline_s
    while True:
        with socket.create_connection(("127.0.0.1", s.http_port), timeout=2) as sock:
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            got = read_responses(sock, 1)
        if got and status_of(got[0]) == 200:
            return
        assert time.time() < deadline, "the connection count did not come back down"
        time.sleep(0.05)


def test_connection_cap_counts_every_way_of_closing(make_server):
    # With a cap of one, a connection the server forgot to uncount would
    # lock every later client out.
    s = make_server(http={"max_connections": 1, "timeout": 1, "max_body": 1024})

    def admitted():
        sock = socket.create_connection(("127.0.0.1", s.http_port), timeout=3)
        sock.sendall(GET_HEALTH)
        assert status_of(read_responses(sock, 1)[0]) == 200
        return sock

    endings = {
        "client closes": lambda c: None,
        "client closes mid-request": lambda c: c.sendall(b"GET /hea"),
        "Connection: close": lambda c: (
            c.sendall(b"GET /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"),
            read_responses(c, 1)),
        "HTTP/1.0": lambda c: (c.sendall(b"GET /health HTTP/1.0\r\n\r\n"),
                               read_responses(c, 1)),
        "idle timeout": lambda c: c.recv(1) == b"" or None,
        "body too large": lambda c: (
            c.sendall(b"POST /register HTTP/1.1\r\nHost: t\r\nContent-Length: 4096\r\n\r\n"
                      + b"x" * 4096), read_responses(c, 1)),
        "malformed request": lambda c: (c.sendall(b"NONSENSE\r\n\r\n"), c.recv(4096)),
        "reset": lambda c: c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                        struct.pack("ii", 1, 0)),
        "write then close": lambda c: c.sendall(
            b"POST /register HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n{}"),
    }
    for name, ending in endings.items():
        for _ in range(2):
            c = admitted()
            c.settimeout(3)
            ending(c)
            c.close()
            wait_for_slot(s)


def test_reload_swaps_settings(make_server, tmp_path):
    ui = "https://ui.example"
    s = make_server(http={"max_connections": 1})
    held = socket.create_connection(("127.0.0.1", s.http_port), timeout=2)
    held.sendall(GET_HEALTH)
    assert status_of(read_responses(held, 1)[0]) == 200

    s.reconfigure(http={"max_connections": 5, "cors_origins": [ui]})
    s.proc.send_signal(signal.SIGHUP)
    deadline = time.time() + 5
    while True:
        r = requests.get(s.http_url + "/health", headers={"Origin": ui}, timeout=5)
        if r.status_code == 200 and r.headers.get("Access-Control-Allow-Origin") == ui:
            break
        assert time.time() < deadline, s.read_log()
        time.sleep(0.05)
    # the connection from before the reload still works
    held.sendall(GET_HEALTH)
    assert status_of(read_responses(held, 1)[0]) == 200
    held.close()

    # an admin token file that cannot be read fails the whole reload
    s.reconfigure(http={"admin_token_file": str(tmp_path / "missing")})
    s.proc.send_signal(signal.SIGHUP)
    deadline = time.time() + 5
    while "reload failed" not in s.read_log():
        assert time.time() < deadline
        time.sleep(0.05)
    assert "admin_token_file" in s.read_log()
    r = requests.get(s.http_url + "/health", headers={"Origin": ui}, timeout=5)
    assert r.headers.get("Access-Control-Allow-Origin") == ui


def test_head_sends_headers_without_a_body(make_server):
    s = make_server(http={})
    with socket.create_connection(("127.0.0.1", s.http_port), timeout=5) as c:
        c.sendall(b"HEAD /no/such/route HTTP/1.1\r\nHost: t\r\n\r\n"
                  b"GET /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            chunk = c.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 404")
    assert b"Content-Length: 21" in head       # the GET's length, RFC 9110 9.3.2
    # The next bytes are the second response: the HEAD carried no body.
    assert rest.startswith(b"HTTP/1.1 200")


@pytest.mark.parametrize("method", ["PATCH", "TRACE"])
def test_other_methods_get_405_on_known_paths(make_server, method):
    s = make_server(http={})
    r = requests.request(method, s.http_url + "/health", timeout=5)
    assert r.status_code == 405
    assert r.json()["error"] == "method_not_allowed"
    assert "GET" in r.headers["Allow"]
    r = requests.request(method, s.http_url + "/no/such/route", timeout=5)
    assert r.status_code == 404 and r.json()["error"] == "not_found"
