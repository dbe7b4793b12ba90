#!/bin/sh
# SPDX-License-Identifier: MIT
# Killing 'hlx sync' with SIGKILL at random moments never leaves a
# half-applied version: after every kill the mirror is at a version the
# publisher made, fsck is clean, and the next sync resumes from there.
. "$(dirname "$0")/lib.sh"

SEED=${HLX_SEED:-530}
WANT=${HLX_CRASH_KILLS:-30}
MAXROUNDS=$((WANT * 4))
echo "# seed $SEED, until $WANT kills land (at most $MAXROUNDS rounds)"
for x in a b; do hlx --home $x init --org org-$x --no-passphrase 2>/dev/null; done
hlx --home a list create l 2>/dev/null
hlx --home a key show --root >a.pub
hlx --home b peer add a --url "file://$PWD/www/" --key a.pub 2>/dev/null
hlx --home b subscribe a l
openssl enc -aes-128-ctr -nosalt -pass "pass:hlx-$SEED" -pbkdf2 -in /dev/zero 2>/dev/null |
	head -c $((MAXROUNDS * 2000 * 16)) | od -An -v -tx1 -w16 | tr -d ' ' | sed 's/^/md5:/;s/$/,cat-a/' >pool
awk -v s="$SEED" -v n="$MAXROUNDS" 'BEGIN { srand(s); for (i = 0; i < n; i++) print rand() }' >plan
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
held() { "$HLX" --home b list ls | awk '$1 == "a/l" { sub("v", "", $3); print $3 }'; }

# calibrate with one full sync of two versions
for v in 1 2; do
	{ echo "hash,category"; sed -n "$(( (v - 1) * 2000 + 1 )),$(( v * 2000 ))p" pool; } >in.csv
	hlx --home a import l in.csv 2>/dev/null
done
hlx --home a publish --to www 2>/dev/null
t0=$(now_ms); hlx --home b sync 2>/dev/null; dur=$(( $(now_ms) - t0 ))
echo "# a sync of two versions takes $dur ms"
# The crash window itself, made on purpose: a sync that applied several
# versions at once committed the state, and died before moving the ref.
mirror=b/lists/a/l.git
# the versions of one sync come into the mirror as one pack: with one
# index a version is never seen without its parent, whatever order a
# crash cut the moves in
test_ok "a sync of two versions adds one pack to the mirror" \
	test "$(ls $mirror/objects/pack/ | grep -c '\.idx$')" = 1
top=$(git -C $mirror rev-parse refs/heads/main)
git -C $mirror update-ref refs/heads/main refs/heads/main~1
test_ok "state two versions ahead, ref one behind: the next writer finishes the move" \
	sh -c '"$HLX" --home b fsck && test "$(git -C '$mirror' rev-parse refs/heads/main)" = '$top
git -C $mirror update-ref -d refs/heads/main
test_ok "state ahead of a ref not yet made: finished too" \
	sh -c '"$HLX" --home b fsck && test "$(git -C '$mirror' rev-parse refs/heads/main)" = '$top
git -C $mirror update-ref refs/heads/main refs/heads/main~1
test_ok "a reader never moves the ref (and answers from the state)" \
	sh -c '"$HLX" --home b lookup "$(sed -n 2p in.csv | cut -d, -f1)" && test "$(git -C '$mirror' rev-parse refs/heads/main)" != '$top
hlx --home b fsck >/dev/null 2>&1
# A round's sync (two small versions onto a held list) is much quicker
# than the first one: calibrate again on one of that shape, and let the
# estimate follow the syncs that complete, so that most kills land.
{ echo "hash,category"; sed -n "4001,5000p" pool; } >in.csv
hlx --home a import l in.csv 2>/dev/null
hlx --home a retract l "$(sed -n 2p in.csv | cut -d, -f1)" 2>/dev/null
hlx --home a publish --to www 2>/dev/null
t0=$(now_ms); hlx --home b sync 2>/dev/null; dur=$(( $(now_ms) - t0 ))
echo "# a round's sync takes $dur ms"
used=5000 published=4 landed=0 completed=0 bad=0 r=0
while [ $landed -lt "$WANT" ] && [ $r -lt $MAXROUNDS ]; do
	# the publisher moves on by two versions: an import, a retraction
	{ echo "hash,category"; sed -n "$((used + 1)),$((used + 1000))p" pool; } >in.csv
	used=$((used + 1000))
	hlx --home a import l in.csv 2>/dev/null
	hlx --home a retract l "$(sed -n 2p in.csv | cut -d, -f1)" 2>/dev/null
	published=$((published + 2))
	hlx --home a publish --to www 2>/dev/null
	before=$(held)
	d=$(sed -n "$((r + 1))p" plan | awk -v ms="$dur" '{ printf "%.3f", $1 * ms * 0.9 / 1000 }')
	t0=$(now_ms)
	"$HLX" --home b sync >/dev/null 2>&1 &
	pid=$!
	sleep "$d"
	kill -KILL $pid 2>/dev/null
	wait $pid 2>/dev/null
	rc=$?
	# a kill counts when it ended the sync (not an exited one's zombie)
	if [ $rc -eq 137 ]; then
		landed=$((landed + 1))
	elif [ $rc -eq 0 ]; then
		completed=$((completed + 1))
		dur=$(( ($(now_ms) - t0 + dur) / 2 ))
	fi
	v=$(held)
	if [ "$v" != "$before" ] && [ "$v" != "$published" ]; then
		echo "# round $r: held version $v, neither $before nor $published"; bad=$((bad + 1))
	fi
	if ! out=$("$HLX" --home b fsck 2>&1); then
		echo "# round $r (delay $d s): fsck failed:"; echo "$out" | sed 's/^/#   /'
		bad=$((bad + 1))
	fi
	if [ -n "$(ls b/staging 2>/dev/null)" ] && ! "$HLX" --home b sync >/dev/null 2>&1; then
		echo "# round $r: the next sync did not resume"; bad=$((bad + 1))
	fi
	r=$((r + 1))
done
echo "# $r rounds, $landed kills landed during a sync, $completed syncs completed"
test_ok "every kill left a whole version ($bad bad)" test $bad -eq 0
test_ok "at least $WANT kills landed" test $landed -ge "$WANT"
test_ok "a final sync catches up" hlx --home b sync
test_ok "to the publisher's version" test "$(held)" = "$published"
test_ok "with the publisher's content" sh -c '"$HLX" --home a export l | sort >a.csv && "$HLX" --home b export a/l | sort >b.csv && cmp a.csv b.csv'
test_ok "fsck is clean" hlx --home b fsck

test_done
