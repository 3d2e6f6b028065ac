# SPDX-License-Identifier: ISC
"""A certificate issued by lego through acmens's acme-dns API when the CA
can only ask acmens's SECONDARIES, with no propagation wait on the client's
side: http.update_waits_for_secondaries makes POST /update answer only once
every secondary serves the value.

    lego --dns exec (acmedns_client.py)  --POST /update-->  acmensd (primary)
      |  ACME (TLS)                                            | NOTIFY, IXFR
      v                                                        v
    pebble --DNS-01-->  unbound --stub-->  knotd + nsd (secondaries of auth.example.org.)
                           |  stub
                           v
                         knotd (example.test.: _acme-challenge CNAME <sub>.auth.example.org.)

lego runs with its propagation pre-check off (--dns.disable-cp: the TXT
record is looked up once and never waited for) and a polling interval of
0 (lego sleeps one interval before that look-up), so it tells pebble to
validate as soon as /update has answered; pebble validates at once
(PEBBLE_VA_NOSLEEP) and does not retry. Without the option the
secondaries are a NOTIFY and a transfer behind the reply (milliseconds
to a second, bench/propagation.py): the witness below, which asks both
secondaries the moment /update answers, finds one without the value, and
pebble often does too and fails the order (two runs of four).

Skipped when any of knotd, nsd, unbound, pebble, lego or openssl is
missing (scripts/dev installs them)."""

import json
import os
import time

import dns.rcode
import pytest

from conftest import (HAVE_NSD, KNOTD, LEGO, OPENSSL, PEBBLE, UNBOUND, ZONE, Knot, KnotSecondary,
                      NsdSecondary, Pebble, Unbound, free_port, have, start_http,
                      transfer_config)
from test_lego_acmedns import (DOMAIN, Stack, check_cname, check_issued, customer_zone,
                               exec_env, txt_strings)

pytestmark = pytest.mark.skipif(not (have(KNOTD, LEGO, OPENSSL, PEBBLE, UNBOUND) and HAVE_NSD),
                                reason="knotd, nsd, unbound, pebble, lego or openssl missing")

WITNESS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "served_by.py")


def wait_synced(srv, secondaries, timeout=15.0):
    serial = srv.serial()
    deadline = time.time() + timeout
    while any(s.serial() != serial for s in secondaries):
        assert time.time() < deadline, (serial, {s.name: s.serial() for s in secondaries})
        time.sleep(0.05)


@pytest.fixture
def stack(tmp_path, make_server, daemons, test_ca):
    knot_port, nsd_port = free_port(), free_port()
    while nsd_port == knot_port:
        nsd_port = free_port()
    api = start_http(make_server, update_waits_for_secondaries=True,
                     zone={"extra_dns": transfer_config([knot_port, nsd_port], 16)})
    srv = api.server
    acct = api.register(path="/register")
    creds = acct.pop("headers")
    full = acct["fulldomain"]

    secondaries = [daemons(cls(tmp_path / cls.name, port, srv.port), timeout=15)
                   for cls, port in ((KnotSecondary, knot_port), (NsdSecondary, nsd_port))]
    wait_synced(srv, secondaries)       # transferred and listening to NOTIFY
    knot = daemons(Knot(tmp_path / "knot", customer_zone(full), zone=DOMAIN + "."))
    unbound = daemons(Unbound(tmp_path / "unbound",
                              {DOMAIN + ".": knot.port, ZONE: [s.port for s in secondaries]}))

    # The CNAME leads into the secondaries' copy of the zone, where the name
    # does not exist yet: a name without values is not in a transfer.
    check_cname(unbound, full, dns.rcode.NXDOMAIN)

    pebble = daemons(Pebble(tmp_path / "pebble", test_ca, unbound.port))
    (tmp_path / "acmedns.json").write_text(json.dumps({DOMAIN: acct}))
    st = Stack(tmp_path, api, acct, knot, unbound, pebble, test_ca)
    st.secondaries, st.creds = secondaries, creds
    return st


def lookups(stack):
    r = stack.api.call("GET", f"/v1/accounts/{stack.acct['subdomain']}/lookups",
                       headers=stack.creds)
    assert r.status_code == 200, r.text
    return r.json()["lookups"]


def test_lego_validates_at_secondaries_right_after_update(stack):
    witness = stack.tmp / "served_by.jsonl"
    # No wait at all: lego sleeps one POLLING_INTERVAL (2 s by default)
    # before its pre-check, even with the check off, and SEQUENCE_INTERVAL
    # between the two authorizations (the exec provider solves them one at
    # a time). With both at 0, pebble looks the value up within
    # milliseconds of the /update reply; without the option the witness
    # finds a secondary behind, and pebble often does.
    env = exec_env(stack, WITNESS, EXEC_POLLING_INTERVAL="0", EXEC_SEQUENCE_INTERVAL="0",
                   SERVED_BY_NAME=stack.acct["fulldomain"] + ".", SERVED_BY_OUT=str(witness),
                   SERVED_BY_PORTS=",".join(f"{s.name}={s.port}" for s in stack.secondaries))
    p = stack.lego("exec", env)
    logs = "".join(f"\n--- {s.name}:\n{s.read_log()[-3000:]}" for s in stack.secondaries)
    assert p.returncode == 0, f"lego failed:\n{p.stdout}\n{p.stderr}{stack.logs()}{logs}"

    # Both values were on both secondaries the moment /update answered.
    seen = [json.loads(line) for line in witness.read_text().splitlines()]
    assert len(seen) == 2 and seen[0]["value"] != seen[1]["value"], seen
    assert all(s["served_by"] == ["knotd", "nsd"] and s["missing"] == [] for s in seen), seen

    # pebble's resolver asked the secondaries only: acmensd saw no lookup
    # of the name (those of check_issued below come after this).
    assert lookups(stack) == []
    check_issued(stack, p)
    assert lookups(stack), "the lookup log recorded nothing, not even check_issued's queries"
    assert sorted(s["value"] for s in seen) == \
        txt_strings(stack.srv.query(stack.acct["fulldomain"] + ".", "TXT"))
