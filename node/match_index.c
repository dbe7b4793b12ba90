/* SPDX-License-Identifier: MIT */
/*
 * The match index (spec/match.md): sorted arrays of PDQ hashes, its two
 * files under HOME/match/ (a base snapshot and an overlay: their format,
 * loading and atomic writing) and its form in memory.
 */
#include "node/match_int.h"
#include "node/files.h"
#include "node/home.h"
#include "protocol/err.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static int hash32_cmp(const void *a, const void *b)
{
	return memcmp(a, b, HLX_PDQ_BYTES);
}

/*
 * Sort n hashes of 32 bytes and drop duplicates; returns the new count.
 * Large arrays are first spread by their first 16 bits (a counting sort
 * into a second array), which leaves small buckets for qsort.
 */
size_t hlx_match_sort_unique(uint8_t *a, size_t n)
{
	uint8_t *t = n > 65536 ? malloc(n * HLX_PDQ_BYTES) : NULL;
	uint32_t *c = t ? calloc(65537, sizeof(*c)) : NULL;
	size_t w = 0;

	if (n < 2) {
		free(t);
		return n;
	}
	if (c && n <= UINT32_MAX) {
		uint32_t *p = c + 1;

		for (size_t i = 0; i < n; i++) {
			const uint8_t *h = a + i * HLX_PDQ_BYTES;

			p[h[0] << 8 | h[1]]++;
		}
		for (unsigned v = 0; v < 65536; v++)
			c[v + 1] += c[v];
		/* c[v] is where bucket v starts; p[v - 1] counts it out */
		for (size_t i = 0; i < n; i++) {
			const uint8_t *h = a + i * HLX_PDQ_BYTES;

			size_t k = c[h[0] << 8 | h[1]]++;

			memcpy(t + k * HLX_PDQ_BYTES, h, HLX_PDQ_BYTES);
		}
		/* now c[v] is where bucket v ends */
		for (unsigned v = 0, start = 0; v < 65536; start = c[v++])
			if (c[v] - start > 1)
				qsort(t + (size_t)start * HLX_PDQ_BYTES,
				      c[v] - start, HLX_PDQ_BYTES, hash32_cmp);
		memcpy(a, t, n * HLX_PDQ_BYTES);
	} else {
		qsort(a, n, HLX_PDQ_BYTES, hash32_cmp);
	}
	free(c);
	free(t);
	for (size_t r = 1; r < n; r++)
		if (memcmp(a + w * HLX_PDQ_BYTES, a + r * HLX_PDQ_BYTES,
			   HLX_PDQ_BYTES) != 0) {
			w++;
			if (w != r)
				memcpy(a + w * HLX_PDQ_BYTES,
				       a + r * HLX_PDQ_BYTES, HLX_PDQ_BYTES);
		}
	return w + 1;
}

/* Index of h in the sorted array a[0..n), or -1. */
ptrdiff_t hlx_match_find32(const uint8_t *a, size_t n, const uint8_t *h)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(a + mid * HLX_PDQ_BYTES, h, HLX_PDQ_BYTES);

		if (c == 0)
			return (ptrdiff_t)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* ---- files -------------------------------------------------------------- */

/*
 * Remove the temporary files of writers that died before their rename
 * (an hour old: a live writer keeps its file fresh).
 */
/* NAME.tmpHEX (node/files.h), or .NAME.XXXXXX of older versions, of a
 * file of the index */
static int index_temp(const char *name)
{
	static const enum hlx_home_entry files[] = {
		HLX_HOME_MATCH_BASE, HLX_HOME_MATCH_DELTA, HLX_HOME_MATCH_CONFIG,
		HLX_HOME_MATCH_TABLES
	};

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		const char *b = strrchr(hlx_home_entry_name(files[i]), '/') + 1;
		size_t l = strlen(b);

		if (name[0] == '.' && !strncmp(name + 1, b, l) && name[l + 1] == '.')
			return 1;
		if (hlx_file_is_temp(name) && !strncmp(name, b, l) && name[l] == '.')
			return 1;
	}
	return 0;
}

