/* SPDX-License-Identifier: MIT */
/*
 * The versions of views made in one publish, which other views may take as
 * they are (node/views.h, hlx_view_memo_commit).
 */
#include "node/views.h"
#include "node/history.h"
#include "node/lists.h"
#include "node/packs.h"
#include "protocol/err.h"
#include "protocol/policy.h"

#include <limits.h>
#include <pthread.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Views that come out the same.  Two policies often let the same through
 * (an encrypted and a plain audience of one selection, say): their views
 * then get the very same version, commit and all, since the commit is
 * made of its parent, its content and its metadata, signed with the same
 * key.  The second takes the first's pack (linked, not copied:
 * hlx_hist_adopt) instead of building, compressing and indexing it again,
 * and both histories hold its objects once on disk.  A version is the
 * same when all of what makes it is: the parent commit, the changes and
 * the metadata (hashed together).
 */
struct hlx_view_memo {
	uint8_t d[32];
	char repo[PATH_MAX];
	char oid[41], parent[41];
	char pack[PATH_MAX]; /* its own pack in repo, "" not found */
	int state;          /* 0 being made (on another thread), 1 made, -1 failed */
};

static void memo_digest(const char *parent, const struct hlx_hist_meta *m,
			const struct hlx_hist_op *ops, size_t k, uint8_t d[32])
{
	crypto_generichash_state st;
	int64_t nums[3] = { (int64_t)m->version, m->time, (int64_t)k };

	crypto_generichash_init(&st, NULL, 0, 32);
	crypto_generichash_update(&st, (const uint8_t *)parent, strlen(parent) + 1);
	crypto_generichash_update(&st, (const uint8_t *)m->org, strlen(m->org) + 1);
	crypto_generichash_update(&st, (const uint8_t *)m->list, strlen(m->list) + 1);
	crypto_generichash_update(&st, (const uint8_t *)m->summary,
				  strlen(m->summary) + 1);
	crypto_generichash_update(&st, (const uint8_t *)nums, sizeof(nums));
	for (size_t i = 0; i < k; i++) {
		uint64_t hd[2] = { (uint64_t)ops[i].retract, (uint64_t)ops[i].len };

		crypto_generichash_update(&st, (const uint8_t *)hd, sizeof(hd));
		crypto_generichash_update(&st, (const uint8_t *)ops[i].line, ops[i].len);
	}
	crypto_generichash_final(&st, d, 32);
}

static void par_lock(struct hlx_view_ctx *c)
{
	if (c->par)
		pthread_mutex_lock(&c->par->mu);
}

static void par_unlock(struct hlx_view_ctx *c)
{
	if (c->par)
		pthread_mutex_unlock(&c->par->mu);
}

/* The memo of digest d made in another history than repo: its index, or
 * -1.  One still being made on another thread is waited for. */
static long memo_find(struct hlx_view_ctx *c, const uint8_t d[32],
		      const char *repo)
{
	for (;;) {
		int waiting = 0;

		for (size_t i = 0; i < c->nmemo; i++) {
			if (sodium_memcmp(c->memo[i].d, d, 32) != 0 ||
			    !strcmp(c->memo[i].repo, repo) || c->memo[i].state < 0)
				continue;
			if (c->memo[i].state == 1)
				return (long)i;
			waiting = 1;
		}
		if (!waiting || !c->par)
			return -1;
		pthread_cond_wait(&c->par->cv, &c->par->mu);
	}
}

/* Version m of the view in repo (history h, at head parent, "" for none)
 * from ops[0..k): the same version of another view if one was made in
 * this publish, else built and signed.  The branch is not moved. */
