# SPDX-License-Identifier: ISC
"""Operability: structured logs (logfmt and JSON, escaping of hostile
input, reload, syslog), systemd notification (READY, RELOADING, STOPPING)
and GET /v1/health."""

import json
import os
import re
import signal
import socket
import time

import dns.message
import dns.name
import dns.rcode
import dns.tsigkeyring
import pytest

from conftest import ZONE, HttpApi, start_http, wait_for

# One logfmt pair: a bare value, or a quoted one with backslash escapes.
PAIR = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|[^\s"=\\]*)(?: |$)')
HOSTILE = 'a"b c\\d=e\nlevel=error msg=forged'


def parse_logfmt(line):
    """The fields of one logfmt line; fails on anything else."""
    fields, pos = {}, 0
    while pos < len(line):
        m = PAIR.match(line, pos)
        assert m, f"not logfmt at {pos}: {line!r}"
        v = m.group(2)
        if v.startswith('"'):
            v = json.loads(v.replace("\\x", "\\u00"))
        assert m.group(1) not in fields, f"duplicate key in {line!r}"
        fields[m.group(1)] = v
        pos = m.end()
    return fields


def log_lines(server):
    return [l for l in server.read_log().split("\n") if l]


def check_every_line(server, parse):
    """Every line parses, with ts, level and msg first; returns them parsed."""
    out = []
    for line in log_lines(server):
        f = parse(line)
        assert list(f)[:3] == ["ts", "level", "msg"], line
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", f["ts"]), line
        assert f["level"] in ("error", "warning", "notice", "info", "debug"), line
        out.append(f)
    return out


def hostile_traffic(api):
    """A path and a query name full of quotes, spaces, equals signs and a
    newline: both end up in log lines."""
    with socket.create_connection(("127.0.0.1", api.server.http_port), timeout=5) as c:
        c.sendall(b'GET /v1/a"b\\c=d\x01"x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
        c.recv(4096)
    name = dns.name.Name([HOSTILE.encode(), b"auth", b"example", b"org", b""])
    q = dns.message.make_query(name, "TXT")
    q.use_tsig(dns.tsigkeyring.from_text({"nokey.": "c2VjcmV0c2VjcmV0c2VjcmV0"}),
               keyname="nokey.")
    api.server.send_raw_udp(q.to_wire())


@pytest.mark.parametrize("fmt", ["logfmt", "json"])
def test_every_line_is_structured(make_server, fmt):
    api = start_http(make_server, zone={"log_level": "debug", "log_extra": {"format": fmt}})
    hostile_traffic(api)
    api.register()
    api.server.stop()
    parse = parse_logfmt if fmt == "logfmt" else json.loads
    lines = check_every_line(api.server, parse)
    msgs = [f["msg"] for f in lines]
    assert "serving" in msgs and "stopped" in msgs
    # the hostile input arrived whole, inside a value, and forged nothing
    tsig = [f for f in lines if f["msg"] == "TSIG refused"]
    assert tsig and tsig[0]["qname"].startswith('a\\"b\\032c')
    assert tsig[0]["qname"].endswith("forged.auth.example.org.")
    assert not any(f["msg"] == "forged" for f in lines)
    http = [f for f in lines if f["msg"] == "http" and f["path"].startswith("/v1/a")]
    assert http and http[0]["path"] == '/v1/a"b\\c=d?"x', http
    if fmt == "json":
        assert isinstance(http[0]["status"], int) and isinstance(http[0]["ms"], float)


def test_reload_switches_format_and_level(make_server):
    s = make_server()
    s.reconfigure(log_level="notice", log_extra={"format": "json"})
    s.proc.send_signal(signal.SIGHUP)
    assert wait_for(lambda: '"configuration reloaded"' in s.read_log(), 5), s.read_log()
    s.stop()
    lines = log_lines(s)
    i = next(i for i, l in enumerate(lines) if '"configuration reloaded"' in l)
    for l in lines[:i]:
        parse_logfmt(l)
    for l in lines[i:]:
        assert json.loads(l)["level"] in ("error", "warning", "notice")


def test_syslog_target_leaves_stderr_alone(make_server):
    s = make_server(log_level="debug", log_extra={"target": "syslog"})
    s.query(ZONE, "SOA")
    s.stop()
    assert s.read_log() == ""


# --- systemd ------------------------------------------------------------------

class NotifySocket:
    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.settimeout(10)

    def next(self):
        return self.sock.recv(4096).decode()


@pytest.mark.skipif(not os.path.exists("/usr/include/systemd/sd-daemon.h"),
                    reason="built without libsystemd")
def test_sd_notify(make_server, tmp_path, monkeypatch):
    ns = NotifySocket(str(tmp_path / "notify.sock"))
    monkeypatch.setenv("NOTIFY_SOCKET", ns.path)
    s = make_server(start=False, http={})
    s.start(wait=False)
    msg = ns.next()
    assert "READY=1" in msg
    # ready means listening: both sides answer at once
    assert s.query(ZONE, "SOA").rcode() == dns.rcode.NOERROR
    assert HttpApi(s).call("GET", "/health").status_code == 200
    s.proc.send_signal(signal.SIGHUP)
    assert "RELOADING=1" in ns.next()
    assert "READY=1" in ns.next()
    s.proc.send_signal(signal.SIGTERM)
    assert "STOPPING=1" in ns.next()
    assert s.proc.wait(10) == 0      # one SIGTERM is enough, as systemd sends it
    s.stop()


# --- /v1/health ---------------------------------------------------------------

def test_health_ok(make_server):
    api = start_http(make_server)
    api.register()
    r = api.call("GET", "/v1/health")
    assert r.status_code == 200, r.text
    h = r.json()
    assert h["status"] == "ok"
    assert h["store"]["readable"] is True and h["store"]["serial"] == api.server.serial()
    assert h["store"]["commits"] >= 1 and h["store"]["commit_ms_mean"] > 0
    assert h["dns"] == {"workers": 2, "alive": 2}
    assert h["secondaries"] == []
    # still alive after several heartbeat windows
    time.sleep(3.5)
    assert api.call("GET", "/v1/health").json()["dns"]["alive"] == 2
    # the acme-dns one is unchanged
    r = api.call("GET", "/health")
    assert r.status_code == 200 and r.text == ""


def test_health_secondary_never_seen_is_degraded(make_server):
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))
    addr = "127.0.0.1:%d" % silent.getsockname()[1]
    api = start_http(make_server, zone={"extra_dns": f'transfer:\n  notify: ["{addr}"]\n'})
    h = api.call("GET", "/v1/health").json()
    assert h["status"] == "degraded"
    # the shape of /v1/zone/status's secondaries (docs/api.md, "JSON objects")
    row, = h["secondaries"]
    assert set(row) == {"address", "serial", "last_seen", "current", "notify", "error"}
    assert (row["address"], row["serial"], row["current"], row["last_seen"]) == \
        (addr, None, False, None)
    silent.close()
