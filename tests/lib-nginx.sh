# SPDX-License-Identifier: MIT
# A real nginx on loopback over HTTPS, with a test certificate authority,
# for the shell integration tests.  Source it after tests/lib.sh:
#
#	. "$(dirname "$0")/lib.sh"
#	. "$HLX_TOP/tests/lib-nginx.sh"
#	mkdir -p www/a && hlx --home a publish --to www/a
#	nginx_start www           # serves $TRASH/www
#	hlx --home b peer add a --url "${NGINX_URL}a/" ...   # with $NGINX_CA
#	nginx_stop
#	test_done
#
# nginx_start DIR serves DIR (static files, with nginx's usual ETag and
# Last-Modified, no directory listings) at https://127.0.0.1:PORT/, over
# HTTP/2 or HTTP/1.1 as the client chooses (NGINX_HTTP2=0 before
# nginx_start: HTTP/1.1 only), and exports:
#	NGINX_URL       https://127.0.0.1:PORT/ (DIR/x is ${NGINX_URL}x; put
#	                each node's publish directory in its own subdirectory)
#	NGINX_CA        the test CA certificate (PEM) that signed the server's
#	                certificate (subjectAltName IP:127.0.0.1, DNS:localhost)
#	NGINX_PORT      the port
#	NGINX_DIR       the directory holding the server's files and logs
#	                (error.log, access.log; conn.log: a line a request,
#	                "CONNECTION REQUESTS URI STATUS TIME", its connection's
#	                serial number, how many requests it has carried, and
#	                when it ended, in seconds since the epoch to the ms),
#	                in $TRASH
# and, to misbehave for the attack tests, with nginx core modules only:
#	NGINX_HANG_URL       a listener that accepts TCP connections and never
#	                     sends a byte, not even the TLS handshake (an nginx
#	                     stopped with SIGSTOP: the kernel still accepts)
#	NGINX_HANG_HTTP_URL  completes TLS, reads the request, never answers
#	                     (${NGINX_URL}hang/, proxied to the stopped server)
#	NGINX_WRONG_NAME_URL the same files at https://127.0.0.2:PORT/, an
#	                     address the certificate does not name (Linux
#	                     routes all of 127/8 to the loopback interface)
#	${NGINX_URL}slow/X       DIR/X at 64 bytes per second
#	${NGINX_URL}nolength/X   DIR/X without Content-Length (chunked), to
#	                         test size limits on bodies of unknown length
#	${NGINX_URL}truncated/X  DIR/X with its full Content-Length, but the
#	                         response is cut off after the first 64
#	                         bytes (X must be larger than that)
#	${NGINX_URL}redirect/X   302 to ${NGINX_URL}X
#	${NGINX_URL}redirect-loop  302 to itself, forever
#	${NGINX_URL}redirect-http  302 to http://127.0.0.1:PORT/ (plain http)
#	${NGINX_URL}redirect-file  302 to file:///etc/passwd
#	${NGINX_URL}status/N     replies with HTTP status N, for N in 400 401
#	                         403 410 429 500 502 503
# 404 is any missing file.  An oversized body is any large file in DIR.
#
# nginx_stop stops both servers.  nginx_start also sets a trap that runs
# nginx_stop on exit (after test_done, whose exit status it keeps) and on
# INT, TERM and HUP, so a failing test leaves no server behind; a test
# that sets its own EXIT trap must call nginx_stop in it.  Call nginx_start
# in the test's main shell, not in $(...) or a pipeline, and stop it before
# test_done when possible (test_done removes $TRASH).  It appends
# 127.0.0.1 and localhost to no_proxy/NO_PROXY, so a proxy configured in
# the environment is not used for the loopback server.
#
# Needs nginx (Debian: nginx-light or nginx; found in PATH or /usr/sbin,
# or set NGINX_BIN), openssl and curl, nothing else.  Runs nginx as the
# current user: as root, the workers stay root
# ("user root;") so they can read $TRASH, which is private, unless
# NGINX_USER names the user they run as (as root only: "www-data nogroup").

NGINX_PID=
NGINX_HANG_PID=

# nginx_rand_port: a random port in 20000..59999.
nginx_rand_port() {
	echo $((20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 40000))
}

