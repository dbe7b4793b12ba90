#!/bin/sh
# SPDX-License-Identifier: MIT
# The command table (node/cli/table.c) walked row by row: every command and
# subcommand answers 'hlx CMD [SUB] --help' and 'hlx help CMD [SUB]' with
# its usage and exit 0 without a node home; every option of the table is
# documented for its command in doc/hlx.1, and every option the man page
# documents exists in the table (tests/tools/mancheck.py, which a man page
# with an option removed and one added makes fail).  Usage errors name the
# option and suggest the nearest name.
. "$(dirname "$0")/lib.sh"

# No node home anywhere: an empty HOME and an empty HLX_HOME.
mkdir empty
export HLX_HOME="$TRASH/empty"
tab=$(printf '\t')

test_ok "hlx help --options prints the table" sh -c '"$HLX" help --options >options'
test_ok "a line per row: NAME[ SUB]<TAB>--help --opts" \
	grep -qx "peer add${tab}--help --url --key --ca --box --policy" options
rows=$(cut -f1 options | wc -l)
test_ok "the table has rows ($rows)" test "$rows" -ge 40

# help_of ROW: 'ROW --help' and 'help ROW' both exit 0, print the usage, and
# print the same.
help_of() {
	# shellcheck disable=SC2086
	hlx $1 --help >a.out 2>a.err || { echo "'$1 --help' failed"; cat a.err; return 1; }
	# shellcheck disable=SC2086
	hlx help $1 >b.out 2>b.err || { echo "'help $1' failed"; cat b.err; return 1; }
	[ ! -s a.err ] && [ ! -s b.err ] || { echo "stderr not empty"; return 1; }
	head -n 1 a.out | grep -q "^usage: hlx $1\( \|$\)" || { head -n 3 a.out; return 1; }
	cmp -s a.out b.out || { diff a.out b.out; return 1; }
}

: >shorts
while IFS="$tab" read -r name opts; do
	test_ok "'$name --help' and 'help $name' print its usage, exit 0" help_of "$name"
	# the short options, for the man page check: "-n, --namespace NS"
	case $opts in *" "*)
		# shellcheck disable=SC2086
		hlx $name --help | sed -n 's/^  \(-[A-Za-z]\), \(--[a-z-]*\).*/\1 \2/p' |
			while read -r pair; do printf '%s\t%s\n' "$name" "$pair"; done >>shorts ;;
	esac
done <options
test_ok "the short options were found (-n of sign)" grep -qx "sign${tab}-n --namespace" shorts
test_ok "nothing was created without a node home" \
	sh -c '[ -z "$(ls -A "$1")" ] && [ -z "$(ls -A "$2")" ]' sh "$TRASH/empty" "$HOME"

# ---- the man page and the table -------------------------------------
mancheck() { python3 "$HLX_TOP/tests/tools/mancheck.py" "$1" options shorts; }
man=$HLX_TOP/doc/hlx.1
test_ok "doc/hlx.1 and the table agree in both directions" mancheck "$man"

# An option taken out of 'add' and one added to 'peer ls' must both fail.
sed -e 's/ \[\\fB\\-\\-category \\fIC\\fR\]//' \
    -e 's/^\.B peer ls /.B peer ls \\fR[\\fB\\-\\-long\\fR] /' "$man" >bad.1
test_fails_with "the negative man page differs from the real one" 1 "" cmp -s "$man" bad.1
test_fails_with "an option the man page lacks is named" 1 \
	"'add' does not document --category" mancheck bad.1
test_fails_with "an option the table lacks is named" 1 \
	"'peer ls' documents --long, which the table does not have" mancheck bad.1
sed 's/^\.B peer status\( .*\)\{0,1\}$/.B peer frob/' "$man" >bad2.1
test_fails_with "the second negative man page differs" 1 "" cmp -s "$man" bad2.1
test_fails_with "a subcommand the table lacks is refused" 1 \
	"'peer frob' is not a command of the table" mancheck bad2.1
