# SPDX-License-Identifier: ISC
"""The DNS name index (docs/dns.md#the-name-index) against a live acmensd:
a value written through the HTTP API or by acmensctl (another process) is
served by the very next query, and then from the index; an account deleted
by acmensctl is NXDOMAIN; values expire while indexed; a change larger than
the store's change log (an import while the daemon is stopped) rebuilds the
index with answers right throughout; dns.name_index: false reads the
store."""

import os
import signal
import time

import dns.rcode
import pytest

from acmedns_bulk import bulk_value, write_bulk_db
from conftest import ACMENSCTL, ZONE, dns_txt, start_http, value, wait_for

APEX = ZONE.rstrip(".")


@pytest.fixture
def api(make_server):
    return start_http(make_server)


def gauges(api):
    """The unlabelled samples of /metrics, by name."""
    r = api.call("GET", "/metrics")
    assert r.status_code == 200
    out = {}
    for line in r.text.splitlines():
        parts = line.split()
        if len(parts) == 2 and not line.startswith("#") and "{" not in parts[0]:
            out[parts[0]] = float(parts[1])
    return out


def lagged(api):
    return gauges(api)["acmens_dns_name_index_lagged_total"]


def from_index(api, name, want, timeout=5.0):
    """Wait until name answers want (rcode, values) with no lookup read from
    the store: the index holds it."""
    def pred():
        before = lagged(api)
        got = dns_txt(api.server, name, tcp=False)
        return got == want and lagged(api) == before
    assert wait_for(pred, timeout), (name, want, dns_txt(api.server, name, tcp=False))


def put(api, acct, v):
    r = api.call("POST", "/update", {"subdomain": acct["subdomain"], "txt": v},
                 headers=acct["headers"])
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("tcp", [False, True], ids=["udp", "tcp"])
def test_http_write_is_served_by_the_very_next_query(api, tcp):
    acct = api.register()
    from_index(api, acct["fulldomain"], (dns.rcode.NOERROR, []))
    for i in range(20):
        put(api, acct, value(i))
        rcode, values = dns_txt(api.server, acct["fulldomain"], tcp=tcp)
        assert rcode == dns.rcode.NOERROR and value(i) in values, i
    from_index(api, acct["fulldomain"], (rcode, values))


def test_another_process_is_served_and_then_indexed(api):
    server = api.server
    sub = server.register()["subdomain"]
    name = f"{sub}.{APEX}"
    from_index(api, name, (dns.rcode.NOERROR, []))
    server.ctl("txt", "add", sub, value(1))
    # the very next query already (from the store), and soon from the index
    assert dns_txt(server, name, tcp=False) == (dns.rcode.NOERROR, [value(1)])
    from_index(api, name, (dns.rcode.NOERROR, [value(1)]), timeout=1.0)
    server.ctl("txt", "remove", sub, value(1))
    assert dns_txt(server, name, tcp=False) == (dns.rcode.NOERROR, [])
    g = gauges(api)
    assert g["acmens_dns_name_index_entries"] >= 1 and g["acmens_dns_name_index_bytes"] > 0
    server.ctl("account", "delete", sub, "--yes")
    assert dns_txt(server, name, tcp=False)[0] == dns.rcode.NXDOMAIN
    from_index(api, name, (dns.rcode.NXDOMAIN, []), timeout=1.0)


def test_values_expire_while_indexed(api):
    server = api.server
    sub = server.register()["subdomain"]
    name = f"{sub}.{APEX}"
    server.ctl("txt", "add", sub, value(1), "--expires-in", "2")
    server.ctl("txt", "add", sub, value(2))
    from_index(api, name, (dns.rcode.NOERROR, sorted([value(1), value(2)])))
    from_index(api, name, (dns.rcode.NOERROR, [value(2)]), timeout=6.0)


def test_off_reads_the_store(make_server):
    api = start_http(make_server, zone={"extra_dns": "  name_index: false\n"})
    acct = api.register()
    put(api, acct, value(7))
    for _ in range(5):
        assert dns_txt(api.server, acct["fulldomain"]) == (dns.rcode.NOERROR, [value(7)])
    assert dns_txt(api.server, "nobody." + APEX)[0] == dns.rcode.NXDOMAIN
    g = gauges(api)
    assert g["acmens_dns_name_index_entries"] == 0
    assert g["acmens_dns_name_index_rebuilds_total"] == 0
    assert g["acmens_dns_name_index_lagged_total"] == 0


# Two writes of each account's record (created empty, then its value): past
# the 65,536 changes the store keeps.
BULK = 36000


def test_change_past_the_log_rebuilds(api, tmp_path):
    server = api.server
    acct = api.register()
    put(api, acct, value(1))
    wait_for(lambda: gauges(api)["acmens_dns_name_index_rebuilds_total"] >= 1, 5.0)
    from_index(api, acct["fulldomain"], (dns.rcode.NOERROR, [value(1)]))
    db = str(tmp_path / "bulk.db")
    write_bulk_db(db, BULK, int(time.time()), ())
    # Stopped, the daemon cannot follow the import chunk by chunk.
    os.kill(server.proc.pid, signal.SIGSTOP)
    try:
        p = server.ctl("import-acmedns", db, check=False)
    finally:
        os.kill(server.proc.pid, signal.SIGCONT)
    assert p.returncode == 0, p.stderr
    late = f"bulk-{BULK - 1}.{APEX}"
    deadline = time.monotonic() + 30
    while gauges(api)["acmens_dns_name_index_rebuilds_total"] < 2:
        assert time.monotonic() < deadline
        assert dns_txt(server, late, tcp=False) == (dns.rcode.NOERROR, [bulk_value(BULK - 1)])
        assert dns_txt(server, acct["fulldomain"], tcp=False) == (dns.rcode.NOERROR, [value(1)])
    from_index(api, late, (dns.rcode.NOERROR, [bulk_value(BULK - 1)]))
    from_index(api, "bulk-0." + APEX, (dns.rcode.NOERROR, [bulk_value(0)]))
    assert gauges(api)["acmens_dns_name_index_entries"] == BULK + 1
