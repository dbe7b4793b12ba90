#!/bin/sh
# SPDX-License-Identifier: MIT
# make install, make uninstall and make deb (issue 12 item 2): install puts
# the binary, the man page, the bash completion (what `hlx completion bash`
# prints), the systemd unit (naming the installed binary), its sysusers
# and tmpfiles files where DESTDIR and PREFIX say, with their modes, and
# nothing else; uninstall removes exactly them; deb builds
# hlx_VERSION_ARCH.deb holding the same, owned by root, with the control
# fields and dependencies right and no lintian error.
. "$(dirname "$0")/lib.sh"

# the build the tests run (make check: the sanitizer build)
san=
case $HLX_BUILD in */san) san="SAN=1" ;; esac
mk() {
	make -s --no-print-directory -C "$HLX_TOP" O="$HLX_BUILD" $san "$@"
}

skip() {
	test_count=$((test_count + 1))
	echo "ok $test_count - $1 # SKIP $2"
}

# modes: "MODE PATH" for every file under DESTDIR ($TRASH/dest)
modes() {
	(cd "$TRASH/dest" && find . -type f -printf '%m %P\n' | LC_ALL=C sort)
}

cat >expect-usr <<EOF
644 lib/systemd/system/hlx.service
644 lib/sysusers.d/hlx.conf
644 lib/tmpfiles.d/hlx.conf
644 share/bash-completion/completions/hlx
644 share/man/man1/hlx.1
755 bin/hlx
EOF
sed 's|^\([0-9]*\) |\1 usr/|' expect-usr | LC_ALL=C sort >expect-install

test_ok "make install DESTDIR=dest PREFIX=/usr" \
	mk install DESTDIR="$TRASH/dest" PREFIX=/usr
modes >got-install
test_cmp "it installs each file, with its mode, and nothing else" \
	expect-install got-install
test_cmp "the binary is the one built" "$HLX" dest/usr/bin/hlx
test_cmp "the man page is doc/hlx.1" "$HLX_TOP/doc/hlx.1" \
	dest/usr/share/man/man1/hlx.1
test_cmp "the completion is the one built" "$HLX_BUILD/hlx.bash-completion" \
	dest/usr/share/bash-completion/completions/hlx
"$HLX" completion bash >completion.out 2>&1
test_cmp "which is what 'hlx completion bash' prints" completion.out \
	dest/usr/share/bash-completion/completions/hlx
test_ok "bash reads it and completes hlx" bash -c \
	'. dest/usr/share/bash-completion/completions/hlx && complete -p hlx'
test_ok "the unit runs the installed binary" \
	grep -qx 'ExecStart=/usr/bin/hlx run' \
	dest/usr/lib/systemd/system/hlx.service
sed 's|^ExecStart=.*||' "$HLX_TOP/contrib/systemd/hlx.service" >unit-src
sed 's|^ExecStart=.*||' dest/usr/lib/systemd/system/hlx.service >unit-inst
test_cmp "and is contrib/systemd/hlx.service otherwise" unit-src unit-inst
test_cmp "sysusers.d/hlx.conf is contrib/systemd/hlx.sysusers" \
	"$HLX_TOP/contrib/systemd/hlx.sysusers" dest/usr/lib/sysusers.d/hlx.conf
test_cmp "tmpfiles.d/hlx.conf is contrib/systemd/hlx.tmpfiles" \
	"$HLX_TOP/contrib/systemd/hlx.tmpfiles" dest/usr/lib/tmpfiles.d/hlx.conf

# a file of someone else's beside ours stays
: >dest/usr/bin/other
test_ok "make uninstall DESTDIR=dest PREFIX=/usr" \
	mk uninstall DESTDIR="$TRASH/dest" PREFIX=/usr
test_ok "removes every file it installed, and only those" \
	test "$(modes)" = "644 usr/bin/other"
rm -rf dest

test_ok "make install PREFIX=/usr/local" \
	mk install DESTDIR="$TRASH/dest" PREFIX=/usr/local
test_ok "puts the unit where systemd looks under /usr/local" \
	grep -qx 'ExecStart=/usr/local/bin/hlx run' \
	dest/usr/local/lib/systemd/system/hlx.service
mk uninstall DESTDIR="$TRASH/dest" PREFIX=/usr/local
test_ok "and make uninstall PREFIX=/usr/local removes it all" \
	test -z "$(modes)"

