#!/bin/sh
# SPDX-License-Identifier: MIT
# node/fetch over real HTTPS: nginx on loopback with a test CA
# (tests/lib-nginx.sh), driven by the unit test program test-fetch with
# HLX_FETCH_URL set, over HTTP/2 and then HTTP/1.1.  Checks: GET with the test CA, refusal without it and
# for a host name the certificate does not name, conditional requests
# (ETag, Last-Modified), size limits (Content-Length and chunked), 404,
# other statuses, a truncated response, redirects (loop, to http, to
# file), a listener that never answers, a server that never answers the
# request, a server that is too slow; one handle keeps its connection
# across requests, an error response between them included.  Also checks
# lib-nginx.sh itself.
. "$(dirname "$0")/lib.sh"
. "$HLX_TOP/tests/lib-nginx.sh"

T=$HLX_BUILD/tests/test-fetch
test_ok "test-fetch is built" test -x "$T"

mkdir www
echo "hlx test file" >www/hello
nginx_start www
started=$?
test_ok "nginx starts" test "$started" -eq 0
[ "$started" -eq 0 ] || test_done
test_ok "the test CA signed the server certificate" \
	openssl verify -CAfile "$NGINX_CA" "$NGINX_DIR/srv.pem"
test_ok "curl fetches over HTTPS with the test CA" \
	sh -c 'curl -fsS --cacert "$NGINX_CA" "${NGINX_URL}hello" | grep -qx "hlx test file"'
test_fails_ext "curl refuses the server without the test CA" \
	curl -fsS -o /dev/null "${NGINX_URL}hello"

# live NAME: the unit test again, with the live cases.  Its TAP lines
# become ours, named "test-fetch NAME: ...".
live() {
	HLX_FETCH_URL=$NGINX_URL HLX_FETCH_CA=$NGINX_CA \
	HLX_FETCH_DIR=$TRASH/www HLX_FETCH_HANG_URL=$NGINX_HANG_URL \
	HLX_FETCH_WRONG_NAME_URL=${NGINX_WRONG_NAME_URL}hello \
	HLX_FETCH_CONNLOG=$NGINX_DIR/conn.log \
		"$T" >"live-$1.out" 2>&1
	rc=$?
	while IFS= read -r line; do
		case $line in
		"ok "*)
			test_count=$((test_count + 1))
			echo "ok $test_count - test-fetch $1: ${line#* - }" ;;
		"not ok "*)
			test_count=$((test_count + 1))
			test_failed=$((test_failed + 1))
			echo "not ok $test_count - test-fetch $1: ${line#* - }" ;;
		"#"*)
			echo "$line" ;;
		esac
	done <"live-$1.out"
	test_ok "test-fetch $1 passed (exit $rc)" test "$rc" -eq 0
	test_fails_ext "test-fetch $1: no sanitizer report" \
		grep -q Sanitizer "live-$1.out"
	test_ok "test-fetch $1: the live cases ran" \
		grep -q '^ok .* - live: redirect loop' "live-$1.out"
}

test_ok "the server speaks HTTP/2" \
	test "$(curl -sS --cacert "$NGINX_CA" -o /dev/null -w '%{http_version}' "${NGINX_URL}hello")" = 2
live h2

pid=$NGINX_PID hpid=$NGINX_HANG_PID
nginx_stop
test_fails_ext "nginx_stop stopped nginx" kill -0 "$pid"
test_fails_ext "and the silent listener" kill -0 "$hpid"
test_fails_ext "nothing answers any more" \
	curl -fsS --max-time 5 --cacert "$NGINX_CA" -o /dev/null "${NGINX_URL}hello"

# a restart (a peer's server going down and coming back) keeps the CA;
# this time HTTP/1.1 only, where truncation looks different
ca_before=$(cat "$NGINX_CA")
NGINX_HTTP2=0 nginx_start www
started=$?
test_ok "nginx starts again" test "$started" -eq 0
test_ok "with the same test CA" test "$(cat "$NGINX_CA")" = "$ca_before"
test_ok "and serves again" \
	sh -c 'curl -fsS --cacert "$NGINX_CA" "${NGINX_URL}hello" | grep -qx "hlx test file"'
test_ok "over HTTP/1.1" \
	test "$(curl -sS --cacert "$NGINX_CA" -o /dev/null -w '%{http_version}' "${NGINX_URL}hello")" = 1.1
live http1.1
nginx_stop

test_done
