/* SPDX-License-Identifier: MIT */
/*
 * The node handle: a node home opened for work on its lists, views and
 * feeds.  It holds the home (identity, trust chain and, for writers, the
 * exclusive lock) and the state (node/store.h), opened in that order: the
 * writer lock first, then everything read under it.
 */
#ifndef HLX_NODE_H
#define HLX_NODE_H

#include <limits.h>
#include <stdint.h>

#include "node/home.h"
#include "node/store.h"

struct hlx_node;

/* lock: take the node's writer lock (waits for another writer). */
int hlx_node_open(const char *home, int lock, struct hlx_node **out);
void hlx_node_free(struct hlx_node *n);
/* Close the state, compact it (hlx_store_compact) while still holding
 * the writer lock, then free the node, whatever the result: no other
 * writer can open the state between the change and its compaction. */
int hlx_node_compact_free(struct hlx_node *n, uint64_t *before,
			  uint64_t *after);
/* Close the state, compact it (hlx_store_compact) and open it again,
 * keeping the writer lock (node/remove.h).  If the state could not be
 * opened again, the node can only be freed. */
int hlx_node_compact(struct hlx_node *n, uint64_t *before, uint64_t *after);
struct hlx_home *hlx_node_home(struct hlx_node *n);
struct hlx_store *hlx_node_store(struct hlx_node *n);
/* out = the entry e of the node's home (hlx_home_path). */
int hlx_node_path(struct hlx_node *n, enum hlx_home_entry e, const char *a,
		  const char *b, char out[PATH_MAX]);

#endif
