/* SPDX-License-Identifier: MIT */
/* The cases engine, reading: the snapshot of every case line held, the
 * route and owner of each case (node/cases.h).  Recording is in
 * node/cases_write.c; cases_int.h is what the two share. */
#include "node/cases_int.h"
#include "node/files.h"
#include "node/lists.h"
#include "node/peers.h"
#include "node/urls.h"
#include "keys/sshkey.h"
#include "protocol/err.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

const char *hlx_cases_self(const struct hlx_cases *c)
{
	return c->self;
}

void hlx_cases_free(struct hlx_cases *c)
{
	if (!c)
		return;
	for (unsigned i = 0; i < c->nsrc; i++)
		if (c->src[i].own_trust)
			hlx_trust_free(c->src[i].own_trust);
	free(c->src);
	hlx_buf_free(&c->arena);
	free(c->refs);
	free(c->urls);
	free(c->force);
	free(c->lines);
	free(c->srcs);
	free(c->srcidx);
	hlx_plans_free(c->plans);
	free(c);
}

/* ---- loading ---- */

struct reader {
	struct hlx_cases *c;
	uint32_t src;
	const char *list;
};

static int add_ref(void *ctx, const char *line, size_t len)
{
	struct reader *r = ctx;
	struct hlx_cases *c = r->c;
	size_t off = c->arena.len;
	int rc;

	if (len < 11 + 64 + 1 || memcmp(line, "url-sha256:", 11) != 0 ||
	    line[11 + 64] != '\t' || len > HLX_CASE_LINE_MAX)
		return hlx_err(HLX_EINVAL, "list '%s': a line that is no case line",
			       r->list);
	if (c->nrefs == c->cap) {
		size_t nc = c->cap ? c->cap * 2 : 1024;
		struct hlx_cases_ref *p = realloc(c->refs, nc * sizeof(*p));

		if (!p)
			return hlx_err(HLX_ENOMEM, "out of memory");
		c->refs = p;
		c->cap = nc;
	}
	if (sodium_hex2bin(c->refs[c->nrefs].id, 32, line + 11, 64, NULL, NULL,
			   NULL) != 0)
		return hlx_err(HLX_EINVAL, "list '%s': a bad case id", r->list);
	rc = hlx_buf_put(&c->arena, line, len);
	if (rc)
		return rc;
	c->refs[c->nrefs].src = r->src;
	c->refs[c->nrefs].off = off;
	c->refs[c->nrefs].len = (uint32_t)len;
	c->nrefs++;
	return HLX_OK;
}

static int add_source(struct hlx_cases *c, const char *org, const char *root,
		      const struct hlx_trust *t, struct hlx_trust *own,
		      const char *list)
{
	struct hlx_cases_source *p, *s;

	for (unsigned i = 0; i < c->nsrc; i++)
		if (!strcmp(c->src[i].org, org)) {
			/* one log an organisation: the first (ours) */
			hlx_trust_free(own);
			return HLX_EEXIST;
		}
	p = realloc(c->src, (c->nsrc + 1) * sizeof(*p));
	if (!p) {
		hlx_trust_free(own);
		return hlx_err(HLX_ENOMEM, "out of memory");
	}
	c->src = p;
	s = &c->src[c->nsrc];
	memset(s, 0, sizeof(*s));
	snprintf(s->org, sizeof(s->org), "%s", org);
	snprintf(s->root, sizeof(s->root), "%s", root);
	snprintf(s->list, sizeof(s->list), "%s", list);
	s->trust = t;
	s->own_trust = own;
	c->nsrc++;
	return HLX_OK;
}

static int read_log(struct hlx_cases *c, uint32_t src)
{
	struct hlx_list_rec rec;
	struct hlx_hist *h = NULL;
	struct reader r = { c, src, c->src[src].list };
	int rc = hlx_store_list_get(hlx_node_store(c->n), r.list, &rec);

	if (rc == HLX_ENOENT) {
		hlx_err_clear();
		return HLX_OK;
	}
	if (!rc && rec.version == 0)
		return HLX_OK;
	if (!rc)
		rc = hlx_list_open_hist(c->n, r.list, &h);
	if (!rc)
		rc = hlx_hist_foreach(h, rec.head, add_ref, &r);
	hlx_hist_free(h);
	return rc;
}

struct peer_logs {
	char (*names)[HLX_LIST_NAME_MAX + 1];
	size_t n;
};

