#!/bin/sh
# SPDX-License-Identifier: MIT
# Sharing policies end to end (spec/policy.md, spec/sync.md section 8):
# hotline A shares everything with hotline B and verified hashes of one
# category, minimised and encrypted, with companies C and D; what each
# receives equals what 'hlx policy check' says, and nothing more; an
# outsider cannot read the encrypted feed, nor a member after it left;
# held entries stay back until released; every disclosure is audited;
# retention purges; onward sharing is refused when the origin forbids it.
. "$(dirname "$0")/lib.sh"

SEED=${HLX_SEED:-700}
echo "# seed $SEED"
for x in a b c d e x; do hlx --home $x init --org org-$x --no-passphrase 2>/dev/null; done
for x in a b c d e x; do hlx --home $x key show --root >$x-root.pub; done

# list uk-a: md5 and pdq entries of two categories and confidences
hlx --home a list create uk-a 2>/dev/null
: >all.csv
echo "hash,category,first_seen,confidence,tags" >in.csv
i=0
while [ $i -lt 40 ]; do
	case $((i % 4)) in
	0) h=md5:$(rand_hex 16); cat=csam-a; conf=90 ;;
	1) h=pdq:$(rand_hex 32); cat=csam-a; conf=95 ;;
	2) h=pdq:$(rand_hex 32); cat=csam-b; conf=99 ;;
	3) h=pdq:$(rand_hex 32); cat=csam-a; conf=50 ;;
	esac
	echo "$h,$cat,2026-11-0$((i % 9 + 1))T10:00:00Z,$conf,triaged" >>in.csv
	echo "$h $cat $conf" >>all.csv
	i=$((i + 1))
done
held=pdq:$(rand_hex 32)
echo "$held,csam-a,2026-11-20T10:00:00Z,99,hold;triaged" >>in.csv
hlx --home a import uk-a in.csv 2>/dev/null
st=$(sed -n 2p all.csv | cut -d' ' -f1)
hlx --home a status set "$st" --state removed --country DE 2>/dev/null
hlx --home a status set "$held" --state notice-sent --country FR 2>/dev/null
# the status of a csam-b item: companies must not learn of it this way
st2=$(sed -n 3p all.csv | cut -d' ' -f1)
hlx --home a status set "$st2" --state removed --country NL 2>/dev/null

cat >hotlines.json <<'EOF'
{"format": "hlx-policy-1", "name": "hotlines", "lists": ["*", "status"],
 "fields": ["category", "first_seen", "confidence", "tags"],
 "status_fields": ["country", "times"],
 "rules": {"onward": true, "retention_days": 60, "purpose": "hotline"}}
EOF
cat >companies.json <<'EOF'
{"format": "hlx-policy-1", "name": "companies", "lists": ["uk-a", "status"],
 "types": ["pdq"], "categories": ["csam-a"], "min_confidence": 80,
 "fields": ["category"],
 "rules": {"onward": false, "retention_days": 30, "purpose": "detection"},
 "encrypt": true}
EOF
test_ok "A adds the hotline policy" hlx --home a policy add hotlines.json
test_ok "A adds the company policy" hlx --home a policy add companies.json
test_fails_with "adding it twice needs --replace" 4 "replace" hlx --home a policy add companies.json
echo '{"format": "hlx-policy-1", "name": "bad", "lists": ["uk-a"], "fields": [], "colour": "red"}' >bad.json
test_fails_with "a policy with an unknown member is refused" 3 "colour" hlx --home a policy add bad.json
test_ok "A pins B with the hotline policy" \
	hlx --home a peer add b --key b-root.pub --policy hotlines
# refused when it is entered, no longer at the next publish (t0840)
test_fails_with "an encrypting policy needs the peer's box key" 7 "box key" \
	sh -c '"$HLX" --home a peer add c --key c-root.pub --policy companies'
test_ok "C's box key is set" sh -c '"$HLX" --home a peer add c --key c-root.pub --policy companies --box "$("$HLX" --home c key show --box)"'
test_ok "D is a company too" sh -c '"$HLX" --home a peer add d --key d-root.pub --box "$("$HLX" --home d key show --box)" --policy companies'
test_ok "policy ls shows both policies and their peers" sh -c '
	"$HLX" --home a policy ls >pls && grep -q "^companies .* yes  *c d$" pls && grep -q "^hotlines .* no  *b$" pls'
