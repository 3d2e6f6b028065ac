# SPDX-License-Identifier: ISC
"""The daemon's life: SIGTERM stops it cleanly and the store survives a
restart; SIGHUP reloads static records and the log level without dropping a
query, and a broken configuration on reload keeps the old one serving; one
store serves one daemon; bad configurations at start name the file, line and
key and never listen; usage and --version."""

import os
import re
import signal
import socket
import subprocess
import threading
import time

import dns.exception
import dns.message
import dns.query
import dns.rcode
import pytest

from conftest import (ACMENSD, BASE_RECORDS, BUILD, ZONE, free_port, value, wait_for,
                      write_config)

NEW_RECORD = "new.auth.example.org. 300 IN A 192.0.2.99"
APEX_A = "auth.example.org. 3600 IN A 192.0.2.1"


def answers(srv, name, rdtype):
    r = srv.query(name, rdtype)
    return sorted(rd.to_text() for rrset in r.answer for rd in rrset)


def silent(port, timeout=0.3):
    """True if nothing answers DNS on 127.0.0.1:port (UDP and TCP)."""
    q = dns.message.make_query(ZONE, "SOA")
    try:
        dns.query.udp(q, "127.0.0.1", port=port, timeout=timeout)
        return False
    except (dns.exception.Timeout, OSError):
        pass
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout):
            return False
    except OSError:
        return True


def config_line(path, needle):
    """1-based number of the first line of the file containing needle."""
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if needle in line:
                return n
    raise AssertionError(f"{needle!r} not in {path}")


# --- stopping -------------------------------------------------------------------

@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_stops_and_store_survives_restart(make_server, sig):
    s = make_server()
    acc = s.register()
    s.ctl("txt", "add", acc["subdomain"], value(1))
    s.ctl("txt", "add", acc["subdomain"], value(2))
    s.ctl("txt", "remove", acc["subdomain"], value(1))
    serial = s.serial()
    full = acc["subdomain"] + "." + ZONE
    t0 = time.monotonic()
    rc = s.stop(sig=sig, timeout=5)
    assert time.monotonic() - t0 < 5
    assert rc == 0
    log = s.read_log()
    assert re.search(r"level=notice msg=stopping signal=%s$" % sig.name, log, re.M), log
    assert re.search(r"level=notice msg=stopped$", log, re.M), log
    assert silent(s.port)

    s.start()
    assert answers(s, full, "TXT") == ['"%s"' % value(2)]
    assert s.serial() == serial
    assert s.stop() == 0


def test_sigterm_with_open_tcp_connection(make_server):
    """An idle client connection does not hold the daemon up."""
    s = make_server()
    with s.tcp_connect() as c:
        t0 = time.monotonic()
        assert s.stop(timeout=5) == 0
        assert time.monotonic() - t0 < 2
        c.settimeout(2)
        try:
            assert c.recv(10) == b""
        except ConnectionResetError:
            pass


# --- reloading ------------------------------------------------------------------

def test_sighup_reloads_records_and_log_level_without_dropping(make_server):
    s = make_server()
    assert answers(s, ZONE, "A") == ["192.0.2.1"]
    assert s.query("new." + ZONE, "A").rcode() == dns.rcode.NXDOMAIN

    stop = threading.Event()
    results = []   # (rcode, answered) per query, in order, from one socket

    def hammer():
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.settimeout(0.5)
        try:
            while not stop.is_set() or len(results) < 500:
                q = dns.message.make_query("new." + ZONE, "A")
                sock.sendto(q.to_wire(), ("127.0.0.1", s.port))
                try:
                    while True:
                        data = sock.recv(65535)
                        if data[:2] == q.to_wire()[:2]:
                            break
                    r = dns.message.from_wire(data)
                    results.append((r.rcode(), bool(r.answer)))
                except socket.timeout:
                    results.append((None, False))
                if len(results) >= 5000:
                    break
        finally:
            sock.close()

    records = [r for r in BASE_RECORDS if r != APEX_A] + [NEW_RECORD]
    s.reconfigure(records=records, log_level="warning")
    t = threading.Thread(target=hammer)
    t.start()
    try:
        assert wait_for(lambda: len(results) >= 100, 5)
        s.proc.send_signal(signal.SIGHUP)
        assert wait_for(lambda: answers(s, "new." + ZONE, "A") == ["192.0.2.99"], 2)
    finally:
        stop.set()
        t.join(30)
    assert len(results) >= 500
    assert all(rc is not None for rc, _ in results), \
        "%d of %d queries unanswered" % (sum(rc is None for rc, _ in results), len(results))
    # one socket talks to one worker: NXDOMAIN until the switch, then the record
    seen = [answered for _, answered in results]
    assert seen[0] is False and seen[-1] is True
    switch = seen.index(True)
    assert all(seen[switch:]) and not any(seen[:switch])
    assert all(rc == dns.rcode.NXDOMAIN for rc, _ in results[:switch])

    # the removed record is gone, the zone's other names still there
    r = s.query(ZONE, "A")
    assert r.rcode() == dns.rcode.NOERROR and r.answer == []
    assert answers(s, "ns1." + ZONE, "A") == ["127.0.0.1"]
    # log level "warning": the reload's notice was not written
    assert "configuration reloaded" not in s.read_log()

    # back to info: this reload is logged
    s.reconfigure(records=BASE_RECORDS, log_level="info")
    s.proc.send_signal(signal.SIGHUP)
    assert wait_for(lambda: answers(s, ZONE, "A") == ["192.0.2.1"], 2)
    assert wait_for(lambda: f'msg="configuration reloaded" config={s.config}' in s.read_log(), 2)
    assert s.query("new." + ZONE, "A").rcode() == dns.rcode.NXDOMAIN


