# SPDX-License-Identifier: ISC
"""The Debian package, as an operator gets it. Built once per run (scripts/dev
package, from a copy of the tree, make check included) and checked by
lintian; its contents read without installing (programs, manual pages, the
unit, /etc/acmens/acmens.yaml as a conffile with the store where the unit's
StateDirectory= puts it). Then, where that is safe, installed with dpkg: the
unit passes systemd-analyze verify, the installed acmensd runs from the
installed configuration moved to loopback test ports and a temporary store,
answers DNS and /health, and the package is purged, leaving nothing behind.

Installing touches the machine, so it happens only as root on a machine
without acmens (no package, no /etc/acmens, no /usr/sbin/acmensd);
elsewhere those tests are skipped, saying why. ACMENS_PACKAGE_INSTALL=1
(and CI=true, as CI services set it) turns the skip into a failure;
ACMENS_PACKAGE_INSTALL=0 never installs."""

import glob
import os
import re
import shutil
import subprocess
import sys

import dns.rcode
import pytest
import requests

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
PACKAGE = "acmens"
CONFIG = "/etc/acmens/acmens.yaml"
UNIT = "/lib/systemd/system/acmensd.service"
PROGRAMS = ("/usr/sbin/acmensd", "/usr/sbin/acmensctl")
MANS = ("/usr/share/man/man8/acmensd.8.gz", "/usr/share/man/man8/acmensctl.8.gz",
        "/usr/share/man/man5/acmens.yaml.5.gz")
STORE = "/var/lib/acmens"


# The integration suite's helpers (Server, ZONE): its conftest, as the
# integration and end-to-end tests import it.
sys.path.insert(0, os.path.join(TOP, "tests", "integration"))
import conftest as _ic  # noqa: E402


def run(*argv, timeout=120, check=True):
    p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError(f"{' '.join(argv)}: exit {p.returncode}\n{p.stdout}{p.stderr}")
    return p


# --- the package, built once ------------------------------------------------

