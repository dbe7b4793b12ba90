/* SPDX-License-Identifier: MIT */
/*
 * Policy views (spec/policy.md): the view of a list under a policy, as
 * lines (view_lines), as a new version of its history made from the whole
 * list (view_commit) or from the list's changes alone (view_incremental),
 * and its mark, what it was made from (views/ID/NAME.src).
 */
#include "node/views.h"
#include "node/cases.h"
#include "node/lists.h"
#include "node/peers.h"
#include "node/files.h"
#include "node/prune.h"
#include "node/retention.h"
#include "keys/trust.h"
#include "protocol/err.h"
#include "protocol/checkpoint.h"
#include "protocol/record.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int hlx_view_signing_key(struct hlx_view_ctx *c)
{
	if (c->key)
		return HLX_OK;
	return hlx_home_signing_key(hlx_node_home(c->n), c->getpass, c->pctx,
				    c->now, &c->key);
}

static void lines_free(struct hlx_view_lines *l)
{
	hlx_buf_free(&l->a);
	free(l->off);
	memset(l, 0, sizeof(*l));
}

static int lines_add(struct hlx_view_lines *l, const char *s, size_t len)
{
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 4096;
		size_t *x = realloc(l->off, nc * sizeof(*x));

		if (!x)
			return hlx_err(HLX_ENOMEM, "out of memory");
		l->off = x;
		l->cap = nc;
	}
	l->off[l->n++] = l->a.len;
	return hlx_buf_put(&l->a, s, len);
}

static const char *line_at(const struct hlx_view_lines *l, size_t i,
			   size_t *len)
{
	size_t end = i + 1 < l->n ? l->off[i + 1] : l->a.len;

	*len = end - l->off[i];
	return (const char *)l->a.data + l->off[i];
}

static int add_cb(void *ctx, const char *line, size_t len)
{
	return lines_add(ctx, line, len);
}

/* per thread: views are made on two (hlx_view_update_many) */
static _Thread_local const struct hlx_view_lines *sort_lines;

static int idx_cmp(const void *x, const void *y)
{
	size_t an, bn;
	const char *a = line_at(sort_lines, *(const size_t *)x, &an);
	const char *b = line_at(sort_lines, *(const size_t *)y, &bn);

	return hlx_line_hash_cmp(a, an, b, bn);
}

/* Indexes of l's lines in hash field order.  A history's lines come in
 * that order already (its shards are named and kept by hash), and so do
 * a view's made from them: they are only checked then, not sorted. */
static int sorted(const struct hlx_view_lines *l, size_t **out)
{
	size_t *ix = malloc((l->n ? l->n : 1) * sizeof(*ix));
	size_t i;

	if (!ix)
		return hlx_err(HLX_ENOMEM, "out of memory");
	for (i = 0; i < l->n; i++)
		ix[i] = i;
	sort_lines = l;
	for (i = 1; i < l->n && idx_cmp(&ix[i - 1], &ix[i]) <= 0; i++)
		;
	if (i < l->n)
		qsort(ix, l->n, sizeof(*ix), idx_cmp);
	*out = ix;
	return HLX_OK;
}

/* Digests of what retention purged here (store.h), sorted. */
struct pset {
	uint8_t (*v)[32];
	size_t n, cap;
};

static int pset_add(void *ctx, const uint8_t digest[32])
{
	struct pset *p = ctx;

	if (p->n == p->cap) {
		size_t nc = p->cap ? p->cap * 2 : 256;
		uint8_t (*x)[32] = realloc(p->v, nc * sizeof(*x));

		if (!x)
			return hlx_err(HLX_ENOMEM, "out of memory");
		p->v = x;
		p->cap = nc;
	}
	memcpy(p->v[p->n++], digest, 32);
	return HLX_OK;
}

static int digest_cmp(const void *a, const void *b)
{
	return memcmp(a, b, 32);
}

static int load_source(struct hlx_view_ctx *c, struct hlx_view_src *s)
{
	struct hlx_view_lines all = { HLX_BUF_INIT, NULL, 0, 0 };
	struct pset ps = { NULL, 0, 0 };
	struct hlx_hist *h = NULL;
	int rc = HLX_OK;

	if (s->loaded)
		return HLX_OK;
	if (s->rec.version)
		rc = hlx_list_open_hist(c->n, s->name, &h);
	if (!rc && s->rec.version)
		rc = hlx_hist_foreach(h, s->rec.head, add_cb, &all);
	/* a peer's list: minus what retention purged here */
	if (!rc && strchr(s->name, '/'))
		rc = hlx_store_purged_foreach(hlx_node_store(c->n), s->rec.id,
					      pset_add, &ps);
	if (!rc && ps.n)
		qsort(ps.v, ps.n, 32, digest_cmp);
	for (size_t i = 0; !rc && i < all.n; i++) {
		size_t len;
		const char *l = line_at(&all, i, &len);

		if (ps.n) {
			struct hlx_hash hh;
			uint8_t d[32];

			rc = hlx_hash_parse_canonical(l, hlx_line_hash_len(l, len), &hh);
			if (!rc)
				rc = hlx_store_purged_digest(hlx_node_store(c->n), &hh, d);
			if (rc)
				break;
			if (bsearch(d, ps.v, ps.n, 32, digest_cmp))
				continue;
		}
		rc = lines_add(&s->lines, l, len);
	}
	free(ps.v);
	lines_free(&all);
	hlx_hist_free(h);
	if (!rc)
		s->loaded = 1;
	else /* a later try starts again from nothing */
		lines_free(&s->lines);
	return rc;
}

/* Status records follow the entries (spec/policy.md section 4, step 3):
 * an item the node lists is withheld unless an own list the policy gives
 * shares an entry for it. */
