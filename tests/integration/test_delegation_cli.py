# SPDX-License-Identifier: ISC
"""acmensctl delegation check against real servers (deleg_peers.py): Knot
serving the customers' zones and a private root, a validating Unbound as
the resolver, acmensd serving the accounts. Every status comes from a
real resolution, through the resolver (delegation.resolvers) and
iterating from the root like a CA (delegation.root_hints)."""

import json
import os
import pty
import re
import subprocess
import time

import pytest

from conftest import ACMENSCTL, TOP, ZONE, value
from deleg_peers import acmens_world, private_addr

VALUE = value(1)
STATUSES = ["ok", "missing", "not_delegated", "wrong_target", "loop", "bogus", "servfail",
            "timeout"]


class Checker:
    """acmensctl with the acmens server's configuration plus a delegation
    section; one per way of resolving."""

    def __init__(self, srv, path, delegation):
        self.srv = srv
        self.path = path
        with open(srv.config) as f:
            text = f.read()
        text += "delegation:\n" + "".join(f"  {k}: {json.dumps(v)}\n"
                                          for k, v in delegation.items())
        with open(path, "w") as f:
            f.write(text)

    def run(self, *args, stdin=None, timeout=120):
        return subprocess.run([ACMENSCTL, "-c", self.path, "delegation", "check", *args],
                              capture_output=True, text=True, input=stdin, timeout=timeout)

    def json(self, *args, **kw):
        """(exit code, result objects, summary object)."""
        p = self.run("--json", *args, **kw)
        lines = [json.loads(line) for line in p.stdout.splitlines()]
        assert lines and "summary" in lines[-1], p.stdout + p.stderr
        return p.returncode, lines[:-1], lines[-1]

    def one(self, domain, sub):
        code, results, summary = self.json(domain, sub)
        assert len(results) == 1, results
        return code, results[0]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    base = tmp_path_factory.mktemp("delegcli")
    with acmens_world(base, None, VALUE) as w:
        w.fwd = Checker(w.srv, str(base / "fwd.yaml"), {
            "resolvers": [w.resolver], "trust_anchor_file": w.trust_anchor_file, "timeout": 5})
        w.iter = Checker(w.srv, str(base / "iter.yaml"), {
            "root_hints": w.root_hints, "trust_anchor_file": w.trust_anchor_file, "timeout": 5})
        yield w


def checker_at(world, tmp_path, resolver, timeout):
    """A check through resolver (ADDRESS:PORT) alone, with the world's anchors."""
    return Checker(world.srv, str(tmp_path / "at.yaml"), {
        "resolvers": [resolver], "trust_anchor_file": world.trust_anchor_file,
        "timeout": timeout})


CUSTOMER_CASES = ["ok", "ok-acme", "chain2", "wrong-elsewhere", "wrong-typo-zone",
                  "wrong-typo-sub", "other-account", "other-account-challenge", "loop", "long",
                  "links8", "links9", "txt", "nodata",
                  "nxdomain", "signed", "broken", "lame"]


def assert_case(case, r, code):
    assert r["status"] == case.status, r
    assert r["domain"] == case.domain and r["subdomain"] == case.sub
    assert code == (0 if case.status == "ok" else 1)
    if case.status == "loop" and len(case.chain) > 9:
        # eight links followed, the ninth refused
        assert r["chain"] == case.chain[:9], r
        assert r["reason"] == "more than 8 CNAME links", r
    else:
        assert r["chain"] == case.chain, r
    assert r["secure"] is case.secure, r
    if case.status == "ok":
        # the value was added at the account's name; its _acme-challenge
        # name holds values of its own (none here)
        at_challenge = case.chain[-1].startswith("_acme-challenge." + case.sub)
        assert r["values_visible"] == ([] if at_challenge else [VALUE]), r
        assert r["target"] is None
    else:
        assert r["values_visible"] is None
    if case.status == "wrong_target":
        assert r["target"] == case.target
        assert r["target_is_account"] is case.target_is_account
    else:
        assert r["target"] is None and r["target_is_account"] is None
    if case.status in ("loop", "bogus"):
        assert r["reason"], r
    if case.status == "servfail":
        assert r["reason"].startswith(f"the resolver answered SERVFAIL for {case.chain[-1]} "
                                      "CNAME"), r


@pytest.mark.parametrize("name", CUSTOMER_CASES)
def test_status_through_the_resolver(world, name):
    case = world.cases[name]
    code, r = world.fwd.one(case.domain, case.sub)
    assert_case(case, r, code)


@pytest.mark.parametrize("name", ["ok", "chain2", "other-account", "loop", "nxdomain", "txt",
                                  "signed", "broken", "lame"])
