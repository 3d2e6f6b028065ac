"""Many slow TCP clients against one port, run as its own process so that
the test's own requests are timed apart from it:

    python3 slow_clients.py PORT PROTO INTERVAL DURATION ADDR:COUNT...

Each ADDR:COUNT opens COUNT connections from ADDR ("127.1.*" spreads them
over 127.1.0.1, 127.1.0.2, ...). Every open connection then sends one piece
of a request that never ends (PROTO http: a header line; dns: one byte)
each INTERVAL seconds, for DURATION seconds; nothing reconnects. Prints one
JSON line: per group, how many connected and how long the server kept each
(null: still open at the end)."""
import json
import resource
import selectors
import socket
import sys
import time


def source(addr, i):
    if not addr.endswith(".*"):
        return addr
    base = addr[:-2].split(".")
    n = i + 1
    tail = [(n >> 8) & 255, n & 255] if len(base) == 2 else [n & 255]
    return ".".join(base + [str(x) for x in tail])


def main():
    port, proto = int(sys.argv[1]), sys.argv[2]
    interval, duration = float(sys.argv[3]), float(sys.argv[4])
    groups = [g.rsplit(":", 1) for g in sys.argv[5:]]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    first = b"GET /health HTTP/1.1\r\n" if proto == "http" else b"\x01"
    piece = b"X-Slow: 1\r\n" if proto == "http" else b"\x00"
    sel = selectors.DefaultSelector()
    conns = []          # [group, socket, opened, closed]
    start = time.monotonic()
    for gi, (addr, count) in enumerate(groups):
        for i in range(int(count)):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            s.bind((source(addr, i), 0))
            s.connect_ex(("127.0.0.1", port))
            c = [gi, s, None, None]
            conns.append(c)
            sel.register(s, selectors.EVENT_WRITE | selectors.EVENT_READ, c)
    next_piece = start + interval
    end = start + duration
    while time.monotonic() < end:
        now = time.monotonic()
        for key, ev in sel.select(timeout=max(0.0, min(next_piece, end) - now)):
            c = key.data
            s = c[1]
            try:
                if c[2] is None and s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                    c[2] = time.monotonic()
                    s.send(first)
                    sel.modify(s, selectors.EVENT_READ, c)
                    continue
                data = s.recv(4096) if c[2] is not None else b""
                if data:
                    continue
            except OSError:
                pass
            c[3] = time.monotonic()
            sel.unregister(s)
            s.close()
        if time.monotonic() >= next_piece:
            next_piece += interval
            for c in conns:
                if c[2] is not None and c[3] is None:
                    try:
                        c[1].send(piece)
                    except OSError:
                        pass
    out = []
    for gi in range(len(groups)):
        mine = [c for c in conns if c[0] == gi]
        out.append({"connected": sum(1 for c in mine if c[2] is not None),
                    "kept": [None if c[3] is None else c[3] - c[2]
                             for c in mine if c[2] is not None]})
    for c in conns:
        if c[3] is None:
            c[1].close()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
