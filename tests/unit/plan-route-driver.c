/* SPDX-License-Identifier: MIT */
/*
 * plan-route-driver FILE: routes locations over plans with the C code of
 * protocol/plan.c, for tests/t0900-plan-route.sh, which compares its
 * output with tests/tools/plan_route.py (an independent model of
 * spec/plan.md).  FILE is JSON:
 *
 *   {"plans": [TEXT...], "acts": [BODY...], "times": [SECONDS...],
 *    "locations": [LOCATION...]}
 *
 * plans are plan documents in any spelling, acts are act bodies (section
 * 5.1), all taken as verified.  Prints "doc I refused" for each document
 * that does not parse, "act I refused" for each body that does not, then
 * for each time and location one line
 *
 *   TIME<TAB>LOCATION<TAB>ORG<TAB>PLAN@VERSION<TAB>RULE-ID<TAB>FALLBACKS
 *
 * (LOCATION normalised; "-" in the last four with no route, FALLBACKS "-"
 * when none) or TIME<TAB>INPUT<TAB>error for a malformed location.
 */
#include "protocol/err.h"
#include "protocol/plan.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void route_one(const struct hlx_plan_force *f, size_t n, int64_t t,
		      const char *text)
{
	struct hlx_plan_route r;
	struct hlx_plan_loc loc;
	char norm[HLX_PLAN_ID_MAX];
	size_t i;

	if (hlx_plan_loc_parse(text, strlen(text), &loc)) {
		printf("%lld\t%s\terror\n", (long long)t, text);
		return;
	}
	hlx_plan_loc_format(&loc, norm);
	hlx_plan_route(f, n, &loc, t, &r);
	if (!r.plan || !r.nchain) {
		printf("%lld\t%s\t-\t-\t-\t-\n", (long long)t, norm);
		return;
	}
	printf("%lld\t%s\t%s\t%s@%lld\t%s\t", (long long)t, norm,
	       hlx_plan_signatory(r.plan, r.chain[0]), hlx_plan_name(r.plan),
	       (long long)hlx_plan_version(r.plan), r.rule->id);
	for (i = 1; i < r.nchain; i++)
		printf("%s%s", i > 1 ? "," : "",
		       hlx_plan_signatory(r.plan, r.chain[i]));
	printf("%s\n", r.nchain > 1 ? "" : "-");
}

int main(int argc, char **argv)
{
	struct hlx_plan_book *b = NULL;
	json_error_t je;
	json_t *in, *a, *v, *locs;
	size_t i, j;

	if (argc != 2 || sodium_init() < 0) {
		fprintf(stderr, "usage: plan-route-driver FILE\n");
		return 2;
	}
	in = json_load_file(argv[1], 0, &je);
	if (!in || hlx_plan_book_new(&b)) {
		fprintf(stderr, "plan-route-driver: %s: %s\n", argv[1], je.text);
		return 2;
	}
	a = json_object_get(in, "plans");
	json_array_foreach(a, i, v) {
		struct hlx_plan *p = NULL;

		if (hlx_plan_parse(json_string_value(v), json_string_length(v), 0,
				   &p)) {
			printf("doc %zu refused\n", i);
			continue;
		}
		if (hlx_plan_book_add(b, p))
			return 3;
	}
	a = json_object_get(in, "acts");
	json_array_foreach(a, i, v) {
		struct hlx_plan_act act;

		if (hlx_plan_act_parse_body(json_string_value(v),
					    json_string_length(v), &act)) {
			printf("act %zu refused\n", i);
			continue;
		}
		/* an act for no document held, or not matching it: skipped,
		 * as the model does */
		(void)hlx_plan_book_act(b, &act);
	}
	locs = json_object_get(in, "locations");
	json_array_foreach(json_object_get(in, "times"), i, v) {
		struct hlx_plan_force *f = NULL;
		json_t *l;
		size_t n;

		if (hlx_plan_book_in_force(b, json_integer_value(v), &f, &n))
			return 3;
		json_array_foreach(locs, j, l)
			route_one(f, n, json_integer_value(v), json_string_value(l));
		free(f);
	}
	hlx_plan_book_free(b);
	json_decref(in);
	return 0;
}
