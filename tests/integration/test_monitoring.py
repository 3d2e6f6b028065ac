# SPDX-License-Identifier: ISC
"""The Grafana dashboard (contrib/grafana/acmens.json) and the Prometheus
alerting rules (contrib/prometheus/acmens-rules.yml): their shape, promtool's
checks and unit tests, and that every metric their expressions name is in
the /metrics page of a live acmensd that has served DNS queries over UDP and
TCP, a zone transfer, API writes and a secondary's SOA answers."""

import json
import os
import re
import shutil
import subprocess
import threading

import dns.message
import dns.query
import dns.rdatatype
import pytest
import yaml

from conftest import TOP, ZONE, start_http, value

DASHBOARD = os.path.join(TOP, "contrib", "grafana", "acmens.json")
RULES_DIR = os.path.join(TOP, "contrib", "prometheus")
RULES = os.path.join(RULES_DIR, "acmens-rules.yml")
RULES_TEST = os.path.join(RULES_DIR, "acmens-rules.test.yml")
PROMTOOL = shutil.which("promtool")

# Series Prometheus makes itself for every target; no exporter has them.
SYNTHETIC = {"up"}

# What the dashboard must show (by metric) and which alerts must exist.
DASHBOARD_NEEDS = {
    "acmens_dns_queries_total", "acmens_dns_txt_lookups_total", "acmens_http_requests_total",
    "acmens_http_request_duration_seconds_bucket", "acmens_commit_seconds_bucket",
    "acmens_commit_batch_size_bucket", "acmens_zone_serial", "acmens_secondary_serial",
    "acmens_store_bytes", "acmens_store_full", "acmens_dns_rrl_total",
    "acmens_dns_dropped_total", "acmens_dns_refused_total", "acmens_dns_workers_alive",
    "acmens_delegation_accounts",
}
ALERTS = {"AcmensDown", "AcmensSecondaryBehind", "AcmensCommitLatencyHigh",
          "AcmensStoreNearlyFull", "AcmensStoreFull", "AcmensApiErrors",
          "AcmensDnsWorkerStalled", "AcmensDnsWorkersDead"}

# --- PromQL: which metric names an expression reads -------------------------

KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or",
            "unless", "offset", "bool", "inf", "nan"}


