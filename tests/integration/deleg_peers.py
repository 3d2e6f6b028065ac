# SPDX-License-Identifier: ISC
"""The DNS world a delegation check resolves through, for tests and the
bench: real servers on private loopback addresses, started and always
stopped by whoever uses them.

- customer DNS: knotd on a 127.x.y.z address, port 53, serving
  customer.example. (one name per case, below), signed.example. (signed
  by Knot itself, dnssec-signing: on) and broken.example. (signed once by
  Knot's automatic signing in a knotd of its own, taken by zone transfer,
  the RRSIG of its _acme-challenge CNAME then altered, and served as it
  is: a signing server would sign it again); lame.example. is delegated to
  it too, but it does not
  serve that zone (REFUSED: a lame delegation, servfail for a check);
- a private root: a second knotd, on its own address, port 53, serving "."
  with delegations of those zones and of the acmens zone, and a root hints
  file naming it, so that a resolver iterates like a CA without the
  internet (hints carry no port: iterating needs every server on port 53,
  acmensd included, and the acmens zone's NS names' addresses in acmensd's
  records must be acmensd's address, as they are in real life);
- Unbound, validating, on its own address and a free port: stub zones to
  the customer DNS and to acmensd (any port), the private root for the
  rest, the trust anchors of the two signed zones.

The trust anchor file (DNSKEY lines of both signed zones) is what a check
is given as delegation.trust_anchor_file. Nothing else is trusted: the
other zones are insecure, not bogus.

DNSSEC through a validating forwarder: libunbound asks a forwarder without
CD first; Unbound, validating, answers SERVFAIL for broken.example.;
libunbound then asks again with CD set (it has a trust anchor above the
name), gets the records with their bad signature and finds them bogus
itself, with its own reason. Without a trust anchor above the name it
does not ask again: forwarding, the check sees SERVFAIL (iterating, the
zone is merely insecure). test_deleg_peers.py shows both with
unbound-host, which is libunbound.

Port 53 on a private address needs root (or CAP_NET_BIND_SERVICE), as
scripts/dev test runs; without it World() raises NoPort53, which tests turn
into a skip naming the reason.
"""

import contextlib
import os
import random
import shutil
import socket
from dataclasses import dataclass

import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdataset
import dns.rdatatype
import dns.zone
import pytest

from conftest import BASE_RECORDS, ZONE, Daemon, Server, free_port, unbound_server_conf

KNOTD = shutil.which("knotd") or "/usr/sbin/knotd"
UNBOUND = shutil.which("unbound") or "/usr/sbin/unbound"
TOOLS = (KNOTD, UNBOUND)

CUSTOMER = "customer.example."
SIGNED = "signed.example."
BROKEN = "broken.example."
# delegated (by the root, and by Unbound's stub zone) to the customer DNS,
# which does not serve it: a lame delegation, answered REFUSED
LAME = "lame.example."
TTL = 60


class NoPort53(RuntimeError):
    """Port 53 cannot be bound here (not root)."""


def missing_tools():
    return [t for t in TOOLS if not os.access(t, os.X_OK)]


def _bindable(addr, port):
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        with socket.socket(socket.AF_INET, kind) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind((addr, port))
            except PermissionError as e:
                raise NoPort53(f"cannot bind {addr}:{port}: {e}") from e
            except OSError:
                return False
    return True


def private_addr(port=53, taken=()):
    """A 127.x.y.z address (not 127.0.0.0/16, where the other tests live)
    whose port is free for UDP and TCP right now."""
    rnd = random.SystemRandom()
    for _ in range(200):
        addr = f"127.{rnd.randint(64, 250)}.{rnd.randint(1, 250)}.{rnd.randint(2, 250)}"
        if addr not in taken and _bindable(addr, port):
            return addr
    raise RuntimeError(f"no free 127.x.y.z address for port {port}")


def ask(addr, port, name, rdtype, timeout=1.0, want_dnssec=False):
    q = dns.message.make_query(name, rdtype, want_dnssec=want_dnssec)
    return dns.query.udp(q, addr, port=port, timeout=timeout)


def fqdn(name, origin):
    return name if name.endswith(".") else f"{name}.{origin}"


# --- the cases ------------------------------------------------------------------

