#!/bin/sh
# SPDX-License-Identifier: MIT
# make demo: a small local federation, run for real in a scratch directory.
# Two hotlines and a company, each with its own node; feeds served by a
# real nginx over HTTPS (a throw-away certificate authority) on loopback.
# Hotline A shares under policies: all with hotline B, less (and
# encrypted) with company C.
# Only synthetic random hashes are used.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
HLX=${HLX:-$top/hlx}
demo=$(mktemp -d "${TMPDIR:-/tmp}/hlx-demo.XXXXXX")
cd "$demo"
TRASH=$demo
. "$top/tests/lib-nginx.sh"
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
hlx() { "$HLX" "$@"; }
rhex() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }
refused() { # DESC CMD...: CMD must fail
	printf '$ %s   (must fail)\n' "$1"; shift
	if "$@"; then echo "demo: that should have failed" >&2; exit 1; fi
}

step "Three organisations create their node identities (unencrypted keys, for the demo)"
for org in hotline-a hotline-b company-c; do
	run hlx --home $org init --org $org --no-passphrase
done
run hlx --home hotline-a key ls

step "Hotline A keeps a signed, versioned hash list"
{
	echo "hash,category,confidence,tags"
	for i in 1 2 3 4 5; do printf 'md5:%s,csam-a,%d,demo\n' "$(rhex 16)" $((80 + i)); done
	printf 'pdq:%s,csam-b,70,demo\n' "$(rhex 32)"
} >bulk.csv
run hlx --home hotline-a list create uk-a
run hlx --home hotline-a import uk-a bulk.csv
one=$(sed -n 2p bulk.csv | cut -d, -f1)
two=$(sed -n 3p bulk.csv | cut -d, -f1)
pdq=$(sed -n 7p bulk.csv | cut -d, -f1)

step "Hotline A decides what each peer may receive: everything for hotlines; for companies only verified csam-a hashes, category only, encrypted, no onward sharing, deleted after 90 days"
cat >hotlines.json <<'EOF2'
{"format": "hlx-policy-1", "name": "hotlines", "lists": ["*", "status"],
 "fields": ["category", "confidence", "first_seen", "tags"],
 "status_fields": ["country", "times"]}
EOF2
cat >companies.json <<'EOF2'
{"format": "hlx-policy-1", "name": "companies", "lists": ["uk-a"],
 "categories": ["csam-a"], "min_confidence": 80, "fields": ["category"],
 "rules": {"onward": false, "retention_days": 90, "purpose": "detection"},
 "encrypt": true}
EOF2
run cat companies.json
run hlx --home hotline-a policy add hotlines.json
run hlx --home hotline-a policy add companies.json
for org in hotline-b company-c; do hlx --home $org key show --root >$org.pub; done
run hlx --home hotline-a peer add hotline-b --key hotline-b.pub --policy hotlines
run hlx --home hotline-a peer add company-c --key company-c.pub --box "$(hlx --home company-c key show --box)" --policy companies
run hlx --home hotline-a policy ls
run hlx --home hotline-a policy check company-c

step "Hotline A publishes one feed per audience; nginx serves them over HTTPS"
mkdir -p www
run hlx --home hotline-a publish --to www/hotline-a
run ls www/hotline-a/a
nginx_start www
echo "nginx serves $demo/www at $NGINX_URL"
feed_of() { hlx --home hotline-a policy check "$1" | sed -n 's/.*feed \(a\/[0-9a-f]*\/\).*/\1/p'; }

step "Hotline B and company C pin hotline A's root key (its fingerprint is checked out of band) and subscribe to their feeds"
hlx --home hotline-a key show --root >hotline-a.pub
run ssh-keygen -lf hotline-a.pub
for org in hotline-b company-c; do
	run hlx --home $org peer add hotline-a --url "${NGINX_URL}hotline-a/$(feed_of $org)" --key hotline-a.pub --ca "$NGINX_CA"
	run hlx --home $org subscribe hotline-a uk-a
	run hlx --home $org sync
done
echo "The company receives less than the hotline, and only what it needs:"
run hlx --home hotline-b list ls
run hlx --home company-c list ls
run hlx --home company-c lookup "$one"
refused "hlx --home company-c lookup $pdq  (csam-b, confidence 70: not for companies)" hlx --home company-c lookup "$pdq"
run hlx --home hotline-b lookup "$pdq"
run hlx --home hotline-b peer status
echo "Every disclosure is on record, signed:"
run hlx --home hotline-a audit

step "Hotline A retracts a false positive; the retraction reaches both"
run hlx --home hotline-a retract uk-a "$two" --reason false-positive
run hlx --home hotline-a publish --to www/hotline-a
for org in hotline-b company-c; do
	run hlx --home $org sync
	refused "hlx --home $org lookup $two" hlx --home $org lookup "$two"
done

step "Company C takes the material down and publishes the removal status; hotline A pulls it"
run hlx --home company-c status set "$one" --state removed --country DE
run hlx --home company-c publish --to www/company-c
run hlx --home hotline-a peer set company-c --url "${NGINX_URL}company-c/" --ca "$NGINX_CA"
run hlx --home hotline-a subscribe company-c status
run hlx --home hotline-a sync
run hlx --home hotline-a status show "$one"
run hlx --home hotline-a lookup --json "$one"

step "A forged feed changes nothing: a tampered head is refused"
bhead=www/hotline-a/$(feed_of hotline-b)lists/uk-a/head
cp "$bhead" head.good
sed -i 's/\\"version\\":2/\\"version\\":3/' "$bhead"
touch -d "@$(( $(date +%s) + 5 ))" "$bhead"
refused "hlx --home hotline-b sync" hlx --home hotline-b sync
cp head.good "$bhead"

step "An auditor verifies hotline B's mirror with stock git"
hlx --home hotline-a key allowed-signers >allowed
printf '$ git -C hotline-b/lists/hotline-a/uk-a.git -c gpg.format=ssh -c gpg.ssh.allowedSignersFile=allowed log --show-signature\n'
git -C hotline-b/lists/hotline-a/uk-a.git -c gpg.format=ssh \
	-c gpg.ssh.allowedSignersFile="$demo/allowed" log --show-signature | grep -E '^(commit|Good|    hlx)'
run hlx --home hotline-b fsck

nginx_stop || true
printf '\nDemo finished; its files are in %s\n' "$demo"
