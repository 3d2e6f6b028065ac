# SPDX-License-Identifier: ISC
"""The DNS world of deleg_peers.py, checked with the tools of its own
servers: kdig through the validating Unbound for every customer case,
unbound-host (libunbound, as acmens resolves) forwarding to that Unbound
and iterating from the private root, with and without the trust anchors.
If these pass, a delegation check resolving through the same world sees
what each case says it must."""

import os
import re
import shutil
import subprocess

import dns.rcode
import pytest

from conftest import ZONE, value
from deleg_peers import BROKEN, SIGNED, acmens_world, ask

KDIG = shutil.which("kdig") or "/usr/bin/kdig"
UNBOUND_HOST = shutil.which("unbound-host") or "/usr/bin/unbound-host"

VALUE = value(1)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    missing = [t for t in (KDIG, UNBOUND_HOST) if not os.access(t, os.X_OK)]
    assert not missing, f"not installed: {missing} (scripts/dev deps)"
    with acmens_world(tmp_path_factory.mktemp("delegpeers"), None, VALUE) as w:
        yield w


# --- kdig through Unbound -------------------------------------------------------

def kdig(w, name, rdtype="TXT", *opts):
    """(status, [(owner, type, rdata)]) of kdig's answer through Unbound."""
    p = subprocess.run([KDIG, f"@{w.unbound.addr}", "-p", str(w.unbound.port), "+time=5",
                        "+retry=1", *opts, name, rdtype], capture_output=True, text=True,
                       timeout=30)
    assert p.returncode == 0, p.stdout + p.stderr
    status = re.search(r"status: (\w+)", p.stdout).group(1)
    flags = re.search(r";; Flags: ([^;]*);", p.stdout).group(1).split()
    answer, section = [], None
    for line in p.stdout.splitlines():
        if line.startswith(";; "):
            section = line[3:].split()[0] if line.endswith("SECTION:") else section
            continue
        f = line.split(None, 4)
        if section == "ANSWER" and len(f) == 5:
            answer.append((f[0].rstrip(".").lower(), f[3], f[4].rstrip(".")))
    return status, flags, answer


def cname_links(answer):
    return [(o, t) for o, typ, t in answer if typ == "CNAME"]


def txt(answer):
    return [r.strip('"') for _, typ, r in answer if typ == "TXT"]


def expected_links(case):
    return list(zip(case.chain, case.chain[1:]))


CHAINS = {   # case: (status through Unbound, TXT at the end)
    "ok": ("NOERROR", [VALUE]),
    "chain2": ("NOERROR", [VALUE]),
    "long": ("NOERROR", [VALUE]),
    "links8": ("NOERROR", [VALUE]),
    "links9": ("NOERROR", [VALUE]),
    "wrong-elsewhere": ("NOERROR", ["a token from the old provider"]),
    "wrong-typo-zone": ("NXDOMAIN", []),
    "wrong-typo-sub": ("NXDOMAIN", []),
    "other-account": ("NOERROR", []),
    "other-account-challenge": ("NXDOMAIN", []),
}


@pytest.mark.parametrize("name", sorted(CHAINS))
def test_cname_chain_through_unbound(world, name):
    case = world.cases[name]
    status, _, answer = kdig(world, "_acme-challenge." + case.domain)
    assert (status, txt(answer)) == CHAINS[name], answer
    assert cname_links(answer) == expected_links(case)


def test_long_chain_has_more_links_than_a_check_follows(world):
    assert len(world.cases["long"].chain) - 1 == 10
    # and the limit: 8 links to the account, then 9
    assert [len(world.cases[n].chain) - 1 for n in ("links8", "links9")] == [8, 9]


def test_challenge_under_the_account_name(world):
    case = world.cases["ok-acme"]
    _, _, answer = kdig(world, "_acme-challenge." + case.domain)
    assert cname_links(answer) == expected_links(case)
    assert case.chain[-1] == f"_acme-challenge.{case.sub}.{ZONE.rstrip('.')}"


def test_loop_comes_back_to_its_start(world):
    case = world.cases["loop"]
    start = "_acme-challenge." + case.domain
    _, _, answer = kdig(world, start, "CNAME")
    assert cname_links(answer) == [(start, case.chain[1])]
    _, _, answer = kdig(world, case.chain[1], "CNAME")
    assert cname_links(answer) == [(case.chain[1], start)]


def test_txt_instead_of_cname(world):
    status, _, answer = kdig(world, "_acme-challenge." + world.cases["txt"].domain)
    assert status == "NOERROR" and not cname_links(answer)
    assert txt(answer) == ["a value set by hand"]


@pytest.mark.parametrize("name,status", [("nodata", "NOERROR"), ("nxdomain", "NXDOMAIN")])
def test_nothing_there(world, name, status):
    case = world.cases[name]
    for rdtype in ("TXT", "CNAME"):
        assert kdig(world, "_acme-challenge." + case.domain, rdtype)[::2] == (status, [])
    # the customer's domain itself exists
    assert kdig(world, case.domain, "A")[0] == "NOERROR"


def test_every_case_is_set_up(world):
    statuses = {c.status for c in world.cases}
    assert statuses == {"ok", "missing", "not_delegated", "wrong_target", "loop", "bogus",
                        "servfail"}
    assert [c.name for c in world.cases if c.target_is_account] == [
        "other-account", "other-account-challenge"]


