/* SPDX-License-Identifier: MIT */
/*
 * Writing a version of a list history (node/history.h): the shards that
 * change, the trees along their paths, the commit, all written as one
 * pack; and moving the head.
 */
#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
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

/* ---- writing a version -------------------------------------------------- */

static int check_ops(const struct hlx_hist_op *ops, size_t n)
{
	struct hlx_hash hash;
	const char *pf = NULL;
	size_t pn = 0;

	for (size_t i = 0; i < n; i++) {
		const struct hlx_hist_op *op = &ops[i];
		size_t fn;
		int rc;

		if (!op->line || op->len == 0)
			return hlx_err(HLX_EINVAL, "change %zu: empty", i + 1);
		if (op->retract) {
			fn = op->len;
			if (fn >= HLX_HASH_TEXT_MAX)
				return hlx_err(HLX_ETOOBIG,
					       "retraction %zu: hash is too long", i + 1);
			rc = hlx_hash_parse_canonical(op->line, fn, &hash);
		} else {
			fn = hlx_line_hash_len(op->line, op->len);
			rc = hlx_hist_decode_line(op->line, op->len);
		}
		if (rc)
			return hlx_err_wrap(rc, "change %zu (%s)", i + 1,
					    op->retract ? "retract" : "put");
		if (pf && hlx_line_hash_cmp(pf, pn, op->line, fn) >= 0)
			return hlx_err(HLX_EINVAL,
				       "change %zu ('%.*s'): changes are not sorted by hash or a hash appears twice",
				       i + 1, (int)(fn < 80 ? fn : 80), op->line);
		pf = op->line;
		pn = fn;
	}
	return HLX_OK;
}

struct build {
	struct hlx_hist *h;
	const struct hlx_hist_op *ops;
	struct hlx_buf shard;
	struct hlx_buf ids; /* git_oid[]: the objects written */
};

static int add_obj(struct build *b, const git_oid *id)
{
	return hlx_buf_put(&b->ids, id, sizeof(*id));
}

/* The end of the group of ops[from..to) sharing ops[from]'s key. */
static size_t group_end(const struct hlx_hist_op *ops, size_t from,
			size_t to, int level)
{
	const char *k, *k2;
	size_t kn, kn2, i;

	hlx_hist_field_key(ops[from].line, ops[from].len, level, &k, &kn);
	for (i = from + 1; i < to; i++) {
		hlx_hist_field_key(ops[i].line, ops[i].len, level, &k2, &kn2);
		if (!hlx_hist_key_eq(k, kn, k2, kn2))
			break;
	}
	return i;
}

/* Apply ops[from..to) to the lines of one shard, into b->shard. */
static int merge_shard(struct build *b, const char *old, size_t on,
		       size_t from, size_t to)
{
	struct hlx_buf *o = &b->shard;
	size_t pos = 0;
	int rc;

	hlx_buf_reset(o);
	for (size_t i = from; i < to; i++) {
		const struct hlx_hist_op *op = &b->ops[i];
		size_t fn = op->retract ? op->len : hlx_line_hash_len(op->line, op->len);
		int found = 0;

		while (pos < on) {
			const char *l = old + pos;
			const char *nl = memchr(l, '\n', on - pos);
			size_t ll;
			int c;

			if (!nl)
				return hlx_err(HLX_EINVAL,
					       "shard of '%.*s': last line has no newline",
					       (int)(fn < 80 ? fn : 80), op->line);
			ll = (size_t)(nl - l) + 1;
			c = hlx_line_hash_cmp(l, hlx_line_hash_len(l, ll - 1), op->line, fn);
			if (c > 0)
				break;
			pos += ll;
			if (c == 0) {
				found = 1;
				break;
			}
			rc = hlx_buf_put(o, l, ll);
			if (rc)
				return rc;
		}
		if (op->retract && !found)
			return hlx_err(HLX_ENOENT,
				       "retract '%.*s': not in the list",
				       (int)(fn < 80 ? fn : 80), op->line);
		if (!op->retract) {
			rc = hlx_buf_put(o, op->line, op->len);
			if (rc)
				return rc;
		}
	}
	if (pos < on) {
		if (old[on - 1] != '\n')
			return hlx_err(HLX_EINVAL, "shard: last line has no newline");
		return hlx_buf_put(o, old + pos, on - pos);
	}
	return HLX_OK;
}

