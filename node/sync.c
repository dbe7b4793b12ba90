/* SPDX-License-Identifier: MIT */
/*
 * Pulling a peer's lists (node/sync.h, spec/sync.md): the sync state, the
 * phases of a pull (fetch the head, check it, stage and verify the new
 * versions, apply them), pruned histories (spec/prune.md) and the rounds
 * over the peers.  The checks of what a feed sends are in sync_verify.c.
 */
#include "node/sync_int.h"
#include "node/files.h"
#include "node/packs.h"
#include "node/prune.h"
#include "node/retention.h"
#include "keys/seal.h"
#include "keys/keyfile.h"
#include "keys/sshkey.h"
#include "keys/sshsig.h"
#include "keys/trust.h"
#include "protocol/err.h"
#include "protocol/checkpoint.h"
#include "protocol/head.h"
#include "protocol/record.h"
#include "protocol/rtime.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>


/* ---- sync state --------------------------------------------------------- */

/* Sync progress lives in peers/PEER/LIST.sync, not in the LMDB state, so
 * that a rejected feed leaves the state byte for byte as it was. */
static int state_path(struct hlx_node *n, const char *peer, const char *list,
		      char out[PATH_MAX])
{
	return hlx_node_path(n, HLX_HOME_PEER_SYNC, peer, list, out);
}

int hlx_sync_state_get(struct hlx_node *n, const char *peer, const char *list,
		       struct hlx_sync_state *out)
{
	struct hlx_buf b = HLX_BUF_INIT;
	char path[PATH_MAX];
	int rc;

	memset(out, 0, sizeof(*out));
	rc = state_path(n, peer, list, path);
	if (!rc)
		rc = hlx_file_read(path, 4096, &b);
	if (!rc) {
		/* etag, last_modified, last_try, last_ok, remote, expires,
		 * error: one a line */
		char *s = (char *)b.data, *f[7];
		int i = 0;

		for (f[i++] = s; i < 7 && (s = strchr(s, '\n')); f[i++] = ++s)
			*s = '\0';
		if (i == 7) {
			char *nl = strchr(f[6], '\n');

			if (nl)
				*nl = '\0';
			snprintf(out->etag, sizeof(out->etag), "%s", f[0]);
			snprintf(out->last_modified, sizeof(out->last_modified), "%s", f[1]);
			out->last_try = strtoll(f[2], NULL, 10);
			out->last_ok = strtoll(f[3], NULL, 10);
			out->remote_version = strtoull(f[4], NULL, 10);
			out->expires = strtoll(f[5], NULL, 10);
			snprintf(out->error, sizeof(out->error), "%s", f[6]);
		}
	}
	hlx_buf_free(&b);
	return rc == HLX_ENOENT ? HLX_OK : rc;
}

static int state_put(struct hlx_node *n, const char *peer, const char *list,
		     const struct hlx_sync_state *s)
{
	struct hlx_buf b = HLX_BUF_INIT;
	char path[PATH_MAX];
	int rc;

	rc = hlx_node_path(n, HLX_HOME_PEER, peer, NULL, path);
	if (!rc)
		rc = hlx_file_mkdirs(path, hlx_home_mode(HLX_HOME_PEER));
	if (!rc)
		rc = state_path(n, peer, list, path);
	if (!rc)
		rc = hlx_buf_printf(&b, "%s\n%s\n%" PRId64 "\n%" PRId64 "\n%" PRIu64
				    "\n%" PRId64 "\n%s\n",
				    s->etag, s->last_modified, s->last_try, s->last_ok,
				    s->remote_version, s->expires, s->error);
	if (!rc)
		rc = hlx_file_write(path, b.data, b.len, 0644);
	hlx_buf_free(&b);
	return rc;
}

int hlx_sync_state_error(struct hlx_node *n, const char *peer, const char *list,
			 const char *error)
{
	struct hlx_sync_state ss;
	int rc = hlx_sync_state_get(n, peer, list, &ss);

	if (rc)
		return rc;
	snprintf(ss.error, sizeof(ss.error), "%s", error);
	for (char *c = ss.error; *c; c++)
		if (*c == '\n' || *c == '\r')
			*c = ' ';
	return state_put(n, peer, list, &ss);
}

/* ---- pulling ------------------------------------------------------------ */


/* The peer's checkpoint for a list (spec/prune.md section 6, steps 2 and
 * 3), when the peer pruned it since we last looked: verified, with how
 * what we hold continues in the new history.  cont->kind 0: none new. */