# nginx_make_ca: the test CA and the server certificate, once per test.
nginx_make_ca() {
	[ -f "$NGINX_DIR/srv.pem" ] && return 0
	cat >"$NGINX_DIR/openssl.cnf" <<-EOF
	[req]
	distinguished_name = dn
	prompt = no
	[dn]
	CN = hlx test
	[ca_ext]
	basicConstraints = critical,CA:TRUE
	keyUsage = critical,keyCertSign,cRLSign
	subjectKeyIdentifier = hash
	[srv_ext]
	basicConstraints = critical,CA:FALSE
	keyUsage = critical,digitalSignature
	extendedKeyUsage = serverAuth
	subjectAltName = IP:127.0.0.1,DNS:localhost
	subjectKeyIdentifier = hash
	authorityKeyIdentifier = keyid
	EOF
	(
		cd "$NGINX_DIR" &&
		openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
			-nodes -keyout ca.key -out ca.pem -days 7 \
			-config openssl.cnf -extensions ca_ext \
			-subj "/CN=hlx test CA $$" &&
		openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
			-nodes -keyout srv.key -out srv.csr -config openssl.cnf \
			-subj "/CN=localhost" &&
		openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key \
			-set_serial "0x$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')" \
			-days 7 -extfile openssl.cnf -extensions srv_ext \
			-out srv.pem
	) >"$NGINX_DIR/openssl.log" 2>&1 || {
		echo "# nginx_start: cannot make the test CA:" >&2
		sed 's/^/#   /' "$NGINX_DIR/openssl.log" >&2
		return 1
	}
}

# nginx_conf_common NAME ERRORLOG: main-context lines shared by both servers.
nginx_conf_common() {
	_ng_d=$NGINX_DIR
	if [ -n "${NGINX_USER:-}" ]; then
		echo "user $NGINX_USER;"
	elif [ "$(id -u)" = 0 ]; then
		echo "user root;"
	fi
	cat <<-EOF
	daemon off;
	pid $_ng_d/$1.pid;
	lock_file $_ng_d/$1.lock;
	error_log $_ng_d/$2 warn;
	events { worker_connections 512; }
	EOF
}

nginx_conf_temp() {
	for _ng_t in client_body proxy fastcgi uwsgi scgi; do
		echo "	${_ng_t}_temp_path $NGINX_DIR/tmp/$_ng_t;"
	done
}

nginx_write_conf() {
	_ng_root=$1 _ng_port=$2 _ng_hport=$3 _ng_d=$NGINX_DIR _ng_h2=
	[ "${NGINX_HTTP2:-1}" = 0 ] || _ng_h2=" http2"
	{
		nginx_conf_common hang hang-error.log
		echo "master_process off;"
		echo "http {"
		nginx_conf_temp
		cat <<-EOF
		access_log off;
		server {
			listen 127.0.0.1:$_ng_hport;
			location / { return 200 "hlx-hang-$$\n"; }
		}
		}
		EOF
	} >"$_ng_d/hang.conf"
	{
		nginx_conf_common nginx error.log
		echo "worker_processes 1;"
		echo "http {"
		nginx_conf_temp
		cat <<-EOF
		default_type application/octet-stream;
		types { }
		access_log $_ng_d/access.log;
		log_format hlxconn '\$connection \$connection_requests \$request_uri \$status \$msec';
		access_log $_ng_d/conn.log hlxconn;
		sendfile on;
		server_tokens off;
		absolute_redirect off;
		keepalive_timeout 30s;
		server {
			listen 127.0.0.1:$_ng_port ssl$_ng_h2;
			listen 127.0.0.2:$_ng_port ssl$_ng_h2;
			server_name localhost;
			ssl_certificate $_ng_d/srv.pem;
			ssl_certificate_key $_ng_d/srv.key;
			ssl_protocols TLSv1.2 TLSv1.3;
			root $_ng_root;
			autoindex off;
			location / { }
			location = /.hlx-nginx-ready { return 200 "hlx-$$\n"; }
			location /hang/ {
				proxy_pass http://127.0.0.1:$_ng_hport;
				proxy_connect_timeout 60s;
				proxy_send_timeout 1h;
				proxy_read_timeout 1h;
			}
			location /slow/ { alias $_ng_root/; limit_rate 64; }
			location /nolength/ {
				alias $_ng_root/;
				sub_filter_types *;
				sub_filter "hlx-no-such-pattern" "";
			}
			location /truncated/ {
				slice 64;
				proxy_buffering off;
				proxy_set_header Range \$slice_range;
				proxy_http_version 1.1;
				proxy_pass http://unix:$_ng_d/up.sock:/;
			}
			location /redirect/ { rewrite ^/redirect/(.*)\$ /\$1 redirect; }
			location = /redirect-loop { return 302 /redirect-loop; }
			location = /redirect-http { return 302 http://127.0.0.1:$_ng_port/; }
			location = /redirect-file { return 302 file:///etc/passwd; }
			EOF
		for _ng_s in 400 401 403 410 429 500 502 503; do
			echo "	location = /status/$_ng_s { return $_ng_s; }"
		done
		cat <<-EOF
		}
		# the source of /truncated/: the first slice only, then a
		# closed connection
		server {
			listen unix:$_ng_d/up.sock;
			root $_ng_root;
			location / {
				if (\$http_range !~ "^bytes=0-") { return 444; }
			}
		}
		}
		EOF
	} >"$_ng_d/nginx.conf"
}

