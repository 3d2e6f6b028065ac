# SPDX-License-Identifier: ISC
"""Fixtures for the end-to-end suite: acmensd with real third-party peers
(knotd as the customer's DNS, unbound as the resolver, pebble as the CA,
ACME clients), all on loopback ports picked per test. Every process a test
starts is stopped by the test, also when it fails.

The acmensd and knotd helpers are those of the integration suite
(tests/integration/conftest.py), loaded here under their own module name.
Its names are re-exported as they are: when pytest runs both directories
in one session, both conftest modules are called "conftest" and the later
one (this) is what `from conftest import ...` finds, also for the
integration tests, so this module must offer everything that one does."""

import importlib.util
import json
import os
import shutil
import subprocess
import sys

import dns.message
import dns.query
import dns.rcode
import pytest
import requests

_INTEGRATION = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                            "integration", "conftest.py")


def _integration():
    name = "acmens_integration_conftest"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, _INTEGRATION)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        spec.loader.exec_module(mod)
    return sys.modules[name]


_ic = _integration()
globals().update({k: v for k, v in vars(_ic).items() if not k.startswith("__")})

Daemon = _ic.Daemon
free_port = _ic.free_port

PEBBLE = shutil.which("pebble") or "/usr/bin/pebble"
LEGO = shutil.which("lego") or "/usr/bin/lego"
UNBOUND = shutil.which("unbound") or "/usr/sbin/unbound"
OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"


def have(*paths):
    return all(os.access(p, os.X_OK) for p in paths)


# --- a private CA ------------------------------------------------------------

