/* SPDX-License-Identifier: MIT */
/*
 * The wide layout of the PDQ index (spec/match.md, "The wide layout").
 *
 * With 16 chunks of 16 bits, a table's bucket holds n / 65,536 hashes, so
 * a query examines about 41 entries a thousand hashes; at 100M hashes that
 * is 415,000 entries of 16 bytes, and 288 bytes a hash do not fit the
 * machine.  Here the hash is cut into 11 chunks (3 of 24 bits, 8 of 23):
 * r = T / 11 (2 at T = 31), a query probes 277 to 301 buckets a table, and
 * a bucket holds n / 2^24 hashes, so a query examines about 200 entries a
 * million hashes.  The probes are many and far apart, which is what the
 * 16 narrow tables avoid; it pays only when the buckets are full.
 *
 * Table 0 is the hashes themselves, sorted: its offsets index their first
 * 24 bits.  An entry of table j >= 1 is 96 bits: the first 96 bits of the
 * hash with chunk j taken out.  With the bucket's chunk j that is 119 or
 * 120 known bits, whose distance to the query's is a lower bound of the
 * full distance; a random candidate passes it at T = 31 about 4 times in
 * 10,000.  A passing entry names its hash only by those bits: the hash is
 * found again among the sorted hashes of the same first 24 bits (a binary
 * search on its first bits), and checked whole.  Entries of a bucket lie
 * in the order of the hashes, so identical entries are adjacent: only the
 * first of a run is followed, and every hash it fits is checked.
 */
#include "node/match_wide.h"
#include "protocol/err.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define WC HLX_PDQW_CHUNKS
#define ALWAYS_INLINE static inline __attribute__((always_inline))

static const unsigned w_at[WC] = { 0, 24, 48, 72, 95, 118, 141, 164, 187,
				   210, 233 };
static const unsigned w_bits[WC] = { 24, 24, 24, 23, 23, 23, 23, 23, 23,
				     23, 23 };

/* The chunks i whose bits lie in an entry's first 96 (and before any
 * table j > i's chunk): 0 to 3. */
#define IN_ENTRY 4

ALWAYS_INLINE unsigned pc64(uint64_t v)
{
	return (unsigned)__builtin_popcountll(v);
}

ALWAYS_INLINE void load(const uint8_t *h, uint64_t w[4])
{
	for (unsigned i = 0; i < 4; i++) {
		uint64_t v;

		memcpy(&v, h + 8 * i, 8);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		v = __builtin_bswap64(v);
#endif
		w[i] = v;
	}
}

/* Bits [s, s + len) of the hash, 1 <= len <= 64, s + len <= 256. */
ALWAYS_INLINE uint64_t bits(const uint64_t w[4], unsigned s, unsigned len)
{
	unsigned i = s >> 6, o = s & 63;
	uint64_t v = w[i] << o;

	if (o && i < 3)
		v |= w[i + 1] >> (64 - o);
	return v >> (64 - len);
}

/* Bits [a, a + len) of the hash with its bits [s, s + cw) taken out. */
ALWAYS_INLINE uint64_t seg(const uint64_t w[4], unsigned s, unsigned cw,
			   unsigned a, unsigned len)
{
	if (a + len <= s)
		return bits(w, a, len);
	if (a >= s)
		return bits(w, a + cw, len);
	return bits(w, a, s - a) << (len - (s - a)) |
	       bits(w, s + cw, len - (s - a));
}

ALWAYS_INLINE void entry_of(const uint64_t w[4], unsigned j, uint64_t *hi,
			    uint32_t *lo)
{
	*hi = seg(w, w_at[j], w_bits[j], 0, 64);
	*lo = (uint32_t)seg(w, w_at[j], w_bits[j], 64, 32);
}

ALWAYS_INLINE unsigned chunk_of(const uint64_t w[4], unsigned j)
{
	return (unsigned)bits(w, w_at[j], w_bits[j]);
}

ALWAYS_INLINE void ent_get(const uint8_t *e, uint64_t *hi, uint32_t *lo)
{
	uint32_t a[3];

	memcpy(a, e, sizeof(a));
	*hi = (uint64_t)a[0] << 32 | a[1];
	*lo = a[2];
}

ALWAYS_INLINE void ent_put(uint8_t *e, uint64_t hi, uint32_t lo)
{
	uint32_t a[3] = { (uint32_t)(hi >> 32), (uint32_t)hi, lo };

	memcpy(e, a, sizeof(a));
}

/* ---- layout --------------------------------------------------------------- */

