#!/bin/sh
# SPDX-License-Identifier: MIT
# Hostile packs behind a genuine head and trust chain (spec/sync.md, "What
# a subscriber accepts in a pack"): hlx publishes no deltas; a delta bomb
# is refused before libgit2 sees it, fast and in little memory, the lock
# released and the state unchanged; objects planted in a pack next to the
# genuine ones never reach the mirror, and fsck reports one planted there.
. "$(dirname "$0")/lib.sh"

SEED=${HLX_SEED:-760}
echo "# seed $SEED"
for x in a b; do hlx --home $x init --org org-$x --no-passphrase 2>/dev/null; done
hlx --home a list create uk-a 2>/dev/null
hlx --home a add uk-a "md5:$(rand_hex 16)" "sha256:$(rand_hex 32)" 2>/dev/null
hlx --home a publish --to www/a 2>/dev/null
hlx --home a key show --root >a-root.pub
hlx --home b peer add a --url "file://$PWD/www/a/" --key a-root.pub 2>/dev/null
hlx --home b subscribe a uk-a 2>/dev/null
test_ok "(setup) B syncs version 1" hlx --home b sync a
# a pack of just what the verified version reaches is kept as it came
# (not packed again: the walk found every object of it)
test_ok "the mirror keeps the received pack of version 1 as it came" \
	sh -c 'set -- b/lists/a/uk-a.git/objects/pack/pack-*.pack
		[ $# = 1 ] && cmp -s www/a/lists/uk-a/packs/1.pack "$1"'
hlx --home a add uk-a "md5:$(rand_hex 16)" "md5:$(rand_hex 16)" "pdq:$(rand_hex 32)" 2>/dev/null
hlx --home a publish --to www/a 2>/dev/null
cp -r www/a pristine
packs=www/a/lists/uk-a/packs

# hlx's own packs hold no deltas (what the scanner refuses): in
# 'git verify-pack -v', an object line has 5 fields, a delta's 7
nodelta() {
	rm -rf vp && mkdir vp
	for p in "$@"; do
		cp "$p" vp/x.pack && git index-pack vp/x.pack >/dev/null &&
			git verify-pack -v vp/x.idx >vp/out || return 1
		awk '$1 ~ /^[0-9a-f]+$/ && length($1) == 40 {
			n++
			if (NF != 5 || ($2 != "commit" && $2 != "tree" && $2 != "blob")) {
				print "not a plain commit, tree or blob: " $0; bad = 1
			}
		} END { exit bad || !n }' vp/out || return 1
		rm -f vp/x.*
	done
}
test_ok "the packs hlx publishes hold only commits, trees and blobs, no delta" \
	nodelta $packs/1.pack $packs/2.pack

