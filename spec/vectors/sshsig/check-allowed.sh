#!/bin/sh
# SPDX-License-Identifier: MIT
# Checks allowed_checks.txt against the real ssh-keygen: every "good" row
# must verify with `ssh-keygen -Y verify`, every other row must fail.
# Prints TAP; exits non-zero on a mismatch.
#   sh spec/vectors/sshsig/check-allowed.sh [spec/vectors/sshsig]
d=${1:-$(dirname "$0")}
n=0 fail=0
tab=$(printf '\t')
while IFS="$tab" read -r want p ns t; do
	case $want in ''|'#'*) continue ;; esac
	n=$((n + 1))
	want_got=
	if TZ=UTC ssh-keygen -Y verify -f "$d/allowed_signers" -I "$p" \
		-n "$ns" -s "$d/message.$ns.sha512.sig" -Overify-time="$t" \
		< "$d/message" >/dev/null 2>&1; then
		got=good
	else
		got=bad
	fi
	case $want in good) ;; *) want_got=bad ;; esac
	if [ "$got" = "${want_got:-good}" ]; then
		echo "ok $n - ssh-keygen: $want '$p' $ns $t"
	else
		echo "not ok $n - ssh-keygen: '$p' $ns $t: got $got, want $want"
		fail=$((fail + 1))
	fi
done < "$d/allowed_checks.txt"
echo "1..$n"
[ $fail -eq 0 ]
