#!/bin/sh
# SPDX-License-Identifier: MIT
# hlx init and the node home: creation, file modes, passphrases, refusals.
. "$(dirname "$0")/lib.sh"

state() { find "$1" -type f | sort | xargs sha256sum; }

test_ok "init without passphrase" hlx --home n1 init --org uk-test --no-passphrase
test_ok "config, trust chain and both keys exist" \
	test -f n1/config.json -a -f n1/trust.json -a -f n1/keys/root.key -a -f n1/keys/signing.key
test_ok "keys/ is 0700" test "$(stat -c %a n1/keys)" = 700
test_ok "root key file is 0600" test "$(stat -c %a n1/keys/root.key)" = 600
test_ok "signing key file is 0600" test "$(stat -c %a n1/keys/signing.key)" = 600
test_fails_with "init twice refused, names the home" 4 "already a node home" \
	hlx --home n1 init --org uk-test --no-passphrase
test_fails_with "init without --org is a usage error" 2 "org" hlx --home n2 init --no-passphrase
test_fails_with "bad organisation name refused" 3 "organisation name 'UK Test'" \
	hlx --home n2 init --org "UK Test" --no-passphrase
test_ok "refused init created nothing" test ! -e n2/config.json
test_fails_with "bad --valid-days is a usage error" 2 "validity" \
	hlx --home n2 init --org x --no-passphrase --valid-days 0

hlx --home n1 key show >sign.pub 2>err
test_ok "key show prints an OpenSSH ed25519 key" grep -Eq '^ssh-ed25519 AAAA[A-Za-z0-9+/]+=* uk-test signing$' sign.pub
test_ok "ssh-keygen reads it" ssh-keygen -lf sign.pub
hlx --home n1 key show --root >root.pub
test_ok "root key differs from signing key" test "$(cut -d' ' -f2 root.pub)" != "$(cut -d' ' -f2 sign.pub)"
test_ok "HLX_HOME names the home" sh -c 'HLX_HOME=n1 "$HLX" key show | cmp - sign.pub'
test_fails_with "no home: clear error" 4 "not a node home" hlx --home nowhere key show

# passphrases
printf 'correct horse battery\n' >pass
chmod 600 pass
test_ok "init with a passphrase file" hlx --home n3 init --org enc-test --passphrase-file pass
echo hello >msg
test_ok "sign with the right passphrase" hlx --home n3 --passphrase-file pass sign -n file msg
test_ok "HLX_PASSPHRASE_FILE works too" sh -c 'HLX_PASSPHRASE_FILE=pass "$HLX" --home n3 sign -n file msg'
printf 'wrong\n' >wrong
chmod 600 wrong
before=$(state n3)
test_fails_with "wrong passphrase: clear error, exit 5" 5 "wrong passphrase" \
	hlx --home n3 --passphrase-file wrong sign -n file msg
test_ok "wrong passphrase changed nothing" test "$before" = "$(state n3)"
test_fails_with "wrong passphrase cannot rotate" 5 "wrong passphrase" \
	hlx --home n3 --passphrase-file wrong key rotate
test_ok "failed rotation changed nothing" test "$before" = "$(state n3)"
chmod 640 pass
test_fails_with "group-readable passphrase file refused" 5 "chmod 600" \
	hlx --home n3 --passphrase-file pass sign -n file msg
chmod 600 pass
: >empty; chmod 600 empty
test_fails_with "empty passphrase file refused" 5 "empty" \
	hlx --home n3 --passphrase-file empty sign -n file msg
test_fails_with "a passphrase file that does not exist: no passphrase, exit 5" 5 \
	"passphrase file 'nope': cannot open 'nope': No such file" \
	hlx --home n3 --passphrase-file nope sign -n file msg
test_fails_with "encrypted key without passphrase source or terminal" 5 "passphrase-file" \
	setsid -w "$HLX" --home n3 sign -n file msg
test_fails_with "encrypted key files hold no plaintext: unreadable without passphrase" 5 "" \
	setsid -w "$HLX" --home n3 key rotate
chmod 644 n1/keys/signing.key
test_fails_with "world-readable key file refused" 5 "accessible by group or others" \
	hlx --home n1 sign -n file msg
chmod 600 n1/keys/signing.key
test_fails_with "--no-passphrase with a passphrase file is a usage error" 2 "exclude" \
	hlx --home n4 init --org x --no-passphrase --passphrase-file pass

# help and usage
test_ok "hlx --help" hlx --help
test_ok "hlx init --help" hlx init --help
test_fails_with "unknown command" 2 "unknown command 'frobnicate'" hlx frobnicate
test_fails_with "unknown global option" 2 "unknown option" hlx --frob key show
test_fails_with "unknown key subcommand" 2 "unknown key command 'explode'" hlx --home n1 key explode
test_ok "version" hlx --version

test_done
