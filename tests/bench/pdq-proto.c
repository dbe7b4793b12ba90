/* SPDX-License-Identifier: MIT */
/*
 * pdq-proto: the PDQ index (node/match.h, struct hlx_pdqidx) timed alone
 * on synthetic random hashes, through its C interface, and checked against
 * a brute-force scan.  Built against libhlx.a by make bench.
 *
 *   pdq-proto N SEED THREADS T RUNS SIZE...
 *
 * N random hashes (xoshiro256** from SEED, in 4 KiB pages as a mapped
 * file's would be); a pool of queries, half of them a stored hash with 0
 * to 32 bits flipped, half random.  Prints the bytes a hash, the build
 * time, then for each batch SIZE the queries a second (median of RUNS
 * runs; a run makes calls of SIZE queries until it has matched max(SIZE,
 * 2,000) queries) with the process's CPU time a query, the entries
 * examined and hits a query, for SIZE 1 the median and 99th percentile
 * latency; and the hits of the first 64 queries (16 above 1M hashes)
 * against a brute-force scan.  Exit status 1 if any differ.
 *
 * An index prototype is timed against the current one in the same run by
 * compiling it with its functions renamed alt_ and -DPDQ_PROTO_ALT:
 *
 *   cc -O2 -I. -pthread -Dhlx_pdqidx_build=alt_build \
 *      -Dhlx_pdqidx_search=alt_search -Dhlx_pdqidx_memory=alt_memory \
 *      -Dhlx_pdqidx_free=alt_free -Dhlx_pdq_hits_free=alt_hits_free \
 *      (and the other hlx_pdqidx_ names) -c -o alt.o PROTOTYPE.c
 *   cc -O2 -I. -pthread -DPDQ_PROTO_ALT -o pdq-proto \
 *      tests/bench/pdq-proto.c alt.o build/libhlx.a $(LIBS)
 *
 * Both are then built on the same hashes and searched with the same
 * queries, and each batch of 2,000 queries or more must give exactly the
 * same hits from both (issue 14's 11-chunk prototype was measured so).
 */
#include "node/match.h"
#include "protocol/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

struct impl {
	const char *name;
	int layout;
	int (*build)(const uint8_t *, size_t, unsigned, int,
		     struct hlx_pdqidx **);
	int (*search)(const struct hlx_pdqidx *, const uint8_t *, size_t,
		      unsigned, unsigned, struct hlx_pdq_hits *);
	size_t (*memory)(const struct hlx_pdqidx *);
	void (*free)(struct hlx_pdqidx *);
	void (*hits_free)(struct hlx_pdq_hits *);
	int plain; /* searched with hlx_pdq_simd(0) */
};

#ifdef PDQ_PROTO_ALT
int alt_build(const uint8_t *, size_t, unsigned, struct hlx_pdqidx **);
int alt_search(const struct hlx_pdqidx *, const uint8_t *, size_t, unsigned,
	       unsigned, struct hlx_pdq_hits *);
size_t alt_memory(const struct hlx_pdqidx *);
void alt_free(struct hlx_pdqidx *);
void alt_hits_free(struct hlx_pdq_hits *);
#endif

#ifdef PDQ_PROTO_ALT
static int alt_build_l(const uint8_t *h, size_t n, unsigned t, int layout,
		       struct hlx_pdqidx **x)
{
	(void)layout;
	return alt_build(h, n, t, x);
}
#endif

/* The indexes timed: PDQ_LAYOUTS (a comma list of auto, 16, 16-plain and
 * wide) names the layouts of libhlx's, in order; auto alone if unset.
 * 16-plain is the 16 tables searched without AVX-512 (hlx_pdq_simd). */
static struct impl impls[5];
static size_t NIMPL;

static void impls_init(void)
{
	const char *l = getenv("PDQ_LAYOUTS");
	static const struct {
		const char *name;
		int layout, plain;
	} known[] = { { "auto", HLX_PDQ_LAYOUT_AUTO, 0 },
		      { "16", HLX_PDQ_LAYOUT_16, 0 },
		      { "16-plain", HLX_PDQ_LAYOUT_16, 1 },
		      { "wide", HLX_PDQ_LAYOUT_WIDE, 0 } };

	if (!l || !*l)
		l = "auto";
	while (*l && NIMPL < 4) {
		size_t k = strcspn(l, ",");

		for (size_t i = 0; i < 4; i++)
			if (strlen(known[i].name) == k &&
			    !strncmp(l, known[i].name, k))
				impls[NIMPL++] = (struct impl){
					known[i].layout == HLX_PDQ_LAYOUT_AUTO ?
					"libhlx" : known[i].name,
					known[i].layout, hlx_pdqidx_build_layout,
					hlx_pdqidx_search, hlx_pdqidx_memory,
					hlx_pdqidx_free, hlx_pdq_hits_free,
					known[i].plain };
		l += k + (l[k] == ',');
	}
#ifdef PDQ_PROTO_ALT
	impls[NIMPL++] = (struct impl){ "alt", 0, alt_build_l, alt_search,
					alt_memory, alt_free, alt_hits_free, 0 };
#endif
}

