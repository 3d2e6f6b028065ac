# SPDX-License-Identifier: ISC
"""acmensctl, the admin command line: account register (JSON and human
output, --allowfrom), txt add/remove/set/list (JSON and human), the zone
serial's behaviour, errors and their exit codes (with --json errors on
stdout), export as a zone file that dnspython loads, and changes made while
acmensd runs being served by the next query."""

import json
import re
import subprocess
import time

import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.zone
import pytest

from conftest import ACMENSCTL, ZONE, value

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
PASSWORD = re.compile(r"^[A-Za-z0-9_-]{40}$")
UNKNOWN_SUB = "00000000-0000-4000-8000-000000000000"

# exit codes (acmensctl --help)
OK, USAGE, NOTFOUND, STORE, REJECTED = 0, 1, 2, 3, 4


@pytest.fixture(scope="module")
def srv(shared_server):
    return shared_server


@pytest.fixture
def small(make_server):
    """A daemon whose names hold at most 3 values."""
    return make_server(txt_max_values=3)


def jrun(srv, *args):
    """Run acmensctl --json; returns (exit code, parsed stdout or None)."""
    p = srv.ctl(*args, check=False)
    out = json.loads(p.stdout) if p.stdout.strip() else None
    return p.returncode, out


def ok(srv, *args):
    rc, out = jrun(srv, *args)
    assert rc == OK, out
    return out


def listed(srv, sub):
    return sorted(v["value"] for v in ok(srv, "txt", "list", sub)["values"])


def served(srv, sub, tcp=False):
    r = srv.query(sub + "." + ZONE, "TXT", tcp=tcp)
    assert r.rcode() == dns.rcode.NOERROR
    return sorted(b"".join(rd.strings).decode() for rrset in r.answer for rd in rrset)


# --- account register ---------------------------------------------------------

def test_register_json(srv):
    acc = srv.register()
    assert set(acc) == {"username", "password", "subdomain", "fulldomain", "allowfrom"}
    assert UUID.match(acc["username"]), acc
    assert UUID.match(acc["subdomain"]), acc
    assert PASSWORD.match(acc["password"]), acc
    assert acc["fulldomain"] == acc["subdomain"] + ".auth.example.org"
    assert acc["allowfrom"] == []
    other = srv.register()
    assert other["username"] != acc["username"]
    assert other["subdomain"] != acc["subdomain"]
    assert other["password"] != acc["password"]
    # the new name exists (NODATA, not NXDOMAIN) and has no values
    r = srv.query(acc["fulldomain"] + ".", "TXT")
    assert r.rcode() == dns.rcode.NOERROR and r.answer == []
    assert ok(srv, "txt", "list", acc["subdomain"]) == {"subdomain": acc["subdomain"],
                                                       "values": []}


def test_register_allowfrom_echo(srv):
    acc = srv.register("192.0.2.0/24", "2001:db8::/32", "198.51.100.7/32")
    assert acc["allowfrom"] == ["192.0.2.0/24", "2001:db8::/32", "198.51.100.7/32"]
    # the option also works after the subcommand's own --json
    rc, out = jrun(srv, "account", "register", "--json", "--allowfrom", "10.0.0.0/8")
    assert rc == OK and out["allowfrom"] == ["10.0.0.0/8"]


def test_register_human(srv):
    p = srv.ctl("account", "register", "--allowfrom", "192.0.2.0/24", json_out=False)
    fields = dict(re.findall(r"^(\w+):\s+(\S+)$", p.stdout, re.M))
    assert list(fields) == ["username", "password", "subdomain", "fulldomain", "allowfrom"]
    assert UUID.match(fields["username"]) and UUID.match(fields["subdomain"])
    assert PASSWORD.match(fields["password"])
    assert fields["fulldomain"] == fields["subdomain"] + ".auth.example.org"
    assert fields["allowfrom"] == "192.0.2.0/24"
    assert len(p.stdout.splitlines()) == 5
    # the printed account is real
    assert ok(srv, "txt", "add", fields["subdomain"], value(1))["result"] == "ok"


@pytest.mark.parametrize("cidr", ["300.0.0.0/8", "10.0.0.0/33", "not-a-cidr", "",
                                  "2001:db8::/129", "10.0.0.0/-1", "10.0.0.0/8/8"])
