/* SPDX-License-Identifier: MIT */
/* Removing lists, mirrors and peers (node/remove.h). */
#include "node/remove.h"
#include "node/files.h"
#include "node/match.h"
#include "node/peers.h"
#include "node/policies.h"
#include "node/urls.h"
#include "protocol/err.h"
#include "protocol/hash.h"
#include "protocol/head.h"

#include <dirent.h>
#include <inttypes.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define INTENT_MAGIC "hlx-remove-1"
#define INTENT_MAX (64u << 20)

/* What one removal does, as written to HOME/remove.intent. */
struct intent {
	char publish[PATH_MAX];    /* "" for HOME/publish */
	char peer[65];             /* peer rm: the peer, else "" */
	char unsub[2][65];         /* unsubscribe: peer and list, else "" */
	char (*lists)[HLX_LIST_NAME_MAX + 1];
	size_t nlists;
	char (*feeds)[33];         /* a removed peer's plain feed dirs */
	size_t nfeeds;
	char (*urls)[65];          /* url-sha256 items, hex */
	size_t nurls;
	int compact_only;          /* every step done but the compaction */
};

static void intent_free(struct intent *in)
{
	free(in->lists);
	free(in->feeds);
	free(in->urls);
	memset(in, 0, sizeof(*in));
}

/* Append s to an array of fixed-size strings (once, with once). */
static int push_(void *vp, size_t *n, size_t size, const char *s, int once)
{
	char **v = vp, *p;
	size_t len = strlen(s);

	if (len >= size)
		return hlx_err(HLX_EINVAL, "name '%.64s' too long", s);
	for (size_t i = 0; once && i < *n; i++)
		if (!strcmp(*v + i * size, s))
			return HLX_OK;
	if ((*n & (*n - 1)) == 0) { /* grow at powers of two */
		p = realloc(*v, (*n ? 2 * *n : 1) * size);
		if (!p)
			return hlx_err(HLX_ENOMEM, "out of memory");
		*v = p;
	}
	p = *v;
	memcpy(p + *n * size, s, len + 1);
	++*n;
	return HLX_OK;
}

static int push(void *vp, size_t *n, size_t size, const char *s)
{
	return push_(vp, n, size, s, 1);
}

static int hex_cmp(const void *a, const void *b)
{
	return memcmp(a, b, 65);
}

/* Sort the URL items and drop repeats. */
static void urls_unique(struct intent *in)
{
	size_t k = 0;

	if (!in->nurls)
		return;
	qsort(in->urls, in->nurls, sizeof(*in->urls), hex_cmp);
	for (size_t i = 1; i < in->nurls; i++)
		if (strcmp(in->urls[i], in->urls[k]) != 0)
			memcpy(in->urls[++k], in->urls[i], sizeof(*in->urls));
	in->nurls = k + 1;
}
static const char *home_of(struct hlx_node *n)
{
	return hlx_home_dir(hlx_node_home(n));
}

static int intent_path(struct hlx_node *n, char out[PATH_MAX])
{
	return hlx_node_path(n, HLX_HOME_REMOVE_INTENT, NULL, NULL, out);
}

static int intent_write(struct hlx_node *n, const struct intent *in)
{
	struct hlx_buf b = HLX_BUF_INIT;
	char p[PATH_MAX];
	int rc = hlx_buf_puts(&b, INTENT_MAGIC "\n");

	/* once the steps are done only the compaction is left: a later
	 * writer must not replay them over what was made since */
	if (!rc && in->compact_only)
		rc = hlx_buf_puts(&b, "stage compact\n");
	else if (!rc && in->publish[0])
		rc = hlx_buf_printf(&b, "publish %s\n", in->publish);
	if (!rc && in->peer[0])
		rc = hlx_buf_printf(&b, "peer %s\n", in->peer);
	if (!rc && in->unsub[0][0])
		rc = hlx_buf_printf(&b, "unsubscribe %s %s\n", in->unsub[0], in->unsub[1]);
	for (size_t i = 0; !rc && i < in->nlists; i++)
		rc = hlx_buf_printf(&b, "list %s\n", in->lists[i]);
	for (size_t i = 0; !rc && i < in->nfeeds; i++)
		rc = hlx_buf_printf(&b, "feed %s\n", in->feeds[i]);
	for (size_t i = 0; !rc && i < in->nurls; i++)
		rc = hlx_buf_printf(&b, "url %s\n", in->urls[i]);
	if (!rc)
		rc = intent_path(n, p);
	if (!rc)
		rc = hlx_file_write(p, b.data, b.len, 0600);
	hlx_buf_free(&b);
	return rc;
}

