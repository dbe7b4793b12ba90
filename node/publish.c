/* SPDX-License-Identifier: MIT */
/*
 * Publishing (spec/sync.md, spec/policy.md).
 *
 * Without policies a node publishes the open feed: every list it owns,
 * as it is, under PUBLISH/, except that a list whose next versions would
 * show a held entry is served from then on as a view without held
 * entries (views/open/).  With policies, it publishes the views of each
 * audience and nothing else (the open feed is taken down): the views are
 * signed histories of their own that the node derives from its lists
 * through the audience's policy, kept in views/ID/NAME.git in the home,
 * and a view gets a new version when what the policy lets through
 * changes.  An encrypted audience reads one feed, PUBLISH/a/ID/, sealed
 * (keys/seal.h) to the members' box keys; each member of a plain audience
 * reads its own copy, PUBLISH/a/DIR/, taken down when it leaves.  Every
 * version disclosed to a peer is written to the audit log before any
 * file that discloses it.
 */
#include "node/sync.h"
#include "node/audit.h"
#include "node/files.h"
#include "node/packs.h"
#include "node/policies.h"
#include "node/prune.h"
#include "node/retention.h"
#include "keys/keyfile.h"
#include "keys/seal.h"
#include "keys/sshkey.h"
#include "keys/sshsig.h"
#include "keys/trust.h"
#include "protocol/err.h"
#include "protocol/checkpoint.h"
#include "protocol/head.h"
#include "protocol/policy.h"
#include "protocol/record.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- feeds -------------------------------------------------------------- */

struct pub_ctx {
	struct hlx_node *n;
	const char *dir;
	int64_t now, validity;
	hlx_pass_fn getpass;
	void *pctx;
	struct hlx_seckey *key;
	struct hlx_publish_stats *st;
	const struct hlx_policies *pols;   /* NULL for the open feed */
	unsigned audience, audiences;      /* progress */
};

/* One feed directory: the open feed, or an audience's. */
struct feed {
	char dir[PATH_MAX];               /* where it is served from */
	const char *root;                 /* the publish directory: no link
					     below it is followed */
	char side[PATH_MAX];              /* views/ID in the home, or "" */
	const struct hlx_boxpub *to;      /* sealed to these, or NULL */
	size_t nto;
	int reseal;                       /* recipients changed: rewrite all */
	const struct hlx_audience *au;    /* NULL for the open feed */
	const char *id;                   /* its directory name a/ID/ */
	const struct hlx_peer *const *mem; /* who reads it */
	size_t nmem;
	const char *const *fresh;         /* members new to the audience */
	size_t nfresh;
};

static int signing_key(struct pub_ctx *c)
{
	if (c->key)
		return HLX_OK;
	return hlx_home_signing_key(hlx_node_home(c->n), c->getpass, c->pctx,
				    c->now, &c->key);
}

/* Write a file of the feed, sealed when the feed is, atomically; the
 * context binds a sealed file to its place in the feed. */
static int feed_write(const struct feed *f, const char *rel, const void *data,
		      size_t n)
{
	struct hlx_buf b = HLX_BUF_INIT;
	char path[PATH_MAX], ctx[PATH_MAX];
	int rc = hlx_pathf(path, "%s/%s", f->dir, rel);

	if (!rc && f->to) {
		rc = hlx_pathf(ctx, "hlx-feed:%s", rel);
		if (!rc)
			rc = hlx_seal_buf(data, n, f->to, f->nto, ctx, &b);
		data = b.data;
		n = b.len;
	}
	if (!rc)
		rc = hlx_file_write_in(f->root, path, data, n, 0644);
	hlx_buf_free(&b);
	return rc;
}

/* A pack file of the feed: written plain by packs.c, then sealed.  Both
 * are new files (node/files.h): nothing planted in the feed or the side
 * directory is followed, and the plain pack of a sealed feed never has a
 * name of its own. */
static int feed_pack(struct pub_ctx *c, const struct feed *f, const char *repo,
		     const char *name, const struct hlx_hist_version *v)
{
	char path[PATH_MAX], rel[PATH_MAX], tmp[PATH_MAX], ctx[PATH_MAX];
	struct hlx_file_new plain = { .fd = -1, .dirfd = -1 };
	struct hlx_file_new out = { .fd = -1, .dirfd = -1 };
	const char *from = v->parent[0] ? v->parent : NULL;
	int rc;

	rc = hlx_pathf(rel, "lists/%s/packs/%" PRIu64 ".pack", name, v->version);
	if (!rc)
		rc = hlx_pathf(path, "%s/%s", f->dir, rel);
	if (!rc && f->to)
		rc = hlx_pathf(tmp, "%s/plain.pack", f->side);
	if (!rc && f->to)
		rc = hlx_pathf(ctx, "hlx-feed:%s", rel);
	if (rc)
		return rc;
	if (!f->to) {
		rc = hlx_file_new_open(&out, f->root, path, 0644);
		if (!rc)
			rc = hlx_pack_write(repo, from, v->oid, out.fd);
		goto done;
	}
	rc = hlx_file_new_open(&plain, NULL, tmp, 0600);
	if (!rc)
		rc = hlx_pack_write(repo, from, v->oid, plain.fd);
	if (!rc && lseek(plain.fd, 0, SEEK_SET) != 0)
		rc = hlx_err(HLX_EIO, "cannot read back the pack for '%s': %s", path,
			     strerror(errno));
	if (!rc)
		rc = hlx_file_new_open(&out, f->root, path, 0644);
	if (!rc)
		rc = hlx_seal_fd(plain.fd, out.fd, f->to, f->nto, ctx);
	hlx_file_new_abort(&plain);
done:
	if (!rc)
		rc = hlx_file_new_commit(&out);
	else
		hlx_file_new_abort(&out);
	if (!rc)
		c->st->packs_written++;
	return rc;
}

/* Replace a head file so that its modification time moves on: static
 * servers derive validators (ETag, Last-Modified) from the time in seconds
 * and the size, and heads of one list have the same size, so a
 * conditional request must never miss a new head. */
static int feed_head(const struct feed *f, const char *rel,
		     const struct hlx_buf *b)
{
	struct timespec was = { 0, 0 };
	char p[PATH_MAX];
	struct stat st;
	int rc = hlx_pathf(p, "%s/%s", f->dir, rel);

	if (rc)
		return rc;
	if (lstat(p, &st) == 0)
		was = st.st_mtim;
	rc = feed_write(f, rel, b->data, b->len);
	if (!rc && was.tv_sec && lstat(p, &st) == 0 &&
	    st.st_mtim.tv_sec <= was.tv_sec) {
		struct timespec ts[2] = { { was.tv_sec + 1, 0 }, { was.tv_sec + 1, 0 } };

		if (utimensat(AT_FDCWD, p, ts, AT_SYMLINK_NOFOLLOW) != 0)
			rc = hlx_err(HLX_EIO, "cannot set the time of '%s'", p);
	}
	return rc;
}

static int sign_head(struct pub_ctx *c, const struct hlx_head *h,
		     struct hlx_buf *file)
{
	struct hlx_buf body = HLX_BUF_INIT, sig = HLX_BUF_INIT;
	int rc = signing_key(c);

	if (!rc)
		rc = hlx_head_body(h, &body);
	if (!rc)
		rc = hlx_sshsig_sign(c->key, HLX_HEAD_NAMESPACE, "sha512", body.data,
				     body.len, &sig);
	if (!rc)
		rc = hlx_head_file((char *)body.data, body.len, (char *)sig.data,
				   sig.len, file);
	hlx_buf_free(&body);
	hlx_buf_free(&sig);
	return rc;
}

static int rules_equal(const struct hlx_head *a, const struct hlx_head *b)
{
	if (a->has_rules != b->has_rules)
		return 0;
	return !a->has_rules ||
	       (a->rules.onward == b->rules.onward &&
		a->rules.retention_days == b->rules.retention_days &&
		!strcmp(a->rules.purpose, b->rules.purpose));
}

/* What one list of a feed is at: a history to publish from. */
struct feed_list {
	const char *name;         /* in the feed */
	const char *owner;
	uint64_t version;
	const char *commit;
	const char *repo;
	const struct hlx_rules *rules;   /* NULL: none (the open feed) */
	uint64_t count;                  /* entries, for the audit log */
};

/* Audit records for the members of f's audience: versions from+1..to
 * for those who had from, 1..to for new members. */
static int audit(struct pub_ctx *c, const struct feed *f,
		 const struct feed_list *l, uint64_t from)
{
	struct hlx_audit_rec *r;
	size_t k = 0;
	int rc;

	if (!f->au || !f->nmem)
		return HLX_OK;
	r = calloc(f->nmem, sizeof(*r));
	if (!r)
		return hlx_err(HLX_ENOMEM, "out of memory");
	rc = signing_key(c);
	for (size_t i = 0; !rc && i < f->nmem; i++) {
		const struct hlx_peer *pe = f->mem[i];
		const struct hlx_policy *pol;
		int fresh = 0;
		uint8_t ph[32];

		for (size_t j = 0; j < f->nfresh; j++)
			fresh |= !strcmp(f->fresh[j], pe->name);
		if (!fresh && from >= l->version)
			continue;
		/* the member's own policy (equal views, maybe another name) */
		pol = c->pols ? hlx_policies_find(c->pols, pe->policy) : NULL;
		if (!pol)
			pol = f->au->policy;
		r[k].time = c->now;
		snprintf(r[k].peer, sizeof(r[k].peer), "%s", pe->name);
		snprintf(r[k].list, sizeof(r[k].list), "%s", l->name);
		snprintf(r[k].audience, sizeof(r[k].audience), "%s", f->id);
		r[k].from = fresh ? 1 : from + 1;
		r[k].to = l->version;
		r[k].entries = l->count;
		hlx_policy_hash(pol, ph);
		sodium_bin2hex(r[k].policy, sizeof(r[k].policy), ph, 32);
		k++;
	}
	if (!rc && k)
		rc = hlx_audit_append(hlx_home_dir(hlx_node_home(c->n)), c->key, r, k);
	free(r);
	return rc;
}

