#!/bin/sh
# SPDX-License-Identifier: MIT
# Takedown coordination across a federation on one machine (issue 13):
# four hotlines in four countries, a police node and two hosting companies,
# one response plan signed by all seven, seeded random reports filed at
# random nodes about locations in random countries (countries without a
# hotline among them).  After the sync rounds every node names the same
# owner for every case, equal to what the independent model
# (tests/tools/fed_owner.py, from the specs, fed with what the nodes hold
# read through git) computes; no case is noticed by two organisations; a
# silent owner's claimed cases pass to the fallback on every node and it
# does not take them back; the raw URLs stay on their reporters' nodes.
# Time is HLX_NOW throughout, so that leases lapse without waiting.
. "$(dirname "$0")/lib.sh"
export LC_ALL=C TZ=UTC

SEED=${HLX_SEED:-950}
N=${T0950_REPORTS:-2000}
echo "# seed $SEED, $N reports"
PY="python3 $HLX_TOP/tests/t0950-takedown.py"
ORGS="hl-de hl-fr hl-gb hl-nl le-nl host-a host-b"
at() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
# as ORG T CMD...: run hlx on ORG's node at time T
as() { _o=$1; _t=$2; shift 2; HLX_NOW=$(at "$_t") "$HLX" --home "$_o" "$@"; }
# round T: every node publishes, then every node pulls every peer
round() {
	for o in $ORGS; do as $o "$1" publish --to "www/$o" >/dev/null 2>>round.log || return 1; done
	for o in $ORGS; do as $o $(($1 + 5)) sync >/dev/null 2>>round.log || return 1; done
}
others() { for x in $ORGS; do [ "$x" = "$1" ] || echo "$x"; done; }

T0=$(( ($(date +%s) / 60 + 2) * 60 ))
mkdir -p www
for o in $ORGS; do
	hlx --home $o init --org $o --no-passphrase >/dev/null 2>&1
	hlx --home $o key show --root >$o.pub
	hlx --home $o key show --box >$o.box
	ssh-keygen -lf $o.pub | awk '{print $2}' >$o.fpr
	# a list of its own, so that peers hold its verified trust chain
	hlx --home $o list create hashes >/dev/null 2>&1
	as $o $T0 add hashes md5:$(rand_hex 16) >/dev/null 2>&1
done
test_ok "seven nodes, each with a published list" sh -c '
	for o in '"$ORGS"'; do test -s $o.fpr || exit 1; done'
for o in $ORGS; do
	for p in $(others $o); do
		hlx --home $o peer add $p --url "file://$PWD/www/$p/" --key $p.pub --box "$(cat $p.box)" >/dev/null 2>&1
	done
done
round $T0
for o in $ORGS; do for p in $(others $o); do hlx --home $o subscribe $p hashes >/dev/null 2>&1; done; done
test_ok "every node pins the six others and pulls their lists" round $((T0 + 10))

# one plan, signed by all seven
python3 -c '
import json, sys
print(json.dumps({o: open(o + ".fpr").read().strip() for o in sys.argv[1:]}))' $ORGS >roots.json
$PY plan roots.json >eu.json
test_ok "hl-nl proposes the plan" sh -c '
	HLX_NOW='"$(at $((T0 + 20)))"' "$HLX" --home hl-nl plan propose eu.json >propose.out &&
	grep -q "^proposed eu@1 sha256:[0-9a-f]\{64\}: signed by 1 of 7$" propose.out'
round $((T0 + 25))
t=$((T0 + 40))
for o in hl-de hl-fr hl-gb le-nl host-a; do
	as $o $t plan sign eu >sign-$o.out 2>&1
	t=$((t + 1))
done
round $((T0 + 50))
test_ok "signed by six of seven: pending, not in force" sh -c '
	HLX_NOW='"$(at $((T0 + 60)))"' "$HLX" --home hl-nl plan ls >ls6.out &&
	printf "eu\t1\tpending\t6/7\n" | cmp -s - ls6.out'
test_ok "and it routes nothing yet" sh -c '
	HLX_NOW='"$(at $((T0 + 60)))"' "$HLX" --home hl-de plan route DE/a1 | grep -q "^DE/a1	-	-	-	-$"'