@pytest.mark.parametrize("kind", ["unknown-key", "record-outside-zone", "bad-value", "yaml"])
def test_bad_reload_keeps_running_config(make_server, kind):
    s = make_server()
    if kind == "unknown-key":
        s.reconfigure(records=BASE_RECORDS + [NEW_RECORD], extra_dns="  bogus_key: 1\n")
        line, key = config_line(s.config, "bogus_key"), "dns.bogus_key"
    elif kind == "record-outside-zone":
        s.reconfigure(records=BASE_RECORDS + [NEW_RECORD, "foo.example.com. 300 IN A 192.0.2.5"])
        line, key = config_line(s.config, "foo.example.com"), "zone.records"
    elif kind == "bad-value":
        s.reconfigure(records=BASE_RECORDS + [NEW_RECORD], extra_dns="  udp_payload: 100\n")
        line, key = config_line(s.config, "udp_payload"), "dns.udp_payload"
    else:
        s.reconfigure(records=BASE_RECORDS + [NEW_RECORD], extra_dns="  workers: [\n")
        line, key = None, "YAML error"
    s.proc.send_signal(signal.SIGHUP)
    assert wait_for(lambda: "reload failed" in s.read_log(), 2), s.read_log()
    log = s.read_log()
    err = [l for l in log.splitlines() if "reload failed" in l][0]
    assert err.split(" ", 1)[1].startswith('level=error msg="reload failed, keeping the running '
                                           'configuration" error="' + s.config + ":")
    if line is not None:
        assert "%s:%d: %s: " % (s.config, line, key) in err, err
    else:
        assert key in err, err
    assert s.proc.poll() is None
    assert s.query("new." + ZONE, "A").rcode() == dns.rcode.NXDOMAIN
    assert answers(s, ZONE, "A") == ["192.0.2.1"]
    assert answers(s, "ns1." + ZONE, "AAAA") == ["::1"]
    # a good configuration afterwards is taken
    s.reconfigure(records=BASE_RECORDS + [NEW_RECORD], extra_dns="")
    s.proc.send_signal(signal.SIGHUP)
    assert wait_for(lambda: answers(s, "new." + ZONE, "A") == ["192.0.2.99"], 2)
    assert s.stop() == 0


def test_reload_changes_ttls_and_soa(make_server):
    s = make_server()
    s.reconfigure(soa_ttl=120, minimum=30)
    s.proc.send_signal(signal.SIGHUP)
    assert wait_for(lambda: s.query(ZONE, "SOA").answer[0].ttl == 120, 2)
    r = s.query(ZONE, "SOA")
    assert r.answer[0][0].minimum == 30
    r = s.query("nosuch." + ZONE, "A")
    assert r.authority[0].ttl == 30


# --- one daemon per store ---------------------------------------------------------

def test_second_daemon_on_same_store_refuses(make_server, tmp_path):
    first = make_server()
    acc = first.register()
    first.ctl("txt", "add", acc["subdomain"], value(3))
    port = free_port()
    config = str(tmp_path / "second.yaml")
    write_config(config, port, first.store)
    t0 = time.monotonic()
    p = subprocess.run([ACMENSD, "-c", config], capture_output=True, text=True, timeout=10)
    assert time.monotonic() - t0 < 3
    assert p.returncode != 0
    assert "another acmensd is serving this store" in p.stderr, p.stderr
    assert first.store in p.stderr
    assert silent(port)
    assert first.proc.poll() is None
    assert answers(first, acc["subdomain"] + "." + ZONE, "TXT") == ['"%s"' % value(3)]


# --- bad configuration at start ---------------------------------------------------

