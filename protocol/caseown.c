/* SPDX-License-Identifier: MIT */
/*
 * The owner of a case at a time and the state of the case (spec/cases.md,
 * sections 4, 5 and 6.2), and the growth check of a received cases log
 * (section 7.2).  Pure: every input is given.
 */
#include "case.h"
#include "err.h"

#include <stdlib.h>
#include <string.h>

/* ---- identities and order ---- */

static int src_cmp(const struct hlx_case_src *a, const struct hlx_case_src *b)
{
	int c = strcmp(a->org, b->org);

	if (c)
		return c;
	return strcmp(a->root ? a->root : "", b->root ? b->root : "");
}

int hlx_case_opening(const struct hlx_case_src *srcs, unsigned n,
		     unsigned *idx)
{
	unsigned i, best = n;

	for (i = 0; i < n; i++) {
		const struct hlx_case_line *l = srcs[i].line;

		if (l->reported == -1)
			continue;
		if (best == n || l->reported < srcs[best].line->reported ||
		    (l->reported == srcs[best].line->reported &&
		     src_cmp(&srcs[i], &srcs[best]) < 0))
			best = i;
	}
	if (best == n)
		return hlx_err(HLX_ENOENT, "case: no report");
	*idx = best;
	return HLX_OK;
}

/* ---- the replay ---- */

enum { R_WITHDRAW = 1, R_RELEASE = 2, R_HANDOFF = 3, R_CLAIM = 4 };

struct ev {
	int64_t time;       /* claim: u = max(A, T0 + S) */
	int64_t b;          /* claim: B as the line states it */
	int rank;
	unsigned src;       /* index in srcs, or (unsigned)-1: withdrawal */
	unsigned seq;       /* order within the line */
	const char *org;
	const char *root;
	const char *to;     /* handoff target */
};

struct rp {
	const struct hlx_case_route *r;
	const struct hlx_case_src *srcs;
	unsigned n;
	const char *r0;
	int64_t t0, lease, settle;
	const char **bo;    /* B, r0 appended when not in it */
	unsigned nb, nchain;
	int routed;
	struct ev *ev;
	unsigned nev;
	/* state of one replay */
	const char *o;
	int64_t since, e, cut;
	int expl;
	hlx_case_ev_fn cb;
	void *ctx;
};

static int64_t wd_time(const struct rp *p, const char *org)
{
	unsigned i;

	if (!p->routed)
		return -1;
	for (i = 0; i < p->r->nwd; i++)
		if (!strcmp(p->r->wd[i].org, org))
			return p->r->wd[i].at;
	return -1;
}

static int withdrawn(const struct rp *p, const char *org, int64_t x)
{
	int64_t w = wd_time(p, org);

	return w != -1 && w <= x;
}

/* 1 if org is in the active chain at x. */
static int active(const struct rp *p, const char *org, int64_t x)
{
	unsigned i;
	int any = 0, in = 0;

	if (!p->routed)
		return !strcmp(org, p->r0);
	for (i = 0; i < p->nchain; i++) {
		if (withdrawn(p, p->bo[i], x))
			continue;
		any = 1;
		if (!strcmp(p->bo[i], org))
			in = 1;
	}
	if (any)
		return in;
	for (i = 0; i < p->r->nbase; i++) {
		if (withdrawn(p, p->bo[i], x))
			continue;
		any = 1;
		if (!strcmp(p->bo[i], org))
			in = 1;
	}
	if (any)
		return in;
	return !strcmp(org, p->r0);
}

/* Size of the active chain at x. */
static unsigned chain_len(const struct rp *p, int64_t x)
{
	unsigned i, k = 0;

	for (i = 0; i < p->nb; i++)
		k += (unsigned)active(p, p->bo[i], x);
	return k;
}

static int b_index(const struct rp *p, const char *org)
{
	unsigned i;

	for (i = 0; i < p->nb; i++)
		if (!strcmp(p->bo[i], org))
			return (int)i;
	return -1;
}

/* The first member of the active chain at x after org in B, cyclically. */
static const char *successor(const struct rp *p, const char *org, int64_t x)
{
	int at = b_index(p, org);
	unsigned j;

	for (j = 1; j <= p->nb; j++) {
		const char *c = p->bo[((unsigned)(at < 0 ? -1 : at) + j) %
				      p->nb];

		if (active(p, c, x))
			return c;
	}
	return p->r0; /* not reached: the chain is never empty */
}

static const char *first_active(const struct rp *p, int64_t x)
{
	unsigned i;

	for (i = 0; i < p->nb; i++)
		if (active(p, p->bo[i], x))
			return p->bo[i];
	return p->r0;
}

