# SPDX-License-Identifier: ISC
"""No worker keeps a store snapshot between batches (dnsd/worker.h), so that
LMDB can reuse the pages freed by later commits whenever the DNS side is
idle: a UDP answer leaves only after its batch ended, a TCP one as its
batch ends.

What the threads hold is read from LMDB's reader table, in the store's
lock.mdb: one slot per reading thread, with the id of the transaction it
reads (all ones once it ended its snapshot) and its process's pid. The
layout is liblmdb's on 64-bit Linux with POSIX robust mutexes: a 64-byte
header (magic, format, reader mutex, last txn id, reader count), the
writer mutex padded to 64 bytes, then 64-byte reader slots {txnid, pid,
tid}."""

import os
import struct
import pytest

from conftest import ZONE, wait_for

LOCK_MAGIC = 0xBEEFC0DE
NUMREADERS_OFF = 56
READERS_OFF = 128
READER_SIZE = 64
NO_TXN = (1 << 64) - 1


def held_snapshots(server):
    """The txn ids the server's threads read now (ended snapshots left out)."""
    with open(os.path.join(server.store, "lock.mdb"), "rb") as f:
        data = f.read()
    assert struct.unpack_from("<I", data, 0)[0] == LOCK_MAGIC, "not an LMDB lock file"
    n = struct.unpack_from("<I", data, NUMREADERS_OFF)[0]
    held, slots = [], 0
    for i in range(n):
        txnid, pid = struct.unpack_from("<QI", data, READERS_OFF + i * READER_SIZE)
        if pid != server.proc.pid:
            continue
        slots += 1
        if txnid != NO_TXN:
            held.append(txnid)
    assert slots > 0, "the server has no slot in the reader table"
    return held


def answered(server, name):
    r = server.query(name, "TXT")
    return r.rcode() == 0 or r.rcode() == 3


@pytest.mark.parametrize("index", [True, False], ids=["name_index", "lmdb"])
def test_no_snapshot_between_batches(make_server, index):
    s = make_server(extra_dns=f"  name_index: {'true' if index else 'false'}\n")
    names = ["nothing-here." + ZONE, ZONE]
    # over UDP the answer is sent after the batch ended: none is held once
    # it arrives, whatever was asked
    for i in range(40):
        assert answered(s, names[i % 2])
        assert held_snapshots(s) == []
    # over TCP the batch ends right after the answers went out
    for i in range(40):
        r = s.query(names[i % 2], "TXT", tcp=True)
        assert r.rcode() in (0, 3)
        assert wait_for(lambda: not held_snapshots(s), 1.0), held_snapshots(s)
