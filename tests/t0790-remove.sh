#!/bin/sh
# SPDX-License-Identifier: MIT
# Deleting what a node may no longer hold (issue 12 item 4, node/remove.h):
# 'unsubscribe PEER LIST --purge', 'peer rm NAME' and 'list rm NAME' delete
# the mirror or list, its state, its match index entries, its sync state,
# every view and every feed made from it; afterwards fsck is clean and its
# hashes are in no file of the node home or the publish directory, the
# state's free pages included (raw bytes searched, as t0750 does).  Each is
# refused while a policy names what it deletes (unless --force), and an
# unknown name is refused; a refusal changes no file.  A removal killed at
# any instant is finished by the next writer (or never started).
. "$(dirname "$0")/lib.sh"

SEED=${HLX_SEED:-790}
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
nowhere() { # DIR HEX...: no file under DIR holds any, nor any git object
	d=$1; shift
	out=$(python3 find.py "$d" "$@")
	[ -z "$out" ] || { echo "found in: $out"; return 1; }
	# git objects: of the repositories, and of the packs of the feeds
	for r in $(find "$d" -name '*.git' -type d) $(find "$d" -name '*.pack' -type f); do
		g=$r
		if [ -f "$r" ]; then
			g=$TRASH/unpacked.git; rm -rf "$g"; git init -q --bare "$g"
			git -C "$g" unpack-objects -q <"$r" || { echo "cannot unpack $r"; return 1; }
		fi
		for x in "$@"; do
			if git -C "$g" cat-file --batch-all-objects --batch | grep -qaF "$x"; then
				echo "$x found in a git object of $r"; return 1
			fi
		done
	done
	return 0
}
somewhere() { ! nowhere "$@" >/dev/null; }
# every file of the homes and publish directories given, with its digest,
# and the listings: what a refusal must leave as it was
snap() {
	for d in "$@"; do
		find "$d" \( -type f -o -type d \) ! -name lock.mdb ! -path "$d/lock" | sort |
			while read -r f; do
				if [ -f "$f" ]; then echo "$(sha256sum <"$f" | cut -c1-64) $f"; else echo "dir $f"; fi
			done
	done
	for d in "$@"; do
		[ -f "$d/config.json" ] || continue
		"$HLX" --home "$d" list ls; "$HLX" --home "$d" peer ls; "$HLX" --home "$d" url ls
	done 2>&1
}

for x in a b c; do
	hlx --home $x init --org org-$x --no-passphrase 2>/dev/null
	hlx --home $x key show --root >$x-root.pub
done
u1=$(rand_hex 16); uq=$(rand_hex 32); o1=$(rand_hex 16)
g1=$(rand_hex 16); gq=$(rand_hex 32); gh=$(rand_hex 16); k1=$(rand_hex 16)
hlx --home a list create uk 2>/dev/null
hlx --home a add uk md5:$u1 pdq:$uq --category csam-a 2>/dev/null
hlx --home a list create other 2>/dev/null
hlx --home a add other md5:$o1 2>/dev/null
hlx --home a publish --to www 2>/dev/null

# ---- 1. unsubscribe --purge ----------------------------------------------
hlx --home b peer add a --url "file://$PWD/www/" --key a-root.pub 2>/dev/null
hlx --home b subscribe a uk 2>/dev/null
hlx --home b subscribe a other 2>/dev/null
test_ok "B syncs A's two lists" hlx --home b sync
echo '{"format": "hlx-policy-1", "name": "relay", "lists": ["a/uk"], "fields": ["category"]}' >relay.json
hlx --home b policy add relay.json 2>/dev/null
hlx --home b peer add c --key c-root.pub --policy relay 2>/dev/null
test_ok "B relays a/uk to C" hlx --home b publish --to wwwb
test_ok "B's match index holds A's pdq hash" sh -c '
	"$HLX" --home b match status && echo pdq:'"$uq"' | "$HLX" --home b match | grep -q '"$uq"