/* A pruned history (spec/prune.md section 5): its checkpoint into ck, the
 * first version it holds, and whether the feed must be rewritten (its
 * checkpoint differs): then every pack of the list goes first. */
static int feed_checkpoint(const struct feed *f, const struct feed_list *l,
			   const char *packs, uint64_t *first, int *repack,
			   struct hlx_buf *ck)
{
	struct hlx_buf had = HLX_BUF_INIT, body = HLX_BUF_INIT, sig = HLX_BUF_INIT;
	struct hlx_checkpoint cp;
	char p[PATH_MAX];
	int rc;

	*first = 1;
	*repack = 0;
	hlx_checkpoint_init(&cp);
	rc = hlx_pathf(p, "%s/" HLX_PRUNE_CHECKPOINT_FILE, l->repo);
	if (!rc && hlx_file_read(p, HLX_CHECKPOINT_MAX, ck) != HLX_OK) {
		hlx_err_clear();
		hlx_buf_reset(ck);
		goto out; /* never pruned */
	}
	if (!rc)
		rc = hlx_checkpoint_parse((const char *)ck->data, ck->len, &cp, &body,
					  &sig);
	if (rc)
		goto out;
	*first = cp.before;
	rc = f->to ? hlx_pathf(p, "%s/%s.checkpoint", f->side, l->name) :
		     hlx_pathf(p, "%s/lists/%s/checkpoint", f->dir, l->name);
	if (!rc && (hlx_file_read_in(f->to ? NULL : f->root, p, HLX_CHECKPOINT_MAX,
				     &had) != HLX_OK ||
		    had.len != ck->len || memcmp(had.data, ck->data, ck->len) != 0)) {
		hlx_err_clear();
		*repack = 1;
		rc = hlx_rm_rf_in(f->root, packs);
	}
out:
	hlx_checkpoint_free(&cp);
	hlx_buf_free(&had);
	hlx_buf_free(&body);
	hlx_buf_free(&sig);
	return rc;
}

/* Bring one list of a feed up to date: its packs, then its head.  The
 * audit records come first of all: a pack sealed anew to a new member
 * discloses the versions it holds as much as the head naming them. */
static int feed_list(struct pub_ctx *c, const struct feed *f,
		     const struct feed_list *l)
{
	const struct hlx_trust *t = hlx_home_trust(hlx_node_home(c->n));
	struct hlx_buf old = HLX_BUF_INIT, b1 = HLX_BUF_INIT, b2 = HLX_BUF_INIT;
	struct hlx_hist *h = NULL;
	struct hlx_hist_version v;
	struct hlx_head head, prev;
	uint8_t th[32];
	struct hlx_buf ck = HLX_BUF_INIT;
	char d[PATH_MAX], p[PATH_MAX], rel[PATH_MAX], plain[PATH_MAX];
	struct stat st;
	uint64_t from = 0, first = 1;
	int rc, repack = 0, keep = 0;

	rc = hlx_pathf(d, "%s/lists/%s/packs", f->dir, l->name);
	if (!rc)
		rc = feed_checkpoint(f, l, d, &first, &repack, &ck);
	if (!rc)
		rc = hlx_file_mkdirs_in(f->root, d, 0755);
	if (!rc)
		rc = hlx_hist_open(l->repo, 0, &h);
	if (rc)
		goto out;
	memset(&head, 0, sizeof(head));
	snprintf(head.org, sizeof(head.org), "%.64s", l->owner);
	snprintf(head.list, sizeof(head.list), "%.64s", l->name);
	head.version = l->version;
	snprintf(head.commit, sizeof(head.commit), "%s", l->commit);
	head.trust_length = hlx_trust_length(t);
	hlx_trust_head(t, th);
	sodium_bin2hex(head.trust_head, sizeof(head.trust_head), th, 32);
	if (l->rules) {
		head.has_rules = 1;
		head.rules = *l->rules;
	}
	/* bound to its audience: a host cannot serve it as another's */
	if (f->au)
		memcpy(head.audience, f->id, sizeof(head.audience));
	rc = hlx_pathf(rel, "lists/%s/head", l->name);
	if (!rc)
		rc = f->to ? hlx_pathf(plain, "%s/%s.head", f->side, l->name) :
			     hlx_pathf(plain, "%s/%s", f->dir, rel);
	if (rc)
		goto out;
	/* the head published last (for a sealed feed, our plain copy) */
	if (hlx_file_read_in(f->to ? NULL : f->root, plain, HLX_HEAD_MAX,
			     &old) == HLX_OK &&
	    hlx_head_parse((char *)old.data, old.len, &prev, &b1, &b2) == HLX_OK) {
		from = prev.version;
		/* keep a head that is current and has more than half its life */
		keep = !f->reseal && !repack && f->nfresh == 0 &&
		       prev.version == head.version &&
		       !strcmp(prev.commit, head.commit) &&
		       prev.trust_length == head.trust_length &&
		       !strcmp(prev.trust_head, head.trust_head) &&
		       rules_equal(&prev, &head) &&
		       !strcmp(prev.audience, head.audience) &&
		       prev.expires - c->now > c->validity / 2 &&
		       prev.issued <= c->now;
		/* the feed served another history (the open feed before it
		 * was a view, say): it is rewritten whole */
		if (!repack && (prev.version > head.version ||
				(prev.version >= first &&
				 (hlx_hist_find_version(h, prev.version, &v) != HLX_OK ||
				  strcmp(v.oid, prev.commit) != 0)))) {
			keep = 0;
			from = 0;
			repack = 1;
			rc = hlx_rm_rf_in(f->root, d);
			if (!rc)
				rc = hlx_file_mkdirs_in(f->root, d, 0755);
			if (!rc && !ck.len &&
			    !(rc = hlx_pathf(p, "%s/lists/%s/checkpoint", f->dir, l->name)) &&
			    unlink(p) != 0 && errno != ENOENT)
				rc = hlx_err(HLX_EIO, "cannot remove '%s': %s", p,
					     strerror(errno));
		}
	}
	hlx_err_clear();
	/* every disclosure is on record before any file that makes it */
	if (!rc && !keep)
		rc = audit(c, f, l, from);
	/* one pack a version, from its parent: written before the head */
	for (uint64_t ver = first; !rc && ver <= l->version; ver++) {
		rc = hlx_pathf(p, "%s/%" PRIu64 ".pack", d, ver);
		if (rc || (!f->reseal && !repack && lstat(p, &st) == 0 &&
			   S_ISREG(st.st_mode)))
			continue;
		rc = hlx_hist_find_version(h, ver, &v);
		if (!rc)
			rc = feed_pack(c, f, l->repo, l->name, &v);
	}
	/* a new checkpoint after its packs, before the head */
	if (!rc && ck.len && (repack || f->reseal)) {
		rc = hlx_pathf(rel, "lists/%s/checkpoint", l->name);
		if (!rc)
			rc = feed_write(f, rel, ck.data, ck.len);
		if (!rc && f->to)
			rc = hlx_pathf(p, "%s/%s.checkpoint", f->side, l->name);
		if (!rc && f->to)
			rc = hlx_file_write(p, ck.data, ck.len, 0600);
		if (!rc)
			rc = hlx_pathf(rel, "lists/%s/head", l->name);
	}
	if (rc || keep)
		goto out;
	head.issued = c->now;
	head.expires = c->now + c->validity;
	hlx_buf_reset(&old);
	rc = sign_head(c, &head, &old);
	if (!rc)
		rc = feed_head(f, rel, &old);
	if (!rc && f->to)
		rc = hlx_file_write(plain, old.data, old.len, 0600);
	if (!rc)
		c->st->heads_signed++;
out:
	if (rc)
		rc = hlx_err_wrap(rc, "cannot publish list '%s'", l->name);
	hlx_hist_free(h);
	hlx_buf_free(&old);
	hlx_buf_free(&b1);
	hlx_buf_free(&b2);
	hlx_buf_free(&ck);
	return rc;
}

/* trust.json of a feed, first: heads name it. */
static int feed_trust(struct pub_ctx *c, const struct feed *f)
{
	struct hlx_buf b = HLX_BUF_INIT, cur = HLX_BUF_INIT;
	char p[PATH_MAX];
	int rc;

	rc = hlx_pathf(p, "%s/lists", f->dir);
	if (!rc)
		rc = hlx_file_mkdirs_in(f->root, p, 0755);
	if (!rc)
		rc = hlx_trust_serialize(hlx_home_trust(hlx_node_home(c->n)), &b);
	if (!rc)
		rc = f->to ? hlx_pathf(p, "%s/trust.json", f->side) :
			     hlx_pathf(p, "%s/trust.json", f->dir);
	if (!rc && (f->reseal ||
		    hlx_file_read_in(f->to ? NULL : f->root, p, HLX_TRUST_MAX,
				     &cur) != HLX_OK ||
		    cur.len != b.len || memcmp(cur.data, b.data, b.len) != 0)) {
		/* the feed first, our plain copy last: a crash in between
		 * makes the next publish write both again */
		rc = feed_write(f, "trust.json", b.data, b.len);
		if (!rc && f->to)
			rc = hlx_file_write(p, b.data, b.len, 0600);
	}
	hlx_buf_free(&b);
	hlx_buf_free(&cur);
	return rc;
}

/* ---- leftovers ---------------------------------------------------------- */

/* Whether a name is one of our temporary files: NAME.tmpPID (files.c,
 * packs.c, feed_pack) or plain.pack.PID (a sealed feed's plain pack). */
static int temp_name(const char *s)
{
	const char *t = strstr(s, ".tmp"), *x;
	size_t n;

	/* NAME.tmpHEX (node/files.h), NAME.tmpPID and plain.pack.PID of
	 * older versions */
	for (x = t; x; x = strstr(x + 1, ".tmp"))
		t = x;
	if (t)
		t += 4;
	else if (!strncmp(s, "plain.pack.", 11))
		t = s + 11;
	else
		return 0;
	n = strspn(t, "0123456789abcdef");
	return n > 0 && t[n] == '\0';
}

