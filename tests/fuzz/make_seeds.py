#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Writes the seed inputs of the query fuzz corpus (run once; the fuzzer adds
the inputs it finds interesting next to them)."""
import hashlib
import os
import sys

import dns.edns
import dns.message
import dns.opcode

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus", "query")
os.makedirs(out, exist_ok=True)
acct = "d420c923-bbd7-4056-ab64-c3ca54c9b3cf.auth.example.org."
seeds = []
for name in (acct, acct.upper(), "auth.example.org.", "ns1.auth.example.org.", "nope.auth.example.org.",
             "host.deep.auth.example.org.", "deep.auth.example.org.", "www.deep.auth.example.org.",
             "big.auth.example.org.", "mail.auth.example.org.", "example.com.",
             "loop1.auth.example.org.", "acct.auth.example.org.", "gone.auth.example.org."):
    for rdtype in ("TXT", "SOA", "NS", "A", "AAAA", "ANY", "MX", "CAA", "AXFR", "CNAME"):
        seeds.append(dns.message.make_query(name, rdtype).to_wire())
    seeds.append(dns.message.make_query(name, "TXT", use_edns=0, want_dnssec=True, payload=4096).to_wire())
    seeds.append(dns.message.make_query(name, "TXT", use_edns=1).to_wire())
    seeds.append(dns.message.make_query(name, "TXT", use_edns=0, payload=512,
                 options=[dns.edns.GenericOption(10, b"12345678")]).to_wire())
q = dns.message.make_query(acct, "TXT")
q.set_opcode(dns.opcode.UPDATE)
seeds.append(q.to_wire())
hdr = bytes.fromhex("abcd0000000100000000000000")
seeds += [hdr[:12], hdr + b"\xc0\x0c\x00\x10\x00\x01", hdr + b"\x40abc\x00\x00\x10\x00\x01",
          bytes.fromhex("abcd000000020000000000000000100001000010000100")]
for s in seeds:
    with open(os.path.join(out, hashlib.sha1(s).hexdigest()), "wb") as f:
        f.write(s)
print(f"{len(seeds)} seeds in {out}")
