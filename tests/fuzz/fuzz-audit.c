/* SPDX-License-Identifier: MIT */
/* Audit log lines: a line that parses is canonical, so it formats back to
 * exactly its bytes; its signed message is the line without "sig"; and
 * parsing the formatted line gives the same record. */
#include "node/audit.h"
#include "protocol/err.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hlx_buf line = HLX_BUF_INIT, body = HLX_BUF_INIT;
	struct hlx_audit_line a, b;

	if (hlx_audit_parse((const char *)data, size, &a) == HLX_OK) {
		if (hlx_audit_format(&a, 1, &line) || line.len != size ||
		    memcmp(line.data, data, size) != 0)
			abort();
		if (hlx_audit_format(&a, 0, &body) || body.len >= line.len ||
		    strstr((const char *)body.data, "\"sig\":"))
			abort();
		if (hlx_audit_parse((const char *)line.data, line.len, &b) ||
		    memcmp(&a.rec, &b.rec, sizeof(a.rec)) != 0 ||
		    strcmp(a.prev, b.prev) || memcmp(a.sig, b.sig, sizeof(a.sig)))
			abort();
	}
	hlx_buf_free(&line);
	hlx_buf_free(&body);
	return 0;
}
