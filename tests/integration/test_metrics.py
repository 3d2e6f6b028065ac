# SPDX-License-Identifier: ISC
"""GET /metrics: parsed with prometheus_client's own text parser, counters
checked against a known workload by their deltas, gauges against the store,
and the http.metrics access modes."""

import os
import socket
import struct

import dns.flags
import dns.message
import dns.rcode
import pytest

from conftest import ADMIN_TOKEN, ZONE, HttpApi, start_http, value

prometheus_parser = pytest.importorskip("prometheus_client.parser")

TEXT_TYPE = "text/plain; version=0.0.4"


def scrape(api, headers=None):
    r = api.call("GET", "/metrics", headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith(TEXT_TYPE)
    return r.text


def parse(text):
    """{family name: family} and {(sample name, sorted labels): value}."""
    families = {f.name: f for f in prometheus_parser.text_string_to_metric_families(text)}
    samples = {}
    for f in families.values():
        for s in f.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return families, samples


def get(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0)


def metrics(api, headers=None):
    return parse(scrape(api, headers))


def q(srv, name, rdtype="TXT", tcp=False, **kw):
    full = name if name.endswith(".") else f"{name}.{ZONE}" if name else ZONE
    return srv.query(full, rdtype, tcp=tcp, **kw)


def delta(before, after, name, **labels):
    return get(after, name, **labels) - get(before, name, **labels)


@pytest.fixture
def api(make_server):
    return start_http(make_server, zone={"txt_max_values": 64})


def test_families_and_types(api):
    families, _ = metrics(api)
    expect = {
        "acmens_dns_queries": "counter",
        "acmens_dns_response_size_bytes": "histogram",
        "acmens_dns_truncated": "counter",
        "acmens_dns_txt_lookups": "counter",
        "acmens_dns_dropped": "counter",
        "acmens_dns_tcp_refused": "counter",
        "acmens_dns_tcp_connections": "gauge",
        "acmens_dns_tcp_connections_closed": "counter",
        "acmens_dns_rrl_limited": "counter",
        "acmens_dns_rrl": "counter",
        "acmens_http_connections_closed": "counter",
        "acmens_http_connections": "gauge",
        "acmens_http_requests": "counter",
        "acmens_http_request_duration_seconds": "histogram",
        "acmens_zone_serial": "gauge",
        "acmens_accounts": "gauge",
        "acmens_txt_values": "gauge",
        "acmens_txt_values_expired": "gauge",
        "acmens_store_bytes": "gauge",
        "acmens_commit_batches": "counter",
        "acmens_commit_ops": "counter",
        "acmens_commit_batch_size": "histogram",
        "acmens_commit_seconds": "histogram",
        "acmens_expired_purged": "counter",
        "acmens_build_info": "gauge",
        "acmens_start_time_seconds": "gauge",
    }
    for name, kind in expect.items():
        assert name in families, name
        assert families[name].type == kind, name
        assert families[name].documentation, name


def test_dns_counters_follow_the_workload(api):
    srv = api.server
    acct = api.register()
    sub = acct["subdomain"]
    r = api.call("POST", f"/v1/accounts/{sub}/txt", {"value": value(1)}, acct["headers"])
    assert r.status_code in (200, 201), r.text
    big = api.register()
    r = api.call("PUT", f"/v1/accounts/{big['subdomain']}/txt",
                 {"values": [value(i) for i in range(40)]}, big["headers"])
    assert r.status_code == 200, r.text
    empty = api.register()
    _, before = metrics(api)

    N, M, K, F = 5, 3, 4, 2
    for _ in range(N):
        assert q(srv, sub).rcode() == dns.rcode.NOERROR
    for i in range(M):
        assert q(srv, f"nothing{i}").rcode() == dns.rcode.NXDOMAIN
    for _ in range(K):
        assert q(srv, sub, tcp=True).rcode() == dns.rcode.NOERROR
    assert q(srv, empty["subdomain"]).rcode() == dns.rcode.NOERROR   # NODATA
    tc = q(srv, big["subdomain"], use_edns=False)
    assert tc.flags & dns.flags.TC
    # FORMERR: a header claiming two questions, with none
    bad = struct.pack("!HHHHHH", 0x1234, 0, 2, 0, 0, 0)
    for _ in range(F):
        reply = srv.send_raw_udp(bad)
        assert reply and dns.message.from_wire(reply).rcode() == dns.rcode.FORMERR
    # dropped: shorter than a header, and a response (QR=1)
    assert srv.send_raw_udp(b"\x00\x01\x02", timeout=0.3) is None
    assert srv.send_raw_udp(struct.pack("!HHHHHH", 1, 0x8000, 0, 0, 0, 0), timeout=0.3) is None
    # oversize: a datagram larger than any query
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(b"\x00" * 5000, ("127.0.0.1", srv.port))
    q(srv, "", "SOA")        # after the oversize one: it has been read

    families, after = metrics(api)
    qt = "acmens_dns_queries_total"
    assert delta(before, after, qt, transport="udp", qtype="TXT", rcode="NOERROR") == N + 2
    assert delta(before, after, qt, transport="udp", qtype="TXT", rcode="NXDOMAIN") == M
    assert delta(before, after, qt, transport="tcp", qtype="TXT", rcode="NOERROR") == K
    assert delta(before, after, qt, transport="udp", qtype="OTHER", rcode="FORMERR") == F
    assert delta(before, after, qt, transport="udp", qtype="SOA", rcode="NOERROR") == 1
    assert delta(before, after, "acmens_dns_truncated_total") == 1
    lk = "acmens_dns_txt_lookups_total"
    assert delta(before, after, lk, result="values") == N + K + 1
    assert delta(before, after, lk, result="novalues") == M + 1
    dr = "acmens_dns_dropped_total"
    assert delta(before, after, dr, reason="malformed") == 2
    assert delta(before, after, dr, reason="oversize") == 1

    # the size histograms count every answer the queries counter does
    for t in ("udp", "tcp"):
        queries = sum(v for (n, l), v in after.items() if n == qt and ("transport", t) in l)
        assert get(after, "acmens_dns_response_size_bytes_count", transport=t) == queries
        assert get(after, "acmens_dns_response_size_bytes_bucket", transport=t,
                   le="+Inf") == queries
    assert get(after, "acmens_dns_tcp_connections") >= 0


def test_http_counters_and_store_gauges(api):
    acct = api.register()
    sub = acct["subdomain"]
    _, before = metrics(api)
    r = api.call("POST", f"/v1/accounts/{sub}/txt", {"value": value(7)}, acct["headers"])
    assert r.status_code in (200, 201)
    write_status = str(r.status_code)
    assert api.call("GET", f"/v1/accounts/{sub}/txt", headers=acct["headers"]).status_code == 200
    assert api.call("GET", f"/v1/accounts/{sub}/txt").status_code == 401
    for _ in range(2):
        assert api.call("GET", "/no/such/thing").status_code == 404
    _, after = metrics(api)

    rq = "acmens_http_requests_total"
    route = "/v1/accounts/:sub/txt"
    assert delta(before, after, rq, route=route, method="POST", code=write_status) == 1
    assert delta(before, after, rq, route=route, method="GET", code="200") == 1
    assert delta(before, after, rq, route=route, method="GET", code="401") == 1
    assert delta(before, after, rq, route="unmatched", method="GET", code="404") == 2
    assert delta(before, after, rq, route="/metrics", method="GET", code="200") == 1
    # per route, the latency histogram counts what the counters count
    routes = {dict(l)["route"] for (n, l) in after if n == rq}
    for rt in routes:
        total = sum(v for (n, l), v in after.items() if n == rq and dict(l)["route"] == rt)
        assert get(after, "acmens_http_request_duration_seconds_count", route=rt) == total

    stats = api.stats()
    assert get(after, "acmens_zone_serial") == api.server.serial()
    assert get(after, "acmens_accounts") == stats["accounts"]
    assert get(after, "acmens_txt_values") == stats["values"]
    assert get(after, "acmens_txt_values_expired") == 0
    assert get(after, "acmens_commit_batches_total") >= 1
    assert get(after, "acmens_commit_batch_size_count") == get(after, "acmens_commit_batches_total")
    assert get(after, "acmens_commit_batch_size_sum") == get(after, "acmens_commit_ops_total")
    assert get(after, "acmens_commit_seconds_count") == get(after, "acmens_commit_batches_total")
    for kind in ("file", "used", "map"):
        assert get(after, "acmens_store_bytes", kind=kind) > 0
    assert any(n == "acmens_build_info" and v == 1 for (n, _), v in after.items())
    assert get(after, "acmens_start_time_seconds") > 1e9


def start_with_metrics(make_server, mode):
    """A daemon with http.metrics: mode (a plain YAML scalar, as enums
    want) and the admin token."""
    s = make_server(start=False, http="")
    path = os.path.join(s.dir, "admin.token")
    with open(path, "w") as f:
        f.write(ADMIN_TOKEN + "\n")
    os.chmod(path, 0o600)
    s.reconfigure(http=f"admin_token_file: {path}\nmetrics: {mode}")
    s.start()
    return HttpApi(s, ADMIN_TOKEN)


def test_admin_mode_needs_the_token(make_server):
    api = start_with_metrics(make_server, "admin")
    assert api.call("GET", "/metrics").status_code == 401
    assert api.call("GET", "/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    metrics(api, {"Authorization": "Bearer " + api.admin_token})


def test_off_is_not_found(make_server):
    api = start_with_metrics(make_server, "off")
    assert api.call("GET", "/metrics").status_code == 404


def test_label_values_are_escaped(api):
    # a route that cannot match keeps its raw path out of the labels
    text = scrape(api)
    assert "\n\n" not in text
    for line in text.splitlines():
        assert line.startswith("#") or line.startswith("acmens_"), line