struct held_ctx {
	struct hlx_node *n;
	const struct hlx_policy *p;
	const struct hlx_hash *q;
	char *listed, *shared;
	/* whether a peer's list may be shared onward, by list id */
	uint32_t ids[64];
	char onward[64];
	size_t nids;
};

static int onward_of(struct held_ctx *h, const struct hlx_list_rec *rec,
		     int *onward)
{
	struct hlx_rules r;
	int rc;

	for (size_t i = 0; i < h->nids; i++)
		if (h->ids[i] == rec->id) {
			*onward = h->onward[i];
			return HLX_OK;
		}
	rc = hlx_retention_rules(h->n, rec->name, &r);
	if (rc)
		return rc;
	*onward = r.onward;
	if (h->nids < 64) {
		h->ids[h->nids] = rec->id;
		h->onward[h->nids++] = (char)r.onward;
	}
	return HLX_OK;
}

static int held_hit(void *ctx, size_t query, uint32_t list, const char *meta,
		    size_t metalen)
{
	struct held_ctx *h = ctx;
	struct hlx_list_rec rec;
	struct hlx_entry e, out;
	struct hlx_buf line = HLX_BUF_INIT;
	char hex[HLX_HASH_TEXT_MAX];
	int rc, onward = 1;

	if (h->shared[query])
		return 0;
	rc = hlx_store_list_by_id(hlx_node_store(h->n), list, &rec);
	if (rc)
		return rc;
	if (hlx_is_status_list(rec.name))
		return 0;
	/* listed by this node: the entry decides (a peer's list only when it
	 * may be shared onward and the policy gives it) */
	h->listed[query] = 1;
	if (!hlx_policy_list(h->p, rec.name))
		return 0;
	if (strchr(rec.name, '/') && ((rc = onward_of(h, &rec, &onward)) || !onward))
		return rc;
	rc = hlx_hash_format(&h->q[query], hex, sizeof(hex));
	if (!rc)
		rc = hlx_buf_printf(&line, "%s\t%.*s\n", hex, (int)metalen, meta);
	if (!rc && hlx_entry_decode((char *)line.data, line.len, &e) == HLX_OK)
		h->shared[query] = (char)hlx_policy_entry(h->p, &e, &out);
	hlx_buf_free(&line);
	return rc;
}

/* The view of source s under policy p (and handling rules) as lines. */
static int view_lines(struct hlx_view_ctx *c, const struct hlx_policy *p,
		      const struct hlx_view_src *s, struct hlx_view_lines *out)
{
	if (s->cases)
		return hlx_view_cases(c, p, s, out);
	struct hlx_entry *e = malloc(sizeof(*e)), *eo = malloc(sizeof(*eo));
	struct hlx_status st, so;
	struct hlx_buf b = HLX_BUF_INIT;
	struct hlx_hash *q = NULL;
	const struct hlx_hash **qp = NULL;
	char *listed = NULL, *shared = NULL;
	int rc = e && eo ? HLX_OK : hlx_err(HLX_ENOMEM, "out of memory");

	if (!rc && s->status && s->lines.n) {
		struct held_ctx hc = { .n = c->n, .p = p };

		q = calloc(s->lines.n, sizeof(*q));
		qp = calloc(s->lines.n, sizeof(*qp));
		listed = calloc(s->lines.n, 1);
		shared = calloc(s->lines.n, 1);
		if (!q || !qp || !listed || !shared)
			rc = hlx_err(HLX_ENOMEM, "out of memory");
		for (size_t i = 0; !rc && i < s->lines.n; i++) {
			size_t len;
			const char *l = line_at(&s->lines, i, &len);

			rc = hlx_status_decode(l, len, &st);
			q[i] = st.item;
			qp[i] = &q[i];
		}
		hc.q = q;
		hc.listed = listed;
		hc.shared = shared;
		if (!rc)
			rc = hlx_store_lookup(hlx_node_store(c->n), qp, s->lines.n,
					      held_hit, &hc);
	}
	for (size_t i = 0; !rc && i < s->lines.n; i++) {
		size_t len;
		const char *l = line_at(&s->lines, i, &len);

		hlx_buf_reset(&b);
		if (s->status) {
			rc = hlx_status_decode(l, len, &st);
			if (!rc && hlx_policy_status(p, &st, listed[i] && !shared[i], &so))
				rc = hlx_status_encode(&so, &b);
		} else {
			rc = hlx_entry_decode(l, len, e);
			if (!rc && hlx_policy_entry(p, e, eo))
				rc = hlx_entry_encode(eo, &b);
		}
		if (!rc && b.len)
			rc = lines_add(out, (const char *)b.data, b.len);
	}
	free(e);
	free(eo);
	free(q);
	free(qp);
	free(listed);
	free(shared);
	hlx_buf_free(&b);
	return rc;
}

/* The date of a new version of a view: no finer than the times the policy
 * gives (spec/policy.md section 6): cut to the day when the policy cuts
 * status times, or withholds when entries were first seen; never before
 * the signing key's window opens (a commit is checked at its date). */
static int view_time(struct hlx_view_ctx *c, const struct hlx_policy *p,
		     int status, int64_t *when)
{
	const struct hlx_trust *t = hlx_home_trust(hlx_node_home(c->n));
	struct hlx_pubkey pub;
	int rc = hlx_view_signing_key(c);

	*when = c->now;
	/* status 2: a view of the cases log, dated exactly (cases.md 7.3) */
	if (rc || status == 2 || hlx_policy_exact_times(p, status))
		return rc;
	*when = c->now - ((c->now % 86400) + 86400) % 86400;
	hlx_seckey_public(c->key, &pub);
	for (size_t i = 0; i < hlx_trust_nkeys(t); i++) {
		const struct hlx_trust_key *k = hlx_trust_key(t, i);

		if (hlx_pubkey_eq(&k->key, &pub) && k->valid_after > *when &&
		    k->valid_after <= c->now)
			*when = k->valid_after;
	}
	return HLX_OK;
}