void hlx_match_clean_temporaries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	time_t now = time(NULL);

	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		char p[PATH_MAX];
		struct stat sb;

		if (!index_temp(e->d_name))
			continue;
		if (hlx_pathf(p, "%s/%s", dir, e->d_name) == HLX_OK &&
		    lstat(p, &sb) == 0 &&
		    S_ISREG(sb.st_mode) && now - sb.st_mtime > 3600)
			unlink(p);
	}
	closedir(d);
}

int hlx_match_dir(struct hlx_node *n, char out[PATH_MAX], int create)
{
	int rc = hlx_node_path(n, HLX_HOME_MATCH, NULL, NULL, out);

	if (!rc && create && mkdir(out, hlx_home_mode(HLX_HOME_MATCH)) != 0 && errno != EEXIST)
		rc = hlx_err(HLX_EIO, "cannot create '%s': %s", out,
			     strerror(errno));
	return rc;
}

/* ---- index files -------------------------------------------------------- */

/*
 * Both files (spec/match.md, "Files"): an 8-byte magic, then in the SSH
 * wire encoding the snapshot id, the lists and the versions the file
 * reflects, the two hash counts and the offset of the hashes; zeros up to
 * that offset (a multiple of 64); then the hashes, 32 bytes each, each
 * array strictly increasing.  A base holds one array (its hashes), an
 * overlay two (added, removed) and names the base it applies to.
 */
struct idxfile {
	uint8_t id[ID_LEN];
	struct lver *lists; /* malloc'd */
	size_t nlists;
	const uint8_t *a;   /* base: the hashes; overlay: added */
	size_t na;
	const uint8_t *d;   /* overlay: removed */
	size_t nd;
};

static int rd_u64(struct hlx_rd *r, uint64_t *v)
{
	uint32_t hi = 0, lo = 0;
	int rc = hlx_rd_u32(r, &hi);

	if (!rc)
		rc = hlx_rd_u32(r, &lo);
	*v = (uint64_t)hi << 32 | lo;
	return rc;
}

static int check_sorted(const uint8_t *a, size_t n, const char *what)
{
	for (size_t i = 1; i < n; i++)
		if (memcmp(a + (i - 1) * HLX_PDQ_BYTES, a + i * HLX_PDQ_BYTES,
			   HLX_PDQ_BYTES) >= 0)
			return hlx_err(HLX_EINVAL, "%s hash %zu is out of order",
				       what, i + 1);
	return HLX_OK;
}

static int idx_parse(const uint8_t *p, size_t len, int delta,
		     struct idxfile *f)
{
	struct hlx_rd r = hlx_rd_make(p, len);
	const uint8_t *s;
	size_t sl, used;
	uint64_t na, nd;
	uint32_t nl, off;
	int rc;