static int build_shard(struct build *b, const git_tree_entry *old,
		       size_t from, size_t to, git_oid *out, int *empty)
{
	git_blob *blob = NULL;
	const char *data = NULL;
	size_t n = 0;
	int rc;

	if (old) {
		const char *name = git_tree_entry_name(old);
		char q[HLX_QUOTE_SIZE];

		hlx_quote(q, name, strlen(name));
		if (git_tree_entry_type(old) != GIT_OBJECT_BLOB)
			return hlx_err(HLX_EINVAL, "shard '%s' is not a file", q);
		if (git_blob_lookup(&blob, b->h->repo,
				    git_tree_entry_id(old)) < 0)
			return hlx_hist_gerr("reading shard '%s'", q);
		data = git_blob_rawcontent(blob);
		n = (size_t)git_blob_rawsize(blob);
	}
	rc = merge_shard(b, data, n, from, to);
	git_blob_free(blob);
	if (rc)
		return rc;
	*empty = b->shard.len == 0;
	if (*empty)
		return HLX_OK;
	/*
	 * Straight into the mempack: git_odb_write() would first look for
	 * the object in every backend and rescan objects/pack for each new
	 * one.  A shard that happens to exist already is packed again,
	 * which is harmless.
	 */
	if (git_odb_hash(out, b->shard.data, b->shard.len,
			 GIT_OBJECT_BLOB) < 0 ||
	    b->h->mempack->write(b->h->mempack, out, b->shard.data,
				 b->shard.len, GIT_OBJECT_BLOB) < 0)
		return hlx_hist_gerr("writing a shard");
	return add_obj(b, out);
}

/*
 * Rebuild the tree at level (0 root, 1 type, 2 first byte) from old (may
 * be NULL) and ops[from..to), which all fall under it.  *empty is set
 * when the result has no entry (not written, except at the root).
 */
static int build_tree(struct build *b, const git_tree *old, int level,
		      size_t from, size_t to, git_oid *out, int *empty)
{
	git_treebuilder *tb = NULL;
	int rc = HLX_OK;

	if (git_treebuilder_new(&tb, b->h->repo, old) < 0)
		return hlx_hist_gerr("building a tree");
	for (size_t i = from; i < to;) {
		size_t j = group_end(b->ops, i, to, level);
		const git_tree_entry *e = NULL;
		const char *k;
		char name[HLX_HASH_TEXT_MAX];
		size_t kn;
		git_oid sub;
		int sub_empty = 0;

		hlx_hist_field_key(b->ops[i].line, b->ops[i].len, level, &k, &kn);
		memcpy(name, k, kn);
		name[kn] = '\0';
		if (old)
			e = git_tree_entry_byname(old, name);
		if (level == LEVEL_SHARDS) {
			rc = build_shard(b, e, i, j, &sub, &sub_empty);
		} else {
			git_tree *st = NULL;

			if (e && git_tree_entry_type(e) != GIT_OBJECT_TREE) {
				rc = hlx_err(HLX_EINVAL,
					     "history tree: '%s' is not a directory",
					     name);
				goto out;
			}
			if (e && git_tree_lookup(&st, b->h->repo,
						 git_tree_entry_id(e)) < 0) {
				rc = hlx_hist_gerr("reading tree '%s'", name);
				goto out;
			}
			rc = build_tree(b, st, level + 1, i, j, &sub,
					&sub_empty);
			git_tree_free(st);
		}
		if (rc)
			goto out;
		if (sub_empty) {
			if (e && git_treebuilder_remove(tb, name) < 0) {
				rc = hlx_hist_gerr("removing '%s'", name);
				goto out;
			}
		} else if (git_treebuilder_insert(NULL, tb, name, &sub,
						  level == LEVEL_SHARDS ?
							  GIT_FILEMODE_BLOB :
							  GIT_FILEMODE_TREE) < 0) {
			rc = hlx_hist_gerr("adding '%s' to a tree", name);
			goto out;
		}
		i = j;
	}
	*empty = git_treebuilder_entrycount(tb) == 0;
	if (!*empty || level == 0) {
		if (git_treebuilder_write(out, tb) < 0)
			rc = hlx_hist_gerr("writing a tree");
		else
			rc = add_obj(b, out);
	}
out:
	git_treebuilder_free(tb);
	return rc;
}

