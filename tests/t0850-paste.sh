#!/bin/sh
# SPDX-License-Identifier: MIT
# Issue 12, items 5 and 6: what operators found, and what people paste and
# type.  show verifies a peer's list against the peer's chain; status logs
# export as status import reads them; the man page and the code agree;
# times are labelled; a byte order mark, a bare hex hash, white space
# around keys and URLs, a lowercase country, a date alone, a missing home.
. "$(dirname "$0")/lib.sh"

SEED=${HLX_SEED:-850}
echo "# seed $SEED"
for x in a b c; do hlx --home $x init --org org-$x --no-passphrase 2>/dev/null; done
h1=md5:$(rand_hex 16); h2=sha256:$(rand_hex 32); h3=md5:$(rand_hex 16)
hlx --home a list create l1 2>/dev/null
hlx --home a add l1 "$h1" "$h2" 2>/dev/null
hlx --home a status set "$h1" --state removed --country DE 2>/dev/null
hlx --home a status set "$h2" --state reported 2>/dev/null
hlx --home a publish --to www/a 2>/dev/null
hlx --home c list create l1 2>/dev/null
hlx --home c add l1 "$h3" 2>/dev/null
hlx --home c publish --to www/c 2>/dev/null
hlx --home a key show --root >a.pub
hlx --home c key show --root >c.pub
hlx --home b peer add a --url "file://$PWD/www/a/" --key a.pub 2>/dev/null
hlx --home b peer add c --url "file://$PWD/www/c/" --key c.pub 2>/dev/null
for l in a/l1 a/status c/l1; do hlx --home b subscribe "${l%/*}" "${l#*/}" 2>/dev/null; done
test_ok "(setup) B syncs A's list and status log, and C's list" hlx --home b sync

# ---- 5: show checks a peer's list against the peer's chain ----
test_ok "show of a peer's list: good signature, against the peer's chain" \
	sh -c '"$HLX" --home b show a/l1 | grep -q "^signer: .*(good signature)$"'
test_ok "and fsck agrees" hlx --home b fsck a/l1
test_ok "show of our own list: good signature" \
	sh -c '"$HLX" --home a show l1 | grep -q "^signer: .*(good signature)$"'
# a forged mirror: C's history where A's should be (state rebuilt from it)
cp -r b bf
rm -rf bf/lists/a/l1.git && cp -r bf/lists/c/l1.git bf/lists/a/l1.git
hlx --home bf reindex a/l1 2>/dev/null
test_ok "a signer the peer's root did not delegate is still reported" \
	sh -c '"$HLX" --home bf show a/l1 | grep -q "^signer: .*is not delegated by the root of '"'org-a'"')$"'

# ---- 5: the two times of a version, labelled ----
test_ok "show labels the version's own time and the time of the peer's head" \
	sh -c '"$HLX" --home b show a/l1 >show.out &&
	grep -q "^time: .*Z (the version.s own, signed in its commit)$" show.out &&
	grep -q "^published: .*Z (the head .org-a. signed that this node took it from)$" show.out'
test_ok "list ls labels them too: published for a peer's, signed for ours" \
	sh -c '"$HLX" --home b list ls | grep -q "^a/l1 .* v1 .* entries  published 20" &&
	"$HLX" --home a list ls | grep -q "^l1 .* v1 .* entries  signed 20"'

# ---- 5: status logs export as status import reads them ----
test_ok "export of our status log" sh -c '"$HLX" --home a export status >own.jsonl'
test_ok "export of a peer's status log" sh -c '"$HLX" --home b export a/status >peer.jsonl'
test_ok "both are the same JSON Lines, one record a line" \
	sh -c 'cmp own.jsonl peer.jsonl && test "$(grep -c "^{.*\"item\":" own.jsonl)" = 2'
hlx --home d init --org org-d --no-passphrase 2>/dev/null
hlx --home e init --org org-e --no-passphrase 2>/dev/null
test_ok "a fresh node imports our export" hlx --home d status import own.jsonl
test_ok "and one imports the peer's" hlx --home e status import peer.jsonl
test_ok "the same statuses, item, country, state and times" sh -c '
	"$HLX" --home a status ls >a.ls && "$HLX" --home d status ls >d.ls &&
	"$HLX" --home e status ls >e.ls && cmp a.ls d.ls && cmp a.ls e.ls &&
	grep -q "^'"$h1"'	DE	removed	" d.ls'
test_fails_with "a status log as CSV is refused, naming what works" 2 "JSON Lines" \
	hlx --home a export status --format csv