	memset(f, 0, sizeof(*f));
	if (len < MAGIC_LEN ||
	    memcmp(p, delta ? DELTA_MAGIC : BASE_MAGIC, MAGIC_LEN) != 0)
		return hlx_err(HLX_EINVAL, "not an hlx %s file",
			       delta ? "PDQ overlay" : "PDQ index");
	r.p += MAGIC_LEN;
	r.left -= MAGIC_LEN;
	rc = hlx_rd_string(&r, &s, &sl);
	if (!rc && sl != ID_LEN)
		rc = hlx_err(HLX_EINVAL, "snapshot id of %zu bytes", sl);
	if (rc)
		return rc;
	memcpy(f->id, s, ID_LEN);
	rc = hlx_rd_u32(&r, &nl);
	if (rc)
		return rc;
	/* each list takes at least 16 bytes: bound nl before allocating */
	if (nl > LISTS_MAX || nl > r.left / 16)
		return hlx_err(HLX_EINVAL, "%" PRIu32 " lists", nl);
	f->lists = calloc(nl ? nl : 1, sizeof(*f->lists));
	if (!f->lists)
		return hlx_err(HLX_ENOMEM, "out of memory");
	for (uint32_t i = 0; i < nl; i++) {
		struct lver *l = &f->lists[i];

		rc = hlx_rd_u32(&r, &l->id);
		if (!rc)
			rc = rd_u64(&r, &l->version);
		if (!rc)
			rc = hlx_rd_string(&r, &s, &sl);
		if (rc)
			goto fail;
		if (l->id == 0 || l->id > LISTS_MAX ||
		    (i > 0 && l->id <= f->lists[i - 1].id)) {
			rc = hlx_err(HLX_EINVAL, "list id %" PRIu32 " out of order",
				     l->id);
			goto fail;
		}
		if ((sl != 0 && sl != 40) || (sl == 0) != (l->version == 0)) {
			rc = hlx_err(HLX_EINVAL, "list %" PRIu32 ": bad head", l->id);
			goto fail;
		}
		for (size_t k = 0; k < sl; k++)
			if (!((s[k] >= '0' && s[k] <= '9') ||
			      (s[k] >= 'a' && s[k] <= 'f'))) {
				rc = hlx_err(HLX_EINVAL, "list %" PRIu32 ": bad head",
					     l->id);
				goto fail;
			}
		memcpy(l->head, s, sl);
		l->head[sl] = '\0';
	}
	f->nlists = nl;
	rc = rd_u64(&r, &na);
	if (!rc)
		rc = rd_u64(&r, &nd);
	if (!rc)
		rc = hlx_rd_u32(&r, &off);
	if (rc)
		goto fail;
	used = len - r.left;
	if (na > HLX_PDQIDX_MAX || nd > HLX_PDQIDX_MAX || (!delta && nd) ||
	    off % ALIGN || off < used || off > len ||
	    (len - off) / HLX_PDQ_BYTES != na + nd ||
	    (len - off) % HLX_PDQ_BYTES) {
		rc = hlx_err(HLX_EINVAL, "sizes do not match the file (%zu bytes)",
			     len);
		goto fail;
	}
	for (size_t k = used; k < off; k++)
		if (p[k]) {
			rc = hlx_err(HLX_EINVAL, "padding is not zero");
			goto fail;
		}
	f->a = p + off;
	f->na = (size_t)na;
	f->d = f->a + f->na * HLX_PDQ_BYTES;
	f->nd = (size_t)nd;
	rc = check_sorted(f->a, f->na, delta ? "added" : "indexed");
	if (!rc)
		rc = check_sorted(f->d, f->nd, "removed");
	if (rc)
		goto fail;
	return HLX_OK;
fail:
	free(f->lists);
	f->lists = NULL;
	return rc;
}

int hlx_match_file_check(const uint8_t *p, size_t len)
{
	struct idxfile f;
	int rc;

	if (len >= MAGIC_LEN && memcmp(p, DELTA_MAGIC, MAGIC_LEN) == 0)
		rc = idx_parse(p, len, 1, &f);
	else
		rc = idx_parse(p, len, 0, &f);
	if (!rc)
		free(f.lists);
	return rc;
}

static int idx_header(struct hlx_buf *b, int delta, const uint8_t id[ID_LEN],
		      const struct lver *l, size_t nl, size_t na, size_t nd)
{
	int rc = hlx_buf_put(b, delta ? DELTA_MAGIC : BASE_MAGIC, MAGIC_LEN);
	size_t off;

	if (!rc)
		rc = hlx_buf_put_string(b, id, ID_LEN);
	if (!rc)
		rc = hlx_buf_put_u32(b, (uint32_t)nl);
	for (size_t i = 0; i < nl && !rc; i++) {
		rc = hlx_buf_put_u32(b, l[i].id);
		if (!rc)
			rc = hlx_buf_put_u32(b, (uint32_t)(l[i].version >> 32));
		if (!rc)
			rc = hlx_buf_put_u32(b, (uint32_t)l[i].version);
		if (!rc)
			rc = hlx_buf_put_cstring(b, l[i].head);
	}
	if (!rc)
		rc = hlx_buf_put_u32(b, (uint32_t)((uint64_t)na >> 32));
	if (!rc)
		rc = hlx_buf_put_u32(b, (uint32_t)na);
	if (!rc)
		rc = hlx_buf_put_u32(b, (uint32_t)((uint64_t)nd >> 32));
	if (!rc)
		rc = hlx_buf_put_u32(b, (uint32_t)nd);
	if (rc)
		return rc;
	off = (b->len + 4 + ALIGN - 1) / ALIGN * ALIGN;
	if (off > UINT32_MAX)
		return hlx_err(HLX_ETOOBIG, "index header too large");
	rc = hlx_buf_put_u32(b, (uint32_t)off);
	while (!rc && b->len < off)
		rc = hlx_buf_putc(b, 0);
	return rc;
}