int hlx_view_memo_commit(struct hlx_view_ctx *c, struct hlx_hist *h,
			 const char *repo, const char *parent,
			 const struct hlx_hist_op *ops, size_t k,
			 const struct hlx_hist_meta *m, char oid[41])
{
	struct hlx_view_memo *x, got;
	char pack[PATH_MAX];
	uint8_t d[32];
	long at, mine = -1;
	int rc;

	memo_digest(parent, m, ops, k, d);
	par_lock(c);
	at = memo_find(c, d, repo);
	if (at >= 0)
		got = c->memo[at];
	else if ((x = realloc(c->memo, (c->nmemo + 1) * sizeof(*x)))) {
		/* being made here: another view of it waits */
		c->memo = x;
		mine = (long)c->nmemo++;
		memset(&x[mine], 0, sizeof(x[mine]));
		memcpy(x[mine].d, d, 32);
		snprintf(x[mine].repo, sizeof(x[mine].repo), "%s", repo);
	}
	par_unlock(c);
	if (at >= 0) {
		struct hlx_hist_version v;

		/* it follows our head, as the digest says */
		if (hlx_hist_adopt(h, got.repo, got.oid) == HLX_OK &&
		    hlx_hist_read_version(h, got.oid, &v) == HLX_OK &&
		    !strcmp(v.parent, parent) && v.version == m->version) {
			memcpy(oid, got.oid, 41);
			return HLX_OK;
		}
		hlx_err_clear(); /* built instead */
	}
	rc = hlx_hist_commit(h, ops, k, m, hlx_list_sign_commit, c->key, oid);
	if (mine >= 0) {
		par_lock(c);
		c->memo[mine].state = rc ? -1 : 1;
		memcpy(c->memo[mine].oid, rc ? "" : oid, rc ? 1 : 41);
		if (c->par)
			pthread_cond_broadcast(&c->par->cv);
		par_unlock(c);
	}
	/* its pack is looked for here, on this thread, not when the feeds
	 * are written one by one: found by walking the whole version (after
	 * the version is told, so that nobody waits for the walk) */
	if (!rc && mine >= 0 && strlen(parent) < sizeof(got.parent)) {
		if (hlx_pack_find(repo, parent[0] ? parent : NULL, oid, pack) == HLX_OK) {
			par_lock(c);
			snprintf(c->memo[mine].parent, sizeof(c->memo[mine].parent), "%s",
				 parent);
			memcpy(c->memo[mine].pack, pack, sizeof(pack));
			par_unlock(c);
		}
		hlx_err_clear(); /* else looked for again when published */
	}
	return rc;
}

const char *hlx_view_memo_pack(const struct hlx_view_ctx *c, const char *parent,
			       const char *oid)
{
	for (size_t i = 0; i < c->nmemo; i++)
		if (c->memo[i].state == 1 && c->memo[i].pack[0] &&
		    !strcmp(c->memo[i].oid, oid) && !strcmp(c->memo[i].parent, parent))
			return c->memo[i].pack;
	return NULL;
}

/* ---- views of the same lines ------------------------------------------- */

struct hlx_view_twin {
	const struct hlx_view_src *s;
	uint8_t e[32];               /* the policy's entries id */
	char parent[41];             /* the view's head it was made on */
	char repo[PATH_MAX];
	char oid[41];                /* the version made, "" none */
	uint64_t version;
	int64_t count;
	int state;          /* 0 being made (on another thread), 1 made, -1 failed */
};

int hlx_view_twin_take(struct hlx_view_ctx *c, const struct hlx_view_src *s,
		       const struct hlx_policy *p, struct hlx_hist *h,
		       const char *repo, char head[41], uint64_t *version,
		       int64_t *count, long *ticket)
{
	struct hlx_view_twin *x, got;
	struct hlx_hist_version v;
	uint8_t e[32];
	long at = -1;

	*ticket = -1;
	if (s->status || s->cases || strchr(s->name, '/') || s->ckpt[0] ||
	    strlen(head) > 40)
		return 0;
	hlx_policy_entries_id(p, e);
	par_lock(c);
	for (;;) {
		int waiting = 0;

		at = -1;
		for (size_t i = 0; i < c->ntwins && at < 0; i++) {
			x = &c->twins[i];
			if (x->s != s || memcmp(x->e, e, 32) != 0 ||
			    strcmp(x->parent, head) != 0 || !strcmp(x->repo, repo) ||
			    x->state < 0)
				continue;
			if (x->state == 1)
				at = (long)i;
			else
				waiting = 1;
		}
		if (at >= 0 || !waiting || !c->par)
			break;
		pthread_cond_wait(&c->par->cv, &c->par->mu);
	}
	if (at >= 0) {
		got = c->twins[at];
	} else if ((x = realloc(c->twins, (c->ntwins + 1) * sizeof(*x)))) {
		c->twins = x;
		*ticket = (long)c->ntwins++;
		x = &x[*ticket];
		memset(x, 0, sizeof(*x));
		x->s = s;
		memcpy(x->e, e, 32);
		memcpy(x->parent, head, strlen(head) + 1);
		snprintf(x->repo, sizeof(x->repo), "%s", repo);
	}
	par_unlock(c);
	if (at < 0 || !got.oid[0])
		return 0;
	/* the very version: it follows our head, as made */
	if (hlx_hist_adopt(h, got.repo, got.oid) != HLX_OK ||
	    hlx_hist_read_version(h, got.oid, &v) != HLX_OK ||
	    strcmp(v.parent, head) != 0 || v.version != got.version ||
	    hlx_hist_set_head(h, head[0] ? head : NULL, got.oid) != HLX_OK) {
		hlx_err_clear(); /* made here instead */
		return 0;
	}
	memcpy(head, got.oid, 41);
	*version = got.version;
	*count = got.count;
	return 1;
}

