# SPDX-License-Identifier: ISC
"""RFC 2136 dynamic update, driven by nsupdate (BIND's client) with an
account's TSIG key, over UDP and TCP: what an account may change (TXT values
at its own name and at _acme-challenge under it), prerequisites, the RCODE
of every refusal with nothing changed, signed answers, and durability (the
answer comes only after the commit)."""

import json
import os
import signal
import subprocess

import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.tsig
import dns.tsigkeyring
import dns.update
import pytest

from conftest import ZONE, _server_factory, dns_txt, wait_for

UPDATE_ON = "update:\n  enabled: true\n"


@pytest.fixture(scope="module")
def upd(tmp_path_factory):
    """One daemon with updates enabled for the module's tests."""
    factory, finish = _server_factory(tmp_path_factory.mktemp("update"))
    yield factory(extra_dns=UPDATE_ON)
    finish()


def account(server):
    """A new account and its TSIG key: (subdomain, key dict with name,
    algorithm, secret)."""
    sub = server.register()["subdomain"]
    key = json.loads(server.ctl("account", "tsig-key", sub).stdout)
    return sub, key


def fqdn(key):
    return key["name"].rstrip(".") + "."


def nsupdate(server, lines, key=None, tcp=False, secret=None, name=None):
    """Run nsupdate with one message of these commands; returns the RCODE
    name it reports (NOERROR on success), or NOTAUTH(BADSIG) and the like."""
    script = f"server 127.0.0.1 {server.port}\nzone {ZONE}\n" + "\n".join(lines) + "\nsend\n"
    args = ["nsupdate"] + (["-v"] if tcp else [])
    if key:
        args += ["-y", f"hmac-sha256:{name or key['name']}:{secret or key['secret']}"]
    p = subprocess.run(args, input=script, capture_output=True, text=True, timeout=30)
    if p.returncode == 0:
        return "NOERROR"
    for line in (p.stdout + p.stderr).splitlines():
        if line.startswith("update failed: "):
            return line[len("update failed: "):].strip()
    raise AssertionError(f"nsupdate failed without an RCODE: {p.stdout} {p.stderr}")


def txt(server, name, tcp=False):
    return dns_txt(server, name, tcp=tcp)[1]


@pytest.mark.parametrize("tcp", [False, True], ids=["udp", "tcp"])
def test_add_delete(upd, tcp):
    sub, key = account(upd)
    name = fqdn(key)
    assert nsupdate(upd, [f"update add {name} 60 TXT v1", f"update add {name} 60 TXT v2"],
                    key, tcp) == "NOERROR"
    # visible as soon as the answer is in
    assert txt(upd, name) == ["v1", "v2"]
    # adding what is there is no error (RFC 2136 3.4.2.2) and changes nothing
    serial = upd.serial()
    assert nsupdate(upd, [f"update add {name} 60 TXT v1"], key, tcp) == "NOERROR"
    assert upd.serial() == serial
    assert nsupdate(upd, [f"update delete {name} TXT v1"], key, tcp) == "NOERROR"
    assert txt(upd, name) == ["v2"]
    # deleting what is not there is no error either
    assert nsupdate(upd, [f"update delete {name} TXT absent"], key, tcp) == "NOERROR"
    assert nsupdate(upd, [f"update add {name} 60 TXT v3", f"update delete {name} TXT"],
                    key, tcp) == "NOERROR"
    assert txt(upd, name) == []
    assert dns_txt(upd, name)[0] == dns.rcode.NOERROR      # the account's name stays
    assert upd.ctl("txt", "list", sub).returncode == 0