static int is_hex(const char *s, size_t n)
{
	if (strlen(s) != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* Parse an intent strictly: anything unexpected is a damaged file. */
static int intent_parse(char *s, struct intent *in)
{
	char *line, *next;
	int rc = HLX_OK, first = 1;

	memset(in, 0, sizeof(*in));
	for (line = s; !rc && line && *line; line = next) {
		char *sp, *arg;

		next = strchr(line, '\n');
		if (!next)
			return hlx_err(HLX_ESTATE, "damaged removal intent: no final newline");
		*next++ = '\0';
		if (first) {
			if (strcmp(line, INTENT_MAGIC) != 0)
				return hlx_err(HLX_ESTATE, "damaged removal intent: unknown format");
			first = 0;
			continue;
		}
		sp = strchr(line, ' ');
		if (!sp)
			return hlx_err(HLX_ESTATE, "damaged removal intent: line '%.64s'", line);
		*sp = '\0';
		arg = sp + 1;
		if (!strcmp(line, "stage") && !strcmp(arg, "compact")) {
			in->compact_only = 1;
		} else if (!strcmp(line, "publish") && arg[0] == '/') {
			rc = snprintf(in->publish, sizeof(in->publish), "%s", arg) <
			     (int)sizeof(in->publish) ? HLX_OK :
			     hlx_err(HLX_ESTATE, "damaged removal intent: path too long");
		} else if (!strcmp(line, "peer") &&
			   hlx_name_check(arg, strlen(arg), "peer") == HLX_OK) {
			snprintf(in->peer, sizeof(in->peer), "%s", arg);
		} else if (!strcmp(line, "unsubscribe") && (sp = strchr(arg, ' ')) &&
			   (*sp = '\0', 1) &&
			   hlx_name_check(arg, strlen(arg), "peer") == HLX_OK &&
			   hlx_name_check(sp + 1, strlen(sp + 1), "list") == HLX_OK) {
			snprintf(in->unsub[0], sizeof(in->unsub[0]), "%s", arg);
			snprintf(in->unsub[1], sizeof(in->unsub[1]), "%s", sp + 1);
		} else if (!strcmp(line, "list") && hlx_list_name_check(arg) == HLX_OK) {
			rc = push(&in->lists, &in->nlists, sizeof(*in->lists), arg);
		} else if (!strcmp(line, "feed") && is_hex(arg, 32)) {
			rc = push(&in->feeds, &in->nfeeds, sizeof(*in->feeds), arg);
		} else if (!strcmp(line, "url") && is_hex(arg, 64)) {
			rc = push_(&in->urls, &in->nurls, sizeof(*in->urls), arg, 0);
		} else {
			hlx_err_clear();
			return hlx_err(HLX_ESTATE, "damaged removal intent: line '%.64s'", line);
		}
	}
	if (!rc && first)
		rc = hlx_err(HLX_ESTATE, "damaged removal intent: empty");
	if (!rc && in->compact_only &&
	    (in->publish[0] || in->peer[0] || in->unsub[0][0] || in->nlists ||
	     in->nfeeds || in->nurls))
		rc = hlx_err(HLX_ESTATE, "damaged removal intent: steps after 'stage compact'");
	return rc;
}

/* ---- the steps, each idempotent --------------------------------------- */

/* Remove path (a tree, no link followed) and sync its parent if it was
 * there; *was (may be NULL) says whether it was. */
static int gone(const char *path, int *was)
{
	struct stat st;
	char parent[PATH_MAX], *sl;
	int rc;

	if (was)
		*was = 0;
	if (lstat(path, &st) != 0)
		return errno == ENOENT ? HLX_OK :
		       hlx_err(HLX_EIO, "cannot read '%s': %s", path, strerror(errno));
	rc = hlx_rm_rf(path);
	if (rc)
		return rc;
	if (was)
		*was = 1;
	snprintf(parent, sizeof(parent), "%s", path);
	sl = strrchr(parent, '/');
	if (sl && sl != parent) {
		*sl = '\0';
		rc = hlx_fsync_path(parent, 1);
	}
	return rc;
}

static int step_peers(struct hlx_node *n, const struct intent *in)
{
	struct hlx_peers *ps = NULL;
	struct hlx_peer *p;
	int rc, changed = 0;

	if (!in->peer[0] && !in->unsub[0][0])
		return HLX_OK;
	rc = hlx_peers_load(home_of(n), &ps);
	if (rc)
		return rc;
	if (in->peer[0] && hlx_peers_find(ps, in->peer)) {
		rc = hlx_peers_remove(ps, in->peer);
		changed = 1;
	}
	if (!rc && in->unsub[0][0] && (p = hlx_peers_find(ps, in->unsub[0]))) {
		if (hlx_peer_unsubscribe(p, in->unsub[1]) == HLX_OK)
			changed = 1;
		hlx_err_clear();
	}
	if (!rc && changed)
		rc = hlx_peers_save(home_of(n), ps);
	hlx_peers_free(ps);
	return rc;
}

static int step_state(struct hlx_node *n, const struct intent *in,
		      struct hlx_remove_result *res)
{
	struct hlx_store_txn *t = NULL;
	int rc = hlx_store_begin(hlx_node_store(n), &t);

	for (size_t i = 0; !rc && i < in->nlists; i++) {
		uint64_t e = 0;

		rc = hlx_store_list_delete(t, in->lists[i], &e);
		if (rc == HLX_ENOENT) {
			hlx_err_clear();
			rc = HLX_OK;
		} else if (!rc) {
			res->lists++;
			res->entries += e;
		}
	}
	if (rc) {
		hlx_store_abort(t);
		return rc;
	}
	return hlx_store_commit(t);
}

/* Is name "base" + "." + one of sfx, or that followed by a temporary
 * file's ".tmp..." (node/files.h)? */
static int named_after(const char *name, const char *base,
		       const char *const *sfx)
{
	size_t bl = strlen(base);

	if (strncmp(name, base, bl) != 0 || name[bl] != '.')
		return 0;
	name += bl + 1;
	for (; *sfx; sfx++) {
		size_t sl = strlen(*sfx);

		size_t hx;

		if (strncmp(name, *sfx, sl) != 0)
			continue;
		if (name[sl] == '\0')
			return 1;
		/* exactly a temporary file's tail: ".tmp" and hex digits to
		 * the end (node/files.h); "x.git.tmp1.git" is list
		 * "x.git.tmp1", not a temporary of "x" */
		if (strncmp(name + sl, ".tmp", 4) != 0)
			continue;
		hx = strspn(name + sl + 4, "0123456789abcdef");
		if (hx > 0 && name[sl + 4 + hx] == '\0')
			return 1;
	}
	return 0;
}

/* Delete the entries of directory dir that named_after base; *count gets
 * the number of those ending in ".git" added. */
static int rm_named(const char *dir, const char *base, const char *const *sfx,
		    unsigned *count)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int rc = HLX_OK;

	if (!d)
		return errno == ENOENT || errno == ENOTDIR ? HLX_OK :
		       hlx_err(HLX_EIO, "cannot open '%s': %s", dir, strerror(errno));
	while (!rc && (de = readdir(d))) {
		char p[PATH_MAX];
		size_t l = strlen(de->d_name);

		if (!named_after(de->d_name, base, sfx))
			continue;
		rc = hlx_pathf(p, "%s/%s", dir, de->d_name);
		if (!rc)
			rc = hlx_rm_rf(p);
		if (!rc && count && l > 4 && !strcmp(de->d_name + l - 4, ".git"))
			++*count;
	}
	closedir(d);
	if (!rc)
		rc = hlx_fsync_path(dir, 1);
	return rc;
}

static int step_files(struct hlx_node *n, const struct intent *in)
{
	static const char *const repo_sfx[] = { "git", "git.new", "git.swap",
						"git.old", NULL };
	static const char *const sync_sfx[] = { "sync", "rules", "rebase", NULL };
	char p[PATH_MAX], peer[HLX_LIST_NAME_MAX + 1];
	int rc = HLX_OK;

	for (size_t i = 0; !rc && i < in->nlists; i++) {
		const char *f = in->lists[i], *sl = strchr(f, '/');

		if (!sl) {
			rc = hlx_node_path(n, HLX_HOME_LISTS, NULL, NULL, p);
			if (!rc)
				rc = rm_named(p, f, repo_sfx, NULL);
			continue;
		}
		snprintf(peer, sizeof(peer), "%.*s", (int)(sl - f), f);
		rc = hlx_node_path(n, HLX_HOME_PEER_LISTS, peer, NULL, p);
		if (!rc)
			rc = rm_named(p, sl + 1, repo_sfx, NULL);
		/* the peer's last mirror: its directory goes too */
		if (!rc && rmdir(p) != 0 && errno != ENOENT && errno != ENOTEMPTY &&
		    errno != EEXIST)
			rc = hlx_err(HLX_EIO, "cannot remove '%s': %s", p, strerror(errno));
		if (!rc)
			rc = hlx_node_path(n, HLX_HOME_PEER, peer, NULL, p);
		if (!rc)
			rc = rm_named(p, sl + 1, sync_sfx, NULL);
	}
	/* under the writer lock no pull runs: every staging repository is
	 * one a killed pull left, with what it had fetched */
	if (!rc)
		rc = hlx_node_path(n, HLX_HOME_STAGING, NULL, NULL, p);
	if (!rc)
		rc = gone(p, NULL);
	if (!rc && in->peer[0]) {
		rc = hlx_node_path(n, HLX_HOME_PEER_LISTS, in->peer, NULL, p);
		if (!rc)
			rc = gone(p, NULL);
		if (!rc)
			rc = hlx_node_path(n, HLX_HOME_PEER, in->peer, NULL, p);
		if (!rc)
			rc = gone(p, NULL);
	}
	return rc;
}

/* ---- views and feeds --------------------------------------------------- */

struct vctx {
	struct hlx_node *n;
	const struct intent *in;
	struct hlx_policies *pols;
	struct hlx_peers *peers;
	uint8_t *secret;           /* NULL: the node never had audiences */
	char (*aids)[33];          /* each policy's audience id */
	char (*names)[HLX_LIST_NAME_MAX + 1]; /* the lists left */
	size_t nnames;
	char pub[PATH_MAX];
};

/* The name a list's views are published under: L, or PEER.L. */
static int view_name(const char *src, char out[HLX_LIST_NAME_MAX + 1])
{
	const char *sl = strchr(src, '/');
	int k = sl ? snprintf(out, HLX_LIST_NAME_MAX + 1, "%.*s.%s",
			      (int)(sl - src), src, sl + 1) :
		     snprintf(out, HLX_LIST_NAME_MAX + 1, "%s", src);

	/* a name too long to publish never had a view */
	return k > 0 && k <= HLX_HIST_NAME_MAX ? HLX_OK : HLX_EINVAL;
}

static int name_add(void *ctx, const struct hlx_list_rec *l)
{
	struct vctx *c = ctx;

	return push(&c->names, &c->nnames, sizeof(*c->names), l->name);
}

/* The policy whose audience reads directory id (views/ID or, with feed,
 * PUBLISH/a/ID), or NULL. */
static const struct hlx_policy *dir_policy(struct vctx *c, const char *id,
					   int feed)
{
	for (size_t i = 0; c->secret && i < c->pols->n; i++)
		if (!strcmp(c->aids[i], id))
			return c->pols->v[i];
	for (size_t i = 0; feed && c->secret && i < c->pols->n; i++)
		for (size_t j = 0; j < c->peers->n; j++) {
			char d[33];

			hlx_audience_dir(c->secret, c->pols->v[i], c->peers->v[j].name,
					 c->peers->v[j].root.pk, d);
			if (!strcmp(d, id))
				return c->pols->v[i];
		}
	return NULL;
}

/* Does another list, still here, publish under view name v in the
 * audience of policy p?  (An own list "b.x" and a peer's "b/x" are both
 * "b.x"; one policy never gives both.) */
static int other_owner(struct vctx *c, const struct hlx_policy *p,
		       const char *v)
{
	for (size_t i = 0; p && i < c->nnames; i++) {
		char w[HLX_LIST_NAME_MAX + 1];

		if (view_name(c->names[i], w) == HLX_OK && !strcmp(w, v) &&
		    hlx_policy_list(p, c->names[i]))
			return 1;
	}
	return 0;
}

static int views_in(struct vctx *c, const char *dir, const char *id,
		    struct hlx_remove_result *res)
{
	static const char *const sfx[] = { "git", "src", "head", "checkpoint",
					   "git.new", "git.swap", "git.old", NULL };
	const struct hlx_policy *p = strcmp(id, HLX_VIEW_OPEN) ? dir_policy(c, id, 0) : NULL;
	int rc = HLX_OK;

	for (size_t i = 0; !rc && i < c->in->nlists; i++) {
		const char *f = c->in->lists[i];
		char v[HLX_LIST_NAME_MAX + 1];

		/* the open feed serves own lists only */
		if (view_name(f, v) || (!strcmp(id, HLX_VIEW_OPEN) && strchr(f, '/')) ||
		    other_owner(c, p, v))
			continue;
		rc = rm_named(dir, v, sfx, &res->views);
	}
	return rc;
}

/* Remove PUBLISH/REL if it is there (no link below PUBLISH followed). */
static int take_down(struct vctx *c, const char *rel,
		     struct hlx_remove_result *res)
{
	char p[PATH_MAX];
	int fd, rc = hlx_pathf(p, "%s/%s", c->pub, rel);

	if (rc)
		return rc;
	/* is it there?  (opened as the removal will: no link followed) */
	rc = hlx_dir_open_in(c->pub, p, &fd);
	if (rc == HLX_ENOENT) {
		hlx_err_clear();
		return HLX_OK;
	}
	if (!rc)
		close(fd);
	else
		hlx_err_clear();
	rc = hlx_rm_rf_in(c->pub, p);
	if (rc)
		return rc;
	res->feeds++;
	/* durably gone before the intent is: sync the directory it was in */
	*strrchr(p, '/') = '\0';
	rc = hlx_dir_open_in(c->pub, p, &fd);
	if (rc)
		return rc;
	if (fsync(fd) != 0)
		rc = hlx_err(HLX_EIO, "cannot sync '%s': %s", p, strerror(errno));
	close(fd);
	return rc;
}

static int step_views(struct hlx_node *n, const struct intent *in,
		      struct hlx_remove_result *res)
{
	struct vctx c;
	struct dirent *de;
	char p[PATH_MAX];
	DIR *d = NULL;
	int rc, fd;

	memset(&c, 0, sizeof(c));
	c.n = n;
	c.in = in;
	rc = in->publish[0] ? hlx_pathf(c.pub, "%s", in->publish) :
			      hlx_node_path(n, HLX_HOME_PUBLISH, NULL, NULL, c.pub);
	if (!rc)
		rc = hlx_policies_load(home_of(n), &c.pols);
	if (!rc)
		rc = hlx_peers_load(home_of(n), &c.peers);
	if (!rc) {
		rc = hlx_node_secret(home_of(n), 0, &c.secret);
		if (rc == HLX_ENOENT) {
			hlx_err_clear();
			rc = HLX_OK;
		}
	}
	if (!rc && !(c.aids = calloc(c.pols->n + 1, sizeof(*c.aids))))
		rc = hlx_err(HLX_ENOMEM, "out of memory");
	for (size_t i = 0; !rc && c.secret && i < c.pols->n; i++)
		hlx_audience_id(c.secret, c.pols->v[i], c.aids[i]);
	if (!rc)
		rc = hlx_store_list_foreach(hlx_node_store(n), name_add, &c);
	/* the views in the home */
	if (!rc)
		rc = hlx_node_path(n, HLX_HOME_VIEWS, NULL, NULL, p);
	if (!rc && !(d = opendir(p)) && errno != ENOENT)
		rc = hlx_err(HLX_EIO, "cannot open '%s': %s", p, strerror(errno));
	while (!rc && d && (de = readdir(d))) {
		char q[PATH_MAX];

		if (de->d_name[0] == '.')
			continue;
		rc = hlx_pathf(q, "%s/%s", p, de->d_name);
		if (!rc)
			rc = views_in(&c, q, de->d_name, res);
	}
	if (d)
		closedir(d);
	d = NULL;
	/* the open feed */
	for (size_t i = 0; !rc && i < in->nlists; i++) {
		char rel[PATH_MAX];

		if (strchr(in->lists[i], '/'))
			continue;
		rc = hlx_pathf(rel, "lists/%s", in->lists[i]);
		if (!rc)
			rc = take_down(&c, rel, res);
	}
	/* the audiences' feeds */
	if (!rc)
		rc = hlx_pathf(p, "%s/a", c.pub);
	if (!rc) {
		rc = hlx_dir_open_in(c.pub, p, &fd);
		if (rc == HLX_ENOENT) {
			hlx_err_clear();
			rc = HLX_OK;
		} else if (!rc && !(d = fdopendir(fd))) {
			rc = hlx_err(HLX_EIO, "cannot open '%s': %s", p, strerror(errno));
			close(fd);
		}
	}
	while (!rc && d && (de = readdir(d))) {
		const struct hlx_policy *pol;

		if (de->d_name[0] == '.')
			continue;
		pol = dir_policy(&c, de->d_name, 1);
		for (size_t i = 0; !rc && i < in->nlists; i++) {
			char v[HLX_LIST_NAME_MAX + 1], rel[PATH_MAX];

			if (view_name(in->lists[i], v) || other_owner(&c, pol, v))
				continue;
			rc = hlx_pathf(rel, "a/%s/lists/%s", de->d_name, v);
			if (!rc)
				rc = take_down(&c, rel, res);
		}
	}
	if (d)
		closedir(d);
	/* the plain feeds a removed peer read */
	for (size_t i = 0; !rc && i < in->nfeeds; i++) {
		char rel[PATH_MAX];

		rc = hlx_pathf(rel, "a/%s", in->feeds[i]);
		if (!rc)
			rc = take_down(&c, rel, res);
	}
	hlx_policies_free(c.pols);
	hlx_peers_free(c.peers);
	hlx_node_secret_free(c.secret);
	free(c.aids);
	free(c.names);
	return rc;
}

/* ---- match index, URLs -------------------------------------------------- */

/* The index holds every list's PDQ hashes (and a killed update's
 * temporaries): all of it goes, rebuilt on use; the settings stay, but
 * for the lists removed. */
static int step_match(struct hlx_node *n, const struct intent *in)
{
	struct hlx_match_conf_entry *e = NULL;
	struct hlx_buf b = HLX_BUF_INIT;
	struct dirent *de;
	char dir[PATH_MAX], p[PATH_MAX];
	size_t cnt = 0, k = 0;
	DIR *d;
	const char *conf = strrchr(hlx_home_entry_name(HLX_HOME_MATCH_CONFIG), '/') + 1;
	int rc = hlx_node_path(n, HLX_HOME_MATCH, NULL, NULL, dir);

	if (rc)
		return rc;
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? HLX_OK :
		       hlx_err(HLX_EIO, "cannot open '%s': %s", dir, strerror(errno));
	while (!rc && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
		    !strcmp(de->d_name, conf))
			continue;
		rc = hlx_pathf(p, "%s/%s", dir, de->d_name);
		if (!rc)
			rc = hlx_rm_rf(p);
	}
	closedir(d);
	if (!rc)
		rc = hlx_fsync_path(dir, 1);
	if (!rc)
		rc = hlx_node_path(n, HLX_HOME_MATCH_CONFIG, NULL, NULL, p);
	if (rc)
		return rc;
	rc = hlx_file_read(p, 1 << 20, &b);
	if (rc == HLX_ENOENT) {
		hlx_err_clear();
		hlx_buf_free(&b);
		return HLX_OK;
	}
	if (!rc)
		rc = hlx_match_conf_parse((const char *)b.data, b.len, &e, &cnt);
	for (size_t i = 0; !rc && i < cnt; i++) {
		int drop = 0;

		for (size_t j = 0; j < in->nlists; j++)
			drop |= !strcmp(e[i].list, in->lists[j]);
		if (!drop)
			e[k++] = e[i];
	}
	if (!rc && k != cnt) {
		hlx_buf_reset(&b);
		rc = hlx_match_conf_format(e, k, &b);
		if (!rc)
			rc = hlx_file_write(p, b.data, b.len, 0600);
	}
	free(e);
	hlx_buf_free(&b);
	return rc;
}

