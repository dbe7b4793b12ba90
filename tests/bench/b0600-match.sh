#!/bin/sh
# SPDX-License-Identifier: MIT
# Matching benchmarks (issue "Matching for subscribers"), on synthetic data:
#  1. N random PDQ hashes (default 10M) with queries: half planted near
#     duplicates of stored hashes at distances 0..32, half random.  hlx
#     match: queries/s (median of BENCH_RUNS runs), recall at <= 31 (must
#     be 100%), no match at 32, build time (afresh from the histories, and
#     reopening the persisted index), memory per hash; FAISS (Debian
#     python3-faiss) on the same data and queries in the same run:
#     IndexBinaryFlat range search and IndexBinaryMultiHash(256, 16, 16)
#     with nflip 1, as HMA uses it; hlx's results are compared with FAISS's
#     and the ratio to the faster FAISS index printed (target: >= 5,000
#     queries/s, >= 50x);
#  2. the same on a skewed set: N hashes around 1,000 centres, each with 1
#     to 24 random bits flipped: random queries, and queries near members
#     (which match much of a cluster);
#  3. exact matching: BENCH_EXACT (default 1M) md5, sha1, sha256 and
#     url-sha256 hashes added to the N-entry node, then as many queries,
#     half present;
#  4. one index for many workers (issue 14, section 2), when
#     HLX_MATCH_WORKER names tests/bench/match-worker (make bench builds
#     it): the open time of a matcher on the persisted index (median of
#     5), against building the tables as every process did before; and
#     the memory of BENCH_WORKERS (default 8) workers holding the index at
#     once, each having matched BENCH_WORKER_Q queries (default 10000):
#     their proportional set sizes summed, against one worker alone;
#  5. (on the node of part 1) the matcher as a pipeline embeds it, when
#     HLX_MATCH_CALLS names tests/bench/match-calls (make bench builds
#     it): BENCH_SINGLES (default 10000) calls of one query (median and
#     99th percentile latency), then the queries/s of calls of 1, 10,
#     100, 1,000 and BENCH_Q queries (median of BENCH_RUNS runs), each
#     next to the rate of the largest batch; and, when HLX_MEMBW names
#     tests/bench/membw, a reference for those rates on this machine:
#     the memory a batch of 1,000 and of BENCH_Q queries reads in tables
#     of this size, read alone in 4 KiB pages without comparing anything
#     (not a hard ceiling: spec/match.md section 5).
# Environment: HLX (the binary), BENCH_N, BENCH_Q (PDQ queries, default
# 100000), BENCH_EXACT, BENCH_RUNS (default 3), BENCH_FAISS_FLAT and
# BENCH_FAISS_MH (queries given to each FAISS index, default 100 and
# 1000: they are slow), BENCH_PYTHON (default /usr/bin/python3, which has
# Debian's faiss), BENCH_SKEWED=0 to skip part 2.
#  6. (issue 14, section 5) with BENCH_HUGE=1, when HLX_PDQ_PROTO names
#     tests/bench/pdq-proto (make bench builds it): BENCH_HUGE_N (default
#     100M) sorted synthetic PDQ hashes indexed through node/match.h in
#     the wide layout: its size, build time and queries/s in batches of 1,
#     1,000 and 100,000 (median of BENCH_RUNS), checked against a
#     brute-force scan; and the 16 tables on the same hashes, in the same
#     run, while they fit memory twice over.  About 6 minutes and 16 GB at
#     100M.
set -eu
HLX=${HLX:?}
case $HLX in /*) ;; *) HLX=$(pwd)/$HLX ;; esac
N=${BENCH_N:-10000000}
NQ=${BENCH_Q:-100000}
NX=${BENCH_EXACT:-1000000}
RUNS=${BENCH_RUNS:-3}
NFLAT=${BENCH_FAISS_FLAT:-100}
NMH=${BENCH_FAISS_MH:-1000}
PY=${BENCH_PYTHON:-/usr/bin/python3}
SKEWED=${BENCH_SKEWED:-1}
SINGLES=${BENCH_SINGLES:-10000}
dir=$(mktemp -d "${TMPDIR:-/tmp}/hlx-bench-match.XXXXXX")
trap 'rm -rf "$dir"' EXIT
cd "$dir"
export LC_ALL=C

now() { date +%s.%N; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

# ---- a generator of synthetic hashes, compiled here ----------------------
cat >gen.c <<'EOF'
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
static uint64_t s;
static uint64_t rnd(void) /* splitmix64 */
{
	uint64_t z = (s += 0x9E3779B97F4A7C15ULL);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}
