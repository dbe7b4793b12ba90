/* SPDX-License-Identifier: MIT */
/*
 * Bringing the match index up to date: from the lists' history diffs
 * into the overlay, compacted into a new base when it grows, or built
 * afresh from every list.
 */
#include "node/match_int.h"
#include "protocol/err.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The lists of the node now, each checked against its history. */
struct cur_ctx {
	struct hlx_node *n;
	struct hlx_list_rec *v;
	size_t cnt, cap;
};

static int collect_name(void *ctx, const struct hlx_list_rec *l)
{
	struct cur_ctx *c = ctx;

	if (hlx_is_status_list(l->name) || hlx_is_cases_list(l->name))
		return 0; /* removal statuses and cases, not hashes to match */
	if (l->id == 0 || l->id > LISTS_MAX)
		return hlx_err(HLX_ESTORE, "list id %" PRIu32 " out of range", l->id);
	if (c->cnt == c->cap) {
		size_t nc = c->cap ? c->cap * 2 : 16;
		struct hlx_list_rec *p = realloc(c->v, nc * sizeof(*p));

		if (!p)
			return hlx_err(HLX_ENOMEM, "out of memory");
		c->v = p;
		c->cap = nc;
	}
	c->v[c->cnt++] = *l;
	return 0;
}

static int rec_id_cmp(const void *a, const void *b)
{
	const struct hlx_list_rec *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static int current_lists(struct hlx_matcher *m, struct cur_ctx *c)
{
	int rc;

	c->n = m->node;
	rc = hlx_store_list_foreach(hlx_node_store(m->node), collect_name, c);
	/* recover (or refuse) a list whose state and history disagree */
	for (size_t i = 0; !rc && i < c->cnt; i++) {
		char name[HLX_LIST_NAME_MAX + 1];

		memcpy(name, c->v[i].name, sizeof(name));
		rc = hlx_list_get(m->node, name, &c->v[i]);
	}
	if (!rc && c->cnt > 1)
		qsort(c->v, c->cnt, sizeof(*c->v), rec_id_cmp);
	return rc;
}

/* Settings and list records, by id, for the match calls. */
static int lists_set(struct hlx_matcher *m, const struct cur_ctx *c)
{
	struct hlx_match_conf_entry *e;
	struct lstate *ls;
	size_t ne, nl = c->cnt ? c->v[c->cnt - 1].id : 0;
	unsigned radius = 0;
	int rc;

	rc = hlx_match_conf_load(m->node, &e, &ne);
	if (rc)
		return rc;
	ls = calloc(nl ? nl : 1, sizeof(*ls));
	if (!ls) {
		free(e);
		return hlx_err(HLX_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < c->cnt; i++) {
		struct lstate *s = &ls[c->v[i].id - 1];
		const struct hlx_match_conf *f = hlx_match_conf_find(e, ne, c->v[i].name);

		s->rec = c->v[i];
		if (f)
			s->c = *f;
		else
			hlx_match_conf_init(&s->c);
		if (m->override >= 0)
			s->c.threshold = m->override;
		if ((unsigned)s->c.threshold > radius)
			radius = (unsigned)s->c.threshold;
	}
	if (c->cnt == 0)
		radius = m->override >= 0 ? (unsigned)m->override :
					    HLX_MATCH_THRESHOLD_DEFAULT;
	free(e);
	free(m->lists);
	m->lists = ls;
	m->nlists = nl;
	m->radius = radius;
	return HLX_OK;
}

/* Every PDQ hash of a version (for a fresh build). */
struct pdq_collect {
	struct hlx_buf hashes;
	struct hlx_hash *h;
	uint64_t lines;
	/* for diffs */
	struct hlx_matcher *m;
};

static int take_pdq(struct pdq_collect *c, const char *line, size_t len)
{
	const char *tab;
	int rc;

	c->lines++;
	if (len < 4 || memcmp(line, "pdq:", 4) != 0)
		return 0;
	tab = memchr(line, '\t', len);
	rc = hlx_hash_parse_canonical(line, tab ? (size_t)(tab - line) : len,
				      c->h);
	if (!rc && c->h->type != HLX_HASH_PDQ)
		rc = hlx_err(HLX_EINVAL, "not a pdq hash");
	if (rc)
		return hlx_err_wrap(HLX_EHISTORY, "history line");
	return hlx_buf_put(&c->hashes, c->h->bytes, HLX_PDQ_BYTES);
}

static int foreach_line(void *ctx, const char *line, size_t len)
{
	return take_pdq(ctx, line, len);
}

static int diff_line(void *ctx, const char *line, size_t len, int added)
{
	(void)added; /* whether it stays is the state's answer */
	return take_pdq(ctx, line, len);
}

static int lvers_from(const struct cur_ctx *c, struct lver **out)
{
	struct lver *v = calloc(c->cnt ? c->cnt : 1, sizeof(*v));

	if (!v)
		return hlx_err(HLX_ENOMEM, "out of memory");
	for (size_t i = 0; i < c->cnt; i++) {
		v[i].id = c->v[i].id;
		v[i].version = c->v[i].version;
		memcpy(v[i].head, c->v[i].head, sizeof(v[i].head));
	}
	*out = v;
	return HLX_OK;
}

/* A new base from an array of sorted unique hashes (taken over). */
static int base_adopt(struct hlx_matcher *m, uint8_t *hashes, size_t n,
		      const struct lver *l, size_t nl)
{
	double t0 = hlx_match_now();
	int rc;

	hlx_match_base_drop(m);
	m->owned = hashes;
	m->base = hashes;
	m->nbase = n;
	randombytes_buf(m->base_id, ID_LEN);
	rc = hlx_match_dead_alloc(m);
	if (!rc)
		rc = hlx_match_versions_set(m, l, nl);
	if (!rc) {
		m->base_dirty = 1; /* written at the end of the refresh */
		m->delta_dirty = 0;
		m->have_base = 1;
		/* its search tables, built now and written beside it at the
		 * end of the refresh, so that every process opening it maps
		 * them instead of building its own; if they cannot be made
		 * now, the first pdq query tries */
		if (hlx_match_ensure_tables(m) != HLX_OK)
			hlx_err_clear();
	}
	m->st.load_seconds += hlx_match_now() - t0;
	return rc;
}

static int full_build(struct hlx_matcher *m, const struct cur_ctx *c)
{
	struct pdq_collect pc = { .hashes = HLX_BUF_INIT };
	struct lver *l = NULL;
	uint8_t *arr;
	size_t n;
	int rc;

	pc.h = malloc(sizeof(*pc.h));
	rc = pc.h ? lvers_from(c, &l) : hlx_err(HLX_ENOMEM, "out of memory");
	for (size_t i = 0; !rc && i < c->cnt; i++) {
		struct hlx_hist *h = NULL;

		if (!c->v[i].version)
			continue;
		rc = hlx_list_open_hist(m->node, c->v[i].name, &h);
		if (!rc)
			rc = hlx_hist_foreach(h, c->v[i].head, foreach_line, &pc);
		if (rc)
			rc = hlx_err_wrap(rc, "list '%s'", c->v[i].name);
		hlx_hist_free(h);
	}
	if (rc)
		goto out;
	n = hlx_match_sort_unique(pc.hashes.data, pc.hashes.len / HLX_PDQ_BYTES);
	/* take the buffer's memory over */
	arr = pc.hashes.data;
	pc.hashes.data = NULL;
	pc.hashes.len = pc.hashes.cap = 0;
	if (!arr) {
		arr = malloc(1);
		if (!arr) {
			rc = hlx_err(HLX_ENOMEM, "out of memory");
			goto out;
		}
	}
	rc = base_adopt(m, arr, n, l, c->cnt);
	m->st.rebuilt = 1;
	m->st.diff_lines += pc.lines;
	m->st.pdq_added += n;
out:
	hlx_buf_free(&pc.hashes);
	free(pc.h);
	free(l);
	return rc;
}

static const struct lver *ver_find(const struct hlx_matcher *m, uint32_t id)
{
	size_t lo = 0, hi = m->nver;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->ver[mid].id == id)
			return &m->ver[mid];
		if (m->ver[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int exists_cb(void *ctx, size_t query, uint32_t list, const char *meta,
		     size_t metalen)
{
	(void)list;
	(void)meta;
	(void)metalen;
	((uint8_t *)ctx)[query] = 1;
	return 0;
}

/* Which of n hashes some list of the state holds. */
static int state_has(struct hlx_matcher *m, const uint8_t *a, size_t n,
		     uint8_t *present)
{
	struct hlx_hash *hs = NULL;
	const struct hlx_hash **hp = NULL;
	size_t b = n < LOOKUP_BATCH ? n : LOOKUP_BATCH;
	int rc = HLX_OK;

	memset(present, 0, n);
	if (!n)
		return HLX_OK;
	hs = malloc(b * sizeof(*hs));
	hp = malloc(b * sizeof(*hp));
	if (!hs || !hp)
		rc = hlx_err(HLX_ENOMEM, "out of memory");
	for (size_t i = 0; !rc && i < n; i += b) {
		size_t k = n - i < b ? n - i : b;

		for (size_t j = 0; j < k; j++) {
			hs[j].type = HLX_HASH_PDQ;
			hs[j].len = HLX_PDQ_BYTES;
			memcpy(hs[j].bytes, a + (i + j) * HLX_PDQ_BYTES,
			       HLX_PDQ_BYTES);
			hp[j] = &hs[j];
		}
		rc = hlx_store_lookup(hlx_node_store(m->node), hp, k, exists_cb,
				      present + i);
	}
	free(hs);
	free(hp);
	return rc;
}

/* Apply the touched hashes (sorted, unique) with what the state holds. */
static int overlay_apply(struct hlx_matcher *m, const uint8_t *t, size_t n,
			 const uint8_t *present, int *changed)
{
	struct hlx_buf next = HLX_BUF_INIT;
	size_t ai = 0;
	int rc = HLX_OK;

	*changed = 0;
	/* merge the sorted overlay with the sorted touched hashes */
	for (size_t i = 0; i < n && !rc; i++) {
		const uint8_t *h = t + i * HLX_PDQ_BYTES;
		ptrdiff_t k = hlx_match_find32(m->base, m->nbase, h);
		int in_add;

		while (ai < m->nadd &&
		       memcmp(m->add + ai * HLX_PDQ_BYTES, h,
			      HLX_PDQ_BYTES) < 0) {
			rc = hlx_buf_put(&next, m->add + ai * HLX_PDQ_BYTES,
					 HLX_PDQ_BYTES);
			ai++;
		}
		in_add = ai < m->nadd &&
			 !memcmp(m->add + ai * HLX_PDQ_BYTES, h, HLX_PDQ_BYTES);
		if (in_add)
			ai++;
		if (k >= 0) {
			if (hlx_match_is_dead(m, (size_t)k) == !!present[i]) {
				hlx_match_set_dead(m, (size_t)k, !present[i]);
				*changed = 1;
				if (present[i])
					m->st.pdq_added++;
				else
					m->st.pdq_removed++;
			}
		} else if (present[i]) {
			if (!rc)
				rc = hlx_buf_put(&next, h, HLX_PDQ_BYTES);
			if (!in_add) {
				*changed = 1;
				m->st.pdq_added++;
			}
		} else if (in_add) {
			*changed = 1;
			m->st.pdq_removed++;
		}
	}
	if (!rc && ai < m->nadd)
		rc = hlx_buf_put(&next, m->add + ai * HLX_PDQ_BYTES,
				 (m->nadd - ai) * HLX_PDQ_BYTES);
	if (!rc && *changed) {
		uint8_t *a = next.data ? next.data : malloc(1);

		if (!a) {
			rc = hlx_err(HLX_ENOMEM, "out of memory");
		} else {
			free(m->add);
			m->add = a;
			m->nadd = next.len / HLX_PDQ_BYTES;
			next.data = NULL;
		}
	}
	hlx_buf_free(&next);
	return rc;
}

/* Merge the overlay into a new base. */
static int compact(struct hlx_matcher *m, const struct lver *l, size_t nl)
{
	size_t n = m->nbase - m->ndead + m->nadd, w = 0, i = 0, j = 0;
	uint8_t *a = malloc(n ? n * HLX_PDQ_BYTES : 1);

	if (!a)
		return hlx_err(HLX_ENOMEM, "out of memory");
	while (i < m->nbase || j < m->nadd) {
		const uint8_t *x = NULL;

		if (i < m->nbase && hlx_match_is_dead(m, i)) {
			i++;
			continue;
		}
		if (j >= m->nadd ||
		    (i < m->nbase && memcmp(m->base + i * HLX_PDQ_BYTES,
					    m->add + j * HLX_PDQ_BYTES,
					    HLX_PDQ_BYTES) < 0))
			x = m->base + i++ * HLX_PDQ_BYTES;
		else
			x = m->add + j++ * HLX_PDQ_BYTES;
		memcpy(a + w++ * HLX_PDQ_BYTES, x, HLX_PDQ_BYTES);
	}
	m->st.compacted = 1;
	return base_adopt(m, a, w, l, nl);
}

/* A list the index knows that is gone (noted): start afresh. */
static int list_gone(struct hlx_matcher *m, const struct cur_ctx *c)
{
	for (size_t i = 0, k = 0; i < m->nver; i++) {
		while (k < c->cnt && c->v[k].id < m->ver[i].id)
			k++;
		if (k == c->cnt || c->v[k].id != m->ver[i].id) {
			snprintf(m->st.note, sizeof(m->st.note),
				 "list %" PRIu32 " is gone: rebuilt", m->ver[i].id);
			return 1;
		}
	}
	return 0;
}

/* The PDQ lines of each list's diff since the version indexed, into pc
 * (*vchanged: some list moved).  A list whose indexed version is gone
 * (went back to 0, or not in its history any more) has the index rebuilt
 * instead (*rebuilt). */
static int collect_diffs(struct hlx_matcher *m, const struct cur_ctx *c,
			 struct pdq_collect *pc, int *vchanged, int *rebuilt)
{
	int rc = HLX_OK;

	for (size_t i = 0; i < c->cnt && !rc; i++) {
		const struct lver *v = ver_find(m, c->v[i].id);
		const char *old = v && v->head[0] ? v->head : NULL;
		struct hlx_hist *h = NULL;

		if (v ? !strcmp(v->head, c->v[i].head) : !c->v[i].version)
			continue;
		*vchanged = 1;
		m->st.lists_changed++;
		if (!c->v[i].version) {
			snprintf(m->st.note, sizeof(m->st.note),
				 "list '%.64s' went back to version 0: rebuilt",
				 c->v[i].name);
			*rebuilt = 1;
			return full_build(m, c);
		}
		rc = hlx_list_open_hist(m->node, c->v[i].name, &h);
		if (!rc)
			rc = hlx_hist_diff(h, old, c->v[i].head, diff_line, pc);
		hlx_hist_free(h);
		if (rc == HLX_ENOENT) {
			/* the indexed version is not in the history any more */
			snprintf(m->st.note, sizeof(m->st.note),
				 "list '%.64s': indexed version unknown: rebuilt",
				 c->v[i].name);
			*rebuilt = 1;
			return full_build(m, c);
		}
		if (rc)
			rc = hlx_err_wrap(rc, "list '%s'", c->v[i].name);
	}
	return rc;
}

/* The collected hashes applied to the overlay (as the state now has them
 * or not), and the overlay written; or, grown too large, compacted into a
 * new base. */
static int apply_diffs(struct hlx_matcher *m, const struct cur_ctx *c,
		       struct pdq_collect *pc)
{
	struct lver *l = NULL;
	uint8_t *present = NULL;
	int rc, changed = 0;
	size_t n = hlx_match_sort_unique(pc->hashes.data,
					 pc->hashes.len / HLX_PDQ_BYTES);

	present = malloc(n ? n : 1);
	rc = present ? state_has(m, pc->hashes.data, n, present) :
		       hlx_err(HLX_ENOMEM, "out of memory");
	if (!rc)
		rc = overlay_apply(m, pc->hashes.data, n, present, &changed);
	if (!rc)
		rc = lvers_from(c, &l);
	if (rc)
		goto out;
	if (m->nadd + m->ndead > m->compact_min &&
	    m->nadd + m->ndead > m->nbase / 16) {
		rc = compact(m, l, c->cnt);
		goto out;
	}
	rc = hlx_match_versions_set(m, l, c->cnt);
	if (!rc && changed) {
		hlx_pdqidx_free(m->didx); /* rebuilt on demand */
		m->didx = NULL;
	}
	if (!rc)
		m->delta_dirty = 1; /* written at the end of the refresh */
out:
	free(present);
	free(l);
	return rc;
}

static int same_lists(const struct cur_ctx *a, const struct cur_ctx *b)
{
	if (a->cnt != b->cnt)
		return 0;
	for (size_t i = 0; i < a->cnt; i++)
		if (a->v[i].id != b->v[i].id || a->v[i].version != b->v[i].version ||
		    strcmp(a->v[i].head, b->v[i].head))
			return 0;
	return 1;
}

/* Write the files of what the refresh changed that are dirty (named, or
 * unnamed): HLX_EUNSUPPORTED when unnamed files cannot be made here. */
static int prepare(struct hlx_matcher *m, int named,
		   struct hlx_match_pending *base, struct hlx_match_pending *tables,
		   struct hlx_match_pending *delta)
{
	int rc = HLX_OK, rd = HLX_OK;

	if (m->base_dirty) {
		rc = hlx_match_prepare_base(m, named, base);
		if (!rc)
			rc = hlx_match_prepare_tables(m, named, tables);
	}
	/* an overlay only ever beside the base it names */
	if (rc != HLX_EUNSUPPORTED && m->delta_dirty &&
	    (!m->base_dirty || base->ready))
		rd = hlx_match_prepare_delta(m, named, delta);
	hlx_err_clear();
	return rc == HLX_EUNSUPPORTED || rd == HLX_EUNSUPPORTED ?
	       HLX_EUNSUPPORTED : HLX_OK;
}

/* Write what the refresh changed: first unnamed (O_TMPFILE), without the
 * node's writer lock (at 10M hashes a new base and its tables take some
 * 10 s to write, and writers do not wait for that); then, under the lock
 * and only if the lists are still those it read (c), put in place: a
 * writer may have removed a list, or purged entries, since, and its index
 * must not come back.  An unnamed file leaves nothing behind when it is
 * dropped, or when this process dies.  Where the file system has no
 * unnamed files, the files are written under the lock, once the lists are
 * checked.  The lock is taken without waiting (a reader never delays a
 * writer for longer than the renames); without it the index stays in
 * memory, dirty, and the status note says why. */
static void persist(struct hlx_matcher *m, const struct cur_ctx *c)
{
	struct hlx_match_pending base = { .ready = 0 }, tables = { .ready = 0 },
				 delta = { .ready = 0 };
	struct cur_ctx now = { 0 };
	int fd, same, named;

	named = prepare(m, 0, &base, &tables, &delta) == HLX_EUNSUPPORTED;
	if (named) {
		hlx_match_pending_abort(&base);
		hlx_match_pending_abort(&tables);
		hlx_match_pending_abort(&delta);
	} else if (!base.ready && !delta.ready) {
		goto out; /* nothing written: noted */
	}
	if (!hlx_match_trylock(m, &fd)) {
		hlx_match_note(m, "index not written: another process holds the "
			       "node's writer lock (kept in memory)");
		goto out;
	}
	same = current_lists(m, &now) == HLX_OK && same_lists(c, &now);
	hlx_err_clear();
	if (!same) {
		hlx_match_note(m, "index not written: the lists changed while it "
			       "was read (kept in memory)");
	} else {
		if (named)
			(void)prepare(m, 1, &base, &tables, &delta);
		hlx_match_commit_base(m, &base);
		if (!m->base_dirty) {
			hlx_match_commit_tables(m, &tables);
			hlx_match_commit_delta(m, &delta);
		}
	}
	hlx_match_unlock(m, fd);
out:
	hlx_match_pending_abort(&base);
	hlx_match_pending_abort(&tables);
	hlx_match_pending_abort(&delta);
	free(now.v);
}

/* Bring the index up to the lists: a full build when asked for, when
 * there is none or when a list it knows is gone; else the diffs of the
 * lists that moved, applied to the overlay. */
static int refresh_locked(struct hlx_matcher *m, int rebuild)
{
	struct cur_ctx c = { 0 };
	struct pdq_collect pc = { .hashes = HLX_BUF_INIT };
	double t0 = hlx_match_now();
	int rc, vchanged = 0, rebuilt = 0;

	m->st.rebuilt = m->st.compacted = 0;
	m->st.lists_changed = m->st.diff_lines = 0;
	m->st.pdq_added = m->st.pdq_removed = 0;
	pthread_mutex_lock(&m->store_lock);
	rc = current_lists(m, &c);
	if (!rc)
		rc = lists_set(m, &c);
	if (rc)
		goto out;
	if (!m->have_base || rebuild) {
		if (rebuild)
			snprintf(m->st.note, sizeof(m->st.note), "rebuild asked for");
		rc = full_build(m, &c);
		m->st.lists_changed = c.cnt;
		goto out;
	}
	if (list_gone(m, &c)) {
		rc = full_build(m, &c);
		goto out;
	}
	pc.h = malloc(sizeof(*pc.h));
	if (!pc.h) {
		rc = hlx_err(HLX_ENOMEM, "out of memory");
		goto out;
	}
	rc = collect_diffs(m, &c, &pc, &vchanged, &rebuilt);
	if (rebuilt)
		goto out;
	m->st.diff_lines = pc.lines;
	if (!rc && vchanged)
		rc = apply_diffs(m, &c, &pc);
out:
	if (!rc && (m->base_dirty || m->delta_dirty))
		persist(m, &c); /* reads the lists again: under store_lock */
	pthread_mutex_unlock(&m->store_lock);
	m->st.lists = m->nver;
	m->st.base = m->nbase;
	m->st.added = m->nadd;
	m->st.removed = m->ndead;
	m->st.refresh_seconds = hlx_match_now() - t0;
	free(pc.h);
	hlx_buf_free(&pc.hashes);
	free(c.v);
	return rc;
}

int hlx_match_do_refresh(struct hlx_matcher *m, int rebuild,
		      struct hlx_match_status *st)
{
	int rc;

	pthread_rwlock_wrlock(&m->lock);
	m->st.note[0] = '\0';
	rc = refresh_locked(m, rebuild);
	if (rc) {
		/* never answer from a half-updated index */
		hlx_match_base_drop(m);
		free(m->ver);
		m->ver = NULL;
		m->nver = 0;
	}
	pthread_rwlock_unlock(&m->lock);
	if (st)
		hlx_matcher_status(m, st);
	return rc;
}

int hlx_matcher_refresh(struct hlx_matcher *m, struct hlx_match_status *st)
{
	return hlx_match_do_refresh(m, 0, st);
}

int hlx_matcher_rebuild(struct hlx_matcher *m, struct hlx_match_status *st)
{
	return hlx_match_do_refresh(m, 1, st);
}
