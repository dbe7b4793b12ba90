/* SPDX-License-Identifier: MIT */
#include "node/lookup.h"
#include "node/lists.h"
#include "protocol/err.h"
#include "protocol/record.h"

#include <ctype.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Lookups stream: queries are read and parsed in batches, each batch is
 * looked up in key order (neighbouring keys share the pages LMDB reads:
 * several times faster than input order on a large state), split in two
 * halves looked up at once, one per core, each in its own read transaction
 * and with its own output; then every query's output is written in input
 * order.
 */
#define BATCH 16384
#define TEXT_MAX 140

struct hlx_lookup {
	struct hlx_hash *q;              /* BATCH queries, input order */
	const struct hlx_hash **qp;      /* the same, in key order */
	size_t *order;                   /* qp[k] is q[order[k]] */
	char (*text)[TEXT_MAX];          /* as given, lower-cased */
	size_t *textlen;
	struct range { uint32_t half, len; size_t start; } *range; /* by query */
	struct hlx_list_rec *lists;      /* by id - 1 */
	size_t nlists;
	struct hlx_store *s;
	int json;
	uint64_t hits;
	hlx_lookup_write_fn write;
	void *wctx;
	size_t nq;                       /* queries waiting in this batch */
	struct half *h;                  /* the two halves, one per core */
};

struct half {
	struct hlx_lookup *c;
	int id;
	size_t off, n;                   /* its part of qp */
	struct hlx_buf out;
	struct hlx_entry *e;
	struct hlx_status *st;
	uint64_t hits;
	int rc;
	char err[512];  /* the detail of rc, from the thread that failed */
};

static int collect_list(void *ctx, const struct hlx_list_rec *l)
{
	struct hlx_lookup *c = ctx;

	if (l->id == 0 || l->id > 1000000)
		return hlx_err(HLX_ESTORE, "list id %" PRIu32 " out of range", l->id);
	if (l->id > c->nlists) {
		struct hlx_list_rec *p = realloc(c->lists, l->id * sizeof(*p));

		if (!p)
			return hlx_err(HLX_ENOMEM, "out of memory");
		memset(p + c->nlists, 0, (l->id - c->nlists) * sizeof(*p));
		c->lists = p;
		c->nlists = l->id;
	}
	c->lists[l->id - 1] = *l;
	return 0;
}

/* One hit of query qi (input order) into hf->out. */
static int emit_hit(struct hlx_lookup *c, struct half *hf, size_t qi,
		    const struct hlx_list_rec *l, const char *meta,
		    size_t metalen)
{
	struct hlx_buf line = HLX_BUF_INIT;
	char hash[HLX_HASH_TEXT_MAX];
	int rc;

	if (!c->json) {
		rc = hlx_buf_put(&hf->out, c->text[qi], c->textlen[qi]);
		if (!rc)
			rc = hlx_buf_printf(&hf->out, "\t%s\t%" PRIu64 "\t", l->name,
					    l->version);
		if (!rc)
			rc = hlx_buf_put(&hf->out, meta, metalen);
		return rc ? rc : hlx_buf_putc(&hf->out, '\n');
	}
	/* JSON: decode the stored line to emit typed fields */
	rc = hlx_hash_format(&c->q[qi], hash, sizeof(hash));
	if (!rc)
		rc = hlx_buf_printf(&line, "%s\t", hash);
	if (!rc)
		rc = hlx_buf_put(&line, meta, metalen);
	if (!rc)
		rc = hlx_buf_putc(&line, '\n');
	if (!rc)
		rc = hlx_buf_printf(&hf->out, "{\"list\":\"%s\",\"owner\":\"%s\",\"version\":%"
				    PRIu64 ",", l->name, l->owner, l->version);
	if (hlx_is_status_list(l->name)) {
		if (!rc)
			rc = hlx_status_decode((char *)line.data, line.len, hf->st);
		if (!rc)
			rc = hlx_buf_puts(&hf->out, "\"status\":");
		if (!rc)
			rc = hlx_status_to_json(hf->st, &hf->out);
	} else {
		if (!rc)
			rc = hlx_entry_decode((char *)line.data, line.len, hf->e);
		if (!rc)
			rc = hlx_buf_puts(&hf->out, "\"entry\":");
		if (!rc)
			rc = hlx_entry_to_json(hf->e, &hf->out);
	}
	if (!rc)
		rc = hlx_buf_puts(&hf->out, "}\n");
	hlx_buf_free(&line);
	return rc;
}