#define URL_BATCH 1024

static int hit(void *ctx, size_t query, uint32_t list, const char *meta,
	       size_t metalen)
{
	(void)list;
	(void)meta;
	(void)metalen;
	((char *)ctx)[query] = 1;
	return 0;
}

/* The raw URL of an item no list holds any more. */
static int step_urls(struct hlx_node *n, const struct intent *in,
		     struct hlx_remove_result *res)
{
	struct hlx_hash *h = in->nurls ? calloc(URL_BATCH, sizeof(*h)) : NULL;
	const struct hlx_hash *q[URL_BATCH];
	char held[URL_BATCH];
	int rc = !in->nurls || h ? HLX_OK : hlx_err(HLX_ENOMEM, "out of memory");

	for (size_t at = 0; !rc && at < in->nurls; at += URL_BATCH) {
		size_t m = in->nurls - at < URL_BATCH ? in->nurls - at : URL_BATCH;

		for (size_t i = 0; !rc && i < m; i++) {
			char text[HLX_HASH_TEXT_MAX];

			snprintf(text, sizeof(text), "url-sha256:%s", in->urls[at + i]);
			rc = hlx_hash_parse(text, strlen(text), &h[i]);
			q[i] = &h[i];
			held[i] = 0;
		}
		if (!rc)
			rc = hlx_store_lookup(hlx_node_store(n), q, m, hit, held);
		for (size_t i = 0; !rc && i < m; i++) {
			char p[PATH_MAX];
			int was;

			if (held[i])
				continue;
			rc = hlx_node_path(n, HLX_HOME_URL, in->urls[at + i], NULL, p);
			if (!rc)
				rc = gone(p, &was);
			if (!rc && was)
				res->urls++;
		}
	}
	free(h);
	return rc;
}

