/* SPDX-License-Identifier: MIT */
/*
 * Reading list histories (node/history.h): a version's lines, the
 * difference of two versions, signatures; and checking a history's
 * shape, version by version (hlx_hist_check_chain).
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <git2.h>
#include <git2/sys/mempack.h>
#include <git2/sys/odb_backend.h>

#include "node/history_int.h"
#include "node/files.h"
#include "protocol/err.h"
#include "protocol/hash.h"
#include "protocol/record.h"

/* ---- reading versions --------------------------------------------------- */

/* path[plen...] = name, and a '/' when dir: what snprintf "%s%s" would
 * make of it (cut short to fit size), without its cost per shard. */
static void path_put(char *path, size_t size, size_t plen, const char *name,
		     int dir)
{
	size_t n = strlen(name);

	if (plen + n + 1 >= size) {
		snprintf(path + plen, size - plen, "%s%s", name, dir ? "/" : "");
		return;
	}
	memcpy(path + plen, name, n);
	if (dir)
		path[plen + n++] = '/';
	path[plen + n] = '\0';
}

/* The hash field's prefix the lines of shard path ("TYPE/ab/cd") have,
 * "TYPE:abcd", in prefix[64]; its length. */
static size_t shard_prefix(const char *path, char prefix[64])
{
	const char *slash = strchr(path, '/');
	size_t tl = (size_t)(slash - path);

	if (tl + 5 >= 64)
		return (size_t)snprintf(prefix, 64, "%.*s:%c%c%c%c", (int)tl,
					path, slash[1], slash[2], slash[4],
					slash[5]);
	memcpy(prefix, path, tl);
	prefix[tl] = ':';
	prefix[tl + 1] = slash[1];
	prefix[tl + 2] = slash[2];
	prefix[tl + 3] = slash[4];
	prefix[tl + 4] = slash[5];
	prefix[tl + 5] = '\0';
	return tl + 5;
}


static int commit_tree(struct hlx_hist *h, const char *oid, git_tree **t)
{
	git_commit *c = NULL;
	git_oid o;
	int rc;

	*t = NULL;
	rc = hlx_hist_parse_oid(oid, &o, "version");
	if (!rc)
		rc = hlx_hist_lookup_commit(h, &o, &c);
	if (!rc && git_commit_tree(t, c) < 0)
		rc = hlx_hist_gerr("reading the tree of %s", oid);
	git_commit_free(c);
	return rc;
}

static int check_name(const char *name, int level)
{
	enum hlx_hash_type t;

	if (level == 0)
		return hlx_hash_type_parse(name, strlen(name), &t) ?
			       HLX_EINVAL : HLX_OK;
	return strlen(name) == 2 && hlx_hist_is_lhex(name[0]) && hlx_hist_is_lhex(name[1]) ?
		       HLX_OK : HLX_EINVAL;
}

/* An entry of the expected kind and name at its level. */
static int check_entry(const git_tree_entry *e, int level, const char *dir)
{
	const char *name = git_tree_entry_name(e);
	git_filemode_t want = level == LEVEL_SHARDS ? GIT_FILEMODE_BLOB :
						      GIT_FILEMODE_TREE;
	char q[HLX_QUOTE_SIZE];

	if (check_name(name, level))
		return hlx_err(HLX_EINVAL, "'%s%s': not a %s name", dir,
			       hlx_quote(q, name, strlen(name)),
			       level == 0 ? "hash type" : "shard");
	if (git_tree_entry_filemode_raw(e) != want)
		return hlx_err(HLX_EINVAL, "'%s%s': not a %s", dir, name,
			       level == LEVEL_SHARDS ? "regular file" :
						       "directory");
	return HLX_OK;
}

struct lines {
	git_blob *blob;
	const char *p;
	size_t n, pos;
};

static int lines_open(struct hlx_hist *h, const git_oid *id, struct lines *l,
		      const char *path)
{
	memset(l, 0, sizeof(*l));
	if (!id)
		return HLX_OK;
	if (git_blob_lookup(&l->blob, h->repo, id) < 0)
		return hlx_hist_gerr("reading shard '%s'", path);
	l->p = git_blob_rawcontent(l->blob);
	l->n = (size_t)git_blob_rawsize(l->blob);
	if (l->n && l->p[l->n - 1] != '\n')
		return hlx_err(HLX_EINVAL, "shard '%s': last line has no newline",
			       path);
	return HLX_OK;
}

/* Next line ('\n' included) or 0 at the end. */
static size_t lines_next(struct lines *l, const char **line)
{
	const char *nl;
	size_t n;

	if (l->pos >= l->n)
		return 0;
	*line = l->p + l->pos;
	nl = memchr(*line, '\n', l->n - l->pos);
	n = (size_t)(nl - *line) + 1;
	l->pos += n;
	return n;
}

static void lines_close(struct lines *l)
{
	git_blob_free(l->blob);
	l->blob = NULL;
}

struct each {
	struct hlx_hist *h;
	int (*cb)(void *ctx, const char *line, size_t len);
	void *ctx;
	char path[128];
};

static int foreach_tree(struct each *w, const git_tree *t, int level)
{
	size_t plen = strlen(w->path);
	int rc = HLX_OK;

	for (size_t i = 0; i < git_tree_entrycount(t) && !rc; i++) {
		const git_tree_entry *e = git_tree_entry_byindex(t, i);

		rc = check_entry(e, level, w->path);
		if (rc)
			break;
		path_put(w->path, sizeof(w->path), plen, git_tree_entry_name(e),
			 level < LEVEL_SHARDS);
		if (level < LEVEL_SHARDS) {
			git_tree *st;

			if (git_tree_lookup(&st, w->h->repo,
					    git_tree_entry_id(e)) < 0)
				return hlx_hist_gerr("reading tree '%s'", w->path);
			rc = foreach_tree(w, st, level + 1);
			git_tree_free(st);
		} else {
			struct lines l;
			const char *line;
			size_t n;

			rc = lines_open(w->h, git_tree_entry_id(e), &l,
					w->path);
			while (!rc && (n = lines_next(&l, &line)))
				rc = w->cb(w->ctx, line, n);
			lines_close(&l);
		}
		w->path[plen] = '\0';
	}
	return rc;
}

