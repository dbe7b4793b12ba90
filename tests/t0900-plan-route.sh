#!/bin/sh
# SPDX-License-Identifier: MIT
# Routing over response plans (spec/plan.md sections 2 to 6) computed twice:
# by the C code (tests/unit/plan-route-driver.c over protocol/plan.c) and
# by tests/tools/plan_route.py, an independent model written from the
# spec.  Seeded random plans (in shuffled spellings, some of them
# malformed), sign and withdraw acts, times and locations (some malformed)
# are routed by both, and every output line must be the same: which
# documents and acts are refused, which version is in force, the rule that
# routes each location, the responsible organisation and its fallbacks.
. "$(dirname "$0")/lib.sh"

SEED=${HLX_SEED:-900}
ROUNDS=${HLX_PLAN_ROUNDS:-30}
echo "# seed $SEED, $ROUNDS rounds"
driver=$HLX_BUILD/tests/plan-route-driver
model=$HLX_TOP/tests/tools/plan_route.py
if [ ! -x "$driver" ]; then
	echo "1..0 # SKIP no $driver (make units)"
	exit 0
fi

routed=0 refused=0 i=0
while [ $i -lt "$ROUNDS" ]; do
	s=$((SEED * 1000 + i))
	python3 "$model" gen "$s" >in.json
	python3 "$model" route in.json >model.out
	"$driver" in.json >c.out 2>c.err
	test_ok "seed $s: the C code and the model agree ($(wc -l <model.out) lines)" \
		cmp model.out c.out
	if ! cmp -s model.out c.out; then
		diff model.out c.out | head -n 10 | sed 's/^/#   /'
		cp in.json "$HLX_TOP/build/t0900-seed-$s.json" 2>/dev/null &&
			echo "#   input kept in build/t0900-seed-$s.json"
	fi
	routed=$((routed + $(awk -F'\t' 'NF == 6 && $3 != "-"' model.out | wc -l)))
	refused=$((refused + $(grep -c refused model.out)))
	i=$((i + 1))
done

# The rounds exercise what they claim to: routes, refusals, and the
# driver itself refuses a malformed location and a malformed document.
test_ok "the rounds route locations ($routed routes)" test "$routed" -gt 1000
test_ok "the rounds refuse documents or acts ($refused)" test "$refused" -gt 0
cat >one.json <<'JSON'
{"plans": ["{\"format\":\"hlx-plan-1\"}"], "acts": [], "times": [0],
 "locations": ["UK/a1", "DE/a1"]}
JSON
printf 'doc 0 refused\n0\tUK/a1\terror\n0\tDE/a1\t-\t-\t-\t-\n' >want
"$driver" one.json >got
test_ok "a malformed document and location: refused by the C code" cmp want got
python3 "$model" route one.json >got
test_ok "and by the model" cmp want got

test_done
