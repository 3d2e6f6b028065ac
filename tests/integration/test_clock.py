# SPDX-License-Identifier: ISC
"""Expiry and TSIG when the wall clock steps, without touching the
machine's clock: acmensd runs under libfaketime (Debian: faketime), whose
offset a file holds and which re-reads it on every call, so the test steps
the running daemon's wall clock by an hour forward and back. The monotonic
clocks are left alone (DONT_FAKE_MONOTONIC), as a real step leaves them.

The guarantee (docs/operations.md, "Clock"): a value is expired once both
the wall clock and the daemon's steady clock (the wall clock at start plus
the time elapsed) have passed its expiry. A step forward expires nothing
early; a value set while the clock is stepped back lives exactly as long
as asked; one set before a step back lives at most the step longer, and no
longer than until the wall clock is right again. TSIG checks use the wall
clock by definition (RFC 8945: time signed +- fudge): a client or a server
clock off by more than the fudge is BADTIME."""

import os
import struct
import time

import dns.rcode
import dns.rdatatype
import dns.update
import pytest

from conftest import ZONE, HttpApi, dns_txt
from test_update import UPDATE_ON, account, fqdn, tsig_sign

# The MT build serialises its clock calls: the plain one re-reads the offset
# file without a lock, so a thread may see the offset at zero for a moment.
LIBFAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1"
T = 6                # expires_in of the values under test, seconds
SLACK = 3            # DNS sees a value go within this after its expiry
BADTIME = 18
NOTAUTH = 9

pytestmark = pytest.mark.skipif(not os.path.exists(LIBFAKETIME),
                                reason="libfaketime (Debian package faketime) is missing")


class Clock:
    """The faked wall clock of one daemon: an offset in a file."""

    def __init__(self, directory):
        self.path = os.path.join(directory, "faketime")
        self.set("+0")

    def set(self, offset):
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            f.write(offset + "\n")
        os.replace(tmp, self.path)

    def prefix(self):
        asan = os.environ.get("ASAN_OPTIONS", "")
        return ["env", f"LD_PRELOAD={LIBFAKETIME}", f"FAKETIME_TIMESTAMP_FILE={self.path}",
                "FAKETIME_NO_CACHE=1", "DONT_FAKE_MONOTONIC=1",
                # the sanitizer runtime must otherwise come first
                f"ASAN_OPTIONS={asan + ':' if asan else ''}verify_asan_link_order=0"]


@pytest.fixture
def faked(make_server):
    s = make_server(start=False, http={}, extra_dns=UPDATE_ON)
    clock = Clock(s.dir)
    s.argv_prefix = clock.prefix()
    s.start()
    return s, clock, HttpApi(s)


def served(s, acct):
    rcode, values = dns_txt(s, acct["fulldomain"])
    assert rcode == dns.rcode.NOERROR
    return set(values)


def add(api, acct, value, expires_in):
    """(before, after): the monotonic times around the request. The value's
    expiry was stamped between them; under load the reply (after its
    durable commit) may come a good while after the stamp."""
    before = time.monotonic()
    r = api.call("POST", f"/v1/accounts/{acct['subdomain']}/txt",
                 {"value": value, "expires_in": expires_in}, acct["headers"])
    assert r.status_code == 201, r.text
    return before, time.monotonic()


def gone_after(s, acct, value, since, limit):
    """Seconds from since until DNS stops serving value (polled)."""
    while time.monotonic() - since < limit:
        if value not in served(s, acct):
            return time.monotonic() - since
        time.sleep(0.1)
    return None


def lives_its_time(s, acct, value, at):
    """value goes T seconds after it was set: not before (less the second
    an expiry is rounded to), nor more than SLACK after."""
    before, after = at
    took = gone_after(s, acct, value, before, T + SLACK + 2 + (after - before))
    assert took is not None and T - 1 <= took <= T + SLACK + (after - before), \
        (took, after - before)


def test_step_forward_expires_nothing_early(faked):
    s, clock, api = faked
    acct = api.register()
    set_at = add(api, acct, "forward-step", T)
    clock.set("+1h")
    # The wall clock says the value is an hour past its expiry: it stays.
    assert "forward-step" in served(s, acct)
    r = api.call("GET", f"/v1/accounts/{acct['subdomain']}/txt", headers=acct["headers"])
    assert [v["value"] for v in r.json()["values"]] == ["forward-step"]
    # It goes when its time has really elapsed: not before, not long after.
    lives_its_time(s, acct, "forward-step", set_at)
    # A value set while the clock is ahead lives its time too.
    set_at = add(api, acct, "set-ahead", T)
    time.sleep(T - 2)
    assert "set-ahead" in served(s, acct)
    lives_its_time(s, acct, "set-ahead", set_at)


def test_step_back_is_bounded_by_the_step(faked):
    s, clock, api = faked
    acct = api.register()
    set_at = add(api, acct, "before-step", T)
    clock.set("-1h")
    # Set while the clock is an hour behind: lives exactly its time.
    new_at = add(api, acct, "during-step", T)
    lives_its_time(s, acct, "during-step", new_at)
    # Set before the step: judged by the wall clock, it lives on (at most
    # the hour the clock went back) ...
    time.sleep(max(0.0, set_at[1] + T + 2 - time.monotonic()))
    assert "before-step" in served(s, acct)
    # ... and no longer than until the wall clock is right again.
    clock.set("+0")
    back = time.monotonic()
    took = gone_after(s, acct, "before-step", back, SLACK + 2)
    assert took is not None and took <= SLACK, took


def update_wire(acct_sub, value):
    m = dns.update.UpdateMessage(ZONE)
    m.add(f"{acct_sub}.{ZONE}", 60, dns.rdatatype.TXT, f'"{value}"')
    return m.to_wire()


def tsig_error(reply):
    """The RCODE and the TSIG error of a signed reply (the TSIG RR is the
    last; its other data is empty or BADTIME's 6 bytes of server time)."""
    for other in (0, 6):
        if len(reply) >= other + 4 and \
           struct.unpack("!H", reply[-other - 2:len(reply) - other])[0] == other:
            err = struct.unpack("!H", reply[-other - 4:-other - 2])[0]
            return reply[3] & 0xF, err
    raise AssertionError(f"no TSIG in {reply!r}")


def signed_update(s, sub, key, value, offset):
    data = tsig_sign(update_wire(sub, value), fqdn(key), key["secret"],
                     now=int(time.time()) + offset)
    return tsig_error(s.send_raw_udp(data, timeout=2.0))


def test_tsig_client_clock_off(make_server):
    """Fudge 300 s: a client 200 s off either way is served, 400 s off is
    BADTIME, and nothing is stored from it."""
    s = make_server(extra_dns=UPDATE_ON)
    sub, key = account(s)
    for offset in (200, -200):
        assert signed_update(s, sub, key, f"ok{offset}", offset) == (0, 0)
    for offset in (400, -400):
        assert signed_update(s, sub, key, f"late{offset}", offset) == (NOTAUTH, BADTIME)
    rcode, values = dns_txt(s, sub)
    assert set(values) == {"ok200", "ok-200"}


def test_tsig_server_clock_stepped(faked):
    """The daemon's clock an hour ahead: a correct client is BADTIME (the
    check is against the wall clock, as RFC 8945 says); put right, served."""
    s, clock, api = faked
    sub, key = account(s)
    clock.set("+1h")
    assert signed_update(s, sub, key, "stepped", 0) == (NOTAUTH, BADTIME)
    clock.set("+0")
    assert signed_update(s, sub, key, "righted", 0) == (0, 0)
    rcode, values = dns_txt(s, sub)
    assert set(values) == {"righted"}
