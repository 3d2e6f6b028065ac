#!/bin/sh
# SPDX-License-Identifier: ISC
# make check's entry to scripts/check-includes, from the test folder so that
# its log lands where the build tree has a folder (also under distcheck).
top=$(cd "$(dirname "$0")/.." && pwd)
exec /usr/bin/python3 "$top/scripts/check-includes" "$top"
