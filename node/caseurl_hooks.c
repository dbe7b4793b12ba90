/* SPDX-License-Identifier: MIT */
/* The raw URL of a case at publish and after a pull: what the cases engine
 * (node/cases.h) says is due, sent and fetched by node/caseurl.c. */
#include "node/caseurl.h"
#include "node/cases.h"
#include "node/files.h"
#include "node/node.h"
#include "node/sync.h"
#include "node/urls.h"
#include "keys/trust.h"
#include "protocol/err.h"

#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int stop_at_first(void *ctx, const struct hlx_hash *item)
{
	(void)ctx;
	(void)item;
	return 1;
}

/* Anything to send or to take down: a raw URL held, or a file sent. */
static int anything(struct hlx_home *h, int *yes)
{
	char p[PATH_MAX];
	struct stat st;
	int rc = hlx_urls_foreach(h, stop_at_first, NULL);

	if (rc < 0)
		return rc;
	*yes = rc == 1;
	if (*yes)
		return HLX_OK;
	rc = hlx_home_path(p, hlx_home_dir(h), HLX_HOME_CASES_SENT, NULL, NULL);
	if (rc)
		return rc;
	*yes = lstat(p, &st) == 0 && st.st_size > 0;
	return HLX_OK;
}

struct wants {
	const char *self;
	struct hlx_caseurl_want *v;
	size_t n, cap;
};

static int want_of(void *ctx, const struct hlx_case_view *v)
{
	struct wants *w = ctx;
	const char *to;

	if (!v->url_held)
		return 0;
	to = hlx_caseurl_recipient(w->self, v->srcs, v->nsrcs, &v->owner);
	if (!to)
		return 0;
	if (w->n == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 64;
		void *p = reallocarray(w->v, cap, sizeof(*w->v));

		if (!p)
			return hlx_err(HLX_ENOMEM, "out of memory");
		w->v = p;
		w->cap = cap;
	}
	memset(&w->v[w->n], 0, sizeof(w->v[w->n]));
	w->v[w->n].case_id = *v->hash;
	snprintf(w->v[w->n].org, sizeof(w->v[w->n].org), "%s", to);
	snprintf(w->v[w->n].root, sizeof(w->v[w->n].root), "%s",
		 v->owner_root ? v->owner_root : "");
	w->v[w->n].root_plan = v->owner_root_plan;
	w->n++;
	return 0;
}

int hlx_caseurl_at_publish(struct hlx_node *n, const char *pubdir,
			   int64_t now, const struct hlx_seckey *signer,
			   hlx_pass_fn getpass, void *pctx,
			   struct hlx_caseurl_stats *st)
{
	struct hlx_caseurl_ctx c = { hlx_node_home(n), signer, NULL, pubdir, now,
				     getpass, pctx, 0 };
	struct wants w = { NULL, NULL, 0, 0 };
	struct hlx_cases *cs = NULL;
	int rc, yes = 0;

	rc = anything(c.h, &yes);
	if (rc)
		return rc;
	if (!yes) /* nothing due; files a crash left unnoted go all the same */
		return hlx_caseurl_sweep(&c, st);
	rc = hlx_cases_load(n, &cs);
	if (!rc) {
		w.self = hlx_cases_self(cs);
		rc = hlx_cases_foreach(cs, now, want_of, &w);
	}
	if (rc && rc != HLX_ENOMEM) {
		/* the cases cannot be read: the lists are published all the
		 * same, nothing is sent or taken down, and it is reported */
		st->failed++;
		if (st->failure)
			st->failure(st->failure_ctx, "the owners of cases", rc,
				    hlx_err_detail());
		hlx_err_clear();
		rc = HLX_OK;
		goto out;
	}
	if (!rc)
		rc = hlx_caseurl_publish_wants(&c, w.v, w.n, st);
out:
	free(w.v);
	hlx_cases_free(cs);
	return rc;
}

/* ---- after a pull ---- */

/* The organisation of a peer's verified trust chain; HLX_ENOENT before
 * its first pull. */
static int peer_org(struct hlx_node *n, const struct hlx_peer *p, char org[65])
{
	struct hlx_trust *t = NULL;
	int rc = hlx_peer_trust(hlx_home_dir(hlx_node_home(n)), p, &t);

	if (!rc)
		snprintf(org, 65, "%s", hlx_trust_org(t));
	hlx_trust_free(t);
	return rc;
}

struct lacking {
	const char *self, *from;
	struct hlx_hash *v;
	size_t n, cap;
};