/*
 * Packing.  The new objects are written by libgit2's packbuilder, with
 * the delta search turned off: on the random content of hash lists it
 * finds nothing and costs four times the rest of an import (16 s of 20 s
 * for a million entries).  libgit2 1.5 takes the size above which it does
 * not look for deltas from pack.deltaCacheSize; git calls it
 * core.bigFileThreshold.  The setting lives in a file of its own that
 * hlx adds on top of the configuration of the handles it packs with; git
 * never reads it, so git gc and git repack still make deltas.
 */
#define PACK_CONFIG HLX_HIST_PACK_CONFIG
#define PACK_CONFIG_TEXT HLX_HIST_PACK_CONFIG_TEXT

/* The pack configuration on top of h's, written if missing. */
static int use_pack_config(struct hlx_hist *h)
{
	const char *gitdir = git_repository_path(h->repo);
	git_config *cfg = NULL;
	char path[4096];
	int rc = HLX_OK;

	if (h->pack_config)
		return HLX_OK;
	if ((size_t)snprintf(path, sizeof(path), "%s%s", gitdir,
			     PACK_CONFIG) >= sizeof(path))
		return hlx_err(HLX_ETOOBIG, "history '%.200s': path too long",
			       gitdir);
	if (access(path, R_OK) != 0 &&
	    (rc = hlx_file_write(path, PACK_CONFIG_TEXT, strlen(PACK_CONFIG_TEXT),
				 0644)))
		return hlx_err_wrap(rc, "history");
	if (git_repository_config(&cfg, h->repo) < 0 ||
	    git_config_add_file_ondisk(cfg, path, GIT_CONFIG_LEVEL_APP,
				       h->repo, 1) < 0)
		rc = hlx_hist_gerr("history '%.200s': pack configuration", gitdir);
	else
		h->pack_config = 1;
	git_config_free(cfg);
	return rc;
}

/*
 * The pack stream goes to the indexer in large chunks (the packbuilder
 * writes each object in three small pieces, and the indexer does a write
 * and some bookkeeping per piece), and on a thread of its own: deflating
 * in the packbuilder and inflating and hashing again in the indexer are
 * each about a third of a large version, and they only meet at the
 * chunks.  A few chunks are in flight; the writer waits for a free one.
 */
#define PACK_CHUNK (1024 * 1024)
#define PACK_CHUNKS 4

struct pack_feed {
	git_odb_writepack *wp;
	git_indexer_progress st;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint8_t *buf[PACK_CHUNKS];
	size_t len[PACK_CHUNKS];
	unsigned head, tail;     /* chunks written: tail .. head - 1 */
	size_t fill;             /* bytes in buf[head % PACK_CHUNKS] */
	int done, grc;           /* no more chunks; the indexer's error */
	char err[512];           /* its detail, from the indexer's thread */
};

/* The indexer's thread: every chunk, in order, until done. */
static void *feed_run(void *arg)
{
	struct pack_feed *f = arg;
	int grc = 0;

	pthread_mutex_lock(&f->mu);
	for (;;) {
		unsigned i;

		while (f->tail == f->head && !f->done)
			pthread_cond_wait(&f->cv, &f->mu);
		if (f->tail == f->head)
			break;
		i = f->tail % PACK_CHUNKS;
		pthread_mutex_unlock(&f->mu);
		grc = f->wp->append(f->wp, f->buf[i], f->len[i], &f->st);
		if (grc < 0) {
			const git_error *e = git_error_last();

			snprintf(f->err, sizeof(f->err), "%s",
				 e && e->message ? e->message : "indexing failed");
		}
		pthread_mutex_lock(&f->mu);
		f->tail++;
		if (grc < 0)
			f->grc = grc;
		pthread_cond_broadcast(&f->cv);
		if (grc < 0)
			break;
	}
	pthread_mutex_unlock(&f->mu);
	return NULL;
}

/* Hand the chunk being filled to the indexer; a non-zero the indexer's
 * error. */
static int feed_flush(struct pack_feed *f)
{
	int grc;

	pthread_mutex_lock(&f->mu);
	if (f->fill) {
		f->len[f->head % PACK_CHUNKS] = f->fill;
		f->head++;
		f->fill = 0;
		pthread_cond_broadcast(&f->cv);
	}
	while (!f->grc && f->head - f->tail == PACK_CHUNKS)
		pthread_cond_wait(&f->cv, &f->mu);
	grc = f->grc;
	pthread_mutex_unlock(&f->mu);
	return grc;
}