static int on_hit(void *ctx, size_t k, uint32_t list, const char *meta,
		  size_t metalen)
{
	struct half *hf = ctx;
	struct hlx_lookup *c = hf->c;
	const struct hlx_list_rec *l = list && list <= c->nlists ?
				       &c->lists[list - 1] : NULL;
	size_t qi = c->order[hf->off + k], before = hf->out.len;
	int rc;

	if (!l || !l->name[0])
		return hlx_err(HLX_ESTORE, "entry of unknown list %" PRIu32, list);
	if (hlx_is_cases_list(l->name))
		return 0; /* case lines: hlx case show */
	hf->hits++;
	/* a query's hits are contiguous: it is looked up once */
	if (c->range[qi].len == 0) {
		c->range[qi].half = (uint32_t)hf->id;
		c->range[qi].start = before;
	}
	rc = emit_hit(c, hf, qi, l, meta, metalen);
	c->range[qi].len += (uint32_t)(hf->out.len - before);
	return rc;
}

static void *lookup_half(void *arg)
{
	struct half *hf = arg;

	hf->rc = hlx_store_lookup(hf->c->s, hf->c->qp + hf->off, hf->n, on_hit, hf);
	if (hf->rc) /* the detail is per thread: keep it with the result */
		snprintf(hf->err, sizeof(hf->err), "%s", hlx_err_detail());
	return NULL;
}

/* qsort_r's order over the queries q (no global: two lookups of one
 * process, as an embedding may run, do not share it). */
static int key_order(const void *a, const void *b, void *q)
{
	const struct hlx_hash *x = &((const struct hlx_hash *)q)[*(const size_t *)a];
	const struct hlx_hash *y = &((const struct hlx_hash *)q)[*(const size_t *)b];
	size_t n = x->len < y->len ? x->len : y->len;
	int d;

	if (x->type != y->type)
		return x->type < y->type ? -1 : 1;
	d = memcmp(x->bytes, y->bytes, n);
	return d ? d : (x->len > y->len) - (x->len < y->len);
}

/* Look up nq queries, then write their output in input order. */
static int run_batch(struct hlx_lookup *c, struct half *h, size_t nq)
{
	pthread_t t;
	int threaded;

	for (size_t i = 0; i < nq; i++)
		c->order[i] = i;
	qsort_r(c->order, nq, sizeof(*c->order), key_order, c->q);
	for (size_t k = 0; k < nq; k++) {
		c->qp[k] = &c->q[c->order[k]];
		c->range[k].len = 0;
	}
	h[0].off = 0;
	h[0].n = nq < 512 ? nq : nq / 2;
	h[1].off = h[0].n;
	h[1].n = nq - h[0].n;
	for (int i = 0; i < 2; i++) {
		h[i].rc = 0;
		hlx_buf_reset(&h[i].out);
	}
	threaded = h[1].n && pthread_create(&t, NULL, lookup_half, &h[1]) == 0;
	lookup_half(&h[0]);
	if (threaded)
		pthread_join(t, NULL);
	else if (h[1].n)
		lookup_half(&h[1]);
	for (int i = 0; i < 2; i++) {
		if (h[i].rc)
			return hlx_err(h[i].rc, "%s", h[i].err);
		c->hits += h[i].hits;
		h[i].hits = 0;
	}
	for (size_t qi = 0; qi < nq; qi++) {
		const struct range *r = &c->range[qi];

		int rc = r->len ? c->write(c->wctx, h[r->half].out.data + r->start,
					   r->len) : 0;

		if (rc)
			return rc;
	}
	return HLX_OK;
}