static int lacking_of(void *ctx, const struct hlx_case_view *v)
{
	struct lacking *l = ctx;

	if (v->url_held || !hlx_caseurl_from(l->self, l->from, v->srcs, v->nsrcs,
					     &v->owner))
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		void *p = reallocarray(l->v, cap, sizeof(*l->v));

		if (!p)
			return hlx_err(HLX_ENOMEM, "out of memory");
		l->v = p;
		l->cap = cap;
	}
	l->v[l->n++] = *v->hash;
	return 0;
}

int hlx_caseurl_after_pull(struct hlx_node *n, const struct hlx_peer *peer,
			   struct hlx_fetch *f, int64_t now,
			   struct hlx_pull_keys *keys, unsigned *got)
{
	struct hlx_home *h = hlx_node_home(n);
	struct lacking l = { NULL, NULL, NULL, 0, 0 };
	struct hlx_cases *cs = NULL;
	char org[65], first[512] = "";
	size_t start = 0, nfetch;
	int rc, refused = HLX_OK;

	*got = 0;
	rc = peer_org(n, peer, org);
	if (rc == HLX_ENOENT) {
		hlx_err_clear();
		return HLX_OK;
	}
	if (!rc)
		rc = hlx_cases_load(n, &cs);
	if (!rc) {
		l.self = hlx_cases_self(cs);
		l.from = org;
		rc = hlx_cases_foreach(cs, now, lacking_of, &l);
	}
	hlx_cases_free(cs);
	if (!rc && l.n && !keys->box)
		rc = hlx_home_box_key(h, keys->getpass, keys->ctx, &keys->box);
	/* a bounded window, from a random place when it is not all of them */
	if (l.n > HLX_CASEURL_FETCH_MAX) {
		start = randombytes_uniform((uint32_t)l.n);
		nfetch = HLX_CASEURL_FETCH_MAX;
	} else {
		nfetch = l.n;
	}
	for (size_t k = 0; !rc && k < nfetch; k++) {
		size_t i = (start + k) % l.n;
		int frc = hlx_caseurl_fetch(h, f, peer, keys->box, &l.v[i]);

		if (frc == HLX_ENOENT || frc == HLX_EPERM) {
			/* not sent yet, or sealed to another organisation: the
			 * peer saw another owner when it published (the owners
			 * it and we compute agree once both hold the same
			 * lines); taken once it is sealed to us */
			hlx_err_clear();
			continue;
		}
		if (!frc) {
			(*got)++;
			continue;
		}
		if (frc == HLX_ENOMEM || frc == HLX_EIO) {
			rc = frc;
			break;
		}
		/* refused: reported for peer status, the others go on */
		if (!refused) {
			refused = frc;
			snprintf(first, sizeof(first), "%s", hlx_err_detail());
		}
		hlx_err_clear();
	}
	free(l.v);
	if (rc)
		return rc;
	if (refused) {
		hlx_sync_state_error(n, peer->name, HLX_CASES_LIST, first);
		return hlx_err(refused, "%s", first);
	}
	return HLX_OK;
}

/* ---- case show ---- */

int hlx_caseurl_show(struct hlx_node *n, const char *self,
		     const struct hlx_case_view *v, struct hlx_buf *out)
{
	struct hlx_home *h = hlx_node_home(n);
	struct hlx_buf sent = HLX_BUF_INIT;
	struct hlx_peers *ps = NULL;
	const char *to;
	char peer[65];
	int rc;

	if (v->url_held && v->owner.exists && v->owner.org &&
	    !strcmp(v->owner.org, self))
		return hlx_buf_puts(out, "held");
	rc = hlx_caseurl_sent_to(h, v->hash, &sent);
	if (!rc && sent.len) {
		rc = hlx_buf_puts(out, "sent to ");
		if (!rc)
			rc = hlx_buf_put(out, sent.data, sent.len);
		goto out;
	}
	if (rc || !v->url_held) {
		if (!rc)
			rc = hlx_buf_puts(out, "not received");
		goto out;
	}
	to = hlx_caseurl_recipient(self, v->srcs, v->nsrcs, &v->owner);
	rc = hlx_peers_load(hlx_home_dir(h), &ps);
	if (!rc && to && hlx_caseurl_peer_of(h, ps, to, v->owner_root,
					     v->owner_root_plan, peer) == HLX_OK &&
	    !hlx_peers_find(ps, peer)->box[0]) {
		rc = hlx_buf_printf(out, "not sent to %s: no box key", to);
		goto out;
	}
	hlx_err_clear();
	if (!rc)
		rc = hlx_buf_puts(out, "held");
out:
	hlx_peers_free(ps);
	hlx_buf_free(&sent);
	return rc;
}
