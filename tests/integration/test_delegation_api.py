# SPDX-License-Identifier: ISC
"""The delegation routes against real resolution: GET
/v1/accounts/SUB/delegation (the account's credentials) and GET
/v1/admin/delegation (the admin token) on an acmensd whose checks go
through the validating Unbound of deleg_peers.py, with Knot serving the
customer zones (correct, wrong, chained, looping, TXT, none; signed and
broken; a lame delegation). Each status comes from a real resolution.
Then what is kept: the account's last check in acmensctl account show, the
admin account view and /metrics; the refusals (400, 401, 403, 404, 429,
503; 501 on a build without libunbound); 100 checks at once; a resolver
that never answers (timeout, the bounded queue, a stop while checks
wait)."""

import concurrent.futures
import json
import os
import re
import socket
import time

import pytest
import requests

from conftest import ADMIN_TOKEN, BUILD, HttpApi, ZONE, _server_factory, value
from deleg_peers import NoPort53, World, missing_tools

VALUE = value(7)


def built_with_libunbound():
    with open(os.path.join(BUILD, "config.h")) as f:
        return re.search(r"^#define HAVE_LIBUNBOUND 1$", f.read(), re.M) is not None


def with_admin(srv, **http):
    path = os.path.join(srv.dir, "admin.token")
    with open(path, "w") as f:
        f.write(ADMIN_TOKEN + "\n")
    os.chmod(path, 0o600)
    srv.reconfigure(http=dict(http, admin_token_file=path))


def add_delegation(srv, **keys):
    """Append a delegation section (values as JSON, which YAML reads)."""
    with open(srv.config, "a") as f:
        f.write("delegation:\n" + "".join(f"  {k}: {json.dumps(v)}\n" for k, v in keys.items()))


def account(srv):
    acct = srv.register()
    acct["headers"] = HttpApi.creds(acct)
    return acct


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    if not built_with_libunbound():
        pytest.skip("built without libunbound: test_not_implemented covers it")
    assert not missing_tools(), f"not installed: {missing_tools()} (scripts/dev deps)"
    base = tmp_path_factory.mktemp("delegapi")
    factory, finish = _server_factory(base)
    srv = factory(start=False, http={})
    with_admin(srv, max_connections_per_client=256)   # 100 checks at once from here
    sub, other, spare = account(srv), account(srv), account(srv)
    srv.ctl("txt", "add", sub["subdomain"], "--", VALUE)
    try:
        world = World(base / "world", ZONE, "127.0.0.1", srv.port, sub["subdomain"],
                      other["subdomain"])
    except NoPort53 as e:
        finish()
        pytest.skip(f"the customer servers need port 53: {e}")
    try:
        with world:
            add_delegation(srv, resolvers=[world.resolver],
                           trust_anchor_file=world.trust_anchor_file, timeout=10)
            srv.start()
            api = HttpApi(srv, ADMIN_TOKEN)
            yield {"api": api, "srv": srv, "world": world, "sub": sub, "other": other,
                   "spare": spare}
    finally:
        finish()


def own_check(env, case, acct=None):
    acct = acct or env["sub"]
    d = env["world"].cases[case].domain
    return env["api"].call("GET", f"/v1/accounts/{acct['subdomain']}/delegation?domain={d}",
                           headers=acct["headers"], timeout=30)


def admin_check(env, case, sub=None):
    d = env["world"].cases[case].domain
    sub = sub or env["sub"]["subdomain"]
    return env["api"].admin("GET", f"/delegation?domain={d}&subdomain={sub}")


def ok_json(r):
    assert r.status_code == 200, r.text
    return r.json()


def metrics(api):
    r = requests.get(api.url + "/metrics", timeout=10)
    assert r.status_code == 200
    return {m.group(1): int(m.group(2)) for m in re.finditer(
        r'^acmens_delegation_accounts\{status="(\w+)"\} (\d+)$', r.text, re.M)}


# --- statuses from real resolution -------------------------------------------------

