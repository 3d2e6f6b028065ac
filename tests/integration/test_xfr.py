# SPDX-License-Identifier: ISC
"""Zone transfer out (RFC 5936 AXFR, RFC 1995 IXFR) with TSIG (RFC 8945),
checked with independent clients: kdig (Knot's) for AXFR and TSIG
failures, dnspython for IXFR, which verifies every message's signature of
a multi-message answer as it reads it.

Policy under test: 127.0.0.1 may transfer with the key "xfr-key." only;
::1 may transfer unsigned; "other-key." is a configured key that no allow
entry names. The journal keeps 6 diffs, so older serials get the whole
zone."""

import base64
import os
import re
import shutil
import struct
import subprocess
import time

import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.tsig
import dns.tsigkeyring
import dns.zone
import pytest

from conftest import ZONE, value

KDIG = shutil.which("kdig") or "/usr/bin/kdig"
HAVE_KDIG = os.access(KDIG, os.X_OK)

XFR_SECRET = base64.b64encode(b"x" * 32).decode()
OTHER_SECRET = base64.b64encode(b"o" * 32).decode()
JOURNAL = 6

TRANSFER_CONFIG = f"""tsig:
  - {{name: xfr-key., algorithm: hmac-sha256, secret: "{XFR_SECRET}"}}
  - {{name: other-key., algorithm: hmac-sha256, secret: "{OTHER_SECRET}"}}
transfer:
  allow:
    - {{address: 127.0.0.1/32, key: xfr-key.}}
    - {{address: "::1/128"}}
  journal:
    max_entries: {JOURNAL}
"""

KEYRING = dns.tsigkeyring.from_text({"xfr-key.": ("hmac-sha256", XFR_SECRET)})
KEYNAME = dns.name.from_text("xfr-key.")


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    from conftest import _server_factory
    factory, finish = _server_factory(tmp_path_factory.mktemp("xfr"))
    s = factory(extra_dns=TRANSFER_CONFIG, log_level="debug")
    yield s
    finish()


def fill(srv, accounts=3, values=2, base=0):
    """Accounts with values, set through acmensctl; returns their subdomains."""
    subs = []
    for a in range(accounts):
        sub = srv.register()["subdomain"]
        srv.ctl("txt", "set", sub, "--", *[value(base + 100 * a + i) for i in range(values)])
        subs.append(sub)
    return subs


def normalize(rrsets):
    """{(owner, ttl, type, rdata text)} of RRsets, SOA included once."""
    out = set()
    for rrset in rrsets:
        for rd in rrset:
            out.add((rrset.name.to_text().lower(), rrset.ttl,
                     dns.rdatatype.to_text(rrset.rdtype), rd.to_text()))
    return out


def zone_records(text):
    z = dns.zone.from_text(text, origin=ZONE, relativize=False, check_origin=False)
    return {(name.to_text().lower(), rds.ttl, dns.rdatatype.to_text(rds.rdtype), rd.to_text())
            for name, rds in z.iterate_rdatasets() for rd in rds}


def kdig(srv, *args):
    p = subprocess.run([KDIG, "@127.0.0.1", "-p", str(srv.port), *args],
                       capture_output=True, text=True, timeout=30)
    return p.returncode, p.stdout + p.stderr


def kdig_records(out):
    lines = [ln for ln in out.splitlines() if ln.strip() and not ln.startswith(";")]
    return zone_records("\n".join(lines) + "\n")


def xfr_messages(srv, rdtype="AXFR", serial=0, addr="127.0.0.1", signed=True):
    kw = dict(keyring=KEYRING, keyname=KEYNAME, keyalgorithm="hmac-sha256") if signed else {}
    return list(dns.query.xfr(addr, ZONE, rdtype=rdtype, serial=serial, port=srv.port,
                              timeout=10, lifetime=30, relativize=False, **kw))


def answer_rrs(messages):
    """Every RR of the answers, in order, as (type, owner, rdata text)."""
    out = []
    for m in messages:
        for rrset in m.answer:
            for rd in rrset:
                out.append((dns.rdatatype.to_text(rrset.rdtype), rrset.name.to_text().lower(),
                            rd.to_text()))
    return out


