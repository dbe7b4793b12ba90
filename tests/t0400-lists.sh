#!/bin/sh
# SPDX-License-Identifier: MIT
# Lists: create, add, retract, import, export, log, show, diff, lookup,
# fsck, reindex; every version verified by the real git.
. "$(dirname "$0")/lib.sh"

SEED=${HLX_SEED:-400}
echo "# seed $SEED"
h1=md5:$(rand_hex 16); h2=md5:$(rand_hex 16); h3=sha1:$(rand_hex 20)
p1=pdq:$(rand_hex 32)
hlx --home n init --org hotline-a --no-passphrase 2>/dev/null
H="--home n"

test_ok "create a list" hlx $H list create uk-a
test_fails_with "creating it twice is refused" 4 "exists already" hlx $H list create uk-a
test_fails_with "bad list name refused" 3 "list name 'UK A'" hlx $H list create "UK A"
test_fails_with "'status' is reserved for the status log" 3 "status set" hlx $H list create status
test_ok "list ls shows it at version 0" sh -c '"$HLX" --home n list ls | grep -q "^uk-a .* v0 "'
test_ok "list repo prints a bare repository" sh -c 'test -f "$("$HLX" --home n list repo uk-a)/HEAD"'
test_fails_with "unknown list" 4 "no such list 'nope'" hlx $H list repo nope

hlx $H list create one 2>/dev/null
test_ok "one entry added: the count says 'entry'" sh -c '
	"$HLX" --home n add one "$(echo "'"$h1"'")" 2>&1 | grep -q "^hlx: list .one. version 1: 1 added, .*; 1 entry$"'
test_ok "and so does list ls" sh -c '"$HLX" --home n list ls | grep -q "^one .* v1 .* 1 entry  "'
test_ok "and an import of one row" sh -c '
	printf "hash\n%s\n" "'"$h1"'" >one.csv &&
	"$HLX" --home n import one one.csv 2>&1 | grep -q "^hlx: read 1 row, 0 skipped$"'
test_ok "which leaves it unchanged at 1 entry" sh -c '
	"$HLX" --home n import one one.csv 2>&1 | grep -q "unchanged at version 1 (1 entry)$"'
test_ok "and so does its removal" sh -c '
	"$HLX" --home n list rm one 2>&1 | grep -q "^hlx: removed list .one.: 1 list with 1 entry, 0 views, "'
test_ok "add two hashes" hlx $H add uk-a "$h1" "$(echo "$h2" | tr a-f A-F)" --category csam-a --tag t1 --tag t2 --confidence 90
test_ok "add a pdq hash with first-seen" hlx $H add uk-a "$p1" --first-seen 2026-01-02T03:04:05Z
test_ok "version 2 now" sh -c '"$HLX" --home n list ls | grep -q "^uk-a .* v2 .* 3 entries"'
test_fails_with "bad hash names type and problem" 3 "md5 needs 32 hex digits" hlx $H add uk-a md5:1234
test_fails_with "bad category refused" 3 "category" hlx $H add uk-a "$h3" --category "Free text"
test_fails_with "unknown option is a usage error" 2 "" hlx $H add uk-a "$h3" --comment hello
test_ok "still version 2 after refusals" sh -c '"$HLX" --home n list ls | grep -q " v2 "'
test_ok "adding the same again makes no version" hlx $H add uk-a "$p1" --first-seen 2026-01-02T03:04:05Z
test_ok "still version 2" sh -c '"$HLX" --home n list ls | grep -q " v2 "'

hlx $H lookup "$h1" >out
test_ok "lookup finds h1 in uk-a version 2 with metadata" \
	grep -q "^$h1	uk-a	2	csam-a	-	90	t1,t2\$" out
test_ok "lookup of upper-case input" sh -c "\"\$HLX\" --home n lookup $(echo "$h2" | tr a-f A-F) | grep -q uk-a"
test_fails_with "lookup of an unknown hash exits 1" 1 "" hlx $H lookup "$h3"
printf '%s\n%s\n%s\n' "$h1" "$h3" "$p1" | hlx $H lookup --json - >out.json
test_ok "lookup from stdin, JSON" test "$(grep -c '"list":"uk-a"' out.json)" = 2
test_ok "JSON carries the entry" grep -q "\"hash\":\"$p1\"" out.json
test_fails_with "lookup stops at a bad line with its number" 3 "line 2" \
	sh -c "printf '%s\nmd5:zz\n' $h1 | \"\$HLX\" --home n lookup -"
printf '%s\nmd5:zz\n%s\n' "$h1" "$p1" >bad-in.txt
hlx $H lookup - <bad-in.txt >bad-out.txt 2>/dev/null
test_ok "the line before the bad one was answered, none after it" \
	sh -c "grep -q '^$h1	uk-a	' bad-out.txt && ! grep -q '^$p1	' bad-out.txt"