void hlx_match_base_drop(struct hlx_matcher *m)
{
	hlx_pdqidx_free(m->bidx);
	hlx_pdqidx_free(m->didx);
	m->bidx = m->didx = NULL;
	if (m->tmap)
		munmap(m->tmap, m->tmaplen);
	m->tmap = NULL;
	m->tmaplen = 0;
	if (m->map)
		munmap(m->map, m->maplen);
	m->map = NULL;
	m->maplen = 0;
	free(m->owned);
	m->owned = NULL;
	m->base = NULL;
	m->nbase = 0;
	free(m->dead);
	m->dead = NULL;
	m->ndead = 0;
	free(m->add);
	m->add = NULL;
	m->nadd = 0;
	m->have_base = 0;
	m->base_dirty = m->delta_dirty = 0;
}

int hlx_match_dead_alloc(struct hlx_matcher *m)
{
	free(m->dead);
	m->dead = calloc(m->nbase / 8 + 1, 1);
	m->ndead = 0;
	return m->dead ? HLX_OK : hlx_err(HLX_ENOMEM, "out of memory");
}

void hlx_match_set_dead(struct hlx_matcher *m, size_t i, int v)
{
	if (hlx_match_is_dead(m, i) == v)
		return;
	m->dead[i / 8] ^= (uint8_t)(1u << (i % 8));
	if (v)
		m->ndead++;
	else
		m->ndead--;
}

static int map_file(const char *path, void **map, size_t *len)
{
	struct stat sb;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), rc = HLX_OK;

	*map = NULL;
	*len = 0;
	if (fd < 0)
		return hlx_err(errno == ENOENT ? HLX_ENOENT : HLX_EIO,
			       "cannot open '%s': %s", path, strerror(errno));
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		rc = hlx_err(HLX_EIO, "'%s' is not a regular file", path);
	} else if (sb.st_size == 0) {
		rc = hlx_err(HLX_EINVAL, "'%s' is empty", path);
	} else if ((uint64_t)sb.st_size > SIZE_MAX / 2) {
		rc = hlx_err(HLX_ETOOBIG, "'%s' is too large", path);
	} else {
		/* shared: every process reads the same pages of the page
		 * cache; files are replaced by rename, never changed, so a
		 * mapping stays whole while a refresh writes a new one */
		*map = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_SHARED,
			    fd, 0);
		if (*map == MAP_FAILED) {
			*map = NULL;
			rc = hlx_err(HLX_EIO, "cannot map '%s': %s", path,
				     strerror(errno));
		} else {
			*len = (size_t)sb.st_size;
		}
	}
	close(fd);
	return rc;
}

int hlx_match_versions_set(struct hlx_matcher *m, const struct lver *l,
			   size_t n)
{
	struct lver *v = malloc((n ? n : 1) * sizeof(*v));

	if (!v)
		return hlx_err(HLX_ENOMEM, "out of memory");
	if (n)
		memcpy(v, l, n * sizeof(*v));
	free(m->ver);
	m->ver = v;
	m->nver = n;
	return HLX_OK;
}