def test_register_bad_allowfrom_creates_nothing(srv, cidr):
    before_serial = srv.serial()
    before_export = srv.ctl("export", json_out=False).stdout
    rc, out = jrun(srv, "account", "register", "--allowfrom", "192.0.2.0/24",
                   "--allowfrom", cidr)
    assert rc == REJECTED
    assert set(out) == {"error", "code"} and out["code"] == REJECTED
    assert cidr in out["error"]
    p = srv.ctl("account", "register", "--allowfrom", cidr, check=False, json_out=False)
    assert p.returncode == REJECTED and p.stdout == "" and "CIDR" in p.stderr
    assert srv.serial() == before_serial
    assert srv.ctl("export", json_out=False).stdout == before_export


# --- txt --------------------------------------------------------------------------

def test_txt_add_remove_set_list_json_and_serial(srv):
    sub = srv.register()["subdomain"]
    s0 = srv.serial()
    t0 = int(time.time())

    out = ok(srv, "txt", "add", sub, value(1))
    assert out == {"result": "ok", "subdomain": sub, "serial": s0 + 1}
    out = ok(srv, "txt", "add", sub, value(2), "--expires-in", "3600")
    assert out["serial"] == s0 + 2
    lst = ok(srv, "txt", "list", sub)
    assert lst["subdomain"] == sub
    by_value = {v["value"]: v for v in lst["values"]}
    assert set(by_value) == {value(1), value(2)}
    for v in by_value.values():
        assert set(v) == {"value", "set", "expires", "expired"}
        assert t0 - 1 <= v["set"] <= time.time() + 1
        assert v["expired"] is False
    assert by_value[value(1)]["expires"] is None
    assert abs(by_value[value(2)]["expires"] - (t0 + 3600)) <= 2
    assert served(srv, sub) == sorted([value(1), value(2)])

    assert ok(srv, "txt", "remove", sub, value(1))["serial"] == s0 + 3
    assert listed(srv, sub) == [value(2)]
    assert ok(srv, "txt", "set", sub, value(3), value(4), value(3))["serial"] == s0 + 4
    assert listed(srv, sub) == sorted([value(3), value(4)])
    # the same set again changes nothing, so the serial stays
    assert ok(srv, "txt", "set", sub, value(4), value(3))["serial"] == s0 + 4
    assert ok(srv, "txt", "set", sub)["serial"] == s0 + 5
    assert listed(srv, sub) == []
    assert srv.serial() == s0 + 5
    r = srv.query(sub + "." + ZONE, "TXT")
    assert r.rcode() == dns.rcode.NOERROR and r.answer == []


def test_txt_human_output(srv):
    sub = srv.register()["subdomain"]
    s0 = srv.serial()
    p = srv.ctl("txt", "add", sub, value(5), json_out=False)
    assert p.stdout == "ok, serial %d\n" % (s0 + 1)
    p = srv.ctl("txt", "add", sub, value(6), "--expires-in", "7200", json_out=False)
    assert p.stdout == "ok, serial %d\n" % (s0 + 2)
    p = srv.ctl("txt", "list", sub, json_out=False)
    lines = p.stdout.splitlines()
    assert lines[0].split() == ["VALUE", "SET", "EXPIRES"]
    rows = {l.split()[0]: l.split()[1:] for l in lines[1:]}
    assert set(rows) == {value(5), value(6)}
    stamp = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
    assert stamp.match(rows[value(5)][0]) and rows[value(5)][1] == "never"
    assert stamp.match(rows[value(6)][0]) and stamp.match(rows[value(6)][1])
    assert rows[value(6)][1] > rows[value(6)][0]
    p = srv.ctl("txt", "remove", sub, value(5), json_out=False)
    assert p.stdout == "ok, serial %d\n" % (s0 + 3)
    # an empty list prints nothing
    srv.ctl("txt", "set", sub, json_out=False)
    assert srv.ctl("txt", "list", sub, json_out=False).stdout == ""


def test_values_with_spaces_quotes_and_backslashes(srv):
    sub = srv.register()["subdomain"]
    odd = ['he said "hi"', "back\\slash", "semi;colon (paren)", " lead and trail ", "~" * 255]
    for v in odd:
        ok(srv, "txt", "add", sub, v)
    assert listed(srv, sub) == sorted(odd)
    assert served(srv, sub) == sorted(odd)


