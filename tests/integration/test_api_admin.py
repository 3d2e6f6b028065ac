# SPDX-License-Identifier: ISC
"""The admin API under /v1/admin against docs/api.md: present only with
http.admin_token_file, the bearer token, account listing (paging, search),
show, disable / enable (credentials refused, values still served), delete,
the audit log (order, actors, sources, values, serials, filters; never a
key) and stats."""

import json
import time

import dns.rcode
import pytest

from conftest import ADMIN_TOKEN, _server_factory, dns_txt, lives, start_http, value

ACCOUNT_FIELDS = {"subdomain", "fulldomain", "username", "allowfrom", "created", "updated",
                  "disabled", "key_scheme", "tsig"}

# Every key this module's accounts were given; the audit log must hold none.
SECRETS = [ADMIN_TOKEN]


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    factory, finish = _server_factory(tmp_path_factory.mktemp("admin"))
    yield start_http(factory, register_rate=0)
    finish()


def register(api, body=None, path="/v1/register"):
    acct = api.register(body, path)
    SECRETS.append(acct["password"])
    return acct


def assert_error(r, status, code):
    assert r.status_code == status, r.text
    assert r.headers["Content-Type"] == "application/json"
    assert r.json()["error"] == code, r.text


def ok(r, status=200):
    assert r.status_code == status, r.text
    return r.json()


def update(api, acct, txt, headers=None):
    """acme-dns /update."""
    return api.call("POST", "/update", {"subdomain": acct["subdomain"], "txt": txt},
                    acct["headers"] if headers is None else headers)


def v1_add(api, acct, v):
    return api.call("POST", f"/v1/accounts/{acct['subdomain']}/txt", {"value": v}, acct["headers"])


def all_accounts(api, limit=1000, **query):
    """Every page of the account list; checks the paging on the way."""
    out, after = [], None
    for _ in range(1000):
        q = dict(query, limit=limit)
        if after:
            q["after"] = after
        page = ok(api.admin("GET", "/accounts?" + "&".join(f"{k}={v}" for k, v in q.items())))
        assert len(page["accounts"]) <= limit
        out += page["accounts"]
        if page["next"] is None:
            return out
        assert len(page["accounts"]) == limit
        assert page["next"] == page["accounts"][-1]["subdomain"]
        after = page["next"]
    raise AssertionError("the account list does not end")


def audit(api, **query):
    r = api.admin("GET", "/audit" + ("?" + "&".join(f"{k}={v}" for k, v in query.items())
                                     if query else ""))
    return ok(r)


def audit_all(api, **query):
    """Every audit event after query's `after`, following `next`."""
    events = []
    for _ in range(10000):
        page = audit(api, **query)
        if not page["events"]:
            assert page["next"] is None
            return events
        assert page["next"] == page["events"][-1]["seq"]
        events += page["events"]
        query["after"] = page["next"]
    raise AssertionError("the audit log does not end")


def last_seq(api):
    events = audit_all(api, limit=1000)
    return events[-1]["seq"] if events else 0


# ---- presence and the token ----------------------------------------------------

ROUTES = [("GET", "/accounts"), ("GET", "/accounts/SUB"), ("POST", "/accounts/SUB/disable"),
          ("POST", "/accounts/SUB/enable"), ("DELETE", "/accounts/SUB"), ("GET", "/audit"),
          ("GET", "/stats")]


def test_admin_routes_off_without_token_file(make_server):
    a = start_http(make_server, admin_token=None, register_rate=0)
    acct = a.register()
    assert ok(v1_add(a, acct, "v"), 201)
    serial = a.server.serial()
    for method, path in ROUTES:
        r = a.admin(method, path.replace("SUB", acct["subdomain"]), token=ADMIN_TOKEN)
        assert_error(r, 404, "not_found")
        assert r.json() == {"error": "not_found"}
    # Nothing was disabled or deleted.
    assert a.server.serial() == serial
    assert a.txt(acct) == ["v"]
    assert ok(a.call("GET", f"/v1/accounts/{acct['subdomain']}", headers=acct["headers"]))[
        "disabled"] is False


@pytest.mark.parametrize("auth", [None, "", "Bearer", "Bearer ", "Bearer wrong",
                                  "Bearer " + ADMIN_TOKEN[:-1], "Bearer " + ADMIN_TOKEN + "x",
                                  "Basic " + ADMIN_TOKEN, ADMIN_TOKEN, "Bearer" + ADMIN_TOKEN,
                                  "Bearer " + ADMIN_TOKEN.upper()])
