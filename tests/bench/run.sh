#!/bin/sh
# SPDX-License-Identifier: MIT
# make bench: benchmarks, never timed tests.  Each prints the median of
# several runs and the ratio to its baseline, measured in the same run.
# BENCH_QUICK=1: the same figures at smaller sizes, in a few minutes (a
# size given in the environment still wins).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
export HLX="$top/hlx"
quick() { # BENCH: the sizes of its quick run, as VAR=VALUE words
	case $1 in
	b0300-*) echo BENCH_N=100000 BENCH_BIG_N=400000 ;;
	b0400-*) echo BENCH_N=100000 BENCH_DELTA=1000 BENCH_PROP_N=20 ;;
	b0600-*) echo BENCH_N=200000 BENCH_Q=10000 BENCH_EXACT=100000 BENCH_FAISS_FLAT=20 BENCH_FAISS_MH=100 BENCH_HUGE_N=1000000 ;;
	b0700-*) echo BENCH_N=50000 ;;
	b0900-*) echo BENCH_CASES=10000 BENCH_PROP=10 ;;
	esac
}
for b in "$top"/tests/bench/b[0-9]*.sh; do
	[ -f "$b" ] || continue
	name=$(basename "$b")
	echo "== $name"
	if [ "${BENCH_QUICK:-0}" = 1 ]; then
		set --
		for kv in $(quick "$name"); do
			var=${kv%%=*}
			# a size set in the environment wins
			eval "[ -n \"\${$var:-}\" ]" || set -- "$@" "$kv"
		done
		echo "# quick run: $*"
		env "$@" sh "$b"
	else
		sh "$b"
	fi
done
