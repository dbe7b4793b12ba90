#!/bin/sh
# SPDX-License-Identifier: MIT
# hlx match: exact and PDQ near matches through the CLI with a real node
# home; JSON output, thresholds (override and per list), the index
# following new versions incrementally, allow-lists, invalid input, usage.
. "$(dirname "$0")/lib.sh"

SEED=${HLX_SEED:-600}
echo "# seed $SEED"
if ! "$HLX" match --help >/dev/null 2>&1; then
	echo "1..0 # SKIP this hlx has no 'match' command"
	exit 0
fi

# Flip the lowest bit of the first $2 hex digits of $1: exactly $2 bits.
flip() {
	if [ "$2" -eq 0 ]; then
		printf '%s' "$1"
		return
	fi
	printf '%s%s' "$(printf '%s' "$1" | cut -c1-"$2" |
		tr '0123456789abcdef' '1032547698badcfe')" \
		"$(printf '%s' "$1" | cut -c$(($2 + 1))-)"
}

hlx --home n init --org hotline-x --no-passphrase 2>/dev/null
H="--home n"
hlx $H list create l 2>/dev/null
hlx $H list create b 2>/dev/null
hlx $H list create ok 2>/dev/null

test_ok "match --help" sh -c '"$HLX" match --help | grep -q "^usage: hlx match"'

# Version 1 of l: random pdq hashes, and for each distance d in 0..32 a
# stored hash d bits from query q_d; exact types.
: >q.txt
{
	echo "hash,category"
	for i in $(seq 40); do echo "pdq:$(rand_hex 32),csam-b"; done
	for d in $(seq 0 32); do
		q=$(rand_hex 32)
		echo "pdq:$q" >>q.txt
		echo "pdq:$(flip "$q" "$d"),csam-a"
	done
} >l.csv
m1=$(rand_hex 16); s1=$(rand_hex 20); x1=$(rand_hex 32); u1=$(rand_hex 32)
printf 'md5:%s,csam-c\nsha1:%s,\nsha256:%s,csam-c\nurl-sha256:%s,csam-d\n' \
	"$m1" "$s1" "$x1" "$u1" >>l.csv
hlx $H import l l.csv 2>/dev/null

q() { sed -n "$(($1 + 1))p" q.txt; }      # query q_d
s() { grep "^$(echo "pdq:$(flip "$(q "$1" | cut -c5-)" "$1")")," l.csv | cut -d, -f1; }

test_ok "match the 33 planted queries" sh -c '"$HLX" --home n match q.txt >out.json'
test_ok "32 matches: distances 0 to 31" test "$(wc -l <out.json)" = 32
ok_all=1
for d in $(seq 0 31); do
	grep -q "^{\"query\":\"$(q "$d")\",\"match\":\"$(s "$d")\",\"distance\":$d,\"list\":\"l\",\"version\":1,\"origin\":\"hotline-x\",\"category\":\"csam-a\",\"status\":null}\$" out.json || ok_all=0
done
test_ok "each planted hash found at its distance, with list, version, origin, category, status" test $ok_all = 1
test_fails_with "distance 32 is not a match at the default threshold 31" 1 "" \
	hlx $H match - <<EOF
$(q 32)
EOF
if command -v python3 >/dev/null 2>&1; then
	test_ok "every line is a JSON object" python3 -c '
import json, sys
for l in open("out.json"):
    o = json.loads(l)
    assert set(o) == {"query", "match", "distance", "list", "version", "origin", "category", "status"}, o'
fi

printf 'MD5:%s\nsha1:%s\nsha256:%s\nurl-sha256:%s\nmd5:%s\n\n' "$(echo "$m1" | tr a-f A-F)" \
	"$s1" "$x1" "$u1" "$(rand_hex 16)" >exact.txt
hlx $H match exact.txt >out.json
test_ok "exact types: 4 matches (upper case accepted, blank line skipped)" test "$(wc -l <out.json)" = 4
test_ok "md5 reported in canonical form" grep -q "^{\"query\":\"md5:$m1\",\"match\":\"md5:$m1\",\"distance\":0," out.json
test_ok "absent category is null" grep -q "\"match\":\"sha1:$s1\".*\"category\":null" out.json
test_ok "url-sha256 matches" grep -q "\"match\":\"url-sha256:$u1\".*\"category\":\"csam-d\"" out.json

