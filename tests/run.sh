#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs every C unit test ($HLX_BUILD/tests/test-*) and every shell test
# (tests/tNNNN-*.sh) and tallies their TAP output.  Ends with the line
# "N passed, N failed" and exits non-zero if anything failed.
#
#   HLX_BUILD   build directory holding hlx and tests/ (default: build)
#   HLX_TESTS   space-separated subset to run, e.g. "t0001-sign.sh test-hash"
#   HLX_SEED    seed for randomised tests (default: fixed per test)
#   HLX_JOBS    tests run at once (default: the number of processors); each
#               test has its own scratch directory, home and ports
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=${HLX_BUILD:-build}
case $build in /*) ;; *) build=$top/$build ;; esac
export HLX_BUILD=$build HLX="$build/hlx" HLX_TOP=$top
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
logdir=$build/test-logs

# run.sh --one PATH: run one test, write its log and a result line
# "NAME PASSED FAILED STATUS SECONDS" to $logdir/NAME.result, print the line.
if [ "${1:-}" = --one ]; then
	t=$2
	name=$(basename "$t")
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
	status=ok
	if [ "$f" -gt 0 ] || [ "$rc" -ne 0 ] || [ -z "$plan" ] ||
	   [ "$plan" -ne $((p + f)) ]; then
		status=FAIL
		# crashed, wrong plan or bad exit: count the file as a failure
		[ "$f" -eq 0 ] && f=1
	fi
	secs=$(( $(date +%s) - start ))
	echo "$name $p $f $status $secs" >"$logdir/$name.result"
	printf '%-40s %4d ok %3d not ok  %3ss  %s\n' "$name" "$p" "$f" "$secs" "$status"
	exit 0
fi

mkdir -p "$logdir"
rm -f "$logdir"/*.result

# The longest tests start first, so that the others fill the gaps.
slow="t0950-takedown.sh t0530-sync-crash.sh t0710-leak.sh t0910-case-owner.sh"
slow="$slow t0740-prune.sh t0410-crash.sh test-match t0790-remove.sh t0940-case-url.sh"
slow="$slow t0520-attacks.sh"
all=""
for t in "$build"/tests/test-*; do
	case $t in *.o|*.d) continue ;; esac
	[ -x "$t" ] && all="$all $t"
done
for t in "$top"/tests/t[0-9][0-9][0-9][0-9]-*.sh; do
	[ -f "$t" ] && all="$all $t"
done
progs=""
for s in $slow; do
	for t in $all; do
		[ "$(basename "$t")" = "$s" ] && progs="$progs $t"
	done
done
for t in $all; do
	case " $slow " in *" $(basename "$t") "*) continue ;; esac
	progs="$progs $t"
done
list=""
for t in $progs; do
	name=$(basename "$t")
	case " $list " in *"/$name "*) continue ;; esac
	if [ -n "${HLX_TESTS:-}" ]; then
		case " $HLX_TESTS " in *" $name "*) ;; *) continue ;; esac
	fi
	list="$list $t"
done

jobs=${HLX_JOBS:-$(nproc 2>/dev/null || echo 1)}
case $jobs in '' | *[!0-9]* | 0) jobs=1 ;; esac
echo "# $(echo $list | wc -w) test programs, $jobs at a time"
start=$(date +%s)
for t in $list; do echo "$t"; done | xargs -r -P "$jobs" -n 1 sh "$0" --one

passed=0 failed=0 broken=""
for t in $list; do
	name=$(basename "$t")
	if [ ! -f "$logdir/$name.result" ]; then
		failed=$((failed + 1)) broken="$broken $name"
		continue
	fi
	set -- $(cat "$logdir/$name.result")
	passed=$((passed + $2))
	failed=$((failed + $3))
	if [ "$4" != ok ]; then
		broken="$broken $name"
		echo "== $name failed:"
		grep -E '^not ok |^#' "$logdir/$name.log" | head -n 40 | sed 's/^/    /'
		tail -n 15 "$logdir/$name.log" | sed 's/^/    | /'
	fi
done
echo "# $(( $(date +%s) - start )) s in all"
[ -n "$broken" ] && echo "failed:$broken (logs in $logdir)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ $((passed)) -gt 0 ]