static int collect_peer_log(void *ctx, const struct hlx_list_rec *l)
{
	struct peer_logs *p = ctx;
	void *x;

	if (!strchr(l->name, '/') || !hlx_is_cases_list(l->name))
		return 0;
	x = realloc(p->names, (p->n + 1) * sizeof(*p->names));
	if (!x)
		return hlx_err(HLX_ENOMEM, "out of memory");
	p->names = x;
	snprintf(p->names[p->n++], HLX_LIST_NAME_MAX + 1, "%s", l->name);
	return 0;
}

/* The verified chain of peer (name) as stored, or NULL. */
static struct hlx_trust *peer_trust(struct hlx_cases *c,
				    const struct hlx_peer *peer)
{
	struct hlx_buf b = HLX_BUF_INIT;
	struct hlx_trust *t = NULL;
	char path[PATH_MAX];

	if (hlx_node_path(c->n, HLX_HOME_PEER_TRUST, peer->name, NULL, path) ||
	    hlx_file_read(path, HLX_TRUST_MAX, &b) ||
	    hlx_trust_load((char *)b.data, b.len, &peer->root, &t))
		t = NULL;
	hlx_buf_free(&b);
	hlx_err_clear();
	return t;
}

static int load_sources(struct hlx_cases *c)
{
	struct hlx_home *home = hlx_node_home(c->n);
	const struct hlx_trust *mine = hlx_home_trust(home);
	struct peer_logs pl = { NULL, 0 };
	struct hlx_peers *peers = NULL;
	char fpr[HLX_FPR_LEN];
	int rc;

	hlx_sshkey_fingerprint(hlx_trust_root(mine), fpr);
	rc = add_source(c, c->self, fpr, mine, NULL, HLX_CASES_LIST);
	if (!rc)
		rc = read_log(c, 0);
	if (!rc)
		rc = hlx_store_list_foreach(hlx_node_store(c->n), collect_peer_log,
					    &pl);
	if (!rc && pl.n)
		rc = hlx_peers_load(hlx_home_dir(home), &peers);
	for (size_t i = 0; !rc && i < pl.n; i++) {
		char pname[HLX_LIST_NAME_MAX + 1];
		struct hlx_peer *peer;
		struct hlx_trust *t;

		snprintf(pname, sizeof(pname), "%s", pl.names[i]);
		*strchr(pname, '/') = '\0';
		peer = hlx_peers_find(peers, pname);
		/* a log whose peer is gone, or whose chain is not held,
		 * names nobody: it counts for nothing */
		if (!peer || !(t = peer_trust(c, peer)))
			continue;
		hlx_sshkey_fingerprint(&peer->root, fpr);
		rc = add_source(c, hlx_trust_org(t), fpr, t, t, pl.names[i]);
		if (rc == HLX_EEXIST) {
			rc = HLX_OK;
			continue;
		}
		if (!rc)
			rc = read_log(c, c->nsrc - 1);
	}
	hlx_peers_free(peers);
	free(pl.names);
	return rc;
}

static int ref_cmp(const void *a_, const void *b_)
{
	const struct hlx_cases_ref *a = a_, *b = b_;
	int x = memcmp(a->id, b->id, 32);

	if (x)
		return x;
	return a->src < b->src ? -1 : a->src > b->src;
}

static int url_cmp(const void *a, const void *b)
{
	return memcmp(a, b, 32);
}

static int add_url(void *ctx, const struct hlx_hash *item)
{
	struct hlx_cases *c = ctx;

	if (item->type != HLX_HASH_URL_SHA256)
		return 0;
	if (c->nurls == c->urlcap) {
		size_t nc = c->urlcap ? c->urlcap * 2 : 256;
		uint8_t (*p)[32] = realloc(c->urls, nc * sizeof(*p));

		if (!p)
			return hlx_err(HLX_ENOMEM, "out of memory");
		c->urls = p;
		c->urlcap = nc;
	}
	memcpy(c->urls[c->nurls++], item->bytes, 32);
	return 0;
}

