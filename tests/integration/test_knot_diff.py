# SPDX-License-Identifier: ISC
"""Differential test against Knot DNS.

acmensd is started with static records and a few accounts holding 0 to 3 TXT
values (and one whose only value has expired); `acmensctl export` gives the
same zone as an RFC 1035 zone file, which a knotd on loopback then serves.
A corpus of queries (names x types, with and without EDNS, UDP and TCP,
mixed case) goes to both, and the responses must agree section by section.
Every allowed difference is a narrow, commented exception below; all
mismatches are reported together.

knotd comes with the test packages (scripts/dev deps): without it the test
fails. ACMENS_SKIP_KNOTD=1 skips it, for a machine that cannot have Knot;
scripts/dev test never sets it.
"""

import os
import time

import dns.exception
import dns.flags
import dns.message
import dns.rdataclass
import dns.query
import dns.rcode
import dns.rdatatype
import pytest

from conftest import ZONE, BASE_RECORDS, HAVE_KNOTD, Knot, _server_factory, value

pytestmark = pytest.mark.skipif(os.environ.get("ACMENS_SKIP_KNOTD") == "1",
                                reason="ACMENS_SKIP_KNOTD=1")

TYPES = ["TXT", "SOA", "NS", "A", "AAAA", "MX", "CAA", "CNAME"]

# Extra static records for the CNAME-chasing variant: chains, a loop, targets
# that are missing, empty, outside the zone, or accounts ({acc} has values,
# {empty} has none; filled in after registration).
CHAIN_RECORDS = [
    "c1.auth.example.org. 300 IN CNAME c2.auth.example.org.",
    "c2.auth.example.org. 300 IN CNAME www.auth.example.org.",   # -> www -> apex
    "tomail.auth.example.org. 300 IN CNAME Mail.Auth.Example.Org.",
    "toempty.auth.example.org. 300 IN CNAME deep.auth.example.org.",
    "dangling.auth.example.org. 300 IN CNAME nothere.auth.example.org.",
    "danglingdeep.auth.example.org. 300 IN CNAME x.host.deep.auth.example.org.",
    "outside.auth.example.org. 300 IN CNAME www.example.net.",
    "loop1.auth.example.org. 300 IN CNAME loop2.auth.example.org.",
    "loop2.auth.example.org. 300 IN CNAME loop1.auth.example.org.",
    "self.auth.example.org. 300 IN CNAME self.auth.example.org.",
    "toacct.auth.example.org. 300 IN CNAME {acc}.auth.example.org.",
    "toempty-acct.auth.example.org. 300 IN CNAME {empty}.auth.example.org.",
]


# --- the two servers ---------------------------------------------------------

class Pair:
    def __init__(self, acmens, knot, names, empty_accounts):
        self.acmens = acmens
        self.knot = knot
        self.names = names                    # corpus owner names, relative
        self.empty = empty_accounts           # lower-case FQDNs with no live value


def add(srv, sub, val, *opts):
    # "--": a base64url value may start with "-" (value(204) does), which
    # acmensctl would otherwise take for an option.
    srv.ctl("txt", "add", *opts, sub, "--", val)


def setup_accounts(srv):
    """Accounts with 0..3 and 8 values, one whose only value expires and one
    with an expiring and a lasting value; returns
    {label: subdomain}. The caller waits for the expiry."""
    accs = {}
    for n in range(4):
        sub = srv.register()["subdomain"]
        for i in range(n):
            add(srv, sub, value(10 * n + i))
        accs[f"acc{n}"] = sub
    sub = srv.register()["subdomain"]
    add(srv, sub, value(99), "--expires-in", "1")
    accs["expired"] = sub
    # one that has a live value next to an expired one
    sub = srv.register()["subdomain"]
    add(srv, sub, value(98), "--expires-in", "1")
    add(srv, sub, value(97))
    accs["half"] = sub
    # eight values (txt_max_values) do not fit 512 bytes: TC without EDNS
    sub = srv.register()["subdomain"]
    for i in range(8):
        add(srv, sub, value(200 + i))
    accs["acc8"] = sub
    return accs


def corpus_names(accs, chain):
    acc1 = accs["acc1"]
    names = ["@", "ns1", "www", "mail", "host.deep", "deep", "nonexistent",
             "a.b.nonexistent", "x.host.deep", "below." + accs["acc2"],
             # mixed case: 0x20 echo in the question and answer owners
             "AuTh.ExAmPlE.oRg.", "WwW", "MaIl", acc1.upper(),
             acc1[:4].upper() + acc1[4:] + ".AUTH.example.ORG."]
    names += list(accs.values())
    if chain:
        names += ["c1", "c2", "tomail", "toempty", "dangling", "danglingdeep", "outside",
                  "loop1", "self", "toacct", "toempty-acct", "C1", "ToAcct"]
    return names


def fqdn(name):
    if name == "@":
        return ZONE
    return name if name.endswith(".") else name + "." + ZONE