# ---- make deb ---------------------------------------------------------------
if ! command -v dpkg-deb >/dev/null 2>&1 ||
   ! command -v dpkg-shlibdeps >/dev/null 2>&1; then
	skip "make deb" "dpkg-deb or dpkg-shlibdeps is not installed (Debian: dpkg-dev)"
	test_done
fi
version=$("$HLX" --version | sed -n 's/^hlx //p')
arch=$(dpkg --print-architecture)
deb=$TRASH/hlx_${version}_$arch.deb
test_ok "make deb builds hlx_${version}_$arch.deb" \
	sh -c "make -s --no-print-directory -C '$HLX_TOP' O='$HLX_BUILD' $san \
		deb DEB_OUT='$TRASH' && test -f '$deb'"

dpkg-deb -c "$deb" | awk '$1 !~ /^d/ { print $1, $2, $6 }' |
	LC_ALL=C sort -k3 >got-deb
{
	echo "-rw-r--r-- root/root ./lib/systemd/system/hlx.service"
	echo "-rwxr-xr-x root/root ./usr/bin/hlx"
	echo "-rw-r--r-- root/root ./usr/lib/sysusers.d/hlx.conf"
	echo "-rw-r--r-- root/root ./usr/lib/tmpfiles.d/hlx.conf"
	echo "-rw-r--r-- root/root ./usr/share/bash-completion/completions/hlx"
	echo "-rw-r--r-- root/root ./usr/share/doc/hlx/changelog.gz"
	echo "-rw-r--r-- root/root ./usr/share/doc/hlx/copyright"
	echo "-rw-r--r-- root/root ./usr/share/man/man1/hlx.1.gz"
} | LC_ALL=C sort -k3 >expect-deb
test_cmp "the package holds exactly the files, root's, with their modes" \
	expect-deb got-deb
test_ok "every directory in it is root's and 0755" \
	sh -c "dpkg-deb -c '$deb' | awk '\$1 ~ /^d/ && (\$1 != \"drwxr-xr-x\" || \$2 != \"root/root\") { bad = 1 } END { exit bad }'"
mkdir x && dpkg-deb -x "$deb" x
gzip -dc x/usr/share/man/man1/hlx.1.gz >man.out
test_cmp "its man page is doc/hlx.1" "$HLX_TOP/doc/hlx.1" man.out
test_ok "its unit runs /usr/bin/hlx" \
	grep -qx 'ExecStart=/usr/bin/hlx run' x/lib/systemd/system/hlx.service
test_ok "its binary runs and is stripped" sh -c \
	"x/usr/bin/hlx --version | grep -qx 'hlx $version' &&
	 ! readelf -S x/usr/bin/hlx | grep -q '\.debug_info'"

field() { dpkg-deb -f "$deb" "$1"; }
test_ok "Package: hlx" test "$(field Package)" = hlx
test_ok "Version: $version (hlx --version)" test "$(field Version)" = "$version"
test_ok "Architecture: $arch" test "$(field Architecture)" = "$arch"
test_ok "a Maintainer, a Section, a Description" sh -c \
	"test -n \"\$(dpkg-deb -f '$deb' Maintainer)\" &&
	 test -n \"\$(dpkg-deb -f '$deb' Section)\" &&
	 test -n \"\$(dpkg-deb -f '$deb' Description)\""
depends=$(field Depends)
echo "# Depends: $depends"
for p in libc6 libsodium23 liblmdb0 libjansson4 libgit2-1.5 libcurl4 zlib1g; do
	test_ok "Depends names $p" sh -c \
		"printf '%s\n' '$depends' | tr ',' '\n' | grep -Eq '^ *$p( |\$)'"
done
test_ok "the postinst makes the user, and is a valid script" sh -c \
	"dpkg-deb -e '$deb' ctl && test -x ctl/postinst && sh -n ctl/postinst &&
	 grep -q 'systemd-sysusers hlx.conf' ctl/postinst &&
	 grep -q 'useradd --system' ctl/postinst && sh -n ctl/postrm"
test_ok "md5sums cover every file" sh -c \
	"cd x && md5sum --quiet -c ../ctl/md5sums &&
	 test \$(wc -l <../ctl/md5sums) -eq \$(wc -l <../expect-deb)"

if command -v lintian >/dev/null 2>&1; then
	lintian "$deb" >lintian.out 2>&1
	sed 's/^/# lintian: /' lintian.out
	test_ok "lintian reports no error" sh -c "! grep '^E:' lintian.out"
else
	skip "lintian reports no error" "lintian is not installed (Debian: lintian)"
fi

test_done
