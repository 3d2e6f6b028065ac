# SPDX-License-Identifier: ISC
"""Fixtures for the integration suite: a live acmensd on loopback ports chosen
per test, its store in a temporary directory, and acmensctl against the same
configuration. Every process a test starts is stopped by the test."""

import base64
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import threading
import time

import dns.exception
import dns.message
import dns.query
import dns.opcode
import dns.rcode
import dns.rrset
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
BUILD = os.environ.get("ACMENS_BUILD", os.path.join(TOP, "build"))
ACMENSD = os.path.join(BUILD, "src", "acmensd")
ACMENSCTL = os.path.join(BUILD, "cli", "acmensctl")

ZONE = "auth.example.org."

BASE_RECORDS = [
    "ns1.auth.example.org. 3600 IN A 127.0.0.1",
    "ns1.auth.example.org. 3600 IN AAAA ::1",
    'auth.example.org. 3600 IN CAA 0 issue "letsencrypt.org"',
    "auth.example.org. 3600 IN A 192.0.2.1",
    "www.auth.example.org. 300 IN CNAME auth.example.org.",
    "mail.auth.example.org. 300 IN MX 10 ns1.auth.example.org.",
    "host.deep.auth.example.org. 300 IN A 192.0.2.7",
]


# --- secrets that must never reach a log ---------------------------------------
#
# Every API key, admin token and TSIG secret a test hands out or configures
# is registered here by the helper that made it; every acmensd log is
# checked against all of them when its test ends, and once more at the end
# of the session (a later test's daemon must not log an earlier one's key).

SECRETS = set()
ACMENSD_LOGS = []        # the log file of every acmensd started
SECRET_KEYS = ("password", "secret", "token", "admin_token")
SECRET_MIN = 12          # shorter strings would match by chance


def register_secret(text):
    if isinstance(text, str) and len(text) >= SECRET_MIN:
        SECRETS.add(text)


def register_secrets_in(obj):
    """Register the values of secret-bearing keys anywhere in JSON data."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k in SECRET_KEYS:
                register_secret(v)
            else:
                register_secrets_in(v)
    elif isinstance(obj, list):
        for v in obj:
            register_secrets_in(v)


def register_secrets_text(text):
    """TSIG secrets in a YAML configuration or a BIND key file."""
    for m in re.finditer(r'secret:\s*["\']?([A-Za-z0-9+/=_-]+)|secret "([^"]+)"', text):
        register_secret(m.group(1) or m.group(2))


def leaked_secrets(paths):
    """{log path: [secrets found in it]} for the logs that hold any."""
    found = {}
    for path in paths:
        if not os.path.exists(path):
            continue
        with open(path, "rb") as f:
            log = f.read().decode(errors="replace")
        hits = sorted(s for s in SECRETS if s in log)
        if hits:
            found[path] = hits
    return found


@pytest.fixture(autouse=True)
def no_secret_in_logs():
    """Fails the test if a log of an acmensd it started holds a secret.
    Autouse fixtures are set up first, so this runs after the servers'
    own teardown has stopped them."""
    first = len(ACMENSD_LOGS)
    yield
    leaks = leaked_secrets(ACMENSD_LOGS[first:])
    assert not leaks, f"secrets logged: {leaks}"


def pytest_sessionfinish(session, exitstatus):
    leaks = leaked_secrets(sorted(set(ACMENSD_LOGS)))
    if leaks:
        print(f"\nsecrets logged: {leaks}")
        session.exitstatus = 1


def wait_for(pred, timeout, step=0.02):
    """Poll pred until it is true or timeout seconds pass; its last value."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(step)
    return pred()


