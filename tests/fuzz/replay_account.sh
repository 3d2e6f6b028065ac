#!/bin/sh
# make check: replay tests/fuzz/corpus/account/ through fuzz_account.
exec "${top_srcdir:-.}/tests/fuzz/run_replay.sh" account