def test_order_in_one_message(upd):
    """lego's INSERT: delete the RRset, then add, in one message; and the
    reverse order leaves nothing. One message is one serial."""
    _, key = account(upd)
    name = fqdn(key)
    assert nsupdate(upd, [f"update add {name} 60 TXT old"], key) == "NOERROR"
    serial = upd.serial()
    assert nsupdate(upd, [f"update delete {name} TXT", f"update add {name} 60 TXT new",
                          f"update add {name} 60 TXT new2"], key) == "NOERROR"
    assert txt(upd, name) == ["new", "new2"]
    assert upd.serial() == serial + 1
    assert nsupdate(upd, [f"update add {name} 60 TXT again", f"update delete {name} ANY"],
                    key, tcp=True) == "NOERROR"
    assert txt(upd, name) == []


def test_challenge_name(upd):
    """certbot writes _acme-challenge.<name>: an account may update that
    name under its own, and DNS answers there."""
    _, key = account(upd)
    name = fqdn(key)
    chal = "_acme-challenge." + name
    assert dns_txt(upd, chal)[0] == dns.rcode.NXDOMAIN
    assert nsupdate(upd, [f"update add {chal} 60 TXT token"], key) == "NOERROR"
    assert txt(upd, chal) == ["token"]
    assert txt(upd, name) == []
    assert nsupdate(upd, [f"update delete {chal} TXT token"], key, tcp=True) == "NOERROR"
    assert dns_txt(upd, chal)[0] == dns.rcode.NXDOMAIN


PREREQS = [
    # (prerequisite, RCODE when the name has no values, RCODE with value "have")
    ("prereq yxrrset {name} TXT", "NXRRSET", "NOERROR"),
    ("prereq nxrrset {name} TXT", "NOERROR", "YXRRSET"),
    ("prereq yxdomain {name}", "NXDOMAIN", "NOERROR"),
    ("prereq nxdomain {name}", "NOERROR", "YXDOMAIN"),
    ("prereq yxrrset {name} TXT have", "NXRRSET", "NOERROR"),
    ("prereq yxrrset {name} TXT other", "NXRRSET", "NXRRSET"),
    ("prereq yxrrset {name} A", "NXRRSET", "NXRRSET"),
    ("prereq nxrrset {name} A", "NOERROR", "NOERROR"),
    # static names of the zone
    ("prereq yxrrset ns1.auth.example.org A", "NOERROR", "NOERROR"),
    ("prereq yxrrset ns1.auth.example.org A 127.0.0.1", "NOERROR", "NOERROR"),
    ("prereq yxrrset ns1.auth.example.org A 127.0.0.2", "NXRRSET", "NXRRSET"),
    ("prereq nxrrset ns1.auth.example.org AAAA", "YXRRSET", "YXRRSET"),
    ("prereq yxdomain nothing.auth.example.org", "NXDOMAIN", "NXDOMAIN"),
    ("prereq nxdomain www.auth.example.org", "YXDOMAIN", "YXDOMAIN"),
]


@pytest.mark.parametrize("prereq,empty,full", PREREQS, ids=[p[0] for p in PREREQS])
def test_prerequisites(upd, prereq, empty, full):
    _, key = account(upd)
    name = fqdn(key)
    for state, want in (("empty", empty), ("full", full)):
        if state == "full":
            assert nsupdate(upd, [f"update add {name} 60 TXT have"], key) == "NOERROR"
        before, serial = txt(upd, name), upd.serial()
        got = nsupdate(upd, [prereq.format(name=name), f"update add {name} 60 TXT added"], key)
        assert got == want, (state, prereq)
        if want == "NOERROR":
            assert "added" in txt(upd, name)
            assert nsupdate(upd, [f"update delete {name} TXT added"], key) == "NOERROR"
        else:
            # a failed prerequisite changes nothing
            assert txt(upd, name) == before and upd.serial() == serial


