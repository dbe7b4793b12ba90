/* SPDX-License-Identifier: MIT */
/* Plans in feeds: a bundle that parses encodes to a bundle that parses to
 * the same document and acts, and encodes again to the same bytes; a
 * plans head that parses encodes its body back to the same bytes. */
#include "protocol/err.h"
#include "protocol/plan_feed.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void head(const uint8_t *data, size_t size)
{
	struct hlx_buf body = HLX_BUF_INIT, sig = HLX_BUF_INIT, e = HLX_BUF_INIT;
	struct hlx_plans_head h;

	if (hlx_plans_head_parse((const char *)data, size, &h, &body, &sig) == HLX_OK) {
		if (hlx_plans_head_body(&h, &e) || e.len != body.len ||
		    memcmp(e.data, body.data, e.len) || !hlx_plans_head_same(&h, &h))
			abort();
		hlx_plans_head_free(&h);
	}
	hlx_buf_free(&body);
	hlx_buf_free(&sig);
	hlx_buf_free(&e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hlx_plan_bundle b, c;
	struct hlx_buf e1 = HLX_BUF_INIT, e2 = HLX_BUF_INIT;
	uint8_t h1[32], h2[32];

	head(data, size);
	if (hlx_plan_bundle_parse((const char *)data, size, &b))
		return 0;
	if (hlx_plan_bundle_encode(b.plan, b.acts, b.nacts, &e1))
		abort();
	if (hlx_plan_bundle_parse((const char *)e1.data, e1.len, &c))
		abort();
	hlx_plan_hash(b.plan, h1);
	hlx_plan_hash(c.plan, h2);
	if (memcmp(h1, h2, 32) || c.nacts != b.nacts)
		abort();
	if (hlx_plan_bundle_encode(c.plan, c.acts, c.nacts, &e2) ||
	    e1.len != e2.len || memcmp(e1.data, e2.data, e1.len))
		abort();
	hlx_buf_free(&e1);
	hlx_buf_free(&e2);
	hlx_plan_bundle_free(&b);
	hlx_plan_bundle_free(&c);
	return 0;
}
