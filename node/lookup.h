/* SPDX-License-Identifier: MIT */
/*
 * Exact lookups in the state, streamed: which lists and versions hold each
 * queried hash, with its metadata.  Queries are taken in batches; each
 * batch is looked up in key order (neighbouring keys share the pages LMDB
 * reads), split in two halves looked up at once, one per core, each in its
 * own read transaction; then every query's lines are written, in input
 * order, through write.  A line is "TEXT<TAB>LIST<TAB>VERSION<TAB>META",
 * TEXT the hash as given (lower-cased), or with json one object a line.
 */
#ifndef HLX_LOOKUP_H
#define HLX_LOOKUP_H

#include <stddef.h>
#include <stdint.h>

struct hlx_node;
struct hlx_lookup;

/* Write n bytes of output; non-zero stops the lookup with that error. */
typedef int (*hlx_lookup_write_fn)(void *ctx, const void *p, size_t n);

/* Lists are read, and brought back in step with their histories after a
 * crash, once, here. */
int hlx_lookup_new(struct hlx_node *n, int json, hlx_lookup_write_fn write,
		   void *wctx, struct hlx_lookup **out);
/* Queue one query, a typed hash as text (an error names what is wrong
 * with it); a full batch is looked up and written at once. */
int hlx_lookup_add(struct hlx_lookup *l, const char *q, size_t n);
/* Look up and write what is queued. */
int hlx_lookup_flush(struct hlx_lookup *l);
/* Lines written so far. */
uint64_t hlx_lookup_hits(const struct hlx_lookup *l);
void hlx_lookup_free(struct hlx_lookup *l);

#endif
