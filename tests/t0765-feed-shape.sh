#!/bin/sh
# SPDX-License-Identifier: MIT
# The shape of what a feed sends (spec/sync.md 5.2 step 9), behind genuine
# signatures: versions whose commits the publisher really signed, but
# whose trees break lists.md section 5 (a shard out of order, a line in
# the wrong shard or twice, a line that does not decode, a file outside
# the layout, an empty shard) are refused, one version ahead or several,
# and the subscriber's state stays byte for byte what it was.  A version
# forged the same way with a sound tree is taken (the forge works), and
# its state matches the history line for line.
. "$(dirname "$0")/lib.sh"

SEED=${HLX_SEED:-765}
echo "# seed $SEED"
for x in a b; do hlx --home $x init --org org-$x --no-passphrase 2>/dev/null; done
hlx --home a list create uk-a 2>/dev/null
# two entries in one shard (md5/ab/cd), others elsewhere
p1=md5:abcd0$(rand_hex 13)1
p2=md5:abcd8$(rand_hex 13)2
hlx --home a add uk-a "$p1" "$p2" "md5:$(rand_hex 16)" "sha256:$(rand_hex 32)" 2>/dev/null
hlx --home a publish --to www/a 2>/dev/null
hlx --home a key show --root >a-root.pub
hlx --home b peer add a --url "file://$PWD/www/a/" --key a-root.pub 2>/dev/null
hlx --home b subscribe a uk-a 2>/dev/null
test_ok "(setup) B syncs version 1" hlx --home b sync a
hlx --home a add uk-a "md5:abcd4$(rand_hex 13)3" "md5:$(rand_hex 16)" 2>/dev/null
hlx --home a add uk-a "md5:$(rand_hex 16)" 2>/dev/null
hlx --home a publish --to www/a 2>/dev/null
cp -r www/a pristine
git clone -q --bare a/lists/uk-a.git forge.git
G() { git -C forge.git "$@"; }
v1=$(G rev-parse refs/heads/main~2)
v2=$(G rev-parse refs/heads/main~1)
v3=$(G rev-parse refs/heads/main)