def free_port():
    """A port free for both UDP and TCP on 127.0.0.1 (and ::1) right now."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
            t.bind(("127.0.0.1", 0))
            port = t.getsockname()[1]
            try:
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                    u.bind(("127.0.0.1", port))
                with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as u6:
                    u6.bind(("::1", port))
                with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as t6:
                    t6.bind(("::1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port")


def yaml_list(items, indent):
    pad = " " * indent
    return "".join(f"{pad}- {json.dumps(i)}\n" for i in items)


def http_section(http, http_port):
    """The http section from a dict (values as JSON, which YAML reads) or
    from YAML text (the section's body); listen defaults to
    127.0.0.1:http_port."""
    if isinstance(http, dict):
        http = dict(http)
        http.setdefault("listen", [f"127.0.0.1:{http_port}"])
        body = "".join(f"  {k}: {json.dumps(v)}\n" for k, v in http.items())
    else:
        body = "".join(f"  {line}\n" for line in http.splitlines() if line.strip())
        if not any(line.strip().startswith("listen:") for line in http.splitlines()):
            body = f'  listen: ["127.0.0.1:{http_port}"]\n' + body
    return "http:\n" + body


def write_config(path, port, store, records=None, extra_dns="", log_level="info",
                 txt_max_values=8, soa_ttl=3600, minimum=60, tcp_max_clients=64,
                 tcp_idle_timeout=3, listen=None, http=None, http_port=None, log_extra=None,
                 rrl="{rate: 0}"):
    """rrl: the dns.rrl mapping as YAML text, None to leave it out (the
    defaults). Off unless a test asks: every client of the suite shares
    127.0.0.0/24, and test_rrl.py is where the limits are tested."""
    records = BASE_RECORDS if records is None else records
    rrl_text = f"  rrl: {rrl}\n" if rrl is not None else ""
    listen = listen or ["127.0.0.1", "[::1]"]
    listen_text = ", ".join(f'"{a}:{port}"' for a in listen)
    text = f"""zone:
  name: {ZONE}
  ns: [ns1.auth.example.org., ns2.example.net.]
  soa:
    rname: hostmaster.example.org.
    refresh: 3600
    retry: 600
    expire: 604800
    minimum: {minimum}
    ttl: {soa_ttl}
  txt_ttl: 1
  txt_max_values: {txt_max_values}
  records:
{yaml_list(records, 4) if records else "    []"}
dns:
  listen: [{listen_text}]
  workers: 2
  tcp_idle_timeout: {tcp_idle_timeout}
  tcp_max_clients: {tcp_max_clients}
{rrl_text}{extra_dns}store:
  path: {store}
log:
  level: {log_level}
"""
    for k, v in (log_extra or {}).items():
        text += f"  {k}: {v}\n"
    if http is not None:
        text += http_section(http, http_port)
    if not records:
        text = text.replace("  records:\n    []\n", "  records: []\n")
    with open(path, "w") as f:
        f.write(text)


class Server:
    """A running acmensd and the means to talk to it."""

    argv_prefix = []    # e.g. ["prlimit", "--nofile=1024", "--"]: run under limits
    acmensd = ACMENSD   # the binary (tests/package runs the installed one)

    def __init__(self, tmpdir, **cfg):
        self.dir = str(tmpdir)
        self.port = free_port()
        self.store = os.path.join(self.dir, "store")
        self.config = os.path.join(self.dir, "acmens.yaml")
        self.log_path = os.path.join(self.dir, "acmensd.log")
        self.cfg = cfg
        self.http_port = free_port() if cfg.get("http") is not None else None
        while self.http_port == self.port:     # the OS may hand out the same port twice
            self.http_port = free_port()
        self.http_url = None
        if self.http_port:
            tls = "tls" in cfg["http"]
            self.http_url = f"{'https' if tls else 'http'}://127.0.0.1:{self.http_port}"
        write_config(self.config, self.port, self.store, http_port=self.http_port, **cfg)
        self.proc = None

    def start(self, wait=True):
        with open(self.config) as f:
            register_secrets_text(f.read())
        ACMENSD_LOGS.append(self.log_path)
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.argv_prefix + [self.acmensd, "-c", self.config],
                                     stdout=self.log,
                                     stderr=subprocess.STDOUT)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=10.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("acmensd exited early:\n" + self.read_log())
            try:
                r = self.query(ZONE, "SOA", timeout=0.2)
                if r.rcode() == dns.rcode.NOERROR and self.http_ready():
                    return
            except (dns.exception.Timeout, OSError):
                pass
            time.sleep(0.05)
        raise RuntimeError("acmensd did not answer:\n" + self.read_log())

    def http_ready(self):
        """The API accepts connections (true when there is none)."""
        if not self.http_port:
            return True
        try:
            socket.create_connection(("127.0.0.1", self.http_port), timeout=0.2).close()
            return True
        except OSError:
            return False

    def read_log(self):
        if not os.path.exists(self.log_path):
            return ""
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def stop(self, sig=signal.SIGTERM, timeout=10.0):
        """Stop the daemon; returns its exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is not None:
            self.log.close()
            return self.proc.returncode
        self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        return self.proc.returncode

    def reconfigure(self, **cfg):
        self.cfg.update(cfg)
        write_config(self.config, self.port, self.store, http_port=self.http_port, **self.cfg)

    # --- DNS ---------------------------------------------------------------
    def query(self, name, rdtype="TXT", tcp=False, timeout=2.0, addr="127.0.0.1", **kw):
        q = dns.message.make_query(name, rdtype, **kw)
        return self.send(q, tcp=tcp, timeout=timeout, addr=addr)

    def send(self, msg, tcp=False, timeout=2.0, addr="127.0.0.1"):
        if tcp:
            return dns.query.tcp(msg, addr, port=self.port, timeout=timeout)
        # A datagram from another port (a NOTIFY or late reply of another
        # server of the run that reused this ephemeral port) is not the
        # answer: wait for the server's own, as a resolver does.
        return dns.query.udp(msg, addr, port=self.port, timeout=timeout,
                             ignore_unexpected=True)

    def send_raw_udp(self, data, timeout=1.0, addr="127.0.0.1"):
        """Send bytes; return the raw reply or None if none came."""
        fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
        with socket.socket(fam, socket.SOCK_DGRAM) as s:
            s.settimeout(timeout)
            s.sendto(data, (addr, self.port))
            try:
                return s.recv(65535)
            except socket.timeout:
                return None

    def tcp_connect(self, addr="127.0.0.1", timeout=2.0):
        """A connected TCP socket to the daemon; the caller closes it."""
        fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect((addr, self.port))
        return s

    def send_raw_tcp(self, data, timeout=1.0, addr="127.0.0.1"):
        """Send one length-prefixed message on a new connection; return the
        raw reply, or None if none came (timeout or connection closed)."""
        with self.tcp_connect(addr, timeout) as s:
            s.sendall(tcp_frame(data))
            try:
                return recv_tcp_msg(s)
            except socket.timeout:
                return None

    def replies_before_probe(self, data, tcp=False, addr="127.0.0.1", timeout=2.0):
        """Send data, then a well-formed SOA query (the probe) on the same
        socket or connection, and return the raw replies that arrived before
        the probe's answer. The daemon handles one socket's packets in order,
        so [] proves that data got no reply, without waiting for a timeout."""
        probe = dns.message.make_query(ZONE, "SOA")
        while len(data) >= 2 and data[:2] == probe.to_wire()[:2]:
            probe.id = (probe.id + 1) & 0xFFFF
        pwire = probe.to_wire()
        fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
        before = []
        if tcp:
            with self.tcp_connect(addr, timeout) as s:
                s.sendall(tcp_frame(data) + tcp_frame(pwire))
                while True:
                    reply = recv_tcp_msg(s)
                    assert reply is not None, "connection closed before the probe's answer"
                    if reply[:2] == pwire[:2]:
                        break
                    before.append(reply)
        else:
            with socket.socket(fam, socket.SOCK_DGRAM) as s:
                s.settimeout(timeout)
                s.sendto(data, (addr, self.port))
                s.sendto(pwire, (addr, self.port))
                while True:
                    reply = s.recv(65535)
                    if reply[:2] == pwire[:2]:
                        break
                    before.append(reply)
        r = dns.message.from_wire(reply)
        assert r.rcode() == dns.rcode.NOERROR and r.answer, "bad answer to the probe"
        return before

    def serial(self):
        """The zone serial, as the apex SOA shows it."""
        r = self.query(ZONE, "SOA")
        return r.answer[0][0].serial

    # --- acmensctl ---------------------------------------------------------
    def ctl(self, *args, check=True, json_out=True):
        cmd = [ACMENSCTL, "-c", self.config] + (["--json"] if json_out else []) + list(args)
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        if check and p.returncode != 0:
            raise RuntimeError(f"{cmd} failed ({p.returncode}): {p.stderr}")
        register_ctl_secrets(p.stdout)
        return p

    def register(self, *allowfrom):
        args = ["account", "register"]
        for a in allowfrom:
            args += ["--allowfrom", a]
        return json.loads(self.ctl(*args).stdout)

    def sanitizer_report(self):
        log = self.read_log()
        for marker in ("ERROR: AddressSanitizer", "runtime error:", "ERROR: LeakSanitizer"):
            if marker in log:
                return log
        return None


def register_ctl_secrets(out):
    """Keys and TSIG secrets in acmensctl output (JSON, or key-file text)."""
    register_secrets_text(out)
    try:
        register_secrets_in(json.loads(out))
    except ValueError:
        pass


def tcp_frame(data):
    """data with its RFC 1035 4.2.2 two-byte length prefix."""
    return struct.pack("!H", len(data)) + data


def recv_exact(sock, n):
    """Exactly n bytes from sock, or None if the peer closed first."""
    buf = b""
    while len(buf) < n:
        try:
            chunk = sock.recv(n - len(buf))
        except ConnectionResetError:
            return None
        if not chunk:
            return None
        buf += chunk
    return buf


def recv_tcp_msg(sock):
    """One length-prefixed message from sock, or None at end of stream."""
    prefix = recv_exact(sock, 2)
    if prefix is None:
        return None
    return recv_exact(sock, struct.unpack("!H", prefix)[0])


def _server_factory(base):
    """make_server's machinery, for fixtures of any scope: returns the
    factory and a function that stops every server it made."""
    servers = []

    def factory(start=True, **cfg):
        sub = base / f"s{len(servers)}"
        sub.mkdir()
        s = Server(sub, **cfg)
        servers.append(s)
        return s.start() if start else s

    def finish():
        for s in servers:
            s.stop()
            report = s.sanitizer_report()
            assert report is None, report

    return factory, finish


@pytest.fixture
def make_server(tmp_path):
    """Factory: make_server(**config) -> started Server; all are stopped and
    checked for sanitizer reports at teardown."""
    factory, finish = _server_factory(tmp_path)
    yield factory
    finish()


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory):
    """One default server for a whole test module, for tests that only need
    their own accounts (much faster than a daemon per test)."""
    factory, finish = _server_factory(tmp_path_factory.mktemp("shared"))
    yield factory()
    finish()


