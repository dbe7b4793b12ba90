/* SPDX-License-Identifier: MIT */
/*
 * Pruning list histories (spec/prune.md): which objects a history does
 * not reach, and the rewrite of a history into one that starts at a
 * checkpoint root.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <git2.h>
#include <git2/sys/mempack.h>
#include <git2/sys/odb_backend.h>

#include "node/history_int.h"
#include "node/files.h"
#include "protocol/err.h"
#include "protocol/hash.h"
#include "protocol/record.h"

/* ---- reachability ------------------------------------------------------- */

/* A set of object ids: open addressing, at most half full. */
struct oidset {
	git_oid *v;
	unsigned char *used;
	size_t cap, n;
};

static size_t oidset_slot(const struct oidset *s, const git_oid *id)
{
	size_t i;

	memcpy(&i, id->id, sizeof(i)); /* object ids are uniformly random */
	for (i &= s->cap - 1; s->used[i] && !git_oid_equal(&s->v[i], id);
	     i = (i + 1) & (s->cap - 1))
		;
	return i;
}

static int oidset_has(const struct oidset *s, const git_oid *id)
{
	return s->cap && s->used[oidset_slot(s, id)];
}

/* 1 if added, 0 if there already, <0 on error. */
static int oidset_add(struct oidset *s, const git_oid *id)
{
	size_t i;

	if (2 * (s->n + 1) > s->cap) {
		struct oidset b = { NULL, NULL, s->cap ? 2 * s->cap : 1024, 0 };

		b.v = malloc(b.cap * sizeof(*b.v));
		b.used = calloc(b.cap, 1);
		if (!b.v || !b.used) {
			free(b.v);
			free(b.used);
			return hlx_err(HLX_ENOMEM, "history: out of memory");
		}
		for (size_t j = 0; j < s->cap; j++)
			if (s->used[j]) {
				size_t k = oidset_slot(&b, &s->v[j]);

				b.v[k] = s->v[j];
				b.used[k] = 1;
				b.n++;
			}
		free(s->v);
		free(s->used);
		*s = b;
	}
	i = oidset_slot(s, id);
	if (s->used[i])
		return 0;
	s->v[i] = *id;
	s->used[i] = 1;
	s->n++;
	return 1;
}

/* A tree and what it reaches; level bounds the depth (hlx's trees have
 * three levels, check_chain says whether they have the right shape). */
static int reach_tree(struct hlx_hist *h, struct oidset *s, const git_oid *id,
		      int level)
{
	git_tree *t = NULL;
	int rc = oidset_add(s, id);

	if (rc <= 0)
		return rc;
	if (level > LEVEL_SHARDS)
		return HLX_OK; /* deeper: check_chain reports it */
	if (git_tree_lookup(&t, h->repo, id) < 0)
		return HLX_OK; /* not a tree or missing: check_chain's business */
	rc = HLX_OK;
	for (size_t i = 0; i < git_tree_entrycount(t) && rc >= 0; i++) {
		const git_tree_entry *e = git_tree_entry_byindex(t, i);

		if (git_tree_entry_type(e) == GIT_OBJECT_TREE)
			rc = reach_tree(h, s, git_tree_entry_id(e), level + 1);
		else
			rc = oidset_add(s, git_tree_entry_id(e));
	}
	git_tree_free(t);
	return rc < 0 ? rc : HLX_OK;
}

struct unreach {
	struct hlx_hist *h;
	struct oidset *s;
	size_t max;
	void (*cb)(void *ctx, const char *oid, const char *type);
	void *ctx;
	uint64_t n;
	git_oid *commits; /* pass 1: the unreached commits */
	size_t nc, cc;
	int pass, rc;
};

