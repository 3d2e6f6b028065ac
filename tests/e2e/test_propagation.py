# SPDX-License-Identifier: ISC
"""Writes that answer once every secondary serves them: ?wait=secondaries on
/v1 writes and http.update_waits_for_secondaries for the acme-dns POST
/update, with Knot DNS and NSD as real secondaries. A secondary is asked
right after the reply, with no sleep: the reply itself is the promise.

The secondaries' tests are skipped when knotd or nsd is not installed; the
400 cases and the zone without secondaries run anyway."""

import concurrent.futures
import json
import os
import re
import socket
import time

import pytest
import requests

from conftest import (ADMIN_TOKEN, HAVE_KNOTD, HAVE_NSD, KnotSecondary, NsdSecondary,
                      _server_factory, free_port, start_http, transfer_config, value)
from test_secondaries import Setup as SecondariesSetup, txt_values

needs_secondaries = pytest.mark.skipif(not (HAVE_KNOTD and HAVE_NSD),
                                       reason="knotd or nsd not installed")


class Setup(SecondariesSetup):
    def synced(self):
        """Wait (bounded) until both secondaries serve the primary's serial."""
        self.wait_synced(self.srv.serial(), timeout=15.0)

    def add_waiting(self, acct, val, query="?wait=secondaries", timeout=30):
        return self.api.call("POST", f"/v1/accounts/{acct['subdomain']}/txt{query}",
                             {"value": val}, headers=acct["headers"], timeout=timeout)

    def address(self, s):
        return f"127.0.0.1:{s.port}"


def start_setup(make_server, tmp_path, **http):
    knot_port, nsd_port = free_port(), free_port()
    while nsd_port == knot_port:
        nsd_port = free_port()
    http.setdefault("register_rate", 0)
    http.setdefault("admin_token", None)
    api = start_http(make_server, zone={"extra_dns": transfer_config([knot_port, nsd_port], 50)},
                     **http)
    secondaries = []
    for cls, port in ((KnotSecondary, knot_port), (NsdSecondary, nsd_port)):
        secondaries.append(cls(tmp_path / cls.name, port, api.server.port).start(timeout=15))
    return Setup(api, secondaries)


@pytest.fixture
def setup(make_server, tmp_path):
    s = None
    try:
        s = start_setup(make_server, tmp_path, txt_limit=64, max_connections_per_client=400,
                        max_connections=1000)
        yield s
    finally:
        for sec in (s.secondaries if s else []):
            sec.stop()


def assert_propagated(setup, body, val, fulldomain):
    assert body["propagated"] is True, body
    assert sorted(r["address"] for r in body["secondaries"]) == \
        sorted(setup.address(s) for s in setup.secondaries)
    for row in body["secondaries"]:
        assert row["current"] is True and row["serial"] >= body["serial"], body
    # no sleep: each secondary serves the value the moment the reply is read
    for s in setup.secondaries:
        assert val in txt_values(s.port, fulldomain + "."), s.name


@needs_secondaries
def test_wait_answers_once_both_secondaries_serve_it(setup):
    acct = setup.api.register()
    setup.synced()
    for n in range(3):
        start = time.time()
        r = setup.add_waiting(acct, value(n))
        took = time.time() - start
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["value"] == value(n) and body["serial"] == int(r.headers["X-Acmens-Serial"])
        assert_propagated(setup, body, value(n), acct["fulldomain"])
        assert took < 3.0, f"took {took:.2f}s"
    # the other write routes wait the same way
    r = setup.api.call("PUT", f"/v1/accounts/{acct['subdomain']}/txt?wait=secondaries&timeout=20",
                       {"values": [value(7)]}, headers=acct["headers"])
    assert r.status_code == 200, r.text
    assert_propagated(setup, r.json(), value(7), acct["fulldomain"])
    r = setup.api.call("DELETE", f"/v1/accounts/{acct['subdomain']}/txt/{value(7)}"
                       "?wait=secondaries", headers=acct["headers"])
    assert r.status_code == 200 and r.json()["propagated"] is True, r.text
    for s in setup.secondaries:
        assert txt_values(s.port, acct["fulldomain"] + ".") == [], s.name
    r = setup.api.call("POST", "/v1/batch?wait=secondaries", {"operations": [
        {"op": "add", "username": acct["username"], "key": acct["password"],
         "value": value(8)}]})
    assert r.status_code == 200 and r.json()["results"] == [{"status": 201}], r.text
    assert_propagated(setup, r.json(), value(8), acct["fulldomain"])