# thresholds
hlx $H match --threshold 10 q.txt >out.json
test_ok "--threshold 10: 11 matches" test "$(wc -l <out.json)" = 11
hlx $H match --threshold 32 q.txt >out.json
test_ok "--threshold 32: all 33" test "$(wc -l <out.json)" = 33
test_ok "config l --threshold 5" sh -c '"$HLX" --home n match config l --threshold 5 | grep -qx "l: threshold 5, not an allow-list"'
hlx $H match q.txt >out.json
test_ok "list l now matches up to 5 bits" test "$(wc -l <out.json)" = 6
test_ok "config shows it" sh -c '"$HLX" --home n match config l | grep -qx "l: threshold 5, not an allow-list"'
test_ok "config l --threshold default" hlx $H match config l --threshold default
hlx $H match q.txt >out.json
test_ok "back to 31" test "$(wc -l <out.json)" = 32

# a new version updates the index from its diff, without a rebuild
hlx $H match status >st
test_ok "status: up to date, 73 pdq hashes in the base" sh -c 'grep -q "^refresh: *up to date" st && grep -q "^base: *73$" st'
new=$(rand_hex 32)
hlx $H add l "pdq:$new" --category csam-z 2>/dev/null
hlx $H match status >st
test_ok "after a new version: incremental refresh" grep -q "^refresh: *incremental$" st
test_ok "one list changed, one diff line read, one pdq hash added" \
	sh -c 'grep -q "^lists changed: *1$" st && grep -q "^lines read: *1$" st && grep -q "^pdq added: *1$" st'
test_ok "the base was kept (73), the overlay holds the new hash" \
	sh -c 'grep -q "^base: *73$" st && grep -q "^overlay added: *1$" st && grep -q "^pdq hashes: *74$" st'
test_ok "the new hash matches, at version 2" sh -c "echo pdq:$new | \"\$HLX\" --home n match | grep -q '\"match\":\"pdq:$new\",\"distance\":0,\"list\":\"l\",\"version\":2,.*\"category\":\"csam-z\"'"
hlx $H retract l "$(s 3)" 2>/dev/null
hlx $H match status >st
test_ok "a retraction: one pdq hash removed incrementally" \
	sh -c 'grep -q "^refresh: *incremental$" st && grep -q "^pdq removed: *1$" st && grep -q "^overlay removed: *1$" st'
test_fails_with "the retracted hash no longer matches" 1 "" sh -c "q=\$(sed -n 4p q.txt); echo \$q | \"\$HLX\" --home n match --threshold 3"
test_ok "nothing changed: up to date" sh -c '"$HLX" --home n match status | grep -q "^refresh: *up to date"'

# a hash in two lists: one line each
printf 'hash,category\n%s,csam-b\n' "$(s 4)" >b.csv
hlx $H import b b.csv 2>/dev/null
test_ok "a hash in two lists gives two matches" sh -c "\"\$HLX\" --home n match - <<EOF | grep -c '\"distance\":4,' | grep -qx 2
$(q 4)
EOF"

# allow-lists
{
	echo "hash,category"
	echo "$(s 5),"                                # a listed hash itself
	echo "pdq:$(flip "$(q 20 | cut -c5-)" 2),"     # 2 bits from q_20 (s_20: 20)
	echo "pdq:$(flip "$(q 10 | cut -c5-)" 12),"    # 12 bits from q_10 (s_10: 10)
	echo "md5:$m1,"
} >ok.csv
hlx $H import ok ok.csv 2>/dev/null
printf '%s\n%s\n%s\nmd5:%s\n' "$(q 5)" "$(q 20)" "$(q 10)" "$m1" >allow.txt
hlx $H match allow.txt >out.json
test_ok "before 'ok' is an allow-list it matches like any list" test "$(grep -c '"list":"ok"' out.json)" = 4
test_ok "config ok --allow" sh -c '"$HLX" --home n match config ok --allow | grep -qx "ok: threshold 31, allow-list"'
hlx $H match allow.txt >out.json
test_ok "an allow-listed hash is never reported" sh -c '! grep -q "\"list\":\"ok\"" out.json'
test_ok "a listed hash that is also allow-listed is silent" sh -c "! grep -q '\"match\":\"$(s 5)\"' out.json"
test_ok "a query nearer an allow-listed hash (2) than the listed one (20) is silent for it" \
	sh -c "! grep -q '\"match\":\"$(s 20)\"' out.json"