static int unreach_cb(const git_oid *id, void *payload)
{
	struct unreach *u = payload;
	git_object_t type = GIT_OBJECT_INVALID;
	size_t len;
	char hex[41];

	if (oidset_has(u->s, id))
		return 0;
	git_odb_read_header(&len, &type, u->h->odb, id);
	if (u->pass == 1) {
		if (type != GIT_OBJECT_COMMIT)
			return 0;
		if (u->nc == u->cc) {
			size_t cap = u->cc ? 2 * u->cc : 16;
			git_oid *v = realloc(u->commits, cap * sizeof(*v));

			if (!v) {
				u->rc = hlx_err(HLX_ENOMEM, "history: out of memory");
				return 1;
			}
			u->commits = v;
			u->cc = cap;
		}
		u->commits[u->nc++] = *id;
		return 0;
	}
	if (u->n++ < u->max) {
		hlx_hist_fmt_oid(id, hex);
		u->cb(u->ctx, hex, git_object_type2string(type));
	}
	return 0;
}

/* A first version (number 1, no parent, no checkpoint): one a change
 * interrupted before it moved the branch leaves without a parent to
 * follow. */
static int first_version(git_commit *c)
{
	struct cmeta m;

	if (git_commit_parentcount(c) != 0 || hlx_hist_parse_commit(c, &m))
		return 0;
	return m.v.version == 1 && !m.has_parent && !m.checkpoint[0];
}

/* Objects of a version an interrupted change left: a commit not on the
 * branch whose parent is (or is such a commit), or a first version, that
 * keep accepts, and what it reaches.  Added to the set; returns how many,
 * or <0. */
static int64_t reach_left(struct unreach *u,
			  int (*keep)(void *ctx, const char *oid), void *kctx)
{
	size_t before = u->s->n;
	int more = 1, rc = HLX_OK;

	while (more && !rc) {
		more = 0;
		for (size_t i = 0; i < u->nc && !rc; i++) {
			git_commit *c = NULL;
			char hex[41];

			if (oidset_has(u->s, &u->commits[i]) ||
			    git_commit_lookup(&c, u->h->repo, &u->commits[i]) < 0)
				continue;
			hlx_hist_fmt_oid(&u->commits[i], hex);
			if (((git_commit_parentcount(c) == 1 &&
			      oidset_has(u->s, git_commit_parent_id(c, 0))) ||
			     first_version(c)) &&
			    keep(kctx, hex) == HLX_OK) {
				rc = oidset_add(u->s, &u->commits[i]);
				if (rc >= 0)
					rc = reach_tree(u->h, u->s,
							git_commit_tree_id(c), 0);
				rc = rc < 0 ? rc : HLX_OK;
				more = 1;
			}
			git_commit_free(c);
		}
	}
	hlx_err_clear();
	return rc ? rc : (int64_t)(u->s->n - before);
}

int hlx_hist_unreachable(struct hlx_hist *h, size_t max,
			 void (*cb)(void *ctx, const char *oid,
				    const char *type),
			 void *ctx, int (*keep)(void *ctx, const char *oid),
			 void *kctx, uint64_t *n, uint64_t *left)
{
	struct oidset s = { NULL, NULL, 0, 0 };
	struct unreach u = { h, &s, max, cb, ctx, 0, NULL, 0, 0, 1, HLX_OK };
	git_revwalk *w = NULL;
	git_commit *c = NULL;
	git_odb *odb = NULL;
	git_oid o;
	char path[4096];
	int rc = hlx_hist_head_oid(h, &o), grc = 0;

	*n = *left = 0;
	if (rc == HLX_ENOENT) {
		hlx_err_clear();
		rc = HLX_OK;
	} else if (!rc) {
		if (git_revwalk_new(&w, h->repo) < 0 || git_revwalk_push(w, &o) < 0)
			rc = hlx_hist_gerr("walking the history");
		while (!rc && (grc = git_revwalk_next(&o, w)) == 0) {
			rc = oidset_add(&s, &o);
			if (rc >= 0 && git_commit_lookup(&c, h->repo, &o) < 0)
				rc = hlx_hist_gerr("reading commit %.12s", git_oid_tostr_s(&o));
			if (rc >= 0)
				rc = reach_tree(h, &s, git_commit_tree_id(c), 0);
			git_commit_free(c);
			c = NULL;
			rc = rc < 0 ? rc : HLX_OK;
		}
		if (!rc && grc != GIT_ITEROVER)
			rc = hlx_hist_gerr("walking the history");
	}
	/* the store on disk (h->odb has a mempack in front, which cannot
	 * list its objects, and holds none here) */
	if (!rc && (size_t)snprintf(path, sizeof(path), "%sobjects",
				    git_repository_path(h->repo)) >= sizeof(path))
		rc = hlx_err(HLX_ETOOBIG, "history: path too long");
	if (!rc && git_odb_open(&odb, path) < 0)
		rc = hlx_hist_gerr("opening the objects of the history");
	if (!rc && (git_odb_foreach(odb, unreach_cb, &u) < 0 || u.rc))
		rc = u.rc ? u.rc : hlx_hist_gerr("listing the objects of the history");
	if (!rc && u.nc) {
		int64_t k = reach_left(&u, keep, kctx);

		if (k < 0)
			rc = (int)k;
		else
			*left = (uint64_t)k;
	}
	u.pass = 2;
	if (!rc && git_odb_foreach(odb, unreach_cb, &u) < 0)
		rc = hlx_hist_gerr("listing the objects of the history");
	*n = u.n;
	git_odb_free(odb);
	git_revwalk_free(w);
	free(u.commits);
	free(s.v);
	free(s.used);
	return rc;
}