test_ok "A publishes" hlx --home a publish --to www
test_ok "no open feed under policies" test ! -e www/trust.json -a ! -e www/lists
test_ok "one directory per audience" test "$(ls www/a | wc -l)" -eq 2
fb=$(hlx --home a policy check b | sed -n 's/.*feed a\/\([0-9a-f]*\)\/.*/\1/p')
fc=$(hlx --home a policy check c | sed -n 's/.*feed a\/\([0-9a-f]*\)\/.*/\1/p')
test_ok "C and D share an audience, B has its own" sh -c "
	test -n '$fb' -a -n '$fc' -a '$fb' != '$fc' &&
	test \"\$(\"\$HLX\" --home a policy check d | sed -n 's/.*feed a\/\([0-9a-f]*\)\/.*/\1/p')\" = '$fc'"

# what policy check promises, computed from the input independently
awk '$2 == "csam-a" && $3 >= 80 && $1 ~ /^pdq:/ { print $1 "\tcsam-a\t-\t-\t-" }' all.csv | sort >want-c
test_ok "policy check: C gets the verified pdq hashes of csam-a, category only" sh -c '
	"$HLX" --home a policy check c --entries | awk -F"\t" "\$2 == \"uk-a\"" | cut -f3- | sort >got-c &&
	cmp want-c got-c'
test_ok "the held entry is in no view" sh -c '! "$HLX" --home a policy check --all --entries | grep -q '"$held"
test_ok "B gets every entry but the held one, all fields" sh -c '
	test "$("$HLX" --home a policy check b --entries | awk -F"\t" "\$2 == \"uk-a\"" | wc -l)" -eq 40'
test_ok "C's status view: item and state, no country, times cut to the day" sh -c '
	"$HLX" --home a policy check c --entries | awk -F"\t" "\$2 == \"status\"" >sc &&
	test $(wc -l <sc) -eq 1 && grep -q "^c	status	'"$st"'	-	removed	" sc && grep -q "T00:00:00Z	" sc'
test_ok "B's status view: all but the held item, with countries" sh -c '
	test $("$HLX" --home a policy check b --entries | awk -F"\t" "\$2 == \"status\"" | grep -c "	[A-Z][A-Z]	") -eq 2'

# B: plain feed over file://
test_ok "B subscribes to its audience's feed" sh -c "
	\"\$HLX\" --home b peer add a --url 'file://$PWD/www/a/$fb/' --key a-root.pub &&
	\"\$HLX\" --home b subscribe a uk-a && \"\$HLX\" --home b subscribe a status && \"\$HLX\" --home b sync"
feedlines() { git -C "$1" archive HEAD | tar -xO | sort; }
test_ok "what B holds is exactly what policy check shows" sh -c "
	\"\$HLX\" --home a policy check b --entries | awk -F'\t' '\$2 == \"uk-a\"' | cut -f3- | sort >want-b &&
	git -C b/lists/a/uk-a.git archive HEAD | tar -xO | sort >got-b && cmp want-b got-b"
test_ok "B keeps the handling rules that came with the list" \
	grep -q '"onward":true.*"retention_days":60' b/peers/a/uk-a.rules

# a host serving B's view under another audience's name is caught
cp -r "www/a/$fb" www/a/0123456789abcdef0123456789abcdef
test_fails_with "a feed moved to another audience's directory is refused" 1 "the head is for audience $fb" sh -c "
	\"\$HLX\" --home x peer add moved --url 'file://$PWD/www/a/0123456789abcdef0123456789abcdef/' --key a-root.pub &&
	\"\$HLX\" --home x subscribe moved uk-a && \"\$HLX\" --home x sync moved"
test_fails_with "and so is an audience's feed taken for an open one" 1 "the head is for audience" sh -c "
	mkdir -p openish/lists && cp -r www/a/$fb/lists/uk-a openish/lists/ && cp www/a/$fb/trust.json openish/ &&
	\"\$HLX\" --home x peer add openish --url 'file://$PWD/openish/' --key a-root.pub &&
	\"\$HLX\" --home x subscribe openish uk-a && \"\$HLX\" --home x sync openish"
rm -rf www/a/0123456789abcdef0123456789abcdef

# C: encrypted feed
test_ok "the encrypted feed shows no hash in clear" sh -c "! grep -rqa -e pdq: -e md5: -e csam -e org-a www/a/$fc"
test_ok "C subscribes and syncs the encrypted feed" sh -c "
	\"\$HLX\" --home c peer add a --url 'file://$PWD/www/a/$fc/' --key a-root.pub &&
	\"\$HLX\" --home c subscribe a uk-a && \"\$HLX\" --home c sync"
