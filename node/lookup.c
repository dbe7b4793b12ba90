/* SPDX-License-Identifier: MIT */
#include "node/lookup.h"
#include "node/lists.h"
#include "protocol/err.h"
#include "protocol/record.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Lookups stream: queries are read and parsed in batches; each batch is
 * split in two halves, one per core, each sorted by key (a radix sort of
 * the keys' first 8 bytes, then the rare runs that share them by the whole
 * key: a comparison sort cost 13 % of a 10M lookup) and looked up in
 * that order by a cursor that walks the state forward
 * (hlx_store_lookup_keys: neighbouring keys share pages, and a large batch
 * puts several in a page), in its own read transaction and with its own
 * output; then
 * every query's output is gathered in input order and written in large
 * pieces.
 *
 * A query costs little memory while it waits: its key (length-prefixed,
 * 17 to 66 bytes), its text (as given, lower-cased) and a sort record,
 * never a struct hlx_hash (a kilobyte).
 */
#define BATCH (1u << 18)           /* queries a batch */
#define BATCH_BYTES (64u << 20)    /* ... or this much key and text */
#define TEXT_MAX 140
#define OUT_CHUNK (1u << 20)       /* bytes a write, at most */

struct qrec {                      /* a query, sorted by key */
	uint64_t pfx;              /* the key's first 8 bytes, big-endian */
	uint32_t idx;              /* its place in the input */
	uint32_t koff;             /* its key in keys */
};

struct range {                     /* a query's output in a half's out */
	size_t start;
	uint32_t len;
	uint32_t half;
};

struct half {
	struct hlx_lookup *c;
	uint32_t id;
	size_t off, n;                   /* its part of kp */
	struct hlx_buf out;
	struct hlx_entry *e;
	struct hlx_status *st;
	uint64_t hits;
	int rc;
	char err[512];  /* the detail of rc, from the thread that failed */
};

