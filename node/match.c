/* SPDX-License-Identifier: MIT */
/*
 * The node's matcher (spec/match.md): its life (open, prepare, status,
 * free) and the match calls.  Settings are in match_conf.c, the index
 * and its files in match_index.c, its refresh in match_refresh.c.
 */
#include "node/match_int.h"
#include "protocol/err.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void hlx_matcher_free(struct hlx_matcher *m)
{
	if (!m)
		return;
	hlx_match_base_drop(m);
	free(m->ver);
	free(m->lists);
	pthread_rwlock_destroy(&m->lock);
	pthread_mutex_destroy(&m->store_lock);
	pthread_mutex_destroy(&m->build_lock);
	free(m);
}

int hlx_match_ensure_tables(struct hlx_matcher *m)
{
	double t0;
	int rc = HLX_OK;

	pthread_mutex_lock(&m->build_lock);
	t0 = hlx_match_now();
	if (m->have_base && !m->bidx)
		rc = hlx_match_base_tables(m);
	if (!rc && m->have_base && m->nadd && !m->didx)
		rc = hlx_pdqidx_build(m->add, m->nadd, m->threads, &m->didx);
	m->build_seconds += hlx_match_now() - t0;
	pthread_mutex_unlock(&m->build_lock);
	return rc;
}

int hlx_matcher_prepare(struct hlx_matcher *m)
{
	int rc;

	pthread_rwlock_rdlock(&m->lock);
	rc = m->have_base ? hlx_match_ensure_tables(m) :
			    hlx_err(HLX_ESTATE, "the match index is not usable: refresh it");
	pthread_rwlock_unlock(&m->lock);
	return rc;
}

void hlx_matcher_status(struct hlx_matcher *m, struct hlx_match_status *st)
{
	pthread_rwlock_rdlock(&m->lock);
	*st = m->st;
	pthread_mutex_lock(&m->build_lock);
	st->tables = m->bidx != NULL;
	st->tables_shared = hlx_pdqidx_borrowed(m->bidx);
	st->build_seconds = m->build_seconds;
	st->write_seconds = m->write_seconds;
	/* the tables are built by the first pdq query: count them as they
	 * will be, so that 'match status' and 'match --stats' agree */
	st->memory = (m->bidx ? hlx_pdqidx_memory(m->bidx) :
		      m->have_base ? hlx_pdqidx_memory_for(m->nbase) : 0) +
		     (m->didx ? hlx_pdqidx_memory(m->didx) :
		      m->have_base && m->nadd ? hlx_pdqidx_memory_for(m->nadd) : 0) +
		     (m->dead ? m->nbase / 8 + 1 : 0);
	pthread_mutex_unlock(&m->build_lock);
	pthread_rwlock_unlock(&m->lock);
	st->queries = atomic_load(&m->queries);
	st->pdq_queries = atomic_load(&m->pdq_queries);
	st->matches = atomic_load(&m->matches);
	st->scanned = atomic_load(&m->scanned);
}

int hlx_matcher_open(struct hlx_node *n, const struct hlx_match_opts *o,
		     struct hlx_matcher **out)
{
	struct hlx_matcher *m;
	double t0 = hlx_match_now();
	long cpus;
	int rc;

