# SPDX-License-Identifier: ISC
"""The first ten minutes: register, add a value, see it served."""

import dns.rcode
import dns.rdatatype

from conftest import ZONE, value


def test_register_add_query(server):
    acc = server.register()
    full = acc["subdomain"] + "." + ZONE
    server.ctl("txt", "add", acc["subdomain"], value(1))
    r = server.query(full, "TXT")
    assert r.rcode() == dns.rcode.NOERROR
    assert [rr.strings for rr in r.answer[0]] == [(value(1).encode(),)]
    assert r.answer[0].ttl == 1
