# SPDX-License-Identifier: ISC
"""No acknowledged write is lost: kill -9 under concurrent write load.

acmensd answers a write only once its transaction is durable (group commit,
no MDB_NOSYNC). So: 16 clients (keep-alive sessions, two per account) add
and remove TXT values through /v1 as fast as they can; acmensd gets SIGKILL
in the middle of it; the clients stop (their in-flight requests fail:
those writes are unacknowledged and may or may not have happened). After a
restart on the same store, every acknowledged add must be there, every
acknowledged removal must have stayed removed, nothing that was never
written may appear, and the zone serial must not be below the highest one
a write response reported. Twice: load, kill, restart, check, load again,
kill again, check everything from both rounds.

SIGKILL leaves the kernel's page cache alone, so what this proves is the
order "commit, then reply" (no reply for a write that is not committed,
none lost between group commit and the HTTP thread); that the commit
reaches the disk (fsync) would take a power cut, not a kill.

/v1 add never evicts, so each client keeps at most PER_CLIENT values of its
own live and removes its oldest before adding more; the two clients of an
account stay below zone.txt_max_values together, unknown outcomes
included."""

import json
import random
import threading
import time

import requests

from conftest import dns_txt, start_http, value

ACCOUNTS = 8
CLIENTS = 16
PER_CLIENT = 28          # 2 x 28 + in-flight leftovers <= txt_max_values 64
LOAD_SECONDS = 2.0
ROUNDS = 2


class Client(threading.Thread):
    """One worker: a keep-alive session adding (and, at its cap, removing)
    values of one account. Records an outcome only from a reply."""

    def __init__(self, ledger, url, acct, idx, rnd, live, stop):
        super().__init__(daemon=True)
        self.ledger = ledger
        self.url = f"{url}/v1/accounts/{acct['subdomain']}/txt"
        self.sub = acct["subdomain"]
        self.headers = acct["headers"]
        self.idx, self.rnd = idx, rnd
        self.live = live         # this client's values known to be present, oldest first
        self.stop = stop
        self.errors = []         # replies that are neither success nor a dropped connection

    def run(self):
        session = requests.Session()
        n = 0
        try:
            while not self.stop.is_set():
                if len(self.live) >= PER_CLIENT:
                    self.remove(session, self.live[0])
                else:
                    self.add(session, value(f"{self.rnd}-{self.idx}-{n}"))
                    n += 1
        except requests.RequestException:
            pass                 # the daemon is gone: this write is unacknowledged
        finally:
            session.close()

    def add(self, session, val):
        self.ledger.attempt(self.sub, val, "add", self.idx)
        r = session.post(self.url, json={"value": val}, headers=self.headers, timeout=10)
        if r.status_code != 201:
            self.fail(r)
            return
        self.ledger.acked(self.sub, val, "add", r.json()["serial"])
        self.live.append(val)

    def remove(self, session, val):
        self.ledger.attempt(self.sub, val, "remove", self.idx)
        r = session.delete(f"{self.url}/{val}", headers=self.headers, timeout=10)
        if r.status_code != 200:
            self.fail(r)
            return
        self.ledger.acked(self.sub, val, "remove", r.json()["serial"])
        self.live.pop(0)

    def fail(self, r):
        self.errors.append(f"{r.request.method} {r.url}: {r.status_code} {r.text}")
        self.stop.set()


class Ledger:
    """What the clients asked for and what was acknowledged, per value:
    state is 'present', 'absent' (acknowledged), or 'adding'/'removing'
    (sent, no reply: either outcome is allowed). Values are unique, each
    written by one client (owner)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.state = {}          # (sub, value) -> state, in order of first add
        self.owner = {}          # value -> client index
        self.max_serial = 0
        self.acks = 0

    def attempt(self, sub, val, op, owner):
        with self.lock:
            self.state[(sub, val)] = "adding" if op == "add" else "removing"
            self.owner[val] = owner

    def acked(self, sub, val, op, serial):
        with self.lock:
            self.state[(sub, val)] = "present" if op == "add" else "absent"
            self.max_serial = max(self.max_serial, serial)
            self.acks += 1

    def unknown(self):
        with self.lock:
            return sum(st in ("adding", "removing") for st in self.state.values())

    def check(self, sub, found):
        """Problems with the values found for one account; settles the
        unknown outcomes to what was found."""
        problems = []
        with self.lock:
            for (s, val), st in self.state.items():
                if s != sub:
                    continue
                if st == "present" and val not in found:
                    problems.append(f"{sub}: acknowledged add of {val} lost")
                elif st == "absent" and val in found:
                    problems.append(f"{sub}: acknowledged removal of {val} undone")
                elif st in ("adding", "removing"):
                    self.state[(s, val)] = "present" if val in found else "absent"
            for val in found:
                if (sub, val) not in self.state:
                    problems.append(f"{sub}: {val} was never written")
        return problems

    def present(self, owner):
        """The owner's values now present, oldest first."""
        with self.lock:
            return [v for (_s, v), st in self.state.items()
                    if st == "present" and self.owner[v] == owner]


def check_store(srv, accts, ledger):
    """Every account's values, from the store (acmensctl) and over DNS,
    against the ledger; returns the problems."""
    problems = []
    for acct in accts:
        sub = acct["subdomain"]
        found = {v["value"] for v in json.loads(srv.ctl("txt", "list", sub).stdout)["values"]}
        served = set(dns_txt(srv, acct["fulldomain"])[1])
        if served != found:
            problems.append(f"{sub}: DNS serves {sorted(served)}, the store has {sorted(found)}")
        problems += ledger.check(sub, found)
    return problems


def test_kill_9_under_write_load_loses_no_acknowledged_write(make_server):
    api = start_http(make_server, admin_token=None, zone={"txt_max_values": 64},
                     register_rate=0)
    srv = api.server
    accts = [api.register() for _ in range(ACCOUNTS)]
    ledger = Ledger()
    rng = random.Random(1)
    acks = []

    for rnd in range(ROUNDS):
        stop = threading.Event()
        clients = [Client(ledger, srv.http_url, accts[i % ACCOUNTS], i, rnd,
                          ledger.present(i), stop) for i in range(CLIENTS)]
        before = ledger.acks
        for c in clients:
            c.start()
        # load for a while (bounded), then SIGKILL in the middle of it
        time.sleep(LOAD_SECONDS * rng.uniform(0.8, 1.2))
        srv.proc.kill()
        srv.proc.wait(10)
        stop.set()
        for c in clients:
            c.join(15)
        assert not any(c.is_alive() for c in clients), "a client did not stop"
        errors = [e for c in clients for e in c.errors]
        assert not errors, "\n".join(errors[:10])
        acks.append(ledger.acks - before)
        assert acks[-1] > 0, f"round {rnd}: no write was acknowledged before the kill"
        # writes were in flight when the daemon died (else this proves little)
        assert ledger.unknown() > 0, f"round {rnd}: nothing in flight at the kill"

        srv.stop()               # reaps the killed daemon, closes its log
        srv.start()
        problems = check_store(srv, accts, ledger)
        assert not problems, f"round {rnd} ({acks[-1]} acknowledged writes):\n" + \
            "\n".join(problems[:20])
        serial = srv.serial()
        assert serial >= ledger.max_serial, \
            f"round {rnd}: serial {serial} after restart, {ledger.max_serial} acknowledged"

    assert sum(acks) > 100, f"too few acknowledged writes per round: {acks}"
