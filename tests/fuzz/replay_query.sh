#!/bin/sh
# make check: replay tests/fuzz/corpus/query/ through fuzz_query.
exec "${top_srcdir:-.}/tests/fuzz/run_replay.sh" query
