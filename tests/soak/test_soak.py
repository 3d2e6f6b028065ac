# SPDX-License-Identifier: ISC
"""Soak: rounds of kill -9 of acmensd under mixed load, with a Knot DNS
secondary following by NOTIFY and IXFR. Not part of `scripts/dev test`;
run it with `scripts/dev soak` (see docs/development.md).

Each round: writers change TXT values through acme-dns /update, /v1
(add, remove, replace), RFC 2136 UPDATE signed with account keys and
acmensctl txt (add, remove, set) on the same store, while DNS queries and
IXFR requests read; after ACMENS_SOAK_LOAD seconds (2 to 4, at random)
acmensd gets SIGKILL, the load stops, and acmensd starts again on the same
store. Then:

- every name holds exactly what its acknowledged writes left, or what the
  one write in doubt (sent, never answered) would have left: no
  acknowledged write lost, no acknowledged removal undone, nothing never
  written; DNS, AXFR and the store agree;
- the serial is at least every serial a write reply reported;
- the journal's IXFR from the serial the last transfer reached, applied to
  the zone as that transfer left it, gives exactly the zone AXFR serves
  (each transfer during the load applied cleanly too);
- Knot converges: its SOA serial is acmensd's and its zone, transferred
  out of it, is acmensd's AXFR, within CONVERGE_TIMEOUT.

ACMENS_SOAK_ROUNDS (default 50) sets the number of rounds, ACMENS_SOAK_LOAD
fixes the seconds of load per round, ACMENS_SOAK_SEED the random choices.
A line per round and the totals are printed; any loss fails the round."""

import json
import os
import random
import threading
import time

import dns.exception
import dns.name
import dns.query
import dns.rdatatype
import dns.tsigkeyring
import pytest

from conftest import (HAVE_KNOTD, SECONDARY_SECRET, ZONE, KnotSecondary, dns_txt, free_port,
                      soa_serial, start_http, transfer_config)
from soak_load import AcmeDnsWriter, CtlWriter, Ledger, Reader, UpdateWriter, V1Writer

pytestmark = pytest.mark.skipif(not HAVE_KNOTD, reason="knotd not installed")

ROUNDS = int(os.environ.get("ACMENS_SOAK_ROUNDS", "50"))
LOAD = os.environ.get("ACMENS_SOAK_LOAD")
SEED = int(os.environ.get("ACMENS_SOAK_SEED", "12"))
ACCOUNTS = 2             # names per kind of writer
CAP = 6                  # values a writer keeps at one name
TXT_LIMIT = 3            # /update keeps the newest 3
CONVERGE_TIMEOUT = 60.0
JOURNAL = 1000000        # every round's diffs stay: an IXFR must never fall back

KEYRING = dns.tsigkeyring.from_text({"xfr-key.": ("hmac-sha256", SECONDARY_SECRET)})
XFR_KEY = dict(keyring=KEYRING, keyname=dns.name.from_text("xfr-key."),
               keyalgorithm="hmac-sha256")


# --- the zone as transfers show it ---------------------------------------------

def rr_list(port, rdtype="AXFR", serial=0):
    """The RRs of a signed transfer from 127.0.0.1:port, in order, as
    (owner, ttl, type, rdata text)."""
    out = []
    for m in dns.query.xfr("127.0.0.1", ZONE, rdtype=rdtype, serial=serial, port=port,
                           timeout=10, lifetime=60, relativize=False, **XFR_KEY):
        for rrset in m.answer:
            for rd in rrset:
                out.append((rrset.name.to_text().lower(), rrset.ttl,
                            dns.rdatatype.to_text(rrset.rdtype), rd.to_text()))
    return out


def axfr(port):
    """(serial, set of RRs, the SOA once) of the zone at 127.0.0.1:port."""
    rrs = rr_list(port)
    assert rrs[0][2] == "SOA" and rrs[-1] == rrs[0], "AXFR not framed by the SOA"
    return soa_of(rrs[0]), frozenset(rrs[:-1])


def soa_of(rr):
    return int(rr[3].split()[2])


