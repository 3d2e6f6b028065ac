# SPDX-License-Identifier: ISC
"""The lookup log: queries over UDP and TCP, with and without EDNS, show up
for the account (/v1), for the operator (admin route, acmensctl lookups),
as asked (case, source port), bounded per name; lookups.enabled: false
keeps nothing."""
import json
import socket
import time

import dns.message
import dns.query
import dns.rcode

from conftest import ZONE, start_http, value


def lookups_cfg(**keys):
    body = "".join(f"  {k}: {json.dumps(v)}\n" for k, v in keys.items())
    return {"extra_dns": "lookups:\n" + body}


def udp_query(server, name, rdtype="TXT", **kw):
    """Send over a socket of our own so we know its source port."""
    q = dns.message.make_query(name, rdtype, **kw)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        r = dns.query.udp(q, "127.0.0.1", port=server.port, timeout=2, sock=s)
    return r, port


def tcp_query(server, name, rdtype="TXT", **kw):
    q = dns.message.make_query(name, rdtype, **kw)
    with socket.create_connection(("127.0.0.1", server.port), timeout=2) as s:
        port = s.getsockname()[1]
        r = dns.query.tcp(q, "127.0.0.1", port=server.port, timeout=2, sock=s)
    return r, port


def mixed_case(name):
    return "".join(c.upper() if i % 2 else c for i, c in enumerate(name))


def account_lookups(api, acct):
    r = api.call("GET", f"/v1/accounts/{acct['subdomain']}/lookups", headers=acct["headers"])
    assert r.status_code == 200, r.text
    return r.json()


def test_account_sees_its_lookups(make_server):
    api = start_http(make_server)
    acct = api.register()
    r = api.call("POST", f"/v1/accounts/{acct['subdomain']}/txt", {"value": value(1)},
                 headers=acct["headers"])
    assert r.status_code == 201, r.text
    name = mixed_case(acct["fulldomain"]) + "."
    challenge = "_ACME-challenge." + acct["fulldomain"] + "."
    ru, uport = udp_query(api.server, name, use_edns=0, payload=1400)
    assert ru.rcode() == dns.rcode.NOERROR
    rt, tport = tcp_query(api.server, name)
    rn, nport = udp_query(api.server, challenge, "A")
    assert rn.rcode() == dns.rcode.NXDOMAIN
    # names outside the account are not its lookups; outside the zone are not logged
    udp_query(api.server, "other." + ZONE)
    udp_query(api.server, "example.com.")

    body = account_lookups(api, acct)
    assert body["subdomain"] == acct["subdomain"]
    got = body["lookups"]
    assert len(got) == 3, got
    nx, tcp, udp = got                                  # newest first
    assert udp["source"] == "127.0.0.1" and udp["port"] == uport
    assert udp["transport"] == "udp" and udp["edns"] == 1400
    assert udp["qtype"] == "TXT" and udp["rcode"] == "NOERROR"
    assert udp["qname"] == name[:-1]                    # the case as asked, no final dot
    assert udp["values"] == [value(1)] and udp["value_count"] == 1
    assert isinstance(udp["time"], int) and abs(udp["time"] - time.time()) < 30
    assert tcp["transport"] == "tcp" and tcp["port"] == tport and tcp["edns"] is None
    assert tcp["values"] == [value(1)]
    assert nx["qname"] == challenge[:-1] and nx["qtype"] == "A"
    assert nx["rcode"] == "NXDOMAIN" and nx["values"] == [] and nx["port"] == nport
    assert udp["time"] <= tcp["time"] <= nx["time"]

    # another account's credentials see nothing of it
    other = api.register()
    r = api.call("GET", f"/v1/accounts/{acct['subdomain']}/lookups", headers=other["headers"])
    assert r.status_code == 403, r.text
    r = api.call("GET", f"/v1/accounts/{acct['subdomain']}/lookups",
                 headers=api.creds(acct, key="x" * 40))
    assert r.status_code == 401, r.text
    assert account_lookups(api, other)["lookups"] == []

    # the operator sees any name in the zone
    r = api.admin("GET", f"/lookups?name={acct['subdomain']}")
    assert r.status_code == 200 and len(r.json()["lookups"]) == 3, r.text
    r = api.admin("GET", f"/lookups?name=other.{ZONE}&limit=5")
    assert r.status_code == 200, r.text
    assert [e["qname"] for e in r.json()["lookups"]] == ["other." + ZONE[:-1]]
    r = api.admin("GET", "/lookups?name=example.com")
    assert r.status_code == 400, r.text
    r = api.admin("GET", f"/lookups?name={acct['subdomain']}", token="wrong" * 8)
    assert r.status_code == 401, r.text

    # acmensctl asks the daemon
    p = api.server.ctl("lookups", acct["subdomain"])
    out = json.loads(p.stdout)
    assert [e["port"] for e in out["lookups"]] == [nport, tport, uport]
    p = api.server.ctl("lookups", acct["fulldomain"], "--limit", "1", json_out=False)
    lines = p.stdout.splitlines()
    assert lines[0].split()[:3] == ["TIME", "SOURCE", "PORT"]
    assert len(lines) == 2 and name[:-1] in lines[1] and value(1) in lines[1]


def test_bounded_per_name(make_server):
    api = start_http(make_server, zone=lookups_cfg(per_name=3))
    acct = api.register()
    ports = [udp_query(api.server, acct["fulldomain"] + ".")[1] for _ in range(6)]
    got = account_lookups(api, acct)["lookups"]
    assert [e["port"] for e in got] == ports[::-1][:3]


def test_disabled(make_server):
    api = start_http(make_server, zone=lookups_cfg(enabled=False))
    acct = api.register()
    udp_query(api.server, acct["fulldomain"] + ".")
    r = api.call("GET", f"/v1/accounts/{acct['subdomain']}/lookups", headers=acct["headers"])
    assert r.status_code == 404 and r.json()["error"] == "lookups_disabled", r.text
    r = api.admin("GET", f"/lookups?name={acct['subdomain']}")
    assert r.status_code == 404 and r.json()["error"] == "lookups_disabled", r.text
    p = api.server.ctl("lookups", acct["subdomain"], check=False)
    assert p.returncode == 3 and "lookups.enabled" in p.stderr


def test_ctl_needs_admin_api(make_server):
    api = start_http(make_server, admin_token=None)
    p = api.server.ctl("lookups", "x", check=False)
    assert p.returncode == 3 and "admin API" in p.stderr
    s = make_server()
    p = s.ctl("lookups", "x", check=False)
    assert p.returncode == 3 and "admin API" in p.stderr
