#!/bin/sh
# SPDX-License-Identifier: MIT
# The key commands and the node's writer lock: a revocation is never lost
# to a rotation made at the same time, nor to one that waited at its
# passphrase prompt while the revocation was made; commands that sign or
# publish read the trust chain under the lock.
. "$(dirname "$0")/lib.sh"

printf 'correct horse battery\n' >pass
chmod 600 pass
P=$TRASH/pass

hlx --home a init --org hotline-a --passphrase-file "$P" 2>/dev/null
nkeys() { hlx --home a key ls | grep -c '^signing'; }
current() { hlx --home a key ls | awk '/ current$/ {print $2}'; }
state_of() { hlx --home a key ls | awk -v f="$1" '$2 == f {print $4}'; }

# (a) revoke and rotate at once, six times: both changes stay every time
lost=0
for round in 1 2 3 4 5 6; do
	victim=$(current)
	before=$(nkeys)
	hlx --home a --passphrase-file "$P" key revoke "$victim" >rv.out 2>&1 &
	rv=$!
	hlx --home a --passphrase-file "$P" key rotate >ro.out 2>&1 &
	ro=$!
	wait $rv; rvrc=$?
	wait $ro; rorc=$?
	if [ $rvrc -ne 0 ] || [ $rorc -ne 0 ] ||
	   [ "$(state_of "$victim")" != revoked ] ||
	   [ "$(nkeys)" -ne $((before + 1)) ]; then
		lost=$((lost + 1))
		echo "# round $round: revoke $rvrc, rotate $rorc, $(state_of "$victim"), $(nkeys) keys (was $before)"
		cat rv.out ro.out | sed 's/^/#   /'
	fi
done
test_ok "six concurrent revoke+rotate rounds keep both changes" test $lost -eq 0
rand_hex 64 >doc
test_ok "the chain they left lets the current key sign" \
	hlx --home a --passphrase-file "$P" sign -n file doc

# (b) a rotation waits at its passphrase prompt (a terminal) while a
# revocation is made: the revocation stays in the chain it saves
victim=$(current)
before=$(nkeys)
cat >race.py <<'EOF'
import os, pty, subprocess, sys, time
hlx, home, passfile = sys.argv[1:4]
pid, fd = pty.fork()
if pid == 0:
    os.environ.pop("HLX_PASSPHRASE_FILE", None)
    os.execv(hlx, [hlx, "--home", home, "key", "rotate"])
out = b""
deadline = time.time() + 30
while b"Passphrase for" not in out and time.time() < deadline:
    try:
        out += os.read(fd, 1024)
    except OSError:
        break
if b"Passphrase for" not in out:
    sys.exit("no passphrase prompt: %r" % out)
# the rotation is at its prompt: a colleague revokes now
r = subprocess.run(sys.argv[4:], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
sys.stdout.write(r.stdout.decode(errors="replace"))
if r.returncode != 0:
    sys.exit("revoke failed: %d" % r.returncode)
os.write(fd, open(passfile, "rb").read())
while True:
    try:
        if not os.read(fd, 1024):
            break
    except OSError:
        break
_, st = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(st))
EOF
test_ok "rotate at its prompt while a revoke completes: both exit 0" \
	python3 race.py "$HLX" a "$P" "$HLX" --home a --passphrase-file "$P" key revoke "$victim"
test_ok "the revocation made during the prompt is still in the chain" \
	test "$(state_of "$victim")" = revoked
test_ok "and so is the rotation" test "$(nkeys)" -eq $((before + 1))

# (c) the key commands wait for the writer lock
cp a/trust.json trust.before
flock a/lock sleep 6 &
holder=$!
sleep 0.5
victim=$(current)
test_fails_with "revoke waits while another command holds the lock" 124 "" \
	timeout 2 "$HLX" --home a --passphrase-file "$P" key revoke "$victim"
test_cmp "and changed nothing meanwhile" trust.before a/trust.json
test_fails_with "so does rotate" 124 "" \
	timeout 1 "$HLX" --home a --passphrase-file "$P" key rotate
test_cmp "which changed nothing either" trust.before a/trust.json
wait $holder

# (d) a command that signs reads the chain under the lock: an 'add' that
# waits for the lock while its holder revokes the current key does not
# sign with the revoked key.  The holder here is flock(1), which installs
# a chain with the revocation (made in a copy of the home) before it lets
# go.
hlx --home a --passphrase-file "$P" list create l1 2>/dev/null
victim=$(current)
cp -a a a2
hlx --home a2 --passphrase-file "$P" key revoke "$victim" 2>/dev/null
cp a2/trust.json revoked.json
flock a/lock sh -c 'sleep 2; cp revoked.json a/trust.tmp && mv a/trust.tmp a/trust.json' &
holder=$!
sleep 0.5
test_fails_with "add that waited for the lock refuses the key revoked meanwhile" 1 "revoked" \
	hlx --home a --passphrase-file "$P" add l1 "sha256:$(rand_hex 32)"
wait $holder
test_ok "the key is revoked" test "$(state_of "$victim")" = revoked
test_ok "and the list has no version signed by it" \
	sh -c '"$HLX" --home a list ls | grep -q "^l1 .* v0 "'

# (e) two inits of one home at once: one makes it, the other is refused,
# and the home's keys and chain agree
bad=0
for round in 1 2 3; do
	hlx --home i$round init --org org-i --passphrase-file "$P" >i1.out 2>&1 &
	p1=$!
	hlx --home i$round init --org org-i --passphrase-file "$P" >i2.out 2>&1 &
	p2=$!
	wait $p1; r1=$?
	wait $p2; r2=$?
	if [ $((r1 == 0)) -eq $((r2 == 0)) ] ||
	   ! "$HLX" --home i$round key show --root >/dev/null 2>&1 ||
	   ! "$HLX" --home i$round --passphrase-file "$P" sign -n file doc >/dev/null 2>&1; then
		bad=$((bad + 1))
		echo "# init round $round: $r1 $r2"
	fi
done
test_ok "concurrent inits: exactly one succeeds, and the home works" test $bad -eq 0

# (f) two 'key box' at once on a home without a box key: one key, the
# one reported, not two with the second replacing the first
bad=0
for round in 1 2 3; do
	rm -f a/keys/box.key
	hlx --home a --passphrase-file "$P" key box >b1.out 2>&1 &
	p1=$!
	hlx --home a --passphrase-file "$P" key box >b2.out 2>&1 &
	p2=$!
	wait $p1; r1=$?
	wait $p2; r2=$?
	if [ $((r1 == 0)) -eq $((r2 == 0)) ]; then
		bad=$((bad + 1))
		echo "# key box round $round: $r1 $r2"
	fi
done
test_ok "concurrent 'key box': exactly one makes the key" test $bad -eq 0
test_ok "the node has its box key" hlx --home a key show --box

test_done