/* One version of a view from the difference between what it holds and
 * what it should hold. */
static int view_commit(struct hlx_view_ctx *c, struct hlx_hist *h,
		       const char *repo, const char *vname,
		       const struct hlx_view_lines *want,
		       const struct hlx_policy *p, int status,
		       uint64_t *version, char head[41])
{
	struct hlx_view_lines have = { HLX_BUF_INIT, NULL, 0, 0 };
	struct hlx_hist_op *ops = NULL;
	struct hlx_hist_version cur;
	size_t *a = NULL, *b = NULL, i = 0, j = 0, k = 0;
	uint64_t plus = 0, minus = 0;
	int64_t when = 0;
	int rc, exists = hlx_hist_head(h, head) == HLX_OK;
	char summary[HLX_HIST_SUMMARY_MAX + 1];

	hlx_err_clear();
	rc = exists ? hlx_hist_read_version(h, head, &cur) : HLX_OK;
	if (!rc && exists)
		rc = hlx_hist_foreach(h, head, add_cb, &have);
	if (!rc)
		rc = sorted(&have, &a);
	if (!rc)
		rc = sorted(want, &b);
	if (!rc) {
		ops = calloc(have.n + want->n + 1, sizeof(*ops));
		if (!ops)
			rc = hlx_err(HLX_ENOMEM, "out of memory");
	}
	while (!rc && (i < have.n || j < want->n)) {
		size_t hn = 0, wn = 0;
		const char *hl = i < have.n ? line_at(&have, a[i], &hn) : NULL;
		const char *wl = j < want->n ? line_at(want, b[j], &wn) : NULL;
		int cmp = !hl ? 1 : !wl ? -1 : hlx_line_hash_cmp(hl, hn, wl, wn);

		if (cmp < 0) {
			ops[k++] = (struct hlx_hist_op){ hl, hlx_line_hash_len(hl, hn), 1 };
			minus++;
			i++;
		} else if (cmp > 0) {
			ops[k++] = (struct hlx_hist_op){ wl, wn, 0 };
			plus++;
			j++;
		} else {
			if (hn != wn || memcmp(hl, wl, hn) != 0) {
				ops[k++] = (struct hlx_hist_op){ wl, wn, 0 };
				plus++;
			}
			i++;
			j++;
		}
	}
	if (rc)
		goto out;
	if (exists && k == 0) {
		*version = cur.version;
		goto out;
	}
	rc = view_time(c, p, status, &when);
	if (rc)
		goto out;
	snprintf(summary, sizeof(summary), "view: %zu entries (%" PRIu64 " added, %" PRIu64
		 " removed)", want->n, plus, minus);
	{
		struct hlx_hist_meta m = {
			hlx_home_org(hlx_node_home(c->n)), vname,
			exists ? cur.version + 1 : 1, when, summary
		};
		char oid[41];

		rc = hlx_view_memo_commit(c, h, repo, exists ? head : "", ops, k, &m, oid);
		if (!rc)
			rc = hlx_hist_set_head(h, exists ? head : NULL, oid);
		if (!rc) {
			memcpy(head, oid, 41);
			*version = m.version;
		}
	}
out:
	lines_free(&have);
	free(a);
	free(b);
	free(ops);
	return rc;
}

/* The name of a source's view: NAME, or PEER.NAME for a peer's list. */
int hlx_view_name(const char *src, char out[HLX_NAME_MAX + 1])
{
	const char *sl = strchr(src, '/');
	int n = sl ? snprintf(out, HLX_NAME_MAX + 1, "%.*s.%s", (int)(sl - src), src,
			      sl + 1) :
		     snprintf(out, HLX_NAME_MAX + 1, "%s", src);

	if (n < 0 || n > HLX_NAME_MAX)
		return hlx_err(HLX_EINVAL, "cannot relay '%s': the name '%s.' is too long",
			       src, src);
	return HLX_OK;
}

static int diff_cb(void *ctx, const char *line, size_t len, int added)
{
	struct hlx_view_lines *l = ctx;
	char sign = added ? '+' : '-';
	int rc = lines_add(l, &sign, 1);

	if (!rc)
		rc = hlx_buf_put(&l->a, line, len);
	return rc;
}

/* The changes of an own list since commit from (read once for all
 * audiences): only the shards that changed are read. */
static int source_diff(struct hlx_view_ctx *c, struct hlx_view_src *s,
		       const char *from)
{
	struct hlx_hist *h = NULL;
	int rc;

	if (s->diff_from[0] && !strcmp(s->diff_from, from))
		return HLX_OK;
	lines_free(&s->diff);
	s->diff_from[0] = '\0';
	rc = hlx_list_open_hist(c->n, s->name, &h);
	if (!rc)
		rc = hlx_hist_diff(h, from, s->rec.head, diff_cb, &s->diff);
	hlx_hist_free(h);
	if (!rc)
		snprintf(s->diff_from, sizeof(s->diff_from), "%s", from);
	else
		lines_free(&s->diff);
	return rc;
}

static int op_cmp(const void *a, const void *b)
{
	const struct hlx_hist_op *x = a, *y = b;

	return hlx_line_hash_cmp(x->line, x->len, y->line, y->len);
}

/* The ops of the new version from the source's diff: for each entry
 * changed, what the policy made of it before and makes of it now (the
 * lines in put, ops[i].line their index there until put stops growing).
 * *delta: how the count of entries shared changes. */