@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The directory holding the .deb, build.log and lintian.txt."""
    out = tmp_path_factory.mktemp("deb")
    p = subprocess.run([os.path.join(TOP, "scripts", "dev"), "package", str(out)],
                       cwd=TOP, capture_output=True, text=True, timeout=900)
    assert p.returncode == 0, f"package build failed:\n{p.stdout}{p.stderr}"
    return str(out)


@pytest.fixture(scope="module")
def deb(built):
    debs = glob.glob(os.path.join(built, "acmens_*.deb"))
    assert len(debs) == 1, f"expected one acmens_*.deb in {built}: {os.listdir(built)}"
    return debs[0]


@pytest.fixture(scope="module")
def unpacked(deb, tmp_path_factory):
    root = tmp_path_factory.mktemp("unpacked")
    run("dpkg-deb", "-x", deb, str(root))
    return str(root)


def test_lintian_reports_no_errors(deb):
    changes = glob.glob(os.path.join(os.path.dirname(deb), "acmens_*.changes"))
    p = run("lintian", "--fail-on", "error", *changes, check=False)
    errors = [line for line in p.stdout.splitlines() if line.startswith("E: ")]
    assert p.returncode == 0 and not errors, f"lintian:\n{p.stdout}{p.stderr}"


def test_package_holds_programs_manuals_unit_and_configuration(unpacked):
    for path in PROGRAMS:
        assert os.access(unpacked + path, os.X_OK), path
    for path in MANS + (UNIT, CONFIG, "/usr/share/doc/acmens/copyright"):
        assert os.path.isfile(unpacked + path), path


def test_package_holds_completion_monitoring_and_changelog(unpacked):
    for path in ("/usr/share/bash-completion/completions/acmensctl",
                 "/usr/share/zsh/vendor-completions/_acmensctl",
                 "/usr/share/acmens/grafana/acmens.json",
                 "/usr/share/acmens/prometheus/acmens-rules.yml",
                 "/usr/share/doc/acmens/changelog.gz"):
        assert os.path.isfile(unpacked + path), path
    assert not os.path.exists(unpacked + "/usr/share/zsh/site-functions")


def test_configuration_is_a_conffile(deb, tmp_path):
    run("dpkg-deb", "--control", deb, str(tmp_path))
    with open(tmp_path / "conffiles") as f:
        assert f.read().split() == [CONFIG]


def test_package_depends_on_the_shared_libraries(deb):
    depends = run("dpkg-deb", "--field", deb, "Depends").stdout
    for lib in ("libldns3", "liblmdb0", "libevent-2.1-7", "libssl3"):
        assert lib in depends, depends


def test_unit_runs_the_packaged_daemon_with_the_packaged_configuration(unpacked):
    with open(unpacked + UNIT) as f:
        unit = f.read()
    assert not re.search(r"@[a-z_]+@", unit), "a template variable left unsubstituted"
    assert re.search(r"^ExecStart=/usr/sbin/acmensd -c /etc/acmens/acmens\.yaml$", unit, re.M)
    assert re.search(r"^StateDirectory=acmens$", unit, re.M)


def test_configuration_is_the_example_with_the_store_in_var_lib(unpacked):
    with open(unpacked + CONFIG) as f:
        installed = f.read().splitlines()
    with open(os.path.join(TOP, "contrib", "acmens.example.yaml")) as f:
        example = f.read().splitlines()
    differ = [(a, b) for a, b in zip(example, installed) if a != b]
    assert len(installed) == len(example)
    assert differ == [("  path: ./var", f"  path: {STORE}")]


# --- installed --------------------------------------------------------------

def install_refusal():
    """Why installing here is not safe, or None."""
    if os.geteuid() != 0:
        return "not root"
    status = run("dpkg-query", "-W", "-f", "${Status}", PACKAGE, check=False).stdout
    if "installed" in status and "not-installed" not in status:
        return f"the package {PACKAGE} is installed on this machine ({status})"
    for path in ("/etc/acmens",) + PROGRAMS + (UNIT,):
        if os.path.lexists(path):
            return f"{path} exists on this machine"
    return None


@pytest.fixture(scope="module")
def installed(deb):
    """The package installed with dpkg, purged afterwards."""
    want = os.environ.get("ACMENS_PACKAGE_INSTALL", "")
    if want == "0":
        pytest.skip("ACMENS_PACKAGE_INSTALL=0")
    why = install_refusal()
    if why:
        if want == "1" or os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"cannot install the package: {why}")
        pytest.skip(f"not installing the package: {why}")
    try:
        if run("dpkg", "-i", deb, check=False).returncode != 0:
            # dependencies dpkg could not satisfy by itself
            run("apt-get", "install", "-f", "-y", "-q", timeout=600)
        yield
    finally:
        run("dpkg", "--purge", PACKAGE, check=False)
    for path in ("/etc/acmens",) + PROGRAMS + MANS + (UNIT,):
        assert not os.path.lexists(path), f"{path} left after dpkg --purge"


def test_installed_package_has_its_files(installed):
    status = run("dpkg-query", "-W", "-f", "${Status}|${Conffiles}", PACKAGE).stdout
    assert status.startswith("install ok installed|"), status
    assert CONFIG in status
    for path in PROGRAMS:
        assert os.access(path, os.X_OK), path
    assert run("man", "-w", "acmensd").stdout.strip() == MANS[0]
    with open(CONFIG) as f:
        assert re.search(rf"^  path: {STORE}$", f.read(), re.M)


def test_installed_unit_verifies(installed):
    p = run("systemd-analyze", "verify", UNIT, check=False)
    assert p.returncode == 0, f"systemd-analyze verify {UNIT}:\n{p.stdout}{p.stderr}"
    assert "acmensd.service" not in p.stdout + p.stderr, p.stdout + p.stderr


class InstalledServer(_ic.Server):
    """The installed acmensd, from the installed configuration with only its
    listen addresses and store moved to loopback test ports and a temporary
    directory."""

    acmensd = PROGRAMS[0]

    def __init__(self, tmpdir):
        super().__init__(tmpdir, http={})
        with open(CONFIG) as f:
            text = f.read()
        for pattern, repl in (
                (r"^(dns:\n  listen: ).*$", rf'\1["127.0.0.1:{self.port}", "[::1]:{self.port}"]'),
                (r"^(http:\n  listen: ).*$", rf'\1["127.0.0.1:{self.http_port}"]'),
                (rf"^(store:\n  path: ){re.escape(STORE)}$", rf"\g<1>{self.store}")):
            text, n = re.subn(pattern, repl, text, flags=re.M)
            assert n == 1, f"{pattern} not found once in {CONFIG}"
        with open(self.config, "w") as f:
            f.write(text)


def test_installed_daemon_serves_from_the_installed_configuration(installed, tmp_path):
    shutil.copy(CONFIG, tmp_path / "as-installed.yaml")
    s = InstalledServer(tmp_path)
    ctl = run(PROGRAMS[1], "-c", s.config, "check-config")
    assert ctl.stdout.strip() == "ok", ctl.stdout
    s.start()
    try:
        r = s.query(_ic.ZONE, "SOA")
        assert r.rcode() == dns.rcode.NOERROR and r.answer, r
        r = s.query(_ic.ZONE, "NS", tcp=True)
        assert r.rcode() == dns.rcode.NOERROR
        assert [str(rr.target) for rr in r.answer[0]] == ["ns1.auth.example.org."]
        h = requests.get(s.http_url + "/health", timeout=10)
        assert h.status_code == 200, h.text
    finally:
        assert s.stop() == 0, s.read_log()
    assert os.path.isfile(os.path.join(s.store, "data.mdb"))
    with open(tmp_path / "as-installed.yaml") as a, open(CONFIG) as b:
        assert a.read() == b.read(), "the installed configuration changed"