/* ---- checkpoint roots and pruning (spec/prune.md) ----------------------- */

int hlx_hist_commit_info(struct hlx_hist *h, const char *oid, char tree[41],
			 char replaces[41])
{
	git_commit *c = NULL;
	struct cmeta m;
	git_oid o;
	int rc;

	tree[0] = replaces[0] = '\0';
	rc = hlx_hist_parse_oid(oid, &o, "version");
	if (!rc)
		rc = hlx_hist_lookup_commit(h, &o, &c);
	if (!rc)
		rc = hlx_hist_parse_commit(c, &m);
	if (!rc) {
		hlx_hist_fmt_oid(git_commit_tree_id(c), tree);
		memcpy(replaces, m.checkpoint, 41);
	}
	git_commit_free(c);
	return rc;
}

struct rewrite_ctx {
	uint64_t before;
	struct hlx_buf v;  /* struct kept, newest first */
	char org[HLX_HIST_NAME_MAX + 1];
	char list[HLX_HIST_NAME_MAX + 1];
	int reached;       /* saw a version below before */
};

struct kept {
	struct hlx_hist_version v;
};

static int rewrite_cb(void *ctx, const struct cmeta *m)
{
	struct rewrite_ctx *r = ctx;
	struct kept k;

	if (m->v.version < r->before) {
		r->reached = 1;
		return PASSED;
	}
	if (!r->org[0]) {
		memcpy(r->org, m->org, sizeof(r->org));
		memcpy(r->list, m->list, sizeof(r->list));
	} else if (strcmp(r->org, m->org) || strcmp(r->list, m->list)) {
		return hlx_err(HLX_EINVAL,
			       "version %llu (commit %.12s) is list '%s' of '%s', the head list '%s' of '%s'",
			       (unsigned long long)m->v.version, m->v.oid,
			       m->list, m->org, r->list, r->org);
	}
	if (r->v.len / sizeof(k) >= HLX_HIST_REWRITE_MAX)
		return hlx_err(HLX_ETOOBIG,
			       "more than %d versions would remain: prune closer to the head",
			       HLX_HIST_REWRITE_MAX);
	k.v = m->v;
	return hlx_buf_put(&r->v, &k, sizeof(k));
}

/* Copy an object, and for a tree everything below it, from h into d's
 * mempack; ids collects what was copied (for the pack). */