static int pull_checkpoint(struct pull *p, const struct hlx_list_rec *rec,
			   const char *repo, struct hlx_buf *text,
			   struct hlx_checkpoint *c, struct hlx_prune_cont *cont)
{
	struct hlx_buf url = HLX_BUF_INIT, held = HLX_BUF_INIT, hb = HLX_BUF_INIT,
		       hs = HLX_BUF_INIT;
	struct hlx_checkpoint hc;
	struct hlx_prune_have have;
	struct hlx_hist *h = NULL;
	char rel[PATH_MAX], path[PATH_MAX], tree[41] = "", replaces[41];
	int rc;

	memset(cont, 0, sizeof(*cont));
	hlx_checkpoint_init(&hc);
	rc = hlx_pathf(rel, "lists/%s/checkpoint", p->list);
	if (!rc)
		rc = hlx_fetch_join(p->peer->url, rel, &url);
	if (!rc)
		rc = hlx_fetch_get(p->f, (char *)url.data,
				   SEALED_MAX(HLX_CHECKPOINT_MAX), NULL, NULL, text,
				   NULL);
	if (rc == HLX_ENOENT) {
		/* never pruned */
		hlx_err_clear();
		rc = HLX_OK;
		goto out;
	}
	if (!rc)
		rc = hlx_pull_open_sealed(p, rel, text, HLX_CHECKPOINT_MAX);
	if (rc)
		goto out;
	memset(&have, 0, sizeof(have));
	have.org = p->head.org;
	have.list = p->list;
	have.version = rec->version;
	have.commit = rec->head;
	have.tree = tree;
	have.held_issued = -1;
	if (rec->version) {
		rc = hlx_pathf(path, "%s/" HLX_PRUNE_CHECKPOINT_FILE, repo);
		if (!rc && hlx_file_read(path, HLX_CHECKPOINT_MAX, &held) == HLX_OK) {
			if (held.len == text->len &&
			    !memcmp(held.data, text->data, text->len))
				goto out; /* the one we hold */
			if (hlx_checkpoint_parse((char *)held.data, held.len, &hc,
						 &hb, &hs) == HLX_OK)
				have.held_issued = hc.issued;
		}
		hlx_err_clear();
		if (!rc)
			rc = hlx_hist_open(repo, 0, &h);
		if (!rc)
			rc = hlx_hist_commit_info(h, rec->head, tree, replaces);
		if (rc)
			goto out;
	}
	rc = hlx_prune_checkpoint_verify((char *)text->data, text->len, p->trust,
					 &have, p->now, c, cont);
	if (rc)
		rc = hlx_err_wrap(rc, "checkpoint of '%s'", p->list);
out:
	hlx_hist_free(h);
	hlx_checkpoint_free(&hc);
	hlx_buf_free(&url);
	hlx_buf_free(&held);
	hlx_buf_free(&hb);
	hlx_buf_free(&hs);
	return rc;
}

/* Stage a pruned history in nw (R.new, *built once it exists): the packs
 * from the checkpoint root (version before) up, every commit verified down
 * to the root, the checkpoint's word for each version it covers, and the
 * delta from what we hold, taken while the old mirror's objects are still
 * visible. */
static int pruned_stage(struct pull *p, const struct hlx_list_rec *rec,
			int have_rec, const char *repo,
			const struct hlx_checkpoint *c,
			const struct hlx_prune_cont *cont, const char *nw,
			int *built, struct delta *d)
{
	const char *home = hlx_home_dir(hlx_node_home(p->n));
	struct hlx_hist *stage = NULL;
	char file[PATH_MAX];
	uint64_t before = c ? c->before : 1;
	int rc;

	rc = hlx_rm_rf(nw);
	if (!rc && !have_rec) {
		rc = hlx_home_path(file, home, HLX_HOME_PEER_LISTS, p->peer->name, NULL);
		if (!rc)
			rc = hlx_file_mkdirs(file, hlx_home_mode(HLX_HOME_PEER_LISTS));
	}
	if (!rc)
		rc = hlx_pack_stage(have_rec ? repo : NULL, nw);
	*built = !rc;
	if (!rc) {
		struct hlx_pack_job *job = NULL;

		rc = hlx_pull_fetch_packs(p, nw, before, p->head.version, NULL,
					  &job);
		/* (read from the packs alone: the last one indexed first) */
		if (!rc)
			rc = hlx_pull_pack_indexed(&job, p->head.version);
	}
	if (!rc)
		rc = hlx_hist_open(nw, 0, &stage);
	if (!rc)
		rc = hlx_hist_set_head(stage, NULL, p->head.commit);
	/* every commit down to the checkpoint root, then the checkpoint's
	 * word for each version it covers */
	if (!rc)
		rc = hlx_pull_verify_commits(p, stage, "", before - 1);
	if (!rc && c)
		rc = hlx_prune_check_history(stage, c);
	if (!rc)
		rc = hlx_hist_check_chain(stage);
	/* the delta, while the old mirror's objects are still visible */
	if (!rc)
		rc = hlx_hist_diff(stage,
				   cont && cont->kind == HLX_PRUNE_MAPPED ? cont->new_commit :
				   rec->head[0] ? rec->head : NULL,
				   p->head.commit, hlx_pull_delta_line, d);
	if (!rc)
		rc = hlx_pull_check_delta(d);
	/* a cases log only grows, whatever history carries it */
	if (!rc && p->kind == HLX_LIST_CASES)
		rc = hlx_pull_check_cases(p, stage,
					  have_rec && rec->head[0] ? rec->head : NULL,
					  p->head.commit);
	hlx_hist_free(stage);
	return rc;
}

