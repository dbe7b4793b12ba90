#!/bin/sh
# SPDX-License-Identifier: MIT
# A fork dressed as a prune (spec/prune.md sections 3.2 and 6, issue 10
# finding 6).  A copy of a publisher's home, taken at version 2, makes
# another version 3 and 4 with the same keys.  Published as is, a
# subscriber holding the genuine version 3 refuses it (a fork); published
# after 'prune --before 4', it must be refused too: the checkpoint does
# not list the subscriber's version 3 among the commits it pruned, so it
# does not continue what the subscriber holds.  The subscriber's state and
# mirror stay byte for byte as they were.  The genuine prune of the same
# versions is accepted, and so is a second prune by a subscriber still
# holding a commit from before the first (the checkpoint carries the
# commits of earlier histories).
. "$(dirname "$0")/lib.sh"

SEED=${HLX_SEED:-755}
echo "# seed $SEED"

for x in a b e; do hlx --home $x init --org org-$x --no-passphrase 2>/dev/null; done
hlx --home a key show --root >a-root.pub
hlx --home a list create uk 2>/dev/null
k1=md5:$(rand_hex 16); k2=md5:$(rand_hex 16); k3=md5:$(rand_hex 16)
hlx --home a add uk "$k1" 2>/dev/null                                   # v1
hlx --home a publish --to wwwa 2>/dev/null
# the feed subscribers read is www: a copy of whichever feed is served
t=0
serve() {
	t=$((t + 2))
	rm -rf www && cp -r "$1" www && touch -d "+$t seconds" www/lists/uk/head ||
		echo "# cannot serve $1"
}
serve wwwa
for x in b e; do
	hlx --home $x peer add a --url "file://$PWD/www/" --key a-root.pub 2>/dev/null
	hlx --home $x subscribe a uk 2>/dev/null
done
test_ok "E syncs version 1" hlx --home e sync
hlx --home a add uk "$k2" 2>/dev/null                                   # v2
hlx --home a publish --to wwwa 2>/dev/null
cp -a a acopy
hlx --home a add uk "$k3" 2>/dev/null                                   # v3
hlx --home a publish --to wwwa 2>/dev/null
serve wwwa
test_ok "B syncs versions 1 to 3" sh -c '
	"$HLX" --home b sync && "$HLX" --home b list ls | grep -q "a/uk .* v3 .* 3 entries"'

# the copy makes another version 3 and 4
hlx --home acopy add uk md5:$(rand_hex 16) 2>/dev/null                  # v3'
hlx --home acopy add uk md5:$(rand_hex 16) 2>/dev/null                  # v4'
hlx --home acopy publish --to wwwf 2>/dev/null
snap() { (cd "$1" && find lists state peers -type f ! -name lock.mdb ! -name "*.sync" | sort | xargs sha256sum); }
snap b >b.before
serve wwwf
test_fails_with "B refuses the fork as it is" 1 "fork" hlx --home b sync
snap b >b.after
test_cmp "and B's files are as they were" b.before b.after

test_ok "the copy prunes its fork before version 4" sh -c '
	"$HLX" --home acopy prune uk --before 4 && "$HLX" --home acopy publish --to wwwf'
serve wwwf
test_ok "(the fork's feed has a checkpoint)" test -f www/lists/uk/checkpoint
test_fails_with "B refuses the pruned fork, as a fork" 1 "fork" hlx --home b sync
snap b >b.after
test_cmp "and B's state and mirror are byte for byte as they were" b.before b.after
test_ok "B still holds version 3 and its entries" sh -c '
	"$HLX" --home b list ls | grep -q "a/uk .* v3 .* 3 entries" &&
	"$HLX" --home b lookup '"$k3"' && "$HLX" --home b fsck'

# the genuine prune of the same versions is followed
hlx --home a add uk md5:$(rand_hex 16) 2>/dev/null                      # v4
test_ok "A prunes its own history before version 4" sh -c '
	"$HLX" --home a prune uk --before 4 && "$HLX" --home a publish --to wwwa'
serve wwwa
test_ok "B, holding version 3, follows the genuine pruned history" sh -c '
	"$HLX" --home b sync && "$HLX" --home b list ls | grep -q "a/uk .* v4 .* 4 entries" &&
	"$HLX" --home b lookup '"$k3"' && "$HLX" --home b fsck'
test_ok "B's mirror starts at version 4" sh -c '
	"$HLX" --home b log a/uk | awk "{ print \$2 }" | tr "\n" " " | grep -qx "4 "'

# a second prune: the checkpoint still vouches for commits of the first
# history (E) and of the second (B)
hlx --home a add uk md5:$(rand_hex 16) 2>/dev/null                      # v5
hlx --home a add uk md5:$(rand_hex 16) 2>/dev/null                      # v6
test_ok "A prunes again, before version 6" sh -c '
	"$HLX" --home a prune uk --before 6 && "$HLX" --home a publish --to wwwa'
serve wwwa
test_ok "E, holding version 1 of the first history, follows" sh -c '
	"$HLX" --home e sync && "$HLX" --home e list ls | grep -q "a/uk .* v6 .* 6 entries" &&
	"$HLX" --home e fsck'
test_ok "B, holding version 4 of the second history, follows" sh -c '
	"$HLX" --home b sync && "$HLX" --home b list ls | grep -q "a/uk .* v6 .* 6 entries" &&
	"$HLX" --home b fsck'
test_done
