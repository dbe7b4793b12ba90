#!/bin/sh
# SPDX-License-Identifier: MIT
# Sharing-policy benchmark (issue "Per-peer sharing policies"): publishing
# a 1M-entry list to 50 peers under 10 distinct policies (half of them
# encrypted), from scratch: time and disk used (the feeds, and the views
# kept in the home), against publishing the same list once without
# policies (the open feed), same run.  Then the incremental cost: one new
# entry, published again to all 50.
# BENCH_RUNS (default 3) runs; BENCH_N entries (default 1000000).
set -u
: "${HLX:?}"
HLX_TOP=$(cd "$(dirname "$0")/../.." && pwd)
export HLX HLX_TOP
. "$HLX_TOP/tests/lib.sh" >/dev/null
RUNS=${BENCH_RUNS:-3}
N=${BENCH_N:-1000000}
export LC_ALL=C
now() { date +%s.%N; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f\n", b - a }'; }
kib() { du -sk "$@" 2>/dev/null | awk '{ s += $1 } END { print s + 0 }'; }

q=$((N / 4))
{
	echo "hash,category,confidence,tags"
	openssl rand -hex $((q * 16)) | fold -w 32 | head -n $q | sed 's/^/md5:/;s/$/,csam-a,90,/'
	openssl rand -hex $((q * 32)) | fold -w 64 | head -n $q | sed 's/^/pdq:/;s/$/,csam-a,70,triaged/'
	openssl rand -hex $((q * 32)) | fold -w 64 | head -n $q | sed 's/^/pdq:/;s/$/,csam-b,99,/'
	openssl rand -hex $(((N - 3 * q) * 20)) | fold -w 40 | head -n $((N - 3 * q)) | sed 's/^/sha1:/;s/$/,csam-c,95,/'
} >in.csv
"$HLX" --home a init --org org-a --no-passphrase 2>/dev/null
"$HLX" --home a list create big 2>/dev/null
"$HLX" --home a import big in.csv 2>/dev/null
"$HLX" --home a key show --root >root.pub
"$HLX" --home a key show --box >box.pub
cats="csam-a csam-b csam-c"
for i in 0 1 2 3 4 5 6 7 8 9; do
	case $((i % 5)) in
	0) sel='"lists": ["*"], "fields": ["category", "confidence", "first_seen", "tags"]' ;;
	1) sel='"lists": ["big"], "types": ["pdq"], "fields": ["category"]' ;;
	2) sel='"lists": ["big"], "categories": ["csam-a"], "fields": []' ;;
	3) sel='"lists": ["big"], "min_confidence": 90, "fields": ["confidence"]' ;;
	4) sel='"lists": ["big"], "types": ["md5", "sha1"], "fields": ["category", "tags"]' ;;
	esac
	enc=false; [ $i -ge 5 ] && enc=true
	echo "{\"format\": \"hlx-policy-1\", \"name\": \"p$i\", $sel, \"encrypt\": $enc}" >p$i.json
done
: >t.open; : >t.pol; : >t.inc; : >d.open; : >d.pol; : >d.packs
for r in $(seq "$RUNS"); do
	rm -rf open pol a/views a/policies a/peers.json a/audit.log
	a=$(now)
	"$HLX" --home a publish --to open 2>/dev/null || echo "publish failed"
	b=$(now)
	secs "$a" "$b" >>t.open
	kib open >>d.open
	for i in 0 1 2 3 4 5 6 7 8 9; do "$HLX" --home a policy add p$i.json 2>/dev/null; done
	for j in $(seq 0 49); do
		"$HLX" --home a peer add peer$j --key root.pub --box "$(cat box.pub)" --policy p$((j % 10)) 2>/dev/null
	done
	a=$(now)
	"$HLX" --home a publish --to pol 2>/dev/null || echo "publish failed"
	b=$(now)
	secs "$a" "$b" >>t.pol
	kib pol a/views >>d.pol
	# of which the packs, each stored once (hard links), plain and
	# sealed, in the blocks du counts (512 bytes each)
	find pol a/views -name '*.pack' -printf '%i %b %p\n' | sort -u -k1,1 |
		while read -r _ bl f; do
			if [ "$(head -c 8 "$f" | tr -d '\000')" = hlxseal1 ]; then
				echo "0 $bl"
			else
				echo "$bl 0"
			fi
		done | awk '{ p += $1; s += $2 } END { printf "%d %d\n", p / 2, s / 2 }' >>d.packs
	"$HLX" --home a add big pdq:$(openssl rand -hex 32) --category csam-a --confidence 99 2>/dev/null
	a=$(now)
	"$HLX" --home a publish --to pol 2>/dev/null || echo "publish failed"
	b=$(now)
	secs "$a" "$b" >>t.inc
done
to=$(median <t.open); tp=$(median <t.pol); ti=$(median <t.inc)
do_=$(median <d.open); dp=$(median <d.pol)
aud=$(ls pol/a | wc -l)
recs=$("$HLX" --home a audit --json 2>/dev/null | wc -l)
echo "publish a $N-entry list: open feed (no policies) median ${to} s, ${do_} KiB; to 50 peers under 10 policies ($aud audiences, 5 encrypted) median ${tp} s, ${dp} KiB (feeds + views); ratio time $(awk -v a="$tp" -v b="$to" 'BEGIN { printf "%.2f", a / b }'), disk $(awk -v a="$dp" -v b="$do_" 'BEGIN { printf "%.2f", a / b }')"
# the packs of the run whose disk was the median
set -- $(awk -v m="$dp" 'NR == FNR { d[FNR] = $1; next } d[FNR] == m { print; exit }' d.pol d.packs)
echo "of the ${dp} KiB: packs written plain ${1} KiB ($(awk -v a="$1" -v b="$do_" 'BEGIN { printf "%.2f", a / b }') of the open feed) and sealed ${2} KiB ($(awk -v a="$2" -v b="$do_" 'BEGIN { printf "%.2f", a / b }')), each stored once whatever the number of feeds and views holding it; the rest $((dp - $1 - $2)) KiB (pack indexes, heads, trust chains)"
echo "then one new entry, published again to all 50: median ${ti} s; audit log: $recs records"
cd / && rm -rf "$TRASH"
