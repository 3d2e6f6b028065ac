# SPDX-License-Identifier: ISC
"""CHANGELOG.md: its newest release is the version configure.ac builds, the
one acmensd, acmensctl and /metrics report, and the tarball carries it."""

import os
import re
import subprocess

from conftest import ACMENSCTL, ACMENSD, TOP, start_http

CHANGELOG = os.path.join(TOP, "CHANGELOG.md")


def releases():
    with open(CHANGELOG) as f:
        return re.findall(r"^## \[?(\d+\.\d+\.\d+)\]?", f.read(), re.M)


def configure_version():
    with open(os.path.join(TOP, "configure.ac")) as f:
        return re.search(r"AC_INIT\(\[acmens\], \[([^]]+)\]", f.read()).group(1)


def test_newest_release_is_the_version_built(make_server):
    versions = releases()
    assert versions and versions[0] == configure_version(), versions
    assert versions == sorted(versions, key=lambda v: tuple(map(int, v.split("."))),
                              reverse=True)
    for prog in (ACMENSD, ACMENSCTL):
        out = subprocess.run([prog, "--version"], capture_output=True, text=True,
                             check=True).stdout
        assert out.split() == [os.path.basename(prog), versions[0]]
    api = start_http(make_server)
    text = api.call("GET", "/metrics").text
    assert f'acmens_build_info{{version="{versions[0]}"}} 1' in text


def test_sections():
    with open(CHANGELOG) as f:
        text = f.read()
    assert text.startswith("# Changelog\n")
    assert "## Unreleased" in text
    for heading in re.findall(r"^### (.*)$", text, re.M):
        assert heading in ("Added", "Changed", "Deprecated", "Removed", "Fixed", "Security")


def test_in_the_tarball():
    with open(os.path.join(TOP, "Makefile.am")) as f:
        assert re.search(r"^EXTRA_DIST \+= .*\bCHANGELOG\.md\b", f.read(), re.M)