/* Load pdq.base and, if it applies to it, pdq.delta. */
int hlx_match_load_files(struct hlx_matcher *m)
{
	struct idxfile f, d;
	char p[PATH_MAX];
	void *dmap = NULL;
	size_t dlen = 0;
	int rc;

	rc = hlx_node_path(m->node, HLX_HOME_MATCH_BASE, NULL, NULL, p);
	if (!rc)
		rc = map_file(p, &m->map, &m->maplen);
	if (rc)
		return rc;
	rc = idx_parse(m->map, m->maplen, 0, &f);
	if (rc)
		return hlx_err_wrap(rc, "'%s'", p);
	memcpy(m->base_id, f.id, ID_LEN);
	m->base = f.a;
	m->nbase = f.na;
	rc = hlx_match_versions_set(m, f.lists, f.nlists);
	free(f.lists);
	if (!rc)
		rc = hlx_match_dead_alloc(m);
	if (rc)
		return rc;
	m->have_base = 1;
	rc = hlx_node_path(m->node, HLX_HOME_MATCH_DELTA, NULL, NULL, p);
	if (!rc)
		rc = map_file(p, &dmap, &dlen);
	if (rc == HLX_ENOENT)
		return HLX_OK;
	if (!rc)
		rc = idx_parse(dmap, dlen, 1, &d);
	if (rc) {
		/* A damaged overlay only costs diffs: start from the base. */
		if (dmap)
			munmap(dmap, dlen);
		snprintf(m->st.note, sizeof(m->st.note), "overlay ignored: %.120s",
			 hlx_err_detail());
		return HLX_OK;
	}
	if (memcmp(d.id, m->base_id, ID_LEN) != 0) {
		free(d.lists); /* an overlay of another base */
		munmap(dmap, dlen);
		return HLX_OK;
	}
	for (size_t i = 0; i < d.nd; i++) {
		ptrdiff_t k = hlx_match_find32(m->base, m->nbase,
				     d.d + i * HLX_PDQ_BYTES);

		if (k >= 0)
			hlx_match_set_dead(m, (size_t)k, 1);
	}
	m->add = malloc(d.na ? d.na * HLX_PDQ_BYTES : 1);
	rc = m->add ? hlx_match_versions_set(m, d.lists, d.nlists) :
		      hlx_err(HLX_ENOMEM, "out of memory");
	for (size_t i = 0; !rc && i < d.na; i++)
		if (hlx_match_find32(m->base, m->nbase, d.a + i * HLX_PDQ_BYTES) < 0)
			memcpy(m->add + m->nadd++ * HLX_PDQ_BYTES,
			       d.a + i * HLX_PDQ_BYTES, HLX_PDQ_BYTES);
	free(d.lists);
	munmap(dmap, dlen);
	return rc;
}

int hlx_match_trylock(struct hlx_matcher *m, int *fd)
{
	*fd = -1;
	if (hlx_home_trylock_fd(hlx_node_home(m->node), fd) == HLX_OK)
		return 1;
	hlx_err_clear();
	return 0;
}

void hlx_match_unlock(struct hlx_matcher *m, int fd)
{
	hlx_home_unlock_fd(hlx_node_home(m->node), fd);
}

void hlx_match_note(struct hlx_matcher *m, const char *fmt, ...)
{
	size_t at = strlen(m->st.note);
	va_list ap;

	if (at && at + 2 < sizeof(m->st.note)) {
		memcpy(m->st.note + at, "; ", 3);
		at += 2;
	}
	va_start(ap, fmt);
	vsnprintf(m->st.note + at, sizeof(m->st.note) - at, fmt, ap);
	va_end(ap);
}

/* A file of the index not written (a full disk): the index stays good in
 * this process's memory (still dirty: the next refresh tries again), and
 * the next process to open it refreshes from the files as they are.  Said
 * in the status; not an error.  The old overlay is not removed, since the
 * old base stays. */
static void kept_in_memory(struct hlx_matcher *m, enum hlx_home_entry e)
{
	char p[PATH_MAX], detail[160];
	const char *name;

	snprintf(detail, sizeof(detail), "%s", hlx_err_detail());
	name = hlx_node_path(m->node, e, NULL, NULL, p) ? "a file of the index" :
	       strrchr(p, '/') ? strrchr(p, '/') + 1 : p;
	hlx_match_note(m, "%s not written, kept in memory: %.120s", name, detail);
	hlx_err_clear();
}