test_ok "the seventh signs: in force" sh -c '
	HLX_NOW='"$(at $((T0 + 61)))"' "$HLX" --home host-b plan sign eu >sign-host-b.out &&
	grep -q "^eu@1 is in force" sign-host-b.out'
test_ok "a sync round, though no one has filed a case yet" round $((T0 + 70))
test_ok "a cases log not begun is not a failure" grep -q "^hlx: hl-fr/cases: no cases log published yet$" round.log
test_ok "every node has eu@1 in force" sh -c '
	for o in '"$ORGS"'; do
		HLX_NOW='"$(at $((T0 + 80)))"' "$HLX" --home $o plan ls >pl-$o.out &&
		printf "eu\t1\tin-force\t-\n" | cmp -s - pl-$o.out || { echo "# $o:"; cat pl-$o.out; exit 1; }
	done'
for o in $ORGS; do hlx --home $o subscribe $o cases >/dev/null 2>&1; for p in $(others $o); do hlx --home $o subscribe --force $p cases >/dev/null 2>&1; done; done

# the reports
$PY reports "$SEED" "$N" $ORGS
T1=$((T0 + 100))
t=$T1
for o in $ORGS; do
	test_ok "$o files its $(grep -c '' reports-$o.jsonl) reports in one version" sh -c '
		HLX_NOW='"$(at $t)"' "$HLX" --home '$o' case report - <reports-'$o'.jsonl >rep-'$o'.out &&
		test $(grep -c "" rep-'$o'.out) = $(grep -c "" reports-'$o'.jsonl)'
	t=$((t + 7))
done
test_ok "a sync round" round $((T1 + 100))
T3=$((T1 + 400))
same_everywhere() { # T LABEL: every node lists the same cases and owners as the model
	for o in $ORGS; do as $o "$1" case ls --all >ls-$o.out || return 1; done
	$PY model "$(at "$1")" $ORGS >model.json &&
	python3 "$HLX_TOP/tests/tools/fed_owner.py" model.json >model.out || return 1
	for o in $ORGS; do
		cmp -s model.out ls-$o.out || { echo "# $o differs from the model ($2)"; diff model.out ls-$o.out | head -5; return 1; }
	done
	cp model.out "model-$2.out"
}
test_ok "every node names the same owner for every case, as the model does" same_everywhere $T3 reported
test_ok "there are $N cases and countries without a hotline among them" sh -c '
	test $(grep -c "" model.out) = '"$N"' &&
	cut -f5 model.out | grep -q "^US$" && cut -f5 model.out | grep -q "^-$"'
# a location already reported elsewhere: known, nothing recorded
awk -F'	' '$2 !~ /,/' urls.tsv | head -n 5 >known.tsv
test_ok "a report of a location another node reported starts nothing" sh -c '
	while IFS="	" read -r u r; do
		for o in '"$ORGS"'; do [ $o = $r ] || break; done
		git --git-dir $o/lists/cases.git rev-parse HEAD >before
		HLX_NOW='"$(at $((T3 - 10)))"' "$HLX" --home $o case report "$u" >known.out || exit 1
		grep -q "^known url-sha256:[0-9a-f]\{64\}: handled by [a-z-]* since [0-9TZ:-]* (reported)$" known.out || { cat known.out; exit 1; }
		git --git-dir $o/lists/cases.git rev-parse HEAD | cmp -s - before || { echo "# $o recorded $u"; exit 1; }
	done <known.tsv'

# owners claim and act; others cannot
refused=0 nmine=0 ntheirs=0
for o in $ORGS; do
	as $o $T3 case ls --mine | head -n 15 | cut -f1 >mine-$o
	while read -r c; do
		as $o $T3 case claim "$c" >/dev/null &&
		as $o $((T3 + 1)) case set "$c" assessed >/dev/null &&
		as $o $((T3 + 2)) case set "$c" notice-sent >/dev/null || echo "$o $c" >>act-fail
	done <mine-$o
	grep -v "	$o	" ls-$o.out | head -n 5 | cut -f1 >theirs-$o
	nmine=$((nmine + $(grep -c "" mine-$o))); ntheirs=$((ntheirs + $(grep -c "" theirs-$o)))
	while read -r c; do
		if as $o $((T3 + 3)) case claim "$c" >/dev/null 2>>claim-err; then echo "$o $c" >>claimed-theirs; fi
		as $o $((T3 + 3)) case set "$c" notice-sent >/dev/null 2>&1
		[ $? = 4 ] && refused=$((refused + 1))
	done <theirs-$o