int hlx_hist_foreach(struct hlx_hist *h, const char *oid,
		     int (*cb)(void *ctx, const char *line, size_t len),
		     void *ctx)
{
	struct each w = { h, cb, ctx, "" };
	git_tree *t;
	int rc = commit_tree(h, oid, &t);

	if (!rc)
		rc = foreach_tree(&w, t, 0);
	git_tree_free(t);
	return rc;
}

/* Compare two sorted shards line by line. */
static int diff_lines(struct lines *a, struct lines *b,
		      int (*cb)(void *ctx, const char *line, size_t len,
				int added),
		      void *ctx)
{
	const char *la = NULL, *lb = NULL;
	size_t na = lines_next(a, &la), nb = lines_next(b, &lb);
	int rc = HLX_OK;

	while (!rc && (na || nb)) {
		int c;

		if (!na)
			c = 1;
		else if (!nb)
			c = -1;
		else
			c = hlx_line_hash_cmp(la, hlx_line_hash_len(la, na - 1), lb,
				      hlx_line_hash_len(lb, nb - 1));
		if (c == 0 && na == nb && !memcmp(la, lb, na)) {
			na = lines_next(a, &la);
			nb = lines_next(b, &lb);
			continue;
		}
		if (c <= 0) {
			rc = cb(ctx, la, na, 0);
			na = lines_next(a, &la);
		}
		if (!rc && c >= 0) {
			rc = cb(ctx, lb, nb, 1);
			nb = lines_next(b, &lb);
		}
	}
	return rc;
}

int hlx_hist_diff(struct hlx_hist *h, const char *old, const char *new_,
		  int (*cb)(void *ctx, const char *line, size_t len,
			    int added),
		  void *ctx)
{
	git_tree *ot = NULL, *nt = NULL;
	git_diff_options o;
	git_diff *d = NULL;
	int rc = HLX_OK;

	git_diff_options_init(&o, GIT_DIFF_OPTIONS_VERSION);

	if (old)
		rc = commit_tree(h, old, &ot);
	if (!rc)
		rc = commit_tree(h, new_, &nt);
	if (rc)
		goto out;
	if (git_diff_tree_to_tree(&d, h->repo, ot, nt, &o) < 0) {
		rc = hlx_hist_gerr("comparing versions");
		goto out;
	}
	for (size_t i = 0; i < git_diff_num_deltas(d) && !rc; i++) {
		const git_diff_delta *dd = git_diff_get_delta(d, i);
		const char *p = dd->new_file.path ? dd->new_file.path :
						    dd->old_file.path;
		struct lines a = { 0 }, b = { 0 };
		int has_a = !git_oid_is_zero(&dd->old_file.id);
		int has_b = !git_oid_is_zero(&dd->new_file.id);
		char path[HLX_QUOTE_SIZE];

		hlx_quote(path, p, strlen(p));
		if ((has_a && dd->old_file.mode != GIT_FILEMODE_BLOB) ||
		    (has_b && dd->new_file.mode != GIT_FILEMODE_BLOB)) {
			rc = hlx_err(HLX_EINVAL, "'%s': not a regular file",
				     path);
			break;
		}
		rc = lines_open(h, has_a ? &dd->old_file.id : NULL, &a, path);
		if (!rc)
			rc = lines_open(h, has_b ? &dd->new_file.id : NULL, &b,
					path);
		if (!rc)
			rc = diff_lines(&a, &b, cb, ctx);
		lines_close(&a);
		lines_close(&b);
	}
out:
	git_diff_free(d);
	git_tree_free(ot);
	git_tree_free(nt);
	return rc;
}

int hlx_hist_signature(struct hlx_hist *h, const char *oid,
		       struct hlx_buf *sig, struct hlx_buf *signed_data)
{
	git_buf s = GIT_BUF_INIT, d = GIT_BUF_INIT;
	git_commit *c = NULL;
	git_oid o;
	int rc, grc;

	hlx_buf_reset(sig);
	hlx_buf_reset(signed_data);
	rc = hlx_hist_parse_oid(oid, &o, "version");
	if (!rc)
		rc = hlx_hist_lookup_commit(h, &o, &c);
	git_commit_free(c);
	if (rc)
		return rc;
	grc = git_commit_extract_signature(&s, &d, h->repo, &o, "gpgsig");
	if (grc == GIT_ENOTFOUND) {
		rc = hlx_err(HLX_EBADSIG, "commit %.12s: not signed", oid);
		goto out;
	}
	if (grc < 0) {
		rc = hlx_hist_gerr("reading the signature of %s", oid);
		goto out;
	}
	rc = hlx_buf_put(sig, s.ptr, s.size);
	if (!rc && (s.size == 0 || s.ptr[s.size - 1] != '\n'))
		rc = hlx_buf_putc(sig, '\n');
	if (!rc)
		rc = hlx_buf_put(signed_data, d.ptr, d.size);
out:
	git_buf_dispose(&s);
	git_buf_dispose(&d);
	return rc;
}

/* ---- fsck --------------------------------------------------------------- */

struct fsck {
	struct hlx_hist *h;
	const struct cmeta *m;
	char path[128];
};