	*out = NULL;
	if (o && (o->threshold < -1 || o->threshold > HLX_MATCH_THRESHOLD_MAX))
		return hlx_err(HLX_EINVAL, "threshold %d is not in 0..%d",
			       o->threshold, HLX_MATCH_THRESHOLD_MAX);
	m = calloc(1, sizeof(*m));
	if (!m)
		return hlx_err(HLX_ENOMEM, "out of memory");
	if (pthread_rwlock_init(&m->lock, NULL) != 0) {
		free(m);
		return hlx_err(HLX_ENOMEM, "cannot create a lock");
	}
	if (pthread_mutex_init(&m->store_lock, NULL) != 0) {
		pthread_rwlock_destroy(&m->lock);
		free(m);
		return hlx_err(HLX_ENOMEM, "cannot create a lock");
	}
	if (pthread_mutex_init(&m->build_lock, NULL) != 0) {
		pthread_mutex_destroy(&m->store_lock);
		pthread_rwlock_destroy(&m->lock);
		free(m);
		return hlx_err(HLX_ENOMEM, "cannot create a lock");
	}
	m->node = n;
	m->override = o ? o->threshold : -1;
	m->compact_min = o && o->compact_min ? o->compact_min : COMPACT_MIN;
	cpus = sysconf(_SC_NPROCESSORS_ONLN);
	m->threads = o && o->threads ? o->threads :
		     cpus > 0 ? (unsigned)cpus : 1;
	if (m->threads > HLX_MATCH_THREADS_MAX)
		m->threads = HLX_MATCH_THREADS_MAX;
	atomic_init(&m->queries, 0);
	atomic_init(&m->pdq_queries, 0);
	atomic_init(&m->matches, 0);
	atomic_init(&m->scanned, 0);
	atomic_init(&m->window, WINDOW_MAX);
	rc = hlx_match_dir(n, m->dir, 1);
	if (rc)
		goto fail;
	hlx_match_clean_temporaries(m->dir);
	if (!o || !o->rebuild) {
		rc = hlx_match_load_files(m);
		m->st.load_seconds = hlx_match_now() - t0;
		if (rc == HLX_OK) {
			m->st.loaded = 1;
		} else {
			if (rc != HLX_ENOENT)
				snprintf(m->st.note, sizeof(m->st.note),
					 "index not usable (%.100s): rebuilt",
					 hlx_err_detail());
			hlx_match_base_drop(m);
			free(m->ver);
			m->ver = NULL;
			m->nver = 0;
		}
	}
	{
		char note[sizeof(m->st.note)];

		memcpy(note, m->st.note, sizeof(note));
		rc = hlx_match_do_refresh(m, o && o->rebuild, NULL);
		if (!m->st.note[0])
			memcpy(m->st.note, note, sizeof(note));
	}
	if (rc)
		goto fail;
	*out = m;
	return HLX_OK;
fail:
	hlx_matcher_free(m);
	return rc;
}

/* ---- matching ----------------------------------------------------------- */

struct item {
	uint32_t q;          /* query index */
	uint32_t dist;
	const uint8_t *hash; /* the stored hash (a query's, base's, overlay's) */
	enum hlx_hash_type type;
	uint32_t len;
};

struct row {
	uint32_t item;
	uint32_t list;
	uint32_t meta; /* offset in the arena */
	uint32_t metalen;
};

struct mctx {
	struct hlx_matcher *m;
	const struct hlx_hash *const *q;
	hlx_match_fn cb;
	void *ctx;
	struct item *items;
	size_t nitems, capitems;
	struct row *rows;
	size_t nrows, caprows, item_base;
	struct hlx_buf arena;
	struct hlx_hash *hs;        /* nhs: as many as the largest lookup */
	const struct hlx_hash **hp;
	size_t nhs;
	struct hlx_buf status;       /* the item's status records, JSON */
	struct hlx_status st;        /* scratch for decoding them */
	uint8_t *allowed;           /* per item of a group */
	size_t nallowed;
	uint64_t matches;
};

static int item_cmp(const void *a, const void *b)
{
	const struct item *x = a, *y = b;
	int c;

	if (x->q != y->q)
		return x->q < y->q ? -1 : 1;
	if (x->dist != y->dist)
		return x->dist < y->dist ? -1 : 1;
	c = memcmp(x->hash, y->hash, x->len < y->len ? x->len : y->len);
	return c ? c : x->len < y->len ? -1 : x->len > y->len;
}

static int item_push(struct mctx *c, uint32_t q, uint32_t d, const uint8_t *h,
		     enum hlx_hash_type t, size_t len)
{
	if (c->nitems == c->capitems) {
		size_t nc = c->capitems ? c->capitems * 2 : 1024;
		struct item *p = realloc(c->items, nc * sizeof(*p));

		if (!p)
			return hlx_err(HLX_ENOMEM, "out of memory");
		c->items = p;
		c->capitems = nc;
	}
	c->items[c->nitems++] = (struct item){ q, d, h, t, (uint32_t)len };
	return HLX_OK;
}