done
test_ok "each owner claimed up to 15 of its cases ($nmine) and sent a notice" sh -c '
	test ! -s act-fail && test '"$nmine"' -ge 30'
test_ok "no organisation claimed or noticed a case another owns" sh -c '
	test ! -s claimed-theirs && test '"$refused"' -eq '"$ntheirs"' && grep -q "cannot claim case url-sha256:.*: handled by " claim-err'
test_ok "a sync round" round $((T3 + 60))
test_ok "after the claims every node still agrees with the model" same_everywhere $((T3 + 120)) claimed
test_ok "no case was noticed by two organisations" sh -c '
	'"$PY"' twice '"$ORGS"' >twice.out && grep -q "^noticed '"$nmine"' twice 0$" twice.out'

# owner silence: hl-de stops; the others renew; hl-de's claims lapse
T4=$((T3 + 1800))
for o in $(others hl-de); do
	while read -r c; do as $o $T4 case claim "$c" >/dev/null || echo "$o $c" >>renew-fail; done <mine-$o
done
for o in $(others hl-de); do as $o $T4 publish --to "www/$o" >/dev/null 2>&1; done
T5=$((T3 + 3600 + 60))
for o in $(others hl-de); do as $o $T5 sync >/dev/null 2>&1; done
test_ok "the others renewed their claims" test ! -s renew-fail
test_ok "after the lease, hl-de's cases are owned by their fallbacks on every node" sh -c '
	for o in '"$(others hl-de | tr '\n' ' ')"'; do
		HLX_NOW='"$(at $((T5 + 10)))"' "$HLX" --home $o case ls --all >s-$o.out || exit 1
		while read -r c; do
			grep "^$c	" s-$o.out | cut -f3 | grep -qv "^hl-de$" || { echo "# $o: $c"; exit 1; }
		done <mine-hl-de
	done'
test_ok "and the others kept theirs, on every node" sh -c '
	for v in '"$(others hl-de | tr '\n' ' ')"'; do for o in '"$(others hl-de | tr '\n' ' ')"'; do
		while read -r c; do
			grep -q "^$c	[^	]*	$o	" s-$v.out || { echo "# $v: $o $c"; exit 1; }
		done <mine-$o
	done; done'
test_ok "hl-de comes back and pulls" as hl-de $((T5 + 60)) sync
test_ok "every node, hl-de included, agrees with the model" same_everywhere $((T5 + 120)) silence
test_ok "hl-de does not list them as its own" sh -c '
	HLX_NOW='"$(at $((T5 + 120)))"' "$HLX" --home hl-de case ls --mine | cut -f1 >back-mine &&
	! grep -qxFf mine-hl-de back-mine'
c=$(head -n 1 mine-hl-de)
test_fails_with "nor can it claim one back" 4 "handled by" as hl-de $((T5 + 130)) case claim "$c"

# the raw URLs: in no file in clear; held (sealed to the node's own box
# key) by their reporters and owners only
test_ok "a sync round brings the URLs to the new owners" round $((T5 + 200))
awk -F'	' '$2 !~ /,/' urls.tsv | head -n 30 >sample.tsv
test_ok "no raw URL is in clear in any home or feed" sh -c '
	cut -f1 sample.tsv >sample.urls && ! grep -rlaFf sample.urls '"$ORGS"' www'
test_ok "each is held by its reporter and its owners, and by no other node" \
	$PY urls "$HLX" $ORGS
mv www/hl-fr/lists/cases www/hl-fr/lists/cases.away
test_fails_with "a cases log held that vanished from the feed is a failure" 1 \
	"no longer publishes its cases log" as hl-gb $((T5 + 300)) sync hl-fr
mv www/hl-fr/lists/cases.away www/hl-fr/lists/cases
test_done
