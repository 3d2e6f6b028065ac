# SPDX-License-Identifier: ISC
"""What SIGHUP reports: the file is compared with what acmensd runs (the
sockets it bound, the store it opened, the tables it built), not with the
file it read before. Each reloadable setting that changed is logged as
applied, each setting a reload cannot change as needing a restart (running
value and value in the file) for as long as the file differs, and a broken
file as a failed reload with its file, line and key while the running
configuration keeps serving. GET /v1/admin/config/drift and acmensctl
config-drift give the same report."""

import json
import os
import signal

import dns.exception
import dns.message
import dns.query
import dns.rcode
import pytest

from conftest import (ADMIN_TOKEN, ZONE, BASE_RECORDS, free_port, register_secret, start_http,
                      wait_for, write_config)
from test_lifecycle import config_line

RESTART_MSG = "reload: not applied, needs a restart"
APPLIED_MSG = "reload: applied"
DONE_MSG = "configuration reloaded"
FAILED_MSG = "reload failed, keeping the running configuration"


def events(s):
    """The daemon's log lines, as dicts (the tests run it with JSON logs)."""
    return [json.loads(l) for l in s.read_log().splitlines() if l.startswith("{")]


def hup(s):
    """SIGHUP, wait for the reload's last line; the lines it logged."""
    before = len(events(s))
    s.proc.send_signal(signal.SIGHUP)

    def ended():
        return any(e["msg"] in (DONE_MSG, FAILED_MSG) for e in events(s)[before:])
    assert wait_for(ended, 5), s.read_log()
    return events(s)[before:]


def rewrite(s, port=None, **cfg):
    """The configuration file with these write_config keys, dns.listen on
    port (default: the port acmensd started on)."""
    s.cfg.update(cfg)
    write_config(s.config, port or s.port, s.store, http_port=s.http_port, **s.cfg)


def listen_text(port):
    return f"127.0.0.1:{port}, [::1]:{port}"


def answers_on(port, timeout=0.5):
    """True if a DNS server answers the apex SOA on 127.0.0.1:port (UDP)."""
    q = dns.message.make_query(ZONE, "SOA")
    try:
        r = dns.query.udp(q, "127.0.0.1", port=port, timeout=timeout)
        return r.rcode() == dns.rcode.NOERROR
    except (dns.exception.Timeout, OSError):
        return False


def other_port(*taken):
    port = free_port()
    while port in taken:
        port = free_port()
    return port


@pytest.fixture
def api(make_server):
    return start_http(make_server, zone={"log_extra": {"format": "json"}})


def drift(api):
    r = api.admin("GET", "/config/drift")
    assert r.status_code == 200, r.text
    return r.json()


def restart_lines(lines):
    return [(e["key"], e["running"], e["file"]) for e in lines if e["msg"] == RESTART_MSG]


def summary(lines):
    done = [e for e in lines if e["msg"] == DONE_MSG]
    assert len(done) == 1, lines
    return done[0]


def test_listen_change_warns_until_reverted(api):
    s = api.server
    old, new = s.port, other_port(s.port, s.http_port)
    rewrite(s, port=new)
    want = [("dns.listen", listen_text(old), listen_text(new))]
    for _ in range(2):          # the same file twice: still not applied, still said
        lines = hup(s)
        assert restart_lines(lines) == want
        warning = next(e for e in lines if e["msg"] == RESTART_MSG)
        assert warning["level"] == "warning"
        assert summary(lines)["restart_needed"] == 1
        assert summary(lines)["applied"] == 0
        # the old sockets still serve, nothing was bound on the new port
        assert answers_on(old)
        assert not answers_on(new)
        report = drift(api)
        assert report["restart_needed"] == [{"key": "dns.listen", "running": listen_text(old),
                                             "file": listen_text(new)}]
        assert report["last_reload"]["ok"] is True
        assert report["config"] == s.config
    # back to what is bound: nothing left to say
    rewrite(s, port=old)
    lines = hup(s)
    assert restart_lines(lines) == []
    assert summary(lines)["restart_needed"] == 0
    assert drift(api)["restart_needed"] == []
    assert answers_on(old)


def test_listen_in_another_spelling_is_no_change(api):
    """An address written another way, or the list in another order, binds
    the same sockets: no restart is asked for."""
    s = api.server
    rewrite(s, listen=["[::1]", "127.0.0.1"])
    lines = hup(s)
    assert restart_lines(lines) == [] and summary(lines)["restart_needed"] == 0


