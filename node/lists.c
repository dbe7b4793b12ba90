/* SPDX-License-Identifier: MIT */
#include "node/lists.h"
#include "node/policies.h"
#include "node/files.h"
#include "node/peers.h"
#include "node/prune.h"
#include "keys/sshkey.h"
#include "keys/sshsig.h"
#include "keys/trust.h"
#include "protocol/err.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

int hlx_list_repo_path(struct hlx_node *n, const char *list, char out[PATH_MAX])
{
	char peer[HLX_LIST_NAME_MAX + 1];
	const char *sl;
	int rc = hlx_list_name_check(list);

	if (rc)
		return rc;
	/* a peer's list, PEER/LIST, is mirrored in lists/PEER/LIST.git */
	sl = strchr(list, '/');
	if (!sl)
		return hlx_node_path(n, HLX_HOME_LIST_REPO, list, NULL, out);
	snprintf(peer, sizeof(peer), "%.*s", (int)(sl - list), list);
	return hlx_node_path(n, HLX_HOME_MIRROR_REPO, peer, sl + 1, out);
}

int hlx_list_create(struct hlx_node *n, const char *list)
{
	struct hlx_list_rec rec;
	struct hlx_hist *h = NULL;
	char p[PATH_MAX];
	int rc;

	if (strchr(list, '/'))
		return hlx_err(HLX_EINVAL, "list name '%.64s': '/' is for peers' lists",
			       list);
	rc = hlx_list_repo_path(n, list, p);
	if (rc)
		return rc;
	rc = hlx_store_list_get(hlx_node_store(n), list, &rec);
	if (rc == HLX_OK)
		return hlx_err(HLX_EEXIST, "list '%s' exists already", list);
	if (rc != HLX_ENOENT)
		return rc;
	rc = hlx_node_path(n, HLX_HOME_LISTS, NULL, NULL, p);
	if (!rc && mkdir(p, 0755) != 0 && errno != EEXIST)
		rc = hlx_err(HLX_EIO, "cannot create '%s': %s", p, strerror(errno));
	/* The repository first: a list in the state always has one. */
	if (!rc)
		rc = hlx_list_repo_path(n, list, p);
	if (!rc)
		rc = hlx_hist_open(p, 1, &h);
	hlx_hist_free(h);
	if (!rc)
		rc = hlx_store_list_create(hlx_node_store(n), list,
					   hlx_home_org(hlx_node_home(n)), &rec);
	return rc;
}

int hlx_list_open_hist(struct hlx_node *n, const char *list,
		       struct hlx_hist **out)
{
	char p[PATH_MAX];
	int rc = hlx_list_repo_path(n, list, p);

	return rc ? rc : hlx_hist_open(p, 0, out);
}

/* Does commit top (of version ver) descend from commit base ("" for none)
 * through first parents, with consecutive version numbers? */
static int descends(struct hlx_hist *h, const char *top, uint64_t ver,
		    const char *base)
{
	struct hlx_hist_version v;
	uint64_t basever = 0;
	char oid[41];

	if (base[0]) {
		if (hlx_hist_read_version(h, base, &v) != HLX_OK)
			return 0;
		basever = v.version;
	}
	if (ver <= basever)
		return 0;
	snprintf(oid, sizeof(oid), "%s", top);
	for (uint64_t want = ver; want > basever; want--) {
		if (hlx_hist_read_version(h, oid, &v) != HLX_OK ||
		    v.version != want)
			return 0;
		memcpy(oid, v.parent, sizeof(oid));
	}
	hlx_err_clear();
	return strcmp(oid, base) == 0;
}

int hlx_list_open(struct hlx_node *n, const char *list,
		  struct hlx_list_rec *rec, struct hlx_hist **out)
{
	int rc = hlx_list_get(n, list, rec);

	*out = NULL;
	return rc ? rc : hlx_list_open_hist(n, list, out);
}

/* Does the history's branch, read as git would read a loose ref, name
 * exactly head?  The usual case, found without starting libgit2 (whose
 * start, most of it loading TLS certificates for a transport hlx never
 * uses, was most of the time of a lookup).  0 for anything else: no loose
 * ref (packed), a symbolic one, another commit; libgit2 then reads it. */