#define PAD(x) (((x) + 63) / 64 * 64)

static size_t off_len(unsigned j)
{
	return PAD((((size_t)1 << w_bits[j]) + 1) * sizeof(uint32_t));
}

size_t hlx_pdqw_len(size_t n)
{
	size_t len = 0;

	for (unsigned j = 0; j < WC; j++)
		len += off_len(j) + (j ? PAD(n * HLX_PDQW_ENTRY) : 0);
	return len;
}

void hlx_pdqw_place(struct hlx_pdqw *w, uint8_t *p, size_t n)
{
	for (unsigned j = 0; j < WC; j++, p += off_len(j - 1))
		w->off[j] = (uint32_t *)(void *)p;
	w->ent[0] = NULL;
	for (unsigned j = 1; j < WC; j++, p += PAD(n * HLX_PDQW_ENTRY))
		w->ent[j] = p;
}

int hlx_pdqw_sorted(const uint8_t *h, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (memcmp(h + (i - 1) * HLX_PDQ_BYTES, h + i * HLX_PDQ_BYTES,
			   HLX_PDQ_BYTES) >= 0)
			return 0;
	return 1;
}

/* ---- build ---------------------------------------------------------------- */

struct wbuild {
	struct hlx_pdqw *w;
	const uint8_t *h;
	size_t n;
	atomic_uint next;
	atomic_int failed;
};

static void count_table(struct hlx_pdqw *w, const uint8_t *h, size_t n,
			unsigned j)
{
	uint32_t *off = w->off[j];
	size_t nb = (size_t)1 << w_bits[j];

	for (size_t i = 0; i < n; i++) {
		uint64_t hw[4];

		load(h + i * HLX_PDQ_BYTES, hw);
		off[chunk_of(hw, j) + 1]++;
	}
	for (size_t v = 0; v < nb; v++)
		off[v + 1] += off[v];
}

/* Entries in the order of the hashes: within a bucket (one chunk j), the
 * order of the hashes is the order of their entries. */
static int build_table(struct hlx_pdqw *w, const uint8_t *h, size_t n,
		       unsigned j)
{
	size_t nb = (size_t)1 << w_bits[j];
	uint32_t *pos = malloc(nb * sizeof(*pos));

	if (!pos)
		return HLX_ENOMEM;
	count_table(w, h, n, j);
	memcpy(pos, w->off[j], nb * sizeof(*pos));
	for (size_t i = 0; i < n; i++) {
		uint64_t hw[4], hi;
		uint32_t lo;

		load(h + i * HLX_PDQ_BYTES, hw);
		entry_of(hw, j, &hi, &lo);
		ent_put(w->ent[j] + (size_t)pos[chunk_of(hw, j)]++ *
				    HLX_PDQW_ENTRY, hi, lo);
	}
	free(pos);
	return HLX_OK;
}

static void *build_worker(void *arg)
{
	struct wbuild *b = arg;
	unsigned j;

	while ((j = atomic_fetch_add(&b->next, 1)) < WC)
		if (j && build_table(b->w, b->h, b->n, j))
			atomic_store(&b->failed, 1);
	return NULL;
}

int hlx_pdqw_build(struct hlx_pdqw *w, const uint8_t *h, size_t n,
		   unsigned threads)
{
	struct wbuild b = { .w = w, .h = h, .n = n };

	atomic_init(&b.next, 0);
	atomic_init(&b.failed, 0);
	count_table(w, h, n, 0);
	hlx_pdq_parallel(build_worker, &b, threads < WC ? threads : WC);
	return atomic_load(&b.failed) ? HLX_ENOMEM : HLX_OK;
}

/* ---- finding an entry's hashes -------------------------------------------- */

/*
 * The hashes h[lo .. hi) of the first 24 bits of table j's entry (ehi,
 * elo) in bucket v, narrowed by a binary search on the hash's first
 * min(s_j, 64) bits, which the entry holds as they are: [*a, *b).
 */