/*
 * A file of the index is written whole, unnamed (O_TMPFILE), without the
 * writer lock (at 10M hashes the base and its tables take some 10 s, and
 * writers do not wait for that); then, under the lock, once the caller has
 * checked the lists are still those the file reflects, linked in and
 * renamed into place.  Nothing of an unnamed file outlives its writer, so
 * a list removed meanwhile leaves none of its hashes in match/, even if
 * the writer dies.  Where the file system has no unnamed files (named:
 * HLX_EUNSUPPORTED from an unnamed prepare), the caller takes the lock
 * and checks the lists first, then writes named temporaries.  Writing and
 * committing note nothing: the refresh's callers (under wrlock) do.
 */
static int pending_write(struct hlx_matcher *m, enum hlx_home_entry e,
			 const struct hlx_span *v, size_t nv, int named,
			 struct hlx_match_pending *pd)
{
	char p[PATH_MAX];
	int rc;

	pd->ready = 0;
	rc = hlx_node_path(m->node, e, NULL, NULL, p);
	if (!rc)
		rc = named ? hlx_file_new_open(&pd->w, NULL, p, 0600) :
			     hlx_file_new_open_unnamed(&pd->w, NULL, p, 0600);
	if (!rc)
		rc = hlx_file_new_write(&pd->w, v, nv);
	if (!rc)
		rc = hlx_file_new_sync(&pd->w);
	if (!rc)
		pd->ready = 1;
	return rc;
}

void hlx_match_pending_abort(struct hlx_match_pending *pd)
{
	if (pd->ready)
		hlx_file_new_abort(&pd->w);
	pd->ready = 0;
}

static int pending_commit(struct hlx_match_pending *pd)
{
	if (!pd->ready)
		return hlx_err(HLX_ESTATE, "nothing written to put in place");
	pd->ready = 0;
	return hlx_file_new_commit(&pd->w);
}

/* A prepare's failure, said in the status (a file system without unnamed
 * files is not one: the caller writes named files under the lock). */
static int prepared(struct hlx_matcher *m, enum hlx_home_entry e, int rc)
{
	if (rc && rc != HLX_EUNSUPPORTED)
		kept_in_memory(m, e);
	return rc;
}

int hlx_match_prepare_base(struct hlx_matcher *m, int named,
			   struct hlx_match_pending *pd)
{
	struct hlx_buf h = HLX_BUF_INIT;
	int rc;

	pd->ready = 0;
	rc = idx_header(&h, 0, m->base_id, m->ver, m->nver, m->nbase, 0);
	if (!rc) {
		struct hlx_span v[] = { { h.data, h.len },
					{ m->base, m->nbase * HLX_PDQ_BYTES } };

		rc = pending_write(m, HLX_HOME_MATCH_BASE, v, 2, named, pd);
	}
	hlx_buf_free(&h);
	return prepared(m, HLX_HOME_MATCH_BASE, rc);
}

int hlx_match_prepare_delta(struct hlx_matcher *m, int named,
			    struct hlx_match_pending *pd)
{
	struct hlx_buf h = HLX_BUF_INIT, del = HLX_BUF_INIT;
	int rc = HLX_OK;

	pd->ready = 0;
	for (size_t i = 0; i < m->nbase && !rc; i++)
		if (m->ndead && hlx_match_is_dead(m, i))
			rc = hlx_buf_put(&del, m->base + i * HLX_PDQ_BYTES,
					 HLX_PDQ_BYTES);
	if (!rc)
		rc = idx_header(&h, 1, m->base_id, m->ver, m->nver, m->nadd, m->ndead);
	if (!rc) {
		struct hlx_span v[] = { { h.data, h.len },
					{ m->add, m->nadd * HLX_PDQ_BYTES },
					{ del.data, del.len } };

		rc = pending_write(m, HLX_HOME_MATCH_DELTA, v, 3, named, pd);
	}
	hlx_buf_free(&h);
	hlx_buf_free(&del);
	return prepared(m, HLX_HOME_MATCH_DELTA, rc);
}

