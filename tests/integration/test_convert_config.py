# SPDX-License-Identifier: ISC
"""acmensctl convert-acmedns-config: acme-dns's config.cfg (written here as
acme-dns documents it: records, each tls mode, CORS, use_header) becomes an
acmens.yaml. Each key's mapping is checked on the parsed output, the output
passes check-config, and acmensd, started with it (moved to test ports),
serves the static records and the API. Bad inputs fail with a clear error,
a nonzero exit and nothing on stdout."""

import os
import subprocess

import pytest
import requests
import yaml

from conftest import ACMENSCTL, ZONE, HttpApi, value
from test_http_server import make_cert

pytestmark = pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")

# acme-dns's example configuration as it ships (config.cfg in its
# repository), comments and all: what most installations started from.
ACMEDNS_EXAMPLE = """\
[general]
# DNS interface. Note that systemd-resolved may reserve port 53 on 127.0.0.53
listen = "127.0.0.1:53"
# protocol, "both", "both4", "both6", "udp", "udp4", "udp6" or "tcp", "tcp4", "tcp6"
protocol = "both"
# domain name to serve the requests off of
domain = "auth.example.org"
# zone name server
nsname = "auth.example.org"
# admin email address, where @ is substituted with .
nsadmin = "admin.example.org"
# predefined records served in addition to the TXT
records = [
    # domain pointing to the public IP of your acme-dns server
    "auth.example.org. A 198.51.100.1",
    # specify that auth.example.org will resolve any *.auth.example.org records
    "auth.example.org. NS auth.example.org.",
]
# debug messages from CORS etc
debug = false

[database]
# Database engine to use, sqlite or postgres
engine = "sqlite"
connection = "acme-dns.db"

[api]
ip = "0.0.0.0"
disable_registration = false
port = "443"
# possible values: "letsencrypt", "letsencryptstaging", "cert", "none"
tls = "none"
# only used if tls = "cert"
tls_cert_privkey = "/etc/tls/example.org/privkey.pem"
tls_cert_fullchain = "/etc/tls/example.org/fullchain.pem"
# only used if tls = "letsencrypt"
acme_cache_dir = "api-certs"
notification_email = ""
# CORS AllowOrigins, wildcards can be used
corsorigins = [
    "*"
]
use_header = false
header_name = "X-Forwarded-For"

[logconfig]
loglevel = "info"
logtype = "stdout"
logfile = "./acme-dns.log"
logformat = "json"
"""


def full_config(cert, key):
    """A production-like config.cfg: TLS from files, several records, CORS,
    a proxy header, every logging and newer key set."""
    return f"""\
[general]
listen = "[::1]:53"
protocol = "udp6"
domain = "Auth.Example.Org"
nsname = "ns1.auth.example.org"
nsadmin = "hostmaster@example.org"
records = [
    "ns1.auth.example.org. A 192.0.2.53",
    "ns1.auth.example.org. AAAA 2001:db8::53",
    "auth.example.org. NS ns1.auth.example.org.",
    "auth.example.org. NS ns2.example.net",
    "auth.example.org. 300 IN CAA 0 issue \\"letsencrypt.org\\"",
    "info.auth.example.org. TXT \\"acme-dns, now acmens\\"",
    "www.auth.example.org. CNAME auth.example.org",
    "sub.auth.example.org. NS ns.elsewhere.example.",
    "ns.other.example. A 192.0.2.99",
]
debug = false
txt_limit = 3

[database]
engine = "postgres"
connection = "postgres://acmedns:Sup3rSecretPw@db.example.org:5432/acmedns"

[api]
api_domain = "auth.example.org"
ip = "127.0.0.1"
disable_registration = true
autocert_port = "80"
port = "8443"
tls = "cert"
tls_cert_privkey = "{key}"
tls_cert_fullchain = "{cert}"
acme_cache_dir = "api-certs"
notification_email = "admin@example.org"
corsorigins = ["https://app.example.com", "https://*.example.net"]
use_header = true
header_name = "X-Real-Ip"
hsts_enabled = true
hsts_max_age = 31536000

[logconfig]
loglevel = "warning"
logtype = "file"
logfile = "/var/log/acme-dns.log"
logformat = "text"
"""


