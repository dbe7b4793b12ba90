/* SPDX-License-Identifier: MIT */
/*
 * The response plans a node holds (spec/plan.md sections 7 and 8): every
 * plan document it knows, as a bundle with the acts it holds under
 * plans/N/HASH.json of the home, each act verified against its
 * organisation's trust chain before it was stored.  The pure parts (the
 * document, acts, the book, in force, routing) are protocol/plan.h.
 */
#ifndef HLX_PLANS_H
#define HLX_PLANS_H

#include "node/node.h"
#include "protocol/plan.h"

/*
 * The book of every document and stored act of the node (own and
 * received).  *out is a new book to free with hlx_plan_book_free(); it is
 * empty when the node holds no plan.  Acts were verified when they were
 * stored and are not verified again.
 */
int hlx_plans_book(struct hlx_node *n, struct hlx_plan_book **out);

#endif