@dataclass
class Case:
    """One customer domain: _acme-challenge.DOMAIN is set up so that a
    check for the account `sub` ends in `status`. chain: the names a
    resolution passes, _acme-challenge.DOMAIN first (without final dots);
    target: where a wrong_target chain ends."""
    name: str
    domain: str
    status: str
    chain: list
    sub: str
    target: str = None
    target_is_account: bool = None
    secure: bool = False


class Cases:
    """The customer.example. zone text and what each of its names must
    give; built from the acmens zone and two of its accounts (sub, the
    one checked, and other, another account of the zone)."""

    def __init__(self, zone, sub, other, ns_addr):
        self.zone = zone if zone.endswith(".") else zone + "."
        self.sub = sub
        self.other = other
        self.ns_addr = ns_addr
        self.records = []
        self.by_name = {}
        self._build()

    def _acct(self, label):
        return f"{label}.{self.zone}"

    def _add(self, name, status, links, **kw):
        """links: the CNAME targets after _acme-challenge.NAME, in order."""
        domain = fqdn(name, CUSTOMER)
        owner = "_acme-challenge." + domain
        names = [owner] + links
        for a, b in zip(names, names[1:]):
            if a.endswith(CUSTOMER):       # the links inside our zone
                self.records.append(f"{a} {TTL} IN CNAME {b}")
        chain = [n.rstrip(".") for n in names]
        self.by_name[name] = Case(name, domain.rstrip("."), status, chain, self.sub, **kw)
        # the domain itself exists (an A record), whatever its challenge name
        self.records.append(f"{domain} {TTL} IN A 192.0.2.10")
        return owner

    def _build(self):
        acct, other, c = self._acct(self.sub), self._acct(self.other), CUSTOMER
        typo_sub = self.sub[:-1] + ("x" if self.sub[-1] != "x" else "y")
        # a sibling of the zone that nobody serves
        typo_zone = self.zone.replace("example", "exmaple", 1)
        if typo_zone == self.zone:
            typo_zone = "x" + self.zone
        self._add("ok", "ok", [acct])
        self._add("ok-acme", "ok", ["_acme-challenge." + acct])
        self._add("chain2", "ok", ["acme.hop." + c, acct])
        self.records.append(f"hop.{c} {TTL} IN A 192.0.2.11")
        stale = "stale-provider." + c
        self._add("wrong-elsewhere", "wrong_target", [stale],
                  target=stale.rstrip("."), target_is_account=False)
        self.records.append(f'{stale} {TTL} IN TXT "a token from the old provider"')
        t = f"{self.sub}.{typo_zone}"
        self._add("wrong-typo-zone", "wrong_target", [t], target=t.rstrip("."),
                  target_is_account=False)
        t = self._acct(typo_sub)
        self._add("wrong-typo-sub", "wrong_target", [t], target=t.rstrip("."),
                  target_is_account=False)
        self._add("other-account", "wrong_target", [other], target=other.rstrip("."),
                  target_is_account=True)
        t = "_acme-challenge." + other
        self._add("other-account-challenge", "wrong_target", [t], target=t.rstrip("."),
                  target_is_account=True)
        b = "loop-b." + c
        self._add("loop", "loop", [b, "_acme-challenge.loop." + c])
        hops = [f"l{i}.long.{c}" for i in range(1, 10)]
        self._add("long", "loop", hops + [acct])
        # the limit itself: 8 links reach the account, 9 are one too many
        self._add("links8", "ok", [f"e{i}.links8.{c}" for i in range(1, 8)] + [acct])
        self._add("links9", "loop", [f"n{i}.links9.{c}" for i in range(1, 9)] + [acct])
        self._add("txt", "not_delegated", [])
        self.records.append(f'_acme-challenge.txt.{c} {TTL} IN TXT "a value set by hand"')
        self._add("nodata", "missing", [])
        self.records.append(f"_acme-challenge.nodata.{c} {TTL} IN A 192.0.2.12")
        self._add("nxdomain", "missing", [])

    def zone_text(self):
        head = [f"$ORIGIN {CUSTOMER}", f"$TTL {TTL}",
                f"@ SOA ns hostmaster 1 3600 600 604800 {TTL}",
                "@ NS ns", f"ns A {self.ns_addr}"]
        return "\n".join(head + self.records) + "\n"

    def __getitem__(self, name):
        return self.by_name[name]

    def __iter__(self):
        return iter(self.by_name.values())