static void hex(FILE *f, const uint8_t *b, int n)
{
	static const char d[] = "0123456789abcdef";
	for (int i = 0; i < n; i++) { putc(d[b[i] >> 4], f); putc(d[b[i] & 15], f); }
}
static void rb(uint8_t *b, int n) /* n a multiple of 8 */
{
	for (int i = 0; i < n; i += 8) { uint64_t v = rnd(); memcpy(b + i, &v, 8); }
}
static void flip(uint8_t *h, int d, int distinct)
{
	uint8_t used[32] = { 0 };
	while (d > 0) {
		int b = (int)(rnd() % 256);
		if (distinct && (used[b / 8] >> (b % 8) & 1))
			continue;
		used[b / 8] |= (uint8_t)(1 << (b % 8));
		h[b / 8] ^= (uint8_t)(1 << (b % 8));
		d--;
	}
}
static FILE *out(const char *p, const char *ext)
{
	char name[4096];
	FILE *f;
	snprintf(name, sizeof(name), "%s%s", p, ext);
	f = fopen(name, "w");
	if (!f) { perror(name); exit(1); }
	return f;
}
int main(int argc, char **argv)
{
	if (argc < 2) return 2;
	if (!strcmp(argv[1], "db") && argc == 6) {
		/* db uniform|skewed N SEED OUT: OUT.csv for hlx, OUT.bin for FAISS */
		long n = atol(argv[3]);
		int skewed = !strcmp(argv[2], "skewed");
		static uint8_t c[1000][32];
		FILE *csv = out(argv[5], ".csv"), *bin = out(argv[5], ".bin");
		s = strtoull(argv[4], NULL, 10);
		for (int i = 0; i < 1000; i++) rb(c[i], 32);
		fputs("hash,category\n", csv);
		for (long i = 0; i < n; i++) {
			uint8_t h[32];
			if (skewed) {
				memcpy(h, c[rnd() % 1000], 32);
				flip(h, 1 + (int)(rnd() % 24), 0);
			} else {
				rb(h, 32);
			}
			fputs("pdq:", csv); hex(csv, h, 32); fputs(",csam-a\n", csv);
			fwrite(h, 1, 32, bin);
		}
		return fclose(csv) || fclose(bin);
	}
	if (!strcmp(argv[1], "queries") && argc == 8) {
		/* queries DB.bin N PLANTED RANDOM SEED OUT: OUT.txt, OUT.bin,
		 * OUT.truth ("query stored distance" for the planted ones) */
		long n = atol(argv[3]), np = atol(argv[4]), nr = atol(argv[5]);
		FILE *db = fopen(argv[2], "r"), *txt = out(argv[7], ".txt"),
		     *bin = out(argv[7], ".bin"), *tr = out(argv[7], ".truth");
		s = strtoull(argv[6], NULL, 10);
		if (!db) return 1;
		for (long i = 0; i < np + nr; i++) {
			uint8_t h[32], q[32];
			int d = (int)(i % 33);
			if (i < np) {
				long k = (long)(rnd() % (uint64_t)n);
				if (fseek(db, k * 32, SEEK_SET) || fread(h, 1, 32, db) != 32)
					return 1;
				memcpy(q, h, 32);
				flip(q, d, 1);
				hex(tr, q, 32); putc(' ', tr); hex(tr, h, 32);
				fprintf(tr, " %d\n", d);
			} else {
				rb(q, 32);
			}
			fputs("pdq:", txt); hex(txt, q, 32); putc('\n', txt);
			fwrite(q, 1, 32, bin);
		}
		return fclose(txt) || fclose(bin) || fclose(tr);
	}
	if (!strcmp(argv[1], "exact") && argc == 5) {
		/* exact N SEED OUT: OUT.csv, and OUT.q with N queries, half
		 * of them present */
		static const char *const t[] = { "md5", "sha1", "sha256", "url-sha256" };
		static const int len[] = { 16, 20, 32, 32 };
		long n = atol(argv[2]);
		FILE *csv = out(argv[4], ".csv"), *q = out(argv[4], ".q");
		s = strtoull(argv[3], NULL, 10);
		fputs("hash,category\n", csv);
		for (long i = 0; i < n; i++) {
			uint8_t h[32];
			int k = (int)(i % 4);
			rb(h, 32);
			fprintf(csv, "%s:", t[k]); hex(csv, h, len[k]); fputs(",csam-b\n", csv);
			if (i % 2 == 0) { fprintf(q, "%s:", t[k]); hex(q, h, len[k]); putc('\n', q); }
			rb(h, 32);
			if (i % 2 == 0) { fprintf(q, "%s:", t[k]); hex(q, h, len[k]); putc('\n', q); }
		}
		return fclose(csv) || fclose(q);
	}
	return 2;
}
EOF
cc -O2 -o gen gen.c