/* In the byte order fallback the chain is the tail of B, already in
 * byte order, so "first in B" is "first in byte order". */

static int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/* cover(X, u): X's claim periods open at u extend the lease. */
static int cover(struct rp *p, int64_t u)
{
	unsigned i;
	int hit = 0;

	for (i = 0; i < p->nev; i++) {
		const struct ev *v = &p->ev[i];

		if (v->rank != R_CLAIM || strcmp(v->org, p->o))
			continue;
		if (v->time <= u && u <= min64(v->b, p->cut)) {
			int64_t e = min64(v->b, p->cut) + p->lease;

			if (e > p->e)
				p->e = e;
			p->expl = 1;
			hit = 1;
		}
	}
	return hit;
}

static int transfer(struct rp *p, const char *y, int64_t u)
{
	if (strcmp(y, p->o)) {
		p->o = y;
		p->since = u;
	}
	p->e = u + p->lease;
	p->expl = 0;
	return cover(p, u);
}

static void emit(struct rp *p, enum hlx_case_ev_kind k, int64_t time,
		 const char *org, const char *to, int counted, uint64_t count)
{
	struct hlx_case_ev e;

	if (!p->cb)
		return;
	e.kind = k;
	e.time = time;
	e.org = org;
	e.to = to;
	e.counted = counted;
	e.count = count;
	p->cb(p->ctx, &e);
}

static int valid_handoff(const struct rp *p, const char *x, const char *y,
			 int64_t t)
{
	unsigned i;

	if (!p->routed || !strcmp(x, y) || withdrawn(p, y, t))
		return 0;
	for (i = 0; i < p->r->nbase; i++)
		if (!strcmp(p->bo[i], y))
			return 1;
	return 0;
}

static void event(struct rp *p, const struct ev *v)
{
	int mine = !strcmp(v->org, p->o);

	switch (v->rank) {
	case R_WITHDRAW:
		if (mine)
			transfer(p, successor(p, p->o, v->time), v->time);
		emit(p, HLX_CASE_EV_WITHDRAW, v->time, v->org,
		     mine ? p->o : NULL, mine, 0);
		break;
	case R_RELEASE:
		if (mine)
			transfer(p, successor(p, p->o, v->time), v->time);
		emit(p, HLX_CASE_EV_RELEASE, v->time, v->org,
		     mine ? p->o : NULL, mine, 0);
		break;
	case R_HANDOFF:
		mine = mine && valid_handoff(p, v->org, v->to, v->time);
		if (mine)
			transfer(p, v->to, v->time);
		emit(p, HLX_CASE_EV_HANDOFF, v->time, v->org,
		     mine ? p->o : NULL, mine, 0);
		break;
	default:
		if (mine) {
			int64_t e = min64(v->b, p->cut) + p->lease;

			if (e > p->e)
				p->e = e;
			p->expl = 1;
		}
		emit(p, HLX_CASE_EV_CLAIM, v->time, v->org, NULL, mine, 0);
		break;
	}
}

/*
 * Lapses at e, e + L, ... up to limit (the next event's time, or the cut).
 * Between events the active chain is fixed and claim periods only close,
 * so once every member of the chain had its turn without a claim period
 * covering it, none will until limit: the run of lapses strictly before
 * limit is jumped over (section 5.2, last paragraph).  The chain may
 * change at limit itself, so a lapse at limit is always taken alone.
 */
static void lapses(struct rp *p, int64_t limit)
{
	unsigned quiet = 0, m = chain_len(p, p->e);

	while (p->e <= limit) {
		const char *from = p->o;
		int64_t at = p->e;

		if (quiet > m && at < limit) {
			uint64_t k = (uint64_t)((limit - 1 - at) / p->lease) + 1;
			uint64_t step;
			const char *o = p->o;

			/* o is in the chain: the chain turns k times */
			for (step = 0; step < k % m; step++)
				o = successor(p, o, at);
			if (m > 1) {
				p->since = at + (int64_t)(k - 1) * p->lease;
				p->o = o;
			}
			p->e = at + (int64_t)k * p->lease;
			p->expl = 0;
			emit(p, HLX_CASE_EV_LAPSE, at, from, p->o, 1, k);
			quiet = 0;
			continue;
		}
		if (transfer(p, successor(p, p->o, at), at))
			quiet = 0;
		else
			quiet++;
		emit(p, HLX_CASE_EV_LAPSE, at, from, p->o, 1, 1);
	}
}

