#!/bin/sh
# SPDX-License-Identifier: MIT
# A federation of three nodes through a real nginx over HTTPS with a test
# CA: hotline A publishes, hotline B and company C subscribe; additions and
# retractions reach both; status records flow back from C to A; idle polls
# are conditional; hlx run propagates and stops cleanly on SIGTERM.
. "$(dirname "$0")/lib.sh"
. "$HLX_TOP/tests/lib-nginx.sh"

SEED=${HLX_SEED:-510}
echo "# seed $SEED"
for x in a b c; do hlx --home $x init --org org-$x --no-passphrase 2>/dev/null; done
h1=md5:$(rand_hex 16); h2=md5:$(rand_hex 16); p1=pdq:$(rand_hex 32)
hlx --home a list create uk-a 2>/dev/null
hlx --home a add uk-a "$h1" "$h2" --category csam-a 2>/dev/null
hlx --home a add uk-a "$p1" --category csam-b 2>/dev/null
mkdir -p www
test_ok "A publishes into the web root" hlx --home a publish --to www/a
test_ok "the feed has the trust chain, a head and one pack a version" \
	test -f www/a/trust.json -a -f www/a/lists/uk-a/head -a -f www/a/lists/uk-a/packs/1.pack -a -f www/a/lists/uk-a/packs/2.pack
nginx_start www
hlx --home a key show --root >a-root.pub
for x in b c; do
	test_ok "$x pins A's root and subscribes" sh -c "\"\$HLX\" --home $x peer add a --url '${NGINX_URL}a/' --key a-root.pub --ca '$NGINX_CA' && \"\$HLX\" --home $x subscribe a uk-a"
	test_ok "$x syncs over HTTPS" hlx --home $x sync
	test_ok "$x finds A's hash" sh -c "\"\$HLX\" --home $x lookup $h1 | grep -q '	a/uk-a	2	csam-a'"
done
# libcurl (and the twenty-odd libraries it needs) is loaded by the first
# transfer (node/curlso.h), not by every command at its start
LD_DEBUG=files hlx --home b lookup "$h1" >/dev/null 2>ld-lookup.txt
LD_DEBUG=files hlx --home b sync >/dev/null 2>ld-sync.txt
test_ok "a lookup runs (LD_DEBUG)" grep -q 'file=libsodium' ld-lookup.txt
test_fails_ext "a command that makes no transfer does not load libcurl" \
	grep -q 'file=libcurl' ld-lookup.txt
test_ok "a sync loads libcurl at its first transfer" \
	grep -Eq 'file=libcurl[.]so[.]4 .*dynamically loaded' ld-sync.txt
test_ok "B's mirror is a git repository stock git verifies" sh -c '
	"$HLX" --home a key allowed-signers >allowed &&
	git -C b/lists/a/uk-a.git -c gpg.format=ssh -c gpg.ssh.allowedSignersFile="$PWD/allowed" log --show-signature 2>&1 | grep -c "Good \"git\" signature for org-a" | grep -qx 2'
test_ok "B fsck is clean, mirror included" hlx --home b fsck
test_ok "peer status shows version 2, nothing behind, no error" \
	sh -c '"$HLX" --home b peer status | grep -E "^a +uk-a +2 +2 +0 .* -$"'

# idle polling is one conditional request for the list, and one for the
# peer's plans head (spec/plan.md section 7.3; A publishes no plans: 404)
before=$(grep -c '' "$NGINX_DIR/access.log")
test_ok "an idle sync" hlx --home b sync
test_ok "asked with a validator and got 304 Not Modified" \
	sh -c "tail -n 2 '$NGINX_DIR/access.log' | head -n 1 | grep -q 'lists/uk-a/head.*\" 304 '"
test_ok "then asked for the plans head, which A does not publish" \
	sh -c "tail -n 1 '$NGINX_DIR/access.log' | grep -q 'plans/head.*\" 404 '"
test_ok "and made no other request" test "$(grep -c '' "$NGINX_DIR/access.log")" -eq $((before + 2))

# a retraction reaches both
hlx --home a retract uk-a "$h2" --reason false-positive 2>/dev/null
hlx --home a publish --to www/a 2>/dev/null
for x in b c; do
	test_ok "$x syncs the retraction" hlx --home $x sync
	test_fails_with "the retracted hash is gone from $x" 1 "" hlx --home $x lookup "$h2"
	test_ok "$x still has the others" hlx --home $x lookup "$h1" "$p1"