def test_account_route_ok(env):
    j = ok_json(own_check(env, "ok"))
    case = env["world"].cases["ok"]
    assert j["status"] == "ok" and j["chain"] == case.chain
    assert j["domain"] == case.domain and j["subdomain"] == env["sub"]["subdomain"]
    assert j["values_visible"] == [VALUE]
    assert j["secure"] is False and j["target"] is None
    assert isinstance(j["checked"], int) and abs(j["checked"] - time.time()) < 60


@pytest.mark.parametrize("name", ["other-account", "other-account-challenge"])
def test_account_route_hides_other_account(env, name):
    j = ok_json(own_check(env, name))
    assert j["status"] == "wrong_target"
    assert j["target"] is None and j["target_is_account"] is True
    assert j["chain"] == env["world"].cases[name].chain[:-1]
    assert env["other"]["subdomain"] not in json.dumps(j)
    # its _acme-challenge name does not exist: said without naming it
    if name == "other-account-challenge":
        assert j["reason"] == "another account's name does not exist", j


@pytest.mark.parametrize("name", ["other-account", "other-account-challenge"])
def test_admin_route_names_other_account(env, name):
    j = ok_json(admin_check(env, name))
    case = env["world"].cases[name]
    assert j["status"] == "wrong_target" and j["target_is_account"] is True
    assert j["target"] == case.target and j["chain"] == case.chain
    if name == "other-account-challenge":
        assert j["reason"] == f"{case.target} does not exist", j


@pytest.mark.parametrize("case", ["missing", "bogus"])
def test_account_route_failures(env, case):
    name = {"missing": "nxdomain", "bogus": "broken"}[case]
    j = ok_json(own_check(env, name))
    assert j["status"] == case
    if case == "bogus":
        assert j["reason"] and j["secure"] is False


def test_signed_is_secure(env):
    j = ok_json(own_check(env, "signed"))
    assert j["status"] == "ok" and j["secure"] is True
    shown = env["api"].admin("GET", f"/accounts/{env['sub']['subdomain']}").json()
    assert shown["delegation"]["secure"] is True and shown["delegation"]["status"] == "ok"


@pytest.mark.parametrize("name", ["chain2", "wrong-elsewhere", "loop", "txt", "nodata",
                                  "lame"])
def test_admin_route_cases(env, name):
    case = env["world"].cases[name]
    j = ok_json(admin_check(env, name))
    assert j["status"] == case.status, j
    if case.status in ("ok", "wrong_target", "servfail"):
        assert j["chain"] == case.chain
    if case.status == "servfail":
        assert "SERVFAIL" in j["reason"] and j["secure"] is False, j
    if case.status == "wrong_target":
        assert j["target"] == case.target and j["target_is_account"] is False


# --- what is kept --------------------------------------------------------------------

def test_result_kept(env):
    api, srv, spare = env["api"], env["srv"], env["spare"]
    before = metrics(api)
    assert set(before) == {"ok", "missing", "not_delegated", "wrong_target", "loop", "bogus",
                           "servfail", "timeout"}
    show = json.loads(srv.ctl("account", "show", spare["subdomain"]).stdout)
    assert show["delegation"] is None
    r = api.admin("GET", f"/accounts/{spare['subdomain']}")
    assert r.status_code == 200 and r.json()["delegation"] is None

    j = ok_json(admin_check(env, "txt", spare["subdomain"]))
    assert j["status"] == "not_delegated"
    show = json.loads(srv.ctl("account", "show", spare["subdomain"]).stdout)["delegation"]
    assert show == {"checked": j["checked"], "status": "not_delegated", "secure": False}
    assert api.admin("GET", f"/accounts/{spare['subdomain']}").json()["delegation"] == show
    text = srv.ctl("account", "show", spare["subdomain"], json_out=False).stdout
    assert re.search(r"^delegation: +not_delegated \(insecure\), checked ", text, re.M), text
    after = metrics(api)
    assert after["not_delegated"] == before["not_delegated"] + 1

    # a new check replaces it and moves the counts
    ok_json(admin_check(env, "loop", spare["subdomain"]))
    moved = metrics(api)
    assert moved["not_delegated"] == before["not_delegated"]
    assert moved["loop"] == after["loop"] + 1
    # the serial did not move for any of it
    serial = srv.serial()
    ok_json(admin_check(env, "ok", spare["subdomain"]))
    assert srv.serial() == serial