/* ---- running an intent --------------------------------------------------- */

/* *uncompacted: all was done but the compaction of the state. */
static int run(struct hlx_node *n, const struct intent *in,
	       struct hlx_remove_result *res, int *uncompacted)
{
	char p[PATH_MAX];
	int rc = HLX_OK;

	if (!in->compact_only) {
		rc = step_peers(n, in);
		if (!rc)
			rc = step_state(n, in, res);
		if (!rc)
			rc = step_files(n, in);
		if (!rc)
			rc = step_views(n, in, res);
		if (!rc)
			rc = step_match(n, in);
		if (!rc)
			rc = step_urls(n, in, res);
		/* what is left is the compaction alone: a name made again
		 * after this is not removed by a later writer */
		if (!rc) {
			struct intent c;

			memset(&c, 0, sizeof(c));
			c.compact_only = 1;
			rc = intent_write(n, &c);
		}
	}
	/* the deleted entries' bytes leave the state's free pages */
	*uncompacted = 0;
	if (rc)
		return rc;
	rc = hlx_node_compact(n, &res->before, &res->after);
	if (rc) {
		*uncompacted = rc == HLX_ESTATE;
		return rc;
	}
	rc = intent_path(n, p);
	if (!rc && unlink(p) != 0 && errno != ENOENT)
		rc = hlx_err(HLX_EIO, "cannot remove '%s': %s", p, strerror(errno));
	if (!rc)
		rc = hlx_fsync_path(home_of(n), 1);
	return rc;
}

