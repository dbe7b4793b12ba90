/* SPDX-License-Identifier: MIT */
/* History pruning and prune checkpoints (node/prune.h, spec/prune.md). */
#include "node/prune.h"
#include "node/files.h"
#include "keys/sshsig.h"
#include "protocol/err.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define INTENT_MAGIC "hlx-prune-1"
#define INTENT_MAX 256
#define CLOCK_SKEW 300

static int exists(const char *p)
{
	struct stat st;

	return lstat(p, &st) == 0;
}

/* The directory that holds path. */
static int sync_parent(const char *path)
{
	char d[PATH_MAX];

	snprintf(d, sizeof(d), "%s", path);
	return hlx_fsync_path(dirname(d), 1);
}

int hlx_prune_sync_tree(const char *path)
{
	struct dirent *de;
	struct stat st;
	char p[PATH_MAX];
	int rc = HLX_OK;
	DIR *d;

	if (lstat(path, &st) != 0)
		return hlx_err(HLX_EIO, "cannot stat '%s': %s", path, strerror(errno));
	if (S_ISLNK(st.st_mode))
		return HLX_OK;
	if (!S_ISDIR(st.st_mode))
		return hlx_fsync_path(path, 0);
	d = opendir(path);
	if (!d)
		return hlx_err(HLX_EIO, "cannot open '%s': %s", path, strerror(errno));
	while (!rc && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		rc = hlx_pathf(p, "%s/%s", path, de->d_name);
		if (!rc)
			rc = hlx_prune_sync_tree(p);
	}
	closedir(d);
	return rc ? rc : hlx_fsync_path(path, 1);
}

/* ---- the swap ----------------------------------------------------------- */

int hlx_prune_new_path(const char *repo, char out[PATH_MAX])
{
	return hlx_pathf(out, "%s.new", repo);
}

static int paths(const char *repo, char nw[PATH_MAX], char old[PATH_MAX],
		 char intent[PATH_MAX])
{
	int rc = hlx_pathf(nw, "%s.new", repo);

	if (!rc)
		rc = hlx_pathf(old, "%s.old", repo);
	if (!rc)
		rc = hlx_pathf(intent, "%s.swap", repo);
	return rc;
}