/* Make the staged history self-contained, and only what was verified:
 * the objects the new head reaches, packed afresh, in place of the packs
 * the feed sent; no alternates to the old mirror. */
static int pruned_repack(const char *nw, const char *head)
{
	struct hlx_hist *stage = NULL;
	char file[PATH_MAX], keep[PATH_MAX];
	int rc;

	rc = hlx_pathf(keep, "%s/keep", nw);
	if (!rc)
		rc = hlx_pack_keep(nw, head, NULL, keep);
	if (!rc)
		rc = hlx_pack_drop(nw);
	if (!rc)
		rc = hlx_pack_adopt(keep, nw);
	if (!rc && rmdir(keep) != 0)
		rc = hlx_err(HLX_EIO, "cannot remove '%s': %s", keep, strerror(errno));
	if (!rc && hlx_pathf(file, "%s/objects/info/alternates", nw) == HLX_OK &&
	    unlink(file) != 0 && errno != ENOENT)
		rc = hlx_err(HLX_EIO, "cannot remove '%s': %s", file, strerror(errno));
	if (!rc)
		rc = hlx_hist_open(nw, 0, &stage);
	if (!rc)
		rc = hlx_hist_check_chain(stage);
	hlx_hist_free(stage);
	return rc;
}

/* Swap the staged history in: intent, state, swap.  A new mirror first
 * gets an empty repository and its record, so that recovery always has
 * both.  *built 0 once the intent is written: R.new is recovery's. */
static int pruned_swap(struct pull *p, struct hlx_list_rec *rec, int have_rec,
		       const char *repo, const char *oldhead, struct delta *d,
		       int *built, struct hlx_pull_result *res)
{
	struct hlx_store_txn *t = NULL;
	int rc, done;

	if (!have_rec) {
		struct hlx_hist *empty = NULL;

		rc = hlx_hist_open(repo, 1, &empty);
		hlx_hist_free(empty);
		if (!rc)
			rc = hlx_store_list_create(hlx_node_store(p->n), p->full,
						   p->head.org, rec);
		if (rc)
			return rc;
	}
	rc = hlx_prune_intent(repo, oldhead, p->head.commit);
	if (rc)
		return rc;
	*built = 0;
	rc = hlx_store_begin(hlx_node_store(p->n), &t);
	if (!rc)
		rc = hlx_pull_apply_delta(t, rec->id, d, p->head.has_rules &&
					  p->head.rules.retention_days > 0,
					  p->now, 0);
	if (!rc) {
		res->from = rec->version;
		rec->version = p->head.version;
		memcpy(rec->head, p->head.commit, sizeof(rec->head));
		rec->count = rec->count + d->added - d->removed;
		rec->updated = p->head.issued;
		rc = hlx_store_set_list(t, rec);
	}
	rc = hlx_prune_commit_swap(p->n, repo, t, rc, NULL, &done);
	if (!rc) {
		res->changed = 1;
		res->pruned = 1;
		res->to = rec->version;
		res->added = d->added;
		res->removed = d->removed;
	}
	return rc;
}

/* Adopt a peer's pruned history (spec/prune.md section 6, steps 4 to 9):
 * fetched and verified whole in R.new, then swapped in with the state.
 * Without a checkpoint (c NULL), a whole new history from version 1: a
 * peer's feed moved to another URL (another audience's view). */
static int pull_pruned(struct pull *p, struct hlx_list_rec *rec, int have_rec,
		       const char *repo, const struct hlx_buf *text,
		       const struct hlx_checkpoint *c,
		       const struct hlx_prune_cont *cont,
		       struct hlx_pull_result *res)
{
	struct delta d = { .arena = HLX_BUF_INIT, .kind = p->kind };
	char nw[PATH_MAX], file[PATH_MAX], oldhead[41];
	int rc, built = 0;

