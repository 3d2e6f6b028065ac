#!/bin/sh
# Replays one fuzz target's corpus (every input ever kept) through it:
# run_replay.sh NAME runs tests/fuzz/fuzz_NAME on tests/fuzz/corpus/NAME/.
name=${1:?usage: run_replay.sh TARGET}
exec "${builddir:-.}/tests/fuzz/fuzz_$name" "${top_srcdir:-.}/tests/fuzz/corpus/$name"