@needs_secondaries
def test_admin_writes_wait_too(make_server, tmp_path):
    s = None
    try:
        s = start_setup(make_server, tmp_path, admin_token=ADMIN_TOKEN)
        acct = s.api.register()
        r = s.api.call("POST", f"/v1/accounts/{acct['subdomain']}/txt?wait=secondaries",
                       {"value": value(30)}, headers=acct["headers"])
        assert_propagated(s, r.json(), value(30), acct["fulldomain"])
        sub = acct["subdomain"]
        r = s.api.admin("POST", f"/accounts/{sub}/disable?wait=secondaries&timeout=20")
        assert r.status_code == 200 and r.json()["disabled"] is True, r.text
        assert r.json()["propagated"] is True and len(r.json()["secondaries"]) == 2, r.text
        r = s.api.admin("DELETE", f"/accounts/{sub}?wait=secondaries")
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["propagated"] is True, body
        assert all(row["current"] and row["serial"] >= body["serial"]
                   for row in body["secondaries"]), body
        # no sleep: the deleted account's value is gone from both
        for sec in s.secondaries:
            assert txt_values(sec.port, acct["fulldomain"] + ".") == [], sec.name
    finally:
        for sec in (s.secondaries if s else []):
            sec.stop()


@needs_secondaries
def test_stopped_secondary_times_out_and_the_write_stands(setup):
    acct = setup.api.register()
    setup.synced()
    knot, nsd = setup.secondaries
    nsd.stop()
    start = time.time()
    r = setup.add_waiting(acct, value(20), "?wait=secondaries&timeout=2")
    took = time.time() - start
    assert r.status_code == 201, r.text
    body = r.json()
    assert 1.9 <= took < 4.0, f"took {took:.2f}s"
    assert body["propagated"] is False, body
    rows = {row["address"]: row for row in body["secondaries"]}
    assert rows[setup.address(nsd)]["current"] is False
    assert rows[setup.address(nsd)]["serial"] in (None, *range(body["serial"]))
    assert rows[setup.address(knot)]["current"] is True
    metrics = requests.get(setup.api.url + "/metrics", timeout=10).text
    assert re.search(r'^acmens_propagation_wait_seconds_count\{outcome="timeout"\} [1-9]',
                     metrics, re.M), metrics
    # committed: the primary serves it, and it outlives a restart
    assert setup.api.txt(acct) == [value(20)]
    setup.srv.stop()
    setup.srv.start()
    assert setup.api.txt(acct) == [value(20)]
    assert knot.serial() == body["serial"]


@needs_secondaries
def test_200_waiting_requests_at_once(setup):
    accts = [setup.api.register() for _ in range(40)]   # 5 values each: under 8
    setup.synced()

    def one(i):
        acct = accts[i % len(accts)]
        s = requests.Session()
        r = s.post(f"{setup.api.url}/v1/accounts/{acct['subdomain']}/txt?wait=secondaries",
                   data=json.dumps({"value": value(1000 + i)}), headers=acct["headers"],
                   timeout=60)
        s.close()
        return r

    def threads():
        return len(os.listdir(f"/proc/{setup.srv.proc.pid}/task"))

    before = threads()
    most = before
    start = time.time()
    with concurrent.futures.ThreadPoolExecutor(max_workers=200) as pool:
        futures = [pool.submit(one, i) for i in range(200)]
        while not all(f.done() for f in futures):
            most = max(most, threads())
            time.sleep(0.01)
        replies = [f.result() for f in futures]
    took = time.time() - start
    assert most == before, f"{before} threads before, {most} while waiting"
    assert [r.status_code for r in replies] == [201] * 200, \
        [r.text for r in replies if r.status_code != 201][:3]
    assert all(r.json()["propagated"] is True for r in replies), \
        [r.text for r in replies if not r.json()["propagated"]][:3]
    assert took < 20, f"took {took:.1f}s"
    last = max(r.json()["serial"] for r in replies)
    for s in setup.secondaries:
        assert s.serial() >= last
    metrics = requests.get(setup.api.url + "/metrics", timeout=10).text
    m = re.search(r'^acmens_propagation_wait_seconds_count\{outcome="propagated"\} (\d+)',
                  metrics, re.M)
    assert m and int(m.group(1)) >= 200, metrics


