/* SPDX-License-Identifier: MIT */
/*
 * The blobs a received pack's scan inflated (node/history.h, struct
 * hlx_hist_blobs): kept by where they are in the pack as the scanner
 * gives them, then named by the ids the pack's index (written by
 * libgit2's indexer) gives the objects there, for the check of the delta
 * (history_read.c) to take instead of inflating them again.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <git2.h>

#include "node/history_int.h"
#include "protocol/err.h"

/*
 * The blobs go one after the other into large chunks, and the table of
 * ids is written before it is read: on this kind of machine a page fault
 * costs microseconds (and one on a page first read as zeros then written
 * makes the kernel flush the other threads' TLBs), so the memory comes in
 * transparent huge pages where the system gives them.
 */
#define BLOB_CHUNK ((size_t)8 << 20)

struct blob_chunk {
	struct blob_chunk *next;
	size_t size, used;       /* size: of the whole mapping */
};

struct blob_ent {
	git_oid id;
	const char *p;           /* NULL: a free slot */
	size_t n;
};

/* A blob kept, not named yet: where its object is in its pack. */
struct blob_pend {
	uint64_t off;
	const char *p;
	size_t n;
	uint32_t crc;
};

struct hlx_hist_blobs {
	size_t budget, used;
	struct blob_chunk *chunks; /* the newest first */
	struct blob_ent *tab;    /* open addressing, linear probing */
	size_t cap, count;       /* cap a power of 2, count <= cap / 2 */
	size_t tabsize;          /* of tab's mapping */
	struct blob_pend *pend;  /* kept since the last naming, by offset */
	size_t npend, pendcap;
	size_t named;            /* in tab */
	char *cur;               /* the blob reserved, not yet kept */
};

/* size bytes of zeros, in huge pages where the system gives them (the
 * caller writes each page before it reads it). */
static void *big_alloc(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
#ifdef MADV_HUGEPAGE
	madvise(p, size, MADV_HUGEPAGE);
#endif
	return p;
}

static int blobs_table(struct hlx_hist_blobs *b, size_t cap)
{
	size_t size = cap * sizeof(struct blob_ent);
	struct blob_ent *t = big_alloc(size);

	if (!t)
		return -1;
	memset(t, 0, size);
	if (b->tab) {
		for (size_t k = 0; k < b->cap; k++) {
			uint64_t h;
			size_t i;

			if (!b->tab[k].p)
				continue;
			memcpy(&h, b->tab[k].id.id, sizeof(h));
			for (i = (size_t)h & (cap - 1); t[i].p; i = (i + 1) & (cap - 1))
				;
			t[i] = b->tab[k];
		}
		munmap(b->tab, b->tabsize);
	}
	b->tab = t;
	b->cap = cap;
	b->tabsize = size;
	return 0;
}

int hlx_hist_blobs_new(size_t budget, struct hlx_hist_blobs **out)
{
	struct hlx_hist_blobs *b = calloc(1, sizeof(*b));

	*out = NULL;
	if (!b || blobs_table(b, 1024) < 0) {
		free(b);
		return hlx_err(HLX_ENOMEM, "out of memory");
	}
	b->budget = budget;
	*out = b;
	return HLX_OK;
}

void hlx_hist_blobs_free(struct hlx_hist_blobs *b)
{
	if (!b)
		return;
	while (b->chunks) {
		struct blob_chunk *c = b->chunks;

		b->chunks = c->next;
		munmap(c, c->size);
	}
	if (b->tab)
		munmap(b->tab, b->tabsize);
	free(b->pend);
	free(b);
}

static size_t blob_slot(const struct hlx_hist_blobs *b, const git_oid *id)
{
	uint64_t k;
	size_t i;

	memcpy(&k, id->id, sizeof(k));
	for (i = (size_t)k & (b->cap - 1);
	     b->tab[i].p && !git_oid_equal(&b->tab[i].id, id);
	     i = (i + 1) & (b->cap - 1))
		;
	return i;
}

void *hlx_hist_blobs_reserve(struct hlx_hist_blobs *b, size_t n)
{
	struct blob_chunk *c;
	size_t need = n ? n : 1;

	if (!b || b->cur || need > b->budget - b->used)
		return NULL;
	c = b->chunks;
	if (!c || c->size - c->used < need) {
		size_t size = sizeof(*c) + need > BLOB_CHUNK ?
			      (sizeof(*c) + need + 4095) & ~(size_t)4095 : BLOB_CHUNK;

		c = big_alloc(size);
		if (!c)
			return NULL;
		c->next = b->chunks;
		c->size = size;
		c->used = sizeof(*c);
		b->chunks = c;
	}
	b->cur = (char *)c + c->used;
	c->used += need;
	b->used += need;
	return b->cur;
}

void hlx_hist_blobs_drop(struct hlx_hist_blobs *b, void *p, size_t n)
{
	size_t need = n ? n : 1;

	if (!p || p != b->cur)
		return;
	/* the last one reserved: given back */
	b->chunks->used -= need;
	b->used -= need;
	b->cur = NULL;
}

