/* SPDX-License-Identifier: MIT */
/*
 * The node at a glance (node/overview.h): gathered, never printed.
 */
#include "node/overview.h"
#include "node/files.h"
#include "node/retention.h"
#include "node/sync.h"
#include "keys/seal.h"
#include "keys/trust.h"
#include "protocol/err.h"
#include "protocol/head.h"
#include "protocol/rtime.h"

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* At most this many heads are read from a publish directory: it is the
 * node's own, but others may write in it. */
#define OV_HEADS_MAX 100000

void hlx_overview_init(struct hlx_overview *ov, int64_t now)
{
	memset(ov, 0, sizeof(*ov));
	ov->now = now;
}

void hlx_overview_free(struct hlx_overview *ov)
{
	if (!ov)
		return;
	free(ov->keys);
	free(ov->lists);
	free(ov->peer);
	free(ov->subs);
	free(ov->pol);
	free(ov->heads);
	free(ov->att);
	hlx_audiences_free(ov->aus);
	hlx_policies_free(ov->pols);
	hlx_peers_free(ov->peers);
	hlx_overview_init(ov, ov->now);
}

/* ---- keys --------------------------------------------------------------- */

int hlx_overview_keys(struct hlx_overview *ov, struct hlx_home *h)
{
	const struct hlx_trust *t = hlx_home_trust(h);
	size_t n = hlx_trust_nkeys(t);
	struct hlx_boxpub box;
	struct hlx_pubkey cur;
	int have = hlx_home_signing_pub(h, &cur) == HLX_OK;

	hlx_err_clear();
	snprintf(ov->org, sizeof(ov->org), "%s", hlx_home_org(h));
	snprintf(ov->home, sizeof(ov->home), "%s", hlx_home_dir(h));
	free(ov->keys);
	ov->nkeys = 0;
	ov->keys = calloc(n + 1, sizeof(*ov->keys));
	if (!ov->keys)
		return hlx_err(HLX_ENOMEM, "out of memory");
	ov->keys[0].root = 1;
	ov->keys[0].state = "valid";
	hlx_sshkey_fingerprint(hlx_trust_root(t), ov->keys[0].fpr);
	for (size_t i = 0; i < n; i++) {
		const struct hlx_trust_key *k = hlx_trust_key(t, i);
		struct hlx_ov_key *o = &ov->keys[i + 1];

		hlx_sshkey_fingerprint(&k->key, o->fpr);
		o->valid_after = k->valid_after;
		o->valid_before = k->valid_before;
		o->revoked = k->revoked;
		o->revoked_since = k->revoked_since;
		o->state = k->revoked && ov->now >= k->revoked_since ? "revoked" :
			   ov->now < k->valid_after ? "not-yet-valid" :
			   ov->now >= k->valid_before ? "expired" : "valid";
		o->current = have && hlx_pubkey_eq(&k->key, &cur);
	}
	ov->nkeys = n + 1;
	ov->box = hlx_home_box_pub(h, &box) == HLX_OK;
	hlx_err_clear();
	return HLX_OK;
}

/* ---- lists -------------------------------------------------------------- */

static int add_list(void *ctx, const struct hlx_list_rec *l)
{
	struct hlx_overview *ov = ctx;
	struct hlx_ov_list *v;

	v = realloc(ov->lists, (ov->nlists + 1) * sizeof(*v));
	if (!v)
		return hlx_err(HLX_ENOMEM, "out of memory");
	ov->lists = v;
	v += ov->nlists++;
	v->rec = *l;
	v->own = strchr(l->name, '/') == NULL;
	return 0;
}

int hlx_overview_lists(struct hlx_overview *ov, struct hlx_node *n)
{
	free(ov->lists);
	ov->lists = NULL;
	ov->nlists = 0;
	return hlx_store_list_foreach(hlx_node_store(n), add_list, ov);
}

/* ---- peers -------------------------------------------------------------- */

