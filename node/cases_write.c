/* SPDX-License-Identifier: MIT */
/* The cases engine, recording: reports, claims, releases, hand-offs,
 * states and renewals, each one version of the cases log
 * (node/cases.h, spec/cases.md sections 7.1 and 9). */
#include "node/cases_int.h"
#include "node/lists.h"
#include "node/urls.h"
#include "protocol/err.h"
#include "protocol/rtime.h"

#include <stdlib.h>
#include <string.h>

/* The cases log, created on the first case command. */
static int ensure_log(struct hlx_node *n)
{
	struct hlx_list_rec rec;
	int rc = hlx_list_get(n, HLX_CASES_LIST, &rec);

	if (rc == HLX_ENOENT) {
		hlx_err_clear();
		rc = hlx_list_create(n, HLX_CASES_LIST);
	}
	return rc;
}

static int commit(struct hlx_node *n, struct hlx_changeset *cs,
		  const char *what, hlx_pass_fn getpass, void *pctx,
		  int64_t now)
{
	struct hlx_apply_result res;
	int rc = ensure_log(n);

	if (!rc)
		rc = hlx_list_apply(n, HLX_CASES_LIST, cs, what, getpass, pctx,
				    now, &res);
	return rc;
}

/* Our line of case id in c (a copy into l), or a new empty one. */
static void own_line(struct hlx_cases *c, const uint8_t id[32],
		     struct hlx_case_line *l, int *have)
{
	size_t a = hlx_cases_find(c, id);

	*have = 0;
	for (; a < c->nrefs && !memcmp(c->refs[a].id, id, 32); a++) {
		if (c->refs[a].src != 0)
			continue;
		if (hlx_case_decode((const char *)c->arena.data + c->refs[a].off,
				    c->refs[a].len, l) == HLX_OK) {
			*have = 1;
			return;
		}
	}
	hlx_case_init(l);
	l->id.type = HLX_HASH_URL_SHA256;
	l->id.len = 32;
	memcpy(l->id.bytes, id, 32);
}

/* The host of a normalised URL: between "://" (and any "user@") and the
 * first of "/:?#". */
static void url_host(const char *u, size_t n, char out[HLX_CASE_HOST_MAX + 1])
{
	const char *p = memchr(u, ':', n), *end = u + n, *h, *e;

	out[0] = '\0';
	if (!p || end - p < 3 || p[1] != '/' || p[2] != '/')
		return;
	h = p + 3;
	for (e = h; e < end && !strchr("/?#", *e); e++)
		if (*e == '@')
			h = e + 1;
	for (p = h; p < e && *p != ':'; p++)
		;
	if (p > h && (size_t)(p - h) <= HLX_CASE_HOST_MAX) {
		memcpy(out, h, (size_t)(p - h));
		out[p - h] = '\0';
		for (char *x = out; *x; x++)
			if (*x >= 'A' && *x <= 'Z')
				*x = (char)(*x - 'A' + 'a');
	}
}

/* The case id of a report. */
static int report_id(const struct hlx_case_new *r, uint8_t id[32])
{
	struct hlx_hash *h;
	int rc;

	if (!r->url) {
		if (r->id.type != HLX_HASH_URL_SHA256)
			return hlx_err(HLX_EINVAL, "a case id is a url-sha256 hash");
		memcpy(id, r->id.bytes, 32);
		return HLX_OK;
	}
	h = malloc(sizeof(*h));
	if (!h)
		return hlx_err(HLX_ENOMEM, "out of memory");
	rc = hlx_case_id_from_url(r->url, r->urllen, h);
	if (!rc)
		memcpy(id, h->bytes, 32);
	free(h);
	return rc;
}

