# SPDX-License-Identifier: ISC
"""acmensctl check-config against acmensd: for each thing the configuration
names outside itself (TLS certificate and key, admin token file, store
directory, listen addresses, an existing store's zone), check-config exits 3
with the very message acmensd prints when it refuses to start on the same
file, and acmensd stops before it serves (no store made, no port bound)."""

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile

import pytest

from conftest import ACMENSCTL, ACMENSD, ZONE, free_port, wait_for, write_config
from refusal import STORE_ERR, assert_no_sanitizer_report, assert_same_refusal


def openssl_pair(directory, name):
    """A self-signed certificate and its key, as name.crt and name.key."""
    crt, key = os.path.join(directory, name + ".crt"), os.path.join(directory, name + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", crt,
                    "-days", "2", "-subj", "/CN=" + name], check=True, capture_output=True)
    os.chmod(key, 0o600)
    return crt, key


@pytest.fixture
def setup(tmp_path):
    """A directory with two certificate/key pairs and a good admin token,
    and a writer of configurations that use them."""
    d = str(tmp_path)
    a_crt, a_key = openssl_pair(d, "a")
    b_crt, b_key = openssl_pair(d, "b")
    token = os.path.join(d, "admin.token")
    with open(token, "w") as f:
        f.write("check-config-token-0123456789\n")
    os.chmod(token, 0o600)
    store = os.path.join(d, "store")
    http_port = free_port()

    def config(cert=a_crt, key=a_key, admin=token, store_path=store, **kw):
        http = {"admin_token_file": admin}
        if cert:
            http["tls"] = {"cert": cert, "key": key}
        path = os.path.join(d, "acmens.yaml")
        write_config(path, free_port(), store_path, http=http, http_port=http_port, **kw)
        return path

    return {"dir": d, "a": (a_crt, a_key), "b": (b_crt, b_key), "token": token,
            "store": store, "config": config, "http_port": http_port}


