# SPDX-License-Identifier: ISC
"""Static records live in the configuration, not the store: changing them
(by SIGHUP or across a restart) must move the SOA serial so that secondaries
transfer again, and an unchanged reload must not."""

import signal

from conftest import BASE_RECORDS, ZONE, wait_for


def soa_serial(s):
    return s.query(ZONE, "SOA").answer[0][0].serial


def test_reload_with_changed_records_bumps_the_serial(make_server):
    s = make_server()
    first = soa_serial(s)

    s.proc.send_signal(signal.SIGHUP)            # same file: nothing changed
    assert wait_for(lambda: "configuration reloaded" in s.read_log(), 5)
    assert soa_serial(s) == first

    s.reconfigure(records=BASE_RECORDS + ["new.auth.example.org. 300 IN A 192.0.2.99"])
    s.proc.send_signal(signal.SIGHUP)
    assert wait_for(lambda: soa_serial(s) == first + 1, 5)
    assert "static records changed" in s.read_log()
    a = s.query("new." + ZONE, "A")
    assert [r.address for r in a.answer[0]] == ["192.0.2.99"]

    s.reconfigure(soa_ttl=1800)                  # SOA fields count too
    s.proc.send_signal(signal.SIGHUP)
    assert wait_for(lambda: soa_serial(s) == first + 2, 5)


def test_changed_records_across_a_restart_bump_the_serial(make_server):
    s = make_server()
    first = soa_serial(s)
    assert s.stop() == 0
    s.start()
    assert soa_serial(s) == first                # same configuration
    assert s.stop() == 0
    s.reconfigure(records=BASE_RECORDS[:-1])
    s.start()
    assert soa_serial(s) == first + 1
