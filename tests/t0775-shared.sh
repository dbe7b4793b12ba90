#!/bin/sh
# SPDX-License-Identifier: MIT
# Views and feeds share what is the same instead of copying it (issue 14
# section 4): the plain feeds of the members of one audience are the very
# pack file of their view's history (hard links), and two policies that
# let the same through (a plain and an encrypted one) have views of the
# same versions, whose packs are one file on disk.  What differs stays
# apart: a narrower policy's view and feeds hold nothing it excludes, the
# encrypted feed shows nothing in clear, and every member reads its feed.
# Twins made together (policies apart only in encryption, rules or status
# fields) hold one version, each with what its own policy says (Python
# computes it from the list), and a field apart makes a view apart.
. "$(dirname "$0")/lib.sh"

SEED=${HLX_SEED:-775}
echo "# seed $SEED"
for x in a b c d e; do hlx --home $x init --org org-$x --no-passphrase 2>/dev/null; done
for x in a b c d e; do hlx --home $x key show --root >$x-root.pub; done
dir_of() { hlx --home a policy check "$1" | sed -n 's/.*feed a\/\([0-9a-f]*\)\/.*/\1/p'; }
ino() { stat -c %i "$1"; }
# the pack of the commit named by a feed's head, in a view's history
view_pack() { # VIEWREPO: its packs' inodes, one a line
	for p in "$1"/objects/pack/*.pack; do ino "$p"; done | sort
}

hlx --home a list create uk 2>/dev/null
md=md5:$(rand_hex 16); pdqhex=$(rand_hex 32); pdq=pdq:$pdqhex
hlx --home a add uk "$md" --category csam-a 2>/dev/null
hlx --home a add uk "$pdq" --category csam-b 2>/dev/null
for i in 1 2 3 4 5 6 7 8; do hlx --home a add uk md5:$(rand_hex 16) pdq:$(rand_hex 32) --category csam-a 2>/dev/null; done
echo '{"format": "hlx-policy-1", "name": "wide", "lists": ["uk"], "fields": ["category"]}' >wide.json
echo '{"format": "hlx-policy-1", "name": "wide-enc", "lists": ["uk"], "fields": ["category"], "encrypt": true}' >wide-enc.json
echo '{"format": "hlx-policy-1", "name": "narrow", "lists": ["uk"], "types": ["md5"], "fields": []}' >narrow.json
for p in wide wide-enc narrow; do hlx --home a policy add $p.json 2>/dev/null; done
hlx --home a peer add b --key b-root.pub --policy wide 2>/dev/null
hlx --home a peer add c --key c-root.pub --policy wide 2>/dev/null
hlx --home a peer add d --key d-root.pub --policy wide-enc --box "$(hlx --home d key show --box)" 2>/dev/null
hlx --home a peer add e --key e-root.pub --policy narrow 2>/dev/null
test_ok "A publishes to three audiences" hlx --home a publish --to www
fb=$(dir_of b); fc=$(dir_of c); fd=$(dir_of d); fe=$(dir_of e)
vw=$(dirname "$(grep -l "^b " a/views/*/members)")
vx=$(dirname "$(grep -l "^d " a/views/*/members)")
ve=$(dirname "$(grep -l "^e " a/views/*/members)")
test_ok "each audience has its view" test -n "$vw" -a -n "$vx" -a -n "$ve" -a "$vw" != "$vx"

test_ok "B's and C's feeds are one file on disk" sh -c "
	test \$(stat -c %i www/a/$fb/lists/uk/packs/1.pack) = \$(stat -c %i www/a/$fc/lists/uk/packs/1.pack)"