def test_refused_changes_keep_the_serial(small):
    sub = small.register()["subdomain"]
    ok(small, "txt", "add", sub, value(1))
    s = small.serial()
    cases = [
        (("txt", "add", sub, value(1)), REJECTED),            # duplicate
        (("txt", "remove", sub, value(9)), NOTFOUND),         # absent value
        (("txt", "add", UNKNOWN_SUB, value(1)), NOTFOUND),    # unknown subdomain
        (("txt", "add", sub, "bad\x01value"), REJECTED),
        (("txt", "set", sub, value(1), value(2), value(3), value(4)), REJECTED),
    ]
    for args, code in cases:
        rc, out = jrun(small, *args)
        assert rc == code, (args, out)
        assert small.serial() == s, args
    assert listed(small, sub) == [value(1)]


# --- errors and exit codes --------------------------------------------------------

@pytest.mark.parametrize("args", [
    ("txt", "add", UNKNOWN_SUB, "v"),
    ("txt", "remove", UNKNOWN_SUB, "v"),
    ("txt", "set", UNKNOWN_SUB, "v"),
    ("txt", "set", UNKNOWN_SUB),
    ("txt", "list", UNKNOWN_SUB),
], ids=["add", "remove", "set", "clear", "list"])
def test_unknown_subdomain_is_2(srv, args):
    rc, out = jrun(srv, *args)
    assert rc == NOTFOUND
    assert out["code"] == NOTFOUND and "not found" in out["error"]
    p = srv.ctl(*args, check=False, json_out=False)
    assert p.returncode == NOTFOUND and p.stdout == ""
    assert p.stderr.startswith("acmensctl: ") and "not found" in p.stderr


def test_remove_absent_is_2_and_duplicate_is_4(srv):
    sub = srv.register()["subdomain"]
    ok(srv, "txt", "add", sub, value(1))
    rc, out = jrun(srv, "txt", "remove", sub, value(2))
    assert rc == NOTFOUND and out["code"] == NOTFOUND
    assert "value not present" in out["error"]
    rc, out = jrun(srv, "txt", "add", sub, value(1))
    assert rc == REJECTED and out["code"] == REJECTED
    assert "already exists" in out["error"]
    assert listed(srv, sub) == [value(1)]


def test_too_many_values_is_4(small):
    sub = small.register()["subdomain"]
    for i in range(3):
        ok(small, "txt", "add", sub, value(i))
    rc, out = jrun(small, "txt", "add", sub, value(3))
    assert rc == REJECTED and "too many values" in out["error"]
    rc, out = jrun(small, "txt", "set", sub, *[value(i) for i in range(10, 14)])
    assert rc == REJECTED
    assert listed(small, sub) == sorted(value(i) for i in range(3))
    # duplicates in a set count once
    ok(small, "txt", "set", sub, value(20), value(20), value(21), value(22), value(21))
    assert listed(small, sub) == sorted([value(20), value(21), value(22)])
    # removing one makes room again
    ok(small, "txt", "remove", sub, value(20))
    ok(small, "txt", "add", sub, value(23))
    assert served(small, sub) == sorted([value(21), value(22), value(23)])


@pytest.mark.parametrize("bad", ["ctl\x01char", "tab\there", "x" * 256, "", "caf\u00e9",
                                 "del\x7f"],
                         ids=["control", "tab", "256-bytes", "empty", "non-ascii", "del"])
@pytest.mark.parametrize("verb", ["add", "set"])
def test_invalid_value_is_4(srv, bad, verb):
    sub = srv.register()["subdomain"]
    args = ("txt", verb, sub, bad) if verb == "add" else ("txt", "set", sub, value(1), bad)
    rc, out = jrun(srv, *args)
    assert rc == REJECTED, out
    assert out["code"] == REJECTED
    assert listed(srv, sub) == []


def test_255_bytes_is_fine(srv):
    sub = srv.register()["subdomain"]
    ok(srv, "txt", "add", sub, "y" * 255)
    assert served(srv, sub, tcp=True) == ["y" * 255]