/* The replay up to cut: leaves p->o, since, e, expl. */
static void replay(struct rp *p, int64_t cut, hlx_case_ev_fn cb, void *ctx)
{
	unsigned i = 0;

	p->cut = cut;
	p->cb = cb;
	p->ctx = ctx;
	p->o = first_active(p, p->t0);
	p->since = p->t0;
	p->e = p->t0 + p->settle + p->lease;
	p->expl = 0;
	cover(p, p->t0);
	for (;;) {
		int have = i < p->nev && p->ev[i].time <= cut;
		int64_t next = have ? p->ev[i].time : cut;

		if (p->e <= next) {
			lapses(p, next);
			continue;
		}
		if (!have)
			break;
		event(p, &p->ev[i++]);
	}
}

static int ev_cmp(const void *a_, const void *b_)
{
	const struct ev *a = a_, *b = b_;
	int c;

	if (a->time != b->time)
		return a->time < b->time ? -1 : 1;
	if (a->rank != b->rank)
		return a->rank - b->rank;
	c = strcmp(a->org, b->org);
	if (c)
		return c;
	c = strcmp(a->root ? a->root : "", b->root ? b->root : "");
	if (c)
		return c;
	if (a->src != b->src)
		return a->src < b->src ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int route_check(const struct hlx_case_route *r)
{
	unsigned i, j;

	if (!r->routed)
		return HLX_OK;
	if (!r->base || r->nbase == 0 || r->nchain == 0 ||
	    r->nchain > r->nbase || r->lease < 1 || r->lease > 604800 ||
	    r->settle < 0 || r->settle > 3600 || (r->nwd && !r->wd))
		return hlx_err(HLX_EINVAL, "case route: malformed");
	for (i = 0; i < r->nbase; i++)
		for (j = 0; j < i; j++)
			if (!strcmp(r->base[i], r->base[j]))
				return hlx_err(HLX_EINVAL,
					       "case route: '%s' twice in the base order",
					       r->base[i]);
	return HLX_OK;
}

static int add_events(struct rp *p, int64_t t)
{
	unsigned i, k, cap = 0;

	for (i = 0; i < p->n; i++)
		cap += p->srcs[i].line->nacts;
	cap += p->routed ? p->r->nwd : 0;
	p->ev = calloc(cap ? cap : 1, sizeof(*p->ev));
	if (!p->ev)
		return hlx_err(HLX_ENOMEM, "case: out of memory");
	for (i = 0; p->routed && i < p->r->nwd; i++) {
		const struct hlx_case_wd *w = &p->r->wd[i];

		if (w->at < p->t0 || w->at > t)
			continue;
		p->ev[p->nev++] = (struct ev){ w->at, w->at, R_WITHDRAW,
					       (unsigned)-1, 0, w->org, NULL,
					       NULL };
	}
	for (i = 0; i < p->n; i++) {
		const struct hlx_case_line *l = p->srcs[i].line;

		for (k = 0; k < l->nacts; k++) {
			const struct hlx_case_act *a = &l->acts[k];
			struct ev v = { a->a, a->b, 0, i, k, p->srcs[i].org,
					p->srcs[i].root, NULL };

			if (a->kind == HLX_CASE_CLAIM) {
				v.rank = R_CLAIM;
				if (v.time < p->t0 + p->settle)
					v.time = p->t0 + p->settle;
				if (v.time > min64(a->b, t))
					continue;
			} else {
				v.rank = a->kind == HLX_CASE_RELEASE
						 ? R_RELEASE
						 : R_HANDOFF;
				v.to = a->org;
				if (v.time < p->t0 || v.time > t)
					continue;
			}
			p->ev[p->nev++] = v;
		}
	}
	qsort(p->ev, p->nev, sizeof(*p->ev), ev_cmp);
	return HLX_OK;
}

/* 1 if the assertion of srcs[i] counts (section 6.2). */
static int counts(struct rp *p, unsigned i)
{
	const struct hlx_case_line *l = p->srcs[i].line;

	if (l->changed < p->t0)
		return 0;
	if ((l->state == HLX_CASE_LE_HOLD || l->state == HLX_CASE_LE_CLEARED) &&
	    p->routed && p->r->le_by && !strcmp(p->r->le_by, p->srcs[i].org))
		return 1;
	replay(p, l->changed, NULL, NULL);
	return !strcmp(p->o, p->srcs[i].org);
}

static void case_state(struct rp *p, int64_t t, struct hlx_case_owner *out)
{
	unsigned i;
	int best = -1;

	out->state = HLX_CASE_REPORTED;
	out->state_changed = p->t0;
	out->state_src = -1;
	for (i = 0; i < p->n; i++) {
		const struct hlx_case_line *l = p->srcs[i].line;

		if (l->state == HLX_CASE_NONE || l->changed > t)
			continue;
		if (l->changed < out->state_changed ||
		    (best >= 0 && l->changed == out->state_changed &&
		     src_cmp(&p->srcs[i], &p->srcs[best]) > 0))
			continue;
		if (!counts(p, i))
			continue;
		best = (int)i;
		out->state = l->state;
		out->state_changed = l->changed;
		out->state_src = best;
	}
}

static int setup(struct rp *p, const struct hlx_case_route *r,
		 const struct hlx_case_src *srcs, unsigned n, unsigned open)
{
	unsigned i;

	p->r = r;
	p->srcs = srcs;
	p->n = n;
	p->routed = r && r->routed;
	p->r0 = srcs[open].org;
	p->t0 = srcs[open].line->reported;
	p->lease = p->routed ? r->lease : HLX_CASE_NOROUTE_LEASE;
	p->settle = p->routed ? r->settle : 0;
	p->bo = calloc((p->routed ? r->nbase : 0) + 1, sizeof(*p->bo));
	if (!p->bo)
		return hlx_err(HLX_ENOMEM, "case: out of memory");
	for (i = 0; p->routed && i < r->nbase; i++)
		p->bo[p->nb++] = r->base[i];
	p->nchain = p->routed ? r->nchain : 0;
	if (b_index(p, p->r0) < 0)
		p->bo[p->nb++] = p->r0;
	return HLX_OK;
}

int hlx_case_owner(const struct hlx_case_route *r,
		   const struct hlx_case_src *srcs, unsigned n, int64_t t,
		   struct hlx_case_owner *out, hlx_case_ev_fn cb, void *ctx)
{
	struct rp p;
	unsigned open;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&p, 0, sizeof(p));
	out->state_src = -1;
	if (r && (rc = route_check(r)))
		return rc;
	if (hlx_case_opening(srcs, n, &open)) {
		hlx_err_clear();
		return HLX_OK;
	}
	if (srcs[open].line->reported > t)
		return HLX_OK;
	rc = setup(&p, r, srcs, n, open);
	if (!rc)
		rc = add_events(&p, t);
	if (!rc) {
		case_state(&p, t, out);
		replay(&p, t, cb, ctx);
		out->exists = 1;
		out->opening = open;
		out->t0 = p.t0;
		out->org = p.o;
		out->since = p.since;
		out->until = p.e;
		out->explicit_lease = p.expl;
	}
	free(p.ev);
	free(p.bo);
	return rc;
}

