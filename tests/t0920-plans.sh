#!/bin/sh
# SPDX-License-Identifier: MIT
# Response plans on the nodes of a federation (spec/plan.md sections 5 to
# 8): four hotlines on one machine pin each other and pull each other's
# feeds (file://); one proposes a plan, it travels through the feeds (plans
# head and bundles), each signs.  Three of four signatures are not in
# force, four are, on every node, and route the same; a withdrawal hands
# its rules to the fallbacks.  A forged act, a tampered bundle, a replayed
# head, a fork and a lower version served by a peer are refused with the
# subscriber's plans byte-identical; a forged act in the store counts for
# nothing; a wrong signatory and malformed input are refused.  A feed moved
# to a new publish directory goes on above the seq its peers verified, and
# the old directory served again is a rollback.  A peer that offers 70
# plans of its own gets 64 kept, and the 6 dropped are not fetched again.
. "$(dirname "$0")/lib.sh"
export LC_ALL=C TZ=UTC

PY="python3 $HLX_TOP/tests/t0920-plans.py"
ORGS="hl-a hl-b hl-c hl-d"
at() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
as() { _o=$1; _t=$2; shift 2; HLX_NOW=$(at "$_t") "$HLX" --home "$_o" "$@"; }
others() { for x in $ORGS; do [ "$x" = "$1" ] || echo "$x"; done; }
# round T: every node publishes at T, then pulls every peer at T+5; the
# 'cases' lists plan sign subscribes to are not published here (no cases
# engine in this test): only a failure of the plans counts
round() {
	for o in $ORGS; do as $o "$1" publish --to www/$o >/dev/null 2>>round.log || return 1; done
	: >sync.log
	for o in $ORGS; do as $o $(($1 + 5)) sync >/dev/null 2>>sync.log; done
	cat sync.log >>round.log
	! grep -v "cannot sync 'cases'" sync.log | grep "cannot"
}

T0=$(( ($(date +%s) / 60 + 2) * 60 ))
echo "# T0 $T0"
mkdir -p www
for o in $ORGS hl-x; do
	hlx --home $o init --org $o --no-passphrase >/dev/null 2>&1
	hlx --home $o key show --root >$o.pub
	ssh-keygen -lf $o.pub | awk '{print $2}' >$o.fpr
	hlx --home $o list create hashes >/dev/null 2>&1
	as $o $T0 add hashes md5:$(rand_hex 16) >/dev/null 2>&1
	as $o $T0 publish --to www/$o >/dev/null 2>&1
done
for o in $ORGS; do
	for p in $(others $o); do
		hlx --home $o peer add $p --url "file://$PWD/www/$p/" --key $p.pub >/dev/null 2>&1
		hlx --home $o subscribe $p hashes >/dev/null 2>&1
	done
done
test_ok "four nodes pin each other and pull each other's chains" sh -c '
	for o in '"$ORGS"'; do HLX_NOW='"$(at $((T0 + 5)))"' "$HLX" --home $o sync >/dev/null || exit 1; done'
python3 -c '
import json, sys
print(json.dumps({o: open(o + ".fpr").read().strip() for o in sys.argv[1:]}))' $ORGS >roots.json
$PY plan roots.json 1 >eu1.json

# ---- propose --------------------------------------------------------------
python3 -c '
import json; d = json.load(open("eu1.json"))
d["rules"][1]["fallbacks"] = ["hl-zz"]; print(json.dumps(d))' >bad.json
test_fails_with "a malformed plan: exit 3, naming the plan, rule and member" 3 \
	"^hlx: plan eu@1 rule DE/\*: fallbacks: 'hl-zz' is not a signatory" \
	as hl-a $T0 plan propose bad.json
test_fails_with "proposed by a node that is no signatory: exit 4" 4 \
	"'hl-x' is not a signatory" as hl-x $((T0 + 10)) plan propose eu1.json
