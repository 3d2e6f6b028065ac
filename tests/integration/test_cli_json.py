# SPDX-License-Identifier: ISC
"""acmensctl and the HTTP API print one JSON shape per object (account,
account list entry, TXT value, stats, audit entry, zone status, secondary,
lookup entry, TSIG key): the same keys and value types from both, null for
never or unknown, names without the final dot, times as Unix seconds
(docs/api.md, "JSON objects"). Also acmensctl's command line: global
options anywhere, help, unknown words named, --json refused where a command
has none; and tables whose columns line up with real names."""

import json
import os
import re
import subprocess
import time

import dns.message
import dns.query
import pytest

from conftest import ACMENSCTL, ZONE, register_ctl_secrets, start_http, value, wait_for

DOCS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs")

OK, USAGE = 0, 1
APEX = ZONE.rstrip(".")
NAME_KEYS = {"zone", "fulldomain", "qname", "name"}
TIME_KEYS = {"created", "updated", "set", "expires", "time", "last_seen", "sent"}
COMMANDS = ["account", "txt", "export", "check-config", "serial", "stats", "audit", "backup",
            "check-store", "tsig-keygen", "secondary-config", "status", "lookups", "config-drift",
            "delegation", "dnssec", "import-acmedns", "convert-acmedns-config", "help"]


def run(*args):
    """acmensctl with exactly these words: (exit code, stdout, stderr)."""
    p = subprocess.run([ACMENSCTL] + list(args), capture_output=True, text=True, timeout=60)
    register_ctl_secrets(p.stdout)
    return p.returncode, p.stdout, p.stderr


def cli(srv, *args):
    """acmensctl --json on srv's configuration: the parsed object."""
    rc, out, err = run("-c", srv.config, "--json", *args)
    assert rc == OK, err
    return json.loads(out)


def kind(v):
    return {type(None): "null", bool: "bool", int: "int", float: "number", str: "string",
            list: "list", dict: "object"}[type(v)]


def same_shape(a, b, where="$"):
    """a and b have the same keys at every level and values of the same
    type, where null stands for any type (never, unknown). Lists compare
    each element with the other side's first one (an empty list, such as
    an answer's values, shows no element shape)."""
    if a is None or b is None:
        return
    assert kind(a) == kind(b), f"{where}: {kind(a)} here, {kind(b)} there ({a!r} / {b!r})"
    if isinstance(a, dict):
        assert set(a) == set(b), f"{where}: keys {sorted(set(a) ^ set(b))} on one side only"
        for k in a:
            same_shape(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list):
        if not a or not b:
            return
        for x in a:
            same_shape(x, b[0], f"{where}[]")
        for y in b:
            same_shape(a[0], y, f"{where}[]")


