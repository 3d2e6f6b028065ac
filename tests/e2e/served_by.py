#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""acmedns_client.py for lego's exec provider, plus a witness: as soon as
POST /update has answered, in the same process, each server in
SERVED_BY_PORTS is asked once (UDP, no retry) for SERVED_BY_NAME's TXT
values, and one JSON line goes to SERVED_BY_OUT:

    {"value": "<the value pushed>", "served_by": [names], "missing": [names]}

SERVED_BY_PORTS is "name=port,name=port" on 127.0.0.1. lego validates
right after this returns, so "missing" empty every time means every one
of those servers could already answer the CA."""

import json
import os
import sys

import dns.message
import dns.query

import acmedns_client


def serves(port, name, value):
    try:
        r = dns.query.udp(dns.message.make_query(name, "TXT"), "127.0.0.1", port=port,
                          timeout=1.0)
    except Exception:       # not answering is not serving
        return False
    return any(b"".join(rd.strings).decode() == value for rrset in r.answer for rd in rrset)


def main(argv):
    acmedns_client.main(argv)
    if argv[1] != "present":
        return
    value = acmedns_client.record_value(argv[5])
    ports = dict(item.split("=") for item in os.environ["SERVED_BY_PORTS"].split(","))
    name = os.environ["SERVED_BY_NAME"]
    served = {who: serves(int(port), name, value) for who, port in ports.items()}
    with open(os.environ["SERVED_BY_OUT"], "a") as f:
        f.write(json.dumps({"value": value, "served_by": sorted(k for k, v in served.items() if v),
                            "missing": sorted(k for k, v in served.items() if not v)}) + "\n")


if __name__ == "__main__":
    main(sys.argv)