ALWAYS_INLINE void find_range(const struct hlx_pdqw_scan *s, unsigned j,
			      uint64_t ehi, size_t *a, size_t *b)
{
	const uint32_t *off0 = s->w->off[0];
	unsigned c0 = (unsigned)(ehi >> 40);
	unsigned kb = w_at[j] < 64 ? w_at[j] : 64;
	uint64_t key = ehi >> (64 - kb);
	size_t lo = off0[c0], hi = off0[c0 + 1], m;

	if (hi > s->n)
		hi = s->n; /* a damaged image: offsets are checked, bounds kept */
	if (lo > hi)
		lo = hi;
	while (lo < hi) {
		uint64_t hw[4];

		m = lo + (hi - lo) / 2;
		load(s->h + m * HLX_PDQ_BYTES, hw);
		if (bits(hw, 0, kb) < key)
			lo = m + 1;
		else
			hi = m;
	}
	*a = lo;
	for (m = lo; m < s->n && m < off0[c0 + 1]; m++) {
		uint64_t hw[4];

		load(s->h + m * HLX_PDQ_BYTES, hw);
		if (bits(hw, 0, kb) != key)
			break;
	}
	*b = m;
}

ALWAYS_INLINE unsigned full_distance(const uint64_t a[4], const uint64_t b[4])
{
	return pc64(a[0] ^ b[0]) + pc64(a[1] ^ b[1]) + pc64(a[2] ^ b[2]) +
	       pc64(a[3] ^ b[3]);
}

/* Whether a table i < j holds the hash within r bits of the query: it
 * reports the hash, not table j. */
ALWAYS_INLINE int earlier_table(const uint64_t hw[4], const uint64_t qw[4],
				unsigned j, unsigned r)
{
	for (unsigned i = 0; i < j; i++)
		if (pc64((uint64_t)(chunk_of(hw, i) ^ chunk_of(qw, i))) <= r)
			return 1;
	return 0;
}

/* ---- search --------------------------------------------------------------- */

/* Probes src[0 .. np) by their bits [sh, sh + 8) into dst, stable. */
ALWAYS_INLINE void radix_pass(const uint64_t *src, uint64_t *dst, size_t np,
			      unsigned sh, size_t c[257])
{
	memset(c, 0, 257 * sizeof(*c));
	for (size_t i = 0; i < np; i++)
		c[((src[i] >> sh) & 0xff) + 1]++;
	for (unsigned k = 0; k < 256; k++)
		c[k + 1] += c[k];
	for (size_t i = 0; i < np; i++)
		dst[c[(src[i] >> sh) & 0xff]++] = src[i];
}

/*
 * The probes p[0 .. np) (bucket << 32 | query << 3 | weight) sorted by
 * bucket, the result in t.  In bucket order the entries are read in
 * address order, which the processor streams.  Few probes: 3 passes of 8
 * bits.  Many: one pass on the upper 8 bits of the bucket, then each part
 * (of a size the cache holds) by the lower 16, so that memory is crossed
 * once rather than three times.
 */
#ifndef SORT_SMALL
#define SORT_SMALL 65536
#endif

ALWAYS_INLINE void sort_probes(uint64_t *p, uint64_t *t, size_t np)
{
	size_t c[257], part[257];

	if (np <= SORT_SMALL) {
		radix_pass(p, t, np, 32, c);
		radix_pass(t, p, np, 40, c);
		radix_pass(p, t, np, 48, c);
		return;
	}
	radix_pass(p, t, np, 48, part);
	/* part[k] is now the end of part k */
	for (unsigned k = 0; k < 256; k++) {
		size_t a = k ? part[k - 1] : 0, n = part[k] - a;

		if (n < 2)
			continue;
		radix_pass(t + a, p + a, n, 32, c);
		radix_pass(p + a, t + a, n, 40, c);
	}
}

/* Prefetch distances, in probes: the offsets, then the entries (up to
 * AHEAD_LINES lines of a bucket). */
#ifndef AHEAD_OFF
#define AHEAD_OFF 32
#endif
#ifndef AHEAD_ENT
#define AHEAD_ENT 12
#endif
#ifndef AHEAD_LINES
#define AHEAD_LINES 4
#endif