int hlx_cases_load(struct hlx_node *n, struct hlx_cases **out)
{
	struct hlx_cases *c = calloc(1, sizeof(*c));
	int rc;

	*out = NULL;
	if (!c)
		return hlx_err(HLX_ENOMEM, "out of memory");
	c->n = n;
	c->have_force = 0;
	snprintf(c->self, sizeof(c->self), "%s", hlx_home_org(hlx_node_home(n)));
	rc = hlx_plans_load(n, &c->plans);
	if (!rc) {
		c->book = hlx_plans_book(c->plans);
		rc = load_sources(c);
	}
	if (!rc)
		rc = hlx_urls_foreach(hlx_node_home(n), add_url, c);
	if (!rc) {
		if (c->nrefs)
			qsort(c->refs, c->nrefs, sizeof(*c->refs), ref_cmp);
		if (c->nurls)
			qsort(c->urls, c->nurls, sizeof(*c->urls), url_cmp);
		c->lines = malloc((c->nsrc ? c->nsrc : 1) * sizeof(*c->lines));
		c->srcs = malloc((c->nsrc ? c->nsrc : 1) * sizeof(*c->srcs));
		c->srcidx = malloc((c->nsrc ? c->nsrc : 1) * sizeof(*c->srcidx));
		if (!c->lines || !c->srcs || !c->srcidx)
			rc = hlx_err(HLX_ENOMEM, "out of memory");
	}
	if (rc) {
		hlx_cases_free(c);
		return rc;
	}
	*out = c;
	return HLX_OK;
}

/* ---- routing ---- */

/* The plans in force at t, from a one-entry cache. */
static int force_at(struct hlx_cases *c, int64_t t)
{
	if (c->have_force && c->force_t == t)
		return HLX_OK;
	free(c->force);
	c->force = NULL;
	c->nforce = 0;
	c->have_force = 0;
	if (hlx_plan_book_in_force(c->book, t, &c->force, &c->nforce))
		return hlx_err_wrap(HLX_EINVAL, "plans in force");
	c->force_t = t;
	c->have_force = 1;
	return HLX_OK;
}

int hlx_cases_record_host(struct hlx_cases *c, const char *host, int64_t t,
			  char out[HLX_CASE_HOST_MAX + 1])
{
	size_t best = 0;
	int rc;

	out[0] = '\0';
	if (!host[0])
		return HLX_OK;
	rc = force_at(c, t);
	for (size_t i = 0; !rc && i < c->nforce; i++) {
		const struct hlx_plan *p = c->force[i].plan;

		for (size_t k = 0; k < hlx_plan_nrules(p); k++) {
			const struct hlx_plan_rule *r = hlx_plan_rule_at(p, k);
			size_t l = strlen(r->host);

			if (l > best && hlx_plan_host_matches(r->host, host)) {
				best = l;
				snprintf(out, HLX_CASE_HOST_MAX + 1, "%s", r->host);
			}
		}
	}
	return rc;
}

/* The route of the opening report open at its time, the active chain
 * at t (section 4), into c's scratch route. */
static int route_of(struct hlx_cases *c, const struct hlx_case_line *open,
		    int64_t t)
{
	struct hlx_case_route *r = &c->route;
	struct hlx_plan_loc loc;
	struct hlx_plan_route pr;
	const struct hlx_plan_force *f = NULL;
	int rc;

	memset(r, 0, sizeof(*r));
	c->plan = NULL;
	c->police_via = NULL;
	c->nchain = c->nlacking = 0;
	rc = force_at(c, open->reported);
	if (rc)
		return rc;
	memset(&loc, 0, sizeof(loc));
	memcpy(loc.country, open->country, sizeof(loc.country));
	snprintf(loc.category, sizeof(loc.category), "%s", open->category);
	snprintf(loc.host, sizeof(loc.host), "%s", open->host);
	hlx_plan_route(c->force, c->nforce, &loc, t, &pr);
	if (!pr.plan)
		return HLX_OK;
	for (size_t i = 0; i < c->nforce; i++)
		if (c->force[i].plan == pr.plan)
			f = &c->force[i];
	if (!f || pr.nbase == 0 || pr.nbase > HLX_PLAN_SIGNATORIES_MAX)
		return hlx_err(HLX_EINVAL, "case route: no plan in force");
	r->routed = 1;
	r->nbase = (unsigned)pr.nbase;
	r->nchain = (unsigned)pr.nprimary;
	r->base = c->base;
	r->wd = c->wd;
	for (size_t i = 0; i < pr.nbase; i++) {
		c->base[i] = hlx_plan_signatory(pr.plan, (size_t)pr.base[i]);
		if (f->withdrawn[pr.base[i]] >= 0)
			c->wd[r->nwd++] = (struct hlx_case_wd){
				c->base[i], f->withdrawn[pr.base[i]] };
	}
	r->lease = hlx_plan_lease_seconds(pr.plan);
	r->settle = hlx_plan_settle_seconds(pr.plan);
	r->le_by = pr.rule->deadlines.le_by >= 0 ?
		   hlx_plan_signatory(pr.plan, (size_t)pr.rule->deadlines.le_by) :
		   NULL;
	c->plan = pr.plan;
	c->rule = pr.rule->id;
	if (pr.rule->channel == HLX_PLAN_POLICE && pr.rule->via >= 0)
		c->police_via = hlx_plan_signatory(pr.plan, (size_t)pr.rule->via);
	for (size_t i = 0; i < pr.nchain; i++)
		c->chain[c->nchain++] = hlx_plan_signatory(pr.plan,
							  (size_t)pr.chain[i]);
	return HLX_OK;
}