def test_reloadable_changes_are_applied_and_reported(api):
    s = api.server
    new_record = "new.auth.example.org. 300 IN A 192.0.2.99"
    assert s.query("new." + ZONE, "A").rcode() == dns.rcode.NXDOMAIN
    rewrite(s, soa_ttl=120, records=BASE_RECORDS + [new_record], log_level="debug")
    lines = hup(s)
    applied = {e["key"]: (e["old"], e["new"]) for e in lines if e["msg"] == APPLIED_MSG}
    assert set(applied) == {"zone.soa.ttl", "zone.records", "log.level"}, lines
    assert applied["zone.soa.ttl"] == ("3600", "120")
    assert applied["log.level"] == ("info", "debug")
    assert new_record in applied["zone.records"][1]
    assert new_record not in applied["zone.records"][0]
    assert all(e["level"] == "notice" for e in lines if e["msg"] == APPLIED_MSG)
    assert restart_lines(lines) == []
    assert summary(lines)["applied"] == 3
    # and it took effect
    assert wait_for(lambda: s.query(ZONE, "SOA").answer[0].ttl == 120, 2)
    r = s.query("new." + ZONE, "A")
    assert [rd.to_text() for rd in r.answer[0]] == ["192.0.2.99"]
    report = drift(api)
    assert {a["key"] for a in report["last_reload"]["applied"]} == set(applied)
    assert report["restart_needed"] == []
    # the same file again: nothing new applied
    lines = hup(s)
    assert [e for e in lines if e["msg"] == APPLIED_MSG] == []
    assert summary(lines)["applied"] == 0
    assert drift(api)["last_reload"]["applied"] == []


def test_settings_read_at_start_need_a_restart(api):
    """The TCP limits, the UDP payload size and the worker count are read
    when the workers start; a reload says so, with both values."""
    s = api.server
    rewrite(s, tcp_max_clients=65, extra_dns="  udp_payload: 1400\n")
    lines = hup(s)
    assert sorted(restart_lines(lines)) == [("dns.tcp_max_clients", "64", "65"),
                                            ("dns.udp_payload", "1232", "1400")]
    r = s.query(ZONE, "SOA", use_edns=0, payload=4096)
    assert r.options is not None and r.payload == 1232       # still what was started


def test_http_listen_change_keeps_the_bound_port(api):
    s = api.server
    old_http = s.http_port
    new_http = other_port(s.port, old_http)
    s.http_port = new_http
    rewrite(s)
    s.http_port = old_http
    lines = hup(s)
    assert restart_lines(lines) == [("http.listen", f"127.0.0.1:{old_http}",
                                     f"127.0.0.1:{new_http}")]
    # the API still answers where it was bound, and says the same
    assert drift(api)["restart_needed"][0]["key"] == "http.listen"


def test_tsig_secret_change_is_applied_without_showing_it(api):
    s = api.server
    old_secret = "c2VjcmV0LW9uZS1vZi10aGlydHktdHdvLWJ5dGVzLXh4"
    new_secret = "c2VjcmV0LXR3by1vZi10aGlydHktdHdvLWJ5dGVzLXl5"
    register_secret(old_secret)
    register_secret(new_secret)
    key = "tsig:\n  - {name: xfr.key., algorithm: hmac-sha256, secret: %s}\n"
    with open(s.config, "a") as f:
        f.write(key % old_secret)
    lines = hup(s)
    applied = [e for e in lines if e["msg"] == APPLIED_MSG]
    assert [(e["key"], e["old"], e["new"]) for e in applied] == \
        [("tsig", "none", "xfr.key. hmac-sha256")]
    text = open(s.config).read().replace(old_secret, new_secret)
    with open(s.config, "w") as f:
        f.write(text)
    lines = hup(s)
    applied = [e for e in lines if e["msg"] == APPLIED_MSG]
    assert [(e["key"], e["old"], e["new"]) for e in applied] == \
        [("tsig", "xfr.key. hmac-sha256", "xfr.key. hmac-sha256 (a secret changed)")]
    assert new_secret not in json.dumps(drift(api))     # the log is checked by conftest


