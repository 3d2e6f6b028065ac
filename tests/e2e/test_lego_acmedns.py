# SPDX-License-Identifier: ISC
"""A real certificate issuance through acmens by lego speaking the acme-dns
API: the acme-dns drop-in promise, end to end.

    lego --dns acme-dns  --POST /update-->  acmensd (auth.example.org.)
      |  ACME (TLS)                               ^  TXT <sub>.auth.example.org.
      v                                           |
    pebble --DNS-01 lookups-->  unbound --stub-->+
                                   |  stub
                                   v
                                 knotd (example.test.: _acme-challenge CNAME
                                        <sub>.auth.example.org.)

The account is registered through POST /register and handed to lego in
goacmedns's storage file, as an operator who set the CNAME up once would.
lego asks for example.test and *.example.test: both authorizations validate
the same name, so acmens must serve both values at once (txt_limit 2).

Two ways lego reaches the API:
- its own `acme-dns` provider, when the lego build has one (Debian's does
  not: goacmedns is not packaged, so Debian leaves the provider out and
  that test is skipped there);
- its `exec` provider running acmedns_client.py, which sends goacmedns's
  requests byte for byte (see there). The ACME, DNS and CNAME parts are the
  real thing either way.

Skipped when any of knotd, unbound, pebble, lego or openssl is missing
(scripts/dev installs them)."""

import json
import os
import re
import subprocess
import sys

import dns.rcode
import dns.rdatatype
import pytest

from conftest import (KNOTD, LEGO, OPENSSL, PEBBLE, UNBOUND, ZONE, Knot, Pebble, Unbound,
                      have, start_http)

pytestmark = pytest.mark.skipif(not have(KNOTD, LEGO, OPENSSL, PEBBLE, UNBOUND),
                                reason="knotd, unbound, pebble, lego or openssl missing")

DOMAIN = "example.test"
CLIENT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "acmedns_client.py")


def customer_zone(fulldomain):
    """The customer's zone: the one-time CNAME into acmens's zone."""
    return f"""$ORIGIN {DOMAIN}.
$TTL 60
@ SOA ns.{DOMAIN}. hostmaster.{DOMAIN}. 1 3600 600 604800 60
@ NS ns.{DOMAIN}.
ns A 127.0.0.1
@ A 127.0.0.1
_acme-challenge CNAME {fulldomain}.
"""


def txt_strings(response):
    return sorted(b"".join(rd.strings).decode() for rrset in response.answer
                  if rrset.rdtype == dns.rdatatype.TXT for rd in rrset)


def sans(cert_path):
    p = subprocess.run([OPENSSL, "x509", "-in", cert_path, "-noout", "-ext", "subjectAltName"],
                       capture_output=True, text=True, timeout=30, check=True)
    return sorted(re.findall(r"DNS:([^,\s]+)", p.stdout))


def check_cname(unbound, fulldomain, rcode):
    """The customer's _acme-challenge, asked through unbound, is a CNAME to
    the account's name, answered with rcode and no TXT value yet."""
    r = unbound.query(f"_acme-challenge.{DOMAIN}.", "TXT")
    assert r.rcode() == rcode, (r, unbound.read_log())
    cnames = [rd.target.to_text() for rrset in r.answer if rrset.rdtype == dns.rdatatype.CNAME
              for rd in rrset]
    assert cnames == [fulldomain + "."], (r, unbound.read_log())
    assert txt_strings(r) == []


class Stack:
    """acmensd with an account, the customer's knotd, unbound, pebble."""

    def __init__(self, tmp, api, acct, knot, unbound, pebble, ca):
        self.tmp, self.api, self.srv, self.acct = tmp, api, api.server, acct
        self.knot, self.unbound, self.pebble, self.ca = knot, unbound, pebble, ca

    def logs(self):
        return "".join(f"\n--- {name}:\n{d.read_log()[-6000:]}" for name, d in
                       (("pebble", self.pebble), ("unbound", self.unbound),
                        ("knotd", self.knot), ("acmensd", self.srv)))

    def lego(self, provider, env):
        """Run `lego run` for example.test and *.example.test with the given
        DNS provider; returns the CompletedProcess."""
        full_env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("LEGO_", "ACME_DNS_", "EXEC_", "HTTP_PROXY",
                                         "HTTPS_PROXY", "http_proxy", "https_proxy"))}
        full_env.update(env, LEGO_CA_CERTIFICATES=self.ca.ca_cert)
        cmd = [LEGO, "--server", self.pebble.directory, "--accept-tos",
               "--email", "t@example.test", "--dns", provider,
               "--dns.resolvers", f"127.0.0.1:{self.unbound.port}", "--dns.disable-cp",
               "--domains", DOMAIN, "--domains", "*." + DOMAIN,
               "--path", str(self.tmp / "lego"), "run"]
        try:
            return subprocess.run(cmd, env=full_env, capture_output=True, text=True,
                                  timeout=90)
        except subprocess.TimeoutExpired as e:
            pytest.fail(f"lego did not finish in 90 s:\n{e.stdout}\n{e.stderr}{self.logs()}")