/* Leave out the lines of an organisation the routing plan names whose
 * chain did not introduce the root the plan names for it.  1 if any. */
static int drop_unrooted(struct hlx_cases *c, unsigned *n)
{
	unsigned w = 0;
	int dropped = 0;

	for (unsigned i = 0; i < *n; i++) {
		const struct hlx_cases_source *s = &c->src[c->srcidx[i]];
		int k = hlx_plan_signatory_find(c->plan, s->org);

		if (k >= 0 && !hlx_trust_has_root(s->trust,
						  hlx_plan_signatory_root(c->plan, (size_t)k))) {
			dropped = 1;
			continue;
		}
		c->srcs[w] = c->srcs[i];
		c->srcidx[w] = c->srcidx[i];
		w++;
	}
	*n = w;
	return dropped;
}

/* The root the owner's chain must hold (struct hlx_case_view). */
static const char *owner_root(const struct hlx_cases *c, const char *org,
			      unsigned n, int *plan)
{
	const char *r = NULL;
	int k;

	*plan = 0;
	if (c->plan && c->route.routed &&
	    (k = hlx_plan_signatory_find(c->plan, org)) >= 0) {
		*plan = 1;
		return hlx_plan_signatory_root(c->plan, (size_t)k);
	}
	for (unsigned i = 0; i < n; i++) {
		if (strcmp(c->srcs[i].org, org) != 0)
			continue;
		if (r && strcmp(r, c->srcs[i].root) != 0)
			return NULL;
		r = c->srcs[i].root;
	}
	return r;
}

static void lacking(struct hlx_cases *c)
{
	for (size_t i = 0; c->plan && i < hlx_plan_nsignatories(c->plan); i++) {
		const char *o = hlx_plan_signatory(c->plan, i);
		unsigned k;

		for (k = 0; k < c->nsrc; k++)
			if (!strcmp(c->src[k].org, o))
				break;
		if (k == c->nsrc && c->nlacking < HLX_PLAN_SIGNATORIES_MAX)
			c->lacking[c->nlacking++] = o;
	}
}

/* The case of refs[a, b) at t into v; 0 in *exists when it does not
 * exist at t. */
static int view_of(struct hlx_cases *c, size_t a, size_t b, int64_t t,
		   struct hlx_case_view *v, int *exists)
{
	unsigned n = 0, open;
	int rc;

	*exists = 0;
	memset(v, 0, sizeof(*v));
	for (size_t i = a; i < b; i++) {
		const struct hlx_cases_ref *f = &c->refs[i];

		rc = hlx_case_decode((const char *)c->arena.data + f->off, f->len,
				     &c->lines[n]);
		if (rc)
			return hlx_err_wrap(rc, "list '%s'", c->src[f->src].list);
		c->srcs[n] = (struct hlx_case_src){ c->src[f->src].org,
						    c->src[f->src].root,
						    &c->lines[n] };
		c->srcidx[n] = f->src;
		n++;
	}
	for (int round = 0; round < 4; round++) {
		if (hlx_case_opening(c->srcs, n, &open)) {
			hlx_err_clear();
			return HLX_OK;
		}
		rc = route_of(c, c->srcs[open].line, t);
		if (rc)
			return rc;
		if (!c->route.routed || !drop_unrooted(c, &n))
			break;
	}
	rc = hlx_case_owner(&c->route, c->srcs, n, t, &v->owner, NULL, NULL);
	if (rc || !v->owner.exists)
		return rc;
	*exists = 1;
	v->hash = &c->hash;
	c->hash.type = HLX_HASH_URL_SHA256;
	c->hash.len = 32;
	memcpy(c->hash.bytes, c->refs[a].id, 32);
	hlx_hash_format(&c->hash, v->id, sizeof(v->id));
	v->srcs = c->srcs;
	v->nsrcs = n;
	v->mine = -1;
	for (unsigned i = 0; i < n; i++)
		if (c->srcidx[i] == 0)
			v->mine = (int)i;
	v->opening = c->srcs[v->owner.opening].line;
	v->route = &c->route;
	if (c->plan) {
		lacking(c);
		v->plan = hlx_plan_name(c->plan);
		v->plan_version = hlx_plan_version(c->plan);
		v->rule = c->rule;
		v->chain = c->chain;
		v->nchain = c->nchain;
		v->lacking = c->lacking;
		v->police_via = c->police_via;
		v->nlacking = c->nlacking;
	}
	v->owner_root = owner_root(c, v->owner.org, n, &v->owner_root_plan);
	v->url_held = c->nurls && bsearch(c->refs[a].id, c->urls, c->nurls, 32,
			      url_cmp) != NULL;
	return HLX_OK;
}