int hlx_lookup_new(struct hlx_node *n, int json, hlx_lookup_write_fn write,
		   void *wctx, struct hlx_lookup **out)
{
	struct hlx_lookup *c = calloc(1, sizeof(*c));
	int rc = HLX_OK;

	*out = NULL;
	if (!c)
		return hlx_err(HLX_ENOMEM, "out of memory");
	c->s = hlx_node_store(n);
	c->json = json;
	c->write = write;
	c->wctx = wctx;
	c->h = calloc(2, sizeof(*c->h));
	c->q = malloc(BATCH * sizeof(*c->q));
	c->qp = malloc(BATCH * sizeof(*c->qp));
	c->order = malloc(BATCH * sizeof(*c->order));
	c->range = malloc(BATCH * sizeof(*c->range));
	c->text = malloc(BATCH * sizeof(*c->text));
	c->textlen = malloc(BATCH * sizeof(*c->textlen));
	if (!c->h || !c->q || !c->qp || !c->order || !c->range || !c->text ||
	    !c->textlen) {
		rc = hlx_err(HLX_ENOMEM, "out of memory");
		goto out;
	}
	for (int i = 0; i < 2; i++) {
		c->h[i].c = c;
		c->h[i].id = i;
		hlx_buf_init(&c->h[i].out);
		c->h[i].e = malloc(sizeof(*c->h[i].e));
		c->h[i].st = malloc(sizeof(*c->h[i].st));
		if (!c->h[i].e || !c->h[i].st)
			rc = hlx_err(HLX_ENOMEM, "out of memory");
	}
	if (!rc)
		rc = hlx_store_list_foreach(c->s, collect_list, c);
	/* Answer only from states that agree with their histories. */
	for (size_t i = 0; !rc && i < c->nlists; i++)
		if (c->lists[i].name[0])
			rc = hlx_list_recover(n, c->lists[i].name);
out:
	if (rc)
		hlx_lookup_free(c);
	else
		*out = c;
	return rc;
}

int hlx_lookup_add(struct hlx_lookup *c, const char *q, size_t ql)
{
	size_t nq = c->nq;
	int rc = hlx_hash_parse(q, ql, &c->q[nq]);

	if (rc)
		return rc;
	if (ql < TEXT_MAX) {
		for (size_t i = 0; i < ql; i++)
			c->text[nq][i] = (char)tolower((unsigned char)q[i]);
		c->textlen[nq] = ql;
	} else {
		/* long hashes (tmk, vpdq) are shown shortened */
		char t[HLX_HASH_TEXT_MAX];

		hlx_hash_format(&c->q[nq], t, sizeof(t));
		c->textlen[nq] = (size_t)snprintf(c->text[nq], TEXT_MAX, "%.120s...", t);
	}
	if (++c->nq < BATCH)
		return HLX_OK;
	c->nq = 0;
	return run_batch(c, c->h, nq + 1);
}

int hlx_lookup_flush(struct hlx_lookup *c)
{
	size_t nq = c->nq;

	c->nq = 0;
	return nq ? run_batch(c, c->h, nq) : HLX_OK;
}

uint64_t hlx_lookup_hits(const struct hlx_lookup *c)
{
	return c->hits;
}

void hlx_lookup_free(struct hlx_lookup *c)
{
	if (!c)
		return;
	free(c->q);
	free(c->qp);
	free(c->order);
	free(c->range);
	free(c->text);
	free(c->textlen);
	for (int i = 0; c->h && i < 2; i++) {
		free(c->h[i].e);
		free(c->h[i].st);
		hlx_buf_free(&c->h[i].out);
	}
	free(c->h);
	free(c->lists);
	free(c);
}