def test_status_iterating_from_the_root(world, name):
    case = world.cases[name]
    code, r = world.iter.one(case.domain, case.sub)
    assert_case(case, r, code)


def test_the_accounts_own_name_is_served_not_delegated(world):
    # a certificate for SUB.ZONE itself: acmens answers at its challenge name
    sub = world.cases.sub
    code, r = world.fwd.one(f"{sub}.{ZONE}", sub)
    assert code == 0 and r["status"] == "ok", r
    assert r["chain"] == [f"_acme-challenge.{sub}.{ZONE.rstrip('.')}"]
    assert r["values_visible"] == []
    # another account's: not this one's delegation
    code, r = world.fwd.one(f"{world.cases.other}.{ZONE}", sub)
    assert r["status"] == "missing", r


def test_names_are_taken_in_any_case(world):
    ok = world.cases["ok"]
    code, r = world.fwd.one(ok.domain.upper() + ".", ok.sub.upper())
    assert code == 0, r
    assert r["domain"] == ok.domain and r["subdomain"] == ok.sub
    assert r["chain"] == ok.chain


def test_bogus_names_the_validation_failure(world):
    _, r = world.fwd.one(world.cases["broken"].domain, world.cases.sub)
    assert r["secure"] is False
    assert "signature" in r["reason"].lower() or "crypto" in r["reason"].lower(), r


def test_wrong_target_nxdomain_says_it_does_not_exist(world):
    case = world.cases["wrong-typo-zone"]
    _, r = world.fwd.one(case.domain, case.sub)
    assert r["reason"] == f"{case.target} does not exist"


def test_servfail_from_a_resolver_that_refuses(world, tmp_path):
    # a resolver that answers REFUSED to everything: the check says servfail
    refusing = checker_at(world, tmp_path, f"{world.srv.addr}:53", 3)
    code, r = refusing.one(world.cases["ok"].domain, world.cases.sub)
    assert code == 1
    assert r["status"] == "servfail", r
    assert r["reason"].startswith("the resolver answered SERVFAIL for "
                                  f"_acme-challenge.{world.cases['ok'].domain} CNAME"), r


def test_timeout_from_a_resolver_that_never_answers(world, tmp_path):
    silent = private_addr(port=53, taken={world.customer_addr, world.root_addr,
                                          world.resolver_addr, world.srv.addr})
    checker = checker_at(world, tmp_path, f"{silent}:53", 1)
    code, r = checker.one(world.cases["ok"].domain, world.cases.sub)
    assert code == 1
    assert r["status"] == "timeout", r
    assert r["reason"] == "no answer within 1 second"
    assert r["ms"] >= 1000


def test_concurrency_bounds_the_checks_in_flight(world, tmp_path):
    """Four checks to a resolver that never answers, 2 s each: two at a time
    (delegation.concurrency) take two rounds, four at a time (--concurrency,
    which overrides it) one."""
    silent = private_addr(port=53, taken={world.customer_addr, world.root_addr,
                                          world.resolver_addr, world.srv.addr})
    checker = Checker(world.srv, str(tmp_path / "two.yaml"), {
        "resolvers": [f"{silent}:53"], "trust_anchor_file": world.trust_anchor_file,
        "timeout": 2, "concurrency": 2})
    ok = world.cases["ok"]
    path = write_pairs(tmp_path / "four.txt", [f"{ok.domain} {ok.sub}"] * 4)
    for args, rounds in (([], 2), (["--concurrency", "4"], 1)):
        t0 = time.monotonic()
        code, results, summary = checker.json("--file", path, *args)
        took = time.monotonic() - t0
        assert code == 1 and summary["summary"]["timeout"] == 4, summary
        assert 2.0 * rounds <= took < 2.0 * rounds + 1.5, (args, took)


def test_table_and_summary(world):
    case = world.cases["ok"]
    p = world.fwd.run(case.domain, case.sub)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0].split() == ["DOMAIN", "SUBDOMAIN", "STATUS", "SECURE", "DETAIL"]
    assert lines[1].split()[:4] == [case.domain, case.sub, "ok", "no"]
    assert f"values: {VALUE}" in lines[1]
    assert lines[-1] == "1 pair: 1 ok"
    # not a terminal: no progress line
    assert p.stderr == ""


def test_table_names_the_other_account(world):
    case = world.cases["other-account"]
    p = world.fwd.run(case.domain, case.sub)
    assert p.returncode == 1
    row = p.stdout.splitlines()[1]
    assert "wrong_target" in row and f"{case.target} (another account)" in row


def write_pairs(path, lines):
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return str(path)