static int is_oid(const char *s)
{
	size_t i;

	for (i = 0; i < 40; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[40] == '\0';
}

int hlx_prune_intent(const char *repo, const char *old_head,
		     const char *new_head)
{
	char nw[PATH_MAX], old[PATH_MAX], intent[PATH_MAX], text[INTENT_MAX];
	int rc = paths(repo, nw, old, intent);

	if (rc)
		return rc;
	if ((old_head[0] && !is_oid(old_head)) || !is_oid(new_head))
		return hlx_err(HLX_EINVAL, "prune intent: heads must be commit ids");
	snprintf(text, sizeof(text), INTENT_MAGIC "\n%s\n%s\n",
		 old_head[0] ? old_head : "-", new_head);
	return hlx_file_write(intent, text, strlen(text), 0644);
}

/* The intent's heads; HLX_ENOENT without one. */
static int read_intent(const char *intent, char old_head[41],
		       char new_head[41])
{
	struct hlx_buf b = HLX_BUF_INIT;
	char o[48], nw[48];
	int rc = hlx_file_read(intent, INTENT_MAX, &b);

	if (rc)
		goto out;
	if (b.len > 0 && b.data[b.len - 1] == '\n' && !memchr(b.data, '\0', b.len) &&
	    sscanf((const char *)b.data, INTENT_MAGIC "\n%41s\n%41s\n", o, nw) == 2 &&
	    (is_oid(o) || !strcmp(o, "-")) && is_oid(nw)) {
		if (strcmp(o, "-") != 0)
			memcpy(old_head, o, 41); /* checked: 40 digits */
		else
			old_head[0] = '\0';
		memcpy(new_head, nw, 41);
	} else {
		rc = hlx_err(HLX_ESTATE, "damaged prune intent '%s'", intent);
	}
out:
	hlx_buf_free(&b);
	return rc;
}

/* The head of the repository at path, "" if it has none or is not one. */
static void repo_head(const char *path, char out[41])
{
	struct hlx_hist *h = NULL;

	out[0] = '\0';
	if (exists(path) && hlx_hist_open(path, 0, &h) == HLX_OK &&
	    hlx_hist_head(h, out) != HLX_OK)
		out[0] = '\0';
	hlx_hist_free(h);
	hlx_err_clear();
}

int hlx_prune_replace_repo(const char *repo)
{
	char nw[PATH_MAX], old[PATH_MAX], intent[PATH_MAX];
	char oh[41], nh[41], head[41];
	int rc = paths(repo, nw, old, intent);

	if (!rc)
		rc = read_intent(intent, oh, nh);
	if (rc)
		return rc;
	repo_head(repo, head);
	if (strcmp(head, nh) != 0) {
		repo_head(nw, head);
		if (strcmp(head, nh) != 0)
			return hlx_err(HLX_ESTATE,
				       "prune of '%s': neither the repository nor its replacement is at %.12s",
				       repo, nh);
		if (!exists(repo)) {
			if (rename(nw, repo) != 0)
				return hlx_err(HLX_EIO, "cannot rename '%s': %s", nw,
					       strerror(errno));
		} else if (renameat2(AT_FDCWD, nw, AT_FDCWD, repo,
				     RENAME_EXCHANGE) != 0) {
			/* No atomic exchange here: old out of the way, then
			 * new in (recovery finds the new one at R.new). */
			if (errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
				return hlx_err(HLX_EIO, "cannot exchange '%s' and '%s': %s",
					       nw, repo, strerror(errno));
			rc = hlx_rm_rf(old);
			if (!rc && rename(repo, old) != 0)
				rc = hlx_err(HLX_EIO, "cannot rename '%s': %s", repo,
					     strerror(errno));
			if (!rc && rename(nw, repo) != 0)
				rc = hlx_err(HLX_EIO, "cannot rename '%s': %s", nw,
					     strerror(errno));
			if (rc)
				return rc;
		}
		rc = sync_parent(repo);
		if (rc)
			return rc;
	}
	/* R is the new repository: what is left is the old one. */
	rc = hlx_rm_rf(nw);
	if (!rc)
		rc = hlx_rm_rf(old);
	if (!rc && unlink(intent) != 0 && errno != ENOENT)
		rc = hlx_err(HLX_EIO, "cannot remove '%s': %s", intent, strerror(errno));
	if (!rc)
		rc = sync_parent(repo);
	return rc;
}

int hlx_prune_abandon(const char *repo)
{
	char nw[PATH_MAX], old[PATH_MAX], intent[PATH_MAX];
	int rc = paths(repo, nw, old, intent);

	if (!rc)
		rc = hlx_rm_rf(nw);
	if (!rc && unlink(intent) != 0 && errno != ENOENT)
		rc = hlx_err(HLX_EIO, "cannot remove '%s': %s", intent, strerror(errno));
	if (!rc)
		rc = sync_parent(repo);
	return rc;
}

int hlx_prune_recover(struct hlx_node *n, const char *list, int writer)
{
	char repo[PATH_MAX], nw[PATH_MAX], old[PATH_MAX], intent[PATH_MAX];
	char oh[41], nh[41];
	struct hlx_list_rec rec;
	int rc = hlx_list_repo_path(n, list, repo);

	if (!rc)
		rc = paths(repo, nw, old, intent);
	if (rc)
		return rc;
	rc = read_intent(intent, oh, nh);
	if (rc == HLX_ENOENT) {
		hlx_err_clear();
		/* a prune that died before its intent: R.new is garbage */
		if (!writer)
			return HLX_OK;
		rc = hlx_rm_rf(nw);
		if (!rc)
			rc = hlx_rm_rf(old);
		return rc;
	}
	if (!rc)
		rc = hlx_store_list_get(hlx_node_store(n), list, &rec);
	if (rc)
		return rc;
	if (strcmp(rec.head, nh) == 0)
		return writer ? hlx_prune_replace_repo(repo) : 1;
	if (strcmp(rec.head, oh) == 0)
		return writer ? hlx_prune_abandon(repo) : HLX_OK;
	return hlx_err(HLX_ESTATE,
		       "list '%s': a prune was interrupted, and the state (version %"
		       PRIu64 ") is at neither its old nor its new head: run 'hlx reindex %s'",
		       list, rec.version, list);
}

/* ---- checkpoints -------------------------------------------------------- */

static int verify_sig(const struct hlx_buf *body, const struct hlx_buf *sig,
		      const struct hlx_trust *trust, int64_t issued)
{
	struct hlx_sshsig *s = NULL;
	int rc = hlx_sshsig_parse_armor((const char *)sig->data, sig->len, &s);

	if (!rc)
		rc = hlx_sshsig_verify(s, HLX_CHECKPOINT_NAMESPACE, body->data,
				       body->len);
	if (!rc)
		rc = hlx_trust_check(trust, hlx_sshsig_signer(s), issued);
	hlx_sshsig_free(s);
	return rc ? hlx_err_wrap(rc, "checkpoint signature") : HLX_OK;
}

/* Parse and verify the signature, org and list. */
static int load_checkpoint(const char *text, size_t n,
			   const struct hlx_trust *trust, const char *org,
			   const char *list, struct hlx_checkpoint *c)
{
	struct hlx_buf body = HLX_BUF_INIT, sig = HLX_BUF_INIT;
	int rc = hlx_checkpoint_parse(text, n, c, &body, &sig);

	if (!rc)
		rc = verify_sig(&body, &sig, trust, c->issued);
	if (!rc && (strcmp(c->org, org) || strcmp(c->org, hlx_trust_org(trust))))
		rc = hlx_err(HLX_EUNTRUSTED,
			     "the checkpoint is for organisation '%s', not '%s'",
			     c->org, org);
	if (!rc && strcmp(c->list, list))
		rc = hlx_err(HLX_EUNTRUSTED,
			     "the checkpoint is for list '%s', not '%s'", c->list,
			     list);
	hlx_buf_free(&body);
	hlx_buf_free(&sig);
	return rc;
}

int hlx_prune_checkpoint_verify(const char *text, size_t n,
				const struct hlx_trust *trust,
				const struct hlx_prune_have *have, int64_t now,
				struct hlx_checkpoint *c,
				struct hlx_prune_cont *cont)
{
	const struct hlx_checkpoint_version *e;
	int rc;

	memset(cont, 0, sizeof(*cont));
	rc = load_checkpoint(text, n, trust, have->org, have->list, c);
	if (rc)
		return rc;
	if (c->issued > now + CLOCK_SKEW)
		return hlx_err(HLX_EUNTRUSTED, "the checkpoint is issued in the future");
	if (have->held_issued >= 0 && c->issued <= have->held_issued)
		return hlx_err(HLX_EUNTRUSTED,
			       "the checkpoint is not newer than the one held (a replay?)");
	/* Continuity: the owner signed that the commit held is one of its
	 * own histories', or the new history is a fork and nothing of what
	 * is held may be replaced by it. */
	if (have->version == 0) {
		cont->kind = HLX_PRUNE_REBASE; /* nothing held */
		return HLX_OK;
	}
	if (have->version < c->before) {
		if (!hlx_checkpoint_prior_has(c, have->version, have->commit))
			return hlx_err(HLX_EUNTRUSTED,
				       "a fork: the checkpoint does not list commit %s of version %"
				       PRIu64 " held among the commits it replaces",
				       have->commit, have->version);
		cont->kind = HLX_PRUNE_REBASE;
		return HLX_OK;
	}
	e = hlx_checkpoint_find(c, have->version);
	if (!e)
		return hlx_err(HLX_EUNTRUSTED,
			       "a fork: the checkpoint ends at version %" PRIu64
			       ", before version %" PRIu64 " held",
			       c->before + c->n - 1, have->version);
	if (strcmp(have->commit, e->new_) == 0) {
		cont->kind = HLX_PRUNE_CURRENT;
	} else if ((strcmp(have->commit, e->old) == 0 ||
		    hlx_checkpoint_prior_has(c, have->version, have->commit)) &&
		   strcmp(have->tree, e->tree) == 0) {
		/* the commit the prune replaced, or one an earlier prune
		 * replaced: the held state continues into the new history */
		cont->kind = HLX_PRUNE_MAPPED;
	} else {
		return hlx_err(HLX_EUNTRUSTED,
			       "a fork: the checkpoint does not list commit %s of version %"
			       PRIu64 " held (nor its content) among the commits it replaces",
			       have->commit, have->version);
	}
	memcpy(cont->new_commit, e->new_, sizeof(cont->new_commit));
	return HLX_OK;
}

struct hist_ctx {
	struct hlx_hist *h;
	const struct hlx_checkpoint *c;
	char root[41];
	uint64_t rootver;
};

static int hist_cb(void *ctx, const struct hlx_hist_version *v)
{
	struct hist_ctx *x = ctx;
	const struct hlx_checkpoint_version *e = hlx_checkpoint_find(x->c, v->version);
	char tree[41], repl[41];
	int rc;

	memcpy(x->root, v->oid, sizeof(x->root));
	x->rootver = v->version;
	if (!e)
		return v->version < x->c->before ?
		       hlx_err(HLX_EUNTRUSTED,
			       "version %" PRIu64 " is before the checkpoint's first, %" PRIu64,
			       v->version, x->c->before) : HLX_OK;
	rc = hlx_hist_commit_info(x->h, v->oid, tree, repl);
	if (rc)
		return rc;
	if (strcmp(v->oid, e->new_) || strcmp(tree, e->tree))
		return hlx_err(HLX_EUNTRUSTED,
			       "version %" PRIu64 " (%.12s) is not the checkpoint's %.12s",
			       v->version, v->oid, e->new_);
	if (v->version == x->c->before && strcmp(repl, x->c->v[0].old))
		return hlx_err(HLX_EUNTRUSTED,
			       "version %" PRIu64 " (%.12s) is not the checkpoint root replacing %.12s",
			       v->version, v->oid, x->c->v[0].old);
	return HLX_OK;
}

int hlx_prune_check_history(struct hlx_hist *h, const struct hlx_checkpoint *c)
{
	struct hist_ctx x = { h, c, "", 0 };
	int rc = hlx_hist_log(h, hist_cb, &x);

	if (rc)
		return rc;
	if (!x.root[0])
		return hlx_err(HLX_EUNTRUSTED, "the history is empty");
	if (x.rootver != c->before)
		return hlx_err(HLX_EUNTRUSTED,
			       "the history starts at version %" PRIu64
			       ", the checkpoint at %" PRIu64, x.rootver, c->before);
	return HLX_OK;
}

static int root_cb(void *ctx, const struct hlx_hist_version *v)
{
	memcpy(ctx, v->oid, 41);
	return 0;
}

int hlx_prune_fsck(struct hlx_hist *h, const char *repo,
		   const struct hlx_trust *trust, const char *org,
		   const char *list)
{
	struct hlx_checkpoint c;
	struct hlx_buf b = HLX_BUF_INIT;
	char root[41] = "", tree[41], repl[41], p[PATH_MAX];
	int rc = hlx_hist_log(h, root_cb, root);

	if (rc || !root[0])
		return rc;
	rc = hlx_hist_commit_info(h, root, tree, repl);
	if (rc || !repl[0])
		return rc; /* a history from version 1 */
	hlx_checkpoint_init(&c);
	rc = hlx_pathf(p, "%s/" HLX_PRUNE_CHECKPOINT_FILE, repo);
	if (!rc)
		rc = hlx_file_read(p, HLX_CHECKPOINT_MAX, &b);
	if (rc == HLX_ENOENT)
		rc = hlx_err(HLX_ENOENT,
			     "the history starts at a checkpoint root, but '%s' is missing",
			     p);
	if (!rc)
		rc = load_checkpoint((const char *)b.data, b.len, trust, org, list,
				     &c);
	if (!rc)
		rc = hlx_prune_check_history(h, &c);
	hlx_checkpoint_free(&c);
	hlx_buf_free(&b);
	return rc;
}

/* ---- the owner's prune -------------------------------------------------- */

/* The commits of versions before `before` in h, lowest version first. */
struct pruned_ctx {
	struct hlx_checkpoint_prior *p;
	size_t n, cap;
	uint64_t before;
};

static int pruned_cb(void *ctx, const struct hlx_hist_version *v)
{
	struct pruned_ctx *x = ctx;

	if (v->version >= x->before)
		return HLX_OK;
	if (x->n == x->cap) {
		size_t cap = x->cap ? x->cap * 2 : 64;
		struct hlx_checkpoint_prior *q = realloc(x->p, cap * sizeof(*q));

		if (!q)
			return hlx_err(HLX_ENOMEM, "prune: out of memory");
		x->p = q;
		x->cap = cap;
	}
	x->p[x->n].version = v->version;
	memcpy(x->p[x->n].commit, v->oid, 41);
	x->n++;
	return HLX_OK;
}

static int pruned_add(struct pruned_ctx *x, uint64_t version, const char *oid)
{
	struct hlx_hist_version v;

	v.version = version;
	memcpy(v.oid, oid, 41);
	return pruned_cb(x, &v);
}

/*
 * The prior commits of the checkpoint of a prune of h (in repo) before
 * `before`, into c->prior (spec/prune.md section 3.2): the prior commits
 * of the checkpoint the repository holds and the commits it replaced
 * (the history before the earlier prune), then the commits of h that this
 * prune removes.  Oldest first; past the bounds, the oldest are left out.
 * *issued: when the new checkpoint is issued, now or, if the one held was
 * issued at now or later (two prunes in a second), a second after it:
 * subscribers accept only a checkpoint issued after the one they hold.
 */
static int gather_prior(struct hlx_hist *h, const char *repo, uint64_t before,
			int64_t now, struct hlx_checkpoint *c, int64_t *issued)
{
	struct pruned_ctx x = { NULL, 0, 0, UINT64_MAX };
	struct hlx_checkpoint held;
	struct hlx_buf b = HLX_BUF_INIT, hb = HLX_BUF_INIT, hs = HLX_BUF_INIT;
	char root[41] = "", tree[41], repl[41], p[PATH_MAX];
	size_t mine, start;
	int rc;

	hlx_checkpoint_init(&held);
	rc = hlx_hist_log(h, root_cb, root);
	if (!rc && root[0])
		rc = hlx_hist_commit_info(h, root, tree, repl);
	if (!rc && root[0] && repl[0]) {
		/* the history starts at an earlier prune's checkpoint root:
		 * what that checkpoint vouched for is still vouched for */
		rc = hlx_pathf(p, "%s/" HLX_PRUNE_CHECKPOINT_FILE, repo);
		if (!rc)
			rc = hlx_file_read(p, HLX_CHECKPOINT_MAX, &b);
		if (!rc)
			rc = hlx_checkpoint_parse((const char *)b.data, b.len, &held,
						  &hb, &hs);
		if (!rc)
			rc = hlx_prune_check_history(h, &held);
		if (rc)
			rc = hlx_err_wrap(rc, "the checkpoint of the earlier prune '%s'", p);
		if (!rc && held.issued >= now)
			now = held.issued + 1;
		for (size_t i = 0; !rc && i < held.nprior; i++)
			rc = pruned_add(&x, held.prior[i].version, held.prior[i].commit);
		for (size_t i = 0; !rc && i < held.n; i++)
			rc = pruned_add(&x, held.v[i].version, held.v[i].old);
	}
	mine = x.n;
	x.before = before;
	if (!rc)
		rc = hlx_hist_log(h, pruned_cb, &x);
	if (rc)
		goto out;
	/* the log goes from the head down: this history's, lowest first */
	for (size_t i = mine, j = x.n; i + 1 < j; i++, j--) {
		struct hlx_checkpoint_prior t = x.p[i];

		x.p[i] = x.p[j - 1];
		x.p[j - 1] = t;
	}
	/* the newest that fit the bounds (commits, runs) */
	start = hlx_checkpoint_prior_keep(x.p, x.n);
	for (size_t i = start; !rc && i < x.n; i++)
		rc = hlx_checkpoint_add_prior(c, x.p[i].version, x.p[i].commit);
	*issued = now;
out:
	free(x.p);
	hlx_checkpoint_free(&held);
	hlx_buf_free(&b);
	hlx_buf_free(&hb);
	hlx_buf_free(&hs);
	return rc;
}

/* The signed checkpoint of a rewrite, into file; c holds its prior
 * commits (gather_prior) and is filled with the rest. */
static int make_checkpoint(struct hlx_seckey *key, const char *org,
			   const char *list, uint64_t before, int64_t now,
			   const struct hlx_hist_rewritten *map, size_t n,
			   struct hlx_checkpoint *cp, struct hlx_buf *file)
{
	struct hlx_buf body = HLX_BUF_INIT, sig = HLX_BUF_INIT;
	struct hlx_checkpoint c = *cp;
	int rc = HLX_OK;

	hlx_checkpoint_init(cp); /* c owns the prior commits now */
	snprintf(c.org, sizeof(c.org), "%.64s", org);
	snprintf(c.list, sizeof(c.list), "%.64s", list);
	c.before = before;
	c.issued = now;
	for (size_t i = 0; i < n && !rc; i++) {
		struct hlx_checkpoint_version v;

		v.version = map[i].version;
		memcpy(v.old, map[i].old, 41);
		memcpy(v.new_, map[i].new_, 41);
		memcpy(v.tree, map[i].tree, 41);
		v.time = map[i].time;
		rc = hlx_checkpoint_add(&c, &v);
	}
	if (!rc)
		rc = hlx_checkpoint_body(&c, &body);
	if (!rc)
		rc = hlx_sshsig_sign(key, HLX_CHECKPOINT_NAMESPACE, "sha512",
				     body.data, body.len, &sig);
	if (!rc)
		rc = hlx_checkpoint_file((const char *)body.data, body.len,
					 (const char *)sig.data, sig.len, file);
	hlx_checkpoint_free(&c);
	hlx_buf_free(&body);
	hlx_buf_free(&sig);
	return rc;
}

int hlx_prune_reset_match(struct hlx_node *n, int *done)
{
	static const enum hlx_home_entry files[] = {
		HLX_HOME_MATCH_BASE, HLX_HOME_MATCH_DELTA, HLX_HOME_MATCH_TABLES
	};
	char p[PATH_MAX];
	int rc = HLX_OK;

	*done = 0;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]) && !rc; i++) {
		rc = hlx_node_path(n, files[i], NULL, NULL, p);
		if (!rc && exists(p)) {
			*done = 1;
			if (unlink(p) != 0 && errno != ENOENT)
				rc = hlx_err(HLX_EIO, "cannot remove '%s': %s", p,
					     strerror(errno));
		}
	}
	if (!rc && *done)
		rc = sync_parent(p);
	return rc;
}

