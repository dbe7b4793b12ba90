/* SPDX-License-Identifier: MIT */
/*
 * The versions of views made in one publish, which other views may take as
 * they are (node/views.h, hlx_view_memo_commit).
 */
#include "node/views.h"
#include "node/history.h"
#include "node/lists.h"
#include "protocol/err.h"

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
	char oid[41];
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
	return rc;
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

int hlx_view_update_many(struct hlx_view_ctx *c, const struct hlx_view_job *jobs,
			 size_t n)
{
	struct hlx_view_par par;
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
	c->par = &par;
	threaded = pthread_create(&t, NULL, many_run, &w) == 0;
	many_run(&w);
	if (threaded)
		pthread_join(t, NULL);
	c->par = NULL;
	pthread_cond_destroy(&par.cv);
	pthread_mutex_destroy(&par.mu);
	return HLX_OK;
}

void hlx_view_ctx_free(struct hlx_view_ctx *c)
{
	hlx_seckey_free(c->key);
	c->key = NULL;
	free(c->memo);
	c->memo = NULL;
	c->nmemo = 0;
}