void hlx_hist_blobs_keep(struct hlx_hist_blobs *b, void *p, size_t n,
			 uint64_t off, uint32_t crc)
{
	size_t pc;
	int grow;

	if (!p || p != b->cur)
		return;
	/* the table and the list of blobs to name count against the budget
	 * too: many tiny blobs must not grow them past what the blobs
	 * themselves are allowed; the table is grown now for the naming */
	grow = b->count + 1 > b->cap / 2;
	pc = b->npend < b->pendcap ? b->pendcap :
	     b->pendcap ? 2 * b->pendcap : 1024;
	if ((grow ? 2 * b->tabsize : b->tabsize) + pc * sizeof(*b->pend) >
		    b->budget - b->used ||
	    (b->npend && off <= b->pend[b->npend - 1].off) ||
	    (grow && blobs_table(b, b->cap * 2) < 0)) {
		hlx_hist_blobs_drop(b, p, n);
		return;
	}
	if (pc != b->pendcap) {
		struct blob_pend *x = realloc(b->pend, pc * sizeof(*x));

		if (!x) {
			hlx_hist_blobs_drop(b, p, n);
			return;
		}
		b->pend = x;
		b->pendcap = pc;
	}
	b->cur = NULL;
	b->pend[b->npend].off = off;
	b->pend[b->npend].p = p;
	b->pend[b->npend].n = n;
	b->pend[b->npend].crc = crc;
	b->npend++;
	b->count++;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* The blob kept at pack offset off, or NULL. */
static const struct blob_pend *pend_find(const struct hlx_hist_blobs *b,
					 uint64_t off)
{
	size_t lo = 0, hi = b->npend;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (b->pend[mid].off < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < b->npend && b->pend[lo].off == off ? &b->pend[lo] : NULL;
}

/*
 * Name the blobs kept since the last naming from the index (version 2)
 * that libgit2's indexer wrote for their pack: header, 256 fan-out counts,
 * then for N objects their ids (sorted), their CRC-32s, their offsets
 * (31 bits, or with the top bit set the index of a 64-bit one in the
 * table after them), then the pack's and the index's checksums.
 */
static void blobs_name_idx(struct hlx_hist_blobs *b, const uint8_t *x,
			   size_t size)
{
	size_t n, nlarge, base = 8 + 256 * 4;

	if (size < base + 40 || memcmp(x, "\377tOc", 4) != 0 ||
	    be32(x + 4) != 2)
		return;
	n = be32(x + base - 4);
	if (n > (size - base - 40) / 28)
		return;
	nlarge = (size - base - 40 - 28 * n) / 8;
	for (size_t i = 0; i < n; i++) {
		const uint8_t *o = x + base + 24 * n + 4 * i;
		const struct blob_pend *e;
		uint64_t off = be32(o);
		git_oid id;
		size_t k;

		if (off & 0x80000000u) {
			const uint8_t *l = x + base + 28 * n + 8 * (off & 0x7fffffffu);

			if ((off & 0x7fffffffu) >= nlarge)
				continue;
			off = (uint64_t)be32(l) << 32 | be32(l + 4);
		}
		e = pend_find(b, off);
		/* the object at that offset is the blob kept, byte for byte
		 * as the index saw it */
		if (!e || be32(x + base + 20 * n + 4 * i) != e->crc)
			continue;
		memcpy(id.id, x + base + 20 * i, GIT_OID_RAWSZ);
		k = blob_slot(b, &id);
		if (b->tab[k].p)
			continue; /* the same blob twice */
		b->tab[k].id = id;
		b->tab[k].p = e->p;
		b->tab[k].n = e->n;
		b->named++;
	}
}

void hlx_hist_blobs_name(struct hlx_hist_blobs *b, const char *idx)
{
	struct stat st;
	void *x = MAP_FAILED;
	int fd;

	if (!b || !b->npend)
		return;
	fd = open(idx, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_size > 0)
		x = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (fd >= 0)
		close(fd);
	if (x != MAP_FAILED) {
		blobs_name_idx(b, x, (size_t)st.st_size);
		munmap(x, (size_t)st.st_size);
	}
	b->npend = 0;
}

size_t hlx_hist_blobs_memory(const struct hlx_hist_blobs *b)
{
	return b ? b->used + b->tabsize + b->pendcap * sizeof(*b->pend) : 0;
}

size_t hlx_hist_blobs_count(const struct hlx_hist_blobs *b)
{
	return b ? b->count : 0;
}

size_t hlx_hist_blobs_named(const struct hlx_hist_blobs *b)
{
	return b ? b->named : 0;
}

const char *hlx_hist_blobs_find(const struct hlx_hist_blobs *b,
				const git_oid *id, size_t *n)
{
	size_t i;

	if (!b)
		return NULL;
	i = blob_slot(b, id);
	*n = b->tab[i].n;
	return b->tab[i].p;
}