test_fails_with "add with nothing to add names the list" 2 \
	"^hlx: nothing to add to 'uk-a': give a TYPE:HASH or --url URL$" hlx $H add uk-a
test_fails_with "an invalid argument is named the same way" 3 "argument 2" \
	hlx $H lookup "$h1" md5:zz
test_ok "the arguments before it were answered too" \
	sh -c "\"\$HLX\" --home n lookup $h1 md5:zz 2>/dev/null | grep -q '^$h1	uk-a	'"

test_ok "retract h2" hlx $H retract uk-a "$h2" --reason false-positive
test_fails_with "h2 no longer found" 1 "" hlx $H lookup "$h2"
test_fails_with "retracting it again" 4 "not in list" hlx $H retract uk-a "$h2"
test_fails_with "free-text reason refused" 2 "reason" hlx $H retract uk-a "$h1" --reason "the victim asked"

# import
{
	echo "hash,category,first_seen,confidence,tags"
	for i in 1 2 3 4 5; do echo "md5:$(rand_hex 16),csam-b,2025-06-0${i}T00:00:00Z,$((i * 10)),bulk;x$i"; done
	echo "$h1,csam-a,,95,t3"
	echo "$h1,,2024-01-01T00:00:00Z,,t4"
} >good.csv
test_ok "import CSV" hlx $H import uk-a good.csv
test_ok "5 new, 1 changed: version 4 with 7 entries" sh -c '"$HLX" --home n list ls | grep -q "^uk-a .* v4 .* 7 entries"'
hlx $H lookup "$h1" >out
test_ok "import replaces metadata; duplicates merged: tags united, confidence max, first seen earliest" \
	grep -q "	csam-a	2024-01-01T00:00:00Z	95	t3,t4\$" out
cp good.csv bad.csv
echo "md5:$(rand_hex 16),csam-b,notatime,1," >>bad.csv
echo "sha1:$(rand_hex 16),,,," >>bad.csv
before=$(hlx $H list ls)
test_fails_with "invalid row stops the import with its line number" 3 "line 9" hlx $H import uk-a bad.csv
test_ok "and nothing was committed" test "$before" = "$(hlx $H list ls)"
hlx $H import uk-a bad.csv --skip-invalid 2>err
test_ok "--skip-invalid reports each skipped row" test "$(grep -c "^hlx: skipped 'bad.csv' line" err)" = 2
printf 'hash,comment\nmd5:%s,hello\n' "$(rand_hex 16)" >free.csv
test_fails_with "unknown column (free text) refused" 3 "unknown column 'comment'" hlx $H import uk-a free.csv
printf '{"hash":"sha256:%s","category":"csam-c","tags":["j1"]}\n' "$(rand_hex 32)" >good.jsonl
test_ok "import JSON Lines from stdin" sh -c '"$HLX" --home n import uk-a - --format jsonl <good.jsonl'
printf '{"hash":"sha256:%s","note":"x"}\n' "$(rand_hex 32)" >bad.jsonl
test_fails_with "JSON with an unknown field refused" 3 "note" hlx $H import uk-a bad.jsonl

# export, log, show, diff
hlx $H export uk-a >all.csv
test_ok "export has a header and every entry" test "$(wc -l <all.csv)" = "$(( $(hlx $H list ls | awk 'NR > 1 {print $4}') + 1 ))"
hlx $H export uk-a >all2.csv
test_cmp "export is stable" all.csv all2.csv
test_ok "export of version 1 has h1 and h2" sh -c '"$HLX" --home n export uk-a --version 1 | grep -c "^md5" | grep -qx 2'
hlx $H export uk-a --format jsonl >all.jsonl
test_ok "JSON Lines export" test "$(wc -l <all.jsonl)" = "$(( $(wc -l <all.csv) - 1 ))"
hlx --home n2 init --org hotline-b --no-passphrase 2>/dev/null
hlx --home n2 list create copy
hlx --home n2 import copy all.csv 2>/dev/null
test_ok "an export re-imports to the same content" sh -c '"$HLX" --home n2 export copy | cmp - all.csv'
test_ok "log lists every version newest first" sh -c '"$HLX" --home n log uk-a | head -n 1 | grep -q "^version 5 "'
test_ok "show the head" sh -c '"$HLX" --home n show uk-a | grep -q "good signature"'
test_ok "show version 1" sh -c '"$HLX" --home n show uk-a --version 1 | grep -q "^entries: *2$"'
hlx $H diff uk-a 2 3 >d
test_ok "diff shows the retraction" sh -c "grep -q '^-$h2' d && test \$(wc -l <d) = 1"
test_fails_with "diff with an unknown version" 4 "" hlx $H diff uk-a 1 99

# stock git verifies every version
repo=$(hlx $H list repo uk-a)
hlx $H key allowed-signers >allowed
git -C "$repo" -c gpg.format=ssh -c gpg.ssh.allowedSignersFile="$PWD/allowed" log --show-signature >gitlog 2>&1
test_ok "git log --show-signature: a good signature for every version" \
	test "$(grep -c 'Good "git" signature for hotline-a' gitlog)" = 5