def signed_zone_text(origin, sub, zone, ns_addr):
    """A zone with _acme-challenge.ORIGIN CNAME SUB.ZONE (correct)."""
    return "\n".join([
        f"$ORIGIN {origin}", f"$TTL {TTL}",
        f"@ SOA ns hostmaster 1 3600 600 604800 {TTL}",
        "@ NS ns", f"ns A {ns_addr}", "@ A 192.0.2.20",
        f"_acme-challenge CNAME {sub}.{zone}", ""])


def root_zone_text(root_addr, delegations):
    """The private root: delegations is {zone: (ns name, address)}."""
    lines = ["$ORIGIN .", "$TTL 3600",
             ". SOA ns.rootsrv. hostmaster.rootsrv. 1 3600 600 604800 3600",
             ". NS ns.rootsrv.", f"ns.rootsrv. A {root_addr}"]
    for zone, (ns, addr) in delegations.items():
        lines += [f"{zone} NS {ns}", f"{ns} A {addr}"]
    return "\n".join(lines) + "\n"


# --- knotd ----------------------------------------------------------------------

class Knotd(Daemon):
    """knotd on addr@port serving zones: {origin: (zone text, mode)},
    mode None (as is) or "sign" (Knot signs it: ECDSA P-256, one key);
    transfer: the zones may be transferred from loopback."""

    name = "knotd"

    def __init__(self, tmpdir, addr, zones, port=53, transfer=False):
        super().__init__(tmpdir)
        self.addr, self.port, self.zones = addr, port, zones
        self.conf = os.path.join(self.dir, "knot.conf")
        self.sock = os.path.join(self.dir, "knot.sock")
        text = f"""server:
    listen: {addr}@{port}
    rundir: {self.dir}
    pidfile: {self.dir}/knotd.pid
log:
  - target: stderr
    any: info
database:
    storage: {self.dir}
policy:
  - id: fast
    algorithm: ecdsap256sha256
    single-type-signing: on
    nsec3: off
acl:
  - id: transfer
    address: 127.0.0.0/8
    action: transfer
template:
  - id: default
    storage: {self.dir}
    zonefile-load: whole
    zonefile-sync: -1
    semantic-checks: off
zone:
"""
        for i, (origin, (zone_text, mode)) in enumerate(zones.items()):
            path = os.path.join(self.dir, f"zone{i}.db")
            with open(path, "w") as f:
                f.write(zone_text)
            text += f"  - domain: \"{origin}\"\n    file: {path}\n"
            if transfer:
                text += "    acl: transfer\n"
            if mode == "sign":
                text += "    dnssec-signing: on\n    dnssec-policy: fast\n"
        with open(self.conf, "w") as f:
            f.write(text)

    def argv(self):
        return [KNOTD, "-c", self.conf, "-s", self.sock]

    def ready(self):
        for origin, (_, mode) in self.zones.items():
            r = ask(self.addr, self.port, origin, "SOA", timeout=0.2, want_dnssec=True)
            if r.rcode() != dns.rcode.NOERROR or not r.answer:
                return False
            if mode == "sign" and not any(s.rdtype == dns.rdatatype.RRSIG for s in r.answer):
                return False
        return True

    def dnskeys(self, origin):
        """The zone's DNSKEY records as zone-file lines (a trust anchor)."""
        r = ask(self.addr, self.port, origin, "DNSKEY", timeout=2.0)
        return [line for rrset in r.answer for line in rrset.to_text().splitlines()]


# --- a zone signed once, its signature then broken ----------------------------------

def free_port_on(addr):
    port = free_port()
    while not _bindable(addr, port):
        port = free_port()
    return port


