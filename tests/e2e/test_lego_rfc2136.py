# SPDX-License-Identifier: ISC
"""A real certificate issuance by lego through RFC 2136 dynamic update,
signed with the account's own TSIG key:

    lego --dns rfc2136  --UPDATE (TSIG)-->  acmensd (auth.example.org.)
      |  ACME (TLS)                               ^  TXT <sub>.auth.example.org.
      v                                           |
    pebble --DNS-01 lookups-->  unbound --stub-->+
                                   |  stub
                                   v
                                 knotd (example.test.: _acme-challenge CNAME
                                        <sub>.auth.example.org.)

lego follows the customer's CNAME to the account's name, finds the zone
with an SOA query to acmensd, and for each authorization sends one UPDATE
that deletes the name's TXT RRset and then adds its value, so acmens must
apply the operations of a message in order. lego solves the two
authorizations (example.test and *.example.test, the same name) one after
the other, and deletes each value once validated.

Skipped when any of knotd, unbound, pebble, lego or openssl is missing
(scripts/dev installs them)."""

import json
import os
import subprocess

import dns.rcode
import pytest

from conftest import (KNOTD, LEGO, OPENSSL, PEBBLE, UNBOUND, ZONE, Knot, Pebble, Unbound,
                      have, update_account)
from test_lego_acmedns import DOMAIN, customer_zone, sans, txt_strings

pytestmark = pytest.mark.skipif(not have(KNOTD, LEGO, OPENSSL, PEBBLE, UNBOUND),
                                reason="knotd, unbound, pebble, lego or openssl missing")


def test_lego_rfc2136(tmp_path, make_server, daemons, test_ca):
    srv, sub, key = update_account(make_server)
    full = f"{sub}.{ZONE.rstrip('.')}"
    assert key["name"].rstrip(".") == full

    knot = daemons(Knot(tmp_path / "knot", customer_zone(full), zone=DOMAIN + "."))
    unbound = daemons(Unbound(tmp_path / "unbound", {DOMAIN + ".": knot.port, ZONE: srv.port}))
    r = unbound.query(f"_acme-challenge.{DOMAIN}.", "TXT")
    assert r.rcode() == dns.rcode.NOERROR and txt_strings(r) == [], (r, unbound.read_log())
    pebble = daemons(Pebble(tmp_path / "pebble", test_ca, unbound.port))

    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("LEGO_", "RFC2136_", "HTTP_PROXY", "HTTPS_PROXY",
                                "http_proxy", "https_proxy"))}
    env.update(LEGO_CA_CERTIFICATES=test_ca.ca_cert,
               # older lego follows CNAMEs only when asked to; newer always does
               LEGO_EXPERIMENTAL_CNAME_SUPPORT="true",
               RFC2136_NAMESERVER=f"127.0.0.1:{srv.port}",
               RFC2136_TSIG_KEY=key["name"],
               RFC2136_TSIG_SECRET=key["secret"],
               RFC2136_TSIG_ALGORITHM="hmac-sha256.",
               RFC2136_TTL="60",
               RFC2136_PROPAGATION_TIMEOUT="30",
               RFC2136_POLLING_INTERVAL="1",
               RFC2136_SEQUENCE_INTERVAL="1",
               RFC2136_DNS_TIMEOUT="10")
    cmd = [LEGO, "--server", pebble.directory, "--accept-tos", "--email", "t@example.test",
           "--dns", "rfc2136", "--dns.resolvers", f"127.0.0.1:{unbound.port}",
           "--dns.disable-cp", "--domains", DOMAIN, "--domains", "*." + DOMAIN,
           "--path", str(tmp_path / "lego"), "run"]

    def logs():
        return "".join(f"\n--- {name}:\n{d.read_log()[-6000:]}" for name, d in
                       (("pebble", pebble), ("unbound", unbound), ("knotd", knot),
                        ("acmensd", srv)))

    try:
        p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"lego did not finish in 120 s:\n{e.stdout}\n{e.stderr}{logs()}")
    assert p.returncode == 0, f"lego failed:\n{p.stdout}\n{p.stderr}{logs()}"
    cert = tmp_path / "lego" / "certificates" / f"{DOMAIN}.crt"
    assert cert.exists()
    assert sans(str(cert)) == sorted([DOMAIN, "*." + DOMAIN])

    # Both values went through acmens (the audit log has them, set by the
    # key's account over UPDATE), and lego's clean-up deleted them again.
    events = [json.loads(line) for line in
              srv.ctl("audit", "--subdomain", sub).stdout.splitlines() if line.strip()]
    added = {v["value"] if isinstance(v, dict) else v
             for e in events if e.get("actor") == f"update:{sub}" for v in e["after"]}
    assert len(added) == 2, json.dumps(events, indent=1)
    assert json.loads(srv.ctl("txt", "list", sub).stdout)["values"] == []
    assert txt_strings(srv.query(full + ".", "TXT")) == []
    assert f"msg=update client=127.0.0.1 account={sub} rcode=NOERROR" in srv.read_log()