static int check_shard(struct fsck *f, const git_oid *id)
{
	/* "TYPE/ab/cd" -> expected hash field prefix "TYPE:abcd" */
	char prefix[64];
	const char *pf = NULL, *line;
	size_t pn = 0, n, ln = 0, plen;
	struct lines l;
	int rc;

	plen = shard_prefix(f->path, prefix);
	rc = lines_open(f->h, id, &l, f->path);
	if (!rc && l.n == 0)
		rc = hlx_err(HLX_EINVAL, "shard is empty");
	while (!rc && (n = lines_next(&l, &line))) {
		size_t fn = hlx_line_hash_len(line, n - 1);

		ln++;
		rc = hlx_hist_decode_line(line, n);
		if (rc)
			break;
		if (fn < plen || memcmp(line, prefix, plen) != 0)
			rc = hlx_err(HLX_EINVAL, "hash '%.*s' in the wrong shard",
				     (int)(fn < 80 ? fn : 80), line);
		else if (pf && hlx_line_hash_cmp(pf, pn, line, fn) >= 0)
			rc = hlx_err(HLX_EINVAL,
				     "hash '%.*s' is not after the previous line's",
				     (int)(fn < 80 ? fn : 80), line);
		pf = line;
		pn = fn;
	}
	lines_close(&l);
	if (rc)
		return hlx_err_wrap(rc, "line %zu", ln);
	return HLX_OK;
}

/* Check what differs in t from old (NULL: everything). */
static int check_tree(struct fsck *f, const git_tree *t, const git_tree *old,
		      int level)
{
	size_t plen = strlen(f->path);
	int rc = HLX_OK;

	for (size_t i = 0; i < git_tree_entrycount(t) && !rc; i++) {
		const git_tree_entry *e = git_tree_entry_byindex(t, i);
		const char *name = git_tree_entry_name(e);
		const git_tree_entry *oe = NULL;
		git_tree *st = NULL, *ost = NULL;

		rc = check_entry(e, level, f->path);
		/* in git's order, each name once: a level has at most 256
		 * entries (8 at the root), so a walk is bounded by the
		 * pack's size (spec/sync.md) */
		if (!rc && i > 0 &&
		    strcmp(git_tree_entry_name(git_tree_entry_byindex(t, i - 1)),
			   name) >= 0)
			rc = hlx_err(HLX_EINVAL, "'%s%s': not after the entry before it",
				     f->path, name);
		if (rc)
			break;
		if (old)
			oe = git_tree_entry_byname(old, name);
		if (oe && git_tree_entry_filemode_raw(oe) ==
				  git_tree_entry_filemode_raw(e) &&
		    git_oid_equal(git_tree_entry_id(oe), git_tree_entry_id(e)))
			continue; /* checked with an earlier version */
		path_put(f->path, sizeof(f->path), plen, name, level < LEVEL_SHARDS);
		if (level == LEVEL_SHARDS) {
			rc = check_shard(f, git_tree_entry_id(e));
			if (rc)
				rc = hlx_err_wrap(rc, "shard '%s'", f->path);
			f->path[plen] = '\0';
			continue;
		}
		if (git_tree_lookup(&st, f->h->repo, git_tree_entry_id(e)) < 0) {
			rc = hlx_hist_gerr("reading tree '%s'", f->path);
			break;
		}
		if (oe && git_tree_entry_type(oe) == GIT_OBJECT_TREE &&
		    git_tree_lookup(&ost, f->h->repo, git_tree_entry_id(oe)) < 0)
			rc = hlx_hist_gerr("reading tree '%s'", f->path);
		if (!rc && git_tree_entrycount(st) == 0)
			rc = hlx_err(HLX_EINVAL, "directory '%s' is empty",
				     f->path);
		if (!rc)
			rc = check_tree(f, st, ost, level + 1);
		git_tree_free(st);
		git_tree_free(ost);
		f->path[plen] = '\0';
	}
	return rc;
}

static int check_commit(struct fsck *f, git_commit *c, git_commit *parent)
{
	git_tree *t = NULL, *pt = NULL;
	git_buf sig = GIT_BUF_INIT;
	int rc = HLX_OK, grc;

	grc = git_commit_header_field(&sig, c, "gpgsig");
	git_buf_dispose(&sig);
	if (grc == GIT_ENOTFOUND)
		return hlx_err(HLX_EINVAL, "not signed");
	if (grc < 0)
		return hlx_hist_gerr("reading the signature");
	if (git_commit_tree(&t, c) < 0 ||
	    (parent && git_commit_tree(&pt, parent) < 0))
		rc = hlx_hist_gerr("reading the tree");
	if (!rc)
		rc = check_tree(f, t, pt, 0);
	git_tree_free(t);
	git_tree_free(pt);
	return rc;
}

/* Check the versions from the commit o back to stop (not included; NULL:
 * the first version), each against its parent; with stop, each must be
 * of stop's list and organisation too. */
