#!/bin/sh
# make check: replay tests/fuzz/corpus/tsig/ through fuzz_tsig.
exec "${top_srcdir:-.}/tests/fuzz/run_replay.sh" tsig
