# SPDX-License-Identifier: ISC
"""Messages signed by lib/dns/tsig.c verify in dnspython, an independent TSIG
implementation: the unit test test_tsig writes every message it signs to
ACMENS_TSIG_DUMP, and this checks each one (queries, a response chained to
a request MAC, continuation messages, a BADTIME error)."""

import base64
import os
import subprocess
import time

import dns.message
import dns.name
import dns.tsig
import pytest

from conftest import BUILD

TEST_TSIG = os.path.join(BUILD, "tests", "unit", "test_tsig")
SIGN_TIME = 1700000000   # VEC_TIME in tests/unit/tsig_vectors.h


def signed_messages(tmp_path):
    if not os.path.exists(TEST_TSIG):
        pytest.skip("tests/unit/test_tsig is not built (make check builds it)")
    dump = tmp_path / "tsig.dump"
    env = dict(os.environ, ACMENS_TSIG_DUMP=str(dump))
    subprocess.run([TEST_TSIG], env=env, check=True, capture_output=True)
    for line in dump.read_text().splitlines():
        label, name, alg, secret, prior, wire = line.split()
        key = dns.tsig.Key(name, base64.b64decode(secret), alg)
        prior = b"" if prior == "-" else bytes.fromhex(prior)
        yield label, key, prior, bytes.fromhex(wire)


def parse(wire, key, **kw):
    return dns.message.from_wire(wire, keyring={key.name: key}, **kw)


def test_our_signatures_verify_in_dnspython(tmp_path, monkeypatch):
    monkeypatch.setattr(time, "time", lambda: SIGN_TIME)
    seen = {}
    ctx = None
    for label, key, prior, wire in signed_messages(tmp_path):
        seen[label] = seen.get(label, 0) + 1
        if label == "query":
            assert parse(wire, key).had_tsig
        elif label == "resp":
            m = parse(wire, key, request_mac=prior, multi=True)
            assert m.had_tsig
            ctx = m.tsig_ctx
        elif label == "cont":
            m = parse(wire, key, request_mac=prior, multi=True, tsig_ctx=ctx)
            assert m.had_tsig
            ctx = m.tsig_ctx
        elif label == "badtime":
            with pytest.raises(dns.tsig.PeerBadTime):
                parse(wire, key, request_mac=prior)
    assert seen == {"query": 3, "resp": 3, "cont": 6, "badtime": 1}


def test_tampered_signature_fails_in_dnspython(tmp_path, monkeypatch):
    monkeypatch.setattr(time, "time", lambda: SIGN_TIME)
    for label, key, _, wire in signed_messages(tmp_path):
        if label != "query":
            continue
        bad = bytearray(wire)
        bad[3] ^= 0x10
        with pytest.raises(dns.tsig.BadSignature):
            parse(bytes(bad), key)