static void fill_sub(struct hlx_ov_sub *s, struct hlx_node *n,
		     const struct hlx_peer *p, const char *list)
{
	struct hlx_sync_state ss;
	struct hlx_list_rec rec;
	char full[HLX_LIST_NAME_MAX + 1];

	s->peer = p->name;
	s->list = list;
	if (!n)
		return;
	snprintf(full, sizeof(full), "%s/%s", p->name, list);
	if (hlx_store_list_get(hlx_node_store(n), full, &rec) == HLX_OK)
		s->held = rec.version;
	hlx_sync_state_get(n, p->name, list, &ss);
	s->remote = ss.remote_version;
	s->last_ok = ss.last_ok;
	s->last_try = ss.last_try;
	s->head_expires = ss.expires;
	/* an error kept by an older hlx may quote a feed's bytes as they
	 * came */
	ss.error[sizeof(ss.error) - 1] = '\0';
	hlx_err_neutralise(s->error, sizeof(s->error), ss.error);
	if (hlx_retention_rules(n, full, &s->rules) == HLX_OK)
		s->has_rules = !s->rules.onward || s->rules.retention_days ||
			       s->rules.purpose[0];
	hlx_err_clear();
}

int hlx_overview_peers(struct hlx_overview *ov, const char *home,
		       struct hlx_node *n)
{
	size_t nsubs = 0, k = 0;
	int rc;

	hlx_peers_free(ov->peers);
	free(ov->peer);
	free(ov->subs);
	ov->peers = NULL;
	ov->peer = NULL;
	ov->subs = NULL;
	ov->npeers = ov->nsubs = 0;
	rc = hlx_peers_load(home, &ov->peers);
	if (rc)
		return rc;
	for (size_t i = 0; i < ov->peers->n; i++)
		nsubs += ov->peers->v[i].nsubs;
	ov->peer = calloc(ov->peers->n + 1, sizeof(*ov->peer));
	ov->subs = calloc(nsubs + 1, sizeof(*ov->subs));
	if (!ov->peer || !ov->subs)
		return hlx_err(HLX_ENOMEM, "out of memory");
	for (size_t i = 0; i < ov->peers->n; i++) {
		const struct hlx_peer *p = &ov->peers->v[i];
		struct hlx_ov_peer *o = &ov->peer[i];

		o->p = p;
		hlx_sshkey_fingerprint(&p->root, o->fpr);
		o->first = k;
		o->nsubs = p->nsubs;
		for (size_t j = 0; j < p->nsubs; j++)
			fill_sub(&ov->subs[k++], n, p, p->subs[j]);
	}
	ov->npeers = ov->peers->n;
	ov->nsubs = nsubs;
	return HLX_OK;
}

/* ---- policies ----------------------------------------------------------- */

int hlx_overview_policies(struct hlx_overview *ov, const char *home)
{
	struct hlx_peers none = { 0, NULL };
	const struct hlx_peers *ps = ov->peers ? ov->peers : &none;
	int rc;

	hlx_audiences_free(ov->aus);
	hlx_policies_free(ov->pols);
	free(ov->pol);
	ov->aus = NULL;
	ov->pols = NULL;
	ov->pol = NULL;
	ov->npols = 0;
	ov->policy_error[0] = '\0';
	rc = hlx_policies_load(home, &ov->pols);
	if (rc)
		return rc;
	ov->pol = calloc(ov->pols->n + 1, sizeof(*ov->pol));
	if (!ov->pol)
		return hlx_err(HLX_ENOMEM, "out of memory");
	/* one peer's bad setting leaves the rest to be shown */
	if (hlx_audiences_make(home, ov->pols, ps, &ov->aus) != HLX_OK) {
		snprintf(ov->policy_error, sizeof(ov->policy_error), "%s",
			 hlx_err_detail());
		ov->aus = NULL;
	} else if (ov->aus->nskipped) {
		/* peers left out of every audience (publish skips them) */
		const struct hlx_audience_skip *k = &ov->aus->skipped[0];

		snprintf(ov->policy_error, sizeof(ov->policy_error),
			 "peer '%s' gets nothing: %s%s", k->peer->name, k->why,
			 ov->aus->nskipped > 1 ? " (and others)" : "");
	}
	hlx_err_clear();
	for (size_t i = 0; i < ov->pols->n; i++) {
		const struct hlx_policy *p = ov->pols->v[i];
		struct hlx_ov_policy *o = &ov->pol[i];
		uint8_t h[32];

		o->pol = p;
		hlx_policy_hash(p, h);
		sodium_bin2hex(o->sha256, sizeof(o->sha256), h, 32);
		for (size_t j = 0; j < ps->n; j++) {
			const struct hlx_audience *au;

			if (strcmp(ps->v[j].policy, hlx_policy_name(p)) != 0)
				continue;
			o->bound++;
			au = ov->aus ? hlx_audiences_of(ov->aus, ps->v[j].name) : NULL;
			if (au && hlx_policy_encrypt(p) && !o->audience)
				o->audience = au->id;
		}
	}
	ov->npols = ov->pols->n;
	for (size_t i = 0; ov->aus && i < ov->npeers; i++)
		ov->peer[i].feed = hlx_audiences_dir(ov->aus, ov->peer[i].p->name);
	return HLX_OK;
}

