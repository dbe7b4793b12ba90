#!/bin/sh
# SPDX-License-Identifier: MIT
# hlx case (spec/cases.md section 9) on nodes of one machine, without
# plans: a report opens a case its reporter handles; a second report of
# the location (however spelt) is known and records nothing; the cases log
# is the list "cases", which no user creates or fills by hand; a peer that
# pulls the log names the same owner and cannot claim, release, hand off
# or set the state of it; the owner's claim, renewal, states along the
# table (an invalid transition names both states) and release; batch
# reports from JSON Lines (duplicates, a bad line records nothing); ls
# filters and --json.  Then a federation of three with a plan (file://
# feeds): the case travels and every node names the same owner; the
# settle time; a forged, a future-dated and a rolled-back cases log are
# refused with the subscriber's state byte-identical; owner silence: the
# lease lapses to the fallback, which the returning owner cannot claim
# back; hlx run renews a claim past half its lease.  Time is HLX_NOW.
. "$(dirname "$0")/lib.sh"
export LC_ALL=C TZ=UTC

SEED=${HLX_SEED:-930}
echo "# seed $SEED"
at() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
as() { _o=$1; _t=$2; shift 2; HLX_NOW=$(at "$_t") "$HLX" --home "$_o" "$@"; }
T0=$(( ($(date +%s) / 60 + 2) * 60 ))
for o in hl-fr hl-de; do
	hlx --home $o init --org $o --no-passphrase >/dev/null 2>&1
	hlx --home $o key show --root >$o.pub
done
r=$(rand_hex 16)
url="https://Img-$r.Example:443/a/./b$r"
norm="https://img-$r.example/a/b$r"
C=url-sha256:$(printf '%s' "$norm" | sha256sum | cut -c1-64)
item=md5:$(rand_hex 16)

test_ok "a report opens a case its reporter handles" sh -c '
	HLX_NOW='"$(at "$T0")"' "$HLX" --home hl-fr case report "'"$url"'" --country de --category a1 --item '"$item"' >rep.out &&
	echo "reported '"$C"': handled by hl-fr since '"$(at "$T0")"' (reported)" | cmp -s - rep.out'
test_ok "the raw URL is kept on the node, sealed" sh -c '
	"$HLX" --home hl-fr url show '"$C"' | grep -qxF "'"$norm"'" && ! grep -rqaF "'"$norm"'" hl-fr'
test_ok "a second report, spelt otherwise, is known" sh -c '
	HLX_NOW='"$(at $((T0 + 5)))"' "$HLX" --home hl-fr case report "'"$norm"'" >rep2.out &&
	grep -qx "known '"$C"': handled by hl-fr since '"$(at "$T0")"' (reported)" rep2.out'
test_ok "and recorded nothing: the cases log is at version 1" sh -c '
	"$HLX" --home hl-fr list ls | grep -q "^cases  *hl-fr  *v1 "'
test_fails_with "'list create cases' is refused" 3 "cases log" hlx --home hl-de list create cases
test_fails_with "entries cannot be added to the cases log" 3 "" hlx --home hl-fr add cases md5:$(rand_hex 16)
test_fails_with "nor can it be removed as a list" 3 "cases log" hlx --home hl-fr list rm cases
test_fails_with "a report of a hash that is not a url-sha256 is refused" 3 "url-sha256" \
	as hl-fr $T0 case report "md5:$(rand_hex 16)"
test_fails_with "a bad country is refused" 3 "country" \
	as hl-fr $T0 case report "https://x-$r.example/" --country ZZ
test_fails_with "claiming an unknown case: exit 4" 4 "no such case" \
	as hl-fr $T0 case claim url-sha256:$(rand_hex 32)
test_fails_with "show of an unknown case: exit 1" 1 "no case" \
	as hl-fr $T0 case show url-sha256:$(rand_hex 32)

