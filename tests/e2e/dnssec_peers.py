# SPDX-License-Identifier: ISC
"""DNSSEC with real peers: Knot DNS signing a zone of its own (the
customer's, automatic signing with a CSK), Knot DNS as a secondary of
acmens's zone signing answers online (mod-onlinesign) with acmens's own key
imported, and the trust anchors a validating unbound is given. Used by
test_dnssec_e2e.py and bench/dnssec.py."""

import os
import shutil
import subprocess

import dns.dnssec
import dns.message
import dns.name
import dns.query
import dns.rdataclass
import dns.rdatatype

from conftest import ZONE, KnotSecondary

KEYMGR = shutil.which("keymgr") or "/usr/sbin/keymgr"
KNOTC = shutil.which("knotc") or "/usr/sbin/knotc"


def knot_signing(algorithm="ecdsap256sha256"):
    """(extra, zone_extra) for tests/integration's Knot: the zone signed by
    knotd itself (dnssec-signing: on) with one CSK it makes at start."""
    extra = f"""policy:
  - id: csk
    algorithm: {algorithm}
    single-type-signing: on
    nsec3: off
"""
    return extra, "    dnssec-signing: on\n    dnssec-policy: csk\n"


def onlinesign(algorithm="ecdsap256sha256"):
    """(extra, zone_extra): answers signed as they go out by mod-onlinesign
    with the keys in knotd's key database, managed by hand (keymgr): the
    keys are acmens's, never made by knotd."""
    extra = f"""policy:
  - id: imported
    algorithm: {algorithm}
    manual: on
    single-type-signing: on
mod-onlinesign:
  - id: imported
    policy: imported
"""
    return extra, "    module: mod-onlinesign/imported\n"


def _run(argv, what):
    p = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    if p.returncode != 0:
        raise RuntimeError(f"{what}: {p.stdout}{p.stderr}")
    return p.stdout


def import_key(conf, zone, pem, algorithm="ecdsap256sha256"):
    """Put a private key (PKCS#8 PEM, as `acmensctl dnssec export-key`
    writes it) into the key database of the knotd configured by conf, as
    a CSK in use from now on. keymgr must be told the algorithm: it takes
    its default (ECDSA P-256) and refuses an Ed25519 key otherwise."""
    out = _run([KEYMGR, "-c", conf, zone, "import-pem", pem, "ksk=yes", "zsk=yes",
                f"algorithm={algorithm}"], "keymgr import-pem")
    return out.split()[0]       # the key's id in the database


class OnlineSignSecondary(KnotSecondary):
    """knotd transferring acmens's zone (as KnotSecondary) and signing its
    answers with mod-onlinesign and acmens's key (a PEM file), which is
    imported before knotd starts."""

    def __init__(self, tmpdir, port, primary, pem, algorithm="ecdsap256sha256"):
        self.extra, self.zone_extra = onlinesign(algorithm)
        self.pem, self.algorithm = pem, algorithm
        super().__init__(tmpdir, port, primary)

    def start(self, timeout=10.0):
        if not getattr(self, "imported", None):
            self.imported = import_key(self.conf, ZONE, self.pem, self.algorithm)
        return super().start(timeout)

    def add_key(self, pem):
        """Another key of acmens's (a rollover's new one), signing from now
        on. keymgr changes the database only: the module reads it again on
        `knotc reload`, not on a zone reload."""
        import_key(self.conf, ZONE, pem, self.algorithm)
        self.reload()

    def delete_key(self, tag):
        _run([KEYMGR, "-c", self.conf, ZONE, "delete", str(tag)], "keymgr delete")
        self.reload()

    def reload(self):
        _run([KNOTC, "-c", self.conf, "-s", os.path.join(self.dir, "knot.sock"), "reload"],
             "knotc reload")


def ask(port, name, rdtype, dnssec=True):
    """The answer of the server on 127.0.0.1:port, asked with DO."""
    return dns.query.udp(dns.message.make_query(name, rdtype, want_dnssec=dnssec),
                         "127.0.0.1", port=port, timeout=2.0)


def dnskeys(port, zone):
    """The zone's DNSKEY RRset as the server on 127.0.0.1:port answers it."""
    r = ask(port, zone, "DNSKEY", dnssec=False)
    keys = r.get_rrset(r.answer, dns.name.from_text(zone), dns.rdataclass.IN,
                       dns.rdatatype.DNSKEY)
    return list(keys or [])


def ds_anchors(port, zone):
    """Trust anchors for unbound: a DS (SHA-256) of every SEP key the
    server publishes, the form a parent zone would hold."""
    name = dns.name.from_text(zone)
    return [f"{zone} IN DS {dns.dnssec.make_ds(name, k, 'SHA256').to_text()}"
            for k in dnskeys(port, zone) if k.flags & 1]


def wrong_anchor(anchor):
    """The same DS with its digest changed: no key of the zone matches."""
    head, digest = anchor.rsplit(" ", 1)
    return f"{head} {('0' if digest[0] != '0' else '1') + digest[1:]}"