static int feed_cb(void *data, size_t n, void *ctx)
{
	struct pack_feed *f = ctx;
	const uint8_t *p = data;
	int grc;

	while (n) {
		uint8_t *b = f->buf[f->head % PACK_CHUNKS];
		size_t k = PACK_CHUNK - f->fill < n ? PACK_CHUNK - f->fill : n;

		memcpy(b + f->fill, p, k);
		f->fill += k;
		p += k;
		n -= k;
		if (f->fill == PACK_CHUNK && (grc = feed_flush(f)) < 0)
			return grc;
	}
	return 0;
}

/* The last chunk, and the indexer's thread joined: its error, if any. */
static int feed_finish(struct pack_feed *f, pthread_t t)
{
	int grc = feed_flush(f);

	pthread_mutex_lock(&f->mu);
	f->done = 1;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
	pthread_join(t, NULL);
	if (f->grc < 0) {
		git_error_set_str(GIT_ERROR_INDEXER, f->err);
		return f->grc;
	}
	return grc;
}

/*
 * Write ids[0..n) (in the mempack) as one pack in objects/pack.  The
 * indexer checks every object and fsyncs pack, index and directory before
 * renaming them into place (GIT_OPT_ENABLE_FSYNC_GITDIR).
 */
int hlx_hist_flush_objects(struct hlx_hist *h, const git_oid *ids, size_t n)
{
	struct pack_feed f;
	git_packbuilder *pb = NULL;
	pthread_t t;
	int rc = use_pack_config(h), grc;

	if (rc)
		return rc;
	memset(&f, 0, sizeof(f));
	pthread_mutex_init(&f.mu, NULL);
	pthread_cond_init(&f.cv, NULL);
	for (int i = 0; i < PACK_CHUNKS; i++)
		if (!(f.buf[i] = malloc(PACK_CHUNK)))
			rc = hlx_err(HLX_ENOMEM, "history: out of memory");
	if (rc)
		goto out;
	if (git_packbuilder_new(&pb, h->repo) < 0)
		goto fail;
	git_packbuilder_set_threads(pb, 1);
	for (size_t i = 0; i < n; i++)
		if (git_packbuilder_insert(pb, &ids[i], NULL) < 0)
			goto fail;
	if (git_odb_write_pack(&f.wp, h->odb, NULL, NULL) < 0)
		goto fail;
	if (pthread_create(&t, NULL, feed_run, &f) != 0) {
		rc = hlx_err(HLX_ENOMEM, "history: cannot start the indexer's thread");
		goto out;
	}
	grc = git_packbuilder_foreach(pb, feed_cb, &f);
	/* the indexer's thread is joined whatever the packbuilder did */
	if (feed_finish(&f, t) < 0 || grc < 0 || f.wp->commit(f.wp, &f.st) < 0)
		goto fail;
	goto out;
fail:
	rc = hlx_hist_gerr("writing the pack of the new version");
out:
	if (f.wp)
		f.wp->free(f.wp);
	git_packbuilder_free(pb);
	for (int i = 0; i < PACK_CHUNKS; i++)
		free(f.buf[i]);
	pthread_cond_destroy(&f.cv);
	pthread_mutex_destroy(&f.mu);
	return rc;
}

/* The metadata of a new version and its ops, checked before anything is
 * read. */
static int commit_args(const struct hlx_hist_op *ops, size_t n,
		       const struct hlx_hist_meta *m, hlx_hist_sign_fn sign)
{
	int rc;

	if (!sign)
		return hlx_err(HLX_EINVAL, "commit: no signing function");
	rc = hlx_hist_name_check(m->org, "owner");
	if (!rc)
		rc = hlx_hist_name_check(m->list, "list name");
	if (!rc)
		rc = hlx_hist_summary_check(m->summary ? m->summary : "",
					    m->summary ? strlen(m->summary) : 0);
	if (rc)
		return rc;
	if (m->time < 0 || m->time > HLX_HIST_TIME_MAX)
		return hlx_err(HLX_EINVAL, "version time %lld: out of range",
			       (long long)m->time);
	return check_ops(ops, n);
}

/* The version the new one follows (*parent and its tree, NULL for the
 * first version): of the same list and owner, numbered one below. */