/* The signed checkpoint of the rewrite, written into nw, and nw's tree
 * synced. */
static int write_checkpoint(struct hlx_seckey *key, const char *org,
			    const char *list, uint64_t before, int64_t issued,
			    const struct hlx_hist_rewritten *map, size_t nmap,
			    struct hlx_checkpoint *cp, const char *nw)
{
	struct hlx_buf file = HLX_BUF_INIT;
	char p[PATH_MAX];
	int rc;

	rc = make_checkpoint(key, org, list, before, issued, map, nmap, cp,
			     &file);
	if (!rc)
		rc = hlx_pathf(p, "%s/" HLX_PRUNE_CHECKPOINT_FILE, nw);
	if (!rc)
		rc = hlx_file_write(p, file.data, file.len, 0644);
	if (!rc)
		rc = hlx_prune_sync_tree(nw);
	hlx_buf_free(&file);
	return rc;
}

/* Only the owner prunes one of its lists, before a version it has, at a
 * time in range. */
static int prune_allowed(struct hlx_node *n, const char *list,
			 uint64_t before, int64_t now,
			 struct hlx_list_rec *rec)
{
	int rc = hlx_list_name_check(list);

	if (rc)
		return rc;
	if (strchr(list, '/'))
		return hlx_err(HLX_EPERM,
			       "list '%s' is a peer's: only its owner prunes it", list);
	rc = hlx_list_get(n, list, rec);
	if (rc)
		return rc;
	if (strcmp(rec->owner, hlx_home_org(hlx_node_home(n))) != 0)
		return hlx_err(HLX_EPERM, "list '%s' belongs to '%s': only its owner prunes it",
			       list, rec->owner);
	if (before < 2 || before > rec->version)
		return hlx_err(HLX_EINVAL,
			       "prune '%s' before version %" PRIu64 ": want 2 to %" PRIu64
			       " (the list is at version %" PRIu64 ")",
			       list, before, rec->version, rec->version);
	if (now < 0 || now > HLX_HIST_TIME_MAX)
		return hlx_err(HLX_EINVAL, "time %" PRId64 " out of range", now);
	return HLX_OK;
}

