# SPDX-License-Identifier: ISC
"""A worker's UDP thread keeps its store snapshot from batch to batch, and
ends it once idle 50 ms (dnsd/udp_loop.c), so that LMDB can reuse the pages
freed by later commits.

What the threads hold is read from LMDB's reader table, in the store's
lock.mdb: one slot per reading thread, with the id of the transaction it
reads (all ones once it ended its snapshot) and its process's pid. The
layout is liblmdb's on 64-bit Linux with POSIX robust mutexes: a 64-byte
header (magic, format, reader mutex, last txn id, reader count), the
writer mutex padded to 64 bytes, then 64-byte reader slots {txnid, pid,
tid}."""

import os
import struct
import time

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


def test_snapshot_held_while_busy_released_when_idle(make_server):
    s = make_server()
    name = "nothing-here." + ZONE
    # Right after an answer the UDP thread still holds the batch's snapshot
    # (the next batch reuses it); a slow machine may take 50 ms to look.
    for _ in range(20):
        assert answered(s, name)
        if held_snapshots(s):
            break
    else:
        raise AssertionError("no snapshot held right after a query")
    # A burst, then silence: once idle every snapshot has ended.
    for _ in range(200):
        assert answered(s, name)
    assert wait_for(lambda: not held_snapshots(s), 1.0), held_snapshots(s)
    time.sleep(0.2)
    assert held_snapshots(s) == []
