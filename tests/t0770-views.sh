#!/bin/sh
# SPDX-License-Identifier: MIT
# Views and their feeds (issue 10 #4, #5, #8, #9, #10): a peer taken out
# of a plain policy reads nothing published after; views of policies
# without members lose pruned entries too, and a killed publish leaves no
# temporary file; a new member of an encrypted audience is on record
# before any file is sealed to it; view commits are no finer than the
# policy's times; the open feed never breaks a hold.
. "$(dirname "$0")/lib.sh"

SEED=${HLX_SEED:-770}
echo "# seed $SEED"
for x in a b c d o r; do hlx --home $x init --org org-$x --no-passphrase 2>/dev/null; done
for x in a b c d o r; do hlx --home $x key show --root >$x-root.pub; done
dir_of() { hlx --home a policy check "$1" | sed -n 's/.*feed a\/\([0-9a-f]*\)\/.*/\1/p'; }
cat >find.py <<'EOF'
import os, sys
root, hexes = sys.argv[1], sys.argv[2:]
pats = []
for h in hexes:
    pats += [h.encode(), bytes.fromhex(h)]
for d, _, files in os.walk(root):
    for f in files:
        p = os.path.join(d, f)
        if os.path.islink(p) or not os.path.isfile(p):
            continue
        data = open(p, 'rb').read()
        if any(x in data for x in pats):
            print(p)
EOF
nowhere() { # DIR HEX: in no file under DIR, nor in any git object there
	out=$(python3 find.py "$1" "$2")
	[ -z "$out" ] || { echo "found in: $out"; return 1; }
	for r in $(find "$1" -name '*.git' -type d); do
		if git -C "$r" cat-file --batch-all-objects --batch | grep -qaF "$2"; then
			echo "found in a git object of $r"; return 1
		fi
	done
	# the packs of a plain feed, inflated
	for p in $(find "$1" -name '*.pack' ! -path '*.git/*'); do
		rm -rf unpack.git && git init -q --bare unpack.git &&
		git -C unpack.git unpack-objects -q <"$p" 2>/dev/null
		if git -C unpack.git cat-file --batch-all-objects --batch 2>/dev/null | grep -qaF "$2"; then
			echo "found in $p"; return 1
		fi
	done
}

hlx --home a list create uk 2>/dev/null
hlx --home a add uk md5:$(rand_hex 16) pdq:$(rand_hex 32) --category csam-a 2>/dev/null
echo '{"format": "hlx-policy-1", "name": "hot", "lists": ["uk", "status"], "fields": ["category"]}' >hot.json
echo '{"format": "hlx-policy-1", "name": "strict", "lists": ["uk"], "fields": []}' >strict.json
hlx --home a policy add hot.json 2>/dev/null
hlx --home a policy add strict.json 2>/dev/null
hlx --home a peer add b --key b-root.pub --policy hot 2>/dev/null
hlx --home a peer add c --key c-root.pub --policy hot 2>/dev/null
hlx --home a publish --to www 2>/dev/null
fb=$(dir_of b); fc=$(dir_of c)

# 4: a peer that leaves a plain audience reads nothing published after
test_ok "each member of a plain audience has its own feed" test -n "$fb" -a -n "$fc" -a "$fb" != "$fc"
for x in b c; do
	eval f=\$f$x
	hlx --home $x peer add a --url "file://$PWD/www/a/$f/" --key a-root.pub 2>/dev/null
	hlx --home $x subscribe a uk 2>/dev/null
done
test_ok "B and C sync" sh -c '"$HLX" --home b sync && "$HLX" --home c sync'
hlx --home a peer set c --no-policy 2>/dev/null
new=md5:$(rand_hex 16)
hlx --home a add uk "$new" --category csam-a 2>/dev/null
test_ok "A publishes after C left" hlx --home a publish --to www
test_ok "C's feed is taken down" test ! -e "www/a/$fc"
test_fails "C cannot sync the next version from its old URL" hlx --home c sync
test_fails_with "C does not have the new entry" 1 "" hlx --home c lookup "$new"
test_ok "B, still a member, keeps its URL and gets it" sh -c '"$HLX" --home b sync && "$HLX" --home b lookup '"$new"
test_ok "the audit log names every version C could read, and only those" sh -c '
	"$HLX" --home a audit --peer c --json >audc && test $(wc -l <audc) -eq 1 &&
	grep -q "\"to\":1" audc && "$HLX" --home a audit --peer b --json | grep -q "\"to\":2"'
hlx --home a peer set b --policy strict 2>/dev/null
hlx --home a add uk md5:$(rand_hex 16) 2>/dev/null
hlx --home a publish --to www 2>/dev/null
test_ok "B moved to a stricter policy: its richer feed is gone" sh -c "
	test ! -e 'www/a/$fb' && test -n \"\$(\"\$HLX\" --home a policy check b | sed -n 's/.*feed a\/\([0-9a-f]*\)\/.*/\1/p')\" &&
	! \"\$HLX\" --home b sync"