int hlx_remove_recover(struct hlx_node *n)
{
	struct hlx_remove_result res;
	struct hlx_buf b = HLX_BUF_INIT;
	struct intent in;
	char p[PATH_MAX];
	int rc = intent_path(n, p), uncompacted = 0;

	memset(&in, 0, sizeof(in));
	memset(&res, 0, sizeof(res));
	if (!rc)
		rc = hlx_file_read(p, INTENT_MAX, &b);
	if (rc == HLX_ENOENT) {
		hlx_err_clear();
		hlx_buf_free(&b);
		return HLX_OK;
	}
	if (!rc)
		rc = hlx_buf_putc(&b, '\0');
	if (!rc && memchr(b.data, '\0', b.len - 1))
		rc = hlx_err(HLX_ESTATE, "damaged removal intent: a NUL byte");
	if (!rc)
		rc = intent_parse((char *)b.data, &in);
	if (!rc)
		rc = run(n, &in, &res, &uncompacted);
	/* the state could not be compacted (another process has it open):
	 * everything else is done; the next writer compacts it */
	if (uncompacted) {
		hlx_err_clear();
		rc = HLX_OK;
	}
	if (rc)
		rc = hlx_err_wrap(rc, "cannot finish an interrupted removal ('%s')", p);
	intent_free(&in);
	hlx_buf_free(&b);
	return rc;
}

