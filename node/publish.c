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
 * file that discloses it.  The views themselves are made by node/views.c;
 * this file decides which feeds there are and which views each serves;
 * publish_feed.c writes a feed.
 */
#include "node/publish_int.h"
#include "node/views.h"
#include "node/audit.h"
#include "node/caseurl.h"
#include "node/plans.h"
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

/* ---- leftovers ---------------------------------------------------------- */

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
		} else if (hlx_file_is_temp(de->d_name) &&
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
	/* the open feed's raw URLs of cases (node/caseurl.h) */
	if (!rc && !(rc = hlx_pathf(p, "%s/%s", c->dir, HLX_CASEURL_DIR)))
		rc = clean_temps(c->dir, p, 0, NULL);
	if (!rc && !(rc = hlx_node_path(c->v.n, HLX_HOME_VIEWS, NULL, NULL, p)))
		rc = clean_temps(NULL, p, 2, NULL);
	return rc;
}

/* ---- audiences ---------------------------------------------------------- */

/* The view of source s for audience au (views/ID/ of the home), then each of
 * its nf feeds (none: the view is kept up to date, pruned and purged with
 * its source, but published nowhere). */
static int audience_list(struct pub_ctx *c, const struct hlx_audience *au,
			 const struct feed *fv, size_t nf, struct hlx_view_src *s)
{
	struct hlx_view_made v;
	int rc = hlx_view_update(&c->v, au->policy, au->id, s, &v);

	if (!rc) {
		/* the open feed's heads carry no rules (sync.md section 3.2) */
		struct feed_list fl = { v.name, hlx_home_org(hlx_node_home(c->v.n)),
					v.version, v.head, v.repo,
					nf && !fv[0].au ? NULL : &v.rules, v.count };

		for (size_t i = 0; !rc && i < nf; i++)
			rc = hlx_publish_feed_list(c, &fv[i], &fl);
		if (nf)
			c->st->lists++;
	}
	if (rc)
		rc = hlx_err_wrap(rc, "audience %s, list '%s'", au->id, s->name);
	return rc;
}

/* The box keys of an audience's members, and whether they changed since
 * the last publish (members file in the side directory). */