/* Remove what a publish killed half-way left behind in the directory open
 * as dfd (taken over) and below it, depth levels down: the writer lock is
 * ours, so no temporary file there is another's.  Nothing is reached
 * through a symbolic link: every directory is opened O_NOFOLLOW from its
 * parent's descriptor, every name removed with unlinkat. */
static int clean_temps_at(int dfd, const char *dir, int depth, const char *only)
{
	DIR *d = fdopendir(dfd);
	struct dirent *de;
	int rc = HLX_OK;

	if (!d) {
		close(dfd);
		return hlx_err(HLX_EIO, "cannot open '%s': %s", dir, strerror(errno));
	}
	while (!rc && (de = readdir(d))) {
		size_t n = strlen(de->d_name);
		struct stat st;
		int sub;

		if (de->d_name[0] == '.' ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			if (depth <= 0 || (n > 4 && !strcmp(de->d_name + n - 4, ".git")))
				continue;
			sub = openat(dirfd(d), de->d_name,
				     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0)
				rc = clean_temps_at(sub, dir, depth - 1, NULL);
		} else if (temp_name(de->d_name) &&
			   (!only || !strncmp(de->d_name, only, strlen(only))) &&
			   unlinkat(dirfd(d), de->d_name, 0) != 0 && errno != ENOENT) {
			rc = hlx_err(HLX_EIO, "cannot remove '%s' under '%s': %s",
				     de->d_name, dir, strerror(errno));
		}
	}
	closedir(d);
	return rc;
}

/* The same for the directory path under root (NULL: the home's own). */
static int clean_temps(const char *root, const char *path, int depth,
		       const char *only)
{
	int fd, rc = hlx_dir_open_in(root, path, &fd);

	if (rc == HLX_ENOENT) {
		hlx_err_clear();
		return HLX_OK;
	}
	return rc ? rc : clean_temps_at(fd, path, depth, only);
}

static int clean_leftovers(struct pub_ctx *c)
{
	char p[PATH_MAX];
	int rc = clean_temps(NULL, c->dir, 0, "trust.json.tmp");

	if (!rc && !(rc = hlx_pathf(p, "%s/lists", c->dir)))
		rc = clean_temps(c->dir, p, 3, NULL);
	if (!rc && !(rc = hlx_pathf(p, "%s/a", c->dir)))
		rc = clean_temps(c->dir, p, 5, NULL);
	if (!rc && !(rc = hlx_pathf(p, "%s/views", hlx_home_dir(hlx_node_home(c->n)))))
		rc = clean_temps(NULL, p, 2, NULL);
	return rc;
}

/* ---- views -------------------------------------------------------------- */

/* Canonical lines, each with its '\n'. */
struct lines {
	struct hlx_buf a;
	size_t *off, n, cap;
};

static void lines_free(struct lines *l)
{
	hlx_buf_free(&l->a);
	free(l->off);
	memset(l, 0, sizeof(*l));
}

static int lines_add(struct lines *l, const char *s, size_t len)
{
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 4096;
		size_t *x = realloc(l->off, nc * sizeof(*x));

		if (!x)
			return hlx_err(HLX_ENOMEM, "out of memory");
		l->off = x;
		l->cap = nc;
	}
	l->off[l->n++] = l->a.len;
	return hlx_buf_put(&l->a, s, len);
}

static const char *line_at(const struct lines *l, size_t i, size_t *len)
{
	size_t end = i + 1 < l->n ? l->off[i + 1] : l->a.len;

	*len = end - l->off[i];
	return (const char *)l->a.data + l->off[i];
}

static int add_cb(void *ctx, const char *line, size_t len)
{
	return lines_add(ctx, line, len);
}

/* Length of a line's hash field. */
static size_t field_len(const char *s, size_t n)
{
	const char *t = memchr(s, '\t', n);

	return t ? (size_t)(t - s) : n;
}

static int field_cmp(const char *a, size_t an, const char *b, size_t bn)
{
	size_t fa = field_len(a, an), fb = field_len(b, bn);
	int r = memcmp(a, b, fa < fb ? fa : fb);

	return r ? r : (fa > fb) - (fa < fb);
}

static const struct lines *sort_lines;

static int idx_cmp(const void *x, const void *y)
{
	size_t an, bn;
	const char *a = line_at(sort_lines, *(const size_t *)x, &an);
	const char *b = line_at(sort_lines, *(const size_t *)y, &bn);

	return field_cmp(a, an, b, bn);
}

/* Indexes of l's lines in hash field order. */
static int sorted(const struct lines *l, size_t **out)
{
	size_t *ix = malloc((l->n ? l->n : 1) * sizeof(*ix));

	if (!ix)
		return hlx_err(HLX_ENOMEM, "out of memory");
	for (size_t i = 0; i < l->n; i++)
		ix[i] = i;
	sort_lines = l;
	qsort(ix, l->n, sizeof(*ix), idx_cmp);
	*out = ix;
	return HLX_OK;
}

struct view_src {
	const char *name;            /* the node's list: NAME, PEER/NAME, status */
	struct hlx_list_rec rec;
	struct hlx_rules rules;      /* a peer's list: its handling rules */
	int status;
	char key[256];               /* what the views of it depend on */
	struct lines lines;          /* its entries, read once when needed */
	int loaded;
	char ckpt[65];               /* SHA-256 of its checkpoint, "" if none */
	char diff_from[41];          /* changes since that commit, cached: */
	struct lines diff;           /* lines with a leading '+' or '-' */
};

/* Digests of what retention purged here (store.h), sorted. */
struct pset {
	uint8_t (*v)[32];
	size_t n, cap;
};

static int pset_add(void *ctx, const uint8_t digest[32])
{
	struct pset *p = ctx;

	if (p->n == p->cap) {
		size_t nc = p->cap ? p->cap * 2 : 256;
		uint8_t (*x)[32] = realloc(p->v, nc * sizeof(*x));

		if (!x)
			return hlx_err(HLX_ENOMEM, "out of memory");
		p->v = x;
		p->cap = nc;
	}
	memcpy(p->v[p->n++], digest, 32);
	return HLX_OK;
}

static int digest_cmp(const void *a, const void *b)
{
	return memcmp(a, b, 32);
}

static int load_source(struct pub_ctx *c, struct view_src *s)
{
	struct lines all = { HLX_BUF_INIT, NULL, 0, 0 };
	struct pset ps = { NULL, 0, 0 };
	struct hlx_hist *h = NULL;
	int rc = HLX_OK;

	if (s->loaded)
		return HLX_OK;
	if (s->rec.version)
		rc = hlx_list_open_hist(c->n, s->name, &h);
	if (!rc && s->rec.version)
		rc = hlx_hist_foreach(h, s->rec.head, add_cb, &all);
	/* a peer's list: minus what retention purged here */
	if (!rc && strchr(s->name, '/'))
		rc = hlx_store_purged_foreach(hlx_node_store(c->n), s->rec.id,
					      pset_add, &ps);
	if (!rc && ps.n)
		qsort(ps.v, ps.n, 32, digest_cmp);
	for (size_t i = 0; !rc && i < all.n; i++) {
		size_t len;
		const char *l = line_at(&all, i, &len);

		if (ps.n) {
			struct hlx_hash hh;
			uint8_t d[32];

			rc = hlx_hash_parse_canonical(l, field_len(l, len), &hh);
			if (!rc)
				rc = hlx_store_purged_digest(hlx_node_store(c->n), &hh, d);
			if (rc)
				break;
			if (bsearch(d, ps.v, ps.n, 32, digest_cmp))
				continue;
		}
		rc = lines_add(&s->lines, l, len);
	}
	free(ps.v);
	lines_free(&all);
	hlx_hist_free(h);
	if (!rc)
		s->loaded = 1;
	return rc;
}

/* Status records follow the entries (spec/policy.md section 4, step 3):
 * an item the node lists is withheld unless an own list the policy gives
 * shares an entry for it. */
struct held_ctx {
	struct hlx_node *n;
	const struct hlx_policy *p;
	const struct hlx_hash *q;
	char *listed, *shared;
	/* whether a peer's list may be shared onward, by list id */
	uint32_t ids[64];
	char onward[64];
	size_t nids;
};

static int onward_of(struct held_ctx *h, const struct hlx_list_rec *rec,
		     int *onward)
{
	struct hlx_rules r;
	int rc;

	for (size_t i = 0; i < h->nids; i++)
		if (h->ids[i] == rec->id) {
			*onward = h->onward[i];
			return HLX_OK;
		}
	rc = hlx_retention_rules(h->n, rec->name, &r);
	if (rc)
		return rc;
	*onward = r.onward;
	if (h->nids < 64) {
		h->ids[h->nids] = rec->id;
		h->onward[h->nids++] = (char)r.onward;
	}
	return HLX_OK;
}

static int held_hit(void *ctx, size_t query, uint32_t list, const char *meta,
		    size_t metalen)
{
	struct held_ctx *h = ctx;
	struct hlx_list_rec rec;
	struct hlx_entry e, out;
	struct hlx_buf line = HLX_BUF_INIT;
	char hex[HLX_HASH_TEXT_MAX];
	int rc, onward = 1;

	if (h->shared[query])
		return 0;
	rc = hlx_store_list_by_id(hlx_node_store(h->n), list, &rec);
	if (rc)
		return rc;
	if (hlx_is_status_list(rec.name))
		return 0;
	/* listed by this node: the entry decides (a peer's list only when it
	 * may be shared onward and the policy gives it) */
	h->listed[query] = 1;
	if (!hlx_policy_list(h->p, rec.name))
		return 0;
	if (strchr(rec.name, '/') && ((rc = onward_of(h, &rec, &onward)) || !onward))
		return rc;
	rc = hlx_hash_format(&h->q[query], hex, sizeof(hex));
	if (!rc)
		rc = hlx_buf_printf(&line, "%s\t%.*s\n", hex, (int)metalen, meta);
	if (!rc && hlx_entry_decode((char *)line.data, line.len, &e) == HLX_OK)
		h->shared[query] = (char)hlx_policy_entry(h->p, &e, &out);
	hlx_buf_free(&line);
	return rc;
}