def promql_metric_names(expr):
    """The metric names in a PromQL expression (Grafana's $variables
    allowed): strings, label matchers, ranges, grouping clauses and numbers
    go first; what is left and is not a function call or a keyword is a
    metric name."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', '""', expr)
    e = re.sub(r"\{[^}]*\}", " ", e)
    e = re.sub(r"\[[^\]]*\]", " ", e)
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)
    e = re.sub(r"\$\{\w+\}|\$\w+", " ", e)
    e = re.sub(r"\b\d+(\.\d+)?([eE][+-]?\d+)?(ms|s|m|h|d|w|y)?\b", " ", e)
    names = set()
    for m in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", e):
        if m.group(0) in KEYWORDS or re.match(r"\s*\(", e[m.end():]):
            continue
        names.add(m.group(0))
    return names


def walk_panels(panels):
    for p in panels:
        yield p
        yield from walk_panels(p.get("panels", []))


def load_dashboard():
    with open(DASHBOARD) as f:
        return json.load(f)


def dashboard_exprs(dash):
    """Every PromQL expression of the panels, and the metric each
    label_values() template query reads (as an expression of its own)."""
    exprs = [t["expr"] for p in walk_panels(dash["panels"]) for t in p.get("targets", [])]
    for v in dash["templating"]["list"]:
        if v["type"] == "query":
            exprs += re.findall(r"label_values\((\w+)", v["definition"])
    return exprs


def load_rules():
    with open(RULES) as f:
        return [r for g in yaml.safe_load(f)["groups"] for r in g["rules"]]


def all_metric_names():
    exprs = dashboard_exprs(load_dashboard()) + [r["expr"] for r in load_rules()]
    return set().union(*(promql_metric_names(e) for e in exprs))


def missing_from(names, metrics_text):
    """The names that are neither a sample in the page, nor a histogram's
    _bucket/_sum/_count whose family has samples, nor made by Prometheus."""
    samples = {ln.split("{")[0].split()[0] for ln in metrics_text.splitlines()
               if ln and not ln.startswith("#")}
    types = dict(re.findall(r"^# TYPE (\S+) (\S+)$", metrics_text, re.M))
    missing = set()
    for n in names - SYNTHETIC:
        family = re.sub(r"_(bucket|sum|count)$", "", n)
        if n in samples or (family != n and types.get(family) == "histogram" and
                            family + "_bucket" in samples):
            continue
        missing.add(n)
    return missing


def test_promql_parser():
    assert promql_metric_names(
        'histogram_quantile(0.99, sum by (instance, le) (rate(a_seconds_bucket{job=~"$job", '
        'x="rate(b)"}[$__rate_interval]))) > 0.5 and on (instance) c_total offset 5m') == \
        {"a_seconds_bucket", "c_total"}
    assert promql_metric_names("x - on (i) group_right y{k=\"v\"} / ignoring(k) z > 1e3") == \
        {"x", "y", "z"}
    assert promql_metric_names("time() - acmens_start_time_seconds{instance=~\"$instance\"}") == \
        {"acmens_start_time_seconds"}
    page = "# TYPE h histogram\nh_bucket{le=\"1\"} 0\nh_sum 0\nh_count 0\nc_total 3\n"
    assert missing_from({"h_bucket", "h_count", "c_total", "up"}, page) == set()
    assert missing_from({"h", "c", "d_total", "c_total_bucket"}, page) == \
        {"h", "c", "d_total", "c_total_bucket"}


# --- the dashboard ----------------------------------------------------------

def overlaps(a, b):
    return (a["x"] < b["x"] + b["w"] and b["x"] < a["x"] + a["w"] and
            a["y"] < b["y"] + b["h"] and b["y"] < a["y"] + a["h"])


def test_dashboard_shape():
    dash = load_dashboard()
    assert 36 <= dash["schemaVersion"] <= 39          # Grafana 9.0 to 10.x
    assert dash["uid"] == "acmens" and dash["title"]
    variables = {v["name"]: v for v in dash["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    for name in ("job", "instance"):
        assert variables[name]["datasource"]["uid"] == "${datasource}"
    panels = list(walk_panels(dash["panels"]))
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids)), "panel ids repeat"
    grid = [p["gridPos"] for p in panels]
    for g in grid:
        assert g["x"] >= 0 and g["x"] + g["w"] <= 24, g
    for i, a in enumerate(grid):
        for b in grid[i + 1:]:
            assert not overlaps(a, b), (a, b)
    for p in panels:
        if p["type"] == "row":
            continue
        assert p["title"] and p.get("description"), p["title"]
        assert p["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, p["title"]
        assert p["targets"], p["title"]
        for t in p["targets"]:
            assert t["datasource"]["uid"] == "${datasource}", p["title"]
            assert 'job=~"$job"' in t["expr"] and 'instance=~"$instance"' in t["expr"], t["expr"]
    names = set().union(*(promql_metric_names(e) for e in dashboard_exprs(dash)))
    assert DASHBOARD_NEEDS <= names, DASHBOARD_NEEDS - names


needs_promtool = pytest.mark.skipif(PROMTOOL is None,
                                    reason="promtool not installed (Debian package prometheus)")


@needs_promtool
def test_dashboard_expressions_parse(tmp_path):
    """promtool parses every panel's query once Grafana's variables are
    replaced by what Grafana would put there."""
    exprs = [t["expr"] for p in walk_panels(load_dashboard()["panels"])
             for t in p.get("targets", [])]
    rules = []
    for i, e in enumerate(exprs):
        e = e.replace("$__rate_interval", "1m").replace("$job", ".*").replace("$instance", ".*")
        assert "$" not in e, e
        rules.append({"record": f"dashboard:query{i}", "expr": e})
    path = tmp_path / "dashboard-rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    p = subprocess.run([PROMTOOL, "check", "rules", str(path)], capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    assert f"{len(exprs)} rules found" in p.stdout


# --- the alerting rules -----------------------------------------------------

def test_rules_shape():
    rules = load_rules()
    assert {r["alert"] for r in rules} == ALERTS | {"AcmensMetricsAbsent"}
    for r in rules:
        assert r["labels"]["severity"] in ("warning", "critical"), r["alert"]
        assert r["annotations"]["summary"], r["alert"]
        assert len(r["annotations"]["description"]) > 80, r["alert"]


@needs_promtool
def test_promtool_check_and_unit_tests():
    p = subprocess.run([PROMTOOL, "check", "rules", RULES], capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    assert f"SUCCESS: {len(load_rules())} rules found" in p.stdout
    p = subprocess.run([PROMTOOL, "test", "rules", RULES_TEST], capture_output=True,
                       text=True, cwd=RULES_DIR)
    assert p.returncode == 0, p.stdout + p.stderr
    with open(RULES_TEST) as f:
        tested = {t["alertname"] for case in yaml.safe_load(f)["tests"]
                  for t in case.get("alert_rule_test", [])}
    assert tested == {r["alert"] for r in load_rules()}


# --- against a live acmensd -------------------------------------------------

def test_every_metric_exists_live(make_server, fake_secondary):
    secondary = fake_secondary
    secondary.serial = 1
    transfer = f"""transfer:
  allow:
    - {{address: 127.0.0.1/32}}
  notify: ["127.0.0.1:{secondary.port}"]