/* ---- the growth of a received log (section 7.2) ---- */

struct lc {
	char id[HLX_HASH_TEXT_MAX];
	int64_t bound;
};

struct side;

static int late(struct lc *c, const char *field, int64_t t)
{
	char a[HLX_TIME_TEXT], b[HLX_TIME_TEXT];

	if (t <= c->bound)
		return HLX_OK;
	hlx_time_format(t, a);
	hlx_time_format(c->bound, b);
	return hlx_err(HLX_EINVAL,
		       "case %s: %s: %s is after %s (the newest commit, or the clock + 300 s)",
		       c->id, field, a, b);
}

static int grown(struct lc *c, const char *field)
{
	return hlx_err(HLX_EINVAL, "case %s: %s: changed, not extended",
		       c->id, field);
}

/* Every time of a new line. */
static int new_times(struct lc *c, const struct hlx_case_line *l)
{
	unsigned i;
	int rc = HLX_OK;

	if (l->reported != -1)
		rc = late(c, "reported", l->reported);
	for (i = 0; !rc && i < l->nacts; i++)
		rc = late(c, "own", l->acts[i].b);
	if (!rc && l->changed != -1)
		rc = late(c, "changed", l->changed);
	return rc;
}

static int same_act(const struct hlx_case_act *a, const struct hlx_case_act *b)
{
	return a->kind == b->kind && a->a == b->a && a->b == b->b &&
	       !strcmp(a->org, b->org);
}

static int report_kept(struct lc *c, const struct hlx_case_line *o,
		       const struct hlx_case_line *n)
{
	if (o->reported == -1)
		return n->reported == -1 ? HLX_OK
					 : late(c, "reported", n->reported);
	if (n->reported != o->reported)
		return grown(c, "reported");
	if (n->item.type != o->item.type ||
	    (o->item.type && hlx_hash_cmp(&o->item, &n->item)))
		return grown(c, "item");
	if (strcmp(o->country, n->country))
		return grown(c, "country");
	if (strcmp(o->host, n->host))
		return grown(c, "host");
	if (strcmp(o->category, n->category))
		return grown(c, "category");
	return HLX_OK;
}