def listening(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return True
    except OSError:
        return False


def assert_not_started(s):
    """Refused before the store is opened or a port bound."""
    assert not os.path.exists(s["store"])
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", s["http_port"]))


def test_good_configuration_is_ok_and_serves(setup):
    """The baseline the refusals below depart from: ok, and acmensd starts."""
    cfg = setup["config"]()
    p = subprocess.run([ACMENSCTL, "-c", cfg, "check-config"], capture_output=True, text=True)
    assert (p.returncode, p.stdout, p.stderr) == (0, "ok\n", "")
    assert not os.path.exists(setup["store"]), "check-config left the store directory behind"
    d = subprocess.Popen([ACMENSD, "-c", cfg], stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
    try:
        assert wait_for(lambda: listening(setup["http_port"]) or d.poll() is not None, 10)
        assert d.poll() is None, d.stderr.read()
    finally:
        d.terminate()
        d.wait(10)
    assert_no_sanitizer_report(d.stderr.read())


@pytest.mark.parametrize("option,key", [
    ("cert", "http.tls.cert"), ("key", "http.tls.key"), ("admin", "http.admin_token_file"),
])
def test_missing_file(setup, option, key):
    missing = os.path.join(setup["dir"], "nope." + option)
    msg = assert_same_refusal(setup["config"](**{option: missing}),
                              f"{key} {missing}: no such file or directory")
    path = os.path.join(setup["dir"], "acmens.yaml")
    m = re.match(re.escape(path) + r":(\d+): ", msg)
    assert m, msg       # the file and the line the setting is written on
    with open(path) as f:
        written = f.read().splitlines()[int(m.group(1)) - 1]
    last = re.escape(key.rsplit(".", 1)[1])
    assert re.search(r'(^|[\s{,])"?' + last + r'"?\s*:', written), (written, msg)
    if option != "admin":
        assert msg.endswith(")") and " (OpenSSL: error:" in msg, msg
    assert_not_started(setup)


def test_key_of_another_certificate(setup):
    _, b_key = setup["b"]
    assert_same_refusal(setup["config"](key=b_key),
                        f"http.tls.key {b_key}: the key does not match the certificate "
                        "(OpenSSL: error:")
    assert_not_started(setup)


@pytest.mark.parametrize("which,want", [
    ("cert", "wrong format: expected PEM certificates"),
    ("key", "wrong format: expected a PEM private key"),
])
def test_wrong_format(setup, which, want):
    """A key where the certificate belongs, and the certificate where the key
    does."""
    a_crt, a_key = setup["a"]
    cfg = setup["config"](cert=a_key, key=a_key) if which == "cert" else \
        setup["config"](cert=a_crt, key=a_crt)
    assert_same_refusal(cfg, f"http.tls.{which} " + (a_key if which == "cert" else a_crt)
                        + ": " + want)
    assert_not_started(setup)


def test_certificate_is_a_directory(setup):
    assert_same_refusal(setup["config"](cert=setup["dir"]),
                        f"http.tls.cert {setup['dir']}: a directory, not a file")


def test_world_readable_token_file(setup):
    os.chmod(setup["token"], 0o644)
    assert_same_refusal(setup["config"](),
                        f"http.admin_token_file {setup['token']}: readable by every user "
                        "(mode 0644)")
    assert_not_started(setup)


def test_group_readable_token_file_is_accepted(setup):
    os.chmod(setup["token"], 0o640)
    p = subprocess.run([ACMENSCTL, "-c", setup["config"](), "check-config"],
                       capture_output=True, text=True)
    assert (p.returncode, p.stdout) == (0, "ok\n"), p.stderr


def test_empty_token_file(setup):
    open(setup["token"], "w").close()
    assert_same_refusal(setup["config"](),
                        f"http.admin_token_file {setup['token']}: the file is empty")


@pytest.fixture
def other_user():
    """A command prefix that runs a program as a user who is not the owner
    of files made here (root reads everything), and a directory that user
    can see into."""
    d = tempfile.mkdtemp(prefix="acmens-perm-")
    os.chmod(d, 0o755)
    prefix = []
    if os.geteuid() == 0:
        if not shutil.which("setpriv"):
            pytest.fail("setpriv is needed to drop root for the permission tests")
        prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    yield d, prefix
    shutil.rmtree(d)


def test_unreadable_token_file(setup, other_user):
    d, prefix = other_user
    token = os.path.join(d, "admin.token")
    with open(token, "w") as f:
        f.write("check-config-token-0123456789\n")
    os.chmod(token, 0o600 if prefix else 0o000)
    cfg = os.path.join(d, "acmens.yaml")
    write_config(cfg, free_port(), os.path.join(d, "store"),
                 http={"admin_token_file": token}, http_port=free_port())
    os.chmod(cfg, 0o644)
    assert_same_refusal(cfg, f"http.admin_token_file {token}: permission denied", prefix)
    assert not os.path.exists(os.path.join(d, "store"))


def test_unwritable_store_directory(setup, other_user):
    d, prefix = other_user
    store = os.path.join(d, "store")
    os.mkdir(store, 0o755 if prefix else 0o555)
    cfg = os.path.join(d, "acmens.yaml")
    write_config(cfg, free_port(), store)
    os.chmod(cfg, 0o644)
    assert_same_refusal(cfg, f"store.path {store}: cannot write in the directory: "
                        "permission denied", prefix)
    assert os.listdir(store) == []


def test_store_in_proc(setup):
    cfg = setup["config"](store_path="/proc/nope")
    assert_same_refusal(cfg, "store.path /proc/nope: cannot create directory /proc/nope: "
                        "no such file or directory")
    assert not os.path.exists("/proc/nope")


def test_store_path_is_a_file(setup):
    a_crt, _ = setup["a"]
    assert_same_refusal(setup["config"](store_path=a_crt), f"store.path {a_crt}: not a directory")


def test_store_made_and_removed_by_check(setup):
    """A missing store several levels deep can be made: check-config says ok
    and leaves nothing behind."""
    deep = os.path.join(setup["dir"], "x", "y", "store")
    p = subprocess.run([ACMENSCTL, "-c", setup["config"](store_path=deep), "check-config"],
                       capture_output=True, text=True)
    assert (p.returncode, p.stdout) == (0, "ok\n"), p.stderr
    assert not os.path.exists(os.path.join(setup["dir"], "x"))


@pytest.mark.parametrize("address,want", [
    ("127.0.0.1:99999", 'invalid port in "127.0.0.1:99999"'),
    ("localhost:53", 'invalid address "localhost:53"'),
    ("[::1", 'invalid address "[::1"'),
])
def test_bad_listen_address(setup, address, want):
    cfg = setup["config"]()
    text = open(cfg).read()
    text = re.sub(r"(?m)^  listen: \[.*\]$", f'  listen: ["{address}"]', text, count=1)
    open(cfg, "w").write(text)
    line = text.splitlines().index(f'  listen: ["{address}"]') + 1
    msg = assert_same_refusal(cfg, f"{cfg}:{line}: dns.listen: {want}")
    assert msg.startswith(f"{cfg}:{line}: "), msg
    assert_not_started(setup)


def test_store_of_another_zone(setup):
    """A store made for one zone, opened with another zone.name: both name
    the store, its zone and the configured one."""
    cfg = setup["config"](records=[])
    p = subprocess.run([ACMENSCTL, "-c", cfg, "account", "register"], capture_output=True,
                       text=True)
    assert p.returncode == 0, p.stderr
    text = open(cfg).read().replace(f"name: {ZONE}", "name: other.example.org.", 1)
    open(cfg, "w").write(text)
    assert_same_refusal(cfg, f"the store in {setup['store']} belongs to zone {ZONE}, "
                        "but zone.name is other.example.org.")


def test_token_mode_is_checked_on_reload_too(setup):
    """The daemon's rule holds on SIGHUP: a token file made readable by every
    user fails the reload, with the message check-config gives, and the
    daemon goes on serving."""
    cfg = setup["config"](cert=None)
    log_path = os.path.join(setup["dir"], "acmensd.log")

    def log():
        with open(log_path) as f:
            return f.read()

    with open(log_path, "w") as out:
        d = subprocess.Popen([ACMENSD, "-c", cfg], stdout=out, stderr=subprocess.STDOUT)
    try:
        assert wait_for(lambda: listening(setup["http_port"]) or d.poll() is not None, 10)
        assert d.poll() is None, log()
        os.chmod(setup["token"], 0o604)
        ctl = subprocess.run([ACMENSCTL, "-c", cfg, "check-config"], capture_output=True,
                             text=True)
        assert ctl.returncode == STORE_ERR
        d.send_signal(signal.SIGHUP)
        assert wait_for(lambda: "reload failed" in log(), 10), log()
        assert d.poll() is None and listening(setup["http_port"])
    finally:
        d.terminate()
        d.wait(10)
    assert_no_sanitizer_report(log())
    why = f"http.admin_token_file {setup['token']}: readable by every user (mode 0604)"
    assert why in ctl.stderr and why in log(), (ctl.stderr, log())
