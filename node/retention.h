/* SPDX-License-Identifier: MIT */
/*
 * Handling rules of peers' lists (spec/policy.md, "Receiving"): the rules
 * that came with a peer's list in its signed head are kept beside the
 * sync state (peers/PEER/LIST.rules, written before the data they govern
 * is applied); entries of a list with a retention period are purged from
 * the state once they have been here longer than it.
 */
#ifndef HLX_RETENTION_H
#define HLX_RETENTION_H

#include <stdint.h>

#include "node/lists.h"
#include "protocol/policy.h"

/* The rules of a peer's list PEER/LIST; hlx_rules_init's if none came. */
int hlx_retention_rules(struct hlx_node *n, const char *full,
			struct hlx_rules *out);
int hlx_retention_save_rules(struct hlx_node *n, const char *peer,
			     const char *list, const struct hlx_rules *r);
/* Purge every entry of peers' lists past its retention at now; *count
 * (may be NULL) receives how many.  Takes the state's write transaction.
 * When anything was purged, the match index is dropped (rebuilt on use);
 * the caller compacts the state once the node is closed, so that no free
 * page keeps what was purged (hlx_store_compact). */
int hlx_retention_purge(struct hlx_node *n, int64_t now, uint64_t *count);

#endif