static int view_ops(const struct hlx_policy *p, const struct hlx_view_src *s,
		    struct hlx_view_lines *put, struct hlx_hist_op *ops,
		    size_t *k, int64_t *delta)
{
	struct hlx_entry *e = malloc(sizeof(*e)), *eo = malloc(sizeof(*eo));
	struct hlx_buf was = HLX_BUF_INIT, now = HLX_BUF_INIT;
	int rc = e && eo ? HLX_OK : hlx_err(HLX_ENOMEM, "out of memory");

	for (size_t i = 0; !rc && i < s->diff.n; i++) {
		size_t len, nlen = 0;
		const char *l = line_at(&s->diff, i, &len), *n = NULL;
		int old_shared = 0, new_shared = 0;

		hlx_buf_reset(&was);
		hlx_buf_reset(&now);
		if (l[0] == '-') {
			rc = hlx_entry_decode(l + 1, len - 1, e);
			if (!rc && (old_shared = hlx_policy_entry(p, e, eo)))
				rc = hlx_entry_encode(eo, &was);
			/* a changed entry: its new line follows */
			if (i + 1 < s->diff.n) {
				n = line_at(&s->diff, i + 1, &nlen);
				if (n[0] != '+' || hlx_line_hash_cmp(l + 1, len - 1, n + 1, nlen - 1))
					n = NULL;
			}
			if (n)
				i++;
		} else {
			n = l;
			nlen = len;
		}
		if (!rc && n) {
			rc = hlx_entry_decode(n + 1, nlen - 1, e);
			if (!rc && (new_shared = hlx_policy_entry(p, e, eo)))
				rc = hlx_entry_encode(eo, &now);
		}
		if (rc)
			break;
		if (new_shared && (!old_shared || was.len != now.len ||
				   memcmp(was.data, now.data, now.len))) {
			size_t at = put->n;

			rc = lines_add(put, (const char *)now.data, now.len);
			/* pointers into put are taken once it stops growing */
			ops[*k].len = now.len;
			ops[*k].retract = 0;
			ops[(*k)++].line = (const char *)(uintptr_t)at;
		} else if (!new_shared && old_shared) {
			size_t at = put->n;

			rc = lines_add(put, (const char *)was.data,
				       hlx_line_hash_len((const char *)was.data, was.len));
			ops[*k].len = hlx_line_hash_len((const char *)was.data, was.len);
			ops[*k].retract = 1;
			ops[(*k)++].line = (const char *)(uintptr_t)at;
		}
		*delta += new_shared - old_shared;
	}
	free(e);
	free(eo);
	hlx_buf_free(&was);
	hlx_buf_free(&now);
	return rc;
}

/* The k ops (sorted) as version cur->version + 1 of the view, signed and
 * made its head (*version, head). */
static int view_commit_ops(struct hlx_view_ctx *c,
			   const struct hlx_policy *p,
			   const struct hlx_view_src *s, struct hlx_hist *h,
			   const char *repo, const char *vname,
			   struct hlx_hist_op *ops,
			   size_t k, const struct hlx_hist_version *cur,
			   int64_t count, uint64_t *version, char head[41])
{
	char summary[HLX_HIST_SUMMARY_MAX + 1];
	struct hlx_hist_meta m = {
		hlx_home_org(hlx_node_home(c->n)), vname, cur->version + 1, 0,
		summary
	};
	char oid[41];
	int rc;

	qsort(ops, k, sizeof(*ops), op_cmp);
	rc = hlx_view_signing_key(c);
	if (!rc)
		rc = view_time(c, p, s->cases ? 2 : s->status, &m.time);
	if (rc)
		return rc;
	snprintf(summary, sizeof(summary), "view: %" PRId64 " entries (%zu changed)",
		 count, k);
	rc = hlx_view_memo_commit(c, h, repo, head, ops, k, &m, oid);
	if (!rc)
		rc = hlx_hist_set_head(h, head, oid);
	if (!rc) {
		memcpy(head, oid, 41);
		*version = m.version;
	}
	return rc;
}

/* A new version of a view from the changes of its source alone: for each
 * entry changed, what the policy made of it before and makes of it now. */
static int view_incremental(struct hlx_view_ctx *c, const struct hlx_policy *p,
			    struct hlx_view_src *s, const char *from,
			    struct hlx_hist *h, const char *repo,
			    const char *vname,
			    uint64_t *version, char head[41], int64_t *count)
{
	struct hlx_view_lines put = { HLX_BUF_INIT, NULL, 0, 0 };
	struct hlx_hist_op *ops = NULL;
	struct hlx_hist_version cur;
	size_t k = 0;
	int64_t delta = 0;
	int rc;

	/* the source's changes are shared by the views made on two threads */
	if (c->par)
		pthread_mutex_lock(&c->par->mu);
	rc = source_diff(c, s, from);
	if (!rc)
		rc = hlx_hist_head(h, head);
	if (!rc)
		rc = hlx_hist_read_version(h, head, &cur);
	if (!rc) {
		ops = calloc(s->diff.n + 1, sizeof(*ops));
		if (!ops)
			rc = hlx_err(HLX_ENOMEM, "out of memory");
	}
	if (!rc)
		rc = view_ops(p, s, &put, ops, &k, &delta);
	if (c->par)
		pthread_mutex_unlock(&c->par->mu);
	for (size_t i = 0; !rc && i < k; i++) {
		size_t len;

		ops[i].line = line_at(&put, (size_t)(uintptr_t)ops[i].line, &len);
	}
	if (rc)
		goto out;
	*version = cur.version;
	*count += delta;
	if (k)
		rc = view_commit_ops(c, p, s, h, repo, vname, ops, k, &cur, *count,
				     version, head);
out:
	free(ops);
	lines_free(&put);
	return rc;
}