static int copy_object(struct hlx_hist *h, struct hlx_hist *d,
		       const git_oid *id, struct hlx_buf *ids, int depth)
{
	git_odb_object *obj = NULL;
	git_tree *t = NULL;
	git_oid got;
	int rc = HLX_OK;

	if (git_odb_exists(d->odb, id))
		return HLX_OK; /* copied with an earlier version */
	if (git_odb_read(&obj, h->odb, id) < 0)
		return hlx_hist_gerr("reading object %s", git_oid_tostr_s(id));
	if (git_odb_object_type(obj) == GIT_OBJECT_TREE) {
		if (depth > LEVEL_SHARDS) {
			rc = hlx_err(HLX_EINVAL, "tree %s: nested too deep",
				     git_oid_tostr_s(id));
			goto out;
		}
		if (git_tree_lookup(&t, h->repo, id) < 0) {
			rc = hlx_hist_gerr("reading tree %s", git_oid_tostr_s(id));
			goto out;
		}
		for (size_t i = 0; i < git_tree_entrycount(t) && !rc; i++)
			rc = copy_object(h, d,
					 git_tree_entry_id(git_tree_entry_byindex(t, i)),
					 ids, depth + 1);
		if (rc)
			goto out;
	} else if (git_odb_object_type(obj) != GIT_OBJECT_BLOB) {
		rc = hlx_err(HLX_EINVAL, "object %s: not a tree or blob",
			     git_oid_tostr_s(id));
		goto out;
	}
	if (git_odb_write(&got, d->odb, git_odb_object_data(obj),
			  git_odb_object_size(obj), git_odb_object_type(obj)) < 0) {
		rc = hlx_hist_gerr("copying object %s", git_oid_tostr_s(id));
		goto out;
	}
	rc = hlx_buf_put(ids, &got, sizeof(got));
out:
	git_tree_free(t);
	git_odb_object_free(obj);
	return rc;
}

/* The rewrite under way: the history read, the one written, and what
 * each new commit needs. */
struct rewriting {
	struct hlx_hist *h, *d;
	const char *list;
	git_signature *who;
	hlx_hist_sign_fn sign;
	void *ctx;
	git_oid prev;           /* the commit written last */
	struct hlx_buf ids;     /* objects written, for the pack */
	struct hlx_buf msg, sig;
};

/* The versions kept (versions from before up, in r->v, newest first),
 * read from h: there must be some, and older ones to drop. */
static int rewrite_plan(struct hlx_hist *h, struct rewrite_ctx *r, size_t *n)
{
	int rc = hlx_hist_walk(h, rewrite_cb, r);

	if (rc == PASSED)
		rc = HLX_OK;
	if (rc)
		return rc;
	*n = r->v.len / sizeof(struct kept);
	if (*n == 0)
		return hlx_err(HLX_EINVAL, "prune before version %llu: the list has no such version",
			       (unsigned long long)r->before);
	if (!r->reached)
		return hlx_err(HLX_EINVAL,
			       "prune before version %llu: the history already starts there",
			       (unsigned long long)r->before);
	return HLX_OK;
}

/* Write kept version k again in w->d: its tree copied, a new commit on
 * w->prev (the checkpoint root, with no parent and the trailer naming the
 * commit it replaces, when first), signed.  What was written goes to o. */
static int rewrite_version(struct rewriting *w, const struct kept *k,
			   int first, struct hlx_hist_rewritten *o)
{
	git_commit *oc = NULL, *parent = NULL;
	git_tree *tree = NULL;
	git_buf body = GIT_BUF_INIT;
	git_oid oid, coid;
	int rc;

	o->version = k->v.version;
	o->time = k->v.time;
	memcpy(o->old, k->v.oid, sizeof(o->old));
	rc = hlx_hist_parse_oid(k->v.oid, &oid, "version");
	if (!rc)
		rc = hlx_hist_lookup_commit(w->h, &oid, &oc);
	if (!rc) {
		hlx_hist_fmt_oid(git_commit_tree_id(oc), o->tree);
		rc = copy_object(w->h, w->d, git_commit_tree_id(oc), &w->ids, 0);
	}
	hlx_buf_reset(&w->msg);
	hlx_buf_reset(&w->sig);
	if (!rc)
		rc = hlx_hist_build_message(&w->msg, w->list, k->v.version,
					    k->v.summary, strlen(k->v.summary));
	if (!rc && first)
		rc = hlx_buf_printf(&w->msg, CHECKPOINT_TRAILER "%s\n", k->v.oid);
	if (!rc && (git_tree_lookup(&tree, w->d->repo, git_commit_tree_id(oc)) < 0 ||
		    (!first && git_commit_lookup(&parent, w->d->repo, &w->prev) < 0) ||
		    git_commit_create_buffer(&body, w->d->repo, w->who, w->who,
					     NULL, (const char *)w->msg.data, tree,
					     first ? 0 : 1,
					     (const git_commit **)&parent) < 0))
		rc = hlx_hist_gerr("formatting version %llu",
				   (unsigned long long)k->v.version);
	if (!rc)
		rc = w->sign(w->ctx, (const uint8_t *)body.ptr, body.size, &w->sig);
	while (!rc && w->sig.len && w->sig.data[w->sig.len - 1] == '\n')
		w->sig.data[--w->sig.len] = '\0';
	if (!rc && (w->sig.len == 0 || memchr(w->sig.data, '\0', w->sig.len)))
		rc = hlx_err(HLX_EINVAL, "commit signature: empty or not text");
	if (!rc && git_commit_create_with_signature(&coid, w->d->repo, body.ptr,
						    (const char *)w->sig.data,
						    "gpgsig") < 0)
		rc = hlx_hist_gerr("writing version %llu",
				   (unsigned long long)k->v.version);
	if (!rc) {
		hlx_hist_fmt_oid(&coid, o->new_);
		git_oid_cpy(&w->prev, &coid);
		rc = hlx_buf_put(&w->ids, &coid, sizeof(coid));
	}
	git_buf_dispose(&body);
	git_tree_free(tree);
	git_commit_free(parent);
	git_commit_free(oc);
	return rc;
}

