/* SPDX-License-Identifier: MIT */
/*
 * The node's response plans (spec/plan.md sections 7.4 and 8): the store
 * of plan documents and the acts that sign them or withdraw from them,
 * kept under plans/ in the home, loaded as a book (protocol/plan.h) of
 * the documents and the acts that are valid now.
 *
 * hlx_plans_load() reads the store and re-checks every act against the
 * trust chains the node holds now (its own, its peers' verified ones), so
 * an act whose key was revoked since it was stored no longer counts.  The
 * book answers which plans are in force at a time and routes locations;
 * the cases engine (node/cases.h) routes a case at its opening time with
 * it.
 */
#ifndef HLX_PLANS_H
#define HLX_PLANS_H

#include "node/node.h"
#include "protocol/plan.h"

struct hlx_plans;

/* Load the node's plans; an empty book when it holds none. */
int hlx_plans_load(struct hlx_node *n, struct hlx_plans **out);
void hlx_plans_free(struct hlx_plans *p);
/* The book: documents held with their valid acts.  Owned by p. */
const struct hlx_plan_book *hlx_plans_book(const struct hlx_plans *p);

#endif