def test_admin_unauthorized(api, auth):
    acct = register(api)
    assert ok(v1_add(api, acct, "v"), 201)
    serial, stats = api.server.serial(), api.stats()
    for method, path in ROUTES:
        headers = {} if auth is None else {"Authorization": auth}
        r = api.call(method, "/v1/admin" + path.replace("SUB", acct["subdomain"]), None, headers)
        assert_error(r, 401, "unauthorized")
        assert r.json() == {"error": "unauthorized"}
        assert acct["subdomain"] not in r.text
    assert api.server.serial() == serial and api.stats() == stats
    assert api.txt(acct) == ["v"]
    info = ok(api.call("GET", f"/v1/accounts/{acct['subdomain']}", headers=acct["headers"]))
    assert info["disabled"] is False


def test_admin_token_scheme_is_case_insensitive(api):
    assert ok(api.call("GET", "/v1/admin/stats", headers={"Authorization": "bearer " + ADMIN_TOKEN}))


# ---- accounts ----------------------------------------------------------------------

def test_list_accounts_paging(api):
    mine = [register(api, {"allowfrom": ["192.0.2.0/24"]} if i == 0 else None) for i in range(5)]
    everything = all_accounts(api)
    subs = [a["subdomain"] for a in everything]
    assert subs == sorted(subs) and len(set(subs)) == len(subs)
    assert len(subs) == api.stats()["accounts"]
    by_sub = {a["subdomain"]: a for a in everything}
    for i, m in enumerate(mine):
        a = by_sub[m["subdomain"]]
        assert set(a) == ACCOUNT_FIELDS | {"value_count"}
        assert a["value_count"] == 0
        assert (a["username"], a["fulldomain"], a["disabled"], a["key_scheme"]) == \
            (m["username"], m["fulldomain"], False, "sha256")
        assert a["allowfrom"] == (["192.0.2.0/24"] if i == 0 else [])
        assert m["password"] not in json.dumps(a)
    # Pages of 2 (and of 1) give the same list, each page's next its last.
    assert [a["subdomain"] for a in all_accounts(api, limit=2)] == subs
    assert [a["subdomain"] for a in all_accounts(api, limit=1)] == subs
    # after is exclusive, and may be any case.
    page = ok(api.admin("GET", f"/accounts?after={subs[1].upper()}&limit=2"))
    assert [a["subdomain"] for a in page["accounts"]] == subs[2:4]
    page = ok(api.admin("GET", f"/accounts?after={subs[-1]}"))
    assert page == {"accounts": [], "next": None}
    # The default limit is 100.
    assert len(ok(api.admin("GET", "/accounts"))["accounts"]) == min(100, len(subs))


def test_list_accounts_search(api):
    a, b = register(api), register(api)
    # Part of the username, any case.
    page = ok(api.admin("GET", f"/accounts?search={a['username'][-12:].upper()}"))
    assert [x["subdomain"] for x in page["accounts"]] == [a["subdomain"]]
    assert page["next"] is None
    # Part of the subdomain.
    page = ok(api.admin("GET", f"/accounts?search={b['subdomain'][9:23]}"))
    assert [x["subdomain"] for x in page["accounts"]] == [b["subdomain"]]
    assert ok(api.admin("GET", "/accounts?search=no-such-thing")) == {"accounts": [], "next": None}
    # Search pages too: "-" is in every account.
    subs = [x["subdomain"] for x in all_accounts(api)]
    assert [x["subdomain"] for x in all_accounts(api, limit=3, search="-")] == subs


@pytest.mark.parametrize("query", ["limit=0", "limit=1001", "limit=x", "limit=-1", "limit=1e2",
                                   "limit=%2010", "after=" + "a" * 64])
def test_list_accounts_bad_query(api, query):
    assert_error(api.admin("GET", "/accounts?" + query), 400, "bad_request")


