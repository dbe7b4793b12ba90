#!/bin/sh
# SPDX-License-Identifier: MIT
# SSHSIG interoperability with OpenSSH's ssh-keygen: hlx's signatures and
# allowed-signers files work with ssh-keygen -Y, ssh-keygen's signatures
# verify with hlx verify, and forged, truncated, malformed and unsupported
# signatures are refused with the documented exit codes (1: does not
# verify or not trusted, 2: usage, 3: malformed or unsupported).
. "$(dirname "$0")/lib.sh"

echo "# seed $SEED"
VEC=$HLX_TOP/spec/vectors/sshsig

# forge IN OUT MODE: rewrite an armored signature.  MODE is same (re-armor
# only), version=N, hash=NAME, reserved, flip=POS (xor a byte of the blob;
# negative POS counts from the end) or keytype=NAME.
forge() {
	python3 - "$@" <<'EOF'
import base64, struct, sys
src, dst, mode = sys.argv[1:4]
body = ''.join(l for l in open(src).read().split('\n')
               if l and not l.startswith('-----'))
b = base64.b64decode(body)
def rd(o):
    n = struct.unpack('>I', b[o:o + 4])[0]
    return b[o + 4:o + 4 + n], o + 4 + n
def s(x):
    return struct.pack('>I', len(x)) + x
assert b[:6] == b'SSHSIG'
ver = struct.unpack('>I', b[6:10])[0]
key, o = rd(10); ns, o = rd(o); res, o = rd(o); h, o = rd(o); sig, o = rd(o)
if mode.startswith('version='):
    ver = int(mode[8:])
elif mode.startswith('hash='):
    h = mode[5:].encode()
elif mode == 'reserved':
    res = b'x'
elif mode.startswith('keytype='):
    t = mode[8:].encode()
    key = s(t) + key[4 + struct.unpack('>I', key[:4])[0]:]
out = b'SSHSIG' + struct.pack('>I', ver) + s(key) + s(ns) + s(res) + s(h) + s(sig)
if mode.startswith('flip='):
    p = int(mode[5:])
    out = bytearray(out)
    out[p] ^= 0x01
    out = bytes(out)
e = base64.b64encode(out).decode()
with open(dst, 'w') as f:
    f.write('-----BEGIN SSH SIGNATURE-----\n')
    f.write(''.join(e[i:i + 70] + '\n' for i in range(0, len(e), 70)))
    f.write('-----END SSH SIGNATURE-----\n')
EOF
}

# ssh_refuses DESC COMMAND: the ssh-keygen shell command must fail (it
# exits 255, which test_fails would take for a crash).
ssh_refuses() {
	test_ok "$1" sh -c "! { $2; }"
}

# ---- an hlx identity --------------------------------------------------------

test_ok "init" hlx --home n1 init --org hotline-test --no-passphrase
hlx --home n1 key show >sign.pub 2>/dev/null
hlx --home n1 key show --root >root.pub 2>/dev/null
hlx --home n1 key allowed-signers >allowed 2>/dev/null
test_ok "key show prints an ssh-ed25519 line" \
	grep -Eq '^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI[A-Za-z0-9+/]{43}( .*)?$' sign.pub
test_ok "ssh-keygen reads the signing key" ssh-keygen -l -f sign.pub
test_ok "ssh-keygen reads the root key" ssh-keygen -l -f root.pub
test_ok "allowed-signers names the org as principal" grep -q '^hotline-test ' allowed
test_ok "allowed-signers lists the signing key" \
	grep -qF "$(cut -d' ' -f1,2 sign.pub)" allowed
test_ok "allowed-signers writes valid-after as YYYYMMDDHHMMSSZ" \
	grep -Eq 'valid-after="[0-9]{14}Z"' allowed
test_ok "allowed-signers writes valid-before as YYYYMMDDHHMMSSZ" \
	grep -Eq 'valid-before="[0-9]{14}Z"' allowed

{
	echo "synthetic hash list for t0200"
	for i in 1 2 3 4 5 6 7 8; do rand_hex 32; echo; done
} >msg
cp msg msg.orig

# ---- hlx signs, ssh-keygen verifies -------------------------------------------

test_ok "hlx sign -n file" hlx --home n1 sign -n file msg
test_ok "msg.sig starts with the armor header" \
	test "$(head -n 1 msg.sig)" = "-----BEGIN SSH SIGNATURE-----"
test_ok "msg.sig ends with the armor footer" \
	test "$(tail -n 1 msg.sig)" = "-----END SSH SIGNATURE-----"
