/* SPDX-License-Identifier: MIT */
/* Prune checkpoints: a checkpoint that parses has a canonical body that
 * re-encodes to itself, and parses again to the same value. */
#include "protocol/checkpoint.h"
#include "protocol/err.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hlx_buf body = HLX_BUF_INIT, sig = HLX_BUF_INIT, again = HLX_BUF_INIT,
		       file = HLX_BUF_INIT, b2 = HLX_BUF_INIT, s2 = HLX_BUF_INIT;
	struct hlx_checkpoint c, d;

	hlx_checkpoint_init(&c);
	hlx_checkpoint_init(&d);
	if (hlx_checkpoint_parse((const char *)data, size, &c, &body, &sig) == HLX_OK) {
		if (hlx_checkpoint_body(&c, &again) || again.len != body.len ||
		    memcmp(again.data, body.data, body.len) != 0)
			abort();
		if (hlx_checkpoint_file((const char *)body.data, body.len,
					(const char *)sig.data, sig.len, &file) ||
		    hlx_checkpoint_parse((const char *)file.data, file.len, &d, &b2,
					 &s2) ||
		    d.n != c.n || d.before != c.before || d.issued != c.issued ||
		    strcmp(d.org, c.org) || strcmp(d.list, c.list) ||
		    memcmp(d.v, c.v, c.n * sizeof(*c.v)) != 0 ||
		    d.nprior != c.nprior ||
		    (c.nprior && memcmp(d.prior, c.prior, c.nprior * sizeof(*c.prior))) ||
		    s2.len != sig.len || memcmp(s2.data, sig.data, sig.len) != 0)
			abort();
	}
	hlx_checkpoint_free(&c);
	hlx_checkpoint_free(&d);
	hlx_buf_free(&body);
	hlx_buf_free(&sig);
	hlx_buf_free(&again);
	hlx_buf_free(&file);
	hlx_buf_free(&b2);
	hlx_buf_free(&s2);
	return 0;
}