# the peer pulls the cases log
mkdir -p www
for o in hl-fr hl-de; do as $o $((T0 + 10)) publish --to www/$o >/dev/null 2>&1; done
hlx --home hl-de peer add hl-fr --url "file://$PWD/www/hl-fr/" --key hl-fr.pub >/dev/null 2>&1
hlx --home hl-fr peer add hl-de --url "file://$PWD/www/hl-de/" --key hl-de.pub >/dev/null 2>&1
hlx --home hl-de subscribe hl-fr cases >/dev/null 2>&1
test_ok "hl-de pulls hl-fr's cases log" as hl-de $((T0 + 20)) sync
test_ok "and names the same owner" sh -c '
	HLX_NOW='"$(at $((T0 + 30)))"' "$HLX" --home hl-de case ls >de.ls &&
	HLX_NOW='"$(at $((T0 + 30)))"' "$HLX" --home hl-fr case ls >fr.ls &&
	cmp -s de.ls fr.ls && grep -q "^'"$C"'	reported	hl-fr	" de.ls'
test_ok "a report there is known, handled by hl-fr" sh -c '
	HLX_NOW='"$(at $((T0 + 30)))"' "$HLX" --home hl-de case report "'"$url"'" |
	grep -qx "known '"$C"': handled by hl-fr since '"$(at "$T0")"' (reported)"'
test_fails_with "hl-de cannot claim it" 4 "^hlx: cannot claim case $C: handled by hl-fr since" \
	as hl-de $((T0 + 30)) case claim $C
test_fails_with "nor release it" 4 "handled by hl-fr" as hl-de $((T0 + 30)) case release $C
test_fails_with "nor hand it off" 4 "handled by hl-fr" as hl-de $((T0 + 30)) case handoff $C hl-fr
test_fails_with "nor set its state" 4 "handled by hl-fr" as hl-de $((T0 + 30)) case set $C assessed
test_ok "hl-de recorded nothing" sh -c '! "$HLX" --home hl-de list ls | grep -q "^cases "'
test_ok "show by item finds the case on hl-de" sh -c '
	HLX_NOW='"$(at $((T0 + 30)))"' "$HLX" --home hl-de case show '"$item"' >show.out &&
	grep -qx "case '"$C"'" show.out && grep -qx "raw URL: not received" show.out &&
	grep -q "hl-fr reported DE/a1 '"$item"'" show.out'

# the owner acts
test_fails_with "an unclaimed owner cannot set a state" 4 "claim the case" \
	as hl-fr $((T0 + 40)) case set $C assessed
test_ok "the owner claims: lease until now + a day" sh -c '
	HLX_NOW='"$(at $((T0 + 60)))"' "$HLX" --home hl-fr case claim '"$C"' |
	grep -qx "claimed '"$C"': handled by hl-fr since '"$(at "$T0")"' (reported), lease until '"$(at $((T0 + 60 + 86400)))"'"'
test_ok "and renews" sh -c '
	HLX_NOW='"$(at $((T0 + 120)))"' "$HLX" --home hl-fr case claim '"$C"' | grep -q "^renewed '"$C"': .*lease until '"$(at $((T0 + 120 + 86400)))"'"'
test_fails_with "an invalid transition names both states" 4 \
	"^hlx: case $C: cannot go from 'reported' to 'notice-sent'" \
	as hl-fr $((T0 + 130)) case set $C notice-sent
test_fails_with "an unknown state is refused" 3 "" as hl-fr $((T0 + 130)) case set $C claimed
test_ok "reported -> assessed -> notice-sent" sh -c '
	HLX_NOW='"$(at $((T0 + 140)))"' "$HLX" --home hl-fr case set '"$C"' assessed >/dev/null &&
	HLX_NOW='"$(at $((T0 + 150)))"' "$HLX" --home hl-fr case set '"$C"' notice-sent |
	grep -q "(notice-sent)$"'
test_fails_with "setting the same state again is refused" 4 "cannot go from 'notice-sent' to 'notice-sent'" \
	as hl-fr $((T0 + 160)) case set $C notice-sent
test_ok "re-notified may repeat, counting notices" sh -c '
	HLX_NOW='"$(at $((T0 + 170)))"' "$HLX" --home hl-fr case set '"$C"' re-notified >/dev/null &&
	HLX_NOW='"$(at $((T0 + 180)))"' "$HLX" --home hl-fr case set '"$C"' re-notified >/dev/null &&
	HLX_NOW='"$(at $((T0 + 190)))"' "$HLX" --home hl-fr case show '"$C"' --json >show.json &&
	grep -q "\"notices\":3" show.json && grep -q "\"state\":\"re-notified\"" show.json'