@pytest.fixture
def stack(tmp_path, make_server, daemons, test_ca):
    api = start_http(make_server)       # with an admin token, for the audit log
    srv = api.server
    acct = api.register(path="/register")
    del acct["headers"]                 # the reply as acme-dns clients store it
    sub, full = acct["subdomain"], acct["fulldomain"]
    assert full == f"{sub}.{ZONE.rstrip('.')}"

    knot = daemons(Knot(tmp_path / "knot", customer_zone(full), zone=DOMAIN + "."))
    unbound = daemons(Unbound(tmp_path / "unbound", {DOMAIN + ".": knot.port, ZONE: srv.port}))

    # The delegation resolves before lego starts: the CNAME is followed
    # into acmens, which knows the name but has no value yet (NODATA).
    check_cname(unbound, full, dns.rcode.NOERROR)

    pebble = daemons(Pebble(tmp_path / "pebble", test_ca, unbound.port))

    # goacmedns's file storage: the domain lego presents (the identifier;
    # "*." is left off for the wildcard, so one entry serves both) -> the
    # account as /register returned it
    storage = tmp_path / "acmedns.json"
    storage.write_text(json.dumps({DOMAIN: acct}))
    return Stack(tmp_path, api, acct, knot, unbound, pebble, test_ca)


def acmedns_env(stack):
    return {"ACME_DNS_API_BASE": stack.srv.http_url,
            "ACME_DNS_STORAGE_PATH": str(stack.tmp / "acmedns.json")}


def exec_env(stack, script, **more):
    """acmedns_env plus lego's exec provider running the Python script in
    RAW mode (lego hands over the identifier and key authorization, as it
    does to its acme-dns provider), and more variables."""
    wrapper = stack.tmp / "acmedns-client"
    wrapper.write_text(f"#!/bin/sh\nexec {sys.executable} {script} \"$@\"\n")
    wrapper.chmod(0o755)
    env = acmedns_env(stack)
    env.update(EXEC_PATH=str(wrapper), EXEC_MODE="RAW", **more)
    return env


def check_issued(stack, p):
    """lego succeeded, the certificate names both, and acmens got and serves
    both challenge values, pushed by the account."""
    assert p.returncode == 0, f"lego failed:\n{p.stdout}\n{p.stderr}{stack.logs()}"
    certs = stack.tmp / "lego" / "certificates"
    cert = certs / f"{DOMAIN}.crt"
    assert cert.exists(), os.listdir(certs)
    assert sans(str(cert)) == sorted([DOMAIN, "*." + DOMAIN])

    # Both challenge values were pushed over /update and are still there
    # (lego never cleans up; acme-dns keeps the last two).
    srv, sub = stack.srv, stack.acct["subdomain"]
    listed = srv.ctl("txt", "list", sub)
    values = sorted(v["value"] for v in json.loads(listed.stdout)["values"])
    assert len(values) == 2 and values[0] != values[1], listed.stdout
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{43}", v) for v in values), values
    # served by acmensd directly and through the customer's CNAME
    assert txt_strings(srv.query(stack.acct["fulldomain"] + ".", "TXT")) == values
    assert txt_strings(stack.unbound.query(f"_acme-challenge.{DOMAIN}.", "TXT")) == values

    # The audit log shows the two pushes, by the account, with those values.
    r = stack.api.admin("GET", f"/audit?subdomain={sub}")
    assert r.status_code == 200, r.text
    events = r.json()["events"]
    pushes = [e for e in events if e.get("actor") == "account:" + stack.acct["username"]]
    assert len(pushes) == 2, json.dumps(events, indent=1)
    pushed = set()
    for e in pushes:
        after = {v["value"] if isinstance(v, dict) else v for v in e["after"]}
        before = {v["value"] if isinstance(v, dict) else v for v in e["before"]}
        pushed |= after - before
    assert sorted(pushed) == values, json.dumps(events, indent=1)


def test_lego_acme_dns_provider(stack):
    """lego's own acme-dns provider (goacmedns)."""
    p = stack.lego("acme-dns", acmedns_env(stack))
    if "unrecognized DNS provider: acme-dns" in p.stdout + p.stderr:
        pytest.skip("this lego build has no acme-dns provider (Debian's leaves it out); "
                    "test_lego_exec_acmedns_client covers the same requests")
    check_issued(stack, p)


def test_lego_exec_acmedns_client(stack):
    """lego's exec provider with goacmedns's requests (acmedns_client.py)."""
    # The exec provider solves one authorization at a time, waiting
    # SEQUENCE_INTERVAL (default 60 s) in between.
    env = exec_env(stack, CLIENT, EXEC_SEQUENCE_INTERVAL="1", EXEC_POLLING_INTERVAL="1",
                   EXEC_PROPAGATION_TIMEOUT="30")
    check_issued(stack, stack.lego("exec", env))
