# SPDX-License-Identifier: ISC
"""The soak (tests/soak/test_soak.py) in brief, so the default suite runs
its machinery: two rounds of one second of mixed load, kill -9, restart,
and every check of a full round (no acknowledged write lost, the journal's
IXFR equals the AXFR, the Knot secondary converges)."""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "soak"))

from conftest import HAVE_KNOTD  # noqa: E402
from test_soak import run_soak  # noqa: E402

pytestmark = pytest.mark.skipif(not HAVE_KNOTD, reason="knotd not installed")


def test_soak_two_short_rounds(make_server, tmp_path):
    lines = []
    run_soak(make_server, tmp_path, rounds=2, load=1.0, out=lines.append)
    assert len(lines) == 3, lines