test_ok "show: claimed lease and history" sh -c '
	HLX_NOW='"$(at $((T0 + 200)))"' "$HLX" --home hl-fr case show '"$C"' >show2.out &&
	grep -qx "lease: claimed until '"$(at $((T0 + 120 + 86400)))"'" show2.out &&
	grep -qx "route: none: the reporter handles it" show2.out &&
	grep -qx "raw URL: held" show2.out &&
	grep -qx "'"$(at $((T0 + 60)))"' hl-fr claimed" show2.out &&
	grep -qx "'"$(at $((T0 + 180)))"' hl-fr re-notified" show2.out'

# batch reports
python3 - "$SEED" >batch.jsonl <<'EOF'
import json, random, sys
rng = random.Random(int(sys.argv[1]))
urls = ["https://b%d.example/%032x" % (i, rng.getrandbits(128)) for i in range(40)]
for i, u in enumerate(urls):
    r = {"url": u, "item": "sha1:%040x" % rng.getrandbits(160)}
    if i % 2:
        r["country"] = ["NL", "de", "US"][i % 3]
    if i % 3 == 0:
        r["category"] = "a1"
    print(json.dumps(r))
print(json.dumps({"url": urls[3]}))            # a duplicate in the batch
print(json.dumps({"case": "url-sha256:" + "ab" * 32, "country": "FR"}))
EOF
test_ok "a batch of 42 reports: 41 reported, 1 known, in input order" sh -c '
	HLX_NOW='"$(at $((T0 + 300)))"' "$HLX" --home hl-fr case report - <batch.jsonl >batch.out &&
	test $(grep -c "^reported " batch.out) = 41 && test $(grep -c "^known " batch.out) = 1 &&
	sed -n 41p batch.out | grep -q "^known "'
test_ok "in one version" sh -c '"$HLX" --home hl-fr list ls | grep -q "^cases  *hl-fr  *v8 "'
{ head -n 3 batch.jsonl; echo '{"url": "https://c.example/", "country": "XX"}'; } | sed 's/b\([0-9]\)\./d\1./' >bad.jsonl
test_fails_with "a bad line stops the batch with its number: exit 3" 3 "line 4" \
	sh -c 'HLX_NOW='"$(at $((T0 + 310)))"' "$HLX" --home hl-fr case report - <bad.jsonl'
test_ok "and nothing was recorded" sh -c '"$HLX" --home hl-fr list ls | grep -q "^cases  *hl-fr  *v8 "'
printf '{"url":"https://e.example/","case":"url-sha256:%s"}\n' "$(rand_hex 32)" >both.jsonl
test_fails_with "url and case together are refused" 3 "line 1" \
	sh -c 'HLX_NOW='"$(at $((T0 + 310)))"' "$HLX" --home hl-fr case report - <both.jsonl'

# ls
as hl-fr $((T0 + 400)) case ls >all.ls
test_ok "ls lists 42 open cases, sorted by case id" sh -c '
	test $(grep -c "" all.ls) = 42 && cut -f1 all.ls | sort -c'
test_ok "--country DE (either case given)" sh -c '
	HLX_NOW='"$(at $((T0 + 400)))"' "$HLX" --home hl-fr case ls --country de >de.ls &&
	test $(grep -c "" de.ls) = $(awk -F"\t" "\$5 == \"DE\"" all.ls | grep -c "") &&
	test $(grep -c "" de.ls) -gt 1 && ! cut -f5 de.ls | grep -qv "^DE$"'
test_ok "--state re-notified" sh -c '
	HLX_NOW='"$(at $((T0 + 400)))"' "$HLX" --home hl-fr case ls --state re-notified | cut -f1 | grep -qx '"$C"''
test_ok "--mine on hl-fr lists all; on hl-de none" sh -c '
	HLX_NOW='"$(at $((T0 + 400)))"' "$HLX" --home hl-fr case ls --mine | cmp -s - all.ls &&
	test -z "$(HLX_NOW='"$(at $((T0 + 400)))"' "$HLX" --home hl-de case ls --mine)"'
test_ok "--json: one canonical object a line" sh -c '
	HLX_NOW='"$(at $((T0 + 400)))"' "$HLX" --home hl-fr case ls --json >all.json &&
	test $(grep -c "" all.json) = 42 &&
	python3 -c "