def test_broken_file_fails_with_place_and_keeps_serving(api):
    s = api.server
    old, new = s.port, other_port(s.port, s.http_port)
    rewrite(s, port=new)
    hup(s)                      # a change that waits for a restart
    # now a broken file, which also changes a record
    rewrite(s, port=new, soa_ttl=120, extra_dns="  udp_payload: 100\n")
    lines = hup(s)
    failed = [e for e in lines if e["msg"] == FAILED_MSG]
    assert len(failed) == 1 and failed[0]["level"] == "error"
    line = config_line(s.config, "udp_payload")
    assert failed[0]["file"] == s.config
    assert failed[0]["line"] == line
    assert failed[0]["key"] == "dns.udp_payload"
    assert failed[0]["error"].startswith(f"{s.config}:{line}: dns.udp_payload: ")
    assert not [e for e in lines if e["msg"] in (APPLIED_MSG, DONE_MSG)]
    # the running configuration keeps serving, unchanged
    assert s.proc.poll() is None
    assert s.query(ZONE, "SOA").answer[0].ttl == 3600
    assert answers_on(old)
    report = drift(api)
    last = report["last_reload"]
    assert last["ok"] is False and last["line"] == line and last["key"] == "dns.udp_payload"
    assert last["file"] == s.config and "udp_payload" in last["error"]
    # what waits for a restart is what it was before the failed reload
    assert [r["key"] for r in report["restart_needed"]] == ["dns.listen"]


def test_yaml_error_has_a_line_and_no_key(api):
    s = api.server
    rewrite(s, extra_dns="  workers: [\n")
    lines = hup(s)
    failed = next(e for e in lines if e["msg"] == FAILED_MSG)
    assert failed["file"] == s.config and failed["line"] > 0
    assert "key" not in failed
    assert s.query(ZONE, "SOA").rcode() == dns.rcode.NOERROR


def test_unreadable_file_fails_without_a_line(api):
    s = api.server
    text = open(s.config).read()
    os.unlink(s.config)
    try:
        lines = hup(s)
    finally:
        with open(s.config, "w") as f:
            f.write(text)
    failed = next(e for e in lines if e["msg"] == FAILED_MSG)
    assert failed["file"] == s.config and "line" not in failed
    assert "No such file" in failed["error"]


def test_drift_needs_the_admin_token(api):
    assert api.admin("GET", "/config/drift", token="wrong-token-" + "y" * 20).status_code == 401
    assert api.call("GET", "/v1/admin/config/drift").status_code == 401
    # before any reload: nothing to restart, no reload yet
    report = drift(api)
    assert report == {"config": api.server.config, "restart_needed": [], "last_reload": None}


def test_drift_is_off_without_admin(make_server):
    a = start_http(make_server, admin_token=None)
    assert a.call("GET", "/v1/admin/config/drift",
                  headers={"Authorization": "Bearer " + ADMIN_TOKEN}).status_code == 404


def test_ctl_config_drift(api):
    s = api.server
    out = s.ctl("config-drift", json_out=False).stdout
    assert "no reload since start" in out and "nothing waits for a restart" in out, out
    old, new = s.port, other_port(s.port, s.http_port)
    rewrite(s, port=new, soa_ttl=120)
    hup(s)
    out = s.ctl("config-drift", json_out=False).stdout
    lines = out.splitlines()
    assert lines[0] == f"config {s.config}"
    assert lines[1].startswith("last reload ") and lines[1].endswith(": ok, 1 applied"), out
    assert lines[2] == "  zone.soa.ttl: 3600 -> 120"
    assert lines[3] == "needs a restart:"
    assert lines[4].split() == ["KEY", "RUNNING", "FILE"]
    row = lines[5]
    assert row.startswith("dns.listen ") and listen_text(old) in row and \
        row.endswith(listen_text(new)), out
    assert len(lines) == 6
    # --json: the API's reply as it is
    assert json.loads(s.ctl("config-drift").stdout) == drift(api)


def test_ctl_config_drift_needs_the_admin_api(make_server):
    s = make_server()
    p = s.ctl("config-drift", check=False, json_out=False)
    assert p.returncode == 3
    assert "config-drift needs the HTTP admin API" in p.stderr
    assert s.ctl("config-drift", "extra", check=False).returncode == 1


def test_ctl_config_drift_with_a_wrong_token(api):
    s = api.server
    with open(os.path.join(s.dir, "admin.token"), "w") as f:
        f.write("another-token-" + "z" * 20 + "\n")
    p = s.ctl("config-drift", check=False, json_out=False)
    assert p.returncode == 3
    assert "refused the admin token" in p.stderr
