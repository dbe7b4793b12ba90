/* SPDX-License-Identifier: MIT */
/* Response plans: a plan that parses has a canonical form that parses, as
 * canonical, to the same bytes and hash; it routes a few fixed locations
 * to one of its signatories under its own rules; and an act (the same
 * input as an act file, or as an act body) that parses encodes back to
 * the body it came from. */
#include "protocol/err.h"
#include "protocol/plan.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_route(const struct hlx_plan *p)
{
	static const char *const locs[] = { "DE/a1", "-/-", "GB/b2/img.host-a.example",
					    "FR/-/example", "US/a1/a.b.c.d" };
	struct hlx_plan_force f;
	struct hlx_plan_route r;
	struct hlx_plan_loc loc;
	size_t i, k;

	memset(&f, 0, sizeof(f));
	f.plan = p;
	for (i = 0; i < HLX_PLAN_SIGNATORIES_MAX; i++)
		f.withdrawn[i] = -1;
	for (i = 0; i < sizeof(locs) / sizeof(locs[0]); i++) {
		if (hlx_plan_loc_parse(locs[i], strlen(locs[i]), &loc))
			abort();
		if (hlx_plan_route(&f, 1, &loc, 0, &r) || r.plan != p ||
		    !r.rule || r.nchain < 1 ||
		    r.nbase != hlx_plan_nsignatories(p) ||
		    r.chain[0] != r.rule->org)
			abort();
		for (k = 0; k < r.nchain; k++)
			if (r.chain[k] < 0 ||
			    (size_t)r.chain[k] >= hlx_plan_nsignatories(p))
				abort();
	}
}

static void check_plan(const uint8_t *data, size_t size)
{
	struct hlx_buf c1 = HLX_BUF_INIT, c2 = HLX_BUF_INIT;
	struct hlx_plan *p = NULL, *q = NULL;
	uint8_t h1[32], h2[32];

	if (hlx_plan_parse((const char *)data, size, 0, &p) != HLX_OK) {
		if (p)
			abort();
		return;
	}
	if (hlx_plan_canonical(p, &c1) || c1.len > HLX_PLAN_MAX ||
	    hlx_plan_parse((char *)c1.data, c1.len, HLX_PLAN_CANONICAL, &q) ||
	    hlx_plan_canonical(q, &c2) || c1.len != c2.len ||
	    memcmp(c1.data, c2.data, c1.len))
		abort();
	hlx_plan_hash(p, h1);
	hlx_plan_hash(q, h2);
	if (memcmp(h1, h2, 32))
		abort();
	crypto_hash_sha256(h2, c1.data, c1.len);
	if (memcmp(h1, h2, 32) || !hlx_plan_default_rule(p) ||
	    strcmp(hlx_plan_default_rule(p)->id, "*/*"))
		abort();
	check_route(p);
	hlx_plan_free(p);
	hlx_plan_free(q);
	hlx_buf_free(&c1);
	hlx_buf_free(&c2);
}

static void check_act(const uint8_t *data, size_t size)
{
	struct hlx_buf body = HLX_BUF_INIT, sig = HLX_BUF_INIT,
		       again = HLX_BUF_INIT;
	struct hlx_plan_act a, b;

	if (hlx_plan_act_parse((const char *)data, size, &a, &body, &sig) ==
	    HLX_OK) {
		if (hlx_plan_act_body(&a, &again) || again.len != body.len ||
		    memcmp(again.data, body.data, body.len) || sig.len == 0 ||
		    hlx_plan_act_parse_body((char *)body.data, body.len, &b) ||
		    memcmp(&a, &b, sizeof(a)))
			abort();
	}
	hlx_buf_reset(&again);
	if (hlx_plan_act_parse_body((const char *)data, size, &a) == HLX_OK &&
	    (hlx_plan_act_body(&a, &again) || again.len != size ||
	     memcmp(again.data, data, size)))
		abort();
	hlx_buf_free(&body);
	hlx_buf_free(&sig);
	hlx_buf_free(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hlx_plan_loc loc;
	char out[HLX_PLAN_ID_MAX];

	check_plan(data, size);
	check_act(data, size);
	if (hlx_plan_loc_parse((const char *)data, size, &loc) == HLX_OK)
		hlx_plan_loc_format(&loc, out);
	return 0;
}