	snprintf(oldhead, sizeof(oldhead), "%s", rec->head);
	rc = hlx_prune_new_path(repo, nw);
	if (!rc)
		rc = pruned_stage(p, rec, have_rec, repo, c, cont, nw, &built, &d);
	if (!rc)
		rc = pruned_repack(nw, p->head.commit);
	if (!rc && c)
		rc = hlx_pathf(file, "%s/" HLX_PRUNE_CHECKPOINT_FILE, nw);
	if (!rc && c)
		rc = hlx_file_write(file, text->data, text->len, 0644);
	if (!rc)
		rc = hlx_prune_sync_tree(nw);
	if (!rc)
		rc = hlx_pull_save_rules(p, have_rec ? rec : NULL);
	if (!rc)
		rc = pruned_swap(p, rec, have_rec, repo, oldhead, &d, &built, res);
	if (built)
		hlx_rm_rf(nw);
	hlx_buf_free(&d.arena);
	free(d.off);
	return rc;
}

/* ---- the phases of a pull ----------------------------------------------- */

/* Fetch the head.  Not modified (res->not_modified): nothing new, but the
 * head we verified last must still be fresh, or a server answering 304
 * for ever freezes us. */
static int fetch_head(struct pull *p, const struct hlx_sync_state *ss,
		      struct hlx_buf *text, struct hlx_fetch_result *fr,
		      struct hlx_pull_result *res)
{
	struct hlx_buf url = HLX_BUF_INIT;
	char rel[PATH_MAX];
	int rc;

	rc = hlx_pathf(rel, "lists/%s/head", p->list);
	if (!rc)
		rc = hlx_fetch_join(p->peer->url, rel, &url);	/* url is empty */
	if (!rc)
		rc = hlx_fetch_get(p->f, (char *)url.data, SEALED_MAX(HLX_HEAD_MAX),
				   ss->etag, ss->last_modified, text, fr);
	if (!rc && fr->not_modified) {
		if (ss->expires <= p->now) {
			char ts[HLX_TIME_TEXT];

			hlx_time_format(ss->expires, ts);
			rc = hlx_err(HLX_EEXPIRED,
				     "not modified, but the head expired at %s (a frozen feed?)",
				     ts);
		} else {
			res->not_modified = 1;
		}
	}
	hlx_buf_free(&url);
	return rc;
}

/* Check the head: opened, parsed into p->head, for the audience and the
 * list asked for, signed for the peer's organisation under its trust
 * chain (p->trust), fresh and not from the future. */
static int check_head(struct pull *p, struct hlx_buf *text)
{
	struct hlx_buf body = HLX_BUF_INIT, sig = HLX_BUF_INIT;
	char rel[PATH_MAX], want[33];
	int rc;

	rc = hlx_pathf(rel, "lists/%s/head", p->list);
	if (!rc)
		rc = hlx_pull_open_sealed(p, rel, text, HLX_HEAD_MAX);
	if (!rc)
		rc = hlx_head_parse((char *)text->data, text->len, &p->head, &body,
				    &sig);
	if (rc)
		goto out;
	/* the audience the head is for is the one the URL names */
	hlx_pull_url_audience(p->peer->url, want);
	if (strcmp(p->head.audience, want) != 0) {
		rc = hlx_err(HLX_EUNTRUSTED,
			     "the head is for %s%s, the peer's URL names %s%s",
			     p->head.audience[0] ? "audience " : "the open feed",
			     p->head.audience, want[0] ? "audience " : "the open feed",
			     want);
		goto out;
	}
	if (strcmp(p->head.list, p->list) != 0) {
		rc = hlx_err(HLX_EUNTRUSTED, "the head is for list '%s', not '%s'",
			     p->head.list, p->list);
		goto out;
	}
	rc = hlx_pull_peer_trust(p);
	if (!rc && strcmp(hlx_trust_org(p->trust), p->head.org) != 0)
		rc = hlx_err(HLX_EUNTRUSTED, "the head is signed for '%s', the peer is '%s'",
			     p->head.org, hlx_trust_org(p->trust));
	if (!rc)
		rc = hlx_pull_verify_head(p, &body, &sig);
	if (rc)
		goto out;
	if (p->head.expires <= p->now) {
		char ts[HLX_TIME_TEXT];

		hlx_time_format(p->head.expires, ts);
		rc = hlx_err(HLX_EEXPIRED, "the head expired at %s (a frozen feed?)", ts);
		goto out;
	}
	if (p->head.issued > p->now + CLOCK_SKEW)
		rc = hlx_err(HLX_EUNTRUSTED, "the head is issued in the future");
out:
	hlx_buf_free(&body);
	hlx_buf_free(&sig);
	return rc;
}

/* What we hold of the list (*have_rec 0: nothing, rec zeroed); held for
 * the organisation that signed the head. */