# ---- FAISS, on the same data and queries ---------------------------------
cat >faiss_bench.py <<'EOF'
import resource, sys, time
import numpy as np
import faiss

db, qf, nflat, nmh, runs, counts, dedupe = sys.argv[1:8]
nflat, nmh, runs = int(nflat), int(nmh), int(runs)
xb = np.fromfile(db, dtype=np.uint8).reshape(-1, 32)
if dedupe == "1":  # hlx holds each distinct hash once: so does FAISS
    xb = np.ascontiguousarray(np.unique(xb.view("V32")).view(np.uint8).reshape(-1, 32))
xq = np.fromfile(qf, dtype=np.uint8).reshape(-1, 32)
print("faiss %s, %d threads, %d hashes" % (faiss.__version__, faiss.omp_get_max_threads(), len(xb)))

def timed(index, q):
    t = []
    for _ in range(runs):
        a = time.time()
        lims, D, I = index.range_search(q, 32)  # distance < 32, i.e. <= 31
        t.append(time.time() - a)
    return sorted(t)[len(t) // 2], lims

a = time.time()
flat = faiss.IndexBinaryFlat(256)
flat.add(xb)
print("flat_build %.2f" % (time.time() - a))
t, lims = timed(flat, xq[:nflat])
print("flat_qps %.2f" % (nflat / t))
flat_counts = np.diff(lims)
del flat
a = time.time()
mh = faiss.IndexBinaryMultiHash(256, 16, 16)
mh.nflip = 1
mh.add(xb)
print("mh_build %.2f" % (time.time() - a))
t, lims = timed(mh, xq[:nmh])
print("mh_qps %.2f" % (nmh / t))
mh_counts = np.diff(lims)
with open(counts, "w") as f:
    for i in range(nmh):
        f.write("%d %d\n" % (flat_counts[i] if i < nflat else -1, mh_counts[i]))
print("peak_rss_mib %.0f" % (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))
EOF
have_faiss=0
if "$PY" -c 'import faiss, numpy' 2>/dev/null; then
	have_faiss=1
else
	echo "# FAISS not available ($PY: apt-get install python3-faiss): FAISS figures skipped"
fi

# ---- helpers -------------------------------------------------------------
# recall TRUTH OUT: planted queries at <= 31 found at their distance / all;
# and matches reported for the ones planted at 32 (must be 0).
recall() {
	awk -F'"' 'FILENAME == ARGV[1] {
			split($0, t, " ")
			want["pdq:" t[1] " pdq:" t[2]] = t[3]
			if (t[3] <= 31) n++
			next
		}
		{
			k = $4 " " $8; d = substr($11, 2) + 0
			if ((k in want) && want[k] == d) {
				if (d <= 31) f++; else bad++
				delete want[k]
			}
		}
		END { printf "%d %d %d\n", f, n, bad + 0 }' "$1" "$2"
}