/* The view of source s under policy p (and handling rules) as lines. */
static int view_lines(struct pub_ctx *c, const struct hlx_policy *p,
		      const struct view_src *s, struct lines *out)
{
	struct hlx_entry *e = malloc(sizeof(*e)), *eo = malloc(sizeof(*eo));
	struct hlx_status st, so;
	struct hlx_buf b = HLX_BUF_INIT;
	struct hlx_hash *q = NULL;
	const struct hlx_hash **qp = NULL;
	char *listed = NULL, *shared = NULL;
	int rc = e && eo ? HLX_OK : hlx_err(HLX_ENOMEM, "out of memory");

	if (!rc && s->status && s->lines.n) {
		struct held_ctx hc = { .n = c->n, .p = p };

		q = calloc(s->lines.n, sizeof(*q));
		qp = calloc(s->lines.n, sizeof(*qp));
		listed = calloc(s->lines.n, 1);
		shared = calloc(s->lines.n, 1);
		if (!q || !qp || !listed || !shared)
			rc = hlx_err(HLX_ENOMEM, "out of memory");
		for (size_t i = 0; !rc && i < s->lines.n; i++) {
			size_t len;
			const char *l = line_at(&s->lines, i, &len);

			rc = hlx_status_decode(l, len, &st);
			q[i] = st.item;
			qp[i] = &q[i];
		}
		hc.q = q;
		hc.listed = listed;
		hc.shared = shared;
		if (!rc)
			rc = hlx_store_lookup(hlx_node_store(c->n), qp, s->lines.n,
					      held_hit, &hc);
	}
	for (size_t i = 0; !rc && i < s->lines.n; i++) {
		size_t len;
		const char *l = line_at(&s->lines, i, &len);

		hlx_buf_reset(&b);
		if (s->status) {
			rc = hlx_status_decode(l, len, &st);
			if (!rc && hlx_policy_status(p, &st, listed[i] && !shared[i], &so))
				rc = hlx_status_encode(&so, &b);
		} else {
			rc = hlx_entry_decode(l, len, e);
			if (!rc && hlx_policy_entry(p, e, eo))
				rc = hlx_entry_encode(eo, &b);
		}
		if (!rc && b.len)
			rc = lines_add(out, (const char *)b.data, b.len);
	}
	free(e);
	free(eo);
	free(q);
	free(qp);
	free(listed);
	free(shared);
	hlx_buf_free(&b);
	return rc;
}

/* The date of a new version of a view: no finer than the times the policy
 * gives (spec/policy.md section 6): cut to the day when the policy cuts
 * status times, or withholds when entries were first seen; never before
 * the signing key's window opens (a commit is checked at its date). */
static int view_time(struct pub_ctx *c, const struct hlx_policy *p, int status,
		     int64_t *when)
{
	const struct hlx_trust *t = hlx_home_trust(hlx_node_home(c->n));
	struct hlx_pubkey pub;
	int rc = signing_key(c);

	*when = c->now;
	if (rc || hlx_policy_exact_times(p, status))
		return rc;
	*when = c->now - ((c->now % 86400) + 86400) % 86400;
	hlx_seckey_public(c->key, &pub);
	for (size_t i = 0; i < hlx_trust_nkeys(t); i++) {
		const struct hlx_trust_key *k = hlx_trust_key(t, i);

		if (hlx_pubkey_eq(&k->key, &pub) && k->valid_after > *when &&
		    k->valid_after <= c->now)
			*when = k->valid_after;
	}
	return HLX_OK;
}

/* One version of a view from the difference between what it holds and
 * what it should hold. */
static int view_commit(struct pub_ctx *c, struct hlx_hist *h,
		       const char *vname, const struct lines *want,
		       const struct hlx_policy *p, int status,
		       uint64_t *version, char head[41])
{
	struct lines have = { HLX_BUF_INIT, NULL, 0, 0 };
	struct hlx_hist_op *ops = NULL;
	struct hlx_hist_version cur;
	size_t *a = NULL, *b = NULL, i = 0, j = 0, k = 0;
	uint64_t plus = 0, minus = 0;
	int64_t when = 0;
	int rc, exists = hlx_hist_head(h, head) == HLX_OK;
	char summary[HLX_HIST_SUMMARY_MAX + 1];

	hlx_err_clear();
	rc = exists ? hlx_hist_read_version(h, head, &cur) : HLX_OK;
	if (!rc && exists)
		rc = hlx_hist_foreach(h, head, add_cb, &have);
	if (!rc)
		rc = sorted(&have, &a);
	if (!rc)
		rc = sorted(want, &b);
	if (!rc) {
		ops = calloc(have.n + want->n + 1, sizeof(*ops));
		if (!ops)
			rc = hlx_err(HLX_ENOMEM, "out of memory");
	}
	while (!rc && (i < have.n || j < want->n)) {
		size_t hn = 0, wn = 0;
		const char *hl = i < have.n ? line_at(&have, a[i], &hn) : NULL;
		const char *wl = j < want->n ? line_at(want, b[j], &wn) : NULL;
		int cmp = !hl ? 1 : !wl ? -1 : field_cmp(hl, hn, wl, wn);

		if (cmp < 0) {
			ops[k++] = (struct hlx_hist_op){ hl, field_len(hl, hn), 1 };
			minus++;
			i++;
		} else if (cmp > 0) {
			ops[k++] = (struct hlx_hist_op){ wl, wn, 0 };
			plus++;
			j++;
		} else {
			if (hn != wn || memcmp(hl, wl, hn) != 0) {
				ops[k++] = (struct hlx_hist_op){ wl, wn, 0 };
				plus++;
			}
			i++;
			j++;
		}
	}
	if (rc)
		goto out;
	if (exists && k == 0) {
		*version = cur.version;
		goto out;
	}
	rc = view_time(c, p, status, &when);
	if (rc)
		goto out;
	snprintf(summary, sizeof(summary), "view: %zu entries (%" PRIu64 " added, %" PRIu64
		 " removed)", want->n, plus, minus);
	{
		struct hlx_hist_meta m = {
			hlx_home_org(hlx_node_home(c->n)), vname,
			exists ? cur.version + 1 : 1, when, summary
		};
		char oid[41];

		rc = hlx_hist_commit(h, ops, k, &m, hlx_list_sign_commit, c->key,
				     oid);
		if (!rc)
			rc = hlx_hist_set_head(h, exists ? head : NULL, oid);
		if (!rc) {
			memcpy(head, oid, 41);
			*version = m.version;
		}
	}
out:
	lines_free(&have);
	free(a);
	free(b);
	free(ops);
	return rc;
}

/* The name of a source's view: NAME, or PEER.NAME for a peer's list. */
static int view_name(const char *src, char out[HLX_NAME_MAX + 1])
{
	const char *sl = strchr(src, '/');
	int n = sl ? snprintf(out, HLX_NAME_MAX + 1, "%.*s.%s", (int)(sl - src), src,
			      sl + 1) :
		     snprintf(out, HLX_NAME_MAX + 1, "%s", src);

	if (n < 0 || n > HLX_NAME_MAX)
		return hlx_err(HLX_EINVAL, "cannot relay '%s': the name '%s.' is too long",
			       src, src);
	return HLX_OK;
}

static int diff_cb(void *ctx, const char *line, size_t len, int added)
{
	struct lines *l = ctx;
	char sign = added ? '+' : '-';
	int rc = lines_add(l, &sign, 1);

	if (!rc)
		rc = hlx_buf_put(&l->a, line, len);
	return rc;
}

/* The changes of an own list since commit from (read once for all
 * audiences): only the shards that changed are read. */
static int source_diff(struct pub_ctx *c, struct view_src *s, const char *from)
{
	struct hlx_hist *h = NULL;
	int rc;

	if (s->diff_from[0] && !strcmp(s->diff_from, from))
		return HLX_OK;
	lines_free(&s->diff);
	s->diff_from[0] = '\0';
	rc = hlx_list_open_hist(c->n, s->name, &h);
	if (!rc)
		rc = hlx_hist_diff(h, from, s->rec.head, diff_cb, &s->diff);
	hlx_hist_free(h);
	if (!rc)
		snprintf(s->diff_from, sizeof(s->diff_from), "%s", from);
	else
		lines_free(&s->diff);
	return rc;
}

static int op_cmp(const void *a, const void *b)
{
	const struct hlx_hist_op *x = a, *y = b;

	return field_cmp(x->line, x->len, y->line, y->len);
}

/* A new version of a view from the changes of its source alone: for each
 * entry changed, what the policy made of it before and makes of it now. */
