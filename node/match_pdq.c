/* SPDX-License-Identifier: MIT */
/*
 * The PDQ near-match index: multi-index hashing (spec/match.md, "The PDQ
 * index").
 *
 * A 256-bit hash is cut into 16 chunks of 16 bits.  If two hashes are
 * within distance T, their chunk distances add up to at most T, so some
 * chunk is within r = T / 16 bits (pigeonhole).  Table j holds every hash
 * once, sorted by chunk j, with an offset table of 65,537 entries; a query
 * scans, in each table, the buckets of the chunk values within r bits of
 * its own chunk j.  Each table entry carries 96 further bits of the hash
 * (chunks j+1 to j+6) as a filter: their distance is a lower bound of the
 * full distance, so most candidates are rejected from the entry itself,
 * streaming memory; only the survivors read the full hash.  A hash found
 * in table j is reported only if no later table would find it too, so
 * each stored hash is reported once; most of these duplicates are dropped
 * from the filter, without reading the hash.
 *
 * Below SMALL_MAX hashes there are no tables: a linear scan is faster.
 * From HLX_PDQIDX_WIDE_MIN sorted hashes the tables take the wide layout
 * (match_wide.c); this file chooses, and runs the threads for both.
 */
#include "node/match.h"
#include "node/match_wide.h"
#include "protocol/err.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* n * 256 and the tables' offsets of up to 2^32 - 16 hashes in size_t */
_Static_assert(SIZE_MAX >= UINT64_MAX, "hlx's PDQ index needs a 64-bit size_t");

#define CHUNKS 16
#define BUCKETS 65536
#define SMALL_MAX HLX_PDQIDX_TABLES_MIN

/*
 * Table j's entries lie in three arrays of n, in the same order: the
 * filter bits in two (f0: chunks j+1..j+4; f1: chunks j+5, j+6) and the
 * hashes' ids in a third, so that the filter reads 12 bytes an entry and
 * only an entry that passes it reads its id.
 */
#define ENTRY_BYTES 16 /* f0, f1 and id */

struct tab {
	uint32_t *off; /* BUCKETS + 1 */
	uint64_t *f0;
	uint32_t *f1;
	uint32_t *id;
};

struct hlx_pdqidx {
	size_t n;
	const uint8_t *h; /* n * 32, borrowed */
	int small;
	int borrowed;     /* mem is the caller's (a file image): not freed */
	int wide;         /* the wide layout (match_wide.c): w, not t */
	struct tab t[CHUNKS];
	struct hlx_pdqw w;
	void *mem;        /* every table: one mapping */
	size_t memlen;
};

/*
 * The tables are one anonymous mapping: zeroed by the kernel, returned
 * to it on free.  (Huge pages were measured for the 16 tables: a little
 * faster to search, much slower to build, because the kernel compacts
 * memory to find them.  The wide layout asks for them: tables_alloc.)
 */
