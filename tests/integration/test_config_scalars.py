# SPDX-License-Identifier: ISC
"""Scalars in acmens.yaml, quoted or not: a number, a duration, a size, an
enum and a boolean mean the same written plain, 'single-quoted' or
"double-quoted" (checked on what a live acmensd then does), a string keeps
its text whatever it looks like, and a wrong value is refused by acmensd and
check-config alike, naming file:line, the key, the value as written (quotes
included) and what is accepted."""

import json
import os
import re

import dns.message
import dns.query
import pytest
import requests

from conftest import ZONE, free_port, wait_for, write_config
from refusal import assert_same_refusal

STYLES = ["{}", "'{}'", '"{}"']


def soa(s):
    r = s.query(ZONE, "SOA")
    return r.answer[0]


@pytest.mark.parametrize("style", STYLES)
def test_integer(make_server, style):
    """zone.soa.minimum, an integer: the SOA's last field."""
    s = make_server(minimum=style.format(77))
    assert soa(s)[0].minimum == 77


@pytest.mark.parametrize("style", STYLES)
def test_duration(make_server, style):
    """zone.soa.ttl, seconds: the SOA's own TTL."""
    s = make_server(soa_ttl=style.format(123))
    assert soa(s).ttl == 123


@pytest.mark.parametrize("style", STYLES)
def test_size(make_server, style):
    """http.max_body 1K: a body of 4096 bytes is refused, a small one is not
    (the default is 64K)."""
    s = make_server(http="max_body: " + style.format("1K"))
    assert requests.post(s.http_url + "/register", data=b"x" * 4096, timeout=5).status_code == 413
    assert requests.post(s.http_url + "/register", data=b"{}", timeout=5).status_code == 201


@pytest.mark.parametrize("style", STYLES)
def test_enum(make_server, style):
    """log.format json: every line the daemon writes is a JSON object."""
    s = make_server(log_extra={"format": style.format("json")})
    lines = [line for line in s.read_log().splitlines() if line.strip()]
    assert lines and all(isinstance(json.loads(line), dict) for line in lines), lines


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("word,on", [("no", False), ("off", False), ("yes", True),
                                     ("true", True)])
def test_boolean(make_server, style, word, on):
    """dns.name_index: the daemon says at start whether it built the index."""
    s = make_server(extra_dns=f"  name_index: {style.format(word)}\n")
    assert ("name index built" in s.read_log()) == on, s.read_log()


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("word", ["off", "1M", "007"])
def test_string_keeps_its_text(make_server, monkeypatch, style, word):
    """store.path, a string: a relative path that looks like a boolean, a
    size or a number is that directory (relative to acmensd's working
    directory), whichever way it is written."""
    s = make_server(start=False)
    monkeypatch.chdir(s.dir)
    text = open(s.config).read().replace(f"  path: {s.store}\n",
                                         f"  path: {style.format(word)}\n")
    open(s.config, "w").write(text)
    s.start()
    assert os.path.exists(os.path.join(s.dir, word, "data.mdb"))


# --- refusals --------------------------------------------------------------------

def bad_config(tmp_path, key, written):
    """A configuration with key (a dotted path, one of those ACCEPTED
    names) set to written, and the line it stands on."""
    cfg = str(tmp_path / "acmens.yaml")
    section, name = key.rsplit(".", 1)
    kw = {}
    if section == "dns":
        kw["extra_dns"] = f"  {name}: {written}\n"
    elif section == "log":
        kw["log_level"] = written
    elif section == "http":
        kw["http"] = f"{name}: {written}"
        kw["http_port"] = free_port()
    write_config(cfg, free_port(), str(tmp_path / "store"), **kw)
    if section == "zone.soa":
        text = open(cfg).read()
        text = re.sub(rf"(?m)^    {name}: .*$", lambda m: f"    {name}: {written}", text, count=1)
        open(cfg, "w").write(text)
    lines = open(cfg).read().splitlines()
    line = next(i for i, t in enumerate(lines, 1) if t.strip() == f"{name}: {written}".strip())
    return cfg, line


ACCEPTED = {
    "dns.udp_payload": "expected an integer from 512 to 4096",
    "zone.soa.ttl": "expected an integer from 0 to 2147483647",
    "http.max_body": "expected a size from 1K to 16M (bytes, or a number with K, M, G or T;",
    "log.level": "expected one of error, warning, notice, info, debug",
    "dns.name_index": "expected true or false (or yes, no, on, off;",
    "dns.udp_yield": "expected true or false (or yes, no, on, off;",
}


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("key,value", [
    ("dns.udp_payload", "four"),
    ("dns.udp_payload", "4097"),
    ("dns.udp_payload", "-1"),
    ("zone.soa.ttl", "1h"),
    ("http.max_body", "1Q"),
    ("http.max_body", "17M"),
    ("log.level", "loud"),
    ("log.level", "DEBUG"),
    ("dns.name_index", "maybe"),
    ("dns.udp_yield", "2"),
])
def test_wrong_value_is_named_as_written(tmp_path, style, key, value):
    written = style.format(value)
    cfg, line = bad_config(tmp_path, key, written)
    msg = assert_same_refusal(cfg, f"{cfg}:{line}: {key}: {ACCEPTED[key]}")
    assert re.search(r"[ (]got " + re.escape(written) + r"\)$", msg), msg
    assert not os.path.exists(tmp_path / "store")


@pytest.mark.parametrize("key", ["dns.udp_payload", "http.max_body", "log.level",
                                 "dns.name_index"])
@pytest.mark.parametrize("written,shown", [
    ('""', '""'), ("''", "''"), ("", "nothing"), ("[1]", "a list"), ("{a: 1}", "a mapping"),
    ('" 4"', '" 4"'), ("'it''s'", "'it''s'"),
])
def test_empty_and_odd_values(tmp_path, key, written, shown):
    """Values with nothing to read, or of another shape, are named for what
    they are; quotes stay as written (a space inside them shows)."""
    cfg, line = bad_config(tmp_path, key, written)
    msg = assert_same_refusal(cfg, f"{cfg}:{line}: {key}: {ACCEPTED[key]}")
    assert msg.endswith(f"got {shown})"), msg


def test_quoted_numbers_reach_dns(make_server):
    """dns.udp_payload quoted: the EDNS payload size the server offers."""
    s = make_server(extra_dns='  udp_payload: "1400"\n')
    q = dns.message.make_query(ZONE, "SOA", use_edns=0, payload=4096)
    r = dns.query.udp(q, "127.0.0.1", port=s.port, timeout=2)
    assert r.payload == 1400


def test_quoted_workers_count(make_server):
    s = make_server(extra_dns="", start=False)
    text = open(s.config).read().replace("  workers: 2\n", "  workers: '3'\n")
    open(s.config, "w").write(text)
    s.start()
    assert wait_for(lambda: "workers=3" in s.read_log(), 5), s.read_log()
