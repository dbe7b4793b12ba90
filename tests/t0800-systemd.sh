#!/bin/sh
# SPDX-License-Identifier: MIT
# The systemd unit (contrib/systemd, issue 12 item 2): systemd-analyze
# verify accepts it with no warning when its ExecStart names the built
# binary, and refuses copies broken on purpose (a binary that is not
# there, a misspelt directive, a bad value); it carries the hardening it
# promises and systemd-analyze security rates it OK; the sysusers and
# tmpfiles files make the user and the home they promise.
. "$(dirname "$0")/lib.sh"

UNIT=$HLX_TOP/contrib/systemd/hlx.service
SYSUSERS=$HLX_TOP/contrib/systemd/hlx.sysusers
TMPFILES=$HLX_TOP/contrib/systemd/hlx.tmpfiles

# skip DESC REASON: one TAP test, skipped
skip() {
	test_count=$((test_count + 1))
	echo "ok $test_count - $1 # SKIP $2"
}

# copy NAME SED-EXPR: the unit as NAME.service, ExecStart naming the built
# binary, edited by SED-EXPR
copy() {
	sed -e "s|^ExecStart=/usr/bin/hlx |ExecStart=$HLX |" -e "$2" "$UNIT" \
		>"$TRASH/$1.service"
}

# verify_clean NAME: systemd-analyze verify exits 0 and says nothing (it
# only warns, exit 0, about unknown keys and bad values)
verify_clean() {
	out=$(cd "$TRASH" && systemd-analyze verify "./$1.service" 2>&1)
	rc=$?
	printf '%s\n' "$out"
	[ $rc -eq 0 ] && [ -z "$out" ]
}

verify_refused() {
	! verify_clean "$1"
}

# Documentation=man:hlx(1) is checked with man(1): the page from doc/
mkdir -p "$TRASH/man/man1" && cp "$HLX_TOP/doc/hlx.1" "$TRASH/man/man1/"
MANPATH=$TRASH/man
export MANPATH

test_ok "the unit's ExecStart is the installed binary, hlx run" \
	grep -qx 'ExecStart=/usr/bin/hlx run' "$UNIT"
for d in User=hlx Group=hlx ProtectSystem=strict ProtectHome=yes \
	 PrivateTmp=yes NoNewPrivileges=yes StateDirectory=hlx \
	 StateDirectoryMode=0711 'ReadWritePaths=%S/hlx' 'HLX_HOME=%S/hlx' \
	 'LoadCredential=passphrase:/etc/hlx/passphrase' \
	 'HLX_PASSPHRASE_FILE=%d/passphrase' \
	 'ExecReload=/bin/kill -HUP $MAINPID' CapabilityBoundingSet= \
	 PrivateDevices=yes 'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX' \
	 SystemCallFilter=@system-service MemoryDenyWriteExecute=yes \
	 UMask=0077; do
	test_ok "the unit says $d" grep -Fqx -e "$d" -e "Environment=$d" "$UNIT"
done
test_ok "no directive is given twice (but SystemCallFilter, Environment)" \
	sh -c "! sed -n 's/=.*//p' '$UNIT' | grep -v '^#' |
		grep -vx -e SystemCallFilter -e Environment | sort | uniq -d | grep ."

if ! command -v systemd-analyze >/dev/null 2>&1; then
	for t in "verify accepts the unit" "verify refuses a missing binary" \
		 "verify refuses a misspelt directive" "verify refuses a bad value" \
		 "verify refuses a relative ExecStart" "security rates it OK" \
		 "sysusers makes the user" "tmpfiles makes the home"; do
		skip "$t" "systemd-analyze is not installed (Debian: systemd)"
	done
	test_done
fi

copy ok ''
test_ok "systemd-analyze verify accepts the unit, without a warning" \
	verify_clean ok
copy nobin 's|^ExecStart=.*|ExecStart=/nonexistent/hlx run|'
test_ok "verify refuses a copy whose binary is not there" verify_refused nobin
copy misspelt 's|^ProtectHome=yes|ProtectHom=yes|'
test_ok "verify refuses a misspelt directive" verify_refused misspelt
copy badvalue 's|^ProtectSystem=strict|ProtectSystem=stirct|'
test_ok "verify refuses a bad value" verify_refused badvalue
copy relative 's|^ExecStart=.*|ExecStart=hlx run|'
test_ok "verify refuses a relative ExecStart" verify_refused relative
copy noexec '/^ExecStart=/d'
test_ok "verify refuses a unit without ExecStart" verify_refused noexec

# the overall exposure (0 best, 10 worst): below 2 is "OK" and better
exposure() {
	(cd "$TRASH" && systemd-analyze security --offline=true "./$1.service" \
		2>/dev/null) | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p'
}
e=$(exposure ok)
test_ok "systemd-analyze security rates the unit OK (exposure $e < 2.0)" \
	awk -v e="$e" 'BEGIN { exit !(e != "" && e + 0 < 2.0) }'
copy soft '/^ProtectSystem=/d; /^ProtectHome=/d; /^PrivateDevices=/d; /^SystemCallFilter=/d; /^CapabilityBoundingSet=/d; /^RestrictAddressFamilies=/d'
e2=$(exposure soft)
test_ok "and the rating sees the hardening (without it: $e2)" \
	awk -v e="$e" -v f="$e2" 'BEGIN { exit !(f != "" && f + 0 > e + 1) }'

if [ "$(id -u)" != 0 ]; then
	skip "sysusers makes the user" "needs root (chown)"
	skip "tmpfiles makes the home" "needs root (chown)"
	test_done
fi
mkdir -p "$TRASH/root/etc"
test_ok "systemd-sysusers takes hlx.sysusers" \
	systemd-sysusers --root="$TRASH/root" "$SYSUSERS"
test_ok "it makes the system user hlx, home /var/lib/hlx, no login" \
	grep -Eq '^hlx:x:[0-9]+:[0-9]+:[^:]*:/var/lib/hlx:/usr/sbin/nologin$' \
	"$TRASH/root/etc/passwd"
test_ok "systemd-tmpfiles takes hlx.tmpfiles" \
	systemd-tmpfiles --root="$TRASH/root" --create "$TMPFILES"
uid=$(sed -n 's/^hlx:x:\([0-9]*\):.*/\1/p' "$TRASH/root/etc/passwd")
test_ok "the home /var/lib/hlx is 0711 (nginx reaches publish/) and the user's" \
	test "$(stat -c '%a %u' "$TRASH/root/var/lib/hlx")" = "711 $uid"
test_ok "/etc/hlx (the passphrase's) is 0700 and root's" \
	test "$(stat -c '%a %u' "$TRASH/root/etc/hlx")" = "700 0"

test_done
