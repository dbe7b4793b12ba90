#!/bin/sh
# SPDX-License-Identifier: MIT
# hlx audit through the real binary.  publish writes the records; until a
# command here writes them, a small Python helper writes them exactly as
# spec/audit.md says (canonical JSON, prev chain, Ed25519 by the node's
# signing key read from its unencrypted key file, through libsodium), so
# this also checks the spec against the implementation.
. "$(dirname "$0")/lib.sh"

cat >mklog.py <<'PY'
import base64, ctypes, ctypes.util, hashlib, json, sys
na = ctypes.CDLL(ctypes.util.find_library("sodium"))
assert na.sodium_init() >= 0
home, out = sys.argv[1], sys.argv[2]
text = open(home + "/keys/signing.key").read().split("\n")
raw = base64.b64decode("".join(l for l in text if l and not l.startswith("-----")))
assert len(raw) == 145 and raw[8] == 0, "want an unencrypted key file"
seed = ctypes.create_string_buffer(32)
mlen = ctypes.c_ulonglong(0)
assert na.crypto_aead_xchacha20poly1305_ietf_decrypt(
    seed, ctypes.byref(mlen), None, raw[97:], ctypes.c_ulonglong(48),
    raw[:97], ctypes.c_ulonglong(97), raw[41:65], bytes(32)) == 0
pk, sk = ctypes.create_string_buffer(32), ctypes.create_string_buffer(64)
na.crypto_sign_seed_keypair(pk, sk, seed)
blob = b"\0\0\0\x0bssh-ed25519\0\0\0\x20" + pk.raw
fpr = "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
prev = "0" * 64
lines = []
for seq, f in enumerate(sys.stdin.read().split("\n")[:-1], 1):
    if f.split()[2] == "url":
        # the second form (spec/audit.md 1.1): TIME PEER url CASE ORG PATH
        t, peer, _, case, org, path = f.split()
        r = {"case": case, "key": fpr, "kind": "url", "org": org,
             "path": path, "peer": peer, "prev": prev, "seq": seq, "time": t}
    else:
        t, peer, lst, a, b, n = f.split()
        r = {"audience": "0123456789abcdef0123456789abcdef", "entries": int(n),
             "from": int(a), "key": fpr, "list": lst, "peer": peer,
             "policy": hashlib.sha256(peer.encode()).hexdigest(), "prev": prev,
             "seq": seq, "time": t, "to": int(b)}
    m = json.dumps(r, separators=(",", ":"), sort_keys=True).encode()
    sig = ctypes.create_string_buffer(64)
    na.crypto_sign_detached(sig, None, m, ctypes.c_ulonglong(len(m)), sk)
    r["sig"] = base64.b64encode(sig.raw).decode()
    line = json.dumps(r, separators=(",", ":"), sort_keys=True)
    prev = hashlib.sha256(line.encode()).hexdigest()
    lines.append(line + "\n")
open(out, "w").write("".join(lines))
PY

hlx --home a init --org hotline-a --no-passphrase 2>/dev/null
test_ok "no audit log: exit 0" hlx --home a audit
test_ok "and nothing printed" test -z "$(hlx --home a audit)"

sleep 1 # records made after the signing key became valid
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
later=$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)
python3 mklog.py a log3 <<EOF2
$now peer-b uk-a 1 3 120
$now company-c uk-a 1 3 40
$later peer-b uk-a 4 4 121
EOF2
cp log3 a/audit.log
chmod 600 a/audit.log
test_ok "a log written as the spec says verifies" hlx --home a audit
test_ok "table: header and three rows" test "$(hlx --home a audit | wc -l)" = 4
test_ok "--peer filters" test "$(hlx --home a audit --peer company-c --json | wc -l)" = 1
test_ok "--json gives the fields" sh -c \
	'"$HLX" --home a audit --peer company-c --json | grep -q "\"entries\":40,\"from\":1,.*\"peer\":\"company-c\".*\"seq\":2,.*\"to\":3"'
test_ok "--since filters" test "$(hlx --home a audit --since "$later" --json | wc -l)" = 1
test_fails_with "bad --since is a usage error" 2 "since" hlx --home a audit --since tomorrow

