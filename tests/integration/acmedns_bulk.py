# SPDX-License-Identifier: ISC
"""acme-dns's schema, and large acme-dns SQLite databases made fast: accounts nobody will log in with
get well-formed bcrypt strings that match no key (hashing each would take
minutes); a few real ones can be mixed in. Used by the bulk import tests
and bench/import_acmedns.py."""

import json
import random
import sqlite3
import sys

BCRYPT_ALPHABET = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
# acme-dns's tables as its db.go creates them: the same for both engines
# but txt, which on PostgreSQL has a SERIAL rowid (SQLite has its own).
ACMEDNS_TABLE = """
CREATE TABLE IF NOT EXISTS acmedns(
    Name TEXT,
    Value TEXT
);"""
RECORDS_TABLE = """
CREATE TABLE IF NOT EXISTS records(
    Username TEXT UNIQUE NOT NULL PRIMARY KEY,
    Password TEXT UNIQUE NOT NULL,
    Subdomain TEXT UNIQUE NOT NULL,
    AllowFrom TEXT
);"""
TXT_TABLE = """
CREATE TABLE IF NOT EXISTS txt(
    Subdomain TEXT NOT NULL,
    Value   TEXT NOT NULL DEFAULT '',
    LastUpdate INT
);"""
TXT_TABLE_PG = """
CREATE TABLE IF NOT EXISTS txt(
    rowid SERIAL,
    Subdomain TEXT NOT NULL,
    Value   TEXT NOT NULL DEFAULT '',
    LastUpdate INT
);"""
SCHEMA = ACMEDNS_TABLE + RECORDS_TABLE + TXT_TABLE
PG_SCHEMA = ACMEDNS_TABLE + RECORDS_TABLE + TXT_TABLE_PG


def bulk_value(i):
    return f"bulk{i:039d}"[-43:]


def write_bulk_db(path, count, now, real=()):
    """count accounts, account i with subdomain bulk-<i>, one value
    bulk_value(i) set at now - 60; real: acme-dns account dicts added as
    they are. Returns nothing; the rows match acme-dns's (two txt rows per
    subdomain, the unused one empty)."""
    rnd = random.Random(count)
    db = sqlite3.connect(path)
    db.executescript(SCHEMA)
    db.execute("INSERT INTO acmedns (Name, Value) VALUES ('db_version', '1')")

    def rows():
        for i in range(count):
            h = "$2a$10$" + "".join(rnd.choice(BCRYPT_ALPHABET) for _ in range(53))
            yield (f"00000000-0000-4000-8000-{i:012d}", h, f"bulk-{i}", "[]")

    def txt_rows():
        for i in range(count):
            yield (f"bulk-{i}", bulk_value(i), now - 60)
            yield (f"bulk-{i}", "", 0)

    db.executemany("INSERT INTO records VALUES (?, ?, ?, ?)", rows())
    db.executemany("INSERT INTO txt VALUES (?, ?, ?)", txt_rows())
    for a in real:
        db.execute("INSERT INTO records VALUES (?, ?, ?, ?)",
                   (a["username"], a["hash"], a["subdomain"], json.dumps(a["allowfrom"])))
        for v in a["values"]:
            db.execute("INSERT INTO txt VALUES (?, ?, ?)", (a["subdomain"], v, now - 30))
    db.commit()
    db.close()


if __name__ == "__main__":
    import time
    write_bulk_db(sys.argv[1], int(sys.argv[2]), int(time.time()))
