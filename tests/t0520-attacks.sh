#!/bin/sh
# SPDX-License-Identifier: MIT
# The attack corpus: every forged, tampered, replayed, rolled-back, frozen,
# oversized, truncated or hanging feed is rejected with a clear error, and
# the subscriber's state (every LMDB record, every file of every list
# repository, every ref) is byte for byte what it was.
. "$(dirname "$0")/lib.sh"
. "$HLX_TOP/tests/lib-nginx.sh"

SEED=${HLX_SEED:-520}
echo "# seed $SEED"
for x in a b; do hlx --home $x init --org org-$x --no-passphrase 2>/dev/null; done
hlx --home evil init --org org-a --no-passphrase 2>/dev/null   # an impostor
hlx --home a list create uk-a 2>/dev/null
for v in 1 2; do hlx --home a add uk-a "md5:$(rand_hex 16)" 2>/dev/null; done
mkdir -p www
hlx --home a publish --to www/a 2>/dev/null
nginx_start www
hlx --home a key show --root >a-root.pub
hlx --home b peer add a --url "${NGINX_URL}a/" --key a-root.pub --ca "$NGINX_CA" 2>/dev/null
hlx --home b subscribe a uk-a
test_ok "B syncs version 2" hlx --home b sync
cp www/a/lists/uk-a/head head-v2
# A moves on to version 3; the pristine feed is kept to restore after each attack
hlx --home a add uk-a "md5:$(rand_hex 16)" "md5:$(rand_hex 16)" "md5:$(rand_hex 16)" 2>/dev/null
hlx --home a publish --to www/a 2>/dev/null
cp -r www/a pristine