def test_prerequisite_checked_with_the_update(upd):
    """Value-dependent prerequisite on the whole RRset, several RRs, over
    TCP; and a prerequisite on another account's name is only read."""
    _, key = account(upd)
    _, other = account(upd)
    name, oname = fqdn(key), fqdn(other)
    assert nsupdate(upd, [f"update add {name} 60 TXT a", f"update add {name} 60 TXT b"],
                    key) == "NOERROR"
    assert nsupdate(upd, [f"prereq yxrrset {name} TXT b", f"prereq yxrrset {name} TXT a",
                          f"update delete {name} TXT", f"update add {name} 60 TXT c"],
                    key, tcp=True) == "NOERROR"
    assert txt(upd, name) == ["c"]
    assert nsupdate(upd, [f"prereq nxrrset {oname} TXT", f"update add {name} 60 TXT d"],
                    key) == "NOERROR"
    assert nsupdate(upd, [f"update add {oname} 60 TXT d"], other) == "NOERROR"
    serial = upd.serial()
    assert nsupdate(upd, [f"prereq nxrrset {oname} TXT", f"update add {name} 60 TXT e"],
                    key) == "YXRRSET"
    assert upd.serial() == serial


@pytest.mark.parametrize("tcp", [False, True], ids=["udp", "tcp"])
def test_refused(upd, tcp):
    """Anything but TXT at the account's own names is REFUSED, and the whole
    message with it: the allowed part of it is not applied either."""
    _, key = account(upd)
    _, other = account(upd)
    name, oname = fqdn(key), fqdn(other)
    serial = upd.serial()
    for line in (f"update add {oname} 60 TXT x",
                 f"update add _acme-challenge.{oname} 60 TXT x",
                 f"update delete {oname} TXT",
                 f"update add {name} 60 A 192.0.2.1",
                 f"update delete {name} A",
                 f"update add {ZONE} 60 TXT x",
                 f"update add ns1.{ZONE} 60 TXT x",
                 f"update add deeper.{name} 60 TXT x",
                 f"update add {name} 60 TXT \"two\" \"strings\""):
        got = nsupdate(upd, [f"update add {name} 60 TXT allowed", line], key, tcp)
        assert got == "REFUSED", line
    assert txt(upd, name) == [] and txt(upd, oname) == []
    assert upd.serial() == serial
    assert nsupdate(upd, ["update add www.example.com 60 TXT x"], key, tcp) == "NOTZONE"


def test_tsig_required(upd):
    sub, key = account(upd)
    name = fqdn(key)
    serial = upd.serial()
    assert nsupdate(upd, [f"update add {name} 60 TXT x"]) == "REFUSED"
    assert nsupdate(upd, [f"update add {name} 60 TXT x"], key,
                    secret="A" * 43 + "=") == "NOTAUTH(BADSIG)"
    assert nsupdate(upd, [f"update add {name} 60 TXT x"], key,
                    name="nobody." + ZONE) == "NOTAUTH(BADKEY)"
    # an account without a key, and a disabled one, have none
    sub2 = upd.register()["subdomain"]
    assert nsupdate(upd, [f"update add {sub2}.{ZONE} 60 TXT x"], key,
                    name=f"{sub2}.{ZONE}") == "NOTAUTH(BADKEY)"
    upd.ctl("account", "disable", sub)
    assert nsupdate(upd, [f"update add {name} 60 TXT x"], key) == "NOTAUTH(BADKEY)"
    upd.ctl("account", "enable", sub)
    assert nsupdate(upd, [f"update add {name} 60 TXT x"], key) == "NOERROR"
    assert upd.serial() == serial + 1