static int row_cb(void *ctx, size_t query, uint32_t list, const char *meta,
		  size_t metalen)
{
	struct mctx *c = ctx;
	size_t off = c->arena.len;
	int rc;

	if (c->nrows == c->caprows) {
		size_t nc = c->caprows ? c->caprows * 2 : 1024;
		struct row *p = realloc(c->rows, nc * sizeof(*p));

		if (!p)
			return hlx_err(HLX_ENOMEM, "out of memory");
		c->rows = p;
		c->caprows = nc;
	}
	if (off > UINT32_MAX - metalen)
		return hlx_err(HLX_ETOOBIG, "too many matches at once");
	rc = hlx_buf_put(&c->arena, meta, metalen);
	if (rc)
		return rc;
	c->rows[c->nrows++] = (struct row){ (uint32_t)(c->item_base + query),
					    list, (uint32_t)off,
					    (uint32_t)metalen };
	return 0;
}

/* The state's entries of items [a, b), appended to c->rows. */
static int lookup_items(struct mctx *c, size_t a, size_t b)
{
	int rc = HLX_OK;

	for (size_t i = a; i < b && !rc; i += LOOKUP_BATCH) {
		size_t k = b - i < LOOKUP_BATCH ? b - i : LOOKUP_BATCH;

		for (size_t j = 0; j < k; j++) {
			const struct item *it = &c->items[i + j];

			c->hs[j].type = it->type;
			c->hs[j].len = it->len;
			memcpy(c->hs[j].bytes, it->hash, it->len);
			c->hp[j] = &c->hs[j];
		}
		c->item_base = i;
		/* safe from several threads at once (node/store.h) */
		rc = hlx_store_lookup(hlx_node_store(c->m->node), c->hp, k,
				      row_cb, c);
	}
	return rc;
}

static const struct lstate *list_of(struct mctx *c, uint32_t id,
				    struct lstate *tmp)
{
	const struct hlx_matcher *m = c->m;
	int rc;

	if (id && id <= m->nlists && m->lists[id - 1].rec.name[0])
		return &m->lists[id - 1];
	/* a list made after the last refresh: default settings */
	pthread_mutex_lock(&c->m->store_lock);
	rc = hlx_store_list_by_id(hlx_node_store(m->node), id, &tmp->rec);
	pthread_mutex_unlock(&c->m->store_lock);
	if (rc)
		return NULL;
	hlx_match_conf_init(&tmp->c);
	if (m->override >= 0)
		tmp->c.threshold = m->override;
	return tmp;
}

/* The removal-status records among the rows of the item of rows[k] (its
 * rows run up to at most end), as a JSON array in c->status ("" if none). */
static int item_status(struct mctx *c, size_t k, size_t end)
{
	struct hlx_status *st = &c->st;
	struct lstate tmp;
	size_t item = c->rows[k].item;
	int rc = HLX_OK, n = 0;

	hlx_buf_reset(&c->status);
	for (; k < end && c->rows[k].item == item && !rc; k++) {
		const struct row *w = &c->rows[k];
		const struct lstate *l = list_of(c, w->list, &tmp);
		const struct item *it = &c->items[item];
		struct hlx_buf line = HLX_BUF_INIT;
		char text[HLX_HASH_TEXT_MAX];

		if (!l || !hlx_is_status_list(l->rec.name))
			continue;
		c->hs[1].type = it->type;
		c->hs[1].len = it->len;
		memcpy(c->hs[1].bytes, it->hash, it->len);
		rc = hlx_hash_format(&c->hs[1], text, sizeof(text));
		if (!rc)
			rc = hlx_buf_printf(&line, "%s\t%.*s\n", text, (int)w->metalen,
					    (const char *)c->arena.data + w->meta);
		if (!rc)
			rc = hlx_status_decode((char *)line.data, line.len, st);
		hlx_buf_free(&line);
		if (rc) {
			rc = hlx_err_wrap(HLX_ESTORE, "status record of '%s'", text);
			break;
		}
		/* tokens and fixed forms only: no escaping needed */
		rc = hlx_buf_printf(&c->status, "%s{\"origin\":\"%s\",\"state\":\"%s\"",
				    n++ ? "," : "[", l->rec.owner,
				    hlx_state_name(st->state));
		if (!rc && st->country[0])
			rc = hlx_buf_printf(&c->status, ",\"country\":\"%s\"",
					    st->country);
		if (!rc) {
			char t1[HLX_TIME_TEXT], t2[HLX_TIME_TEXT];

			hlx_time_format(st->reported, t1);
			hlx_time_format(st->changed, t2);
			rc = hlx_buf_printf(&c->status,
					    ",\"reported\":\"%s\",\"changed\":\"%s\"}",
					    t1, t2);
		}
	}
	if (!rc && n)
		rc = hlx_buf_putc(&c->status, ']');
	return rc;
}

