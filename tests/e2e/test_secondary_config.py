# SPDX-License-Identifier: ISC
"""acmensctl secondary-config knot|nsd|bind: Knot DNS, NSD and BIND 9 each
run with exactly what the command prints (the test adds only the server's
own listen options, which the command leaves to the operator, before it),
transfer the zone from acmensd with the configured TSIG key, and serve a
value written through the HTTP API once NOTIFY told them of it. Also the
command's errors, and tsig-keygen --format in each server's syntax, which
the servers' own checkers accept.

Skipped when knotd, nsd or named is not installed."""

import os
import shutil
import subprocess
import time

import dns.message
import dns.query
import pytest
import yaml

from conftest import (ACMENSCTL, HAVE_KNOTD, HAVE_NSD, KNOTD, NSD, Secondary, free_port, knot_server_conf,
                      nsd_server_conf, start_http, transfer_config, value)

NAMED = shutil.which("named") or "/usr/sbin/named"
NAMED_CHECKCONF = shutil.which("named-checkconf") or "/usr/bin/named-checkconf"
KNOTC = shutil.which("knotc") or "/usr/sbin/knotc"
NSD_CHECKCONF = shutil.which("nsd-checkconf") or "/usr/sbin/nsd-checkconf"
HAVE_NAMED = os.access(NAMED, os.X_OK) and os.access(NAMED_CHECKCONF, os.X_OK)
pytestmark = pytest.mark.skipif(not (HAVE_KNOTD and HAVE_NSD and HAVE_NAMED),
                                reason="knotd, nsd or named not installed")

SERVE_TIMEOUT = 15.0
KEY = "xfr-key"
USAGE, NOTFOUND = 1, 2


def named_server_conf(directory, port):
    """named.conf options for an authoritative-only named on
    127.0.0.1:port, its files in directory, no control channel."""
    return f"""options {{
    directory "{directory}";
    pid-file "{directory}/named.pid";
    session-keyfile "{directory}/session.key";
    managed-keys-directory "{directory}";
    listen-on port {port} {{ 127.0.0.1; }};
    listen-on-v6 {{ none; }};
    recursion no;
    dnssec-validation no;
}};
controls {{ }};
"""


# The part each server needs beside what secondary-config prints: where it
# listens and keeps its own files.
OWN_OPTIONS = {
    "knot": lambda d, port: knot_server_conf(d, port) + f"database:\n    storage: {d}\n",
    "nsd": nsd_server_conf,
    "bind": named_server_conf,
}


class Generated(Secondary):
    """A secondary on 127.0.0.1:port whose configuration is its own options
    followed by text, secondary-config's output, as it is."""

    def __init__(self, kind, tmpdir, port, primary, text):
        self.kind, self.name, self.text = kind, {"knot": "knotd", "nsd": "nsd",
                                                 "bind": "named"}[kind], text
        super().__init__(tmpdir, port, primary)

    def write_config(self):
        self.conf = os.path.join(self.dir, f"{self.kind}.conf")
        with open(self.conf, "w") as f:
            f.write(OWN_OPTIONS[self.kind](self.dir, self.port) + self.text)

    def argv(self):
        if self.kind == "knot":
            return [KNOTD, "-c", self.conf, "-s", os.path.join(self.dir, "knot.sock")]
        if self.kind == "nsd":
            return [NSD, "-d", "-c", self.conf]
        return [NAMED, "-g", "-n", "1", "-c", self.conf]


def secondary_config(srv, kind, directory):
    p = srv.ctl("secondary-config", kind, "--primary", f"127.0.0.1:{srv.port}", "--key", KEY,
                "--dir", str(directory), json_out=False)
    return p.stdout


def txt_values(port, name):
    r = dns.query.udp(dns.message.make_query(name, "TXT"), "127.0.0.1", port=port, timeout=0.5)
    return sorted(b"".join(rd.strings).decode() for rrset in r.answer for rd in rrset)


def wait_serves(sec, name, want, timeout=SERVE_TIMEOUT):
    deadline = time.time() + timeout
    got = None
    while time.time() < deadline:
        try:
            got = txt_values(sec.port, name)
        except Exception:   # not answering (yet)
            got = None
        if got == want:
            return
        time.sleep(0.1)
    raise AssertionError(f"{sec.name} serves {got}, not {want}, after {timeout}s:\n"
                         + sec.read_log()[-3000:])