static int loose_ref_is(const char *repo, const char *head)
{
	char p[PATH_MAX], b[64];
	ssize_t got;
	int fd;

	if (strlen(head) != 40 || hlx_pathf(p, "%s/%s", repo, HLX_HIST_BRANCH))
		return 0;
	fd = open(p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return 0;
	got = read(fd, b, sizeof(b));
	close(fd);
	return got == 41 && b[40] == '\n' && memcmp(b, head, 40) == 0;
}

int hlx_list_recover(struct hlx_node *n, const char *list)
{
	struct hlx_list_rec rec;
	struct hlx_hist *h = NULL;
	char head[41] = "", repo[PATH_MAX];
	int rc;

	rc = hlx_store_list_get(hlx_node_store(n), list, &rec);
	/* first an interrupted prune: 1 means that the state is ahead of the
	 * repository and only a writer may finish the swap */
	if (!rc)
		rc = hlx_prune_recover(n, list, hlx_home_locked(hlx_node_home(n)));
	if (rc > 0)
		return HLX_OK;
	if (!rc)
		rc = hlx_list_repo_path(n, list, repo);
	if (rc)
		goto out;
	if (hlx_home_locked(hlx_node_home(n))) {
		/* We hold the node's writer lock, so a ref lock file can only
		 * be left by a writer that died: git never removes those. */
		char p[PATH_MAX];

		rc = hlx_pathf(p, "%s/%s.lock", repo, HLX_HIST_BRANCH);
		if (!rc && unlink(p) != 0 && errno != ENOENT)
			rc = hlx_err(HLX_EIO, "cannot remove the stale lock '%s': %s",
				     p, strerror(errno));
		if (rc)
			goto out;
	}
	/* state and history agree, as they do but after a crash or while a
	 * writer is between the two */
	if (loose_ref_is(repo, rec.head))
		goto out;
	rc = hlx_hist_open(repo, 0, &h);
	if (rc)
		goto out;
	rc = hlx_hist_head(h, head);
	if (rc == HLX_ENOENT) {
		head[0] = '\0';
		rc = HLX_OK;
	}
	/* The state again, read after the ref: every writer commits the
	 * state before it moves the ref, so a state read after the ref is
	 * never behind it but after a crash.  (Read before it, a writer
	 * committing and moving the ref in between made a reader see the
	 * ref ahead and report a disagreement that was not there.) */
	if (!rc)
		rc = hlx_store_list_get(hlx_node_store(n), list, &rec);
	if (rc || strcmp(head, rec.head) == 0)
		goto out;
	/* The state is ahead of the ref (by one version for our own lists, by
	 * several for a mirror that applied a feed's versions at once): a
	 * writer crashed, or is about to move the ref.  Only a writer
	 * (holding the lock) finishes the move; readers go by the state,
	 * which is complete. */
	if (rec.head[0] && descends(h, rec.head, rec.version, head)) {
		if (hlx_home_locked(hlx_node_home(n)))
			rc = hlx_hist_set_head(h, head[0] ? head : NULL, rec.head);
		goto out;
	}
	rc = hlx_err(HLX_ESTATE,
		     "state and history of list '%s' disagree (state at version %" PRIu64
		     "): run 'hlx reindex %s'", list, rec.version, list);
out:
	hlx_hist_free(h);
	return rc;
}

int hlx_list_get(struct hlx_node *n, const char *list, struct hlx_list_rec *out)
{
	int rc = hlx_list_name_check(list);

	if (!rc)
		rc = hlx_store_list_get(hlx_node_store(n), list, out);
	if (!rc)
		rc = hlx_list_recover(n, list);
	if (!rc)
		rc = hlx_store_list_get(hlx_node_store(n), list, out);
	return rc;
}

enum hlx_list_kind hlx_list_kind(const char *name)
{
	const char *slash = strchr(name, '/');
	const char *base = slash ? slash + 1 : name;

	if (strcmp(base, "status") == 0)
		return HLX_LIST_STATUS;
	if (strcmp(base, "cases") == 0)
		return HLX_LIST_CASES;
	return HLX_LIST_ENTRIES;
}

int hlx_is_status_list(const char *name)
{
	return hlx_list_kind(name) == HLX_LIST_STATUS;
}

int hlx_is_cases_list(const char *name)
{
	return hlx_list_kind(name) == HLX_LIST_CASES;
}

/* ---- change sets -------------------------------------------------------- */

struct item {
	size_t off;
	uint32_t len;     /* put: the line with '\n'; retract: the hash text */
	uint16_t hashlen; /* length of the hash field */
	uint8_t retract;
};

struct hlx_changeset {
	struct hlx_buf arena;
	struct item *items;
	size_t n, cap;
	uint64_t merged;
	enum hlx_list_kind kind; /* what its lines are, set by the first put */
};

int hlx_changeset_new(struct hlx_changeset **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? HLX_OK : hlx_err(HLX_ENOMEM, "out of memory");
}

void hlx_changeset_free(struct hlx_changeset *cs)
{
	if (!cs)
		return;
	hlx_buf_free(&cs->arena);
	free(cs->items);
	free(cs);
}

size_t hlx_changeset_size(const struct hlx_changeset *cs)
{
	return cs->n;
}

static int add_item(struct hlx_changeset *cs, size_t off, size_t len,
		    size_t hashlen, int retract)
{
	if (cs->n == cs->cap) {
		size_t nc = cs->cap ? cs->cap * 2 : 1024;
		struct item *p = realloc(cs->items, nc * sizeof(*p));

		if (!p)
			return hlx_err(HLX_ENOMEM, "out of memory for %zu changes",
				       cs->n);
		cs->items = p;
		cs->cap = nc;
	}
	cs->items[cs->n++] = (struct item){ off, (uint32_t)len,
					    (uint16_t)hashlen, (uint8_t)retract };
	return HLX_OK;
}

/* The canonical line just appended at off becomes a put. */
static int add_line(struct hlx_changeset *cs, size_t off, int rc)
{
	const char *tab;

	if (rc)
		return rc;
	tab = memchr(cs->arena.data + off, '\t', cs->arena.len - off);
	if (!tab)
		return hlx_err(HLX_EINVAL, "canonical line without fields");
	return add_item(cs, off, cs->arena.len - off,
			(size_t)((const uint8_t *)tab - (cs->arena.data + off)), 0);
}

static int same_kind(struct hlx_changeset *cs, enum hlx_list_kind kind)
{
	if (cs->n && cs->kind != kind)
		return hlx_err(HLX_EINVAL,
			       "lines of two kinds of list in one change");
	cs->kind = kind;
	return HLX_OK;
}

/* An entry e, a removal-status record st or a case line c (one is set). */
static int put_line(struct hlx_changeset *cs, const struct hlx_entry *e,
		    const struct hlx_status *st, const struct hlx_case_line *c)
{
	size_t off = cs->arena.len;
	int rc = same_kind(cs, st ? HLX_LIST_STATUS :
			       c ? HLX_LIST_CASES : HLX_LIST_ENTRIES);

	/* each encoder validates its record first */
	if (!rc)
		rc = st ? hlx_status_encode(st, &cs->arena) :
		     c ? hlx_case_encode(c, &cs->arena) :
			 hlx_entry_encode(e, &cs->arena);
	return add_line(cs, off, rc);
}

int hlx_changeset_put(struct hlx_changeset *cs, const struct hlx_entry *e)
{
	return put_line(cs, e, NULL, NULL);
}

int hlx_changeset_put_status(struct hlx_changeset *cs,
			     const struct hlx_status *st)
{
	return put_line(cs, NULL, st, NULL);
}

int hlx_changeset_put_case(struct hlx_changeset *cs,
			   const struct hlx_case_line *c)
{
	return put_line(cs, NULL, NULL, c);
}

int hlx_changeset_retract(struct hlx_changeset *cs, const struct hlx_hash *h)
{
	char text[HLX_HASH_TEXT_MAX];
	size_t off = cs->arena.len;
	int rc = hlx_hash_format(h, text, sizeof(text));

	if (!rc)
		rc = hlx_buf_puts(&cs->arena, text);
	if (rc)
		return rc;
	return add_item(cs, off, strlen(text), strlen(text), 1);
}

/* By hash, then input order (a later put wins a merge). */
static int item_cmp(const struct item *x, const struct item *y,
		    const uint8_t *base)
{
	size_t n = x->hashlen < y->hashlen ? x->hashlen : y->hashlen;
	int c = memcmp(base + x->off, base + y->off, n);

	if (c)
		return c;
	if (x->hashlen != y->hashlen)
		return x->hashlen < y->hashlen ? -1 : 1;
	return x->off < y->off ? -1 : x->off > y->off;
}

/* What normalise sorts: an item's place and the first 16 bytes of its
 * hash text (zero-padded), so that most comparisons read no line. */
struct srec {
	uint64_t a, b;
	size_t i;
};

static uint64_t text_be64(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < 8; i++)
		v = v << 8 | (i < n ? p[i] : 0);
	return v;
}