/* ---- the publish directory ---------------------------------------------- */

static int add_head(struct hlx_overview *ov, const char *feed,
		    const struct hlx_head *h)
{
	struct hlx_ov_head *v;

	if (ov->nheads >= OV_HEADS_MAX)
		return HLX_OK;
	v = realloc(ov->heads, (ov->nheads + 1) * sizeof(*v));
	if (!v)
		return hlx_err(HLX_ENOMEM, "out of memory");
	ov->heads = v;
	v += ov->nheads++;
	snprintf(v->feed, sizeof(v->feed), "%s", feed);
	snprintf(v->list, sizeof(v->list), "%s", h->list);
	v->version = h->version;
	v->issued = h->issued;
	v->expires = h->expires;
	if (h->issued > ov->last_signed)
		ov->last_signed = h->issued;
	if (!ov->next_expiry || h->expires < ov->next_expiry)
		ov->next_expiry = h->expires;
	return HLX_OK;
}

/* Read a head file (under root, when given): one that is not a plain
 * head (a sealed one) is skipped. */
static int read_head(struct hlx_overview *ov, const char *root,
		     const char *path, const char *feed)
{
	struct hlx_buf b = HLX_BUF_INIT, body = HLX_BUF_INIT, sig = HLX_BUF_INIT;
	struct hlx_head h;
	int rc = root ? hlx_file_read_in(root, path, HLX_HEAD_MAX, &b) :
			hlx_file_read(path, HLX_HEAD_MAX, &b);

	if (!rc && hlx_head_parse((const char *)b.data, b.len, &h, &body,
				  &sig) == HLX_OK)
		rc = add_head(ov, feed, &h);
	else
		rc = HLX_OK;
	hlx_err_clear();
	hlx_buf_free(&b);
	hlx_buf_free(&body);
	hlx_buf_free(&sig);
	return rc;
}

/* The names in a directory (under root when given), but temporary files
 * and dot files; each passed to cb. */
static int each_name(const char *root, const char *dir,
		     int (*cb)(void *ctx, const char *name), void *ctx)
{
	struct dirent *e;
	DIR *d;
	int fd = -1, rc;

	rc = root ? hlx_dir_open_in(root, dir, &fd) : HLX_OK;
	if (!root) {
		fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			rc = HLX_ENOENT;
	}
	if (rc) {
		hlx_err_clear();
		return HLX_OK;   /* nothing there */
	}
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return hlx_err(HLX_EIO, "cannot read directory '%s'", dir);
	}
	/* rc 1 from cb: enough heads, stop reading (bounded work) */
	while (!rc && (e = readdir(d)) != NULL)
		if (e->d_name[0] != '.' && !hlx_file_is_temp(e->d_name))
			rc = cb(ctx, e->d_name);
	closedir(d);
	return rc;
}

struct scan {
	struct hlx_overview *ov;
	const char *root;        /* the publish directory, or NULL (home) */
	char dir[PATH_MAX];      /* the feed's lists/ directory, or views/ID */
	char feed[40];
};

/* A feed's directory name as publish makes it: 32 lowercase hex digits
 * (others may write in the publish directory: nothing else is shown). */