def update(url, acct, txt):
    return requests.post(url + "/update", data=json.dumps({"subdomain": acct["subdomain"],
                                                           "txt": txt}),
                         headers={"X-Api-User": acct["username"],
                                  "X-Api-Key": acct["password"]}, timeout=60)


@needs_secondaries
def test_update_waits_with_the_option_and_its_body_is_unchanged(make_server, tmp_path):
    off = start_http(make_server, admin_token=None, register_rate=0)
    acct_off = off.register()
    r_off = update(off.url, acct_off, value(40))
    assert r_off.status_code == 200
    s = None
    try:
        s = start_setup(make_server, tmp_path, update_waits_for_secondaries=True)
        acct = s.api.register()
        s.synced()
        for n in (40, 41):
            start = time.time()
            r = update(s.api.url, acct, value(n))
            assert r.status_code == 200 and time.time() - start < 3.0
            if n == 40:    # byte for byte what the option off sends
                assert r.content == r_off.content
                assert r.headers["Content-Type"] == r_off.headers["Content-Type"]
            assert r.content == b'{"txt": "' + value(n).encode() + b'"}'
            for sec in s.secondaries:
                assert value(n) in txt_values(sec.port, acct["fulldomain"] + "."), sec.name
        # a stopped secondary: the reply still comes, after the 30 s timeout,
        # and is the same bytes; a /v1 write with no timeout= waits as long
        s.secondaries[1].stop()
        other = s.api.register()
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            start = time.time()
            v1 = pool.submit(lambda: (s.add_waiting(other, value(43), timeout=60),
                                      time.time() - start))
            r = update(s.api.url, acct, value(42))
            took = time.time() - start
            r_v1, took_v1 = v1.result()
        assert r.status_code == 200 and r.content == b'{"txt": "' + value(42).encode() + b'"}'
        assert 29.0 <= took < 34.0, f"took {took:.1f}s"
        assert r_v1.status_code == 201 and r_v1.json()["propagated"] is False, r_v1.text
        assert 29.0 <= took_v1 < 34.0, f"/v1 took {took_v1:.1f}s"
    finally:
        for sec in (s.secondaries if s else []):
            sec.stop()


def raw_request(port, path, body, headers):
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    data = json.dumps(body).encode()
    sock.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{head}Content-Type: "
                 f"application/json\r\nContent-Length: {len(data)}\r\n\r\n".encode() + data)
    return sock


@needs_secondaries
def test_client_gone_while_waiting(setup):
    acct = setup.api.register()
    setup.synced()
    setup.secondaries[1].stop()
    port = int(setup.api.url.rsplit(":", 1)[1])
    socks = [raw_request(port, f"/v1/accounts/{acct['subdomain']}/txt?wait=secondaries"
                         f"&timeout={t}", {"value": value(60 + i)}, acct["headers"])
             for i, t in enumerate((1, 2, 60))]
    time.sleep(0.5)
    for sock in socks:
        sock.close()
    time.sleep(2.5)
    # the server goes on answering; the last one still waits when it stops
    # (its reply then is the timeout's), and the sanitizers see no leak
    r = setup.add_waiting(acct, value(70), "?wait=secondaries&timeout=1")
    assert r.status_code == 201 and r.json()["propagated"] is False
    assert sorted(setup.api.txt(acct)) == sorted(value(n) for n in (60, 61, 62, 70))
    start = time.time()
    setup.srv.stop()
    assert time.time() - start < 8
    assert "still waiting" not in setup.srv.read_log()