test_ok "base64 lines are at most 70 columns, like ssh-keygen" \
	sh -c '! sed "1d;\$d" msg.sig | grep -q ".\{71\}"'
test_ok "ssh-keygen -Y check-novalidate accepts the hlx signature" \
	sh -c 'ssh-keygen -Y check-novalidate -n file -s msg.sig <msg'
test_ok "ssh-keygen -Y verify accepts it with hlx's allowed-signers" \
	sh -c 'ssh-keygen -Y verify -f allowed -I hotline-test -n file -s msg.sig <msg'
printf 'hotline-test %s\n' "$(cut -d' ' -f1,2 sign.pub)" >allowed.hand
test_ok "ssh-keygen -Y verify accepts it with a hand-made file from key show" \
	sh -c 'ssh-keygen -Y verify -f allowed.hand -I hotline-test -n file -s msg.sig <msg'
test_ok "ssh-keygen -Y find-principals names hotline-test" \
	sh -c 'ssh-keygen -Y find-principals -f allowed -s msg.sig | grep -qx hotline-test'
ssh_refuses "ssh-keygen refuses the wrong namespace" \
	'ssh-keygen -Y verify -f allowed -I hotline-test -n git -s msg.sig <msg'
ssh_refuses "ssh-keygen refuses another principal" \
	'ssh-keygen -Y verify -f allowed -I other-org -n file -s msg.sig <msg'
ssh_refuses "ssh-keygen refuses before valid-after" \
	'ssh-keygen -Y verify -f allowed -I hotline-test -n file -s msg.sig -Overify-time=19990101000000Z <msg'
echo tampered >>msg
ssh_refuses "ssh-keygen refuses an altered message" \
	'ssh-keygen -Y verify -f allowed -I hotline-test -n file -s msg.sig <msg'
cp msg.orig msg

test_ok "hlx verify -k with the key line" \
	hlx verify -n file -k "$(cat sign.pub)" -s msg.sig msg
test_ok "hlx verify -k with the key file" hlx verify -n file -k sign.pub -s msg.sig msg
test_ok "hlx verify --allowed-signers" \
	hlx verify -n file --allowed-signers allowed -I hotline-test -s msg.sig msg
test_ok "hlx verify with the hand-made allowed-signers" \
	hlx verify -n file --allowed-signers allowed.hand -I hotline-test -s msg.sig msg
test_ok "re-armoring the hlx signature gives the same bytes" forge msg.sig same.sig same
test_cmp "hlx's armor is what a plain re-armor (70 columns) gives" msg.sig same.sig

test_ok "hlx sign -n git" hlx --home n1 sign -n git msg
test_ok "ssh-keygen verifies the git-namespace signature" \
	sh -c 'ssh-keygen -Y verify -f allowed -I hotline-test -n git -s msg.sig <msg'
hlx --home n1 sign -n file msg >/dev/null 2>&1

# ---- ssh-keygen signs, hlx verifies -------------------------------------------

ssh-keygen -q -t ed25519 -N '' -C ext@example.org -f ext
cp msg m2
test_ok "ssh-keygen -Y sign (sha512)" ssh-keygen -q -Y sign -n file -f ext m2
test_ok "ssh-keygen -Y sign -O hashalg=sha256" \
	sh -c 'ssh-keygen -q -Y sign -n git -f ext -O hashalg=sha256 <m2 >m2.git.sig'
test_ok "hlx verify -k accepts the ssh-keygen signature" \
	hlx verify -n file -k ext.pub -s m2.sig m2
test_ok "hlx verify -k accepts the sha256 one" \
	hlx verify -n git -k ext.pub -s m2.git.sig m2
test_ok "hlx verify -k accepts the key as a line" \
	hlx verify -n file -k "$(cat ext.pub)" -s m2.sig m2
printf 'ext@example.org namespaces="file,git" %s\n' "$(cat ext.pub)" >allowed.ext
test_ok "hlx verify --allowed-signers accepts it" \
	hlx verify -n file --allowed-signers allowed.ext -I ext@example.org -s m2.sig m2
test_ok "... and the sha256 one" \
	hlx verify -n git --allowed-signers allowed.ext -I ext@example.org -s m2.git.sig m2
printf '*@example.org,!mallory@example.org %s\n' "$(cat ext.pub)" >allowed.pat
test_ok "hlx verify with a principal pattern" \
	hlx verify -n file --allowed-signers allowed.pat -I ext@example.org -s m2.sig m2
test_fails_with "negated principal is not allowed" 1 "not an allowed signer" \
	hlx verify -n file --allowed-signers allowed.pat -I mallory@example.org -s m2.sig m2