# nginx_wait URL WANT PID: until URL answers WANT (true) or PID died or 10 s
# passed (false).
nginx_wait() {
	_ng_i=0
	while [ $_ng_i -lt 100 ]; do
		_ng_got=$(curl -sS --noproxy '*' --cacert "$NGINX_DIR/ca.pem" \
			--max-time 2 "$1" 2>/dev/null) && [ "$_ng_got" = "$2" ] &&
			return 0
		nginx_alive "$3" || return 1
		sleep 0.1
		_ng_i=$((_ng_i + 1))
	done
	return 1
}

# nginx_alive PID: PID runs (not exited, not a zombie waiting for wait).
nginx_alive() {
	[ -r "/proc/$1/stat" ] || return 1
	case $(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) in
	Z*|X*|"") return 1 ;;
	esac
	return 0
}

# nginx_kill PID SIGNAL: signal PID, give it 10 s, SIGKILL it, reap it.
nginx_kill() {
	kill "-$2" "$1" 2>/dev/null
	_ng_i=0
	while nginx_alive "$1" && [ $_ng_i -lt 100 ]; do
		sleep 0.1
		_ng_i=$((_ng_i + 1))
	done
	nginx_alive "$1" && kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}

nginx_stop() {
	if [ -n "$NGINX_HANG_PID" ]; then
		nginx_kill "$NGINX_HANG_PID" KILL # stopped: only KILL works
		NGINX_HANG_PID=
	fi
	if [ -n "$NGINX_PID" ]; then
		nginx_kill "$NGINX_PID" TERM
		NGINX_PID=
	fi
	return 0
}

nginx_start() {
	_ng_root=$(cd "${1:?nginx_start DIR}" && pwd) || return 1
	nginx_stop
	# not in a normal user's PATH on Debian
	NGINX_BIN=${NGINX_BIN:-$(command -v nginx || echo /usr/sbin/nginx)}
	for _ng_t in "$NGINX_BIN" openssl curl; do
		command -v "$_ng_t" >/dev/null 2>&1 && continue
		echo "# nginx_start: $_ng_t is not installed" \
			"(Debian: apt-get install nginx-light openssl curl)" >&2
		return 1
	done
	NGINX_DIR=$TRASH/nginx
	mkdir -p "$NGINX_DIR/tmp" || return 1
	nginx_make_ca || return 1
	trap 'nginx_stop' EXIT
	trap 'nginx_stop; exit 129' HUP
	trap 'nginx_stop; exit 130' INT
	trap 'nginx_stop; exit 143' TERM
	no_proxy=${no_proxy:+$no_proxy,}127.0.0.1,localhost
	NO_PROXY=$no_proxy
	export no_proxy NO_PROXY
	_ng_tries=0
	while [ $_ng_tries -lt 10 ]; do
		_ng_tries=$((_ng_tries + 1))
		_ng_port=$(nginx_rand_port)
		_ng_hport=$((_ng_port + 1))
		rm -f "$NGINX_DIR/up.sock"
		nginx_write_conf "$_ng_root" "$_ng_port" "$_ng_hport"
		"$NGINX_BIN" -e "$NGINX_DIR/hang-error.log" -c "$NGINX_DIR/hang.conf" \
			>>"$NGINX_DIR/stderr.log" 2>&1 </dev/null &
		NGINX_HANG_PID=$!
		if ! nginx_wait "http://127.0.0.1:$_ng_hport/" "hlx-hang-$$" \
		     "$NGINX_HANG_PID"; then
			nginx_stop
			continue
		fi
		kill -STOP "$NGINX_HANG_PID"
		"$NGINX_BIN" -e "$NGINX_DIR/error.log" -c "$NGINX_DIR/nginx.conf" \
			>>"$NGINX_DIR/stderr.log" 2>&1 </dev/null &
		NGINX_PID=$!
		if nginx_wait "https://127.0.0.1:$_ng_port/.hlx-nginx-ready" \
		   "hlx-$$" "$NGINX_PID"; then
			NGINX_PORT=$_ng_port
			NGINX_URL=https://127.0.0.1:$_ng_port/
			NGINX_CA=$NGINX_DIR/ca.pem
			NGINX_HANG_URL=https://127.0.0.1:$_ng_hport/
			NGINX_HANG_HTTP_URL=${NGINX_URL}hang/
			NGINX_WRONG_NAME_URL=https://127.0.0.2:$_ng_port/
			export NGINX_PORT NGINX_URL NGINX_CA NGINX_DIR \
				NGINX_HANG_URL NGINX_HANG_HTTP_URL \
				NGINX_WRONG_NAME_URL
			return 0
		fi
		nginx_stop
	done
	echo "# nginx_start: nginx did not start; its logs:" >&2
	tail -n 20 "$NGINX_DIR/stderr.log" "$NGINX_DIR/error.log" \
		"$NGINX_DIR/hang-error.log" 2>/dev/null | sed 's/^/#   /' >&2
	return 1
}