@pytest.fixture(scope="module")
def plain_api(tmp_path_factory):
    """acmensd without secondaries, /update waiting (for nobody)."""
    factory, finish = _server_factory(tmp_path_factory.mktemp("plain"))
    yield start_http(factory, admin_token=None, register_rate=0,
                     update_waits_for_secondaries=True)
    finish()


def test_no_secondaries_answers_at_once(plain_api):
    api = plain_api
    acct = api.register()
    r = api.call("POST", f"/v1/accounts/{acct['subdomain']}/txt?wait=secondaries",
                 {"value": value(80)}, headers=acct["headers"])
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["propagated"] is True and body["secondaries"] == []
    assert body["value"] == value(80)
    # the longest timeout is taken
    r = api.call("POST", f"/v1/accounts/{acct['subdomain']}/txt?wait=secondaries&timeout=120",
                 {"value": value(83)}, headers=acct["headers"])
    assert r.status_code == 201 and r.json()["propagated"] is True, r.text
    # the account routes that write without touching a value wait too
    r = api.call("POST", "/v1/register?wait=secondaries", {})
    assert r.status_code == 201 and r.json()["propagated"] is True, r.text
    assert r.json()["secondaries"] == [] and r.json()["fulldomain"], r.text
    r = api.call("POST", f"/v1/accounts/{acct['subdomain']}/rotate-key?wait=secondaries",
                 headers=acct["headers"])
    assert r.status_code == 200 and r.json()["propagated"] is True and r.json()["password"], r.text
    acct = dict(acct, password=r.json()["password"])
    acct["headers"] = api.creds(acct)
    # without the parameter nothing changes
    r = api.call("POST", f"/v1/accounts/{acct['subdomain']}/txt", {"value": value(81)},
                 headers=acct["headers"])
    assert r.status_code == 201 and "propagated" not in r.json()
    # the option on, no secondaries: /update answers at once, same bytes
    r = update(api.url, acct, value(82))
    assert r.content == b'{"txt": "' + value(82).encode() + b'"}'
    # a failed write answers as before, without waiting
    r = api.call("DELETE", f"/v1/accounts/{acct['subdomain']}/txt/{value(99)}?wait=secondaries",
                 headers=acct["headers"])
    assert r.status_code == 404 and "propagated" not in r.json(), r.text
    # so does a batch that applied nothing: 200, every result an error
    r = api.call("POST", "/v1/batch?wait=secondaries", {"operations": [
        {"op": "add", "username": acct["username"], "key": "x" * 40, "value": value(98)}]})
    assert r.status_code == 200 and r.json()["results"][0]["status"] == 401, r.text
    assert "propagated" not in r.json(), r.text


@pytest.mark.parametrize("query,param", [
    ("?wait=all", "wait"),
    ("?wait=", "wait"),
    ("?wait=Secondaries", "wait"),
    ("?timeout=5", "timeout"),
    ("?wait=secondaries&timeout=0", "timeout"),
    ("?wait=secondaries&timeout=121", "timeout"),
    ("?wait=secondaries&timeout=abc", "timeout"),
    ("?wait=secondaries&timeout=1.5", "timeout"),
    ("?wait=secondaries&timeout=-1", "timeout"),
    ("?wait=secondaries&timeout=", "timeout"),
])
def test_bad_wait_parameters(plain_api, query, param):
    api = plain_api
    acct = api.register()
    r = api.call("POST", f"/v1/accounts/{acct['subdomain']}/txt{query}", {"value": value(90)},
                 headers=acct["headers"])
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["error"] == "bad_request" and body["message"].startswith(param + ":"), body
    # nothing was written
    assert api.txt(acct) == []
    # the batch route checks the same way, before it reads its body
    r = api.call("POST", f"/v1/batch{query}", "[]")
    assert r.status_code == 400 and r.json()["message"].startswith(param + ":"), r.text
