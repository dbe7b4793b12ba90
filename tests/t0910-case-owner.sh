#!/bin/sh
# SPDX-License-Identifier: MIT
# The owner of a case (spec/cases.md, sections 4, 5 and 6.2): seeded random
# record sets (routes, withdrawals, reports, claims, renewals, releases,
# hand-offs, states) computed by the C code (protocol/caseown.c, through
# `test-case owner FILE`) and by an independent model written from the spec
# (tests/tools/case_owner.py, which replays every lapse one by one), at
# many times each: they must agree on owner, since, lease end, claimed or
# not, state and its time.  A model with one deliberate bug must disagree.
. "$(dirname "$0")/lib.sh"

SEED=${HLX_SEED:-910}
SETS=${HLX_CASE_SETS:-100}
echo "# seed $SEED, $SETS record sets"
model="python3 $HLX_TOP/tests/tools/case_owner.py"
drv=$HLX_BUILD/tests/test-case

compare() { # FIRST LAST: sets SEED*1000+FIRST .. SEED*1000+LAST agree
	i=$1
	while [ "$i" -le "$2" ]; do
		s=$((SEED * 1000 + i))
		$model gen "$s" >set-$s.txt || return 1
		$model owner set-$s.txt >py-$s.txt || return 1
		"$drv" owner set-$s.txt >c-$s.txt || return 1
		if ! cmp -s py-$s.txt c-$s.txt; then
			echo "record set $s (tests/tools/case_owner.py gen $s):"
			diff py-$s.txt c-$s.txt | head -n 8
			return 1
		fi
		rm -f set-$s.txt py-$s.txt c-$s.txt
		i=$((i + 1))
	done
}

step=25 first=1
while [ $first -le "$SETS" ]; do
	last=$((first + step - 1))
	[ $last -gt "$SETS" ] && last=$SETS
	test_ok "record sets $first..$last: the C owner equals the model's" \
		compare $first $last
	first=$((last + 1))
done

mutant() {
	d=0 i=1
	while [ $i -le 40 ]; do
		s=$((SEED * 1000 + i))
		$model gen "$s" >m.txt
		$model owner m.txt nocover >m-py.txt
		"$drv" owner m.txt >m-c.txt
		cmp -s m-py.txt m-c.txt || d=$((d + 1))
		i=$((i + 1))
	done
	echo "# the mutant differs on $d of 40 record sets"
	[ $d -gt 0 ]
}
test_ok "a model with a deliberate bug disagrees (the comparison can fail)" mutant

test_done