@pytest.fixture
def server(make_server):
    return make_server()


def value(n=0):
    """A 43-character base64url value, as ACME DNS-01 uses, distinct per n."""
    import base64
    import hashlib
    return base64.urlsafe_b64encode(hashlib.sha256(str(n).encode()).digest()).decode().rstrip("=")


# --- the HTTP API -----------------------------------------------------------

ADMIN_TOKEN = "admin-token-" + "x" * 28


def start_http(factory, admin_token=ADMIN_TOKEN, zone=None, **http):
    """A started daemon (from make_server or a _server_factory) with these
    http keys; admin routes on with admin_token in a 0600 file (None: off);
    zone: more write_config keys, e.g. {"txt_max_values": 64}. Returns an
    HttpApi."""
    s = factory(start=False, http=dict(http), **(zone or {}))
    if admin_token is not None:
        path = os.path.join(s.dir, "admin.token")
        with open(path, "w") as f:
            f.write(admin_token + "\n")
        os.chmod(path, 0o600)
        s.reconfigure(http=dict(http, admin_token_file=path))
    s.start()
    return HttpApi(s, admin_token)



def closed_by_reason(url, family, single, headers=None):
    """From GET url/metrics: {reason: count} of the counter family
    `family{reason="..."}`, and the value of the unlabelled metric single
    (None if absent)."""
    import requests
    r = requests.get(url + "/metrics", headers=headers or {}, timeout=10)
    assert r.status_code == 200
    counts, value = {}, None
    pattern = re.compile(re.escape(family) + r'\{reason="(\w+)"\} (\d+)$')
    for line in r.text.splitlines():
        m = pattern.match(line)
        if m:
            counts[m.group(1)] = int(m.group(2))
        elif line.startswith(single + " "):
            value = int(line.split()[1])
    return counts, value

