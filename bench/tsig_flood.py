#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Server CPU per query for queries signed with a key nobody has, against
unsigned ones: what a flood of forged TSIG costs acmensd. Starts its own
acmensd (one worker, loopback, a scratch store), sends N queries of each
kind from one socket, paced so that loopback drops nothing, and reads the
daemon's utime + stime from /proc/PID/stat around each run.

    bench/tsig_flood.py [BUILD_DIR] [N]        (defaults: build, 50000)
"""
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

import dns.message
import dns.tsigkeyring

ZONE = "acme.example.org."


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def send(port, wire, n, window=64):
    """n queries, at most window unanswered at a time; returns answers."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(1.0)
    got = sent = 0
    while got < n:
        while sent < n and sent - got < window:
            s.sendto(wire, ("127.0.0.1", port))
            sent += 1
        try:
            s.recv(4096)
            got += 1
        except socket.timeout:
            got = sent      # lost: move on
    s.close()
    return got


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 50000
    with tempfile.TemporaryDirectory() as d:
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        cfg = os.path.join(d, "acmens.yaml")
        with open(cfg, "w") as f:
            f.write(f"zone:\n  name: {ZONE}\n  ns: [ns1.example.org.]\n"
                    f"  soa:\n    rname: hostmaster.example.org.\n"
                    f"dns:\n  listen: [\"127.0.0.1:{port}\"]\n  workers: 1\n"
                    f"store:\n  path: {d}/store\nlog:\n  level: notice\n")
        p = subprocess.Popen([os.path.join(build, "src", "acmensd"), "-c", cfg],
                             stderr=subprocess.DEVNULL)
        try:
            time.sleep(1.0)
            plain = dns.message.make_query("x." + ZONE, "TXT").to_wire()
            q = dns.message.make_query("x." + ZONE, "TXT")
            q.use_tsig(dns.tsigkeyring.from_text({"nobody." + ZONE: "A" * 43 + "="}),
                       keyname="nobody." + ZONE, algorithm="hmac-sha256")
            signed = q.to_wire()
            send(port, plain, 2000)          # warm up
            res = {}
            for kind, wire in (("unsigned", plain), ("unknown key", signed)):
                before = cpu_seconds(p.pid)
                got = send(port, wire, n)
                res[kind] = (cpu_seconds(p.pid) - before) / got * 1e6
                print(f"{kind:12s} {got} answered, {res[kind]:.2f} us server CPU per query")
            print(f"ratio unknown key / unsigned: {res['unknown key'] / res['unsigned']:.2f}")
        finally:
            p.send_signal(signal.SIGTERM)
            p.wait(10)


if __name__ == "__main__":
    main()
