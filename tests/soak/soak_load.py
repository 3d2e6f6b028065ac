# SPDX-License-Identifier: ISC
"""The soak's load and its ledger: writers through every path that changes
the store (acme-dns /update, /v1, RFC 2136 UPDATE, acmensctl), DNS readers,
and what each write's reply proved.

Each TXT name has exactly one writer, so its writes are sequential: after
every reply its state is known, and when acmensd dies only the one write in
flight is in doubt (it may or may not have been committed). A write is
acknowledged by its success reply only; what ends it once acmensd is being
killed (connection refused or reset, timeout) leaves it in doubt, and
before that is an error."""

import json
import subprocess
import threading

import dns.message
import dns.query
import dns.rcode
import dns.tsigkeyring
import dns.update
import requests

from conftest import ACMENSCTL, ZONE, value



class Name:
    """One TXT name and what its writer's replies proved: `state`, the values
    in the order they were set (acknowledged), and `pending`, the state if
    the write in flight (no reply yet, or none ever) took effect."""

    def __init__(self, owner):
        self.owner = owner.lower()   # absolute DNS name
        self.state = ()
        self.pending = None

    def possible(self):
        """The value sets acmensd may hold now."""
        out = [frozenset(self.state)]
        if self.pending is not None:
            out.append(frozenset(self.pending))
        return out

    def settle(self, found):
        """Problems with the values found at the name (none when found is a
        possible state), then take found as the state: the write in doubt
        took effect or it did not."""
        found = frozenset(found)
        if found in self.possible():
            if self.pending is not None and found == frozenset(self.pending):
                self.state = self.pending
            self.pending = None
            return []
        inflight = set(self.pending or ())
        lost = sorted(v for v in self.state if v not in found and
                      (self.pending is None or v in inflight))
        back = sorted(v for v in found if v not in self.state and v not in inflight)
        return [f"{self.owner}: acknowledged {sorted(self.state)}"
                + (f", or {sorted(inflight)} if the write in doubt took effect"
                   if self.pending is not None else "")
                + f"; found {sorted(found)}; lost {lost}; removed but back {back}"]


class Ledger:
    """Counts shared by the writers and readers of one round."""

    def __init__(self):
        self.lock = threading.Lock()
        self.acks = 0
        self.doubt = 0
        self.max_serial = 0
        self.queries = 0
        self.errors = []         # replies that are neither success nor a dead daemon
        self.killed = threading.Event()     # set just before the SIGKILL

    def died(self, who, exc):
        """A client's exception: expected once acmensd is being killed
        (True), an error before."""
        if self.killed.is_set():
            return True
        self.error(f"{who}: {type(exc).__name__}: {exc}")
        return False

    def acked(self, serial):
        with self.lock:
            self.acks += 1
            if serial:
                self.max_serial = max(self.max_serial, serial)

    def add(self, field, n=1):
        with self.lock:
            setattr(self, field, getattr(self, field) + n)

    def error(self, text):
        with self.lock:
            self.errors.append(text)


class Writer(threading.Thread):
    """Writes to its names until stop is set or the daemon stops answering:
    each step picks a name, computes the state the write leads to, records
    it as pending, sends it, and on success makes it the state."""

    kind = "writer"

    def __init__(self, names, ledger, stop, tag, cap):
        super().__init__(daemon=True)
        self.names = names
        self.ledger = ledger
        self.stop = stop
        self.tag = tag           # makes every value of the run unique
        self.cap = cap           # values a name holds at most
        self.n = 0

    def fresh(self):
        self.n += 1
        return value(f"{self.tag}-{self.n}")

    def run(self):
        try:
            self.setup()
            while not self.stop.is_set():
                name = self.names[self.n % len(self.names)]
                new, send = self.step(name)
                name.pending = tuple(new)
                serial = send()
                if serial is False:
                    return       # an error, recorded; the round fails
                name.state, name.pending = name.pending, None
                self.ledger.acked(serial)
        except Exception as e:   # the ledger tells a dead daemon from an error
            if self.ledger.died(self.kind, e):
                self.ledger.add("doubt")
            else:
                self.stop.set()
        finally:
            self.teardown()

    def setup(self):
        pass

    def teardown(self):
        pass

    def cycle(self, name, every, replace, remove, add):
        """The next write of a writer that adds values up to the cap, then
        removes the oldest, and every `every`th time replaces the whole set
        with two new values: (the state it leads to, the function that
        sends it: replace(values), remove(value) or add(value))."""
        if self.n % every == every - 1:
            vals = [self.fresh(), self.fresh()]
            return vals, lambda: replace(vals)
        if len(name.state) >= self.cap:
            old = name.state[0]
            self.n += 1
            return name.state[1:], lambda: remove(old)
        v = self.fresh()
        return name.state + (v,), lambda: add(v)

    def fail(self, what):
        self.ledger.error(f"{self.kind}: {what}")
        self.stop.set()
        return False


class HttpWriter(Writer):
    """A writer through the API: accts are the accounts (the /register
    replies plus "headers"), one name each, on one keep-alive session."""

    def __init__(self, url, accts, **kw):
        super().__init__([Name(a["fulldomain"] + ".") for a in accts], **kw)
        self.url, self.accts = url, accts

    def setup(self):
        self.session = requests.Session()

    def teardown(self):
        self.session.close()


