#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Writes the seed inputs of every fuzz corpus, tests/fuzz/corpus/<target>/
(run once; the fuzzer adds the inputs it finds interesting next to them).
The key, the clock and the NOTIFY ID are those of tests/fuzz/fixture.h, so
the signed seeds verify in the targets: make_seeds.py [CORPUS_ROOT]."""
import base64
import hashlib
import os
import sys
import time

import dns.edns
import dns.entropy
import dns.flags
import dns.message
import dns.opcode
import dns.rcode
import dns.rrset
import dns.tsig
import dns.tsigkeyring
import dns.update

APEX = "auth.example.org."
ACCT = "d420c923-bbd7-4056-ab64-c3ca54c9b3cf." + APEX
CHALLENGE = "_acme-challenge." + ACCT
KEY_SECRET = "YWNtZW5zIGZ1enoga2V5OiBub3QgYSBzZWNyZXQgYXQgYWxs"
NOW = 1767225600
NOTIFY_ID = 0x4242
KEYRING = dns.tsigkeyring.from_text({ACCT: KEY_SECRET})
OTHER_KEYS = dns.tsigkeyring.from_text({"nobody." + APEX: KEY_SECRET,
                                        "servfail." + APEX: KEY_SECRET})
SOA = "ns1.auth.example.org. hostmaster.example.org. 2026112301 3600 600 604800 60"

# dnspython signs at time.time(): sign at the fixture's clock; and a fixed
# message ID keeps the seeds (named by their hash) the same from run to run.
time.time = lambda: float(NOW)
dns.entropy.random_16 = lambda: 0xabcd


def signed(msg, keyname=ACCT, keyring=KEYRING, **kw):
    msg.use_tsig(keyring, keyname, **kw)
    return msg.to_wire()


def at(when, make):
    """make() with the clock at when (for BADTIME)."""
    time.time = lambda: float(when)
    try:
        return make()
    finally:
        time.time = lambda: float(NOW)


def query_seeds():
    seeds = []
    for name in (ACCT, ACCT.upper(), APEX, "ns1." + APEX, "nope." + APEX, "host.deep." + APEX,
                 "deep." + APEX, "www.deep." + APEX, "big." + APEX, "mail." + APEX,
                 "example.com.", "loop1." + APEX, "acct." + APEX, "gone." + APEX):
        for rdtype in ("TXT", "SOA", "NS", "A", "AAAA", "ANY", "MX", "CAA", "AXFR", "CNAME"):
            seeds.append(dns.message.make_query(name, rdtype).to_wire())
        # with DO: the signed zone's RRSIGs, NSECs and keys
        for rdtype in ("TXT", "SOA", "A", "ANY", "MX", "DNSKEY", "CDS", "DS", "NSEC"):
            seeds.append(dns.message.make_query(name, rdtype, use_edns=0, want_dnssec=True,
                                                payload=1232).to_wire())
        seeds.append(dns.message.make_query(name, "TXT", use_edns=0, want_dnssec=True,
                                            payload=4096).to_wire())
        seeds.append(dns.message.make_query(name, "TXT", use_edns=1).to_wire())
        seeds.append(dns.message.make_query(name, "TXT", use_edns=0, payload=512,
                     options=[dns.edns.GenericOption(10, b"12345678")]).to_wire())
    q = dns.message.make_query(ACCT, "TXT")
    q.set_opcode(dns.opcode.UPDATE)
    seeds.append(q.to_wire())
    hdr = bytes.fromhex("abcd0000000100000000000000")
    seeds += [hdr[:12], hdr + b"\xc0\x0c\x00\x10\x00\x01", hdr + b"\x40abc\x00\x00\x10\x00\x01",
              bytes.fromhex("abcd000000020000000000000000100001000010000100")]
    return seeds


def updates():
    """UPDATE messages (unsigned) covering each prerequisite and update form."""
    def up(zone=APEX):
        return dns.update.UpdateMessage(zone)
    out = []
    u = up(); u.add(ACCT, 60, "TXT", '"token-1"'); out.append(u)
    u = up(); u.add(CHALLENGE, 60, "TXT", '"token-2"'); u.add(ACCT, 60, "TXT", '"token-3"'); out.append(u)
    u = up(); u.delete(ACCT, "TXT", '"token-1"'); out.append(u)
    u = up(); u.delete(CHALLENGE, "TXT"); out.append(u)
    u = up(); u.delete(ACCT); out.append(u)
    u = up(); u.replace(ACCT, 60, "TXT", '"fresh"'); out.append(u)
    u = up(); u.present(ACCT); u.absent(CHALLENGE); u.add(CHALLENGE, 60, "TXT", '"x"'); out.append(u)
    u = up(); u.present(ACCT, "TXT"); u.absent(CHALLENGE, "TXT"); u.delete(ACCT, "TXT"); out.append(u)
    u = up(); u.present(ACCT, "TXT", '"a"', '"b"'); u.add(ACCT, 60, "TXT", '"c"'); out.append(u)
    u = up(); u.present("ns1." + APEX, "A", "192.0.2.53"); u.add(ACCT, 60, "TXT", '"d"'); out.append(u)
    u = up(); u.present("ns1." + APEX, "AAAA"); u.absent("nope." + APEX); u.add(ACCT, 60, "TXT", '"e"'); out.append(u)
    u = up(); u.present("mail." + APEX, "MX", "10 ns1.auth.example.org."); u.add(ACCT, 60, "TXT", '"f"'); out.append(u)
    u = up(); u.present(APEX, "CAA", '0 issue "letsencrypt.org"'); u.present(APEX); out.append(u)
    u = up(); u.present("nope.example.com."); out.append(u)
    u = up(); u.add("other." + APEX, 60, "TXT", '"g"'); out.append(u)
    u = up(); u.add(ACCT, 60, "A", "192.0.2.1"); out.append(u)
    u = up(); u.add(ACCT, 60, "TXT", '"two"', '"strings"'); out.append(u)
    u = up(); u.add(ACCT, 60, "TXT", '"bad\\010byte"'); out.append(u)
    u = up("example.com."); u.add(ACCT, 60, "TXT", '"h"'); out.append(u)
    u = up(); out.append(u)
    return out


def update_seeds():
    seeds = []
    for u in updates():
        seeds.append(u.to_wire())      # fuzz_update signs it too
        seeds.append(signed(u))
    u = updates()[0]
    seeds.append(signed(u, "nobody." + APEX, OTHER_KEYS))                  # BADKEY
    seeds.append(signed(updates()[0], "servfail." + APEX, OTHER_KEYS))      # store fails
    seeds.append(at(NOW - 3600, lambda: signed(updates()[0])))              # BADTIME
    seeds.append(signed(updates()[0], algorithm=dns.tsig.HMAC_SHA512))      # BADKEY
    return seeds


def notify():
    q = dns.message.make_query(APEX, "SOA")
    q.id = NOTIFY_ID
    q.flags = dns.flags.AA
    q.set_opcode(dns.opcode.NOTIFY)
    return q


def replies():
    """Replies of a secondary: SOA probes and (signed) NOTIFY answers."""
    out = []
    q = dns.message.make_query(APEX, "SOA")
    q.flags = 0
    r = dns.message.make_response(q)
    r.flags |= dns.flags.AA
    r.answer.append(dns.rrset.from_text(APEX, 3600, "IN", "SOA", SOA))
    r.authority.append(dns.rrset.from_text(APEX, 3600, "IN", "NS", "ns1." + APEX))
    r.additional.append(dns.rrset.from_text("ns1." + APEX, 3600, "IN", "A", "192.0.2.53"))
    out.append(r.to_wire())
    r = dns.message.make_response(q)
    r.set_rcode(dns.rcode.REFUSED)
    out.append(r.to_wire())
    r = dns.message.make_response(dns.message.make_query("example.com.", "SOA"))
    r.answer.append(dns.rrset.from_text("example.com.", 60, "IN", "SOA", SOA))
    out.append(r.to_wire())
    r = dns.message.make_response(notify())
    out.append(r.to_wire())
    # a reply to the signed NOTIFY, signed over its MAC (the notifier's check)
    wire = signed(notify())
    req = dns.message.from_wire(wire, keyring=KEYRING)
    out.append(dns.message.make_response(req).to_wire())
    r = dns.message.make_response(req)
    r.answer.append(dns.rrset.from_text(APEX, 3600, "IN", "SOA", SOA))
    out.append(r.to_wire())
    r = dns.message.make_response(req, tsig_error=dns.rcode.BADTIME)
    out.append(r.to_wire())
    return out


def tsig_seeds():
    seeds = []
    for name, rdtype in ((ACCT, "TXT"), (APEX, "SOA"), (APEX, "AXFR"), ("nope." + APEX, "A")):
        seeds.append(signed(dns.message.make_query(name, rdtype)))
        seeds.append(signed(dns.message.make_query(name, rdtype, use_edns=0, payload=1232)))
    ixfr = dns.message.make_query(APEX, "IXFR")
    ixfr.authority.append(dns.rrset.from_text(APEX, 0, "IN", "SOA", SOA))
    seeds.append(signed(ixfr))
    seeds.append(signed(dns.message.make_query(APEX, "AXFR"), "nobody." + APEX, OTHER_KEYS))
    seeds.append(at(NOW + 3600, lambda: signed(dns.message.make_query(APEX, "SOA"))))
    seeds.append(signed(dns.message.make_query(APEX, "SOA"), algorithm=dns.tsig.HMAC_SHA384))
    bad = bytearray(signed(dns.message.make_query(APEX, "SOA")))
    bad[-12] ^= 1                                                           # the MAC
    seeds.append(bytes(bad))
    seeds.append(signed(notify()))
    return seeds + replies()


def soa_probe_seeds():
    return replies() + [bytes.fromhex("abcd8000000000000000000000")[:12]]


def account_record(user, scheme, key_hash, allowfrom, created, updated, flags, tsig=None):
    """A binary account record, version 1 (lib/store/account_bin.c)."""
    def text(t):
        return bytes([len(t)]) + t.encode()
    rec = b"\x81" + text(user) + scheme.to_bytes(4, "big") + text(key_hash)
    rec += bytes([len(allowfrom)]) + b"".join(text(a) for a in allowfrom)
    rec += created.to_bytes(8, "big") + updated.to_bytes(8, "big") + flags.to_bytes(4, "big")
    if not tsig:
        return rec + b"\0"
    return rec + bytes([tsig[0], len(tsig[1])]) + tsig[1]


def account_seeds():
    user = "d420c923-bbd7-4056-ab64-c3ca54c9b3cf"
    sha = hashlib.sha256(b"k" * 40).hexdigest()
    bcrypt = "$2a$10$" + "a" * 53
    old = ('{"username":"%s","key_scheme":1,"key_hash":"%s","allowfrom":["192.0.2.0/24"],'
           '"created":1767225600,"updated":1767225601,"flags":0}' % (user, sha))
    return [
        account_record(user, 1, sha, [], NOW, NOW, 0),
        account_record(user, 2, bcrypt, ["192.0.2.0/24", "2001:db8::/32"], NOW, NOW + 1, 1),
        account_record(user, 1, sha, ["10.0.0.1"], NOW, NOW, 0, (3, bytes(range(64)))),
        account_record(user, 1, sha, [], NOW, NOW, 0, (1, bytes(32)))[:-5],
        old.encode(),
        old[:-1].encode() + b',"tsig":{"algorithm":"hmac-sha256","secret":"' +
        base64.b64encode(bytes(32)) + b'"}}',
    ]


TARGETS = {"account": account_seeds, "query": query_seeds, "update": update_seeds, "tsig": tsig_seeds,
           "soa_probe": soa_probe_seeds}

root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus")
for target, make in TARGETS.items():
    out = os.path.join(root, target)
    os.makedirs(out, exist_ok=True)
    seeds = make()
    for s in seeds:
        with open(os.path.join(out, hashlib.sha1(s).hexdigest()), "wb") as f:
            f.write(s)
    print(f"{len(seeds)} seeds in {out}")
