# SPDX-License-Identifier: ISC
"""Fixtures for the soak: those of the end-to-end suite (tests/e2e/conftest.py,
which re-exports the integration suite's), loaded here under their own
module name and re-exported as they are, so the soak starts acmensd and
Knot DNS exactly as the other suites do."""

import os
import runpy

_E2E = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                    "e2e", "conftest.py")

globals().update({k: v for k, v in runpy.run_path(_E2E).items() if not k.startswith("__")})
