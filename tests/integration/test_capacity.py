# SPDX-License-Identifier: ISC
"""What bounds the store's growth: the registration rate for all addresses
together (http.register_rate_global), the cap on accounts
(store.max_accounts), and a store that reached store.max_size. Each refuses
with its own status (429, 507) and never a 500; what was stored stays
served."""

import signal
import time

import dns.rcode

from conftest import dns_txt, start_http, value, wait_for

INSUFFICIENT = b'{"error": "insufficient_storage"}'


def set_store_keys(server, **keys):
    """Add store.* keys to the server's configuration file."""
    with open(server.config) as f:
        text = f.read()
    head = f"store:\n  path: {server.store}\n"
    assert head in text
    text = text.replace(head, head + "".join(f"  {k}: {v}\n" for k, v in keys.items()))
    with open(server.config, "w") as f:
        f.write(text)


def edit_config(server, old, new):
    with open(server.config) as f:
        text = f.read()
    assert old in text
    with open(server.config, "w") as f:
        f.write(text.replace(old, new))


def start_with_store(factory, store, **http):
    """start_http, with store.* keys in the configuration."""
    api = start_http(factory, **http)
    api.server.stop()
    set_store_keys(api.server, **store)
    api.server.start()
    return api


def forwarded(i):
    return {"X-Forwarded-For": f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}"}


def metric(api, name):
    r = api.call("GET", "/metrics")
    assert r.status_code == 200
    for line in r.text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in /metrics")


# ---- the global registration rate ---------------------------------------------

def test_global_rate_bounds_registrations_from_many_addresses(make_server):
    rate = 5
    api = start_http(make_server, proxy_header="X-Forwarded-For",
                     trusted_proxies=["127.0.0.1/32"], register_rate=10,
                     register_rate_global=rate)
    statuses = []
    t0 = time.monotonic()
    for i in range(40):
        path = "/register" if i % 2 else "/v1/register"
        r = api.call("POST", path, b"{}", headers=forwarded(i))
        statuses.append(r.status_code)
        if r.status_code == 429:
            # the same error either way as the per-address limit
            want = b'{"error": "rate_limited"}' if path == "/register" else None
            assert want is None or r.content == want, r.content
            assert r.json()["error"] == "rate_limited"
    elapsed = time.monotonic() - t0
    assert set(statuses) <= {201, 429}, statuses
    ok = statuses.count(201)
    # the burst, then what the elapsed time earned (one more for rounding)
    assert rate <= ok <= rate + rate * elapsed + 1, (ok, elapsed)
    assert 429 in statuses
    # once the bucket refilled, a client that never registered is served
    assert wait_for(lambda: api.call("POST", "/register", b"{}",
                                     headers=forwarded(1000)).status_code == 201, 5, 0.25)
    # the limit is the API's: the CLI still registers
    assert api.server.ctl("account", "register").returncode == 0


def test_global_rate_zero_is_off(make_server):
    api = start_http(make_server, register_rate=0, register_rate_global=0)
    assert all(api.call("POST", "/register", b"{}").status_code == 201 for _ in range(30))


# ---- the cap on accounts ---------------------------------------------------------

def test_account_cap(make_server):
    api = start_with_store(make_server, {"max_accounts": 3}, register_rate=0)
    first = api.register()
    api.register(path="/register")
    ctl = api.server.ctl("account", "register")
    assert ctl.returncode == 0

    r = api.call("POST", "/register", b"{}")
    assert (r.status_code, r.content) == (507, INSUFFICIENT)
    r = api.call("POST", "/v1/register", {})
    assert r.status_code == 507
    assert r.json()["error"] == "insufficient_storage"
    p = api.server.ctl("account", "register", check=False, json_out=False)
    assert p.returncode == 4, p
    assert "max_accounts" in p.stderr and p.stdout == "", p.stderr
    assert len(api.admin("GET", "/accounts").json()["accounts"]) == 3

    # the accounts there go on working
    r = api.call("POST", "/update", {"subdomain": first["subdomain"], "txt": value(1)},
                 headers=first["headers"])
    assert r.status_code == 200, r.text
    assert api.txt(first) == [value(1)]

    # a deleted account makes room
    assert api.admin("DELETE", "/accounts/" + first["subdomain"]).status_code in (200, 204)
    api.register()
    assert api.call("POST", "/register", b"{}").status_code == 507

    # a restart keeps the cap, a reload raises it
    api.server.stop()
    api.server.start()
    assert api.call("POST", "/register", b"{}").status_code == 507
    edit_config(api.server, "max_accounts: 3", "max_accounts: 4")
    api.server.proc.send_signal(signal.SIGHUP)
    assert wait_for(lambda: "configuration reloaded" in api.server.read_log(), 5)
    assert api.call("POST", "/register", b"{}").status_code == 201