# defects
sed '2s/"entries":40/"entries":41/' log3 >a/audit.log
test_fails_with "a changed record fails with its line number" 1 \
	"^hlx: audit log '.*/audit.log' line 2: bad signature" hlx --home a audit
test_ok "and prints nothing on stdout" test -z "$(hlx --home a audit 2>/dev/null)"
sed '2d' log3 >a/audit.log
test_fails_with "a removed line fails" 1 "line 2: seq 3, want 2" hlx --home a audit
{ sed -n 1p log3; sed -n 3p log3; sed -n 2p log3; } >a/audit.log
test_fails_with "reordered lines fail" 1 "line 2: " hlx --home a audit
head -c 200 log3 >a/audit.log
test_fails_with "a torn line fails until the next append cuts it" 3 \
	"line 1: incomplete" hlx --home a audit
echo 'not json' >a/audit.log
test_fails_with "a malformed line exits 3" 3 "line 1: not a JSON object" hlx --home a audit

# the second form: raw URLs of cases sent to their owners, in one chain
# with disclosures (seed 0730: the case is the sha256 of that text)
case=url-sha256:$(printf 'seed 0730' | sha256sum | cut -c1-64)
hex=${case#url-sha256:}
python3 mklog.py a logu <<EOF2
$now peer-b uk-a 1 3 120
$now peer-b url $case hotline-b urls/$hex
$later company-c url $case hotline-c a/0123456789abcdef0123456789abcdef/urls/$hex
$later peer-b uk-a 4 4 121
EOF2
cp logu a/audit.log
test_ok "a log of both forms written as the spec says verifies" hlx --home a audit
test_ok "table: header and four rows" test "$(hlx --home a audit | wc -l)" = 5
test_ok "a url record is shown as such" sh -c \
	'"$HLX" --home a audit | grep -q "peer-b .*raw URL of '"$case"' to hotline-b at urls/'"$hex"'"'
test_ok "--json gives its members" sh -c \
	'"$HLX" --home a audit --peer company-c --json | grep -q "\"case\":\"'"$case"'\",.*\"kind\":\"url\",\"org\":\"hotline-c\",\"path\":\"a/0123456789abcdef0123456789abcdef/urls/'"$hex"'\",\"peer\":\"company-c\",\"seq\":3,"'
sed '2s/"org":"hotline-b"/"org":"hotline-x"/' logu >a/audit.log
test_fails_with "a url record with another org fails" 1 \
	"line 2: bad signature" hlx --home a audit
test_ok "and nothing is shown" test -z "$(hlx --home a audit 2>/dev/null)"
sed '2s/"kind":"url",//' logu >a/audit.log
test_fails_with "a url record without its kind is malformed" 3 "line 2: " hlx --home a audit
sed '2d' logu >a/audit.log
test_fails_with "a url record removed breaks the chain" 1 "line 2: seq 3, want 2" \
	hlx --home a audit
python3 mklog.py a logx <<EOF2
$now peer-b url $case hotline-b urls/0$(echo "$hex" | cut -c2-)
EOF2
cp logx a/audit.log
test_fails_with "a url record whose path is not its case's is malformed" 3 \
	"line 1: 'path' does not name the file of the case" hlx --home a audit

# a log signed by another node's key
hlx --home b init --org hotline-b --no-passphrase 2>/dev/null
python3 mklog.py b logb <<EOF2
$now peer-b uk-a 1 3 120
EOF2
cp logb a/audit.log
test_fails_with "a log signed by a key not in the chain fails" 1 \
	"line 1: signer SHA256:.* is not a key of the trust chain" hlx --home a audit

# revoked: records made after the revocation fail, earlier ones stay valid
cp log3 a/audit.log
sleep 1 # so that the revocation comes after the first two records
old=$(hlx --home a key ls | awk '/^signing/ {print $2; exit}')
hlx --home a key rotate 2>/dev/null
hlx --home a key revoke "$old" 2>/dev/null
test_fails_with "records after the signer's revocation fail" 1 \
	"line 3: signer .* not valid at" hlx --home a audit

rm -f a/audit.log
ln -s ../log3 a/audit.log
test_fails_with "a log behind a symlink is refused" 5 "symbolic link" hlx --home a audit

test_done
