# SPDX-License-Identifier: ISC
"""SIGTERM in the middle of a flood of signed UPDATEs: the DNS workers stop
taking updates before group commit drains and goes, so nothing touches it
afterwards (under the ASan build, no sanitizer report); the daemon exits 0;
and every update that was answered NOERROR is there after a restart."""

import json
import threading
import time

import dns.exception
import dns.query
import dns.rcode
import dns.tsigkeyring
import dns.update

from conftest import ZONE

ROUNDS = 20
CLIENTS = 4
FLOOD_SECONDS = 0.8


class Client(threading.Thread):
    """Sets its account's one value to 1, 2, 3 ... one update at a time
    (delete the old, add the new: one atomic message), until told to stop.
    acked: the last number answered NOERROR; sent: the last one sent."""

    def __init__(self, server, key, start_at):
        super().__init__(daemon=True)
        self.server, self.key = server, key
        self.name = key["name"].rstrip(".") + "."
        self.ring = dns.tsigkeyring.from_text({self.name: ("hmac-sha256", key["secret"])})
        self.n = start_at
        self.acked = self.sent = None
        self.stop = threading.Event()

    def run(self):
        deadline = time.monotonic() + 30
        while not self.stop.is_set() and time.monotonic() < deadline:
            n = self.n + 1
            u = dns.update.UpdateMessage(ZONE, keyring=self.ring, keyname=self.name,
                                         keyalgorithm="hmac-sha256")
            u.delete(self.name, "TXT")
            u.add(self.name, 60, "TXT", str(n))
            self.sent = n
            try:
                r = dns.query.udp(u, "127.0.0.1", port=self.server.port, timeout=0.5)
            except (dns.exception.DNSException, OSError):
                time.sleep(0.01)
                continue
            if r.rcode() == dns.rcode.NOERROR:
                self.acked = self.n = n


def stored(server, name):
    r = server.query(name, "TXT", timeout=2.0)
    values = [int(t) for rr in r.answer for t in rr[0].strings]
    assert len(values) <= 1, values
    return values[0] if values else 0


def test_sigterm_during_update_flood(make_server):
    s = make_server(extra_dns="update:\n  enabled: true\n")
    keys = []
    for _ in range(CLIENTS):
        sub = s.register()["subdomain"]
        keys.append(json.loads(s.ctl("account", "tsig-key", sub).stdout))
    last = [0] * CLIENTS          # the newest number known answered NOERROR
    acked_total = 0
    for round_ in range(ROUNDS):
        if round_ > 0:
            s.start()
        clients = [Client(s, k, max(last[i], stored(s, k["name"])))
                   for i, k in enumerate(keys)]
        for i, c in enumerate(clients):
            # every acknowledged update of the round before is durable:
            # the value is that one, or one sent later whose answer was lost
            assert c.n >= last[i], (round_, i, c.n, last[i])
            c.start()
        time.sleep(FLOOD_SECONDS)
        code = s.stop()
        for c in clients:
            c.stop.set()
        for c in clients:
            c.join(10)
        assert code == 0, s.read_log()[-3000:]
        assert s.sanitizer_report() is None, s.sanitizer_report()[-5000:]
        for i, c in enumerate(clients):
            if c.acked is not None:
                last[i] = c.acked
                acked_total += 1
    s.start()
    for i, k in enumerate(keys):
        value = stored(s, k["name"].rstrip(".") + ".")
        assert value >= last[i]
    # the flood got through most rounds, or the test proves nothing
    assert acked_total >= ROUNDS * CLIENTS // 2, acked_total