def start_config_case(tmp_path, kind):
    """Write a broken configuration; returns (path, port, line, key, words)."""
    port = free_port()
    path = str(tmp_path / "acmens.yaml")
    store = str(tmp_path / "store")
    if kind == "unknown-key":
        write_config(path, port, store, extra_dns="  colour: blue\n")
        return path, port, config_line(path, "colour"), "dns.colour", "unknown key"
    if kind == "unknown-section":
        write_config(path, port, store, extra_dns="extra:\n  a: 1\n")
        return path, port, config_line(path, "extra:"), "extra", "unknown key"
    if kind == "wrong-type-int":
        write_config(path, port, store, extra_dns="  udp_payload: large\n")
        return path, port, config_line(path, "udp_payload"), "dns.udp_payload", "integer"
    if kind == "wrong-type-list":
        write_config(path, port, store, txt_max_values="[1, 2]")
        return path, port, config_line(path, "txt_max_values"), "zone.txt_max_values", "integer"
    if kind == "quoted-non-number":
        write_config(path, port, store, tcp_max_clients='"64 "')
        return (path, port, config_line(path, "tcp_max_clients"), "dns.tcp_max_clients",
                'integer from 1 to 1000000 (got \\"64 \\")')
    if kind == "bad-log-level":
        write_config(path, port, store, log_level="loud")
        return path, port, config_line(path, "level:"), "log.level", "expected one of"
    if kind == "bad-listen-address":
        write_config(path, port, store)
        with open(path) as f:
            text = f.read()
        text = text.replace(f'"[::1]:{port}"', f'"300.1.2.3:{port}"')
        with open(path, "w") as f:
            f.write(text)
        return path, port, config_line(path, "300.1.2.3"), "dns.listen", "invalid address"
    if kind == "bad-listen-port":
        write_config(path, port, store)
        with open(path) as f:
            text = f.read()
        text = text.replace(f'"[::1]:{port}"', '"[::1]:70000"')
        with open(path, "w") as f:
            f.write(text)
        return path, port, config_line(path, "70000"), "dns.listen", "port"
    if kind == "record-outside-zone":
        write_config(path, port, store,
                     records=BASE_RECORDS + ["www.example.com. 300 IN A 192.0.2.8"])
        return (path, port, config_line(path, "www.example.com"), "zone.records",
                "outside the zone")
    if kind == "record-unparsable":
        write_config(path, port, store, records=BASE_RECORDS + ["bad.auth.example.org. A"])
        return path, port, config_line(path, "bad.auth"), "zone.records", "cannot parse"
    raise AssertionError(kind)


START_CASES = ["unknown-key", "unknown-section", "wrong-type-int", "wrong-type-list",
               "quoted-non-number", "bad-log-level", "bad-listen-address", "bad-listen-port",
               "record-outside-zone", "record-unparsable"]


@pytest.mark.parametrize("kind", START_CASES)
def test_bad_config_at_start(tmp_path, kind):
    path, port, line, key, words = start_config_case(tmp_path, kind)
    t0 = time.monotonic()
    p = subprocess.run([ACMENSD, "-c", path], capture_output=True, text=True, timeout=10)
    assert time.monotonic() - t0 < 3
    assert p.returncode == 1, p.stderr
    assert "%s:%d: %s: " % (path, line, key) in p.stderr, p.stderr
    assert words in p.stderr, p.stderr
    assert p.stdout == ""
    assert silent(port)
    assert not os.path.exists(os.path.join(str(tmp_path), "store", "acmensd.lock"))


def test_missing_config_file(tmp_path):
    path = str(tmp_path / "nope.yaml")
    p = subprocess.run([ACMENSD, "-c", path], capture_output=True, text=True, timeout=10)
    assert p.returncode == 1
    assert path in p.stderr and "No such file" in p.stderr


# --- command line -------------------------------------------------------------------

def package_version():
    with open(os.path.join(BUILD, "config.h")) as f:
        return re.search(r'#define PACKAGE_VERSION "([^"]+)"', f.read()).group(1)


@pytest.mark.parametrize("args", [[], ["-c"], ["extra"], ["-c", "a.yaml", "extra"], ["--bogus"]],
                         ids=["none", "c-without-file", "operand", "extra-operand", "bad-option"])
def test_usage(args):
    p = subprocess.run([ACMENSD] + args, capture_output=True, text=True, timeout=10)
    assert p.returncode == 1
    assert "usage: acmensd -c FILE" in p.stderr
    assert p.stdout == ""


def test_help_and_version():
    p = subprocess.run([ACMENSD, "--help"], capture_output=True, text=True, timeout=10)
    assert p.returncode == 0 and "usage: acmensd -c FILE" in p.stdout
    for flag in ("--version", "-V"):
        p = subprocess.run([ACMENSD, flag], capture_output=True, text=True, timeout=10)
        assert p.returncode == 0
        assert p.stdout == "acmensd %s\n" % package_version()