def test_signed_answers(upd):
    """dnspython checks the answer's TSIG; a malformed update is FORMERR."""
    _, key = account(upd)
    ring = dns.tsigkeyring.from_text({fqdn(key): ("hmac-sha256", key["secret"])})
    u = dns.update.UpdateMessage(ZONE, keyring=ring, keyname=fqdn(key),
                                 keyalgorithm="hmac-sha256")
    u.add(fqdn(key), 60, "TXT", "signed")
    r = dns.query.udp(u, "127.0.0.1", port=upd.port, timeout=5)
    assert r.rcode() == dns.rcode.NOERROR and r.had_tsig
    u = dns.update.UpdateMessage(ZONE, keyring=ring, keyname=fqdn(key),
                                 keyalgorithm="hmac-sha256")
    u.present(fqdn(key), "TXT", "nope")
    r = dns.query.tcp(u, "127.0.0.1", port=upd.port, timeout=5)
    assert r.rcode() == dns.rcode.NXRRSET and r.had_tsig
    # two zone sections: malformed, answered unsigned
    wire = bytearray(dns.update.UpdateMessage(ZONE).to_wire())
    wire[5] = 2
    raw = upd.send_raw_udp(bytes(wire))
    assert raw is not None and raw[3] & 0xF == dns.rcode.FORMERR
    # another zone: NOTAUTH
    u = dns.update.UpdateMessage("example.com.", keyring=ring, keyname=fqdn(key),
                                 keyalgorithm="hmac-sha256")
    u.add("x.example.com.", 60, "TXT", "x")
    r = dns.query.udp(u, "127.0.0.1", port=upd.port, timeout=5)
    assert r.rcode() == dns.rcode.NOTAUTH


def test_update_disabled(make_server):
    s = make_server()
    _, key = account(s)
    assert nsupdate(s, [f"update add {fqdn(key)} 60 TXT x"], key) == "REFUSED"
    assert nsupdate(s, [f"update add {fqdn(key)} 60 TXT x"], key, tcp=True) == "REFUSED"
    assert txt(s, fqdn(key)) == []


def test_durable_before_answer(make_server):
    """kill -9 right after nsupdate has its answer: the value survives."""
    s = make_server(extra_dns=UPDATE_ON)
    _, key = account(s)
    name = fqdn(key)
    for i in range(3):
        assert nsupdate(s, [f"update add {name} 60 TXT durable-{i}"], key,
                        tcp=bool(i % 2)) == "NOERROR"
        s.proc.send_signal(signal.SIGKILL)
        s.stop()
        s.start()
        assert txt(s, name) == [f"durable-{j}" for j in range(i + 1)]
    assert os.path.isdir(s.store)



def tsig_sign(msg, name, secret, now=None):
    """msg with an HMAC-SHA256 TSIG (RFC 8945 4.3.3) appended: lets a test
    sign bytes that no DNS library would build."""
    import base64
    import hashlib
    import hmac
    import struct
    import time
    now = int(time.time()) if now is None else now
    kname = dns.name.from_text(name).canonicalize().to_wire()
    alg = dns.name.from_text("hmac-sha256").to_wire()
    timers = struct.pack("!HIH", now >> 32, now & 0xFFFFFFFF, 300)
    mac = hmac.new(base64.b64decode(secret),
                   msg + kname + struct.pack("!HI", 255, 0) + alg + timers +
                   struct.pack("!HH", 0, 0), hashlib.sha256).digest()
    rdata = alg + timers + struct.pack("!H", len(mac)) + mac + msg[:2] + struct.pack("!HH", 0, 0)
    rr = kname + struct.pack("!HHIH", 250, 255, 0, len(rdata)) + rdata
    arcount = struct.unpack("!H", msg[10:12])[0] + 1
    return msg[:10] + struct.pack("!H", arcount & 0xFFFF) + msg[12:] + rr