void hlx_view_twin_done(struct hlx_view_ctx *c, long ticket, int rc,
			const char *oid, uint64_t version, int64_t count)
{
	struct hlx_view_twin *x;

	if (ticket < 0)
		return;
	par_lock(c);
	x = &c->twins[ticket];
	x->state = rc ? -1 : 1;
	if (!rc && strlen(oid) == 40) {
		memcpy(x->oid, oid, 41);
		x->version = version;
		x->count = count;
	}
	if (c->par)
		pthread_cond_broadcast(&c->par->cv);
	par_unlock(c);
}

/* ---- many views at once, on two threads -------------------------------- */

struct many {
	struct hlx_view_ctx *c;
	const struct hlx_view_job *jobs;
	size_t n, next;
};

static void *many_run(void *arg)
{
	struct many *w = arg;

	for (;;) {
		struct hlx_view_made made;
		size_t i;

		pthread_mutex_lock(&w->c->par->mu);
		i = w->next++;
		pthread_mutex_unlock(&w->c->par->mu);
		if (i >= w->n)
			break;
		/* what fails here fails again, and is told, when the
		 * audience is published */
		if (hlx_view_update(w->c, w->jobs[i].p, w->jobs[i].view, w->jobs[i].s,
				    &made) != HLX_OK)
			hlx_err_clear();
	}
	return NULL;
}

/* The order jobs are taken in: the largest first (a thread that takes
 * the largest last leaves the other with nothing to do meanwhile); those
 * whose view holds the same lines as an earlier job's after all others,
 * in their order.  Such a job takes the other's version once it is made
 * (hlx_view_twin_take): taken while the other is still being made, it
 * keeps its thread waiting instead of making another view. */
struct job_order {
	struct hlx_view_job j;
	uint64_t w;
	size_t i;
	int twin;
};

static int order_cmp(const void *a, const void *b)
{
	const struct job_order *x = a, *y = b;

	if (x->twin != y->twin)
		return x->twin - y->twin;
	if (!x->twin && x->w != y->w)
		return x->w < y->w ? 1 : -1;
	return x->i < y->i ? -1 : x->i > y->i;
}

static struct hlx_view_job *job_order(struct hlx_view_ctx *c,
				      const struct hlx_view_job *jobs, size_t n)
{
	struct job_order *o = malloc(n * sizeof(*o));
	struct hlx_view_job *out = malloc(n * sizeof(*out));
	uint8_t (*id)[32] = malloc(n * sizeof(*id));

	if (!o || !out || !id) {
		free(out);
		out = NULL;
		goto done;
	}
	for (size_t i = 0; i < n; i++) {
		o[i] = (struct job_order){ jobs[i], 0, i, 0 };
		hlx_policy_entries_id(jobs[i].p, id[i]);
		o[i].w = hlx_view_weight(c, jobs[i].p, jobs[i].view, jobs[i].s);
		/* a twin only of a job that is made whole too (a view added
		 * later beside one made before is made whole alone) */
		for (size_t j = 0; j < i && o[i].w && !o[i].twin; j++)
			o[i].twin = o[j].w && jobs[j].s == jobs[i].s &&
				    !memcmp(id[j], id[i], 32);
	}
	qsort(o, n, sizeof(*o), order_cmp);
	for (size_t i = 0; i < n; i++)
		out[i] = o[i].j;
done:
	free(o);
	free(id);
	return out;
}

int hlx_view_update_many(struct hlx_view_ctx *c, const struct hlx_view_job *jobs,
			 size_t n)
{
	struct hlx_view_par par;
	struct hlx_view_job *ordered;
	struct many w = { c, jobs, n, 0 };
	pthread_t t;
	int threaded;

	if (n < 2 || hlx_view_signing_key(c) != HLX_OK) {
		hlx_err_clear();
		return HLX_OK;
	}
	if (pthread_mutex_init(&par.mu, NULL) != 0)
		return HLX_OK;
	if (pthread_cond_init(&par.cv, NULL) != 0) {
		pthread_mutex_destroy(&par.mu);
		return HLX_OK;
	}
	/* as they come when there is no memory to order them: slower only */
	ordered = job_order(c, jobs, n);
	if (ordered)
		w.jobs = ordered;
	c->par = &par;
	threaded = pthread_create(&t, NULL, many_run, &w) == 0;
	many_run(&w);
	if (threaded)
		pthread_join(t, NULL);
	c->par = NULL;
	pthread_cond_destroy(&par.cv);
	pthread_mutex_destroy(&par.mu);
	free(ordered);
	return HLX_OK;
}

void hlx_view_ctx_free(struct hlx_view_ctx *c)
{
	hlx_seckey_free(c->key);
	c->key = NULL;
	free(c->memo);
	c->memo = NULL;
	c->nmemo = 0;
	free(c->twins);
	c->twins = NULL;
	c->ntwins = 0;
}