def test_file_of_many_pairs(world, tmp_path):
    names = ["ok", "chain2", "txt", "nxdomain", "wrong-elsewhere", "loop", "other-account",
             "signed", "broken"]
    lines = ["# customers, one a line", "domain,subdomain"]
    expect = {}
    for i in range(300):
        case = world.cases[names[i % len(names)]]
        sep = "," if i % 2 else "  "
        lines.append(f"{case.domain}{sep}{case.sub}" + ("  # a comment" if i % 7 == 0 else ""))
        expect[case.status] = expect.get(case.status, 0) + 1
    path = write_pairs(tmp_path / "pairs.csv", lines)
    code, results, summary = world.fwd.json("--file", path, "--concurrency", "32")
    assert code == 1
    assert len(results) == 300
    counts = {s: n for s, n in summary["summary"].items() if n}
    assert counts == expect
    assert summary["pairs"] == 300
    for r in results:
        case = next(world.cases[n] for n in names if world.cases[n].domain == r["domain"])
        assert r["status"] == case.status, r


def test_file_all_ok_exits_0_and_table_keeps_file_order(world, tmp_path):
    ok = [world.cases[n] for n in ("ok", "ok-acme", "chain2", "signed")]
    path = write_pairs(tmp_path / "ok.txt", [f"{c.domain} {c.sub}" for c in ok])
    p = world.fwd.run("--file", path)
    assert p.returncode == 0, p.stdout + p.stderr
    rows = p.stdout.splitlines()[1:5]
    assert [r.split()[0] for r in rows] == [c.domain for c in ok]
    assert p.stdout.splitlines()[-1] == "4 pairs: 4 ok"


def test_bad_line_and_unknown_account_are_error_rows(world, tmp_path):
    ok = world.cases["ok"]
    path = write_pairs(tmp_path / "bad.txt", [
        f"{ok.domain} {ok.sub}",
        "only-one-field.example",
        f"{ok.domain} {ok.sub} extra",
        f"{ok.domain} nosuchaccount",
        f"{ok.domain} not_a_label",
        f'"{ok.domain}, {ok.sub}',
    ])
    code, results, summary = world.fwd.json("--file", path)
    assert code == 1
    errors = {r["line"]: r for r in results if "error" in r}
    assert errors[2]["error"] == "one field: expected DOMAIN SUBDOMAIN"
    assert errors[3]["error"] == "more than two fields: expected DOMAIN SUBDOMAIN"
    assert errors[4] == {"domain": ok.domain, "subdomain": "nosuchaccount",
                         "error": "no such account", "line": 4}
    assert errors[5]["error"].startswith("not an account name")
    assert errors[6]["error"] == "a double quote is not closed"
    assert summary["summary"]["ok"] == 1 and summary["summary"]["error"] == 5
    # the table names file and line
    p = world.fwd.run("--file", path)
    assert f"{path} line 4: no such account" in p.stdout
    assert p.stdout.splitlines()[-1] == "6 pairs: 1 ok, 5 error"


def test_unknown_account_on_the_command_line(world):
    code, results, summary = world.fwd.json(world.cases["ok"].domain, "nosuchaccount")
    assert code == 1
    assert results[0]["error"] == "no such account"


def test_standard_input(world):
    ok = world.cases["ok"]
    code, results, _ = world.fwd.json("--file", "-", stdin=f"{ok.domain} {ok.sub}\n")
    assert code == 0 and results[0]["status"] == "ok"


@pytest.mark.parametrize("args, word", [
    ([], "usage"),
    (["only-domain.example"], "usage"),
    (["a.example", "b", "c"], "usage"),
    (["--file"], "usage"),
    (["--concurrency", "0", "a.example", "b"], "--concurrency"),
])
def test_usage_errors(world, args, word):
    p = world.fwd.run(*args)
    assert p.returncode == 1
    assert word in p.stderr


def test_missing_file(world, tmp_path):
    p = world.fwd.run("--file", str(tmp_path / "none.txt"))
    assert p.returncode == 3
    assert "cannot read" in p.stderr and "No such file" in p.stderr


def test_bad_trust_anchor_file_is_named(world, tmp_path):
    bad = tmp_path / "bad.key"
    bad.write_text("this is not a trust anchor\n")
    checker = Checker(world.srv, str(tmp_path / "badta.yaml"), {
        "resolvers": [world.resolver], "trust_anchor_file": str(bad)})
    p = checker.run(world.cases["ok"].domain, world.cases.sub)
    assert p.returncode == 3
    assert f"delegation.trust_anchor_file {bad}: cannot be used (libunbound: parse error in " \
        f"{bad}" in p.stderr, p.stderr