test_ok "a query nearer the listed hash (10) than the allow-listed one (12) is reported" \
	grep -q "\"match\":\"$(s 10)\",\"distance\":10," out.json
test_ok "an allow-listed md5 is silent" sh -c "! grep -q 'md5:' out.json"
test_ok "allow-list threshold 1" hlx $H match config ok --threshold 1
hlx $H match allow.txt >out.json
test_ok "at threshold 1 the allow-listed hash 2 bits away no longer silences" \
	grep -q "\"match\":\"$(s 20)\",\"distance\":20," out.json
test_ok "but its own hashes stay silent" sh -c "! grep -q '\"match\":\"$(s 5)\"' out.json"
test_ok "config ok --no-allow" sh -c '"$HLX" --home n match config ok --no-allow | grep -q "not an allow-list"'

# invalid input
printf '%s\nmd5:zz\n%s\n' "$(q 0)" "$(q 1)" >bad.txt
test_fails_with "an invalid line stops with its number" 3 "'bad.txt' line 2: .*md5" hlx $H match bad.txt
hlx $H match bad.txt >out.json 2>/dev/null
test_ok "the lines before it are answered" test "$(wc -l <out.json)" = 1
test_fails_with "from standard input too" 3 "'-' line 2" sh -c '"$HLX" --home n match - <bad.txt'
test_ok "--skip-invalid goes on" sh -c '"$HLX" --home n match --skip-invalid bad.txt >out.json 2>err && test "$(wc -l <out.json)" = 2'
test_ok "and names the skipped line" grep -q "skipped 'bad.txt' line 2" err
awk 'BEGIN { printf "pdq:"; for (i = 0; i < 5000; i++) printf "a"; print "" }' >long.txt
test_fails_with "an over-long line is refused" 3 "line 1: line longer" hlx $H match long.txt
printf 'pdq:%s\n' "$(q 0 | cut -c5- | cut -c1-60)" >short.txt
test_fails_with "a short pdq hash is refused" 3 "line 1" hlx $H match short.txt
printf 'pdq: %s\n' "$(q 0 | cut -c5-)" >space.txt
test_fails_with "a space is refused" 3 "line 1" hlx $H match space.txt
test_fails_with "a missing file" 4 "cannot open 'nope.txt'" hlx $H match nope.txt

# usage
test_fails_with "two files" 2 "usage" hlx $H match q.txt q.txt
test_fails_with "--allow outside config" 2 "" hlx $H match --allow q.txt
test_fails_with "config without a list" 2 "" hlx $H match config
test_fails_with "config of an unknown list" 4 "no such list 'nope'" hlx $H match config nope --threshold 3
test_fails_with "threshold 64" 2 "--threshold: expected a distance 0..63, got '64'" hlx $H match --threshold 64 q.txt
test_fails_with "threshold not a number" 2 "--threshold: expected .*, got 'x'" hlx $H match --threshold x q.txt
test_fails_with "status takes no argument" 2 "" hlx $H match status x
test_fails_with "no node home" 4 "" hlx --home nohome match q.txt

# rebuild, damaged files
test_ok "rebuild builds afresh" sh -c '"$HLX" --home n match rebuild | grep -q "^refresh: *built afresh"'
hlx $H match q.txt >before.json
head -c 100 n/match/pdq.base >n/match/x && mv n/match/x n/match/pdq.base
hlx $H match q.txt >after.json 2>/dev/null
test_cmp "a damaged index is rebuilt: the same matches" before.json after.json
test_ok "--stats reports the figures" sh -c '"$HLX" --home n match --stats q.txt 2>&1 >/dev/null | grep -q "queries/s"'