snapshot() {
	{
		mdb_dump -a b/state
		(cd b && find lists peers -type f ! -name '*.sync' | sort | xargs sha256sum)
		for r in b/lists/*/*.git; do git -C "$r" for-each-ref; done
	} 2>&1 | sha256sum
}

# edit TREE PATH FILE: TREE with PATH's blob replaced by FILE's bytes
# (FILE "-": PATH removed)
edit() {
	rm -f fidx
	GIT_INDEX_FILE=$PWD/fidx G read-tree "$1"
	if [ "$3" = - ]; then
		GIT_INDEX_FILE=$PWD/fidx G update-index --force-remove "$2"
	else
		GIT_INDEX_FILE=$PWD/fidx G update-index --add --cacheinfo \
			"100644,$(G hash-object -w "$PWD/$3"),$2"
	fi
	GIT_INDEX_FILE=$PWD/fidx G write-tree
}
# resign COMMIT TREE PARENT: COMMIT (its message, author and times) with
# TREE and PARENT, signed by A's signing key as hlx signs versions
resign() {
	G cat-file commit "$1" | awk -v t="$2" -v p="$3" '
		/^gpgsig / { sig = 1; next }
		sig && /^ / { next }
		{ sig = 0 }
		/^tree / { print "tree " t; next }
		/^parent / { print "parent " p; next }
		{ print }' >raw
	"$HLX" --home a sign -n git - <raw >raw.sig 2>/dev/null
	awk 'NR == FNR { s = s (FNR == 1 ? "" : "\n ") $0; next }
	     { print } /^committer / && !done { print "gpgsig " s; done = 1 }' \
		raw.sig raw >signed
	G hash-object -t commit -w "$PWD/signed"
}
# mkhead COMMIT VERSION: the feed's head names COMMIT, signed by A
mkhead() {
	sed -n 's/^ "body": "\(.*\)",$/\1/p' pristine/lists/uk-a/head | sed 's/\\"/"/g' |
		sed "s/\"commit\":\"[0-9a-f]*\"/\"commit\":\"$1\"/;s/\"version\":[0-9]*/\"version\":$2/" |
		tr -d '\n' >body
	"$HLX" --home a sign -n hlx-head - <body >body.sig 2>/dev/null
	{
		printf '{"body": "%s", "signature": "' "$(sed 's/"/\\"/g' body)"
		awk '{ printf "%s\\n", $0 }' body.sig
		printf '"}\n'
	} >www/a/lists/uk-a/head
}
# feed TOP: the feed of TOP's history above v1 (one pack a version), its
# head naming TOP
feed() {
	rm -rf www/a && cp -r pristine www/a
	rm -f www/a/lists/uk-a/packs/2.pack www/a/lists/uk-a/packs/3.pack
	n=2
	for c in $(G rev-list --reverse "$1" "^$v1"); do
		printf '%s\n^%s^\n' "$c" "$c" |
			G pack-objects -q --revs --stdout --window=0 >www/a/lists/uk-a/packs/$n.pack
		n=$((n + 1))
	done
	mkhead "$1" $((n - 1))
}
# refused DESC PATTERN TOP
refused() {
	feed "$3"
	before=$(snapshot)
	test_fails_with "$1: refused" 1 "$2" hlx --home b sync a
	test_ok "$1: state unchanged" test "$before" = "$(snapshot)"
}

t2=$(G rev-parse "$v2^{tree}")
shard=md5/ab/cd
G cat-file blob "$v2:$shard" >good
test_ok "(the shard holds three lines)" test "$(grep -c '' good)" = 3
# the forge works: a sound tree of our own, one line more
cp good more; printf 'md5:abcdf%s4\tcsam\t-\t-\t-\n' "$(rand_hex 13)" >>more
ok2=$(resign "$v2" "$(edit "$t2" $shard more)" "$v1")
feed "$ok2"
cp -r b b-copy
test_ok "a version this test signed with a sound tree is taken (the forge works)" \
	hlx --home b-copy sync a
test_ok "(and its state is its history)" sh -c \
	'"$HLX" --home b-copy export a/uk-a | tail -n +2 | cut -d, -f1 | sort >got &&
	 git -C b-copy/lists/a/uk-a.git ls-tree -r --name-only refs/heads/main |
	 while read f; do git -C b-copy/lists/a/uk-a.git cat-file blob "refs/heads/main:$f"; done |
	 cut -f1 | sort >want && cmp -s got want && test "$(grep -c "" got)" = 7'
rm -rf b-copy

{ sed -n 2p good; sed -n 1p good; sed -n 3p good; } >swapped
refused "a shard out of order" "not after the previous line" \
	"$(resign "$v2" "$(edit "$t2" $shard swapped)" "$v1")"
sed -n '1p;1p;2p;3p' good >twice
refused "a line twice" "not after the previous line" \
	"$(resign "$v2" "$(edit "$t2" $shard twice)" "$v1")"
{ cat good; printf 'md5:ffff%s\tcsam\t-\t-\t-\n' "$(rand_hex 14)"; } >wrong
refused "a line in the wrong shard" "wrong shard" \
	"$(resign "$v2" "$(edit "$t2" $shard wrong)" "$v1")"
{ cat good; printf 'md5:abcdf%s5\tcs am\t-\t-\t-\n' "$(rand_hex 13)"; } >bad
refused "a line that does not decode" "shard 'md5/ab/cd'" \
	"$(resign "$v2" "$(edit "$t2" $shard bad)" "$v1")"
printf 'hello\n' >readme
refused "a file outside the layout" "not a hash type name" \
	"$(resign "$v2" "$(edit "$t2" README readme)" "$v1")"
: >empty
refused "an empty shard" "shard is empty" \
	"$(resign "$v2" "$(edit "$t2" $shard empty)" "$v1")"
# several versions at once: a bad version 2 under a sound version 3
bad2=$(resign "$v2" "$(edit "$t2" $shard swapped)" "$v1")
refused "a bad version under a sound one" "version 2 .*not after the previous line" \
	"$(resign "$v3" "$(G rev-parse "$v3^{tree}")" "$bad2")"
# and a sound version 2 under a bad version 3
t3=$(G rev-parse "$v3^{tree}")
G cat-file blob "$v3:$shard" >good3
{ sed -n 2p good3; sed -n 1p good3; sed -n 3p good3; } >swapped3
refused "a bad version over a sound one" "version 3 .*not after the previous line" \
	"$(resign "$v3" "$(edit "$t3" $shard swapped3)" "$v2")"

rm -rf www/a && cp -r pristine www/a
test_ok "the genuine feed still syncs" hlx --home b sync a
test_ok "(at version 3)" sh -c '"$HLX" --home b list ls | grep -q "^a/uk-a .* v3 "'
test_ok "fsck is clean" hlx --home b fsck

test_done