def ixfr_query(serial, tsig=True):
    q = dns.message.make_query(ZONE, "IXFR")
    soa = dns.rrset.from_text(ZONE, 0, "IN", "SOA",
                              f"ns1.{ZONE} hostmaster.example.org. {serial} 1 1 1 1")
    q.authority.append(soa)
    if tsig:
        q.use_tsig(KEYRING, keyname=KEYNAME)
    return q


# --- AXFR ---------------------------------------------------------------------

@pytest.mark.skipif(not HAVE_KDIG, reason="kdig not installed")
def test_axfr_with_kdig_matches_export(srv):
    fill(srv)
    rc, out = kdig(srv, "-y", f"hmac-sha256:xfr-key:{XFR_SECRET}", "AXFR", ZONE)
    assert rc == 0, out
    assert "NOERROR" in out or "Received" in out, out
    export = srv.ctl("export", json_out=False).stdout
    assert kdig_records(out) == zone_records(export)


def test_axfr_multi_message_signed_every_message(srv):
    """Enough values for several 16 KB messages; dnspython checks each
    message's MAC against the one before it."""
    fill(srv, accounts=40, values=8, base=10000)
    msgs = xfr_messages(srv)
    assert len(msgs) >= 2
    assert all(m.had_tsig for m in msgs)
    rrs = answer_rrs(msgs)
    assert rrs[0][0] == "SOA" and rrs[-1][0] == "SOA" and rrs[0] == rrs[-1]
    assert sum(1 for r in rrs if r[0] == "SOA") == 2
    export = zone_records(srv.ctl("export", json_out=False).stdout)
    got = set()
    for m in msgs:
        got |= normalize(m.answer)
    assert got == export


def test_axfr_unsigned_is_refused(srv):
    q = dns.message.make_query(ZONE, "AXFR")
    r = dns.message.from_wire(srv.send_raw_tcp(q.to_wire(), timeout=5))
    assert r.rcode() == dns.rcode.REFUSED
    assert not r.flags & dns.flags.AA and not r.answer
    assert re.search(r'msg="transfer refused" client=127\.0\.0\.1 qname=auth\.example\.org\.', srv.read_log())


def test_axfr_key_not_in_allow_is_refused(srv):
    ring = dns.tsigkeyring.from_text({"other-key.": ("hmac-sha256", OTHER_SECRET)})
    q = dns.message.make_query(ZONE, "AXFR")
    q.use_tsig(ring, keyname="other-key.")
    r = dns.query.tcp(q, "127.0.0.1", port=srv.port, timeout=5)
    assert r.rcode() == dns.rcode.REFUSED and not r.answer


def test_axfr_unsigned_allowed_by_address(srv):
    msgs = xfr_messages(srv, addr="::1", signed=False)
    rrs = answer_rrs(msgs)
    assert rrs[0][0] == "SOA" and rrs[-1][0] == "SOA"


def test_axfr_over_udp_gets_tc(srv):
    q = dns.message.make_query(ZONE, "AXFR")
    q.use_tsig(KEYRING, keyname=KEYNAME)
    r = dns.query.udp(q, "127.0.0.1", port=srv.port, timeout=5)
    assert r.flags & dns.flags.TC and not r.answer


def test_axfr_of_a_name_below_the_apex_is_refused(srv):
    q = dns.message.make_query("ns1." + ZONE, "AXFR")
    q.use_tsig(KEYRING, keyname=KEYNAME)
    r = dns.query.tcp(q, "127.0.0.1", port=srv.port, timeout=5)
    assert r.rcode() == dns.rcode.REFUSED


@pytest.mark.skipif(not HAVE_KDIG, reason="kdig not installed")
def test_unknown_key_is_notauth_badkey(srv):
    rc, out = kdig(srv, "-y", f"hmac-sha256:nosuch-key:{XFR_SECRET}", "AXFR", ZONE)
    assert rc != 0 and "BADKEY" in out, out
    assert "tsig=BADKEY" in srv.read_log()
    ring = dns.tsigkeyring.from_text({"nosuch-key.": ("hmac-sha256", XFR_SECRET)})
    q = dns.message.make_query(ZONE, "AXFR")
    q.use_tsig(ring, keyname="nosuch-key.")
    data = srv.send_raw_tcp(q.to_wire(), timeout=5)
    assert data is not None and data[3] & 0xF == dns.rcode.NOTAUTH
    with pytest.raises(dns.tsig.PeerBadKey):
        dns.message.from_wire(data, keyring=ring, request_mac=q.mac)


