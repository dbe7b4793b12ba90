#!/bin/sh
# SPDX-License-Identifier: MIT
# Pruning across the federation (spec/prune.md sections 5 and 6): after
# the owner prunes a retracted false positive away, subscribers verify the
# signed checkpoint and keep syncing, whether they held the newest version
# (mapped), an old one or none (re-baselined); a tampered checkpoint is
# refused and changes nothing; views published under a policy are pruned
# with their list.  Afterwards the false positive is in no file of any
# node, feed or git object (raw files searched for its hex and its bytes).
. "$(dirname "$0")/lib.sh"

SEED=${HLX_SEED:-750}
echo "# seed $SEED"
cat >find.py <<'EOF'
import os, sys
root, hexes = sys.argv[1], sys.argv[2:]
pats = []
for h in hexes:
    pats += [h.encode(), h.upper().encode(), bytes.fromhex(h)]
for d, _, files in os.walk(root):
    for f in files:
        p = os.path.join(d, f)
        if os.path.islink(p) or not os.path.isfile(p):
            continue
        with open(p, 'rb') as fh:
            data = fh.read()
        for pat in pats:
            if pat in data:
                print(p)
                break
EOF
nowhere() { # DIR HEX: no file under DIR holds it, nor any git object there
	out=$(python3 find.py "$1" "$2")
	[ -z "$out" ] || { echo "found in: $out"; return 1; }
	for r in $(find "$1" -name '*.git' -type d); do
		if git -C "$r" cat-file --batch-all-objects --batch | grep -qaF "$2"; then
			echo "found in a git object of $r"; return 1
		fi
	done
	return 0
}
somewhere() { ! nowhere "$@" >/dev/null; }

for x in a b c d f g p; do hlx --home $x init --org org-$x --no-passphrase 2>/dev/null; done
for x in a p; do hlx --home $x key show --root >$x-root.pub; done
fphex=$(rand_hex 16); fp=md5:$fphex
keep=pdq:$(rand_hex 32)
hlx --home a list create uk 2>/dev/null
hlx --home a add uk md5:$(rand_hex 16) "$keep" --category csam-a 2>/dev/null   # v1
# subscribers of A's open feed: D stops at version 1
hlx --home a publish --to www 2>/dev/null
for x in b c d f; do
	hlx --home $x peer add a --url "file://$PWD/www/" --key a-root.pub 2>/dev/null
done
for x in b d f; do hlx --home $x subscribe a uk 2>/dev/null; done
test_ok "D syncs version 1" hlx --home d sync
hlx --home a add uk "$fp" --category csam-a 2>/dev/null                         # v2
hlx --home a publish --to www 2>/dev/null
test_ok "F syncs version 2, with the false positive" sh -c '"$HLX" --home f sync && "$HLX" --home f lookup '"$fp"
hlx --home a retract uk "$fp" --reason false-positive 2>/dev/null                # v3
hlx --home a add uk md5:$(rand_hex 16) 2>/dev/null                               # v4
hlx --home a publish --to www 2>/dev/null
test_ok "B syncs versions 1 to 4" sh -c '"$HLX" --home b sync && "$HLX" --home b list ls | grep -q "a/uk .* v4 "'
test_ok "F syncs the retraction" sh -c '"$HLX" --home f sync && ! "$HLX" --home f lookup '"$fp"
test_ok "F's state still has the false positive's bytes in a free page" somewhere f/state "$fphex"
test_ok "B's mirror holds the false positive in its history" somewhere b "$fphex"
# P publishes under a policy; G receives a view while it holds the false
# positive, then the view of the retraction
hlx --home p list create uk 2>/dev/null
hlx --home p add uk md5:$(rand_hex 16) "$keep" "$fp" --category csam-a 2>/dev/null
echo '{"format": "hlx-policy-1", "name": "all", "lists": ["*"], "fields": ["category"]}' >all.json
hlx --home p policy add all.json 2>/dev/null
hlx --home g key show --root >g-root.pub
hlx --home p peer add g --key g-root.pub --policy all 2>/dev/null
hlx --home p publish --to wwwp 2>/dev/null
feed=$(hlx --home p policy check g | sed -n 's/.*feed \(a\/[0-9a-f]*\/\).*/\1/p')
test_ok "G syncs P's view" sh -c "
	\"\$HLX\" --home g peer add p --url 'file://$PWD/wwwp/$feed' --key p-root.pub &&
	\"\$HLX\" --home g subscribe p uk && \"\$HLX\" --home g sync && \"\$HLX\" --home g lookup $fp"
hlx --home p retract uk "$fp" --reason false-positive 2>/dev/null
hlx --home p add uk md5:$(rand_hex 16) 2>/dev/null
hlx --home p publish --to wwwp 2>/dev/null
test_ok "G syncs the retraction" sh -c '"$HLX" --home g sync && ! "$HLX" --home g lookup '"$fp"
test_ok "the view's history holds the false positive" somewhere g "$fphex"
test_ok "and so does P's view repository" somewhere p/views "$fphex"

