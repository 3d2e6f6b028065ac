#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""An acme-dns client for lego's `exec` DNS provider (EXEC_MODE=RAW), doing
what lego's own `acme-dns` provider does, request for request:

    exec_path present -- DOMAIN TOKEN KEYAUTH
        account = goacmedns storage[DOMAIN]     (ACME_DNS_STORAGE_PATH)
        POST $ACME_DNS_API_BASE/update          (goacmedns UpdateTXTRecord)
            Content-Type: application/json
            User-Agent: goacmedns (linux; amd64)
            X-Api-User / X-Api-Key: the account's username / password
            {"SubDomain":"<subdomain>","Txt":"<value>"}
        anything but 200 is an error
    exec_path cleanup -- ...                    nothing: acme-dns has no removal

Why it exists: Debian builds lego without its acme-dns provider (goacmedns
is not packaged), so the end-to-end test drives the same requests through
lego's exec provider. The body is what Go's json.Marshal makes of
goacmedns's untagged struct: capitalised keys, no spaces; acme-dns decodes
it case-insensitively, and so must acmens.
"""

import base64
import hashlib
import http.client
import json
import os
import sys
import urllib.parse


def fetch(storage_path, domain):
    """goacmedns fileStorage.Fetch: the account stored for the domain; Go
    decodes the account's keys case-insensitively."""
    with open(storage_path) as f:
        accounts = json.load(f)
    if domain not in accounts:
        raise SystemExit(f"acme-dns: requested domain is not present in storage: {domain}")
    return {k.lower(): v for k, v in accounts[domain].items()}


def update_txt(api_base, account, value):
    url = urllib.parse.urlsplit(api_base)
    conn_cls = http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
    conn = conn_cls(url.hostname, url.port, timeout=30)
    body = json.dumps({"SubDomain": account["subdomain"], "Txt": value}, separators=(",", ":"))
    conn.request("POST", url.path.rstrip("/") + "/update", body=body.encode(), headers={
        "Content-Type": "application/json",
        "User-Agent": "goacmedns (linux; amd64)",
        "X-Api-User": account["username"],
        "X-Api-Key": account["password"],
    })
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    if resp.status != 200:
        raise SystemExit(f"failed to update txt record : status code {resp.status} "
                         f"response: {data.decode(errors='replace')}")
    print(f"acme-dns: {account['subdomain']} <- {value}")


def record_value(key_auth):
    """dns01.GetRecord: base64url(SHA-256(key authorization)), no padding."""
    value = base64.urlsafe_b64encode(hashlib.sha256(key_auth.encode()).digest())
    return value.decode().rstrip("=")


def main(argv):
    if len(argv) != 6 or argv[2] != "--":
        raise SystemExit(f"usage: {argv[0]} present|cleanup -- DOMAIN TOKEN KEYAUTH "
                         "(lego exec provider, EXEC_MODE=RAW)")
    command, domain, key_auth = argv[1], argv[3], argv[5]
    if command == "cleanup":
        return
    if command != "present":
        raise SystemExit(f"unknown command {command}")
    value = record_value(key_auth)
    account = fetch(os.environ["ACME_DNS_STORAGE_PATH"], domain)
    update_txt(os.environ["ACME_DNS_API_BASE"], account, value)


if __name__ == "__main__":
    main(sys.argv)