# The index files are written only under the node's writer lock: a
# rebuild while another writer holds it answers from memory and writes
# nothing that writer could have removed in the meantime.
hlx $H match q.txt >before.json
rm -f n/match/pdq.base n/match/pdq.delta n/match/pdq.tables
rm -f release
flock n/lock sh -c 'i=0; while [ ! -e release ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done' &
fl=$!
i=0
while flock -n n/lock true 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
test_ok "another process holds the writer lock" sh -c '! flock -n n/lock true'
test_ok "match rebuild still runs" sh -c '"$HLX" --home n match rebuild >rebuild.out'
test_ok "and says it wrote nothing, and why" \
	grep -q "^note: .*index not written: another process holds the node's writer lock" rebuild.out
hlx $H match q.txt >locked.json
test_cmp "and match answers from memory: the same matches" before.json locked.json
test_ok "without the lock no index file is written" \
	sh -c 'test ! -e n/match/pdq.base && test ! -e n/match/pdq.delta'
touch release
wait $fl
hlx $H match q.txt >after.json
test_cmp "the lock free again: the same matches" before.json after.json
test_ok "and the index is written" test -s n/match/pdq.base

# An index that cannot be written (here a directory where pdq.base goes,
# which a rename cannot replace, even as root) is kept in memory: matching
# goes on, and the status says why nothing was written.
rm -f n/match/pdq.base n/match/pdq.delta n/match/pdq.tables
mkdir n/match/pdq.base
test_ok "an index that cannot be written: match still answers" \
	sh -c '"$HLX" --home n match q.txt >unwritten.json'
test_cmp "the same matches" before.json unwritten.json
test_ok "match status says it was kept in memory" \
	sh -c '"$HLX" --home n match status | grep -q "^note: *pdq.base not written, kept in memory"'
test_ok "so does a rebuild, after its own note" \
	sh -c '"$HLX" --home n match rebuild | grep -q "^note: *rebuild asked for; pdq.base not written, kept in memory"'
rmdir n/match/pdq.base

# A base too small for search tables leaves no tables of an older base
# behind (they would hold hashes the lists no longer do).
hlx $H list create big 2>/dev/null
{
	echo "hash,category"
	openssl rand -hex $((2100 * 32)) | fold -w 64 | sed 's/^/pdq:/;s/$/,csam-b/'
} >big.csv
hlx $H import big big.csv 2>/dev/null
test_ok "2,100 more hashes: the rebuilt base has search tables" \
	sh -c '"$HLX" --home n match rebuild >/dev/null && test -s n/match/pdq.tables'
hlx $H retract big $(sed -n '2,2001p' big.csv | cut -d, -f1) 2>/dev/null
test_ok "2,000 of them retracted: rebuilt" sh -c '"$HLX" --home n match rebuild >/dev/null'
test_ok "the old base's search tables are gone" test ! -e n/match/pdq.tables
test_ok "a retracted hash no longer matches, a kept one does" sh -c "
	sed -n 2p big.csv | cut -d, -f1 | \"\$HLX\" --home n match >r.json; test ! -s r.json &&
	sed -n 2101p big.csv | cut -d, -f1 | \"\$HLX\" --home n match | grep -q '\"distance\":0,'"

# A rebuild writes its files unnamed (O_TMPFILE) before it takes the
# writer lock, and holds the lock only to put them in place.  While it
# writes, it holds a descriptor of a file in match/ (/proc shows an
# unnamed one as "match/#N (deleted)", a named one by its name):
# writing() waits for that, or for the rebuild to end (then 1).
{
	echo "hash,category"
	openssl rand -hex $((200000 * 32)) | fold -w 64 | sed 's/^/pdq:/;s/$/,csam-b/'
} >more.csv
hlx $H import big more.csv 2>/dev/null
writing() {
	while kill -0 "$1" 2>/dev/null; do
		ls -l "/proc/$1/fd" 2>/dev/null | grep -q "/match/#\|/match/.*\.tmp" && return 0
		sleep 0.005
	done
	return 1
}
scan() { # no file of match/ holds the bytes of a hash of removed.hex
	python3 -c '
import os, sys
hs = [bytes.fromhex(l.strip()) for l in open("removed.hex") if l.strip()]
for f in os.listdir("n/match"):
    try:
        b = open(os.path.join("n/match", f), "rb").read()
    except FileNotFoundError:
        continue
    for h in hs:
        if h in b:
            sys.exit("%s holds %s" % (f, h.hex()))'
}
unnamed=1
python3 -c 'import os; os.close(os.open("n/match", os.O_TMPFILE | os.O_RDWR, 0o600))' 2>/dev/null || unnamed=0
if [ $unnamed = 0 ]; then
	echo "# this file system has no unnamed files (O_TMPFILE): the tests of writing them without the lock are left out"