def test_mutated_updates(make_server):
    """Signed updates with random bytes changed: whatever each one earns,
    the daemon keeps serving (and the sanitizer builds stay quiet)."""
    import random
    s = make_server(extra_dns=UPDATE_ON)
    _, key = account(s)
    ring = dns.tsigkeyring.from_text({fqdn(key): ("hmac-sha256", key["secret"])})
    u = dns.update.UpdateMessage(ZONE, keyring=ring, keyname=fqdn(key),
                                 keyalgorithm="hmac-sha256")
    u.present(fqdn(key), "TXT", "p")
    u.absent("nothing." + ZONE)
    u.delete(fqdn(key), "TXT")
    u.add(fqdn(key), 60, "TXT", "v")
    u.add("_acme-challenge." + fqdn(key), 60, "TXT", "w")
    plain = dns.update.UpdateMessage(ZONE)
    plain.question, plain.answer, plain.authority = u.question, u.answer, u.authority
    wire = plain.to_wire()
    # a control that the signing is right: it verifies, and the value
    # prerequisite ("p" is not there) is what fails
    assert s.send_raw_udp(tsig_sign(wire, fqdn(key), key["secret"]))[3] & 0xF == \
        dns.rcode.NXRRSET
    rng = random.Random(2136)
    for i in range(1500):
        data = bytearray(wire)
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(2, len(data))] = rng.randrange(256)
        data = bytes(data[:rng.randint(12, len(data))]) if i % 5 == 0 else bytes(data)
        # signed after the damage, so it reaches the parts after TSIG
        data = tsig_sign(data, fqdn(key), key["secret"]) if i % 3 else data
        if i % 50 == 0:
            s.send_raw_tcp(data, timeout=0.5)
        else:
            s.send_raw_udp(data, timeout=0.05)
    assert s.query(ZONE, "SOA").rcode() == dns.rcode.NOERROR
    assert s.proc.poll() is None


def test_tcp_connection_gone(upd):
    """The answer of an update waits for its commit: a client that closes
    first loses only the answer; one that half-closes still gets it."""
    import socket
    from conftest import recv_tcp_msg, tcp_frame
    _, key = account(upd)
    ring = dns.tsigkeyring.from_text({fqdn(key): ("hmac-sha256", key["secret"])})
    # 12 clients that close at once: their connections live on until their
    # commits, and stay under dns.tcp_max_per_client (16) with the last one.
    for i in range(12):
        u = dns.update.UpdateMessage(ZONE, keyring=ring, keyname=fqdn(key),
                                     keyalgorithm="hmac-sha256")
        u.add(fqdn(key), 60, "TXT", f"gone-{i % 4}")
        with upd.tcp_connect() as s:
            s.sendall(tcp_frame(u.to_wire()))
    u = dns.update.UpdateMessage(ZONE, keyring=ring, keyname=fqdn(key),
                                 keyalgorithm="hmac-sha256")
    u.add(fqdn(key), 60, "TXT", "half")
    with upd.tcp_connect() as s:
        s.sendall(tcp_frame(u.to_wire()))
        s.shutdown(socket.SHUT_WR)
        reply = recv_tcp_msg(s)
    assert reply is not None and reply[3] & 0xF == dns.rcode.NOERROR
    assert "half" in txt(upd, fqdn(key))


def test_full_name_refused(make_server):
    """A write the store refuses (more values than zone.txt_max_values)
    fails the whole message: REFUSED, and the earlier part is undone."""
    s = make_server(extra_dns=UPDATE_ON, txt_max_values=2)
    _, key = account(s)
    name = fqdn(key)
    assert nsupdate(s, [f"update add {name} 60 TXT a"], key) == "NOERROR"
    serial = s.serial()
    assert nsupdate(s, [f"update delete {name} TXT a", f"update add {name} 60 TXT b",
                        f"update add {name} 60 TXT c", f"update add {name} 60 TXT d"],
                    key, tcp=True) == "REFUSED"
    assert txt(s, name) == ["a"] and s.serial() == serial


def signed_update(server, key, value, addr="127.0.0.1"):
    """One UPDATE adding value at the key's own name, signed with the key,
    sent with dnspython over UDP; returns the answer."""
    ring = dns.tsigkeyring.from_text({fqdn(key): ("hmac-sha256", key["secret"])})
    u = dns.update.UpdateMessage(ZONE, keyring=ring, keyname=fqdn(key),
                                 keyalgorithm="hmac-sha256")
    u.add(fqdn(key), 60, "TXT", value)
    return dns.query.udp(u, addr, port=server.port, timeout=5)