static int srec_cmp(const void *a, const void *b, void *ctx)
{
	const struct srec *x = a, *y = b;
	const struct hlx_changeset *cs = ctx;

	if (x->a != y->a)
		return x->a < y->a ? -1 : 1;
	if (x->b != y->b)
		return x->b < y->b ? -1 : 1;
	return item_cmp(&cs->items[x->i], &cs->items[y->i], cs->arena.data);
}

/*
 * r[0..n) in (a, b) order, stably: a radix sort, a byte at a time from
 * the last, skipping the bytes every key shares (the type names have a
 * few); tmp has room for n.  Items whose (a, b) are equal stay in input
 * order and are put in srec_cmp's order by an insertion sort of their run
 * (runs of more than one are duplicates, or hashes that share their first
 * 16 characters).  The sorted array: r or tmp.  A million changes took a
 * merge sort through srec_cmp a fifth of a second.
 */
static struct srec *radix_sort(struct srec *r, struct srec *tmp, size_t n,
			       size_t (*cnt)[256], struct hlx_changeset *cs)
{
	for (size_t i = 0; i < n; i++)
		for (unsigned d = 0; d < 8; d++) {
			cnt[d][r[i].b >> (8 * d) & 255]++;
			cnt[8 + d][r[i].a >> (8 * d) & 255]++;
		}
	for (unsigned d = 0; d < 16; d++) {
		unsigned sh = 8 * (d & 7);
		size_t *c = cnt[d], sum = 0;
		struct srec *t;

		if (c[(d < 8 ? r[0].b : r[0].a) >> sh & 255] == n)
			continue; /* every key has this byte */
		for (unsigned k = 0; k < 256; k++) {
			size_t v = c[k];

			c[k] = sum;
			sum += v;
		}
		for (size_t i = 0; i < n; i++)
			tmp[c[(d < 8 ? r[i].b : r[i].a) >> sh & 255]++] = r[i];
		t = r;
		r = tmp;
		tmp = t;
	}
	for (size_t i = 0, j; i < n; i = j) {
		for (j = i + 1; j < n && r[j].a == r[i].a && r[j].b == r[i].b; j++)
			;
		for (size_t k = i + 1; k < j; k++) {
			struct srec x = r[k];
			size_t m = k;

			for (; m > i && srec_cmp(&r[m - 1], &x, cs) > 0; m--)
				r[m] = r[m - 1];
			r[m] = x;
		}
	}
	return r;
}

/*
 * Sort the items by hash, and their lines with them: the lines are copied
 * into a new arena in that order, so that every later pass over the
 * changes (checking, sharding, hashing, the state) reads memory in order.
 * Reading them where the input put them cost a cache miss a line in each
 * pass, about a second of a 1M import.
 */