def test_show_account(api):
    acct = register(api, {"allowfrom": ["127.0.0.0/8"]})
    t0 = int(time.time())
    assert ok(v1_add(api, acct, "shown"), 201)
    assert ok(api.call("POST", f"/v1/accounts/{acct['subdomain']}/txt",
                       {"value": "expiring", "expires_in": 600}, acct["headers"]), 201)
    for sub in (acct["subdomain"], acct["subdomain"].upper()):
        a = ok(api.admin("GET", f"/accounts/{sub}"))
        assert set(a) == ACCOUNT_FIELDS | {"values", "delegation"}
        assert (a["subdomain"], a["username"], a["allowfrom"], a["disabled"], a["key_scheme"]) == \
            (acct["subdomain"], acct["username"], ["127.0.0.0/8"], False, "sha256")
        assert abs(a["created"] - t0) <= 2
        vals = sorted(a["values"], key=lambda v: v["value"])
        assert [v["value"] for v in vals] == ["expiring", "shown"]
        assert lives(vals[0], 600) and vals[1]["expires"] is None
        assert a["delegation"] is None       # never checked
        assert acct["password"] not in json.dumps(a)


@pytest.mark.parametrize("sub", ["00000000-0000-0000-0000-000000000000", "nope", "a" * 64])
def test_show_unknown_account(api, sub):
    assert_error(api.admin("GET", f"/accounts/{sub}"), 404, "not_found")
    serial = api.server.serial()
    for method, path in [("POST", f"/accounts/{sub}/disable"), ("POST", f"/accounts/{sub}/enable"),
                         ("DELETE", f"/accounts/{sub}")]:
        assert_error(api.admin(method, path), 404, "not_found")
    assert api.server.serial() == serial


def test_disable_and_enable(api):
    acct = register(api)
    assert update(api, acct, value(1)).status_code == 200
    assert ok(v1_add(api, acct, "native"), 201)
    served = sorted([value(1), "native"])
    assert api.txt(acct) == served
    serial = api.server.serial()

    r = api.admin("POST", f"/accounts/{acct['subdomain']}/disable")
    # An account change is no zone change: the serial stays.
    assert ok(r) == {"serial": serial, "subdomain": acct["subdomain"], "disabled": True}
    assert int(r.headers["X-Acmens-Serial"]) == serial
    assert ok(api.admin("GET", f"/accounts/{acct['subdomain']}"))["disabled"] is True
    # Its credentials are refused everywhere, and nothing changes...
    sub = acct["subdomain"]
    r = update(api, acct, value(2))
    assert (r.status_code, r.content) == (401, b'{"error": "forbidden"}')
    for method, path, body in [("POST", f"/v1/accounts/{sub}/txt", {"value": "x"}),
                               ("PUT", f"/v1/accounts/{sub}/txt", {"values": []}),
                               ("DELETE", f"/v1/accounts/{sub}/txt/native", None),
                               ("GET", f"/v1/accounts/{sub}", None),
                               ("POST", f"/v1/accounts/{sub}/rotate-key", None)]:
        assert_error(api.call(method, path, body, acct["headers"]), 401, "forbidden")
    batch = ok(api.call("POST", "/v1/batch", {"operations": [
        {"op": "remove", "username": acct["username"], "key": acct["password"], "value": "native"}]}))
    assert batch["results"] == [{"status": 401, "error": "forbidden"}]
    # ...but its values are still served (docs/api.md: until they expire or
    # are removed).
    assert api.server.serial() == serial
    assert api.txt(acct) == served
    # Disabling twice is fine.
    assert ok(api.admin("POST", f"/accounts/{sub}/disable"))["disabled"] is True

    r = api.admin("POST", f"/accounts/{sub.upper()}/enable")
    assert ok(r) == {"serial": serial, "subdomain": sub, "disabled": False}
    assert ok(api.admin("GET", f"/accounts/{sub}"))["disabled"] is False
    # (/update pushes: the account keeps its newest txt_limit = 2 values.)
    assert update(api, acct, value(2)).status_code == 200
    assert ok(v1_add(api, acct, "again"), 201)["serial"] == serial + 2
    assert api.txt(acct) == sorted([value(2), "again", "native"])


