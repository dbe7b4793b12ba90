#!/bin/sh
# SPDX-License-Identifier: MIT
# Raw URLs behind url-sha256 items: hlx add --url, hlx url show/ls, the box
# key (keys/box.key, hlx key show --box, hlx key box).  The raw URL, and its
# normalised form, must be nowhere in the node home in clear.
. "$(dirname "$0")/lib.sh"

SEED=${HLX_SEED:-720}
echo "# seed $SEED"
r1=$(rand_hex 8); r2=$(rand_hex 8); r3=$(rand_hex 8)
# synthetic URLs: random host labels and paths
raw1="HTTP://User:Secret$r1@Host-$r1.Example:80/p/./q$r1/../x?k=%7e$r1#frag$r1"
norm1="http://host-$r1.example/p/x?k=~$r1"
raw2="https://files-$r2.example.net/a%2fb/$r2.jpg"
norm2="https://files-$r2.example.net/a%2Fb/$r2.jpg"
printf 'a passphrase for urls\n' >pass
chmod 600 pass
printf 'not it\n' >wrong
chmod 600 wrong
hlx --home n init --org url-test --passphrase-file pass 2>/dev/null
H="--home n --passphrase-file pass"

# the box key
test_ok "init writes keys/box.key" test -f n/keys/box.key
test_ok "box.key is 0600" test "$(stat -c %a n/keys/box.key)" = 600
hlx --home n key show --box >box.pub 2>err
test_ok "key show --box needs no passphrase, prints hlx-box BASE64" \
	grep -Eq '^hlx-box [A-Za-z0-9+/]{43}=$' box.pub
test_ok "its base64 is 32 bytes" \
	test "$(cut -d' ' -f2 box.pub | base64 -d | wc -c)" = 32
test_ok "box key differs from the signing key" \
	test "$(cut -d' ' -f2 box.pub)" != "$(hlx --home n key show | cut -d' ' -f2)"
test_fails_with "key show --root --box is a usage error" 2 "box" \
	hlx --home n key show --root --box
test_fails_with "key box refuses when there is one" 4 "already has a box key" \
	hlx $H key box

test_ok "create a list" hlx $H list create web
hlx $H add web --url "$raw1" --url "$raw2" --tag reported >add.out 2>&1
test_ok "add two URLs" test $? = 0
test_ok "add's output does not show them" sh -c "! grep -qiF -e '$r1' -e '$r2' add.out"
test_ok "urls/ is 0700" test "$(stat -c %a n/urls)" = 700
test_ok "one file per URL, 0600" \
	test "$(find n/urls -type f -perm 600 | wc -l)" = 2 -a "$(find n/urls -type f | wc -l)" = 2

hlx --home n url ls >ls.out
test_ok "url ls lists two url-sha256 items" \
	test "$(grep -Ec '^url-sha256:[0-9a-f]{64}$' ls.out)" = 2 -a "$(wc -l <ls.out)" = 2
hlx --home n export web | tail -n +2 | cut -d, -f1 | sort >items.out
test_cmp "the list holds exactly those items" ls.out items.out
test_ok "export shows url-sha256 only" \
	sh -c "! \"\$HLX\" --home n export web | grep -qiF -e '$r1' -e '$r2' -e example"
hlx --home n lookup --json $(cat ls.out) >lookup.out
test_ok "lookup finds both" test "$(grep -c '"list":"web"' lookup.out)" = 2
test_ok "lookup shows no URL" sh -c "! grep -qiF -e '$r1' -e '$r2' -e example lookup.out"