/* The line a report records at now, its case id into id. */
static int report_line(struct hlx_cases *c, const struct hlx_case_new *r,
		       int64_t now, struct hlx_case_line *l, uint8_t id[32])
{
	char host[HLX_CASE_HOST_MAX + 1];
	struct hlx_buf norm;
	int rc = HLX_OK;

	hlx_buf_init_secure(&norm); /* the raw URL: wiped when freed */
	snprintf(host, sizeof(host), "%s", r->host);
	if (r->url) {
		rc = hlx_url_normalise(r->url, r->urllen, &norm);
		if (!rc && !host[0])
			url_host((const char *)norm.data, norm.len, host);
		if (!rc)
			rc = hlx_case_id_from_url((const char *)norm.data, norm.len,
						  &l->id);
		hlx_buf_free(&norm);
		if (rc)
			return rc;
	} else if (r->id.type != HLX_HASH_URL_SHA256) {
		return hlx_err(HLX_EINVAL, "a case id is a url-sha256 hash");
	}
	memcpy(id, r->url ? l->id.bytes : r->id.bytes, 32);
	own_line(c, id, l, &(int){ 0 });
	if (r->item.type)
		l->item = r->item;
	memcpy(l->country, r->country, sizeof(l->country));
	snprintf(l->category, sizeof(l->category), "%s", r->category);
	rc = hlx_cases_record_host(c, host, now, l->host);
	l->reported = now;
	if (l->state == HLX_CASE_NONE) {
		l->state = HLX_CASE_REPORTED;
		l->changed = now;
	}
	if (!rc)
		rc = hlx_case_validate(l);
	return rc;
}

int hlx_cases_new_check(const struct hlx_case_new *r)
{
	struct hlx_case_line *l = malloc(sizeof(*l));
	int rc;

	if (!l)
		return hlx_err(HLX_ENOMEM, "out of memory");
	hlx_case_init(l);
	rc = r->url ? hlx_case_id_from_url(r->url, r->urllen, &l->id) :
	     r->id.type == HLX_HASH_URL_SHA256 ? HLX_OK :
	     hlx_err(HLX_EINVAL, "a case id is a url-sha256 hash");
	if (!rc && !r->url)
		l->id = r->id;
	if (!rc && r->host[0])
		rc = hlx_case_host_check(r->host, strlen(r->host));
	if (!rc) {
		if (r->item.type)
			l->item = r->item;
		memcpy(l->country, r->country, sizeof(l->country));
		snprintf(l->category, sizeof(l->category), "%s", r->category);
		l->reported = l->changed = 0;
		l->state = HLX_CASE_REPORTED;
		rc = hlx_case_validate(l);
	}
	free(l);
	return rc;
}

struct order {
	uint8_t id[32];
	size_t i;
};

static int order_cmp(const void *a_, const void *b_)
{
	const struct order *a = a_, *b = b_;
	int x = memcmp(a->id, b->id, 32);

	if (x)
		return x;
	return a->i < b->i ? -1 : a->i > b->i;
}

/* 1 if the snapshot holds a report of case id. */
static int known(struct hlx_cases *c, const uint8_t id[32],
		 struct hlx_case_line *tmp)
{
	for (size_t a = hlx_cases_find(c, id);
	     a < c->nrefs && !memcmp(c->refs[a].id, id, 32); a++)
		if (hlx_case_decode((const char *)c->arena.data + c->refs[a].off,
				    c->refs[a].len, tmp) == HLX_OK &&
		    tmp->reported != -1)
			return 1;
	return 0;
}

static int tell(struct hlx_cases *c, const struct order *o, const char *kn,
		size_t nr, int64_t now, hlx_cases_report_fn fn, void *ctx)
{
	size_t *pos = malloc((nr ? nr : 1) * sizeof(*pos));
	struct hlx_case_view v;
	int rc = pos ? HLX_OK : hlx_err(HLX_ENOMEM, "out of memory"), exists;

	for (size_t k = 0; pos && k < nr; k++)
		pos[o[k].i] = k;
	for (size_t i = 0; !rc && i < nr; i++) {
		rc = hlx_cases_view(c, o[pos[i]].id, now, &v, &exists);
		if (!rc)
			rc = fn(ctx, i, kn[i], exists ? &v : NULL);
	}
	free(pos);
	return rc;
}

