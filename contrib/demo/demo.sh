#!/bin/sh
# SPDX-License-Identifier: MIT
# make demo: a small local federation, run for real in a scratch directory.
# Today it shows two organisations' identities: creation, signing, key
# rotation and revocation, verified by hlx and by stock ssh-keygen.
# Only synthetic random data is used.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
HLX=${HLX:-$top/hlx}
demo=$(mktemp -d "${TMPDIR:-/tmp}/hlx-demo.XXXXXX")
cd "$demo"
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
hlx() { "$HLX" "$@"; }

step "Two hotlines create their node identities (keys unencrypted for the demo)"
run hlx --home hotline-a init --org hotline-a --no-passphrase
run hlx --home hotline-b init --org hotline-b --no-passphrase
run hlx --home hotline-a key ls

step "Hotline B pins hotline A's root key, exchanged out of band"
hlx --home hotline-a key show --root >a-root.pub
cp hotline-a/trust.json a-trust.json
run ssh-keygen -lf a-root.pub

step "Hotline A signs a file of synthetic random hashes"
for i in 1 2 3 4 5; do
	printf 'md5:%s\n' "$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
done >hashes.txt
run cat hashes.txt
run hlx --home hotline-a sign -n file hashes.txt
run head -n 3 hashes.txt.sig

step "Hotline B verifies it through A's trust chain and the pinned root"
run hlx verify -n file --trust a-trust.json --root a-root.pub -s hashes.txt.sig hashes.txt

step "An auditor verifies the same signature with stock ssh-keygen"
run hlx --home hotline-a key allowed-signers >allowed
run cat allowed
printf '$ ssh-keygen -Y verify -f allowed -I hotline-a -n file -s hashes.txt.sig < hashes.txt\n'
ssh-keygen -Y verify -f allowed -I hotline-a -n file -s hashes.txt.sig <hashes.txt

step "A tampered file is rejected"
sed 's/^md5:./md5:0/' hashes.txt >tampered.txt
printf '$ hlx verify ... tampered.txt\n'
if hlx verify -n file --trust a-trust.json --root a-root.pub -s hashes.txt.sig tampered.txt; then
	echo "demo: tampering went unnoticed" >&2; exit 1
fi

step "Hotline A rotates its signing key and revokes the old one"
old=$(hlx --home hotline-a key ls | awk '/^signing/ {print $2; exit}')
run hlx --home hotline-a key rotate
run hlx --home hotline-a key revoke "$old"
run hlx --home hotline-a key ls
cp hotline-a/trust.json a-trust.json
printf '$ hlx verify ... (signature by the revoked key)\n'
if hlx verify -n file --trust a-trust.json --root a-root.pub -s hashes.txt.sig hashes.txt; then
	echo "demo: revoked key accepted" >&2; exit 1
fi
run hlx --home hotline-a sign -n file hashes.txt
run hlx verify -n file --trust a-trust.json --root a-root.pub -s hashes.txt.sig hashes.txt

step "Hotline B cannot pass off its own key as hotline A's"
hlx --home hotline-b sign -n file hashes.txt
printf '$ hlx verify ... (signed by hotline-b, checked against hotline-a)\n'
if hlx verify -n file --trust a-trust.json --root a-root.pub -s hashes.txt.sig hashes.txt; then
	echo "demo: foreign key accepted" >&2; exit 1
fi

step "Hotline A keeps a signed, versioned hash list"
{
	echo "hash,category,confidence,tags"
	for i in 1 2 3 4 5 6; do
		printf 'md5:%s,csam-a,%d,demo\n' "$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')" $((80 + i))
	done
	printf 'pdq:%s,csam-b,70,demo\n' "$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"
} >bulk.csv
run hlx --home hotline-a list create hotline-a-main
run hlx --home hotline-a import hotline-a-main bulk.csv
one=$(sed -n 2p bulk.csv | cut -d, -f1)
run hlx --home hotline-a lookup "$one"
run hlx --home hotline-a retract hotline-a-main "$one" --reason false-positive
printf '$ hlx lookup %s   (retracted: no match, exit 1)\n' "$one"
if hlx --home hotline-a lookup "$one"; then echo "demo: retracted hash still found" >&2; exit 1; fi
run hlx --home hotline-a log hotline-a-main
run hlx --home hotline-a diff hotline-a-main 1 2

step "An auditor verifies every version with stock git"
hlx --home hotline-a key allowed-signers >allowed
repo=$(hlx --home hotline-a list repo hotline-a-main)
printf '$ git -c gpg.format=ssh -c gpg.ssh.allowedSignersFile=allowed log --show-signature\n'
git -C "$repo" -c gpg.format=ssh -c gpg.ssh.allowedSignersFile="$demo/allowed" log --show-signature | grep -E '^(commit|Good|    hlx)'
run hlx --home hotline-a fsck

printf '\nDemo finished; its files are in %s\n' "$demo"