def apply_ixfr(zone, serial, port):
    """The zone after an IXFR from serial applied to zone (serial's RRs):
    (new serial, new zone, diffs applied). Fails if the answer is not
    incremental, a deletion is not in the zone, an addition already is, or
    the diffs do not chain from serial to the answer's serial."""
    rrs = rr_list(port, "IXFR", serial)
    assert rrs and rrs[0][2] == "SOA", f"IXFR from {serial}: no SOA first"
    end = soa_of(rrs[0])
    if len(rrs) == 1:
        assert end == serial, f"IXFR from {serial}: a lone SOA of {end}"
        return serial, zone, 0
    assert rrs[1][2] == "SOA", f"IXFR from {serial}: the whole zone, not diffs (to {end})"
    assert rrs[-1] == rrs[0], f"IXFR from {serial}: not closed by the SOA of {end}"
    cur, at, diffs, i, body = set(zone), serial, 0, 0, rrs[1:-1]
    while i < len(body):
        for phase in ("delete", "add"):
            soa = body[i]
            assert soa[2] == "SOA", f"IXFR from {serial}: {soa} where a SOA belongs"
            part = [soa]
            i += 1
            while i < len(body) and body[i][2] != "SOA":
                part.append(body[i])
                i += 1
            if phase == "delete":
                assert soa_of(soa) == at, f"IXFR from {serial}: diff from {soa_of(soa)} at {at}"
                missing = [rr for rr in part if rr not in cur]
                assert not missing, f"IXFR from {serial}: deletes what is not there: {missing}"
                cur.difference_update(part)
            else:
                there = [rr for rr in part if rr in cur]
                assert not there, f"IXFR from {serial}: adds what is there: {there}"
                cur.update(part)
                at = soa_of(soa)
        diffs += 1
    assert at == end, f"IXFR from {serial}: diffs end at {at}, the answer says {end}"
    return end, frozenset(cur), diffs


def txt_at(zone, owner):
    return {rd[1:-1] for o, _ttl, t, rd in zone if o == owner and t == "TXT"}


class Transfers(threading.Thread):
    """IXFR from the last serial reached, over and over, each applied to the
    zone as the one before left it (any bad diff is an error), until stop
    or the daemon stops answering."""

    def __init__(self, port, serial, zone, ledger, stop):
        super().__init__(daemon=True)
        self.port, self.serial, self.zone = port, serial, zone
        self.ledger, self.stop = ledger, stop
        self.count = 0

    def run(self):
        try:
            while not self.stop.is_set():
                self.serial, self.zone, _ = apply_ixfr(self.zone, self.serial, self.port)
                self.count += 1
                time.sleep(0.05)
        except AssertionError as e:
            self.ledger.error(f"IXFR: {e}")
            self.stop.set()
        except Exception as e:   # the ledger tells a dead daemon from an error
            if not self.ledger.died("IXFR", e):
                self.stop.set()


# --- the run -------------------------------------------------------------------

class Soak:
    def __init__(self, api, knot, rng, load):
        self.api, self.srv, self.knot, self.rng, self.load = api, api.server, knot, rng, load
        http = [api.register() for _ in range(2 * ACCOUNTS)]
        self.acme, self.v1 = http[:ACCOUNTS], http[ACCOUNTS:]
        self.keys = []
        for i in range(ACCOUNTS):
            sub = self.srv.register()["subdomain"]
            key = json.loads(self.srv.ctl("account", "tsig-key", sub).stdout)
            owner = key["name"].rstrip(".") + "."
            self.keys.append((key, owner if i % 2 == 0 else "_acme-challenge." + owner))
        self.ctl_subs = [self.srv.register()["subdomain"] for _ in range(ACCOUNTS)]
        self.names = []          # every writer's names, kept across rounds
        self.serial, self.zone = axfr(self.srv.port)
        self.rows = []

    def writers(self, ledger, stop, rnd):
        kw = dict(ledger=ledger, stop=stop, cap=CAP)
        ws = [AcmeDnsWriter(self.srv.http_url, self.acme, TXT_LIMIT, tag=f"u{rnd}", **kw),
              V1Writer(self.srv.http_url, self.v1, tag=f"v{rnd}", **kw),
              UpdateWriter(self.srv.port, self.keys, tag=f"d{rnd}", **kw),
              CtlWriter(self.srv.config, self.ctl_subs, tag=f"c{rnd}", **kw)]
        if not self.names:
            self.names = [n for w in ws for n in w.names]
        else:                    # the names carry their state into the next round
            it = iter(self.names)
            for w in ws:
                w.names = [next(it) for _ in w.names]
        return ws

    def round(self, rnd):
        t0 = time.time()
        ledger, stop = Ledger(), threading.Event()
        threads = self.writers(ledger, stop, rnd)
        threads.append(Reader(self.srv.port, [n.owner for n in self.names], ledger, stop))
        xfr = Transfers(self.srv.port, self.serial, self.zone, ledger, stop)
        threads.append(xfr)
        for t in threads:
            t.start()
        stop.wait(self.load or self.rng.uniform(2.0, 4.0))
        ledger.killed.set()
        self.srv.proc.kill()
        self.srv.proc.wait(10)
        stop.set()
        for t in threads:
            t.join(60)
        assert not any(t.is_alive() for t in threads), "a load thread did not stop"
        assert not ledger.errors, f"round {rnd}: " + "\n".join(ledger.errors[:10])
        assert ledger.acks > 0, f"round {rnd}: no write was acknowledged before the kill"

        self.srv.stop()          # reaps the killed daemon, closes its log
        self.srv.start()
        t_up = time.time()
        serial, zone = axfr(self.srv.port)
        behind = serial - (soa_serial(self.knot.port) or 0)
        problems = self.check_names(zone)
        assert not problems, f"round {rnd}: {len(problems)} names lost writes:\n" + \
            "\n".join(problems)
        assert serial >= ledger.max_serial, \
            f"round {rnd}: serial {serial} after the restart, {ledger.max_serial} acknowledged"
        # the journal: the diffs from where the last transfer stopped
        got_serial, got, diffs = apply_ixfr(xfr.zone, xfr.serial, self.srv.port)
        if (got_serial, got) != (serial, zone):
            raise AssertionError(
                f"round {rnd}: IXFR from {xfr.serial} gives serial {got_serial}, AXFR {serial}; "
                f"only in IXFR {sorted(got - zone)[:5]}, only in AXFR {sorted(zone - got)[:5]}")
        converged = self.converge(rnd, serial, zone)
        self.serial, self.zone = serial, zone
        row = dict(round=rnd, acks=ledger.acks, doubt=ledger.doubt, queries=ledger.queries,
                   ixfr=xfr.count, diffs=diffs, serial=serial, knot_behind=behind,
                   converge=converged - t_up,
                   seconds=time.time() - t0)
        self.rows.append(row)
        return row

    def check_names(self, zone):
        """Problems of every name: DNS (over TCP) against the ledger, and
        AXFR against DNS; settles the writes in doubt."""
        problems = []
        for n in self.names:
            _rcode, found = dns_txt(self.srv, n.owner)
            if set(found) != txt_at(zone, n.owner):
                problems.append(f"{n.owner}: DNS serves {found}, AXFR has "
                                f"{sorted(txt_at(zone, n.owner))}")
            problems += n.settle(found)
        return problems

    def converge(self, rnd, serial, zone):
        """When Knot served serial and the same zone as acmensd."""
        deadline = time.time() + CONVERGE_TIMEOUT
        while time.time() < deadline:
            try:
                if soa_serial(self.knot.port) == serial:
                    at = time.time()
                    kserial, kzone = axfr(self.knot.port)
                    if (kserial, kzone) != (serial, zone):
                        raise AssertionError(
                            f"round {rnd}: Knot at {kserial} serves other records: only at "
                            f"Knot {sorted(kzone - zone)[:5]}, only at acmensd "
                            f"{sorted(zone - kzone)[:5]}")
                    return at
            except (OSError, EOFError, dns.exception.Timeout):
                pass
            time.sleep(0.05)
        raise AssertionError(f"round {rnd}: Knot at {soa_serial(self.knot.port)}, "
                             f"not {serial} after {CONVERGE_TIMEOUT}s\n"
                             + self.knot.read_log()[-3000:])