/* views/ID/NAME.src: what the view was made from (the source's key and
 * commit) and how many entries it holds. */
struct view_mark {
	char key[256];
	char commit[41];
	int64_t count;
	char ckpt[65];      /* the source's checkpoint it was pruned for */
	char vhead[41];     /* the view's head when this was written */
};

static int mark_read(const char *path, struct view_mark *m)
{
	struct hlx_buf b = HLX_BUF_INIT;
	int rc = hlx_file_read(path, 4096, &b), ok = 0;

	memset(m, 0, sizeof(*m));
	m->count = -1;
	if (!rc) {
		char *s = (char *)b.data, *n1, *n2, *n3;

		hlx_buf_putc(&b, '\0');
		s = (char *)b.data;
		n1 = strchr(s, '\n');
		n2 = n1 ? strchr(n1 + 1, '\n') : NULL;
		n3 = n2 ? strchr(n2 + 1, '\n') : NULL;
		if (n3 && n1 - s < (long)sizeof(m->key) && n2 - n1 - 1 == 40) {
			char *n4 = strchr(n3 + 1, '\n');

			memcpy(m->key, s, (size_t)(n1 - s));
			memcpy(m->commit, n1 + 1, 40);
			m->count = strtoll(n2 + 1, NULL, 10);
			char *n5 = n4 ? strchr(n4 + 1, '\n') : NULL;

			if (n4 && n4 - n3 - 1 == 64)
				memcpy(m->ckpt, n3 + 1, 64);
			if (n5 && n5 - n4 - 1 == 40)
				memcpy(m->vhead, n4 + 1, 40);
			ok = 1;
		}
	}
	hlx_buf_free(&b);
	hlx_err_clear();
	if (!ok)
		memset(m, 0, sizeof(*m));
	return ok;
}

/* Two lists a policy gives must not be published under one name (an own
 * list "b.x" and a peer's list "b/x" would both be "b.x"). */
int hlx_view_check_names(const struct hlx_policy *p,
			 const struct hlx_view_src *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char a[HLX_NAME_MAX + 1], b[HLX_NAME_MAX + 1];

		if (!hlx_policy_list(p, v[i].name) || hlx_view_name(v[i].name, a))
			continue;
		for (size_t j = i + 1; j < n; j++)
			if (hlx_policy_list(p, v[j].name) &&
			    hlx_view_name(v[j].name, b) == HLX_OK && !strcmp(a, b))
				return hlx_err(HLX_EPOLICY,
					       "policy '%s' gives lists '%s' and '%s', which would both be published as '%s': give only one",
					       hlx_policy_name(p), v[i].name, v[j].name, a);
	}
	return HLX_OK;
}

static int digest_add(void *ctx, const uint8_t digest[32])
{
	return hlx_buf_put(ctx, digest, 32);
}

/* One list of the node as a source: its record, rules and the
 * checkpoint its views are pruned for. */
static int src_add(void *ctx, const struct hlx_list_rec *l)
{
	struct hlx_view_srcs *s = ctx;
	struct hlx_view_src *v = realloc(s->v, (s->n + 1) * sizeof(*v)), *x;
	int rc;

	if (!v)
		return s->rc = hlx_err(HLX_ENOMEM, "out of memory");
	s->v = v;
	x = &v[s->n];
	memset(x, 0, sizeof(*x));
	rc = hlx_list_recover(s->c->n, l->name);
	if (!rc)
		rc = hlx_list_get(s->c->n, l->name, &x->rec);
	if (rc)
		return s->rc = rc;
	if (x->rec.version == 0)
		return 0;
	x->status = hlx_is_status_list(l->name);
	x->cases = hlx_is_cases_list(l->name);
	hlx_rules_init(&x->rules);
	if (strchr(l->name, '/')) {
		rc = hlx_retention_rules(s->c->n, l->name, &x->rules);
		if (rc)
			return s->rc = rc;
	}
	snprintf(x->key, sizeof(x->key), "%s %" PRIu64 " %" PRIu64, x->rec.head,
		 x->rec.version, x->rec.count);
	{
		/* pruned: its views are pruned too (spec/prune.md) */
		struct hlx_buf ck = HLX_BUF_INIT;
		char repo[PATH_MAX], p[PATH_MAX];
		uint8_t h[32];

		if (hlx_list_repo_path(s->c->n, l->name, repo) == HLX_OK &&
		    hlx_pathf(p, "%s/" HLX_PRUNE_CHECKPOINT_FILE, repo) == HLX_OK &&
		    hlx_file_read(p, HLX_CHECKPOINT_MAX, &ck) != HLX_OK)
			hlx_buf_reset(&ck);
		hlx_err_clear();
		/* a peer's list: what retention purged here counts as a
		 * prune too (spec/policy.md section 7.2) */
		if (strchr(l->name, '/')) {
			rc = hlx_buf_puts(&ck, "\npurged:");
			if (!rc)
				rc = hlx_store_purged_foreach(hlx_node_store(s->c->n),
							      x->rec.id, digest_add, &ck);
			if (rc) {
				hlx_buf_free(&ck);
				return s->rc = rc;
			}
			if (ck.len == 8)
				hlx_buf_reset(&ck); /* nothing purged, no checkpoint */
		}
		if (ck.len) {
			crypto_hash_sha256(h, ck.data, ck.len);
			sodium_bin2hex(x->ckpt, sizeof(x->ckpt), h, 32);
		}
		hlx_buf_free(&ck);
	}
	s->n++;
	return 0;
}

