# SPDX-License-Identifier: ISC
"""Fixtures for the soak: those of the end-to-end suite (tests/e2e/conftest.py,
which re-exports the integration suite's), loaded here under their own
module name and re-exported as they are, so the soak starts acmensd and
Knot DNS exactly as the other suites do."""

import importlib.util
import os
import sys

_E2E = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                    "e2e", "conftest.py")


def _e2e():
    name = "acmens_e2e_conftest"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, _E2E)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        spec.loader.exec_module(mod)
    return sys.modules[name]


globals().update({k: v for k, v in vars(_e2e()).items() if not k.startswith("__")})