$PY plan roots.json 1 hl-y >eu-y.json
test_fails_with "a signatory that is not a peer: exit 4" 4 \
	"signatory 'hl-y' is not a peer of this node" as hl-a $((T0 + 10)) plan propose eu-y.json
python3 -c '
import json; d = json.load(open("eu1.json"))
for s in d["signatories"]:
    if s["org"] == "hl-a": s["root"] = open("hl-b.fpr").read().strip()
    elif s["org"] == "hl-b": s["root"] = open("hl-a.fpr").read().strip()
print(json.dumps(d))' >eu-swap.json
test_fails_with "this node's root named for another: exit 4" 4 \
	"not a root of this node's chain" as hl-a $((T0 + 10)) plan propose eu-swap.json
test_ok "refused proposals stored nothing" test ! -e hl-a/plans/eu
test_ok "hl-a proposes eu@1" sh -c '
	HLX_NOW='"$(at $((T0 + 10)))"' "$HLX" --home hl-a plan propose - <eu1.json >prop.out &&
	grep -q "^proposed eu@1 sha256:[0-9a-f]\{64\}: signed by 1 of 4$" prop.out'
H1=$(sed -n 's/^proposed eu@1 sha256:\([0-9a-f]*\):.*/\1/p' prop.out)
test_ok "stored as plans/eu/HASH.json, mode 0644, a bundle with one act" sh -c '
	test "$(stat -c %a hl-a/plans/eu/'"$H1"'.json)" = 644 &&
	python3 -c "