void hlx_match_commit_base(struct hlx_matcher *m, struct hlx_match_pending *pd)
{
	char p[PATH_MAX];

	if (!pd->ready)
		return;
	if (pending_commit(pd)) {
		kept_in_memory(m, HLX_HOME_MATCH_BASE);
		return;
	}
	m->base_dirty = 0;
	/* the old overlay and tables name the old base: harmless, but they
	 * may hold hashes the lists no longer do */
	if (!hlx_node_path(m->node, HLX_HOME_MATCH_DELTA, NULL, NULL, p))
		unlink(p);
	if (!hlx_node_path(m->node, HLX_HOME_MATCH_TABLES, NULL, NULL, p))
		unlink(p);
}

/* ---- the search tables (pdq.tables) ------------------------------------ */

/* pdq.tables mapped and attached to the base: m->bidx and m->tmap. */
static int tables_map(struct hlx_matcher *m)
{
	struct hlx_pdqidx *x = NULL;
	char p[PATH_MAX];
	void *map;
	size_t len;
	int rc;

	rc = hlx_node_path(m->node, HLX_HOME_MATCH_TABLES, NULL, NULL, p);
	if (!rc)
		rc = map_file(p, &map, &len);
	if (rc)
		return rc;
	rc = hlx_pdqidx_attach(m->base, m->nbase, m->base_id, map, len, &x);
	if (rc) {
		munmap(map, len);
		return hlx_err_wrap(rc, "'%s'", p);
	}
	m->bidx = x;
	m->tmap = map;
	m->tmaplen = len;
	return HLX_OK;
}

/* Whether pdq.base is still the base of m (another process may have
 * written a newer one since m read it: its tables must not be replaced
 * by the tables of an older base). */
static int base_is_current(struct hlx_matcher *m)
{
	uint8_t h[MAGIC_LEN + 4 + ID_LEN];
	char p[PATH_MAX];
	int fd, same = 0;

	if (hlx_node_path(m->node, HLX_HOME_MATCH_BASE, NULL, NULL, p))
		return 0;
	fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return 0;
	if (pread(fd, h, sizeof(h), 0) == (ssize_t)sizeof(h))
		same = !memcmp(h, BASE_MAGIC, MAGIC_LEN) &&
		       h[MAGIC_LEN] == 0 && h[MAGIC_LEN + 1] == 0 &&
		       h[MAGIC_LEN + 2] == 0 && h[MAGIC_LEN + 3] == ID_LEN &&
		       !memcmp(h + MAGIC_LEN + 4, m->base_id, ID_LEN);
	close(fd);
	return same;
}

/* The tables x of this base, written (unnamed unless named). */
static int tables_prepare(struct hlx_matcher *m, const struct hlx_pdqidx *x,
			  int named, struct hlx_match_pending *pd)
{
	uint8_t head[HLX_PDQIDX_HEAD];
	const void *t;
	size_t len;
	int rc;

	pd->ready = 0;
	rc = hlx_pdqidx_image(x, m->base_id, head, &t, &len);
	if (!rc) {
		struct hlx_span v[] = { { head, sizeof(head) }, { t, len } };

		rc = pending_write(m, HLX_HOME_MATCH_TABLES, v, 2, named, pd);
	}
	return rc;
}

/* Under the writer lock: the tables written by tables_prepare put in
 * place if pdq.base still holds this base, and mapped from there. */
static int tables_commit(struct hlx_matcher *m, struct hlx_match_pending *pd)
{
	int rc;

	if (!base_is_current(m)) {
		hlx_match_pending_abort(pd);
		return hlx_err(HLX_ESTATE, "pdq.base on disk is no longer this index's");
	}
	rc = pending_commit(pd);
	return rc ? rc : tables_map(m);
}

