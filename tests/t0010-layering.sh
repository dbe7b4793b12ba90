#!/bin/sh
# SPDX-License-Identifier: MIT
# The layering rule (doc/HACKING.md): protocol -> keys -> node -> node/cli,
# nothing includes upward, and no engine reads the environment or argv,
# asks a terminal, exits or writes to stdout.  The real tree passes; a copy
# with one violation injected at a time fails, naming file and line.
. "$(dirname "$0")/lib.sh"

check() { python3 "$HLX_TOP/tests/tools/layering.py" "$1"; }

test_ok "the tree keeps the layering rule" check "$HLX_TOP"

fresh() {
	rm -rf t && mkdir t && cp -r "$HLX_TOP/protocol" "$HLX_TOP/keys" "$HLX_TOP/node" t/
}

# inject FILE LINE: insert LINE after the first #include of FILE in a fresh copy
inject() {
	fresh
	sed -i "0,/^#include/s|^#include.*|&\n$2|" "t/$1"
}

# violation DESC FILE LINE PATTERN: the checker fails and names FILE
violation() {
	inject "$2" "$3"
	test_fails_with "$1" 1 "^$2:[0-9]+: $4" check t
}

violation "protocol/ including keys/ is refused" protocol/hash.c \
	'#include "keys/key.h"' 'protocol/ includes "keys/key.h"'
violation "protocol/ including node/ is refused" protocol/csv.c \
	'#include "node/files.h"' 'protocol/ includes'
violation "keys/ including node/ is refused" keys/trust.c \
	'#include "node/lists.h"' 'keys/ includes "node/lists.h"'
violation "an engine including node/cli/ is refused" node/lists.c \
	'#include "node/cli/cli.h"' 'node/ includes "node/cli/cli.h"'
violation "an engine including <getopt.h> is refused" node/store.c \
	'#include <getopt.h>' 'an engine includes <getopt.h>'
violation "getenv in an engine is refused" node/sync.c \
	'static const char *t(void) { return getenv("HLX_TIMEOUT"); }' 'an engine uses getenv'
violation "isatty in an engine is refused" node/publish.c \
	'static int t(void) { return isatty(2); }' 'an engine uses isatty'
violation "printf in an engine is refused" keys/seal.c \
	'static void t(void) { printf("x"); }' 'an engine uses printf'
violation "writing to stdout in an engine is refused" node/files.c \
	'static void t(void) { fputs("x", stdout); }' 'an engine uses stdout'
violation "exit in an engine is refused" protocol/buf.c \
	'static void t(void) { exit(1); }' 'an engine uses exit'
violation "getopt_long in an engine is refused" node/match.c \
	'static int t(int c, char **v) { return getopt_long(c, v, "", 0, 0); }' \
	'an engine uses getopt_long'

# what is not a violation
inject node/sync.c '/* getenv("X") and printf(...) in a comment */'
test_ok "a comment naming getenv is no violation" check t
inject node/sync.c 'static const char *t = "printf(stdout)";'
test_ok "a string naming printf is no violation" check t
fresh
echo 'static void t(void) { printf("x"); }' >>t/node/cli/main.c
test_ok "the program (node/cli/) may print" check t

test_done
