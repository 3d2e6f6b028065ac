#!/bin/sh
# make check: replay tests/fuzz/corpus/batch_scan/ through fuzz_batch_scan.
exec "${top_srcdir:-.}/tests/fuzz/run_replay.sh" batch_scan