@pytest.mark.skipif(not HAVE_KDIG, reason="kdig not installed")
def test_wrong_secret_is_notauth_badsig(srv):
    rc, out = kdig(srv, "-y", f"hmac-sha256:xfr-key:{OTHER_SECRET}", "AXFR", ZONE)
    assert rc != 0 and "BADSIG" in out, out


def test_bad_time_is_notauth_badtime_signed(srv, monkeypatch):
    import time
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() - 600)   # signed 10 minutes ago
    q = dns.message.make_query(ZONE, "AXFR")
    q.use_tsig(KEYRING, keyname=KEYNAME)
    wire = q.to_wire()
    monkeypatch.setattr(time, "time", real)
    data = srv.send_raw_tcp(wire, timeout=5)
    assert data is not None and data[3] & 0xF == dns.rcode.NOTAUTH
    # signed with our key over the request's MAC: dnspython checks it, then
    # reports the error the server put in the TSIG
    with pytest.raises(dns.tsig.PeerBadTime):
        dns.message.from_wire(data, keyring=KEYRING, request_mac=q.mac)


# --- ordinary queries with TSIG -----------------------------------------------

def test_signed_soa_query_gets_signed_answer(srv):
    for tcp in (False, True):
        q = dns.message.make_query(ZONE, "SOA")
        q.use_tsig(KEYRING, keyname=KEYNAME)
        r = srv.send(q, tcp=tcp)     # dnspython verifies the answer's TSIG
        assert r.had_tsig and r.rcode() == dns.rcode.NOERROR and r.answer


def test_query_with_bad_signature_is_notauth(srv):
    ring = dns.tsigkeyring.from_text({"xfr-key.": ("hmac-sha256", OTHER_SECRET)})
    q = dns.message.make_query(ZONE, "SOA")
    q.use_tsig(ring, keyname=KEYNAME)
    data = srv.send_raw_udp(q.to_wire())
    assert data is not None
    assert data[3] & 0xF == dns.rcode.NOTAUTH
    assert struct.unpack("!H", data[6:8])[0] == 0          # no answer
    with pytest.raises(dns.tsig.PeerBadSignature):        # an unsigned BADSIG
        dns.message.from_wire(data, keyring=ring, request_mac=q.mac)


def test_account_key_signs_its_queries(srv):
    acct = srv.register()
    p = srv.ctl("account", "tsig-key", acct["subdomain"], check=False)
    if p.returncode != 0:
        pytest.skip("acmensctl account tsig-key is not available")
    import json
    k = json.loads(p.stdout)
    name, secret = k.get("name"), k.get("secret")
    ring = dns.tsigkeyring.from_text({name: (k.get("algorithm", "hmac-sha256"), secret)})
    q = dns.message.make_query(ZONE, "SOA")
    q.use_tsig(ring, keyname=name)
    r = srv.send(q)
    assert r.had_tsig and r.rcode() == dns.rcode.NOERROR


# --- IXFR ---------------------------------------------------------------------

def test_ixfr_returns_exactly_the_diffs(srv):
    sub = fill(srv, accounts=1, values=1, base=20000)[0]
    start = srv.serial()
    srv.ctl("txt", "add", sub, "--", value(20001))
    srv.ctl("txt", "remove", sub, "--", value(20000))
    end = srv.serial()
    assert end == start + 2
    rrs = answer_rrs(xfr_messages(srv, "IXFR", serial=start))
    owner = f"{sub}.{ZONE}".lower()
    soa = [r for r in rrs if r[0] == "SOA"]
    serials = [int(r[2].split()[2]) for r in soa]
    # current, then per diff: old SOA, deletions, new SOA, additions; current
    assert serials == [end, start, start + 1, start + 1, end, end]
    body = [r for r in rrs if r[0] == "TXT"]
    assert body == [("TXT", owner, f'"{value(20001)}"'), ("TXT", owner, f'"{value(20000)}"')]
    assert rrs.index(body[0]) == 3 and rrs.index(body[1]) == 5
    assert re.search(rf"msg=transfer client=127\.0\.0\.1 key=xfr-key\. type=IXFR "
                     rf"from_serial={start} serial={end} ", srv.read_log())