static int sort_items(struct hlx_changeset *cs)
{
	struct hlx_buf arena = HLX_BUF_INIT;
	struct srec *r = NULL, *tmp = NULL, *sorted;
	struct item *items = NULL;
	size_t (*cnt)[256] = NULL;
	int rc;

	if (cs->n < 2)
		return HLX_OK;
	r = malloc(cs->n * sizeof(*r));
	tmp = malloc(cs->n * sizeof(*tmp));
	items = malloc(cs->n * sizeof(*items));
	cnt = calloc(16, sizeof(*cnt));
	if (!r || !tmp || !items || !cnt) {
		rc = hlx_err(HLX_ENOMEM, "out of memory for %zu changes", cs->n);
		goto out;
	}
	for (size_t i = 0; i < cs->n; i++) {
		const uint8_t *t = cs->arena.data + cs->items[i].off;
		size_t hl = cs->items[i].hashlen;

		r[i].a = text_be64(t, hl);
		r[i].b = text_be64(t + (hl < 8 ? hl : 8), hl < 8 ? 0 : hl - 8);
		r[i].i = i;
	}
	sorted = radix_sort(r, tmp, cs->n, cnt, cs);
	rc = hlx_buf_reserve(&arena, cs->arena.len);
	for (size_t k = 0; k < cs->n && !rc; k++) {
		const struct item *it = &cs->items[sorted[k].i];

		items[k] = *it;
		items[k].off = arena.len;
		rc = hlx_buf_put(&arena, cs->arena.data + it->off, it->len);
	}
	if (rc)
		goto out;
	hlx_buf_free(&cs->arena);
	cs->arena = arena;
	arena = (struct hlx_buf)HLX_BUF_INIT;
	free(cs->items);
	cs->items = items;
	cs->cap = cs->n;
	items = NULL;
out:
	hlx_buf_free(&arena);
	free(items);
	free(cnt);
	free(tmp);
	free(r);
	return rc;
}

/* Merge two puts of one hash: later category wins, earliest first-seen,
 * highest confidence, union of tags. */
static int merge_puts(struct hlx_changeset *cs, struct item *a,
		      const struct item *b)
{
	struct hlx_entry *x = malloc(2 * sizeof(*x)), *y;
	size_t off = cs->arena.len;
	int rc;

	if (!x)
		return hlx_err(HLX_ENOMEM, "out of memory");
	y = x + 1;
	rc = hlx_entry_decode((const char *)cs->arena.data + a->off, a->len, x);
	if (!rc)
		rc = hlx_entry_decode((const char *)cs->arena.data + b->off,
				      b->len, y);
	if (rc)
		goto out;
	if (y->category[0])
		memcpy(x->category, y->category, sizeof(x->category));
	if (y->first_seen >= 0 &&
	    (x->first_seen < 0 || y->first_seen < x->first_seen))
		x->first_seen = y->first_seen;
	if (y->confidence > x->confidence)
		x->confidence = y->confidence;
	for (unsigned i = 0; !rc && i < y->ntags; i++) {
		rc = hlx_entry_add_tag(x, y->tags[i], strlen(y->tags[i]));
		if (rc == HLX_EEXIST)
			rc = HLX_OK; /* the union keeps one */
	}
	if (!rc)
		rc = hlx_entry_encode(x, &cs->arena);
	if (!rc) {
		a->off = off;
		a->len = (uint32_t)(cs->arena.len - off);
	}
out:
	free(x);
	return rc;
}

/* Sort by hash and merge duplicates in place. */
static int normalise(struct hlx_changeset *cs)
{
	size_t w = 0;
	int rc = HLX_OK;

	rc = sort_items(cs);
	for (size_t r = 0; r < cs->n && !rc; r++) {
		struct item *it = &cs->items[r];

		if (w > 0) {
			struct item *last = &cs->items[w - 1];

			if (last->hashlen == it->hashlen &&
			    memcmp(cs->arena.data + last->off,
				   cs->arena.data + it->off, it->hashlen) == 0) {
				if (last->retract != it->retract)
					return hlx_err(HLX_EINVAL,
						       "hash '%.*s' is both added and retracted",
						       (int)it->hashlen,
						       (const char *)cs->arena.data + it->off);
				cs->merged++;
				if (!it->retract && cs->kind != HLX_LIST_ENTRIES)
					*last = *it; /* the later record wins */
				else if (!it->retract)
					rc = merge_puts(cs, last, it);
				continue;
			}
		}
		cs->items[w++] = *it;
	}
	cs->n = w;
	return rc;
}

/* ---- applying a version ----------------------------------------------- */

int hlx_list_sign_commit(void *ctx, const uint8_t *data, size_t n,
			 struct hlx_buf *out)
{
	return hlx_sshsig_sign(ctx, "git", "sha512", data, n, out);
}

/* Compare the changeset with the current version of the list: only real
 * changes become ops (counted in res); retracting a hash the list does not
 * hold fails. */
static int real_changes(struct hlx_store_txn *t,
			const struct hlx_list_rec *rec, const char *list,
			const struct hlx_changeset *cs, struct hlx_hash *hash,
			struct hlx_hist_op *ops, size_t *nops,
			struct hlx_apply_result *res)
{
	struct hlx_buf meta = HLX_BUF_INIT;
	int rc = HLX_OK;