test_ok "what C holds is exactly what policy check shows" sh -c "
	git -C c/lists/a/uk-a.git archive HEAD | tar -xO | sort >got-c2 && cmp want-c got-c2"
test_ok "C's peer status shows the handling rules it received" sh -c '
	"$HLX" --home c peer status | grep -q "handling rules: onward sharing forbidden, retention 30 days, purpose detection"'
first=$(head -n 1 want-c | cut -f1)
test_ok "C finds a verified pdq hash" hlx --home c lookup "$first"
md=$(grep '^md5:' all.csv | head -n 1 | cut -d' ' -f1)
test_fails_with "C does not have the md5 hashes" 1 "" hlx --home c lookup "$md"
test_fails_with "nor the held entry" 1 "" hlx --home c lookup "$held"
cp -r "www/a/$fc" copy
test_fails_with "an outsider cannot read a copy of the encrypted feed" 1 "not a recipient" sh -c "
	\"\$HLX\" --home x peer add a --url 'file://$PWD/copy/' --key a-root.pub &&
	\"\$HLX\" --home x subscribe a uk-a && \"\$HLX\" --home x sync"
test_ok "and holds nothing of it" sh -c '! "$HLX" --home x list ls | grep -q "a/uk-a"'

# D leaves the audience: the next version is sealed to C alone
test_ok "D subscribes while a member" sh -c "
	\"\$HLX\" --home d peer add a --url 'file://$PWD/www/a/$fc/' --key a-root.pub &&
	\"\$HLX\" --home d subscribe a uk-a && \"\$HLX\" --home d sync"
