#!/bin/sh
# SPDX-License-Identifier: MIT
# Lists benchmarks (issue "Signed, versioned hash lists"):
#  1. import of 1M synthetic entries into one signed version, against
#     'sort' of the same input file (target: within 5x);
#  2. exact lookups batched from stdin at 1M and 10M entries, against the
#     sqlite3 CLI on the same data with an index (target: >= 1M/s at 10M,
#     >= 5x sqlite3);
#  3. disk bytes per entry (LMDB + git) at 1M and 10M;
#  4. a one-entry change to the 10M-entry list: time and bytes added.
# Medians of BENCH_RUNS runs (default 3).  BENCH_BIG=0 skips the 10M part;
# BENCH_N (default 1000000) and BENCH_BIG_N (default 10000000) are the
# sizes (BENCH_QUICK=1 make bench makes them smaller).
set -eu
HLX=${HLX:?}
RUNS=${BENCH_RUNS:-3}
BIG=${BENCH_BIG:-1}
N1=${BENCH_N:-1000000}
NB=${BENCH_BIG_N:-10000000}
label() { awk -v n="$1" 'BEGIN { if (n % 1000000 == 0) printf "%dM", n / 1000000; else printf "%dk", n / 1000 }'; }
L1=$(label "$N1") LB=$(label "$NB")
dir=$(mktemp -d "${TMPDIR:-/tmp}/hlx-bench.XXXXXX")
trap 'rm -rf "$dir"' EXIT
cd "$dir"
export LC_ALL=C

now() { date +%s.%N; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f\n", b - a }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

# N synthetic entries: half md5, half pdq, four categories, a tag.
gen() {
	n=$1 out=$2
	half=$((n / 2))
	openssl rand -hex $((half * 16)) | fold -w 32 | head -n $half | sed 's/^/md5:/' >"$out.h"
	openssl rand -hex $(((n - half) * 32)) | fold -w 64 | head -n $((n - half)) | sed 's/^/pdq:/' >>"$out.h"
	awk 'BEGIN { print "hash,category,confidence,tags" }
	     { printf "%s,csam-%c,%d,bench\n", $0, 97 + NR % 4, NR % 101 }' "$out.h" >"$out"
	rm -f "$out.h"
}

du_bytes() { du -sb "$@" | awk '{ s += $1 } END { print s }'; }

echo "# hlx import vs sort, $L1 entries ($RUNS runs)"
gen "$N1" in1m.csv
: >t.sort; : >t.import
for r in $(seq "$RUNS"); do
	a=$(now); sort in1m.csv >/dev/null; b=$(now); secs "$a" "$b" >>t.sort
	rm -rf home; "$HLX" --home home init --org bench --no-passphrase 2>/dev/null
	"$HLX" --home home list create l 2>/dev/null
	a=$(now); "$HLX" --home home import l in1m.csv 2>/dev/null; b=$(now)
	secs "$a" "$b" >>t.import
done
s=$(median <t.sort); i=$(median <t.import)
echo "import $L1: median ${i} s; sort: median ${s} s; ratio $(ratio "$i" "$s") (target <= 5)"
echo "disk per entry at $L1: LMDB $(( $(du_bytes home/state) / N1 )) B, git $(( $(du_bytes home/lists) / N1 )) B"

lookups() { # home, label, n entries, input file
	h=$1 label=$2 n=$3 src=$4
	# up to 1M queries: half present, half absent
	half=$((n / 2)); [ $half -gt 500000 ] && half=500000
	tail -n +2 "$src" | cut -d, -f1 | awk 'NR % 2 == 0' | head -n $half >q.txt
	openssl rand -hex $((half * 16)) | fold -w 32 | head -n $half | sed 's/^/md5:/' >>q.txt
	nq=$(wc -l <q.txt)
	rm -f db.sqlite
	# the same data in sqlite3, with an index on the hash
	printf '.mode csv\n.import %s e_raw\nCREATE TABLE e AS SELECT hash, %s AS list, category, confidence, tags FROM e_raw;\nDROP TABLE e_raw;\nCREATE INDEX e_hash ON e(hash);\n' \
		"$src" "'l'" | sqlite3 db.sqlite
	: >t.hlx; : >t.sql
	for r in $(seq "$RUNS"); do
		a=$(now); "$HLX" --home "$h" lookup - <q.txt >out.hlx || true; b=$(now)
		secs "$a" "$b" >>t.hlx
		a=$(now)
		printf 'CREATE TEMP TABLE q(hash TEXT);\n.mode csv\n.import q.txt q\nSELECT q.hash, e.list, e.category, e.confidence, e.tags FROM q JOIN e ON e.hash = q.hash;\n' |
			sqlite3 db.sqlite >out.sql
		b=$(now)
		secs "$a" "$b" >>t.sql
	done
	hits=$(wc -l <out.hlx); shits=$(wc -l <out.sql)
	th=$(median <t.hlx); ts=$(median <t.sql)
	echo "lookups at $label: $nq queries ($hits hits; sqlite3 $shits): hlx median ${th} s = $(awk -v n="$nq" -v t="$th" 'BEGIN { printf "%.0f", n / t }')/s; sqlite3 median ${ts} s = $(awk -v n="$nq" -v t="$ts" 'BEGIN { printf "%.0f", n / t }')/s; ratio $(ratio "$ts" "$th")x (target >= 5x, >= 1M/s at 10M)"
}

echo "# exact lookups at $L1"
lookups home "$L1" "$N1" in1m.csv

[ "$BIG" = 1 ] || exit 0
echo "# $LB entries"
gen "$NB" in10m.csv
rm -rf big; "$HLX" --home big init --org bench --no-passphrase 2>/dev/null
"$HLX" --home big list create l 2>/dev/null
a=$(now); "$HLX" --home big import l in10m.csv 2>/dev/null; b=$(now)
echo "import $LB: $(secs "$a" "$b") s (one run)"
echo "disk per entry at $LB: LMDB $(( $(du_bytes big/state) / NB )) B, git $(( $(du_bytes big/lists) / NB )) B"
lookups big "$LB" "$NB" in10m.csv
: >t.one; : >b.one
for r in $(seq "$RUNS"); do
	before=$(du_bytes big/lists)
	a=$(now); "$HLX" --home big add l "md5:$(openssl rand -hex 16)" 2>/dev/null; b=$(now)
	secs "$a" "$b" >>t.one
	echo $(( $(du_bytes big/lists) - before )) >>b.one
done
echo "one-entry change at $LB: median $(median <t.one) s, $(median <b.one) bytes added to the repository"