def test_each_server_runs_the_printed_config_and_serves_an_api_write(make_server, tmp_path):
    kinds = ("knot", "nsd", "bind")
    ports = {}
    for k in kinds:
        ports[k] = free_port()
        while list(ports.values()).count(ports[k]) > 1:
            ports[k] = free_port()
    api = start_http(make_server, admin_token=None, register_rate=0,
                     zone={"extra_dns": transfer_config(list(ports.values()), 100)})
    srv = api.server
    secondaries = []
    try:
        for k in kinds:
            d = tmp_path / k
            d.mkdir()
            text = secondary_config(srv, k, d)
            # what the command promises, before any server reads it
            assert f"127.0.0.1@{srv.port}" in text or f"127.0.0.1 port {srv.port}" in text
            assert "auth.example.org" in text and KEY in text
            sec = Generated(k, d, ports[k], srv.port, text)
            if k == "bind":
                p = subprocess.run([NAMED_CHECKCONF, sec.conf], capture_output=True, text=True,
                                   timeout=30)
                assert p.returncode == 0, p.stdout + p.stderr
            assert sec.conf and open(sec.conf).read().endswith(text)
            secondaries.append(sec.start(timeout=20))
        acct = api.register()
        name = acct["fulldomain"] + "."
        for sec in secondaries:
            wait_serves(sec, name, [])
        r = api.call("POST", "/update", {"subdomain": acct["subdomain"], "txt": value(7)},
                     headers=acct["headers"])
        assert r.status_code == 200, r.text
        for sec in secondaries:
            wait_serves(sec, name, [value(7)])
        # the zone file went where --dir said (NSD writes its zone files
        # only when told to, or every zonefiles-write seconds: off here)
        for sec in secondaries[:1] + secondaries[2:]:
            assert os.path.exists(os.path.join(sec.dir, "auth.example.org.zone")), \
                (sec.name, os.listdir(sec.dir))
    finally:
        for sec in secondaries:
            sec.stop()


def test_secondary_config_errors(make_server):
    s = make_server(start=False, extra_dns=transfer_config([], 10))

    def run(*args):
        return s.ctl("secondary-config", *args, check=False, json_out=False)

    p = run("knot", "--primary", "192.0.2.1", "--key", "other-key")
    assert p.returncode == NOTFOUND and "no key 'other-key' in the tsig: list" in p.stderr
    assert p.stdout == ""
    p = run("knot", "--primary", "ns1.example.org", "--key", KEY)
    assert p.returncode == USAGE and "--primary 'ns1.example.org'" in p.stderr
    p = run("knot", "--primary", "192.0.2.1:99999", "--key", KEY)
    assert p.returncode == USAGE and "--primary" in p.stderr
    p = run("powerdns", "--primary", "192.0.2.1", "--key", KEY)
    assert p.returncode == USAGE and "unknown server 'powerdns'" in p.stderr
    p = run("nsd", "--key", KEY)
    assert p.returncode == USAGE and "--primary ADDRESS" in p.stderr
    p = run("nsd", "--primary", "192.0.2.1", "--key", KEY, "--dir", 'relative/"dir')
    assert p.returncode == USAGE and "--dir" in p.stderr
    # defaults: port 53, each server's usual directory; IPv6 as each writes it
    p = run("bind", "--primary", "[2001:db8::53]", "--key", "XFR-KEY.")
    assert p.returncode == 0, p.stderr
    assert "2001:db8::53 port 53 key \"xfr-key\";" in p.stdout
    assert 'file "/var/cache/bind/auth.example.org.zone";' in p.stdout
    p = run("knot", "--primary", "[2001:db8::53]:5353", "--key", KEY)
    assert "address: 2001:db8::53@5353" in p.stdout and "storage: /var/lib/knot" in p.stdout
    p = run("nsd", "--primary", "192.0.2.1", "--key", KEY)
    assert "request-xfr: 192.0.2.1@53 xfr-key" in p.stdout
    assert 'zonefile: "/var/lib/nsd/auth.example.org.zone"' in p.stdout


def test_tsig_keygen_formats_pass_each_servers_checker(tmp_path):
    config = str(tmp_path / "none.yaml")      # never read

    def keygen(*args):
        return subprocess.run([ACMENSCTL, "-c", config, "tsig-keygen", *args],
                              capture_output=True, text=True, timeout=30)

    out = {}
    for fmt in ("acmens", "bind", "knot", "nsd"):
        p = keygen("xfr.example.net", "--algorithm", "hmac-sha384", "--format", fmt)
        assert p.returncode == 0, p.stderr
        out[fmt] = p.stdout
    (entry,) = yaml.safe_load(out["acmens"])["tsig"]
    assert entry["name"] == "xfr.example.net" and entry["algorithm"] == "hmac-sha384"
    checks = {"bind": lambda path: [NAMED_CHECKCONF, path],
              "knot": lambda path: [KNOTC, "-c", path, "conf-check"],
              "nsd": lambda path: [NSD_CHECKCONF, path]}
    for fmt, argv in checks.items():
        path = tmp_path / f"{fmt}.conf"
        path.write_text(out[fmt])
        p = subprocess.run(argv(str(path)), capture_output=True, text=True, timeout=30)
        assert p.returncode == 0, (fmt, p.stdout, p.stderr, out[fmt])
        assert "hmac-sha384" in out[fmt] and "xfr.example.net" in out[fmt]
    # a broken key is refused by the checker, so the checks above mean something
    bad = tmp_path / "bad.conf"
    bad.write_text(out["bind"].replace("algorithm", "algorithmus"))
    assert subprocess.run([NAMED_CHECKCONF, str(bad)], capture_output=True).returncode != 0
    # each printed each only its own: no acmens YAML in the server formats
    assert all("tsig:" not in out[f] for f in checks)
    p = keygen("k", "--format", "powerdns")
    assert p.returncode == USAGE and "unknown --format 'powerdns'" in p.stderr
    p = keygen("a\\032b", "--format", "knot")
    assert p.returncode == USAGE and "letters, digits" in p.stderr
