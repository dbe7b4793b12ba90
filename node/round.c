/* SPDX-License-Identifier: MIT */
/*
 * One pull round over the peers (node/sync.h), the back-off of each peer's
 * list across rounds, and the probe 'subscribe' makes of a peer's feed.
 * Pulling one list is hlx_pull (node/sync.c).
 */
#include "node/sync.h"
#include "node/caseurl.h"
#include "node/cases.h"
#include "node/fetch.h"
#include "node/retention.h"
#include "keys/seal.h"
#include "protocol/err.h"
#include "protocol/head.h"
#include "keys/trust.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* A sealed file: at most 4096 recipients (keys/seal.h) around n bytes
 * (as node/sync.c). */
#define SEALED_MAX(n) ((n) + (n) / 16 + 4096 * 80 + 1024)

static int64_t round_now(const struct hlx_sync_opts *o)
{
	return o->now ? o->now : (int64_t)time(NULL);
}

/* ---- each peer's connection, kept across rounds -------------------------- */

/* a handle is made anew after this long (its TLS settings read again) */
#define CONN_KEEP_S 600

struct hlx_sync_conn {
	char peer[65];
	char ca[sizeof(((struct hlx_peer *)0)->ca)];
	struct stat cast;            /* the CA file when it was made (zero: none) */
	long timeout_s;
	int64_t made;                /* monotonic seconds */
	struct hlx_fetch *f;         /* NULL: none kept */
	int seen;                    /* a peer of this round */
};

static int64_t mono_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec;
}

static int same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	       a->st_size == b->st_size && a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
	       a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* The fetch handle for peer p: the one b kept from an earlier round when
 * it was made for the same CA file and timeout less than CONN_KEEP_S
 * ago, else a new one, which b keeps.  *kept: 1 when b owns it (the
 * caller must not free it). */
static int conn_get(struct hlx_sync_backoff *b, const struct hlx_peer *p,
		    const struct hlx_fetch_opts *fo, long timeout_s,
		    struct hlx_fetch **f, int *kept)
{
	struct hlx_sync_conn *c = NULL, *v;
	struct stat st;
	int rc;

	*kept = 0;
	memset(&st, 0, sizeof(st));
	if (b && p->ca[0] && stat(p->ca, &st) != 0)
		b = NULL; /* hlx_fetch_new says what is wrong with it */
	for (size_t i = 0; b && i < b->nconns && !c; i++)
		if (!strcmp(b->conns[i].peer, p->name))
			c = &b->conns[i];
	if (c) {
		c->seen = 1;
		if (c->f && !strcmp(c->ca, p->ca) && c->timeout_s == timeout_s &&
		    same_file(&c->cast, &st) && mono_s() - c->made < CONN_KEEP_S) {
			*f = c->f;
			*kept = 1;
			return HLX_OK;
		}
		hlx_fetch_free(c->f);
		c->f = NULL;
	}
	rc = hlx_fetch_new(fo, f);
	if (rc || !b)
		return rc;
	if (!c) {
		v = realloc(b->conns, (b->nconns + 1) * sizeof(*v));
		if (!v)
			return HLX_OK; /* not kept: closed after this round */
		b->conns = v;
		c = &v[b->nconns++];
		memset(c, 0, sizeof(*c));
		snprintf(c->peer, sizeof(c->peer), "%s", p->name);
		c->seen = 1;
	}
	snprintf(c->ca, sizeof(c->ca), "%s", p->ca);
	c->cast = st;
	c->timeout_s = timeout_s;
	c->made = mono_s();
	c->f = *f;
	*kept = 1;
	return HLX_OK;
}

/* The handles of peers gone go, with their connections. */
static void conn_sweep(struct hlx_sync_backoff *b)
{
	for (size_t i = 0; i < b->nconns;) {
		if (!b->conns[i].seen) {
			hlx_fetch_free(b->conns[i].f);
			b->conns[i] = b->conns[--b->nconns];
			continue;
		}
		b->conns[i++].seen = 0;
	}
}

/* ---- back-off of each peer's list --------------------------------------- */

void hlx_sync_backoff_free(struct hlx_sync_backoff *b)
{
	if (!b)
		return;
	free(b->v);
	b->v = NULL;
	b->n = 0;
	for (size_t i = 0; i < b->nconns; i++)
		hlx_fetch_free(b->conns[i].f);
	free(b->conns);
	b->conns = NULL;
	b->nconns = 0;
}

static struct hlx_sync_wait *wait_find(struct hlx_sync_backoff *b,
				       const char *peer, const char *list)
{
	for (size_t i = 0; i < b->n; i++)
		if (!strcmp(b->v[i].peer, peer) && !strcmp(b->v[i].list, list))
			return &b->v[i];
	return NULL;
}

