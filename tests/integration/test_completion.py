# SPDX-License-Identifier: ISC
"""Shell completion of acmensctl (contrib/completion): bash runs the
completion function as it would on <Tab>, and what it offers is checked
against acmensctl's own help (every command it lists, each command's
sub-commands and options); zsh's function runs with compadd recorded.
test_install_extras.py checks where make installs them."""

import os
import re
import shutil
import subprocess

import pytest

from conftest import ACMENSCTL, TOP

BASH_SCRIPT = os.path.join(TOP, "contrib", "completion", "acmensctl.bash")
ZSH_SCRIPT = os.path.join(TOP, "contrib", "completion", "_acmensctl")
ZSH = shutil.which("zsh")


def bash_complete(*words, prog=ACMENSCTL, cwd=None):
    """What <Tab> offers after `prog words...` (the last word is the one
    being completed; "" for a new one)."""
    script = f"""
source {BASH_SCRIPT!r}
COMP_WORDS=("$@"); COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 ))
_acmensctl
printf '%s\\n' "${{COMPREPLY[@]}}"
"""
    p = subprocess.run(["bash", "--norc", "--noprofile", "-c", script, "bash", prog, *words],
                       capture_output=True, text=True, timeout=30, cwd=cwd)
    assert p.returncode == 0 and p.stderr == "", p.stderr
    return set(p.stdout.split())