static int src_order(const void *a, const void *b)
{
	const struct hlx_view_src *x = a, *y = b;
	const char *xn = x->rec.name, *yn = y->rec.name;
	int ox = x->status && !strchr(xn, '/') ? 2 : strchr(xn, '/') ? 1 : 0;
	int oy = y->status && !strchr(yn, '/') ? 2 : strchr(yn, '/') ? 1 : 0;

	return ox != oy ? ox - oy : strcmp(xn, yn);
}

static void cases_key(struct hlx_view_srcs *s);

/* Every list of the node as a source of views, in order, with the keys
 * their views depend on. */
int hlx_view_sources(struct hlx_view_ctx *c, struct hlx_view_srcs *s)
{
	char own[PATH_MAX * 2];
	int rc;

	s->c = c;
	rc = hlx_store_list_foreach(hlx_node_store(c->n), src_add, s);
	if (!rc)
		rc = s->rc;
	if (rc)
		return rc;
	/* names point into the records: set once the array stays put */
	if (s->n)
		qsort(s->v, s->n, sizeof(*s->v), src_order);
	for (size_t i = 0; i < s->n; i++)
		s->v[i].name = s->v[i].rec.name;
	/* the status view also depends on the hold tags of our lists */
	own[0] = '\0';
	for (size_t i = 0; i < s->n; i++)
		if (!strchr(s->v[i].name, '/') && !s->v[i].status) {
			uint8_t h[32];
			char hex[65];

			crypto_generichash(h, 32, (const uint8_t *)own, strlen(own),
					   NULL, 0);
			sodium_bin2hex(hex, sizeof(hex), h, 32);
			snprintf(own, sizeof(own), "%s %s", hex, s->v[i].key);
		}
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].status && !strchr(s->v[i].name, '/')) {
			uint8_t h[32];
			char hex[65];
			size_t kl = strlen(s->v[i].key);

			crypto_generichash(h, 32, (const uint8_t *)own, strlen(own),
					   NULL, 0);
			sodium_bin2hex(hex, sizeof(hex), h, 32);
			snprintf(s->v[i].key + kl, sizeof(s->v[i].key) - kl, " %s", hex);
		}
	cases_key(s);
	return HLX_OK;
}

/* The view of the cases log depends on every cases log held: the state
 * of a case decides what is withheld. */
static void cases_key(struct hlx_view_srcs *s)
{
	crypto_generichash_state st;
	uint8_t h[32];
	char hex[65];

	crypto_generichash_init(&st, NULL, 0, 32);
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].cases)
			crypto_generichash_update(&st, (const uint8_t *)s->v[i].key,
						  strlen(s->v[i].key) + 1);
	crypto_generichash_final(&st, h, 32);
	sodium_bin2hex(hex, sizeof(hex), h, 32);
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].cases && !strchr(s->v[i].name, '/')) {
			size_t kl = strlen(s->v[i].key);

			snprintf(s->v[i].key + kl, sizeof(s->v[i].key) - kl, " %s", hex);
		}
}

void hlx_view_sources_free(struct hlx_view_srcs *s)
{
	for (size_t i = 0; i < s->n; i++) {
		lines_free(&s->v[i].lines);
		lines_free(&s->v[i].diff);
	}
	free(s->v);
}

uint64_t hlx_view_weight(struct hlx_view_ctx *c, const struct hlx_policy *p,
			 const char *view, struct hlx_view_src *s)
{
	struct hlx_entry *e = malloc(sizeof(*e)), *eo = malloc(sizeof(*eo));
	char vname[HLX_NAME_MAX + 1], src[PATH_MAX];
	uint64_t w = 0;

	/* made before: from the list's changes, or found up to date */
	if (!e || !eo || s->status || s->cases ||
	    hlx_view_name(s->name, vname) != HLX_OK ||
	    hlx_node_path(c->n, HLX_HOME_VIEW_SRC, view, vname, src) != HLX_OK ||
	    access(src, F_OK) == 0 || load_source(c, s) != HLX_OK)
		goto out;
	for (size_t i = 0; i < s->lines.n; i += 64) {
		size_t len;
		const char *l = line_at(&s->lines, i, &len);

		if (hlx_entry_decode(l, len, e) == HLX_OK && hlx_policy_entry(p, e, eo))
			w += 64;
	}
out:
	hlx_err_clear();
	free(e);
	free(eo);
	return w;
}

int hlx_view_update(struct hlx_view_ctx *c, const struct hlx_policy *p,
		    const char *view, struct hlx_view_src *s,
		    struct hlx_view_made *out)
{
	struct hlx_view_lines want = { HLX_BUF_INIT, NULL, 0, 0 };
	struct hlx_hist *h = NULL;
	struct hlx_buf mb = HLX_BUF_INIT;
	struct view_mark m;
	char *vname = out->name, *repo = out->repo, *head = out->head;
	char src[PATH_MAX], sw[PATH_MAX], was[41];
	uint64_t version = 0;
	long ticket = -1;
	int rc, have, exists;