int hlx_cases_report(struct hlx_node *n, const struct hlx_case_new *r,
		     size_t nr, int64_t now, hlx_pass_fn getpass, void *pctx,
		     hlx_cases_report_fn fn, void *ctx)
{
	struct hlx_cases *c = NULL;
	struct hlx_changeset *cs = NULL;
	struct hlx_case_line *l = malloc(sizeof(*l));
	struct order *o = malloc((nr ? nr : 1) * sizeof(*o));
	char *kn = calloc(nr ? nr : 1, 1);
	size_t recorded = 0;
	int rc = l && o && kn ? HLX_OK : hlx_err(HLX_ENOMEM, "out of memory");

	if (!rc)
		rc = hlx_cases_load(n, &c);
	if (!rc)
		rc = hlx_changeset_new(&cs);
	/* each report's id, then sorted: a second report of one case in
	 * the batch, or of a case held, records nothing */
	for (size_t i = 0; !rc && i < nr; i++) {
		rc = hlx_cases_new_check(&r[i]);
		if (!rc)
			rc = report_id(&r[i], o[i].id);
		if (rc)
			rc = hlx_err_wrap(rc, "report %zu", i + 1);
		o[i].i = i;
	}
	if (!rc && nr)
		qsort(o, nr, sizeof(*o), order_cmp);
	for (size_t k = 0; !rc && k < nr; k++) {
		size_t i = o[k].i;

		if ((k && !memcmp(o[k - 1].id, o[k].id, 32)) ||
		    known(c, o[k].id, l)) {
			kn[i] = 1;
			continue;
		}
		rc = report_line(c, &r[i], now, l, o[k].id);
		/* the raw URL is kept before the line that names it */
		if (!rc && r[i].url)
			rc = hlx_urls_put(hlx_node_home(n), r[i].url, r[i].urllen,
					  &(struct hlx_hash){ 0 });
		if (!rc)
			rc = hlx_changeset_put_case(cs, l);
		if (rc)
			rc = hlx_err_wrap(rc, "report %zu", i + 1);
		recorded++;
	}
	if (!rc && recorded)
		rc = commit(n, cs, "case report", getpass, pctx, now);
	if (!rc && recorded) {
		hlx_cases_free(c);
		c = NULL;
		rc = hlx_cases_load(n, &c);
	}
	if (!rc && fn)
		rc = tell(c, o, kn, nr, now, fn, ctx);
	hlx_changeset_free(cs);
	hlx_cases_free(c);
	free(l);
	free(o);
	free(kn);
	return rc;
}

static int not_owner(const struct hlx_case_owner *o)
{
	char t[HLX_TIME_TEXT];

	hlx_time_format(o->since, t);
	return hlx_err(HLX_ESTATE, "handled by %s since %s (%s)", o->org, t,
		       hlx_case_state_name(o->state));
}

static int handoff_check(const struct hlx_case_view *v, const char *self,
			 const char *org, int64_t now)
{
	const struct hlx_case_route *r = v->route;
	unsigned i;

	if (!r->routed)
		return hlx_err(HLX_ESTATE,
			       "cannot hand to '%s': the case has no route", org);
	if (!strcmp(org, self))
		return hlx_err(HLX_ESTATE, "cannot hand a case to ourselves");
	for (i = 0; i < r->nbase; i++)
		if (!strcmp(r->base[i], org))
			break;
	if (i == r->nbase)
		return hlx_err(HLX_ESTATE,
			       "cannot hand to '%s': not a signatory of %s@%lld",
			       org, v->plan, (long long)v->plan_version);
	for (i = 0; i < r->nwd; i++)
		if (!strcmp(r->wd[i].org, org) && r->wd[i].at <= now)
			return hlx_err(HLX_ESTATE,
				       "cannot hand to '%s': it withdrew from %s",
				       org, v->plan);
	return HLX_OK;
}

/* The change of op to our line l of the case v, as section 9 allows. */
static int act_on(const struct hlx_case_view *v, const char *self,
		  enum hlx_cases_op op, const char *org,
		  enum hlx_case_state st, int64_t now,
		  struct hlx_case_line *l, int *renewed)
{
	const struct hlx_case_owner *o = &v->owner;
	int64_t lease = v->route->routed ? v->route->lease :
			HLX_CASE_NOROUTE_LEASE;
	int rc;

	switch (op) {
	case HLX_CASES_CLAIM:
		rc = hlx_case_may_claim(o, self, v->route, now);
		return rc ? rc : hlx_case_claim(l, now, lease, renewed);
	case HLX_CASES_RELEASE:
		if (strcmp(o->org, self))
			return not_owner(o);
		return hlx_case_release(l, now);
	case HLX_CASES_HANDOFF:
		if (strcmp(o->org, self))
			return not_owner(o);
		rc = handoff_check(v, self, org, now);
		return rc ? rc : hlx_case_handoff(l, now, org);
	case HLX_CASES_SET:
		rc = hlx_case_may_set(o, self, v->route->le_by, st);
		if (!rc)
			rc = hlx_case_transition_check(o->state, st);
		return rc ? rc : hlx_case_set_state(l, st, now);
	}
	return hlx_err(HLX_EINVAL, "no such case action");
}