"""
    api = start_http(make_server, zone={"extra_dns": transfer})
    srv = api.server
    acct = api.register()
    r = api.call("POST", f"/v1/accounts/{acct['subdomain']}/txt", {"value": value(1)},
                 acct["headers"])
    assert r.status_code in (200, 201), r.text
    r = api.call("POST", "/update", {"subdomain": acct["subdomain"], "txt": value(2)},
                 acct["headers"])
    assert r.status_code == 200, r.text
    assert srv.query(acct["fulldomain"] + ".", "TXT").answer
    assert srv.query(f"nothing.{ZONE}", "TXT", tcp=True).answer == []
    axfr = list(dns.query.xfr("127.0.0.1", ZONE, port=srv.port, timeout=10, lifetime=30))
    assert len(axfr) >= 1

    def page():
        r = api.call("GET", "/metrics")
        assert r.status_code == 200, r.text
        return r.text
    # The secondary is listed once it has answered an SOA probe.
    text = page()
    for _ in range(100):
        if f'acmens_secondary_serial{{secondary="127.0.0.1:{secondary.port}"}} 1' in text:
            break
        threading.Event().wait(0.1)
        text = page()
    assert f'acmens_secondary_serial{{secondary="127.0.0.1:{secondary.port}"}} 1' in text
    names = all_metric_names()
    assert len(names) >= 25, sorted(names)
    assert missing_from(names, text) == set()
    # and the page does not hold them by accident: each family the
    # dashboard needs has a sample that this traffic moved or set
    assert re.search(r'^acmens_dns_queries_total\{transport="tcp",qtype="AXFR",rcode="NOERROR"\} '
                     r'[1-9]', text, re.M), text
    assert re.search(r'^acmens_http_requests_total\{route="/update",method="POST",code="200"\} 1$',
                     text, re.M), text
    assert re.search(r'^acmens_dns_txt_lookups_total\{result="values"\} [1-9]', text, re.M)
    assert re.search(r"^acmens_dns_workers_alive 2$", text, re.M), text


def test_documented():
    """docs/operations.md's Monitoring section names every alert (what to
    do when it fires) and every row of the dashboard."""
    with open(os.path.join(TOP, "docs", "operations.md")) as f:
        text = f.read()
    section = text.split("\n## Monitoring\n", 1)[1].split("\n## ", 1)[0]
    for r in load_rules():
        assert re.search(rf"^\| `{r['alert']}`", section, re.M), r["alert"]
    for p in load_dashboard()["panels"]:
        if p["type"] == "row":
            assert re.search(rf"^\| {re.escape(p['title'])} \|", section, re.M), p["title"]
