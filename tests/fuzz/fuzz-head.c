/* SPDX-License-Identifier: MIT */
/* Feed heads: a head that parses has a canonical body that re-encodes to
 * itself. */
#include "protocol/err.h"
#include "protocol/head.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hlx_buf body = HLX_BUF_INIT, sig = HLX_BUF_INIT, again = HLX_BUF_INIT;
	struct hlx_head h;

	if (hlx_head_parse((const char *)data, size, &h, &body, &sig) == HLX_OK) {
		if (hlx_head_body(&h, &again) || again.len != body.len ||
		    memcmp(again.data, body.data, body.len) != 0)
			abort();
	}
	hlx_buf_free(&body);
	hlx_buf_free(&sig);
	hlx_buf_free(&again);
	return 0;
}