def test_deleted_account_leaves_counts(env):
    api, srv = env["api"], env["srv"]
    gone = account(srv)
    ok_json(admin_check(env, "wrong-elsewhere", gone["subdomain"]))
    before = metrics(api)
    assert api.admin("DELETE", f"/accounts/{gone['subdomain']}").status_code == 200
    assert metrics(api)["wrong_target"] == before["wrong_target"] - 1


# --- refusals ---------------------------------------------------------------------------

@pytest.mark.parametrize("query, words", [
    ("", "domain is required"),
    ("?domain=", "domain is required"),
    ("?domain=a..example", "domain is not a domain name"),
    ("?domain=." , "domain is not a domain name"),
    ("?domain=" + "a" * 60 + "." + "b" * 60 + "." + "c" * 60 + "." + "d" * 60,
     "domain is too long"),
])
def test_bad_domain(env, query, words):
    acct = env["sub"]
    for r in (env["api"].call("GET", f"/v1/accounts/{acct['subdomain']}/delegation{query}",
                              headers=acct["headers"]),
              env["api"].admin("GET", f"/delegation{query}{'&' if query else '?'}"
                                      f"subdomain={acct['subdomain']}")):
        assert r.status_code == 400, r.text
        assert r.json()["error"] == "bad_request" and words in r.json()["message"]


def test_admin_subdomain(env):
    api = env["api"]
    r = api.admin("GET", "/delegation?domain=example.com")
    assert r.status_code == 400 and "subdomain is required" in r.json()["message"]
    r = api.admin("GET", "/delegation?domain=example.com&subdomain=nobody")
    assert r.status_code == 404 and r.json()["error"] == "not_found"


def test_unauthorized(env):
    api, acct, other = env["api"], env["sub"], env["other"]
    path = f"/v1/accounts/{acct['subdomain']}/delegation?domain=example.com"
    assert api.call("GET", path).status_code == 401
    bad = HttpApi.creds(acct, key="A" * 40)
    assert api.call("GET", path, headers=bad).status_code == 401
    # another account's credentials on this account's route
    assert api.call("GET", path, headers=other["headers"]).status_code == 403
    assert api.admin("GET", "/delegation?domain=example.com&subdomain=x",
                     token="wrong" * 8).status_code == 401


def test_rate_limited_per_account(env):
    acct = account(env["srv"])   # registered while acmensd runs: the store is shared
    codes = [own_check(env, "nxdomain", acct).status_code for _ in range(11)]
    assert codes[:10] == [200] * 10 and codes[10] == 429, codes
    # another account's budget is its own
    assert own_check(env, "nxdomain", env["other"]).status_code == 200
    # the limited account still writes, and what it wrote is served
    r = env["api"].call("POST", f"/v1/accounts/{acct['subdomain']}/txt", {"value": value(2)},
                        acct["headers"], timeout=5)
    assert r.status_code == 201, r.text
    assert value(2) in env["srv"].query(acct["fulldomain"] + ".").to_text()


def test_hundred_at_once(env):
    names = ["ok", "chain2", "other-account", "loop", "txt", "nxdomain", "signed", "broken"]
    with concurrent.futures.ThreadPoolExecutor(max_workers=100) as pool:
        rs = list(pool.map(lambda i: admin_check(env, names[i % len(names)]), range(100)))
    statuses = [ok_json(r)["status"] for r in rs]
    for i, s in enumerate(statuses):
        assert s == env["world"].cases[names[i % len(names)]].status


# --- a resolver that never answers: timeout, the bounded queue, stopping ---------------

@pytest.fixture
def silent(tmp_path):
    """make(**delegation) -> (started Server, account subdomain, admin check
    URL) whose checks go to a resolver that never answers."""
    if not built_with_libunbound():
        pytest.skip("built without libunbound")
    factory, finish = _server_factory(tmp_path)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))

    def make(**delegation):
        srv = factory(start=False, http={})
        with_admin(srv)
        sub = account(srv)["subdomain"]
        add_delegation(srv, resolvers=[f"127.0.0.1:{sock.getsockname()[1]}"],
                       trust_anchor_file="/usr/share/dns/root.key", **delegation)
        srv.start()
        return srv, f"{srv.http_url}/v1/admin/delegation?domain=example.com&subdomain={sub}"

    try:
        yield make
    finally:
        finish()
        sock.close()


