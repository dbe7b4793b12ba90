/* SPDX-License-Identifier: MIT */
/*
 * Writing one feed (node/publish_int.h, spec/sync.md): the packs of each
 * version of a list, its checkpoint and its signed head, the feed's trust
 * chain; sealed to the audience's members when the feed is encrypted.
 * Every version disclosed to a peer is written to the audit log before
 * any file that discloses it.  Which feeds there are, and what each
 * serves, is decided in publish.c.
 */
#include "node/publish_int.h"
#include "node/views.h"
#include "node/audit.h"
#include "node/files.h"
#include "node/packs.h"
#include "node/plans.h"
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
#include "protocol/plan_feed.h"
#include "protocol/signed.h"
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

/* The pack file a history holds of version v as it is (node/packs.h,
 * hlx_pack_find), looked for once for all feeds: 1 with its path, 0 when
 * there is none (the pack is built then). */
static int own_pack(struct pub_ctx *c, const char *repo,
		    const struct hlx_hist_version *v, const char **path)
{
	struct pub_pack *x;
	struct stat st;
	const char *mp;
	char p[PATH_MAX];

	for (size_t i = 0; i < c->npacks; i++) {
		x = &c->packs[i];
		/* the same commit is the same objects, whichever history */
		if (!strcmp(x->to, v->oid) && !strcmp(x->from, v->parent) &&
		    lstat(x->path, &st) == 0 && S_ISREG(st.st_mode)) {
			*path = x->path;
			return 1;
		}
	}
	mp = hlx_view_memo_pack(&c->v, v->parent, v->oid);
	if (mp && lstat(mp, &st) == 0 && S_ISREG(st.st_mode))
		snprintf(p, sizeof(p), "%s", mp);
	else if (hlx_pack_find(repo, v->parent[0] ? v->parent : NULL, v->oid, p) != HLX_OK) {
		hlx_err_clear();
		return 0;
	}
	x = realloc(c->packs, (c->npacks + 1) * sizeof(*x));
	if (!x)
		return 0;
	c->packs = x;
	x = &c->packs[c->npacks++];
	memcpy(x->from, v->parent, sizeof(x->from));
	memcpy(x->to, v->oid, sizeof(x->to));
	memcpy(x->path, p, sizeof(x->path));
	*path = x->path;
	return 1;
}

