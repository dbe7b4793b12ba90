#!/bin/sh
# SPDX-License-Identifier: MIT
# Crash safety: kill 'hlx import' and 'hlx add' with SIGKILL at random
# moments, until at least 50 kills have landed while hlx was running.
# After every kill the list is at the previous or the new version, never
# between; fsck is clean; no committed version is lost.
. "$(dirname "$0")/lib.sh"

SEED=${HLX_SEED:-410}
WANT=${HLX_CRASH_KILLS:-50}
MAXROUNDS=$((WANT * 4))
echo "# seed $SEED, until $WANT kills land (at most $MAXROUNDS rounds)"
hlx --home n init --org crash-org --no-passphrase 2>/dev/null
hlx --home n list create l1 2>/dev/null

# A first version killed after its pack was written, before the state
# took it: the same home copied before the import, given the pack the
# import wrote.  fsck counts the orphan as a version an interrupted change
# left, as it does for any later version, not as a planted object.
hlx --home n list create first 2>/dev/null
cp -r n n-first
printf 'hash,category\nmd5:%s,cat-a\n' "$(rand_hex 16)" >first.csv
hlx --home n import first first.csv 2>/dev/null
cp "$(hlx --home n list repo first)"/objects/pack/pack-* "$(hlx --home n-first list repo first)"/objects/pack/
test_ok "a first version a crash left: fsck is clean" hlx --home n-first fsck first
test_ok "and says what it left" sh -c '"$HLX" --home n-first fsck first 2>&1 | grep -q "an interrupted change left"'
test_ok "the list is still without a version" sh -c '"$HLX" --home n-first list ls | grep "^first " | grep -q " v0 "'

# Synthetic hashes and per-round sizes and delays, all from the seed.
openssl enc -aes-128-ctr -nosalt -pass "pass:hlx-$SEED" -pbkdf2 -in /dev/zero 2>/dev/null |
	head -c $((MAXROUNDS * 1500 * 16)) | od -An -v -tx1 -w16 | tr -d ' ' | sed 's/^/md5:/;s/$/,cat-a/' >pool
awk -v s="$SEED" -v n="$MAXROUNDS" 'BEGIN { srand(s); for (i = 0; i < n; i++) print 1000 + int(rand() * 1000), rand() }' >plan

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
version() { "$HLX" --home n list ls | awk '$1 == "l1" { sub("v", "", $3); print $3 }'; }
# Calibrate on another list; the estimate follows completed runs later.
hlx --home n list create calib 2>/dev/null
{ echo "hash,category"; head -n 1500 pool; } >in.csv
t0=$(now_ms); hlx --home n import calib in.csv 2>/dev/null; dur=$(( $(now_ms) - t0 ))
echo "# one import takes $dur ms"

prev=0 landed=0 completed=0 bad=0 r=0 used=0
while [ $landed -lt "$WANT" ] && [ $r -lt $MAXROUNDS ]; do
	set -- $(sed -n "$((r + 1))p" plan)
	rows=$1 frac=$2
	{ echo "hash,category"; sed -n "$((used + 1)),$((used + rows))p" pool; } >in.csv
	used=$((used + rows))
	if [ $((r % 4)) -eq 3 ]; then
		op=add
		set -- add l1 "$(sed -n 2p in.csv | cut -d, -f1)" "$(sed -n 3p in.csv | cut -d, -f1)" --tag crash
	else
		op=import
		set -- import l1 in.csv
	fi
	d=$(awk -v f="$frac" -v ms="$dur" 'BEGIN { printf "%.3f", f * ms * 0.9 / 1000 }')
	t0=$(now_ms)
	"$HLX" --home n "$@" >/dev/null 2>&1 &
	pid=$!
	sleep "$d"
	kill -KILL $pid 2>/dev/null && landed=$((landed + 1))
	wait $pid 2>/dev/null
	rc=$?
	if [ $rc -eq 0 ]; then
		completed=$((completed + 1))
		[ $op = import ] && dur=$(( ($(now_ms) - t0 + dur) / 2 ))
	fi
	v=$(version)
	if [ -z "$v" ]; then
		echo "# round $r: cannot read the version"; bad=$((bad + 1))
	elif [ $rc -eq 0 ] && [ $op = import ] && [ "$v" -ne $((prev + 1)) ]; then
		echo "# round $r: completed import but version $v after $prev"; bad=$((bad + 1))
	elif [ "$v" -ne "$prev" ] && [ "$v" -ne $((prev + 1)) ]; then
		echo "# round $r: version $v after $prev"; bad=$((bad + 1))
	fi
	if ! out=$("$HLX" --home n fsck 2>&1); then
		echo "# round $r (delay $d s, $op): fsck failed:"; echo "$out" | sed 's/^/#   /'
		bad=$((bad + 1))
	fi
	[ -n "$v" ] && prev=$v
	r=$((r + 1))
done
echo "# $r rounds: $landed kills landed while hlx ran, $completed runs completed, final version $prev"
test_ok "every round left a consistent list ($bad bad)" test $bad -eq 0
test_ok "at least $WANT kills landed mid-run" test $landed -ge "$WANT"
test_ok "and some runs completed" test $completed -ge 1
test_ok "git agrees" git -C "$(hlx --home n list repo l1)" fsck --strict

test_done