test_ok "A takes D out of the audience" hlx --home a peer set d --no-policy
new=pdq:$(rand_hex 32)
hlx --home a add uk-a "$new" --category csam-a --confidence 99 2>/dev/null
test_ok "A publishes the next version" hlx --home a publish --to www
test_fails_with "D cannot read it" 1 "not a recipient" hlx --home d sync
test_fails_with "and does not have the new entry" 1 "" hlx --home d lookup "$new"
# a sealed file changed on the server: refused, and C's state unchanged
snap() { (cd "$1" && find lists state peers -type f ! -name lock.mdb ! -name '*.sync' | sort | xargs sha256sum); }
flip() { python3 -c "
import sys
p = sys.argv[1]; b = bytearray(open(p, 'rb').read()); b[int(sys.argv[2]) % len(b)] ^= 1
open(p, 'wb').write(b)" "$@"; }
pk=$(ls www/a/$fc/lists/uk-a/packs | sort -n | tail -n 1)
for what in "lists/uk-a/head -30" "lists/uk-a/packs/$pk -30" "lists/uk-a/packs/$pk 2000"; do
	set -- $what
	cp "www/a/$fc/$1" sealed.bak
	flip "www/a/$fc/$1" "$2"
	touch -d '+3 seconds' "www/a/$fc/$1"
	snap c >c.before
	test_fails "C refuses $1 with byte $2 changed" hlx --home c sync
	snap c >c.after
	test_cmp "and C's lists, state and peer files are as they were" c.before c.after
	cp sealed.bak "www/a/$fc/$1"
	touch -d '+4 seconds' "www/a/$fc/$1"
done
test_ok "C, still a member, gets it" sh -c '"$HLX" --home c sync && "$HLX" --home c lookup '"$new"

# the embargo ends when the hold tag goes
hlx --home a add uk-a "$held" --category csam-a --confidence 99 --tag triaged 2>/dev/null
hlx --home a publish --to www 2>/dev/null
test_ok "a released entry reaches B and C" sh -c '
	"$HLX" --home b sync && "$HLX" --home b lookup '"$held"' && "$HLX" --home c sync && "$HLX" --home c lookup '"$held"

test_ok "after these changes, each view still equals a full recomputation" sh -c "
	\"\$HLX\" --home a policy check b --entries | awk -F'\t' '\$2 == \"uk-a\"' | cut -f3- | sort >want-b2 &&
	git -C b/lists/a/uk-a.git archive HEAD | tar -xO | sort >got-b2 && cmp want-b2 got-b2 &&
	\"\$HLX\" --home a policy check c --entries | awk -F'\t' '\$2 == \"uk-a\"' | cut -f3- | sort >want-c2 &&
	git -C c/lists/a/uk-a.git archive HEAD | tar -xO | sort >got-c3 && cmp want-c2 got-c3 && test \$(wc -l <want-b2) -eq 42"

# accountability
test_ok "the audit log has a record for every disclosure" sh -c '
	"$HLX" --home a audit >aud && grep -q " b " aud && grep -q " c " aud && grep -q " d " aud'
test_ok "--peer filters" sh -c '"$HLX" --home a audit --peer c --json >audc && test -s audc && ! grep -v "\"peer\":\"c\"" audc'
ph=$(hlx --home a policy ls | awk '$1 == "companies" { print $2 }')
test_ok "records name the policy applied" sh -c "grep -q '\"policy\":\"$ph' audc"
test_ok "audit records name the versions disclosed" sh -c "grep -q '\"from\":1' audc"
cp a/audit.log audit.bak
sed -i '1s/"peer":"b"/"peer":"x"/; 1s/"peer":"c"/"peer":"x"/' a/audit.log
test_fails "a changed audit record is detected" hlx --home a audit
cp audit.bak a/audit.log

# retention: C must delete after 30 days, B after 60
later=$(date -u -d '+31 days' +%Y-%m-%dT%H:%M:%SZ)
test_ok "C purges after 30 days" sh -c "HLX_NOW=$later \"\$HLX\" --home c purge 2>&1 | grep -q 'purged'"
test_fails_with "the entries are gone from C's lookups" 1 "" hlx --home c lookup "$first"
test_ok "C's fsck accepts the purge" hlx --home c fsck
test_ok "no page of C's state keeps the purged hash (compacted)" python3 -c "
import os, sys
pat = bytes.fromhex('${first#pdq:}')
for d, _, fs in os.walk('c/state'):
    for f in fs:
        if pat in open(os.path.join(d, f), 'rb').read():
            sys.exit('found in ' + f)"
test_ok "B keeps them at 31 days" sh -c "HLX_NOW=$later \"\$HLX\" --home b purge && \"\$HLX\" --home b lookup '$first'"

# onward sharing: B may relay A's list, C may not
for x in b c; do
	cat >relay-$x.json <<EOF
{"format": "hlx-policy-1", "name": "relay", "lists": ["a/uk-a"], "fields": ["category"]}
EOF
	hlx --home $x policy add relay-$x.json 2>/dev/null
	hlx --home $x peer add e --key e-root.pub --policy relay 2>/dev/null
	hlx --home $x publish --to www-$x 2>/dev/null
	f=$(hlx --home $x policy check e | sed -n 's/.*feed a\/\([0-9a-f]*\)\/.*/\1/p')
	hlx --home e peer add $x --url "file://$PWD/www-$x/a/$f/" --key $x-root.pub 2>/dev/null
	# C does not publish it (onward sharing forbidden): --force, or
	# subscribe refuses it (t0840)
	hlx --home e subscribe --force $x a.uk-a 2>/dev/null
done
test_ok "E receives A's entries relayed by B (onward sharing allowed)" sh -c '
	"$HLX" --home e sync b && "$HLX" --home e lookup '"$first"
test_ok "C's policy check shows nothing of A's list for E" sh -c '
	test -z "$("$HLX" --home c policy check e --entries)"'
test_fails "E gets nothing of A's list from C (onward sharing forbidden)" hlx --home e sync c
test_ok "C's feed for E holds no list" test ! -e "www-c/a/$(hlx --home c policy check e | sed -n 's/.*feed a\/\([0-9a-f]*\)\/.*/\1/p')/lists/a.uk-a"

# the status log follows: D holds A's list (onward sharing forbidden) and
# records statuses, one for an item of that list, one for an item it
# lists nowhere; a policy giving D's status log gives only the second
other=url-sha256:$(rand_hex 32)
hlx --home d status set "$first" --state removed --country DE 2>/dev/null
hlx --home d status set "$other" --state reported 2>/dev/null
echo '{"format": "hlx-policy-1", "name": "st", "lists": ["a/uk-a", "status"], "fields": []}' >st.json
hlx --home d policy add st.json 2>/dev/null
hlx --home d peer add e --key e-root.pub --policy st 2>/dev/null
test_ok "a status about an item of a list not to be shared onward is withheld" sh -c '
	"$HLX" --home d policy check e --entries >dst &&
	! grep -q '"$first"' dst && grep -q "^e	status	'"$other"'	" dst'

# two lists published under one name are refused
hlx --home b list create a.uk-a 2>/dev/null
hlx --home b add a.uk-a md5:$(rand_hex 16) 2>/dev/null
echo '{"format": "hlx-policy-1", "name": "both", "lists": ["a/uk-a", "a.uk-a"], "fields": []}' >both.json
hlx --home b policy add both.json 2>/dev/null
hlx --home b peer set e --policy both 2>/dev/null
test_fails_with "B's own 'a.uk-a' and A's 'uk-a' relayed as 'a.uk-a' collide" 7 "both be published as 'a.uk-a'" \
	hlx --home b publish --to www-b
hlx --home b peer set e --policy relay 2>/dev/null

# retention travels: past B's 60 days the relayed entries leave E's feed
later=$(date -u -d '+61 days' +%Y-%m-%dT%H:%M:%SZ)
test_ok "B purges after 60 days" sh -c "HLX_NOW=$later \"\$HLX\" --home b purge"
test_ok "B republishes" hlx --home b publish --to www-b
test_ok "E syncs B" hlx --home e sync b
test_fails_with "the purged entries are gone from E" 1 "" hlx --home e lookup "$first"
test_ok "B's relayed view carries the stricter rules" \
	grep -q '"onward":true.*"retention_days":60' e/peers/b/a.uk-a.rules
test_ok "the purged entries are in no file of B's feed or views, nor anywhere on E" sh -c '
	h='"${first#pdq:}"'
	! grep -rqa "$h" www-b b/views e &&
	for r in $(find b/views e -name "*.git" -type d); do
		! git -C "$r" cat-file --batch-all-objects --batch | grep -qa "$h" || exit 1
	done'

# equal policies under two names share an audience; each peer's records
# name its own policy
sed 's/"name": "hotlines"/"name": "hotlines2"/' hotlines.json >hotlines2.json
hlx --home a policy add hotlines2.json 2>/dev/null
hlx --home x key show --root >x-root.pub
hlx --home a peer add x2 --key x-root.pub --policy hotlines2 2>/dev/null
hlx --home a publish --to www 2>/dev/null
h2=$(hlx --home a policy ls | awk '$1 == "hotlines2" { print $2 }')
h1=$(hlx --home a policy ls | awk '$1 == "hotlines" { print $2 }')
fx2=$(hlx --home a policy check x2 | sed -n 's/.*feed a\/\([0-9a-f]*\)\/.*/\1/p')
test_ok "x2 joins B's audience: same view, its own plain feed" sh -c "
	test -n '$fx2' -a '$fx2' != '$fb' -a -d 'www/a/$fx2/lists/uk-a' &&
	test \"\$(ls a/views | wc -l)\" -eq 2"
test_ok "its audit records name hotlines2, B's name hotlines" sh -c "
	\"\$HLX\" --home a audit --peer x2 --json | grep -q '\"policy\":\"$h2' &&
	! \"\$HLX\" --home a audit --peer x2 --json | grep -q '\"policy\":\"$h1' &&
	\"\$HLX\" --home a audit --peer b --json | grep -q '\"policy\":\"$h1'"

# a policy edited is another view, in another directory: the peer moves
sed 's/"min_confidence": 80/"min_confidence": 96/' companies.json >companies-96.json
test_ok "A tightens the company policy" hlx --home a policy add --replace companies-96.json
test_ok "A publishes" hlx --home a publish --to www
fc2=$(hlx --home a policy check c | sed -n 's/.*feed a\/\([0-9a-f]*\)\/.*/\1/p')
test_ok "the company feed moved; the old one is gone" test "$fc2" != "$fc" -a ! -e "www/a/$fc"
test_fails "C's sync of the old URL fails" hlx --home c sync
test_ok "C follows the new URL: the list is taken afresh" sh -c "
	\"\$HLX\" --home c peer set a --url 'file://$PWD/www/a/$fc2/' && \"\$HLX\" --home c sync && \"\$HLX\" --home c fsck"
test_ok "what C holds is what the new policy gives" sh -c "
	\"\$HLX\" --home a policy check c --entries | awk -F'\t' '\$2 == \"uk-a\"' | cut -f3- | sort >want-c96 &&
	\"\$HLX\" --home c export a/uk-a --format jsonl | wc -l | grep -qx \$(wc -l <want-c96) &&
	git -C c/lists/a/uk-a.git archive HEAD | tar -xO | sort >got-c96 && cmp want-c96 got-c96"

# removing a policy in use is refused
test_fails_with "a policy in use cannot be removed" 4 "applies to peer" hlx --home a policy rm hotlines
test_done