static int held_list(struct pull *p, struct hlx_list_rec *rec, int *have_rec)
{
	int rc = hlx_list_get(p->n, p->full, rec);

	*have_rec = rc == HLX_OK;
	if (rc && rc != HLX_ENOENT)
		return rc;
	if (!*have_rec) {
		memset(rec, 0, sizeof(*rec));
		hlx_err_clear();
	} else if (strcmp(rec->owner, p->head.org) != 0) {
		return hlx_err(HLX_EUNTRUSTED,
			       "'%s' is held for '%s', the head is from '%s'",
			       p->full, rec->owner, p->head.org);
	}
	return HLX_OK;
}

/*
 * The peer's feed moved ('hlx peer set --url'): behind the new URL may be
 * another history of the list (another audience's view), so it is taken
 * afresh, verified whole, the state following by a diff; a deliberate
 * step of the operator, never a server's choice.  *done 1: the list was
 * marked, and this was the pull.
 */
static int pull_moved(struct pull *p, struct hlx_list_rec *rec, int have_rec,
		      struct hlx_pull_result *res, int *done)
{
	const char *home = hlx_home_dir(hlx_node_home(p->n));
	struct hlx_buf cptext = HLX_BUF_INIT;
	struct hlx_checkpoint cp;
	struct hlx_prune_cont cont;
	char repo[PATH_MAX];
	int rc, marked = 0;

	*done = 0;
	hlx_checkpoint_init(&cp);
	rc = hlx_peer_rebase_marked(home, p->peer->name, p->list, &marked);
	if (rc || !have_rec || !rec->version || !marked) {
		rc = HLX_OK;
		goto out;
	}
	*done = 1;
	rc = hlx_home_path(repo, home, HLX_HOME_MIRROR_REPO, p->peer->name, p->list);
	if (!rc && strcmp(p->head.commit, rec->head) != 0) {
		struct hlx_list_rec none = *rec;

		none.version = 0;
		none.head[0] = '\0';
		rc = pull_checkpoint(p, &none, repo, &cptext, &cp, &cont);
		if (!rc)
			rc = pull_pruned(p, rec, have_rec, repo, &cptext,
					 cont.kind ? &cp : NULL,
					 cont.kind ? &cont : NULL, res);
	} else if (!rc) {
		rc = hlx_pull_save_rules(p, rec); /* the same history */
	}
	if (!rc)
		rc = hlx_peer_rebase_clear(home, p->peer->name, p->list);
out:
	hlx_buf_free(&cptext);
	hlx_checkpoint_free(&cp);
	return rc;
}

/* A pruned history: the checkpoint says how ours continues.  *done 1: the
 * peer pruned the list since we last looked, and this was the pull. */
static int pull_if_pruned(struct pull *p, struct hlx_list_rec *rec,
			  int have_rec, struct hlx_pull_result *res, int *done)
{
	const char *home = hlx_home_dir(hlx_node_home(p->n));
	struct hlx_buf cptext = HLX_BUF_INIT;
	struct hlx_checkpoint cp;
	struct hlx_prune_cont cont;
	char repo[PATH_MAX];
	int rc;

	*done = 0;
	hlx_checkpoint_init(&cp);
	rc = hlx_home_path(repo, home, HLX_HOME_MIRROR_REPO, p->peer->name, p->list);
	if (!rc)
		rc = pull_checkpoint(p, rec, repo, &cptext, &cp, &cont);
	if (!rc && (cont.kind == HLX_PRUNE_MAPPED ||
		    cont.kind == HLX_PRUNE_REBASE)) {
		*done = 1;
		rc = pull_pruned(p, rec, have_rec, repo, &cptext, &cp, &cont, res);
	}
	hlx_buf_free(&cptext);
	hlx_checkpoint_free(&cp);
	return rc;
}

/* The new versions of a list, staged and verified, ready to apply. */
struct staged {
	char repo[PATH_MAX];        /* the mirror */
	char staging[PATH_MAX];     /* sees the mirror's objects */
	char keep[PATH_MAX];        /* the one pack that is kept */
	struct hlx_hist *mirror;    /* open if the list is held */
	struct hlx_hist *stage;
	int made;                   /* staging exists: removed at the end */
	struct delta d, d2;         /* the delta: d's lines, then d2's */
	struct hlx_store_txn *t;    /* d and d2 applied into it, uncommitted */
	struct hlx_hist_blobs *blobs; /* the new objects, as fetched */
	struct hlx_pack_job *job;   /* the last pack's indexer, at work */
};

/* The new objects kept inflated for the check: a 1M-entry list's first
 * version is about 70 MB; past this, they are read from the pack. */
#define BLOBS_BUDGET ((size_t)256 << 20)

