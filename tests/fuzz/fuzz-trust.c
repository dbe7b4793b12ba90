/* SPDX-License-Identifier: MIT */
/* Trust chains: load against a fixed pinned root; a chain that loads must
 * serialise to something that loads to the same state. */
#include "keys/trust.h"
#include "protocol/err.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The seed corpus (tests/fuzz/corpus/trust) was made with root keys whose
 * Ed25519 seeds are 32 bytes of 0x01 (first root) and 0x02 (rotated). */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct hlx_pubkey pinned;
	static int init;
	struct hlx_trust *t = NULL, *u = NULL;
	struct hlx_buf b = HLX_BUF_INIT;

	if (!init) {
		uint8_t seed[HLX_SEED_LEN];
		struct hlx_seckey *k;

		memset(seed, 1, sizeof(seed));
		if (hlx_seckey_from_seed(seed, &k))
			abort();
		hlx_seckey_public(k, &pinned);
		hlx_seckey_free(k);
		init = 1;
	}
	if (hlx_trust_load((const char *)data, size, &pinned, &t) != HLX_OK) {
		if (t)
			abort();
		return 0;
	}
	if (hlx_trust_serialize(t, &b) ||
	    hlx_trust_load((const char *)b.data, b.len, &pinned, &u) ||
	    hlx_trust_length(t) != hlx_trust_length(u) ||
	    hlx_trust_nkeys(t) != hlx_trust_nkeys(u))
		abort();
	hlx_trust_free(t);
	hlx_trust_free(u);
	hlx_buf_free(&b);
	return 0;
}
