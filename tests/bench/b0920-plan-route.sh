#!/bin/sh
# SPDX-License-Identifier: MIT
# Plan routing (spec/plan.md section 8): 'hlx plan route -' of BENCH_N
# (default 100000) synthetic locations over one plan in force with 1,000
# rules (countries, categories, hosts), against the target of under one
# second.  Medians of BENCH_RUNS runs (default 3).
set -eu
HLX=${HLX:?}
RUNS=${BENCH_RUNS:-3}
N=${BENCH_N:-100000}
dir=$(mktemp -d "${TMPDIR:-/tmp}/hlx-bench.XXXXXX")
trap 'rm -rf "$dir"' EXIT
cd "$dir"
export LC_ALL=C
now() { date +%s.%N; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

"$HLX" --home n init --org hl-a --no-passphrase >/dev/null 2>&1
"$HLX" --home n key show --root >a.pub
python3 - "$(ssh-keygen -lf a.pub | awk '{print $2}')" "$N" <<'PY'
import json, random, sys
f, n = sys.argv[1], int(sys.argv[2])
dl = {"le_hold_hours": 0, "notice_hours": 24, "renotice_hours": 0, "escalate_after": 0}
def rule(c, k, host=None):
    r = {"country": c, "category": k, "org": "hl-a", "fallbacks": [],
         "channel": "self", "languages": ["en"], "deadlines": dl}
    if host:
        r["host"] = host
    return r
cc = ["DE", "FR", "GB", "NL", "BE", "US", "BR", "IT", "ES", "PL"]
rules = [rule("*", "*")]
for c in cc:
    rules.append(rule(c, "*"))
    rules += [rule(c, k) for k in ("a1", "a2", "b1", "b2")]
rules += [rule("*", "*", "host%d.example" % i) for i in range(1024 - len(rules))]
json.dump({"format": "hlx-plan-1", "name": "big", "version": 1,
           "lease_seconds": 3600, "settle_seconds": 0,
           "signatories": [{"org": "hl-a", "root": f}], "rules": rules},
          open("p.json", "w"))
r = random.Random(920)
with open("locs", "w") as o:
    for i in range(n):
        o.write("%s/%s/img%d.host%d.example\n" % (r.choice(cc + ["-"]),
                r.choice(["a1", "b2", "-", "c3"]), i, r.randrange(1500)))
PY
"$HLX" --home n plan propose p.json >/dev/null
for i in $(seq "$RUNS"); do
	t0=$(now)
	"$HLX" --home n plan route - <locs >out
	t1=$(now)
	echo "$t0 $t1" | awk '{ printf "%.3f\n", $2 - $1 }'
done | median >t
test "$(grep -c '' out)" -eq "$N"
awk -v t="$(cat t)" -v n="$N" 'BEGIN { printf "plan route: %d locations in %.3f s (%.0f/s), target under 1 s: %s\n", n, t, n / t, t < 1 ? "met" : "MISSED" }'