test_fails_with "unlisted principal is not allowed" 1 "not an allowed signer" \
	hlx verify -n file --allowed-signers allowed.ext -I other@example.org -s m2.sig m2
printf 'ext@example.org namespaces="git" %s\n' "$(cat ext.pub)" >allowed.ns
test_fails_with "namespace not in namespaces=" 1 "namespace" \
	hlx verify -n file --allowed-signers allowed.ns -I ext@example.org -s m2.sig m2
ssh_refuses "ssh-keygen refuses it too" \
	'ssh-keygen -Y verify -f allowed.ns -I ext@example.org -n file -s m2.sig <m2'
printf 'ext@example.org valid-after="29990101000000Z" %s\n' "$(cat ext.pub)" >allowed.future
test_fails_with "not yet valid: exit 1" 1 "not yet valid" \
	hlx verify -n file --allowed-signers allowed.future -I ext@example.org -s m2.sig m2
ssh_refuses "ssh-keygen refuses it too" \
	'ssh-keygen -Y verify -f allowed.future -I ext@example.org -n file -s m2.sig <m2'
printf 'ext@example.org valid-after="19990101Z",valid-before="20000101000000Z" %s\n' \
	"$(cat ext.pub)" >allowed.past
test_fails_with "expired: exit 1" 1 "expired" \
	hlx verify -n file --allowed-signers allowed.past -I ext@example.org -s m2.sig m2
ssh_refuses "ssh-keygen refuses it too" \
	'ssh-keygen -Y verify -f allowed.past -I ext@example.org -n file -s m2.sig <m2'
printf 'ext@example.org cert-authority %s\n' "$(cat ext.pub)" >allowed.ca
test_fails_with "cert-authority line does not allow a plain key" 1 "cert-authority" \
	hlx verify -n file --allowed-signers allowed.ca -I ext@example.org -s m2.sig m2
printf 'ext@example.org valid-after=2024 %s\n' "$(cat ext.pub)" >allowed.bad
test_fails_with "malformed allowed-signers line is named" 3 "line 1" \
	hlx verify -n file --allowed-signers allowed.bad -I ext@example.org -s m2.sig m2

# the ssh-keygen vectors
test_ok "hlx verifies the spec vector signatures" sh -c "
	for ns in file git; do for h in sha512 sha256; do
		\"\$HLX\" verify -n \$ns -k '$VEC/key.pub' -s '$VEC/message.'\$ns.\$h.sig '$VEC/message' || exit 1
	done; done"
test_ok "the allowed-signers vector agrees with ssh-keygen" sh "$VEC/check-allowed.sh" "$VEC"

# ---- negatives ----------------------------------------------------------------

echo tampered >>m2
test_fails_with "altered message: exit 1" 1 "^hlx: " \
	hlx verify -n file -k ext.pub -s m2.sig m2
cp msg m2
test_fails_with "wrong namespace: exit 1" 1 "namespace" \
	hlx verify -n git -k ext.pub -s m2.sig m2
test_fails_with "empty namespace: usage error" 2 "namespace" \
	hlx verify -n '' -k ext.pub -s m2.sig m2
test_fails_with "wrong key: exit 1, names the signer" 1 "SHA256:" \
	hlx verify -n file -k sign.pub -s m2.sig m2
test_fails_with "hlx signature checked against the external key" 1 "SHA256:" \
	hlx verify -n file -k ext.pub -s msg.sig msg
test_fails_with "missing -s: usage error" 2 "^hlx: " \
	hlx verify -n file -k ext.pub m2
test_fails_with "-k and --allowed-signers together: usage error" 2 "^hlx: " \
	hlx verify -n file -k ext.pub --allowed-signers allowed.ext -I x -s m2.sig m2
test_fails "missing signature file" \
	hlx verify -n file -k ext.pub -s m2.nope m2

len=$(wc -c <m2.sig)
bad=0 n=0 i=0
while [ "$i" -lt $((len - 1)) ]; do
	head -c "$i" m2.sig >trunc.sig
	"$HLX" verify -n file -k ext.pub -s trunc.sig m2 >/dev/null 2>trunc.err
	rc=$?
	n=$((n + 1))
	if [ $rc -ne 3 ] || ! grep -q '^hlx: ' trunc.err; then
		bad=$((bad + 1))
		echo "# truncated to $i bytes: exit $rc"
	fi
	i=$((i + 1))
done
test_ok "all $n truncations of the armor exit 3 with an hlx: error" test "$bad" -eq 0

