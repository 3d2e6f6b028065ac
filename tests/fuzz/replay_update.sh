#!/bin/sh
# make check: replay tests/fuzz/corpus/update/ through fuzz_update.
exec "${top_srcdir:-.}/tests/fuzz/run_replay.sh" update
