#!/bin/sh
# SPDX-License-Identifier: MIT
# The node's settings, HOME/hlx.conf (issue 12 item 2): hlx config
# get/set/unset/ls; publish and run go by them and the command line
# overrides them; set checks a value before it is written, under the
# writer lock, atomically, and a refused one leaves the file as it was;
# a file with an unknown key, a bad value, a key given twice or a line
# that is not KEY = VALUE is refused whole, naming the line and the key.
. "$(dirname "$0")/lib.sh"

SEED=${HLX_SEED:-830}
echo "# seed $SEED"
hlx --home n init --org acme --no-passphrase 2>/dev/null
hlx --home n list create l1 2>/dev/null
h1=md5:$(rand_hex 16)
hlx --home n add l1 "$h1" --category csam-a 2>/dev/null

# ---- defaults --------------------------------------------------------------
test_ok "get poll-interval: 60 by default" \
	test "$(hlx --home n config get poll-interval)" = 60
test_ok "get expires-days: 7 by default" \
	test "$(hlx --home n config get expires-days)" = 7
test_ok "get publish-dir: publish/ in the home by default" \
	test "$(hlx --home n config get publish-dir)" = "n/publish"
cat >expect-ls <<EOF2
# publish-dir = n/publish (default)
# poll-interval = 60 (default)
# expires-days = 7 (default)
EOF2
hlx --home n config ls >got-ls 2>&1
test_cmp "ls: every setting, defaults commented out" expect-ls got-ls
test_ok "no settings file yet" test ! -e n/hlx.conf
test_fails_with "get of an unknown key is a usage error naming it" 2 \
	"unknown key 'pollinterval'" hlx --home n config get pollinterval

# ---- set ------------------------------------------------------------------
test_ok "set poll-interval 5" hlx --home n config set poll-interval 5
test_ok "get says 5" test "$(hlx --home n config get poll-interval)" = 5
test_ok "the file is 0600, with the one key" sh -c \
	"test \"\$(stat -c %a n/hlx.conf)\" = 600 &&
	 grep -v '^#' n/hlx.conf | grep -qx 'poll-interval = 5' &&
	 test \$(grep -vc '^#' n/hlx.conf) -eq 1"
test_ok "set expires-days 3" hlx --home n config set expires-days 3
test_ok "set publish-dir $TRASH/www/n" hlx --home n config set publish-dir "$TRASH/www/n"
hlx --home n config ls >got-ls 2>&1
cat >expect-ls <<EOF2
publish-dir = $TRASH/www/n
poll-interval = 5
expires-days = 3
EOF2
test_cmp "ls shows the three" expect-ls got-ls
test_ok "no temporary file left in the home" \
	sh -c "! ls -A n | grep -q tmp"

# publish goes by them, --to and --expires-days override
test_ok "publish writes into the configured directory" \
	sh -c "\"\$HLX\" --home n publish && test -f www/n/lists/l1/head && test ! -e n/publish/lists/l1/head"
exp_days() { # days from now to the head's expiry
	python3 -c 'import json,sys,datetime as d
h=json.loads(json.load(open(sys.argv[1]))["body"])
e=d.datetime.strptime(h["expires"],"%Y-%m-%dT%H:%M:%SZ")
print(round((e-d.datetime.utcnow()).total_seconds()/86400))' "$1"
}
test_ok "its head lives 3 days (expires-days)" test "$(exp_days www/n/lists/l1/head)" = 3
test_ok "publish --to overrides publish-dir" \
	sh -c "\"\$HLX\" --home n publish --to '$TRASH/other' && test -f other/lists/l1/head"
test_ok "publish --expires-days 5 (over expires-days 3)" \
	hlx --home n publish --to "$TRASH/other2" --expires-days 5
test_ok "  gives a head that lives 5 days" \
	test "$(exp_days other2/lists/l1/head)" = 5