import json; b = json.load(open(\"hl-a/plans/eu/'"$H1"'.json\"))
assert b[\"format\"] == \"hlx-plan-bundle-1\" and len(b[\"acts\"]) == 1"'
test_ok "the act verifies with ssh-keygen -Y verify -n hlx-plan" sh -c '
	python3 -c "
import json; b = json.load(open(\"hl-a/plans/eu/'"$H1"'.json\"))
open(\"act.body\", \"w\").write(b[\"acts\"][0][\"body\"]); open(\"act.sig\", \"w\").write(b[\"acts\"][0][\"signature\"])" &&
	"$HLX" --home hl-a key allowed-signers >allowed &&
	ssh-keygen -Y verify -f allowed -I hl-a -n hlx-plan -s act.sig <act.body'
test_fails_with "the same version again: exit 4" 4 "holds version 1 already" \
	as hl-a $((T0 + 11)) plan propose eu1.json
test_ok "hl-a: eu pending, 1 of 4" sh -c '
	HLX_NOW='"$(at $((T0 + 12)))"' "$HLX" --home hl-a plan ls >ls.out &&
	printf "eu\t1\tpending\t1/4\n" | cmp -s - ls.out'

# ---- sign: three of four --------------------------------------------------
test_ok "a sync round" round $((T0 + 12))
cp www/hl-a/plans/head old-head-a
test_ok "hl-b signs: 2 of 4, and subscribes to the others' cases" sh -c '
	HLX_NOW='"$(at $((T0 + 20)))"' "$HLX" --home hl-b plan sign eu >sign-b.out &&
	grep -q "^signed eu@1 sha256:'"$H1"': signed by 2 of 4$" sign-b.out &&
	! grep -q "is in force" sign-b.out &&
	python3 -c "
import json; p = json.load(open(\"hl-b/peers.json\"))
subs = {x[\"name\"]: x.get(\"lists\", x.get(\"subscriptions\", [])) for x in p[\"peers\"]}
assert all(\"cases\" in subs[o] for o in (\"hl-a\", \"hl-c\", \"hl-d\")), subs"'
test_fails_with "signing twice: exit 4" 4 "signed by this node already" \
	as hl-b $((T0 + 21)) plan sign eu
test_ok "a sync round" round $((T0 + 22))
test_ok "hl-c signs: 3 of 4" sh -c '
	HLX_NOW='"$(at $((T0 + 30)))"' "$HLX" --home hl-c plan sign eu --version 1 --doc '"$H1"' >sign-c.out &&
	grep -q "signed by 3 of 4$" sign-c.out'
test_ok "a sync round" round $((T0 + 32))
test_ok "three of four signatures: pending, not in force, on every node" sh -c '
	for o in '"$ORGS"'; do
		HLX_NOW='"$(at $((T0 + 40)))"' "$HLX" --home $o plan ls >ls-$o.out &&
		printf "eu\t1\tpending\t3/4\n" | cmp -s - ls-$o.out || { cat ls-$o.out; exit 1; }
	done'
test_ok "and it routes nothing" sh -c '
	HLX_NOW='"$(at $((T0 + 40)))"' "$HLX" --home hl-a plan route DE/a1 >r.out &&
	printf "DE/a1\t-\t-\t-\t-\n" | cmp -s - r.out'
test_ok "show: who signed, who is missing" sh -c '
	HLX_NOW='"$(at $((T0 + 40)))"' "$HLX" --home hl-a plan show eu >show.out &&
	grep -q "^state pending$" show.out && grep -q "^signatory hl-b signed " show.out &&
	grep -q "^signatory hl-d missing$" show.out &&
	grep -q "^DE/\* -> hl-b hl-a channel self languages de notice 24h renotice 0h escalate 0 hold 0h$" show.out'

# ---- the fourth ------------------------------------------------------------
test_ok "hl-d signs: 4 of 4, in force" sh -c '
	HLX_NOW='"$(at $((T0 + 50)))"' "$HLX" --home hl-d plan sign eu >sign-d.out &&
	grep -q "signed by 4 of 4$" sign-d.out && grep -q "^eu@1 is in force$" sign-d.out'
test_ok "a sync round" round $((T0 + 52))
cat >locs <<'LOCS'
DE/a1
de/a1
BR/a1
-/-
FR/b2
FR/a1
DE/a1/img.host-c.example
DE/a1/evilhost-c.example
LOCS
cat >want <<WANT
DE/a1	hl-b	eu@1	DE/*	hl-a,hl-c
DE/a1	hl-b	eu@1	DE/*	hl-a,hl-c
BR/a1	hl-a	eu@1	*/*	hl-b,hl-c
-/-	hl-a	eu@1	*/*	hl-b,hl-c
FR/b2	hl-d	eu@1	FR/b2	hl-a,hl-b,hl-c
FR/a1	hl-a	eu@1	*/*	hl-b,hl-c
DE/a1/img.host-c.example	hl-c	eu@1	*/*/host-c.example	hl-a,hl-b
DE/a1/evilhost-c.example	hl-b	eu@1	DE/*	hl-a,hl-c
WANT
test_ok "every node: eu@1 in force, routing the same" sh -c '
	for o in '"$ORGS"'; do
		HLX_NOW='"$(at $((T0 + 60)))"' "$HLX" --home $o plan ls >ls-$o.out &&
		printf "eu\t1\tin-force\t-\n" | cmp -s - ls-$o.out || { cat ls-$o.out; exit 1; }
		HLX_NOW='"$(at $((T0 + 60)))"' "$HLX" --home $o plan route - <locs >route-$o.out &&
		cmp -s want route-$o.out || { diff want route-$o.out; exit 1; }
	done'
# a node outside the plan (hl-x) that pins the signatories: a plan binds
# its signatories only, so hl-x routes nothing with it (spec/plan.md 6)
for p in $ORGS; do
	hlx --home hl-x peer add $p --url "file://$PWD/www/$p/" --key $p.pub >/dev/null 2>&1
	hlx --home hl-x subscribe $p hashes >/dev/null 2>&1
done
sed 's/\t.*/\t-\t-\t-\t-/' want >want-x
test_ok "a node that signed no plan holds eu@1 but routes nothing with it" sh -c '
	HLX_NOW='"$(at $((T0 + 58)))"' "$HLX" --home hl-x sync >/dev/null &&
	test -n "$(ls hl-x/plans/eu)" &&
	HLX_NOW='"$(at $((T0 + 60)))"' "$HLX" --home hl-x plan route - <locs >route-hl-x.out &&
	cmp -s want-x route-hl-x.out || { diff want-x route-hl-x.out; exit 1; }'

# ---- a peer serving forged, tampered, replayed or lower plans ---------------
snapshot() {
	{ find hl-b/plans -type f | sort | xargs sha256sum
	  sha256sum hl-b/peers/hl-a/plans.sync hl-b/peers/hl-a/trust.json; } 2>&1 | sha256sum
}
cp -r www/hl-a pristine-a
restore() { rm -rf www/hl-a && cp -r pristine-a www/hl-a; }
# refused DESC PATTERN: hl-b's pull of hl-a's plans fails naming PATTERN,
# and hl-b's plans and plans.sync are byte-identical
refused() {
	before=$(snapshot)
	test_fails_with "$1: refused" 1 "cannot sync the plans of peer 'hl-a': .*$2" \
		as hl-b $((T0 + 57)) sync hl-a
	test_ok "$1: hl-b's plans byte-identical" test "$before" = "$(snapshot)"
	restore
}
evil() { $PY evil "$HLX" hl-a www/hl-a "$(at $((T0 + 56)))" "$1"; }
evil forged-act
refused "an act of another organisation signed by the peer's key" "plan act of .hl-[bcd].: key SHA256:.* is not delegated by the root of"
evil drop
sed -i 's/"lease_seconds\\":3600/"lease_seconds\\":3601/' www/hl-a/plans/eu/$H1.json
refused "a bundle whose document changed after the head named it" "not the bundle the head names"
cp old-head-a www/hl-a/plans/head
refused "an older plans head replayed" "rollback"
evil fork
refused "the same seq with other plans" "a fork"
evil lower
refused "a lower version, signed by the peer alone" "not complete and not above the complete version 1"
test_ok "peer status names the last refusal for the plans" sh -c '
	"$HLX" --home hl-b peer status | grep "^hl-a  *plans .*not complete and not above"'
test_ok "the honest feed again: accepted, the error gone" sh -c '
	HLX_NOW='"$(at $((T0 + 58)))"' "$HLX" --home hl-b sync hl-a 2>&1 | grep -v "cannot sync .cases." | grep -q "hl-a/plans" ;
	test ! -e hl-b/peers/hl-a/plans.error &&
	"$HLX" --home hl-b peer status | grep -q "^hl-a  *plans .* -$"'

test_ok "before the fourth act's time it was not in force" sh -c '
	HLX_NOW='"$(at $((T0 + 49)))"' "$HLX" --home hl-a plan route DE/a1 | grep -q "^DE/a1	-	-	-	-$"'
test_ok "ls --json" sh -c '
	HLX_NOW='"$(at $((T0 + 60)))"' "$HLX" --home hl-b plan ls --json | python3 -c "
import json, sys; o = json.loads(sys.stdin.read())
assert o == {\"name\": \"eu\", \"version\": 1, \"state\": \"in-force\", \"withdrawn\": [], \"pending\": None}, o"'
test_ok "route --json" sh -c '
	HLX_NOW='"$(at $((T0 + 60)))"' "$HLX" --home hl-a plan route --json FR/b2 | python3 -c "
import json, sys; o = json.loads(sys.stdin.read())
assert o[\"org\"] == \"hl-d\" and o[\"channel\"] == \"police\" and o[\"fallbacks\"] == [\"hl-a\", \"hl-b\", \"hl-c\"], o"'
test_ok "show --json: the canonical document, then its status" sh -c '
	HLX_NOW='"$(at $((T0 + 60)))"' "$HLX" --home hl-c plan show eu --json >sj.out &&
	test "$(head -n 1 sj.out | tr -d "\n" | sha256sum | cut -d" " -f1)" = '"$H1"' &&
	sed -n 2p sj.out | grep -q "\"state\":\"in-force\""'
test_fails_with "a malformed location stops with exit 3 naming its line" 3 \
	"line 2.*UK" sh -c 'printf "DE/a1\nUK/a1\nFR/a1\n" | HLX_NOW='"$(at $((T0 + 60)))"' "$HLX" --home hl-a plan route - >part.out'
test_ok "the line before it was printed" sh -c 'test "$(cat part.out)" = "DE/a1	hl-b	eu@1	DE/*	hl-a,hl-c"'
test_fails_with "show of no such plan: exit 4" 4 "no such plan 'nope'" hlx --home hl-a plan show nope
test_fails_with "sign of no such plan: exit 4" 4 "no such plan 'nope'" hlx --home hl-a plan sign nope

# ---- a forged act ---------------------------------------------------------
cp -a hl-a hl-f
$PY forge hl-f hl-d
test_ok "a forged act in the store counts for nothing: 3 of 4, not in force" sh -c '
	HLX_NOW='"$(at $((T0 + 60)))"' "$HLX" --home hl-f plan ls >lsf.out &&
	printf "eu\t1\tpending\t3/4\n" | cmp -s - lsf.out &&
	HLX_NOW='"$(at $((T0 + 60)))"' "$HLX" --home hl-f plan route DE/a1 | grep -q "^DE/a1	-	-	-	-$"'

# ---- withdraw ---------------------------------------------------------------
test_ok "hl-b withdraws; DE/* passes to hl-a" sh -c '
	HLX_NOW='"$(at $((T0 + 70)))"' "$HLX" --home hl-b plan withdraw eu >wd.out &&
	printf "withdrew from eu@1\nDE/*: hl-a\n" | cmp -s - wd.out'
test_fails_with "withdrawing twice: exit 4" 4 "withdrawn from eu@1 already" \
	as hl-b $((T0 + 71)) plan withdraw eu
test_ok "a sync round" round $((T0 + 72))
test_ok "every node: in force, hl-b withdrawn, DE/a1 to hl-a then hl-c" sh -c '
	for o in '"$ORGS"'; do
		HLX_NOW='"$(at $((T0 + 80)))"' "$HLX" --home $o plan ls >ls-$o.out &&
		printf "eu\t1\tin-force,withdrawn:hl-b\t-\n" | cmp -s - ls-$o.out || { cat ls-$o.out; exit 1; }
		HLX_NOW='"$(at $((T0 + 80)))"' "$HLX" --home $o plan route DE/a1 BR/a1 >rw-$o.out &&
		printf "DE/a1\thl-a\teu@1\tDE/*\thl-c\nBR/a1\thl-a\teu@1\t*/*\thl-c\n" | cmp -s - rw-$o.out || { cat rw-$o.out; exit 1; }
	done'
test_fails_with "a withdrawn node cannot sign that version" 4 "" \
	as hl-b $((T0 + 81)) plan sign eu --version 1
test_ok "hl-a, hl-c, hl-d withdraw too: the plan ends" sh -c '
	for o in hl-a hl-c hl-d; do HLX_NOW='"$(at $((T0 + 90)))"' "$HLX" --home $o plan withdraw eu >/dev/null || exit 1; done'
test_ok "a sync round" round $((T0 + 91))
test_ok "all withdrew: ended, routes nothing" sh -c '
	HLX_NOW='"$(at $((T0 + 95)))"' "$HLX" --home hl-b plan ls >le.out &&
	printf "eu\t1\tended\t-\n" | cmp -s - le.out &&
	HLX_NOW='"$(at $((T0 + 95)))"' "$HLX" --home hl-b plan route DE/a1 | grep -q "^DE/a1	-	-	-	-$"'

# ---- an encrypted audience ----------------------------------------------------
echo '{"format": "hlx-policy-1", "name": "sealed", "lists": ["hashes"], "fields": [], "encrypt": true}' >sealed.json
hlx --home hl-d policy add sealed.json >/dev/null 2>&1
hlx --home hl-d peer set hl-a --box "$(hlx --home hl-a key show --box)" --policy sealed >/dev/null 2>&1
test_ok "hl-d publishes an encrypted audience for hl-a" as hl-d $((T0 + 96)) publish --to www/hl-d
AU=$(ls www/hl-d/a 2>/dev/null | head -n 1)
test_ok "its plans head and bundles are sealed" sh -c '
	test -n "'"$AU"'" && test -s www/hl-d/a/'"$AU"'/plans/head &&
	! grep -q "hlx-plans-1" www/hl-d/a/'"$AU"'/plans/head &&
	for b in www/hl-d/a/'"$AU"'/plans/eu/*.json; do ! grep -q "hlx-plan-bundle-1" $b || exit 1; done'
hlx --home hl-a peer set hl-d --url "file://$PWD/www/hl-d/a/$AU/" >/dev/null 2>&1
test_ok "hl-a opens and verifies hl-d's sealed plans" sh -c '
	HLX_NOW='"$(at $((T0 + 97)))"' "$HLX" --home hl-a sync hl-d 2>&1 | grep -v "cannot sync .cases." >s.out;
	grep -q "^hlx: hl-d/plans: " s.out && ! grep -q "cannot sync the plans" s.out &&
	test ! -e hl-a/peers/hl-d/plans.error'
cp www/hl-d/a/$AU/plans/head sealed-head
python3 -c 'import sys; b = bytearray(open(sys.argv[1], "rb").read()); b[-5] ^= 1; open(sys.argv[1], "wb").write(b)' www/hl-d/a/$AU/plans/head
touch -d "@$(( $(date +%s) + 30 ))" www/hl-d/a/$AU/plans/head
test_fails_with "a sealed plans head changed by one byte: refused" 1 "cannot sync the plans of peer 'hl-d'" \
	as hl-a $((T0 + 98)) sync hl-d
cp sealed-head www/hl-d/a/$AU/plans/head
# a first publish to a new directory cut short (its lists cannot be
# written): the feed's trust.json, which marks it whole, is not there yet,
# so the next publish writes everything again
mkdir -p www/hl-d.3/a/$AU/lists && : >www/hl-d.3/a/$AU/lists/hashes
test_ok "(a publish to a new directory fails half-way)" sh -c '
	! HLX_NOW='"$(at $((T0 + 99)))"' "$HLX" --home hl-d publish --to www/hl-d.3 >/dev/null 2>&1'
test_ok "the cut-short sealed feed has no trust.json" test ! -e www/hl-d.3/a/$AU/trust.json
rm www/hl-d.3/a/$AU/lists/hashes
test_ok "published again, it is whole: trust, list and plans heads" sh -c '
	HLX_NOW='"$(at $((T0 + 99)))"' "$HLX" --home hl-d publish --to www/hl-d.3 >/dev/null &&
	for f in trust.json lists/hashes/head plans/head; do
		test -s www/hl-d.3/a/'"$AU"'/$f || { echo "no $f"; exit 1; }; done'
# a sealed feed published to a new directory: what it served is known from
# the plain copies in the home, yet all of it is written there again
test_ok "hl-d's sealed audience in a new directory: trust, list and plans heads" sh -c '
	HLX_NOW='"$(at $((T0 + 99)))"' "$HLX" --home hl-d publish --to www/hl-d.2 >/dev/null &&
	for f in trust.json lists/hashes/head plans/head; do
		test -s www/hl-d.2/a/'"$AU"'/$f || { echo "no $f"; exit 1; }; done'
mv www/hl-d www/hl-d.1 && ln -s hl-d.2 www/hl-d
test_ok "hl-a pulls the sealed feed of the new directory at the old URL" sh -c '
	HLX_NOW='"$(at $((T0 + 99)))"' "$HLX" --home hl-a sync hl-d 2>&1 | grep -v "cannot sync .cases." >s2.out;
	grep -q "^hlx: hl-d/plans: " s2.out && ! grep -q "cannot" s2.out &&
	test ! -e hl-a/peers/hl-d/plans.error || { cat s2.out; exit 1; }'
rm www/hl-d && mv www/hl-d.1 www/hl-d

# ---- a publish directory moved ---------------------------------------------
# hl-b serves its feed from a new directory (publish --to, publish-dir)
# at the URL its peers know: its plans seq goes on above the one they
# verified (plans-seq in the home, spec/plan.md 7.1.1), not from 1 again
pseq() { python3 -c 'import json, sys; print(json.loads(json.load(open(sys.argv[1]))["body"])["seq"])' "$1"; }
sseq() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["seq"])' "$1"; }
# hl-b takes in the others' last acts, hl-c pulls that head
as hl-b $((T0 + 92)) sync >/dev/null 2>&1
as hl-b $((T0 + 92)) publish --to www/hl-b >/dev/null 2>&1
as hl-c $((T0 + 92)) sync hl-b >/dev/null 2>&1
S1=$(pseq www/hl-b/plans/head)
# a home from before plans-seq: the next publish takes the head's seq
rm -f hl-b/plans-seq
test_ok "a publish to the same directory keeps the seq and notes it in plans-seq" sh -c '
	HLX_NOW='"$(at $((T0 + 93)))"' "$HLX" --home hl-b publish --to www/hl-b >/dev/null &&
	test "$(cat hl-b/plans-seq)" = "'"$S1"'" && test '"$S1"' -ge 2 &&
	test "$(stat -c %a hl-b/plans-seq)" = 600 &&
	test "$(python3 -c "import json; print(json.load(open(\"hl-c/peers/hl-b/plans.sync\"))[\"seq\"])")" = "'"$S1"'"'
test_ok "hl-b publishes to a new directory, served at the URL hl-c pulls" sh -c '
	HLX_NOW='"$(at $((T0 + 93)))"' "$HLX" --home hl-b publish --to www/hl-b.2 >/dev/null &&
	mv www/hl-b www/hl-b.1 && ln -s hl-b.2 www/hl-b'
S2=$(pseq www/hl-b.2/plans/head)
test_ok "its plans seq goes on above the one served before" test "$S2" -gt "$S1"
test_ok "hl-c accepts the plans head of the new directory" sh -c '
	HLX_NOW='"$(at $((T0 + 94)))"' "$HLX" --home hl-c sync hl-b 2>&1 | grep -v "cannot sync .cases." >mv.out;
	! grep -q "cannot sync the plans" mv.out && test ! -e hl-c/peers/hl-b/plans.error &&
	test "$(python3 -c "import json; print(json.load(open(\"hl-c/peers/hl-b/plans.sync\"))[\"seq\"])")" = "'"$S2"'" || { cat mv.out; exit 1; }'
# the old directory served again at that URL: a real rollback, refused
rm www/hl-b && ln -s hl-b.1 www/hl-b
touch -d "@$(( $(date +%s) + 30 ))" www/hl-b.1/plans/head
test_fails_with "the old directory's plans head served again: refused as a rollback" 1 \
	"cannot sync the plans of peer 'hl-b': .*seq $S1, below the $S2 verified \(rollback\)" \
	as hl-c $((T0 + 95)) sync hl-b
test_ok "hl-c's plans.sync still holds the new seq" test "$(sseq hl-c/peers/hl-b/plans.sync)" = "$S2"
# the peer repointed at the new directory's own URL starts from no
# verified head (7.3 step 2) and takes it
rm www/hl-b && mv www/hl-b.1 www/hl-b
hlx --home hl-c peer set hl-b --url "file://$PWD/www/hl-b.2/" >/dev/null 2>&1
test_ok "repointed with peer set --url: the new directory's head is taken" sh -c '
	HLX_NOW='"$(at $((T0 + 96)))"' "$HLX" --home hl-c sync hl-b 2>&1 | grep -v "cannot sync .cases." >rp.out;
	! grep -q "cannot sync the plans" rp.out && test ! -e hl-c/peers/hl-b/plans.error || { cat rp.out; exit 1; }'
test_ok "and its seq" test "$(sseq hl-c/peers/hl-b/plans.sync)" = "$S2"
printf 'x\n' >hl-b/plans-seq
test_fails_with "a damaged plans-seq stops the plans, naming it" 3 "plans-seq' is damaged" \
	as hl-b $((T0 + 97)) publish --to www/hl-b.3
test_ok "and nothing of the plans is in the new directory" test ! -e www/hl-b.3/plans/head

# ---- limits ----------------------------------------------------------------
test_ok "16 pending versions are kept" sh -c '
	for v in $(seq 2 17); do
		'"$PY"' plan roots.json $v >v.json &&
		HLX_NOW='"$(at $((T0 + 100)))"' "$HLX" --home hl-c plan propose v.json >/dev/null || exit 1
	done'
$PY plan roots.json 18 >v18.json
test_fails_with "a 17th is refused" 4 "too many pending versions of plan eu" \
	as hl-c $((T0 + 100)) plan propose v18.json

# the quota of 5.4: hl-d proposes 70 plans of its own (each complete at
# once); hl-a, not a signatory, keeps 64, and its pull records the 6 it
# dropped as taken, so the next pull does not fetch them again (their
# files gone from hl-d's feed, it would fail if it did)
dplan() {
	python3 -c '
import json, sys
r = {"country": "*", "category": "*", "org": "hl-d", "fallbacks": [],
     "channel": "self", "languages": ["en"],
     "deadlines": {"le_hold_hours": 0, "notice_hours": 24,
                   "renotice_hours": 0, "escalate_after": 0}}
print(json.dumps({"format": "hlx-plan-1", "name": sys.argv[1], "version": 1,
                  "lease_seconds": 3600, "settle_seconds": 0,
                  "signatories": [{"org": "hl-d", "root": open("hl-d.fpr").read().strip()}],
                  "rules": [r]}))' "$1"
}
for i in $(seq 10 79); do
	dplan dq$i | as hl-d $((T0 + 110)) plan propose - >/dev/null 2>>quota.log
done
test_ok "all 70 in hl-d's store" test "$(ls hl-d/plans | grep -c '^dq')" = 70
as hl-d $((T0 + 111)) publish --to www/hl-d >/dev/null 2>>quota.log
test_ok "hl-a pulls them: no error" sh -c '
	HLX_NOW='"$(at $((T0 + 112)))"' "$HLX" --home hl-a sync hl-d 2>&1 | grep -v "cannot sync .cases." >q1.out;
	! grep -q "cannot" q1.out && test ! -e hl-a/peers/hl-d/plans.error || { cat q1.out; exit 1; }'
test_ok "hl-a keeps 64 of them" test "$(ls hl-a/plans | grep -c '^dq')" = 64
# (hl-a pulls hl-d's audience for it, sealed: one bundle file a plan listed)
test_ok "hl-a's plans.sync has every bundle listed as taken, the 6 dropped too" sh -c '
	n=$(ls www/hl-d/a/'"$AU"'/plans/*/*.json | wc -l) &&
	test "$n" -ge 70 &&
	python3 -c "
import json, sys
sys.exit(len(json.load(open(\"hl-a/peers/hl-d/plans.sync\"))[\"taken\"]) != $n)"'
dplan dq80 | as hl-d $((T0 + 113)) plan propose - >/dev/null 2>>quota.log
as hl-d $((T0 + 114)) publish --to www/hl-d >/dev/null 2>>quota.log
for i in $(seq 10 79); do rm -rf www/hl-d/a/$AU/plans/dq$i; done
test_ok "their bundles are gone from hl-d's feed" test ! -e www/hl-d/a/$AU/plans/dq79
test_ok "the next pull fetches only the new bundle, and drops it" sh -c '
	HLX_NOW='"$(at $((T0 + 115)))"' "$HLX" --home hl-a sync hl-d 2>&1 | grep -v "cannot sync .cases." >q2.out;
	! grep -q "cannot" q2.out && test ! -e hl-a/peers/hl-d/plans.error || { cat q2.out; exit 1; }'
test_ok "hl-a still holds 64" test "$(ls hl-a/plans | grep -c '^dq')" = 64
test_done