# ---- 5: the match index's memory, one figure ----
rand_hex 160000 | fold -w 64 | sed 's/^/pdq:/' >pdq.txt
{ echo hash; cat pdq.txt; echo; } >pdq.csv
hlx --home m init --org org-m --no-passphrase 2>/dev/null
hlx --home m list create p 2>/dev/null
hlx --home m import p pdq.csv 2>/dev/null
# (the first status builds the base, and its tables are written with it
# and mapped; before issue 14 they were built by the first query)
test_ok "match status counts the search tables, mapped or not built yet" sh -c '
	"$HLX" --home m match status >ms.out &&
	grep -q "^search tables: *\(not built\|mapped from\)" ms.out &&
	mem=$(sed -n "s/^memory: *\([0-9.]* MiB\) .*/\1/p" ms.out) &&
	test -n "$mem" && test "$mem" != "0.0 MiB" &&
	head -n 1 pdq.txt | "$HLX" --home m match --stats - 2>st.err >/dev/null &&
	grep -q "5000 PDQ hashes .*, $mem, " st.err'

# ---- 5: no node home is exit 4, as hlx(1) says, naming --home first ----
test_fails_with "no HOME nor HLX_HOME: exit 4, names --home and HLX_HOME" 4 \
	"give --home DIR or set HLX_HOME" env -u HOME -u HLX_HOME "$HLX" list ls
test_fails_with "no ~/.hlx: exit 4, names --home and HLX_HOME first" 4 \
	"^hlx: no node home: give --home DIR or set HLX_HOME" hlx list ls
hlx --home "$HOME/.hlx" init --org org-h --no-passphrase 2>/dev/null
test_fails_with "--home '' is a usage error (exit 2), not ~/.hlx" 2 "--home: expected a directory" \
	hlx --home "" list ls
test_ok "(while ~/.hlx is a node home)" hlx list ls

# ---- 5: sign and verify take the long options hlx(1) lists ----
echo msg >msg
test_ok "sign --namespace" hlx --home a sign --namespace file msg
hlx --home a key show >a-sign.pub
test_ok "verify --namespace --key --signature" \
	hlx verify --namespace file --key a-sign.pub --signature msg.sig msg
for o in namespace principal signature; do
	test_ok "hlx(1) lists --$o" grep -q "\\\\-\\\\-$o" "$HLX_TOP/doc/hlx.1"
done
test_ok "hlx(1) no longer calls the match status reserved" \
	sh -c '! grep -q "null for now" "$HLX_TOP/doc/hlx.1"'

# ---- 6: a byte order mark before JSON Lines is skipped ----
hlx --home p init --org org-p --no-passphrase 2>/dev/null
hlx --home p list create l 2>/dev/null
b1=md5:$(rand_hex 16); b2=md5:$(rand_hex 16); b3=md5:$(rand_hex 16)
printf '\357\273\277{"hash":"%s","category":"c1"}\n' "$b1" >bom.jsonl
test_ok "import of JSON Lines that start with a byte order mark" hlx --home p import l bom.jsonl
test_ok "and its first row is there" sh -c '"$HLX" --home p lookup '"$b1"' | grep -q "	c1	"'
printf '\357\273\277{"hash":"%s"}\n' "$b2" >bom.txt
test_ok "the same with the format found from the first line" hlx --home p import l bom.txt
test_ok "and its row is there" hlx --home p lookup "$b2"
printf '\357\273\277%s\n' "$b2" >bom.q
test_ok "lookup of lines that start with one" hlx --home p lookup - <bom.q
{ printf '\357\273\277'; cat own.jsonl; } >bom-status.jsonl
hlx --home q init --org org-q --no-passphrase 2>/dev/null
test_ok "status import of a file that starts with one" hlx --home q status import bom-status.jsonl

# ---- 6: a bare hex hash names the types of its length ----
bare=$(rand_hex 16)
test_fails_with "add of a bare 32-digit hash: md5:...?" 3 "32 hex digits: md5:\.\.\.\?" \
	hlx --home p add l "$bare"
test_fails_with "lookup of a bare 64-digit hash: each type of that length" 3 \
	"64 hex digits: sha256:\.\.\., pdq:\.\.\., vpdq:\.\.\. or url-sha256:\.\.\.\?" \
	hlx --home p lookup "$(rand_hex 32)"
printf 'hash\n%s\n' "$bare" >bare.csv
test_fails_with "import of one, with its line" 3 "line 2: hash '$bare': .*md5:\.\.\.\?" \
	hlx --home p import l bare.csv
printf '{"hash":"%s"}\n' "$(rand_hex 20)" >bare.jsonl
test_fails_with "and from JSON Lines: sha1:...?" 3 "40 hex digits: sha1:\.\.\.\?" \
	hlx --home p import l bare.jsonl