def break_signature(rrsig):
    """The RRSIG rdata with one byte of its signature changed."""
    sig = bytearray(rrsig.signature)
    sig[len(sig) // 2] ^= 0x01
    return rrsig.replace(signature=bytes(sig))


def sign_broken(directory, origin, zone_text, owner):
    """Have Knot sign zone_text (its automatic signing, as signed.example.
    is: one ECDSA P-256 key), take the signed zone by transfer, and alter
    the RRSIG over owner's CNAME. Returns (signed zone text, the key's
    DNSKEY lines)."""
    signer = Knotd(directory, "127.0.0.1", {origin: (zone_text, "sign")},
                   port=free_port_on("127.0.0.1"), transfer=True)
    signer.start(timeout=20.0)
    try:
        zone = dns.zone.from_xfr(dns.query.xfr("127.0.0.1", origin, port=signer.port,
                                               timeout=5, relativize=False), relativize=False)
        anchor = signer.dnskeys(origin)
    finally:
        signer.stop()
    name = dns.name.from_text(owner)
    sigs = zone.find_rdataset(name, "RRSIG", covers="CNAME")
    if len(sigs) != 1:
        raise RuntimeError(f"{len(sigs)} RRSIG CNAME at {owner} in the signed zone")
    broken = dns.rdataset.from_rdata(sigs.ttl, break_signature(sigs[0]))
    zone.replace_rdataset(name, broken)
    return zone.to_text(relativize=False), anchor


# --- unbound ----------------------------------------------------------------------

class Unbound(Daemon):
    """unbound, validating, on addr@port: stub zones {zone: "addr@port"},
    the given root hints for the rest (None: the built-in root), the trust
    anchor file (None: none). cache=False: nothing kept, every question
    reaches the authorities."""

    name = "unbound"

    def __init__(self, tmpdir, addr, stubs, root_hints, trust_anchor_file, cache=False,
                 threads=1):
        super().__init__(tmpdir)
        self.addr = addr
        self.port = free_port_on(addr)
        self.conf = os.path.join(self.dir, "unbound.conf")
        text = unbound_server_conf(self.dir, addr, self.port, threads) + """\
    val-log-level: 2
    module-config: "validator iterator"
    qname-minimisation: no
    minimal-responses: no
"""
        if root_hints:
            text += f'    root-hints: "{root_hints}"\n'
        if trust_anchor_file:
            text += f'    trust-anchor-file: "{trust_anchor_file}"\n'
        if not cache:
            text += "    cache-max-ttl: 0\n    cache-max-negative-ttl: 0\n"
        else:
            text += "    msg-cache-size: 256m\n    rrset-cache-size: 512m\n"
        text += "remote-control:\n    control-enable: no\n"
        for zone, addr_port in stubs.items():
            text += f'stub-zone:\n    name: "{zone}"\n    stub-addr: {addr_port}\n'
        with open(self.conf, "w") as f:
            f.write(text)

    @property
    def address(self):
        """ADDRESS:PORT, as delegation.resolvers takes it."""
        return f"{self.addr}:{self.port}"

    def argv(self):
        return [UNBOUND, "-d", "-c", self.conf]

    def ready(self):
        r = ask(self.addr, self.port, "localhost.", "A", timeout=0.2)
        return r.rcode() == dns.rcode.NOERROR

    def query(self, name, rdtype="TXT", timeout=5.0, cd=False):
        q = dns.message.make_query(name, rdtype, want_dnssec=True)
        if cd:
            q.flags |= dns.flags.CD
        return dns.query.udp(q, self.addr, port=self.port, timeout=timeout)


# --- acmensd where iteration finds it ---------------------------------------------

class AcmensAt(Server):
    """acmensd listening on addr:port only (port 53 for iteration), its
    zone's ns1 address record pointing there, as the private root's glue
    does; the conftest Server otherwise (stop() it, check its
    sanitizer_report())."""

    def __init__(self, tmpdir, addr, port=53, **cfg):
        os.makedirs(tmpdir, exist_ok=True)
        ns1 = "ns1." + ZONE
        records = [r for r in cfg.pop("records", BASE_RECORDS) if not r.startswith(ns1)]
        super().__init__(tmpdir, listen=[addr], records=records + [f"{ns1} 3600 IN A {addr}"],
                         **cfg)
        self.addr = addr
        self.port = port
        self.reconfigure()

    def query(self, name, rdtype="TXT", tcp=False, timeout=2.0, addr=None, **kw):
        return super().query(name, rdtype, tcp=tcp, timeout=timeout, addr=addr or self.addr,
                             **kw)


# --- the whole world ----------------------------------------------------------------

class World:
    """Everything above, for the acmens zone `zone` served by acmensd at
    acmens_addr:acmens_port, with the accounts sub (checked) and other.

    Attributes for a check's configuration: resolver ("ADDRESS:PORT",
    delegation.resolvers), trust_anchor_file, root_hints; cases (Cases:
    what every customer domain must give, plus cases["signed"] and
    cases["broken"]). stop() ends every process, whatever start() got to;
    use it as a context manager."""

    def __init__(self, tmpdir, zone, acmens_addr, acmens_port, sub, other,
                 unbound_cache=False):
        self.dir = str(tmpdir)
        self.zone = zone if zone.endswith(".") else zone + "."
        self.acmens = (acmens_addr, acmens_port)
        self.daemons = []
        missing = missing_tools()
        if missing:
            raise RuntimeError("not installed: " + ", ".join(missing)
                               + " (scripts/dev deps installs them)")
        self.customer_addr = private_addr()
        self.root_addr = private_addr(taken={self.customer_addr})
        self.resolver_addr = private_addr(taken={self.customer_addr, self.root_addr})
        self.cases = Cases(self.zone, sub, other, self.customer_addr)
        self.trust_anchor_file = os.path.join(self.dir, "anchors.key")
        self.root_hints = os.path.join(self.dir, "root.hints")
        self.unbound_cache = unbound_cache
        self.customer = self.root = self.unbound = None

    def _add_case(self, name, origin, secure):
        acct = f"{self.cases.sub}.{self.zone}"
        self.cases.by_name[name] = Case(
            name, origin.rstrip("."), "ok" if secure else "bogus",
            ["_acme-challenge." + origin.rstrip("."), acct.rstrip(".")] if secure
            else ["_acme-challenge." + origin.rstrip(".")],
            self.cases.sub, secure=secure)

    def start(self):
        c, sub = self.customer_addr, self.cases.sub
        broken_text, broken_anchor = sign_broken(
            os.path.join(self.dir, "signer"), BROKEN,
            signed_zone_text(BROKEN, sub, self.zone, c), "_acme-challenge." + BROKEN)
        self.customer = self._start(Knotd(os.path.join(self.dir, "customer"), c, {
            CUSTOMER: (self.cases.zone_text(), None),
            SIGNED: (signed_zone_text(SIGNED, sub, self.zone, c), "sign"),
            BROKEN: (broken_text, None)}))
        self._add_case("signed", SIGNED, True)
        self._add_case("broken", BROKEN, False)
        self.cases.by_name["lame"] = Case("lame", LAME.rstrip("."), "servfail",
                                          ["_acme-challenge." + LAME.rstrip(".")], sub)
        with open(self.trust_anchor_file, "w") as f:
            f.write("\n".join(self.customer.dnskeys(SIGNED) + broken_anchor) + "\n")
        acm_addr, acm_port = self.acmens
        delegations = {z: (f"ns.{z}", c) for z in (CUSTOMER, SIGNED, BROKEN, LAME)}
        delegations[self.zone] = ("ns1." + self.zone, acm_addr)
        self.root = self._start(Knotd(os.path.join(self.dir, "root"), self.root_addr, {
            ".": (root_zone_text(self.root_addr, delegations), None)}))
        with open(self.root_hints, "w") as f:
            f.write(f". 3600000 NS ns.rootsrv.\nns.rootsrv. 3600000 A {self.root_addr}\n")
        stubs = {z: f"{c}@53" for z in (CUSTOMER, SIGNED, BROKEN, LAME)}
        stubs[self.zone] = f"{acm_addr}@{acm_port}"
        self.unbound = self._start(Unbound(
            os.path.join(self.dir, "unbound"), self.resolver_addr, stubs, self.root_hints,
            self.trust_anchor_file, cache=self.unbound_cache))
        return self

    def _start(self, daemon):
        self.daemons.append(daemon)
        return daemon.start(timeout=20.0)

    @property
    def resolver(self):
        return self.unbound.address

    def stop(self):
        for d in reversed(self.daemons):
            d.stop()
        self.daemons = []

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc):
        self.stop()


@contextlib.contextmanager
def acmens_world(base, addr, value):
    """For a test module: acmensd (AcmensAt) on addr, port 53 (None:
    private_addr(), the test skipped where port 53 cannot be had), with two
    accounts, sub holding value at its name, and other; then the World
    around it. Yields the World, its acmensd as .srv; stops both, and
    fails on a sanitizer report of acmensd's."""
    missing = missing_tools()
    assert not missing, f"not installed: {missing} (scripts/dev deps)"
    if addr is None:
        try:
            addr = private_addr()
        except NoPort53 as e:
            pytest.skip(f"iterating needs servers on port 53: {e}")
    srv = AcmensAt(os.path.join(str(base), "acmens"), addr)
    try:
        sub = srv.register()["subdomain"]
        other = srv.register()["subdomain"]
        srv.ctl("txt", "add", sub, "--", value)
        srv.start()
        with World(os.path.join(str(base), "world"), ZONE, addr, 53, sub, other) as w:
            w.srv = srv
            yield w
    finally:
        srv.stop()
        report = srv.sanitizer_report()
        assert report is None, report
