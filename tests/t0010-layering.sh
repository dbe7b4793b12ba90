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

# The node home in one place (spec/home.md): every home path is built by
# hlx_home_path from the table of node/home.c, which lists what the spec
# lists.  A copy with a home path spelled out elsewhere, or a table that
# disagrees with the spec, fails.
hcheck() { python3 "$HLX_TOP/tests/tools/homepaths.py" "$1"; }

test_ok "every home path is built by hlx_home_path, as spec/home.md lists" \
	hcheck "$HLX_TOP"

hfresh() {
	fresh && cp -r "$HLX_TOP/spec" t/
}

# hviolation DESC FILE LINE PATTERN: the home check fails, naming FILE
hviolation() {
	hfresh
	sed -i "0,/^#include/s|^#include.*|&\n$3|" "t/$2"
	test_fails_with "$1" 1 "^$2:[0-9]+: $4" hcheck t
}

hviolation "a rebase marker path in sync.c is refused" node/sync.c \
	'static const char *t = "%s/peers/%s/%s.rebase";' 'a home path spelled out'
hviolation "a mirror path beside the home is refused" node/sync.c \
	'static int t(char *o, const char *home) { return hlx_pathf(o, "%s/lists/%s", home, "x"); }' \
	'a home path spelled out: "%s/lists/%s"'
hviolation "a NAME.git in a format is refused" node/publish.c \
	'static const char *t = "%s/%s.git";' 'a home path spelled out'
hviolation "a key path in the program is refused" node/cli/cmd_ident.c \
	'static const char *t = "keys/box.key";' 'a home path spelled out'
hviolation "a home file name as a macro is refused" node/audit.h \
	'#define T_FILE "audit.log"' 'a home path spelled out: "audit.log"'
hfresh
sed -i '/^| `peers\/PEER\/LIST.rebase`/d' t/spec/home.md
test_fails_with "an entry the spec does not list is refused" 1 \
	'^spec/home.md: no row for peers/PEER/LIST.rebase' hcheck t
hfresh
sed -i 's/^| `run.pid` | runlock | 0600 |/| `run.pid` | runlock | 0644 |/' t/spec/home.md
test_fails_with "a mode the spec does not give is refused" 1 \
	'^node/home.c: run.pid is 0600, spec/home.md says 0644' hcheck t
hfresh
printf '| `lists/NAME.keep` | lists | 0600 | x | x |\n' >>t/spec/home.md
test_fails_with "a spec row the table lacks is refused" 1 \
	'^node/home.c: no entry for lists/NAME.keep' hcheck t

# what is not a violation: the feed's own layout, messages, home.c itself
hfresh
sed -i '0,/^#include/s|^#include.*|&\nstatic const char *t = "lists/%s/head";|' t/node/sync.c
test_ok "the published feed's layout is no home path" hcheck t
hfresh
sed -i '0,/^#include/s|^#include.*|&\nstatic const char *t = "cannot read %s/peers.json of the home";|' t/node/peers.c
test_ok "a message naming a home file is no violation" hcheck t
hfresh
sed -i '0,/^#include/s|^#include.*|&\nstatic const char *t = "%s/peers/%s";|' t/node/home.c
test_ok "node/home.c spells the home's paths" hcheck t

test_done