# hlx_queries LABEL HOME QUERIES OUT: RUNS runs of hlx match; prints the
# median queries/s of matching and of the whole command.
hlx_queries() {
	label=$1 home=$2 qf=$3 out=$4
	: >t.m; : >t.w
	nql=$(wc -l <"$qf")
	for r in $(seq "$RUNS"); do
		a=$(now)
		"$HLX" --home "$home" match --stats "$qf" >"$out" 2>stats || true
		b=$(now)
		sed -n 's/.* in \([0-9.]*\) s: \([0-9]*\) queries\/s.*/\2/p' stats >>t.m
		awk -v n="$nql" -v a="$a" -v b="$b" 'BEGIN { printf "%.0f\n", n / (b - a) }' >>t.w
	done
	qps=$(median <t.m)
	echo "$label: $nql queries, $(wc -l <"$out") matches: hlx match $qps queries/s (median of $RUNS; the whole command including loading the index: $(median <t.w)/s)"
	grep -E 'index of|opened in|examined|peak' stats | sed 's/^hlx: match: /    /'
}

# faiss_compare LABEL DB.bin Q.bin HLXOUT Q.txt NFLAT NMH DEDUPE
faiss_compare() {
	[ $have_faiss = 1 ] || return 0
	label=$1 nflat=$6 nmh=$7
	"$PY" faiss_bench.py "$2" "$3" "$nflat" "$nmh" "$RUNS" counts.faiss "$8" >faiss.out
	sed 's/^/    /' faiss.out
	# per-query match counts: hlx against FAISS, on the queries FAISS ran
	head -n "$nmh" "$5" |
		awk -F'"' 'FILENAME == ARGV[1] { c[$4]++; next } { print c[$0] + 0 }' "$4" - >counts.hlx
	agree=$(paste -d' ' counts.hlx counts.faiss | awk '{ n++; if ($1 == $3 && ($2 == -1 || $1 == $2)) a++ } END { printf "%d of %d", a, n }')
	fq=$(awk '$1 == "flat_qps" { print $2 }' faiss.out)
	mq=$(awk '$1 == "mh_qps" { print $2 }' faiss.out)
	best=$(awk -v a="$fq" -v b="$mq" 'BEGIN { print (a > b ? a : b) }')
	echo "$label: FAISS IndexBinaryFlat $fq queries/s ($nflat queries), IndexBinaryMultiHash(256,16,16) nflip 1 $mq queries/s ($nmh queries); hlx and FAISS agree on the number of matches of $agree queries"
	echo "$label: hlx / faster FAISS index: $(awk -v a="$qps" -v b="$best" 'BEGIN { printf "%.0fx", a / b }') (target >= 50x; hlx >= 5000 queries/s)"
}

newhome() {
	rm -rf "$1"
	"$HLX" --home "$1" init --org bench --no-passphrase 2>/dev/null
	"$HLX" --home "$1" list create l 2>/dev/null
}

# ---- 1. uniform ----------------------------------------------------------
echo "# PDQ near match, $N uniform random hashes, $NQ queries (half planted at distances 0..32), $(nproc) cores"
./gen db uniform "$N" 1 u
./gen queries u.bin "$N" $((NQ / 2)) $((NQ - NQ / 2)) 2 uq
newhome big
a=$(now); "$HLX" --home big import l u.csv 2>/dev/null; b=$(now)
echo "import of $N entries: $(secs "$a" "$b") s"
a=$(now); "$HLX" --home big match rebuild >/dev/null; b=$(now)
echo "index built afresh from the histories: $(secs "$a" "$b") s"
hlx_queries uniform big uq.txt u.out
set -- $(recall uq.truth u.out)
echo "uniform: recall at <= 31: $1 of $2 planted near duplicates ($(awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", 100 * a / b }')%); reported at 32: $3"
head -n 1000 uq.txt >uq1k.txt
"$HLX" --home big match --stats uq1k.txt >/dev/null 2>stats || true
echo "uniform, 1000 queries in one batch (as FAISS gets): $(sed -n 's/.* in \([0-9.]*\) s: \([0-9]*\) queries\/s.*/\2/p' stats) queries/s"
faiss_compare uniform u.bin uq.bin u.out uq.txt "$NFLAT" "$NMH" 0

