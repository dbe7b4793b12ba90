/* SPDX-License-Identifier: MIT */
/* The node's response plans (node/plans.h). */
#include <stdlib.h>

#include "node/plans.h"
#include "protocol/err.h"

struct hlx_plans {
	struct hlx_plan_book *book;
};

int hlx_plans_load(struct hlx_node *n, struct hlx_plans **out)
{
	struct hlx_plans *p;
	int rc;

	(void)n;
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return hlx_err(HLX_ENOMEM, "out of memory");
	rc = hlx_plan_book_new(&p->book);
	if (rc != HLX_OK) {
		free(p);
		return rc;
	}
	*out = p;
	return HLX_OK;
}

void hlx_plans_free(struct hlx_plans *p)
{
	if (p == NULL)
		return;
	hlx_plan_book_free(p->book);
	free(p);
}

const struct hlx_plan_book *hlx_plans_book(const struct hlx_plans *p)
{
	return p->book;
}
