#!/bin/sh
# SPDX-License-Identifier: MIT
# hlx lookup at scale: 300,000 queries from standard input (more than one
# batch) against two overlapping lists of every hash type must print
# exactly what an independent model (t0420-lookup.py) derives: every hit
# of every query, in input order, each query's lists in list order, the
# text as given lower-cased (long hashes shortened), repeated queries
# answered each time, blank lines skipped, CR LF accepted.  The JSON form
# gives the same hits in the same order.
. "$(dirname "$0")/lib.sh"

SEED=${HLX_SEED:-420}
echo "# seed $SEED"
mkdir gen
python3 "$HLX_TOP/tests/t0420-lookup.py" gen "$SEED" gen
hlx --home n init --org hotline-a --no-passphrase 2>/dev/null
hlx --home n list create a 2>/dev/null
hlx --home n list create b 2>/dev/null
test_ok "import the two lists" sh -c '"$HLX" --home n import a gen/a.csv && "$HLX" --home n import b gen/b.csv'
hlx --home n lookup - <gen/q.txt >out.txt
test_ok "lookup exits 0 when something is found" test $? = 0
test_cmp "the output is the model's, byte for byte, in input order" gen/want.txt out.txt
hlx --home n lookup --json - <gen/q.txt >out.json
test_ok "JSON: one object per hit" test "$(wc -l <out.json)" = "$(wc -l <gen/want.txt)"
sed 's/^{"list":"\([ab]\)".*"hash":"\([a-z0-9-]*:[0-9a-f]*\)".*/\2 \1/' out.json >json.pairs
awk -F'\t' '{ print $1, $2 }' gen/want.txt | sed 's/^\([^ ]*\)\.\.\. /\1 /' >want.pairs
# long hashes are shortened in text: compare their first 120 characters
awk '{ print substr($1, 1, 120), $2 }' json.pairs >json.short
awk '{ print substr($1, 1, 120), $2 }' want.pairs >want.short
test_cmp "JSON: the same hashes and lists in the same order" want.short json.short
test_fails_with "no hit at all exits 1" 1 "" \
	sh -c 'echo "md5:$(printf "%032d" 0)" | "$HLX" --home n lookup -'
echo "md5:$(printf "%032d" 0)" | hlx --home n lookup - >none.txt
test_ok "... and prints nothing" test ! -s none.txt
test_done