int hlx_hist_rewrite(struct hlx_hist *h, uint64_t before, const char *dest,
		     int64_t time, hlx_hist_sign_fn sign, void *ctx,
		     struct hlx_hist_rewritten **out, size_t *nout)
{
	struct rewrite_ctx r = { before, HLX_BUF_INIT, "", "", 0 };
	struct rewriting w = { .h = h, .sign = sign, .ctx = ctx,
			       .ids = HLX_BUF_INIT, .msg = HLX_BUF_INIT,
			       .sig = HLX_BUF_INIT };
	struct hlx_hist_rewritten *map = NULL;
	char email[HLX_HIST_NAME_MAX + sizeof(EMAIL_DOMAIN) + 2];
	size_t n = 0;
	int rc;

	*out = NULL;
	*nout = 0;
	if (!sign)
		return hlx_err(HLX_EINVAL, "prune: no signing function");
	if (before < 2)
		return hlx_err(HLX_EINVAL, "prune before version %llu: must be 2 or more",
			       (unsigned long long)before);
	if (time < 0 || time > HLX_HIST_TIME_MAX)
		return hlx_err(HLX_EINVAL, "version time %lld: out of range",
			       (long long)time);
	rc = rewrite_plan(h, &r, &n);
	if (rc)
		goto out;
	map = calloc(n, sizeof(*map));
	if (!map) {
		rc = hlx_err(HLX_ENOMEM, "prune: out of memory");
		goto out;
	}
	rc = hlx_hist_open(dest, 1, &w.d);
	if (rc)
		goto out;
	if (git_repository_head_unborn(w.d->repo) != 1) {
		rc = hlx_err(HLX_EEXIST, "prune: '%.200s' is not an empty repository",
			     dest);
		goto out;
	}
	w.list = r.list;
	snprintf(email, sizeof(email), "%s@%s", r.org, EMAIL_DOMAIN);
	if (git_signature_new(&w.who, r.org, email, time, 0) < 0) {
		rc = hlx_hist_gerr("preparing the commits");
		goto out;
	}
	/* oldest first: the kept versions are newest first */
	for (size_t i = 0; i < n && !rc; i++)
		rc = rewrite_version(&w, (const struct kept *)r.v.data + (n - 1 - i),
				     i == 0, &map[i]);
	if (!rc)
		rc = hlx_hist_flush_objects(w.d, (const git_oid *)w.ids.data,
					    w.ids.len / sizeof(git_oid));
	git_mempack_reset(w.d->mempack);
	if (!rc)
		rc = hlx_hist_set_head(w.d, NULL, map[n - 1].new_);
	if (!rc) {
		*out = map;
		*nout = n;
		map = NULL;
	}
out:
	if (w.d)
		git_mempack_reset(w.d->mempack);
	hlx_hist_free(w.d);
	git_signature_free(w.who);
	free(map);
	hlx_buf_free(&r.v);
	hlx_buf_free(&w.ids);
	hlx_buf_free(&w.msg);
	hlx_buf_free(&w.sig);
	return rc;
}