test_ok "(control) B's home holds a/uk's hashes" somewhere b "$u1"
test_ok "(control) and so does B's match index" somewhere b/match "$uq"
test_ok "(control) and B's relayed feed" somewhere wwwb "$u1"

snap b wwwb >before
test_fails_with "unsubscribe --purge is refused while a policy names a/uk" 4 "policy 'relay' names 'a/uk'.*--force" \
	hlx --home b unsubscribe a uk --purge --to wwwb
test_fails_with "an unknown peer is refused" 4 "no such peer 'zz'" hlx --home b unsubscribe zz uk --purge
test_fails_with "an unknown list is refused" 4 "not subscribed to 'nope'" hlx --home b unsubscribe a nope --purge
test_fails_with "--force without --purge is a usage error" 2 "go with --purge" hlx --home b unsubscribe a uk --force
test_fails_with "list rm does not take a peer's list" 3 "unsubscribe PEER LIST --purge" hlx --home b list rm a/uk
snap b wwwb >after
test_cmp "the refusals changed no file and no listing" before after

test_ok "unsubscribe --purge --force deletes the mirror" hlx --home b unsubscribe a uk --purge --force --to wwwb
test_ok "a/uk is no longer listed, a/other is" sh -c '
	! "$HLX" --home b list ls | grep -q "^a/uk " && "$HLX" --home b list ls | grep -q "^a/other "'
test_ok "nor subscribed" sh -c '"$HLX" --home b peer ls | grep -q "lists: other  policy"'
test_ok "its repository and sync state are gone" sh -c '
	test ! -e b/lists/a/uk.git && ! ls b/peers/a | grep -q "^uk\."'
test_ok "B's fsck is clean" hlx --home b fsck
test_ok "a/uk's hashes are in no file of B, the state's free pages included" nowhere b "$u1" "$uq"
test_ok "nor in B's relayed feed" nowhere wwwb "$u1" "$uq"
test_ok "a/other is still there" hlx --home b lookup md5:$o1
test_ok "B still publishes (the policy gives nothing for a/uk)" hlx --home b publish --to wwwb
test_ok "and syncs" hlx --home b sync
test_fails_with "a second purge finds nothing" 4 "nothing of it is held" hlx --home b unsubscribe a uk --purge

# ---- 2. peer rm ------------------------------------------------------------
hlx --home b subscribe a uk 2>/dev/null
hlx --home b sync 2>/dev/null
hlx --home b list create bl 2>/dev/null
hlx --home b add bl md5:$k1 2>/dev/null
echo '{"format": "hlx-policy-1", "name": "back", "lists": ["bl"], "fields": []}' >back.json
hlx --home b policy add back.json 2>/dev/null
hlx --home b peer set a --policy back 2>/dev/null
test_ok "B publishes the relay, and a feed of its own for A" hlx --home b publish --to wwwb
test_ok "(control) two feed directories" test "$(ls wwwb/a | wc -l)" -eq 2
hlx --home b match status >/dev/null 2>&1
test_ok "(control) B holds a/uk again" somewhere b "$u1"
afeed=$(hlx --home b policy check a | sed -n 's/.*feed a\/\([0-9a-f]*\)\/.*/\1/p')
test_ok "(control) A's feed directory is known" test -d "wwwb/a/$afeed"

snap b wwwb >before
test_fails_with "peer rm is refused while a policy names its lists" 4 "policy 'relay' names lists of 'a'" \
	hlx --home b peer rm a --to wwwb
test_fails_with "an unknown peer is refused" 4 "no such peer 'zz'" hlx --home b peer rm zz
test_fails_with "an invalid name is refused" 3 "" hlx --home b peer rm ../a
snap b wwwb >after
test_cmp "the refusals changed no file and no listing" before after

test_ok "peer rm --force deletes the peer and everything of it" hlx --home b peer rm a --force --to wwwb
test_ok "the peer is gone" sh -c '! "$HLX" --home b peer ls | grep -q "^a "'
test_ok "its lists, trust chain and sync state are gone" sh -c '
	test ! -e b/lists/a && test ! -e b/peers/a && ! "$HLX" --home b list ls | grep -q "^a/"'