def test_disable_racing_key_rotation(api):
    """An admin disable and the account's own key rotation at the same
    moment both take effect, whichever commits first."""
    import threading
    for _ in range(5):
        acct = register(api)
        sub = acct["subdomain"]
        out = {}
        start = threading.Barrier(2)

        def rotate():
            start.wait(5)
            out["rotate"] = api.call("POST", f"/v1/accounts/{sub}/rotate-key", None,
                                     acct["headers"])

        def disable():
            from conftest import HttpApi
            start.wait(5)
            out["disable"] = HttpApi(api.server, api.admin_token).admin(
                "POST", f"/accounts/{sub}/disable")

        threads = [threading.Thread(target=f) for f in (rotate, disable)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        assert ok(out["disable"])["disabled"] is True
        assert ok(api.admin("GET", f"/accounts/{sub}"))["disabled"] is True
        ok(api.admin("POST", f"/accounts/{sub}/enable"))
        if out["rotate"].status_code == 200:
            # Rotated before the disable: the new key is the one that works.
            key = out["rotate"].json()["password"]
            SECRETS.append(key)
            assert_error(v1_add(api, acct, "old"), 401, "forbidden")
        else:
            # Disabled first: the rotation was refused, the old key stays.
            assert_error(out["rotate"], 401, "forbidden")
            key = acct["password"]
        assert ok(api.call("POST", f"/v1/accounts/{sub}/txt", {"value": "v"},
                           api.creds(acct, key=key)), 201)


def test_delete_account(api):
    acct, other = register(api), register(api)
    assert ok(v1_add(api, acct, "a"), 201) and ok(v1_add(api, acct, "b"), 201)
    assert ok(v1_add(api, other, "o"), 201)
    stats = api.stats()
    serial = stats["serial"]
    r = api.admin("DELETE", f"/accounts/{acct['subdomain']}")
    assert ok(r) == {"serial": serial + 1}
    assert int(r.headers["X-Acmens-Serial"]) == serial + 1 == api.server.serial()
    # The name is gone from DNS, the username from the API.
    rcode, values = dns_txt(api.server, acct["fulldomain"])
    assert (rcode, values) == (dns.rcode.NXDOMAIN, [])
    assert update(api, acct, value(3)).status_code == 401
    assert_error(v1_add(api, acct, "c"), 401, "forbidden")
    assert_error(api.admin("GET", f"/accounts/{acct['subdomain']}"), 404, "not_found")
    assert acct["subdomain"] not in [a["subdomain"] for a in all_accounts(api)]
    after = api.stats()
    assert (after["accounts"], after["values"], after["serial"]) == \
        (stats["accounts"] - 1, stats["values"] - 2, serial + 1)
    # The other account is untouched; deleting again is 404 and changes nothing.
    assert api.txt(other) == ["o"]
    assert_error(api.admin("DELETE", f"/accounts/{acct['subdomain']}"), 404, "not_found")
    assert api.server.serial() == serial + 1
    last = audit_all(api, subdomain=acct["subdomain"])[-1]
    assert (last["actor"], last["action"], last["before"], last["after"], last["serial"]) == \
        ("admin", "delete", ["a", "b"], [], serial + 1)


# ---- audit log -----------------------------------------------------------------------

def test_audit_log(api):
    mark = last_seq(api)
    t0 = int(time.time())
    # acme-dns registration and /update.
    r = api.call("POST", "/register")
    assert r.status_code == 201
    acct = r.json()
    SECRETS.append(acct["password"])
    acct["headers"] = api.creds(acct)
    s_reg = int(r.headers["X-Acmens-Serial"])
    r = update(api, acct, value(10))
    assert r.status_code == 200
    s_upd = int(r.headers["X-Acmens-Serial"])
    # Another account's change in between, for the subdomain filter.
    other = register(api)
    s_other = ok(v1_add(api, other, "other"), 201)["serial"]
    s_add = ok(v1_add(api, acct, "added"), 201)["serial"]
    s_rem = ok(api.call("DELETE", f"/v1/accounts/{acct['subdomain']}/txt/added",
                        headers=acct["headers"]))["serial"]
    s_dis = ok(api.admin("POST", f"/accounts/{acct['subdomain']}/disable"))["serial"]
    assert s_reg < s_upd < s_other < s_add < s_rem == s_dis

    user = "account:" + acct["username"]
    sub, osub = acct["subdomain"], other["subdomain"]
    want = [
        ("api", "create", sub, [], [], s_reg),
        (user, "push", sub, [], [value(10)], s_upd),
        ("api", "create", osub, [], [], s_upd),
        ("account:" + other["username"], "add", osub, [], ["other"], s_other),
        (user, "add", sub, [value(10)], sorted([value(10), "added"]), s_add),
        (user, "remove", sub, sorted([value(10), "added"]), [value(10)], s_rem),
        ("admin", "update", sub, [value(10)], [value(10)], s_dis),
    ]
    events = audit_all(api, after=mark)
    got = [(e["actor"], e["action"], e["subdomain"], sorted(e["before"]), sorted(e["after"]),
            e["serial"]) for e in events]
    assert got == want
    assert [e["seq"] for e in events] == list(range(mark + 1, mark + 1 + len(want)))
    assert all(e["source"] == "127.0.0.1" for e in events)
    assert all(t0 - 1 <= e["time"] <= time.time() + 1 for e in events)
    assert events[-1]["change"] == "disabled"

    # Filters: subdomain, limit, after.
    mine = audit_all(api, after=mark, subdomain=sub)
    assert mine == [e for e in events if e["subdomain"] == sub] and len(mine) == 5
    page = audit(api, after=mark, subdomain=sub, limit=2)
    assert page["events"] == mine[:2] and page["next"] == mine[1]["seq"]
    page = audit(api, after=page["next"], subdomain=sub, limit=2)
    assert page["events"] == mine[2:4] and page["next"] == mine[3]["seq"]
    page = audit(api, after=page["next"], subdomain=sub, limit=2)
    assert page["events"] == mine[4:] and page["next"] == mine[4]["seq"]
    assert audit(api, after=page["next"], subdomain=sub) == {"events": [], "next": None}
    assert audit(api, after=mark, subdomain=osub)["events"] == [events[2], events[3]]
    assert audit(api, after=mark + 3, limit=1)["events"] == [events[3]]
    assert audit(api, subdomain="no-such-account") == {"events": [], "next": None}
    # Oldest first from the start.
    first = audit(api, limit=1)["events"]
    assert len(first) == 1 and first[0]["seq"] >= 1 and first[0]["seq"] <= mark + 1


@pytest.mark.parametrize("query", ["limit=0", "limit=1001", "limit=x", "after=-1", "after=x",
                                   "after=18446744073709551616"])
def test_audit_bad_query(api, query):
    assert_error(api.admin("GET", "/audit?" + query), 400, "bad_request")


# ---- stats ---------------------------------------------------------------------------

def test_stats(api):
    acct = register(api)
    before = api.stats()
    # the shape of acmensctl stats --json (docs/api.md, "JSON objects")
    assert set(before) == {"accounts", "values", "serial", "file_bytes", "used_bytes",
                           "map_size", "last_txn"}
    assert 0 < before["used_bytes"] <= before["file_bytes"] <= before["map_size"]
    counts = ("accounts", "values", "serial")
    accounts = all_accounts(api)
    values = sum(len(ok(api.admin("GET", f"/accounts/{a['subdomain']}"))["values"])
                 for a in accounts)
    assert [before[k] for k in counts] == [len(accounts), values, api.server.serial()]
    assert sum(a["value_count"] for a in accounts) == values
    ok(api.call("PUT", f"/v1/accounts/{acct['subdomain']}/txt", {"values": ["1", "2", "3"]},
                acct["headers"]))
    register(api)
    after = api.stats()
    assert [after[k] for k in counts] == [before["accounts"] + 1, values + 3,
                                          before["serial"] + 1]
    assert after["last_txn"] > before["last_txn"]


# ---- keys never recorded ------------------------------------------------------------

def test_audit_never_contains_keys(api):
    """Last in the module: every key given out here, rotated ones included,
    and the admin token, appear nowhere in the audit log or the daemon's log."""
    acct = register(api)
    r = ok(api.call("POST", f"/v1/accounts/{acct['subdomain']}/rotate-key", None, acct["headers"]))
    SECRETS.append(r["password"])
    new = api.creds(acct, key=r["password"])
    assert update(api, acct, value(20), new).status_code == 200
    ok(api.call("POST", "/v1/batch", {"operations": [
        {"op": "add", "username": acct["username"], "key": r["password"], "value": "b"},
        {"op": "add", "username": acct["username"], "key": acct["password"], "value": "c"}]}))
    events = audit_all(api)
    assert any(e["action"] == "update" and e.get("change") == "key" for e in events)
    text = json.dumps(events)
    log = api.server.read_log()
    assert len(SECRETS) > 20
    for secret in SECRETS:
        assert secret not in text
        assert secret not in log