static void staged_free(struct staged *s)
{
	hlx_pack_job_abandon(s->job);
	hlx_store_abort(s->t);
	hlx_hist_blobs_free(s->blobs);
	hlx_hist_free(s->stage);
	hlx_hist_free(s->mirror);
	if (s->made)
		hlx_rm_rf(s->staging);
	hlx_buf_free(&s->d.arena);
	free(s->d.off);
	free(s->d.scratch);
	free(s->d.cut);
	hlx_buf_free(&s->d2.arena);
	free(s->d2.off);
	free(s->d2.scratch);
	free(s->d2.cut);
}

/*
 * The state's transaction, opened before the delta is read so that the
 * first half's lines go into it as they are checked (a list not held yet
 * gets its record there too), and nothing is committed before every new
 * version was verified.  Not when the verified head starts a retention
 * period on a list held already: its entries' clocks must start in a
 * transaction of their own before the rules are saved (and the delta is
 * applied after that, as hlx_pull_save_rules wants).
 */
static int stream_begin(struct pull *p, struct hlx_list_rec *rec,
			int have_rec, struct staged *s)
{
	int retention = p->head.has_rules && p->head.rules.retention_days > 0;
	struct hlx_rules was;
	int rc;

	if (retention && have_rec && rec->version) {
		rc = hlx_retention_rules(p->n, p->full, &was);
		if (rc || was.retention_days == 0)
			return rc;
	}
	rc = hlx_store_begin(hlx_node_store(p->n), &s->t);
	if (!rc && !have_rec)
		rc = hlx_store_list_create_txn(s->t, p->full, p->head.org, rec);
	if (rc)
		return rc;
	s->d.t = s->t;
	s->d.list = rec->id;
	s->d.retention = retention;
	s->d.fresh = !have_rec;
	s->d.now = p->now;
	return HLX_OK;
}

/* Stage and verify: fetch the packs of the missing versions into a
 * repository that sees the mirror's objects, and verify every new commit
 * there; then keep only what was verified. */
static int stage_and_verify(struct pull *p, struct hlx_list_rec *rec,
			    int have_rec, struct staged *s)
{
	const char *home = hlx_home_dir(hlx_node_home(p->n));
	char file[PATH_MAX];
	int rc;

	rc = hlx_home_path(s->repo, home, HLX_HOME_MIRROR_REPO, p->peer->name, p->list);
	if (!rc)
		rc = hlx_pathf(file, "%s.%s.%ld", p->peer->name, p->list, (long)getpid());
	if (!rc)
		rc = hlx_home_path(s->staging, home, HLX_HOME_STAGING_REPO, file, NULL);
	if (rc)
		return rc;
	if (have_rec)
		rc = hlx_hist_open(s->repo, 0, &s->mirror);
	if (!rc)
		rc = hlx_home_path(file, home, HLX_HOME_STAGING, NULL, NULL);
	if (!rc)
		rc = hlx_file_mkdirs(file, 0755);
	if (!rc) {
		hlx_rm_rf(s->staging);
		rc = hlx_pack_stage(have_rec ? s->repo : NULL, s->staging);
		s->made = !rc;
	}
	if (!rc)
		rc = hlx_hist_open(s->staging, 0, &s->stage);
	/* the shards the scanner inflates are kept for the check below,
	 * which would otherwise inflate them from the pack again */
	if (!rc)
		rc = hlx_hist_blobs_new(BLOBS_BUDGET, &s->blobs);
	if (!rc)
		rc = hlx_pull_fetch_packs(p, s->staging, rec->version + 1,
					  p->head.version, s->blobs, &s->job);
	/* With every object of the packs in hand, the commits and trees are
	 * read from there, while libgit2 still indexes the last pack (each
	 * kept object was hashed, so it is the one its id names); with
	 * fewer, the indexer is waited for and the rest read from the packs.
	 * Either way nothing is kept or applied before the indexer took the
	 * pack.  (A miss may have libgit2 look at staging's packs meanwhile:
	 * it loads a pack only when both its index and its pack file are in
	 * place, and the indexer moves each there whole, by a rename, so the
	 * last pack is seen whole or not at all; nothing relies on it before
	 * the job is finished.) */
	if (!rc && hlx_hist_blobs_whole(s->blobs))
		rc = hlx_hist_blobs_serve(s->stage, s->blobs);
	else if (!rc)
		rc = hlx_pull_pack_indexed(&s->job, p->head.version);
	if (!rc)
		rc = hlx_pull_verify_commits(p, s->stage, rec->head, rec->version);
	if (!rc)
		rc = stream_begin(p, rec, have_rec, s);
	/* the shape of every new version (lines in their shards, sorted,
	 * unique, canonical) and the delta, in one reading; every added
	 * line decodes as the list's kind of record */
	/* (the shards in two halves, on two threads: s->d, applied into
	 * s->t as it comes when it is open, and s->d2) */
	/* the second half's lines are kept until applied: room for about
	 * as much as half the shards kept (and the entries' keys) at once,
	 * not grown by copying what it holds again and again */
	if (!rc) {
		size_t half = hlx_hist_blobs_memory(s->blobs) / 2;

		if (hlx_buf_reserve(&s->d2.arena, half + half / 2) != HLX_OK)
			hlx_err_clear(); /* grown as it comes, then */
	}
	if (!rc)
		rc = hlx_hist_check_delta(s->stage, rec->head[0] ? rec->head : NULL,
					  p->head.commit, hlx_pull_delta_checked,
					  &s->d, &s->d2, s->blobs);
	hlx_hist_blobs_free(s->blobs);
	s->blobs = NULL;
	if (!rc)
		rc = hlx_pull_delta_flush(&s->d);
	/* the second half of the delta into the state (uncommitted), while
	 * the indexer may still work */
	if (!rc && s->t)
		rc = hlx_pull_apply_delta(s->t, rec->id, &s->d2, s->d.retention,
					  p->now, s->d.fresh);
	if (!rc)
		rc = hlx_pull_pack_indexed(&s->job, p->head.version);
	if (!rc && p->kind == HLX_LIST_CASES)
		rc = hlx_pull_check_cases(p, s->stage,
					  rec->head[0] ? rec->head : NULL,
					  p->head.commit);
	/* Keep only what was verified: one pack of the objects the new
	 * commits reach (and the mirror lacks), not what the feed sent. */
	if (!rc)
		rc = hlx_pathf(s->keep, "%s/keep", s->staging);
	if (!rc)
		rc = hlx_pack_keep(s->staging, p->head.commit,
				   rec->head[0] ? rec->head : NULL, s->keep);
	return rc;
}

