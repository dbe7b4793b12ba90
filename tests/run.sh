#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs every C unit test ($HLX_BUILD/tests/test-*) and every shell test
# (tests/tNNNN-*.sh) and tallies their TAP output.  Ends with the line
# "N passed, N failed" and exits non-zero if anything failed.
#
#   HLX_BUILD   build directory holding hlx and tests/ (default: build)
#   HLX_TESTS   space-separated subset to run, e.g. "t0001-sign.sh test-hash"
#   HLX_SEED    seed for randomised tests (default: fixed per test)
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=${HLX_BUILD:-build}
case $build in /*) ;; *) build=$top/$build ;; esac
export HLX_BUILD=$build HLX="$build/hlx" HLX_TOP=$top
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

passed=0 failed=0 broken=""
logdir=$build/test-logs
mkdir -p "$logdir"

progs=""
for t in "$build"/tests/test-*; do
	case $t in *.o|*.d) continue ;; esac
	[ -x "$t" ] && progs="$progs $t"
done
for t in "$top"/tests/t[0-9][0-9][0-9][0-9]-*.sh; do
	[ -f "$t" ] && progs="$progs $t"
done

for t in $progs; do
	name=$(basename "$t")
	if [ -n "${HLX_TESTS:-}" ]; then
		case " $HLX_TESTS " in *" $name "*) ;; *) continue ;; esac
	fi
	log=$logdir/$name.log
	start=$(date +%s)
	case $t in
	*.sh) (cd "$top" && sh "$t") >"$log" 2>&1 </dev/null ;;
	*) (cd "$top" && "$t") >"$log" 2>&1 </dev/null ;;
	esac
	rc=$?
	p=$(grep -c '^ok ' "$log")
	f=$(grep -c '^not ok ' "$log")
	plan=$(grep -E '^1\.\.[0-9]+' "$log" | tail -n 1 | cut -c4-)
	passed=$((passed + p))
	failed=$((failed + f))
	status="ok"
	if [ "$f" -gt 0 ] || [ "$rc" -ne 0 ] || [ -z "$plan" ] ||
	   [ "$plan" -ne $((p + f)) ]; then
		status="FAIL"
		broken="$broken $name"
		if [ "$f" -eq 0 ]; then
			# crashed, wrong plan or bad exit: count the file as a failure
			failed=$((failed + 1))
		fi
		grep -E '^not ok |^#' "$log" | head -n 40 | sed 's/^/    /'
		tail -n 15 "$log" | sed 's/^/    | /'
	fi
	printf '%-40s %4d ok %3d not ok  %3ss  %s\n' "$name" "$p" "$f" \
		$(( $(date +%s) - start )) "$status"
done

[ -n "$broken" ] && echo "failed:$broken (logs in $logdir)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ $((passed)) -gt 0 ]