class AcmeDnsWriter(HttpWriter):
    """POST /update: acme-dns push, the newest txt_limit values stay."""

    kind = "/update"

    def __init__(self, url, accts, limit, **kw):
        super().__init__(url, accts, **kw)
        self.limit = limit

    def step(self, name):
        acct = self.accts[self.names.index(name)]
        v = self.fresh()

        def send():
            r = self.session.post(self.url + "/update", headers=acct["headers"], timeout=10,
                                  json={"subdomain": acct["subdomain"], "txt": v})
            if r.status_code != 200:
                return self.fail(f"{r.status_code} {r.text}")
            return int(r.headers["X-Acmens-Serial"])
        return (name.state + (v,))[-self.limit:], send


class V1Writer(HttpWriter):
    """/v1: add until the cap, then remove the oldest; every fifth write
    replaces the whole set with two new values."""

    kind = "/v1"

    def step(self, name):
        acct = self.accts[self.names.index(name)]
        url = f"{self.url}/v1/accounts/{acct['subdomain']}/txt"
        kw = dict(headers=acct["headers"], timeout=10)
        return self.cycle(
            name, 5,
            lambda vals: self.reply(self.session.put(url, json={"values": vals}, **kw), 200),
            lambda old: self.reply(self.session.delete(f"{url}/{old}", **kw), 200),
            lambda v: self.reply(self.session.post(url, json={"value": v}, **kw), 201))

    def reply(self, r, want):
        if r.status_code != want:
            return self.fail(f"{r.request.method} {r.url}: {r.status_code} {r.text}")
        return r.json()["serial"]


class UpdateWriter(Writer):
    """RFC 2136 UPDATE over TCP, signed with the account's TSIG key: add
    until the cap, then delete the oldest and add a new one in one message.
    keys: (TSIG key as acmensctl prints it, owner name to write)."""

    kind = "RFC 2136"

    def __init__(self, port, keys, **kw):
        super().__init__([Name(owner) for _key, owner in keys], **kw)
        self.port = port
        self.keys = [key for key, _owner in keys]

    def step(self, name):
        key = self.keys[self.names.index(name)]
        kname = key["name"].rstrip(".") + "."
        ring = dns.tsigkeyring.from_text({kname: (key["algorithm"], key["secret"])})
        u = dns.update.UpdateMessage(ZONE, keyring=ring, keyname=kname,
                                     keyalgorithm=key["algorithm"])
        new = name.state
        if len(new) >= self.cap:
            u.delete(name.owner, "TXT", f'"{new[0]}"')
            new = new[1:]
        v = self.fresh()
        u.add(name.owner, 60, "TXT", f'"{v}"')

        def send():
            r = dns.query.tcp(u, "127.0.0.1", port=self.port, timeout=5)
            if r.rcode() != dns.rcode.NOERROR:
                return self.fail(f"{name.owner}: {dns.rcode.to_text(r.rcode())}")
            return 0
        return new + (v,), send


class CtlWriter(Writer):
    """acmensctl txt add / remove / set on the store acmensd is serving (a
    process of its own, which the kill does not touch: its writes are
    always answered)."""

    kind = "acmensctl"

    def __init__(self, config, subs, **kw):
        super().__init__([Name(f"{s}.{ZONE}") for s in subs], **kw)
        self.config, self.subs = config, subs

    def step(self, name):
        sub = self.subs[self.names.index(name)]
        return self.cycle(name, 7, lambda vals: self.ctl("set", sub, "--", *vals),
                          lambda old: self.ctl("remove", sub, old),
                          lambda v: self.ctl("add", sub, v))

    def ctl(self, *args):
        p = subprocess.run([ACMENSCTL, "-c", self.config, "--json", "txt", *args],
                           capture_output=True, text=True, timeout=60)
        if p.returncode != 0:
            return self.fail(f"txt {' '.join(args)}: exit {p.returncode}: {p.stderr}")
        try:
            return json.loads(p.stdout).get("serial", 0)
        except ValueError:
            return 0


class Reader(threading.Thread):
    """DNS queries over UDP for the written names and the apex, until stop
    or the daemon stops answering; any answer but NOERROR is an error (or
    NXDOMAIN at a challenge name, which exists only while it has values)."""

    def __init__(self, port, owners, ledger, stop):
        super().__init__(daemon=True)
        self.port, self.owners, self.ledger, self.stop = port, owners, ledger, stop

    def run(self):
        i = 0
        try:
            while not self.stop.is_set():
                qname, rdtype = (ZONE, "SOA") if i % 10 == 0 else \
                    (self.owners[i % len(self.owners)], "TXT")
                i += 1
                r = dns.query.udp(dns.message.make_query(qname, rdtype), "127.0.0.1",
                                  port=self.port, timeout=3)
                ok = (dns.rcode.NOERROR, dns.rcode.NXDOMAIN) \
                    if qname.startswith("_acme-challenge.") else (dns.rcode.NOERROR,)
                if r.rcode() not in ok:
                    self.ledger.error(f"query {qname} {rdtype}: {dns.rcode.to_text(r.rcode())}")
                    self.stop.set()
                self.ledger.add("queries")
        except Exception as e:   # the ledger tells a dead daemon from an error
            if not self.ledger.died("query", e):
                self.stop.set()