static int hash_cmp(const void *a, const void *b)
{
	return memcmp(a, b, 32);
}

/* h[0 .. 32n) sorted (a counting sort on the first 16 bits into a second
 * mapping, then each of the 65,536 runs), as the node's snapshot is and
 * the wide layout wants; duplicates (of 256 random bits: none) are kept. */
static int sort_hashes(uint8_t *h, size_t n)
{
	uint8_t *t = mmap(NULL, n * 32, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	size_t *c = calloc(65537, sizeof(*c));

	if (t == MAP_FAILED || !c)
		return -1;
	for (size_t i = 0; i < n; i++)
		c[(h[i * 32] << 8 | h[i * 32 + 1]) + 1]++;
	for (size_t v = 0; v < 65536; v++)
		c[v + 1] += c[v];
	for (size_t i = 0; i < n; i++)
		memcpy(t + c[h[i * 32] << 8 | h[i * 32 + 1]]++ * 32, h + i * 32, 32);
	for (size_t v = 0, a = 0; v < 65536; a = c[v++])
		qsort(t + a * 32, c[v] - a, 32, hash_cmp);
	memcpy(h, t, n * 32);
	munmap(t, n * 32);
	free(c);
	return 0;
}

static uint64_t rs[4];

static uint64_t rotl(uint64_t x, int k)
{
	return x << k | x >> (64 - k);
}

static uint64_t rnd(void)
{
	uint64_t r = rotl(rs[1] * 5, 7) * 9, t = rs[1] << 17;

	rs[2] ^= rs[0];
	rs[3] ^= rs[1];
	rs[1] ^= rs[2];
	rs[0] ^= rs[3];
	rs[2] ^= t;
	rs[3] = rotl(rs[3], 45);
	return r;
}

static void seed(uint64_t s)
{
	for (int i = 0; i < 4; i++) { /* splitmix64 */
		uint64_t z = (s += 0x9e3779b97f4a7c15ull);

		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		rs[i] = z ^ (z >> 31);
	}
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static double cpu(void)
{
	struct timespec t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static unsigned dist(const uint8_t *a, const uint8_t *b)
{
	uint64_t x[4], y[4];

	memcpy(x, a, 32);
	memcpy(y, b, 32);
	return (unsigned)(__builtin_popcountll(x[0] ^ y[0]) +
			  __builtin_popcountll(x[1] ^ y[1]) +
			  __builtin_popcountll(x[2] ^ y[2]) +
			  __builtin_popcountll(x[3] ^ y[3]));
}

static int same_hits(const struct hlx_pdq_hits *a, const struct hlx_pdq_hits *b)
{
	return a->n == b->n &&
	       (a->n == 0 || memcmp(a->v, b->v, a->n * sizeof(*a->v)) == 0);
}

static int hit_cmp(const void *a, const void *b)
{
	const struct hlx_pdq_hit *x = a, *y = b;

	if (x->query != y->query)
		return x->query < y->query ? -1 : 1;
	if (x->distance != y->distance)
		return x->distance < y->distance ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* Hits of queries q[0 .. nq) by brute force, sorted as the index sorts. */
static int brute(const uint8_t *h, size_t n, const uint8_t *q, size_t nq,
		 unsigned T, struct hlx_pdq_hits *out)
{
	for (size_t i = 0; i < nq; i++)
		for (size_t k = 0; k < n; k++) {
			unsigned d = dist(h + k * 32, q + i * 32);

			if (d > T)
				continue;
			if (out->n == out->cap) {
				size_t c = out->cap ? 2 * out->cap : 64;
				void *p = realloc(out->v, c * sizeof(*out->v));

				if (!p)
					return HLX_ENOMEM;
				out->v = p;
				out->cap = c;
			}
			out->v[out->n++] = (struct hlx_pdq_hit){
				(uint32_t)i, (uint32_t)k, d };
		}
	if (out->n > 1)
		qsort(out->v, out->n, sizeof(*out->v), hit_cmp);
	return HLX_OK;
}

/* n random hashes into h, nq queries into q: even ones a stored hash with
 * 0 to 32 bits flipped, odd ones random. */
static void make_data(uint8_t *h, size_t n, uint8_t *q, size_t nq)
{
	for (size_t i = 0; i < n * 4; i++) {
		uint64_t v = rnd();

		memcpy(h + i * 8, &v, 8);
	}
	for (size_t i = 0; i < nq; i++) {
		uint8_t *x = q + i * 32;

		if (i % 2 == 0) {
			unsigned flips = (unsigned)(rnd() % 33);

			memcpy(x, h + (rnd() % n) * 32, 32);
			for (unsigned f = 0; f < flips; f++) {
				unsigned b = (unsigned)(rnd() % 256);

				x[b / 8] ^= (uint8_t)(1u << (b % 8));
			}
		} else {
			for (int k = 0; k < 4; k++) {
				uint64_t v = rnd();

				memcpy(x + 8 * k, &v, 8);
			}
		}
	}
}

struct run {
	const uint8_t *q;
	unsigned T, threads;
	size_t runs;
	struct hlx_pdq_hits first[16]; /* the first index's hits, by size */
	int bad;
};

/* One index's figures for one batch size, summed over its runs. */
struct acc {
	double qps[16], lat[2000], cpu;
	uint64_t scanned, hits;
};

/* Run r of index m in batches of size (the argument k), into a; its hits
 * of the first run compared with the first index's. */
static int time_run(struct run *ru, const struct impl *im, size_t m,
		    const struct hlx_pdqidx *x, size_t size, int k, size_t r,
		    struct acc *a)
{
	size_t need = size < 2000 ? 2000 : size;
	size_t done = 0, at = r * need;
	double a0 = now(), cpu0 = cpu();

	hlx_pdq_simd(!im->plain);
	while (done < need) {
		struct hlx_pdq_hits got = { 0 };
		double c0 = now();
		int keep = r == 0 && size == need && m == 0;

		if (im->search(x, ru->q + (at + done) * 32, size, ru->T,
			       ru->threads, &got))
			return HLX_ENOMEM;
		if (size == 1 && done < 2000)
			a->lat[done] = now() - c0;
		a->scanned += got.scanned;
		a->hits += got.n;
		if (keep) {
			ru->first[k] = got; /* kept to compare */
		} else {
			if (r == 0 && size == need &&
			    !same_hits(&got, &ru->first[k])) {
				printf("%s: batch of %zu: hits differ from %s's (%zu, %zu)\n",
				       im->name, size, impls[0].name,
				       got.n, ru->first[k].n);
				ru->bad = 1;
			}
			im->hits_free(&got);
		}
		done += size;
	}
	a->qps[r] = (double)done / (now() - a0);
	a->cpu += cpu() - cpu0;
	return HLX_OK;
}

static void print_size(const struct run *ru, const struct impl *im,
		       size_t size, struct acc *a)
{
	size_t need = size < 2000 ? 2000 : size;

	qsort(a->qps, ru->runs, sizeof(*a->qps), dbl_cmp);
	printf("%s: batch %zu: %.0f q/s (median of %zu runs of %zu queries), "
	       "%.1f us CPU, %.0f entries and %.2f hits a query",
	       im->name, size, a->qps[(ru->runs - 1) / 2], ru->runs, need,
	       a->cpu * 1e6 / (double)(need * ru->runs),
	       (double)a->scanned / (double)(need * ru->runs),
	       (double)a->hits / (double)(need * ru->runs));
	if (size == 1) {
		qsort(a->lat, 2000, sizeof(*a->lat), dbl_cmp);
		printf(", latency median %.1f us, 99th %.1f us", a->lat[999] * 1e6,
		       a->lat[1979] * 1e6);
	}
	printf("\n");
	fflush(stdout);
}

int main(int argc, char **argv)
{
	size_t n, nq, nb, most = 1;
	unsigned long long sd;
	uint8_t *h, *q;
	struct hlx_pdq_hits want[64] = { 0 };
	struct run ru = { 0 };
	struct hlx_pdqidx *idx[5] = { 0 };
	struct acc *acc = NULL;

	if (argc < 7 || argc > 22) {
		fprintf(stderr, "usage: pdq-proto N SEED THREADS T RUNS SIZE...\n");
		return 2;
	}
	n = strtoul(argv[1], NULL, 10);
	sd = strtoull(argv[2], NULL, 10);
	ru.threads = (unsigned)strtoul(argv[3], NULL, 10);
	ru.T = (unsigned)strtoul(argv[4], NULL, 10);
	ru.runs = strtoul(argv[5], NULL, 10);
	if (n < 1 || ru.runs < 1 || ru.runs > 16 || ru.T > 63) {
		fprintf(stderr, "pdq-proto: N >= 1, RUNS 1..16, T 0..63\n");
		return 2;
	}
	nq = 0;
	for (int a = 6; a < argc; a++) {
		size_t s = strtoul(argv[a], NULL, 10), need = s < 2000 ? 2000 : s;

		if (s < 1 || s > 1000000) {
			fprintf(stderr, "pdq-proto: SIZE 1..1000000\n");
			return 2;
		}
		if (need * ru.runs > nq)
			nq = need * ru.runs;
		if (s > most)
			most = s;
	}
	nq += most; /* a last call may pass the end of its run */
	/* the hashes as a file's pages would be: 4 KiB pages, no huge ones */
	h = mmap(NULL, n * 32, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	q = malloc(nq * 32);
	if (h == MAP_FAILED || !q)
		return 2;
	madvise(h, n * 32, MADV_NOHUGEPAGE);
	seed(sd);
	make_data(h, n, q, nq);
	impls_init();
	if (!NIMPL) {
		fprintf(stderr, "pdq-proto: PDQ_LAYOUTS: auto, 16, 16-plain or wide\n");
		return 2;
	}
	if (getenv("PDQ_SORTED") && sort_hashes(h, n)) /* the hits' ids too */
		return 2;
	ru.q = q;
	printf("pdq-proto: %zu %shashes, seed %llu, %u threads, T=%u, %zu queries "
	       "(half within 0..32 bits of a stored hash)\n", n,
	       getenv("PDQ_SORTED") ? "sorted " : "", sd, ru.threads, ru.T, nq);
	nb = n > 1000000 ? 16 : 64; /* checked against a scan */
	for (size_t i = 0; i < nb; i++)
		if (brute(h, n, q + i * 32, 1, ru.T, &want[i]))
			return 2;
	/* every index built first, then each run of each batch size timed
	 * for one index after the other, so that a machine whose speed
	 * drifts drifts for all of them alike */
	for (size_t m = 0; m < NIMPL; m++) {
		const struct impl *im = &impls[m];
		double t0 = now();

		hlx_pdq_simd(!im->plain);
		if (im->build(h, n, ru.threads, im->layout, &idx[m])) {
			fprintf(stderr, "pdq-proto: %s: build: %s\n", im->name,
				hlx_err_detail());
			return 1;
		}
		printf("%s: built in %.2f s, %zu bytes, %.1f bytes a hash\n",
		       im->name, now() - t0, im->memory(idx[m]),
		       (double)im->memory(idx[m]) / (double)n);
		for (size_t i = 0; i < nb; i++) {
			struct hlx_pdq_hits one = { 0 };

			if (im->search(idx[m], q + i * 32, 1, ru.T, ru.threads, &one))
				return 1;
			if (!same_hits(&one, &want[i])) {
				printf("%s: query %zu: %zu hits, brute force %zu\n",
				       im->name, i, one.n, want[i].n);
				ru.bad = 1;
			}
			im->hits_free(&one);
		}
	}
	acc = malloc(NIMPL * sizeof(*acc));
	if (!acc)
		return 2;
	for (int a = 6; a < argc; a++) {
		size_t size = strtoul(argv[a], NULL, 10);

		memset(acc, 0, NIMPL * sizeof(*acc));
		for (size_t r = 0; r < ru.runs; r++)
			for (size_t m = 0; m < NIMPL; m++)
				if (time_run(&ru, &impls[m], m, idx[m], size,
					     a - 6, r, &acc[m])) {
					fprintf(stderr, "pdq-proto: %s: search: %s\n",
						impls[m].name, hlx_err_detail());
					return 1;
				}
		for (size_t m = 0; m < NIMPL; m++)
			print_size(&ru, &impls[m], size, &acc[m]);
	}
	for (size_t m = 0; m < NIMPL; m++)
		impls[m].free(idx[m]);
	free(acc);
	for (int a = 0; a < 16; a++)
		free(ru.first[a].v);
	for (size_t i = 0; i < nb; i++)
		free(want[i].v);
	free(q);
	munmap(h, n * 32);
	printf("pdq-proto: %s\n", ru.bad ? "HITS DIFFER" : NIMPL > 1 ?
	       "hits agree (brute force, and between indexes)" :
	       "hits agree with brute force");
	return ru.bad ? 1 : 0;
}
