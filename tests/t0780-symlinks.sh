#!/bin/sh
# SPDX-License-Identifier: MIT
# Files are created, never opened as they are (issue 10, finding 7): links
# planted in the publish directory, under every temporary name the writers
# of a797714 used for the next pids and under the final names, must not
# make hlx write, truncate or chmod what they point to (keys/root.key, a
# file elsewhere); a planted symbolic link to a directory must not redirect
# writes or removals out of the feed; urls/ is not chmod'ed through a link.
. "$(dirname "$0")/lib.sh"

SEED=${HLX_SEED:-780}
echo "# seed $SEED"

# plant DIR TARGET NAME...: symbolic links DIR/NAME.tmpPID -> TARGET for
# the next 3,000 pids (one process: planting must not use them up), and
# DIR/NAME -> TARGET when NAME does not exist yet
plant() {
	python3 - "$@" <<'EOF'
import os, sys
d, target, names = sys.argv[1], sys.argv[2], sys.argv[3:]
pid = os.getpid()
try:
    pid_max = int(open("/proc/sys/kernel/pid_max").read())
except OSError:
    pid_max = 32768
for name in names:
    for k in range(1, 3001):
        p = (pid + k) % pid_max
        for n in (f"{name}.tmp{p}", f"{name}.{p}.tmp{p}", f"{name}.{p}"):
            try:
                os.symlink(target, os.path.join(d, n))
            except FileExistsError:
                pass
EOF
}

entries() { # entries N: N synthetic md5 entries in import CSV
	echo "hash,category,first_seen,confidence,tags"
	i=0
	while [ $i -lt "$1" ]; do
		echo "md5:$(rand_hex 16),csam-a,2026-11-01T10:00:00Z,90,triaged"
		i=$((i + 1))
	done
}

# unchanged FILE: same bytes and mode as when saved with save FILE
save() { cp -p "$1" "$1.want"; stat -c %a "$1" >"$1.mode"; }
unchanged() {
	cmp -s "$1" "$1.want" && test "$(stat -c %a "$1")" = "$(cat "$1.mode")"
}

printf 'nobody may write this\n' >victim
chmod 600 victim
save victim

# ---- the open feed ----------------------------------------------------
hlx --home o init --org org-o --no-passphrase 2>/dev/null
hlx --home o key show --root >o-root.pub
hlx --home o list create uk-o 2>/dev/null
entries 5 >v1.csv
hlx --home o import uk-o v1.csv 2>/dev/null
test_ok "O publishes version 1" hlx --home o publish --to www-o
save o/keys/root.key
entries 5 >v2.csv
hlx --home o import uk-o v2.csv 2>/dev/null
P=www-o/lists/uk-o
plant $P/packs "$PWD/o/keys/root.key" 2.pack
plant $P "$PWD/victim" head
plant www-o "$PWD/victim" trust.json
test_ok "O publishes version 2 among the planted links" \
	hlx --home o publish --to www-o
test_ok "keys/root.key is unchanged, bytes and mode" unchanged o/keys/root.key
test_ok "the file outside is unchanged, bytes and mode" unchanged victim
test_ok "2.pack is a file of its own, 0644" \
	sh -c "test -f $P/packs/2.pack && ! test -L $P/packs/2.pack &&
	       test \"\$(stat -c %a $P/packs/2.pack)\" = 644"
test_ok "the head is a file of its own" sh -c "test -f $P/head && ! test -L $P/head"
hlx --home s init --org org-s --no-passphrase 2>/dev/null
test_ok "a subscriber syncs version 2 from it" sh -c "
	\"\$HLX\" --home s peer add o --url 'file://$PWD/www-o/' --key o-root.pub &&
	\"\$HLX\" --home s sync && \"\$HLX\" --home s fsck"

# a link planted at the final name is replaced, never written through
entries 3 >v3.csv
hlx --home o import uk-o v3.csv 2>/dev/null
ln -s "$PWD/o/keys/root.key" $P/packs/3.pack
test_ok "O publishes version 3 over a link at 3.pack" hlx --home o publish --to www-o
test_ok "keys/root.key is still unchanged" unchanged o/keys/root.key
test_ok "3.pack replaced the link" sh -c "test -f $P/packs/3.pack && ! test -L $P/packs/3.pack"

# nor is a file of the feed read through a link: a head planted as a link
# to a copy of the current one is not taken for ours
cp $P/head head.copy && rm $P/head && ln -s "$PWD/head.copy" $P/head
test_ok "O publishes with a link at its head" hlx --home o publish --to www-o
test_ok "the head was not read through the link but replaced" \
	sh -c "test -f $P/head && ! test -L $P/head"