/* ---- deciding what a removal does ---------------------------------------- */

static int setup(struct hlx_node *n, const struct hlx_remove_opts *o,
		 struct intent *in, struct hlx_remove_result *res,
		 struct hlx_policies **pols)
{
	memset(in, 0, sizeof(*in));
	memset(res, 0, sizeof(*res));
	*pols = NULL;
	if (o && o->publish) {
		char cwd[PATH_MAX];

		if (strchr(o->publish, '\n'))
			return hlx_err(HLX_EINVAL, "a newline in the publish directory");
		if (o->publish[0] == '/')
			snprintf(cwd, sizeof(cwd), "%s", "");
		else if (!getcwd(cwd, sizeof(cwd)))
			return hlx_err(HLX_EIO, "cannot find the current directory: %s",
				       strerror(errno));
		if (hlx_pathf(in->publish, "%s%s%s", cwd, cwd[0] ? "/" : "",
			      o->publish))
			return HLX_EINVAL;
	}
	return hlx_policies_load(home_of(n), pols);
}

/* A policy that names list (exactly: "*" gives own lists without naming
 * them), or that names any list of peer (prefix "PEER/"). */
static const char *named_by(const struct hlx_policies *pols, const char *list,
			    const char *prefix)
{
	for (size_t i = 0; i < pols->n; i++)
		for (size_t j = 0; j < hlx_policy_nlists(pols->v[i]); j++) {
			const char *l = hlx_policy_list_at(pols->v[i], j);

			if ((list && !strcmp(l, list)) ||
			    (prefix && !strncmp(l, prefix, strlen(prefix))))
				return hlx_policy_name(pols->v[i]);
		}
	return NULL;
}

static int refuse(const char *policy, const char *what)
{
	return hlx_err(HLX_ESTATE,
		       "policy '%s' names %s: take it out of the policy, or give --force (the policy is kept, and gives nothing for it)",
		       policy, what);
}

