#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""acmedns_client.py for lego's exec provider, plus a witness of
validation: as soon as POST /update has answered, in the same process, the
validating resolver on 127.0.0.1:VALIDATED_BY_PORT is asked once, with DO,
for VALIDATED_BY_NAME's TXT values, and one JSON line goes to
VALIDATED_BY_OUT:

    {"value": "<the value pushed>", "rcode": "NOERROR", "ad": true,
     "served": true, "signed": true}

served: the value is among the TXT records of the answer; signed: the
answer carries an RRSIG over that TXT RRset. lego validates right after
this returns, so the line is what the CA's resolver could see then."""

import json
import os
import sys

import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype

import acmedns_client


def ask(port, name, value):
    q = dns.message.make_query(name, "TXT", want_dnssec=True)
    try:
        r = dns.query.udp(q, "127.0.0.1", port=port, timeout=3.0)
    except Exception as e:      # no answer is a finding too
        return {"value": value, "error": repr(e)}
    txt = [b"".join(rd.strings).decode() for rrset in r.answer
           if rrset.rdtype == dns.rdatatype.TXT for rd in rrset]
    sigs = [rrset for rrset in r.answer if rrset.rdtype == dns.rdatatype.RRSIG
            and rrset.covers == dns.rdatatype.TXT]
    return {"value": value, "rcode": dns.rcode.to_text(r.rcode()),
            "ad": bool(r.flags & dns.flags.AD), "served": value in txt, "signed": bool(sigs)}


def main(argv):
    acmedns_client.main(argv)
    if argv[1] != "present":
        return
    value = acmedns_client.record_value(argv[5])
    seen = ask(int(os.environ["VALIDATED_BY_PORT"]), os.environ["VALIDATED_BY_NAME"], value)
    with open(os.environ["VALIDATED_BY_OUT"], "a") as f:
        f.write(json.dumps(seen) + "\n")


if __name__ == "__main__":
    main(sys.argv)
