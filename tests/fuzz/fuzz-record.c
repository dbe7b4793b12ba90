/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness: canonical entry and status lines, their JSON forms,
 * and timestamps.  Invariants (abort() on violation):
 *   - a decoded line validates and encodes back to exactly the input;
 *   - accepted JSON validates, and JSON -> struct -> JSON -> struct ->
 *     JSON and line -> struct -> line are fixed points;
 *   - an accepted time formats back to exactly the input;
 *   - failures set a printable detail and leave output buffers alone.
 */
#include "protocol/buf.h"
#include "protocol/err.h"
#include "protocol/record.h"
#include "protocol/rtime.h"

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

static int same(const struct hlx_buf *a, const struct hlx_buf *b)
{
	return a->len == b->len &&
	       (!a->len || !memcmp(a->data, b->data, a->len));
}

/* line -> entry -> line, and entry -> JSON -> entry -> line */
static void entry_checks(const struct hlx_entry *e, const char *line,
			 size_t n)
{
	struct hlx_buf l = HLX_BUF_INIT, j = HLX_BUF_INIT, j2 = HLX_BUF_INIT,
		       l2 = HLX_BUF_INIT;
	struct hlx_entry e2, e3;

	if (hlx_entry_validate(e) || hlx_entry_encode(e, &l))
		abort();
	if (line && (l.len != n || memcmp(l.data, line, n)))
		abort();
	if (hlx_entry_decode((char *)l.data, l.len, &e2) ||
	    hlx_entry_to_json(e, &j) ||
	    hlx_entry_from_json((char *)j.data, j.len, &e3) ||
	    hlx_entry_to_json(&e3, &j2) || !same(&j, &j2) ||
	    hlx_entry_encode(&e3, &l2) || !same(&l, &l2))
		abort();
	hlx_buf_reset(&l2);
	if (hlx_entry_encode(&e2, &l2) || !same(&l, &l2))
		abort();
	hlx_buf_free(&l);
	hlx_buf_free(&l2);
	hlx_buf_free(&j);
	hlx_buf_free(&j2);
}

static void status_checks(const struct hlx_status *s, const char *line,
			  size_t n)
{
	struct hlx_buf l = HLX_BUF_INIT, j = HLX_BUF_INIT, j2 = HLX_BUF_INIT,
		       l2 = HLX_BUF_INIT;
	struct hlx_status s2, s3;

	if (hlx_status_validate(s) || hlx_status_encode(s, &l))
		abort();
	if (line && (l.len != n || memcmp(l.data, line, n)))
		abort();
	if (hlx_status_decode((char *)l.data, l.len, &s2) ||
	    hlx_status_to_json(s, &j) ||
	    hlx_status_from_json((char *)j.data, j.len, &s3) ||
	    hlx_status_to_json(&s3, &j2) || !same(&j, &j2) ||
	    hlx_status_encode(&s3, &l2) || !same(&l, &l2))
		abort();
	hlx_buf_reset(&l2);
	if (hlx_status_encode(&s2, &l2) || !same(&l, &l2))
		abort();
	hlx_buf_free(&l);
	hlx_buf_free(&l2);
	hlx_buf_free(&j);
	hlx_buf_free(&j2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct hlx_entry e;
	struct hlx_status st;
	char text[HLX_TIME_TEXT];
	int64_t t;

	if (!hlx_entry_decode(s, size, &e))
		entry_checks(&e, s, size);
	else
		check_detail();
	if (!hlx_status_decode(s, size, &st))
		status_checks(&st, s, size);
	else
		check_detail();
	if (!hlx_entry_from_json(s, size, &e))
		entry_checks(&e, NULL, 0);
	else
		check_detail();
	if (!hlx_status_from_json(s, size, &st))
		status_checks(&st, NULL, 0);
	else
		check_detail();
	if (!hlx_time_parse(s, size, &t)) {
		if (!hlx_time_valid(t))
			abort();
		hlx_time_format(t, text);
		if (size != 20 || memcmp(text, s, 20))
			abort();
	} else {
		check_detail();
	}
	return 0;
}
