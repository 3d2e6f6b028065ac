# SPDX-License-Identifier: ISC
"""make install's files from contrib/extras.am, installed into a DESTDIR
with the install targets automake makes for them: the completion where
bash-completion and zsh look (bash's under the command's own name), the
dashboard and the rules in the package's data directory, each the same
bytes as in the tree."""

import glob
import os
import subprocess

import pytest

from conftest import BUILD, TOP

EXTRAS = {
    "share/bash-completion/completions/acmensctl": "contrib/completion/acmensctl.bash",
    "share/zsh/site-functions/_acmensctl": "contrib/completion/_acmensctl",
    "share/acmens/grafana/acmens.json": "contrib/grafana/acmens.json",
    "share/acmens/prometheus/acmens-rules.yml": "contrib/prometheus/acmens-rules.yml",
    "share/acmens/prometheus/acmens-rules.test.yml": "contrib/prometheus/acmens-rules.test.yml",
}
TARGETS = ["install-bashcompletionDATA", "install-dist_zshcompletionDATA",
           "install-dist_grafanaDATA", "install-dist_prometheusDATA"]


def test_make_installs_them(tmp_path):
    if not os.path.exists(os.path.join(BUILD, "Makefile")):
        pytest.skip(f"no configured build in {BUILD}")
    p = subprocess.run(["make", "-s", "-C", BUILD, f"DESTDIR={tmp_path}", *TARGETS],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    installed = [f for f in glob.glob(f"{tmp_path}/**", recursive=True) if os.path.isfile(f)]
    assert len(installed) == len(EXTRAS), installed
    for dest, source in EXTRAS.items():
        found = [f for f in installed if f.endswith("/" + dest)]
        assert len(found) == 1, (dest, installed)
        with open(found[0], "rb") as a, open(os.path.join(TOP, source), "rb") as b:
            assert a.read() == b.read(), dest