ALWAYS_INLINE int scan_body(const struct hlx_pdqw_scan *s, unsigned j,
			    size_t q0, size_t q1, struct hlx_pdq_hits *hits)
{
	const uint32_t *off = s->w->off[j];
	const uint8_t *ent = s->w->ent[j];
	size_t nm = w_bits[j] == 24 ? s->nmask : s->nmask23;
	size_t nq = q1 - q0, np = 0;
	uint64_t *pa = s->probe, *pb = s->probe + nq * s->nmask;
	uint64_t mh[IN_ENTRY] = { 0 };
	uint32_t ml[IN_ENTRY] = { 0 };
	unsigned T = s->T, r = s->r, early = j < IN_ENTRY ? j : IN_ENTRY;

	/* the bits of chunks 0..3 within an entry (hi: 0..63, lo: 64..95) */
	for (unsigned i = 0; i < early; i++)
		for (unsigned b = w_at[i]; b < w_at[i] + w_bits[i]; b++) {
			if (b < 64)
				mh[i] |= (uint64_t)1 << (63 - b);
			else
				ml[i] |= (uint32_t)1 << (95 - b);
		}
	for (size_t qi = 0; qi < nq; qi++) {
		uint64_t qw[4];
		unsigned c;

		load(s->q + (q0 + qi) * HLX_PDQ_BYTES, qw);
		c = chunk_of(qw, j);
		if (j)
			entry_of(qw, j, &s->qhi[qi], &s->qlo[qi]);
		for (size_t k = 0; k < nm; k++)
			pa[np++] = (uint64_t)(c ^ s->mask[k]) << 32 |
				   (uint64_t)qi << 3 | s->weight[k];
	}
	sort_probes(pa, pb, np);
	for (size_t p = 0; p < np; p++) {
		unsigned v = (unsigned)(pb[p] >> 32);
		size_t qi = (size_t)(pb[p] >> 3) & 0x1fffffff;
		unsigned wt = (unsigned)pb[p] & 7;
		size_t a = off[v], z = off[v + 1];
		uint64_t qw[4];

		if (p + AHEAD_OFF < np)
			__builtin_prefetch(&off[pb[p + AHEAD_OFF] >> 32]);
		if (p + AHEAD_ENT < np &&
		    (pb[p + AHEAD_ENT] >> 32) != (pb[p + AHEAD_ENT - 1] >> 32)) {
			/* a new bucket: its entries, up to 4 lines */
			const uint32_t *o = &off[pb[p + AHEAD_ENT] >> 32];
			size_t sz = j ? HLX_PDQW_ENTRY : HLX_PDQ_BYTES;
			const char *e0 = (const char *)(j ? ent : s->h) + o[0] * sz;
			const char *e1 = (const char *)(j ? ent : s->h) + o[1] * sz;

			for (unsigned l = 0; l < AHEAD_LINES && e0 < e1; l++, e0 += 64)
				__builtin_prefetch(e0);
		}
		if (z > s->n)
			z = s->n; /* a damaged image */
		if (a >= z)
			continue;
		hits->scanned += z - a;
		if (j == 0) {
			load(s->q + (q0 + qi) * HLX_PDQ_BYTES, qw);
			for (size_t i = a; i < z; i++) {
				uint64_t hw[4];
				unsigned d;

				load(s->h + i * HLX_PDQ_BYTES, hw);
				if (chunk_of(hw, 0) != v)
					continue; /* a damaged image's offsets */
				d = full_distance(hw, qw);
				if (d <= T && hlx_pdq_hits_push(hits, (uint32_t)(q0 + qi),
								(uint32_t)i, d))
					return HLX_ENOMEM;
			}
			continue;
		}
		for (size_t i = a; i < z; i++) {
			uint64_t ehi, xh;
			uint32_t elo, xl;
			size_t fa, fz;
			unsigned e;

			ent_get(ent + i * HLX_PDQW_ENTRY, &ehi, &elo);
			xh = ehi ^ s->qhi[qi];
			xl = elo ^ s->qlo[qi];
			if (wt + pc64(xh) + pc64(xl) > T)
				continue;
			for (e = 0; e < early; e++)
				if (pc64(xh & mh[e]) + pc64(xl & ml[e]) <= r)
					break;
			if (e < early)
				continue; /* an earlier table reports it */
			if (i > a) {
				uint64_t phi;
				uint32_t plo;

				ent_get(ent + (i - 1) * HLX_PDQW_ENTRY, &phi, &plo);
				if (phi == ehi && plo == elo)
					continue; /* followed from the run's first */
			}
			load(s->q + (q0 + qi) * HLX_PDQ_BYTES, qw);
			find_range(s, j, ehi, &fa, &fz);
			for (size_t m = fa; m < fz; m++) {
				uint64_t hw[4], hhi;
				uint32_t hlo;
				unsigned d;

				load(s->h + m * HLX_PDQ_BYTES, hw);
				if (chunk_of(hw, j) != v)
					continue;
				entry_of(hw, j, &hhi, &hlo);
				if (hhi != ehi || hlo != elo)
					continue;
				d = full_distance(hw, qw);
				if (d > T || earlier_table(hw, qw, j, r))
					continue;
				if (hlx_pdq_hits_push(hits, (uint32_t)(q0 + qi),
						      (uint32_t)m, d))
					return HLX_ENOMEM;
			}
		}
	}
	return HLX_OK;
}