import json, sys
for l in open(\"all.json\"):
    o = json.loads(l)
    assert l == json.dumps(o, sort_keys=True, separators=(\",\", \":\")) + \"\\n\", l
    assert {\"case\", \"state\", \"owner\", \"since\"} <= set(o)
"'
test_ok "a final state leaves ls, and comes back with --all" sh -c '
	HLX_NOW='"$(at $((T0 + 500)))"' "$HLX" --home hl-fr case set '"$C"' removed >/dev/null &&
	! HLX_NOW='"$(at $((T0 + 510)))"' "$HLX" --home hl-fr case ls | grep -q '"$C"' &&
	HLX_NOW='"$(at $((T0 + 510)))"' "$HLX" --home hl-fr case ls --all | grep -q "^'"$C"'	removed	"'
test_ok "the owner releases: without a route it stays its own (a chain of one)" sh -c '
	HLX_NOW='"$(at $((T0 + 600)))"' "$HLX" --home hl-fr case release '"$C"' |
	grep -qx "released '"$C"': handled by hl-fr since '"$(at "$T0")"' (removed)"'
test_fails_with "a hand-off without a route is refused" 4 "no route" \
	as hl-fr $((T0 + 610)) case handoff $C hl-de
test_ok "fsck finds the cases log sound" hlx --home hl-fr fsck
test_ok "hl-de pulls the new versions and agrees" sh -c '
	HLX_NOW='"$(at $((T0 + 700)))"' "$HLX" --home hl-fr publish --to www/hl-fr >/dev/null &&
	HLX_NOW='"$(at $((T0 + 710)))"' "$HLX" --home hl-de sync >/dev/null &&
	HLX_NOW='"$(at $((T0 + 720)))"' "$HLX" --home hl-de case ls --all >de2.ls &&
	HLX_NOW='"$(at $((T0 + 720)))"' "$HLX" --home hl-fr case ls --all | cmp -s - de2.ls'
# sharing (7.3): a policy gives 'cases' only when it names it, and then
# withholds the lines of cases in an early state from an organisation
# that is neither the reporter nor of the route's chain
view_lines() { # HOME: the lines of its views of 'cases', one view a line count
	for g in $(find "$1/views" -name cases.git -type d | sort); do
		git --git-dir "$g" ls-tree -r HEAD | awk '{print $3}' |
			git --git-dir "$g" cat-file --batch | grep -c '^url-sha256:'
	done
}
echo '{"format": "hlx-policy-1", "name": "all", "lists": ["*"], "fields": []}' >all.json
echo '{"format": "hlx-policy-1", "name": "de", "lists": ["cases"], "fields": []}' >de.json
hlx --home hl-fr list create other >/dev/null 2>&1
hlx --home hl-fr policy add all.json >/dev/null 2>&1
hlx --home hl-fr peer set hl-de --policy all >/dev/null 2>&1
as hl-fr $((T0 + 800)) publish --to www2 >/dev/null 2>&1
test_ok "a policy of '*' gives no cases log" sh -c '
	test -d hl-fr/views && test -z "$(find hl-fr/views -name cases.git)"'
hlx --home hl-fr policy add de.json >/dev/null 2>&1
hlx --home hl-fr peer set hl-de --policy de >/dev/null 2>&1
as hl-fr $((T0 + 810)) publish --to www2 >/dev/null 2>&1
one_line() { test "$(view_lines hl-fr)" = 1; }
test_ok "one naming 'cases' gives it, without the 41 cases still reported" one_line

# ---- a federation with a plan (file:// feeds) ----
# hl-de, hl-nl and hl-gb sign plan "fx": DE/* -> hl-de then hl-nl; the
# default rule -> hl-nl then hl-gb; lease 3600 s, settle 300 s.
mkdir -p fed && cd fed || exit 1
ORGS="hl-de hl-nl hl-gb"
others() { for x in $ORGS; do [ "$x" = "$1" ] || echo "$x"; done; }
round() {
	for o in $ORGS; do as $o "$1" publish --to "www/$o" >/dev/null 2>>round.log || return 1; done
	# a log not published yet (no case there) fails its pull: no matter
	for o in $ORGS; do as $o $(($1 + 5)) sync >/dev/null 2>>round.log; done
	return 0
}
F0=$((T0 + 1000))
mkdir -p www
for o in $ORGS; do
	hlx --home $o init --org $o --no-passphrase >/dev/null 2>&1
	hlx --home $o key show --root >$o.pub
	ssh-keygen -lf $o.pub | awk '{print $2}' >$o.fpr
	hlx --home $o list create hashes >/dev/null 2>&1
	as $o $F0 add hashes md5:$(rand_hex 16) >/dev/null 2>&1
done
for o in $ORGS; do for p in $(others $o); do
	hlx --home $o peer add $p --url "file://$PWD/www/$p/" --key $p.pub >/dev/null 2>&1
done; done
round $F0
for o in $ORGS; do for p in $(others $o); do hlx --home $o subscribe $p hashes >/dev/null 2>&1; done; done
round $((F0 + 10))
python3 - $ORGS >fx.json <<'EOF2'
import json, sys
orgs = sys.argv[1:]
d = lambda: {"le_hold_hours": 0, "notice_hours": 24, "renotice_hours": 24, "escalate_after": 0}
print(json.dumps({"format": "hlx-plan-1", "name": "fx", "version": 1,
    "lease_seconds": 3600, "settle_seconds": 300,
    "signatories": [{"org": o, "root": open(o + ".fpr").read().strip()} for o in orgs],
    "rules": [
        {"country": "*", "category": "*", "org": "hl-nl", "fallbacks": ["hl-gb"],
         "channel": "self", "languages": ["en"], "deadlines": d()},
        {"country": "DE", "category": "*", "org": "hl-de", "fallbacks": ["hl-nl"],
         "channel": "self", "languages": ["de"], "deadlines": d()}]}))
EOF2
# plans are carried between homes as t0920 does (their feeds are not
# this test's subject)
carry() { python3 "$HLX_TOP/tests/t0920-plans.py" carry "$1" "$2"; }
as hl-nl $((F0 + 20)) plan propose fx.json >/dev/null 2>&1
carry hl-nl hl-de
carry hl-nl hl-gb
as hl-de $((F0 + 40)) plan sign fx >/dev/null 2>&1
as hl-gb $((F0 + 41)) plan sign fx >/dev/null 2>&1
for a in $ORGS; do for b in $ORGS; do [ $a = $b ] || carry $a $b; done; done
round $((F0 + 50))
for o in $ORGS; do for p in $(others $o); do hlx --home $o subscribe --force $p cases >/dev/null 2>&1; done; done
test_ok "the plan is in force on every node" sh -c '
	for o in '"$ORGS"'; do
		HLX_NOW='"$(at $((F0 + 60)))"' "$HLX" --home $o plan ls | grep -q "^fx	1	in-force" || exit 1
	done'
F1=$((F0 + 100))
u="https://files-$(rand_hex 8).example/$(rand_hex 16)"
D=url-sha256:$(printf '%s' "$u" | sha256sum | cut -c1-64)
test_ok "hl-gb reports a DE location: routed to hl-de" sh -c '
	HLX_NOW='"$(at $F1)"' "$HLX" --home hl-gb case report "'"$u"'" --country DE |
	grep -qx "reported '"$D"': handled by hl-de since '"$(at $F1)"' (reported)"'
round $((F1 + 10))
same() { # T: every node lists the same cases and owners
	for o in $ORGS; do as $o "$1" case ls --all >ls-$o.out || return 1; done
	for o in $(others hl-de); do cmp -s ls-hl-de.out ls-$o.out || { diff ls-hl-de.out ls-$o.out; return 1; }; done
	test -s ls-hl-de.out
}
same_de() { same "$1" && grep -q "^$D	reported	hl-de	" ls-hl-de.out; }
test_ok "the case travelled: every node names hl-de" same_de $((F1 + 20))
test_fails_with "hl-de cannot claim before the settle time" 4 \
	"^hlx: cannot claim case $D before $(at $((F1 + 300))): reports may still arrive" \
	as hl-de $((F1 + 30)) case claim $D
test_fails_with "hl-nl, a fallback, cannot claim it" 4 "handled by hl-de" \
	as hl-nl $((F1 + 400)) case claim $D
test_ok "hl-de claims after the settle time" as hl-de $((F1 + 400)) case claim $D
test_ok "show names the route" sh -c '
	HLX_NOW='"$(at $((F1 + 410)))"' "$HLX" --home hl-de case show '"$D"' |
	grep -qx "route: fx@1 DE/\* -> hl-de,hl-nl,hl-gb"'
test_fails_with "a hand-off to a non-signatory is refused" 4 "not a signatory" \
	as hl-de $((F1 + 420)) case handoff $D hl-xx
round $((F1 + 430))
test_ok "every node sees the claim" same $((F1 + 450))

# hostile feeds: a copy of hl-de's node writes what hl-de never would
cp -a hl-de evil
state() { find hl-nl/state hl-nl/lists/hl-de -type f ! -name lock.mdb -exec sha256sum {} + | sort; }
as hl-de $((F1 + 500)) case set $D assessed >/dev/null
as hl-de $((F1 + 505)) publish --to www/hl-de >/dev/null 2>&1
as hl-nl $((F1 + 510)) sync hl-de >/dev/null 2>&1
state >before
as evil $((F1 + 500)) case set $D withdrawn >/dev/null 2>&1
as evil $((F1 + 505)) publish --to www/hl-de >/dev/null 2>&1
test_fails "a forged version (another commit for the same version) is refused" \
	as hl-nl $((F1 + 520)) sync hl-de
state >after
test_cmp "and the subscriber's state is byte-identical" before after
rm -rf evil www/hl-de && cp -a hl-de evil
as hl-de $((F1 + 530)) publish --to www/hl-de >/dev/null 2>&1
as evil $((F1 + 1000)) case set $D notice-sent >/dev/null 2>&1
as evil $((F1 + 540)) publish --to www/hl-de >/dev/null 2>&1
test_fails_with "a version dated past the receiver's clock + 300 s is refused" 1 "300 s|clock|future" \
	as hl-nl $((F1 + 600)) sync hl-de
state >after
test_cmp "and changes nothing" before after
rm -rf www/hl-de
as hl-de $((F1 + 530)) publish --to www/hl-de >/dev/null 2>&1
cp -a www/hl-de old-feed
as hl-de $((F1 + 610)) case set $D notice-sent >/dev/null
as hl-de $((F1 + 615)) publish --to www/hl-de >/dev/null 2>&1
as hl-nl $((F1 + 620)) sync hl-de >/dev/null 2>&1
state >before
rm -rf www/hl-de && cp -a old-feed www/hl-de
test_fails "a rolled-back cases log is refused" as hl-nl $((F1 + 630)) sync hl-de
state >after
test_cmp "and changes nothing" before after
rm -rf www/hl-de
as hl-de $((F1 + 640)) publish --to www/hl-de >/dev/null 2>&1
test_ok "the true feed is taken again" as hl-nl $((F1 + 650)) sync hl-de

# owner silence: hl-de stops renewing; at the end of its lease hl-nl owns D
round $((F1 + 700))
E=$((F1 + 400 + 3600))
owned() { same "$1" && grep -q "^$D	$2	$3	$4" ls-hl-de.out; }
test_ok "before the lease ends hl-de owns it everywhere" owned $((E - 10)) notice-sent hl-de ""
test_ok "at its end hl-nl does, on every node, without anyone acting" owned $E notice-sent hl-nl "$(at $E)	"
test_ok "hl-nl claims" as hl-nl $((E + 60)) case claim $D
round $((E + 70))
test_fails_with "hl-de comes back and cannot claim it back" 4 "handled by hl-nl" \
	as hl-de $((E + 200)) case claim $D
not_mine() { owned "$1" notice-sent hl-nl "" && ! as hl-de "$1" case ls --mine | grep -q "$D"; }
test_ok "hl-de lists it as hl-nl's, not its own" not_mine $((E + 200))
# hlx run renews the claim once less than half the lease is left
R=$((E + 60 + 1900))
HLX_NOW=$(at $R) "$HLX" --home hl-nl run --interval 1 --to www/hl-nl >run.log 2>&1 &
pid=$!
sleep 4
kill $pid 2>/dev/null
wait $pid 2>/dev/null
test_ok "hlx run renewed hl-nl's claim" sh -c '
	HLX_NOW='"$(at $((R + 5)))"' "$HLX" --home hl-nl case show '"$D"' |
	grep -qx "lease: claimed until '"$(at $((R + 3600)))"'"'
cd .. || exit 1
test_done