# ... and a name given again, to another organisation, reads another feed
hlx --home e init --org org-e --no-passphrase 2>/dev/null
hlx --home e key show --root >e-root.pub
hlx --home a peer rm c 2>/dev/null
hlx --home a peer add c --key e-root.pub --policy hot 2>/dev/null
test_ok "a peer name reused for another organisation gets another directory" \
	sh -c 'f=$('"$(printf '%s' '"$HLX" --home a policy check c | sed -n "s/.*feed a\/\([0-9a-f]*\)\/.*/\1/p"')"') && test -n "$f" && test "$f" != '"$fc"
hlx --home a peer rm c 2>/dev/null

# 5: views of a policy without members are pruned too; no leftovers
fphex=$(rand_hex 16); fp=md5:$fphex
hlx --home a peer set b --policy hot 2>/dev/null
hlx --home a add uk "$fp" --category csam-a 2>/dev/null
hlx --home a publish --to www 2>/dev/null
test_ok "the false positive is in the view of 'hot'" sh -c "! grep -rqa '$fphex' /dev/null && python3 find.py a/views $fphex | grep -q . || for r in a/views/*/uk.git; do git -C \$r cat-file --batch-all-objects --batch | grep -qaF $fphex && exit 0; done; exit 1"
hlx --home a peer set b --policy strict 2>/dev/null   # 'hot' has no member now
hlx --home a retract uk "$fp" --reason false-positive 2>/dev/null
v=$(hlx --home a list ls | awk '$1 == "uk" { print substr($3, 2) }')
test_ok "A prunes it away" hlx --home a prune uk --before "$v"
test_ok "A publishes" hlx --home a publish --to www
test_ok "the false positive is in no file or git object of A's home" nowhere a "$fphex"
test_ok "nor in its feeds" nowhere www "$fphex"
# a publish killed half-way left temporary files: the next one removes them
ff=$(dir_of b)
mkdir -p "www/a/$ff/lists/uk/packs"
printf 'x%s' "$fphex" >"www/a/$ff/lists/uk/packs/9.pack.tmp4242"
vd=$(ls a/views | head -n 1)
printf 'x%s' "$fphex" >"a/views/$vd/plain.pack.4242"
printf 'x%s' "$fphex" >"www/a/$ff/trust.json.tmp4243"
test_ok "A publishes again" hlx --home a publish --to www
test_ok "no temporary file is left" sh -c 'test -z "$(find www a/views -name "*.tmp[0-9]*" -o -name "plain.pack.*")"'
test_ok "the false positive is nowhere still" sh -c "nowhere() { test -z \"\$(python3 find.py \$1 \$2)\"; }; nowhere a $fphex && nowhere www $fphex"

# 8: a new member of an encrypted audience is on record first
echo '{"format": "hlx-policy-1", "name": "sealed", "lists": ["uk"], "fields": [], "encrypt": true}' >sealed.json
hlx --home a policy add sealed.json 2>/dev/null
hlx --home a peer add d --key d-root.pub --box "$(hlx --home d key show --box)" --policy sealed 2>/dev/null
hlx --home a publish --to www 2>/dev/null
fd=$(dir_of d)
printf '%s\n' '#!/usr/bin/env python3' 'import sys' \
	"print(int.from_bytes(open(sys.argv[1], 'rb').read()[8:12], 'big'))" >recipients
chmod +x recipients
recipients() { ./recipients "$1"; }
test_ok "the sealed feed has one recipient" test "$(recipients www/a/$fd/lists/uk/packs/1.pack)" -eq 1
mv a/audit.log audit.keep && mkdir a/audit.log
hlx --home a peer add o --key o-root.pub --box "$(hlx --home o key show --box)" --policy sealed 2>/dev/null
test_fails "with the audit log unwritable, the publish fails" hlx --home a publish --to www
test_ok "and no pack was sealed to the new member" sh -c '
	for p in www/a/'"$fd"'/lists/uk/packs/*.pack; do test "$(./recipients $p)" -eq 1 || exit 1; done'
rmdir a/audit.log && mv audit.keep a/audit.log
test_ok "with the log back, it is published, on record first" sh -c '
	"$HLX" --home a publish --to www && "$HLX" --home a audit --peer o --json | grep -q "\"from\":1" &&
	test "$(./recipients www/a/'"$fd"'/lists/uk/packs/1.pack)" -eq 2'

# 9: a status view cut to the day is dated to the day (a node whose key
# was delegated yesterday: today's midnight is inside its window)
HLX_NOW=$(date -u -d '-1 day' +%Y-%m-%dT%H:%M:%SZ) hlx --home s init --org org-s --no-passphrase 2>/dev/null
hlx --home s key show --root >s-root.pub
hlx --home s list create sl 2>/dev/null
sth=md5:$(rand_hex 16)
hlx --home s add sl "$sth" 2>/dev/null
hlx --home s status set "$sth" --state removed --country DE 2>/dev/null
echo '{"format": "hlx-policy-1", "name": "day", "lists": ["sl", "status"], "fields": []}' >day.json
hlx --home s policy add day.json 2>/dev/null
hlx --home s peer add c --key c-root.pub --policy day 2>/dev/null
hlx --home s publish --to wwws 2>/dev/null
hlx --home c peer add s --url "file://$PWD/wwws/a/$(hlx --home s policy check c | sed -n 's/.*feed a\/\([0-9a-f]*\)\/.*/\1/p')/" --key s-root.pub 2>/dev/null
hlx --home c subscribe s status 2>/dev/null
hlx --home c subscribe s sl 2>/dev/null
test_ok "C syncs the status view" hlx --home c sync s
test_ok "its commits, and those of a view without first_seen, are dated at midnight" sh -c '
	git -C c/lists/s/status.git log --format=%ct >ct && git -C c/lists/s/sl.git log --format=%ct >>ct &&
	test $(wc -l <ct) -eq 2 && awk "\$1 % 86400 != 0 { exit 1 }" ct'

