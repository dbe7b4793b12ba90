#!/bin/sh
# SPDX-License-Identifier: MIT
# The raw URL of a case goes to its owner alone (spec/cases.md section 8):
# four hotlines, one plan routing DE to hl-de; hl-nl shares through an
# encrypted policy (one audience directory a/ID/ for all its peers), the
# others through open feeds.  A reporter seals the URL to the owner's box
# key into the directory the owner reads, with an audit record first; the
# owner fetches it, checks it against the case id and keeps it; forged
# envelopes (another key, another context, a URL that is not the case's,
# oversize) are refused and nothing is stored; a hand-off passes the URL to
# the new owner; a final state takes the file down.  At the end every file
# of every home and feed is searched: the URLs are nowhere in clear, and
# every envelope holding one opens for its reporter and owners only
# (t0940-case-url.py, libsodium alone).  hl-nl's policy gives "hashes"
# only: views of the cases log under policies (cases.md 7.3) are not made
# yet, so its peers learn nothing of its cases and U2 is checked on the
# sending side only.
. "$(dirname "$0")/lib.sh"
export LC_ALL=C TZ=UTC

SEED=${HLX_SEED:-940}
echo "# seed $SEED"
PY="python3 $HLX_TOP/tests/t0940-case-url.py"
ORGS="hl-de hl-fr hl-gb hl-nl"
at() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
# ./as ORG T CMD...: run hlx on ORG's node at time T (also inside sh -c)
cat >as <<'EOF'
#!/bin/sh
o=$1 t=$2
shift 2
HLX_NOW=$(date -u -d "@$t" +%Y-%m-%dT%H:%M:%SZ) exec "$HLX" --home "$o" "$@"
EOF
chmod +x as
as() { ./as "$@"; }
publish_all() { for o in $ORGS; do as $o "$1" publish --to "www/$o" >/dev/null 2>>round.log || return 1; done; }
sync_all() {
	_f=0
	for o in $ORGS; do as $o "$1" sync >/dev/null 2>>round.log || _f=1; done
	return $_f
}
round() { publish_all "$1" && sync_all $(($1 + 5)); }
others() { for x in $ORGS; do [ "$x" = "$1" ] || echo "$x"; done; }
# the feed directory org $1 serves to peer $2 (a/DIR/ under a policy)
dir_of() {
	case $1 in
	hl-nl) printf 'a/%s/' "$(hlx --home $1 policy check $2 | sed -n 's/.*feed a\/\([0-9a-f]*\)\/.*/\1/p')" ;;
	*) printf '' ;;
	esac
}
hexof() { printf '%s' "$1" | sha256sum | cut -c1-64; }

T0=$(( ($(date +%s) / 60 + 2) * 60 ))
mkdir -p www
echo '{"format": "hlx-policy-1", "name": "sealed", "lists": ["hashes"], "fields": [], "encrypt": true}' >sealed.json
for o in $ORGS; do
	hlx --home $o init --org $o --no-passphrase >/dev/null 2>&1
	hlx --home $o key show --root >$o.pub
	hlx --home $o key show --box >$o.box
	ssh-keygen -lf $o.pub | awk '{print $2}' >$o.fpr
	hlx --home $o list create hashes >/dev/null 2>&1
	as $o $T0 add hashes md5:$(rand_hex 16) >/dev/null 2>&1
done
# every node opens its cases log with a report made before any plan (its
# own to handle: no URL held, none sent), so that every log is there to
# pull from the start
for o in $ORGS; do
	as $o $T0 case report "url-sha256:$(rand_hex 32)" >/dev/null 2>&1
done
hlx --home hl-nl policy add sealed.json >/dev/null 2>&1
for o in $ORGS; do
	for p in $(others $o); do
		pol=""
		[ $o = hl-nl ] && pol="--policy sealed"
		hlx --home $o peer add $p --key $p.pub --box "$(cat $p.box)" $pol >/dev/null 2>&1
	done
done
for o in $ORGS; do
	for p in $(others $o); do
		hlx --home $o peer set $p --url "file://$PWD/www/$p/$(dir_of $p $o)" >/dev/null 2>&1
	done