static int check_range(struct hlx_hist *h, const git_oid *o, const git_oid *stop)
{
	struct fsck f = { h, NULL, "" };
	struct cmeta cur, next, top;
	git_commit *c = NULL, *p = NULL;
	int rc;

	rc = hlx_hist_lookup_commit(h, o, &c);
	if (!rc)
		rc = hlx_hist_parse_commit(c, &cur);
	if (rc) {
		rc = hlx_err_wrap(rc, "history head");
		goto out;
	}
	top = cur;
	if (stop) {
		rc = hlx_hist_lookup_commit(h, stop, &p);
		if (!rc)
			rc = hlx_hist_parse_commit(p, &top);
		git_commit_free(p);
		p = NULL;
		if (rc)
			goto wrap;
	}
	for (;;) {
		f.m = &cur;
		if (strcmp(cur.list, top.list) || strcmp(cur.org, top.org)) {
			rc = hlx_err(HLX_EINVAL,
				     "version %llu (commit %.12s) is list '%s' of '%s', "
				     "the %s list '%s' of '%s'",
				     (unsigned long long)cur.v.version,
				     cur.v.oid, cur.list, cur.org,
				     stop ? "held version's" : "head", top.list,
				     top.org);
			goto wrap;
		}
		/* Errors name their commit or version themselves. */
		if (cur.has_parent) {
			rc = hlx_hist_lookup_commit(h, &cur.parent, &p);
			if (!rc)
				rc = hlx_hist_parse_commit(p, &next);
			if (!rc)
				rc = hlx_hist_check_number(&cur, &next);
		} else {
			rc = stop ? hlx_err(HLX_EINVAL,
					    "version %llu (commit %.12s) does not descend from the version held",
					    (unsigned long long)cur.v.version, cur.v.oid) :
				    hlx_hist_check_number(&cur, NULL);
		}
		if (rc)
			goto wrap;
		rc = check_commit(&f, c, p);
		if (rc) {
			rc = hlx_err_wrap(rc, "version %llu (commit %.12s)",
					  (unsigned long long)cur.v.version,
					  cur.v.oid);
			goto wrap;
		}
		git_commit_free(c);
		c = p;
		p = NULL;
		if (!c || (stop && git_oid_equal(git_commit_id(c), stop)))
			break;
		cur = next;
	}
	goto out;
wrap:
	rc = hlx_err_wrap(rc, "history of list '%s'", top.list);
out:
	git_commit_free(c);
	git_commit_free(p);
	return rc;
}

int hlx_hist_check_chain(struct hlx_hist *h)
{
	git_oid o;
	int rc = hlx_hist_head_opt(h, &o);

	if (rc)
		return rc == 1 ? HLX_OK : rc;
	return check_range(h, &o, NULL);
}

/* ---- new versions: their check and their difference, in one reading ---- */

/* ---- blobs inflated as a received pack was scanned ---------------------- */

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
	git_object_t type;
};

/*
 * The store as an object database backend of a history, in front of its
 * packs: read-only, every object by its full id (what reading commits and
 * trees asks for).  The backend belongs to the history's odb, which frees
 * it; the store, freed first, leaves it answering "not found".
 */
struct blobs_backend {
	git_odb_backend parent;
	struct hlx_hist_blobs *b;
};

struct hlx_hist_blobs {
	size_t budget, used;
	struct blob_chunk *chunks; /* the newest first */
	struct blob_ent *tab;    /* open addressing, linear probing */
	size_t cap, count;       /* cap a power of 2, count <= cap / 2 */
	size_t tabsize;          /* of tab's mapping */
	char *cur;               /* the blob reserved, not yet kept */
	int missed;              /* an object offered was not kept */
	struct blobs_backend *be; /* serving it to a history's odb */
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
	if (b->be)
		b->be->b = NULL;
	while (b->chunks) {
		struct blob_chunk *c = b->chunks;

		b->chunks = c->next;
		munmap(c, c->size);
	}
	if (b->tab)
		munmap(b->tab, b->tabsize);
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