int hlx_prune_commit_swap(struct hlx_node *n, const char *repo,
			  struct hlx_store_txn *t, int rc,
			  struct hlx_hist **h, int *match_reset)
{
	if (rc) {
		/* nothing recorded: roll back */
		hlx_store_abort(t);
		hlx_prune_abandon(repo);
		return rc;
	}
	/* A failed commit may still have reached the disk: recovery looks
	 * at the state and finishes or rolls back. */
	rc = hlx_store_commit(t);
	if (h) {
		hlx_hist_free(*h);
		*h = NULL;
	}
	if (!rc)
		rc = hlx_prune_replace_repo(repo);
	if (!rc)
		rc = hlx_prune_reset_match(n, match_reset);
	return rc;
}

/* The intent is written (R.new is recovery's): the state takes the new
 * head, then the new history replaces the old (*h, closed first). */
static int prune_swap(struct hlx_node *n, const char *repo,
		      struct hlx_list_rec *rec, const char *new_head,
		      int64_t now, struct hlx_hist **h,
		      struct hlx_prune_result *res)
{
	struct hlx_store_txn *t = NULL;
	int rc;

	memcpy(res->old_head, rec->head, sizeof(res->old_head));
	memcpy(rec->head, new_head, sizeof(rec->head));
	rec->updated = now;
	rc = hlx_store_begin(hlx_node_store(n), &t);
	if (!rc)
		rc = hlx_store_set_list(t, rec);
	return hlx_prune_commit_swap(n, repo, t, rc, h, &res->match_reset);
}

