#!/bin/sh
# SPDX-License-Identifier: MIT
# The raw URLs a node fetches after one pull are bounded (spec/cases.md
# section 8): hl-fr reports 258 locations in DE, owned by hl-de under the
# plan both signed, and sends their URLs; hl-de fetches 256 of them after
# its first pull of hl-fr and the other 2 at the next, and holds each one
# once.  Synthetic URLs only.
. "$(dirname "$0")/lib.sh"
export LC_ALL=C TZ=UTC

SEED=${HLX_SEED:-945}
echo "# seed $SEED"
ORGS="hl-de hl-fr"
N=258
at() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
as() { o=$1 t=$2; shift 2; HLX_NOW=$(at "$t") "$HLX" --home "$o" "$@"; }
publish_all() { for o in $ORGS; do as $o "$1" publish --to "www/$o" >/dev/null 2>>round.log || return 1; done; }
sync_all() {
	_f=0
	for o in $ORGS; do as $o "$1" sync >/dev/null 2>>round.log || _f=1; done
	return $_f
}
round() { publish_all "$1" && sync_all $(($1 + 5)); }
other() { if [ "$1" = hl-de ]; then echo hl-fr; else echo hl-de; fi; }
nurls() { ls "$1/urls" 2>/dev/null | wc -l; }

T0=$(( ($(date +%s) / 60 + 2) * 60 ))
mkdir -p www
for o in $ORGS; do
	hlx --home $o init --org $o --no-passphrase >/dev/null 2>&1
	hlx --home $o key show --root >$o.pub
	hlx --home $o key show --box >$o.box
	ssh-keygen -lf $o.pub | awk '{print $2}' >$o.fpr
	hlx --home $o list create hashes >/dev/null 2>&1
	as $o $T0 add hashes md5:$(rand_hex 16) >/dev/null 2>&1
	# a cases log to pull from the start (a case of its own, no URL)
	as $o $T0 case report "url-sha256:$(rand_hex 32)" >/dev/null 2>&1
done
for o in $ORGS; do
	p=$(other $o)
	hlx --home $o peer add $p --key $p.pub --box "$(cat $p.box)" >/dev/null 2>&1
	hlx --home $o peer set $p --url "file://$PWD/www/$p/" >/dev/null 2>&1
done
round $T0
for o in $ORGS; do hlx --home $o subscribe $(other $o) hashes >/dev/null 2>&1; done
test_ok "two nodes pull each other" round $((T0 + 10))

# the plan: DE -> hl-de, everything else -> hl-fr; both sign
python3 - $ORGS >eu.json <<'PY'
import json, sys
d = {"le_hold_hours": 0, "notice_hours": 24, "renotice_hours": 24, "escalate_after": 0}
rules = [{"country": "*", "category": "*", "org": "hl-fr", "fallbacks": ["hl-de"],
          "channel": "self", "languages": ["en"], "deadlines": d},
         {"country": "DE", "category": "*", "org": "hl-de", "fallbacks": ["hl-fr"],
          "channel": "self", "languages": ["de"], "deadlines": d}]
print(json.dumps({"format": "hlx-plan-1", "name": "eu", "version": 1,
                  "lease_seconds": 3600, "settle_seconds": 0,
                  "signatories": [{"org": o, "root": open(o + ".fpr").read().strip()}
                                  for o in sys.argv[1:]],
                  "rules": rules}))
PY
test_ok "hl-de proposes eu" as hl-de $((T0 + 20)) plan propose eu.json
test_ok "a round carries it" round $((T0 + 25))
test_ok "hl-fr signs it" as hl-fr $((T0 + 40)) plan sign eu
test_ok "a round carries the signature" round $((T0 + 45))
test_ok "eu is in force on both nodes" sh -c '
	for o in '"$ORGS"'; do
		HLX_NOW='"$(at $((T0 + 60)))"' "$HLX" --home $o plan ls | grep -q "^eu	1	in-force" || { echo "# $o"; exit 1; }
	done'
for o in $ORGS; do hlx --home $o subscribe --force $(other $o) cases >/dev/null 2>&1; done

T1=$((T0 + 100))
i=0
while [ $i -lt $N ]; do
	printf '{"url":"https://example.org/t0945/%s/%d","country":"DE"}\n' "$SEED" $i
	i=$((i + 1))
done >reports.jsonl
test_ok "hl-fr reports $N locations in DE" sh -c '
	HLX_NOW='"$(at $T1)"' "$HLX" --home hl-fr case report - <reports.jsonl >reports.out &&
	test "$(grep -c "handled by hl-de" reports.out)" -eq '$N
test_ok "hl-fr publishes, sealing $N URLs to hl-de" sh -c '
	HLX_NOW='"$(at $((T1 + 10)))"' "$HLX" --home hl-fr publish --to www/hl-fr >/dev/null &&
	test "$(ls www/hl-fr/urls | wc -l)" -eq '$N
test_ok "hl-de holds no URL yet" test "$(nurls hl-de)" -eq 0
test_ok "hl-de syncs" as hl-de $((T1 + 20)) sync
test_ok "and fetched 256 of the $N URLs, not all" sh -c '
	n=$(ls hl-de/urls | wc -l); echo "# $n"; test $n -eq 256'
test_ok "hl-de syncs again" as hl-de $((T1 + 30)) sync
test_ok "and fetched the other 2" sh -c '
	n=$(ls hl-de/urls | wc -l); echo "# $n"; test $n -eq '$N
test_ok "a third sync fetches nothing more" sh -c '
	HLX_NOW='"$(at $((T1 + 40)))"' "$HLX" --home hl-de sync >/dev/null &&
	test "$(ls hl-de/urls | wc -l)" -eq '$N
test_ok "every URL is held as reported" sh -c '
	i=0; while [ $i -lt '$N' ]; do
		u="https://example.org/t0945/'$SEED'/$i"
		h=$(printf "%s" "$u" | sha256sum | cut -c1-64)
		test -f hl-de/urls/$h || { echo "# missing $i"; exit 1; }
		i=$((i + 1))
	done'
test_done