def dns_txt(server, name, tcp=True):
    """(rcode, sorted TXT values) of name (absolute or relative to the zone)."""
    if not name.endswith("."):
        name = f"{name}.{ZONE}" if not name.endswith(ZONE.rstrip(".")) else name + "."
    r = server.query(name, "TXT", tcp=tcp)
    return r.rcode(), sorted(b"".join(rd.strings).decode() for rrset in r.answer for rd in rrset)


def lives(v, seconds):
    """A listed value set to expire in `seconds`: it lives at least that
    long (expires = the second of the request + seconds + 1, since clocks
    read whole seconds), and "set" is the commit's second, maybe one later."""
    return v["expires"] - v["set"] in (seconds, seconds + 1)


class HttpApi:
    """requests against a Server's API: raw calls, accounts, admin."""

    def __init__(self, server, admin_token=None):
        import requests
        self.server = server
        self.url = server.http_url
        self.admin_token = admin_token
        register_secret(admin_token)
        self.session = requests.Session()

    def call(self, method, path, body=None, headers=None, timeout=10):
        """body: dict or list -> JSON; str or bytes -> sent as is."""
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode()
        r = self.session.request(method, self.url + path, data=body,
                                 headers=headers or {}, timeout=timeout)
        try:
            register_secrets_in(r.json())
        except ValueError:
            pass
        return r

    @staticmethod
    def creds(acct, user=None, key=None):
        return {"X-Api-User": acct["username"] if user is None else user,
                "X-Api-Key": acct["password"] if key is None else key}

    def register(self, body=None, path="/v1/register"):
        """A new account (the /v1/register reply) plus "headers" (its creds)."""
        r = self.call("POST", path, body)
        assert r.status_code == 201, r.text
        acct = r.json()
        acct["headers"] = self.creds(acct)
        return acct

    def admin(self, method, path, body=None, token=None):
        token = self.admin_token if token is None else token
        return self.call(method, "/v1/admin" + path, body,
                         {"Authorization": "Bearer " + token})

    def stats(self):
        r = self.admin("GET", "/stats")
        assert r.status_code == 200, r.text
        return r.json()

    def txt(self, acct):
        """The account's values as DNS serves them (sorted), over TCP."""
        rcode, values = dns_txt(self.server, acct["fulldomain"])
        assert rcode == dns.rcode.NOERROR, dns.rcode.to_text(rcode)
        return values


