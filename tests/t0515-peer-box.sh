#!/bin/sh
# SPDX-License-Identifier: MIT
# peer add|set --box takes the box key itself or a file holding it (as
# the man page says), and refuses anything else.
. "$(dirname "$0")/lib.sh"

hlx --home a init --org hotline-a --no-passphrase 2>/dev/null
hlx --home b init --org hotline-b --no-passphrase 2>/dev/null
hlx --home b key show --root >b-root.pub
hlx --home b key show --box >b.box

test_ok "peer add --box FILE" sh -c '"$HLX" --home a peer add b --key b-root.pub --box b.box 2>add.err'
test_ok "a peer without a URL is said to have none yet" \
	grep -q "^hlx: added peer 'b' (no feed URL yet), root SHA256:" add.err
test_fails_with "unsubscribing from a list never subscribed says so in English" 4 \
	"^hlx: cannot unsubscribe from 'nope' of 'b': " hlx --home a unsubscribe b nope
test_ok "the box key is set" sh -c '"$HLX" --home a peer ls | grep -q "box: yes"'
test_ok "it is the key in the file" grep -qF "$(cat b.box)" a/peers.json
test_ok "peer set --box FILE" hlx --home a peer set b --box "$TRASH/b.box"
printf '%s\r\n' "$(cat b.box)" >b-crlf.box
test_ok "a file with CRLF" hlx --home a peer set b --box b-crlf.box
test_ok "peer set --box KEY (inline) still works" \
	hlx --home a peer set b --box "$(cat b.box)"
cp a/peers.json peers.before
test_fails_with "a missing file is refused, naming it" 4 "box key file 'nope.box'" \
	hlx --home a peer set b --box nope.box
printf 'hlx-box nonsense\n' >bad.box
test_fails_with "a file without a box key is refused" 3 "want 'hlx-box'" \
	hlx --home a peer set b --box bad.box
head -c 4096 /dev/zero | tr '\0' 'A' >big.box
test_fails_with "a large file is refused" 3 "" \
	hlx --home a peer set b --box big.box
test_cmp "and the peers are unchanged" peers.before a/peers.json
test_fails_with "add with a bad box file adds nothing" 3 "" \
	hlx --home a peer add c --key b-root.pub --box bad.box
test_cmp "nothing was added" peers.before a/peers.json

test_done