static int scan_generic(const struct hlx_pdqw_scan *s, unsigned j, size_t q0,
			size_t q1, struct hlx_pdq_hits *hits)
{
	return scan_body(s, j, q0, q1, hits);
}

#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("popcnt")))
static int scan_popcnt(const struct hlx_pdqw_scan *s, unsigned j, size_t q0,
		       size_t q1, struct hlx_pdq_hits *hits)
{
	return scan_body(s, j, q0, q1, hits);
}
#endif

int hlx_pdqw_scan_table(const struct hlx_pdqw_scan *s, unsigned j,
			size_t q0, size_t q1, struct hlx_pdq_hits *hits)
{
#if defined(__x86_64__) || defined(__i386__)
	if (hlx_pdq_have_popcnt())
		return scan_popcnt(s, j, q0, q1, hits);
#endif
	return scan_generic(s, j, q0, q1, hits);
}

static void masks_rec(unsigned from, unsigned left, uint32_t m, unsigned wt,
		      uint32_t *mask, uint8_t *weight, size_t *n)
{
	mask[*n] = m;
	weight[(*n)++] = (uint8_t)wt;
	if (!left)
		return;
	for (unsigned b = from; b < 24; b++)
		masks_rec(b + 1, left - 1, m | (uint32_t)1 << b, wt + 1, mask,
			  weight, n);
}

int hlx_pdqw_masks(unsigned r, uint32_t **mask, uint8_t **weight,
		   size_t *n, size_t *n23)
{
	size_t total = 0, k, c = 1;
	uint32_t *m = NULL, *m2 = NULL;
	uint8_t *w = NULL, *w2 = NULL;
	int rc = HLX_ENOMEM;

	if (r > 5)
		return HLX_EINVAL;
	for (k = 0; k <= r; k++) { /* sum of C(24, k) */
		total += c;
		c = c * (24 - k) / (k + 1);
	}
	m = malloc(total * sizeof(*m));
	w = malloc(total);
	m2 = malloc(total * sizeof(*m2));
	w2 = malloc(total);
	if (!m || !w || !m2 || !w2)
		goto out;
	k = 0;
	masks_rec(0, r, 0, 0, m, w, &k);
	/* those within 23 bits first, in order */
	c = 0;
	for (size_t i = 0; i < k; i++)
		if (!(m[i] >> 23)) {
			m2[c] = m[i];
			w2[c++] = w[i];
		}
	*n23 = c;
	for (size_t i = 0; i < k; i++)
		if (m[i] >> 23) {
			m2[c] = m[i];
			w2[c++] = w[i];
		}
	*mask = m2;
	*weight = w2;
	*n = k;
	m2 = NULL;
	w2 = NULL;
	rc = HLX_OK;
out:
	free(m);
	free(w);
	free(m2);
	free(w2);
	return rc;
}

/* ---- checking an image ---------------------------------------------------- */

/* Buckets checked a table: their first entry must be a hash's. */
#define SAMPLE_STEP 4096

int hlx_pdqw_check(const struct hlx_pdqw *w, const uint8_t *h, size_t n)
{
	struct hlx_pdqw_scan s = { .w = w, .h = h, .n = n };

	for (unsigned j = 0; j < WC; j++) {
		const uint32_t *o = w->off[j];
		size_t nb = (size_t)1 << w_bits[j];

		if (o[0] != 0 || o[nb] != n)
			return 0;
		for (size_t v = 0; v < nb; v++)
			if (o[v] > o[v + 1])
				return 0;
		for (size_t v = 0; v < nb; v += SAMPLE_STEP) {
			uint64_t hw[4], ehi, hhi;
			uint32_t elo, hlo;
			size_t a, z;

			if (o[v] == o[v + 1])
				continue;
			if (j == 0) {
				load(h + (size_t)o[v] * HLX_PDQ_BYTES, hw);
				if (chunk_of(hw, 0) != v)
					return 0;
				continue;
			}
			ent_get(w->ent[j] + (size_t)o[v] * HLX_PDQW_ENTRY, &ehi, &elo);
			find_range(&s, j, ehi, &a, &z);
			for (; a < z; a++) {
				load(h + a * HLX_PDQ_BYTES, hw);
				entry_of(hw, j, &hhi, &hlo);
				if (chunk_of(hw, j) == v && hhi == ehi && hlo == elo)
					break;
			}
			if (a == z)
				return 0;
		}
	}
	return 1;
}