	for (size_t i = 0; i < cs->n; i++) {
		const struct item *it = &cs->items[i];
		const char *line = (const char *)cs->arena.data + it->off;

		if (rec->count == 0) {
			/* an empty list holds nothing: no need to look */
			rc = HLX_ENOENT;
		} else {
			rc = hlx_hash_parse_canonical(line, it->hashlen, hash);
			if (!rc)
				rc = hlx_store_get(t, rec->id, hash, &meta);
			if (rc && rc != HLX_ENOENT)
				goto out;
		}
		if (it->retract) {
			if (rc == HLX_ENOENT) {
				rc = hlx_err(HLX_ENOENT,
					     "hash '%.*s' is not in list '%s'",
					     (int)it->hashlen, line, list);
				goto out;
			}
			res->retracted++;
		} else if (rc == HLX_ENOENT) {
			res->added++;
		} else if (hlx_store_meta_eq((const char *)meta.data, meta.len,
					     line + it->hashlen + 1,
					     it->len - it->hashlen - 2)) {
			res->unchanged++;
			continue;
		} else {
			res->updated++;
		}
		rc = HLX_OK;
		ops[(*nops)++] = (struct hlx_hist_op){ line, it->len, it->retract };
	}
	rc = HLX_OK;
out:
	hlx_buf_free(&meta);
	return rc;
}

/*
 * Writing the next version of the list's history, signed by our signing
 * key (its head is not moved yet), on a thread of its own: its pack
 * (deflating every object, libgit2's indexer checking it, fsync) is most
 * of a large version, and the state's writes are independent of it until
 * the state commits, after the version is durable.
 */
struct version_job {
	struct hlx_node *n;
	const char *list;
	const struct hlx_hist_op *ops;
	size_t nops;
	struct hlx_seckey *sgkey;
	struct hlx_hist_meta m;
	char msg[160];
	struct hlx_hist *h;
	char oid[41];
	int rc;
	char err[512];  /* the detail of rc, from the thread that failed */
};

static void *version_run(void *arg)
{
	struct version_job *j = arg;

	j->rc = hlx_list_open_hist(j->n, j->list, &j->h);
	if (!j->rc)
		j->rc = hlx_hist_commit(j->h, j->ops, j->nops, &j->m,
					hlx_list_sign_commit, j->sgkey, j->oid);
	if (j->rc) /* the detail is per thread: keep it with the result */
		snprintf(j->err, sizeof(j->err), "%s", hlx_err_detail());
	return NULL;
}

/* The version's metadata, and the signing key (asked for here, on the
 * caller's thread). */
static int version_prepare(struct version_job *j, struct hlx_node *n,
			   const char *list, const struct hlx_list_rec *rec,
			   const struct hlx_hist_op *ops, size_t nops,
			   const char *summary, hlx_pass_fn getpass, void *ctx,
			   int64_t now, const struct hlx_apply_result *res)
{
	memset(j, 0, sizeof(*j));
	j->n = n;
	j->list = list;
	j->ops = ops;
	j->nops = nops;
	snprintf(j->msg, sizeof(j->msg), "%.60s: %" PRIu64 " added, %" PRIu64
		 " updated, %" PRIu64 " retracted", summary, res->added,
		 res->updated, res->retracted);
	j->m = (struct hlx_hist_meta){ hlx_home_org(hlx_node_home(n)), list,
				       rec->version + 1, now, j->msg };
	return hlx_home_signing_key(hlx_node_home(n), getpass, ctx, now,
				    &j->sgkey);
}

/* The ops into the state, in the transaction t (empty: the list holds
 * nothing yet, so every op is a put of a new hash). */
static int store_ops(struct hlx_store_txn *t, uint32_t id,
		     const struct hlx_hist_op *ops, size_t nops, int empty,
		     struct hlx_hash *hash)
{
	int rc = HLX_OK;

	for (size_t i = 0; i < nops && !rc; i++) {
		const char *line = ops[i].line;
		const char *tab = memchr(line, '\t', ops[i].len);
		size_t hl = ops[i].retract ? ops[i].len : (size_t)(tab - line);

		rc = hlx_hash_parse_canonical(line, hl, hash);
		if (!rc && ops[i].retract)
			rc = hlx_store_del(t, id, hash);
		else if (!rc && empty) /* nothing to replace */
			rc = hlx_store_put_new(t, id, hash, tab + 1,
					       ops[i].len - hl - 2);
		else if (!rc)
			rc = hlx_store_put(t, id, hash, tab + 1,
					   ops[i].len - hl - 2);
	}
	return rc;
}

/* A version of one of our lists: the changeset normalised, compared with
 * the current version, written to the history, applied to the state, and
 * then the history's head moved. */
int hlx_list_apply(struct hlx_node *n, const char *list,
		   struct hlx_changeset *cs, const char *summary,
		   hlx_pass_fn getpass, void *ctx, int64_t now,
		   struct hlx_apply_result *res)
{
	struct hlx_list_rec rec;
	struct hlx_store_txn *t = NULL;
	struct hlx_hist *h = NULL;
	struct hlx_hist_op *ops = NULL;
	struct hlx_hash *hash = NULL;
	struct version_job vj;
	pthread_t th;
	size_t nops = 0;
	char oid[41];
	int rc, threaded;