/* Apply what was staged and verified: objects, then state, then the ref.
 * A list not held yet first gets its mirror and its record. */
static int apply_staged(struct pull *p, struct hlx_list_rec *rec,
			int have_rec, struct staged *s,
			struct hlx_pull_result *res)
{
	const char *home = hlx_home_dir(hlx_node_home(p->n));
	struct hlx_store_txn *t = NULL;
	char file[PATH_MAX];
	int rc = HLX_OK;

	if (!have_rec) {
		rc = hlx_home_path(file, home, HLX_HOME_PEER_LISTS, p->peer->name, NULL);
		if (!rc)
			rc = hlx_file_mkdirs(file, hlx_home_mode(HLX_HOME_PEER_LISTS));
		if (!rc)
			rc = hlx_hist_open(s->repo, 1, &s->mirror);
		/* (made in s->t when the delta went in as it came) */
		if (!rc && !s->t)
			rc = hlx_store_list_create(hlx_node_store(p->n), p->full,
						   p->head.org, rec);
		if (rc)
			goto out;
	}
	if (s->t) {
		/* the delta is in it already */
		t = s->t;
		s->t = NULL;
	} else {
		rc = hlx_store_begin(hlx_node_store(p->n), &t);
		if (!rc)
			rc = hlx_pull_apply_delta(t, rec->id, &s->d,
						  p->head.has_rules &&
						  p->head.rules.retention_days > 0,
						  p->now, !have_rec);
		/* d2's keys all follow d's: a changed entry's removal and
		 * addition are in the same unit */
		if (!rc)
			rc = hlx_pull_apply_delta(t, rec->id, &s->d2,
						  p->head.has_rules &&
						  p->head.rules.retention_days > 0,
						  p->now, !have_rec);
	}
	if (rc)
		goto out;
	rc = hlx_pack_adopt(s->keep, s->repo);
	if (rc)
		goto out;
	res->from = rec->version;
	{
		const char *old = rec->head[0] ? rec->head : NULL;
		char oldbuf[41];

		snprintf(oldbuf, sizeof(oldbuf), "%s", rec->head);
		rec->version = p->head.version;
		memcpy(rec->head, p->head.commit, sizeof(rec->head));
		rec->count = rec->count + s->d.added + s->d2.added -
			     s->d.removed - s->d2.removed;
		rec->updated = p->head.issued;
		rc = hlx_store_set_list(t, rec);
		if (!rc) {
			rc = hlx_store_commit(t);
			t = NULL;
		}
		if (!rc)
			rc = hlx_hist_set_head(s->mirror, old ? oldbuf : NULL,
					       p->head.commit);
	}
	if (rc)
		goto out;
	res->changed = 1;
	res->to = rec->version;
	res->added = s->d.added + s->d2.added;
	res->removed = s->d.removed + s->d2.removed;
out:
	hlx_store_abort(t);
	return rc;
}

/* A pull: fetch the head, check it, then by what we hold and what the
 * peer did (moved its feed, pruned, nothing new, new versions) stage and
 * verify the new versions and apply them.  Once verified, the peer's
 * trust chain is kept and the sync state moves on. */