def conventions(obj, where="$"):
    """Names without the final dot, times as integers or null, everywhere."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k in NAME_KEYS and isinstance(v, str):
                assert not v.endswith("."), f"{where}.{k} = {v!r} ends with a dot"
            if k in TIME_KEYS and not isinstance(v, (dict, list)):
                assert v is None or (isinstance(v, int) and not isinstance(v, bool)), \
                    f"{where}.{k} = {v!r} is no Unix time"
            conventions(v, f"{where}.{k}")
    elif isinstance(obj, list):
        for x in obj:
            conventions(x, f"{where}[]")


def both(cli_obj, api_obj):
    same_shape(cli_obj, api_obj)
    conventions(cli_obj)
    conventions(api_obj)


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """A daemon with the HTTP API whose transfer.notify names a second
    acmensd of the same zone, so that both acmensctl status and the API
    see a secondary that answers."""
    from conftest import _server_factory
    factory, finish = _server_factory(tmp_path_factory.mktemp("json"))
    secondary = factory()
    api = start_http(factory, zone={
        "extra_dns": f'transfer:\n  notify: ["127.0.0.1:{secondary.port}"]\n'})
    yield api
    finish()


@pytest.fixture(scope="module")
def acct(pair):
    """An account with a TSIG key, a value that never expires and one that
    does, and lookups of its name."""
    a = pair.register({"tsig": "hmac-sha256", "allowfrom": ["127.0.0.0/8"]})
    cli(pair.server, "txt", "add", a["subdomain"], value(1))
    cli(pair.server, "txt", "add", a["subdomain"], value(2), "--expires-in", "600")
    r = pair.call("POST", f"/v1/accounts/{a['subdomain']}/txt", {"value": value(3)},
                  headers=a["headers"])
    assert r.status_code == 201, r.text
    for rdtype in ("TXT", "A"):
        q = dns.message.make_query(a["fulldomain"] + ".", rdtype)
        dns.query.udp(q, "127.0.0.1", port=pair.server.port, timeout=2)
    return a


def test_account(pair, acct):
    sub = acct["subdomain"]
    mine = cli(pair.server, "account", "show", sub)
    theirs = pair.admin("GET", "/accounts/" + sub).json()
    both(mine, theirs)
    assert mine["fulldomain"] == theirs["fulldomain"] == f"{sub}.{APEX}"
    # the account's own view: the same, without what only the operator sees
    own = pair.call("GET", "/v1/accounts/" + sub, headers=acct["headers"]).json()
    both({k: v for k, v in mine.items() if k not in ("key_scheme", "tsig", "delegation")}, own)


def test_account_list_entry(pair, acct):
    mine = cli(pair.server, "account", "list")
    theirs = pair.admin("GET", "/accounts").json()
    both(mine, theirs)
    assert all("value_count" in a for a in mine["accounts"] + theirs["accounts"])


def test_txt_value(pair, acct):
    mine = cli(pair.server, "txt", "list", acct["subdomain"])["values"]
    r = pair.call("GET", f"/v1/accounts/{acct['subdomain']}/txt", headers=acct["headers"])
    theirs = r.json()["values"]
    both(mine, theirs)
    for values in (mine, theirs):
        by = {v["value"]: v for v in values}
        assert by[value(1)]["expires"] is None, "never is null"
        assert isinstance(by[value(2)]["expires"], int)
        assert by[value(1)]["expired"] is False


def test_stats(pair, acct):
    mine, theirs = cli(pair.server, "stats"), pair.stats()
    both(mine, theirs)
    assert all(kind(v) == "int" for v in mine.values())


def test_audit_entry(pair, acct):
    rc, out, err = run("-c", pair.server.config, "--json", "audit")
    assert rc == OK, err
    mine = [json.loads(line) for line in out.splitlines()]
    theirs = pair.admin("GET", "/audit").json()["events"]
    assert len(mine) == len(theirs) >= 3
    by_seq = {e["seq"]: e for e in theirs}
    for e in mine:
        both(e, by_seq[e["seq"]])
        assert e == by_seq[e["seq"]]
    # every actor written here is in the documented list
    doc = open(DOCS + "/acmensctl.md").read()
    actors = {e["actor"].split(":")[0] for e in mine}
    assert {"api", "cli", "account"} <= actors, actors
    for a in actors:
        assert re.search(r"^\| `%s[:`]" % a, doc, re.M), f"actor {a} not in docs/acmensctl.md"


def test_zone_status_and_secondary(pair, acct):
    wait_for(lambda: pair.call("GET", "/v1/zone/status").json()["secondaries"][0]["serial"],
             10)
    mine = cli(pair.server, "status")
    theirs = pair.call("GET", "/v1/zone/status").json()
    both(mine, theirs)
    assert mine["zone"] == theirs["zone"] == APEX
    row = mine["secondaries"][0]
    assert isinstance(row["serial"], int) and row["error"] is None
    health = pair.call("GET", "/v1/health").json()["secondaries"]
    both(health, theirs["secondaries"])


def test_secondary_without_answer(make_server):
    """A secondary that never answers: null serial and time in both, and
    acmensctl says why in "error"."""
    import socket
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))
    addr = "127.0.0.1:%d" % silent.getsockname()[1]
    api = start_http(make_server, zone={"extra_dns": f'transfer:\n  notify: ["{addr}"]\n'})
    try:
        mine = cli(api.server, "status", "--timeout", "200")
        theirs = api.call("GET", "/v1/zone/status").json()
    finally:
        silent.close()
    both(mine, theirs)
    row = mine["secondaries"][0]
    assert row["serial"] is None and row["last_seen"] is None and row["current"] is False
    assert row["error"] == "no answer"
    assert theirs["secondaries"][0]["serial"] is None


def test_lookup_entry(pair, acct):
    mine = cli(pair.server, "lookups", acct["subdomain"])
    theirs = pair.admin("GET", "/lookups?name=" + acct["subdomain"]).json()
    both(mine, theirs)
    assert {e["qname"] for e in mine["lookups"]} == {acct["fulldomain"]}


def test_tsig_key(pair, acct):
    mine = cli(pair.server, "account", "tsig-key", acct["subdomain"])
    both(mine, acct["tsig"])
    assert mine["name"] == acct["tsig"]["name"] == acct["fulldomain"]
    keygen = cli(pair.server, "tsig-keygen", "xfr.example.org.")
    both(keygen, mine)
    assert keygen["name"] == "xfr.example.org"


# --- the command line ---------------------------------------------------------

def test_json_refused_without_a_json_form(shared_server):
    for words in (["export"], ["help"], ["convert-acmedns-config", "config.cfg"]):
        rc, out, err = run("-c", shared_server.config, *words, "--json")
        assert rc == USAGE, err
        assert err.startswith(f"acmensctl: {words[0]}") and "--json does not apply" in err, err
        assert json.loads(out)["code"] == USAGE
    rc, out, err = run("-c", shared_server.config, "export")
    assert rc == OK and out.startswith("$ORIGIN "), err


def test_config_anywhere(shared_server):
    conf = shared_server.config
    want = cli(shared_server, "stats")["accounts"]
    for words in (["stats", "--json", "-c", conf], ["--json", "stats", "--config", conf],
                  ["stats", f"--config={conf}", "--json"], ["-c", conf, "stats", "--json"]):
        rc, out, err = run(*words)
        assert rc == OK, (words, err)
        assert json.loads(out)["accounts"] == want, words
    rc, out, err = run("stats", "-c")
    assert rc == USAGE and "acmensctl: -c needs a FILE" in err, err
    rc, out, err = run("stats", "-c", "/nonexistent/acmens.yaml")
    assert rc == 3 and "/nonexistent/acmens.yaml" in err, err


def test_config_after_dashdash_is_an_operand(shared_server):
    a = shared_server.register()
    rc, out, err = run("-c", shared_server.config, "txt", "remove", a["subdomain"], "--", "-c")
    assert rc == 2, err       # "-c" was looked for as a value, not taken as an option


def test_help_lists_every_command():
    rc, out, err = run("help")
    assert rc == OK, err
    rows = [line for line in out.splitlines() if line.startswith("  ")]
    names = []
    for line in rows:
        m = re.match(r"^  (\S+)  +(\S.*)$", line)
        assert m, f"not '  NAME  summary': {line!r}"
        names.append(m.group(1))
    assert names == COMMANDS


@pytest.mark.parametrize("words", [["account"], ["txt"], ["account", "list"], ["txt", "add"],
                                   ["audit"], ["lookups"], ["status"]])
def test_help_command_is_command_help(words):
    rc, out, err = run("help", *words)
    assert rc == OK, err
    rc2, out2, err2 = run(*words, "--help")
    assert rc2 == OK, err2
    assert out == out2 and out.startswith("usage: acmensctl [-c FILE] [--json] " + words[0])


@pytest.mark.parametrize("words,message", [
    (["frob"], "acmensctl: unknown command 'frob'; see acmensctl help\n"),
    (["help", "frob"], "acmensctl: unknown command 'frob'; see acmensctl help\n"),
    (["account", "frob"],
     "acmensctl: account: unknown sub-command 'frob'; see acmensctl help account\n"),
    (["txt", "frob", "x"], "acmensctl: txt: unknown sub-command 'frob'; see acmensctl help txt\n"),
    (["help", "txt", "frob"],
     "acmensctl: txt: unknown sub-command 'frob'; see acmensctl help txt\n"),
    (["dnssec", "frob", "--help"],
     "acmensctl: dnssec: unknown sub-command 'frob'; see acmensctl help dnssec\n"),
    (["--frob", "stats"], "acmensctl: unknown option '--frob'; see acmensctl --help\n"),
])
def test_unknown_words_are_named(words, message):
    rc, out, err = run(*words)
    assert rc == USAGE and err == message, (rc, err)


@pytest.mark.parametrize("words,said", [
    (["stats", "--frob"], "unknown option '--frob'; usage: stats"),
    (["stats", "--json", "--frob"], "unknown option '--frob'; usage: stats"),
    (["account", "list", "--frob"], "unknown option '--frob'; usage: account list "),
    (["account", "register", "--frob"], "unknown option '--frob'; usage: account register "),
    (["account", "register", "--allowfrom"], "--allowfrom needs a value; usage: account register "),
    (["account", "register", "extra"], "unexpected word 'extra'; usage: account register "),
    (["audit", "--limit"], "--limit needs a value; usage: audit "),
    (["status", "extra"], "unexpected word 'extra'; usage: status "),
    (["serial", "5"], "unexpected word '5'; usage: serial"),
    (["lookups", "a", "b"], "unexpected word 'b'; usage: lookups "),
    (["txt", "list", "sub", "v"], "unexpected word 'v'; usage: txt list "),
    (["txt", "add", "sub", "v1", "v2"], "unexpected word 'v2'; usage: txt add "),
    (["config-drift", "extra"], "unexpected word 'extra'; usage: config-drift"),
    (["dnssec", "ds", "extra"], "unexpected word 'extra'; usage: dnssec ds"),
])
def test_words_a_command_does_not_take_are_named(words, said):
    """The word is named, then the command's usage, on one line (with
    --json, in the error object too)."""
    rc, out, err = run(*words)
    assert rc == USAGE and err.startswith("acmensctl: " + said), err
    assert err.count("\n") == 1, err
    if "--json" in words:
        assert json.loads(out)["error"] == err[len("acmensctl: "):-1]


# --- tables -------------------------------------------------------------------

def columns(header):
    """(name, start, end) of each column of a table's header line."""
    return [(m.group(), m.start(), m.end()) for m in re.finditer(r"\S+", header)]


