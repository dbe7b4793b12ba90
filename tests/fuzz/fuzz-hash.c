/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness: typed hash text forms and URL normalisation.
 * Invariants (abort() on violation):
 *   - the canonical parser accepts only what the lenient one accepts, and
 *     only the exact output of hlx_hash_format;
 *   - parse -> format -> parse gives the same hash;
 *   - a normalised URL is printable ASCII, starts with http:// or
 *     https://, is at most HLX_URL_MAX bytes, and normalising it again
 *     changes nothing;
 *   - failures leave the output buffer as it was and set a printable
 *     detail.
 */
#include "protocol/buf.h"
#include "protocol/err.h"
#include "protocol/hash.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_detail(void)
{
	const unsigned char *d = (const unsigned char *)hlx_err_detail();

	if (!*d)
		abort();
	for (; *d; d++)
		if (*d < 0x20 || *d >= 0x7f)
			abort();
}

static void fuzz_hash(const char *s, size_t n)
{
	struct hlx_hash h, c, back;
	char text[HLX_HASH_TEXT_MAX];
	enum hlx_hash_type t;
	int rc, rcc;
	size_t tl;

	rc = hlx_hash_parse(s, n, &h);
	if (rc)
		check_detail();
	rcc = hlx_hash_parse_canonical(s, n, &c);
	if (rcc)
		check_detail();
	if (!rcc && rc)
		abort();
	if (!hlx_hash_type_parse(s, n, &t) &&
	    (strlen(hlx_hash_type_name(t)) != n ||
	     memcmp(hlx_hash_type_name(t), s, n)))
		abort();
	if (rc)
		return;
	if (hlx_hash_validate(&h) || hlx_hash_format(&h, text, sizeof(text)))
		abort();
	tl = strlen(text);
	if (tl != n)
		abort(); /* same length, only the case may differ */
	if (!rcc != !memcmp(text, s, n))
		abort();
	if (!rcc && (hlx_hash_cmp(&h, &c) || c.len != h.len))
		abort();
	if (hlx_hash_parse_canonical(text, tl, &back) ||
	    hlx_hash_cmp(&back, &h) || back.type != h.type ||
	    back.len != h.len || memcmp(back.bytes, h.bytes, h.len))
		abort();
	if (hlx_hash_format(&h, text, tl) != HLX_ETOOBIG ||
	    hlx_hash_format(&h, text, tl + 1))
		abort();
}

static void fuzz_url(const char *s, size_t n)
{
	struct hlx_buf b = HLX_BUF_INIT, b2 = HLX_BUF_INIT;
	struct hlx_hash h;
	size_t i;
	int rc;

	hlx_buf_puts(&b, "x");
	rc = hlx_url_normalise(s, n, &b);
	if (rc) {
		check_detail();
		if (b.len != 1 || b.data[0] != 'x' || b.data[1])
			abort();
		if (!hlx_url_hash(s, n, &h))
			abort();
		goto out;
	}
	if (b.len - 1 > HLX_URL_MAX || b.data[b.len])
		abort();
	if (strncmp((char *)b.data + 1, "http://", 7) &&
	    strncmp((char *)b.data + 1, "https://", 8))
		abort();
	for (i = 1; i < b.len; i++)
		if (b.data[i] <= 0x20 || b.data[i] >= 0x7f || b.data[i] == '#')
			abort();
	if (hlx_url_normalise((char *)b.data + 1, b.len - 1, &b2) ||
	    b2.len != b.len - 1 || memcmp(b2.data, b.data + 1, b2.len))
		abort();
	if (hlx_url_hash(s, n, &h) || h.type != HLX_HASH_URL_SHA256 ||
	    h.len != 32)
		abort();
out:
	hlx_buf_free(&b);
	hlx_buf_free(&b2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_hash((const char *)data, size);
	fuzz_url((const char *)data, size);
	return 0;
}