sed '1d' m2.sig >nobegin.sig
test_fails_with "missing BEGIN line: exit 3" 3 "^hlx: .*BEGIN" \
	hlx verify -n file -k ext.pub -s nobegin.sig m2
sed '$d' m2.sig >noend.sig
test_fails_with "missing END line: exit 3" 3 "^hlx: .*END" \
	hlx verify -n file -k ext.pub -s noend.sig m2
sed '2s/^./!/' m2.sig >b64.sig
test_fails_with "bad base64: exit 3" 3 "base64" \
	hlx verify -n file -k ext.pub -s b64.sig m2
{ cat m2.sig; echo "trailing garbage"; } >extra.sig
test_fails_with "data after END: exit 3" 3 "after the END" \
	hlx verify -n file -k ext.pub -s extra.sig m2
{ echo "garbage"; cat m2.sig; } >before.sig
test_fails_with "data before BEGIN: exit 3" 3 "BEGIN" \
	hlx verify -n file -k ext.pub -s before.sig m2
: >empty.sig
test_fails_with "empty signature file: exit 3" 3 "^hlx: " \
	hlx verify -n file -k ext.pub -s empty.sig m2
head -c 20000 /dev/zero | tr '\0' 'A' >huge.sig
test_fails_with "oversized signature file" 3 "^hlx: " \
	hlx verify -n file -k ext.pub -s huge.sig m2
sed 's/$/\r/' m2.sig >crlf.sig
test_ok "CRLF armor is accepted" hlx verify -n file -k ext.pub -s crlf.sig m2

forge m2.sig v2.sig version=2
test_fails_with "version 2: exit 3" 3 "version 2" \
	hlx verify -n file -k ext.pub -s v2.sig m2
ssh_refuses "ssh-keygen refuses version 2 too" \
	'ssh-keygen -Y check-novalidate -n file -s v2.sig <m2'
forge m2.sig v0.sig version=0
test_fails_with "version 0: exit 3" 3 "version 0" \
	hlx verify -n file -k ext.pub -s v0.sig m2
forge m2.sig sha1.sig hash=sha1
test_fails_with "hash algorithm sha1: exit 3" 3 "sha1" \
	hlx verify -n file -k ext.pub -s sha1.sig m2
forge m2.sig md5.sig hash=md5
test_fails_with "hash algorithm md5: exit 3" 3 "md5" \
	hlx verify -n file -k ext.pub -s md5.sig m2
ssh_refuses "ssh-keygen refuses md5 too" \
	'ssh-keygen -Y check-novalidate -n file -s md5.sig <m2'
forge m2.sig swap.sig hash=sha256
test_fails_with "hash algorithm swapped to sha256: exit 1" 1 "^hlx: " \
	hlx verify -n file -k ext.pub -s swap.sig m2
forge m2.sig res.sig reserved
test_fails_with "non-empty reserved field: exit 3" 3 "reserved" \
	hlx verify -n file -k ext.pub -s res.sig m2
forge m2.sig flip.sig flip=-1
test_fails_with "last signature byte flipped: exit 1" 1 "^hlx: " \
	hlx verify -n file -k ext.pub -s flip.sig m2
forge m2.sig flipkey.sig flip=40
test_fails_with "public key byte flipped: exit 1" 1 "^hlx: " \
	hlx verify -n file -k ext.pub -s flipkey.sig m2
forge m2.sig sk.sig keytype=sk-ssh-ed25519@openssh.com
test_fails_with "sk-ssh-ed25519 key type: exit 3" 3 "sk-ssh-ed25519" \
	hlx verify -n file -k ext.pub -s sk.sig m2

ssh-keygen -q -t rsa -b 2048 -N '' -f rsa
ssh-keygen -q -Y sign -n file -f rsa <m2 >rsa.sig
test_ok "ssh-keygen's own rsa signature verifies with ssh-keygen" \
	sh -c 'ssh-keygen -Y check-novalidate -n file -s rsa.sig <m2'
test_fails_with "rsa signature: exit 3, names ssh-rsa" 3 "ssh-rsa" \
	hlx verify -n file -k ext.pub -s rsa.sig m2
test_fails_with "rsa public key for -k: refused, names ssh-rsa" 3 "ssh-rsa" \
	hlx verify -n file -k rsa.pub -s m2.sig m2
ssh-keygen -q -t ecdsa -N '' -f ecdsa
ssh-keygen -q -Y sign -n file -f ecdsa <m2 >ecdsa.sig
test_fails_with "ecdsa signature: exit 3" 3 "ecdsa-sha2-nistp256" \
	hlx verify -n file -k ext.pub -s ecdsa.sig m2

test_done