# ---- 4. one index for many workers ---------------------------------------
WORKER=${HLX_MATCH_WORKER:-}
NW=${BENCH_WORKERS:-8}
NWQ=${BENCH_WORKER_Q:-10000}
[ "$NWQ" -le "$NQ" ] || NWQ=$NQ
# kib FIELD PID: a field of /proc/PID/smaps_rollup, in KiB
kib() { awk -v f="$1:" '$1 == f { print $2 }' "/proc/$2/smaps_rollup"; }
# worker_start NAME: a worker holding the index once it has matched
worker_start() {
	rm -f "ready.$1"
	"$WORKER" big uq.bin "$NWQ" "ready.$1" >"w.$1" &
	echo $! >"pid.$1"
}
worker_wait() { # NAME: until it is ready; fails if it died
	while [ ! -e "ready.$1" ]; do
		kill -0 "$(cat "pid.$1")" 2>/dev/null || { echo "worker $1 failed" >&2; exit 1; }
		sleep 0.05
	done
}
worker_stop() { kill "$(cat "pid.$1")"; wait "$(cat "pid.$1")" 2>/dev/null || true; }
if [ -n "$WORKER" ] && [ -x "$WORKER" ]; then
	echo "# one index for many workers: tests/bench/match-worker (node/match.h, one thread) on the $N-hash index"
	echo "search tables file (match/pdq.tables): $(stat -c %s big/match/pdq.tables) bytes, $(awk -v a="$(stat -c %s big/match/pdq.tables)" -v n="$N" 'BEGIN { printf "%.1f", a / n }') bytes a hash"
	: >t.o
	for r in 1 2 3 4 5; do
		"$WORKER" big uq.bin 0 >w.o
		awk '{ printf "%.6f\n", $2 + $4 }' w.o >>t.o
	done
	open_ms=$(median <t.o | awk '{ printf "%.1f", $1 * 1000 }')
	# the baseline: a process building the tables itself, as each did
	# before they were persisted (hlx match, on every core; it then
	# writes them again, timed apart)
	rm -f big/match/pdq.tables
	"$HLX" --home big match --stats uq1k.txt >/dev/null 2>stats || true
	set -- $(sed -n 's/.*opened in \([0-9.]*\) s.* in \([0-9.]*\) s (writing them \([0-9.]*\) s).*/\1 \2 \3/p' stats)
	build_s=$(awk -v a="$1" -v b="$2" -v c="$3" 'BEGIN { printf "%.2f", a + b - c }')
	echo "open of a matcher on the persisted index, search tables ready: $open_ms ms (median of 5); opening and building them instead, as every process did: $build_s s ($(awk -v a="$open_ms" -v b="$build_s" 'BEGIN { printf "%.0fx", b * 1000 / a }')); writing them to the file once: $3 s"
	worker_start one
	worker_wait one
	rss1=$(kib Rss "$(cat pid.one)")
	sed 's/^/    one worker: /' w.one
	worker_stop one
	for i in $(seq "$NW"); do worker_start "$i"; done
	pss=0 rss=0
	for i in $(seq "$NW"); do
		worker_wait "$i"
		p=$(cat "pid.$i")
		pss=$((pss + $(kib Pss "$p")))
		rss=$((rss + $(kib Rss "$p")))
	done
	awk '{ q += $8; if ($12 != 1) bad++ } END { printf "    %d workers at once: %.0f queries/s each on average, %d without the shared tables\n", NR, q / NR, bad }' w.[0-9]*
	for i in $(seq "$NW"); do worker_stop "$i"; done
	echo "$NW workers holding the index at once, each after $NWQ queries: PSS summed $((pss / 1024)) MiB; one worker alone: RSS $((rss1 / 1024)) MiB; ratio $(awk -v a="$pss" -v b="$rss1" 'BEGIN { printf "%.2f", a / b }') (each building its own: about $NW; RSS summed $((rss / 1024)) MiB)"
else
	echo "# HLX_MATCH_WORKER not set (make bench builds tests/bench/match-worker): worker figures skipped"
fi