# ---- a full store --------------------------------------------------------------

def fill(api, limit=3000):
    """Register until the store is full; the statuses seen."""
    statuses = []
    for _ in range(limit):
        r = api.call("POST", "/v1/register", {})
        statuses.append(r.status_code)
        if r.status_code != 201:
            assert r.status_code == 507, r.text
            assert r.json() == {"error": "insufficient_storage",
                                "message": "the store is full"}
            break
    return statuses


def test_full_store(make_server):
    api = start_with_store(make_server, {"max_size": "1M"}, register_rate=0,
                           register_rate_global=0)
    s = api.server
    acct = api.register()
    r = api.call("POST", "/update", {"subdomain": acct["subdomain"], "txt": value(1)},
                 headers=acct["headers"])
    assert r.status_code == 200
    assert metric(api, "acmens_store_full") == 0
    assert api.call("GET", "/v1/health").json()["store"]["full"] is False

    statuses = fill(api)
    assert statuses[-1] == 507 and set(statuses[:-1]) == {201}, statuses[-5:]
    assert len(statuses) > 50       # 1 MiB holds hundreds of accounts
    # keep writing: a write that still fits in pages freed since is fine,
    # but the store fills again and nothing answers 500
    seen = []
    paths = {"/update", f"/v1/accounts/{acct['subdomain']}/txt", "/v1/batch", "/register"}
    for i in range(100):
        if {p for p, st in seen if st == 507} == paths:
            break
        for method, path, body, headers in (
                ("POST", "/update", {"subdomain": acct["subdomain"], "txt": value(100 + i)},
                 acct["headers"]),
                ("POST", f"/v1/accounts/{acct['subdomain']}/txt",
                 {"value": value(200 + i)}, acct["headers"]),
                ("POST", "/v1/batch", {"operations": [
                    {"op": "add", "value": value(300 + i), "username": acct["username"],
                     "key": acct["password"]}]}, None),
                ("POST", "/register", b"{}", None)):
            r = api.call(method, path, body, headers)
            seen.append((path, r.status_code))
            assert r.status_code != 500, (path, r.text)
            if r.status_code == 507 and path in ("/update", "/register"):
                assert r.content == INSUFFICIENT
            elif r.status_code == 507:
                assert r.json()["error"] == "insufficient_storage"
    assert {p for p, st in seen if st == 507} == paths, seen
    # the last write failed: the state shows
    for _ in range(50):
        r = api.call("POST", "/register", b"{}")
        seen.append(("/register", r.status_code))
        if r.status_code == 507:
            break
    assert r.status_code == 507
    assert metric(api, "acmens_store_full") == 1
    health = api.call("GET", "/v1/health")
    assert health.status_code == 200
    assert health.json()["store"]["full"] is True
    assert health.json()["status"] == "degraded"
    # DNS answers on, with what was stored: the values the API acknowledged
    kept = api.txt(acct)
    listed = api.call("GET", f"/v1/accounts/{acct['subdomain']}/txt", headers=acct["headers"])
    assert listed.status_code == 200
    assert kept == sorted(v["value"] for v in listed.json()["values"])
    if ("/update", 200) not in seen:
        assert value(1) in kept
    rcode, udp = dns_txt(s, acct["fulldomain"], tcp=False)
    assert (rcode, udp) == (dns.rcode.NOERROR, kept)
    # the CLI says so too
    p = s.ctl("txt", "add", acct["subdomain"], value(999), check=False, json_out=False)
    assert p.returncode != 0 and "full" in p.stderr, p

    # more room: writes work again, nothing was lost
    s.stop()
    edit_config(s, "max_size: 1M", "max_size: 4M")
    s.start()
    assert api.txt(acct) == kept
    assert metric(api, "acmens_store_full") == 0
    r = api.call("POST", "/update", {"subdomain": acct["subdomain"], "txt": value(2)},
                 headers=acct["headers"])
    assert r.status_code == 200, r.text
    assert value(2) in api.txt(acct)
    api.register()
    # every acknowledged registration is there: the fill's, the loop's, the
    # first account and the one just made
    registered = statuses.count(201) + sum(1 for p, st in seen
                                           if p in ("/register", "/v1/register") and st == 201)
    assert api.stats()["accounts"] == registered + 2
    assert api.call("GET", "/v1/health").json()["store"]["full"] is False