int hlx_match_prepare_tables(struct hlx_matcher *m, int named,
			     struct hlx_match_pending *pd)
{
	double t0 = hlx_match_now();
	int rc;

	pd->ready = 0;
	if (!m->bidx || hlx_pdqidx_borrowed(m->bidx) ||
	    m->nbase < HLX_PDQIDX_TABLES_MIN)
		return HLX_OK; /* none to share: not ready */
	rc = tables_prepare(m, m->bidx, named, pd);
	m->write_seconds += hlx_match_now() - t0;
	return prepared(m, HLX_HOME_MATCH_TABLES, rc);
}

void hlx_match_commit_tables(struct hlx_matcher *m, struct hlx_match_pending *pd)
{
	struct hlx_pdqidx *built = m->bidx;
	double t0 = hlx_match_now();

	if (!pd->ready)
		return;
	m->bidx = NULL;
	if (tables_commit(m, pd) == HLX_OK) {
		hlx_pdqidx_free(built);
	} else {
		kept_in_memory(m, HLX_HOME_MATCH_TABLES);
		m->bidx = built;
	}
	m->write_seconds += hlx_match_now() - t0;
}

/* An overlay only beside the base it names: another process may have
 * written a newer base since this one was read, and its overlay stays.
 * Then nothing of this index belongs on disk any more (the files there
 * are whole, and name the versions they reflect): the overlay is kept in
 * memory only, no longer dirty, so that each refresh does not write it
 * again for nothing. */
void hlx_match_commit_delta(struct hlx_matcher *m, struct hlx_match_pending *pd)
{
	if (!pd->ready)
		return;
	if (!base_is_current(m)) {
		hlx_match_pending_abort(pd);
		m->delta_dirty = 0;
		hlx_match_note(m, "pdq.delta not written: pdq.base on disk is not "
			       "the base it applies to (another process wrote a "
			       "newer one, or it is gone); kept in memory");
		return;
	}
	if (pending_commit(pd))
		kept_in_memory(m, HLX_HOME_MATCH_DELTA);
	else
		m->delta_dirty = 0;
}

int hlx_match_base_tables(struct hlx_matcher *m)
{
	struct hlx_pdqidx *x = NULL;
	struct hlx_match_pending pd;
	double t0;
	int rc, fd = -1;

	if (m->nbase < HLX_PDQIDX_TABLES_MIN) /* no tables to share */
		return hlx_pdqidx_build(m->base, m->nbase, m->threads, &m->bidx);
	if (tables_map(m) == HLX_OK)
		return HLX_OK;
	hlx_err_clear();
	rc = hlx_pdqidx_build(m->base, m->nbase, m->threads, &x);
	if (rc)
		return rc;
	if (m->base_dirty) { /* not on disk yet: the refresh writes both */
		m->bidx = x;
		return HLX_OK;
	}
	/* the built tables go to the file, and the process reads them from
	 * there like every other: one copy in the page cache.  Written first,
	 * then put in place under the writer lock, so that pdq.base cannot
	 * change (or go, with the list it came from) between the check and
	 * the rename; named files only once the lock is held */
	t0 = hlx_match_now();
	rc = tables_prepare(m, x, 0, &pd);
	if (rc == HLX_OK || rc == HLX_EUNSUPPORTED) {
		int named = rc == HLX_EUNSUPPORTED;

		rc = HLX_ESTATE;
		if (hlx_match_trylock(m, &fd)) {
			rc = named ? tables_prepare(m, x, 1, &pd) : HLX_OK;
			if (!rc)
				rc = tables_commit(m, &pd);
			hlx_match_unlock(m, fd);
		}
		hlx_match_pending_abort(&pd); /* if not put in place */
		if (!rc) {
			hlx_pdqidx_free(x);
			m->write_seconds += hlx_match_now() - t0;
			return HLX_OK;
		}
	}
	m->write_seconds += hlx_match_now() - t0;
	/* not written (a full disk, a newer base, another writer): kept here */
	hlx_err_clear();
	m->bidx = x;
	return HLX_OK;
}