	if (!b)
		return NULL;
	if (b->cur || need > b->budget - b->used) {
		b->missed = 1;
		return NULL;
	}
	c = b->chunks;
	if (!c || c->size - c->used < need) {
		size_t size = sizeof(*c) + need > BLOB_CHUNK ?
			      (sizeof(*c) + need + 4095) & ~(size_t)4095 : BLOB_CHUNK;

		c = big_alloc(size);
		if (!c) {
			b->missed = 1;
			return NULL;
		}
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
	/* the last one reserved: given back, and the store no longer
	 * holds every object offered */
	b->chunks->used -= need;
	b->used -= need;
	b->cur = NULL;
	b->missed = 1;
}

void hlx_hist_blobs_keep(struct hlx_hist_blobs *b, void *p, size_t n,
			 int type)
{
	git_oid id;
	size_t i;
	int grow;

	if (!p || p != b->cur)
		return;
	if (type != GIT_OBJECT_COMMIT && type != GIT_OBJECT_TREE &&
	    type != GIT_OBJECT_BLOB) {
		hlx_hist_blobs_drop(b, p, n);
		return;
	}
	/* the table counts against the budget too: many tiny blobs must not
	 * grow it past what the blobs themselves are allowed */
	grow = b->count + 1 > b->cap / 2;
	if ((grow ? 2 * b->tabsize : b->tabsize) > b->budget - b->used ||
	    (grow && blobs_table(b, b->cap * 2) < 0) ||
	    git_odb_hash(&id, p, n, (git_object_t)type) < 0) {
		hlx_hist_blobs_drop(b, p, n);
		return;
	}
	i = blob_slot(b, &id);
	if (b->tab[i].p) {
		/* the same object twice: libgit2's indexer refuses such a
		 * pack, so the store does not stand for it (not whole) */
		hlx_hist_blobs_drop(b, p, n);
		return;
	}
	b->cur = NULL;
	b->tab[i].id = id;
	b->tab[i].p = p;
	b->tab[i].n = n;
	b->tab[i].type = (git_object_t)type;
	b->count++;
}

int hlx_hist_blobs_whole(const struct hlx_hist_blobs *b)
{
	return b && !b->missed;
}

size_t hlx_hist_blobs_memory(const struct hlx_hist_blobs *b)
{
	return b ? b->used + b->tabsize : 0;
}

size_t hlx_hist_blobs_count(const struct hlx_hist_blobs *b)
{
	return b ? b->count : 0;
}

static const struct blob_ent *obj_find(const struct hlx_hist_blobs *b,
				       const git_oid *id)
{
	size_t i;

	if (!b)
		return NULL;
	i = blob_slot(b, id);
	return b->tab[i].p ? &b->tab[i] : NULL;
}

static const struct blob_ent *blobs_find(const struct hlx_hist_blobs *b,
					 const git_oid *id)
{
	const struct blob_ent *e = obj_find(b, id);

	return e && e->type == GIT_OBJECT_BLOB ? e : NULL;
}

static const struct blob_ent *be_find(git_odb_backend *be, const git_oid *id)
{
	struct blobs_backend *x = (struct blobs_backend *)be;

	return x->b ? obj_find(x->b, id) : NULL;
}

static int be_read(void **out, size_t *len, git_object_t *type,
		   git_odb_backend *be, const git_oid *id)
{
	const struct blob_ent *e = be_find(be, id);
	void *p;

	if (!e)
		return GIT_ENOTFOUND;
	/* with a NUL after it, as libgit2's own backends give an object
	 * (its commit parser reads up to one) */
	p = git_odb_backend_data_alloc(be, e->n + 1);
	if (!p)
		return -1;
	memcpy(p, e->p, e->n);
	((char *)p)[e->n] = '\0';
	*out = p;
	*len = e->n;
	*type = e->type;
	return 0;
}

static int be_read_header(size_t *len, git_object_t *type,
			  git_odb_backend *be, const git_oid *id)
{
	const struct blob_ent *e = be_find(be, id);

	if (!e)
		return GIT_ENOTFOUND;
	*len = e->n;
	*type = e->type;
	return 0;
}

static int be_exists(git_odb_backend *be, const git_oid *id)
{
	return be_find(be, id) != NULL;
}

static void be_free(git_odb_backend *be)
{
	struct blobs_backend *x = (struct blobs_backend *)be;

	if (x->b)
		x->b->be = NULL;
	free(x);
}

static void be_free_untracked(git_odb_backend *be)
{
	free(be);
}

/* Serve b to h.  Tracked (track): the one history b is taken out of when
 * freed first (b->be); untracked: a history freed before b surely is. */
static int blobs_serve(struct hlx_hist *h, struct hlx_hist_blobs *b, int track)
{
	struct blobs_backend *x = calloc(1, sizeof(*x));

	if (!x)
		return hlx_err(HLX_ENOMEM, "out of memory");
	if (git_odb_init_backend(&x->parent, GIT_ODB_BACKEND_VERSION) < 0) {
		free(x);
		return hlx_hist_gerr("cannot serve the objects received");
	}
	x->parent.read = be_read;
	x->parent.read_header = be_read_header;
	x->parent.exists = be_exists;
	x->parent.free = track ? be_free : be_free_untracked;
	x->b = b;
	/* before the mempack (1000) and the packs on disk */
	if (git_odb_add_backend(h->odb, &x->parent, 2000) < 0) {
		free(x);
		return hlx_hist_gerr("cannot serve the objects received");
	}
	if (track)
		b->be = x;
	return HLX_OK;
}

int hlx_hist_blobs_serve(struct hlx_hist *h, struct hlx_hist_blobs *b)
{
	if (!b)
		return hlx_err(HLX_EINVAL, "no objects to serve");
	if (b->be)
		return hlx_err(HLX_EINVAL, "the objects are served already");
	return blobs_serve(h, b, 1);
}

struct cdiff {
	struct hlx_hist *h;
	int (*cb)(void *ctx, const char *line, size_t len, int added);
	void *ctx;
	char path[128];
	const struct hlx_hist_blobs *blobs;
};

/* lines_open, from w->blobs when the shard is there. */
static int cd_lines(struct cdiff *w, const git_oid *id, struct lines *l)
{
	const struct blob_ent *e = id ? blobs_find(w->blobs, id) : NULL;

	if (!e)
		return lines_open(w->h, id, l, w->path);
	memset(l, 0, sizeof(*l));
	l->p = e->p;
	l->n = e->n;
	if (l->n && l->p[l->n - 1] != '\n')
		return hlx_err(HLX_EINVAL, "shard '%s': last line has no newline",
			       w->path);
	return HLX_OK;
}

/* Every line under the held entry e (a tree above the shards, a shard
 * at their level), given to cb as removed. */
static int cd_removed(struct cdiff *w, const git_tree_entry *e, int level)
{
	size_t plen = strlen(w->path);
	int rc = HLX_OK;

	path_put(w->path, sizeof(w->path), plen, git_tree_entry_name(e),
		 level < LEVEL_SHARDS);
	if (level < LEVEL_SHARDS) {
		git_tree *t = NULL;

		if (git_tree_entry_type(e) != GIT_OBJECT_TREE ||
		    git_tree_lookup(&t, w->h->repo, git_tree_entry_id(e)) < 0)
			rc = hlx_hist_gerr("reading tree '%s'", w->path);
		for (size_t i = 0; !rc && i < git_tree_entrycount(t); i++)
			rc = cd_removed(w, git_tree_entry_byindex(t, i), level + 1);
		git_tree_free(t);
	} else {
		struct lines l = { 0 };
		const char *line;
		size_t n;

		rc = git_tree_entry_type(e) == GIT_OBJECT_BLOB ?
			     cd_lines(w, git_tree_entry_id(e), &l) :
			     hlx_hist_gerr("reading shard '%s'", w->path);
		while (!rc && (n = lines_next(&l, &line)))
			rc = w->cb(w->ctx, line, n, 0);
		lines_close(&l);
	}
	w->path[plen] = '\0';
	return rc;
}

/* A changed or new shard (path in w->path): the new one's lines in their
 * shard, strictly sorted by hash, merged with the held one's (oid NULL:
 * none); each line not held is given to cb as added, each held line
 * gone as removed. */
static int cd_shard(struct cdiff *w, const git_oid *nid, const git_oid *oid)
{
	char prefix[64];
	const char *pf = NULL, *la = NULL, *lb = NULL;
	size_t pn = 0, na = 0, nb = 0, ln = 0, plen;
	struct lines a, b;
	int rc;

	plen = shard_prefix(w->path, prefix);
	memset(&b, 0, sizeof(b));
	rc = cd_lines(w, oid, &a);
	if (!rc)
		rc = cd_lines(w, nid, &b);
	if (!rc && b.n == 0)
		rc = hlx_err(HLX_EINVAL, "shard is empty");
	if (!rc) {
		na = lines_next(&a, &la);
		nb = lines_next(&b, &lb);
	}
	while (!rc && (na || nb)) {
		size_t fb = nb ? hlx_line_hash_len(lb, nb - 1) : 0;
		int c = !na ? 1 : !nb ? -1 :
			hlx_line_hash_cmp(la, hlx_line_hash_len(la, na - 1), lb, fb);
		int same = c == 0 && na == nb && !memcmp(la, lb, na);

		if (c < 0 || (c == 0 && !same)) {
			rc = w->cb(w->ctx, la, na, 0);
			na = lines_next(&a, &la);
			if (c < 0 || rc)
				continue;
		}
		/* lb is next: in its place whether held or new */
		ln++;
		if (fb < plen || memcmp(lb, prefix, plen) != 0)
			rc = hlx_err(HLX_EINVAL, "hash '%.*s' in the wrong shard",
				     (int)(fb < 80 ? fb : 80), lb);
		else if (pf && hlx_line_hash_cmp(pf, pn, lb, fb) >= 0)
			rc = hlx_err(HLX_EINVAL,
				     "hash '%.*s' is not after the previous line's",
				     (int)(fb < 80 ? fb : 80), lb);
		if (rc)
			break;
		pf = lb;
		pn = fb;
		if (same) {
			/* the very line held */
			na = lines_next(&a, &la);
		} else {
			rc = w->cb(w->ctx, lb, nb, 1);
		}
		nb = lines_next(&b, &lb);
	}
	lines_close(&a);
	lines_close(&b);
	if (rc && ln)
		return hlx_err_wrap(rc, "line %zu", ln);
	return rc;
}

/* What differs in t from the held tree old (NULL: none), checked as
 * check_tree does and merged with old, entry by entry. */
static int cd_tree(struct cdiff *w, const git_tree *t, const git_tree *old,
		   int level)
{
	size_t plen = strlen(w->path), ni = git_tree_entrycount(t);
	size_t no = old ? git_tree_entrycount(old) : 0, i = 0, j = 0;
	int rc = HLX_OK;

	while (!rc && (i < ni || j < no)) {
		const git_tree_entry *e = i < ni ? git_tree_entry_byindex(t, i) : NULL;
		const git_tree_entry *oe = j < no ? git_tree_entry_byindex(old, j) : NULL;
		int c = !e ? 1 : !oe ? -1 :
			strcmp(git_tree_entry_name(e), git_tree_entry_name(oe));
		const char *name;
		git_tree *st = NULL, *ost = NULL;

		if (c > 0) {
			/* held, and gone */
			rc = cd_removed(w, oe, level);
			j++;
			continue;
		}
		name = git_tree_entry_name(e);
		rc = check_entry(e, level, w->path);
		if (!rc && i > 0 &&
		    strcmp(git_tree_entry_name(git_tree_entry_byindex(t, i - 1)),
			   name) >= 0)
			rc = hlx_err(HLX_EINVAL, "'%s%s': not after the entry before it",
				     w->path, name);
		if (rc)
			break;
		i++;
		if (c == 0) {
			j++;
			if (git_tree_entry_filemode_raw(oe) !=
			    git_tree_entry_filemode_raw(e)) {
				rc = hlx_err(HLX_EHISTORY, "'%s%s': not of the held version's shape",
					     w->path, name);
				break;
			}
			if (git_oid_equal(git_tree_entry_id(oe), git_tree_entry_id(e)))
				continue; /* held, checked then */
		} else {
			oe = NULL;
		}
		path_put(w->path, sizeof(w->path), plen, name, level < LEVEL_SHARDS);
		if (level == LEVEL_SHARDS) {
			rc = cd_shard(w, git_tree_entry_id(e),
				      oe ? git_tree_entry_id(oe) : NULL);
			if (rc)
				rc = hlx_err_wrap(rc, "shard '%s'", w->path);
			w->path[plen] = '\0';
			continue;
		}
		if (git_tree_lookup(&st, w->h->repo, git_tree_entry_id(e)) < 0 ||
		    (oe && git_tree_lookup(&ost, w->h->repo, git_tree_entry_id(oe)) < 0))
			rc = hlx_hist_gerr("reading tree '%s'", w->path);
		if (!rc && git_tree_entrycount(st) == 0)
			rc = hlx_err(HLX_EINVAL, "directory '%s' is empty", w->path);
		if (!rc)
			rc = cd_tree(w, st, ost, level + 1);
		git_tree_free(st);
		git_tree_free(ost);
		w->path[plen] = '\0';
	}
	return rc;
}

/*
 * The shards of one version in two halves, read on two threads.  The
 * walk above the shards (the hash types, TYPE/ab) is checked first, in
 * order, and gives units: a directory TYPE/ab that changed, with the
 * held one it replaces (or that is gone).  Each thread opens the history
 * anew (libgit2's objects are not shared between threads).  The first
 * takes units from the front, the second from the back, until they meet:
 * the halves are as long as the work makes them, whatever the sizes of
 * the units (a type of long lines, a caller that does more with each of
 * the first half's lines).  Before each unit's lines the callback is told
 * that a unit starts (line NULL), so that the second half's units, which
 * come last first, can be put back in order.
 */
struct cd_unit {
	git_oid id, oid;           /* the new directory, the held one */
	int has_new, has_old;
	char path[48];              /* "TYPE/ab/" */
};

struct cd_units {
	struct cd_unit *u;
	size_t n, cap;
};

static int cd_unit_add(struct cd_units *us, const char *path,
		       const git_tree_entry *e, const git_tree_entry *oe)
{
	struct cd_unit *u;

	if (us->n == us->cap) {
		size_t nc = us->cap ? us->cap * 2 : 256;

		u = realloc(us->u, nc * sizeof(*u));
		if (!u)
			return hlx_err(HLX_ENOMEM, "out of memory");
		us->u = u;
		us->cap = nc;
	}
	u = &us->u[us->n++];
	memset(u, 0, sizeof(*u));
	if (e)
		git_oid_cpy(&u->id, git_tree_entry_id(e));
	if (oe)
		git_oid_cpy(&u->oid, git_tree_entry_id(oe));
	u->has_new = e != NULL;
	u->has_old = oe != NULL;
	snprintf(u->path, sizeof(u->path), "%s%s/", path,
		 git_tree_entry_name(e ? e : oe));
	return HLX_OK;
}

/* The units under the root trees t and old (NULL: none), every entry
 * above the shards checked as cd_tree checks it. */
static int cd_collect(struct hlx_hist *h, const git_tree *t, const git_tree *old,
		      int level, const char *path, struct cd_units *us)
{
	size_t ni = t ? git_tree_entrycount(t) : 0;
	size_t no = old ? git_tree_entrycount(old) : 0, i = 0, j = 0;
	char sub[64];
	int rc = HLX_OK;

	while (!rc && (i < ni || j < no)) {
		const git_tree_entry *e = i < ni ? git_tree_entry_byindex(t, i) : NULL;
		const git_tree_entry *oe = j < no ? git_tree_entry_byindex(old, j) : NULL;
		int c = !e ? 1 : !oe ? -1 :
			strcmp(git_tree_entry_name(e), git_tree_entry_name(oe));
		git_tree *st = NULL, *ost = NULL;

		if (c > 0) {
			e = NULL;
			j++;
		} else {
			const char *name = git_tree_entry_name(e);

			rc = check_entry(e, level, path);
			if (!rc && i > 0 &&
			    strcmp(git_tree_entry_name(git_tree_entry_byindex(t, i - 1)),
				   name) >= 0)
				rc = hlx_err(HLX_EINVAL, "'%s%s': not after the entry before it",
					     path, name);
			if (rc)
				break;
			i++;
			if (c == 0) {
				j++;
				if (git_tree_entry_filemode_raw(oe) !=
				    git_tree_entry_filemode_raw(e)) {
					rc = hlx_err(HLX_EHISTORY,
						     "'%s%s': not of the held version's shape",
						     path, name);
					break;
				}
				if (git_oid_equal(git_tree_entry_id(oe), git_tree_entry_id(e)))
					continue; /* held, checked then */
			} else {
				oe = NULL;
			}
		}
		if (level == 1) {
			rc = cd_unit_add(us, path, e, oe);
			continue;
		}
		snprintf(sub, sizeof(sub), "%s/", git_tree_entry_name(e ? e : oe));
		if ((e && git_tree_lookup(&st, h->repo, git_tree_entry_id(e)) < 0) ||
		    (oe && git_tree_lookup(&ost, h->repo, git_tree_entry_id(oe)) < 0))
			rc = hlx_hist_gerr("reading tree '%s'", sub);
		if (!rc && e && git_tree_entrycount(st) == 0)
			rc = hlx_err(HLX_EINVAL, "directory '%s' is empty", sub);
		if (!rc)
			rc = cd_collect(h, st, ost, level + 1, sub, us);
		git_tree_free(st);
		git_tree_free(ost);
	}
	return rc;
}

/* The units both halves take from: the front's next, the back's last. */
struct cd_share {
	pthread_mutex_t m;
	const struct cd_unit *u;
	size_t lo, hi;
	int stop;                  /* a half failed: the other stops too */
};

struct cd_half {
	const char *repo;
	const struct hlx_hist_blobs *blobs;
	struct cd_share *sh;
	int back;                  /* takes units from the back */
	int (*cb)(void *ctx, const char *line, size_t len, int added);
	void *ctx;
	int rc;
	char detail[512]; /* the error detail is per thread */
};

/* The next unit of half x, or NULL when the halves have met. */
static const struct cd_unit *cd_take(struct cd_half *x)
{
	struct cd_share *sh = x->sh;
	const struct cd_unit *u = NULL;

	pthread_mutex_lock(&sh->m);
	if (!sh->stop && sh->lo < sh->hi)
		u = &sh->u[x->back ? --sh->hi : sh->lo++];
	pthread_mutex_unlock(&sh->m);
	return u;
}

/* The shards of one unit against the held ones (path in w->path). */
static int cd_unit(struct cdiff *w, const struct cd_unit *u)
{
	git_tree *t = NULL, *ot = NULL;
	int rc = HLX_OK;

	if ((u->has_new && git_tree_lookup(&t, w->h->repo, &u->id) < 0) ||
	    (u->has_old && git_tree_lookup(&ot, w->h->repo, &u->oid) < 0))
		rc = hlx_hist_gerr("reading tree '%s'", u->path);
	else if (!u->has_new)
		for (size_t k = 0; !rc && k < git_tree_entrycount(ot); k++)
			rc = cd_removed(w, git_tree_entry_byindex(ot, k), LEVEL_SHARDS);
	else if (git_tree_entrycount(t) == 0)
		rc = hlx_err(HLX_EINVAL, "directory '%s' is empty", u->path);
	else
		rc = cd_tree(w, t, ot, LEVEL_SHARDS);
	git_tree_free(t);
	git_tree_free(ot);
	return rc;
}

static void *cd_run(void *arg)
{
	struct cd_half *x = arg;
	struct hlx_hist *h = NULL;
	const struct cd_unit *u;
	struct cdiff w;
	int rc = hlx_hist_open(x->repo, 0, &h);

	/* a history of its own, which must see what the caller's sees: the
	 * store too when it is served to the caller's (it outlives this) */
	if (!rc && x->blobs && x->blobs->be)
		rc = blobs_serve(h, (struct hlx_hist_blobs *)x->blobs, 0);
	memset(&w, 0, sizeof(w));
	w.h = h;
	w.cb = x->cb;
	w.ctx = x->ctx;
	w.blobs = x->blobs;
	while (!rc && (u = cd_take(x))) {
		snprintf(w.path, sizeof(w.path), "%s", u->path);
		rc = x->cb(x->ctx, NULL, 0, 0); /* a unit starts */
		if (!rc)
			rc = cd_unit(&w, u);
	}
	hlx_hist_free(h);
	x->rc = rc;
	if (rc) {
		snprintf(x->detail, sizeof(x->detail), "%s", hlx_err_detail());
		pthread_mutex_lock(&x->sh->m);
		x->sh->stop = 1;
		pthread_mutex_unlock(&x->sh->m);
	}
	return NULL;
}

/* The shards of t against old: in two halves on two threads (ctx2) or
 * in one walk. */
static int cd_version(struct hlx_hist *h, const git_tree *t, const git_tree *old,
		      int (*cb)(void *ctx, const char *line, size_t len, int added),
		      void *ctx, void *ctx2, const struct hlx_hist_blobs *blobs)
{
	struct cd_units us = { NULL, 0, 0 };
	struct cd_share sh;
	struct cd_half x[2];
	const char *repo = git_repository_path(h->repo);
	pthread_t th;
	int rc, threaded = 0;

	if (!ctx2) {
		struct cdiff w = { h, cb, ctx, "", blobs };

		return cd_tree(&w, t, old, 0);
	}
	rc = cd_collect(h, t, old, 0, "", &us);
	if (rc)
		goto out;
	if (pthread_mutex_init(&sh.m, NULL) != 0) {
		rc = hlx_err(HLX_ENOMEM, "cannot create a mutex");
		goto out;
	}
	sh.u = us.u;
	sh.lo = 0;
	sh.hi = us.n;
	sh.stop = 0;
	for (int k = 0; k < 2; k++) {
		x[k].repo = repo;
		x[k].blobs = blobs;
		x[k].sh = &sh;
		x[k].back = k;
		x[k].cb = cb;
		x[k].ctx = k ? ctx2 : ctx;
		x[k].rc = 0;
		x[k].detail[0] = '\0';
	}
	threaded = us.n > 1 && pthread_create(&th, NULL, cd_run, &x[1]) == 0;
	cd_run(&x[0]);
	if (threaded)
		pthread_join(th, NULL);
	else
		cd_run(&x[1]);
	pthread_mutex_destroy(&sh.m);
	/* the first error in the walk's order: the front's units come
	 * before the back's */
	for (int k = 0; k < 2 && !rc; k++)
		if (x[k].rc)
			rc = hlx_err(x[k].rc, "%s", x[k].detail);
out:
	free(us.u);
	return rc;
}

int hlx_hist_check_delta(struct hlx_hist *h, const char *old, const char *new_,
			 int (*cb)(void *ctx, const char *line, size_t len,
				   int added),
			 void *ctx, void *ctx2, const struct hlx_hist_blobs *blobs)
{
	struct cmeta cur, held;
	git_commit *c = NULL, *oc = NULL;
	git_tree *t = NULL, *ot = NULL;
	git_buf sig = GIT_BUF_INIT;
	git_oid o, oo;
	int rc, grc;

	rc = hlx_hist_parse_oid(new_, &o, "version");
	if (!rc && old)
		rc = hlx_hist_parse_oid(old, &oo, "version");
	if (!rc)
		rc = hlx_hist_lookup_commit(h, &o, &c);
	if (!rc)
		rc = hlx_hist_parse_commit(c, &cur);
	if (!rc && old)
		rc = hlx_hist_lookup_commit(h, &oo, &oc);
	if (!rc && old)
		rc = hlx_hist_parse_commit(oc, &held);
	if (rc)
		goto out;
	if (cur.has_parent != (old != NULL) ||
	    (old && !git_oid_equal(&cur.parent, &oo))) {
		/* several versions: each checked, then the difference */
		rc = check_range(h, &o, old ? &oo : NULL);
		if (!rc)
			rc = hlx_hist_diff(h, old, new_, cb, ctx);
		goto out;
	}
	if (old && (strcmp(cur.list, held.list) || strcmp(cur.org, held.org)))
		rc = hlx_err(HLX_EINVAL, "version %llu (commit %.12s) is list '%s' of '%s', "
			     "the held version's list '%s' of '%s'",
			     (unsigned long long)cur.v.version, cur.v.oid, cur.list,
			     cur.org, held.list, held.org);
	if (!rc)
		rc = hlx_hist_check_number(&cur, old ? &held : NULL);
	if (!rc) {
		grc = git_commit_header_field(&sig, c, "gpgsig");
		if (grc == GIT_ENOTFOUND)
			rc = hlx_err(HLX_EINVAL, "not signed");
		else if (grc < 0)
			rc = hlx_hist_gerr("reading the signature");
	}
	if (!rc && (git_commit_tree(&t, c) < 0 ||
		    (oc && git_commit_tree(&ot, oc) < 0)))
		rc = hlx_hist_gerr("reading the tree");
	if (!rc)
		rc = cd_version(h, t, ot, cb, ctx, ctx2, blobs);
	if (rc) {
		rc = hlx_err_wrap(rc, "version %llu (commit %.12s)",
				  (unsigned long long)cur.v.version, cur.v.oid);
		rc = hlx_err_wrap(rc, "history of list '%s'", cur.list);
	}
out:
	git_buf_dispose(&sig);
	git_tree_free(t);
	git_tree_free(ot);
	git_commit_free(c);
	git_commit_free(oc);
	return rc;
}