/* The outcome of a try: a failure doubles the list's delay (the first
 * waits base), up to cap; a success forgets it. */
static void wait_note(struct hlx_sync_backoff *b, const char *peer,
		      const char *list, int failed, int64_t now)
{
	struct hlx_sync_wait *w = wait_find(b, peer, list);
	int64_t base = b->base > 0 ? b->base : 60;
	int64_t cap = b->cap > 0 ? b->cap : 3600;

	if (!failed) {
		if (w)
			*w = b->v[--b->n];
		return;
	}
	if (!w) {
		struct hlx_sync_wait *v = realloc(b->v, (b->n + 1) * sizeof(*v));

		if (!v)
			return; /* out of memory: tried again next round */
		b->v = v;
		w = &v[b->n++];
		memset(w, 0, sizeof(*w));
		snprintf(w->peer, sizeof(w->peer), "%s", peer);
		snprintf(w->list, sizeof(w->list), "%s", list);
	}
	w->delay = !w->delay ? base : w->delay > cap / 2 ? cap : 2 * w->delay;
	if (w->delay > cap)
		w->delay = cap;
	w->next = now + w->delay;
	w->seen = 1;
}

/* Does the round leave this list for later?  (*w: its wait, if any.) */
static int wait_skip(struct hlx_sync_backoff *b, const char *peer,
		     const char *list, int64_t now, int64_t *next)
{
	struct hlx_sync_wait *w = b ? wait_find(b, peer, list) : NULL;

	if (!w)
		return 0;
	w->seen = 1;
	*next = w->next;
	return w->next > now;
}

/* ---- one round over the peers ------------------------------------------- */

static void sync_peer(struct hlx_node *n, const struct hlx_peer *p,
		      const struct hlx_sync_opts *o, struct hlx_pull_keys *keys,
		      struct hlx_sync_totals *out)
{
	struct hlx_sync_event ev = { HLX_SYNC_PEER, p->name, NULL, 0, NULL, 0, 0, NULL };
	struct hlx_fetch_opts fo = { 0 };
	struct hlx_fetch *f = NULL;
	int64_t now = round_now(o);
	size_t due = 0;
	int cases_ok = 0, kept = 0;

	for (size_t j = 0; j < p->nsubs; j++) {
		int64_t next = 0;

		if (!wait_skip(o->backoff, p->name, p->subs[j], now, &next)) {
			due++;
			continue;
		}
		/* failed lately: left for a later round, the others go on */
		ev.kind = HLX_SYNC_WAIT;
		ev.list = p->subs[j];
		ev.next = next;
		if (o->report)
			o->report(o->report_ctx, &ev);
	}
	ev.kind = HLX_SYNC_PEER;
	ev.list = NULL;
	fo.ca_file = p->ca[0] ? p->ca : NULL;
	if (o->timeout_s > 0 && o->timeout_s <= 86400) {
		fo.total_timeout_ms = o->timeout_s * 1000;
		fo.connect_timeout_ms = o->timeout_s < 10 ? o->timeout_s * 1000 : 10000;
	}
	ev.rc = conn_get(o->backoff, p, &fo, o->timeout_s, &f, &kept);
	if (ev.rc) {
		out->failures++;
		for (size_t j = 0; o->backoff && j < p->nsubs; j++)
			wait_note(o->backoff, p->name, p->subs[j], 1, now);
		if (o->report)
			o->report(o->report_ctx, &ev);
		return;
	}
	ev.kind = HLX_SYNC_LIST;
	for (size_t j = 0; j < p->nsubs; j++) {
		struct hlx_pull_result r;
		int64_t next;

		if (wait_skip(o->backoff, p->name, p->subs[j], now, &next))
			continue;
		memset(&r, 0, sizeof(r));
		ev.list = p->subs[j];
		ev.rc = hlx_pull(n, p, p->subs[j], f, now, keys, &r);
		ev.result = ev.rc ? NULL : &r;
		if (o->backoff)
			wait_note(o->backoff, p->name, p->subs[j], ev.rc != 0, now);
		if (ev.rc) {
			out->failures++;
		} else if (r.changed) {
			out->changed = 1;
			out->compact |= r.pruned;
		}
		if (o->report)
			o->report(o->report_ctx, &ev);
		cases_ok |= !ev.rc && !strcmp(p->subs[j], HLX_CASES_LIST);
	}
	/* the raw URLs of the cases this node now owns that the peer
	 * reported or handed to it (spec/cases.md section 8) */
	if (cases_ok) {
		unsigned got = 0;

		ev.list = HLX_CASES_LIST;
		ev.result = NULL;
		ev.rc = hlx_caseurl_after_pull(n, p, f, now, keys, &got);
		if (ev.rc) {
			out->failures++;
			if (o->report)
				o->report(o->report_ctx, &ev);
		}
		out->changed |= got > 0;
	}
	/* then its plans (spec/plan.md section 7.3) */
	{
		struct hlx_plans_pull_result pr;

		ev.kind = HLX_SYNC_PLANS;
		ev.list = "plans";
		ev.result = NULL;
		ev.rc = hlx_pull_plans(n, p, f, now, keys, &pr);
		ev.plans = ev.rc ? NULL : &pr;
		if (ev.rc)
			out->failures++;
		else if (pr.changed)
			out->changed = 1;
		if (o->report && (ev.rc || !pr.none))
			o->report(o->report_ctx, &ev);
	}
	if (!kept)
		hlx_fetch_free(f);
}

