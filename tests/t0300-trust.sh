#!/bin/sh
# SPDX-License-Identifier: MIT
# Delegation, rotation (signing and root) and revocation through the CLI,
# checked by hlx verify against the trust chain and by ssh-keygen against
# the allowed-signers file.
. "$(dirname "$0")/lib.sh"

state() { find "$1" -type f | sort | xargs sha256sum; }
SEED=${HLX_SEED:-300}
echo "# seed $SEED"
rand_hex 64 >doc1
rand_hex 64 >doc2

hlx --home a init --org hotline-a --no-passphrase 2>/dev/null
hlx --home a key show --root >root0.pub
cp a/trust.json trust0.json
test_ok "sign doc1 with the first signing key" hlx --home a sign -n file doc1
test_ok "verify doc1 through the trust chain" \
	hlx verify -n file --trust a/trust.json --root root0.pub -s doc1.sig doc1
test_ok "key ls shows one valid current key" sh -c '"$HLX" --home a key ls | grep -q "valid current"'
old=$(hlx --home a key ls | awk '/^signing/ {print $2; exit}')

test_ok "rotate the signing key" hlx --home a key rotate
test_ok "key ls shows two signing keys" test "$(hlx --home a key ls | grep -c '^signing')" = 2
test_ok "sign doc2 with the new key" hlx --home a sign -n file doc2
test_ok "new signature verifies through the chain" \
	hlx verify -n file --trust a/trust.json --root root0.pub -s doc2.sig doc2
test_ok "old signature still verifies (old key not revoked)" \
	hlx verify -n file --trust a/trust.json --root root0.pub -s doc1.sig doc1
hlx --home a key allowed-signers >allowed
test_ok "allowed signers lists both keys" test "$(wc -l <allowed)" = 2
test_ok "ssh-keygen accepts the old signature" \
	sh -c 'ssh-keygen -Y verify -f allowed -I hotline-a -n file -s doc1.sig <doc1'
test_fails_with "the old chain does not know the new key" 1 "not delegated" \
	hlx verify -n file --trust trust0.json --root root0.pub -s doc2.sig doc2

test_ok "revoke the old key by fingerprint" hlx --home a key revoke "$old"
test_fails_with "signature by a revoked key fails" 1 "revoked" \
	hlx verify -n file --trust a/trust.json --root root0.pub -s doc1.sig doc1
hlx --home a key allowed-signers >allowed2
oldkey=$(head -n 1 allowed | awk '{print $NF}')
vb=$(grep "$oldkey" allowed2 | sed -n 's/.*valid-before="\([0-9]*\)Z".*/\1/p')
test_ok "allowed signers ends the revoked key's window before the revocation" \
	test "${vb:-0}" -lt "$(date -u +%Y%m%d%H%M%S)"
test_fails_ext "ssh-keygen refuses the revoked key's signature" \
	sh -c 'ssh-keygen -Y verify -f allowed2 -I hotline-a -n file -s doc1.sig <doc1'
test_fails_with "hlx refuses it by allowed signers too" 1 "" \
	hlx verify -n file --allowed-signers allowed2 -I hotline-a -s doc1.sig doc1
test_fails_with "revoking twice is refused" 3 "not a delegated, unrevoked key" \
	hlx --home a key revoke "$old"
test_fails_with "revoking an unknown fingerprint" 4 "no delegated key" \
	hlx --home a key revoke SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA

# root rotation, N to N+1
test_ok "rotate the root" hlx --home a key rotate --root
hlx --home a key show --root >root1.pub
test_ok "the root changed" test "$(cut -d' ' -f2 root0.pub)" != "$(cut -d' ' -f2 root1.pub)"
test_ok "a new signing key after root rotation" hlx --home a key rotate
rand_hex 64 >doc3
hlx --home a sign -n file doc3
test_ok "chain verifies from the first (pinned) root" \
	hlx verify -n file --trust a/trust.json --root root0.pub -s doc3.sig doc3
test_ok "and from the new root" \
	hlx verify -n file --trust a/trust.json --root root1.pub -s doc3.sig doc3

# a key nobody delegated
ssh-keygen -q -t ed25519 -N '' -f stranger -C stranger
cp doc3 doc3s
ssh-keygen -q -Y sign -n file -f stranger doc3s 2>/dev/null
test_fails_with "signature by an undelegated key fails" 1 "not delegated" \
	hlx verify -n file --trust a/trust.json --root root0.pub -s doc3s.sig doc3s
test_fails_with "a chain against a root it does not lead from" 1 "pinned root" \
	hlx verify -n file --trust a/trust.json --root stranger.pub -s doc3.sig doc3

# expired delegation
hlx --home b init --org hotline-b --no-passphrase --valid-days 1 2>/dev/null
hlx --home b key show --root >rootb.pub
hlx --home b sign -n file doc1
later=$(date -u -d '+2 days' +%Y-%m-%dT%H:%M:%SZ)
earlier=$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)
test_ok "valid now" hlx verify -n file --trust b/trust.json --root rootb.pub -s doc1.sig doc1
test_fails_with "expired delegation fails" 1 "expired" \
	hlx verify -n file --trust b/trust.json --root rootb.pub --time "$later" -s doc1.sig doc1
test_fails_with "not yet valid fails" 1 "valid only from" \
	hlx verify -n file --trust b/trust.json --root rootb.pub --time "$earlier" -s doc1.sig doc1
hlx --home b key allowed-signers >allowedb
test_fails_with "allowed signers window enforced by hlx" 1 "" \
	hlx verify -n file --allowed-signers allowedb -I hotline-b --time "$later" -s doc1.sig doc1
test_fails_ext "and by ssh-keygen" sh -c "ssh-keygen -Y verify -f allowedb -I hotline-b -n file \
	-Overify-time=$(date -u -d '+2 days' +%Y%m%d%H%M%SZ) -s doc1.sig <doc1"

# the trust chain must not be editable
sed 's/hotline-a/hotline-x/' a/trust.json >forged.json
test_fails "a renamed organisation breaks the chain" \
	hlx verify -n file --trust forged.json --root root0.pub -s doc3.sig doc3
printf '{"format":"hlx-trust-1","statements":[]}' >a/trust.json
test_fails_with "a node with a damaged chain refuses to sign" 3 "trust.json" hlx --home a sign -n file doc3

# crash recovery: a half-made key replacement is dropped on the next start
hlx --home c init --org c --no-passphrase 2>/dev/null
hlx --home c key show >c.pub
cp c/keys/root.key c/keys/signing.key.new
test_ok "node opens despite a stray signing.key.new" hlx --home c key show
test_ok "the stray key was dropped, the signing key kept" \
	sh -c 'test ! -e c/keys/signing.key.new && "$HLX" --home c key show | cmp - c.pub'

test_done
