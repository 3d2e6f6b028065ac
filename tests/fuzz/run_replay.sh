#!/bin/sh
# Replays the fuzz corpus (every input ever kept) through the fuzz target.
exec "${builddir:-.}/tests/fuzz/fuzz_query" "${top_srcdir:-.}/tests/fuzz/corpus/query"