test_ok "git fsck --strict" git -C "$repo" fsck --strict
hlx --home n2 key allowed-signers >allowed2
git -C "$repo" -c gpg.format=ssh -c gpg.ssh.allowedSignersFile="$PWD/allowed2" log --show-signature >gitlog2 2>&1
test_fails_ext "another organisation's allowed signers do not verify it" grep -q 'Good "git" signature for' gitlog2

# fsck and reindex
test_ok "fsck is clean" hlx $H fsck
test_ok "reindex rebuilds the state" hlx $H reindex uk-a
test_ok "fsck clean after reindex" hlx $H fsck uk-a
test_ok "lookup still works after reindex" hlx $H lookup "$h1"
cp -r n n-bad
bad=$(hlx --home n-bad list repo uk-a)
head5=$(git -C "$bad" rev-parse refs/heads/main)
git -C "$bad" update-ref refs/heads/main HEAD~2
test_ok "a ref a crash left behind: readers answer from the state" \
	sh -c '"$HLX" --home n-bad lookup '"$h1"' | grep -q "	uk-a	5	"'
test_ok "and the next writer moves it on" \
	sh -c '"$HLX" --home n-bad fsck && test "$(git -C '"$bad"' rev-parse refs/heads/main)" = '"$head5"
rogue=$(git -C "$bad" -c user.name=rogue -c user.email=rogue@example.invalid commit-tree "refs/heads/main^{tree}" -m rogue)
git -C "$bad" update-ref refs/heads/main "$rogue"
test_fails_with "a ref on a history that is not the state's is detected" 4 "disagree" \
	hlx --home n-bad lookup "$h1" --json
test_fails "reindex refuses a commit hlx did not make" hlx --home n-bad reindex uk-a
git -C "$bad" update-ref refs/heads/main "$head5"
test_ok "reindex rebuilds from the restored history" hlx --home n-bad reindex uk-a
test_fails_with "fsck reports the rogue commit left in the store" 1 "commit $rogue is not reachable" \
	hlx --home n-bad fsck
git -C "$bad" prune --expire=now
test_ok "then, pruned by git, fsck is clean" sh -c '"$HLX" --home n-bad fsck && "$HLX" --home n-bad list ls | grep -q " v5 "'

# A reader finds the state and the history agreeing by the branch's loose
# ref alone, without starting libgit2 (node/lists.c, loose_ref_is: its
# start was most of a lookup's time); a packed ref is read by libgit2, as
# git reads it.  (LD_DEBUG=bindings names each function the program binds
# as it first calls it.)
unset LD_BIND_NOW
LD_DEBUG=bindings "$HLX" --home n-bad lookup "$h1" >lk.out 2>lk.bind
test_ok "a lookup finds the entry" grep -q "^$h1	uk-a	" lk.out
test_ok "(LD_DEBUG names what the program binds)" grep -q "symbol .hlx_lookup_new\|symbol .mdb_env_open" lk.bind
test_fails_ext "... without starting libgit2, the ref agreeing" grep -q "symbol .git_libgit2_init" lk.bind
git -C "$bad" pack-refs --all
test_ok "the branch is packed" test ! -f "$bad/refs/heads/main"
LD_DEBUG=bindings "$HLX" --home n-bad lookup "$h1" >lk.out 2>lk.bind
test_ok "a lookup finds the entry" grep -q "^$h1	uk-a	" lk.out
test_ok "... through libgit2, which reads the packed ref" grep -q "symbol .git_libgit2_init" lk.bind
git -C "$bad" update-ref refs/heads/main "$head5~1"
test_ok "a loose ref one version behind the state (a writer between the two)" \
	test "$(cat "$bad/refs/heads/main")" = "$(git -C "$bad" rev-parse "$head5~1")"
LD_DEBUG=bindings "$HLX" --home n-bad lookup "$h1" >lk.out 2>lk.bind
test_ok "a lookup finds the entry" grep -q "^$h1	uk-a	" lk.out
test_ok "... through libgit2, which finds the state ahead by one version" \
	grep -q "symbol .git_libgit2_init" lk.bind

# hlx's histories are its own: a user's git settings are not read for
# them (libgit2 would refuse to make a repository under a broken one)
mkdir -p gh/.config/git
printf '[core\n\tbroken = \n' >gh/.gitconfig
cp gh/.gitconfig gh/.config/git/config
test_ok "a broken ~/.gitconfig does not stop a list being made" \
	env HOME="$PWD/gh" XDG_CONFIG_HOME="$PWD/gh/.config" "$HLX" --home n list create gitconfig-x
test_ok "... nor an entry being added to it" \
	env HOME="$PWD/gh" XDG_CONFIG_HOME="$PWD/gh/.config" "$HLX" --home n add gitconfig-x "md5:$(rand_hex 16)"

test_done