	rc = hlx_view_name(s->name, vname);
	if (!rc)
		rc = hlx_node_path(c->n, HLX_HOME_VIEW_REPO, view, vname, repo);
	if (!rc)
		rc = hlx_node_path(c->n, HLX_HOME_VIEW_SRC, view, vname, src);
	if (rc)
		goto out;
	hlx_policy_rules(p, &out->rules);
	if (strchr(s->name, '/'))
		hlx_rules_merge(&s->rules, &out->rules, &out->rules);
	/* a prune of the view that a crash interrupted is finished first */
	if (hlx_pathf(sw, "%s.swap", repo) == HLX_OK && access(sw, F_OK) == 0 &&
	    (rc = hlx_prune_replace_repo(repo)))
		goto out;
	rc = hlx_hist_open(repo, 1, &h);
	if (rc)
		goto out;
	have = mark_read(src, &m);
	exists = hlx_hist_head(h, head) == HLX_OK;
	hlx_err_clear();
	/* the view moved after the mark was written (a crash in between):
	 * trust neither shortcut, compare it whole */
	if (have && exists && strcmp(m.vhead, head) != 0)
		have = 0;
	if (have && exists && !strcmp(m.key, s->key)) {
		/* the view changes only when its source does */
		struct hlx_hist_version v;

		rc = hlx_hist_read_version(h, head, &v);
		version = v.version;
		goto mark;
	}
	/* an own list that moved on: from its changes alone */
	if (have && exists && m.count >= 0 && !s->status && !s->cases &&
	    !strchr(s->name, '/') &&
	    strcmp(m.commit, s->rec.head) != 0 &&
	    view_incremental(c, p, s, m.commit, h, repo, vname, &version, head,
			     &m.count) == HLX_OK)
		goto mark;
	hlx_err_clear();
	/* otherwise the whole list, compared with the view: as another view
	 * of the same lines made it, if one did */
	if (!exists)
		head[0] = '\0';
	memcpy(was, head, sizeof(was));
	if (hlx_view_twin_take(c, s, p, h, repo, head, &version, &m.count, &ticket))
		goto mark;
	if (c->par)
		pthread_mutex_lock(&c->par->mu);
	rc = load_source(c, s);
	if (c->par)
		pthread_mutex_unlock(&c->par->mu);
	if (!rc)
		rc = view_lines(c, p, s, &want);
	if (!rc)
		rc = view_commit(c, h, repo, vname, &want, p, s->cases ? 2 : s->status,
				 &version, head);
	m.count = (int64_t)want.n;
	hlx_view_twin_done(c, ticket, rc, strcmp(head, was) ? head : "", version,
			   m.count);
mark:
	/* its source was pruned: so is the view, down to its last version,
	 * so that what the prune removed is in no version of it either */
	if (!rc && s->ckpt[0] && strcmp(m.ckpt, s->ckpt) != 0) {
		if (version >= 2) {
			hlx_hist_free(h);
			h = NULL;
			rc = hlx_view_signing_key(c);
			if (!rc)
				rc = hlx_prune_repo(repo, hlx_home_org(hlx_node_home(c->n)),
						    vname, version, c->key, c->now, head);
		}
		memcpy(m.ckpt, s->ckpt, sizeof(m.ckpt));
	}
	if (!rc)
		rc = hlx_buf_printf(&mb, "%s\n%s\n%" PRId64 "\n%s\n%s\n", s->key,
				    s->rec.head, m.count, m.ckpt[0] ? m.ckpt : "-",
				    head);
	if (!rc)
		rc = hlx_file_write(src, mb.data, mb.len, 0600);
	if (!rc) {
		out->version = version;
		out->count = m.count > 0 ? (uint64_t)m.count : 0;
	}
out:
	lines_free(&want);
	hlx_hist_free(h);
	hlx_buf_free(&mb);
	return rc;
}

int hlx_view_preview(struct hlx_node *n, const struct hlx_policy *const *pols,
		     size_t npols, hlx_view_list_fn *list_cb,
		     hlx_view_line_fn *line_cb, void *ctx)
{
	struct hlx_view_ctx c = { n, 0, NULL, NULL, NULL, NULL, 0, NULL, NULL, 0 };
	struct hlx_view_srcs s = { &c, NULL, 0, 0 };
	int rc = hlx_view_sources(&c, &s);

	/* each list is read once, then seen through every policy */
	for (size_t k = 0; !rc && k < npols; k++) {
		const struct hlx_policy *p = pols[k];

		rc = hlx_view_check_names(p, s.v, s.n);

		for (size_t i = 0; !rc && i < s.n; i++) {
			struct hlx_view_src *x = &s.v[i];
			struct hlx_view_lines want = { HLX_BUF_INIT, NULL, 0, 0 };
			struct hlx_rules r;
			char vname[HLX_NAME_MAX + 1];

			if (!hlx_policy_list(p, x->name) ||
			    (strchr(x->name, '/') && !x->rules.onward))
				continue;
			hlx_policy_rules(p, &r);
			if (strchr(x->name, '/'))
				hlx_rules_merge(&x->rules, &r, &r);
			rc = hlx_view_name(x->name, vname);
			if (!rc)
				rc = load_source(&c, x);
			if (!rc)
				rc = view_lines(&c, p, x, &want);
			if (!rc && list_cb)
				rc = list_cb(ctx, k, vname, x->name, want.n, &r);
			for (size_t j = 0; !rc && line_cb && j < want.n; j++) {
				size_t len;
				const char *l = line_at(&want, j, &len);

				rc = line_cb(ctx, k, vname, x->status, l, len);
			}
			lines_free(&want);
		}
	}
	hlx_view_sources_free(&s);
	return rc;
}

/* ---- the cases log (spec/cases.md section 7.3) ---- */

struct case_hold {
	struct hlx_node *n;
	const struct hlx_policy *p;
	char *held;            /* per query */
};

static int case_hold_hit(void *ctx, size_t q, uint32_t list, const char *meta,
			 size_t metalen)
{
	struct case_hold *h = ctx;
	struct hlx_list_rec rec;
	struct hlx_entry e;
	struct hlx_buf line = HLX_BUF_INIT;
	int rc = hlx_store_list_by_id(hlx_node_store(h->n), list, &rec);

	if (rc || strchr(rec.name, '/') || hlx_list_kind(rec.name) != HLX_LIST_ENTRIES)
		return rc;
	/* the hash field does not matter for the tags: a placeholder */
	rc = hlx_buf_printf(&line, "md5:00000000000000000000000000000000\t%.*s\n",
			    (int)metalen, meta);
	if (!rc && hlx_entry_decode((char *)line.data, line.len, &e) == HLX_OK &&
	    hlx_policy_held(h->p, &e))
		h->held[q] = 1;
	hlx_buf_free(&line);
	return rc;
}