test_ok "A prunes versions 1 and 2 away" hlx --home a prune uk --before 3
test_ok "A publishes the pruned history" hlx --home a publish --to www
test_ok "the feed has a checkpoint and packs 3 and 4 only" sh -c '
	test -f www/lists/uk/checkpoint && test "$(ls www/lists/uk/packs | tr "\n" " ")" = "3.pack 4.pack "'

# a tampered checkpoint is refused and changes nothing
cp -r www www-bad
sed -i 's/"before\\":3/"before\\":2/' www-bad/lists/uk/checkpoint
touch -d '+2 seconds' www-bad/lists/uk/head
hlx --home f peer set a --url "file://$PWD/www-bad/" 2>/dev/null
snap() { (cd "$1" && find lists state -type f ! -name lock.mdb | sort | xargs sha256sum); }
snap f >f.before
test_fails "F refuses a tampered checkpoint" hlx --home f sync
snap f >f.after
test_cmp "and F's files are as they were" f.before f.after
hlx --home f peer set a --url "file://$PWD/www/" 2>/dev/null
test_ok "F accepts the genuine one" sh -c '"$HLX" --home f sync 2>f-sync.err'
test_ok "and says the peer's history starts anew, not that it went back" \
	grep -q "^hlx: a/uk: a new history from the peer (pruned, or another feed): version 4 -> 4: 0 added, 0 removed$" f-sync.err
test_ok "and that the state was compacted" \
	grep -q "^hlx: state compacted, so that what was removed has no copy left in its free pages: " f-sync.err

test_ok "B verifies the checkpoint and follows the pruned history" hlx --home b sync
test_ok "B still holds version 4, with its entries" sh -c '
	"$HLX" --home b list ls | grep -q "a/uk .* v4 .* 3 entries" && "$HLX" --home b lookup '"$keep"
test_ok "B's mirror starts at version 3" sh -c '"$HLX" --home b log a/uk | awk "{ print \$2 }" | tr "\n" " " | grep -qx "4 3 "'
test_ok "B's fsck is clean" hlx --home b fsck
test_ok "D, at version 1 before the prune, re-baselines" sh -c '
	"$HLX" --home d sync && "$HLX" --home d list ls | grep -q "a/uk .* v4 .* 3 entries" && "$HLX" --home d fsck'
test_ok "C, new, subscribes to the pruned feed" sh -c '
	"$HLX" --home c subscribe a uk && "$HLX" --home c sync && "$HLX" --home c lookup '"$keep"' && "$HLX" --home c fsck'
hlx --home a add uk md5:$(rand_hex 16) 2>/dev/null                                       # v5
hlx --home a publish --to www 2>/dev/null
test_ok "B keeps syncing after the prune" sh -c '"$HLX" --home b sync && "$HLX" --home b list ls | grep -q "a/uk .* v5 "'

test_ok "P prunes; its view is pruned with the list" sh -c '
	"$HLX" --home p prune uk --before 2 && "$HLX" --home p publish --to wwwp'
test_ok "G follows the pruned view" sh -c '"$HLX" --home g sync && "$HLX" --home g fsck && "$HLX" --home g lookup '"$keep"

# a new subscriber killed while it adopts the pruned history recovers
# (random instants, seeded; each time a fresh node)
rm -rf k
hlx --home k init --org org-k --no-passphrase 2>/dev/null
hlx --home k peer add a --url "file://$PWD/www/" --key a-root.pub 2>/dev/null
hlx --home k subscribe a uk 2>/dev/null
t0=$(date +%s%N); hlx --home k sync 2>/dev/null; t1=$(date +%s%N)
span=$(( (t1 - t0) / 1000000 + 1 ))
echo "# a sync takes $span ms: kills at random instants within it"
i=0; bad=0; landed=0
while [ $i -lt 16 ]; do
	i=$((i + 1))
	rm -rf k
	hlx --home k init --org org-k --no-passphrase 2>/dev/null
	hlx --home k peer add a --url "file://$PWD/www/" --key a-root.pub 2>/dev/null
	hlx --home k subscribe a uk 2>/dev/null
	ms=$(( $(printf '%d' 0x$(rand_hex 2)) % span ))
	"$HLX" --home k sync >/dev/null 2>&1 &
	pid=$!
	sleep "$(awk -v m=$ms 'BEGIN { printf "%.3f", m / 1000 }')"
	kill -9 $pid 2>/dev/null && landed=$((landed + 1))
	wait $pid 2>/dev/null
	if ! "$HLX" --home k sync >k.log 2>&1 || ! "$HLX" --home k fsck >>k.log 2>&1 ||
	   ! "$HLX" --home k lookup "$keep" >>k.log 2>&1; then
		bad=$((bad + 1)); echo "# after a kill at $ms ms:"; sed 's/^/#   /' k.log
	fi
done
echo "# $landed of $i kills landed during the sync"
test_ok "after every kill, the next sync completes and fsck is clean" test $bad -eq 0

for x in a b c d f p g; do
	test_ok "the false positive is in no file or git object of $x" nowhere $x "$fphex"
done
test_ok "nor in A's feed" nowhere www "$fphex"
test_ok "nor in P's feeds" nowhere wwwp "$fphex"
test_done