snapshot() {
	{
		mdb_dump -a b/state
		(cd b && find lists peers -type f ! -name '*.sync' | sort | xargs sha256sum)
		for r in b/lists/*/*.git; do git -C "$r" for-each-ref; done
	} 2>&1 | sha256sum
}
bump=10
feed_changed() {
	bump=$((bump + 10))
	touch -d "@$(( $(date +%s) + bump ))" www/a/lists/uk-a/head
}
restore() { rm -rf www/a && cp -r pristine www/a && feed_changed; }

# A delta bomb: 170 bytes declaring a 256 MiB object.  Before the fix
# libgit2's indexer builds it (over 256 MB resident); now the scanner
# refuses the delta at its header.
python3 "$HLX_TOP/tests/t0760-bomb.py" delta $packs/2.pack 256
feed_changed
before=$(snapshot)
start=$(date +%s)
# the peak RSS of the sync, from getrusage (no ulimit: ASan reserves
# terabytes of address space)
python3 -c '
import resource, subprocess, sys
with open("out", "wb") as o:
    try:
        rc = subprocess.run(sys.argv[1:], stdout=o, stderr=o, timeout=60).returncode
    except subprocess.TimeoutExpired:
        rc = 124
open("rc", "w").write("%d\n" % rc)
open("rss", "w").write("%d\n" % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
' "$HLX" --home b sync a
took=$(( $(date +%s) - start ))
rss=$(tail -n 1 rss)
echo "# the bomb: exit $(cat rc), $took s, peak RSS $rss KiB"
test_ok "a delta bomb is refused" test "$(cat rc)" = 1
test_ok "with a clear error" grep -q "pack of version 2.*ofs-delta.*only commits, trees and blobs" out
test_ok "fast (under 10 s)" test "$took" -lt 10
# hlx's own peak is about 15 MB (30 MB under ASan); the bomb needs 256 MB
test_ok "in little memory (peak under 160 MB)" test "$rss" -gt 0 -a "$rss" -lt 160000
test_ok "the bomb: state unchanged" test "$before" = "$(snapshot)"
test_ok "the lock is released" hlx --home b peer ls
python3 "$HLX_TOP/tests/t0760-bomb.py" count $packs/2.pack
feed_changed
test_fails_with "a pack declaring 2^32-1 objects is refused" 1 "declares 4294967295 objects" \
	hlx --home b sync a
test_ok "the count: state unchanged" test "$before" = "$(snapshot)"
# The indexer reads a pack from a pipe as it downloads: a pack refused at
# its start while 64 MiB of it are still to come stops the download (its
# write to the closed pipe fails) instead of reading it all, hanging or
# killing hlx.  What hlx read is its read bytes (rchar of /proc/PID/io,
# taken until it exits); downloading the whole pack reads 64 MiB or more.
python3 "$HLX_TOP/tests/t0760-bomb.py" delta $packs/2.pack 256
head -c 67108864 /dev/zero >>$packs/2.pack
feed_changed
python3 -c '
import subprocess, sys, time
with open("out", "wb") as o:
    p = subprocess.Popen(sys.argv[1:], stdout=o, stderr=o)
    rchar, t0 = 0, time.time()
    while time.time() - t0 < 60:
        try:
            io = open("/proc/%d/io" % p.pid).read()
            rchar = int([l for l in io.splitlines() if l.startswith("rchar:")][0].split()[1])
            if open("/proc/%d/stat" % p.pid).read().split(")")[-1].split()[0] == "Z":
                break
        except (OSError, IndexError):
            break
        time.sleep(0.002)
    try:
        rc = p.wait(timeout=max(1, 60 - (time.time() - t0)))
    except subprocess.TimeoutExpired:
        p.kill(); rc = 124
open("rc", "w").write("%d\n" % rc)
open("rchar", "w").write("%d\n" % rchar)
' "$HLX" --home b sync a
echo "# the long bomb: exit $(cat rc), $(cat rchar) bytes read"
test_ok "a refused pack is refused while it downloads" test "$(cat rc)" = 1
test_ok "(with the scanner's error)" grep -q "pack of version 2.*ofs-delta.*only commits, trees and blobs" out
test_ok "and not downloaded to its end (under 32 MiB of 64 read)" \
	test "$(cat rchar)" -gt 0 -a "$(cat rchar)" -lt 33554432
test_ok "the long bomb: state unchanged" test "$before" = "$(snapshot)"
test_ok "the long bomb: nothing left in staging" \
	sh -c '! find b -path "*staging*" -name "*.pack" | grep -q .'
# A download that fails is what is reported, not the pack it cut short:
# a pack that is a symbolic link to itself cannot be read.
rm -f $packs/2.pack
ln -s 2.pack $packs/2.pack
feed_changed
test_fails_with "a failed download is reported as such" 1 \
	"pack of version 2.*(symbolic links|ELOOP)" hlx --home b sync a
test_ok "the unreadable pack: state unchanged" test "$before" = "$(snapshot)"

# Planted objects: the genuine objects of version 2 plus a blob, repacked
# (no deltas) with real git
restore
git init -q --bare plant.git
git -C plant.git unpack-objects -q <pristine/lists/uk-a/packs/2.pack
planted=$(printf 'planted %s\n' "$(rand_hex 32)" | git -C plant.git hash-object -w --stdin)
git -C plant.git cat-file --batch-all-objects --batch-check='%(objectname)' |
	git -C plant.git pack-objects -q --window=0 --stdout >$packs/2.pack
cp $packs/2.pack vp/y.pack && git index-pack vp/y.pack >/dev/null
test_ok "(the planted pack holds the planted blob)" \
	sh -c "git verify-pack -v vp/y.idx | grep -q '^$planted blob'"
mirror=b/lists/a/uk-a.git
test_ok "B syncs version 2 from the planted pack" hlx --home b sync a
test_fails_ext "(the planted pack was packed again, not kept as it came)" \
	sh -c 'for p in b/lists/a/uk-a.git/objects/pack/pack-*.pack; do cmp -s www/a/lists/uk-a/packs/2.pack "$p" && exit 0; done; exit 1'
test_ok "(at version 2)" sh -c "\"\$HLX\" --home b list ls | grep -q '^a/uk-a .* v2 '"
test_fails_ext "the planted blob is not in the mirror" git -C $mirror cat-file -e "$planted"
test_ok "fsck is clean" hlx --home b fsck
junk=$(printf 'junk %s\n' "$(rand_hex 32)" | git -C $mirror hash-object -w --stdin)
test_fails_with "fsck reports an object planted in the mirror" 1 "$junk" hlx --home b fsck

# The same through a pruned history (pull_pruned: the whole history is
# fetched anew): the planted blob in the checkpoint root's pack
hlx --home a add uk-a "md5:$(rand_hex 16)" 2>/dev/null
hlx --home a prune uk-a --before 3 2>/dev/null
hlx --home a publish --to www/a 2>/dev/null
rm -rf plant.git && git init -q --bare plant.git
git -C plant.git unpack-objects -q <$packs/3.pack
planted=$(printf 'planted %s\n' "$(rand_hex 32)" | git -C plant.git hash-object -w --stdin)
git -C plant.git cat-file --batch-all-objects --batch-check='%(objectname)' |
	git -C plant.git pack-objects -q --window=0 --stdout >$packs/3.pack
test_ok "B syncs the pruned history from a planted pack" hlx --home b sync a
test_ok "(at version 3)" sh -c "\"\$HLX\" --home b list ls | grep -q '^a/uk-a .* v3 '"
test_fails_ext "the planted blob is not in the new mirror" git -C $mirror cat-file -e "$planted"
test_ok "fsck is clean after the prune" hlx --home b fsck

test_done
