#!/bin/sh
# SPDX-License-Identifier: MIT
# A hostile feed's bytes never reach the terminal raw: an error quoting a
# head (a JSON parser's "near '...'") shows control bytes as \xHH in the
# output of sync and of peer status, which keeps the last error.
. "$(dirname "$0")/lib.sh"

for x in a b; do hlx --home $x init --org org-$x --no-passphrase 2>/dev/null; done
hlx --home a list create uk-a 2>/dev/null
hlx --home a add uk-a "md5:$(rand_hex 16)" 2>/dev/null
hlx --home a publish --to "$TRASH/www" 2>/dev/null
hlx --home a key show --root >a-root.pub
hlx --home b peer add a --url "file://$TRASH/www/" --key a-root.pub 2>/dev/null
hlx --home b subscribe a uk-a
test_ok "B syncs" hlx --home b sync

# raw: no byte below 0x20 but newline, no DEL, no UTF-8 C1 control
raw_free() {
	! LC_ALL=C grep -q "$(printf '[\001-\011\013-\037\177]')" "$1" &&
	! LC_ALL=C grep -q "$(printf '\302[\200-\237]')" "$1"
}
n=0
for head in '{"body": \033[2J\033]0;owned\007}' '{"a": "b"}\033[31m' \
	    '\302\233[31m{' '{"body": "x", "signature": "y", "\177\033": 1}'; do
	n=$((n + 1))
	printf "$head" >www/lists/uk-a/head
	hlx --home b sync >sync.out 2>&1
	test_ok "head $n: sync says what failed" grep -q "cannot sync 'uk-a' of peer 'a'" sync.out
	test_ok "head $n: no raw control byte in sync's output" raw_free sync.out
	test_ok "head $n: the bytes are shown as \\xHH" grep -q '\\x' sync.out
	hlx --home b peer status >status.out 2>&1
	test_ok "head $n: peer status shows the error" grep -q "head: not a JSON object" status.out
	test_ok "head $n: no raw control byte in peer status" raw_free status.out
done

test_done