test_ok "which is the pack of the view's history" sh -c "
	i=\$(stat -c %i www/a/$fb/lists/uk/packs/1.pack)
	for p in $vw/uk.git/objects/pack/*.pack; do test \$(stat -c %i \$p) = \$i && exit 0; done; exit 1"
test_ok "the encrypted audience's view has the same version" sh -c "
	test \"\$(git -C $vw/uk.git rev-parse HEAD)\" = \"\$(git -C $vx/uk.git rev-parse HEAD)\""
test_ok "whose pack is the same file as the plain one's" sh -c "
	test \"\$(for p in $vw/uk.git/objects/pack/*.pack; do stat -c %i \$p; done | sort)\" = \
	     \"\$(for p in $vx/uk.git/objects/pack/*.pack; do stat -c %i \$p; done | sort)\""
test_ok "the encrypted feed shows no hash in clear" sh -c "! grep -rqa -e pdq: -e md5: -e csam -e $pdqhex www/a/$fd"
test_ok "nor does it share a file with any plain feed" sh -c "
	i=\$(stat -c %i www/a/$fd/lists/uk/packs/1.pack)
	! find www/a -name '*.pack' ! -path '*/$fd/*' -inum \$i | grep -q ."
test_ok "the narrow view holds no pdq hash" sh -c "
	! git -C $ve/uk.git cat-file --batch-all-objects --batch | grep -qaF $pdqhex"
test_ok "its feed shares no file with the wide ones" sh -c "
	i=\$(stat -c %i www/a/$fe/lists/uk/packs/1.pack)
	! find www/a a/views -name '*.pack' ! -path '*/$fe/*' ! -path '$ve/*' -inum \$i | grep -q ."
test_ok "nor has any pdq hash in its pack" sh -c "
	git init -q --bare un.git && git -C un.git unpack-objects -q <www/a/$fe/lists/uk/packs/1.pack &&
	git -C un.git cat-file --batch-all-objects --batch | grep -qaF $md &&
	! git -C un.git cat-file --batch-all-objects --batch | grep -qaF $pdqhex"

for x in b c d e; do
	eval f=\$f$x
	hlx --home $x peer add a --url "file://$PWD/www/a/$f/" --key a-root.pub 2>/dev/null
	hlx --home $x subscribe a uk 2>/dev/null
done
test_ok "every member syncs its feed" sh -c '
	for x in b c d e; do "$HLX" --home $x sync || exit 1; done'
test_ok "B and D have the pdq hash, E does not" sh -c '
	"$HLX" --home b lookup '"$pdq"' && "$HLX" --home d lookup '"$pdq"' &&
	! "$HLX" --home e lookup '"$pdq"' && "$HLX" --home e lookup '"$md"

# a new version is shared the same way, and followed
new=md5:$(rand_hex 16)
hlx --home a add uk "$new" --category csam-a 2>/dev/null
test_ok "A publishes the new entry" hlx --home a publish --to www
test_ok "its pack too is one file for B, C and both views" sh -c "
	i=\$(stat -c %i www/a/$fb/lists/uk/packs/2.pack) &&
	test \$(stat -c %i www/a/$fc/lists/uk/packs/2.pack) = \$i &&
	test \$(find $vw/uk.git/objects/pack $vx/uk.git/objects/pack -inum \$i | wc -l) = 2"
test_ok "every member gets it" sh -c '
	for x in b c d e; do "$HLX" --home $x sync && "$HLX" --home $x lookup '"$new"' || exit 1; done'

# a member that leaves: its directory goes, the others' file stays whole
hlx --home a peer set c --no-policy 2>/dev/null
test_ok "A publishes after C left" hlx --home a publish --to www
test_ok "C's feed is taken down" test ! -e "www/a/$fc"
test_ok "B's feed is whole: B checks its copy" sh -c '"$HLX" --home b sync && "$HLX" --home b fsck'

# twins made together over a list with a history: policies that differ
# only in what makes no difference to a list's lines (encryption, rules,
# status fields) get one version of it; a policy that differs in a field
# does not, and each view holds what its policy says
for x in f g h; do
	hlx --home $x init --org org-$x --no-passphrase 2>/dev/null
	hlx --home $x key show --root >$x-root.pub
done
hlx --home a status set "$md" --state removed --country DE 2>/dev/null
echo '{"format": "hlx-policy-1", "name": "tw-a", "lists": ["uk", "status"], "fields": ["category"], "status_fields": ["country"], "rules": {"onward": false, "retention_days": 30, "purpose": "detection"}}' >tw-a.json
echo '{"format": "hlx-policy-1", "name": "tw-b", "lists": ["uk", "status"], "fields": ["category"], "status_fields": [], "encrypt": true}' >tw-b.json
echo '{"format": "hlx-policy-1", "name": "tw-c", "lists": ["uk", "status"], "fields": [], "status_fields": ["country"]}' >tw-c.json
for p in tw-a tw-b tw-c; do hlx --home a policy add $p.json 2>/dev/null; done
hlx --home a peer add f --key f-root.pub --policy tw-a 2>/dev/null
hlx --home a peer add g --key g-root.pub --policy tw-b --box "$(hlx --home g key show --box)" 2>/dev/null
hlx --home a peer add h --key h-root.pub --policy tw-c 2>/dev/null
test_ok "A publishes to three more audiences" hlx --home a publish --to www
vf=$(dirname "$(grep -l "^f " a/views/*/members)")
vg=$(dirname "$(grep -l "^g " a/views/*/members)")
vh=$(dirname "$(grep -l "^h " a/views/*/members)")
test_ok "each has a view of its own" sh -c "
	test -n '$vf' -a -n '$vg' -a -n '$vh' && test '$vf' != '$vg' -a '$vf' != '$vh' -a '$vg' != '$vh'"
