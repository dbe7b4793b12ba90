/* SPDX-License-Identifier: MIT */
/* The raw URL of a case as fetched from a peer's feed (node/caseurl.h):
 * open arbitrary input with a fixed box key for a fixed case.  Invariants:
 * a refusal leaves the output as it was; what is accepted is a normalised
 * URL (normalising it again gives the same bytes) whose url-sha256 is the
 * case id.  tests/fuzz/corpus/caseurl/ holds envelopes sealed to the key:
 * the case's URL, another URL, another context. */
#include "node/caseurl.h"
#include "node/urls.h"
#include "protocol/err.h"

#include <stdlib.h>
#include <string.h>

#define CASE_URL "https://example.org/fuzz/case"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t seed[HLX_SEED_LEN] = "hlx fuzz case-url key, 32 bytes";

static struct hlx_boxkey *key(void)
{
	static struct hlx_boxkey *k;
	struct hlx_seckey *sk;

	if (!k) {
		if (hlx_seckey_from_seed(seed, &sk) ||
		    hlx_boxkey_from_seckey(sk, &k))
			abort();
		hlx_seckey_free(sk);
	}
	return k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hlx_buf out = HLX_BUF_INIT, again = HLX_BUF_INIT;
	struct hlx_hash id, check;
	int rc;
	struct hlx_boxkey *k = key(); /* first: it initialises libsodium */

	if (hlx_urls_item(CASE_URL, strlen(CASE_URL), &id, NULL))
		abort();
	rc = hlx_caseurl_open(data, size, k, &id, &out);
	if (rc != HLX_OK && out.len != 0)
		abort();
	if (rc == HLX_OK) {
		if (hlx_urls_item((const char *)out.data, out.len, &check, &again) ||
		    again.len != out.len || memcmp(again.data, out.data, out.len) ||
		    check.len != id.len || memcmp(check.bytes, id.bytes, id.len))
			abort();
	}
	hlx_buf_free(&out);
	hlx_buf_free(&again);
	return 0;
}