def write(tmp_path, text, name="config.cfg"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def convert(path, *args, env=None):
    return subprocess.run([ACMENSCTL, "convert-acmedns-config", path, *args],
                          capture_output=True, text=True, timeout=30,
                          env=None if env is None else {**os.environ, **env})


def converted(tmp_path, text, *args):
    """The parsed acmens.yaml, its text and the warnings."""
    p = convert(write(tmp_path, text), *args)
    assert p.returncode == 0, p.stderr
    return yaml.safe_load(p.stdout), p.stdout, p.stderr


def check_config(tmp_path, text):
    path = write(tmp_path, text, "acmens.yaml")
    p = subprocess.run([ACMENSCTL, "-c", path, "check-config"], capture_output=True,
                       text=True, timeout=30)
    assert p.returncode == 0 and p.stdout.strip() == "ok", p.stderr


def start_converted(make_server, cfg, tls=False):
    """acmensd on the converted configuration, with its addresses moved to
    test ports on loopback and its store to the test's directory."""
    srv = make_server(start=False, http={"tls": {}} if tls else {})
    cfg["dns"]["listen"] = [f"127.0.0.1:{srv.port}"]
    cfg["http"]["listen"] = [f"127.0.0.1:{srv.http_port}"]
    cfg["store"]["path"] = srv.store
    with open(srv.config, "w") as f:
        yaml.safe_dump(cfg, f)
    return srv.start()


def answers(srv, name, rdtype):
    r = srv.query(name, rdtype)
    return sorted(rd.to_text() for rrset in r.answer for rd in rrset)


def test_acmedns_example_converts_and_serves(make_server, tmp_path):
    cfg, text, warnings = converted(tmp_path, ACMEDNS_EXAMPLE)
    check_config(tmp_path, text)
    assert cfg["zone"]["name"] == ZONE
    assert cfg["zone"]["ns"] == ["auth.example.org."]
    assert cfg["zone"]["soa"] == {"mname": "auth.example.org.", "rname": "admin.example.org."}
    assert cfg["zone"]["records"] == ["auth.example.org. A 198.51.100.1"]
    assert cfg["dns"]["listen"] == ["127.0.0.1:53"]
    assert cfg["http"]["listen"] == ["0.0.0.0:443"]
    assert "tls" not in cfg["http"]
    assert cfg["http"]["disable_registration"] is False
    assert cfg["http"]["cors_origins"] == ["*"]
    assert "proxy_header" not in cfg["http"] and "trusted_proxies" not in cfg["http"]
    assert cfg["http"]["txt_limit"] == 2
    assert cfg["log"] == {"level": "info", "format": "json", "target": "stderr"}
    assert "import-acmedns acme-dns.db" in text
    assert "header_name = 'X-Forwarded-For': unused" in text
    assert warnings == ""

    srv = start_converted(make_server, cfg)
    assert answers(srv, ZONE, "A") == ["198.51.100.1"]
    assert answers(srv, ZONE, "NS") == ["auth.example.org."]
    api = HttpApi(srv)
    acct = api.register(path="/register")
    r = api.call("POST", "/update", {"subdomain": acct["subdomain"], "txt": value(1)},
                 acct["headers"])
    assert r.status_code == 200, r.text
    assert answers(srv, acct["fulldomain"] + ".", "TXT") == [f'"{value(1)}"']


def test_every_key_of_a_full_config(make_server, tmp_path):
    cert, key = make_cert(str(tmp_path), "api")
    cfg, text, warnings = converted(tmp_path, full_config(cert, key),
                                    "--trusted-proxy", "127.0.0.0/8",
                                    "--trusted-proxy", "::1/128")
    check_config(tmp_path, text)
    zone = cfg["zone"]
    assert zone["name"] == "Auth.Example.Org."
    # NS lines at the apex are zone.ns; names absolute as acme-dns read them.
    assert zone["ns"] == ["ns1.auth.example.org.", "ns2.example.net."]
    assert zone["soa"] == {"mname": "ns1.auth.example.org.", "rname": "hostmaster.example.org."}
    assert zone["txt_ttl"] == 1
    assert zone["records"] == [
        "ns1.auth.example.org. A 192.0.2.53",
        "ns1.auth.example.org. AAAA 2001:db8::53",
        'auth.example.org. 300 IN CAA 0 issue "letsencrypt.org"',
        'info.auth.example.org. TXT "acme-dns, now acmens"',
        "www.auth.example.org. CNAME auth.example.org.",
    ]
    # A delegation and a name outside the zone are left out, and said why.
    assert "'sub.auth.example.org. NS ns.elsewhere.example.' is left out: a delegation" in text
    assert "'ns.other.example. A 192.0.2.99' is left out: outside the zone" in text
    assert "sub.auth.example.org" in warnings and "ns.other.example" in warnings
    assert cfg["dns"]["listen"] == ["[::1]:53"]
    assert "answered over UDP only; acmens serves UDP and TCP" in text

    http = cfg["http"]
    assert http["listen"] == ["127.0.0.1:8443"]
    assert http["tls"] == {"cert": cert, "key": key}
    assert http["disable_registration"] is True
    assert http["cors_origins"] == ["https://app.example.com", "https://*.example.net"]
    assert http["proxy_header"] == "X-Real-Ip"
    assert http["trusted_proxies"] == ["127.0.0.0/8", "::1/128"]
    assert http["txt_limit"] == 3
    for k in ("api_domain", "autocert_port", "acme_cache_dir", "notification_email",
              "hsts_enabled", "hsts_max_age"):
        assert f"api.{k} = " in text, k
    assert "Strict-Transport-Security" in text

    # The database's password stays out of the configuration.
    assert "Sup3rSecretPw" not in text + warnings
    assert "import-acmedns postgres://acmedns:****@db.example.org:5432/acmedns" in text
    assert cfg["store"]["path"] == "/var/lib/acmens"

    assert cfg["log"] == {"level": "warning", "format": "logfmt", "target": "stderr"}
    assert "logconfig.logfile = '/var/log/acme-dns.log': no counterpart" in text

    srv = start_converted(make_server, cfg, tls=True)
    assert answers(srv, "ns1.auth.example.org.", "A") == ["192.0.2.53"]
    assert answers(srv, "ns1.auth.example.org.", "AAAA") == ["2001:db8::53"]
    assert answers(srv, ZONE, "CAA") == ['0 issue "letsencrypt.org"']
    assert answers(srv, ZONE, "NS") == ["ns1.auth.example.org.", "ns2.example.net."]
    assert answers(srv, "www.auth.example.org.", "CNAME") == ["auth.example.org."]
    assert srv.http_url.startswith("https://")
    r = requests.post(srv.http_url + "/register", verify=False, timeout=10)
    assert r.status_code == 404   # disable_registration, over TLS


@pytest.mark.parametrize("mode", ["letsencrypt", "letsencryptstaging"])
def test_letsencrypt_has_no_counterpart(make_server, tmp_path, mode):
    text = (ACMEDNS_EXAMPLE.replace('tls = "none"', f'tls = "{mode}"')
            .replace('ip = "0.0.0.0"', 'ip = ""')
            .replace('listen = "127.0.0.1:53"', 'listen = ":53"')
            .replace('protocol = "both"', 'protocol = "both4"')
            .replace("debug = false", "debug = true")
            .replace("use_header = false", "use_header = true")
            .replace('    "auth.example.org. NS auth.example.org.",\n', ""))
    cfg, out, warnings = converted(tmp_path, text)
    check_config(tmp_path, out)
    assert "tls" not in cfg["http"]
    assert f'api.tls = "{mode}" has no counterpart' in out
    assert "account register --subdomain api" in out
    assert "docs/migrating-from-acme-dns.md" in out
    assert f'api.tls = "{mode}": the API speaks plain HTTP' in warnings
    # An empty api.ip is every address; both4 is IPv4 only.
    assert cfg["http"]["listen"] == ["0.0.0.0:443", "[::]:443"]
    assert cfg["dns"]["listen"] == ["0.0.0.0:53"]
    # No NS record in general.records: general.nsname serves as the NS.
    assert cfg["zone"]["ns"] == ["auth.example.org."]
    assert cfg["log"]["level"] == "debug"
    # use_header without proxies given: a placeholder (this host), marked.
    assert cfg["http"]["proxy_header"] == "X-Forwarded-For"
    assert cfg["http"]["trusted_proxies"] == ["127.0.0.1/32", "::1/128"]
    assert "CHECK: acme-dns believed the header from any peer" in out
    assert "trusted_proxies is a placeholder" in warnings
    srv = start_converted(make_server, cfg)
    assert answers(srv, ZONE, "A") == ["198.51.100.1"]


@pytest.mark.parametrize("listen,protocol,expect", [
    (":53", "both", ["0.0.0.0:53", "[::]:53"]),
    (":5353", "udp6", ["[::]:5353"]),
    (":53", "tcp4", ["0.0.0.0:53"]),
    ("192.0.2.1:53", "tcp", ["192.0.2.1:53"]),
    ("[2001:db8::1]:53", "both6", ["[2001:db8::1]:53"]),
])
def test_listen_and_protocol(tmp_path, listen, protocol, expect):
    text = (ACMEDNS_EXAMPLE.replace('listen = "127.0.0.1:53"', f'listen = "{listen}"')
            .replace('protocol = "both"', f'protocol = "{protocol}"'))
    cfg, out, _ = converted(tmp_path, text)
    assert cfg["dns"]["listen"] == expect
    check_config(tmp_path, out)


@pytest.mark.parametrize("edit,message", [
    (('tls = "none"', 'tls = "letsencrypt-prod"'),
     "api.tls = 'letsencrypt-prod': unknown value (acme-dns knows none, letsencrypt, "
     "letsencryptstaging, cert)"),
    (('protocol = "both"', 'protocol = "sctp"'), "general.protocol = 'sctp': unknown value"),
    (('loglevel = "info"', 'loglevel = "verbose"'), "logconfig.loglevel = 'verbose': unknown"),
    (('logformat = "json"', 'logformat = "xml"'), "logconfig.logformat = 'xml': unknown"),
    (('engine = "sqlite"', 'engine = "mysql"'), "database.engine = 'mysql': unknown"),
    (('tls = "none"', 'tls = "cert"\ntls_cert_fullchain = ""'),
     None),   # a duplicate key: not valid TOML
    (('port = "443"', 'port = "https"'), "api.port = 'https': expected a port"),
    (('listen = "127.0.0.1:53"', 'listen = "localhost:53"'),
     "general.listen: 'localhost' is not an IP address"),
    (('domain = "auth.example.org"', 'domain = ""'), "general.domain is missing"),
    (("debug = false", "debug = false\ntxt_limit = 100"),
     "general.txt_limit = 100: acmens keeps 1 to 64 values per name"),
    (("use_header = false", "use_header = 1"), "api.use_header: expected true or false"),
])
def test_bad_values_are_refused(tmp_path, edit, message):
    text = ACMEDNS_EXAMPLE.replace(*edit)
    assert text != ACMEDNS_EXAMPLE
    p = convert(write(tmp_path, text))
    assert p.returncode == 3
    assert p.stdout == ""
    assert p.stderr.startswith("acmensctl: ")
    assert (message or "is not valid TOML") in p.stderr, p.stderr


def test_tls_cert_needs_both_files(tmp_path):
    text = (ACMEDNS_EXAMPLE.replace('tls = "none"', 'tls = "cert"')
            .replace('tls_cert_privkey = "/etc/tls/example.org/privkey.pem"\n', ""))
    p = convert(write(tmp_path, text))
    assert p.returncode == 3 and p.stdout == ""
    assert 'api.tls = "cert" needs api.tls_cert_fullchain and api.tls_cert_privkey' in p.stderr


def test_unreadable_input(tmp_path):
    missing = str(tmp_path / "nope.cfg")
    p = convert(missing)
    assert p.returncode == 3 and p.stdout == ""
    assert p.stderr == f"acmensctl: cannot read {missing}: No such file or directory\n"

    bad = write(tmp_path, "[general]\nlisten = 127.0.0.1:53\n")
    p = convert(bad)
    assert p.returncode == 3 and p.stdout == ""
    assert f"acmensctl: {bad} is not valid TOML: " in p.stderr
    assert "line 2" in p.stderr

    binary = tmp_path / "binary.cfg"
    binary.write_bytes(b"[general]\nlisten = \"\xff\xfe\"\n")
    p = convert(str(binary))
    assert p.returncode == 3 and "is not valid TOML" in p.stderr

    p = convert(str(tmp_path))    # a directory
    assert p.returncode == 3 and "cannot read" in p.stderr


def test_unknown_keys_are_named(tmp_path):
    text = ACMEDNS_EXAMPLE + "\n[metrics]\nenabled = true\n"
    text = text.replace("debug = false", "debug = false\ncolour = \"blue\"")
    cfg, out, warnings = converted(tmp_path, text)
    assert "general.colour: not an acme-dns key, not converted" in out
    assert "[metrics]: not an acme-dns section" in out
    assert "general.colour" in warnings and "[metrics]" in warnings
    check_config(tmp_path, out)


def test_usage_and_missing_python(tmp_path):
    p = subprocess.run([ACMENSCTL, "convert-acmedns-config"], capture_output=True, text=True,
                       timeout=30)
    assert p.returncode == 1 and "usage: convert-acmedns-config CONFIG.CFG" in p.stderr
    p = subprocess.run([ACMENSCTL, "convert-acmedns-config", "--help"], capture_output=True,
                       text=True, timeout=30)
    assert p.returncode == 0 and "Python 3.11" in p.stdout
    p = convert(write(tmp_path, ACMEDNS_EXAMPLE), "--bogus")
    assert p.returncode == 1 and p.stdout == ""
    p = convert(write(tmp_path, ACMEDNS_EXAMPLE), env={"ACMENS_PYTHON": str(tmp_path / "py")})
    assert p.returncode == 3 and p.stdout == ""
    assert "reading TOML needs Python 3.11 or newer, not found at" in p.stderr
    p = convert(write(tmp_path, ACMEDNS_EXAMPLE), "--trusted-proxy", "not-a-cidr")
    assert p.returncode == 3 and "--trusted-proxy 'not-a-cidr'" in p.stderr