def lined_up(text, right=()):
    """Every row's cells start where their header does (right-aligned
    columns: end where it ends), one space at least before each."""
    lines = text.splitlines()
    cols = columns(lines[0])
    assert len(lines) > 1, text
    for line in lines[1:]:
        for i, (name, start, end) in enumerate(cols):
            padded = line + " "     # a row may end where its last cell does
            if name in right:
                assert len(line) >= end and padded[end - 1] != " " and padded[end] == " ", \
                    f"{name} does not end at {end}:\n{lines[0]}\n{line}"
            else:
                assert len(line) > start and line[start] != " " and \
                    (i == 0 or line[start - 1] == " "), \
                    f"{name} does not start at {start}:\n{lines[0]}\n{line}"
    return lines


def human(srv, *args):
    rc, out, err = run("-c", srv.config, *args)
    assert rc == OK, err
    return out


def test_tables_line_up_with_real_names(pair, acct):
    short = cli(pair.server, "account", "register", "--subdomain", "a")
    other = pair.register()
    for a in (short, other):
        r = pair.call("POST", f"/v1/accounts/{a['subdomain']}/txt", {"value": value(5)},
                      headers=pair.creds(a))
        assert r.status_code in (200, 201), r.text
    lines = lined_up(human(pair.server, "account", "list"), right={"VALUES"})
    assert any(line.startswith("a ") for line in lines)

    audit = human(pair.server, "audit", "--limit", "1000")
    lines = lined_up(audit, right={"SERIAL"})
    actors = [line for line in lines if "account:" + other["username"] in line]
    assert actors, audit      # a 44-character actor fits its column

    lined_up(human(pair.server, "txt", "list", acct["subdomain"]))

    long_name = ".".join(["x" * 60] * 3) + "." + acct["fulldomain"] + "."
    q = dns.message.make_query(long_name, "TXT")
    dns.query.udp(q, "127.0.0.1", port=pair.server.port, timeout=2)
    lined_up(human(pair.server, "lookups", acct["subdomain"]), right={"PORT", "EDNS"})
    out = human(pair.server, "lookups", long_name)
    lines = lined_up(out, right={"PORT", "EDNS"})
    assert any(long_name[:-1] in line for line in lines), out
    # status: the serial, then the table
    lined_up(human(pair.server, "status").split("\n", 1)[1], right={"SERIAL"})