int hlx_prune(struct hlx_node *n, const char *list, uint64_t before,
	      hlx_pass_fn getpass, void *ctx, int64_t now,
	      struct hlx_prune_result *res)
{
	struct hlx_home *home = hlx_node_home(n);
	struct hlx_hist_rewritten *map = NULL;
	struct hlx_hist *h = NULL;
	struct hlx_seckey *sgkey = NULL;
	struct hlx_list_rec rec;
	struct hlx_checkpoint cp;
	int64_t issued = now;
	char repo[PATH_MAX], nw[PATH_MAX];
	size_t nmap = 0;
	int rc, built = 0;

	memset(res, 0, sizeof(*res));
	hlx_checkpoint_init(&cp);
	rc = prune_allowed(n, list, before, now, &rec);
	if (rc)
		return rc;
	/* the key first: a wrong passphrase changes nothing */
	rc = hlx_home_signing_key(home, getpass, ctx, now, &sgkey);
	if (!rc)
		rc = hlx_list_repo_path(n, list, repo);
	if (!rc)
		rc = hlx_prune_new_path(repo, nw);
	if (!rc)
		rc = hlx_rm_rf(nw); /* a leftover: recovery found no intent */
	if (!rc)
		rc = hlx_list_open_hist(n, list, &h);
	if (rc)
		goto out;
	{
		/* pruned there already (a retry, to compact the state) */
		struct hlx_hist_version v;

		if (hlx_hist_find_version(h, before, &v) == HLX_OK &&
		    !v.parent[0]) {
			res->before = before;
			res->version = rec.version;
			memcpy(res->head, rec.head, sizeof(res->head));
			memcpy(res->old_head, rec.head, sizeof(res->old_head));
			goto out;
		}
		hlx_err_clear();
	}
	rc = gather_prior(h, repo, before, now, &cp, &issued);
	if (rc)
		goto out;
	built = 1;
	rc = hlx_hist_rewrite(h, before, nw, now, hlx_list_sign_commit, sgkey,
			      &map, &nmap);
	if (!rc && (map[nmap - 1].version != rec.version ||
		    strcmp(map[nmap - 1].old, rec.head) != 0))
		rc = hlx_err(HLX_ESTATE,
			     "list '%s': the history's head is not the state's", list);
	if (!rc)
		rc = write_checkpoint(sgkey, rec.owner, list, before, issued, map,
				      nmap, &cp, nw);
	if (!rc)
		rc = hlx_prune_intent(repo, rec.head, map[nmap - 1].new_);
	if (rc)
		goto out;
	built = 0; /* from here on, recovery owns R.new */
	rc = prune_swap(n, repo, &rec, map[nmap - 1].new_, now, &h, res);
	if (rc)
		goto out;
	res->before = before;
	res->version = rec.version;
	res->kept = nmap;
	memcpy(res->head, rec.head, sizeof(res->head));
out:
	if (rc && built)
		hlx_rm_rf(nw);
	hlx_hist_free(h);
	hlx_seckey_free(sgkey);
	hlx_checkpoint_free(&cp);
	free(map);
	return rc;
}