static int members(const struct hlx_audience *au, const char *home,
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
		rc = hlx_home_path(p, home, HLX_HOME_VIEW_MEMBERS, au->id, NULL);
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

static int publish_audience(struct pub_ctx *c, const struct hlx_audience *au,
			    struct hlx_view_src *srcs, size_t nsrcs)
{
	const char *home = hlx_home_dir(hlx_node_home(c->v.n));
	struct feed *fv = NULL;
	struct hlx_boxpub *to = NULL;
	struct hlx_buf mtext = HLX_BUF_INIT;
	const char **fresh = NULL;
	char side[PATH_MAX], p[PATH_MAX];
	size_t nfresh = 0, nf = 0, nto = 0;
	int rc, changed = 0, plain = !hlx_policy_encrypt(au->policy);

	rc = hlx_home_path(side, home, HLX_HOME_VIEW, au->id, NULL);
	if (!rc)
		rc = hlx_file_mkdirs(side, hlx_home_mode(HLX_HOME_VIEW));
	if (!rc)
		rc = members(au, home, &to, &nto, &mtext, &changed, &fresh, &nfresh);
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
		f->home = home;
		f->view = au->id;
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
		/* what a sealed feed served is known from our plain copies in
		 * the home; a directory without its trust.json (a new publish
		 * directory, --to) holds none of it: all is written again */
		if (!rc && !plain && !f->reseal) {
			struct stat st;

			rc = hlx_pathf(p, "%s/trust.json", f->dir);
			f->reseal = !rc && (lstat(p, &st) != 0 || !S_ISREG(st.st_mode));
			f->trust_last = f->reseal;
		}
	}
	if (!rc)
		rc = hlx_view_check_names(au->policy, srcs, nsrcs);
	if (rc == HLX_EPOLICY && !au->n) {
		/* no one can be given it as it is: nor is its view kept */
		hlx_err_clear();
		rc = hlx_rm_rf(side);
		goto out;
	}
	for (size_t i = 0; !rc && i < nf; i++)
		if (!fv[i].trust_last)
			rc = hlx_publish_feed_trust(c, &fv[i]);
	for (size_t i = 0; !rc && i < nf; i++)
		rc = hlx_publish_feed_plans(c, &fv[i]);
	for (size_t i = 0; !rc && i < nsrcs; i++) {
		struct hlx_view_src *s = &srcs[i];
		char vname[HLX_NAME_MAX + 1];

		if (!hlx_policy_list(au->policy, s->name))
			continue;
		if (strchr(s->name, '/') && !s->rules.onward) {
			/* the origin forbids onward sharing: never relayed,
			 * and taken down, view and all, if it was */
			rc = hlx_view_name(s->name, vname);
			for (size_t j = 0; !rc && j < nf; j++) {
				rc = hlx_pathf(p, "%s/lists/%s", fv[j].dir, vname);
				if (!rc)
					rc = hlx_rm_rf_in(c->dir, p);
			}
			if (!rc)
				rc = hlx_home_path(p, home, HLX_HOME_VIEW_REPO, au->id, vname);
			if (!rc)
				rc = hlx_rm_rf(p);
			if (!rc)
				rc = hlx_home_path(p, home, HLX_HOME_VIEW_SRC, au->id, vname);
			if (!rc && unlink(p) != 0 && errno != ENOENT)
				rc = hlx_err(HLX_EIO, "cannot remove '%s': %s", p,
					     strerror(errno));
			continue;
		}
		if (c->st->progress && nf)
			c->st->progress(c->st->progress_ctx, c->audience, c->audiences,
					s->name);
		rc = audience_list(c, au, fv, nf, s);
	}
	/* what marks a new directory's sealed feed as whole comes last */
	for (size_t i = 0; !rc && i < nf; i++)
		if (fv[i].trust_last)
			rc = hlx_publish_feed_trust(c, &fv[i]);
	if (!rc)
		rc = hlx_home_path(p, home, HLX_HOME_VIEW_MEMBERS, au->id, NULL);
	if (!rc && (changed || nfresh))
		rc = hlx_file_write(p, mtext.data, mtext.len,
				    hlx_home_mode(HLX_HOME_VIEW_MEMBERS));
out:
	free(fv);
	free(to);
	free(fresh);
	hlx_buf_free(&mtext);
	return rc;
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
	    hlx_node_path(c->v.n, HLX_HOME_VIEWS, NULL, NULL, side))
		return hlx_err(HLX_EINVAL, "path too long");
	ids = calloc(pols->n + 1, sizeof(*ids));
	if (!ids)
		return hlx_err(HLX_ENOMEM, "out of memory");
	rc = hlx_node_secret(hlx_home_dir(hlx_node_home(c->v.n)), 1, &secret);
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

/* What one audience or peer could not be given is reported, and the
 * others are published all the same; what none could go on after (memory,
 * the signing key, the state) stops them all. */
static int failed(struct pub_ctx *c, const struct hlx_audience *au,
		  const struct hlx_peer *pe, int rc, const char *why)
{
	struct hlx_buf who = HLX_BUF_INIT;

	if (rc == HLX_ENOMEM || rc == HLX_EPASS || rc == HLX_EPERM ||
	    rc == HLX_EEXPIRED || rc == HLX_EREVOKED || rc == HLX_EUNTRUSTED ||
	    rc == HLX_ECRYPTO || rc == HLX_ESTORE)
		return rc;
	c->st->failed++;
	if (pe)
		hlx_buf_printf(&who, "peer '%s'", pe->name);
	for (size_t i = 0; au && i < au->n; i++)
		hlx_buf_printf(&who, "%s'%s'", i ? ", " : au->n > 1 ? "peers " : "peer ",
			       au->members[i]->name);
	if (au && !au->n)
		hlx_buf_printf(&who, "the views of policy '%s'", hlx_policy_name(au->policy));
	if (c->st->failure && !hlx_buf_putc(&who, '\0'))
		c->st->failure(c->st->failure_ctx, (const char *)who.data, rc,
			       why ? why : hlx_err_detail());
	hlx_buf_free(&who);
	hlx_err_clear();
	return HLX_OK;
}