else

# While it writes, no name of the new files is in match/, and a writer
# coming then gets the lock at once; the rebuild, finding it taken, keeps
# its index in memory.  (When the lock was taken first, the files were
# written under it, under temporary names.)  Up to 3 tries, in case this
# shell is too slow for the writing.
for try in 1 2 3; do
	rm -f got release rb.out names
	"$HLX" --home n match rebuild >rb.out 2>&1 &
	rb=$!
	if writing $rb; then
		ls n/match >names
		flock -n n/lock sh -c 'touch got; i=0; while [ ! -e release ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done' &
		fl=$!
	fi
	wait $rb
	touch release
	wait $fl 2>/dev/null
	[ -e got ] && grep -q "another process holds" rb.out && break
	echo "# try $try: the writer did not get the lock while the files were written"
done
test_ok "while a rebuild writes its files, match/ holds no name of them" \
	sh -c 'test -s names && ! grep -v "^pdq\.base$\|^pdq\.delta$\|^pdq\.tables$\|^config\.json$" names'
test_ok "a writer coming then gets the lock" test -e got
test_ok "and the rebuild, finding it taken, wrote nothing, and says why" \
	grep -q "^note: .*index not written: another process holds the node's writer lock" rb.out
test_ok "it left no file behind" sh -c '! ls n/match | grep -q "\.tmp"'
test_ok "the next match writes the index" sh -c '
	sed -n 2p more.csv | cut -d, -f1 | "$HLX" --home n match >r.json &&
	grep -q "\"distance\":0," r.json && test -s n/match/pdq.base && test -s n/match/pdq.tables'

# A rebuild killed while it writes leaves nothing of its files: an
# unnamed file goes with its writer.  (A temporary name stayed, with every
# hash, until a matcher an hour later removed it.)  A kill that came too
# late (in the renames, under the lock) is tried again.
killed=0
for try in 1 2 3; do
	ls n/match >before.names
	ino=$(stat -c %i n/match/pdq.base)
	"$HLX" --home n match rebuild >/dev/null 2>&1 &
	rb=$!
	st=0
	writing $rb && kill -9 $rb
	wait $rb 2>/dev/null || st=$?
	ls n/match >after.names
	[ $st = 137 ] && [ "$(stat -c %i n/match/pdq.base)" = "$ino" ] &&
		! grep -q "\.tmp" after.names && killed=1 && break
	echo "# try $try: the rebuild was not killed while it wrote (exit $st)"
	ls n/match | grep "\.tmp" | sed 's|^|n/match/|' | xargs rm -f
done
test_ok "a rebuild killed while it writes its files" test $killed = 1
test_cmp "leaves match/ as it was" before.names after.names

# A list removed while a rebuild writes its files: the rebuild finds the
# lists changed once it has the lock and puts nothing in place, and none
# of the removed list's hashes is in match/ from the moment the removal
# returns (raw bytes searched while the rebuild goes on, and after).
# (When the lock was taken first, the lists were checked before the
# writing, and the removal had to wait.)  Up to 8 tries, each with a list
# of its own, in case the removal still holds the lock when the rebuild
# wants it (under the sanitizers, one try in two or three).
: >removed.hex
for try in 1 2 3 4 5 6 7 8; do
	hlx $H list create "gone$try" 2>/dev/null
	hx=$(rand_hex 32)
	echo "$hx" >>removed.hex
	hlx $H add "gone$try" "pdq:$hx" 2>/dev/null
	rm -f rb.out
	: >scan.out
	"$HLX" --home n match rebuild >rb.out 2>&1 &
	rb=$!
	# (the removal may exit 4: removed, but the state, which the
	# rebuild has open, is compacted by the next command)
	if writing $rb; then
		hlx $H list rm "gone$try" >/dev/null 2>&1
		while kill -0 $rb 2>/dev/null; do scan >>scan.out 2>&1; done
	fi
	wait $rb
	scan >>scan.out 2>&1
	grep -q "the lists changed while it was read" rb.out && break
	echo "# try $try: the removal did not fall between the writing and the renames"
	hlx $H list ls | grep -q "^gone$try " && hlx $H list rm "gone$try" >/dev/null 2>&1