static int finish(struct hlx_node *n, struct intent *in,
		  struct hlx_remove_result *res, struct hlx_policies *pols,
		  int rc)
{
	int uncompacted = 0;

	hlx_policies_free(pols);
	if (!rc)
		rc = intent_write(n, in);
	if (!rc)
		rc = run(n, in, res, &uncompacted);
	if (uncompacted)
		rc = hlx_err_wrap(rc, "removed, but the state still holds the bytes in free pages until it is compacted (the next command that changes the node does it)");
	intent_free(in);
	return rc;
}

int hlx_remove_mirror(struct hlx_node *n, const char *peer, const char *list,
		      const struct hlx_remove_opts *o,
		      struct hlx_remove_result *res)
{
	struct hlx_policies *pols = NULL;
	struct hlx_peers *ps = NULL;
	struct hlx_peer *p;
	struct hlx_list_rec rec;
	struct intent in;
	char full[HLX_LIST_NAME_MAX + 1], repo[PATH_MAX];
	const char *by;
	int rc, subscribed = 0, held;

	rc = setup(n, o, &in, res, &pols);
	if (!rc)
		rc = hlx_name_check(peer, strlen(peer), "peer");
	if (!rc)
		rc = hlx_name_check(list, strlen(list), "list");
	if (!rc && snprintf(full, sizeof(full), "%s/%s", peer, list) >= (int)sizeof(full))
		rc = hlx_err(HLX_EINVAL, "list name too long");
	if (!rc)
		rc = hlx_list_repo_path(n, full, repo);
	if (!rc)
		rc = hlx_peers_load(home_of(n), &ps);
	if (rc)
		goto out;
	if ((p = hlx_peers_find(ps, peer)))
		for (size_t i = 0; i < p->nsubs; i++)
			subscribed |= !strcmp(p->subs[i], list);
	held = hlx_store_list_get(hlx_node_store(n), full, &rec) == HLX_OK ||
	       access(repo, F_OK) == 0;
	hlx_err_clear();
	if (!subscribed && !held) {
		rc = p ? hlx_err(HLX_ENOENT, "not subscribed to '%s' of '%s', and nothing of it is held",
				 list, peer) :
			 hlx_err(HLX_ENOENT, "no such peer '%s', and nothing of its list '%s' is held",
				 peer, list);
		goto out;
	}
	if ((by = named_by(pols, full, NULL)) && !(o && o->force)) {
		char what[HLX_LIST_NAME_MAX + 8];

		snprintf(what, sizeof(what), "'%s'", full);
		rc = refuse(by, what);
		goto out;
	}
	if (subscribed) {
		snprintf(in.unsub[0], sizeof(in.unsub[0]), "%s", peer);
		snprintf(in.unsub[1], sizeof(in.unsub[1]), "%s", list);
	}
	rc = push(&in.lists, &in.nlists, sizeof(*in.lists), full);
out:
	hlx_peers_free(ps);
	return finish(n, &in, res, pols, rc);
}

struct peer_lists {
	struct intent *in;
	const char *prefix;
};

static int peer_list_add(void *ctx, const struct hlx_list_rec *l)
{
	struct peer_lists *c = ctx;

	if (strncmp(l->name, c->prefix, strlen(c->prefix)) != 0)
		return 0;
	return push(&c->in->lists, &c->in->nlists, sizeof(*c->in->lists), l->name);
}

int hlx_remove_peer(struct hlx_node *n, const char *peer,
		    const struct hlx_remove_opts *o,
		    struct hlx_remove_result *res)
{
	struct hlx_policies *pols = NULL;
	struct hlx_peers *ps = NULL;
	struct hlx_peer *p = NULL;
	struct intent in;
	struct dirent *de;
	char prefix[72], dir[PATH_MAX];
	struct peer_lists pl = { &in, prefix };
	const char *by;
	uint8_t *secret = NULL;
	DIR *d;
	int rc;

	rc = setup(n, o, &in, res, &pols);
	if (!rc)
		rc = hlx_name_check(peer, strlen(peer), "peer");
	if (!rc)
		rc = hlx_peers_load(home_of(n), &ps);
	if (rc)
		goto out;
	snprintf(prefix, sizeof(prefix), "%s/", peer);
	p = hlx_peers_find(ps, peer);
	/* every list of it: held, subscribed, or a repository left behind */
	rc = hlx_store_list_foreach(hlx_node_store(n), peer_list_add, &pl);
	for (size_t i = 0; !rc && p && i < p->nsubs; i++) {
		char full[HLX_LIST_NAME_MAX + 1];

		snprintf(full, sizeof(full), "%s/%s", peer, p->subs[i]);
		rc = push(&in.lists, &in.nlists, sizeof(*in.lists), full);
	}
	if (!rc)
		rc = hlx_node_path(n, HLX_HOME_PEER_LISTS, peer, NULL, dir);
	if (!rc && (d = opendir(dir))) {
		while (!rc && (de = readdir(d))) {
			size_t l = strlen(de->d_name);
			char full[HLX_LIST_NAME_MAX + 1];

			if (l <= 4 || strcmp(de->d_name + l - 4, ".git") ||
			    hlx_name_check(de->d_name, l - 4, "list") != HLX_OK) {
				hlx_err_clear();
				continue;
			}
			snprintf(full, sizeof(full), "%s/%.*s", peer, (int)(l - 4),
				 de->d_name);
			rc = push(&in.lists, &in.nlists, sizeof(*in.lists), full);
		}
		closedir(d);
	}
	if (rc)
		goto out;
	if (!p && !in.nlists) {
		rc = hlx_err(HLX_ENOENT, "no such peer '%s'", peer);
		goto out;
	}
	if ((by = named_by(pols, NULL, prefix)) && !(o && o->force)) {
		char what[96];

		snprintf(what, sizeof(what), "lists of '%s'", peer);
		rc = refuse(by, what);
		goto out;
	}
	snprintf(in.peer, sizeof(in.peer), "%s", peer);
	/* the plain feeds made for it, whatever policy it had */
	if (p) {
		rc = hlx_node_secret(home_of(n), 0, &secret);
		if (rc == HLX_ENOENT) {
			hlx_err_clear();
			rc = HLX_OK;
		}
		for (size_t i = 0; !rc && secret && i < pols->n; i++) {
			char id[33];

			if (hlx_policy_encrypt(pols->v[i]))
				continue;
			hlx_audience_dir(secret, pols->v[i], p->name, p->root.pk, id);
			rc = push(&in.feeds, &in.nfeeds, sizeof(*in.feeds), id);
		}
	}
out:
	hlx_node_secret_free(secret);
	hlx_peers_free(ps);
	return finish(n, &in, res, pols, rc);
}