static int commit_parent(struct hlx_hist *h, const struct hlx_hist_meta *m,
			 git_commit **parent, git_tree **ptree)
{
	struct cmeta pm;
	git_oid head;
	int rc = hlx_hist_head_oid(h, &head);

	if (rc == HLX_ENOENT) {
		hlx_err_clear();
		if (m->version != 1)
			return hlx_err(HLX_EINVAL,
				       "list '%s': the first version must be 1, not %llu",
				       m->list, (unsigned long long)m->version);
		return HLX_OK;
	}
	if (rc)
		return rc;
	rc = hlx_hist_lookup_commit(h, &head, parent);
	if (!rc)
		rc = hlx_hist_parse_commit(*parent, &pm);
	if (rc)
		return rc;
	if (strcmp(pm.list, m->list) || strcmp(pm.org, m->org))
		return hlx_err(HLX_EINVAL,
			       "list '%s' of '%s': the history is list '%s' of '%s'",
			       m->list, m->org, pm.list, pm.org);
	if (pm.v.version == UINT64_MAX || m->version != pm.v.version + 1)
		return hlx_err(HLX_EINVAL,
			       "list '%s': version %llu does not follow version %llu",
			       m->list, (unsigned long long)m->version,
			       (unsigned long long)pm.v.version);
	if (git_commit_tree(ptree, *parent) < 0)
		return hlx_hist_gerr("reading the tree of version %llu",
				     (unsigned long long)pm.v.version);
	return HLX_OK;
}

/* The commit of tree root on parent, formatted, signed and written
 * (*coid; in the mempack). */
static int commit_write(struct hlx_hist *h, const struct hlx_hist_meta *m,
			const git_oid *root, git_commit *parent,
			hlx_hist_sign_fn sign, void *ctx, git_oid *coid)
{
	struct hlx_buf msg = HLX_BUF_INIT, sig = HLX_BUF_INIT;
	git_signature *who = NULL;
	git_tree *tree = NULL;
	git_buf body = GIT_BUF_INIT;
	char email[HLX_HIST_NAME_MAX + sizeof(EMAIL_DOMAIN) + 2];
	int rc;

	snprintf(email, sizeof(email), "%s@%s", m->org, EMAIL_DOMAIN);
	if (git_tree_lookup(&tree, h->repo, root) < 0 ||
	    git_signature_new(&who, m->org, email, m->time, 0) < 0) {
		rc = hlx_hist_gerr("preparing the commit");
		goto out;
	}
	rc = hlx_hist_build_message(&msg, m->list, m->version, m->summary,
				    strlen(m->summary));
	if (rc)
		goto out;
	if (git_commit_create_buffer(&body, h->repo, who, who, NULL,
				     (const char *)msg.data, tree,
				     parent ? 1 : 0,
				     (const git_commit **)&parent) < 0) {
		rc = hlx_hist_gerr("formatting the commit");
		goto out;
	}
	rc = sign(ctx, (const uint8_t *)body.ptr, body.size, &sig);
	if (rc)
		goto out;
	/* git writes the signature's lines without the final newline. */
	while (sig.len && sig.data[sig.len - 1] == '\n')
		sig.data[--sig.len] = '\0';
	if (sig.len == 0 || memchr(sig.data, '\0', sig.len)) {
		rc = hlx_err(HLX_EINVAL, "commit signature: empty or not text");
		goto out;
	}
	if (git_commit_create_with_signature(coid, h->repo, body.ptr,
					     (const char *)sig.data,
					     "gpgsig") < 0)
		rc = hlx_hist_gerr("writing the commit");
out:
	git_buf_dispose(&body);
	git_signature_free(who);
	git_tree_free(tree);
	hlx_buf_free(&sig);
	hlx_buf_free(&msg);
	return rc;
}

/* A new version: checked, its tree rebuilt along the changed shards, its
 * commit signed, all written as one pack. */
int hlx_hist_commit(struct hlx_hist *h, const struct hlx_hist_op *ops,
		    size_t n, const struct hlx_hist_meta *m,
		    hlx_hist_sign_fn sign, void *ctx, char oid[41])
{
	struct build b = { h, ops, HLX_BUF_INIT, HLX_BUF_INIT };
	git_commit *parent = NULL;
	git_tree *ptree = NULL;
	git_oid root, coid;
	int rc, empty;

	oid[0] = '\0';
	rc = commit_args(ops, n, m, sign);
	if (rc)
		return rc;
	rc = commit_parent(h, m, &parent, &ptree);
	if (!rc)
		rc = build_tree(&b, ptree, 0, 0, n, &root, &empty);
	if (!rc)
		rc = commit_write(h, m, &root, parent, sign, ctx, &coid);
	if (!rc)
		rc = add_obj(&b, &coid);
	if (!rc)
		rc = hlx_hist_flush_objects(h, (const git_oid *)b.ids.data,
					    b.ids.len / sizeof(git_oid));
	if (!rc)
		hlx_hist_fmt_oid(&coid, oid);
	git_mempack_reset(h->mempack);
	git_tree_free(ptree);
	git_commit_free(parent);
	hlx_buf_free(&b.shard);
	hlx_buf_free(&b.ids);
	return rc;
}