test_fails_with "a row without an item is named" 1 \
	"no item for 'peer status'" mancheck bad2.1
# a nested tag (.RS .TP) documents options of its item: -k of verify
sed 's/^\\fB\\-k\\fR|\\fB\\-\\-key \\fIKEY\\fR$/\\fB\\-q\\fR \\fIKEY\\fR/' "$man" >bad3.1
test_fails_with "the third negative man page differs" 1 "" cmp -s "$man" bad3.1
test_fails_with "a short option of a nested tag is checked" 1 \
	"'verify' documents -q, which the table does not have" mancheck bad3.1
test_fails_with "... and its absence too" 1 "'verify' does not document --key" mancheck bad3.1
# a short option of the table the man page leaves out: -o of init
sed 's/^\.B init \\-o\\fR|\\fB\\-\\-org /.B init \\-\\-org /' "$man" >bad4.1
test_fails_with "the fourth negative man page differs" 1 "" cmp -s "$man" bad4.1
test_fails_with "a short option the man page leaves out is named" 1 \
	"'init' does not document -o \\(--org\\)" mancheck bad4.1

# ---- usage errors ----------------------------------------------------
test_fails_with "an option typo suggests the nearest option" 2 \
	"^hlx: unknown option '--categroy': did you mean '--category'\?" \
	hlx add uk-a md5:00000000000000000000000000000000 --categroy x
test_fails_with "a command typo suggests the nearest command" 2 \
	"^hlx: unknown command 'lsit': did you mean 'list'\?" hlx lsit ls
test_fails_with "a subcommand typo suggests the nearest subcommand" 2 \
	"^hlx: unknown peer command 'sttaus': did you mean 'status'\?" hlx peer sttaus
test_fails_with "'help' with a typo suggests too" 2 \
	"unknown command 'pulbish': did you mean 'publish'\?" hlx help pulbish
test_fails_with "a sibling subcommand's option is a usage error naming it" 2 \
	"^hlx: 'peer ls' has no option '--key': it is an option of 'peer add'" \
	hlx peer ls --key x
test_fails_with "... also with another one given" 2 "no option '--key'" \
	hlx peer ls --key x --policy y
test_fails_with "a bad number names the option and what it accepts" 2 \
	"^hlx: --interval: expected whole seconds 1\.\.86400, got '5s'$" \
	hlx run --interval 5s
test_fails_with "a bad choice names the words" 2 \
	"^hlx: --format: expected csv or jsonl, got 'xml'" hlx export uk-a --format xml
test_fails_with "a usage error prints the usage line" 2 \
	"^usage: hlx run \[--interval SECONDS\]" hlx run --interval 0
test_fails_with "a missing operand is a usage error" 2 \
	"'list create' takes 1 operand, got 0" hlx list create
test_fails_with "too many operands names the row and the range" 2 \
	"^hlx: 'sync' takes 0 to 1 operands, got 2$" hlx sync a b
test_fails_with "too few of a row without a maximum says at least" 2 \
	"^hlx: 'add' takes at least 1 operand, got 0$" hlx add
test_fails_with "no node home at all is exit 4, as hlx(1) says" 4 \
	"^hlx: cannot find the node home: no node home: give --home DIR or set HLX_HOME" \
	env -u HOME -u HLX_HOME "$HLX" list ls
test_fails_with "an empty node home is exit 4 too" 4 "is not a node home" hlx list ls
test_fails_with "an empty --home is a bad option value: exit 2" 2 \
	"^hlx: --home: expected a directory, got ''$" "$HLX" --home "" list ls
test_fails_with "... also as --home=" 2 "expected a directory" "$HLX" --home= list ls
test_ok "usage errors left no node home behind" \
	sh -c '[ -z "$(ls -A "$1")" ]' sh "$TRASH/empty"

test_done