def start_pair(base, chain):
    assert HAVE_KNOTD, "knotd is not installed (Debian package knot); " \
        "ACMENS_SKIP_KNOTD=1 skips this test"
    factory, finish = _server_factory(base)
    knot = None
    try:
        srv = factory(start=False)
        accs = setup_accounts(srv)
        if chain:
            recs = [r.format(acc=accs["acc2"], empty=accs["acc0"]) for r in CHAIN_RECORDS]
            srv.reconfigure(records=BASE_RECORDS + recs)
        srv.start()
        time.sleep(2.1)   # the --expires-in 1 values are gone now
        zone_text = srv.ctl("export", json_out=False).stdout
        # the export leaves out expired values, just as the answers do
        assert value(99) not in zone_text and value(98) not in zone_text
        assert value(97) in zone_text
        knot = Knot(base / "knot", zone_text)
        knot.start()
    except BaseException:
        if knot:
            knot.stop()
        try:
            finish()
        except Exception:   # e.g. no log to read: keep the first error
            pass
        raise
    empty = {fqdn(accs[k]).lower() for k in ("acc0", "expired")}
    return Pair(srv, knot, corpus_names(accs, chain), empty), knot, finish


@pytest.fixture(scope="module", params=["base", "chain"])
def pair(request, tmp_path_factory):
    base = tmp_path_factory.mktemp("knotdiff-" + request.param)
    p, knot, finish = start_pair(base, request.param == "chain")
    try:
        yield p
    finally:
        knot.stop()
        finish()


# --- comparison --------------------------------------------------------------

def ask(port, msg, tcp, tries=3):
    """The response, or the exception text; retries UDP timeouts (the
    machine may be busy), never more than a few seconds in all."""
    for attempt in range(tries):
        try:
            if tcp:
                return dns.query.tcp(msg, "127.0.0.1", port=port, timeout=5)
            return dns.query.udp(msg, "127.0.0.1", port=port, timeout=3)
        except dns.exception.Timeout:
            if attempt == tries - 1:
                return "timeout"
        except Exception as e:   # a response dnspython cannot parse is a finding
            return f"{type(e).__name__}: {e}"


class Rdata:
    """One rdata, compared in its RFC 4034 6.2 canonical form: the names
    inside NS, SOA, MX, CNAME... rdata in lower case, everything else (TXT,
    CAA) as is. Names are case-insensitive (RFC 1035 2.3.3, RFC 4343), and
    the case of a name inside rdata is an accident of compression: Knot
    compresses ns1.auth.example.org. against the question, so asking for
    AuTh.ExAmPlE.oRg. NS gets ns1.AuTh.ExAmPlE.oRg. back, while acmens
    writes the configured names as they are. Shown as text."""

    def __init__(self, rd):
        self.text = rd.to_text()
        self.key = (rd.rdtype, rd.to_digestable())

    def __eq__(self, other):
        return self.key == other.key

    def __hash__(self):
        return hash(self.key)

    def __lt__(self, other):
        return self.key < other.key

    def __repr__(self):
        return self.text


def rrsets(section, exact_case):
    """A section as a set of RRsets: (owner, TTL, class, type, frozenset of
    rdata); owners for which exact_case(owner) is false are compared in lower
    case (see summary)."""
    out = set()
    for rrset in section:
        owner = rrset.name.to_text()
        out.add((owner if exact_case(owner) else owner.lower(), rrset.ttl,
                 dns.rdataclass.to_text(rrset.rdclass), dns.rdatatype.to_text(rrset.rdtype),
                 frozenset(Rdata(rd) for rd in rrset)))
    return out


# Header flags compared: QR, AA, TC, RD (echo), CD (echo), AD. RA is
# ignored: whether an authoritative-only server says "recursion available"
# is not what this test is about (both should leave it clear anyway).
FLAG_MASK = dns.flags.QR | dns.flags.AA | dns.flags.TC | dns.flags.RD | dns.flags.CD | \
    dns.flags.AD


def summary(r):
    qname = r.question[0].name.to_text() if r.question else ""
    return {
        "rcode": dns.rcode.to_text(r.rcode()),
        "flags": dns.flags.to_text(r.flags & FLAG_MASK),
        "question": [(q.name.to_text(), dns.rdatatype.to_text(q.rdtype),
                      dns.rdataclass.to_text(q.rdclass)) for q in r.question],
        # The question name's case is echoed (0x20) by both wherever it is
        # an owner: compared exactly. So is the apex part of it as the owner
        # of the SOA in authority (both point into the question).
        "answer": rrsets(r.answer, lambda o: o.lower() == qname.lower()),
        "authority": rrsets(r.authority, lambda o: True),
        # Other owners are compared in lower case: the NS/MX targets in
        # additional, whose case is the same accident of compression as names
        # in rdata (class Rdata), and the targets of a followed CNAME in the
        # answer: acmens owns them by a pointer to the CNAME's rdata, so they
        # have the case the zone's CNAME record gives them; Knot writes its
        # own lower-cased owner name. No 0x20 check covers them (it is the
        # question that a resolver matches), and the names are equal.
        # dnspython takes the OPT out of the additional section (r.opt).
        "additional": rrsets(r.additional, lambda o: False),
        "opt": None if r.edns < 0 else (r.edns, bool(r.ednsflags & dns.flags.DO),
                                         tuple(sorted(o.to_text() for o in r.options))),
    }