test_ok "B's fsck is clean (it failed with 'its list is still here')" hlx --home b fsck
test_ok "A's hashes are in no file of B" nowhere b "$u1" "$uq" "$o1"
test_ok "nor in B's feeds" nowhere wwwb "$u1" "$uq" "$o1"
test_ok "the feed directory made for A is taken down" test ! -e "wwwb/a/$afeed"
test_ok "C's is kept" test "$(ls wwwb/a | wc -l)" -eq 1
test_ok "B's own list is kept" hlx --home b lookup md5:$k1
test_ok "B publishes" hlx --home b publish --to wwwb
test_ok "A can be added again and synced" sh -c '
	"$HLX" --home b peer add a --url "file://$PWD/www/" --key a-root.pub &&
	"$HLX" --home b subscribe a other && "$HLX" --home b sync && "$HLX" --home b lookup md5:'"$o1"

# a peer forgotten by an older hlx, its mirror left behind: fsck fails,
# and peer rm deletes what is left
python3 -c '
import json, sys
p = json.load(open("b/peers.json"))
p["peers"] = [x for x in p["peers"] if x["name"] != "a"]
json.dump(p, open("b/peers.json", "w"))'
test_fails_with "(control) fsck fails on a mirror without its peer" 1 "no peer 'a'" hlx --home b fsck
test_ok "peer rm deletes the mirror of a peer no longer known" hlx --home b peer rm a --force --to wwwb
test_ok "and fsck is clean again" hlx --home b fsck
test_ok "with nothing of it left" nowhere b "$o1"

