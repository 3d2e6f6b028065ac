# SPDX-License-Identifier: ISC
"""certbot with its dns-rfc2136 plugin obtains a certificate for a name
inside the acmens zone itself, the account's own name <sub>.auth.example.org,
from pebble through unbound:

    certbot --dns-rfc2136 --SOA probes, UPDATE (TSIG, TCP)--> acmensd
      |  ACME (TLS)                     TXT _acme-challenge.<sub>.auth.example.org.
      v                                                      ^
    pebble --DNS-01 lookups--> unbound --stub (auth.example.org.)--+

certbot does not follow CNAMEs: it writes _acme-challenge.<name> itself, so
an account may also update that name under its own. Before it writes, it
looks for the zone with TSIG-signed SOA queries from the longest name down
and trusts only signed, authoritative answers.

Skipped when certbot (with python3-certbot-dns-rfc2136), unbound, pebble or
openssl is missing (scripts/dev installs them)."""

import json
import subprocess

import dns.rcode
import pytest

from conftest import (CERTBOT, OPENSSL, PEBBLE, UNBOUND, ZONE, Pebble, Unbound, have,
                      run_certbot, update_account)
from test_lego_acmedns import sans, txt_strings

def plugin_installed():
    p = subprocess.run([CERTBOT, "plugins", "--text"], capture_output=True, text=True,
                       timeout=60) if have(CERTBOT) else None
    return p is not None and "dns-rfc2136" in p.stdout


pytestmark = pytest.mark.skipif(
    not have(CERTBOT, OPENSSL, PEBBLE, UNBOUND) or not plugin_installed(),
    reason="certbot with dns-rfc2136, unbound, pebble or openssl missing")


def test_certbot_rfc2136(tmp_path, make_server, daemons, test_ca):
    srv, sub, key = update_account(make_server)
    name = f"{sub}.{ZONE.rstrip('.')}"
    chal = f"_acme-challenge.{name}."

    unbound = daemons(Unbound(tmp_path / "unbound", {ZONE: srv.port}))
    assert unbound.query(chal, "TXT").rcode() == dns.rcode.NXDOMAIN
    pebble = daemons(Pebble(tmp_path / "pebble", test_ca, unbound.port))

    ini = tmp_path / "rfc2136.ini"
    ini.write_text(f"dns_rfc2136_server = 127.0.0.1\n"
                   f"dns_rfc2136_port = {srv.port}\n"
                   f"dns_rfc2136_name = {key['name']}\n"
                   f"dns_rfc2136_secret = {key['secret']}\n"
                   f"dns_rfc2136_algorithm = HMAC-SHA256\n")
    ini.chmod(0o600)
    logs = run_certbot(tmp_path, test_ca, pebble,
                       ["--dns-rfc2136", "--dns-rfc2136-credentials", str(ini),
                        "--dns-rfc2136-propagation-seconds", "1", "-d", name],
                       (("pebble", pebble), ("unbound", unbound), ("acmensd", srv)))
    cert = tmp_path / "config" / "live" / name / "fullchain.pem"
    assert cert.exists(), logs()
    assert sans(str(cert)) == [name]

    # The value went in at the challenge name, by the account, and certbot's
    # clean-up took it out again: the name is gone, the account's own is
    # untouched.
    events = [json.loads(line) for line in
              srv.ctl("audit", "--subdomain", sub).stdout.splitlines() if line.strip()]
    adds = [e for e in events if e["action"] == "add" and e.get("name") == "_acme-challenge"]
    assert len(adds) == 1 and adds[0]["actor"] == f"update:{sub}", events
    assert srv.query(chal, "TXT").rcode() == dns.rcode.NXDOMAIN
    assert txt_strings(srv.query(name + ".", "TXT")) == []