/* The organisations of the audience of p: its peers' chains' names. */
static int audience_orgs(struct hlx_view_ctx *c, const struct hlx_policy *p,
			 char (**orgs)[65], size_t *n)
{
	struct hlx_peers *ps = NULL;
	int rc = hlx_peers_load(hlx_home_dir(hlx_node_home(c->n)), &ps);

	*orgs = NULL;
	*n = 0;
	if (!rc && ps->n)
		*orgs = calloc(ps->n, sizeof(**orgs));
	if (!rc && ps->n && !*orgs)
		rc = hlx_err(HLX_ENOMEM, "out of memory");
	for (size_t i = 0; !rc && i < ps->n; i++) {
		const struct hlx_peer *pe = &ps->v[i];
		struct hlx_buf b = HLX_BUF_INIT;
		struct hlx_trust *t = NULL;
		char path[PATH_MAX];

		if (strcmp(pe->policy, hlx_policy_name(p)))
			continue;
		snprintf((*orgs)[*n], 65, "%s", pe->name);
		if (hlx_node_path(c->n, HLX_HOME_PEER_TRUST, pe->name, NULL, path) == HLX_OK &&
		    hlx_file_read(path, HLX_TRUST_MAX, &b) == HLX_OK &&
		    hlx_trust_load((char *)b.data, b.len, &pe->root, &t) == HLX_OK)
			snprintf((*orgs)[*n], 65, "%s", hlx_trust_org(t));
		hlx_trust_free(t);
		hlx_buf_free(&b);
		hlx_err_clear();
		(*n)++;
	}
	hlx_peers_free(ps);
	return rc;
}

static int may_see(const struct hlx_case_view *v, const char *org)
{
	if (!strcmp(org, v->srcs[v->owner.opening].org))
		return 1;
	for (unsigned i = 0; v->route->routed && i < v->route->nchain; i++)
		if (!strcmp(org, v->route->base[i]))
			return 1;
	return (v->route->le_by && !strcmp(org, v->route->le_by)) ||
	       (v->police_via && !strcmp(org, v->police_via));
}

struct case_seen {
	const char (*orgs)[65];
	size_t n;
	int withhold;
};

static int case_check(void *ctx, const struct hlx_case_view *v)
{
	struct case_seen *s = ctx;
	enum hlx_case_state st = v->owner.state;

	s->withhold = 0;
	if (st != HLX_CASE_REPORTED && st != HLX_CASE_ASSESSED &&
	    st != HLX_CASE_LE_HOLD && st != HLX_CASE_LE_CLEARED)
		return 0;
	for (size_t i = 0; i < s->n; i++)
		if (!may_see(v, s->orgs[i]))
			s->withhold = 1;
	return 0;
}

#define CASES_CHUNK 512

int hlx_view_cases(struct hlx_view_ctx *c, const struct hlx_policy *p,
		   const struct hlx_view_src *s, struct hlx_view_lines *out)
{
	struct hlx_case_line *l = malloc(sizeof(*l));
	struct hlx_hash *q = calloc(2 * CASES_CHUNK, sizeof(*q));
	const struct hlx_hash **qp = calloc(2 * CASES_CHUNK, sizeof(*qp));
	struct case_hold hold = { c->n, p, calloc(2 * CASES_CHUNK, 1) };
	struct case_seen seen = { NULL, 0, 0 };
	char (*orgs)[65] = NULL;
	struct hlx_cases *cs = NULL;
	int rc = l && q && qp && hold.held ? HLX_OK :
		 hlx_err(HLX_ENOMEM, "out of memory");

	if (!rc)
		rc = audience_orgs(c, p, &orgs, &seen.n);
	seen.orgs = (const char (*)[65])orgs;
	if (!rc)
		rc = hlx_cases_load(c->n, &cs);
	for (size_t at = 0; !rc && at < s->lines.n; at += CASES_CHUNK) {
		size_t m = s->lines.n - at < CASES_CHUNK ? s->lines.n - at :
			   CASES_CHUNK;

		/* the case ids and items, looked up at once for hold tags */
		memset(hold.held, 0, 2 * CASES_CHUNK);
		for (size_t i = 0; !rc && i < m; i++) {
			size_t len;
			const char *ln = line_at(&s->lines, at + i, &len);

			rc = hlx_case_decode(ln, len, l);
			q[2 * i] = l->id;
			q[2 * i + 1] = l->item.type ? l->item : l->id;
			qp[2 * i] = &q[2 * i];
			qp[2 * i + 1] = &q[2 * i + 1];
		}
		if (!rc)
			rc = hlx_store_lookup(hlx_node_store(c->n), qp, 2 * m,
					      case_hold_hit, &hold);
		for (size_t i = 0; !rc && i < m; i++) {
			size_t len;
			const char *ln = line_at(&s->lines, at + i, &len);
			int exists = 1;

			if (hold.held[2 * i] || hold.held[2 * i + 1])
				continue;
			seen.withhold = 0;
			rc = hlx_cases_get(cs, &q[2 * i], c->now, case_check, &seen);
			if (rc == HLX_ENOENT) {
				/* no report held: no state to hide */
				hlx_err_clear();
				rc = HLX_OK;
				exists = 0;
			}
			if (!rc && !(exists && seen.withhold))
				rc = lines_add(out, ln, len);
		}
	}
	hlx_cases_free(cs);
	free(orgs);
	free(l);
	free(q);
	free(qp);
	free(hold.held);
	return rc;
}