done
test_ok "four nodes; hl-nl serves its peers under an encrypted policy" sh -c '
	test -n "$("$HLX" --home hl-nl policy check hl-de | grep "feed a/")"'
round $T0
for o in $ORGS; do for p in $(others $o); do hlx --home $o subscribe $p hashes >/dev/null 2>&1; done; done
test_ok "every node pulls the three others" round $((T0 + 10))

# the plan: DE -> hl-de (then hl-nl), everything else -> hl-gb
python3 - $ORGS >eu.json <<'PY'
import json, sys
d = {"le_hold_hours": 0, "notice_hours": 24, "renotice_hours": 24, "escalate_after": 0}
rules = [{"country": "*", "category": "*", "org": "hl-gb", "fallbacks": ["hl-nl"],
          "channel": "self", "languages": ["en"], "deadlines": d},
         {"country": "DE", "category": "*", "org": "hl-de", "fallbacks": ["hl-nl"],
          "channel": "self", "languages": ["de", "en"], "deadlines": d}]
print(json.dumps({"format": "hlx-plan-1", "name": "eu", "version": 1,
                  "lease_seconds": 3600, "settle_seconds": 300,
                  "signatories": [{"org": o, "root": open(o + ".fpr").read().strip()}
                                  for o in sys.argv[1:]],
                  "rules": rules}))
PY
as hl-de $((T0 + 20)) plan propose eu.json >propose.out 2>&1
round $((T0 + 25))
# plans do not travel in feeds yet: carried from home to home (as t0920)
$PY spread $ORGS
t=$((T0 + 40))
for o in hl-fr hl-gb hl-nl; do as $o $t plan sign eu >sign-$o.out 2>&1; t=$((t + 1)); $PY spread $ORGS; done
round $((T0 + 50))
round $((T0 + 60))
test_ok "the plan is in force on every node" sh -c '
	for o in '"$ORGS"'; do
		HLX_NOW='"$(at $((T0 + 70)))"' "$HLX" --home $o plan ls | grep -q "^eu	1	in-force" || { echo "# $o"; exit 1; }
	done'
# (plan sign subscribed the signatories to each other's cases; hl-nl's
# policy does not give its own)
for o in $ORGS; do for p in $(others $o); do
	if [ $p = hl-nl ]; then
		hlx --home $o unsubscribe $p cases >/dev/null 2>&1
	else
		hlx --home $o subscribe --force $p cases >/dev/null 2>&1
	fi
done; done

# the reports: hl-fr and hl-nl report locations in DE, owned by hl-de
U1="https://example.org/t0940/$SEED/one"
U2="https://example.org/t0940/$SEED/two"
U3="https://example.org/t0940/$SEED/three"
U4="https://example.org/t0940/$SEED/four"
H1=$(hexof "$U1") H2=$(hexof "$U2") H3=$(hexof "$U3") H4=$(hexof "$U4")
T1=$((T0 + 100))
test_ok "hl-fr reports U1 in DE: handled by hl-de" sh -c '
	HLX_NOW='"$(at $T1)"' "$HLX" --home hl-fr case report "'"$U1"'" --country DE |
	grep -q "^reported url-sha256:'"$H1"': handled by hl-de since "'
test_ok "hl-fr reports U4 in DE" as hl-fr $((T1 + 1)) case report "$U4" --country DE
test_ok "hl-nl reports U2 in DE" as hl-nl $((T1 + 1)) case report "$U2" --country DE
test_ok "hl-gb reports U3 by its case id only: no URL held" \
	as hl-gb $((T1 + 2)) case report "url-sha256:$H3" --country DE
test_ok "every node publishes" publish_all $((T1 + 60))

