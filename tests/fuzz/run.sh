#!/bin/sh
# SPDX-License-Identifier: MIT
# Run every fuzz harness built by 'make fuzz-build'.
#   run.sh BINDIR SECONDS RUNS
# Each harness runs for SECONDS (or RUNS executions when RUNS > 0), from its
# seed corpus tests/fuzz/corpus/NAME, into a scratch copy of it.  Exits
# non-zero if any harness finds a crash; the crashing input is kept in
# build/fuzz-artifacts/ and its path printed.
set -u
bindir=$1 secs=$2 runs=${3:-0}
top=$(cd "$(dirname "$0")/../.." && pwd)
art=$top/build/fuzz-artifacts
mkdir -p "$art"
failed=0 passed=0
for bin in "$bindir"/fuzz-*; do
	[ -x "$bin" ] || continue
	name=$(basename "$bin" | sed 's/^fuzz-//')
	work=$(mktemp -d)
	[ -d "$top/tests/fuzz/corpus/$name" ] &&
		cp -r "$top/tests/fuzz/corpus/$name/." "$work/" 2>/dev/null
	if [ "$runs" -gt 0 ]; then limit="-runs=$runs"; else limit="-max_total_time=$secs"; fi
	log=$art/$name.log
	if "$bin" $limit -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$art/$name-" -print_final_stats=1 \
		"$work" >"$log" 2>&1; then
		execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
		echo "ok - fuzz-$name: ${execs:-?} executions, no finding"
		passed=$((passed + 1))
	else
		echo "not ok - fuzz-$name: finding, see $log"
		tail -n 30 "$log" | sed 's/^/    /'
		failed=$((failed + 1))
	fi
	rm -rf "$work"
done
echo "fuzz: $passed harnesses without finding, $failed with findings"
[ "$failed" -eq 0 ]