# --- helper daemons ---------------------------------------------------------

class Daemon:
    """A third-party server run in the foreground for a test, its output in
    <dir>/<name>.log. Subclasses write their configuration in __init__ and
    say when they are ready; start() waits for that (bounded) and stops the
    process again if it does not come; stop() always ends it."""

    name = "daemon"

    def __init__(self, tmpdir):
        self.dir = str(tmpdir)
        os.makedirs(self.dir, exist_ok=True)
        self.log_path = os.path.join(self.dir, f"{self.name}.log")
        self.proc = None
        self.log = None

    def argv(self):
        raise NotImplementedError

    def env(self):
        return None

    def ready(self):
        """True once the server answers; may raise (taken as not yet)."""
        raise NotImplementedError

    def start(self, timeout=10.0):
        if self.argv()[0] == ACMENSD:
            ACMENSD_LOGS.append(self.log_path)
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.argv(), stdout=self.log, stderr=subprocess.STDOUT,
                                     env=self.env())
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                self.stop()
                raise RuntimeError(f"{self.name} exited early:\n" + self.read_log())
            try:
                if self.ready():
                    return self
            except Exception:   # not listening yet, timeout, TLS not up...
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{self.name} did not become ready:\n" + self.read_log())

    def read_log(self):
        if not os.path.exists(self.log_path):
            return ""
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def stop(self, timeout=10.0):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.log:
            self.log.close()
            self.log = None


KNOTD = shutil.which("knotd") or "/usr/sbin/knotd"
HAVE_KNOTD = os.access(KNOTD, os.X_OK)


def knot_server_conf(directory, port):
    """The server and log sections of a knotd config on 127.0.0.1:port."""
    return f"""server:
    listen: 127.0.0.1@{port}
    rundir: {directory}
    pidfile: {directory}/knotd.pid
log:
  - target: stderr
    any: info
"""


