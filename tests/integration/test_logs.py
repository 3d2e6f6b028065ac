# SPDX-License-Identifier: ISC
"""The log lines operators read at the default level (info), as
docs/operations.md ("Logs") describes them, from acmensd's own output in
JSON: one per transfer served (AXFR with kdig, IXFR with dnspython, over
TCP and UDP), per refused UPDATE and transfer with its reason, per NOTIFY
round, and per API request when http.access_log is on, which never holds
an API key, a TXT value or a query string."""

import json
import re
import shutil
import signal
import socket
import subprocess
import threading

import dns.message
import dns.name
import dns.opcode
import dns.query
import dns.rcode
import dns.rrset
import dns.tsig
import dns.tsigkeyring
import dns.update
import pytest

from conftest import ZONE, _server_factory, start_http, value, wait_for
from test_xfr import (HAVE_KDIG, JOURNAL, KDIG, KEYRING, OTHER_SECRET, TRANSFER_CONFIG,
                      XFR_SECRET, fill)

HAVE_NSUPDATE = shutil.which("nsupdate") is not None

JSON_LOG = {"format": "json"}


def log_events(server, msg=None):
    """The daemon's JSON lines (others, e.g. a sanitizer's, are skipped),
    those with this msg only when given."""
    out = []
    for line in server.read_log().splitlines():
        if line.startswith("{"):
            f = json.loads(line)
            if msg is None or f["msg"] == msg:
                out.append(f)
    return out


def wait_event(server, msg, pred=lambda f: True, timeout=5):
    """The first line with msg for which pred holds, waiting for it."""
    found = []

    def look():
        found[:] = [f for f in log_events(server, msg) if pred(f)]
        return bool(found)
    assert wait_for(look, timeout), f"no {msg!r} line:\n{server.read_log()}"
    return found[0]


# --- transfers ---------------------------------------------------------------

@pytest.fixture(scope="module")
def xsrv(tmp_path_factory):
    factory, finish = _server_factory(tmp_path_factory.mktemp("logs_xfr"))
    yield factory(extra_dns=TRANSFER_CONFIG, log_extra=JSON_LOG)
    finish()


def transfer_lines(server, **want):
    return [f for f in log_events(server, "transfer")
            if all(f.get(k) == v for k, v in want.items())]