static void *big_alloc(size_t len)
{
	void *p = mmap(NULL, len ? len : 1, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static void big_free(void *p, size_t len)
{
	if (p)
		munmap(p, len ? len : 1);
}

static inline unsigned chunk(const uint8_t *h, unsigned j)
{
	j &= CHUNKS - 1;
	return (unsigned)h[2 * j] << 8 | h[2 * j + 1];
}

static inline uint64_t filter0(const uint8_t *h, unsigned j)
{
	return (uint64_t)chunk(h, j + 1) << 48 |
	       (uint64_t)chunk(h, j + 2) << 32 |
	       (uint64_t)chunk(h, j + 3) << 16 | chunk(h, j + 4);
}

static inline uint32_t filter1(const uint8_t *h, unsigned j)
{
	return (uint32_t)chunk(h, j + 5) << 16 | chunk(h, j + 6);
}

size_t hlx_pdqidx_count(const struct hlx_pdqidx *x)
{
	return x ? x->n : 0;
}

size_t hlx_pdqidx_memory(const struct hlx_pdqidx *x)
{
	if (!x)
		return 0;
	return sizeof(*x) + x->n * HLX_PDQ_BYTES + x->memlen;
}

static size_t tables_len(size_t n);

size_t hlx_pdqidx_memory_for(size_t n)
{
	/* as hlx_pdqidx_build and tables_alloc lay it out (sorted hashes) */
	return sizeof(struct hlx_pdqidx) + n * HLX_PDQ_BYTES +
	       (n < SMALL_MAX ? 0 :
		n >= HLX_PDQIDX_WIDE_MIN ? hlx_pdqw_len(n) : tables_len(n));
}

int hlx_pdqidx_layout(const struct hlx_pdqidx *x)
{
	return !x || x->small ? HLX_PDQ_LAYOUT_SCAN :
	       x->wide ? HLX_PDQ_LAYOUT_WIDE : HLX_PDQ_LAYOUT_16;
}

void hlx_pdqidx_free(struct hlx_pdqidx *x)
{
	if (!x)
		return;
	if (!x->borrowed)
		big_free(x->mem, x->memlen);
	free(x);
}

int hlx_pdqidx_borrowed(const struct hlx_pdqidx *x)
{
	return x && x->borrowed;
}

/* ---- build -------------------------------------------------------------- */

/* Table j: count the buckets, then put each hash's entry in place. */
struct build_job {
	struct hlx_pdqidx *x;
	atomic_uint next; /* next table to build */
	atomic_int failed;
};

static void build_table(struct hlx_pdqidx *x, unsigned j, uint32_t *pos)
{
	struct tab *t = &x->t[j];

	for (size_t i = 0; i < x->n; i++)
		t->off[chunk(x->h + i * HLX_PDQ_BYTES, j) + 1]++;
	for (unsigned v = 0; v < BUCKETS; v++)
		t->off[v + 1] += t->off[v];
	memcpy(pos, t->off, BUCKETS * sizeof(*pos));
	for (size_t i = 0; i < x->n; i++) {
		const uint8_t *h = x->h + i * HLX_PDQ_BYTES;
		size_t k = pos[chunk(h, j)]++;

		t->f0[k] = filter0(h, j);
		t->f1[k] = filter1(h, j);
		t->id[k] = (uint32_t)i;
	}
}

void hlx_pdq_parallel(void *(*fn)(void *), void *arg, unsigned threads)
{
	pthread_t tid[HLX_MATCH_THREADS_MAX];
	unsigned started = 0;

	if (threads > HLX_MATCH_THREADS_MAX)
		threads = HLX_MATCH_THREADS_MAX;
	for (unsigned i = 1; i < threads; i++) {
		if (pthread_create(&tid[started], NULL, fn, arg) != 0)
			break; /* the workers that started do the rest */
		started++;
	}
	fn(arg);
	for (unsigned i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
}

static void *build_worker(void *arg)
{
	struct build_job *b = arg;
	uint32_t *pos = malloc(BUCKETS * sizeof(*pos));
	unsigned j;

	if (!pos)
		atomic_store(&b->failed, 1);
	else
		while ((j = atomic_fetch_add(&b->next, 1)) < CHUNKS)
			build_table(b->x, j, pos);
	free(pos);
	return NULL;
}

/*
 * The tables' layout, in memory and in a file image alike: the 16 offset
 * tables (65,537 entries each), then for each table its n f0 (uint64),
 * its n f1 (uint32) and its n ids (uint32), every array padded to a
 * multiple of 64 bytes.
 */
#define PAD64(len) (((len) + 63) / 64 * 64)
#define OFFS_LEN PAD64((BUCKETS + 1) * sizeof(uint32_t))

static size_t tables_len(size_t n)
{
	return CHUNKS * (OFFS_LEN + PAD64(n * 8) + 2 * PAD64(n * 4));
}

static void tables_place(struct hlx_pdqidx *x, uint8_t *p)
{
	for (unsigned j = 0; j < CHUNKS; j++, p += OFFS_LEN)
		x->t[j].off = (uint32_t *)(void *)p;
	for (unsigned j = 0; j < CHUNKS; j++) {
		x->t[j].f0 = (uint64_t *)(void *)p;
		p += PAD64(x->n * 8);
		x->t[j].f1 = (uint32_t *)(void *)p;
		p += PAD64(x->n * 4);
		x->t[j].id = (uint32_t *)(void *)p;
		p += PAD64(x->n * 4);
	}
}

/* One zeroed mapping for the offsets and entries of every table. */
static int tables_alloc(struct hlx_pdqidx *x)
{
	x->memlen = x->wide ? hlx_pdqw_len(x->n) : tables_len(x->n);
	x->mem = big_alloc(x->memlen);
	if (!x->mem) {
		x->memlen = 0;
		return HLX_ENOMEM;
	}
	if (x->wide) {
		/* The wide layout's reads are far apart: with 4 KiB pages
		 * nearly each misses the TLB.  Huge pages, where the kernel
		 * gives them, made its build and search faster by a quarter to
		 * a half at 2^25 hashes (measured in one run: 29.5 against
		 * 36.8 s; 7,589 against 5,085 queries/s in batches of 1,000).
		 * A hint only: without them it works the same. */
#ifdef MADV_HUGEPAGE
		(void)madvise(x->mem, x->memlen, MADV_HUGEPAGE);
#endif
		hlx_pdqw_place(&x->w, x->mem, x->n);
	} else {
		tables_place(x, x->mem);
	}
	return HLX_OK;
}

int hlx_pdqidx_build(const uint8_t *hashes, size_t n, unsigned threads,
		     struct hlx_pdqidx **out)
{
	return hlx_pdqidx_build_layout(hashes, n, threads, HLX_PDQ_LAYOUT_AUTO,
				       out);
}

int hlx_pdqidx_build_layout(const uint8_t *hashes, size_t n,
			    unsigned threads, int layout,
			    struct hlx_pdqidx **out)
{
	struct hlx_pdqidx *x;
	struct build_job b;

	*out = NULL;
	if (n > HLX_PDQIDX_MAX)
		return hlx_err(HLX_ETOOBIG, "PDQ index of %zu hashes: at most %lu",
			       n, (unsigned long)HLX_PDQIDX_MAX);
	x = calloc(1, sizeof(*x));
	if (!x)
		return hlx_err(HLX_ENOMEM, "out of memory");
	x->n = n;
	x->h = hashes;
	x->small = n < SMALL_MAX;
	if (layout != HLX_PDQ_LAYOUT_AUTO && layout != HLX_PDQ_LAYOUT_16 &&
	    layout != HLX_PDQ_LAYOUT_WIDE) {
		hlx_pdqidx_free(x);
		return hlx_err(HLX_EINVAL, "PDQ index layout %d", layout);
	}
	if (layout == HLX_PDQ_LAYOUT_WIDE ||
	    (layout == HLX_PDQ_LAYOUT_AUTO && n >= HLX_PDQIDX_WIDE_MIN)) {
		x->wide = hlx_pdqw_sorted(hashes, n);
		if (!x->wide && layout == HLX_PDQ_LAYOUT_WIDE) {
			hlx_pdqidx_free(x);
			return hlx_err(HLX_EINVAL, "the wide PDQ layout wants strictly increasing hashes");
		}
	}
	if (x->small) {
		x->wide = 0; /* no tables in any layout */
		*out = x;
		return HLX_OK;
	}
	if (tables_alloc(x) != HLX_OK) {
		hlx_pdqidx_free(x);
		return hlx_err(HLX_ENOMEM, "out of memory for a PDQ index of %zu hashes",
			       n);
	}
	b.x = x;
	atomic_init(&b.next, 0);
	atomic_init(&b.failed, 0);
	if (threads == 0)
		threads = 1;
	if (x->wide) {
		if (hlx_pdqw_build(&x->w, hashes, n, threads) != HLX_OK) {
			hlx_pdqidx_free(x);
			return hlx_err(HLX_ENOMEM, "out of memory for a PDQ index of %zu hashes",
				       n);
		}
		*out = x;
		return HLX_OK;
	}
	hlx_pdq_parallel(build_worker, &b, threads < CHUNKS ? threads : CHUNKS);
	if (atomic_load(&b.failed)) {
		hlx_pdqidx_free(x);
		return hlx_err(HLX_ENOMEM, "out of memory for a PDQ index of %zu hashes",
			       n);
	}
	*out = x;
	return HLX_OK;
}

/* ---- the tables as a file image ----------------------------------------- */

/*
 * A header of HLX_PDQIDX_HEAD bytes, then the tables exactly as they lie
 * in memory (tables_place).  The image is derived data of one machine:
 * its integers are in the machine's byte order, which the header names.
 *
 *   0  magic "HLXPDQT2"        8 bytes ("HLXPDQT1": the wide layout)
 *   8  tag                     16 bytes, the caller's
 *  24  byte order mark         uint32 0x01020304
 *  28  chunks, buckets, entry  uint32 16, 65536, 16 (wide: 11, 2^24, 12)
 *  40  hashes n                uint64
 *  48  bytes of tables         uint64
 *  56  zero                    8 bytes
 */
/* The 16 tables' arrays (HLXPDQT1 had their entries of 16 bytes, the id
 * among the filter bits: refused, built again); the wide layout kept its
 * own. */
#define IMG_MAGIC "HLXPDQT2"
#define IMG_MAGIC_WIDE "HLXPDQT1"
#define IMG_BOM 0x01020304u

struct img_head {
	char magic[8];
	uint8_t tag[HLX_PDQIDX_TAG];
	uint32_t bom, chunks, buckets, entry;
	uint64_t n, len;
	uint8_t zero[8];
};

_Static_assert(sizeof(struct img_head) == HLX_PDQIDX_HEAD,
	       "the image header is 64 bytes");

int hlx_pdqidx_image(const struct hlx_pdqidx *x,
		     const uint8_t tag[HLX_PDQIDX_TAG],
		     uint8_t head[HLX_PDQIDX_HEAD], const void **tables,
		     size_t *len)
{
	struct img_head h;

	*tables = NULL;
	*len = 0;
	if (x->small)
		return hlx_err(HLX_ENOENT, "an index of %zu hashes has no tables",
			       x->n);
	memset(&h, 0, sizeof(h));
	memcpy(h.magic, x->wide ? IMG_MAGIC_WIDE : IMG_MAGIC, sizeof(h.magic));
	memcpy(h.tag, tag, HLX_PDQIDX_TAG);
	h.bom = IMG_BOM;
	h.chunks = x->wide ? HLX_PDQW_CHUNKS : CHUNKS;
	h.buckets = x->wide ? HLX_PDQW_BUCKETS : BUCKETS;
	h.entry = x->wide ? HLX_PDQW_ENTRY : ENTRY_BYTES;
	h.n = x->n;
	h.len = x->memlen;
	memcpy(head, &h, sizeof(h));
	*tables = x->mem;
	*len = x->memlen;
	return HLX_OK;
}

/* Entries of table j checked against the hashes: the first entry of the
 * buckets whose chunk value is a multiple of SAMPLE_STEP, which must hold
 * a hash of that chunk value and carry its filter (an image of other
 * hashes, or shifted, is refused).  Each reads a page of the tables and
 * one of the hashes: 256 a table keep the check to milliseconds. */
#define SAMPLE_STEP 256

static int sample_table(const struct hlx_pdqidx *x, unsigned j)
{
	const struct tab *t = &x->t[j];

	for (unsigned v = 0; v < BUCKETS; v += SAMPLE_STEP) {
		size_t k = t->off[v];
		const uint8_t *h;

		if (k == t->off[v + 1])
			continue;
		if (k >= x->n || t->id[k] >= x->n) /* (the file changed since) */
			return 0;
		h = x->h + (size_t)t->id[k] * HLX_PDQ_BYTES;
		if (chunk(h, j) != v || t->f0[k] != filter0(h, j) ||
		    t->f1[k] != filter1(h, j))
			return 0;
	}
	return 1;
}

int hlx_pdqidx_attach(const uint8_t *hashes, size_t n,
		      const uint8_t tag[HLX_PDQIDX_TAG], const void *p,
		      size_t len, struct hlx_pdqidx **out)
{
	struct img_head h;
	struct hlx_pdqidx *x;
	size_t want;
	int wide;

	*out = NULL;
	if (n < SMALL_MAX || n > HLX_PDQIDX_MAX)
		return hlx_err(HLX_EINVAL, "an index of %zu hashes has no tables image",
			       n);
	if (len < sizeof(h) || (uintptr_t)p % 64)
		return hlx_err(HLX_EINVAL, "PDQ tables image: %zu bytes", len);
	memcpy(&h, p, sizeof(h));
	wide = memcmp(h.magic, IMG_MAGIC_WIDE, sizeof(h.magic)) == 0;
	if (!wide && memcmp(h.magic, IMG_MAGIC, sizeof(h.magic)) != 0)
		return hlx_err(HLX_EINVAL, "not an hlx PDQ tables image of this version");
	if (h.bom != IMG_BOM ||
	    !((!wide && h.chunks == CHUNKS && h.buckets == BUCKETS &&
	       h.entry == ENTRY_BYTES) ||
	      (wide && h.chunks == HLX_PDQW_CHUNKS &&
	       h.buckets == HLX_PDQW_BUCKETS && h.entry == HLX_PDQW_ENTRY)))
		return hlx_err(HLX_EINVAL, "PDQ tables image of another layout or machine");
	if (memcmp(h.tag, tag, HLX_PDQIDX_TAG) != 0 || h.n != n)
		return hlx_err(HLX_EINVAL, "PDQ tables image of other hashes");
	for (size_t i = 0; i < sizeof(h.zero); i++)
		if (h.zero[i])
			return hlx_err(HLX_EINVAL, "PDQ tables image: bad header");
	want = wide ? hlx_pdqw_len(n) : tables_len(n);
	if (h.len != want || len - sizeof(h) != h.len)
		return hlx_err(HLX_EINVAL, "PDQ tables image of %zu bytes, not %zu",
			       len, sizeof(h) + want);
	x = calloc(1, sizeof(*x));
	if (!x)
		return hlx_err(HLX_ENOMEM, "out of memory");
	x->n = n;
	x->h = hashes;
	x->borrowed = 1;
	x->mem = (uint8_t *)(uintptr_t)p + sizeof(h);
	x->memlen = h.len;
	x->wide = wide;
	if (wide) {
		hlx_pdqw_place(&x->w, x->mem, n);
		if (!hlx_pdqw_check(&x->w, hashes, n)) {
			hlx_pdqidx_free(x);
			return hlx_err(HLX_EINVAL, "PDQ tables image: the wide tables are damaged");
		}
		*out = x;
		return HLX_OK;
	}
	tables_place(x, x->mem);
	/* every bucket within the table: 0 first, n last, never decreasing */
	for (unsigned j = 0; j < CHUNKS; j++) {
		const uint32_t *o = x->t[j].off;
		int good = o[0] == 0 && o[BUCKETS] == n;

		for (unsigned v = 0; good && v < BUCKETS; v++)
			good = o[v] <= o[v + 1];
		if (!good || !sample_table(x, j)) {
			hlx_pdqidx_free(x);
			return hlx_err(HLX_EINVAL, "PDQ tables image: table %u is damaged",
				       j);
		}
	}
	*out = x;
	return HLX_OK;
}

/* ---- search ------------------------------------------------------------- */

/*
 * A batch is searched table by table.  The probes of all its queries into
 * table j (each query's chunk j and its neighbours within r bits) are
 * sorted by bucket first, so that each probed bucket is read once for the
 * whole batch, in address order, and compared against every query that
 * probes it while it sits in the cache.  Tables are shared out between
 * threads; each thread collects its own hits.
 *
 * The scan is written once and compiled twice on x86: with the POPCNT
 * instruction (chosen at run time when the CPU has it) and without.
 */
#define ALWAYS_INLINE static inline __attribute__((always_inline))
#define NEIGH_MAX 697            /* 1 + 16 + 120 + 560 masks for r <= 3 */
#define PROBES_MAX (1u << 22)    /* probes per table pass: bounds scratch */
#define SPARSE_MAX (1u << 15)    /* fewer probes a table: sorted, not counted */
#define WORK_PER_THREAD (1u << 20) /* index entries a thread is started for */
/* The wide layout's probes in a table pass, all threads together and at
 * least each: each pass reads the table once, so larger passes read less
 * (at 2^25 hashes, 2^24 a thread beat 2^23 by a fifth). */
#define WIDE_PROBES_ALL (1u << 25)
#define WIDE_PROBES_MIN (1u << 22)

ALWAYS_INLINE unsigned pc64(uint64_t v)
{
	return (unsigned)__builtin_popcountll(v);
}

ALWAYS_INLINE unsigned full_distance(const uint8_t *a, const uint8_t *b)
{
	uint64_t x[4], y[4];

	memcpy(x, a, 32);
	memcpy(y, b, 32);
	return pc64(x[0] ^ y[0]) + pc64(x[1] ^ y[1]) + pc64(x[2] ^ y[2]) +
	       pc64(x[3] ^ y[3]);
}

/*
 * Each hash is reported by the last table whose chunk is within r bits of
 * the query's.  x0, x1: the entry's filter (chunks j+1..j+6) XOR the
 * query's; true if one of those chunks that has a later table (j+k <= 15)
 * is within r, so that the hash is skipped here without reading it.  The
 * chunks after j+6 are checked on the full hash.
 */
ALWAYS_INLINE int later_table(uint64_t x0, uint32_t x1, unsigned j,
			      unsigned r)
{
	for (unsigned k = 1; k <= 6 && j + k < CHUNKS; k++) {
		unsigned piece = k <= 4 ? (unsigned)(x0 >> (64 - 16 * k)) & 0xffff :
				 (unsigned)(x1 >> (32 - 16 * (k - 4))) & 0xffff;

		if (pc64(piece) <= r)
			return 1;
	}
	return 0;
}

/* Every 16-bit mask of at most r bits (r <= 3), with its weight. */
static size_t masks(unsigned r, uint16_t *m, uint8_t *w)
{
	size_t n = 0;

	m[n] = 0;
	w[n++] = 0;
	for (unsigned a = 0; r >= 1 && a < 16; a++) {
		m[n] = (uint16_t)(1u << a);
		w[n++] = 1;
		for (unsigned b = a + 1; r >= 2 && b < 16; b++) {
			m[n] = (uint16_t)(1u << a | 1u << b);
			w[n++] = 2;
			for (unsigned c = b + 1; r >= 3 && c < 16; c++) {
				m[n] = (uint16_t)(1u << a | 1u << b | 1u << c);
				w[n++] = 3;
			}
		}
	}
	return n;
}

int hlx_pdq_hits_push(struct hlx_pdq_hits *h, uint32_t q, uint32_t id,
		     uint32_t d)
{
	if (h->n == h->cap) {
		size_t nc = h->cap ? h->cap * 2 : 1024;
		struct hlx_pdq_hit *p;

		if (nc > SIZE_MAX / sizeof(*p))
			return HLX_ENOMEM;
		p = realloc(h->v, nc * sizeof(*p));
		if (!p)
			return HLX_ENOMEM;
		h->v = p;
		h->cap = nc;
	}
	h->v[h->n++] = (struct hlx_pdq_hit){ q, id, d };
	return HLX_OK;
}

struct search_job {
	const struct hlx_pdqidx *x;
	const uint8_t *q;
	size_t nq;
	unsigned T, r, nthreads;
	size_t nmask;
	int simd;               /* the tables' filter through pass_avx512 */
	uint16_t mask[NEIGH_MAX];
	uint8_t weight[NEIGH_MAX];
	/* the wide layout's masks (match_wide.c) */
	uint32_t *wmask;
	uint8_t *wweight;
	size_t nwmask, nwmask23, wgroup;
};

/* A query's filter bits for the table in hand (chunks j+1..j+6). */
struct qfilt {
	uint64_t f0;
	uint32_t f1, pad;
};

struct search_thread {
	struct search_job *job;
	struct qfilt *qf; /* the filters of the queries of a table pass */
	unsigned first; /* tables first, first + nthreads, ... */
	struct hlx_pdq_hits hits;
	uint32_t *cnt;   /* BUCKETS + 1; NULL: the probes are sparse */
	uint32_t *probe; /* query << 2 | weight, sorted by bucket; if
			  * sparse, 4 arrays of stride entries */
	size_t stride;
	struct hlx_pdqw_scan ws; /* the wide layout's, with its scratch */
	int rc;
};

/* An entry whose filter bits passed: the hash is read, checked whole,
 * and reported for query qi unless a later table reports it. */
ALWAYS_INLINE int candidate(struct search_thread *st, unsigned j,
			    size_t k, const uint8_t *q, size_t qi,
			    uint64_t f0, uint32_t f1)
{
	const struct search_job *jb = st->job;
	const struct hlx_pdqidx *x = jb->x;
	const struct tab *t = &x->t[j];
	unsigned T = jb->T, r = jb->r, d, i;
	uint32_t id;
	const uint8_t *h;

	if (later_table(t->f0[k] ^ f0, t->f1[k] ^ f1, j, r))
		return HLX_OK;
	id = t->id[k];
	if (id >= x->n) /* a damaged image */
		return HLX_OK;
	h = x->h + (size_t)id * HLX_PDQ_BYTES;
	d = full_distance(h, q);
	if (d > T)
		return HLX_OK;
	for (i = j + 7; i < CHUNKS; i++)
		if (pc64(chunk(h, i) ^ chunk(q, i)) <= r)
			return HLX_OK; /* a later table reports it */
	if (hlx_pdq_hits_push(&st->hits, (uint32_t)qi, id, d))
		return HLX_ENOMEM;
	return HLX_OK;
}

#if defined(__x86_64__)
#define PASS_BLOCK 256

/*
 * The filter of entries [0, n) of (f0, f1) (n <= PASS_BLOCK) against a
 * query's (q0, q1), eight entries at once: eight f0 in a 512-bit
 * register, eight f1 widened to 64 bits in another, the bits that differ
 * counted (VPOPCNTQ) and added.  The indexes of the entries within limit
 * go to out; returns how many.
 */
__attribute__((target("avx512f,avx512bw,avx512vpopcntdq,popcnt")))
static size_t pass_avx512(const uint64_t *f0, const uint32_t *f1, size_t n,
			  uint64_t q0, uint32_t q1, unsigned limit,
			  uint16_t *out)
{
	const __m512i qv0 = _mm512_set1_epi64((long long)q0);
	const __m512i qv1 = _mm512_set1_epi64((long long)q1);
	const __m512i lim = _mm512_set1_epi64((long long)limit);
	size_t i = 0, k = 0;

	for (; i + 8 <= n; i += 8) {
		__m512i a = _mm512_loadu_si512((const void *)(f0 + i));
		__m512i b = _mm512_cvtepu32_epi64(
			_mm256_loadu_si256((const void *)(f1 + i)));
		__m512i sum = _mm512_add_epi64(
			_mm512_popcnt_epi64(_mm512_xor_si512(a, qv0)),
			_mm512_popcnt_epi64(_mm512_xor_si512(b, qv1)));
		unsigned pass = (unsigned)_mm512_cmple_epu64_mask(sum, lim);

		while (pass) {
			out[k++] = (uint16_t)(i + (unsigned)__builtin_ctz(pass));
			pass &= pass - 1;
		}
	}
	for (; i < n; i++)
		if ((unsigned)__builtin_popcountll(f0[i] ^ q0) +
		    (unsigned)__builtin_popcount(f1[i] ^ q1) <= limit)
			out[k++] = (uint16_t)i;
	return k;
}
#endif

/* The probes probe[p0, p1) of bucket v of table j (each query << 2 |
 * weight, the query counted from q0). */
ALWAYS_INLINE int scan_bucket(struct search_thread *st, unsigned j, unsigned v,
			      const uint32_t *probe, size_t p0, size_t p1,
			      size_t q0)
{
	const struct search_job *jb = st->job;
	const struct tab *t = &jb->x->t[j];
	size_t e0 = t->off[v], end = t->off[v + 1];

	/* attach checked the offsets, but a mapped file another process
	 * writes in place may change under us: never read past the tables */
	if (end > jb->x->n)
		end = jb->x->n;
	if (end <= e0) /* empty, or offsets not as attach saw them */
		return HLX_OK;
	for (size_t p = p0; p < p1; p++) {
		size_t qi = q0 + (probe[p] >> 2);
		const uint8_t *q = jb->q + qi * HLX_PDQ_BYTES;
		uint64_t f0 = st->qf[probe[p] >> 2].f0;
		uint32_t f1 = st->qf[probe[p] >> 2].f1;
		unsigned limit = jb->T - (probe[p] & 3);

		/* the probes of a bucket come from queries far apart */
		if (p + 4 < p1)
			__builtin_prefetch(&st->qf[probe[p + 4] >> 2]);

		st->hits.scanned += (uint64_t)(end - e0);
#if defined(__x86_64__)
		if (jb->simd) {
			for (size_t o = e0; o < end; o += PASS_BLOCK) {
				uint16_t at[PASS_BLOCK];
				size_t np = pass_avx512(t->f0 + o, t->f1 + o,
							end - o < PASS_BLOCK ?
							end - o : PASS_BLOCK,
							f0, f1, limit, at);

				for (size_t k = 0; k < np; k++)
					if (candidate(st, j, o + at[k], q, qi, f0, f1))
						return HLX_ENOMEM;
			}
			continue;
		}
#endif
		for (size_t k = e0; k < end; k++)
			if (pc64(t->f0[k] ^ f0) + pc64(t->f1[k] ^ f1) <= limit &&
			    candidate(st, j, k, q, qi, f0, f1))
				return HLX_ENOMEM;
	}
	return HLX_OK;
}

/*
 * Queries [q0, q1) against table j, when their probes are many: a
 * counting sort of the probes by bucket, then one pass over the buckets.
 */
ALWAYS_INLINE int scan_dense(struct search_thread *st, unsigned j, size_t q0,
			     size_t q1)
{
	const struct search_job *jb = st->job;
	const struct tab *t = &jb->x->t[j];
	uint32_t *cnt = st->cnt, *probe = st->probe;

	memset(cnt, 0, (BUCKETS + 1) * sizeof(*cnt));
	for (size_t i = q0; i < q1; i++) {
		unsigned c = chunk(jb->q + i * HLX_PDQ_BYTES, j);

		for (size_t k = 0; k < jb->nmask; k++)
			cnt[(c ^ jb->mask[k]) + 1]++;
	}
	for (unsigned v = 0; v < BUCKETS; v++)
		cnt[v + 1] += cnt[v];
	for (size_t i = q0; i < q1; i++) {
		unsigned c = chunk(jb->q + i * HLX_PDQ_BYTES, j);

		for (size_t k = 0; k < jb->nmask; k++)
			probe[cnt[c ^ jb->mask[k]]++] =
				(uint32_t)(i - q0) << 2 | jb->weight[k];
	}
	/* cnt[v] is now the end of bucket v's probes, the start of v + 1's */
	for (unsigned v = 0, p = 0; v < BUCKETS; v++) {
		size_t end = t->off[v + 1], next;
		int rc;

		if (p == cnt[v])
			continue;
		/* where the next bucket ends if it is this one's size */
		next = end + (end - t->off[v]);
		if (v + 1 < BUCKETS && next < jb->x->n) {
			__builtin_prefetch(&t->f0[next]);
			__builtin_prefetch(&t->f1[next]);
		}
		rc = scan_bucket(st, j, v, probe, p, cnt[v], q0);
		if (rc)
			return rc;
		p = cnt[v];
	}
	return HLX_OK;
}

/* Every cache line of [a, z): a bucket's f0 and f1 lie in two arrays,
 * and neither starts on a line. */
ALWAYS_INLINE void prefetch_range(const void *a, const void *z)
{
	for (uintptr_t p = (uintptr_t)a & ~(uintptr_t)63; p < (uintptr_t)z; p += 64)
		__builtin_prefetch((const void *)p);
}

/*
 * The same when the probes of the whole batch are few (SPARSE_MAX at
 * most): sorted by bucket with two passes of a radix sort, so that the
 * cost follows the probes, not the 65,536 buckets.  Reading the buckets
 * is most of the work, and they lie far apart: each is prefetched whole
 * two probes ahead, its offsets eight ahead.
 */
ALWAYS_INLINE int scan_sparse(struct search_thread *st, unsigned j, size_t q0,
			      size_t q1)
{
	const struct search_job *jb = st->job;
	const struct tab *t = &jb->x->t[j];
	size_t w = st->stride;
	uint32_t *a = st->probe, *b = a + w, *pv = b + w, *ta = pv + w;
	uint32_t c0[257], c1[257];
	size_t np = 0, p, p1;

	memset(c0, 0, sizeof(c0));
	memset(c1, 0, sizeof(c1));
	for (size_t i = q0; i < q1; i++) {
		unsigned c = chunk(jb->q + i * HLX_PDQ_BYTES, j);

		for (size_t k = 0; k < jb->nmask; k++) {
			unsigned v = c ^ jb->mask[k];

			c0[(v & 0xff) + 1]++;
			c1[(v >> 8) + 1]++;
			b[np] = v;
			a[np++] = (uint32_t)(i - q0) << 2 | jb->weight[k];
		}
	}
	for (unsigned k = 0; k < 256; k++) {
		c0[k + 1] += c0[k];
		c1[k + 1] += c1[k];
	}
	/* by the low byte of the bucket into (pv, ta), then by the high
	 * byte back into (b, a) */
	for (size_t i = 0; i < np; i++) {
		size_t d = c0[b[i] & 0xff]++;

		pv[d] = b[i];
		ta[d] = a[i];
	}
	for (size_t i = 0; i < np; i++) {
		size_t d = c1[pv[i] >> 8]++;

		b[d] = pv[i];
		a[d] = ta[i];
	}
	/* b[] the buckets in order, a[] their probes */
	for (p = 0; p < np; p = p1) {
		unsigned v = b[p];
		int rc;

		for (p1 = p + 1; p1 < np && b[p1] == v; p1++)
			;
		if (p1 + 8 < np)
			__builtin_prefetch(&t->off[b[p1 + 8]]);
		if (p1 + 2 < np) {
			size_t e = t->off[b[p1 + 2]], z = t->off[b[p1 + 2] + 1];

			if (z > jb->x->n) /* as scan_bucket: a guard */
				z = jb->x->n;

			prefetch_range(t->f0 + e, t->f0 + z);
			prefetch_range(t->f1 + e, t->f1 + z);
		}
		rc = scan_bucket(st, j, v, a, p, p1, q0);
		if (rc)
			return rc;
	}
	return HLX_OK;
}

/* Queries [q0, q1) against table j: their filter bits for the table
 * first, read in order, so that a probe reads 16 bytes of them. */
ALWAYS_INLINE int scan_table(struct search_thread *st, unsigned j, size_t q0,
			     size_t q1)
{
	const uint8_t *q = st->job->q;

	for (size_t i = q0; i < q1; i++)
		st->qf[i - q0] = (struct qfilt){
			filter0(q + i * HLX_PDQ_BYTES, j),
			filter1(q + i * HLX_PDQ_BYTES, j), 0 };
	if (!st->cnt)
		return scan_sparse(st, j, q0, q1);
	return scan_dense(st, j, q0, q1);
}

ALWAYS_INLINE int scan_small(struct search_thread *st)
{
	const struct search_job *jb = st->job;
	const struct hlx_pdqidx *x = jb->x;

	/* one thread, no tables: every query against every hash */
	for (size_t i = 0; i < jb->nq; i++) {
		const uint8_t *q = jb->q + i * HLX_PDQ_BYTES;

		st->hits.scanned += x->n;
		for (size_t k = 0; k < x->n; k++) {
			unsigned d = full_distance(x->h + k * HLX_PDQ_BYTES, q);

			if (d <= jb->T && hlx_pdq_hits_push(&st->hits, (uint32_t)i,
						    (uint32_t)k, d))
				return HLX_ENOMEM;
		}
	}
	return HLX_OK;
}

ALWAYS_INLINE int thread_body(struct search_thread *st)
{
	const struct search_job *jb = st->job;
	size_t group = PROBES_MAX / jb->nmask;
	int rc = HLX_OK;

	if (jb->x->small)
		return st->first == 0 ? scan_small(st) : HLX_OK;
	if (jb->x->wide) {
		for (unsigned j = st->first; j < HLX_PDQW_CHUNKS && !rc;
		     j += jb->nthreads)
			for (size_t q0 = 0; q0 < jb->nq && !rc; q0 += jb->wgroup)
				rc = hlx_pdqw_scan_table(&st->ws, j, q0,
							 q0 + jb->wgroup < jb->nq ?
							 q0 + jb->wgroup : jb->nq,
							 &st->hits);
		return rc;
	}
	for (unsigned j = st->first; j < CHUNKS && !rc; j += jb->nthreads)
		for (size_t q0 = 0; q0 < jb->nq && !rc; q0 += group)
			rc = scan_table(st, j, q0, q0 + group < jb->nq ?
					q0 + group : jb->nq);
	return rc;
}

static int thread_generic(struct search_thread *st)
{
	return thread_body(st);
}

#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("popcnt")))
static int thread_popcnt(struct search_thread *st)
{
	return thread_body(st);
}

int hlx_pdq_have_popcnt(void)
{
	static atomic_int known; /* 0 unknown, 1 no, 2 yes */
	int k = atomic_load_explicit(&known, memory_order_relaxed);

	if (!k) {
		__builtin_cpu_init();
		k = __builtin_cpu_supports("popcnt") ? 2 : 1;
		atomic_store_explicit(&known, k, memory_order_relaxed);
	}
	return k == 2;
}
#endif

/* The CPU has what pass_avx512 uses (x86-64 only). */
static int have_avx512(void)
{
#if defined(__x86_64__)
	static atomic_int known; /* 0 unknown, 1 no, 2 yes */
	int k = atomic_load_explicit(&known, memory_order_relaxed);

	if (!k) {
		__builtin_cpu_init();
		k = __builtin_cpu_supports("avx512f") &&
		    __builtin_cpu_supports("avx512bw") &&
		    __builtin_cpu_supports("avx512vpopcntdq") &&
		    __builtin_cpu_supports("popcnt") ? 2 : 1;
		atomic_store_explicit(&known, k, memory_order_relaxed);
	}
	return k == 2;
#else
	return 0;
#endif
}

/* hlx_pdq_simd(0) turned it off */
static atomic_int simd_off;

int hlx_pdq_simd(int on)
{
	if (on >= 0)
		atomic_store(&simd_off, !on);
	return !atomic_load(&simd_off) && have_avx512();
}

static void *search_worker(void *arg)
{
	struct search_thread *st = arg;

#if defined(__x86_64__) || defined(__i386__)
	if (hlx_pdq_have_popcnt()) {
		st->rc = thread_popcnt(st);
		return NULL;
	}
#endif
	st->rc = thread_generic(st);
	return NULL;
}

static int hit_cmp(const void *a, const void *b)
{
	const struct hlx_pdq_hit *x = a, *y = b;

	if (x->distance != y->distance)
		return x->distance < y->distance ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* The threads' hits into dst, by query (a counting sort), then by
 * distance and id within a query. */
static int hits_merge(struct search_thread *st, unsigned nt, size_t nq,
		      struct hlx_pdq_hit *dst)
{
	size_t *start = calloc(nq + 1, sizeof(*start));

	if (!start)
		return HLX_ENOMEM;
	for (unsigned i = 0; i < nt; i++)
		for (size_t k = 0; k < st[i].hits.n; k++)
			start[st[i].hits.v[k].query + 1]++;
	for (size_t q = 0; q < nq; q++)
		start[q + 1] += start[q];
	for (unsigned i = 0; i < nt; i++)
		for (size_t k = 0; k < st[i].hits.n; k++)
			dst[start[st[i].hits.v[k].query]++] = st[i].hits.v[k];
	/* start[q] is now where query q's hits end */
	for (size_t q = 0, from = 0; q < nq; from = start[q++])
		if (start[q] - from > 1)
			qsort(dst + from, start[q] - from, sizeof(*dst), hit_cmp);
	free(start);
	return HLX_OK;
}

void hlx_pdq_hits_free(struct hlx_pdq_hits *h)
{
	free(h->v);
	memset(h, 0, sizeof(*h));
}

int hlx_pdqidx_search(const struct hlx_pdqidx *x, const uint8_t *q,
		      size_t nq, unsigned threshold, unsigned threads,
		      struct hlx_pdq_hits *out)
{
	struct search_job *jb;
	struct search_thread st[CHUNKS];
	pthread_t tid[CHUNKS];
	size_t base = out->n, total = 0;
	uint64_t scanned = 0;
	unsigned nt, started = 0;
	int rc = HLX_OK;

	if (threshold > HLX_MATCH_THRESHOLD_MAX)
		return hlx_err(HLX_EINVAL, "PDQ threshold %u: at most %d",
			       threshold, HLX_MATCH_THRESHOLD_MAX);
	if (nq > UINT32_MAX >> 2)
		return hlx_err(HLX_ETOOBIG, "batch of %zu PDQ queries", nq);
	if (nq == 0 || x->n == 0)
		return HLX_OK;
	jb = calloc(1, sizeof(*jb));
	if (!jb)
		return hlx_err(HLX_ENOMEM, "out of memory");
	jb->x = x;
	jb->q = q;
	jb->nq = nq;
	jb->T = threshold;
	jb->r = threshold / CHUNKS;
	jb->nmask = masks(jb->r, jb->mask, jb->weight);
	jb->simd = hlx_pdq_simd(-1);
	nt = threads ? threads : 1;
	if (nt > CHUNKS)
		nt = CHUNKS;
	if (x->wide) {
		int mrc;

		jb->r = threshold / HLX_PDQW_CHUNKS;
		mrc = hlx_pdqw_masks(jb->r, &jb->wmask, &jb->wweight, &jb->nwmask,
				     &jb->nwmask23);
		if (mrc) {
			free(jb);
			return hlx_err(mrc, "the masks of PDQ threshold %u", threshold);
		}
		if (nt > HLX_PDQW_CHUNKS)
			nt = HLX_PDQW_CHUNKS;
		if (nt > 1) {
			/* a probe reads a bucket far from the last: it counts
			 * as many entries */
			uint64_t work = (uint64_t)nq * jb->nwmask * HLX_PDQW_CHUNKS *
					(x->n / HLX_PDQW_BUCKETS + 16);

			if (work / WORK_PER_THREAD + 1 < nt)
				nt = (unsigned)(work / WORK_PER_THREAD + 1);
		}
		/* the queries a table pass takes: their probes share
		 * WIDE_PROBES_ALL between the threads, WIDE_PROBES_MIN each
		 * at least (16 bytes of scratch a probe) */
		jb->wgroup = (WIDE_PROBES_ALL / nt > WIDE_PROBES_MIN ?
			      WIDE_PROBES_ALL / nt : WIDE_PROBES_MIN) / jb->nwmask;
		if (jb->wgroup > nq)
			jb->wgroup = nq;
		if (jb->wgroup == 0)
			jb->wgroup = 1;
	} else if (x->small)
		nt = 1;
	else if (nt > 1) {
		/* starting a thread costs tens of microseconds, more than a
		 * small batch's share: threads only for the work to share */
		uint64_t work = (uint64_t)nq * jb->nmask * CHUNKS *
				(x->n / BUCKETS + 1);

		if (work / WORK_PER_THREAD + 1 < nt)
			nt = (unsigned)(work / WORK_PER_THREAD + 1);
	}
	jb->nthreads = nt;
	memset(st, 0, sizeof(st));
	for (unsigned i = 0; i < nt; i++) {
		size_t np = nq > PROBES_MAX / jb->nmask ? PROBES_MAX :
			    nq * jb->nmask;

		st[i].job = jb;
		st[i].first = i;
		if (x->small)
			continue;
		if (x->wide) {
			struct hlx_pdqw_scan *ws = &st[i].ws;

			ws->w = &x->w;
			ws->h = x->h;
			ws->n = x->n;
			ws->q = q;
			ws->T = jb->T;
			ws->r = jb->r;
			ws->mask = jb->wmask;
			ws->weight = jb->wweight;
			ws->nmask = jb->nwmask;
			ws->nmask23 = jb->nwmask23;
			ws->probe = malloc(2 * jb->wgroup * jb->nwmask *
					   sizeof(uint64_t));
			ws->qhi = malloc(jb->wgroup * sizeof(uint64_t));
			ws->qlo = malloc(jb->wgroup * sizeof(uint32_t));
			if (!ws->probe || !ws->qhi || !ws->qlo)
				rc = HLX_ENOMEM;
			continue;
		}
		/* the queries of a table pass: at most PROBES_MAX probes */
		st[i].qf = malloc((nq < PROBES_MAX / jb->nmask ? nq :
				   PROBES_MAX / jb->nmask) * sizeof(*st[i].qf));
		if (!st[i].qf)
			rc = HLX_ENOMEM;
		if (np <= SPARSE_MAX) {
			st[i].stride = np;
			st[i].probe = malloc(4 * np * sizeof(uint32_t));
			rc = st[i].probe ? rc : HLX_ENOMEM;
		} else {
			st[i].cnt = malloc((BUCKETS + 1) * sizeof(uint32_t));
			st[i].probe = malloc(np * sizeof(uint32_t));
			if (!st[i].cnt || !st[i].probe)
				rc = HLX_ENOMEM;
		}
	}
	for (unsigned i = 1; !rc && i < nt; i++) {
		if (pthread_create(&tid[i], NULL, search_worker, &st[i]) != 0)
			break;
		started = i;
	}
	if (!rc) {
		/* threads that could not start: their tables run here */
		for (unsigned i = started + 1; i < nt; i++)
			search_worker(&st[i]);
		search_worker(&st[0]);
	}
	for (unsigned i = 1; i <= started; i++)
		pthread_join(tid[i], NULL);
	for (unsigned i = 0; i < nt; i++) {
		if (st[i].rc)
			rc = st[i].rc;
		total += st[i].hits.n;
		scanned += st[i].hits.scanned;
	}
	if (!rc && total > out->cap - out->n) {
		size_t nc = out->n + total;
		struct hlx_pdq_hit *p = nc <= SIZE_MAX / sizeof(*p) ?
					realloc(out->v, nc * sizeof(*p)) : NULL;

		if (p) {
			out->v = p;
			out->cap = nc;
		} else {
			rc = HLX_ENOMEM;
		}
	}
	if (!rc && total)
		rc = hits_merge(st, nt, nq, out->v + out->n);
	if (!rc) {
		out->n += total;
		out->scanned += scanned;
	}
	for (unsigned i = 0; i < nt; i++) {
		free(st[i].cnt);
		free(st[i].probe);
		free(st[i].qf);
		free(st[i].ws.probe);
		free(st[i].ws.qhi);
		free(st[i].ws.qlo);
		hlx_pdq_hits_free(&st[i].hits);
	}
	free(jb->wmask);
	free(jb->wweight);
	free(jb);
	if (rc) {
		out->n = base;
		return hlx_err(HLX_ENOMEM, "out of memory for the matches of %zu PDQ queries",
			       nq);
	}
	return HLX_OK;
}