	memset(res, 0, sizeof(*res));
	rc = hlx_list_get(n, list, &rec);
	if (rc)
		return rc;
	if (strcmp(rec.owner, hlx_home_org(hlx_node_home(n))) != 0)
		return hlx_err(HLX_EPERM, "list '%s' belongs to '%s', not to us",
			       list, rec.owner);
	if (cs->n && cs->kind != hlx_list_kind(list))
		return hlx_err(HLX_EINVAL, cs->kind == HLX_LIST_STATUS ?
			       "status records belong in the status log" :
			       cs->kind == HLX_LIST_CASES ?
			       "case lines belong in the cases log" :
			       hlx_list_kind(list) == HLX_LIST_STATUS ?
			       "the status log holds status records only" :
			       "the cases log holds case lines only");
	rc = normalise(cs);
	if (rc)
		return rc;
	res->merged = cs->merged;
	hash = malloc(sizeof(*hash));
	ops = malloc((cs->n ? cs->n : 1) * sizeof(*ops));
	if (!hash || !ops) {
		rc = hlx_err(HLX_ENOMEM, "out of memory for %zu changes", cs->n);
		goto out;
	}
	rc = hlx_store_begin(hlx_node_store(n), &t);
	if (!rc)
		rc = real_changes(t, &rec, list, cs, hash, ops, &nops, res);
	if (rc)
		goto out;
	res->version = rec.version;
	snprintf(res->head, sizeof(res->head), "%s", rec.head);
	res->count = rec.count;
	if (nops == 0)
		goto out; /* nothing changes: no version */
	rc = version_prepare(&vj, n, list, &rec, ops, nops, summary, getpass,
			     ctx, now, res);
	if (rc)
		goto out;
	/* the history on a thread, the state here; both finish before the
	 * state commits, so the version is durable first */
	threaded = pthread_create(&th, NULL, version_run, &vj) == 0;
	if (!threaded)
		version_run(&vj);
	rc = store_ops(t, rec.id, ops, nops, rec.count == 0, hash);
	if (threaded)
		pthread_join(th, NULL);
	h = vj.h;
	hlx_seckey_free(vj.sgkey);
	if (vj.rc)
		rc = hlx_err(vj.rc, "%s", vj.err);
	if (rc)
		goto out;
	memcpy(oid, vj.oid, sizeof(oid));
	rec.version++;
	memcpy(rec.head, oid, sizeof(rec.head));
	rec.count = rec.count + res->added - res->retracted;
	rec.updated = now;
	rc = hlx_store_set_list(t, &rec);
	if (rc)
		goto out;
	rc = hlx_store_commit(t);
	t = NULL;
	if (rc)
		goto out;
	/* The state is durable: now move the ref (recovery finishes it). */
	rc = hlx_hist_set_head(h, res->head[0] ? res->head : NULL, oid);
	if (rc)
		goto out;
	res->changed = 1;
	res->version = rec.version;
	res->count = rec.count;
	memcpy(res->head, oid, sizeof(res->head));
out:
	hlx_store_abort(t);
	hlx_hist_free(h);
	free(hash);
	free(ops);
	return rc;
}

/* ---- reindex and fsck --------------------------------------------------- */

struct reindex_ctx {
	struct hlx_store_txn *t;
	uint32_t list;
	struct hlx_hash *hash;
	uint64_t count;
};

static int reindex_line(void *ctx, const char *line, size_t len)
{
	struct reindex_ctx *c = ctx;
	const char *tab = memchr(line, '\t', len);
	int rc, purged = 0;

	if (!tab || len < 2 || line[len - 1] != '\n')
		return hlx_err(HLX_EHISTORY, "malformed line in history");
	rc = hlx_hash_parse_canonical(line, (size_t)(tab - line), c->hash);
	/* what retention purged here stays out (node/retention.h) */
	if (!rc && (rc = hlx_store_is_purged(c->t, c->list, c->hash, &purged)) == 0 &&
	    purged)
		return HLX_OK;
	if (!rc)
		rc = hlx_store_put(c->t, c->list, c->hash, tab + 1,
				   len - (size_t)(tab - line) - 2);
	c->count++;
	return rc;
}

int hlx_list_reindex(struct hlx_node *n, const char *list, uint64_t *count)
{
	struct reindex_ctx c = { 0 };
	struct hlx_list_rec rec;
	struct hlx_hist_version v;
	struct hlx_hist *h = NULL;
	char head[41];
	int rc;

	rc = hlx_list_name_check(list);
	if (!rc)
		rc = hlx_store_list_get(hlx_node_store(n), list, &rec);
	if (!rc)
		rc = hlx_list_open_hist(n, list, &h);
	if (!rc && !(c.hash = malloc(sizeof(*c.hash))))
		rc = hlx_err(HLX_ENOMEM, "out of memory");
	if (rc)
		goto out;
	rc = hlx_store_begin(hlx_node_store(n), &c.t);
	if (!rc)
		rc = hlx_store_clear_list(c.t, rec.id);
	if (rc)
		goto out;
	c.list = rec.id;
	rc = hlx_hist_head(h, head);
	if (rc == HLX_ENOENT) {
		rec.version = 0;
		rec.head[0] = '\0';
		rec.updated = 0;
		rc = HLX_OK;
	} else if (!rc) {
		rc = hlx_hist_read_version(h, head, &v);
		if (!rc)
			rc = hlx_hist_foreach(h, head, reindex_line, &c);
		rec.version = v.version;
		memcpy(rec.head, head, sizeof(rec.head));
		rec.updated = v.time;
	}
	rec.count = c.count;
	if (!rc)
		rc = hlx_store_set_list(c.t, &rec);
	if (!rc) {
		rc = hlx_store_commit(c.t);
		c.t = NULL;
	}
	*count = c.count;
out:
	hlx_store_abort(c.t);
	hlx_hist_free(h);
	free(c.hash);
	return rc;
}

