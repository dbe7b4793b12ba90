#!/bin/sh
# SPDX-License-Identifier: MIT
# Federation benchmarks (issue "Federation"):
#  1. a 1M-entry delta from A to B over loopback nginx (HTTPS), end to end:
#     publish, fetch, verify, apply; against stock 'git clone' of the same
#     list repository from the same nginx (dumb HTTP), same run.  Target:
#     ratio <= 1.0.
#  2. propagation of one new entry from 'hlx add' on A until 'hlx lookup'
#     on B finds it, both running 'hlx run --interval 1': median and worst
#     of 20.  Target: median under 2 s.
# BENCH_RUNS (default 3) runs of part 1; BENCH_N entries (default 1000000).
set -u
: "${HLX:?}"
HLX_TOP=$(cd "$(dirname "$0")/../.." && pwd)
export HLX HLX_TOP
. "$HLX_TOP/tests/lib.sh" >/dev/null
. "$HLX_TOP/tests/lib-nginx.sh"
RUNS=${BENCH_RUNS:-3}
N=${BENCH_N:-1000000}
export LC_ALL=C
now() { date +%s.%N; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f\n", b - a }'; }

half=$((N / 2))
{
	echo "hash,category"
	openssl rand -hex $((half * 16)) | fold -w 32 | head -n $half | sed 's/^/md5:/;s/$/,csam-a/'
	openssl rand -hex $(((N - half) * 32)) | fold -w 64 | head -n $((N - half)) | sed 's/^/pdq:/;s/$/,csam-b/'
} >in.csv
"$HLX" --home a init --org org-a --no-passphrase 2>/dev/null
"$HLX" --home a list create big 2>/dev/null
"$HLX" --home a import big in.csv 2>/dev/null
"$HLX" --home a key show --root >a-root.pub
mkdir -p www
nginx_start www
: >t.hlx; : >t.git
for r in $(seq "$RUNS"); do
	rm -rf www/a www/big.git b clone
	a=$(now)
	"$HLX" --home a publish --to www/a 2>/dev/null
	"$HLX" --home b init --org org-b --no-passphrase 2>/dev/null
	"$HLX" --home b peer add a --url "${NGINX_URL}a/" --key a-root.pub --ca "$NGINX_CA" 2>/dev/null
	"$HLX" --home b subscribe a big
	"$HLX" --home b sync 2>/dev/null || echo "sync failed"
	b=$(now)
	secs "$a" "$b" >>t.hlx
	# the same repository for git's dumb HTTP transport
	cp -r a/lists/big.git www/big.git
	git -C www/big.git update-server-info
	a=$(now)
	GIT_SSL_CAINFO="$NGINX_CA" git clone -q "${NGINX_URL}big.git" clone
	b=$(now)
	secs "$a" "$b" >>t.git
	rm -rf a/publish
done
th=$(median <t.hlx); tg=$(median <t.git)
held=$("$HLX" --home b list ls | awk '$1 == "a/big" { print $4 }')
echo "sync of a $N-entry delta over HTTPS (publish+fetch+verify+apply): median ${th} s; git clone of the same repository: median ${tg} s; ratio $(awk -v a="$th" -v b="$tg" 'BEGIN { printf "%.2f", a / b }') (target <= 1.0); B holds $held entries"

# propagation with hlx run on both sides
"$HLX" --home a list create small 2>/dev/null
"$HLX" --home a add small "md5:$(openssl rand -hex 16)" 2>/dev/null
"$HLX" --home a publish --to www/a 2>/dev/null
"$HLX" --home b subscribe a small
"$HLX" --home b sync 2>/dev/null
"$HLX" --home a run --interval 1 --to www/a 2>run-a.log &
pa=$!
"$HLX" --home b run --interval 1 2>run-b.log &
pb=$!
sleep 2
: >t.prop
for i in $(seq 20); do
	h=md5:$(openssl rand -hex 16)
	a=$(now)
	"$HLX" --home a add small "$h" 2>/dev/null
	while ! "$HLX" --home b lookup "$h" >/dev/null 2>&1; do sleep 0.02; done
	b=$(now)
	secs "$a" "$b" >>t.prop
	sleep 0.$(od -An -N1 -tu1 /dev/urandom | tr -d ' ')
done
kill -TERM $pa $pb; wait $pa $pb
echo "propagation of one entry, hlx run --interval 1 on both: median $(median <t.prop) s, worst $(sort -n t.prop | tail -n 1) s over 20 (target: median < 2 s)"
nginx_stop
cd / && rm -rf "$TRASH"