# ---- 3. list rm --------------------------------------------------------------
hlx --home a list create gone 2>/dev/null
hlx --home a add gone md5:$g1 pdq:$gq --url "https://example.org/gone/$g1" 2>/dev/null
hlx --home a add gone md5:$gh --tag hold 2>/dev/null
item=$(hlx --home a url ls 2>/dev/null | grep -o 'url-sha256:[0-9a-f]*' | head -n 1)
ihex=${item#url-sha256:}
hlx --home a match status >/dev/null 2>&1
test_ok "A publishes 'gone' as a view (it holds a held entry)" sh -c '
	"$HLX" --home a publish --to www && test -d www/lists/gone && test -d a/views/open/gone.git'
test_ok "(control) A's home holds its hashes and its raw URL" sh -c "
	test -n '$ihex' && test -e a/urls/$ihex && ! nowhere a $g1 >/dev/null && ! nowhere a $gq >/dev/null"
test_ok "(control) and the feed" somewhere www "$g1"

snap a www >before
test_fails_with "an unknown list is refused" 4 "no such list 'nope'" hlx --home a list rm nope --to www
test_fails_with "the status log is not a list to remove" 3 "removal-status log" hlx --home a list rm status
snap a www >after
test_cmp "the refusals changed no file and no listing" before after

test_ok "list rm deletes the list" hlx --home a list rm gone --to www
test_ok "it is no longer listed" sh -c '! "$HLX" --home a list ls | grep -q "^gone "'
test_ok "its repository, view and feed are gone" sh -c '
	test ! -e a/lists/gone.git && ! ls a/views/open | grep -q "^gone\." && test ! -e www/lists/gone'
test_ok "its raw URL is gone" sh -c "test ! -e a/urls/$ihex && ! \"\$HLX\" --home a url ls | grep -q $ihex"
test_ok "A's fsck is clean" hlx --home a fsck
test_ok "its hashes are in no file of A" nowhere a "$g1" "$gq" "$gh" "$ihex"
test_ok "nor in A's feed" nowhere www "$g1" "$gq" "$gh" "$ihex"
test_ok "the other lists are kept" sh -c '"$HLX" --home a lookup md5:'"$u1"' && "$HLX" --home a lookup md5:'"$o1"

# under a policy: refused while it names the list
echo '{"format": "hlx-policy-1", "name": "share", "lists": ["uk"], "fields": ["category"]}' >share.json
hlx --home a policy add share.json 2>/dev/null
hlx --home a peer add c --key c-root.pub --policy share 2>/dev/null
test_ok "A publishes uk to C's audience" hlx --home a publish --to www
test_ok "(control) the audience's feed holds uk" somewhere www/a "$u1"
snap a www >before
test_fails_with "list rm is refused while a policy names the list" 4 "policy 'share' names 'uk'.*--force" \
	hlx --home a list rm uk --to www
snap a www >after
test_cmp "the refusal changed no file and no listing" before after
test_ok "list rm --force deletes it" hlx --home a list rm uk --force --to www
test_ok "A's fsck is clean" hlx --home a fsck
test_ok "uk's hashes are in no file of A" nowhere a "$u1" "$uq"
test_ok "nor in any feed of A" nowhere www "$u1" "$uq"
test_ok "A still publishes" hlx --home a publish --to www

# without --to, the publish directory the settings name (hlx config)
hlx --home p init --org org-p --no-passphrase 2>/dev/null
hlx --home p list create cfg 2>/dev/null
hlx --home p add cfg md5:$g1 2>/dev/null
test_ok "P's settings name wwwp as its publish directory" hlx --home p config set publish-dir "$PWD/wwwp"
test_ok "P publishes 'cfg' there, no --to" sh -c '"$HLX" --home p publish && test -d wwwp/lists/cfg'
test_ok "overview names that directory" sh -c '"$HLX" --home p overview | grep -q "publish directory  $PWD/wwwp"'
test_ok "list rm without --to takes 'cfg' down from it" sh -c '
	"$HLX" --home p list rm cfg && test ! -e wwwp/lists/cfg'
test_ok "and its hashes are in no file of the feed" nowhere wwwp "$g1"

# a removal whose compaction waits for a reader (another process has the
# state open) leaves only the compaction to the next writer: a list made
# again under the same name is not removed by it
hlx --home p list create again 2>/dev/null
hlx --home p add again md5:$g1 2>/dev/null
mkfifo hold
sleep 30 >hold &
holder=$!
"$HLX" --home p lookup - <hold >/dev/null 2>&1 &
reader=$!
sleep 1
test_ok "with a reader open, list rm removes all but the free pages" sh -c '
	"$HLX" --home p list rm again 2>err; grep -q "compacted" err &&
	! "$HLX" --home p list ls | grep -q "^again "'
test_ok "the intent left holds the compaction alone" sh -c '
	grep -qx "stage compact" p/remove.intent && ! grep -q "^list " p/remove.intent'
test_ok "'again' is made again" sh -c "
	\"\$HLX\" --home p list create again && \"\$HLX\" --home p add again md5:$u1"
test_ok "a later writer keeps it (it only compacts)" sh -c "
	\"\$HLX\" --home p list create other && \"\$HLX\" --home p lookup md5:$u1 | grep -q again"
kill $holder $reader 2>/dev/null; wait $reader 2>/dev/null; wait $holder 2>/dev/null
test_ok "once the reader is gone, the next writer compacts and the intent goes" sh -c "
	\"\$HLX\" --home p list create third && test ! -e p/remove.intent && \"\$HLX\" --home p lookup md5:$u1 >/dev/null"
test_ok "and fsck is clean" hlx --home p fsck
printf 'hlx-remove-1\nstage compact\nlist x\n' >p/remove.intent
test_fails_with "steps after 'stage compact' are a damaged intent" 4 "damaged removal intent" hlx --home p fsck
rm p/remove.intent

# names that extend another's: removing 'x' leaves list 'x.git.tmp1' (its
# repository x.git.tmp1.git looks like a temporary of x.git), and no peer
# may be named like a repository of the home
hlx --home p list create x 2>/dev/null
hlx --home p list create x.git.tmp1 2>/dev/null
hlx --home p add x.git.tmp1 md5:$o1 2>/dev/null
test_ok "list rm x" hlx --home p list rm x
test_ok "leaves list 'x.git.tmp1' whole" sh -c "
	test -d p/lists/x.git.tmp1.git && \"\$HLX\" --home p lookup md5:$o1 >/dev/null && \"\$HLX\" --home p fsck"
hlx --home a key show --root >a-root.pub 2>/dev/null
for bad in y.git y.git.new y.git.swap y.git.old y.tmp1f; do
	test_fails_with "peer name '$bad' is refused" 3 "looks like a repository" \
		hlx --home p peer add "$bad" --key a-root.pub
done

# ---- 4. crash safety -------------------------------------------------------
# An interrupted removal (its intent written, not all done) is finished by
# the next writer, whatever the command; a damaged intent is reported.
hlx --home a list create half 2>/dev/null
hlx --home a add half md5:$g1 2>/dev/null
printf 'hlx-remove-1\npublish %s/www\nlist half\n' "$PWD" >a/remove.intent
test_ok "the next writer finishes an interrupted removal" sh -c '
	"$HLX" --home a fsck && test ! -e a/remove.intent && test ! -e a/lists/half.git &&
	! "$HLX" --home a list ls | grep -q "^half "'
test_ok "and leaves nothing of it" nowhere a "$g1"
printf 'hlx-remove-1\nlist ../x\n' >a/remove.intent
test_fails_with "a damaged intent stops every writer, clearly" 4 "damaged removal intent" hlx --home a fsck
rm a/remove.intent

# kills at random instants (seeded) of a removal: the list is either whole
# or gone, fsck clean, and when gone its hashes are nowhere
mk() {
	rm -rf k wwwk
	hlx --home k init --org org-k --no-passphrase 2>/dev/null
	hlx --home k list create kl 2>/dev/null
	hlx --home k add kl md5:$g1 pdq:$gq --url "https://example.org/k/$g1" 2>/dev/null
	hlx --home k list create kk 2>/dev/null
	hlx --home k add kk md5:$k1 2>/dev/null
	hlx --home k publish --to wwwk 2>/dev/null
	hlx --home k match status >/dev/null 2>&1
}
mk
t0=$(date +%s%N); hlx --home k list rm kl --to wwwk 2>/dev/null; t1=$(date +%s%N)
span=$(( (t1 - t0) / 1000000 + 1 ))
echo "# a removal takes $span ms: kills at random instants within it"
i=0; bad=0; landed=0; gone=0
while [ $i -lt 12 ]; do
	i=$((i + 1))
	mk
	ms=$(( $(printf '%d' 0x$(rand_hex 2)) % span ))
	"$HLX" --home k list rm kl --to wwwk >/dev/null 2>&1 &
	pid=$!
	sleep "$(awk -v m=$ms 'BEGIN { printf "%.3f", m / 1000 }')"
	kill -9 $pid 2>/dev/null && landed=$((landed + 1))
	wait $pid 2>/dev/null
	if ! "$HLX" --home k fsck >k.log 2>&1 || ! "$HLX" --home k lookup md5:$k1 >>k.log 2>&1; then
		bad=$((bad + 1)); echo "# after a kill at $ms ms:"; sed 's/^/#   /' k.log
	elif "$HLX" --home k list ls | grep -q "^kl "; then
		# whole: the removal never started, and can be done now
		"$HLX" --home k list rm kl --to wwwk >k.log 2>&1 || bad=$((bad + 1))
	else
		gone=$((gone + 1))
	fi
	if ! nowhere k "$g1" "$gq" >k.log || ! nowhere wwwk "$g1" "$gq" >>k.log; then
		bad=$((bad + 1)); echo "# after a kill at $ms ms:"; sed 's/^/#   /' k.log
	fi
done
echo "# $landed of $i kills landed during the removal; $gone found it finished"
test_ok "after every kill the node is consistent and, once removed, the list is nowhere" test $bad -eq 0
test_done