def allowed(pair, qname, a, k):
    """Differences that are acceptable, each narrowly: returns the keys of
    a and k that may differ for this query."""
    keys = set()
    # An account with no live value (none yet, or all expired) is a name
    # acmens knows: it answers NODATA (NOERROR + SOA), see test_dns.py
    # test_registered_account_without_values_is_nodata and
    # test_only_expiring_value_expires_to_nodata. A zone file cannot hold a
    # name without records, so for Knot the name does not exist (NXDOMAIN
    # + SOA). Both are negative answers with the same SOA and the same
    # negative-caching TTL (RFC 2308), and neither has names below it, so a
    # resolver behaves the same; only the rcode may differ, and only so.
    if qname.lower() in pair.empty and a["rcode"] == "NOERROR" and k["rcode"] == "NXDOMAIN":
        keys.add("rcode")
    # The same account name reached through a CNAME: the rcode of the
    # response reflects the end of the chain (RFC 6604), same reasoning.
    if a["answer"] and k["answer"] and a["rcode"] == "NOERROR" and k["rcode"] == "NXDOMAIN":
        last = [t for (_o, _t, _c, ty, rd) in a["answer"] if ty == "CNAME" for t in rd]
        if any(t.text.lower() in pair.empty for t in last):
            keys.add("rcode")
    return keys


def compare(pair, queries):
    """Send every query to both; return the list of mismatch descriptions."""
    problems = []
    for desc, qname, msg, tcp in queries:
        ra = ask(pair.acmens.port, msg, tcp)
        rk = ask(pair.knot.port, msg, tcp)
        if isinstance(ra, str) or isinstance(rk, str):
            problems.append(f"{desc}: acmens={ra if isinstance(ra, str) else 'ok'} "
                            f"knot={rk if isinstance(rk, str) else 'ok'}")
            continue
        a, k = summary(ra), summary(rk)
        ok = allowed(pair, fqdn(qname), a, k)
        for key in a:
            if key in ok or a[key] == k[key]:
                continue
            if isinstance(a[key], set):
                problems.append(f"{desc}: {key}: only acmens {sorted(a[key] - k[key])}, "
                                f"only knot {sorted(k[key] - a[key])}")
            else:
                problems.append(f"{desc}: {key}: acmens {a[key]!r} knot {k[key]!r}")
    return problems


def make(qname, rdtype, edns=None, do=False, rd=True, payload=1232, rdclass="IN"):
    if edns is None:
        kw = {"use_edns": False}
    else:
        kw = {"use_edns": edns, "payload": payload, "want_dnssec": do}
    msg = dns.message.make_query(fqdn(qname), rdtype, rdclass=rdclass, **kw)
    if not rd:
        msg.flags &= ~dns.flags.RD
    return msg


def report(problems, total):
    assert not problems, f"{len(problems)} mismatches in {total} queries:\n" + "\n".join(problems)


# --- tests -------------------------------------------------------------------

def test_udp_no_edns(pair):
    qs = []
    for name in pair.names:
        for t in TYPES:
            qs.append((f"UDP {name} {t}", name, make(name, t), False))
    report(compare(pair, qs), len(qs))


def test_udp_edns(pair):
    qs = []
    for i, name in enumerate(pair.names):
        for j, t in enumerate(TYPES):
            do = (i + j) % 3 == 0
            rd = (i + j) % 2 == 0
            qs.append((f"UDP+EDNS{' DO' if do else ''}{'' if rd else ' -RD'} {name} {t}",
                       name, make(name, t, edns=0, do=do, rd=rd), False))
    report(compare(pair, qs), len(qs))


def test_tcp(pair):
    qs = []
    for name in pair.names:
        for t in ("TXT", "SOA", "NS", "A", "MX"):
            qs.append((f"TCP {name} {t}", name, make(name, t, edns=0), True))
            qs.append((f"TCP-noEDNS {name} {t}", name, make(name, t), True))
    report(compare(pair, qs), len(qs))


def test_qclass_any(pair):
    """QCLASS ANY (255) asks for the zone's class too (RFC 1035 3.2.5):
    data, negative answers and flags as Knot gives them, at every name."""
    qs = []
    for name in pair.names:
        for t in TYPES + ["ANY"]:
            qs.append((f"UDP CLASS ANY {name} {t}", name, make(name, t, rdclass="ANY"), False))
        qs.append((f"TCP CLASS ANY {name} TXT", name, make(name, "TXT", edns=0, rdclass="ANY"),
                   True))
    report(compare(pair, qs), len(qs))


def test_cname_followed_in_zone(pair):
    """RFC 1034 4.3.2 step 3a: an in-zone CNAME is followed, so www A
    carries the apex A; stated directly, not just as "same as Knot"."""
    r = pair.acmens.query("WwW." + ZONE, "A")
    got = {(rr.name.to_text(), dns.rdatatype.to_text(rr.rdtype)) for rr in r.answer}
    assert got == {("WwW." + ZONE, "CNAME"), (ZONE, "A")}, r