test_ok "the twins' views of the list are one version, one pack file" sh -c "
	test \"\$(git -C $vf/uk.git rev-parse HEAD)\" = \"\$(git -C $vg/uk.git rev-parse HEAD)\" &&
	test \"\$(for p in $vf/uk.git/objects/pack/*.pack; do stat -c %i \$p; done | sort)\" = \
	     \"\$(for p in $vg/uk.git/objects/pack/*.pack; do stat -c %i \$p; done | sort)\""
test_ok "holding what the first wide view holds" sh -c "
	test \"\$(git -C $vf/uk.git rev-parse 'HEAD^{tree}')\" = \"\$(git -C $vw/uk.git rev-parse 'HEAD^{tree}')\""
# what each view should hold, from the list's own history (Python, not hlx)
cat >want.py <<'PY'
import io, subprocess, sys, tarfile
repo, keep = sys.argv[1], sys.argv[2]
raw = subprocess.run(['git', '-C', repo, 'archive', 'HEAD'], check=True,
                     capture_output=True).stdout
t = tarfile.open(fileobj=io.BytesIO(raw))
for m in t.getmembers():
    if not m.isfile():
        continue
    for l in t.extractfile(m).read().decode().splitlines():
        f = l.split('\t')
        # hash, then its fields: '-' where the policy withholds one
        print('\t'.join([f[0], f[1] if keep == 'category' else '-'] + ['-'] * (len(f) - 2)))
PY
python3 want.py a/lists/uk.git category | sort >want-tw
python3 want.py a/lists/uk.git none | sort >want-th
test_ok "the twins hold every entry of the list, with its category only" sh -c "
	test \$(wc -l <want-tw) -eq 19 &&
	git -C $vf/uk.git archive HEAD | tar -xO | sort | cmp want-tw - &&
	git -C $vg/uk.git archive HEAD | tar -xO | sort | cmp want-tw -"
test_ok "the policy without fields has a version of its own, without them" sh -c "
	test \"\$(git -C $vh/uk.git rev-parse HEAD)\" != \"\$(git -C $vf/uk.git rev-parse HEAD)\" &&
	test \$(wc -l <want-th) -eq 19 && ! grep -q csam want-th &&
	git -C $vh/uk.git archive HEAD | tar -xO | sort | cmp want-th -"
test_ok "status views follow their own policies: a country for F, none for G" sh -c "
	git -C $vf/status.git archive HEAD | tar -xO | grep -q '	DE	' &&
	git -C $vg/status.git archive HEAD | tar -xO >sg && grep -q removed sg && ! grep -q '	DE	' sg"
for x in f g h; do
	hlx --home $x peer add a --url "file://$PWD/www/a/$(dir_of $x)/" --key a-root.pub 2>/dev/null
	hlx --home $x subscribe a uk 2>/dev/null
done
test_ok "each new member reads its feed, and holds its view" sh -c '
	for x in f g h; do "$HLX" --home $x sync || exit 1; done &&
	git -C f/lists/a/uk.git archive HEAD | tar -xO | sort | cmp want-tw - &&
	git -C g/lists/a/uk.git archive HEAD | tar -xO | sort | cmp want-tw - &&
	git -C h/lists/a/uk.git archive HEAD | tar -xO | sort | cmp want-th -'
test_ok "F received its own policy's rules, not its twin's" \
	grep -q '"onward":false.*"retention_days":30' f/peers/a/uk.rules
# a twin of a view made before is made whole alone: a history of its own
for x in k; do
	hlx --home $x init --org org-$x --no-passphrase 2>/dev/null
	hlx --home $x key show --root >$x-root.pub
done
echo '{"format": "hlx-policy-1", "name": "wide-late", "lists": ["uk"], "fields": ["category"], "rules": {"onward": false, "retention_days": 7}}' >wide-late.json
hlx --home a policy add wide-late.json 2>/dev/null
hlx --home a peer add k --key k-root.pub --policy wide-late 2>/dev/null
test_ok "A publishes to a late twin of the wide audience" hlx --home a publish --to www
vk=$(dirname "$(grep -l "^k " a/views/*/members)")
test_ok "whose view holds what the wide one does, in a version 1 of its own" sh -c "
	test -n '$vk' -a '$vk' != '$vw' &&
	test \"\$(git -C $vk/uk.git rev-parse 'HEAD^{tree}')\" = \"\$(git -C $vw/uk.git rev-parse 'HEAD^{tree}')\" &&
	test \"\$(git -C $vk/uk.git rev-list --count HEAD)\" = 1 &&
	test \"\$(git -C $vw/uk.git rev-list --count HEAD)\" -gt 1 &&
	git -C $vk/uk.git archive HEAD | tar -xO | sort | cmp want-tw -"
test_done
