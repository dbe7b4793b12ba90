/* SPDX-License-Identifier: MIT */
/* Sharing policies: a policy that parses has a canonical form that parses
 * to the same canonical form, hash and view id; and its evaluation of a
 * fixed entry and status record gives valid records. */
#include "protocol/err.h"
#include "protocol/policy.h"
#include "protocol/record.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_eval(const struct hlx_policy *p)
{
	static const char *const lists[] = { "uk-a", "status", "*",
					     "peer-b/x", "a" };
	struct hlx_entry e, out;
	struct hlx_status s, sout;
	size_t i;

	hlx_entry_init(&e);
	e.hash.type = HLX_HASH_MD5;
	e.hash.len = 16;
	memset(e.hash.bytes, 0xab, 16);
	strcpy(e.category, "a1");
	e.first_seen = 1700000000;
	e.confidence = 80;
	hlx_entry_add_tag(&e, "verified", 8);
	if (hlx_policy_entry(p, &e, &out) == 1 && hlx_entry_validate(&out))
		abort();
	hlx_status_init(&s);
	s.item = e.hash;
	strcpy(s.country, "DE");
	s.state = HLX_STATE_REMOVED;
	s.reported = 1700000123;
	s.changed = 1700100456;
	if (hlx_policy_status(p, &s, 0, &sout) == 1 && hlx_status_validate(&sout))
		abort();
	if (hlx_policy_status(p, &s, 1, &sout) != 0)
		abort();
	for (i = 0; i < hlx_policy_nlists(p); i++)
		if (strcmp(hlx_policy_list_at(p, i), "*") &&
		    !hlx_policy_list(p, hlx_policy_list_at(p, i)))
			abort();
	for (i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		(void)hlx_policy_list(p, lists[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hlx_buf c1 = HLX_BUF_INIT, c2 = HLX_BUF_INIT;
	struct hlx_policy *p = NULL, *q = NULL;
	uint8_t h1[32], h2[32], v1[32], v2[32];

	if (hlx_policy_parse((const char *)data, size, &p) != HLX_OK) {
		if (p)
			abort();
		return 0;
	}
	if (hlx_policy_canonical(p, &c1) ||
	    hlx_policy_parse((char *)c1.data, c1.len, &q) ||
	    hlx_policy_canonical(q, &c2) || c1.len != c2.len ||
	    memcmp(c1.data, c2.data, c1.len))
		abort();
	hlx_policy_hash(p, h1);
	hlx_policy_hash(q, h2);
	hlx_policy_view_id(p, v1);
	hlx_policy_view_id(q, v2);
	if (memcmp(h1, h2, 32) || memcmp(v1, v2, 32) ||
	    strcmp(hlx_policy_name(p), hlx_policy_name(q)) ||
	    hlx_policy_encrypt(p) != hlx_policy_encrypt(q))
		abort();
	crypto_hash_sha256(h2, c1.data, c1.len);
	if (memcmp(h1, h2, 32))
		abort();
	check_eval(p);
	hlx_policy_free(p);
	hlx_policy_free(q);
	hlx_buf_free(&c1);
	hlx_buf_free(&c2);
	return 0;
}