def test_allowfrom_applies_to_update(upd):
    """An account's allowfrom binds its TSIG key as it binds its API key:
    from elsewhere the update is REFUSED (signed: the key was good) and
    nothing changes; the refusal is logged with the account."""
    sub, key = account_with(upd, "10.0.0.0/8")
    serial = upd.serial()
    r = signed_update(upd, key, "outside")
    assert r.rcode() == dns.rcode.REFUSED and r.had_tsig
    assert txt(upd, fqdn(key)) == [] and upd.serial() == serial
    assert wait_for(lambda: f"account={sub}" in upd.read_log()
                    and "allowfrom" in upd.read_log(), 5)
    # over TCP too
    ring = dns.tsigkeyring.from_text({fqdn(key): ("hmac-sha256", key["secret"])})
    u = dns.update.UpdateMessage(ZONE, keyring=ring, keyname=fqdn(key),
                                 keyalgorithm="hmac-sha256")
    u.add(fqdn(key), 60, "TXT", "outside")
    assert dns.query.tcp(u, "127.0.0.1", port=upd.port, timeout=5).rcode() == dns.rcode.REFUSED
    assert txt(upd, fqdn(key)) == [] and upd.serial() == serial
    # a range that holds the client: accepted
    _, key2 = account_with(upd, "10.0.0.0/8", "127.0.0.0/8")
    assert signed_update(upd, key2, "inside").rcode() == dns.rcode.NOERROR
    assert txt(upd, fqdn(key2)) == ["inside"]
    # a bare address, as acmensctl stores it, and IPv6 ranges do not hold it
    _, key3 = account_with(upd, "127.0.0.1")
    assert signed_update(upd, key3, "bare").rcode() == dns.rcode.NOERROR
    _, key4 = account_with(upd, "::1/128")
    assert signed_update(upd, key4, "v6").rcode() == dns.rcode.REFUSED
    # a bad signature from outside is NOTAUTH, not REFUSED: the answer
    # tells a stranger nothing about where a key may be used
    bad = dict(key, secret="A" * 43 + "=")
    assert update_outcome(upd, bad, "forged") == "BADSIG"


def update_outcome(server, key, value):
    """The RCODE name of a signed update, or the TSIG error dnspython
    raises for an answer that says the key or signature was bad."""
    try:
        return dns.rcode.to_text(signed_update(server, key, value).rcode())
    except dns.tsig.PeerBadSignature:
        return "BADSIG"
    except dns.tsig.PeerBadKey:
        return "BADKEY"


def account_with(server, *allowfrom):
    """A new account limited to allowfrom, and its TSIG key."""
    sub = server.register(*allowfrom)["subdomain"]
    return sub, json.loads(server.ctl("account", "tsig-key", sub).stdout)


def test_key_changes_count_from_the_next_packet(upd):
    """The workers keep keys in memory; a rotated, disabled or deleted
    account's old key fails on the very next update after the change."""
    sub, key = account(upd)
    for i in range(3):
        assert signed_update(upd, key, f"v{i}").rcode() == dns.rcode.NOERROR
    new = json.loads(upd.ctl("account", "tsig-key", sub).stdout)
    assert new["secret"] != key["secret"]
    assert update_outcome(upd, key, "old") == "BADSIG"
    assert update_outcome(upd, new, "new") == "NOERROR"
    upd.ctl("account", "disable", sub)
    assert update_outcome(upd, new, "disabled") == "BADKEY"
    upd.ctl("account", "enable", sub)
    assert update_outcome(upd, new, "enabled") == "NOERROR"
    upd.ctl("account", "delete", sub, "--yes")
    assert update_outcome(upd, new, "deleted") == "BADKEY"
    assert txt(upd, fqdn(new)) == []
