# SPDX-License-Identifier: ISC
"""How acmensd asks a secondary for its serial while writes wait for it
(?wait=secondaries, docs/api.md "Waiting for the secondaries"): NOTIFY at
once, SOA probes at short gaps while the secondary is behind and never
closer than 25 ms however many writes wait or how often they commit, one
answer releasing every write it satisfies, and the slow pace again once
the secondary is current.

The secondary here is conftest's FakeSecondary, whose serial the test
sets: it can be held behind for as long as a test needs, which Knot and
NSD (tests/e2e/test_propagation.py) cannot."""

import concurrent.futures
import json
import time

import requests

from conftest import start_http, value

WRITES = 40


def primary_with(make_server, secondary):
    """acmensd notifying secondary, WRITES accounts, the secondary current
    and the last announcement over 200 ms old."""
    notify = f'transfer:\n  notify: ["127.0.0.1:{secondary.port}"]\n'
    api = start_http(make_server, admin_token=None, register_rate=0,
                     max_connections_per_client=200, zone={"extra_dns": notify})
    accts = [api.register() for _ in range(WRITES)]
    secondary.serial = api.server.serial()
    deadline = time.time() + 15
    while not api.call("GET", "/v1/zone/status").json()["synced"]:
        assert time.time() < deadline, "the secondary never showed current"
        time.sleep(0.05)
    time.sleep(0.3)     # past the 200 ms that gathers announcements
    return api, accts


def waiting_write(api, acct, n, timeout=10):
    return requests.post(f"{api.url}/v1/accounts/{acct['subdomain']}/txt"
                         f"?wait=secondaries&timeout={timeout}",
                         data=json.dumps({"value": value(n)}), headers=acct["headers"],
                         timeout=timeout + 20)


def test_probes_while_writes_wait(make_server, fake_secondary):
    """40 waiting writes, one every 10 ms, each its own commit and so its
    own announcement, against a secondary held behind for 3 s."""
    secondary = fake_secondary
    api, accts = primary_with(make_server, secondary)
    start = time.time()

    def one(i):
        time.sleep(i * 0.01)
        return waiting_write(api, accts[i], i)
    with concurrent.futures.ThreadPoolExecutor(max_workers=WRITES) as pool:
        futures = [pool.submit(one, i) for i in range(WRITES)]
        time.sleep(3)
        caught_up = time.time()
        secondary.serial = api.server.serial()     # every write's serial or later
        replies = [f.result() for f in futures]
    released = time.time()

    notifies = secondary.times("notify", start, caught_up)
    assert notifies and notifies[0] - start < 0.25, notifies[:3]
    probes = secondary.times("probe", start, caught_up)
    gaps = [b - a for a, b in zip(probes, probes[1:])]
    # short gaps all along, never two probes within 25 ms (less the
    # millisecond acmensd's clock rounds away), however many announcements
    assert len(probes) >= 20 and max(gaps) < 0.2, (len(probes), max(gaps))
    assert min(gaps) >= 0.020, (len(notifies), len(probes), sorted(gaps)[:5])
    # one answer of the secondary releases them all, within a probe's gap
    assert [r.status_code for r in replies] == [201] * WRITES, \
        [r.text for r in replies if r.status_code != 201][:3]
    assert all(r.json()["propagated"] is True for r in replies)
    assert released - caught_up < 0.5, released - caught_up
    # a current secondary is back to the slow pace: no probe for seconds
    time.sleep(2)
    assert secondary.times("probe", released + 0.1, time.time()) == []