/* Apply the allow-lists and thresholds to the rows of items [a, b) (all
 * of whole queries) and report what remains. */
static int emit(struct mctx *c, size_t a, size_t b)
{
	struct lstate tmp;
	size_t r0 = 0;
	int rc = HLX_OK;

	memset(c->allowed, 0, b - a);
	while (r0 < c->nrows && !rc) {
		uint32_t q = c->items[c->rows[r0].item].q;
		unsigned allow_min = UINT32_MAX;
		size_t r1 = r0;

		/* the rows of one query: find its allow-listed hashes */
		for (; r1 < c->nrows && c->items[c->rows[r1].item].q == q;
		     r1++) {
			const struct row *w = &c->rows[r1];
			const struct item *it = &c->items[w->item];
			const struct lstate *l = list_of(c, w->list, &tmp);

			if (!l || !l->c.allow)
				continue;
			c->allowed[w->item - a] = 1;
			if (it->dist <= (unsigned)l->c.threshold &&
			    it->dist < allow_min)
				allow_min = it->dist;
		}
		for (size_t k = r0; k < r1 && !rc; k++) {
			const struct row *w = &c->rows[k];
			const struct item *it = &c->items[w->item];
			const struct lstate *l;
			struct hlx_match mt;

			if (k == r0 || c->rows[k - 1].item != w->item)
				rc = item_status(c, k, r1);
			if (rc)
				break;
			struct hlx_hash *h = &c->hs[0];
			char text[HLX_HASH_TEXT_MAX], cat[HLX_TOKEN_MAX + 1];
			const char *fields, *tab;
			size_t clen;

			if (c->allowed[w->item - a] || it->dist > allow_min)
				continue;
			l = list_of(c, w->list, &tmp);
			if (!l) {
				rc = hlx_err(HLX_ESTORE, "entry of unknown list %" PRIu32,
					     w->list);
				break;
			}
			if (hlx_is_status_list(l->rec.name))
				continue; /* a record, given with the matches */
			if (it->type == HLX_HASH_PDQ &&
			    it->dist > (unsigned)l->c.threshold)
				continue;
			h->type = it->type;
			h->len = it->len;
			memcpy(h->bytes, it->hash, it->len);
			fields = (const char *)c->arena.data + w->meta;
			tab = memchr(fields, '\t', w->metalen);
			clen = tab ? (size_t)(tab - fields) : w->metalen;
			if (clen == 1 && fields[0] == '-') {
				cat[0] = '\0';
			} else if (clen <= HLX_TOKEN_MAX &&
				   hlx_entry_token_check(fields, clen, "category") ==
				   HLX_OK) {
				memcpy(cat, fields, clen);
				cat[clen] = '\0';
			} else {
				rc = hlx_hash_format(h, text, sizeof(text));
				rc = hlx_err(HLX_ESTORE, "stored entry '%s': bad category",
					     rc ? "?" : text);
				break;
			}
			mt.hash = h;
			mt.category = cat;
			mt.fields = fields;
			mt.fields_len = w->metalen;
			mt.query = it->q;
			mt.distance = it->dist;
			mt.list = &l->rec;
			mt.status = c->status.len ? (const char *)c->status.data : NULL;
			mt.status_len = c->status.len;
			c->matches++;
			rc = c->cb(c->ctx, &mt);
		}
		r0 = r1;
	}
	return rc;
}

int hlx_match_entry(const struct hlx_match *m, struct hlx_entry *e)
{
	struct hlx_buf line = HLX_BUF_INIT;
	char text[HLX_HASH_TEXT_MAX];
	int rc;

	rc = hlx_hash_format(m->hash, text, sizeof(text));
	if (rc)
		return rc;
	rc = hlx_buf_puts(&line, text);
	if (!rc)
		rc = hlx_buf_putc(&line, '\t');
	if (!rc)
		rc = hlx_buf_put(&line, m->fields, m->fields_len);
	if (!rc)
		rc = hlx_buf_putc(&line, '\n');
	if (!rc)
		rc = hlx_entry_decode((const char *)line.data, line.len, e);
	if (rc)
		rc = hlx_err_wrap(HLX_ESTORE, "stored entry '%s'", text);
	hlx_buf_free(&line);
	return rc;
}