DE_NL=$(dir_of hl-nl hl-de)
test_ok "hl-fr wrote urls/HEX of U1 and U4 into its feed, once each" sh -c '
	test -f www/hl-fr/urls/'"$H1"' && test -f www/hl-fr/urls/'"$H4"' &&
	test "$(find www/hl-fr -path "*/urls/*" | wc -l)" -eq 2'
test_ok "sealed to hl-de alone" sh -c '
	test "$('"$PY"' who www/hl-fr/urls/'"$H1"' '"$ORGS"')" = hl-de &&
	test "$('"$PY"' who www/hl-fr/urls/'"$H4"' '"$ORGS"')" = hl-de'
test_ok "hl-nl wrote U2 into its encrypted audience's directory, sealed to hl-de alone" sh -c '
	test "$('"$PY"' who "www/hl-nl/'"$DE_NL"'urls/'"$H2"'" '"$ORGS"')" = hl-de &&
	test "$(find www/hl-nl -path "*/urls/*" | wc -l)" -eq 1'
test_ok "with a url record naming a/ID/urls/HEX" sh -c '
	"$HLX" --home hl-nl audit --json |
	grep -q "\"case\":\"url-sha256:'"$H2"'\",.*\"org\":\"hl-de\",\"path\":\"'"$DE_NL"'urls/'"$H2"'\",\"peer\":\"hl-de\""'
test_ok "hl-fr's audit log verifies and records both sendings" sh -c '
	"$HLX" --home hl-fr audit --json | grep "\"kind\":\"url\"" >url-rec &&
	test "$(grep -c "" url-rec)" -eq 2 &&
	grep -q "\"case\":\"url-sha256:'"$H1"'\",.*\"org\":\"hl-de\",\"path\":\"urls/'"$H1"'\",\"peer\":\"hl-de\"" url-rec'
test_ok "the audit logs name the cases, never the URLs" sh -c '
	grep -q "url-sha256:'"$H1"'" hl-fr/audit.log && ! grep -q "example.org" hl-fr/audit.log hl-nl/audit.log'
test_ok "no node without a URL sent one" sh -c '
	test -z "$(find www/hl-de www/hl-gb -path "*/urls/*")"'

# forged envelopes of U4 in hl-fr's feed, each refused by hl-de, nothing
# stored (U1 is fetched meanwhile)
F=www/hl-fr/urls/$H4
cp "$F" genuine4
fr_status() { hlx --home hl-de peer status | awk '$1 == "hl-fr" && $2 == "cases"'; }
forged() { # WHY: hl-de syncs the forged file: refused for WHY, said by
	# the sync (exit 1) and peer status, nothing kept
	if as hl-de $((T1 + 65)) sync >sync.out 2>&1; then echo "# sync exit 0"; return 1; fi
	grep -q "raw URL of url-sha256:$H4: .*$1" sync.out || { cat sync.out; return 1; }
	as hl-de $((T1 + 66)) url show "$U4" >/dev/null 2>&1 && { echo "# kept"; return 1; }
	fr_status | grep -q "raw URL of url-sha256:$H4: .*$1" ||
		{ echo "# not in peer status:"; fr_status; return 1; }
	! grep -rlaF "$U4" hl-de >/dev/null
}
$PY seal "$(cat hl-gb.box)" "hlx-case-url:$H4" "$U4" "$F"
test_ok "an envelope sealed to another key is not taken, and not a failure (the peer saw another owner)" sh -c '
	./as hl-de '"$((T1 + 65))"' sync >sync.out 2>&1 || { cat sync.out; exit 1; }
	! ./as hl-de '"$((T1 + 66))"' url show "'"$U4"'" >/dev/null 2>&1 &&
	! grep -rlaF "'"$U4"'" hl-de >/dev/null'
$PY seal "$(cat hl-de.box)" "hlx-url:$H4" "$U4" "$F"
test_ok "an envelope with another context is refused" forged "does not authenticate"
$PY seal "$(cat hl-de.box)" "hlx-case-url:$H4" "$U3" "$F"
test_ok "a URL whose hash is not the case id is refused" forged "not the case's"
$PY seal "$(cat hl-de.box)" "hlx-case-url:$H4" "https://example.org/$(head -c 9000 /dev/zero | tr '\0' a)" "$F"
test_ok "an oversize envelope is refused" forged "exceeds the limit"
test_ok "hl-de holds none of the forged URLs, and U1 already" sh -c '
	! ./as hl-de '"$((T1 + 67))"' url show "'"$U3"'" >/dev/null 2>&1 &&
	test "$(./as hl-de '"$((T1 + 67))"' url show "'"$U1"'")" = "'"$U1"'"'

# the genuine file: hl-de fetches and keeps it
cp genuine4 "$F"
test_ok "hl-de syncs the genuine envelope" as hl-de $((T1 + 70)) sync
test_ok "and holds U4, normalised, as its own" sh -c '
	test "$(./as hl-de '"$((T1 + 71))"' url show "'"$U4"'")" = "'"$U4"'"'
hlx --home hl-de list create scratch >/dev/null 2>&1
s1=md5:$(rand_hex 16)
as hl-de $((T1 + 72)) add scratch "$s1" >/dev/null 2>&1
test_ok "a retraction in another list of hl-de" \
	as hl-de $((T1 + 73)) retract scratch "$s1" --reason false-positive
test_ok "does not forget the URL of a case it owns" sh -c '
	test "$(./as hl-de '"$((T1 + 74))"' url show "'"$U4"'")" = "'"$U4"'"'
test_ok "the error is gone from peer status" sh -c '
	! "$HLX" --home hl-de peer status | awk "\$1 == \"hl-fr\" && \$2 == \"cases\"" | grep -q "raw URL"'
test_ok "a sync round" round $((T1 + 80))
test_ok "hl-gb and hl-nl hold neither U1 nor U4" sh -c '
	for o in hl-gb hl-nl; do for u in "'"$U1"'" "'"$U4"'"; do
		! "$HLX" --home $o url show "$u" >/dev/null 2>&1 || exit 1
	done; done'
test_ok "nothing was sent twice" sh -c '
	test "$("$HLX" --home hl-fr audit --json | grep -c "\"kind\":\"url\"")" -eq 2'
test_ok "case show: sent by the reporter, held by the owner, not received elsewhere" sh -c '
	./as hl-fr '"$((T1 + 90))"' case show url-sha256:'"$H1"' | grep -qx "raw URL: sent to hl-de" &&
	./as hl-de '"$((T1 + 90))"' case show url-sha256:'"$H1"' | grep -qx "raw URL: held" &&
	./as hl-gb '"$((T1 + 90))"' case show url-sha256:'"$H1"' | grep -qx "raw URL: not received"'

# a hand-off: hl-de claims U4 and hands it to hl-gb; hl-fr (reporter) and
# hl-de (the owner handing off) send it to hl-gb, which fetches it
T2=$((T1 + 400))
test_ok "hl-de claims U4 and hands it to hl-gb" sh -c '
	./as hl-de '"$T2"' case claim url-sha256:'"$H4"' >/dev/null &&
	./as hl-de '"$((T2 + 1))"' case handoff url-sha256:'"$H4"' hl-gb'
round $((T2 + 10))
test_ok "two sync rounds" round $((T2 + 20))
test_ok "hl-gb holds U4 now" sh -c '
	test "$(./as hl-gb '"$((T2 + 30))"' url show "'"$U4"'")" = "'"$U4"'"'
test_ok "hl-fr's file now opens for hl-gb alone" sh -c '
	test "$('"$PY"' who www/hl-fr/urls/'"$H4"' '"$ORGS"')" = hl-gb'
test_ok "hl-de sent it too, in its own feed, with an audit record" sh -c '
	test "$('"$PY"' who www/hl-de/urls/'"$H4"' '"$ORGS"')" = hl-gb &&
	"$HLX" --home hl-de audit --json | grep -q "\"case\":\"url-sha256:'"$H4"'\",.*\"org\":\"hl-gb\""'
test_ok "case show on hl-de: sent to hl-gb" sh -c '
	./as hl-de '"$((T2 + 30))"' case show url-sha256:'"$H4"' | grep -qx "raw URL: sent to hl-gb"'

# a final state: hl-de withdraws case 1; hl-fr takes its file down
test_ok "hl-de claims and withdraws case 1" sh -c '
	./as hl-de '"$((T2 + 40))"' case claim url-sha256:'"$H1"' >/dev/null &&
	./as hl-de '"$((T2 + 41))"' case set url-sha256:'"$H1"' withdrawn >/dev/null'
round $((T2 + 50))
round $((T2 + 60))
test_ok "two rounds later hl-fr's feed has no file of case 1" sh -c '
	test -z "$(find www/hl-fr -name '"$H1"')" && test -f www/hl-fr/urls/'"$H4"
test_ok "and hl-fr's note of it is gone: case show says held" sh -c '
	./as hl-fr '"$((T2 + 70))"' case show url-sha256:'"$H1"' | grep -qx "raw URL: held"'

# every file of every home and feed
test_ok "no URL is in clear anywhere" sh -c '
	! grep -rlaF -e "'"$U1"'" -e "'"$U2"'" -e "'"$U4"'" -e "t0940/'"$SEED"'" '"$ORGS"' www'
# whose (envelope file) (who may open it): every envelope named HEX
whose() {
	_n=0
	for f in $(find $ORGS www -type f -name "$1"); do
		_n=$((_n + 1))
		for w in $($PY who "$f" $ORGS); do
			case " $2 " in *" $w "*) ;; *) echo "# $f opens for $w"; return 1 ;; esac
		done
	done
	[ $_n -ge 2 ] || { echo "# only $_n envelopes of $1"; return 1; }
}
test_ok "every envelope of U1 opens for hl-fr (reporter) and hl-de (owner) only" \
	whose "$H1" "hl-fr hl-de"
test_ok "every envelope of U4 for hl-fr, hl-de and hl-gb (owner after the hand-off) only" \
	whose "$H4" "hl-fr hl-de hl-gb"
test_ok "every envelope of U2 for hl-nl and hl-de only" whose "$H2" "hl-nl hl-de"
# an impostor: a node whose chain names hl-de, pinned by hl-fr as 'imp'
T3=$((T2 + 100))
hlx --home imp init --org hl-de --no-passphrase >/dev/null 2>&1
hlx --home imp key show --root >imp.pub
hlx --home imp list create hashes >/dev/null 2>&1
as imp $T3 add hashes md5:$(rand_hex 16) >/dev/null 2>&1
as imp $T3 publish --to www/imp >/dev/null 2>&1
hlx --home hl-fr peer add imp --url "file://$PWD/www/imp/" --key imp.pub \
	--box "$(hlx --home imp key show --box)" >/dev/null 2>&1
hlx --home hl-fr subscribe imp hashes >/dev/null 2>&1
test_ok "hl-fr pulls from the impostor, whose chain names hl-de" as hl-fr $((T3 + 1)) sync imp
U5="https://example.org/t0940/$SEED/five"
H5=$(hexof "$U5")
as hl-fr $((T3 + 2)) case report "$U5" --country DE >/dev/null
# the plan names hl-de's root: only the chain that introduced it qualifies
test_ok "with an impostor's chain also naming hl-de, the raw URL goes to the real hl-de alone" sh -c '
	./as hl-fr '"$((T3 + 3))"' publish --to www/hl-fr >pub5.out 2>&1 || { cat pub5.out; exit 1; }
	test "$('"$PY"' who www/hl-fr/urls/'"$H5"' '"$ORGS"' imp)" = hl-de'
# (before hl-fr holds the real hl-de's chain no plan naming hl-de is in
# force, so no case is routed to it; peer_of's refusal of an impostor's
# chain in that state is checked in tests/unit/test-caseurl.c)

# A node that holds no raw URL and has noted no sending (a crash before
# its first note was saved) still takes down the case files in its feeds
F1=$(rand_hex 32)
A1=$(rand_hex 16)
mkdir -p www/imp/urls "www/imp/a/$A1/urls"
printf x >"www/imp/urls/$F1"
printf x >"www/imp/a/$A1/urls/$F1"
printf x >www/imp/urls/README
test_ok "a node with nothing due removes the case files no note names from every feed" sh -c '
	./as imp '"$((T3 + 4))"' publish --to www/imp >pub6.out 2>&1 || { cat pub6.out; exit 1; }
	test ! -e www/imp/urls/'"$F1"' && test ! -e www/imp/a/'"$A1"'/urls/'"$F1"' &&
	test -e www/imp/urls/README'
test_done
