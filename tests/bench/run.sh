#!/bin/sh
# SPDX-License-Identifier: MIT
# make bench: benchmarks, never timed tests.  Each prints the median of
# several runs and the ratio to its baseline, measured in the same run.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
export HLX="$top/hlx"
for b in "$top"/tests/bench/b[0-9]*.sh; do
	[ -f "$b" ] || continue
	echo "== $(basename "$b")"
	sh "$b"
done