static int line_grown(struct lc *c, const struct hlx_case_line *o,
		      const struct hlx_case_line *n)
{
	unsigned i;
	int rc = report_kept(c, o, n);

	if (rc)
		return rc;
	if (n->nacts < o->nacts)
		return grown(c, "own");
	for (i = 0; i < o->nacts; i++) {
		const struct hlx_case_act *a = &o->acts[i], *b = &n->acts[i];

		if (same_act(a, b))
			continue;
		if (i + 1 == o->nacts && a->kind == HLX_CASE_CLAIM &&
		    b->kind == HLX_CASE_CLAIM && a->a == b->a && b->b >= a->b) {
			rc = late(c, "own", b->b);
			if (rc)
				return rc;
			continue;
		}
		return grown(c, "own");
	}
	for (; i < n->nacts; i++) {
		rc = late(c, "own", n->acts[i].b);
		if (rc)
			return rc;
	}
	if (o->changed != -1 && (n->changed == -1 || n->changed < o->changed))
		return grown(c, "changed");
	if (n->changed != o->changed && (rc = late(c, "changed", n->changed)))
		return rc;
	if (n->notices < o->notices)
		return grown(c, "notices");
	return HLX_OK;
}

/* The next line of buf[*at, n): its length with '\n', or 0 at the end. */
static int next_line(const char *buf, size_t n, size_t *at, size_t *len,
		     const char *which)
{
	const char *nl;

	*len = 0;
	if (*at >= n)
		return HLX_OK;
	nl = memchr(buf + *at, '\n', n - *at);
	if (!nl)
		return hlx_err(HLX_EINVAL,
			       "%s cases log: the last line has no newline",
			       which);
	*len = (size_t)(nl - (buf + *at)) + 1;
	return HLX_OK;
}

struct side {
	const char *buf;
	size_t n, at, len;
	struct hlx_case_line line;
	const char *which;
};

static int side_next(struct side *s)
{
	int rc;

	s->at += s->len;
	rc = next_line(s->buf, s->n, &s->at, &s->len, s->which);
	if (rc || !s->len)
		return rc;
	rc = hlx_case_decode(s->buf + s->at, s->len, &s->line);
	return rc ? hlx_err_wrap(rc, "%s cases log", s->which) : HLX_OK;
}

static int log_walk(struct side *o, struct side *w, struct lc *c)
{
	struct hlx_hash prev;
	int rc, have_prev = 0, d;

	rc = side_next(o);
	if (!rc)
		rc = side_next(w);
	while (!rc && w->len) {
		if (have_prev && hlx_hash_cmp(&prev, &w->line.id) >= 0) {
			hlx_case_id_text(&w->line, c->id);
			return hlx_err(HLX_EINVAL,
				       "case %s: new cases log: not sorted, or the case twice",
				       c->id);
		}
		prev = w->line.id;
		have_prev = 1;
		d = o->len ? hlx_hash_cmp(&o->line.id, &w->line.id) : 1;
		if (d < 0) {
			hlx_case_id_text(&o->line, c->id);
			return hlx_err(HLX_EINVAL,
				       "case %s: its line was removed", c->id);
		}
		hlx_case_id_text(&w->line, c->id);
		if (d > 0) {
			rc = new_times(c, &w->line);
		} else {
			if (o->len != w->len ||
			    memcmp(o->buf + o->at, w->buf + w->at, w->len))
				rc = line_grown(c, &o->line, &w->line);
			if (!rc)
				rc = side_next(o);
		}
		if (!rc)
			rc = side_next(w);
	}
	if (!rc && o->len) {
		hlx_case_id_text(&o->line, c->id);
		return hlx_err(HLX_EINVAL, "case %s: its line was removed",
			       c->id);
	}
	return rc;
}

int hlx_case_log_check(const char *old, size_t oldn, const char *new_,
		       size_t newn, int64_t committed, int64_t now)
{
	struct side *o, *w;
	struct lc c;
	int rc;

	o = calloc(1, sizeof(*o));
	w = calloc(1, sizeof(*w));
	if (!o || !w) {
		free(o);
		free(w);
		return hlx_err(HLX_ENOMEM, "cases log: out of memory");
	}
	c.bound = committed < now + HLX_CASE_SKEW ? committed
						  : now + HLX_CASE_SKEW;
	c.id[0] = '\0';
	o->buf = old;
	o->n = oldn;
	o->which = "old";
	w->buf = new_;
	w->n = newn;
	w->which = "new";
	rc = log_walk(o, w, &c);
	free(o);
	free(w);
	return rc;
}
