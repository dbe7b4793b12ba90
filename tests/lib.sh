# SPDX-License-Identifier: MIT
# Shared helpers for the shell integration tests (tests/tNNNN-area.sh).
# Each test sources this file, calls the helpers below, and ends with
# test_done.  Output is TAP.  Every test runs in its own scratch directory
# that is removed on success and kept (and named) on failure.
set -u

: "${HLX:?HLX must name the hlx binary (run through tests/run.sh)}"
HLX_TOP=${HLX_TOP:-$(cd "$(dirname "$0")/.." && pwd)}
test_count=0
test_failed=0
TEST_NAME=$(basename "$0" .sh)
TRASH=$(mktemp -d "${TMPDIR:-/tmp}/hlx-$TEST_NAME.XXXXXX")
export HOME="$TRASH/home"
mkdir -p "$HOME"
unset HLX_HOME HLX_PASSPHRASE_FILE
cd "$TRASH" || exit 1

hlx() { "$HLX" "$@"; }

# test_ok DESC CMD...: CMD must exit 0.
test_ok() {
	desc=$1; shift
	test_count=$((test_count + 1))
	if out=$("$@" 2>&1); then
		echo "ok $test_count - $desc"
	else
		test_failed=$((test_failed + 1))
		echo "not ok $test_count - $desc"
		printf '%s\n' "$out" | sed 's/^/#   /' | head -n 20
	fi
}

# test_fails DESC CMD...: CMD must exit non-zero (and not crash: exit < 128,
# no sanitizer report).
test_fails() {
	desc=$1; shift
	test_count=$((test_count + 1))
	out=$("$@" 2>&1)
	rc=$?
	if [ $rc -ne 0 ] && [ $rc -lt 128 ] &&
	   ! printf '%s' "$out" | grep -q 'Sanitizer'; then
		echo "ok $test_count - $desc"
	else
		test_failed=$((test_failed + 1))
		echo "not ok $test_count - $desc (exit $rc)"
		printf '%s\n' "$out" | sed 's/^/#   /' | head -n 20
	fi
}

# test_fails_ext DESC CMD...: an external tool (ssh-keygen, git) must fail;
# any non-zero exit counts.
test_fails_ext() {
	desc=$1; shift
	test_count=$((test_count + 1))
	if out=$("$@" 2>&1); then
		test_failed=$((test_failed + 1))
		echo "not ok $test_count - $desc (it succeeded)"
		printf '%s\n' "$out" | sed 's/^/#   /' | head -n 20
	else
		echo "ok $test_count - $desc"
	fi
}

# test_fails_with DESC RC PATTERN CMD...: CMD must exit with RC and print
# something matching PATTERN (grep -E) on stderr or stdout.
test_fails_with() {
	desc=$1; want=$2; pat=$3; shift 3
	test_count=$((test_count + 1))
	out=$("$@" 2>&1)
	rc=$?
	if [ $rc -eq "$want" ] &&
	   { [ -z "$pat" ] || printf '%s' "$out" | grep -Eq -- "$pat"; }; then
		echo "ok $test_count - $desc"
	else
		test_failed=$((test_failed + 1))
		echo "not ok $test_count - $desc (exit $rc, want $want /$pat/)"
		printf '%s\n' "$out" | sed 's/^/#   /' | head -n 20
	fi
}

# test_cmp DESC EXPECTED ACTUAL: two files are identical.
test_cmp() {
	test_count=$((test_count + 1))
	if cmp -s "$2" "$3"; then
		echo "ok $test_count - $1"
	else
		test_failed=$((test_failed + 1))
		echo "not ok $test_count - $1"
		diff -u "$2" "$3" | head -n 20 | sed 's/^/#   /'
	fi
}

test_done() {
	echo "1..$test_count"
	cd / || exit 1
	if [ $test_failed -eq 0 ]; then
		rm -rf "$TRASH"
		exit 0
	fi
	echo "# $test_failed failed; scratch kept in $TRASH"
	exit 1
}

# Deterministic randomness for synthetic data: rand_hex NBYTES gives the
# next value of a stream fixed by $SEED (each test prints its seed).  The
# position is kept in a file so that $(rand_hex N) advances it too.
SEED=${HLX_SEED:-1}
rand_hex() {
	n=$(cat "$TRASH/.rand" 2>/dev/null || echo 0)
	echo $((n + 1)) >"$TRASH/.rand"
	openssl enc -aes-128-ctr -nosalt -pass "pass:hlx-$SEED-$n" -pbkdf2 \
		-in /dev/zero 2>/dev/null | head -c "$1" | od -An -v -tx1 | tr -d ' \n'
}