def test_bad_root_hints_are_named(world, tmp_path):
    bad = tmp_path / "bad.hints"
    bad.write_text("these are not root hints\n")
    checker = Checker(world.srv, str(tmp_path / "badhints.yaml"), {
        "root_hints": str(bad), "trust_anchor_file": world.trust_anchor_file})
    p = checker.run(world.cases["ok"].domain, world.cases.sub)
    assert p.returncode == 3
    assert f"delegation.root_hints {bad}: cannot be used (libunbound: reading root hints " \
        f"{bad}" in p.stderr, p.stderr


def test_resolver_on_ipv6_loopback_without_a_server(world, tmp_path):
    checker = Checker(world.srv, str(tmp_path / "v6.yaml"), {
        "resolvers": ["[::1]:53"], "trust_anchor_file": world.trust_anchor_file,
        "timeout": 1})
    # accepted: libunbound takes any address; an unreachable one is a timeout
    # or a servfail, never a crash
    code, r = checker.one(world.cases["ok"].domain, world.cases.sub)
    assert code == 1 and r["status"] in ("timeout", "servfail"), r


def last_check(world, sub):
    out = json.loads(world.srv.ctl("account", "show", sub).stdout)
    return out["delegation"]


def test_result_kept_for_the_account(world, tmp_path):
    case = world.cases["txt"]
    before = int(time.time())
    world.fwd.one(case.domain, case.sub)
    kept = last_check(world, case.sub)
    assert kept["status"] == "not_delegated" and kept["secure"] is False
    assert kept["checked"] >= before
    # --no-record looks only
    case = world.cases["nxdomain"]
    code, r = world.fwd.one(case.domain, case.sub)
    assert r["status"] == "missing"
    assert last_check(world, case.sub)["status"] == "missing"
    ok = world.cases["ok"]
    code, results, _ = world.fwd.json("--no-record", ok.domain, ok.sub)
    assert results[0]["status"] == "ok"
    assert last_check(world, ok.sub)["status"] == "missing"
    # the last of many wins, for each account
    path = write_pairs(tmp_path / "two.txt", [f"{case.domain} {case.sub}",
                                               f"{ok.domain} {world.cases.other}",
                                               f"{ok.domain} {ok.sub}"])
    world.fwd.run("--file", path, "--concurrency", "1")
    assert last_check(world, ok.sub)["status"] == "ok"
    assert last_check(world, world.cases.other)["status"] == "wrong_target"


def test_progress_on_a_terminal(world, tmp_path):
    ok = world.cases["ok"]
    path = write_pairs(tmp_path / "p.txt", [f"{ok.domain} {ok.sub}"] * 20 + ["bad"])
    master, slave = pty.openpty()
    try:
        p = subprocess.run([ACMENSCTL, "-c", world.fwd.path, "delegation", "check", "--file",
                            path], stdout=subprocess.PIPE, stderr=slave, timeout=60)
        os.close(slave)
        slave = None
        err = b""
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            err += chunk
    finally:
        if slave is not None:
            os.close(slave)
        os.close(master)
    assert p.returncode == 1
    last = err.decode().replace("\r\n", "\n").split("\r")[-1]
    assert "21/21 checked" in last and "ok 20, error 1" in last, err


NOUNBOUND = os.environ.get("ACMENS_BUILD_NOUNBOUND")


@pytest.mark.skipif(not NOUNBOUND, reason="ACMENS_BUILD_NOUNBOUND names no build "
                    "configured --without-libunbound")
def test_built_without_libunbound(world):
    ctl = os.path.join(NOUNBOUND, "cli", "acmensctl")
    ok = world.cases["ok"]
    p = subprocess.run([ctl, "-c", world.fwd.path, "delegation", "check", ok.domain, ok.sub],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 3
    assert "built without libunbound" in p.stderr


def test_docs_tell_what_each_status_means():
    """docs/delegation.md: a section for every status a check gives (and
    acmensctl's error rows) saying what to tell the customer, and the exact
    record the customer must create."""
    with open(os.path.join(TOP, "docs", "delegation.md")) as f:
        text = f.read()
    sections = dict(re.findall(r"^### (\w+)[^\n]*\n(.*?)(?=^##|\Z)", text, re.M | re.S))
    assert list(sections) == STATUSES + ["error"]
    for status in STATUSES:
        assert "*Tell the customer:*" in sections[status], status
    assert re.search(r"^_acme-challenge\.DOMAIN\. +IN +CNAME +SUB\.ZONE\.$", text, re.M)
    for status in ("missing", "not_delegated", "wrong_target", "loop"):
        assert "SUB.ZONE." in sections[status], status