static int view_incremental(struct pub_ctx *c, const struct hlx_policy *p,
			    struct view_src *s, const char *from,
			    struct hlx_hist *h, const char *vname,
			    uint64_t *version, char head[41], int64_t *count)
{
	struct hlx_entry *e = malloc(sizeof(*e)), *eo = malloc(sizeof(*eo));
	struct lines put = { HLX_BUF_INIT, NULL, 0, 0 };
	struct hlx_buf was = HLX_BUF_INIT, now = HLX_BUF_INIT;
	struct hlx_hist_op *ops = NULL;
	struct hlx_hist_version cur;
	size_t k = 0;
	int64_t delta = 0, when = 0;
	int rc = e && eo ? HLX_OK : hlx_err(HLX_ENOMEM, "out of memory");

	if (!rc)
		rc = source_diff(c, s, from);
	if (!rc)
		rc = hlx_hist_head(h, head);
	if (!rc)
		rc = hlx_hist_read_version(h, head, &cur);
	if (!rc) {
		ops = calloc(s->diff.n + 1, sizeof(*ops));
		if (!ops)
			rc = hlx_err(HLX_ENOMEM, "out of memory");
	}
	for (size_t i = 0; !rc && i < s->diff.n; i++) {
		size_t len, nlen = 0;
		const char *l = line_at(&s->diff, i, &len), *n = NULL;
		int old_shared = 0, new_shared = 0;

		hlx_buf_reset(&was);
		hlx_buf_reset(&now);
		if (l[0] == '-') {
			rc = hlx_entry_decode(l + 1, len - 1, e);
			if (!rc && (old_shared = hlx_policy_entry(p, e, eo)))
				rc = hlx_entry_encode(eo, &was);
			/* a changed entry: its new line follows */
			if (i + 1 < s->diff.n) {
				n = line_at(&s->diff, i + 1, &nlen);
				if (n[0] != '+' || field_cmp(l + 1, len - 1, n + 1, nlen - 1))
					n = NULL;
			}
			if (n)
				i++;
		} else {
			n = l;
			nlen = len;
		}
		if (!rc && n) {
			rc = hlx_entry_decode(n + 1, nlen - 1, e);
			if (!rc && (new_shared = hlx_policy_entry(p, e, eo)))
				rc = hlx_entry_encode(eo, &now);
		}
		if (rc)
			break;
		if (new_shared && (!old_shared || was.len != now.len ||
				   memcmp(was.data, now.data, now.len))) {
			size_t at = put.n;

			rc = lines_add(&put, (const char *)now.data, now.len);
			/* pointers into put are taken once it stops growing */
			ops[k].len = now.len;
			ops[k].retract = 0;
			ops[k++].line = (const char *)(uintptr_t)at;
		} else if (!new_shared && old_shared) {
			size_t at = put.n;

			rc = lines_add(&put, (const char *)was.data,
				       field_len((const char *)was.data, was.len));
			ops[k].len = field_len((const char *)was.data, was.len);
			ops[k].retract = 1;
			ops[k++].line = (const char *)(uintptr_t)at;
		}
		delta += new_shared - old_shared;
	}
	for (size_t i = 0; !rc && i < k; i++) {
		size_t len;

		ops[i].line = line_at(&put, (size_t)(uintptr_t)ops[i].line, &len);
	}
	if (rc)
		goto out;
	*version = cur.version;
	*count += delta;
	if (k == 0)
		goto out;
	qsort(ops, k, sizeof(*ops), op_cmp);
	rc = signing_key(c);
	if (!rc)
		rc = view_time(c, p, s->status, &when);
	if (!rc) {
		char summary[HLX_HIST_SUMMARY_MAX + 1];
		struct hlx_hist_meta m = {
			hlx_home_org(hlx_node_home(c->n)), vname, cur.version + 1,
			when, summary
		};
		char oid[41];

		snprintf(summary, sizeof(summary), "view: %" PRId64 " entries (%zu changed)",
			 *count, k);
		rc = hlx_hist_commit(h, ops, k, &m, hlx_list_sign_commit, c->key,
				     oid);
		if (!rc)
			rc = hlx_hist_set_head(h, head, oid);
		if (!rc) {
			memcpy(head, oid, 41);
			*version = m.version;
		}
	}
out:
	free(e);
	free(eo);
	free(ops);
	lines_free(&put);
	hlx_buf_free(&was);
	hlx_buf_free(&now);
	return rc;
}

/* views/ID/NAME.src: what the view was made from (the source's key and
 * commit) and how many entries it holds. */
struct view_mark {
	char key[256];
	char commit[41];
	int64_t count;
	char ckpt[65];      /* the source's checkpoint it was pruned for */
	char vhead[41];     /* the view's head when this was written */
};

static int mark_read(const char *path, struct view_mark *m)
{
	struct hlx_buf b = HLX_BUF_INIT;
	int rc = hlx_file_read(path, 4096, &b), ok = 0;

	memset(m, 0, sizeof(*m));
	m->count = -1;
	if (!rc) {
		char *s = (char *)b.data, *n1, *n2, *n3;

		hlx_buf_putc(&b, '\0');
		s = (char *)b.data;
		n1 = strchr(s, '\n');
		n2 = n1 ? strchr(n1 + 1, '\n') : NULL;
		n3 = n2 ? strchr(n2 + 1, '\n') : NULL;
		if (n3 && n1 - s < (long)sizeof(m->key) && n2 - n1 - 1 == 40) {
			char *n4 = strchr(n3 + 1, '\n');

			memcpy(m->key, s, (size_t)(n1 - s));
			memcpy(m->commit, n1 + 1, 40);
			m->count = strtoll(n2 + 1, NULL, 10);
			char *n5 = n4 ? strchr(n4 + 1, '\n') : NULL;

			if (n4 && n4 - n3 - 1 == 64)
				memcpy(m->ckpt, n3 + 1, 64);
			if (n5 && n5 - n4 - 1 == 40)
				memcpy(m->vhead, n4 + 1, 40);
			ok = 1;
		}
	}
	hlx_buf_free(&b);
	hlx_err_clear();
	if (!ok)
		memset(m, 0, sizeof(*m));
	return ok;
}

/* The view of source s for audience au (views/ID/ in side), then each of
 * its nf feeds (none: the view is kept up to date, pruned and purged with
 * its source, but published nowhere). */
static int audience_list(struct pub_ctx *c, const struct hlx_audience *au,
			 const char *side, const struct feed *fv, size_t nf,
			 struct view_src *s)
{
	const struct hlx_policy *p = au->policy;
	struct lines want = { HLX_BUF_INIT, NULL, 0, 0 };
	struct hlx_hist *h = NULL;
	struct hlx_rules rules;
	struct hlx_buf mb = HLX_BUF_INIT;
	struct view_mark m;
	char vname[HLX_NAME_MAX + 1], repo[PATH_MAX], src[PATH_MAX], head[41];
	char sw[PATH_MAX];
	uint64_t version = 0;
	int rc, have, exists;

	rc = view_name(s->name, vname);
	if (!rc)
		rc = hlx_pathf(repo, "%s/%s.git", side, vname);
	if (!rc)
		rc = hlx_pathf(src, "%s/%s.src", side, vname);
	if (rc)
		goto out;
	hlx_policy_rules(p, &rules);
	if (strchr(s->name, '/'))
		hlx_rules_merge(&s->rules, &rules, &rules);
	/* a prune of the view that a crash interrupted is finished first */
	if (hlx_pathf(sw, "%s.swap", repo) == HLX_OK && access(sw, F_OK) == 0 &&
	    (rc = hlx_prune_replace_repo(repo)))
		goto out;
	rc = hlx_hist_open(repo, 1, &h);
	if (rc)
		goto out;
	have = mark_read(src, &m);
	exists = hlx_hist_head(h, head) == HLX_OK;
	hlx_err_clear();
	/* the view moved after the mark was written (a crash in between):
	 * trust neither shortcut, compare it whole */
	if (have && exists && strcmp(m.vhead, head) != 0)
		have = 0;
	if (have && exists && !strcmp(m.key, s->key)) {
		/* the view changes only when its source does */
		struct hlx_hist_version v;

		rc = hlx_hist_read_version(h, head, &v);
		version = v.version;
		goto mark;
	}
	/* an own list that moved on: from its changes alone */
	if (have && exists && m.count >= 0 && !s->status && !strchr(s->name, '/') &&
	    strcmp(m.commit, s->rec.head) != 0 &&
	    view_incremental(c, p, s, m.commit, h, vname, &version, head,
			     &m.count) == HLX_OK)
		goto mark;
	hlx_err_clear();
	/* otherwise the whole list, compared with the view */
	rc = load_source(c, s);
	if (!rc)
		rc = view_lines(c, p, s, &want);
	if (!rc)
		rc = view_commit(c, h, vname, &want, p, s->status, &version, head);
	m.count = (int64_t)want.n;
mark:
	/* its source was pruned: so is the view, down to its last version,
	 * so that what the prune removed is in no version of it either */
	if (!rc && s->ckpt[0] && strcmp(m.ckpt, s->ckpt) != 0) {
		if (version >= 2) {
			hlx_hist_free(h);
			h = NULL;
			rc = signing_key(c);
			if (!rc)
				rc = hlx_prune_repo(repo, hlx_home_org(hlx_node_home(c->n)),
						    vname, version, c->key, c->now, head);
		}
		memcpy(m.ckpt, s->ckpt, sizeof(m.ckpt));
	}
	if (!rc)
		rc = hlx_buf_printf(&mb, "%s\n%s\n%" PRId64 "\n%s\n%s\n", s->key,
				    s->rec.head, m.count, m.ckpt[0] ? m.ckpt : "-",
				    head);
	if (!rc)
		rc = hlx_file_write(src, mb.data, mb.len, 0600);
	if (!rc) {
		/* the open feed's heads carry no rules (sync.md section 3.2) */
		struct feed_list fl = { vname, hlx_home_org(hlx_node_home(c->n)),
					version, head, repo,
					nf && !fv[0].au ? NULL : &rules,
					m.count > 0 ? (uint64_t)m.count : 0 };

		for (size_t i = 0; !rc && i < nf; i++)
			rc = feed_list(c, &fv[i], &fl);
		if (nf)
			c->st->lists++;
	}
out:
	if (rc)
		rc = hlx_err_wrap(rc, "audience %s, list '%s'", au->id, s->name);
	lines_free(&want);
	hlx_hist_free(h);
	hlx_buf_free(&mb);
	return rc;
}

/* The box keys of an audience's members, and whether they changed since
 * the last publish (members file in the side directory). */
