# SPDX-License-Identifier: ISC
"""The API's own certificate through acmens itself: certbot's manual hooks
(contrib/acmens-certbot-hook) write the DNS-01 value for api.<zone> into
acmens's own store with acmensctl, pebble validates it through unbound, and
the deploy hook installs the certificate where http.tls points and sends
acmensd SIGHUP (its PID from store.path/acmensd.lock):

    certbot --auth hook--> acmensctl txt add _acme-challenge.api --> store
      |  ACME (TLS)                                                  |
      v                                                     acmensd serves
    pebble --DNS-01 lookups--> unbound --stub (auth.example.org.)--+

The API's host name is inside the zone (an A record in zone.records), so
its challenge name is the account's, served with no CNAME. Afterwards a TLS
handshake on the API port presents the issued certificate.

Skipped when certbot, unbound, pebble or openssl is missing."""

import hashlib
import json
import os
import shutil
import socket
import ssl

import dns.rcode
import pytest

from conftest import (ACMENSCTL, BASE_RECORDS, CERTBOT, OPENSSL, PEBBLE, UNBOUND, ZONE, Pebble,
                      Unbound, have, run_certbot, wait_for)
from test_lego_acmedns import sans

HOOK = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                    "contrib", "acmens-certbot-hook")
NAME = "api." + ZONE.rstrip(".")

pytestmark = pytest.mark.skipif(not have(CERTBOT, OPENSSL, PEBBLE, UNBOUND),
                                reason="certbot, unbound, pebble or openssl missing")


def served_fingerprint(port):
    """SHA-256 of the certificate the API presents on a TLS handshake."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        with ctx.wrap_socket(sock, server_hostname=NAME) as tls:
            return hashlib.sha256(tls.getpeercert(binary_form=True)).hexdigest()


def file_fingerprint(pem_path):
    """SHA-256 of the first certificate in a PEM file (the leaf of a chain)."""
    with open(pem_path) as f:
        text = f.read()
    end = "-----END CERTIFICATE-----"
    leaf = text[:text.index(end) + len(end)] + "\n"
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(leaf)).hexdigest()


def test_api_certificate_through_acmens(tmp_path, make_server, daemons, test_ca):
    # the API starts with a certificate of its own (here the test CA's)
    tls = tmp_path / "tls"
    tls.mkdir()
    cert, key = tls / "api.pem", tls / "api.key"
    shutil.copy(test_ca.cert, cert)
    shutil.copy(test_ca.key, key)
    srv = make_server(records=BASE_RECORDS + [f"{NAME}. 300 IN A 127.0.0.1"],
                      http={"tls": {"cert": str(cert), "key": str(key)}})
    before = served_fingerprint(srv.http_port)
    assert before == file_fingerprint(test_ca.cert)

    acct = json.loads(srv.ctl("account", "register", "--subdomain", "api").stdout)
    assert acct["fulldomain"] == NAME
    chal = f"_acme-challenge.{NAME}."

    unbound = daemons(Unbound(tmp_path / "unbound", {ZONE: srv.port}))
    assert unbound.query(chal, "TXT").rcode() == dns.rcode.NXDOMAIN
    pebble = daemons(Pebble(tmp_path / "pebble", test_ca, unbound.port))

    env = dict(ACMENS_CONFIG=srv.config, ACMENSCTL=ACMENSCTL, ACMENS_TLS_CERT=str(cert),
               ACMENS_TLS_KEY=str(key), ACMENS_PIDFILE=os.path.join(srv.store, "acmensd.lock"))
    logs = run_certbot(tmp_path, test_ca, pebble,
                       ["--manual", "--preferred-challenges", "dns",
                        "--manual-auth-hook", f"{HOOK} auth",
                        "--manual-cleanup-hook", f"{HOOK} cleanup",
                        "--deploy-hook", f"{HOOK} deploy", "-d", NAME],
                       (("pebble", pebble), ("unbound", unbound), ("acmensd", srv)), env)
    issued = tmp_path / "config" / "live" / NAME / "fullchain.pem"
    assert sans(str(issued)) == [NAME]

    # installed where http.tls points, and served after the SIGHUP
    want = file_fingerprint(str(issued))
    assert file_fingerprint(str(cert)) == want and want != before
    assert wait_for(lambda: served_fingerprint(srv.http_port) == want, 20), logs()
    assert srv.proc.poll() is None

    # the value went in and out through acmensctl, at the challenge name
    events = [json.loads(line) for line in
              srv.ctl("audit", "--subdomain", "api").stdout.splitlines() if line.strip()]
    actions = [e["action"] for e in events if e.get("name") == "_acme-challenge"]
    assert actions == ["add", "remove"], events
    assert all(e["actor"].startswith("cli:") for e in events
               if e.get("name") == "_acme-challenge"), events
    assert srv.query(chal, "TXT").rcode() == dns.rcode.NXDOMAIN