@pytest.mark.parametrize("args", [
    (), ("frob",), ("txt",), ("txt", "frob", "x"), ("txt", "add"), ("txt", "add", "sub"),
    ("txt", "add", "sub", "a", "b"), ("txt", "remove", "sub"), ("txt", "list"),
    ("txt", "list", "sub", "extra"), ("txt", "set"), ("account",), ("account", "frob"),
    ("account", "register", "extra"), ("export", "extra"), ("--bogus",),
    ("txt", "add", "sub", "v", "--expires-in", "0"),
    ("txt", "add", "sub", "v", "--expires-in", "-5"),
    ("txt", "add", "sub", "v", "--expires-in", "soon"),
    ("txt", "remove", "sub", "v", "--expires-in", "10"),
    ("txt", "add", "sub", "v", "--frobnicate"),
], ids=lambda a: "-".join(a) or "none")
def test_usage_errors_are_1(srv, args):
    p = subprocess.run([ACMENSCTL, "-c", srv.config] + list(args), capture_output=True,
                       text=True, timeout=10)
    assert p.returncode == USAGE, (p.stdout, p.stderr)
    assert p.stdout == ""
    assert ("usage" in p.stderr or "--expires-in takes 1 to" in p.stderr or
            re.search(r"unknown (command|sub-command|option) '[a-z-]+'; see acmensctl",
                      p.stderr)), p.stderr


def test_usage_error_json(srv):
    rc, out = jrun(srv, "txt", "add", "sub")
    assert rc == USAGE
    assert out["code"] == USAGE and "usage" in out["error"]


@pytest.mark.parametrize("kind", ["missing", "directory", "bad-yaml", "bad-key"])
def test_unreadable_config_is_3(tmp_path, kind):
    path = tmp_path / "acmens.yaml"
    if kind == "directory":
        path = tmp_path
    elif kind == "bad-yaml":
        path.write_text("zone: [\n")
    elif kind == "bad-key":
        path.write_text("zone:\n  name: auth.example.org.\n  ns: [ns1.auth.example.org.]\n"
                        "  colour: blue\n")
    for args, code in ((["txt", "list", "x"], STORE), (["export"], STORE),
                       (["account", "register"], STORE)):
        p = subprocess.run([ACMENSCTL, "-c", str(path)] + args, capture_output=True,
                           text=True, timeout=10)
        assert p.returncode == code, p.stderr
        assert str(path) in p.stderr
        if kind == "bad-key":
            assert "%s:4: zone.colour: unknown key" % path in p.stderr
        if args == ["export"]:
            continue          # export has no JSON form (test_cli_json.py)
        p = subprocess.run([ACMENSCTL, "-c", str(path), "--json"] + args, capture_output=True,
                           text=True, timeout=10)
        assert p.returncode == code
        out = json.loads(p.stdout)
        assert out["code"] == code and str(path) in out["error"]


def test_help_and_version():
    p = subprocess.run([ACMENSCTL, "--help"], capture_output=True, text=True, timeout=10)
    assert p.returncode == 0 and "exit codes:" in p.stdout
    p = subprocess.run([ACMENSCTL, "--version"], capture_output=True, text=True, timeout=10)
    assert p.returncode == 0 and re.match(r"^acmensctl \d+\.\d+\.\d+\S*\n$", p.stdout)


# --- export -----------------------------------------------------------------------

def load_export(srv):
    p = srv.ctl("export", json_out=False)
    assert p.stdout.startswith("$ORIGIN auth.example.org.\n")
    return dns.zone.from_text(p.stdout, origin=ZONE, relativize=False, check_origin=True)


def zone_txt(zone):
    out = {}
    for name, node in zone.nodes.items():
        rds = node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.TXT)
        if rds:
            out[str(name)] = sorted(b"".join(rd.strings).decode() for rd in rds)
            assert rds.ttl == 1
    return out