test_ok "import --help shows a sample row of each format, and they import" sh -c '
	"$HLX" import --help >imp.help &&
	sed -n "s/^  \(hash,.*\)/\1/p; s/^  \(md5:.*\)/\1/p" imp.help >sample.csv &&
	sed -n "s/^  \({.*}\)$/\1/p" imp.help >sample.jsonl &&
	test "$(wc -l <sample.csv)" = 2 && test "$(wc -l <sample.jsonl)" = 1 &&
	"$HLX" --home p list create s1 && "$HLX" --home p import s1 sample.csv &&
	"$HLX" --home p list create s2 && "$HLX" --home p import s2 sample.jsonl &&
	"$HLX" --home p export s1 >s1.csv && "$HLX" --home p export s2 >s2.csv &&
	cmp s1.csv s2.csv && grep -q ",csam-a,,90,s1;v$" s1.csv'
test_ok "hlx(1) shows the sample rows too" \
	grep -q '^md5:00112233445566778899aabbccddeeff,csam\\-a,90,s1;v$' "$HLX_TOP/doc/hlx.1"

# ---- 6: keys and URLs as pasted: white space and line ends around them ----
hlx --home c key show --box >c.box
nl='
'
test_ok "peer add --key with spaces and a line end around the key line" \
	hlx --home p peer add t1 --key "  $(cat c.pub) $nl"
printf '\r\n  %s  \r\n\r\n' "$(cat c.pub)" >c-pasted.pub
printf '\n %s \r\n\n' "$(cat c.box)" >c-pasted.box
test_ok "a key file and a box key file with blank lines and CRs around" \
	hlx --home p peer add t2 --key c-pasted.pub --box c-pasted.box
test_ok "--url and --box with white space around" \
	hlx --home p peer add t3 --key c.pub --url "	file://$PWD/www/c/ $nl" --box " $(cat c.box)$nl"
test_ok "peer set --url the same" hlx --home p peer set t1 --url " https://feeds.example/t1/$nl"
test_ok "the URLs and keys are kept trimmed" sh -c '
	"$HLX" --home p peer ls >peers.out &&
	grep -q "^t3 .* file://'"$PWD"'/www/c/  lists:.* box: yes$" peers.out &&
	grep -q "^t1 .* https://feeds.example/t1/  lists:" peers.out &&
	grep -q "^t2 .* box: yes$" peers.out'
test_ok "and the peer whose URL came with a line end syncs" sh -c '
	"$HLX" --home p subscribe t3 l1 && "$HLX" --home p sync t3 &&
	"$HLX" --home p lookup '"$h3"
test_ok "verify -k with a key line pasted with a line end" \
	hlx verify -n file -k "$(cat a-sign.pub)$nl" -s msg.sig msg

# ---- 6: --country de means DE ----
test_ok "status set --country de" hlx --home p status set "$b1" --state removed --country de
test_ok "is recorded as DE" sh -c '"$HLX" --home p status ls | grep -q "^'"$b1"'	DE	removed	"'
test_fails_with "an unassigned code is still refused" 3 "" \
	hlx --home p status set "$b1" --state removed --country zz

# ---- 6: a date alone is the start of that day, UTC ----
cat >pol.json <<'EOF2'
{"format": "hlx-policy-1", "name": "all", "lists": ["*"], "fields": ["category"]}
EOF2
hlx --home p policy add pol.json 2>/dev/null
hlx --home p peer set t1 --policy all 2>/dev/null
hlx --home p publish --to www/p 2>/dev/null
today=$(date -u +%Y-%m-%d); tomorrow=$(date -u -d '+1 day' +%Y-%m-%d)
test_ok "(setup) the audit log has records of today" \
	sh -c 'test "$("$HLX" --home p audit --json | grep -c "\"time\":\"'"$today"'T")" -ge 1'
test_ok "audit --since TODAY: from the start of the day, every record of today" sh -c '
	"$HLX" --home p audit --json --since '"$today"' >since-day.out &&
	"$HLX" --home p audit --json --since '"$today"'T00:00:00Z >since-t.out &&
	"$HLX" --home p audit --json >all.out &&
	test -s since-day.out && cmp since-day.out since-t.out && cmp since-day.out all.out'
test_ok "audit --since TOMORROW: none" \
	sh -c 'test -z "$("$HLX" --home p audit --json --since '"$tomorrow"')"'
test_fails_with "a date that is no date is still a usage error" 2 "since" \
	hlx --home p audit --since 2026-13-45

test_done