def test_lame_delegation_is_servfail(world):
    case = world.cases["lame"]
    assert kdig(world, "_acme-challenge." + case.domain, "CNAME")[0] == "SERVFAIL"
    # the server it is delegated to does not serve it
    assert ask(world.customer_addr, 53, case.domain + ".", "SOA").rcode() == dns.rcode.REFUSED


# --- DNSSEC through Unbound --------------------------------------------------------

def test_signed_zone_validates_in_unbound(world):
    status, flags, answer = kdig(world, "_acme-challenge." + SIGNED, "CNAME", "+dnssec")
    assert status == "NOERROR" and "ad" in flags
    assert [t for _, t, _ in answer] == ["CNAME", "RRSIG"]


def test_broken_zone_is_servfail_unless_cd(world):
    name = "_acme-challenge." + BROKEN
    assert kdig(world, name, "CNAME", "+dnssec")[0] == "SERVFAIL"
    status, flags, answer = kdig(world, name, "CNAME", "+dnssec", "+cd")
    assert status == "NOERROR" and "ad" not in flags
    assert [t for _, t, _ in answer] == ["CNAME", "RRSIG"]
    assert "signature crypto failed" in world.unbound.read_log()


def test_trust_anchor_file_names_both_zones(world):
    with open(world.trust_anchor_file) as f:
        lines = [line.split() for line in f if line.strip()]
    assert sorted(line[0] for line in lines) == [BROKEN, SIGNED]
    assert all("DNSKEY" in line and "257" in line for line in lines)


# --- libunbound: unbound-host forwarding and iterating ------------------------------

def host_conf(world, tmp_path, mode):
    path = tmp_path / f"{mode}.conf"
    text = "server:\n    do-not-query-localhost: no\n"
    if mode == "iterate":
        text += f'    root-hints: "{world.root_hints}"\n'
    else:
        text += f'forward-zone:\n    name: "."\n    forward-addr: {world.unbound.addr}' \
                f"@{world.unbound.port}\n"
    path.write_text(text)
    return str(path)


def unbound_host(conf, name, rdtype, anchors=None):
    argv = [UNBOUND_HOST, "-C", conf, "-v", "-t", rdtype]
    if anchors:
        argv += ["-f", anchors]
    p = subprocess.run(argv + [name], capture_output=True, text=True, timeout=60)
    return p.stdout + p.stderr


MODES = ["forward", "iterate"]


@pytest.mark.parametrize("mode", MODES)
def test_libunbound_signed_is_secure(world, tmp_path, mode):
    conf = host_conf(world, tmp_path, mode)
    name = "_acme-challenge." + SIGNED.rstrip(".")
    acct = f"{world.cases.sub}.{ZONE}"
    out = unbound_host(conf, name, "CNAME", world.trust_anchor_file)
    assert f"{name} has CNAME record {acct} (secure)" in out, out
    # without the anchor the same answer is merely insecure
    out = unbound_host(conf, name, "CNAME")
    assert f"{name} has CNAME record {acct} (insecure)" in out, out


@pytest.mark.parametrize("mode", MODES)
def test_libunbound_broken_is_bogus(world, tmp_path, mode):
    """Forwarding, Unbound answers SERVFAIL without CD; libunbound, with a
    trust anchor above the name, asks again with CD and validates the
    records itself: bogus, with the reason, not servfail. Without the
    anchor it does not ask again: servfail forwarding, insecure iterating."""
    conf = host_conf(world, tmp_path, mode)
    name = "_acme-challenge." + BROKEN.rstrip(".")
    out = unbound_host(conf, name, "CNAME", world.trust_anchor_file)
    assert "(BOGUS (security failure))" in out, out
    assert re.search(r"validation failure <%s\. CNAME IN>: .*signature" % re.escape(name), out), out
    out = unbound_host(conf, name, "CNAME")
    if mode == "forward":
        assert "not found: 2(SERVFAIL)" in out, out
    else:
        assert "(insecure)" in out and "BOGUS" not in out, out


@pytest.mark.parametrize("mode", MODES)
def test_libunbound_follows_to_acmensd(world, tmp_path, mode):
    conf = host_conf(world, tmp_path, mode)
    case = world.cases["chain2"]
    out = unbound_host(conf, "_acme-challenge." + case.domain, "TXT", world.trust_anchor_file)
    assert f'{case.chain[-1]} has TXT record "{VALUE}" (insecure)' in out, out


@pytest.mark.parametrize("mode", MODES)
def test_libunbound_nxdomain(world, tmp_path, mode):
    conf = host_conf(world, tmp_path, mode)
    for name in ("_acme-challenge." + world.cases["nxdomain"].domain,
                 world.cases["wrong-typo-zone"].chain[-1]):
        out = unbound_host(conf, name, "TXT", world.trust_anchor_file)
        assert "NXDOMAIN" in out, out


def test_iteration_starts_at_the_private_root(world, tmp_path):
    conf = host_conf(world, tmp_path, "iterate")
    with open(conf, "a") as f:
        f.write("    verbosity: 0\n")
    p = subprocess.run([UNBOUND_HOST, "-C", conf, "-d", "-t", "TXT",
                        "_acme-challenge." + world.cases["ok"].domain],
                       capture_output=True, text=True, timeout=60)
    out = p.stdout + p.stderr
    assert world.root_addr in out, out
    assert f'has TXT record "{VALUE}"' in out, out
