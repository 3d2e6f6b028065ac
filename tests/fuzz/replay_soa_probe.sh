#!/bin/sh
# make check: replay tests/fuzz/corpus/soa_probe/ through fuzz_soa_probe.
exec "${top_srcdir:-.}/tests/fuzz/run_replay.sh" soa_probe
