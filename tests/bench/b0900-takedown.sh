#!/bin/sh
# SPDX-License-Identifier: MIT
# Takedown coordination benchmarks (issue "Takedown coordination, part 1"):
#  1. a report at A about a location that B handles, until B's
#     'hlx case ls --mine' lists it, both running 'hlx run --interval 1'
#     (feeds as file:// URLs): median and worst of BENCH_PROP (default 20).
#     Target: median under 2 s.
#  2. BENCH_CASES (default 100,000) open cases at B: 'hlx case ls --mine'
#     and 'hlx plan route' of as many locations, median of BENCH_RUNS
#     (default 3).  Target: each under 1 s.
# The data come from a fixed seed (BENCH_SEED, default 900).
set -u
: "${HLX:?}"
HLX_TOP=$(cd "$(dirname "$0")/../.." && pwd)
export HLX HLX_TOP
. "$HLX_TOP/tests/lib.sh" >/dev/null
export LC_ALL=C TZ=UTC
RUNS=${BENCH_RUNS:-3}
NC=${BENCH_CASES:-100000}
NP=${BENCH_PROP:-20}
BSEED=${BENCH_SEED:-900}
now() { date +%s.%N; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
worst() { sort -n | tail -n 1; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f\n", b - a }'; }
echo "# seed $BSEED, $NC cases, $NP propagations"

mkdir -p www
for o in hl-a hl-b; do
	"$HLX" --home $o init --org $o --no-passphrase >/dev/null 2>&1
	"$HLX" --home $o key show --root >$o.pub
	ssh-keygen -lf $o.pub | awk '{print $2}' >$o.fpr
	"$HLX" --home $o list create hashes >/dev/null 2>&1
	"$HLX" --home $o add hashes "md5:$(openssl rand -hex 16)" >/dev/null 2>&1
	"$HLX" --home $o publish --to www/$o >/dev/null 2>&1
done
"$HLX" --home hl-a peer add hl-b --url "file://$PWD/www/hl-b/" --key hl-b.pub --box "$("$HLX" --home hl-b key show --box)" >/dev/null
"$HLX" --home hl-b peer add hl-a --url "file://$PWD/www/hl-a/" --key hl-a.pub --box "$("$HLX" --home hl-a key show --box)" >/dev/null
"$HLX" --home hl-a subscribe hl-b hashes >/dev/null 2>&1
"$HLX" --home hl-b subscribe hl-a hashes >/dev/null 2>&1
"$HLX" --home hl-a sync >/dev/null 2>&1
"$HLX" --home hl-b sync >/dev/null 2>&1
# a plan both sign: every location goes to hl-b (FR to hl-a)
cat >plan.json <<EOF
{"format":"hlx-plan-1","name":"bench","version":1,"lease_seconds":86400,
 "settle_seconds":0,
 "signatories":[{"org":"hl-a","root":"$(cat hl-a.fpr)"},{"org":"hl-b","root":"$(cat hl-b.fpr)"}],
 "rules":[{"country":"*","category":"*","org":"hl-b","fallbacks":["hl-a"],
  "channel":"self","languages":["en"],"deadlines":{"le_hold_hours":0,
  "notice_hours":24,"renotice_hours":24,"escalate_after":0}},
  {"country":"FR","category":"*","org":"hl-a","fallbacks":["hl-b"],
  "channel":"self","languages":["fr"],"deadlines":{"le_hold_hours":0,
  "notice_hours":24,"renotice_hours":24,"escalate_after":0}}]}
EOF
"$HLX" --home hl-a plan propose plan.json >/dev/null
"$HLX" --home hl-a publish --to www/hl-a >/dev/null 2>&1
"$HLX" --home hl-b sync >/dev/null 2>&1
"$HLX" --home hl-b plan sign bench >/dev/null
"$HLX" --home hl-b publish --to www/hl-b >/dev/null 2>&1
"$HLX" --home hl-a sync >/dev/null 2>&1
"$HLX" --home hl-a subscribe --force hl-b cases >/dev/null 2>&1
"$HLX" --home hl-b subscribe --force hl-a cases >/dev/null 2>&1
if ! "$HLX" --home hl-a plan ls | grep -q "in-force"; then
	echo "b0900: the plan did not come into force" >&2
	exit 1
fi

# 1. propagation of a report to its owner
"$HLX" --home hl-a case report "https://bench.example/$(openssl rand -hex 16)" --country DE >/dev/null
"$HLX" --home hl-a run --interval 1 --to www/hl-a 2>run-a.log &
pa=$!
"$HLX" --home hl-b run --interval 1 --to www/hl-b 2>run-b.log &
pb=$!
sleep 3
: >t.prop
for i in $(seq "$NP"); do
	c=$("$HLX" --home hl-a case report "https://bench.example/$(openssl rand -hex 16)" --country DE | sed -n 's/^reported \(url-sha256:[0-9a-f]*\):.*/\1/p')
	a=$(now)
	[ -n "$c" ] || { echo "b0900: case report failed" >&2; break; }
	while ! "$HLX" --home hl-b case ls --mine | grep -q "^$c	"; do sleep 0.02; done
	b=$(now)
	secs "$a" "$b" >>t.prop
done
kill $pa $pb 2>/dev/null
wait $pa $pb 2>/dev/null
echo "report at A until B's 'case ls --mine' lists it (run --interval 1): median $(median <t.prop) s, worst $(worst <t.prop) s of $(grep -c '' t.prop) (target: median < 2 s)"

# 2. many open cases
python3 - "$BSEED" "$NC" >reports.jsonl <<'EOF'
import json, random, sys
rng = random.Random(int(sys.argv[1]))
cc = ["DE", "FR", "GB", "NL", "US", "BR", "JP"]
for i in range(int(sys.argv[2])):
    print(json.dumps({"case": "url-sha256:%064x" % rng.getrandbits(256),
                      "item": "md5:%032x" % rng.getrandbits(128),
                      "country": rng.choice(cc), "category": "a1"}))
EOF
python3 - "$BSEED" "$NC" >locations <<'EOF'
import random, sys
rng = random.Random(int(sys.argv[1]) + 1)
cc = ["DE", "FR", "GB", "NL", "US", "BR", "JP", "-"]
for i in range(int(sys.argv[2])):
    host = rng.choice(["", "/img.example", "/a.b.example"])
    print("%s/%s%s" % (rng.choice(cc), rng.choice(["a1", "b2", "-"]), host))
EOF
a=$(now)
"$HLX" --home hl-a case report - <reports.jsonl >/dev/null
b=$(now)
echo "filing $NC reports in one version ('case report -'): $(secs "$a" "$b") s"
"$HLX" --home hl-a publish --to www/hl-a >/dev/null 2>&1
"$HLX" --home hl-b sync >/dev/null 2>&1
: >t.ls; : >t.route
for r in $(seq "$RUNS"); do
	a=$(now)
	"$HLX" --home hl-b case ls --mine >mine.out
	b=$(now)
	secs "$a" "$b" >>t.ls
	a=$(now)
	"$HLX" --home hl-b plan route - <locations >route.out
	b=$(now)
	secs "$a" "$b" >>t.route
done
echo "'case ls --mine' with $NC open cases ($(grep -c '' mine.out) mine): median $(median <t.ls) s (target < 1 s)"
echo "'plan route' of $(grep -c '' route.out) locations: median $(median <t.route) s (target < 1 s)"
cd /
rm -rf "$TRASH"
