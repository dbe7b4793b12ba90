#!/bin/sh
# SPDX-License-Identifier: MIT
# The default publish directory is served by nginx running as its own
# user (issue 12 item 2): the node home is 0711, publish/ in it is
# world-readable and nothing else in the home is readable by others, so
# nginx as www-data (contrib/nginx/hlx-feed.conf's root) serves the feeds
# and a peer syncs through it.  A home as hlx made it before (0700) is
# refused (403 here, 404 with a stat() first), "Permission denied" in
# nginx's log; its next writer fixes it.
. "$(dirname "$0")/lib.sh"
. "$HLX_TOP/tests/lib-nginx.sh"

SEED=${HLX_SEED:-825}
echo "# seed $SEED"

skip() {
	test_count=$((test_count + 1))
	echo "ok $test_count - $1 # SKIP $2"
}

# the scratch directory stands for /var/lib: others may pass through it
chmod 0711 "$TRASH"
hlx --home a init --org org-a --no-passphrase 2>/dev/null
hlx --home b init --org org-b --no-passphrase 2>/dev/null
h1=md5:$(rand_hex 16)
hlx --home a list create l1 2>/dev/null
hlx --home a add l1 "$h1" --category csam-a 2>/dev/null
test_ok "a publishes into its default publish directory" hlx --home a publish
test_ok "the home is 0711" test "$(stat -c %a a)" = 711
# a home made in a directory that held files: only hlx's entries change
mkdir -p pre/www && echo hi >pre/www/index.html && chmod 0755 pre/www && chmod 0644 pre/www/index.html
echo x >pre/notes.txt && chmod 0644 pre/notes.txt
test_ok "init in a directory holding files leaves their modes" sh -c '
	"$HLX" --home pre init --org org-pre --no-passphrase 2>/dev/null &&
	test "$(stat -c %a pre/www)" = 755 && test "$(stat -c %a pre/www/index.html)" = 644 &&
	test "$(stat -c %a pre/notes.txt)" = 644 && test "$(stat -c %a pre/keys)" = 700 &&
	test "$(stat -c %a pre/config.json)" = 600'
test_ok "publish/ is world-readable, all the way down" sh -c \
	"test \"\$(stat -c %a a/publish)\" = 755 &&
	 ! find a/publish ! -perm -o+r | grep . &&
	 ! find a/publish -type d ! -perm -o+x | grep ."
# more of the home: a peer, its sync state, a policy, the match index
hlx --home a key show --root >a-root.pub
hlx --home b key show --root >b-root.pub
hlx --home a peer add b --key b-root.pub 2>/dev/null
hlx --home a match status >/dev/null 2>&1
hlx --home a publish 2>/dev/null
test_ok "nothing else at the home's top level is open to others" sh -c \
	"ls -A a >entries && grep -qx publish entries && test \$(wc -l <entries) -gt 6 &&
	 ! find a -mindepth 1 -maxdepth 1 ! -name publish -perm /077 | grep ."

if [ "$(id -u)" != 0 ] || ! getent passwd www-data >/dev/null ||
   ! command -v runuser >/dev/null; then
	for t in "www-data reads the feeds" "www-data reads nothing else" \
		 "nginx as www-data serves them" "a peer syncs through it" \
		 "a 0700 home is refused" "its next writer fixes it"; do
		skip "$t" "needs root, the user www-data and runuser"
	done
	test_done
fi

as_www() { runuser -u www-data -- "$@"; }
test_ok "www-data reads a head and the trust chain" \
	as_www sh -c "cat a/publish/lists/l1/head a/publish/trust.json >/dev/null"
test_ok "www-data cannot list the home" sh -c "! runuser -u www-data -- ls a"
for f in config.json trust.json keys/root.key keys/feed.secret state/data.mdb \
	 lists/l1.git/HEAD peers.json; do
	test_ok "  nor read $f" sh -c \
		"test -e a/$f && ! runuser -u www-data -- cat a/$f >/dev/null 2>&1"
done

NGINX_USER="www-data nogroup"
nginx_start a/publish
test_ok "nginx's workers run as www-data" sh -c \
	"ps -o user= --ppid $NGINX_PID | grep -qx www-data"
test_ok "nginx as www-data serves the head" sh -c \
	"curl -sSf --cacert '$NGINX_CA' '${NGINX_URL}lists/l1/head' | grep -q '\"body\"'"
test_ok "b pins a and subscribes" sh -c "\"\$HLX\" --home b peer add a --url '$NGINX_URL' --key a-root.pub --ca '$NGINX_CA' && \"\$HLX\" --home b subscribe a l1"
test_ok "b syncs through it" hlx --home b sync
test_ok "b finds a's hash" sh -c "\"\$HLX\" --home b lookup $h1 | grep -q 'a/l1'"

# a home as hlx made it before: 0700
chmod 0700 a
test_ok "no Permission denied in nginx's log so far" \
	sh -c "! grep -q 'Permission denied' '$NGINX_DIR/error.log'"
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$NGINX_CA" "${NGINX_URL}lists/l1/head")
test_ok "a 0700 home: nginx refuses the head ($code)" \
	sh -c "test $code = 403 || test $code = 404"
test_ok "  with Permission denied in its log" grep -q 'Permission denied' "$NGINX_DIR/error.log"
h2=md5:$(rand_hex 16)
test_ok "a's next writer (add) makes it 0711 again" sh -c \
	"\"\$HLX\" --home a add l1 $h2 --category csam-a && test \"\$(stat -c %a a)\" = 711"
hlx --home a publish 2>/dev/null
test_ok "and b syncs the new version through nginx" sh -c \
	"\"\$HLX\" --home b sync && \"\$HLX\" --home b lookup $h2 | grep -q 'a/l1'"
nginx_stop

test_done
