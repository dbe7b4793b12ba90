/* SPDX-License-Identifier: MIT */
/*
 * The plans a node holds (node/plans.h).
 *
 * Placeholder until the plan store lands: the node holds no plan yet, so
 * the book is empty and every case stays with its reporter
 * (spec/cases.md section 4).
 */
#include "node/plans.h"

int hlx_plans_book(struct hlx_node *n, struct hlx_plan_book **out)
{
	(void)n;
	return hlx_plan_book_new(out);
}