# a planted link to a directory does not redirect the feed
mkdir elsewhere-o
entries 3 >v4.csv
hlx --home o import uk-o v4.csv 2>/dev/null
mkdir $P/packs.real && mv $P/packs/* $P/packs.real/ && rmdir $P/packs
ln -s "$PWD/elsewhere-o" $P/packs
test_fails "publish refuses packs/ as a link to another directory" \
	hlx --home o publish --to www-o
test_ok "nothing was written there" test -z "$(ls -A elsewhere-o)"
rm $P/packs && mv $P/packs.real $P/packs
test_ok "with the link gone, O publishes again" hlx --home o publish --to www-o

# ---- a sealed feed, and its views --------------------------------------
for x in a c; do hlx --home $x init --org org-$x --no-passphrase 2>/dev/null; done
hlx --home c key show --root >c-root.pub
hlx --home a list create uk-a 2>/dev/null
entries 5 >a1.csv
hlx --home a import uk-a a1.csv 2>/dev/null
cat >companies.json <<'EOF'
{"format": "hlx-policy-1", "name": "companies", "lists": ["uk-a"],
 "fields": ["category"],
 "rules": {"onward": false, "retention_days": 30, "purpose": "detection"},
 "encrypt": true}
EOF
hlx --home a policy add companies.json 2>/dev/null
hlx --home a peer add c --key c-root.pub --box "$(hlx --home c key show --box)" \
	--policy companies 2>/dev/null
test_ok "A publishes a sealed feed" hlx --home a publish --to www-a
id=$(ls www-a/a)
view=$(ls www-a/a/$id/lists)
test_ok "one audience, one view" test -n "$id" -a -n "$view"
save a/keys/root.key
entries 5 >a2.csv
hlx --home a import uk-a a2.csv 2>/dev/null
F=www-a/a/$id/lists/$view
plant $F/packs "$PWD/a/keys/root.key" 2.pack
plant $F "$PWD/victim" head
plant a/views/$id "$PWD/victim" plain.pack
test_ok "A publishes version 2 among the planted links" \
	hlx --home a publish --to www-a
test_ok "A's keys/root.key is unchanged, bytes and mode" unchanged a/keys/root.key
test_ok "the file outside is still unchanged" unchanged victim
test_ok "the sealed 2.pack is a file of its own, 0644" \
	sh -c "test -f $F/packs/2.pack && ! test -L $F/packs/2.pack &&
	       test \"\$(stat -c %a $F/packs/2.pack)\" = 644"
test_ok "no plain pack is left in the views" \
	sh -c "! find a/views -name 'plain.pack*' -type f | grep -q ."

# the audiences' directory as a link: the sweep must not empty its target
mkdir elsewhere-a
echo keep >elsewhere-a/keep
echo keep >elsewhere-a/keep.tmp4242
mv www-a/a www-a/a.real
ln -s "$PWD/elsewhere-a" www-a/a
entries 2 >a3.csv
hlx --home a import uk-a a3.csv 2>/dev/null
test_fails "publish refuses a/ as a link to another directory" \
	hlx --home a publish --to www-a
test_ok "what is there was not removed" test -f elsewhere-a/keep
test_ok "nor a temporary's name there (no cleanup through the link)" \
	test -f elsewhere-a/keep.tmp4242
test_ok "nothing was added there" \
	test "$(ls -A elsewhere-a | tr '\n' ' ')" = "keep keep.tmp4242 "
rm www-a/a && mv www-a/a.real www-a/a
test_ok "with the link gone, A publishes again" hlx --home a publish --to www-a

# ---- urls/ and signatures ----------------------------------------------
mkdir outdir
chmod 755 outdir
hlx --home a list create web 2>/dev/null
ln -s "$PWD/outdir" a/urls
r=$(rand_hex 8)
test_fails "a URL is not stored through urls/ as a link" \
	hlx --home a add web --url "https://host-$r.example/$r"
test_ok "the linked directory kept its mode and stayed empty" \
	test "$(stat -c %a outdir)" = 755 -a -z "$(ls -A outdir)"

echo "something to sign" >doc
ln -s "$PWD/victim" doc.sig
plant . "$PWD/victim" doc.sig
test_ok "sign writes doc.sig over a planted link" hlx --home a sign -n file doc
test_ok "the file outside is unchanged after sign" unchanged victim
test_ok "doc.sig is a file of its own" sh -c "test -f doc.sig && ! test -L doc.sig"

test_done
