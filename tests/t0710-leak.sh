#!/bin/sh
# SPDX-License-Identifier: MIT
# The randomised leak test of sharing policies: 100,000 random entries in 16
# lists and 10,000 status records, 1000 peers each under its own random
# policy.  For every peer and every list its policy gives, what hlx would
# publish to it (the same computation as publishing, through 'hlx policy
# check --digest': a count and an XOR of the SHA-256 of every line) must
# equal what an independent model in tests/t0710-leak.py derives from
# spec/policy.md: nothing more, nothing less.  t0700 checks that what a
# peer receives through its feed equals 'hlx policy check'.
. "$(dirname "$0")/lib.sh"

SEED=${HLX_SEED:-710}
echo "# seed $SEED"
py="$HLX_TOP/tests/t0710-leak.py"
hlx --home a init --org org-a --no-passphrase 2>/dev/null
hlx --home a key show --root >root.pub
hlx --home a key show --box >box.pub
mkdir -p gen && cp root.pub box.pub gen/
test_ok "generate the data, the policies and the peers (seed $SEED)" \
	sh -c "python3 '$py' gen $SEED a gen >gen.log && cat gen.log"
cat gen.log
ok=1
for f in gen/l*.csv; do
	l=$(basename "$f" .csv)
	hlx --home a list create "$l" 2>/dev/null &&
		hlx --home a import "$l" "$f" 2>/dev/null || ok=0
done
test_ok "import the 16 lists" test $ok = 1
test_ok "import the status records" hlx --home a status import gen/status.jsonl
test_ok "hlx computes every peer's view" \
	sh -c '"$HLX" --home a policy check --all --digest | sort >got'
test_ok "the model computes them independently" \
	sh -c "python3 '$py' want gen | sort >want"
test_ok "one row per peer and list given" test "$(wc -l <got)" -eq "$(wc -l <want)" -a "$(wc -l <got)" -gt 1000
test_cmp "every peer's view is exactly what its policy allows" want got
test_ok "views are neither all empty nor all full" sh -c '
	awk -F"\t" "\$3 < 100" got | grep -q . && awk -F"\t" "\$3 > 1000" got | grep -q .'

# the comparison sees content: a policy changed behind the model's back
# makes its peer's rows, and only those, differ
sed -i 's/"fields": \[[^]]*\]/"fields": ["category", "confidence", "first_seen", "tags"]/' a/policies/pol0007.json
sed -i 's/"fields": \[[^]]*\]/"fields": []/' a/policies/pol0008.json
hlx --home a policy check --all --digest | sort >got2
diff want got2 | grep '^>' | cut -f1 | sort -u | tr -d '> ' >changed
test_ok "changing what two policies keep changes what their peers get" \
	sh -c 'test "$(cat changed | tr "\n" " ")" = "p0007 p0008 " || { cat changed; false; }'
test_done