static int do_pull(struct pull *p, struct hlx_sync_state *ss,
		   struct hlx_pull_result *res)
{
	struct hlx_buf text = HLX_BUF_INIT;
	struct hlx_fetch_result fr;
	struct hlx_list_rec rec;
	struct staged s = { .d = { .arena = HLX_BUF_INIT, .kind = p->kind },
			    .d2 = { .arena = HLX_BUF_INIT, .kind = p->kind, .back = 1 } };
	int rc, have_rec, done = 0;

	rc = fetch_head(p, ss, &text, &fr, res);
	if (rc == HLX_ENOENT && p->kind == HLX_LIST_CASES) {
		/* every signatory of a plan is subscribed to every other's
		 * cases log (spec/cases.md 7.2) before it has filed a case:
		 * no log yet is not a failure; a log we hold that vanished is */
		int held = hlx_list_get(p->n, p->full, &rec);

		if (held == HLX_ENOENT) {
			hlx_err_clear();
			res->none = 1;
			rc = HLX_OK;
		} else if (held == HLX_OK) {
			rc = hlx_err(HLX_ENOENT, "the peer no longer publishes its cases log");
		} else {
			rc = held;
		}
	}
	if (rc || res->not_modified || res->none)
		goto out;
	rc = check_head(p, &text);
	if (!rc)
		rc = held_list(p, &rec, &have_rec);
	if (rc)
		goto out;
	res->from = res->to = rec.version;
	rc = pull_moved(p, &rec, have_rec, res, &done);
	if (rc || done)
		goto verified;
	if (p->head.version < rec.version) {
		rc = hlx_err(HLX_EUNTRUSTED,
			     "rollback: the head is version %" PRIu64 ", we hold %" PRIu64,
			     p->head.version, rec.version);
		goto out;
	}
	rc = pull_if_pruned(p, &rec, have_rec, res, &done);
	if (rc || done)
		goto verified;
	if (p->head.version == rec.version) {
		if (strcmp(p->head.commit, rec.head) != 0)
			rc = hlx_err(HLX_EUNTRUSTED,
				     "the head names another commit for version %" PRIu64 " (a fork)",
				     rec.version);
		/* the newest verified head's rules apply */
		else if (have_rec)
			rc = hlx_pull_save_rules(p, &rec);
		goto verified;
	}
	rc = stage_and_verify(p, &rec, have_rec, &s);
	/* Everything verified.  The handling rules first: they govern what
	 * is applied next (retention, onward sharing). */
	if (!rc)
		rc = hlx_pull_save_rules(p, have_rec ? &rec : NULL);
	if (!rc)
		rc = apply_staged(p, &rec, have_rec, &s, res);
verified:
	if (!rc && p->trust_new)
		rc = hlx_pull_save_trust(p);
	if (!rc) {
		snprintf(ss->etag, sizeof(ss->etag), "%s", fr.etag);
		snprintf(ss->last_modified, sizeof(ss->last_modified), "%s",
			 fr.last_modified);
		ss->remote_version = p->head.version;
		ss->expires = p->head.expires;
	}
out:
	staged_free(&s);
	hlx_buf_free(&text);
	return rc;
}

int hlx_pull(struct hlx_node *n, const struct hlx_peer *peer, const char *list,
	     struct hlx_fetch *f, int64_t now, struct hlx_pull_keys *keys,
	     struct hlx_pull_result *res)
{
	struct pull p = { .n = n, .peer = peer, .list = list, .f = f, .now = now,
			  .keys = keys };
	struct hlx_sync_state ss;
	int rc;

	memset(res, 0, sizeof(*res));
	rc = hlx_name_check(list, strlen(list), "list");
	if (!rc)
		rc = hlx_pathf(p.full, "%s/%s", peer->name, list);
	if (rc)
		return rc;
	p.kind = hlx_list_kind(list);
	hlx_sync_state_get(n, peer->name, list, &ss);
	ss.last_try = now;
	rc = do_pull(&p, &ss, res);
	if (rc) {
		snprintf(ss.error, sizeof(ss.error), "%s", hlx_err_detail());
		for (char *c = ss.error; *c; c++)
			if (*c == '\n' || *c == '\r')
				*c = ' ';
		/* forget the validators: retry in full next time */
		ss.etag[0] = ss.last_modified[0] = '\0';
	} else {
		ss.error[0] = '\0';
		ss.last_ok = now;
	}
	{
		/* the sync record must not hide the pull's own error detail */
		char keep[512];
		int prc;

		snprintf(keep, sizeof(keep), "%s", hlx_err_detail());
		prc = state_put(n, peer->name, list, &ss);
		if (rc)
			hlx_err(rc, "%s", keep);
		else
			rc = prc;
	}
	hlx_trust_free(p.trust);
	return rc;
}