# ---- refused values leave the file as it was --------------------------------
cp n/hlx.conf before
refuse() { # DESC RC PATTERN KEY VALUE
	test_fails_with "set $4 '$5' is refused: $1" "$2" "$3" \
		hlx --home n config set "$4" "$5"
	test_cmp "  and the file is unchanged" before n/hlx.conf
}
refuse "zero" 3 "poll-interval: expected a whole number 1..86400, got '0'" poll-interval 0
refuse "too large" 3 "poll-interval: expected a whole number 1..86400" poll-interval 86401
refuse "not a number" 3 "poll-interval: expected a whole number" poll-interval 5s
refuse "negative (an option)" 2 "unknown option '-1'" poll-interval -1
refuse "blank" 3 "poll-interval: expected" poll-interval " 5"
refuse "huge" 3 "poll-interval: expected" poll-interval 99999999999999999999
refuse "over a year" 3 "expires-days: expected a whole number 1..366" expires-days 367
refuse "relative" 3 "publish-dir: expected an absolute path, got 'www/n'" publish-dir www/n
refuse "empty" 3 "publish-dir: expected an absolute path" publish-dir ""
refuse "a newline" 3 "publish-dir: .* holds a control character" publish-dir "/srv/a
poll-interval = 1"
refuse "unknown key" 2 "unknown key 'interval'" interval 5
refuse "the home itself" 3 "holds the node home" publish-dir "$TRASH/n"
refuse "a parent of the home" 3 "holds the node home" publish-dir "$TRASH"
refuse "inside the home" 3 "lies inside the node home" publish-dir "$TRASH/n/feeds"
refuse "inside the home, through .." 3 "lies inside the node home" publish-dir "$TRASH/n/lists/../feeds"
refuse "inside the home, not made yet" 3 "lies inside the node home" publish-dir "$TRASH/n/a/b/c"
ln -s "$TRASH/n" linked
refuse "inside the home, through a link" 3 "lies inside the node home" publish-dir "$TRASH/linked/feeds"
test_ok "the home's own publish/ is allowed" hlx --home n config set publish-dir "$TRASH/n/publish"
cp n/hlx.conf before
test_fails_with "publish --to inside the home is refused" 3 "lies inside the node home" \
	hlx --home n publish --to "$TRASH/n/views"
test_fails_with "publish --to the home is refused" 3 "holds the node home" \
	hlx --home n publish --to n
test_fails_with "set without a value is a usage error" 2 "takes 2 operands" \
	hlx --home n config set poll-interval

# set waits for the writer lock (flock on HOME/lock) and reads under it
if command -v flock >/dev/null 2>&1; then
	rm -f flock.ready
	flock n/lock sh -c ': >flock.ready; sleep 2' &
	holder=$!
	while [ ! -e flock.ready ]; do sleep 0.05; done
	"$HLX" --home n config set poll-interval 7 2>setlog &
	setter=$!
	sleep 0.5
	test_ok "set waits while another writer holds the lock" \
		sh -c "kill -0 $setter 2>/dev/null && grep -qx 'poll-interval = 5' n/hlx.conf"
	wait $holder
	wait $setter
	test_ok "and sets once it has it" \
		test "$(hlx --home n config get poll-interval)" = 7
else
	test_ok "flock(1) is not installed: skipped # SKIP" true
	test_ok "skipped # SKIP" true
fi
hlx --home n config set poll-interval 5 2>/dev/null
cp n/hlx.conf before

test_ok "unset expires-days puts the default back" sh -c \
	"\"\$HLX\" --home n config unset expires-days &&
	 test \"\$(\"\$HLX\" --home n config get expires-days)\" = 7 &&
	 ! grep -q expires-days n/hlx.conf"
hlx --home n config set expires-days 3 2>/dev/null
cp n/hlx.conf before

# ---- strict parsing -------------------------------------------------------------
# bad FILE-CONTENT DESC PATTERN: the file is refused by get, publish, run
# and set (which leaves it as it is)
bad() {
	printf '%s\n' "$1" >n/hlx.conf
	cp n/hlx.conf bad.conf
	test_fails_with "a file with $2: get refuses it" 3 "$3" \
		hlx --home n config get poll-interval
	test_fails_with "  publish refuses it" 3 "$3" hlx --home n publish
	test_fails_with "  run refuses it at start" 3 "$3" \
		hlx --home n run --interval 1
	test_fails_with "  set refuses it" 3 "$3" \
		hlx --home n config set poll-interval 9
	test_cmp "  and leaves it as it was" bad.conf n/hlx.conf
}
bad "poll-interval = 5
polling = 3" "an unknown key" "settings '.*hlx.conf': line 2: unknown key 'polling'"
bad "# ok
expires-days = 0" "a bad value" "line 2: expires-days: expected a whole number 1..366, got '0'"
bad "poll-interval = 5
poll-interval = 6" "a key twice" "line 2: key 'poll-interval' given twice"
bad "poll-interval 5" "no '='" "line 1: expected KEY = VALUE, got 'poll-interval 5'"
bad "publish-dir = relative/dir" "a relative publish-dir" \
	"line 1: publish-dir: expected an absolute path"
bad " = 5" "no key" "line 1: unknown key ''"

printf '# a comment\n\n  poll-interval=4  \r\n\t# another\nexpires-days = 2\n' >n/hlx.conf
test_ok "comments, blank lines, blanks around '=' and CRLF are fine" sh -c \
	"test \"\$(\"\$HLX\" --home n config get poll-interval)\" = 4 &&
	 test \"\$(\"\$HLX\" --home n config get expires-days)\" = 2"
test_ok "the file is a settings file ls prints" sh -c \
	"\"\$HLX\" --home n config ls >ls.conf && cp ls.conf n/hlx.conf &&
	 \"\$HLX\" --home n config ls | cmp -s - ls.conf"

test_done