# ---- 5. single queries and small batches through node/match.h ------------
CALLS=${HLX_MATCH_CALLS:-}
if [ -n "$CALLS" ] && [ -x "$CALLS" ]; then
	echo "# single queries and batches: tests/bench/match-calls (node/match.h, a thread per core) on the $N-hash index"
	"$CALLS" big uq.bin "$SINGLES" "$RUNS" 1 10 100 1000 "$NQ" >calls.out
	awk -v runs="$RUNS" '/^batches of/ { n[NR] = $3; sub(":", "", n[NR]); r[NR] = $4; last = NR; next }
		{ print }
		END {
			for (i = 1; i <= last; i++)
				if (i in n)
					printf "batches of %s: %s queries/s (median of %d), %.2f of the rate of batches of %s\n",
					       n[i], r[i], runs, r[i] / r[last], n[last]
		}' calls.out
	# the reference: the memory those batches read, read alone on this
	# machine, the tables shared out between two threads like the search's
	MEMBW=${HLX_MEMBW:-}
	if [ -n "$MEMBW" ] && [ -x "$MEMBW" ]; then
		for b in 1000 "$NQ"; do
			"$MEMBW" "$N" "$b" 2 5 600 | sed 's/^membw: /reading alone the tables a batch reads (tests\/bench\/membw, in 4 KiB pages: a reference for the search, not a hard ceiling): /'
		done
	fi
else
	echo "# HLX_MATCH_CALLS not set (make bench builds tests/bench/match-calls): single-query figures skipped"
fi

# ---- 6. a hundred million hashes (issue 14, section 5) --------------------
if [ "${BENCH_HUGE:-0}" = 1 ]; then
	PROTO=${HLX_PDQ_PROTO:-}
	HN=${BENCH_HUGE_N:-100000000}
	if [ -n "$PROTO" ] && [ -x "$PROTO" ]; then
		# the 16 tables (288 bytes a hash) beside it only while they
		# fit this machine's memory twice over
		layouts=wide
		memk=$(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo)
		[ $((HN / 1024 * 288 * 2)) -lt "$memk" ] && layouts=wide,16
		echo "# $HN PDQ hashes through node/match.h: tests/bench/pdq-proto, sorted synthetic hashes (seed 20261207), T=31, $(nproc) threads, layouts: $layouts (aim: under 12 GB, at least 10,000 queries/s)"
		PDQ_SORTED=1 PDQ_LAYOUTS=$layouts "$PROTO" "$HN" 20261207 "$(nproc)" 31 "$RUNS" 1 1000 100000 >huge.out
		cat huge.out
		awk -v n="$HN" '/^wide: built/ { printf "wide layout: built in %s s, %.2f GB (%.1f bytes a hash; the aim 12 GB; the 16 tables would need %.2f GB)\n", $4, $6 / 1e9, $6 / n, 288.4 * n / 1e9 }
			/^wide: batch/ { sub(":", "", $3); printf "wide layout: batches of %s: %s queries/s, %.2f of the aim of 10,000\n", $3, $4, $4 / 10000 }' huge.out
		grep -q "hits agree" huge.out || { echo "pdq-proto: the hits differ" >&2; exit 1; }
	else
		echo "# HLX_PDQ_PROTO not set (make bench builds tests/bench/pdq-proto): the $HN-hash index skipped"
	fi
fi

# ---- 3. exact, in the same node ------------------------------------------
echo "# exact match: $NX md5/sha1/sha256/url-sha256 hashes added to the $N-entry node"
./gen exact "$NX" 3 x
"$HLX" --home big list create x 2>/dev/null
"$HLX" --home big import x x.csv 2>/dev/null
hlx_queries "exact, $((N + NX)) entries" big x.q x.out

# ---- 2. skewed -----------------------------------------------------------
[ "$SKEWED" = 1 ] || exit 0
rm -rf big u.csv
echo "# PDQ near match, $N hashes around 1,000 centres (1 to 24 bits flipped)"
./gen db skewed "$N" 4 s
./gen queries s.bin "$N" 0 "$NQ" 5 sr
./gen queries s.bin "$N" 200 0 6 sp
newhome sk
"$HLX" --home sk import l s.csv 2>/dev/null
a=$(now); "$HLX" --home sk match rebuild >/dev/null; b=$(now)
echo "index built afresh from the histories: $(secs "$a" "$b") s"
hlx_queries "skewed, random queries" sk sr.txt sr.out
faiss_compare "skewed, random queries" s.bin sr.bin sr.out sr.txt "$NFLAT" "$NMH" 1
hlx_queries "skewed, 200 queries near members" sk sp.txt sp.out
set -- $(recall sp.truth sp.out)
echo "skewed: recall at <= 31: $1 of $2 planted near duplicates; reported at 32: $3"
faiss_compare "skewed, near members" s.bin sp.bin sp.out sp.txt \
	$((NFLAT < 200 ? NFLAT : 200)) 200 1