/* The views kept for policies no peer is bound to (sweep keeps them). */
static int quiet_views(struct pub_ctx *c, const struct hlx_audiences *aus,
		       const struct hlx_policies *pols, struct hlx_view_src *srcs,
		       size_t nsrcs)
{
	char (*done)[33] = calloc(pols->n + 1, sizeof(*done));
	uint8_t *secret = NULL;
	size_t nd = 0;
	int rc = done ? HLX_OK : hlx_err(HLX_ENOMEM, "out of memory");

	if (!rc)
		rc = hlx_node_secret(hlx_home_dir(hlx_node_home(c->v.n)), 1, &secret);
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
		rc = hlx_node_path(c->v.n, HLX_HOME_VIEW, au.id, NULL, p);
		if (!rc && access(p, F_OK) == 0 &&
		    (rc = publish_audience(c, &au, srcs, nsrcs)))
			rc = failed(c, &au, NULL, rc, NULL);
	}
	hlx_node_secret_free(secret);
	free(done);
	return rc;
}

/* The views of the audiences' own lists, made ahead on two threads
 * (node/views.h): the largest part of publishing to many audiences, and
 * independent of one another but for the versions they share.  The
 * audiences are published after, one by one, each view found up to
 * date.  Peers' lists, the status and cases logs and pruned lists are
 * left to that pass. */
static int views_ahead(struct pub_ctx *c, const struct hlx_audiences *aus,
		       struct hlx_view_srcs *s)
{
	struct hlx_view_job *jobs = calloc(aus->n * s->n + 1, sizeof(*jobs));
	size_t n = 0;
	int rc;

	if (!jobs)
		return hlx_err(HLX_ENOMEM, "out of memory");
	for (size_t i = 0; i < aus->n; i++) {
		const struct hlx_audience *au = &aus->v[i];

		if (hlx_view_check_names(au->policy, s->v, s->n) != HLX_OK) {
			hlx_err_clear();
			continue;
		}
		for (size_t j = 0; j < s->n; j++) {
			struct hlx_view_src *x = &s->v[j];

			if (strchr(x->name, '/') || x->status || x->cases ||
			    x->ckpt[0] || !hlx_policy_list(au->policy, x->name))
				continue;
			jobs[n].p = au->policy;
			jobs[n].view = au->id;
			jobs[n++].s = x;
		}
	}
	rc = hlx_view_update_many(&c->v, jobs, n);
	free(jobs);
	return rc;
}

static int publish_policies(struct pub_ctx *c, const struct hlx_policies *pols)
{
	const char *home = hlx_home_dir(hlx_node_home(c->v.n));
	struct hlx_peers *peers = NULL;
	struct hlx_audiences *aus = NULL;
	struct hlx_view_srcs s = { &c->v, NULL, 0, 0 };
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
	/* a peer whose setting cannot be applied gets nothing (its own
	 * feed is taken down), and is reported */
	for (size_t i = 0; !rc && i < aus->nskipped; i++)
		rc = failed(c, NULL, aus->skipped[i].peer, aus->skipped[i].rc,
			    aus->skipped[i].why);
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
		rc = hlx_view_sources(&c->v, &s);
	if (!rc)
		rc = views_ahead(c, aus, &s);
	for (size_t i = 0; !rc && i < aus->n; i++) {
		c->audience = (unsigned)i + 1;
		c->audiences = (unsigned)aus->n;
		rc = publish_audience(c, &aus->v[i], s.v, s.n);
		if (rc)
			rc = failed(c, &aus->v[i], NULL, rc, NULL);
	}
	/* the views of audiences without members follow their sources too:
	 * what a prune or a purge removed is in none of them either */
	if (!rc)
		rc = quiet_views(c, aus, pols, s.v, s.n);
	hlx_view_sources_free(&s);
	hlx_audiences_free(aus);
	hlx_peers_free(peers);
	return rc;
}