/*
 * Room for a group of n items: hs and hp for its lookups (at most
 * LOOKUP_BATCH at once, and at least 2: emit and item_status use hs[0]
 * and hs[1]), allowed for each of its items.  Sized to what a call needs,
 * since a struct hlx_hash is over 1 KiB: a call of one query must not
 * allocate and fault in megabytes.
 */
static int group_room(struct mctx *c, size_t n)
{
	size_t k = n < 2 ? 2 : n < LOOKUP_BATCH ? n : LOOKUP_BATCH;

	if (k > c->nhs) {
		struct hlx_hash *hs = realloc(c->hs, k * sizeof(*hs));
		const struct hlx_hash **hp;

		if (!hs)
			return hlx_err(HLX_ENOMEM, "out of memory");
		c->hs = hs;
		hp = realloc(c->hp, k * sizeof(*hp));
		if (!hp)
			return hlx_err(HLX_ENOMEM, "out of memory");
		c->hp = hp;
		c->nhs = k;
	}
	if (n > c->nallowed) {
		uint8_t *p = realloc(c->allowed, n);

		if (!p)
			return hlx_err(HLX_ENOMEM, "out of memory");
		c->allowed = p;
		c->nallowed = n;
	}
	return HLX_OK;
}

/* Look up and report the items (sorted by query) in groups of queries. */
static int report(struct mctx *c)
{
	size_t a = 0;
	int rc = HLX_OK;

	while (a < c->nitems && !rc) {
		size_t b = a;

		/* whole queries, about LOOKUP_BATCH items */
		while (b < c->nitems && (b - a < LOOKUP_BATCH ||
					 c->items[b].q == c->items[b - 1].q))
			b++;
		c->nrows = 0;
		hlx_buf_reset(&c->arena);
		rc = group_room(c, b - a);
		if (!rc)
			rc = lookup_items(c, a, b);
		if (!rc)
			rc = emit(c, a, b);
		a = b;
	}
	return rc;
}

/* A window of queries from q[w0] (ending at *w1) holding at most win PDQ
 * hashes, copied to qb with their query numbers in qi (*nq of them); the
 * other queries, looked up exactly, become items at once. */
static int window_fill(struct mctx *c, const struct hlx_hash *const *q,
		       size_t n, size_t w0, size_t win, uint8_t *qb,
		       uint32_t *qi, size_t *w1, size_t *nq)
{
	int rc = HLX_OK;

	*nq = 0;
	for (*w1 = w0; *w1 < n; (*w1)++) {
		const struct hlx_hash *h = q[*w1];

		if (h->type != HLX_HASH_PDQ) {
			rc = item_push(c, (uint32_t)*w1, 0, h->bytes, h->type,
				       h->len);
			if (rc)
				break;
			continue;
		}
		if (*nq == win)
			break;
		memcpy(qb + *nq * HLX_PDQ_BYTES, h->bytes, HLX_PDQ_BYTES);
		qi[(*nq)++] = (uint32_t)*w1;
	}
	return rc;
}

/* The window's nq PDQ hashes searched in the base index and the overlay:
 * their hits (not dead ones) become items.  Then the window is sized to
 * keep a window's hits near HITS_TARGET (*win). */