static int feed_name_ok(const char *name)
{
	return strlen(name) == 32 && strspn(name, "0123456789abcdef") == 32;
}

static int feed_list(void *ctx, const char *name)
{
	struct scan *s = ctx;
	char p[PATH_MAX];

	if (s->ov->nheads >= OV_HEADS_MAX)
		return 1;
	if (hlx_list_name_check(name) != HLX_OK) {
		hlx_err_clear();
		return HLX_OK;
	}
	if (hlx_pathf(p, "%s/%s/head", s->dir, name))
		return HLX_OK;
	return read_head(s->ov, s->root, p, s->feed);
}

static int scan_feed(struct hlx_overview *ov, const char *root,
		     const char *feed)
{
	struct scan s = { ov, root, "", "" };

	snprintf(s.feed, sizeof(s.feed), "%s", feed);
	if (hlx_pathf(s.dir, "%s%s%s/lists", root, feed[0] ? "/" : "", feed))
		return HLX_OK;
	return each_name(root, s.dir, feed_list, &s);
}

static int audience_feed(void *ctx, const char *name)
{
	struct scan *s = ctx;
	char feed[40];

	if (s->ov->nheads >= OV_HEADS_MAX)
		return 1;
	if (!feed_name_ok(name))
		return HLX_OK;
	snprintf(feed, sizeof(feed), "a/%s", name);
	return scan_feed(s->ov, s->root, feed);
}

/* A sealed feed's heads: their plain copies in views/ID/NAME.head. */
static int sealed_head(void *ctx, const char *name)
{
	struct scan *s = ctx;
	size_t n = strlen(name);
	char p[PATH_MAX];

	if (s->ov->nheads >= OV_HEADS_MAX)
		return 1;
	if (n <= 5 || strcmp(name + n - 5, ".head") != 0 ||
	    hlx_pathf(p, "%s/%s", s->dir, name))
		return HLX_OK;
	return read_head(s->ov, NULL, p, s->feed);
}

static int sealed_view(void *ctx, const char *name)
{
	struct scan *s = ctx, v = *s;

	if (s->ov->nheads >= OV_HEADS_MAX)
		return 1;
	if (!feed_name_ok(name) ||
	    hlx_home_path(v.dir, s->ov->home, HLX_HOME_VIEW, name, NULL))
		return HLX_OK;
	snprintf(v.feed, sizeof(v.feed), "a/%s", name);
	return each_name(NULL, v.dir, sealed_head, &v);
}

int hlx_overview_published(struct hlx_overview *ov, const char *dir)
{
	struct scan s = { ov, dir, "", "" };
	int rc;

	free(ov->heads);
	ov->heads = NULL;
	ov->nheads = 0;
	ov->last_signed = ov->next_expiry = 0;
	snprintf(ov->publish_dir, sizeof(ov->publish_dir), "%s", dir);
	rc = scan_feed(ov, dir, "");
	if (!rc && !hlx_pathf(s.dir, "%s/a", dir))
		rc = each_name(dir, s.dir, audience_feed, &s);
	/* a sealed head is unreadable in the feed: publish keeps a copy */
	s.root = NULL;
	if (!rc && ov->home[0] &&
	    !hlx_home_path(s.dir, ov->home, HLX_HOME_VIEWS, NULL, NULL))
		rc = each_name(NULL, s.dir, sealed_view, &s);
	return rc > 0 ? HLX_OK : rc;
}

/* ---- attention ---------------------------------------------------------- */

