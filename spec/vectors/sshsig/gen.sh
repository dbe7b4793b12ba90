#!/bin/sh
# SPDX-License-Identifier: MIT
# Regenerates the SSHSIG test vectors in this directory with the real
# OpenSSH ssh-keygen (these were made with OpenSSH_9.2p1).  The key is
# synthetic, made only for these vectors, and has no passphrase.  Running
# this again makes a NEW key and new signatures: the unit tests then still
# pass, since they read whatever is here.
#
#   sh spec/vectors/sshsig/gen.sh spec/vectors/sshsig
set -eu
d=${1:-.}
cd "$d"
rm -f key key.pub seed.hex message empty *.sig fingerprint.txt unsupported.pub
ssh-keygen -q -t ed25519 -N '' -C 'hlx-test-vector' -f key
# The 32-byte Ed25519 seed from the unencrypted openssh-key-v1 private key,
# so that hlx can sign with the same key and compare bytes.
python3 - key > seed.hex <<'PY'
import base64, struct, sys
t = open(sys.argv[1]).read().split('\n')
b = base64.b64decode(''.join(l for l in t if l and not l.startswith('-----')))
def s(b, o):
    n = struct.unpack('>I', b[o:o + 4])[0]
    return b[o + 4:o + 4 + n], o + 4 + n
assert b.startswith(b'openssh-key-v1\0')
o = 15
cipher, o = s(b, o); kdf, o = s(b, o); kdfo, o = s(b, o)
assert cipher == b'none' and kdf == b'none'
o += 4
pub, o = s(b, o)
priv, o = s(b, o)
p = 8
kt, p = s(priv, p); pk, p = s(priv, p); sk, p = s(priv, p)
assert kt == b'ssh-ed25519' and len(sk) == 64 and sk[32:] == pk
print(sk[:32].hex())
PY
ssh-keygen -l -f key.pub > fingerprint.txt
{
	echo 'hlx SSHSIG test vector: synthetic random sha256 hashes'
	for i in 1 2 3 4; do
		head -c 32 /dev/urandom | od -An -v -tx1 | tr -d ' \n'
		echo
	done
} > message
: > empty
for ns in file git; do
	for h in sha512 sha256; do
		ssh-keygen -q -Y sign -n "$ns" -f key -O hashalg=$h \
			< message > "message.$ns.$h.sig"
	done
done
ssh-keygen -q -Y sign -n file -f key < empty > empty.file.sha512.sig
# Public keys of types hlx rejects (HLX_EUNSUPPORTED), one a line:
# ssh-rsa, ecdsa-sha2-nistp256, and an ssh-ed25519 certificate.
t=$(mktemp -d)
ssh-keygen -q -t rsa -b 1024 -N '' -C rsa-test -f "$t/rsa"
ssh-keygen -q -t ecdsa -N '' -C ecdsa-test -f "$t/ecdsa"
ssh-keygen -q -t ed25519 -N '' -C ca-test -f "$t/ca"
cp key.pub "$t/user.pub"
ssh-keygen -q -s "$t/ca" -I hlx-test -n hlx-test "$t/user.pub"
cat "$t/rsa.pub" "$t/ecdsa.pub" "$t/user-cert.pub" > unsupported.pub
rm -rf "$t"
