/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for keys/sshkey.c: the input is tried as a public key
 * line and as a wire blob.  Invariants: a parsed line formats and parses
 * back to the same key and comment; a decoded blob encodes back to exactly
 * the input; a fingerprint is always "SHA256:" + 43 characters.
 */
#include "keys/key.h"
#include "keys/sshkey.h"
#include "protocol/buf.h"
#include "protocol/err.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hlx_buf c = HLX_BUF_INIT, c2 = HLX_BUF_INIT;
	struct hlx_buf line = HLX_BUF_INIT, blob = HLX_BUF_INIT;
	struct hlx_pubkey k, k2;
	char fpr[HLX_FPR_LEN];
	int rc;

	rc = hlx_sshkey_parse((const char *)data, size, &k, &c);
	if (rc == HLX_OK) {
		if (!c.data || strlen((char *)c.data) != c.len)
			abort();
		if (hlx_sshkey_format(&k, (char *)c.data, &line))
			abort();
		if (hlx_sshkey_parse((char *)line.data, line.len, &k2, &c2) ||
		    !hlx_pubkey_eq(&k, &k2) || c2.len != c.len ||
		    memcmp(c.data, c2.data, c.len) != 0)
			abort();
		hlx_sshkey_fingerprint(&k, fpr);
		if (strlen(fpr) != HLX_FPR_LEN - 1 ||
		    memcmp(fpr, "SHA256:", 7) != 0)
			abort();
	} else if (rc != HLX_EINVAL && rc != HLX_EUNSUPPORTED &&
		   rc != HLX_ETOOBIG) {
		abort();
	}

	rc = hlx_sshkey_decode_blob(data, size, &k);
	if (rc == HLX_OK) {
		if (hlx_sshkey_encode_blob(&k, &blob) ||
		    blob.len != size || memcmp(blob.data, data, size) != 0)
			abort();
	} else if (rc != HLX_EINVAL && rc != HLX_EUNSUPPORTED) {
		abort();
	}
	(void)hlx_sshkey_known_type((const char *)data, size);

	hlx_buf_free(&c);
	hlx_buf_free(&c2);
	hlx_buf_free(&line);
	hlx_buf_free(&blob);
	return 0;
}
