/* SPDX-License-Identifier: MIT */
/* Feed heads: a head that parses has a canonical body that re-encodes to
 * itself, handling rules included; its rules, if any, re-encode and parse
 * to the same rules. */
#include "protocol/err.h"
#include "protocol/head.h"
#include "protocol/policy.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_rules(const struct hlx_rules *r)
{
	struct hlx_buf b = HLX_BUF_INIT;
	struct hlx_rules again;
	json_t *o;

	if (hlx_rules_validate(r) || hlx_rules_json(r, &b))
		abort();
	o = json_loadb((char *)b.data, b.len, JSON_REJECT_DUPLICATES, NULL);
	if (!o || hlx_rules_from_json(o, &again) ||
	    again.onward != r->onward ||
	    again.retention_days != r->retention_days ||
	    strcmp(again.purpose, r->purpose))
		abort();
	json_decref(o);
	hlx_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hlx_buf body = HLX_BUF_INIT, sig = HLX_BUF_INIT, again = HLX_BUF_INIT;
	struct hlx_head h;

	if (hlx_head_parse((const char *)data, size, &h, &body, &sig) == HLX_OK) {
		if (hlx_head_body(&h, &again) || again.len != body.len ||
		    memcmp(again.data, body.data, body.len) != 0)
			abort();
		if (h.has_rules != (strstr((char *)body.data, "\"rules\":{") != NULL))
			abort();
		if (h.has_rules)
			check_rules(&h.rules);
	}
	hlx_buf_free(&body);
	hlx_buf_free(&sig);
	hlx_buf_free(&again);
	return 0;
}