def test_ixfr_current_is_a_single_soa(srv):
    serial = srv.serial()
    for tcp in (True, False):
        q = ixfr_query(serial)
        r = srv.send(q, tcp=tcp)
        assert r.had_tsig
        assert len(r.answer) == 1 and r.answer[0].rdtype == dns.rdatatype.SOA
        assert r.answer[0][0].serial == serial and len(r.answer[0]) == 1


def test_ixfr_over_udp_behind_gets_tc(srv):
    sub = fill(srv, accounts=1, values=1, base=30000)[0]
    serial = srv.serial()
    srv.ctl("txt", "add", sub, "--", value(30001))
    r = srv.send(ixfr_query(serial))
    assert r.flags & dns.flags.TC and not r.answer


def test_ixfr_older_than_journal_gets_whole_zone(srv):
    sub = fill(srv, accounts=1, values=1, base=40000)[0]
    old = srv.serial()
    for i in range(JOURNAL + 1):
        srv.ctl("txt", "add", sub, "--", value(40001 + i))
    rrs = answer_rrs(xfr_messages(srv, "IXFR", serial=old))
    assert rrs[0][0] == "SOA" and rrs[-1][0] == "SOA"
    assert sum(1 for r in rrs if r[0] == "SOA") == 2        # AXFR style
    assert ("NS", ZONE, f"ns1.{ZONE}") in rrs
    txt = {r[2] for r in rrs if r[0] == "TXT" and r[1].startswith(sub)}
    assert txt == {f'"{value(40000 + i)}"' for i in range(JOURNAL + 2)}
    assert re.search(rf"msg=transfer client=127\.0\.0\.1 key=xfr-key\. type=IXFR-AXFR "
                     rf"from_serial={old} serial=", srv.read_log())


def test_ixfr_without_soa_from_allowed_client_is_formerr(srv):
    q = dns.message.make_query(ZONE, "IXFR")
    q.use_tsig(KEYRING, keyname=KEYNAME)
    r = dns.query.tcp(q, "127.0.0.1", port=srv.port, timeout=5)
    assert r.rcode() == dns.rcode.FORMERR


def test_queries_after_a_transfer_on_one_connection(srv):
    """Pipelined: an AXFR, then an SOA query; the SOA answer comes after
    the transfer's last message."""
    from conftest import recv_tcp_msg, tcp_frame
    a = dns.message.make_query(ZONE, "AXFR")
    a.use_tsig(KEYRING, keyname=KEYNAME)
    b = dns.message.make_query(ZONE, "SOA")
    b.id = (a.id + 1) & 0xFFFF
    with srv.tcp_connect(timeout=10) as s:
        s.sendall(tcp_frame(a.to_wire()) + tcp_frame(b.to_wire()))
        ids = []
        while True:
            data = recv_tcp_msg(s)
            assert data is not None
            ids.append(struct.unpack("!H", data[:2])[0])
            if ids[-1] == b.id:
                break
        assert len(ids) >= 2 and set(ids[:-1]) == {a.id}


def test_axfr_to_a_slow_reader_follows_the_drain(make_server):
    """A transfer (4.5 MB) larger than the socket buffers, to a peer with a
    window of a few KB that waits before reading: the daemon queues it as
    the output drains, and the query after it is answered after its last
    message."""
    import socket
    from conftest import recv_tcp_msg, tcp_frame
    s = make_server(extra_dns=TRANSFER_CONFIG, txt_max_values=32)
    accounts, values = 600, 30
    for a in range(accounts):
        sub = s.register()["subdomain"]
        s.ctl("txt", "set", sub, "--", *[(value(1000 * a + i) * 6)[:250] for i in range(values)])
    axfr = dns.message.make_query(ZONE, "AXFR")
    soa = dns.message.make_query(ZONE, "SOA")
    soa.id = (axfr.id + 1) & 0xFFFF
    c = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    c.settimeout(10)
    with c:
        c.connect(("::1", s.port))
        c.sendall(tcp_frame(axfr.to_wire()) + tcp_frame(soa.to_wire()))
        time.sleep(0.5)
        txt = 0
        while True:
            data = recv_tcp_msg(c)
            assert data is not None
            m = dns.message.from_wire(data)
            if m.id == soa.id:
                break
            assert m.id == axfr.id and m.rcode() == dns.rcode.NOERROR
            txt += sum(len(r) for r in m.answer if r.rdtype == dns.rdatatype.TXT)
        assert txt == accounts * values