int hlx_prune_repo(const char *repo, const char *org, const char *list,
		   uint64_t before, struct hlx_seckey *key, int64_t now,
		   char new_head[41])
{
	struct hlx_hist_rewritten *map = NULL;
	struct hlx_hist *h = NULL;
	struct hlx_checkpoint cp;
	int64_t issued = now;
	char nw[PATH_MAX], head[41];
	size_t nmap = 0;
	int rc;

	hlx_checkpoint_init(&cp);
	rc = hlx_prune_new_path(repo, nw);
	if (!rc)
		rc = hlx_rm_rf(nw);
	if (!rc)
		rc = hlx_hist_open(repo, 0, &h);
	if (!rc)
		rc = hlx_hist_head(h, head);
	if (!rc)
		rc = gather_prior(h, repo, before, now, &cp, &issued);
	if (!rc)
		rc = hlx_hist_rewrite(h, before, nw, now, hlx_list_sign_commit, key,
				      &map, &nmap);
	if (!rc)
		rc = write_checkpoint(key, org, list, before, issued, map, nmap,
				      &cp, nw);
	hlx_hist_free(h);
	if (!rc)
		rc = hlx_prune_intent(repo, head, map[nmap - 1].new_);
	if (!rc)
		rc = hlx_prune_replace_repo(repo);
	if (!rc)
		memcpy(new_head, map[nmap - 1].new_, 41);
	else
		hlx_rm_rf(nw);
	hlx_checkpoint_free(&cp);
	free(map);
	return rc;
}