item1=$(hlx --home n url ls | head -n 1)
hlx $H url show "$raw1" >show1.out
printf '%s\n' "$norm1" >want1
test_cmp "url show URL gives back the normalised URL" want1 show1.out
hlx $H url show "$norm2" >show2.out
printf '%s\n' "$norm2" >want2
test_cmp "url show of the normalised form finds it too" want2 show2.out
for i in $(cat ls.out); do hlx $H url show "$i"; done | sort >both.out
printf '%s\n%s\n' "$norm1" "$norm2" | sort >want.both
test_cmp "url show ITEM for each item" want.both both.out
test_ok "url show accepts upper-case hex" \
	sh -c "\"\$HLX\" --home n --passphrase-file pass url show url-sha256:$(echo "${item1#url-sha256:}" | tr a-f A-F)"

# nothing in clear anywhere in the home (lists, git objects, LMDB, urls/)
test_ok "the raw URL is nowhere in the home" sh -c "! grep -rasF -e '$raw1' -e '$raw2' n"
test_ok "the normalised URL is nowhere in the home" sh -c "! grep -rasF -e '$norm1' -e '$norm2' n"
test_ok "nor its random parts (host, path, userinfo)" \
	sh -c "! grep -rasiF -e '$r1' -e '$r2' n"
test_ok "nor the normalised form in the scratch directory's logs" \
	sh -c "! grep -rasF -e '$norm1' add.out ls.out items.out lookup.out"

# passphrase
hlx --home n --passphrase-file wrong url show "$item1" >wrong.out 2>wrong.err
test_ok "wrong passphrase: exit 5" test $? = 5
test_ok "wrong passphrase: nothing on standard output" test ! -s wrong.out
test_ok "wrong passphrase: says so" grep -q "wrong passphrase" wrong.err
test_ok "wrong passphrase: no URL in the error" sh -c "! grep -qiF '$r1' wrong.err"
test_fails_with "no passphrase and no terminal" 5 "passphrase" \
	setsid -w "$HLX" --home n url show "$item1"

# errors never quote the URL
hlx $H add web --url "http://secret-$r3.example/a b" >bad.out 2>&1
test_ok "invalid URL refused (exit 3)" test $? = 3
test_ok "its error says why" grep -q "control character or space" bad.out
test_ok "its error does not quote it" sh -c "! grep -qF '$r3' bad.out"
test_fails_with "ftp URL refused" 3 "only http and https" \
	hlx $H add web --url "ftp://x-$r3.example/"
test_ok "refused adds kept nothing" test "$(find n/urls -type f | wc -l)" = 2
test_ok "and made no version" sh -c '"$HLX" --home n list ls | grep -q "^web .* v1 "'
test_fails_with "url show of an unknown URL" 4 "no raw URL kept" \
	hlx $H url show "http://other-$r3.example/"
test_fails_with "url show of another hash type" 3 "url-sha256" \
	hlx $H url show "md5:$(rand_hex 16)"
test_fails_with "url show needs one argument" 2 "" hlx $H url show
test_fails_with "unknown url command" 2 "unknown url command" hlx $H url frob
test_fails_with "add without hash or --url" 2 "--url" hlx $H add web
test_ok "url --help" hlx url --help

# a sealed file is bound to its name: swapping two is detected
set -- $(cat ls.out)
f1=n/urls/${1#url-sha256:}; f2=n/urls/${2#url-sha256:}
cp "$f1" saved
cp "$f2" "$f1"
test_fails_with "a URL file copied over another fails (exit 1)" 1 "authenticate" \
	hlx $H url show "$1"
cp saved "$f1"
chmod 600 "$f1"
head -c 100 saved >"$f1"
test_fails_with "a truncated URL file fails" 1 "" hlx $H url show "$1"
cp saved "$f1"
test_ok "restored, it opens again" hlx $H url show "$1"

# box.key permissions
chmod 640 n/keys/box.key
test_fails_with "group-readable box.key refused by key show --box" 5 \
	"accessible by group or others" hlx --home n key show --box
test_fails_with "and by url show" 5 "accessible by group or others" \
	hlx $H url show "$1"
test_fails_with "and by add --url" 5 "accessible by group or others" \
	hlx $H add web --url "http://new-$r3.example/"
chmod 600 n/keys/box.key

# a home made before box keys
mv n/keys/box.key old.box
test_fails_with "no box key: key show --box says what to do" 4 "hlx key box" \
	hlx --home n key show --box
test_fails_with "no box key: add --url refused" 4 "hlx key box" \
	hlx $H add web --url "http://new-$r3.example/"
test_ok "and the list did not change" sh -c '"$HLX" --home n list ls | grep -q "^web .* v1 "'
test_fails_with "key box with a wrong passphrase" 5 "wrong passphrase" \
	hlx --home n --passphrase-file wrong key box
test_ok "made nothing" test ! -e n/keys/box.key
test_ok "key box with the right passphrase" hlx $H key box
test_ok "the new box.key is 0600" test "$(stat -c %a n/keys/box.key)" = 600
test_ok "and is a new key" sh -c "! \"\$HLX\" --home n key show --box | cmp -s - box.pub"
test_ok "add --url works again" hlx $H add web --url "http://new-$r3.example/"
test_ok "and url show opens the new one" \
	sh -c "\"\$HLX\" --home n --passphrase-file pass url show http://new-$r3.example/ | grep -qx 'http://new-$r3.example/'"
test_fails_with "the old URLs are sealed to the old key" 5 "not a recipient" \
	hlx $H url show "$raw1"

# unencrypted home
hlx --home u init --org plain --no-passphrase 2>/dev/null
test_ok "unencrypted home: add --url" sh -c \
	"\"\$HLX\" --home u list create w 2>/dev/null && \"\$HLX\" --home u add w --url http://u-$r3.example/"
test_ok "unencrypted home: url show without a passphrase" \
	sh -c "\"\$HLX\" --home u url show http://u-$r3.example/ | grep -qx 'http://u-$r3.example/'"
test_ok "unencrypted home: still not in clear" sh -c "! grep -rasF 'u-$r3' u"

# a retracted item's raw URL goes with it, unless another list holds it
hlx $H list create ret 2>/dev/null
hlx $H list create other 2>/dev/null
hlx $H add ret --url "http://gone-$r3.example/x" --url "http://kept-$r3.example/y" 2>/dev/null
g=$(hlx $H export ret | tail -n +2 | cut -d, -f1 | head -n 1)
k=$(hlx $H export ret | tail -n +2 | cut -d, -f1 | tail -n 1)
hlx $H add other "$k" 2>/dev/null
test_ok "retract both items of the list" hlx $H retract ret "$g" "$k" --reason false-positive
test_ok "the URL of the item no list holds is forgotten" test ! -e "n/urls/${g#url-sha256:}"
test_fails_with "url show says so" 4 "" hlx $H url show "$g"
test_ok "the one another list holds is kept" hlx $H url show "$k"
test_done