/* The pack of directory dir (objects/pack of a history) that holds commit
 * id: its path without ".pack" or ".idx" into base. */
static int pack_of(const char *dir, const git_oid *id, char base[PATH_MAX])
{
	git_odb_backend *be = NULL;
	struct dirent *de;
	int found = 0;
	DIR *d = opendir(dir);

	while (d && !found && (de = readdir(d))) {
		size_t n = strlen(de->d_name);

		if (n < 10 || strncmp(de->d_name, "pack-", 5) != 0 ||
		    strcmp(de->d_name + n - 4, ".idx") != 0 ||
		    snprintf(base, PATH_MAX, "%s/%s", dir, de->d_name) >= PATH_MAX ||
		    git_odb_backend_one_pack(&be, base) < 0)
			continue;
		found = be->exists(be, id);
		be->free(be);
		if (found)
			base[strlen(base) - 4] = '\0';
	}
	if (d)
		closedir(d);
	return found;
}

int hlx_hist_adopt(struct hlx_hist *h, const char *from, const char *oid)
{
	const char *ext[2] = { ".pack", ".idx" };
	char src[PATH_MAX], dir[PATH_MAX], base[PATH_MAX], a[PATH_MAX], b[PATH_MAX];
	const char *gitdir = git_repository_path(h->repo);
	git_commit *c = NULL;
	git_oid id;
	int rc = hlx_hist_parse_oid(oid, &id, "adopted commit");

	if (!rc)
		rc = hlx_pathf(src, "%s/objects/pack", from);
	if (!rc)
		rc = hlx_pathf(dir, "%sobjects/pack", gitdir);
	if (rc)
		return rc;
	if (!pack_of(src, &id, base))
		return hlx_err(HLX_ENOENT, "history '%.200s': no pack holds %s", from, oid);
	/* the pack before its index: an index names a pack that is there */
	for (int i = 0; i < 2; i++) {
		const char *name = strrchr(base, '/') + 1;

		rc = hlx_pathf(a, "%s%s", base, ext[i]);
		if (!rc)
			rc = hlx_pathf(b, "%s/%s%s", dir, name, ext[i]);
		if (!rc && link(a, b) != 0 && errno != EEXIST)
			rc = hlx_err(HLX_EIO, "cannot link '%s' to '%s': %s", a, b,
				     strerror(errno));
		if (rc)
			return rc;
	}
	rc = hlx_fsync_path(dir, 1);
	if (!rc && git_odb_refresh(h->odb) < 0)
		rc = hlx_hist_gerr("history: reading the adopted pack");
	if (!rc)
		rc = hlx_hist_lookup_commit(h, &id, &c);
	git_commit_free(c);
	return rc;
}

int hlx_hist_set_head(struct hlx_hist *h, const char *expected,
		      const char *oid)
{
	git_reference *ref = NULL;
	git_commit *c = NULL;
	git_oid o, e;
	int rc, grc;

	rc = hlx_hist_parse_oid(oid, &o, "new head");
	if (!rc && expected)
		rc = hlx_hist_parse_oid(expected, &e, "expected head");
	if (!rc)
		rc = hlx_hist_lookup_commit(h, &o, &c);
	git_commit_free(c);
	if (rc)
		return rc;
	if (expected)
		grc = git_reference_create_matching(&ref, h->repo,
						    HLX_HIST_BRANCH, &o, 1,
						    &e, "hlx: new version");
	else
		grc = git_reference_create(&ref, h->repo, HLX_HIST_BRANCH, &o,
					   0, "hlx: first version");
	git_reference_free(ref);
	if (grc == GIT_EEXISTS || grc == GIT_EMODIFIED ||
	    (grc == GIT_ENOTFOUND && expected))
		return hlx_err(HLX_ESTATE,
			       "history head is not at %s: another writer moved it",
			       expected ? expected : "the start");
	if (grc < 0)
		return hlx_hist_gerr("moving %s to %s", HLX_HIST_BRANCH, oid);
	return HLX_OK;
}