int hlx_cases_act(struct hlx_node *n, const struct hlx_hash *id,
		  enum hlx_cases_op op, const char *org,
		  enum hlx_case_state st, int64_t now, hlx_pass_fn getpass,
		  void *pctx, int *renewed, hlx_cases_fn fn, void *ctx)
{
	struct hlx_cases *c = NULL;
	struct hlx_changeset *cs = NULL;
	struct hlx_case_line *l = malloc(sizeof(*l));
	struct hlx_case_view v;
	int rc = l ? HLX_OK : hlx_err(HLX_ENOMEM, "out of memory"), exists;
	int dummy = 0;

	if (!renewed)
		renewed = &dummy;
	*renewed = 0;
	if (!rc && id->type != HLX_HASH_URL_SHA256)
		rc = hlx_err(HLX_EINVAL, "a case id is a url-sha256 hash");
	if (!rc)
		rc = hlx_cases_load(n, &c);
	if (!rc)
		rc = hlx_cases_view(c, id->bytes, now, &v, &exists);
	if (!rc && !exists)
		rc = hlx_err(HLX_ENOENT, "no such case");
	if (!rc) {
		own_line(c, id->bytes, l, &(int){ 0 });
		rc = act_on(&v, c->self, op, org, st, now, l, renewed);
	}
	if (!rc)
		rc = hlx_changeset_new(&cs);
	if (!rc)
		rc = hlx_changeset_put_case(cs, l);
	if (!rc)
		rc = commit(n, cs, "case", getpass, pctx, now);
	if (!rc) {
		hlx_cases_free(c);
		c = NULL;
		rc = hlx_cases_load(n, &c);
	}
	if (!rc && fn)
		rc = hlx_cases_get(c, id, now, fn, ctx);
	hlx_changeset_free(cs);
	hlx_cases_free(c);
	free(l);
	return rc;
}

struct renew {
	struct hlx_changeset *cs;
	struct hlx_case_line *l;
	const char *self;
	int64_t now;
	uint64_t count;
};

static int renew_one(void *ctx, const struct hlx_case_view *v)
{
	struct renew *r = ctx;
	const struct hlx_case_owner *o = &v->owner;
	int64_t lease = v->route->routed ? v->route->lease :
			HLX_CASE_NOROUTE_LEASE;
	int renewed, rc;

	if (strcmp(o->org, r->self) || !o->explicit_lease || v->mine < 0 ||
	    hlx_case_state_final(o->state) || (o->until - r->now) * 2 >= lease)
		return 0;
	*r->l = *v->srcs[v->mine].line;
	rc = hlx_case_claim(r->l, r->now, lease, &renewed);
	if (rc == HLX_ESTATE) {
		/* a full line: that case cannot be renewed, the others can */
		hlx_err_clear();
		return 0;
	}
	if (!rc)
		rc = hlx_changeset_put_case(r->cs, r->l);
	if (!rc)
		r->count++;
	return rc;
}

int hlx_cases_renew(struct hlx_node *n, int64_t now, hlx_pass_fn getpass,
		    void *pctx, uint64_t *count)
{
	struct renew r = { NULL, malloc(sizeof(struct hlx_case_line)), NULL,
			   now, 0 };
	struct hlx_cases *c = NULL;
	int rc = r.l ? HLX_OK : hlx_err(HLX_ENOMEM, "out of memory");

	*count = 0;
	if (!rc)
		rc = hlx_cases_load(n, &c);
	if (!rc)
		rc = hlx_changeset_new(&r.cs);
	if (!rc) {
		r.self = c->self;
		rc = hlx_cases_foreach(c, now, renew_one, &r);
	}
	if (!rc && r.count)
		rc = commit(n, r.cs, "case renew", getpass, pctx, now);
	if (!rc)
		*count = r.count;
	hlx_changeset_free(r.cs);
	hlx_cases_free(c);
	free(r.l);
	return rc;
}