static size_t group_end(const struct hlx_cases *c, size_t a)
{
	size_t b = a + 1;

	while (b < c->nrefs && !memcmp(c->refs[b].id, c->refs[a].id, 32))
		b++;
	return b;
}

int hlx_cases_foreach(struct hlx_cases *c, int64_t t, hlx_cases_fn fn,
		      void *ctx)
{
	struct hlx_case_view v;
	int rc = HLX_OK, exists;

	for (size_t a = 0, b; !rc && a < c->nrefs; a = b) {
		b = group_end(c, a);
		rc = view_of(c, a, b, t, &v, &exists);
		if (!rc && exists)
			rc = fn(ctx, &v);
	}
	return rc;
}

/* The first ref of case id, or c->nrefs. */
size_t hlx_cases_find(const struct hlx_cases *c, const uint8_t id[32])
{
	size_t lo = 0, hi = c->nrefs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (memcmp(c->refs[mid].id, id, 32) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < c->nrefs && !memcmp(c->refs[lo].id, id, 32) ? lo : c->nrefs;
}

int hlx_cases_view(struct hlx_cases *c, const uint8_t id[32], int64_t t,
		   struct hlx_case_view *v, int *exists)
{
	size_t a = hlx_cases_find(c, id);

	*exists = 0;
	if (a == c->nrefs)
		return HLX_OK;
	return view_of(c, a, group_end(c, a), t, v, exists);
}

int hlx_cases_get(struct hlx_cases *c, const struct hlx_hash *id, int64_t t,
		  hlx_cases_fn fn, void *ctx)
{
	struct hlx_case_view v;
	int exists, rc;

	if (id->type != HLX_HASH_URL_SHA256)
		return hlx_err(HLX_EINVAL, "a case id is a url-sha256 hash");
	rc = hlx_cases_view(c, id->bytes, t, &v, &exists);
	if (!rc && !exists)
		rc = hlx_err(HLX_ENOENT, "no such case");
	return rc ? rc : fn(ctx, &v);
}

int hlx_cases_by_item(struct hlx_cases *c, const struct hlx_hash *item,
		      int64_t t, hlx_cases_fn fn, void *ctx)
{
	struct hlx_case_view v;
	int rc = HLX_OK, exists, hits = 0;

	for (size_t a = 0, b; !rc && a < c->nrefs; a = b) {
		int named = 0;

		b = group_end(c, a);
		rc = view_of(c, a, b, t, &v, &exists);
		for (unsigned i = 0; !rc && exists && i < v.nsrcs; i++)
			named |= v.srcs[i].line->item.type == item->type &&
				 v.srcs[i].line->item.len == item->len &&
				 !memcmp(v.srcs[i].line->item.bytes, item->bytes,
					 item->len);
		if (!rc && exists && named) {
			hits++;
			rc = fn(ctx, &v);
		}
	}
	if (!rc && !hits)
		rc = hlx_err(HLX_ENOENT, "no case names it");
	return rc;
}

int hlx_cases_replay(const struct hlx_case_view *v, int64_t t,
		     hlx_case_ev_fn cb, void *ctx)
{
	struct hlx_case_owner o;

	return hlx_case_owner(v->route, v->srcs, v->nsrcs, t, &o, cb, ctx);
}

int hlx_cases_counts(const struct hlx_case_view *v, unsigned i)
{
	const struct hlx_case_line *l = v->srcs[i].line;
	struct hlx_case_owner o;

	if (l->state == HLX_CASE_NONE || l->changed < v->owner.t0)
		return 0;
	if ((l->state == HLX_CASE_LE_HOLD || l->state == HLX_CASE_LE_CLEARED) &&
	    v->route->routed && v->route->le_by &&
	    !strcmp(v->route->le_by, v->srcs[i].org))
		return 1;
	if (hlx_case_owner(v->route, v->srcs, v->nsrcs, l->changed, &o, NULL,
			   NULL) || !o.exists)
		return 0;
	return !strcmp(o.org, v->srcs[i].org);
}