def admin_get(url, timeout=60):
    return requests.get(url, timeout=timeout, headers={"Authorization": "Bearer " + ADMIN_TOKEN})


def test_timeout_and_busy(silent):
    srv, url = silent(timeout=2, concurrency=1)
    # one runs, four wait (four per concurrent check), the rest are refused
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        rs = list(pool.map(lambda _: admin_get(url), range(8)))
    codes = sorted(r.status_code for r in rs)
    assert codes == [200] * 5 + [503] * 3, codes
    for r in rs:
        if r.status_code == 503:
            assert r.json()["error"] == "busy"
        else:
            assert r.json()["status"] == "timeout"
    served_after_flood(srv, url)


def served_after_flood(srv, url):
    """After checks were refused: the account checked is still stored, and a
    legitimate client writes a value that the next DNS query answers."""
    sub = re.search(r"subdomain=([^&]+)", url).group(1)
    assert json.loads(srv.ctl("account", "show", sub).stdout)["subdomain"] == sub
    api = HttpApi(srv)
    acct = account(srv)
    r = api.call("POST", f"/v1/accounts/{acct['subdomain']}/txt", {"value": value(1)},
                 acct["headers"], timeout=15)
    assert r.status_code == 201, r.text
    assert value(1) in srv.query(acct["fulldomain"] + ".").to_text()


def test_stop_ends_waiting_checks(silent):
    """A stopping acmensd does not wait delegation.timeout for a check: the
    request waiting for it is answered at once, and nothing is left over."""
    srv, url = silent(timeout=60)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        waiting = pool.submit(admin_get, url, 30)
        time.sleep(0.5)
        t0 = time.time()
        srv.stop()
        r = waiting.result()
    assert time.time() - t0 < 5
    assert r.status_code == 503 and r.json()["error"] == "shutting_down", r.text
    assert "not freeing" not in srv.read_log()


def test_client_gone_while_waiting(silent):
    """A client that hangs up while its check runs: the check ends in its
    time, nobody is answered, and the next client is."""
    srv, url = silent(timeout=1)
    with pytest.raises(requests.exceptions.ReadTimeout):
        admin_get(url, timeout=0.3)
    time.sleep(1.5)
    r = admin_get(url)
    assert r.status_code == 200 and r.json()["status"] == "timeout"
    assert srv.sanitizer_report() is None


def both_routes(api, acct, domain="example.com"):
    """The replies of the account's route and of the admin route."""
    sub = acct["subdomain"]
    return (api.call("GET", f"/v1/accounts/{sub}/delegation?domain={domain}",
                     headers=acct["headers"]),
            api.admin("GET", f"/delegation?domain={domain}&subdomain={sub}"))


def test_unusable_trust_anchor(make_server, tmp_path):
    """A trust anchor file libunbound refuses leaves the checks unavailable,
    not the daemon: a warning at start, 503 with the reason on each route."""
    if not built_with_libunbound():
        pytest.skip("built without libunbound")
    bad = tmp_path / "bad.key"
    bad.write_text("this is not a key\n")
    srv = make_server(start=False, http={})
    with_admin(srv)
    acct = account(srv)
    add_delegation(srv, resolvers=["127.0.0.1:9"], trust_anchor_file=str(bad))
    srv.start()
    api = HttpApi(srv, ADMIN_TOKEN)
    for r in both_routes(api, acct):
        assert r.status_code == 503 and r.json()["error"] == "delegation_unavailable", r.text
        assert str(bad) in r.json()["message"]
    assert re.search(r"level=warning msg=\"http: delegation checks unavailable: "
                     r"delegation.trust_anchor_file ", srv.read_log())


def test_not_implemented(make_server):
    if built_with_libunbound():
        pytest.skip("built with libunbound: the checks run (the tests above)")
    srv = make_server(start=False, http={})
    with_admin(srv)
    acct = account(srv)
    srv.start()
    api = HttpApi(srv, ADMIN_TOKEN)
    for r in both_routes(api, acct):
        assert r.status_code == 501 and r.json()["error"] == "not_implemented", r.text
