#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""acmensctl convert-acmedns-config: an acme-dns config.cfg (TOML) as an
acmens.yaml on standard output.

Every acme-dns key is either mapped to its acmens key or named in a YAML
comment saying why it has none. acmensctl runs this file with Python 3.11
or newer, whose standard tomllib reads TOML: no C TOML parser is packaged
in Debian 12, and a one-off migration step does not justify a new build
dependency.

Exit codes as acmensctl's: 0 converted, 1 bad command line, 3 the input
cannot be read, is not TOML, or holds a value acmens cannot express."""

import argparse
import ipaddress
import json
import re
import sys

try:
    import tomllib
except ImportError:   # Python before 3.11
    sys.stderr.write("acmensctl: convert-acmedns-config needs Python 3.11 or newer "
                     f"(for tomllib); this is Python {sys.version.split()[0]}\n")
    sys.exit(3)

EXIT_USAGE = 1
EXIT_INPUT = 3

PROTOCOLS = ("both", "both4", "both6", "udp", "udp4", "udp6", "tcp", "tcp4", "tcp6")
TLS_MODES = ("none", "letsencrypt", "letsencryptstaging", "cert")
LOG_LEVELS = ("error", "warning", "info", "debug")
LOG_FORMATS = {"json": "json", "text": "logfmt"}
LOG_TYPES = ("stdout", "file")
ENGINES = ("sqlite", "sqlite3", "postgres")
# Record types whose RDATA holds a name, and the field that is the name:
# acme-dns reads records with "." as origin, so such names are absolute
# even without the final dot, while acmens reads them relative to the zone.
NAME_FIELDS = {"NS": 0, "CNAME": 0, "PTR": 0, "DNAME": 0, "MX": 1, "SRV": 3}
TXT_LIMIT_MAX = 64

# The keys acme-dns reads (config.cfg and its config structure), by section.
KNOWN = {
    "general": ("listen", "protocol", "domain", "nsname", "nsadmin", "records", "debug",
                "txt_limit"),
    "database": ("engine", "connection"),
    "api": ("api_domain", "ip", "disable_registration", "autocert_port", "port", "tls",
            "tls_cert_privkey", "tls_cert_fullchain", "acme_cache_dir", "notification_email",
            "corsorigins", "use_header", "header_name", "hsts_enabled", "hsts_max_age",
            "hsts_include_subdomains", "hsts_preload"),
    "logconfig": ("loglevel", "logtype", "logfile", "logformat"),
}

DOCS = "docs/migrating-from-acme-dns.md"


class ConvertError(Exception):
    """A value acmens cannot express; the message names the key."""


class Plain(str):
    """A word written unquoted: acmens reads a quoted scalar as a string, and
    keywords (log levels) must be plain."""


def q(v):
    """A YAML scalar: JSON's double-quoted strings are valid YAML."""
    if isinstance(v, Plain):
        return str(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    return json.dumps(str(v))


class Out:
    """The YAML text, line by line, with comments where a key has no
    counterpart; warnings go to stderr as well, once."""

    def __init__(self):
        self.lines = []
        self.warnings = []

    def comment(self, indent, text):
        for line in text.split("\n"):
            self.lines.append(" " * indent + ("# " + line if line else "#"))

    def key(self, indent, name, value=None):
        self.lines.append(" " * indent + name + ":" + ("" if value is None else " " + q(value)))

    def items(self, indent, values):
        for v in values:
            self.lines.append(" " * indent + "- " + q(v))

    def seq(self, indent, source, name, values):
        """A list key, after a comment naming the acme-dns keys it came from."""
        self.comment(indent, source)
        self.key(indent, name)
        self.items(indent + 2, values)

    def warn(self, text):
        self.warnings.append(text)

    def text(self):
        return "\n".join(self.lines) + "\n"


def section(cfg, name):
    """A section's keys, lowercased: acme-dns's TOML decoder matches keys to
    its fields without regard to case."""
    sec = cfg.get(name, {})
    if not isinstance(sec, dict):
        raise ConvertError(f"[{name}] must be a table")
    return {k.lower(): v for k, v in sec.items()}


def get_str(sec, sname, key, default=""):
    v = sec.get(key, default)
    if isinstance(v, int) and not isinstance(v, bool) and key in ("port", "autocert_port"):
        v = str(v)
    if not isinstance(v, str):
        raise ConvertError(f"{sname}.{key}: expected a string, found {v!r}")
    return v


def get_bool(sec, sname, key):
    v = sec.get(key, False)
    if not isinstance(v, bool):
        raise ConvertError(f"{sname}.{key}: expected true or false, found {v!r}")
    return v


def get_list(sec, sname, key):
    v = sec.get(key, [])
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise ConvertError(f"{sname}.{key}: expected a list of strings")
    return v


def choice(value, allowed, what):
    if value.lower() not in allowed:
        raise ConvertError(f"{what} = {value!r}: unknown value (acme-dns knows "
                           + ", ".join(allowed) + ")")
    return value.lower()


def absolute(name):
    return name if name.endswith(".") else name + "."


def in_zone(name, zone):
    n, z = name.lower().rstrip("."), zone.lower().rstrip(".")
    return n == z or n.endswith("." + z)


def address(host, what):
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        raise ConvertError(f"{what}: {host!r} is not an IP address (acmens listens on "
                           "addresses, not host names)") from None


def hostport(addr, port):
    return f"[{addr}]:{port}" if addr.version == 6 else f"{addr}:{port}"


def listen_addresses(host, port, family, what):
    """Go's "HOST:PORT" with an empty HOST means every address; family 4 or 6
    narrows that, None keeps both."""
    if host == "":
        wild = {4: ["0.0.0.0"], 6: ["::"], None: ["0.0.0.0", "::"]}[family]
        return [hostport(ipaddress.ip_address(w), port) for w in wild]
    return [hostport(address(host, what), port)]


# owner, then TTL and class in either order, then the type and the RDATA.
RECORD_RE = re.compile(r"^\s*(\S+)((?:\s+(?:\d+|IN|CH|HS|CS|CLASS\d+))*)"
                       r"\s+([A-Za-z][A-Za-z0-9]*)\b\s*(.*?)\s*$", re.IGNORECASE)


def split_record(text):
    """(owner, ttl and class words, TYPE, rdata) of a zone-file line, or None."""
    m = RECORD_RE.match(text)
    if not m:
        return None
    owner, mid, rtype, rdata = m.groups()
    return owner, mid.strip(), rtype.upper(), rdata


def absolute_rdata(rtype, rdata):
    idx = NAME_FIELDS.get(rtype)
    fields = rdata.split()
    if idx is None or idx >= len(fields) or fields[idx].endswith("."):
        return rdata
    fields[idx] = absolute(fields[idx])
    return " ".join(fields)


def convert_records(records, zone):
    """acme-dns's general.records: NS lines at the apex become zone.ns, the
    rest zone.records; what acmens cannot serve is returned with the reason
    to leave it out."""
    ns, keep, dropped = [], [], []
    for text in records:
        parts = split_record(text)
        if parts is None:
            keep.append(text)   # acmensd's own check names what is wrong with it
            continue
        owner, mid, rtype, rdata = parts
        owner = absolute(owner)
        rdata = absolute_rdata(rtype, rdata)
        line = " ".join(p for p in (owner, mid, rtype, rdata) if p)
        if not in_zone(owner, zone):
            dropped.append((text, f"outside the zone {zone}: acmens answers only names in "
                                  "zone.name; serve it from the zone that holds it"))
        elif rtype == "NS" and owner.lower() == zone.lower():
            target = rdata.split()[0] if rdata.split() else ""
            if target.lower() not in (n.lower() for n in ns):
                ns.append(target)
        elif rtype == "NS":
            dropped.append((text, "a delegation below the apex: acmens serves one zone "
                                  "with no delegations"))
        elif rtype == "SOA":
            dropped.append((text, "acmens makes the SOA from general.nsname and "
                                  "general.nsadmin (zone.soa)"))
        else:
            keep.append(line)
    return ns, keep, dropped


def convert_general(out, gen, api):
    domain = get_str(gen, "general", "domain")
    if not domain:
        raise ConvertError("general.domain is missing: acmens needs the zone's name")
    zone = absolute(domain)
    nsname = get_str(gen, "general", "nsname")
    nsadmin = get_str(gen, "general", "nsadmin")
    records = get_list(gen, "general", "records")
    ns, keep, dropped = convert_records(records, zone)

    out.key(0, "zone")
    out.comment(2, "general.domain")
    out.key(2, "name", zone)
    if ns:
        out.seq(2, "general.records: the NS records at the apex", "ns", ns)
    else:
        if not nsname:
            raise ConvertError("general.records has no NS record for the apex and "
                               "general.nsname is missing: acmens needs zone.ns")
        out.seq(2, "general.records has no NS record for the apex; acmens needs one:\n"
                   "general.nsname", "ns", [absolute(nsname)])
    if nsname or nsadmin:
        out.key(2, "soa")
        if nsname:
            out.comment(4, "general.nsname")
            out.key(4, "mname", absolute(nsname))
        if nsadmin:
            rname = nsadmin.replace("@", ".", 1)
            out.comment(4, "general.nsadmin" + (" ('@' written as '.')" if rname != nsadmin
                                               else ""))
            out.key(4, "rname", absolute(rname))
    out.comment(2, "TXT values are served with TTL 1, as acme-dns serves them.")
    out.key(2, "txt_ttl", 1)
    if keep:
        out.seq(2, "general.records (owners and names absolute, as acme-dns read them)",
                "records", keep)
    for text, why in dropped:
        out.comment(2, f"general.records {text!r} is left out: {why}")
        out.warn(f"general.records {text!r} left out: {why}")

    convert_dns_listen(out, gen)


def convert_dns_listen(out, gen):
    listen = get_str(gen, "general", "listen")
    proto = choice(get_str(gen, "general", "protocol", "both") or "both", PROTOCOLS,
                   "general.protocol")
    if not listen or ":" not in listen:
        raise ConvertError(f"general.listen = {listen!r}: expected HOST:PORT")
    host, port = listen.rsplit(":", 1)
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ConvertError(f"general.listen = {listen!r}: the port must be 1 to 65535")
    family = 4 if proto.endswith("4") else 6 if proto.endswith("6") else None
    out.key(0, "dns")
    why = f"general.listen = {listen!r}, general.protocol = {proto!r}"
    if not proto.startswith("both"):
        why += (f"\nacme-dns answered over {proto[:3].upper()} only; acmens serves UDP and "
                "TCP on every address")
    out.seq(2, why, "listen", listen_addresses(host, port, family, "general.listen"))


def convert_api(out, api, gen, trusted):
    ip = get_str(api, "api", "ip")
    port = get_str(api, "api", "port")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ConvertError(f"api.port = {port!r}: expected a port from 1 to 65535")
    tls = choice(get_str(api, "api", "tls", "none") or "none", TLS_MODES, "api.tls")

    out.key(0, "http")
    out.seq(2, f"api.ip = {ip!r}, api.port = {port!r}", "listen",
            listen_addresses(ip, port, None, "api.ip"))

    if tls == "cert":
        cert = get_str(api, "api", "tls_cert_fullchain")
        key = get_str(api, "api", "tls_cert_privkey")
        if not cert or not key:
            raise ConvertError('api.tls = "cert" needs api.tls_cert_fullchain and '
                               "api.tls_cert_privkey")
        out.comment(2, 'api.tls = "cert": api.tls_cert_fullchain, api.tls_cert_privkey\n'
                       "(acmensd must be able to read both)")
        out.key(2, "tls")
        out.key(4, "cert", cert)
        out.key(4, "key", key)
    elif tls == "none":
        out.comment(2, 'api.tls = "none": plain HTTP, as before')
    else:
        out.comment(2, f'api.tls = "{tls}" has no counterpart: acme-dns fetched the API\'s '
                       "certificate\n"
                       "from Let's Encrypt itself. acmens gets it through itself instead: an "
                       "account\n"
                       "with the label api (acmensctl account register --subdomain api) and "
                       "certbot\n"
                       f"or lego with the hook in contrib/, by DNS-01; see {DOCS}.\n"
                       "CHECK: until the certificate is there the API speaks plain HTTP; then "
                       "set\n"
                       "tls and restart acmensd.")
        out.comment(2, "tls:\n  cert: /etc/acmens/tls/fullchain.pem\n"
                       "  key: /etc/acmens/tls/privkey.pem")
        out.warn(f'api.tls = "{tls}": the API speaks plain HTTP until http.tls is set '
                 f"({DOCS})")
    for k, why in (("api_domain", "the name of acme-dns's own Let's Encrypt certificate"),
                   ("autocert_port", "acme-dns's HTTP-01 listener for its own certificate"),
                   ("acme_cache_dir", "where acme-dns kept its own certificate"),
                   ("notification_email", "Let's Encrypt's expiry mails for acme-dns's "
                                          "certificate")):
        if k in api:
            out.comment(2, f"api.{k} = {api[k]!r}: not needed ({why})")
    if tls != "cert":
        for k in ("tls_cert_fullchain", "tls_cert_privkey"):
            if k in api:
                out.comment(2, f"api.{k} = {api[k]!r}: unused with api.tls = {tls!r}")

    out.comment(2, "api.disable_registration")
    out.key(2, "disable_registration", get_bool(api, "api", "disable_registration"))

    origins = get_list(api, "api", "corsorigins")
    if origins:
        out.seq(2, "api.corsorigins", "cors_origins", origins)

    convert_proxy(out, api, trusted)

    out.comment(2, "acme-dns kept the two newest values per name (general.txt_limit)")
    limit = gen.get("txt_limit", 2)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= TXT_LIMIT_MAX:
        raise ConvertError(f"general.txt_limit = {limit!r}: acmens keeps 1 to "
                           f"{TXT_LIMIT_MAX} values per name")
    out.key(2, "txt_limit", limit)
    out.comment(2, "acme-dns kept a value until it was replaced; acmens lets values set\n"
                   "through /update expire after http.txt_expiry (default 7 days; 0 = never)")

    hsts = [k for k in KNOWN["api"] if k.startswith("hsts_") and k in api]
    if hsts:
        out.comment(2, ", ".join(f"api.{k} = {api[k]!r}" for k in hsts)
                       + ": no counterpart,\nacmens sends no Strict-Transport-Security "
                         "header; a proxy in front can add it")


def convert_proxy(out, api, trusted):
    header = get_str(api, "api", "header_name")
    if not get_bool(api, "api", "use_header"):
        if header:
            out.comment(2, f"api.header_name = {header!r}: unused, api.use_header is false")
        return
    header = header or "X-Forwarded-For"
    out.comment(2, "api.use_header = true, api.header_name")
    out.key(2, "proxy_header", header)
    if trusted:
        out.seq(2, "--trusted-proxy: the proxies whose header is believed",
                "trusted_proxies", trusted)
        return
    out.seq(2, "CHECK: acme-dns believed the header from any peer; acmens believes it only\n"
               "from http.trusted_proxies (required with proxy_header). The placeholder below\n"
               "is a proxy on this host; put your proxies' addresses here (or rerun with\n"
               "--trusted-proxy CIDR). See docs/api.md, \"Behind a proxy\".",
            "trusted_proxies", ["127.0.0.1/32", "::1/128"])
    out.warn("api.use_header = true: http.trusted_proxies is a placeholder (this host); "
             "put your proxies' addresses there")


def redact(conn):
    """A connection URL without its password, fit for a comment."""
    return re.sub(r"^(\w+://[^:/@]*:)[^@]*@", r"\1****@", conn)


def convert_database(out, db):
    engine = get_str(db, "database", "engine")
    conn = get_str(db, "database", "connection")
    out.key(0, "store")
    out.comment(2, "acmens keeps accounts and values in its own store (LMDB).")
    if engine or conn:
        engine = choice(engine, ENGINES, "database.engine") if engine else "?"
        out.comment(2, f"database.engine = {engine!r}, database.connection = "
                       f"{redact(conn)!r}:\ncopy the accounts in with\n"
                       f"  acmensctl -c acmens.yaml import-acmedns {redact(conn)}")
    out.key(2, "path", "/var/lib/acmens")


def convert_log(out, log, gen):
    debug = get_bool(gen, "general", "debug")
    level = choice(get_str(log, "logconfig", "loglevel", "info") or "info", LOG_LEVELS,
                   "logconfig.loglevel")
    fmt = choice(get_str(log, "logconfig", "logformat", "text") or "text",
                 tuple(LOG_FORMATS), "logconfig.logformat")
    ltype = choice(get_str(log, "logconfig", "logtype", "stdout") or "stdout", LOG_TYPES,
                   "logconfig.logtype")
    out.key(0, "log")
    if debug and level != "debug":
        out.comment(2, f"logconfig.loglevel = {level!r}, raised by general.debug = true")
        level = "debug"
    else:
        out.comment(2, "logconfig.loglevel" + (", general.debug" if debug else ""))
    out.key(2, "level", Plain(level))
    out.comment(2, f"logconfig.logformat = {fmt!r}")
    out.key(2, "format", Plain(LOG_FORMATS[fmt]))
    if ltype == "file":
        out.comment(2, f"logconfig.logtype = \"file\", logconfig.logfile = "
                       f"{log.get('logfile', '')!r}: no counterpart,\n"
                       "acmens writes to standard error (journald keeps it) or to syslog")
    else:
        out.comment(2, "logconfig.logtype = \"stdout\": acmens writes to standard error")
        if "logfile" in log:
            out.comment(2, f"logconfig.logfile = {log['logfile']!r}: unused with stdout")
    out.key(2, "target", Plain("stderr"))


def unknown_keys(out, cfg):
    for sname, sec in cfg.items():
        if sname.lower() not in KNOWN:
            out.comment(0, f"[{sname}]: not an acme-dns section, not converted")
            out.warn(f"[{sname}] is not an acme-dns section; not converted")
            continue
        for k in sec if isinstance(sec, dict) else ():
            if k.lower() not in KNOWN[sname.lower()]:
                out.comment(0, f"{sname}.{k}: not an acme-dns key, not converted")
                out.warn(f"{sname}.{k} is not an acme-dns key; not converted")


def convert(cfg, source, trusted):
    for t in trusted:
        try:
            ipaddress.ip_network(t)
        except ValueError:
            raise ConvertError(f"--trusted-proxy {t!r}: expected an address or a "
                               "CIDR range with host bits zero") from None
    out = Out()
    out.comment(0, f"acmens.yaml converted from {source} by acmensctl "
                   "convert-acmedns-config.\n"
                   "Every key: docs/configuration.md. Read the lines marked CHECK.")
    low = {k.lower(): v for k, v in cfg.items()}
    gen = section(low, "general")
    api = section(low, "api")
    convert_general(out, gen, api)
    convert_api(out, api, gen, trusted)
    convert_database(out, section(low, "database"))
    convert_log(out, section(low, "logconfig"), gen)
    unknown_keys(out, cfg)
    return out


def main(argv):
    p = argparse.ArgumentParser(
        prog="acmensctl convert-acmedns-config",
        description="Print an acme-dns config.cfg as an acmens.yaml.")
    p.add_argument("config", metavar="CONFIG.CFG", help="acme-dns's configuration (TOML)")
    p.add_argument("--trusted-proxy", action="append", default=[], metavar="CIDR",
                   help="a proxy whose api.header_name is believed (repeatable)")
    try:
        args = p.parse_args(argv)
    except SystemExit as e:
        return EXIT_USAGE if e.code else 0
    try:
        with open(args.config, "rb") as f:
            cfg = tomllib.load(f)
    except OSError as e:
        sys.stderr.write(f"acmensctl: cannot read {args.config}: {e.strerror}\n")
        return EXIT_INPUT
    except tomllib.TOMLDecodeError as e:
        sys.stderr.write(f"acmensctl: {args.config} is not valid TOML: {e}\n")
        return EXIT_INPUT
    except UnicodeDecodeError:
        sys.stderr.write(f"acmensctl: {args.config} is not valid TOML: not UTF-8\n")
        return EXIT_INPUT
    try:
        out = convert(cfg, args.config, args.trusted_proxy)
    except ConvertError as e:
        sys.stderr.write(f"acmensctl: {args.config}: {e}\n")
        return EXIT_INPUT
    sys.stdout.write(out.text())
    for w in out.warnings:
        sys.stderr.write(f"acmensctl: warning: {w}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