static int members(const struct hlx_audience *au, const char *side,
		   struct hlx_boxpub **to, size_t *nto, struct hlx_buf *text,
		   int *changed, const char ***fresh, size_t *nfresh)
{
	struct hlx_buf was = HLX_BUF_INIT;
	char p[PATH_MAX];
	int rc = HLX_OK;

	*to = NULL;
	*nto = 0;
	*fresh = calloc(au->n + 1, sizeof(**fresh));
	if (!*fresh)
		return hlx_err(HLX_ENOMEM, "out of memory");
	*nfresh = 0;
	if (hlx_policy_encrypt(au->policy)) {
		*to = calloc(au->n + 1, sizeof(**to));
		if (!*to)
			return hlx_err(HLX_ENOMEM, "out of memory");
	}
	for (size_t i = 0; !rc && i < au->n; i++) {
		const struct hlx_peer *pe = au->members[i];

		rc = hlx_buf_printf(text, "%s %s\n", pe->name, pe->box[0] ? pe->box : "-");
		if (!rc && *to)
			rc = hlx_boxpub_parse(pe->box, strlen(pe->box), &(*to)[(*nto)++]);
	}
	if (!rc)
		rc = hlx_pathf(p, "%s/members", side);
	if (rc)
		return rc;
	if (hlx_file_read(p, 1 << 20, &was) != HLX_OK)
		hlx_buf_reset(&was);
	hlx_err_clear();
	*changed = was.len != text->len ||
		   (was.len && memcmp(was.data, text->data, was.len) != 0);
	/* who was not a member before */
	for (size_t i = 0; i < au->n; i++) {
		const char *name = au->members[i]->name, *s = (const char *)was.data;
		size_t nl = strlen(name), left = was.len;
		int found = 0;

		while (s && left > nl) {
			const char *e = memchr(s, '\n', left);

			if (!memcmp(s, name, nl) && s[nl] == ' ') {
				/* same name; with another box key it is new */
				size_t ll = e ? (size_t)(e - s) : left;
				char want[256];
				int wn = snprintf(want, sizeof(want), "%s %s", name,
						  au->members[i]->box[0] ?
						  au->members[i]->box : "-");

				found = wn > 0 && (size_t)wn == ll && !memcmp(s, want, ll);
				break;
			}
			if (!e)
				break;
			left -= (size_t)(e + 1 - s);
			s = e + 1;
		}
		if (!found)
			(*fresh)[(*nfresh)++] = name;
	}
	hlx_buf_free(&was);
	return HLX_OK;
}

/* Two lists a policy gives must not be published under one name (an own
 * list "b.x" and a peer's list "b/x" would both be "b.x"). */
static int check_names(const struct hlx_policy *p, const struct view_src *v,
		       size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char a[HLX_NAME_MAX + 1], b[HLX_NAME_MAX + 1];

		if (!hlx_policy_list(p, v[i].name) || view_name(v[i].name, a))
			continue;
		for (size_t j = i + 1; j < n; j++)
			if (hlx_policy_list(p, v[j].name) &&
			    view_name(v[j].name, b) == HLX_OK && !strcmp(a, b))
				return hlx_err(HLX_EPOLICY,
					       "policy '%s' gives lists '%s' and '%s', which would both be published as '%s': give only one",
					       hlx_policy_name(p), v[i].name, v[j].name, a);
	}
	return HLX_OK;
}

static int publish_audience(struct pub_ctx *c, const struct hlx_audience *au,
			    struct view_src *srcs, size_t nsrcs)
{
	struct feed *fv = NULL;
	struct hlx_boxpub *to = NULL;
	struct hlx_buf mtext = HLX_BUF_INIT;
	const char **fresh = NULL;
	char side[PATH_MAX], p[PATH_MAX];
	size_t nfresh = 0, nf = 0, nto = 0;
	int rc, changed = 0, plain = !hlx_policy_encrypt(au->policy);

	rc = hlx_pathf(side, "%s/views/%s", hlx_home_dir(hlx_node_home(c->n)),
		       au->id);
	if (!rc)
		rc = hlx_file_mkdirs(side, 0700);
	if (!rc)
		rc = members(au, side, &to, &nto, &mtext, &changed, &fresh, &nfresh);
	if (rc)
		goto out;
	/* an encrypted audience reads one feed, sealed to its members; each
	 * member of a plain audience reads its own (spec/policy.md 6); an
	 * audience without members reads none, but its views are kept up to
	 * date all the same, so that a prune or purge reaches them too */
	nf = !au->n ? 0 : plain ? au->n : 1;
	fv = calloc(nf + 1, sizeof(*fv));
	if (!fv) {
		rc = hlx_err(HLX_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; !rc && i < nf; i++) {
		struct feed *f = &fv[i];

		f->au = au;
		f->root = c->dir;
		snprintf(f->side, sizeof(f->side), "%s", side);
		if (plain) {
			f->id = au->dirs[i];
			f->mem = &au->members[i];
			f->nmem = 1;
			for (size_t j = 0; j < nfresh; j++)
				if (!strcmp(fresh[j], au->members[i]->name)) {
					f->fresh = &fresh[j];
					f->nfresh = 1;
				}
		} else {
			f->id = au->id;
			f->mem = au->members;
			f->nmem = au->n;
			f->to = to;
			f->nto = nto;
			f->fresh = fresh;
			f->nfresh = nfresh;
			f->reseal = changed;
		}
		rc = hlx_pathf(f->dir, "%s/a/%s", c->dir, f->id);
	}
	if (!rc)
		rc = check_names(au->policy, srcs, nsrcs);
	if (rc == HLX_EPOLICY && !au->n) {
		/* no one can be given it as it is: nor is its view kept */
		hlx_err_clear();
		rc = hlx_rm_rf(side);
		goto out;
	}
	for (size_t i = 0; !rc && i < nf; i++)
		rc = feed_trust(c, &fv[i]);
	for (size_t i = 0; !rc && i < nsrcs; i++) {
		struct view_src *s = &srcs[i];
		char vname[HLX_NAME_MAX + 1];

		if (!hlx_policy_list(au->policy, s->name))
			continue;
		if (strchr(s->name, '/') && !s->rules.onward) {
			/* the origin forbids onward sharing: never relayed,
			 * and taken down, view and all, if it was */
			rc = view_name(s->name, vname);
			for (size_t j = 0; !rc && j < nf; j++) {
				rc = hlx_pathf(p, "%s/lists/%s", fv[j].dir, vname);
				if (!rc)
					rc = hlx_rm_rf_in(c->dir, p);
			}
			if (!rc)
				rc = hlx_pathf(p, "%s/%s.git", side, vname);
			if (!rc)
				rc = hlx_rm_rf(p);
			if (!rc)
				rc = hlx_pathf(p, "%s/%s.src", side, vname);
			if (!rc && unlink(p) != 0 && errno != ENOENT)
				rc = hlx_err(HLX_EIO, "cannot remove '%s': %s", p,
					     strerror(errno));
			continue;
		}
		if (c->st->progress && nf)
			c->st->progress(c->st->progress_ctx, c->audience, c->audiences,
					s->name);
		rc = audience_list(c, au, side, fv, nf, s);
	}
	if (!rc)
		rc = hlx_pathf(p, "%s/members", side);
	if (!rc && (changed || nfresh))
		rc = hlx_file_write(p, mtext.data, mtext.len, 0600);
out:
	free(fv);
	free(to);
	free(fresh);
	hlx_buf_free(&mtext);
	return rc;
}

/* The node's lists, as sources of views: own lists in name order, then
 * peers' lists, the status log last (its view depends on the others'
 * hold tags). */
struct srcs_ctx {
	struct pub_ctx *c;
	struct view_src *v;
	size_t n;
	int rc;
};

static int digest_add(void *ctx, const uint8_t digest[32])
{
	return hlx_buf_put(ctx, digest, 32);
}

static int src_add(void *ctx, const struct hlx_list_rec *l)
{
	struct srcs_ctx *s = ctx;
	struct view_src *v = realloc(s->v, (s->n + 1) * sizeof(*v)), *x;
	int rc;

	if (!v)
		return s->rc = hlx_err(HLX_ENOMEM, "out of memory");
	s->v = v;
	x = &v[s->n];
	memset(x, 0, sizeof(*x));
	rc = hlx_list_recover(s->c->n, l->name);
	if (!rc)
		rc = hlx_list_get(s->c->n, l->name, &x->rec);
	if (rc)
		return s->rc = rc;
	if (x->rec.version == 0)
		return 0;
	x->status = hlx_is_status_list(l->name);
	hlx_rules_init(&x->rules);
	if (strchr(l->name, '/')) {
		rc = hlx_retention_rules(s->c->n, l->name, &x->rules);
		if (rc)
			return s->rc = rc;
	}
	snprintf(x->key, sizeof(x->key), "%s %" PRIu64 " %" PRIu64, x->rec.head,
		 x->rec.version, x->rec.count);
	{
		/* pruned: its views are pruned too (spec/prune.md) */
		struct hlx_buf ck = HLX_BUF_INIT;
		char repo[PATH_MAX], p[PATH_MAX];
		uint8_t h[32];

		if (hlx_list_repo_path(s->c->n, l->name, repo) == HLX_OK &&
		    hlx_pathf(p, "%s/" HLX_PRUNE_CHECKPOINT_FILE, repo) == HLX_OK &&
		    hlx_file_read(p, HLX_CHECKPOINT_MAX, &ck) != HLX_OK)
			hlx_buf_reset(&ck);
		hlx_err_clear();
		/* a peer's list: what retention purged here counts as a
		 * prune too (spec/policy.md section 7.2) */
		if (strchr(l->name, '/')) {
			rc = hlx_buf_puts(&ck, "\npurged:");
			if (!rc)
				rc = hlx_store_purged_foreach(hlx_node_store(s->c->n),
							      x->rec.id, digest_add, &ck);
			if (rc) {
				hlx_buf_free(&ck);
				return s->rc = rc;
			}
			if (ck.len == 8)
				hlx_buf_reset(&ck); /* nothing purged, no checkpoint */
		}
		if (ck.len) {
			crypto_hash_sha256(h, ck.data, ck.len);
			sodium_bin2hex(x->ckpt, sizeof(x->ckpt), h, 32);
		}
		hlx_buf_free(&ck);
	}
	s->n++;
	return 0;
}

static int src_order(const void *a, const void *b)
{
	const struct view_src *x = a, *y = b;
	const char *xn = x->rec.name, *yn = y->rec.name;
	int ox = x->status && !strchr(xn, '/') ? 2 : strchr(xn, '/') ? 1 : 0;
	int oy = y->status && !strchr(yn, '/') ? 2 : strchr(yn, '/') ? 1 : 0;

	return ox != oy ? ox - oy : strcmp(xn, yn);
}

/* Feed directories no member reads are taken down (those of audiences
 * without members, of plain feeds whose member left); the views behind
 * them are kept while a policy still makes them (a peer that comes back
 * to the audience continues the same history), and removed with the last
 * policy that does.  publish_policies keeps the views it keeps up to date,
 * members or not. */
static int sweep(struct pub_ctx *c, const struct hlx_audiences *aus,
		 const struct hlx_policies *pols)
{
	char p[PATH_MAX], side[PATH_MAX], (*ids)[33] = NULL;
	uint8_t *secret = NULL;
	const char *roots[2];
	int rc = HLX_OK;

	if (hlx_pathf(p, "%s/a", c->dir) ||
	    hlx_pathf(side, "%s/views", hlx_home_dir(hlx_node_home(c->n))))
		return hlx_err(HLX_EINVAL, "path too long");
	ids = calloc(pols->n + 1, sizeof(*ids));
	if (!ids)
		return hlx_err(HLX_ENOMEM, "out of memory");
	rc = hlx_node_secret(hlx_home_dir(hlx_node_home(c->n)), 1, &secret);
	for (size_t i = 0; !rc && i < pols->n; i++)
		hlx_audience_id(secret, pols->v[i], ids[i]);
	hlx_node_secret_free(secret);
	roots[0] = p;
	roots[1] = side;
	for (int r = 0; r < 2 && !rc; r++) {
		/* the audiences' directories: no link in the feed followed */
		const char *under = r == 0 ? c->dir : NULL;
		struct dirent *de;
		DIR *d = NULL;
		int fd;

		rc = hlx_dir_open_in(under, roots[r], &fd);
		if (rc == HLX_ENOENT) {
			hlx_err_clear();
			rc = HLX_OK;
			continue;
		}
		if (rc)
			break;
		d = fdopendir(fd);
		if (!d) {
			rc = hlx_err(HLX_EIO, "cannot open '%s': %s", roots[r],
				     strerror(errno));
			close(fd);
			break;
		}
		while ((de = readdir(d)) && !rc) {
			int keep = de->d_name[0] == '.';
			char q[PATH_MAX];

			for (size_t i = 0; r == 0 && i < aus->n; i++)
				for (size_t j = 0; j < aus->v[i].n; j++)
					keep |= !strcmp(aus->v[i].dirs[j], de->d_name);
			for (size_t i = 0; r == 1 && i < pols->n; i++)
				keep |= !strcmp(ids[i], de->d_name);
			if (!keep &&
			    hlx_pathf(q, "%s/%s", roots[r], de->d_name) == HLX_OK)
				rc = hlx_rm_rf_in(under, q);
		}
		closedir(d);
	}
	free(ids);
	return rc;
}

/* The views kept for policies no peer is bound to (sweep keeps them). */
static int quiet_views(struct pub_ctx *c, const struct hlx_audiences *aus,
		       const struct hlx_policies *pols, struct view_src *srcs,
		       size_t nsrcs)
{
	char (*done)[33] = calloc(pols->n + 1, sizeof(*done));
	uint8_t *secret = NULL;
	size_t nd = 0;
	int rc = done ? HLX_OK : hlx_err(HLX_ENOMEM, "out of memory");

	if (!rc)
		rc = hlx_node_secret(hlx_home_dir(hlx_node_home(c->n)), 1, &secret);
	for (size_t i = 0; !rc && i < pols->n; i++) {
		struct hlx_audience au;
		char p[PATH_MAX];
		int skip = 0;

		memset(&au, 0, sizeof(au));
		au.policy = pols->v[i];
		hlx_audience_id(secret, au.policy, au.id);
		for (size_t j = 0; j < aus->n; j++)
			skip |= !strcmp(aus->v[j].id, au.id);
		for (size_t j = 0; j < nd; j++)
			skip |= !strcmp(done[j], au.id);
		if (skip)
			continue;
		memcpy(done[nd++], au.id, sizeof(au.id));
		rc = hlx_pathf(p, "%s/views/%s", hlx_home_dir(hlx_node_home(c->n)),
			       au.id);
		if (!rc && access(p, F_OK) == 0)
			rc = publish_audience(c, &au, srcs, nsrcs);
	}
	hlx_node_secret_free(secret);
	free(done);
	return rc;
}

/* Every list of the node as a source of views, in order, with the keys
 * their views depend on. */
static int sources(struct pub_ctx *c, struct srcs_ctx *s)
{
	char own[PATH_MAX * 2];
	int rc;

	s->c = c;
	rc = hlx_store_list_foreach(hlx_node_store(c->n), src_add, s);
	if (!rc)
		rc = s->rc;
	if (rc)
		return rc;
	/* names point into the records: set once the array stays put */
	if (s->n)
		qsort(s->v, s->n, sizeof(*s->v), src_order);
	for (size_t i = 0; i < s->n; i++)
		s->v[i].name = s->v[i].rec.name;
	/* the status view also depends on the hold tags of our lists */
	own[0] = '\0';
	for (size_t i = 0; i < s->n; i++)
		if (!strchr(s->v[i].name, '/') && !s->v[i].status) {
			uint8_t h[32];
			char hex[65];

			crypto_generichash(h, 32, (const uint8_t *)own, strlen(own),
					   NULL, 0);
			sodium_bin2hex(hex, sizeof(hex), h, 32);
			snprintf(own, sizeof(own), "%s %s", hex, s->v[i].key);
		}
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].status && !strchr(s->v[i].name, '/')) {
			uint8_t h[32];
			char hex[65];
			size_t kl = strlen(s->v[i].key);

			crypto_generichash(h, 32, (const uint8_t *)own, strlen(own),
					   NULL, 0);
			sodium_bin2hex(hex, sizeof(hex), h, 32);
			snprintf(s->v[i].key + kl, sizeof(s->v[i].key) - kl, " %s", hex);
		}
	return HLX_OK;
}