def unbound_server_conf(directory, addr, port, threads=1):
    """The start of an unbound config's server section: on addr@port, for
    127.0.0.0/8, in the foreground in directory, logging to stderr. The
    callers add their modules and zones."""
    return f"""server:
    interface: {addr}@{port}
    port: {port}
    do-ip6: no
    access-control: 127.0.0.0/8 allow
    username: ""
    chroot: ""
    directory: "{directory}"
    pidfile: "{directory}/unbound.pid"
    use-syslog: no
    logfile: ""
    verbosity: 1
    log-servfail: yes
    num-threads: {threads}
    do-not-query-localhost: no
"""


# --- secondaries of our zone -------------------------------------------------
#
# Knot DNS and NSD transferring the zone from acmensd with TSIG (the key
# xfr-key.), driven by NOTIFY: the end-to-end propagation tests and the soak.

NSD = shutil.which("nsd") or "/usr/sbin/nsd"
HAVE_NSD = os.access(NSD, os.X_OK)
SECONDARY_SECRET = base64.b64encode(b"k" * 32).decode()


def soa_serial(port):
    r = dns.query.udp(dns.message.make_query(ZONE, "SOA"), "127.0.0.1", port=port, timeout=0.5)
    if r.rcode() != dns.rcode.NOERROR or not r.answer:
        return None
    return r.answer[0][0].serial


def nsd_server_conf(directory, port):
    """The server and remote-control sections of an nsd.conf on
    127.0.0.1:port, every file it writes in directory."""
    return f"""server:
    ip-address: 127.0.0.1@{port}
    port: {port}
    zonesdir: "{directory}"
    xfrdfile: "{directory}/xfrd.state"
    xfrdir: "{directory}"
    zonelistfile: "{directory}/zone.list"
    pidfile: "{directory}/nsd.pid"
    database: ""
    username: ""
    chroot: ""
    verbosity: 2
    rrl-ratelimit: 0
    server-count: 1
remote-control:
    control-enable: no
"""


class Secondary(Daemon):
    """A secondary of our zone on 127.0.0.1:port, primary at 127.0.0.1:primary."""

    def __init__(self, tmpdir, port, primary):
        super().__init__(tmpdir)
        self.port = port
        self.primary = primary
        self.write_config()

    def ready(self):
        return soa_serial(self.port) is not None

    def serial(self):
        try:
            return soa_serial(self.port)
        except Exception:   # not answering (yet)
            return None


class KnotSecondary(Secondary):
    name = "knotd"
    extra = ""          # sections before the zone (subclasses: a DNSSEC policy, a module)
    zone_extra = ""     # settings of the zone, indented by four spaces

    def write_config(self):
        self.conf = os.path.join(self.dir, "knot.conf")
        with open(self.conf, "w") as f:
            f.write(knot_server_conf(self.dir, self.port) + f"""key:
  - id: xfr-key
    algorithm: hmac-sha256
    secret: {SECONDARY_SECRET}
remote:
  - id: primary
    address: 127.0.0.1@{self.primary}
    key: xfr-key
acl:
  - id: notify_from_primary
    address: 127.0.0.1
    key: xfr-key
    action: notify
  - id: transfer_to_tests
    address: 127.0.0.1
    key: xfr-key
    action: transfer
database:
    storage: {self.dir}
template:
  - id: default
    storage: {self.dir}
    zonefile-sync: -1
    zonefile-load: none
    journal-content: all
    semantic-checks: off
{self.extra}zone:
  - domain: {ZONE}
    master: primary
    acl: [notify_from_primary, transfer_to_tests]
{self.zone_extra}""")

    def argv(self):
        return [KNOTD, "-c", self.conf, "-s", os.path.join(self.dir, "knot.sock")]


class NsdSecondary(Secondary):
    name = "nsd"

    def write_config(self):
        self.conf = os.path.join(self.dir, "nsd.conf")
        with open(self.conf, "w") as f:
            f.write(nsd_server_conf(self.dir, self.port) + f"""key:
    name: xfr-key
    algorithm: hmac-sha256
    secret: "{SECONDARY_SECRET}"
zone:
    name: {ZONE}
    zonefile: "{self.dir}/zone.db"
    allow-notify: 127.0.0.1 xfr-key
    request-xfr: 127.0.0.1@{self.primary} xfr-key
""")

    def argv(self):
        return [NSD, "-d", "-c", self.conf]