static int window_search(struct hlx_matcher *m, struct mctx *c,
			 const uint8_t *qb, const uint32_t *qi, size_t nq,
			 struct hlx_pdq_hits *hb, struct hlx_pdq_hits *hd,
			 size_t *win)
{
	int rc = HLX_OK;

	hb->n = hd->n = 0;
	hb->scanned = hd->scanned = 0;
	if (nq)
		rc = hlx_match_ensure_tables(m);
	if (!rc && nq)
		rc = hlx_pdqidx_search(m->bidx, qb, nq, m->radius, m->threads,
				       hb);
	if (!rc && nq && m->didx)
		rc = hlx_pdqidx_search(m->didx, qb, nq, m->radius, m->threads,
				       hd);
	for (size_t i = 0; i < hb->n && !rc; i++) {
		const struct hlx_pdq_hit *x = &hb->v[i];

		if (!hlx_match_is_dead(m, x->id))
			rc = item_push(c, qi[x->query], x->distance,
				       m->base + (size_t)x->id * HLX_PDQ_BYTES,
				       HLX_HASH_PDQ, HLX_PDQ_BYTES);
	}
	for (size_t i = 0; i < hd->n && !rc; i++) {
		const struct hlx_pdq_hit *x = &hd->v[i];

		rc = item_push(c, qi[x->query], x->distance,
			       m->add + (size_t)x->id * HLX_PDQ_BYTES,
			       HLX_HASH_PDQ, HLX_PDQ_BYTES);
	}
	if (rc)
		return rc;
	atomic_fetch_add(&m->scanned, hb->scanned + hd->scanned);
	atomic_fetch_add(&m->pdq_queries, nq);
	if (nq) {
		size_t per = (hb->n + hd->n) / nq + 1;
		size_t nw = HITS_TARGET / per;

		nw = nw < WINDOW_MIN ? WINDOW_MIN :
		     nw > WINDOW_MAX ? WINDOW_MAX : nw;
		atomic_store(&m->window, nw);
		*win = nw;
	}
	return HLX_OK;
}

/* The queries, window by window: items gathered (exact queries, PDQ
 * hits), sorted by query, looked up and reported. */
int hlx_matcher_match(struct hlx_matcher *m, const struct hlx_hash *const *q,
		      size_t n, hlx_match_fn cb, void *ctx)
{
	struct mctx c = { .m = m, .q = q, .cb = cb, .ctx = ctx };
	struct hlx_pdq_hits hb = { 0 }, hd = { 0 };
	uint8_t *qb = NULL;
	uint32_t *qi = NULL;
	size_t win = atomic_load(&m->window);
	int rc = HLX_OK;

	if (n > UINT32_MAX)
		return hlx_err(HLX_ETOOBIG, "%zu queries in one call", n);
	for (size_t i = 0; i < n; i++) {
		rc = hlx_hash_validate(q[i]);
		if (rc)
			return hlx_err_wrap(rc, "query %zu", i + 1);
	}
	hlx_buf_init(&c.arena);
	hlx_buf_init(&c.status);
	qb = malloc((n < WINDOW_MAX ? n : WINDOW_MAX) * HLX_PDQ_BYTES + 1);
	qi = malloc((n < WINDOW_MAX ? n : WINDOW_MAX) * sizeof(*qi) + 1);
	if (!qb || !qi) {
		rc = hlx_err(HLX_ENOMEM, "out of memory");
		goto out;
	}
	pthread_rwlock_rdlock(&m->lock);
	if (!m->have_base) {
		rc = hlx_err(HLX_ESTATE, "the match index is not usable: refresh it");
		goto unlock;
	}
	for (size_t w0 = 0; w0 < n && !rc;) {
		size_t w1, nq;

		c.nitems = 0;
		rc = window_fill(&c, q, n, w0, win, qb, qi, &w1, &nq);
		if (!rc)
			rc = window_search(m, &c, qb, qi, nq, &hb, &hd, &win);
		if (rc)
			break;
		for (size_t i = 1; i < c.nitems; i++)
			if (item_cmp(&c.items[i - 1], &c.items[i]) > 0) {
				/* exact queries or overlay hits among them */
				qsort(c.items, c.nitems, sizeof(*c.items),
				      item_cmp);
				break;
			}
		rc = report(&c);
		w0 = w1;
	}
	atomic_fetch_add(&m->queries, n);
	atomic_fetch_add(&m->matches, c.matches);
unlock:
	pthread_rwlock_unlock(&m->lock);
out:
	hlx_pdq_hits_free(&hb);
	hlx_pdq_hits_free(&hd);
	free(qb);
	free(qi);
	free(c.items);
	free(c.rows);
	free(c.hs);
	free(c.hp);
	free(c.allowed);
	hlx_buf_free(&c.arena);
	hlx_buf_free(&c.status);
	return rc;
}