snapshot() {
	{
		mdb_dump -a b/state
		find b/lists -type f | sort | xargs sha256sum
		for r in b/lists/*/*.git; do git -C "$r" for-each-ref; done
	} 2>&1 | sha256sum
}
# every restore or attack gives the head a new modification time, so the
# server's validators (ETag: time in seconds and size) always change
bump=10
restore() {
	rm -rf www/a && cp -r pristine www/a
	bump=$((bump + 10))
	touch -d "@$(( $(date +%s) + bump ))" www/a/lists/uk-a/head
}
# rejected DESC PATTERN: B's sync of peer a must fail with PATTERN and change
# nothing.
rejected() {
	# a new modification time, so that the server's validators change
	bump=$((bump + 10))
	touch -d "@$(( $(date +%s) + bump ))" www/a/lists/uk-a/head
	before=$(snapshot)
	test_fails_with "$1: rejected" 1 "$2" hlx --home b sync a
	test_ok "$1: state unchanged" test "$before" = "$(snapshot)"
	restore
}

body_of() { sed -n 's/^ "body": "\(.*\)",$/\1/p' "$1" | sed 's/\\"/"/g'; }
# forge HOME OUT SEDEXPR: a head whose body is the v3 body edited by SEDEXPR,
# signed by HOME's signing key.
forge() {
	body_of pristine/lists/uk-a/head | sed "$3" | tr -d '\n' >body
	"$HLX" --home "$1" sign -n hlx-head - <body >body.sig 2>/dev/null
	{
		printf '{"body": "%s", "signature": "' "$(sed 's/"/\\"/g' body)"
		awk '{ printf "%s\\n", $0 }' body.sig
		printf '"}\n'
	} >"$2"
}

forge a www/a/lists/uk-a/head 's/x/x/'
test_ok "a head rebuilt by this test is accepted as genuine (the forge works)" \
	sh -c 'cp -r b b-copy && "$HLX" --home b-copy sync a'
rm -rf b-copy
restore

sed -i 's/\\"version\\":3/\\"version\\":4/' www/a/lists/uk-a/head
rejected "a changed byte in the head" "signature"
sed -i 's/^\(  *"signature": "-----BEGIN SSH SIGNATURE-----\\n.\{40\}\)./\1A/' www/a/lists/uk-a/head
cmp -s www/a/lists/uk-a/head pristine/lists/uk-a/head && sed -i 's/^\(  *"signature": "-----BEGIN SSH SIGNATURE-----\\n.\{40\}\)./\1B/' www/a/lists/uk-a/head
rejected "a changed byte in the signature" "signature"
size=$(stat -c %s www/a/lists/uk-a/packs/3.pack)
printf '\377' | dd of=www/a/lists/uk-a/packs/3.pack bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
rejected "a changed byte in a pack" "pack"
# the trailer (the pack's checksum) is libgit2's to check, not the
# scanner's: the commits and the delta are checked from the objects in
# hand while the indexer still works, and its verdict must still count
size=$(stat -c %s www/a/lists/uk-a/packs/3.pack)
last=$(tail -c 1 www/a/lists/uk-a/packs/3.pack | od -An -tu1 | tr -d ' ')
printf "\\$(printf %o $(( (last + 1) % 256 )))" |
	dd of=www/a/lists/uk-a/packs/3.pack bs=1 seek=$((size - 1)) conv=notrunc 2>/dev/null
test_fails_ext "(the trailer's last byte was changed)" cmp -s www/a/lists/uk-a/packs/3.pack pristine/lists/uk-a/packs/3.pack
rejected "a changed byte in a pack's trailer" "trailer mismatch"
cp head-v2 www/a/lists/uk-a/head
test_ok "(the replayed old head is still validly signed)" true
hlx --home b sync a >/dev/null 2>&1 || true
restore
test_ok "B syncs version 3" hlx --home b sync a
cp head-v2 www/a/lists/uk-a/head
rejected "an older head replayed (rollback)" "rollback"

# from here on, forged heads for version 4 against B at version 3
hlx --home a add uk-a "md5:$(rand_hex 16)" 2>/dev/null
hlx --home a publish --to www/a 2>/dev/null
rm -rf pristine && cp -r www/a pristine
issued=$(body_of pristine/lists/uk-a/head | sed 's/.*"issued":"\([^"]*\)".*/\1/')
soon=$(date -u -d "$issued 1 second" +%Y-%m-%dT%H:%M:%SZ)
forge a www/a/lists/uk-a/head "s/\"expires\":\"[^\"]*\"/\"expires\":\"$soon\"/"
sleep 2
rejected "an expired head (freeze)" "expired"
forge b www/a/lists/uk-a/head 's/x/x/'
rejected "a head signed by an unknown key" "not delegated"
forge evil www/a/lists/uk-a/head 's/x/x/'
rejected "a head signed by a key another root delegated (same org name)" "not delegated"
cp -r a a-old
hlx --home a key rotate 2>/dev/null
hlx --home a key revoke "$(hlx --home a-old key ls | awk '/^signing/ {print $2; exit}')" 2>/dev/null
hlx --home a publish --to www/a 2>/dev/null
rm -rf pristine && cp -r www/a pristine
forge a-old www/a/lists/uk-a/head 's/x/x/'
rejected "a head signed by a revoked key" "revoked"
# a commit in the chain signed by the wrong key: the impostor's own
# history, announced by a head that A's genuine key signed
hlx --home evil list create uk-a 2>/dev/null
for v in 1 2 3 4; do hlx --home evil add uk-a "md5:$(rand_hex 16)" 2>/dev/null; done
hlx --home evil publish --to evil-www 2>/dev/null
cp evil-www/lists/uk-a/packs/4.pack www/a/lists/uk-a/packs/4.pack
evil4=$(git -C evil/lists/uk-a.git rev-parse main)
forge a www/a/lists/uk-a/head "s/\"commit\":\"[0-9a-f]*\"/\"commit\":\"$evil4\"/"
rejected "a commit in the chain signed by a wrong key" "not delegated"
forge a www/a/lists/uk-a/head "s/\"commit\":\"[0-9a-f]*\"/\"commit\":\"$(rand_hex 20)\"/"
rejected "a pack that does not contain the head's commit" "version 4"
awk 'NR == 1 { printf "%s", $0; for (i = 0; i < 20000; i++) printf " "; print ""; next } { print }' \
	pristine/lists/uk-a/head >www/a/lists/uk-a/head
rejected "an oversized head" "larger|too large|limit|at most"
head -c 200 pristine/lists/uk-a/head >www/a/lists/uk-a/head
rejected "a truncated head" "head"
head -c 100 pristine/lists/uk-a/packs/4.pack >www/a/lists/uk-a/packs/4.pack
rejected "a truncated pack" "pack"

# transport-level attacks, through their own peer entries
hlx --home b peer add trunc --url "${NGINX_URL}truncated/a/" --key a-root.pub --ca "$NGINX_CA" 2>/dev/null
hlx --home b subscribe trunc uk-a
before=$(snapshot)
test_fails "a response cut short by the server" hlx --home b sync trunc
test_ok "a response cut short: state unchanged" test "$before" = "$(snapshot)"
hlx --home b peer add hang --url "$NGINX_HANG_HTTP_URL" --key a-root.pub --ca "$NGINX_CA" 2>/dev/null
hlx --home b subscribe hang uk-a
t0=$(date +%s)
test_fails_with "a server that never answers times out" 1 "" env HLX_TIMEOUT=3 "$HLX" --home b sync hang
test_ok "within the timeout (took $(( $(date +%s) - t0 )) s)" test $(( $(date +%s) - t0 )) -le 10
test_ok "a hanging server: state unchanged" test "$before" = "$(snapshot)"
test_ok "after all that, the genuine feed still syncs" hlx --home b sync a
# a server that answers 304 for ever must not freeze us: the head verified
# last expires, and a 304 after that is an error
soon=$(date -u -d '+3 seconds' +%Y-%m-%dT%H:%M:%SZ)
forge a www/a/lists/uk-a/head "s/\"expires\":\"[^\"]*\"/\"expires\":\"$soon\"/"
touch -d "@$(( $(date +%s) + 500 ))" www/a/lists/uk-a/head
test_ok "a short-lived head of the version held is accepted" hlx --home b sync a
sleep 4
test_fails_with "304 Not Modified after the held head expired: rejected" 1 "not modified, but the head expired" hlx --home b sync a
restore
touch -d "@$(( $(date +%s) + 600 ))" www/a/lists/uk-a/head
test_ok "and fsck is clean" hlx --home b fsck

nginx_stop
test_done