/* ---- the open feed ------------------------------------------------------ */

/* The policy of the open feed: every own list, the status log and the
 * cases log (spec/cases.md section 7.3), whole,
 * but for what is held: a hold is never broken by the absence of a
 * policy (spec/policy.md section 6). */
static int open_policy(struct pub_ctx *c, struct hlx_policy **out)
{
	struct hlx_buf tags = HLX_BUF_INIT, json = HLX_BUF_INIT;
	int rc = hlx_hold_tags(hlx_home_dir(hlx_node_home(c->v.n)), NULL, &tags);

	if (!rc)
		rc = hlx_buf_puts(&json, "{\"format\":\"" HLX_POLICY_FORMAT "\",\"name\":\"open\","
				  "\"lists\":[\"*\",\"cases\",\"status\"],"
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

	/* a line without tags (its last field "-") holds nothing; a unit's
	 * start (line NULL) comes with added 0 */
	if (added && line && !h->held && !(len >= 3 && !memcmp(line + len - 3, "\t-\n", 3)) &&
	    hlx_entry_decode(line, len, &h->e) == HLX_OK)
		h->held = hlx_policy_held(h->p, &h->e);
	hlx_err_clear();
	return HLX_OK;
}

/* Whether the open feed can go on serving list s as it is: no version
 * after the one the feed names (from) holds an entry under a hold tag.
 * Each version is looked at, not only the newest: the feed carries them
 * all. */
static int open_clean(struct pub_ctx *c, const struct hlx_policy *pol,
		      struct hlx_view_src *s, const char *repo, uint64_t from,
		      int *clean)
{
	struct held_scan *hs = calloc(2, sizeof(*hs));
	struct hlx_hist *h = NULL;
	char oid[41];
	int rc = hs ? hlx_hist_open(repo, 0, &h) : hlx_err(HLX_ENOMEM, "out of memory");

	(void)c;
	*clean = 1;
	if (hs)
		hs[0].p = hs[1].p = pol;
	/* from the newest back to the one the feed names, parent by parent */
	memcpy(oid, s->rec.head, sizeof(oid));
	while (!rc && *clean && oid[0] && s->rec.version > from) {
		struct hlx_hist_version v;

		rc = hlx_hist_read_version(h, oid, &v);
		if (rc || v.version <= from)
			break;
		/* each version against its parent, its shards read in two
		 * halves on two threads (and its shape checked on the way) */
		rc = hlx_hist_check_delta(h, v.parent[0] ? v.parent : NULL, v.oid,
					  held_line, &hs[0], &hs[1], NULL);
		if (!rc && (hs[0].held || hs[1].held))
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
static int open_seed(const char *home, const char *listrepo, const char *side,
		     const char *vname, const char *oid)
{
	struct hlx_hist *h = NULL;
	struct hlx_file_new w;
	char repo[PATH_MAX], pack[PATH_MAX], tmp[PATH_MAX];
	int rc = hlx_home_path(repo, home, HLX_HOME_VIEW_REPO, HLX_VIEW_OPEN, vname);

	if (!rc)
		rc = hlx_home_path(pack, home, HLX_HOME_VIEW_SEED, HLX_VIEW_OPEN, NULL);
	if (!rc)
		rc = hlx_rm_rf(repo);
	if (!rc)
		rc = hlx_hist_open(repo, 1, &h);
	if (!rc && oid && oid[0]) {
		rc = hlx_file_new_open(&w, NULL, pack, hlx_home_mode(HLX_HOME_VIEW_SEED));
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
	const char *home = hlx_home_dir(hlx_node_home(c->v.n));
	struct hlx_audience au;
	struct hlx_view_srcs s = { &c->v, NULL, 0, 0 };
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
		rc = hlx_home_path(p, home, HLX_HOME_VIEWS, NULL, NULL);
	if (!rc && (d = opendir(p))) {
		struct dirent *de;

		while (!rc && (de = readdir(d))) {
			char q[PATH_MAX];

			if (de->d_name[0] != '.' && strcmp(de->d_name, HLX_VIEW_OPEN) != 0 &&
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
		rc = hlx_home_path(f.side, home, HLX_HOME_VIEW_OPEN, NULL, NULL);
	if (!rc)
		rc = hlx_file_mkdirs(f.side, hlx_home_mode(HLX_HOME_VIEW_OPEN));
	f.home = home;
	f.view = HLX_VIEW_OPEN;
	if (!rc)
		rc = hlx_publish_feed_trust(c, &f);
	if (!rc)
		rc = hlx_publish_feed_plans(c, &f);
	if (!rc)
		rc = hlx_view_sources(&c->v, &s);
	au.policy = pol;
	snprintf(au.id, sizeof(au.id), "%s", HLX_VIEW_OPEN);
	for (size_t i = 0; !rc && i < s.n; i++) {
		struct hlx_view_src *x = &s.v[i];
		struct hlx_buf hb = HLX_BUF_INIT, b1 = HLX_BUF_INIT, b2 = HLX_BUF_INIT;
		struct hlx_head prev;
		char repo[PATH_MAX], vrepo[PATH_MAX], hp[PATH_MAX], at[41] = "";
		uint64_t from = 0;
		int clean = 1;

		if (!hlx_policy_list(pol, x->name) ||
		    strcmp(x->rec.owner, hlx_home_org(hlx_node_home(c->v.n))) != 0)
			continue;
		if (c->st->progress)
			c->st->progress(c->st->progress_ctx, 1, 1, x->name);
		rc = hlx_list_repo_path(c->v.n, x->name, repo);
		if (!rc)
			rc = hlx_home_path(vrepo, home, HLX_HOME_VIEW_REPO, HLX_VIEW_OPEN,
					   x->name);
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
				rc = open_seed(home, repo, f.side, x->name, at);
		}
		hlx_buf_free(&hb);
		hlx_buf_free(&b1);
		hlx_buf_free(&b2);
		if (!rc && clean) {
			struct feed_list fl = { x->name, x->rec.owner, x->rec.version,
						x->rec.head, repo, NULL, x->rec.count };

			c->st->lists++;
			rc = hlx_publish_feed_list(c, &f, &fl);
			continue;
		}
		viewed = 1;
		if (!rc)
			rc = audience_list(c, &au, &f, 1, x);
	}
	hlx_view_sources_free(&s);
	hlx_policy_free(pol);
	return rc;
}

static void url_notice(void *ctx, const char *who, int rc, const char *why)
{
	struct hlx_publish_stats *st = ctx;

	(void)rc;
	if (st->notice)
		st->notice(st->notice_ctx, who, why);
}

int hlx_publish(struct hlx_node *n, const char *dir, int64_t now,
		int64_t validity, hlx_pass_fn getpass, void *ctx,
		struct hlx_publish_stats *st)
{
	struct pub_ctx c = { { n, now, getpass, ctx, NULL, NULL, 0, NULL, NULL, 0 }, dir, validity,
			     st, NULL, 0, 0, NULL, 0, 0, NULL, 0, 0 };
	struct hlx_policies *pols = NULL;
	int rc;

	st->lists = st->heads_signed = st->packs_written = st->failed = 0;
	st->urls_sent = st->urls_refused = 0;
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
	/* the raw URLs of cases, to their owners' peers (spec/cases.md 8):
	 * one that cannot be sent is told, and fails nothing */
	if (!rc) {
		struct hlx_caseurl_stats cs = { 0, 0, 0, 0, url_notice, st };

		rc = hlx_caseurl_at_publish(n, dir, now, c.v.key, getpass, ctx, &cs);
		st->urls_sent = cs.sent;
		st->urls_refused = cs.failed;
	}
	hlx_policies_free(pols);
	hlx_view_ctx_free(&c.v);
	free(c.packs);
	hlx_plans_pub_free(c.plans, c.nplans);
	return rc;
}