static int attend(struct hlx_overview *ov, const char *kind, int64_t when,
		  const char *subject, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static int attend(struct hlx_overview *ov, const char *kind, int64_t when,
		  const char *subject, const char *fmt, ...)
{
	struct hlx_ov_attention *a;
	va_list ap;

	a = realloc(ov->att, (ov->natt + 1) * sizeof(*a));
	if (!a)
		return hlx_err(HLX_ENOMEM, "out of memory");
	ov->att = a;
	a += ov->natt++;
	a->kind = kind;
	a->when = when;
	snprintf(a->subject, sizeof(a->subject), "%s", subject);
	va_start(ap, fmt);
	vsnprintf(a->message, sizeof(a->message), fmt, ap);
	va_end(ap);
	return HLX_OK;
}

static int attend_keys(struct hlx_overview *ov)
{
	const struct hlx_ov_key *cur = NULL;
	char t[HLX_TIME_TEXT];

	for (size_t i = 1; i < ov->nkeys; i++)
		if (ov->keys[i].current && !strcmp(ov->keys[i].state, "valid"))
			cur = &ov->keys[i];
	if (ov->nkeys && !cur)
		return attend(ov, "no-signing-key", 0, ov->org,
			      "no valid signing key: nothing can be signed; run 'hlx key rotate'");
	if (!cur || cur->valid_before - ov->now >= HLX_OV_KEY_WARN)
		return HLX_OK;
	hlx_time_format(cur->valid_before, t);
	return attend(ov, "key-expiring", cur->valid_before, cur->fpr,
		      "the signing key expires at %s (in %" PRId64 " days); run 'hlx key rotate'",
		      t, (cur->valid_before - ov->now) / 86400);
}

static int attend_peers(struct hlx_overview *ov)
{
	char subj[200], t[HLX_TIME_TEXT];
	int rc = HLX_OK;

	for (size_t i = 0; !rc && i < ov->nsubs; i++) {
		const struct hlx_ov_sub *s = &ov->subs[i];

		if (!s->error[0] || (s->last_ok && ov->now - s->last_ok < HLX_OV_PEER_WARN))
			continue;
		snprintf(subj, sizeof(subj), "%s/%s", s->peer, s->list);
		if (s->last_ok) {
			hlx_time_format(s->last_ok, t);
			rc = attend(ov, "peer-failing", s->last_ok, subj,
				    "failing since %s (%" PRId64 " h): %s", t,
				    (ov->now - s->last_ok) / 3600, s->error);
		} else {
			rc = attend(ov, "peer-failing", 0, subj,
				    "never synced: %s", s->error);
		}
	}
	return rc;
}

/* A head with less than a quarter of its life left (a running node
 * re-signs at half), or expired. */
static int attend_heads(struct hlx_overview *ov)
{
	const struct hlx_ov_head *first = NULL;
	size_t n = 0;
	char subj[200], t[HLX_TIME_TEXT];

	for (size_t i = 0; i < ov->nheads; i++) {
		const struct hlx_ov_head *h = &ov->heads[i];

		if (h->expires - ov->now >= (h->expires - h->issued) / 4)
			continue;
		n++;
		if (!first || h->expires < first->expires)
			first = h;
	}
	if (!first)
		return HLX_OK;
	snprintf(subj, sizeof(subj), "%s%s%s", first->feed,
		 first->feed[0] ? "/" : "", first->list);
	hlx_time_format(first->expires, t);
	return attend(ov, "head-expiring", first->expires, subj,
		      "%zu published head%s %s, the first at %s; run 'hlx publish' (or 'hlx run')",
		      n, n == 1 ? "" : "s",
		      first->expires <= ov->now ? "expired" : "about to expire", t);
}

int hlx_overview_attention(struct hlx_overview *ov)
{
	int rc;

	free(ov->att);
	ov->att = NULL;
	ov->natt = 0;
	rc = attend_keys(ov);
	if (!rc)
		rc = attend_peers(ov);
	if (!rc)
		rc = attend_heads(ov);
	if (!rc && ov->policy_error[0])
		rc = attend(ov, "policies", 0, "policies",
			    "no feed can be published for the policies: %s",
			    ov->policy_error);
	return rc;
}

int hlx_overview_gather(struct hlx_overview *ov, struct hlx_node *n,
			const char *publish_dir)
{
	struct hlx_home *h = hlx_node_home(n);
	int rc = hlx_overview_keys(ov, h);

	if (!rc)
		rc = hlx_overview_lists(ov, n);
	if (!rc)
		rc = hlx_overview_peers(ov, hlx_home_dir(h), n);
	if (!rc)
		rc = hlx_overview_policies(ov, hlx_home_dir(h));
	if (!rc)
		rc = hlx_overview_published(ov, publish_dir);
	if (!rc)
		rc = hlx_overview_attention(ov);
	return rc;
}
