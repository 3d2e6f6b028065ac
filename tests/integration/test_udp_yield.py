# SPDX-License-Identifier: ISC
"""dns.udp_yield: after a wake-up that brought one datagram alone, a UDP
thread yields its core (sched_yield) before it waits again; with false it
never does. Seen from outside with strace attached to a live acmensd, for
the one-socket loop (the wait is the receive) and the poll() loop over two
sockets, while every query is still answered right."""
import os
import shutil
import signal
import subprocess
import time

import dns.rcode
import pytest

from conftest import ZONE, wait_for

QUERIES = 30


def count_yields(server, queries):
    """Attach strace to every thread of server, ask queries (each on its
    own, answered before the next is sent, so each wake-up brings one
    datagram), and return the sched_yield calls seen."""
    out = os.path.join(server.dir, "strace.txt")
    tracer = subprocess.Popen(["strace", "-f", "-qq", "-e", "trace=sched_yield", "-o", out,
                               "-p", str(server.proc.pid)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        # strace is attached once the threads it lists are stopped and
        # resumed: a query answered after that is traced.
        time.sleep(1.0)
        assert tracer.poll() is None, tracer.stderr.read()
        for i in range(queries):
            r = server.query(f"nothing-{i}.{ZONE}", "TXT")
            assert r.rcode() == dns.rcode.NXDOMAIN, r
            assert server.query(ZONE, "SOA").rcode() == dns.rcode.NOERROR
    finally:
        tracer.send_signal(signal.SIGINT)
        tracer.wait(10)
    with open(out) as f:
        return sum(1 for line in f if "sched_yield()" in line)


pytestmark = pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")


@pytest.mark.parametrize("listen", [["127.0.0.1"], ["127.0.0.1", "[::1]"]],
                         ids=["one-socket", "poll"])
@pytest.mark.parametrize("setting,yields", [(None, True), ("true", True), ("false", False)],
                         ids=["default", "true", "false"])
def test_lone_datagrams_yield(make_server, listen, setting, yields):
    extra = f"  udp_yield: {setting}\n" if setting else ""
    s = make_server(extra_dns=extra, listen=listen)
    n = count_yields(s, QUERIES)
    if yields:
        # two queries a round, each a wake-up of its own; a few may come
        # before strace has every thread
        assert n >= QUERIES, n
    else:
        assert n == 0, n
    # still serving after the tracer left
    assert wait_for(lambda: s.query(ZONE, "SOA").rcode() == dns.rcode.NOERROR, 2.0)