struct hlx_lookup {
	struct hlx_buf keys;             /* length-prefixed keys, input order */
	struct hlx_buf text;             /* texts back to back, input order */
	size_t *toff;                    /* by query: its text in text */
	uint16_t *tlen;                  /* < HLX_HASH_TEXT_MAX */
	struct qrec *qr;                 /* by query, then in key order */
	struct qrec *tmp;                /* the radix sort's other half */
	const uint8_t **kp;              /* the keys in key order */
	struct range *range;             /* by query (input order) */
	struct hlx_buf gather;           /* output in input order */
	struct hlx_list_rec *lists;      /* by id - 1 */
	struct hlx_buf *pfx;             /* by id - 1: "\tNAME\tVERSION\t" */
	size_t nlists;
	struct hlx_store *s;
	struct hlx_hash *h;              /* parsing scratch */
	int json;
	uint64_t hits;
	hlx_lookup_write_fn write;
	void *wctx;
	size_t nq;                       /* queries waiting in this batch */
	struct half *hf;                 /* the two halves, one per core */
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

/* The fixed middle of each list's lines. */
static int list_prefixes(struct hlx_lookup *c)
{
	int rc = HLX_OK;

	c->pfx = calloc(c->nlists ? c->nlists : 1, sizeof(*c->pfx));
	if (!c->pfx)
		return hlx_err(HLX_ENOMEM, "out of memory");
	for (size_t i = 0; i < c->nlists && !rc; i++)
		if (c->lists[i].name[0])
			rc = hlx_buf_printf(&c->pfx[i], "\t%s\t%" PRIu64 "\t",
					    c->lists[i].name,
					    c->lists[i].version);
	return rc;
}

/* A hit as JSON: the stored line decoded to emit typed fields. */
static int emit_json(struct hlx_lookup *c, struct half *hf, size_t qi,
		     const struct hlx_list_rec *l, const char *meta,
		     size_t metalen)
{
	struct hlx_buf line = HLX_BUF_INIT;
	int rc;

	rc = hlx_buf_put(&line, c->text.data + c->toff[qi], c->tlen[qi]);
	if (!rc)
		rc = hlx_buf_putc(&line, '\t');
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

/* One hit of query qi (input order) into hf->out:
 * TEXT \t LIST \t VERSION \t META \n. */
static int emit_hit(struct hlx_lookup *c, struct half *hf, size_t qi,
		    uint32_t list, const char *meta, size_t metalen)
{
	const struct hlx_buf *p = &c->pfx[list - 1];
	size_t tl = c->tlen[qi], need = tl + p->len + metalen + 1;
	uint8_t *w;
	int rc;

	if (c->json)
		return emit_json(c, hf, qi, &c->lists[list - 1], meta, metalen);
	rc = hlx_buf_reserve(&hf->out, need);
	if (rc)
		return rc;
	w = hf->out.data + hf->out.len;
	memcpy(w, c->text.data + c->toff[qi], tl);
	memcpy(w + tl, p->data, p->len);
	memcpy(w + tl + p->len, meta, metalen);
	w[need - 1] = '\n';
	hf->out.len += need;
	hf->out.data[hf->out.len] = '\0';
	return HLX_OK;
}

static int on_hit(void *ctx, size_t k, uint32_t list, const char *meta,
		  size_t metalen)
{
	struct half *hf = ctx;
	struct hlx_lookup *c = hf->c;
	const struct hlx_list_rec *l = list && list <= c->nlists ?
				       &c->lists[list - 1] : NULL;
	size_t qi = c->qr[hf->off + k].idx, before = hf->out.len;
	int rc;

	if (!l || !l->name[0])
		return hlx_err(HLX_ESTORE, "entry of unknown list %" PRIu32, list);
	if (hlx_is_cases_list(l->name))
		return 0; /* case lines: hlx case show */
	hf->hits++;
	/* a query's hits are contiguous: it is looked up once */
	if (c->range[qi].len == 0) {
		c->range[qi].half = hf->id;
		c->range[qi].start = before;
	}
	rc = emit_hit(c, hf, qi, list, meta, metalen);
	c->range[qi].len += (uint32_t)(hf->out.len - before);
	return rc;
}

static int qrec_cmp(const void *a, const void *b, void *keys);

/*
 * Sort q[0..n) by key, tmp[0..n) the scratch: a stable LSD radix sort on
 * pfx, a byte a pass (a pass whose byte all share is skipped: the type's
 * byte, mostly), leaves equal prefixes in input order; the runs of equal
 * prefixes (repeated queries, or keys alike in their first 8 bytes) are
 * then sorted by the whole key.
 */
static void sort_queries(struct qrec *q, struct qrec *tmp, size_t n,
			 const uint8_t *keys)
{
	size_t count[256];
	struct qrec *from = q, *to = tmp, *sw;

	for (unsigned shift = 0; shift < 64; shift += 8) {
		size_t sum = 0;

		memset(count, 0, sizeof(count));
		for (size_t i = 0; i < n; i++)
			count[(from[i].pfx >> shift) & 0xff]++;
		if (count[(from[0].pfx >> shift) & 0xff] == n)
			continue;
		for (unsigned b = 0; b < 256; b++) {
			size_t k = count[b];

			count[b] = sum;
			sum += k;
		}
		for (size_t i = 0; i < n; i++)
			to[count[(from[i].pfx >> shift) & 0xff]++] = from[i];
		sw = from;
		from = to;
		to = sw;
	}
	if (from != q)
		memcpy(q, from, n * sizeof(*q));
	for (size_t i = 0, j; i < n; i = j) {
		for (j = i + 1; j < n && q[j].pfx == q[i].pfx; j++)
			;
		if (j - i > 1)
			qsort_r(q + i, j - i, sizeof(*q), qrec_cmp, (void *)keys);
	}
}

/* A half sorts its own queries, then looks them up. */
static void *lookup_half(void *arg)
{
	struct half *hf = arg;
	struct hlx_lookup *c = hf->c;

	if (hf->n > 1)
		sort_queries(c->qr + hf->off, c->tmp + hf->off, hf->n,
			     c->keys.data);
	for (size_t k = hf->off; k < hf->off + hf->n; k++)
		c->kp[k] = c->keys.data + c->qr[k].koff;
	hf->rc = hlx_store_lookup_keys(hf->c->s, hf->c->kp + hf->off, hf->n,
				       on_hit, hf);
	if (hf->rc) /* the detail is per thread: keep it with the result */
		snprintf(hf->err, sizeof(hf->err), "%s", hlx_err_detail());
	return NULL;
}

static int qrec_cmp(const void *a, const void *b, void *keys)
{
	const struct qrec *x = a, *y = b;
	const uint8_t *kx, *ky;
	int d;

	if (x->pfx != y->pfx)
		return x->pfx < y->pfx ? -1 : 1;
	kx = (const uint8_t *)keys + x->koff;
	ky = (const uint8_t *)keys + y->koff;
	d = memcmp(kx + 1, ky + 1, kx[0] < ky[0] ? kx[0] : ky[0]);
	if (d)
		return d;
	if (kx[0] != ky[0])
		return kx[0] < ky[0] ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Write the output of queries [0, nq) in input order, in large pieces. */
static int write_out(struct hlx_lookup *c, size_t nq)
{
	int rc = HLX_OK;

	hlx_buf_reset(&c->gather);
	for (size_t qi = 0; qi < nq && !rc; qi++) {
		const struct range *r = &c->range[qi];

		if (!r->len)
			continue;
		if (c->gather.len && c->gather.len + r->len > OUT_CHUNK) {
			rc = c->write(c->wctx, c->gather.data, c->gather.len);
			hlx_buf_reset(&c->gather);
		}
		if (!rc)
			rc = hlx_buf_put(&c->gather, c->hf[r->half].out.data + r->start,
					 r->len);
	}
	if (!rc && c->gather.len)
		rc = c->write(c->wctx, c->gather.data, c->gather.len);
	return rc;
}

/* Look up nq queries, then write their output in input order. */
static int run_batch(struct hlx_lookup *c, size_t nq)
{
	struct half *h = c->hf;
	pthread_t t;
	int threaded;

	for (size_t k = 0; k < nq; k++)
		c->range[k].len = 0;
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
	return write_out(c, nq);
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
	c->hf = calloc(2, sizeof(*c->hf));
	c->h = malloc(sizeof(*c->h));
	c->qr = malloc(BATCH * sizeof(*c->qr));
	c->tmp = malloc(BATCH * sizeof(*c->tmp));
	c->kp = malloc(BATCH * sizeof(*c->kp));
	c->range = malloc(BATCH * sizeof(*c->range));
	c->toff = malloc(BATCH * sizeof(*c->toff));
	c->tlen = malloc(BATCH * sizeof(*c->tlen));
	if (!c->hf || !c->h || !c->qr || !c->tmp || !c->kp || !c->range || !c->toff ||
	    !c->tlen) {
		rc = hlx_err(HLX_ENOMEM, "out of memory");
		goto out;
	}
	for (int i = 0; i < 2; i++) {
		c->hf[i].c = c;
		c->hf[i].id = (uint32_t)i;
		hlx_buf_init(&c->hf[i].out);
		c->hf[i].e = malloc(sizeof(*c->hf[i].e));
		c->hf[i].st = malloc(sizeof(*c->hf[i].st));
		if (!c->hf[i].e || !c->hf[i].st)
			rc = hlx_err(HLX_ENOMEM, "out of memory");
	}
	if (!rc)
		rc = hlx_store_list_foreach(c->s, collect_list, c);
	/* Answer only from states that agree with their histories. */
	for (size_t i = 0; !rc && i < c->nlists; i++)
		if (c->lists[i].name[0])
			rc = hlx_list_recover(n, c->lists[i].name);
	if (!rc)
		rc = list_prefixes(c);
out:
	if (rc)
		hlx_lookup_free(c);
	else
		*out = c;
	return rc;
}

int hlx_lookup_add(struct hlx_lookup *c, const char *q, size_t ql)
{
	size_t nq = c->nq, koff = c->keys.len, toff = c->text.len, tl;
	uint8_t key[HLX_STORE_KEY_MAX];
	size_t kl;
	int rc = hlx_hash_parse(q, ql, c->h);

	if (rc)
		return rc;
	kl = hlx_store_key(c->h, key);
	rc = hlx_buf_put(&c->keys, key, kl);
	if (rc)
		return rc;
	if (c->json) {
		/* the full hash, as hlx_hash_format writes it */
		rc = hlx_buf_reserve(&c->text, HLX_HASH_TEXT_MAX);
		if (!rc)
			rc = hlx_hash_format(c->h, (char *)c->text.data + toff,
					     HLX_HASH_TEXT_MAX);
		tl = rc ? 0 : strlen((char *)c->text.data + toff);
	} else if (ql < TEXT_MAX) {
		/* as given, lower-cased: the type and hex digits are ASCII */
		rc = hlx_buf_reserve(&c->text, ql);
		for (size_t i = 0; !rc && i < ql; i++) {
			char ch = q[i];

			c->text.data[toff + i] = (uint8_t)(ch >= 'A' && ch <= 'Z' ?
							   ch + ('a' - 'A') : ch);
		}
		tl = ql;
	} else {
		/* long hashes (tmk, vpdq) are shown shortened */
		char t[HLX_HASH_TEXT_MAX];

		rc = hlx_hash_format(c->h, t, sizeof(t));
		if (!rc)
			rc = hlx_buf_reserve(&c->text, TEXT_MAX);
		tl = rc ? 0 : (size_t)snprintf((char *)c->text.data + toff,
					       TEXT_MAX, "%.120s...", t);
	}
	if (rc) {
		c->keys.len = koff;
		return rc;
	}
	c->text.len = toff + tl;
	c->toff[nq] = toff;
	c->tlen[nq] = (uint16_t)tl;
	c->qr[nq] = (struct qrec){ 0, (uint32_t)nq, (uint32_t)koff };
	for (size_t i = 0; i < 8; i++)
		c->qr[nq].pfx = c->qr[nq].pfx << 8 | (i < kl - 1 ? key[1 + i] : 0);
	if (++c->nq < BATCH && c->keys.len + c->text.len < BATCH_BYTES)
		return HLX_OK;
	c->nq = 0;
	rc = run_batch(c, nq + 1);
	hlx_buf_reset(&c->keys);
	hlx_buf_reset(&c->text);
	return rc;
}

int hlx_lookup_flush(struct hlx_lookup *c)
{
	size_t nq = c->nq;
	int rc;

	c->nq = 0;
	rc = nq ? run_batch(c, nq) : HLX_OK;
	hlx_buf_reset(&c->keys);
	hlx_buf_reset(&c->text);
	return rc;
}

uint64_t hlx_lookup_hits(const struct hlx_lookup *c)
{
	return c->hits;
}

void hlx_lookup_free(struct hlx_lookup *c)
{
	if (!c)
		return;
	hlx_buf_free(&c->keys);
	hlx_buf_free(&c->text);
	hlx_buf_free(&c->gather);
	free(c->qr);
	free(c->tmp);
	free(c->kp);
	free(c->range);
	free(c->toff);
	free(c->tlen);
	free(c->h);
	for (int i = 0; c->hf && i < 2; i++) {
		free(c->hf[i].e);
		free(c->hf[i].st);
		hlx_buf_free(&c->hf[i].out);
	}
	free(c->hf);
	for (size_t i = 0; c->pfx && i < c->nlists; i++)
		hlx_buf_free(&c->pfx[i]);
	free(c->pfx);
	free(c->lists);
	free(c);
}