def help_commands():
    """The commands acmensctl's help lists: `acmensctl help` (one
    `  NAME  summary` line each) where it exists, and the command words of
    `acmensctl --help`."""
    names = set()
    p = subprocess.run([ACMENSCTL, "help"], capture_output=True, text=True, timeout=30)
    if p.returncode == 0:
        names |= set(re.findall(r"^  ([a-z][a-z0-9-]*)\s", p.stdout, re.M))
    p = subprocess.run([ACMENSCTL, "--help"], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    section = p.stdout
    if "\ncommands:\n" in section:
        section = section.split("\ncommands:\n", 1)[1].split("\n\n", 1)[0]
    names |= set(re.findall(r"^  ([a-z][a-z0-9-]*)(?: |$)", section, re.M))
    return names


def help_synopses(command):
    """{sub-command or "": options} from the usage lines of `acmensctl
    COMMAND --help`."""
    p = subprocess.run([ACMENSCTL, command, "--help"], capture_output=True, text=True,
                       timeout=30)
    assert p.returncode == 0, p.stderr
    out = {}
    # a synopsis may go on in lines of [options] indented below it
    for line in re.findall(r"^usage: acmensctl .*(?:\n +\[.*)*", p.stdout, re.M):
        rest = line.split(f" {command}", 1)[1].split()
        sub = rest[0] if rest and re.fullmatch(r"[a-z][a-z-]*", rest[0]) and \
            rest[0] not in ("knot|nsd|bind",) else ""
        out[sub] = set(re.findall(r"--[a-z][a-z-]*", " ".join(rest)))
    assert out, p.stdout
    return out


def test_every_command_in_the_help_is_offered():
    commands = help_commands()
    assert len(commands) >= 15, commands
    assert {"account", "txt", "backup", "secondary-config"} <= commands
    offered = bash_complete("")
    assert commands <= offered, commands - offered


@pytest.mark.parametrize("words,expect", [
    (("ac",), {"account"}),
    (("s",), {"serial", "stats", "secondary-config", "status"}),
    (("check-",), {"check-config", "check-store"}),
    (("-",), {"--config", "--json", "--help", "--version"}),
    (("-c", "/etc/acmens/acmens.yaml", "tx"), {"txt"}),
    (("--json", "acc"), {"account"}),
    (("account", "r"), {"register", "rotate-key"}),
    (("txt", ""), {"add", "remove", "set", "list"}),
    (("txt", "add", "--"), {"--expires-in", "--json", "--help"}),
    (("account", "tsig-key", "sub", "--algorithm", ""),
     {"hmac-sha256", "hmac-sha384", "hmac-sha512"}),
    (("tsig-keygen", "--format", "k"), {"knot"}),
    (("tsig-keygen", "--format", "=", ""), {"acmens", "bind", "knot", "nsd"}),
    (("secondary-config", ""), {"knot", "nsd", "bind"}),
    (("secondary-config", "nsd", "--primary", "192.0.2.1", "--k"), {"--key"}),
    (("audit", "--limit", "5", "--s"), {"--subdomain"}),
    (("account", "delete", "x", "--"), {"--yes", "--json", "--help"}),
    (("dnssec", ""), {"keygen", "ds", "status", "export-key", "rollover"}),
    (("dnssec", "keygen", "--algorithm", ""), {"ecdsap256sha256", "ed25519"}),
    (("dnssec", "rollover", "--"), {"--force", "--ds-ttl", "--json", "--help"}),
    (("nonsense", ""), set()),
    (("account", "show", "--limit", ""), set()),
])
def test_prefixes(words, expect):
    assert bash_complete(*words) == expect


def test_paths(tmp_path):
    (tmp_path / "acmens.yaml").write_text("")
    (tmp_path / "backups").mkdir()
    assert bash_complete("-c", str(tmp_path / "acm")) == {str(tmp_path / "acmens.yaml")}
    assert bash_complete("--config", str(tmp_path / "acm")) == {str(tmp_path / "acmens.yaml")}
    assert bash_complete("backup", str(tmp_path) + "/") == {str(tmp_path / "backups")}
    assert bash_complete("import-acmedns", str(tmp_path / "a")) == \
        {str(tmp_path / "acmens.yaml")}


@pytest.mark.parametrize("command", ["account", "txt", "audit", "tsig-keygen",
                                     "secondary-config", "status", "lookups",
                                     "import-acmedns", "convert-acmedns-config", "backup",
                                     "dnssec"])
def test_subcommands_and_options_match_the_help(command):
    synopses = help_synopses(command)
    subs = {s for s in synopses if s}
    if subs:
        assert bash_complete(command, "") == subs
    for sub, options in synopses.items():
        words = (command, sub, "--") if sub else (command, "--")
        offered = bash_complete(*words)
        assert options <= offered, (command, sub, options - offered)
        assert offered - options <= {"--json", "--help"}, (command, sub, offered - options)


def test_a_command_only_the_program_knows_is_offered(tmp_path):
    """A newer acmensctl's commands come from its help."""
    fake = tmp_path / "acmensctl"
    fake.write_text("#!/bin/sh\n[ \"$1\" = help ] || exit 1\n"
                    "printf '  account  accounts\\n  frobnicate  something new\\n'\n")
    fake.chmod(0o755)
    assert bash_complete("fr", prog=str(fake)) == {"frobnicate"}
    assert "frobnicate" in bash_complete("", prog=str(fake))
    assert bash_complete("fr") == set()


@pytest.mark.skipif(ZSH is None, reason="zsh not installed")
def test_zsh_function():
    script = f"""
compadd() {{ while [[ $1 == -* && $1 != -- ]]; do shift; done; [[ $1 == -- ]] && shift
  print -rl -- "$@"; }}
_files() {{ print -r -- "<files $*>"; }}
c() {{ print -- "== $*"; words=("$@"); CURRENT=$#words; PREFIX=$words[CURRENT]
  source {ZSH_SCRIPT!r}; }}
c {ACMENSCTL} ""
c {ACMENSCTL} account ""
c {ACMENSCTL} -c x txt add --
c {ACMENSCTL} tsig-keygen --format ""
c {ACMENSCTL} backup ""
c {ACMENSCTL} secondary-config ""
"""
    p = subprocess.run([ZSH, "-f", "-c", script], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0 and p.stderr == "", p.stderr
    blocks = {}
    for block in p.stdout.split("== ")[1:]:
        head, _, body = block.partition("\n")
        blocks[head[len(ACMENSCTL) + 1:]] = set(body.split("\n")) - {""}
    assert help_commands() <= blocks[""]
    assert blocks["account "] == {"register", "list", "show", "disable", "enable", "delete",
                                  "rotate-key", "tsig-key"}
    assert blocks["-c x txt add --"] == {"--expires-in", "--json", "--help"}
    assert blocks["tsig-keygen --format "] == {"acmens", "bind", "knot", "nsd"}
    assert blocks["backup "] == {"<files -/>"}
    assert blocks["secondary-config "] == {"knot", "nsd", "bind"}

