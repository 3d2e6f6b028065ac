# SPDX-License-Identifier: ISC
"""A configuration refused: acmensctl check-config and acmensd run on the
same file, their exit statuses and messages compared (acmensd's taken from
its logfmt error line)."""

import re
import subprocess

from conftest import ACMENSCTL, ACMENSD

STORE_ERR = 3           # acmensctl: configuration or store error


def logfmt_messages(text):
    """The msg of every error line of acmensd's log (logfmt), unescaped."""
    out = []
    for line in text.splitlines():
        if "level=error" not in line:
            continue
        m = re.search(r'\bmsg=(?:"((?:[^"\\]|\\.)*)"|(\S+))', line)
        if m:
            raw = m.group(1) if m.group(1) is not None else m.group(2)
            out.append(re.sub(r'\\(x[0-9a-f]{2}|.)', _unescape, raw))
    return out


def _unescape(m):
    e = m.group(1)
    if e.startswith("x") and len(e) == 3:
        return chr(int(e[1:], 16))
    return {"n": "\n", "r": "\r", "t": "\t"}.get(e, e)


def assert_no_sanitizer_report(text):
    for marker in ("ERROR: AddressSanitizer", "runtime error:", "ERROR: LeakSanitizer"):
        assert marker not in text, text


def run_both(config, prefix=()):
    """(check-config's exit status and message, acmensd's exit status and
    message), each program run as prefix says on the same file."""
    p = subprocess.run(list(prefix) + [ACMENSCTL, "-c", config, "check-config"],
                       capture_output=True, text=True, timeout=30)
    assert p.stdout == "", p.stdout
    assert p.stderr.startswith("acmensctl: ") and p.stderr.count("\n") == 1, p.stderr
    ctl = (p.returncode, p.stderr[len("acmensctl: "):].rstrip("\n"))
    d = subprocess.run(list(prefix) + [ACMENSD, "-c", config], capture_output=True,
                       text=True, timeout=30)
    assert_no_sanitizer_report(d.stderr)
    msgs = logfmt_messages(d.stderr)
    assert len(msgs) == 1, d.stderr
    return ctl, (d.returncode, msgs[0])


def assert_same_refusal(config, want, prefix=()):
    """check-config and acmensd refuse config with one message holding want."""
    ctl, daemon = run_both(config, prefix)
    assert ctl[0] == STORE_ERR and daemon[0] == 1, (ctl, daemon)
    assert ctl[1] == daemon[1], (ctl, daemon)
    assert want in ctl[1], (want, ctl[1])
    return ctl[1]
