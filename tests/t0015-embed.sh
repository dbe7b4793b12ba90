#!/bin/sh
# SPDX-License-Identifier: MIT
# The library stands without the program: contrib/embed/match-one, linked
# against libhlx.a alone, opens a node home and matches hashes.
. "$(dirname "$0")/lib.sh"

EMBED=$HLX_BUILD/contrib/embed/match-one
LIB=$HLX_BUILD/libhlx.a
echo "# seed $SEED"

test_ok "match-one is built" test -x "$EMBED"
test_fails_with "libhlx.a holds no command of the program" 1 "" \
	sh -c "nm -g --defined-only '$LIB' | grep -E ' (cmd_[a-z]+|cli_[a-z_]+|main)\$'"
test_fails_with "libhlx.a holds no object of node/cli/" 1 "" \
	sh -c "ar t '$LIB' | grep -E '^(cli|main|cmd_[a-z]+)\\.o\$'"

hlx --home n init --org hotline-x --no-passphrase 2>/dev/null
hlx --home n list create l 2>/dev/null
md5=$(rand_hex 16)
pdq=$(rand_hex 32)
other=$(rand_hex 16)
# the PDQ hash with its first 3 bits flipped: distance 3
near=$(printf '%x' $((0x$(echo "$pdq" | cut -c1) ^ 0xe)))$(echo "$pdq" | cut -c2-)
hlx --home n add l "md5:$md5" "pdq:$pdq" --category csam-a 2>/dev/null

test_fails_with "an exact hash is found" 0 "^md5:$md5	l	1	0\$" "$EMBED" n "md5:$md5"
test_fails_with "a PDQ hash within distance is found" 0 "^pdq:$near	l	1	3\$" \
	"$EMBED" n "pdq:$near"
test_fails_with "an unknown hash is not" 1 "" "$EMBED" n "md5:$other"
test_fails_with "a bad hash is an error" 2 "md5" "$EMBED" n "md5:zz"
test_fails_with "no node home is an error" 2 "" "$EMBED" nohome "md5:$md5"

test_done