done

# status flows back from the company to the hotline
test_ok "C records a removal status" hlx --home c status set "$h1" --state removed --country DE
test_ok "C's status log lists it" sh -c '"$HLX" --home c status ls | grep -q "^'"$h1"'	DE	removed	"'
test_ok "C publishes" hlx --home c publish --to www/c
hlx --home c key show --root >c-root.pub
test_ok "A subscribes to C's status log" sh -c "\"\$HLX\" --home a peer add c --url '${NGINX_URL}c/' --key c-root.pub --ca '$NGINX_CA' && \"\$HLX\" --home a subscribe c status"
test_ok "A syncs" hlx --home a sync
test_ok "A sees C's status for the item" sh -c '"$HLX" --home a status show '"$h1"' | grep -q "^org-c	'"$h1"'	DE	removed	"'
test_ok "lookup on A shows the entry and C's status" sh -c '
	"$HLX" --home a lookup --json '"$h1"' >l.json &&
	grep -q "\"list\":\"uk-a\"" l.json && grep -q "\"list\":\"c/status\".*\"state\":\"removed\"" l.json'

test_ok "match on A gives the entry with C's removal status" sh -c '
	echo '"$h1"' | "$HLX" --home a match - >m.json &&
	test $(grep -c "" m.json) = 1 &&
	grep -q "\"list\":\"uk-a\".*\"status\":\[{\"origin\":\"org-c\",\"state\":\"removed\",\"country\":\"DE\"" m.json'
test_ok "a hash with no status record has status null" sh -c '
	echo '"$p1"' | "$HLX" --home a match - | grep -q "\"status\":null"'

# file:// peers work too
test_ok "a file:// peer" sh -c "\"\$HLX\" --home c peer add afile --url 'file://$PWD/www/a/' --key a-root.pub && \"\$HLX\" --home c subscribe afile uk-a && \"\$HLX\" --home c sync afile"
test_fails_with "plain http is refused" 3 "https" hlx --home c peer add x --url "http://127.0.0.1:1/" --key a-root.pub
test_fails_with "without the test CA, TLS verification fails" 1 "" sh -c "
	\"\$HLX\" --home c peer add noca --url '${NGINX_URL}a/' --key a-root.pub &&
	\"\$HLX\" --home c subscribe noca uk-a && \"\$HLX\" --home c sync noca"
test_ok "the failure shows in peer status" sh -c '"$HLX" --home c peer status | grep "^noca" | grep -qi "certificate\|ssl\|tls"'

# hlx run: publish on change, poll, stop on SIGTERM
t0=$(date +%s.%N)
"$HLX" --home a run --interval 1 --to www/a 2>run-a.log &
pa=$!
"$HLX" --home b run --interval 1 2>run-b.log &
pb=$!
h3=md5:$(rand_hex 16)
sleep 1
hlx --home a add uk-a "$h3" 2>/dev/null
i=0
while [ $i -lt 100 ] && ! "$HLX" --home b lookup "$h3" >/dev/null 2>&1; do sleep 0.1; i=$((i + 1)); done
test_ok "hlx run on both sides carries a new entry across ($i tenths of a second)" test $i -lt 100
# B's rounds ask on the connection its first round made: no TCP and TLS
# handshake a round (conn.log: connection, requests, URI, status, time)
sleep 3
test_ok "B's rounds, one a second, all asked on one connection" sh -c "
	awk -v t0=$t0 '\$3 == \"/a/lists/uk-a/head\" && \$5 >= t0' '$NGINX_DIR/conn.log' >b-conns &&
	test \$(grep -c '' b-conns) -ge 4 && test \$(cut -d' ' -f1 b-conns | sort -u | grep -c '') -eq 1"
kill -TERM $pa $pb
wait $pa; ra=$?
wait $pb; rb=$?
test_ok "both stop cleanly on SIGTERM" test $ra -eq 0 -a $rb -eq 0
test_ok "and say so in their log" grep -q "stopping on signal" run-b.log
test_ok "run logs one line per event" grep -q "a/uk-a: version" run-b.log

nginx_stop
test_done