# 10: no policy never breaks a hold
hlx --home o list create ol 2>/dev/null
hlx --home o add ol md5:$(rand_hex 16) 2>/dev/null
hlx --home o publish --to wwwo 2>/dev/null
hlx --home b peer add o --url "file://$PWD/wwwo/" --key o-root.pub 2>/dev/null
hlx --home b subscribe o ol 2>/dev/null
test_ok "B syncs O's open feed" hlx --home b sync o
heldhex=$(rand_hex 16)
hlx --home o add ol md5:$heldhex --tag hold 2>/dev/null
hlx --home o add ol md5:$(rand_hex 16) 2>/dev/null
test_ok "O publishes with a held entry" hlx --home o publish --to wwwo
test_ok "B follows on" hlx --home b sync o
test_fails_with "without the held entry" 1 "" hlx --home b lookup md5:$heldhex
test_ok "which is in no file of the open feed" nowhere wwwo "$heldhex"
# a policy's own hold tags outlive it
lehex=$(rand_hex 16)
echo '{"format": "hlx-policy-1", "name": "le", "lists": ["ol"], "fields": ["tags"], "hold_tags": ["le-hold"]}' >le.json
hlx --home o policy add le.json 2>/dev/null
hlx --home o peer add b --key b-root.pub --policy le 2>/dev/null
hlx --home o add ol md5:$lehex --tag le-hold 2>/dev/null
hlx --home o publish --to wwwo 2>/dev/null
hlx --home o peer set b --no-policy 2>/dev/null
hlx --home o policy rm le 2>/dev/null
test_ok "O publishes without any policy" hlx --home o publish --to wwwo
test_ok "the le-hold entry is in no file of the open feed" nowhere wwwo "$lehex"
hlx --home r peer add o --url "file://$PWD/wwwo/" --key o-root.pub 2>/dev/null
hlx --home r subscribe o ol 2>/dev/null
test_ok "a new reader of the open feed syncs it" hlx --home r sync
for x in r; do
	for h in $lehex $heldhex; do
		test_fails_with "$x does not have held entry $h" 1 "" hlx --home $x lookup md5:$h
		test_ok "nor any file or git object of $x" nowhere $x $h
	done
done
# 5 again: a relayed entry purged at the end of its retention leaves the
# view of a policy without members too
echo '{"format": "hlx-policy-1", "name": "keep30", "lists": ["uk"], "fields": [], "rules": {"onward": true, "retention_days": 30}}' >keep30.json
hlx --home a policy add keep30.json 2>/dev/null
hlx --home a peer add r --key r-root.pub --policy keep30 2>/dev/null
hlx --home a publish --to www 2>/dev/null
hlx --home r peer add a --url "file://$PWD/www/a/$(dir_of r)/" --key a-root.pub 2>/dev/null
hlx --home r subscribe a uk 2>/dev/null
test_ok "R syncs A's list, kept 30 days" sh -c '"$HLX" --home r sync a && "$HLX" --home r lookup '"$new"
echo '{"format": "hlx-policy-1", "name": "relay", "lists": ["a/uk"], "fields": []}' >relay.json
hlx --home r policy add relay.json 2>/dev/null
hlx --home r peer add x --key o-root.pub --policy relay 2>/dev/null
hlx --home r publish --to wwwr 2>/dev/null
hlx --home r peer set x --no-policy 2>/dev/null
test_ok "R relays it in a view" sh -c '! nowhere r/views '"${new#md5:}"' >/dev/null'
test_ok "R purges it after 30 days" sh -c "HLX_NOW=$(date -u -d '+31 days' +%Y-%m-%dT%H:%M:%SZ) \"\$HLX\" --home r purge"
test_ok "R publishes" hlx --home r publish --to wwwr
test_ok "the purged entry is in no view of R, members or not" nowhere r/views "${new#md5:}"
test_done