def report(rows, out):
    conv = sorted(r["converge"] for r in rows)
    secs = [r["seconds"] for r in rows]
    acks = sum(r["acks"] for r in rows)
    out(f"soak: {len(rows)} rounds, {acks} acknowledged writes "
        f"({sum(r['doubt'] for r in rows)} in doubt at the kills), 0 lost; "
        f"{sum(r['queries'] for r in rows)} queries, {sum(r['ixfr'] for r in rows)} IXFR "
        f"during the load; round {min(secs):.1f}-{max(secs):.1f} s "
        f"(mean {sum(secs) / len(secs):.1f}); Knot behind at the restart in "
        f"{sum(r['knot_behind'] > 0 for r in rows)} rounds, converged after it in "
        f"median {conv[len(conv) // 2]:.2f} s, max {conv[-1]:.2f} s")


def run_soak(make_server, tmp_path, rounds, load, out):
    """rounds rounds (load: seconds of load each, None: 2 to 4 at random);
    out(text) gets a line per round and the totals. Fails at the first
    round that loses anything."""
    knot_port = free_port()
    api = start_http(make_server, admin_token=None, register_rate=0, txt_limit=TXT_LIMIT,
                     zone={"txt_max_values": 16,
                           "extra_dns": "update:\n  enabled: true\n"
                                        + transfer_config([knot_port], JOURNAL)})
    knot = KnotSecondary(tmp_path / "knotd", knot_port, api.server.port).start(timeout=30)
    try:
        soak = Soak(api, knot, random.Random(SEED), load)
        for rnd in range(rounds):
            row = soak.round(rnd)
            out(f"round {rnd}: " + " ".join(
                f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}"
                for k, v in row.items() if k != "round"))
        assert sum(r["doubt"] for r in soak.rows) > 0, "no write was ever in flight at a kill"
        report(soak.rows, out)
    finally:
        knot.stop()


def test_soak_kill_9_under_mixed_load(make_server, tmp_path, capsys):
    def out(text):
        with capsys.disabled():
            print("\n" + text, flush=True)
    run_soak(make_server, tmp_path, ROUNDS, float(LOAD) if LOAD else None, out)