class TestCA:
    """A self-signed CA and a server certificate for 127.0.0.1 and
    localhost, made with the openssl command line (P-256 keys, two days)."""

    __test__ = False   # not a test class, whatever its name

    def __init__(self, tmpdir):
        d = str(tmpdir)
        os.makedirs(d, exist_ok=True)
        self.ca_key = os.path.join(d, "ca.key")
        self.ca_cert = os.path.join(d, "ca.pem")
        self.key = os.path.join(d, "server.key")
        self.cert = os.path.join(d, "server.pem")
        csr = os.path.join(d, "server.csr")
        ext = os.path.join(d, "server.ext")
        with open(ext, "w") as f:
            f.write("subjectAltName = IP:127.0.0.1, DNS:localhost\n"
                    "basicConstraints = critical, CA:FALSE\n"
                    "keyUsage = critical, digitalSignature\n"
                    "extendedKeyUsage = serverAuth\n")
        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
        self._openssl("req", "-x509", *ec, "-keyout", self.ca_key, "-out", self.ca_cert,
                      "-days", "2", "-subj", "/CN=acmens test CA",
                      "-addext", "basicConstraints=critical,CA:TRUE",
                      "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        self._openssl("req", *ec, "-keyout", self.key, "-out", csr, "-subj", "/CN=localhost")
        self._openssl("x509", "-req", "-in", csr, "-CA", self.ca_cert, "-CAkey", self.ca_key,
                      "-set_serial", "0x" + os.urandom(8).hex(), "-days", "2",
                      "-extfile", ext, "-out", self.cert)

    @staticmethod
    def _openssl(*args):
        p = subprocess.run([OPENSSL, *args], capture_output=True, text=True, timeout=30)
        if p.returncode != 0:
            raise RuntimeError(f"openssl {' '.join(args)}: {p.stderr}")


# --- unbound -----------------------------------------------------------------

SPECIAL_USE = {"test.", "invalid.", "onion.", "localhost."}


class Unbound(Daemon):
    """unbound on 127.0.0.1 as a recursive resolver (iterator only, no
    DNSSEC, unless anchors are given), with a stub zone per {zone: port, or
    list of ports, of the authoritative servers on 127.0.0.1} and no
    caching, so every lookup reaches the authorities.

    anchors: {zone: [trust-anchor records as text (DS or DNSKEY)]}. With
    any, unbound validates (validator and iterator) every zone that has
    them and answers SERVFAIL when one does not validate; the stub zones
    without anchors stay insecure."""

    name = "unbound"

    def __init__(self, tmpdir, stubs, anchors=None):
        super().__init__(tmpdir)
        anchors = anchors or {}
        self.port = free_port()
        self.conf = os.path.join(self.dir, "unbound.conf")
        modules = "validator iterator" if anchors else "iterator"
        text = _ic.unbound_server_conf(self.dir, "127.0.0.1", self.port) + f"""\
    module-config: "{modules}"
    qname-minimisation: no
    cache-max-ttl: 0
    cache-max-negative-ttl: 0
    val-log-level: 2
"""
        text += "".join(f'    domain-insecure: "{z}"\n' for z in stubs if z not in anchors)
        text += "".join(f'    trust-anchor: "{rr}"\n' for z in anchors for rr in anchors[z])
        # unbound answers the RFC 6761 special-use names itself by default
        # (NXDOMAIN for all of test.): let the stub zones below them through
        special = {z.rstrip(".").rsplit(".", 1)[-1] + "." for z in stubs} & SPECIAL_USE
        text += "".join(f'    local-zone: "{z}" nodefault\n' for z in sorted(special))
        text += "remote-control:\n    control-enable: no\n"
        for zone, ports in stubs.items():
            ports = ports if isinstance(ports, (list, tuple)) else [ports]
            text += f'stub-zone:\n    name: "{zone}"\n'
            text += "".join(f"    stub-addr: 127.0.0.1@{p}\n" for p in ports)
        with open(self.conf, "w") as f:
            f.write(text)

    def argv(self):
        return [UNBOUND, "-d", "-c", self.conf]

    def ready(self):
        # localhost. is a built-in local zone: an answer needs no upstream
        r = dns.query.udp(dns.message.make_query("localhost.", "A"), "127.0.0.1",
                          port=self.port, timeout=0.2)
        return r.rcode() == dns.rcode.NOERROR

    def query(self, name, rdtype="TXT", timeout=3.0, dnssec=False):
        """dnssec: ask with DO, so a validated answer carries AD."""
        q = dns.message.make_query(name, rdtype, want_dnssec=dnssec)
        return dns.query.udp(q, "127.0.0.1", port=self.port, timeout=timeout)


# --- pebble ------------------------------------------------------------------

class Pebble(Daemon):
    """pebble, the ACME test CA, on 127.0.0.1 with TLS from a TestCA, its
    DNS-01 lookups going to a resolver on 127.0.0.1:dns_port; no validation
    sleeps, no nonce rejections and no reuse of valid authorizations, so
    runs are quick and every identifier is validated."""

    name = "pebble"

    def __init__(self, tmpdir, ca, dns_port):
        super().__init__(tmpdir)
        self.ca = ca
        self.dns_port = dns_port
        self.port = free_port()
        self.mgmt_port = free_port()
        self.directory = f"https://127.0.0.1:{self.port}/dir"
        self.conf = os.path.join(self.dir, "pebble.json")
        with open(self.conf, "w") as f:
            json.dump({"pebble": {
                "listenAddress": f"127.0.0.1:{self.port}",
                "managementListenAddress": f"127.0.0.1:{self.mgmt_port}",
                "certificate": ca.cert,
                "privateKey": ca.key,
                # where pebble would connect for http-01 / tls-alpn-01:
                # nothing listens there, only DNS-01 can succeed
                "httpPort": free_port(),
                "tlsPort": free_port(),
                "ocspResponderURL": "",
                "externalAccountBindingRequired": False,
            }}, f)

    def argv(self):
        return [PEBBLE, "-config", self.conf, "-dnsserver", f"127.0.0.1:{self.dns_port}"]

    def env(self):
        return dict(os.environ, PEBBLE_VA_NOSLEEP="1", PEBBLE_WFE_NONCEREJECT="0",
                    PEBBLE_AUTHZREUSE="0")

    def ready(self):
        return requests.get(self.directory, verify=self.ca.ca_cert, timeout=1).status_code == 200


# --- certbot -----------------------------------------------------------------

CERTBOT = shutil.which("certbot") or "/usr/bin/certbot"


def run_certbot(tmp_path, ca, pebble, args, logged, env=None):
    """`certbot certonly` against pebble (trusting ca) with its directories
    under tmp_path and args for the challenge and domains; fails the test,
    with certbot's log and each (name, daemon) in logged, unless it succeeds
    within 180 s. env adds to a copy of the environment without proxies."""
    full_env = {k: v for k, v in os.environ.items()
                if not k.startswith(("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"))}
    full_env.update(env or {}, REQUESTS_CA_BUNDLE=ca.ca_cert)
    cmd = [CERTBOT, "certonly", "--non-interactive", "--agree-tos", "--no-eff-email",
           "-m", "t@example.test", "--server", pebble.directory,
           "--config-dir", str(tmp_path / "config"), "--work-dir", str(tmp_path / "work"),
           "--logs-dir", str(tmp_path / "logs"), *args]

    def logs():
        log = tmp_path / "logs" / "letsencrypt.log"
        text = log.read_text()[-8000:] if log.exists() else ""
        return f"\n--- certbot log:\n{text}" + "".join(
            f"\n--- {n}:\n{d.read_log()[-6000:]}" for n, d in logged)

    try:
        p = subprocess.run(cmd, env=full_env, capture_output=True, text=True, timeout=180)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"certbot did not finish in 180 s:\n{e.stdout}\n{e.stderr}{logs()}")
    assert p.returncode == 0, f"certbot failed:\n{p.stdout}\n{p.stderr}{logs()}"
    return logs


# --- fixtures ----------------------------------------------------------------

@pytest.fixture
def daemons():
    """start(daemon, **kw) -> the started daemon; every one is stopped at
    teardown, last started first."""
    started = []

    def start(d, **kw):
        started.append(d)
        return d.start(**kw)

    yield start
    for d in reversed(started):
        d.stop()


@pytest.fixture
def test_ca(tmp_path):
    return TestCA(tmp_path / "ca")