done
test_ok "a list removed while a rebuild writes its files: nothing put in place" \
	grep -q "^note: .*index not written: the lists changed while it was read (kept in memory)" rb.out
test_ok "from the removal on, no file of match/ held its hashes" sh -c 'cat scan.out; test ! -s scan.out'
test_ok "the removed lists' hashes match nothing" sh -c '
	sed "s/^/pdq:/" removed.hex | "$HLX" --home n match >r.json; test $? -eq 1 && test ! -s r.json'
test_ok "a kept hash matches" sh -c '
	sed -n 2p more.csv | cut -d, -f1 | "$HLX" --home n match | grep -q "\"distance\":0,"'
fi

# On a file system without unnamed files (NFS; here every open with
# O_TMPFILE fails, through tests/tools/no-tmpfile.c preloaded), a rebuild
# takes the lock and checks the lists first, then writes named temporary
# files under it: the index is written, whole, and while a named file is
# there the lock is held.  Up to 3 tries, in case this shell is too slow
# for the writing.
shim=$HLX_BUILD/tests/no-tmpfile.so
test_ok "the shim is built (make units)" test -f "$shim"
preload() { # run "$@" in the background with the shim, as $rb
	(LD_PRELOAD=$shim ASAN_OPTIONS=$ASAN_OPTIONS:verify_asan_link_order=0 \
		exec "$@" >rb.out 2>&1) &
	rb=$!
}
for try in 1 2 3; do
	rm -f rb.out held names
	ino=$(stat -c %i n/match/pdq.base)
	preload "$HLX" --home n match rebuild
	if writing $rb; then
		ls n/match >names
		flock -n n/lock true 2>/dev/null
		[ $? = 1 ] && touch held
	fi
	wait $rb
	[ -e held ] && break
	echo "# try $try: the rebuild was not seen holding the lock while it wrote"
done
test_ok "without unnamed files a rebuild writes named temporaries" grep -q "^pdq\.base\.tmp\|^pdq\.tables\.tmp" names
test_ok "while it holds the writer lock" test -e held
test_ok "and says nothing was kept in memory" sh -c '! grep -q "not written" rb.out'
test_ok "the index is written" sh -c 'test "$(stat -c %i n/match/pdq.base)" != '"$ino"' && test -s n/match/pdq.tables'
test_ok "no temporary left" sh -c '! ls n/match | grep -q "\.tmp"'
test_ok "and a kept hash matches" sh -c '
	sed -n 2p more.csv | cut -d, -f1 | "$HLX" --home n match | grep -q "\"distance\":0,"'

# Unnamed files that cannot be linked in (no /proc, no capability for
# AT_EMPTY_PATH: NO_LINK=1 to the shim) are copied to a temporary name
# under the lock, and the index is still written.
if [ $unnamed = 1 ]; then
	ino=$(stat -c %i n/match/pdq.base)
	rm -f refused
	preload env NO_LINK=1 NO_LINK_MARK="$PWD/refused" "$HLX" --home n match rebuild
	st=0
	wait $rb || st=$?
	test_ok "the rebuild tried to link its files in, and was refused" test -e refused
	test_ok "unnamed files that cannot be linked in: the index is written" \
		sh -c 'test '$st' = 0 && ! grep -q "not written" rb.out && test "$(stat -c %i n/match/pdq.base)" != '"$ino"' && test -s n/match/pdq.tables'
	test_ok "no temporary left" sh -c '! ls n/match | grep -q "\.tmp"'
	test_ok "and a new matcher loads it: a kept hash matches" sh -c '
		sed -n 2p more.csv | cut -d, -f1 | "$HLX" --home n match | grep -q "\"distance\":0,"'
fi

test_done