def test_export_loads_and_is_complete(make_server):
    s = make_server()
    a = s.register()["subdomain"]
    b = s.register()["subdomain"]
    empty = s.register()["subdomain"]
    odd = 'quote " and \\ backslash; semi'
    ok(s, "txt", "add", a, value(1))
    ok(s, "txt", "add", a, value(2))
    ok(s, "txt", "add", a, value(3), "--expires-in", "1")
    ok(s, "txt", "add", b, odd)
    ok(s, "txt", "add", b, value(4), "--expires-in", "3600")

    z = load_export(s)
    soa = z.find_rdataset(ZONE, "SOA")
    assert soa[0].serial == s.serial()
    assert (soa[0].refresh, soa[0].retry, soa[0].expire, soa[0].minimum) == (3600, 600,
                                                                             604800, 60)
    assert str(soa[0].mname) == "ns1." + ZONE and soa.ttl == 3600
    assert sorted(str(rd.target) for rd in z.find_rdataset(ZONE, "NS")) == [
        "ns1.auth.example.org.", "ns2.example.net."]
    static = {
        ("ns1." + ZONE, "A"): ["127.0.0.1"],
        ("ns1." + ZONE, "AAAA"): ["::1"],
        (ZONE, "CAA"): ['0 issue "letsencrypt.org"'],
        (ZONE, "A"): ["192.0.2.1"],
        ("www." + ZONE, "CNAME"): [ZONE],
        ("mail." + ZONE, "MX"): ["10 ns1.auth.example.org."],
        ("host.deep." + ZONE, "A"): ["192.0.2.7"],
    }
    for (name, rdtype), want in static.items():
        assert sorted(rd.to_text() for rd in z.find_rdataset(name, rdtype)) == want
    assert zone_txt(z) == {
        a + "." + ZONE: sorted([value(1), value(2), value(3)]),
        b + "." + ZONE: sorted([odd, value(4)]),
    }
    assert empty + "." + ZONE not in zone_txt(z)
    # every exported TXT is what the daemon serves
    for name, values in zone_txt(z).items():
        assert served(s, name[:-len("." + ZONE)]) == values

    # once value(3) expired, it leaves the export as it leaves the answers
    deadline = time.time() + 4
    while time.time() < deadline and len(zone_txt(load_export(s))[a + "." + ZONE]) != 2:
        time.sleep(0.2)
    z = load_export(s)
    assert zone_txt(z)[a + "." + ZONE] == sorted([value(1), value(2)])
    assert served(s, a) == sorted([value(1), value(2)])
    # acmensctl still lists it, marked expired
    lst = {v["value"]: v for v in ok(s, "txt", "list", a)["values"]}
    assert lst[value(3)]["expired"] is True and lst[value(1)]["expired"] is False
    human = s.ctl("txt", "list", a, json_out=False).stdout
    assert re.search(r"^%s .*\(expired\)$" % re.escape(value(3)), human, re.M)

    # the serial in the export follows changes
    ok(s, "txt", "remove", b, odd)
    z = load_export(s)
    assert z.find_rdataset(ZONE, "SOA")[0].serial == s.serial()
    assert zone_txt(z)[b + "." + ZONE] == [value(4)]


def test_export_without_daemon(tmp_path, make_server):
    """export reads the store directly: it works with the daemon stopped."""
    s = make_server()
    sub = s.register()["subdomain"]
    ok(s, "txt", "add", sub, value(7))
    serial = s.serial()
    assert s.stop() == 0
    z = load_export(s)
    assert z.find_rdataset(ZONE, "SOA")[0].serial == serial
    assert zone_txt(z) == {sub + "." + ZONE: [value(7)]}


# --- live changes ---------------------------------------------------------------------

@pytest.mark.parametrize("tcp", [False, True], ids=["udp", "tcp"])
def test_changes_are_served_by_the_next_query(srv, tcp):
    sub = srv.register()["subdomain"]
    ok(srv, "txt", "add", sub, value(1))
    assert served(srv, sub, tcp) == [value(1)]
    ok(srv, "txt", "add", sub, value(2))
    assert served(srv, sub, tcp) == sorted([value(1), value(2)])
    ok(srv, "txt", "remove", sub, value(1))
    assert served(srv, sub, tcp) == [value(2)]
    ok(srv, "txt", "set", sub, value(3))
    assert served(srv, sub, tcp) == [value(3)]
    ok(srv, "txt", "set", sub)
    assert served(srv, sub, tcp) == []
    fresh = srv.register()["subdomain"]
    r = srv.query(fresh + "." + ZONE, "TXT", tcp=tcp)
    assert r.rcode() == dns.rcode.NOERROR and r.answer == []