struct url_ctx {
	struct intent *in;
	struct hlx_hist_version *v;
	size_t n;
	int rc;
};

static int version_add(void *ctx, const struct hlx_hist_version *v)
{
	struct url_ctx *c = ctx;
	struct hlx_hist_version *x = realloc(c->v, (c->n + 1) * sizeof(*x));

	if (!x)
		return c->rc = hlx_err(HLX_ENOMEM, "out of memory");
	c->v = x;
	c->v[c->n++] = *v;
	return 0;
}

static int url_line(void *ctx, const char *line, size_t len, int added)
{
	static const char pre[] = "url-sha256:";
	struct url_ctx *c = ctx;
	char hex[65];

	if (!added || len < sizeof(pre) - 1 + 64 ||
	    memcmp(line, pre, sizeof(pre) - 1) != 0)
		return 0;
	memcpy(hex, line + sizeof(pre) - 1, 64);
	hex[64] = '\0';
	if (!is_hex(hex, 64))
		return 0;
	return c->rc = push_(&c->in->urls, &c->in->nurls, sizeof(*c->in->urls),
			     hex, 0);
}

/* Every url-sha256 item the history of an own list ever held. */
static int list_urls(struct hlx_node *n, const char *list, struct intent *in)
{
	struct url_ctx c = { in, NULL, 0, HLX_OK };
	struct hlx_hist *h = NULL;
	int rc = hlx_list_open_hist(n, list, &h);

	if (!rc)
		rc = hlx_hist_log(h, version_add, &c);
	if (!rc)
		rc = c.rc;
	for (size_t i = 0; !rc && i < c.n; i++) {
		rc = hlx_hist_diff(h, c.v[i].parent[0] ? c.v[i].parent : NULL,
				   c.v[i].oid, url_line, &c);
		if (!rc)
			rc = c.rc;
	}
	free(c.v);
	hlx_hist_free(h);
	urls_unique(in);
	return rc;
}

int hlx_remove_list(struct hlx_node *n, const char *list,
		    const struct hlx_remove_opts *o,
		    struct hlx_remove_result *res)
{
	struct hlx_policies *pols = NULL;
	struct hlx_list_rec rec;
	struct intent in;
	const char *by;
	int rc;

	rc = setup(n, o, &in, res, &pols);
	if (rc)
		goto out;
	if (strchr(list, '/')) {
		rc = hlx_err(HLX_EINVAL,
			     "'%.64s' is a peer's list: use 'hlx unsubscribe PEER LIST --purge'",
			     list);
		goto out;
	}
	if (hlx_is_status_list(list)) {
		rc = hlx_err(HLX_EINVAL, "'status' is the removal-status log, not a list to remove");
		goto out;
	}
	if (hlx_is_cases_list(list)) {
		rc = hlx_err(HLX_EINVAL, "'cases' is the cases log, not a list to remove");
		goto out;
	}
	rc = hlx_list_get(n, list, &rec);
	if (rc)
		goto out;
	if ((by = named_by(pols, list, NULL)) && !(o && o->force)) {
		char what[80];

		snprintf(what, sizeof(what), "'%s'", list);
		rc = refuse(by, what);
		goto out;
	}
	rc = list_urls(n, list, &in);
	if (!rc)
		rc = push(&in.lists, &in.nlists, sizeof(*in.lists), list);
out:
	return finish(n, &in, res, pols, rc);
}

void hlx_remove_describe(const struct hlx_remove_result *r, char *out, size_t n)
{
	snprintf(out, n, "%u list%s with %" PRIu64 " entr%s, %u view%s, %u feed%s taken down, %u raw URL%s; state compacted %" PRIu64 " -> %" PRIu64 " bytes",
		 r->lists, r->lists == 1 ? "" : "s", r->entries,
		 r->entries == 1 ? "y" : "ies", r->views,
		 r->views == 1 ? "" : "s", r->feeds, r->feeds == 1 ? "" : "s",
		 r->urls, r->urls == 1 ? "" : "s", r->before, r->after);
}