struct fsck_ctx {
	struct hlx_node *n;
	const struct hlx_trust *trust; /* ours, or the peer's for a mirror */
	struct hlx_hist *h;
	struct hlx_store_txn *t;
	struct hlx_list_rec rec;
	struct hlx_hash *hash;
	struct hlx_buf meta;
	void (*report)(void *ctx, const char *msg);
	void *rctx;
	uint64_t versions, entries, problems, purged;
};

static void problem(struct fsck_ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void problem(struct fsck_ctx *c, const char *fmt, ...)
{
	char msg[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->problems++;
	c->report(c->rctx, msg);
}

static int fsck_version(void *ctx, const struct hlx_hist_version *v)
{
	struct fsck_ctx *c = ctx;
	struct hlx_buf sig = HLX_BUF_INIT, data = HLX_BUF_INIT;
	struct hlx_sshsig *s = NULL;
	int rc;

	c->versions++;
	rc = hlx_hist_signature(c->h, v->oid, &sig, &data);
	if (!rc)
		rc = hlx_sshsig_parse_armor((const char *)sig.data, sig.len, &s);
	if (!rc)
		rc = hlx_sshsig_verify(s, "git", data.data, data.len);
	if (!rc)
		rc = hlx_trust_check(c->trust, hlx_sshsig_signer(s), v->time);
	if (rc)
		problem(c, "list '%s' version %" PRIu64 " (%s): %s",
			c->rec.name, v->version, v->oid, hlx_err_detail());
	hlx_sshsig_free(s);
	hlx_buf_free(&sig);
	hlx_buf_free(&data);
	return HLX_OK;
}

static int fsck_line(void *ctx, const char *line, size_t len)
{
	struct fsck_ctx *c = ctx;
	const char *tab = memchr(line, '\t', len);
	size_t hl = tab ? (size_t)(tab - line) : len;
	int rc;

	c->entries++;
	rc = hlx_hash_parse_canonical(line, hl, c->hash);
	if (!rc)
		rc = hlx_store_get(c->t, c->rec.id, c->hash, &c->meta);
	if (rc == HLX_ENOENT) {
		int purged = 0;

		/* purged here for its retention: absent on purpose */
		rc = hlx_store_is_purged(c->t, c->rec.id, c->hash, &purged);
		if (rc)
			return rc;
		if (purged) {
			c->purged++;
			return HLX_OK;
		}
		rc = HLX_ENOENT;
	}
	if (rc == HLX_ENOENT)
		problem(c, "list '%s': '%.*s' is in the history but not in the state",
			c->rec.name, (int)hl, line);
	else if (rc)
		return rc;
	else if (!tab || !hlx_store_meta_eq((const char *)c->meta.data,
					    c->meta.len, tab + 1, len - hl - 2))
		problem(c, "list '%s': '%.*s' differs between history and state",
			c->rec.name, (int)hl, line);
	return HLX_OK;
}

/* The verified trust chain of a peer, from peers/PEER/trust.json and the
 * root pinned in peers.json. */
static int peer_trust(struct hlx_node *n, const char *peer, size_t pl,
		      struct hlx_trust **out)
{
	struct hlx_peers *ps = NULL;
	struct hlx_peer *p;
	struct hlx_buf b = HLX_BUF_INIT;
	char name[72], path[PATH_MAX];
	int rc;

	snprintf(name, sizeof(name), "%.*s", (int)(pl < 64 ? pl : 64), peer);
	rc = hlx_peers_load(hlx_home_dir(hlx_node_home(n)), &ps);
	if (!rc && !(p = hlx_peers_find(ps, name)))
		rc = hlx_err(HLX_ENOENT, "no peer '%s' (its list is still here)", name);
	if (!rc)
		rc = hlx_node_path(n, HLX_HOME_PEER_TRUST, name, NULL, path);
	if (!rc)
		rc = hlx_file_read(path, HLX_TRUST_MAX, &b);
	if (!rc)
		rc = hlx_trust_load((char *)b.data, b.len, &p->root, out);
	hlx_buf_free(&b);
	hlx_peers_free(ps);
	return rc;
}

struct unreach_ctx {
	struct fsck_ctx *c;
	const char *list;
};

static void unreach_report(void *ctx, const char *oid, const char *type)
{
	struct unreach_ctx *u = ctx;

	problem(u->c, "list '%s': %s %s is not reachable from its branch",
		u->list, type, oid);
}

/* A commit signed by a key of the list's trust chain valid at its time. */
static int signed_by(void *ctx, const char *oid)
{
	struct fsck_ctx *c = ctx;
	struct hlx_buf sig = HLX_BUF_INIT, data = HLX_BUF_INIT;
	struct hlx_hist_version v;
	struct hlx_sshsig *s = NULL;
	int rc;

	rc = hlx_hist_read_version(c->h, oid, &v);
	if (!rc)
		rc = hlx_hist_signature(c->h, oid, &sig, &data);
	if (!rc)
		rc = hlx_sshsig_parse_armor((const char *)sig.data, sig.len, &s);
	if (!rc)
		rc = hlx_sshsig_verify(s, "git", data.data, data.len);
	if (!rc)
		rc = hlx_trust_check(c->trust, hlx_sshsig_signer(s), v.time);
	hlx_sshsig_free(s);
	hlx_buf_free(&sig);
	hlx_buf_free(&data);
	return rc;
}

int hlx_list_check_signer(struct hlx_node *n, const char *list,
			  struct hlx_hist *h, const struct hlx_hist_version *v,
			  char fpr[HLX_FPR_LEN])
{
	struct hlx_buf sig = HLX_BUF_INIT, data = HLX_BUF_INIT;
	struct hlx_sshsig *s = NULL;
	struct hlx_trust *pt = NULL;
	const char *slash = strchr(list, '/');
	int rc;

	snprintf(fpr, HLX_FPR_LEN, "-");
	if (hlx_hist_signature(h, v->oid, &sig, &data) != HLX_OK ||
	    hlx_sshsig_parse_armor((const char *)sig.data, sig.len, &s) != HLX_OK) {
		rc = hlx_err(HLX_EBADSIG, "no signature");
		goto out;
	}
	hlx_sshkey_fingerprint(hlx_sshsig_signer(s), fpr);
	if (hlx_sshsig_verify(s, "git", data.data, data.len) != HLX_OK) {
		rc = hlx_err(HLX_EBADSIG, "BAD signature");
		goto out;
	}
	/* a mirror's versions are signed under its owner's chain, not ours */
	rc = slash ? peer_trust(n, list, (size_t)(slash - list), &pt) : HLX_OK;
	if (!rc)
		rc = hlx_trust_check(pt ? pt : hlx_home_trust(hlx_node_home(n)),
				     hlx_sshsig_signer(s), v->time);
out:
	hlx_trust_free(pt);
	hlx_sshsig_free(s);
	hlx_buf_free(&sig);
	hlx_buf_free(&data);
	return rc;
}

int hlx_list_fsck(struct hlx_node *n, const char *list,
		  void (*report)(void *ctx, const char *msg), void *ctx,
		  uint64_t *versions, uint64_t *entries)
{
	struct fsck_ctx c = { .n = n, .report = report, .rctx = ctx };
	struct hlx_trust *pt = NULL;
	const char *slash = strchr(list, '/');
	uint64_t held = 0;
	char head[41], path[PATH_MAX];
	int rc;

	*versions = *entries = 0;
	/* every object read is hashed again: what changed on disk shows */
	hlx_hist_verify_reads(1);
	hlx_buf_init(&c.meta);
	c.trust = hlx_home_trust(hlx_node_home(n));
	rc = slash ? peer_trust(n, list, (size_t)(slash - list), &pt) : HLX_OK;
	if (pt)
		c.trust = pt;
	if (!rc)
		rc = hlx_list_get(n, list, &c.rec);
	if (!rc)
		rc = hlx_list_open_hist(n, list, &c.h);
	if (!rc && !(c.hash = malloc(sizeof(*c.hash))))
		rc = hlx_err(HLX_ENOMEM, "out of memory");
	if (rc)
		goto out;
	if (hlx_hist_check_chain(c.h) != HLX_OK)
		problem(&c, "list '%s': %s", list, hlx_err_detail());
	/* only what the branch reaches: nothing planted, nothing left over */
	{
		struct unreach_ctx u = { &c, list };
		uint64_t un = 0, left = 0;
		char msg[300];

		if (hlx_hist_unreachable(c.h, 10, unreach_report, &u, signed_by,
					 &c, &un, &left) != HLX_OK)
			problem(&c, "list '%s': %s", list, hlx_err_detail());
		else if (un > 10)
			problem(&c, "list '%s': %" PRIu64 " objects in all not "
				"reachable from its branch", list, un);
		if (left) {
			snprintf(msg, sizeof(msg), "list '%s': %" PRIu64 " objects of "
				 "a signed version an interrupted change left "
				 "(harmless)", list, left);
			c.report(c.rctx, msg);
		}
	}
	/* a pruned history: its checkpoint must vouch for its root */
	if (!rc)
		rc = hlx_list_repo_path(n, list, path);
	if (!rc && hlx_prune_fsck(c.h, path, c.trust, c.rec.owner,
				  slash ? slash + 1 : list) != HLX_OK)
		problem(&c, "list '%s': checkpoint: %s", list, hlx_err_detail());
	if (rc)
		goto out;
	rc = hlx_hist_head(c.h, head);
	if (rc == HLX_ENOENT) {
		rc = HLX_OK;
		if (c.rec.version != 0)
			problem(&c, "list '%s': state at version %" PRIu64
				" but the history is empty", list, c.rec.version);
		goto done;
	}
	if (rc)
		goto out;
	rc = hlx_hist_log(c.h, fsck_version, &c);
	if (rc)
		goto out;
	rc = hlx_store_begin(hlx_node_store(n), &c.t);
	if (!rc)
		rc = hlx_hist_foreach(c.h, head, fsck_line, &c);
	hlx_store_abort(c.t);
	c.t = NULL;
	if (rc)
		goto out;
	rc = hlx_store_count_list(hlx_node_store(n), c.rec.id, &held);
	if (rc)
		goto out;
	if (held != c.entries - c.purged || c.rec.count != c.entries - c.purged)
		problem(&c, "list '%s': the state holds %" PRIu64 " entries (record: %"
			PRIu64 "), the history %" PRIu64 " of which %" PRIu64
			" purged for retention", list, held, c.rec.count, c.entries,
			c.purged);
done:
	*versions = c.versions;
	*entries = c.entries;
	if (c.problems)
		rc = hlx_err(HLX_ESTATE, "list '%s': %" PRIu64 " problem(s)", list,
			     c.problems);
out:
	hlx_trust_free(pt);
	hlx_hist_free(c.h);
	hlx_buf_free(&c.meta);
	free(c.hash);
	return rc;
}
