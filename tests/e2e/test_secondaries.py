# SPDX-License-Identifier: ISC
"""acmensd as the primary of real secondaries: Knot DNS and NSD transfer the
zone with TSIG, NOTIFY tells them of every change (their SOA refresh is an
hour, so only NOTIFY explains an update within seconds), small changes go
by IXFR, a gap in the journal falls back to AXFR, and the propagation
status (GET /v1/zone/status, acmensctl status) shows when both serve the
current serial.

Skipped when knotd or nsd is not installed."""

import json
import re
import time

import dns.message
import dns.query
import dns.rcode
import pytest

from conftest import (HAVE_KNOTD, HAVE_NSD, KnotSecondary, NsdSecondary, free_port, start_http,
                      transfer_config, value)

HAVE = HAVE_KNOTD and HAVE_NSD
pytestmark = pytest.mark.skipif(not HAVE, reason="knotd or nsd not installed")

SYNC_TIMEOUT = 10.0


def txt_values(port, name):
    r = dns.query.udp(dns.message.make_query(name, "TXT"), "127.0.0.1", port=port, timeout=0.5)
    return sorted(b"".join(rd.strings).decode() for rrset in r.answer for rd in rrset)


class Setup:
    def __init__(self, api, secondaries):
        self.api = api
        self.srv = api.server
        self.secondaries = secondaries

    def wait_synced(self, serial, timeout=SYNC_TIMEOUT, who=None):
        """Seconds until every secondary (or who) serves serial."""
        start = time.time()
        deadline = start + timeout
        targets = who or self.secondaries
        while time.time() < deadline:
            if all(s.serial() == serial for s in targets):
                return time.time() - start
            time.sleep(0.05)
        got = {s.name: s.serial() for s in targets}
        raise AssertionError(f"not synced to {serial} in {timeout}s: {got}\n"
                             + "\n".join(s.read_log()[-3000:] for s in targets))

    def add(self, acct, val):
        r = self.api.call("POST", f"/v1/accounts/{acct['subdomain']}/txt", {"value": val},
                          headers=acct["headers"])
        assert r.status_code == 201, r.text
        return r.json()["serial"]

    def xfr_lines(self):
        return re.findall(r"msg=transfer client=\S+ key=\S+ type=([\w-]+) from_serial=(\S+) serial=(\d+) "
                          r"messages=\d+ records=(\d+)",
                          self.srv.read_log())


@pytest.fixture
def setup(make_server, tmp_path):
    knot_port, nsd_port = free_port(), free_port()
    while nsd_port == knot_port:
        nsd_port = free_port()
    api = start_http(make_server, admin_token=None, register_rate=0,
                     zone={"extra_dns": transfer_config([knot_port, nsd_port], 2),
                           "log_level": "debug"})
    secondaries = []
    try:
        for cls, port in ((KnotSecondary, knot_port), (NsdSecondary, nsd_port)):
            secondaries.append(cls(tmp_path / cls.name, port, api.server.port).start(timeout=15))
        yield Setup(api, secondaries)
    finally:
        for s in secondaries:
            s.stop()


def test_notify_drives_secondaries_and_ixfr_carries_small_changes(setup):
    acct = setup.api.register()
    setup.wait_synced(setup.srv.serial())
    serial = setup.add(acct, value(1))
    took = setup.wait_synced(serial)
    assert took < 5.0, f"secondaries took {took:.1f}s: NOTIFY did not drive them"
    for s in setup.secondaries:
        assert txt_values(s.port, acct["fulldomain"] + ".") == [value(1)]
    # the change went out as a diff to each of them
    ixfr = [ln for ln in setup.xfr_lines() if ln[0] == "IXFR" and ln[2] == str(serial)
            and ln[1] == str(serial - 1)]
    assert len(ixfr) >= 2, setup.xfr_lines()


def test_status_shows_secondaries_current(setup):
    acct = setup.api.register()
    serial = setup.add(acct, value(2))
    setup.wait_synced(serial)
    deadline = time.time() + SYNC_TIMEOUT
    while True:
        body = setup.api.call("GET", "/v1/zone/status").json()
        if body["synced"] or time.time() > deadline:
            break
        time.sleep(0.2)
    assert body["serial"] == serial and body["synced"], body
    assert len(body["secondaries"]) == 2
    for row in body["secondaries"]:
        assert row["serial"] == serial and row["current"] and row["last_seen"]
        assert row["notify"] and row["notify"]["acked"], row
    out = json.loads(setup.srv.ctl("status").stdout)
    assert out["serial"] == serial and out["synced"]
    assert {r["address"] for r in out["secondaries"]} == \
        {f"127.0.0.1:{s.port}" for s in setup.secondaries}
    text = setup.srv.ctl("status", json_out=False).stdout
    assert text.count("current") == 2


def test_journal_gap_falls_back_to_axfr(setup):
    acct = setup.api.register()
    setup.wait_synced(setup.srv.serial())
    knot = setup.secondaries[0]
    old = knot.serial()
    knot.stop()      # it keeps the zone (journal-content: all) and asks IXFR from old
    for i in range(4):      # more commits than the journal's 2 entries
        serial = setup.add(acct, value(10 + i))
    setup.wait_synced(serial, who=[setup.secondaries[1]])
    before = len(setup.xfr_lines())
    knot.start(timeout=15)
    setup.wait_synced(serial, who=[knot])
    assert txt_values(knot.port, acct["fulldomain"] + ".") == sorted(value(10 + i) for i in range(4))
    new = setup.xfr_lines()[before:]
    assert any(k == "IXFR-AXFR" and frm == str(old) and to == str(serial)
               for k, frm, to, _ in new), new