/* The waits of lists no longer subscribed (or of peers gone) go, so that
 * the state stays as small as the subscriptions. */
static void wait_sweep(struct hlx_sync_backoff *b)
{
	for (size_t i = 0; i < b->n;) {
		if (!b->v[i].seen) {
			b->v[i] = b->v[--b->n];
			continue;
		}
		b->v[i++].seen = 0;
	}
}

int hlx_sync_round(struct hlx_node *n, const struct hlx_peers *ps,
		   const struct hlx_sync_opts *o, struct hlx_sync_totals *out)
{
	struct hlx_pull_keys keys = { o->getpass, o->pass_ctx, NULL };
	struct hlx_sync_event ev = { HLX_SYNC_PURGE, NULL, NULL, 0, NULL, 0, 0, NULL };

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; o->backoff && i < o->backoff->n; i++)
		o->backoff->v[i].seen = 0;
	for (size_t i = 0; i < ps->n; i++) {
		const struct hlx_peer *p = &ps->v[i];

		if (o->only && strcmp(o->only, p->name) != 0)
			continue;
		if (!p->url[0]) {
			if (o->only) {
				ev.kind = HLX_SYNC_PEER;
				ev.peer = p->name;
				ev.rc = hlx_err(HLX_ENOENT, "peer '%s' has no feed to sync from",
						p->name);
				out->failures++;
				if (o->report)
					o->report(o->report_ctx, &ev);
			}
			continue;
		}
		sync_peer(n, p, o, &keys, out);
	}
	if (o->backoff && !o->only) {
		wait_sweep(o->backoff);
		conn_sweep(o->backoff);
	}
	hlx_boxkey_free(keys.box);
	/* entries past their retention leave at once */
	ev.kind = HLX_SYNC_PURGE;
	ev.peer = NULL;
	ev.rc = hlx_retention_purge(n, round_now(o), &ev.purged);
	if (ev.rc) {
		out->failures++;
	} else if (ev.purged) {
		out->changed = 1;
		out->compact = 1;
	}
	if (o->report && (ev.rc || ev.purged))
		o->report(o->report_ctx, &ev);
	return HLX_OK;
}

/* ---- does a peer publish a list? ---------------------------------------- */

int hlx_sync_probe(const struct hlx_peer *p, const char *list, long timeout_s,
		   int *published)
{
	struct hlx_fetch_opts fo = { 0 };
	struct hlx_fetch *f = NULL;
	struct hlx_fetch_result res;
	struct hlx_buf url = HLX_BUF_INIT, body = HLX_BUF_INIT;
	char rel[HLX_NAME_MAX + 16];
	int rc = hlx_name_check(list, strlen(list), "list");

	*published = 0;
	if (rc)
		return rc;
	fo.ca_file = p->ca[0] ? p->ca : NULL;
	fo.total_timeout_ms = (timeout_s > 0 && timeout_s < 30 ? timeout_s : 30) * 1000;
	fo.connect_timeout_ms = fo.total_timeout_ms < 10000 ? fo.total_timeout_ms : 10000;
	rc = hlx_fetch_new(&fo, &f);
	snprintf(rel, sizeof(rel), "lists/%s/head", list);
	if (!rc)
		rc = hlx_fetch_join(p->url, rel, &url);
	/* its head, sealed or not: only whether it is there counts */
	if (!rc)
		rc = hlx_fetch_get(f, (const char *)url.data, SEALED_MAX(HLX_HEAD_MAX),
				   NULL, NULL, &body, &res);
	if (!rc) {
		*published = 1;
	} else if (rc == HLX_ENOENT) {
		/* no such head: is the feed there at all? */
		hlx_buf_reset(&url);
		hlx_buf_reset(&body);
		rc = hlx_fetch_join(p->url, "trust.json", &url);
		if (!rc)
			rc = hlx_fetch_get(f, (const char *)url.data,
					   SEALED_MAX(HLX_TRUST_MAX), NULL, NULL, &body,
					   &res);
		if (!rc)
			hlx_err_clear();
	}
	hlx_buf_free(&url);
	hlx_buf_free(&body);
	hlx_fetch_free(f);
	return rc;
}