def transfer_config(ports, journal):
    notify = ", ".join(f'"127.0.0.1:{p}"' for p in ports)
    return f"""tsig:
  - {{name: xfr-key., algorithm: hmac-sha256, secret: "{SECONDARY_SECRET}"}}
transfer:
  allow:
    - {{address: 127.0.0.1/32, key: xfr-key.}}
  notify: [{notify}]
  journal:
    max_entries: {journal}
"""


SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)   # Linux's value


class FakeSecondary:
    """A secondary that transfers nothing: on 127.0.0.1 over UDP it
    acknowledges every NOTIFY and answers every SOA query with
    self.serial, which a test sets, and keeps (arrival, "notify" or
    "probe") of each. Arrival times are the kernel's (SO_TIMESTAMPNS,
    time.time()'s clock), so a busy test process does not squeeze two
    messages together."""

    def __init__(self, serial=0):
        self.serial = serial
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.events = []
        self.lock = threading.Lock()
        self.stopped = False
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def receive(self):
        data, anc, _, peer = self.sock.recvmsg(4096, 64)
        arrived = time.time()
        for level, kind, raw in anc:
            if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                sec, nsec = struct.unpack("qq", raw[:16])
                arrived = sec + nsec / 1e9
        return data, arrived, peer

    def serve(self):
        while not self.stopped:
            try:
                data, arrived, peer = self.receive()
                q = dns.message.from_wire(data)
            except (socket.timeout, dns.exception.DNSException):
                continue
            r = dns.message.make_response(q)
            kind = "notify" if q.opcode() == dns.opcode.NOTIFY else "probe"
            if kind == "probe":
                r.answer.append(dns.rrset.from_text(
                    ZONE, 3600, "IN", "SOA",
                    f"ns1.{ZONE} hostmaster.example.org. {self.serial} 3600 600 604800 60"))
            with self.lock:
                self.events.append((arrived, kind))
            self.sock.sendto(r.to_wire(), peer)

    def times(self, kind, since, until):
        """Arrivals of kind in [since, until), in order."""
        with self.lock:
            return sorted(t for t, k in self.events if k == kind and since <= t < until)

    def stop(self):
        self.stopped = True
        self.thread.join()
        self.sock.close()


@pytest.fixture
def fake_secondary():
    s = FakeSecondary()
    yield s
    s.stop()


def update_account(make_server):
    """An acmensd with RFC 2136 updates on, one account and its TSIG key:
    (server, subdomain, key as acmensctl prints it)."""
    srv = make_server(extra_dns="update:\n  enabled: true\n")
    sub = srv.register()["subdomain"]
    key = json.loads(srv.ctl("account", "tsig-key", sub).stdout)
    return srv, sub, key


class Knot(Daemon):
    """knotd on 127.0.0.1 (port picked here), serving one zone from the
    given zone-file text: no NSID, no transfers, no journal, the zone file
    as is. A reference server in the differential test and the customer's
    DNS in end-to-end tests. extra: configuration sections before the zone
    (a DNSSEC policy), zone_extra: settings of the zone, each line indented
    by four spaces (dnssec-signing: on)."""

    name = "knotd"

    def __init__(self, tmpdir, zone_text, zone=ZONE, extra="", zone_extra=""):
        super().__init__(tmpdir)
        self.zone = zone
        self.port = free_port()
        self.zonefile = os.path.join(self.dir, "zone.db")
        self.conf = os.path.join(self.dir, "knot.conf")
        self.sock = os.path.join(self.dir, "knot.sock")
        with open(self.zonefile, "w") as f:
            f.write(zone_text)
        with open(self.conf, "w") as f:
            f.write(knot_server_conf(self.dir, self.port) + f"""database:
    storage: {self.dir}
template:
  - id: default
    storage: {self.dir}
    zonefile-load: whole
    zonefile-sync: -1
    journal-content: none
    semantic-checks: off
{extra}zone:
  - domain: {zone}
    file: {self.zonefile}
{zone_extra}""")

    def argv(self):
        return [KNOTD, "-c", self.conf, "-s", self.sock]

    def ready(self):
        r = dns.query.udp(dns.message.make_query(self.zone, "SOA"), "127.0.0.1",
                          port=self.port, timeout=0.2)
        return r.rcode() == dns.rcode.NOERROR and bool(r.answer)