/* Copy (or seal, to f's members) the file at src into the new file out. */
static int pack_from(const struct feed *f, const char *src,
		     struct hlx_file_new *out, const char *ctx)
{
	char buf[1 << 16];
	size_t got = 0;
	int rc = HLX_OK, in = open(src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (in < 0)
		return hlx_err(HLX_EIO, "cannot open '%s': %s", src, strerror(errno));
	if (f->to)
		rc = hlx_seal_fd(in, out->fd, f->to, f->nto, ctx);
	else
		while (!(rc = hlx_read_some(in, src, buf, sizeof(buf), &got)) && got)
			if (hlx_write_all(out->fd, buf, got) != 0) {
				rc = hlx_err(HLX_EIO, "cannot write '%s': %s", out->path,
					     strerror(errno));
				break;
			}
	close(in);
	return rc;
}

/* A pack file of the feed.  When the history holds the version's pack as
 * it is, a plain feed links that very file (one copy on disk for the
 * history and every plain feed of it) and a sealed one seals it;
 * otherwise packs.c writes it, plain, and a sealed feed seals that.  All
 * are new files (node/files.h): nothing planted in the feed or the side
 * directory is followed, and the plain pack of a sealed feed never has a
 * name of its own.  The open feed keeps its own copy of the list's packs. */
static int feed_pack(struct pub_ctx *c, const struct feed *f, const char *repo,
		     const char *name, const struct hlx_hist_version *v)
{
	char path[PATH_MAX], rel[PATH_MAX], tmp[PATH_MAX], ctx[PATH_MAX];
	struct hlx_file_new plain = { .fd = -1, .dirfd = -1 };
	struct hlx_file_new out = { .fd = -1, .dirfd = -1 };
	const char *from = v->parent[0] ? v->parent : NULL, *src = NULL;
	int rc, linked = 0;

	rc = hlx_pathf(rel, "lists/%s/packs/%" PRIu64 ".pack", name, v->version);
	if (!rc)
		rc = hlx_pathf(path, "%s/%s", f->dir, rel);
	if (!rc && f->to)
		rc = hlx_home_path(tmp, f->home, HLX_HOME_VIEW_PLAIN, f->view, NULL);
	if (!rc && f->to)
		rc = hlx_pathf(ctx, "hlx-feed:%s", rel);
	if (rc)
		return rc;
	if (f->au && own_pack(c, repo, v, &src)) {
		if (!f->to)
			rc = hlx_file_link_in(f->root, src, path, &linked);
		if (rc || linked)
			goto done;
		rc = hlx_file_new_open(&out, f->root, path, 0644);
		if (!rc)
			rc = pack_from(f, src, &out, ctx);
		goto done;
	}
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
	if (!rc && !linked)
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
	int rc = hlx_view_signing_key(&c->v);

	if (!rc)
		rc = hlx_head_body(h, &body);
	if (!rc)
		rc = hlx_sshsig_sign(c->v.key, HLX_HEAD_NAMESPACE, "sha512", body.data,
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
	rc = hlx_view_signing_key(&c->v);
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
		r[k].time = c->v.now;
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
		rc = hlx_audit_append(hlx_home_dir(hlx_node_home(c->v.n)), c->v.key, r, k);
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
	rc = f->to ? hlx_home_path(p, f->home, HLX_HOME_VIEW_CHECKPOINT, f->view,
				   l->name) :
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

/* The head of list l as the feed will serve it, but for its times. */
static void head_template(const struct pub_ctx *c, const struct feed *f,
			  const struct feed_list *l, struct hlx_head *head)
{
	const struct hlx_trust *t = hlx_home_trust(hlx_node_home(c->v.n));
	uint8_t th[32];

	memset(head, 0, sizeof(*head));
	snprintf(head->org, sizeof(head->org), "%.64s", l->owner);
	snprintf(head->list, sizeof(head->list), "%.64s", l->name);
	head->version = l->version;
	snprintf(head->commit, sizeof(head->commit), "%s", l->commit);
	head->trust_length = hlx_trust_length(t);
	hlx_trust_head(t, th);
	sodium_bin2hex(head->trust_head, sizeof(head->trust_head), th, 32);
	if (l->rules) {
		head->has_rules = 1;
		head->rules = *l->rules;
	}
	/* bound to its audience: a host cannot serve it as another's */
	if (f->au)
		memcpy(head->audience, f->id, sizeof(head->audience));
}

/* What the feed holds of list l, from the head published last at plain
 * (for a sealed feed, our plain copy): *from, the version it served;
 * *keep, that head is current and has more than half its life.  A feed
 * that served another history has its packs (in d) rewritten whole
 * (*repack). */
static int feed_prev(const struct pub_ctx *c, const struct feed *f,
		     const struct feed_list *l, struct hlx_hist *h,
		     const struct hlx_head *head, const char *plain,
		     const char *d, uint64_t first, int have_ck,
		     uint64_t *from, int *keep, int *repack)
{
	struct hlx_buf old = HLX_BUF_INIT, b1 = HLX_BUF_INIT, b2 = HLX_BUF_INIT;
	struct hlx_hist_version v;
	struct hlx_head prev;
	char p[PATH_MAX];
	int rc = HLX_OK;

	if (hlx_file_read_in(f->to ? NULL : f->root, plain, HLX_HEAD_MAX,
			     &old) == HLX_OK &&
	    hlx_head_parse((char *)old.data, old.len, &prev, &b1, &b2) == HLX_OK) {
		*from = prev.version;
		/* keep a head that is current and has more than half its life */
		*keep = !f->reseal && !*repack && f->nfresh == 0 &&
			prev.version == head->version &&
			!strcmp(prev.commit, head->commit) &&
			prev.trust_length == head->trust_length &&
			!strcmp(prev.trust_head, head->trust_head) &&
			rules_equal(&prev, head) &&
			!strcmp(prev.audience, head->audience) &&
			prev.expires - c->v.now > c->validity / 2 &&
			prev.issued <= c->v.now;
		/* the feed served another history (the open feed before it
		 * was a view, say): it is rewritten whole */
		if (!*repack && (prev.version > head->version ||
				 (prev.version >= first &&
				  (hlx_hist_find_version(h, prev.version, &v) != HLX_OK ||
				   strcmp(v.oid, prev.commit) != 0)))) {
			*keep = 0;
			*from = 0;
			*repack = 1;
			rc = hlx_rm_rf_in(f->root, d);
			if (!rc)
				rc = hlx_file_mkdirs_in(f->root, d, 0755);
			if (!rc && !have_ck &&
			    !(rc = hlx_pathf(p, "%s/lists/%s/checkpoint", f->dir, l->name)) &&
			    unlink(p) != 0 && errno != ENOENT)
				rc = hlx_err(HLX_EIO, "cannot remove '%s': %s", p,
					     strerror(errno));
		}
	}
	hlx_buf_free(&old);
	hlx_buf_free(&b1);
	hlx_buf_free(&b2);
	return rc;
}

/* One pack a version from first, from its parent, into d: those missing,
 * or all of them when they are sealed anew or rewritten. */
static int feed_packs(struct pub_ctx *c, const struct feed *f,
		      const struct feed_list *l, struct hlx_hist *h,
		      const char *d, uint64_t first, int repack)
{
	struct hlx_hist_version v;
	char p[PATH_MAX];
	struct stat st;
	int rc = HLX_OK;

	for (uint64_t ver = first; !rc && ver <= l->version; ver++) {
		rc = hlx_pathf(p, "%s/%" PRIu64 ".pack", d, ver);
		if (rc || (!f->reseal && !repack && lstat(p, &st) == 0 &&
			   S_ISREG(st.st_mode)))
			continue;
		rc = hlx_hist_find_version(h, ver, &v);
		if (!rc)
			rc = feed_pack(c, f, l->repo, l->name, &v);
	}
	return rc;
}

/* The checkpoint ck of list l into the feed (and our plain copy of a
 * sealed feed's). */
static int feed_checkpoint_write(const struct feed *f,
				 const struct feed_list *l,
				 const struct hlx_buf *ck)
{
	char rel[PATH_MAX], p[PATH_MAX];
	int rc;

	rc = hlx_pathf(rel, "lists/%s/checkpoint", l->name);
	if (!rc)
		rc = feed_write(f, rel, ck->data, ck->len);
	if (!rc && f->to)
		rc = hlx_home_path(p, f->home, HLX_HOME_VIEW_CHECKPOINT, f->view,
				   l->name);
	if (!rc && f->to)
		rc = hlx_file_write(p, ck->data, ck->len,
				    hlx_home_mode(HLX_HOME_VIEW_CHECKPOINT));
	return rc;
}

/* Bring one list of a feed up to date: its packs, then its head.  The
 * audit records come first of all: a pack sealed anew to a new member
 * discloses the versions it holds as much as the head naming them. */
int hlx_publish_feed_list(struct pub_ctx *c, const struct feed *f,
			  const struct feed_list *l)
{
	struct hlx_buf text = HLX_BUF_INIT, ck = HLX_BUF_INIT;
	struct hlx_hist *h = NULL;
	struct hlx_head head;
	char d[PATH_MAX], rel[PATH_MAX], plain[PATH_MAX];
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
	head_template(c, f, l, &head);
	rc = hlx_pathf(rel, "lists/%s/head", l->name);
	if (!rc)
		rc = f->to ? hlx_home_path(plain, f->home, HLX_HOME_VIEW_HEAD, f->view,
					   l->name) :
			     hlx_pathf(plain, "%s/%s", f->dir, rel);
	if (rc)
		goto out;
	rc = feed_prev(c, f, l, h, &head, plain, d, first, ck.len != 0, &from,
		       &keep, &repack);
	hlx_err_clear();
	/* every disclosure is on record before any file that makes it */
	if (!rc && !keep)
		rc = audit(c, f, l, from);
	/* the packs, written before the head */
	if (!rc)
		rc = feed_packs(c, f, l, h, d, first, repack);
	/* a new checkpoint after its packs, before the head */
	if (!rc && ck.len && (repack || f->reseal))
		rc = feed_checkpoint_write(f, l, &ck);
	if (rc || keep)
		goto out;
	head.issued = c->v.now;
	head.expires = c->v.now + c->validity;
	rc = sign_head(c, &head, &text);
	if (!rc)
		rc = feed_head(f, rel, &text);
	if (!rc && f->to)
		rc = hlx_file_write(plain, text.data, text.len, 0600);
	if (!rc)
		c->st->heads_signed++;
out:
	if (rc)
		rc = hlx_err_wrap(rc, "cannot publish list '%s'", l->name);
	hlx_hist_free(h);
	hlx_buf_free(&text);
	hlx_buf_free(&ck);
	return rc;
}

/* trust.json of a feed, first: heads name it. */
int hlx_publish_feed_trust(struct pub_ctx *c, const struct feed *f)
{
	struct hlx_buf b = HLX_BUF_INIT, cur = HLX_BUF_INIT;
	char p[PATH_MAX];
	int rc;

	rc = hlx_pathf(p, "%s/lists", f->dir);
	if (!rc)
		rc = hlx_file_mkdirs_in(f->root, p, 0755);
	if (!rc)
		rc = hlx_trust_serialize(hlx_home_trust(hlx_node_home(c->v.n)), &b);
	if (!rc)
		rc = f->to ? hlx_home_path(p, f->home, HLX_HOME_VIEW_TRUST, f->view, NULL) :
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

/* ---- plans (spec/plan.md section 7) -------------------------------------- */

/* plans-seq in the home: the highest plans seq this node signed, in any
 * feed and any publish directory (0: none), so that a feed served from a
 * new directory goes on above what its subscribers verified before. */
static int plans_seq_read(struct pub_ctx *c)
{
	struct hlx_buf b = HLX_BUF_INIT;
	char p[PATH_MAX];
	uint64_t v = 0;
	size_t i;
	int rc;

	c->plans_seq = 0;
	rc = hlx_node_path(c->v.n, HLX_HOME_PLANS_SEQ, NULL, NULL, p);
	if (!rc)
		rc = hlx_file_read(p, 32, &b);
	if (rc == HLX_ENOENT) {
		hlx_err_clear();
		rc = HLX_OK;
		goto out;
	}
	if (rc)
		goto out;
	/* decimal digits and a newline, 1 to 2^62: never guessed past */
	for (i = 0; i < b.len && b.data[i] >= '0' && b.data[i] <= '9' && i < 19; i++)
		v = v * 10 + (uint64_t)(b.data[i] - '0');
	if (i == 0 || b.data[0] == '0' || i + 1 != b.len || b.data[i] != '\n' ||
	    v > ((uint64_t)1 << 62))
		rc = hlx_err(HLX_EINVAL, "'%s' is damaged (not a plans seq): with it"
			     " removed, the next seq follows the feed's own head", p);
	else
		c->plans_seq = v;
out:
	hlx_buf_free(&b);
	return rc;
}

/* Raise plans-seq to seq, durably, before any head with seq is written. */
static int plans_seq_note(struct pub_ctx *c, uint64_t seq)
{
	char p[PATH_MAX], txt[32];
	int n, rc;

	if (seq <= c->plans_seq)
		return HLX_OK;
	n = snprintf(txt, sizeof(txt), "%llu\n", (unsigned long long)seq);
	rc = hlx_node_path(c->v.n, HLX_HOME_PLANS_SEQ, NULL, NULL, p);
	if (!rc)
		rc = hlx_file_write(p, txt, (size_t)n, hlx_home_mode(HLX_HOME_PLANS_SEQ));
	if (!rc)
		c->plans_seq = seq;
	return rc;
}

static int plans_loaded(struct pub_ctx *c)
{
	struct hlx_plans *p = NULL;
	int rc;

	if (c->plans_loaded)
		return HLX_OK;
	rc = plans_seq_read(c);
	if (!rc)
		rc = hlx_plans_load(c->v.n, &p);
	if (!rc)
		rc = hlx_plans_publishable(p, &c->plans, &c->nplans);
	hlx_plans_free(p);
	if (!rc)
		c->plans_loaded = 1;
	return rc;
}

/* Was bundle e listed by the previous head, and is its file there? */
static int bundle_current(const struct feed *f, const struct hlx_plans_head *prev,
			  const struct hlx_plans_entry *e, const char *path)
{
	struct stat st;

	if (f->reseal || !prev)
		return 0;
	for (size_t i = 0; i < prev->n; i++)
		if (!strcmp(prev->v[i].doc, e->doc) && !strcmp(prev->v[i].bundle, e->bundle))
			return lstat(path, &st) == 0 && S_ISREG(st.st_mode);
	return 0;
}

int hlx_publish_feed_plans(struct pub_ctx *c, const struct feed *f)
{
	const struct hlx_trust *t = hlx_home_trust(hlx_node_home(c->v.n));
	struct hlx_buf old = HLX_BUF_INIT, b1 = HLX_BUF_INIT, b2 = HLX_BUF_INIT;
	struct hlx_buf body = HLX_BUF_INIT, sig = HLX_BUF_INIT, text = HLX_BUF_INIT;
	struct hlx_plans_head prev, head;
	char plain[PATH_MAX], rel[PATH_MAX], p[PATH_MAX];
	uint8_t th[32];
	int rc, have = 0, same;

	memset(&head, 0, sizeof(head));
	memset(&prev, 0, sizeof(prev));
	rc = plans_loaded(c);
	if (!rc)
		rc = f->to ? hlx_home_path(plain, f->home, HLX_HOME_VIEW_PLANS, f->view, NULL)
			   : hlx_pathf(plain, "%s/" HLX_PLANS_FEED_HEAD, f->dir);
	if (rc)
		goto out;
	if (hlx_file_read_in(f->to ? NULL : f->root, plain, HLX_PLANS_HEAD_MAX,
			     &old) == HLX_OK &&
	    hlx_plans_head_parse((char *)old.data, old.len, &prev, &b1, &b2) == HLX_OK)
		have = 1;
	hlx_err_clear();
	if (!c->nplans && !have)
		goto out; /* no plans, never published any */
	snprintf(head.org, sizeof(head.org), "%s", hlx_home_org(hlx_node_home(c->v.n)));
	head.trust_length = hlx_trust_length(t);
	hlx_trust_head(t, th);
	sodium_bin2hex(head.trust_head, sizeof(head.trust_head), th, 32);
	if (f->au)
		memcpy(head.audience, f->id, sizeof(head.audience));
	if (c->nplans && !(head.v = calloc(c->nplans, sizeof(*head.v)))) {
		rc = hlx_err(HLX_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < c->nplans; i++)
		head.v[i] = c->plans[i].e;
	head.n = c->nplans;
	same = have && hlx_plans_head_same(&prev, &head);
	/* a change takes a seq above every one this node signed, here or in
	 * another directory: a feed moved to a new directory (publish --to,
	 * publish-dir) is no rollback to its subscribers; the note is durable
	 * before any head has the seq */
	if (same)
		head.seq = prev.seq;
	else
		head.seq = (have && prev.seq > c->plans_seq ? prev.seq : c->plans_seq) + 1;
	rc = plans_seq_note(c, head.seq);
	if (rc)
		goto out;
	/* the bundles, before the head that lists them */
	for (size_t i = 0; !rc && i < c->nplans; i++) {
		const struct hlx_plans_entry *e = &c->plans[i].e;

		rc = hlx_pathf(rel, "plans/%s", e->name);
		if (!rc)
			rc = hlx_pathf(p, "%s/%s", f->dir, rel);
		if (!rc)
			rc = hlx_file_mkdirs_in(f->root, p, 0755);
		if (!rc)
			rc = hlx_pathf(rel, HLX_PLANS_FEED_BUNDLE, e->name, e->doc);
		if (!rc)
			rc = hlx_pathf(p, "%s/%s", f->dir, rel);
		if (!rc && !bundle_current(f, have ? &prev : NULL, e, p))
			rc = feed_write(f, rel, c->plans[i].text.data, c->plans[i].text.len);
	}
	if (rc)
		goto out;
	/* kept while it lists the same, names the same chain and audience,
	 * and has more than half its life */
	if (same && !f->reseal && f->nfresh == 0 &&
	    prev.trust_length == head.trust_length &&
	    !strcmp(prev.trust_head, head.trust_head) &&
	    !strcmp(prev.audience, head.audience) &&
	    prev.expires - c->v.now > c->validity / 2 && prev.issued <= c->v.now)
		goto out;
	head.issued = c->v.now;
	head.expires = c->v.now + c->validity;
	rc = hlx_view_signing_key(&c->v);
	if (!rc)
		rc = hlx_plans_head_body(&head, &body);
	if (!rc)
		rc = hlx_sshsig_sign(c->v.key, HLX_PLANS_HEAD_NAMESPACE, "sha512",
				     body.data, body.len, &sig);
	if (!rc)
		rc = hlx_signed_file("plans head", (char *)body.data, body.len,
				     (char *)sig.data, sig.len, &text);
	if (!rc)
		rc = feed_head(f, HLX_PLANS_FEED_HEAD, &text);
	if (!rc && f->to)
		rc = hlx_file_write(plain, text.data, text.len,
				    hlx_home_mode(HLX_HOME_VIEW_PLANS));
out:
	if (rc)
		rc = hlx_err_wrap(rc, "cannot publish the plans");
	hlx_plans_head_free(&prev);
	hlx_plans_head_free(&head);
	hlx_buf_free(&old);
	hlx_buf_free(&b1);
	hlx_buf_free(&b2);
	hlx_buf_free(&body);
	hlx_buf_free(&sig);
	hlx_buf_free(&text);
	return rc;
}
