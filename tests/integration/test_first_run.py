# SPDX-License-Identifier: ISC
"""The README's first ten minutes: every program its shell examples run
is one `scripts/dev run` installs, and the examples themselves (register
and update with curl, read the value with dig) work against a live
acmensd."""

import json
import os
import re
import shutil
import subprocess

from conftest import TOP, register_secrets_in, start_http, value

README = os.path.join(TOP, "README.md")
DEV = os.path.join(TOP, "scripts", "dev")


def first_ten_minutes():
    with open(README) as f:
        text = f.read()
    start = text.index("## The first ten minutes")
    end = text.index("\n## ", start + 1)
    return text[start:end]


def readme_programs():
    """The programs the section's `$ ` command lines run."""
    return {m.group(1) for m in re.finditer(r"^\s*\$ (\S+)", first_ten_minutes(), re.M)}


def dev_pkgs(command):
    p = subprocess.run([DEV, "pkgs", command], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    return set(p.stdout.split())


def owning_package(program):
    path = shutil.which(program)
    assert path, f"{program} is not installed"
    p = subprocess.run(["dpkg-query", "-S", os.path.realpath(path)], capture_output=True,
                       text=True)
    if p.returncode != 0:   # merged /usr: dpkg knows the /bin path
        p = subprocess.run(["dpkg-query", "-S", path], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    return p.stdout.split(":")[0]


def test_dev_run_installs_what_the_readme_runs():
    programs = readme_programs()
    assert {"curl", "dig"} <= programs, programs
    run = dev_pkgs("run")
    assert dev_pkgs("build") < run
    for program in programs:
        assert owning_package(program) in run, program
    with open(README) as f:
        assert "installs `dig` (Debian package `bind9-dnsutils`)" in f.read()


def test_dev_pkgs_refuses_an_unknown_command():
    p = subprocess.run([DEV, "pkgs", "nothing"], capture_output=True, text=True, timeout=30)
    assert p.returncode == 1
    assert "usage: scripts/dev pkgs" in p.stderr


def test_readme_examples_against_acmensd(make_server):
    """Steps 3 and 5, with the README's own commands and the live
    server's ports in place of 8053 and 5353."""
    api = start_http(make_server)
    srv = api.server
    out = subprocess.run(["curl", "-s", "-X", "POST", f"{api.url}/register"],
                         capture_output=True, text=True, timeout=30, check=True).stdout
    acct = json.loads(out)
    register_secrets_in(acct)       # so that the logs are checked for its key
    txt = value(7)
    body = json.dumps({"subdomain": acct["subdomain"], "txt": txt})
    out = subprocess.run(["curl", "-s", "-X", "POST", f"{api.url}/update",
                          "-H", f"X-Api-User: {acct['username']}",
                          "-H", f"X-Api-Key: {acct['password']}", "-d", body],
                         capture_output=True, text=True, timeout=30, check=True).stdout
    assert json.loads(out) == {"txt": txt}
    p = subprocess.run(["dig", "@127.0.0.1", "-p", str(srv.port), acct["fulldomain"], "TXT",
                        "+norec"], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    assert "flags: qr aa;" in p.stdout, p.stdout
    assert re.search(rf'^{re.escape(acct["fulldomain"])}\.\s+1\s+IN\s+TXT\s+"{txt}"$',
                     p.stdout, re.M), p.stdout