static void sources_free(struct srcs_ctx *s)
{
	for (size_t i = 0; i < s->n; i++) {
		lines_free(&s->v[i].lines);
		lines_free(&s->v[i].diff);
	}
	free(s->v);
}

static int publish_policies(struct pub_ctx *c, const struct hlx_policies *pols)
{
	const char *home = hlx_home_dir(hlx_node_home(c->n));
	struct hlx_peers *peers = NULL;
	struct hlx_audiences *aus = NULL;
	struct srcs_ctx s = { c, NULL, 0, 0 };
	char p[PATH_MAX];
	int rc;

	c->pols = pols;
	rc = HLX_OK;
	/* their holds outlive them (the open feed keeps them) */
	for (size_t i = 0; !rc && i < pols->n; i++) {
		struct hlx_buf tags = HLX_BUF_INIT;

		rc = hlx_hold_tags(home, pols->v[i], &tags);
		hlx_buf_free(&tags);
	}
	if (!rc)
		rc = hlx_peers_load(home, &peers);
	if (!rc)
		rc = hlx_audiences_make(home, pols, peers, &aus);
	/* the open feed is taken down: only policies decide */
	if (!rc)
		rc = hlx_pathf(p, "%s/lists", c->dir);
	if (!rc)
		rc = hlx_rm_rf_in(c->dir, p);
	if (!rc)
		rc = hlx_pathf(p, "%s/trust.json", c->dir);
	if (!rc && unlink(p) != 0 && errno != ENOENT)
		rc = hlx_err(HLX_EIO, "cannot take down '%s': %s", p, strerror(errno));
	if (!rc)
		rc = sweep(c, aus, pols);
	if (!rc)
		rc = sources(c, &s);
	for (size_t i = 0; !rc && i < aus->n; i++) {
		c->audience = (unsigned)i + 1;
		c->audiences = (unsigned)aus->n;
		rc = publish_audience(c, &aus->v[i], s.v, s.n);
	}
	/* the views of audiences without members follow their sources too:
	 * what a prune or a purge removed is in none of them either */
	if (!rc)
		rc = quiet_views(c, aus, pols, s.v, s.n);
	sources_free(&s);
	hlx_audiences_free(aus);
	hlx_peers_free(peers);
	return rc;
}

/* ---- the open feed ------------------------------------------------------ */

/* The policy of the open feed: every own list and the status log, whole,
 * but for what is held: a hold is never broken by the absence of a
 * policy (spec/policy.md section 6). */
static int open_policy(struct pub_ctx *c, struct hlx_policy **out)
{
	struct hlx_buf tags = HLX_BUF_INIT, json = HLX_BUF_INIT;
	int rc = hlx_hold_tags(hlx_home_dir(hlx_node_home(c->n)), NULL, &tags);

	if (!rc)
		rc = hlx_buf_puts(&json, "{\"format\":\"" HLX_POLICY_FORMAT "\",\"name\":\"open\","
				  "\"lists\":[\"*\",\"status\"],"
				  "\"fields\":[\"category\",\"confidence\",\"first_seen\",\"tags\"],"
				  "\"status_fields\":[\"country\",\"times\"],\"hold_tags\":[");
	for (char *s = (char *)tags.data, *e; !rc && s && s < (char *)tags.data + tags.len;
	     s = e + 1) {
		e = memchr(s, '\n', (size_t)((char *)tags.data + tags.len - s));
		if (!e)
			break;
		rc = hlx_buf_printf(&json, "%s\"%.*s\"", s == (char *)tags.data ? "" : ",",
				    (int)(e - s), s);
	}
	if (!rc)
		rc = hlx_buf_puts(&json, "]}");
	if (!rc)
		rc = hlx_policy_parse((const char *)json.data, json.len, out);
	hlx_buf_free(&tags);
	hlx_buf_free(&json);
	return rc;
}

struct held_scan {
	const struct hlx_policy *p;
	struct hlx_entry e;
	int held;
};

static int held_line(void *ctx, const char *line, size_t len, int added)
{
	struct held_scan *h = ctx;

	if (added && !h->held && hlx_entry_decode(line, len, &h->e) == HLX_OK)
		h->held = hlx_policy_held(h->p, &h->e);
	hlx_err_clear();
	return HLX_OK;
}

/* Whether the open feed can go on serving list s as it is: no version
 * after the one the feed names (from) holds an entry under a hold tag.
 * Each version is looked at, not only the newest: the feed carries them
 * all. */