@pytest.mark.skipif(not HAVE_KDIG, reason="kdig not installed")
def test_axfr_line_with_kdig(xsrv):
    fill(xsrv, base=100)
    serial = xsrv.serial()
    p = subprocess.run([KDIG, "@127.0.0.1", "-p", str(xsrv.port), "-y",
                        f"hmac-sha256:xfr-key:{XFR_SECRET}", "AXFR", ZONE],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stdout + p.stderr
    # ";; Received 1234 B (1 messages, 20 records)"
    m = re.search(r"Received (\d+) B \((\d+) messages?, (\d+) records?\)", p.stdout)
    assert m, p.stdout
    f = wait_event(xsrv, "transfer", lambda f: f["type"] == "AXFR" and f["serial"] == serial)
    assert f["level"] == "info" and f["client"] == "127.0.0.1" and f["key"] == "xfr-key."
    assert f["from_serial"] == "-" and f["transport"] == "tcp"
    assert (f["bytes"], f["messages"], f["records"]) == tuple(int(x) for x in m.groups())
    assert isinstance(f["ms"], float) and 0 <= f["ms"] < 10000
    assert "error" not in f


def ixfr(server, serial, tcp=True):
    if tcp:
        return list(dns.query.xfr("127.0.0.1", ZONE, rdtype="IXFR", serial=serial,
                                  port=server.port, timeout=10, lifetime=30,
                                  keyring=KEYRING, keyname="xfr-key.",
                                  keyalgorithm="hmac-sha256"))
    q = dns.message.make_query(ZONE, "IXFR")
    q.authority.append(dns.rrset.from_text(ZONE, 0, "IN", "SOA",
                                           f"ns1.{ZONE} h.example.org. {serial} 1 1 1 1"))
    q.use_tsig(KEYRING, keyname="xfr-key.")
    raw = server.send_raw_udp(q.to_wire(), timeout=5)
    dns.message.from_wire(raw, keyring=KEYRING, request_mac=q.mac)   # checks the TSIG
    return [raw]


def test_ixfr_lines_by_type(xsrv):
    sub = fill(xsrv, accounts=1, values=1, base=200)[0]
    start = xsrv.serial()
    xsrv.ctl("txt", "add", sub, "--", value(201))
    end = xsrv.serial()
    msgs = ixfr(xsrv, start)
    f = wait_event(xsrv, "transfer", lambda f: f["type"] == "IXFR" and f["serial"] == end)
    assert f["from_serial"] == str(start) and f["key"] == "xfr-key."
    assert f["messages"] == len(msgs) and f["transport"] == "tcp"
    assert f["records"] == sum(len(rrset) for m in msgs for rrset in m.answer)
    # the client is current: one SOA, over TCP and over UDP
    ixfr(xsrv, end)
    f = wait_event(xsrv, "transfer", lambda f: f["type"] == "IXFR-UPTODATE")
    assert (f["from_serial"], f["serial"], f["records"], f["transport"]) == (str(end), end, 1,
                                                                            "tcp")
    r = ixfr(xsrv, end, tcp=False)[0]
    f = wait_event(xsrv, "transfer", lambda f: f["transport"] == "udp")
    assert (f["type"], f["from_serial"], f["serial"], f["records"]) == ("IXFR-UPTODATE",
                                                                         str(end), end, 1)
    assert f["bytes"] == len(r) and f["key"] == "xfr-key."
    # older than the journal: the whole zone, said so
    for i in range(JOURNAL + 1):
        xsrv.ctl("txt", "set", sub, "--", value(210 + i))
    ixfr(xsrv, start)
    f = wait_event(xsrv, "transfer", lambda f: f["type"] == "IXFR-AXFR")
    assert f["from_serial"] == str(start) and f["serial"] == xsrv.serial()


def test_refused_axfr_says_why(xsrv):
    q = dns.message.make_query(ZONE, "AXFR")
    r = dns.message.from_wire(xsrv.send_raw_tcp(q.to_wire(), timeout=5))
    assert r.rcode() == dns.rcode.REFUSED
    f = wait_event(xsrv, "transfer refused")
    assert f["level"] == "info" and f["client"] == "127.0.0.1" and f["type"] == "AXFR"
    assert f["key"] == "none" and f["qname"] == ZONE
    assert f["reason"] == "no transfer.allow entry matches the address and key"
    # a bad signature with the right key's name: the TSIG line says which
    bad = dns.tsigkeyring.from_text({"xfr-key.": ("hmac-sha256", OTHER_SECRET)})
    q = dns.message.make_query(ZONE, "AXFR")
    q.use_tsig(bad, keyname="xfr-key.")
    xsrv.send_raw_tcp(q.to_wire(), timeout=5)
    f = wait_event(xsrv, "TSIG refused", lambda f: f["kind"] == "transfer")
    assert (f["tsig"], f["key"], f["reason"]) == ("BADSIG", "xfr-key.",
                                                  "TSIG signature does not verify")
    assert not transfer_lines(xsrv, key="none")


def test_refused_transfer_names_the_key_and_the_apex(make_server):
    s = make_server(extra_dns=TRANSFER_CONFIG, log_extra=JSON_LOG)
    other = dns.tsigkeyring.from_text({"other-key.": ("hmac-sha256", OTHER_SECRET)})
    q = dns.message.make_query("www." + ZONE, "AXFR")
    q.use_tsig(KEYRING, keyname="xfr-key.")
    assert dns.query.tcp(q, "127.0.0.1", port=s.port, timeout=5).rcode() == dns.rcode.REFUSED
    f = wait_event(s, "transfer refused")
    assert (f["key"], f["reason"], f["qname"]) == ("xfr-key.", "not the zone's apex",
                                                   "www." + ZONE)
    # refusals of one kind are logged once in a while: the next is left out
    q = dns.message.make_query(ZONE, "AXFR")
    q.use_tsig(other, keyname="other-key.")
    assert dns.query.tcp(q, "127.0.0.1", port=s.port, timeout=5).rcode() == dns.rcode.REFUSED
    s.query(ZONE, "SOA")
    assert len(log_events(s, "transfer refused")) == 1


# --- dynamic updates -----------------------------------------------------------

@pytest.fixture(scope="module")
def usrv(tmp_path_factory):
    factory, finish = _server_factory(tmp_path_factory.mktemp("logs_upd"))
    yield factory(extra_dns="update:\n  enabled: true\n", log_extra=JSON_LOG)
    finish()


def account(server, *allowfrom):
    sub = server.register(*allowfrom)["subdomain"]
    key = json.loads(server.ctl("account", "tsig-key", sub).stdout)
    key["name"] = key["name"].rstrip(".") + "."
    return sub, key


def update(server, key, name=None, rdtype="TXT", data="v", secret=None, prereq=None):
    """One signed UPDATE over UDP; the answer's RCODE name (or the TSIG
    error the answer carries)."""
    ring = dns.tsigkeyring.from_text({key["name"]: ("hmac-sha256", secret or key["secret"])})
    u = dns.update.UpdateMessage(ZONE, keyring=ring, keyname=key["name"],
                                 keyalgorithm="hmac-sha256")
    if prereq:
        u.present(*prereq)
    u.add(name or key["name"], 60, rdtype, data)
    try:
        return dns.rcode.to_text(dns.query.udp(u, "127.0.0.1", port=server.port,
                                               timeout=5).rcode())
    except dns.tsig.PeerBadSignature:
        return "BADSIG"
    except dns.tsig.PeerBadKey:
        return "BADKEY"


def refused(server, pred):
    return wait_event(server, "update refused", pred)


def test_refused_update_reason_and_account(usrv):
    sub, key = account(usrv)
    # signed by the account, for a name that is not its own
    other = "www." + ZONE
    assert update(usrv, key, name=other) == "REFUSED"
    f = refused(usrv, lambda f: f.get("account") == sub)
    assert (f["level"], f["client"], f["rcode"], f["reason"]) == (
        "info", "127.0.0.1", "REFUSED", "name outside the account")
    # a type other than TXT at its own name
    assert update(usrv, key, rdtype="A", data="192.0.2.9") == "REFUSED"
    refused(usrv, lambda f: f["reason"] == "type other than TXT" and f["account"] == sub)
    # a prerequisite that fails in the store
    assert update(usrv, key, prereq=(key["name"], "TXT", "absent")) == "NXRRSET"
    f = refused(usrv, lambda f: f["rcode"] == "NXRRSET")
    assert (f["account"], f["reason"]) == (sub, "prerequisite not met")
    # the wrong secret for a real key: the TSIG failure, and whose key
    assert update(usrv, key, secret=OTHER_SECRET) == "BADSIG"
    f = refused(usrv, lambda f: f["rcode"] == "NOTAUTH")
    assert (f["reason"], f["key"], f["account"]) == ("TSIG signature does not verify",
                                                     key["name"], sub)
    # a key nobody has: named, no account
    ghost = dict(key, name="nobody." + ZONE)
    assert update(usrv, ghost) == "BADKEY"
    f = refused(usrv, lambda f: f["reason"] == "unknown TSIG key")
    assert f["key"] == "nobody." + ZONE and "account" not in f
    # an update that goes through is one "update" line, without a reason
    assert update(usrv, key, data="fine") == "NOERROR"
    f = wait_event(usrv, "update", lambda f: f["account"] == sub)
    assert f["rcode"] == "NOERROR" and "reason" not in f


def test_refused_update_from_outside_allowfrom(usrv):
    sub, key = account(usrv, "10.0.0.0/8")
    assert update(usrv, key) == "REFUSED"
    f = refused(usrv, lambda f: f.get("account") == sub)
    assert f["reason"] == "client not in the account's allowfrom" and f["key"] == key["name"]


@pytest.mark.skipif(not HAVE_NSUPDATE, reason="nsupdate not installed")
def test_unsigned_update_with_nsupdate(usrv):
    script = f"server 127.0.0.1 {usrv.port}\nzone {ZONE}\nupdate add x.{ZONE} 60 TXT v\nsend\n"
    p = subprocess.run(["nsupdate"], input=script, capture_output=True, text=True, timeout=30)
    assert p.returncode != 0 and "REFUSED" in p.stdout + p.stderr
    f = refused(usrv, lambda f: f["reason"] == "not signed (no TSIG)")
    assert f["key"] == "none" and f["client"] == "127.0.0.1"


# --- NOTIFY rounds -----------------------------------------------------------

class Secondary:
    """A UDP socket answering NOTIFY: rcode NOERROR or another, from the
    try-th NOTIFY on (earlier ones are ignored)."""

    def __init__(self, rcode=dns.rcode.NOERROR, answer_from=1):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.addr = "127.0.0.1:%d" % self.sock.getsockname()[1]
        self.rcode, self.answer_from, self.notifies = rcode, answer_from, 0
        self.stop = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop:
            try:
                data, peer = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            q = dns.message.from_wire(data)
            if q.opcode() != dns.opcode.NOTIFY:
                continue            # SOA probes go unanswered
            self.notifies += 1
            if self.notifies < self.answer_from:
                continue
            r = dns.message.make_response(q)
            r.set_rcode(self.rcode)
            self.sock.sendto(r.to_wire(), peer)

    def close(self):
        self.stop = True
        self.thread.join()
        self.sock.close()


def test_notify_round_line(make_server):
    secs = [Secondary(), Secondary(dns.rcode.REFUSED), Secondary(answer_from=2)]
    try:
        targets = ", ".join(f'"{s.addr}"' for s in secs)
        srv = make_server(extra_dns=f"transfer:\n  notify: [{targets}]\n", log_extra=JSON_LOG)
        serial = srv.serial()
        # the late one acks the resend, a second later
        f = wait_event(srv, "notify round", timeout=10)
        assert (f["level"], f["serial"], f["secondaries"]) == ("info", serial, 3)
        assert (f["acked"], f["refused"], f["unanswered"], f["superseded"]) == (2, 1, 0, 0)
        assert f["ms"] >= 900 and secs[2].notifies == 2
        refusal = wait_event(srv, "notify refused; not retrying")
        assert refusal["secondary"] == secs[1].addr and refusal["level"] == "warning"
        # a new serial: a new round
        sub = srv.register()["subdomain"]
        srv.ctl("txt", "set", sub, "--", value(1))
        new = srv.serial()
        f = wait_event(srv, "notify round", lambda f: f["serial"] == new, timeout=10)
        assert f["secondaries"] == 3 and f["acked"] + f["refused"] == 3
    finally:
        for s in secs:
            s.close()


def test_notify_round_waits_for_a_silent_secondary(make_server):
    """A secondary that never answers holds its round open (its retries
    run for about 4 minutes); the next serial's round replaces it, and the
    line counts it as superseded."""
    secs = [Secondary(), Secondary(answer_from=1000)]
    try:
        targets = ", ".join(f'"{s.addr}"' for s in secs)
        srv = make_server(extra_dns=f"transfer:\n  notify: [{targets}]\n", log_extra=JSON_LOG)
        first = srv.serial()
        assert wait_for(lambda: secs[0].notifies == 1 and secs[1].notifies >= 2, 5)
        assert log_events(srv, "notify round") == []
        sub = srv.register()["subdomain"]
        srv.ctl("txt", "set", sub, "--", value(2))
        f = wait_event(srv, "notify round", timeout=5)
        assert (f["serial"], f["secondaries"], f["acked"], f["refused"]) == (first, 2, 1, 0)
        assert (f["unanswered"], f["superseded"]) == (0, 1)
    finally:
        for s in secs:
            s.close()


# --- the HTTP access log -------------------------------------------------------

def api_traffic(api):
    """A registration, an update, a read, a delete with the value in the
    path and a query string, a 404; returns (secrets, [(method, path as
    logged, status, bytes)])."""
    acct = api.register()
    sub, creds = acct["subdomain"], acct["headers"]
    txt = value(4242)
    calls = []

    def call(method, path, logged, body=None, headers=None):
        r = api.call(method, path, body, headers)
        calls.append((method, logged, r.status_code, len(r.content)))
        return r

    calls.append(("POST", "/v1/register", 201, None))
    assert call("POST", "/update", "/update", {"subdomain": sub, "txt": txt},
                creds).status_code == 200
    assert call("GET", f"/v1/accounts/{sub}/txt?api_key={creds['X-Api-Key']}",
                f"/v1/accounts/{sub}/txt", None,
                dict(creds, **{"X-Request-Id": "req-42"})).status_code == 200
    assert call("DELETE", f"/v1/accounts/{sub}/txt/{txt}", f"/v1/accounts/{sub}/txt/:value",
                None, creds).status_code in (200, 204)
    assert call("GET", "/nowhere?token=" + txt, "/nowhere").status_code == 404
    return (acct["password"], txt, "api_key=", "token="), sub, calls


def test_access_log_on(make_server):
    api = start_http(make_server, access_log=True, zone={"log_extra": JSON_LOG})
    secrets, sub, calls = api_traffic(api)
    wait_for(lambda: len(log_events(api.server, "http")) >= len(calls), 5)
    lines = log_events(api.server, "http")
    assert len(lines) == len(calls), lines
    for f, (method, path, status, size) in zip(lines, calls):
        assert f["level"] == "info" and f["client"] == "127.0.0.1"
        assert (f["method"], f["path"], f["status"]) == (method, path, status)
        if size is not None:
            assert f["bytes"] == size
        assert isinstance(f["ms"], float)
    assert "account" not in lines[0] and "account" not in lines[-1]
    assert [f.get("account") for f in lines[1:4]] == [sub] * 3
    assert lines[2]["request_id"] == "req-42" and "request_id" not in lines[1]
    log = api.server.read_log()
    for s in secrets:
        assert s not in log, s


def test_access_log_off_then_on_by_reload(make_server):
    api = start_http(make_server, zone={"log_extra": JSON_LOG})
    secrets, _, calls = api_traffic(api)
    api.server.query(ZONE, "SOA")
    assert log_events(api.server, "http") == []
    api.server.reconfigure(http=dict(api.server.cfg["http"], access_log=True))
    api.server.proc.send_signal(signal.SIGHUP)
    wait_event(api.server, "configuration reloaded")
    assert api.call("GET", "/v1/health").status_code in (200, 503)
    f = wait_event(api.server, "http")
    assert (f["path"], f["level"]) == ("/v1/health", "info")
    assert len(log_events(api.server, "http")) == 1
    for s in secrets:
        assert s not in api.server.read_log(), s


def test_access_log_client_behind_a_trusted_proxy(make_server):
    """The line names the client the proxy header gives, read from the
    right past the trusted proxies; a HEAD's body is 0 bytes."""
    api = start_http(make_server, access_log=True, proxy_header="X-Forwarded-For",
                     trusted_proxies=["127.0.0.0/8", "10.0.0.0/8"],
                     zone={"log_extra": JSON_LOG})
    api.call("GET", "/v1/health", headers={"X-Forwarded-For": "198.51.100.7, 10.1.2.3"})
    api.call("HEAD", "/v1/health", headers={"X-Forwarded-For": "2001:db8::9"})
    wait_for(lambda: len(log_events(api.server, "http")) == 2, 5)
    lines = log_events(api.server, "http")
    assert [(f["client"], f["method"]) for f in lines] == [("198.51.100.7", "GET"),
                                                          ("2001:db8::9", "HEAD")]
    assert lines[0]["bytes"] > 0 and lines[1]["bytes"] == 0