static int open_clean(struct pub_ctx *c, const struct hlx_policy *pol,
		      struct view_src *s, const char *repo, uint64_t from,
		      int *clean)
{
	struct held_scan *hs = calloc(1, sizeof(*hs));
	struct hlx_hist *h = NULL;
	char oid[41];
	int rc = hs ? hlx_hist_open(repo, 0, &h) : hlx_err(HLX_ENOMEM, "out of memory");

	(void)c;
	*clean = 1;
	if (hs)
		hs->p = pol;
	/* from the newest back to the one the feed names, parent by parent */
	memcpy(oid, s->rec.head, sizeof(oid));
	while (!rc && *clean && oid[0] && s->rec.version > from) {
		struct hlx_hist_version v;

		rc = hlx_hist_read_version(h, oid, &v);
		if (rc || v.version <= from)
			break;
		rc = hlx_hist_diff(h, v.parent[0] ? v.parent : NULL, v.oid,
				   held_line, hs);
		if (!rc && hs->held)
			*clean = 0;
		memcpy(oid, v.parent, sizeof(oid));
	}
	hlx_hist_free(h);
	free(hs);
	return rc;
}

/* A view of the open feed starts from the history the feed served until
 * then, up to commit oid (none: from nothing), so that its subscribers
 * follow on without a break. */
static int open_seed(const char *listrepo, const char *side, const char *vname,
		     const char *oid)
{
	struct hlx_hist *h = NULL;
	struct hlx_file_new w;
	char repo[PATH_MAX], pack[PATH_MAX], tmp[PATH_MAX];
	int rc = hlx_pathf(repo, "%s/%s.git", side, vname);

	if (!rc)
		rc = hlx_pathf(pack, "%s/seed.pack", side);
	if (!rc)
		rc = hlx_rm_rf(repo);
	if (!rc)
		rc = hlx_hist_open(repo, 1, &h);
	if (!rc && oid && oid[0]) {
		rc = hlx_file_new_open(&w, NULL, pack, 0600);
		if (rc)
			goto out;
		rc = hlx_pack_write(listrepo, NULL, oid, w.fd);
		if (!rc)
			rc = hlx_pathf(tmp, "%s/%s", side, w.tmp);
		if (!rc)
			rc = hlx_pack_index_own(repo, tmp);
		hlx_file_new_abort(&w);
		if (!rc)
			rc = hlx_hist_set_head(h, NULL, oid);
	}
out:
	hlx_hist_free(h);
	if (rc)
		hlx_rm_rf(repo);
	return rc;
}

/* Without policies: the open feed under PUBLISH/, every own list and the
 * status log as they are, except that a hold is never broken by the
 * absence of a policy (spec/policy.md section 6): a list a version of
 * which would show a held entry is served from then on as a view without
 * held entries (views/open/ in the home), continuing the history served
 * so far; the status log too, once a list is.  Audiences' feeds and views
 * are taken down. */
static int publish_open(struct pub_ctx *c)
{
	const char *home = hlx_home_dir(hlx_node_home(c->n));
	struct hlx_audience au;
	struct srcs_ctx s = { c, NULL, 0, 0 };
	struct hlx_policy *pol = NULL;
	struct feed f;
	char p[PATH_MAX];
	DIR *d = NULL;
	int rc, viewed = 0;

	memset(&au, 0, sizeof(au));
	memset(&f, 0, sizeof(f));
	f.root = c->dir;
	rc = hlx_pathf(p, "%s/a", c->dir);
	if (!rc)
		rc = hlx_rm_rf_in(c->dir, p);
	if (!rc)
		rc = hlx_pathf(p, "%s/views", home);
	if (!rc && (d = opendir(p))) {
		struct dirent *de;

		while (!rc && (de = readdir(d))) {
			char q[PATH_MAX];

			if (de->d_name[0] != '.' && strcmp(de->d_name, "open") != 0 &&
			    !(rc = hlx_pathf(q, "%s/%s", p, de->d_name)))
				rc = hlx_rm_rf(q);
		}
		closedir(d);
	}
	if (!rc)
		rc = open_policy(c, &pol);
	if (!rc)
		rc = hlx_pathf(f.dir, "%s", c->dir);
	if (!rc)
		rc = hlx_pathf(f.side, "%s/views/open", home);
	if (!rc)
		rc = hlx_file_mkdirs(f.side, 0700);
	if (!rc)
		rc = feed_trust(c, &f);
	if (!rc)
		rc = sources(c, &s);
	au.policy = pol;
	snprintf(au.id, sizeof(au.id), "open");
	for (size_t i = 0; !rc && i < s.n; i++) {
		struct view_src *x = &s.v[i];
		struct hlx_buf hb = HLX_BUF_INIT, b1 = HLX_BUF_INIT, b2 = HLX_BUF_INIT;
		struct hlx_head prev;
		char repo[PATH_MAX], vrepo[PATH_MAX], hp[PATH_MAX], at[41] = "";
		uint64_t from = 0;
		int clean = 1;

		if (!hlx_policy_list(pol, x->name) ||
		    strcmp(x->rec.owner, hlx_home_org(hlx_node_home(c->n))) != 0)
			continue;
		if (c->st->progress)
			c->st->progress(c->st->progress_ctx, 1, 1, x->name);
		rc = hlx_list_repo_path(c->n, x->name, repo);
		if (!rc)
			rc = hlx_pathf(vrepo, "%s/%s.git", f.side, x->name);
		if (!rc)
			rc = hlx_pathf(hp, "%s/lists/%s/head", c->dir, x->name);
		if (rc)
			break;
		if (access(vrepo, F_OK) != 0) {
			/* the version the feed names, if it is the list's own */
			if (hlx_file_read(hp, HLX_HEAD_MAX, &hb) == HLX_OK &&
			    hlx_head_parse((char *)hb.data, hb.len, &prev, &b1, &b2) == HLX_OK &&
			    prev.version <= x->rec.version) {
				struct hlx_hist *h = NULL;
				struct hlx_hist_version v;

				if (hlx_hist_open(repo, 0, &h) == HLX_OK &&
				    hlx_hist_find_version(h, prev.version, &v) == HLX_OK &&
				    !strcmp(v.oid, prev.commit)) {
					from = prev.version;
					memcpy(at, v.oid, sizeof(at));
				}
				hlx_hist_free(h);
			}
			hlx_err_clear();
			if (x->status)
				clean = !viewed;
			else
				rc = open_clean(c, pol, x, repo, from, &clean);
			if (!rc && !clean)
				rc = open_seed(repo, f.side, x->name, at);
		}
		hlx_buf_free(&hb);
		hlx_buf_free(&b1);
		hlx_buf_free(&b2);
		if (!rc && clean) {
			struct feed_list fl = { x->name, x->rec.owner, x->rec.version,
						x->rec.head, repo, NULL, x->rec.count };

			c->st->lists++;
			rc = feed_list(c, &f, &fl);
			continue;
		}
		viewed = 1;
		if (!rc)
			rc = audience_list(c, &au, f.side, &f, 1, x);
	}
	sources_free(&s);
	hlx_policy_free(pol);
	return rc;
}

int hlx_view_preview(struct hlx_node *n, const struct hlx_policy *const *pols,
		     size_t npols,
		     int (*list_cb)(void *ctx, size_t i, const char *view,
				    const char *src, uint64_t count,
				    const struct hlx_rules *r),
		     int (*line_cb)(void *ctx, size_t i, const char *view,
				    int status, const char *line, size_t len),
		     void *ctx)
{
	struct hlx_publish_stats st = { 0 };
	struct pub_ctx c = { n, NULL, 0, 0, NULL, NULL, NULL, &st, NULL, 0, 0 };
	struct srcs_ctx s = { &c, NULL, 0, 0 };
	int rc = sources(&c, &s);

	/* each list is read once, then seen through every policy */
	for (size_t k = 0; !rc && k < npols; k++) {
		const struct hlx_policy *p = pols[k];

		rc = check_names(p, s.v, s.n);

		for (size_t i = 0; !rc && i < s.n; i++) {
			struct view_src *x = &s.v[i];
			struct lines want = { HLX_BUF_INIT, NULL, 0, 0 };
			struct hlx_rules r;
			char vname[HLX_NAME_MAX + 1];

			if (!hlx_policy_list(p, x->name) ||
			    (strchr(x->name, '/') && !x->rules.onward))
				continue;
			hlx_policy_rules(p, &r);
			if (strchr(x->name, '/'))
				hlx_rules_merge(&x->rules, &r, &r);
			rc = view_name(x->name, vname);
			if (!rc)
				rc = load_source(&c, x);
			if (!rc)
				rc = view_lines(&c, p, x, &want);
			if (!rc && list_cb)
				rc = list_cb(ctx, k, vname, x->name, want.n, &r);
			for (size_t j = 0; !rc && line_cb && j < want.n; j++) {
				size_t len;
				const char *l = line_at(&want, j, &len);

				rc = line_cb(ctx, k, vname, x->status, l, len);
			}
			lines_free(&want);
		}
	}
	sources_free(&s);
	return rc;
}

int hlx_publish(struct hlx_node *n, const char *dir, int64_t now,
		int64_t validity, hlx_pass_fn getpass, void *ctx,
		struct hlx_publish_stats *st)
{
	struct pub_ctx c = { n, dir, now, validity, getpass, ctx, NULL, st, NULL,
			     0, 0 };
	struct hlx_policies *pols = NULL;
	int rc;

	st->lists = st->heads_signed = st->packs_written = 0;
	st->purged = 0;
	if (validity < 60 || validity > 366 * 86400)
		return hlx_err(HLX_EINVAL, "head validity of %" PRId64 " s (60 s to 366 days)",
			       validity);
	rc = hlx_file_mkdirs(dir, 0755);
	/* temporary files of a publish that was killed go first */
	if (!rc)
		rc = clean_leftovers(&c);
	if (!rc)
		rc = hlx_policies_load(hlx_home_dir(hlx_node_home(n)), &pols);
	/* entries past their retention go before anything is published */
	if (!rc)
		rc = hlx_retention_purge(n, now, &st->purged);
	if (!rc)
		rc = pols->n ? publish_policies(&c, pols) : publish_open(&c);
	hlx_policies_free(pols);
	hlx_seckey_free(c.key);
	return rc;
}
