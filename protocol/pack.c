/* SPDX-License-Identifier: MIT */
#include "protocol/pack.h"
#include "protocol/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { S_HEADER, S_OBJHDR, S_DATA, S_TRAILER };

#define TRAILER_LEN 20

static const char *type_name(int t)
{
	switch (t) {
	case HLX_PACK_COMMIT: return "commit";
	case HLX_PACK_TREE: return "tree";
	case HLX_PACK_BLOB: return "blob";
	case HLX_PACK_TAG: return "tag";
	case HLX_PACK_OFS_DELTA: return "ofs-delta";
	case HLX_PACK_REF_DELTA: return "ref-delta";
	default: return "invalid";
	}
}

static uint64_t type_max(int t)
{
	switch (t) {
	case HLX_PACK_COMMIT: return HLX_PACKSCAN_COMMIT_MAX;
	case HLX_PACK_TREE: return HLX_PACKSCAN_TREE_MAX;
	case HLX_PACK_BLOB: return HLX_PACKSCAN_BLOB_MAX;
	default: return 0;
	}
}

static void zfree_(struct hlx_packscan *s)
{
	if (s->zinit)
		inflateEnd(&s->z);
	s->zinit = 0;
}

int hlx_packscan_init(struct hlx_packscan *s)
{
	memset(s, 0, sizeof(*s));
	if (inflateInit(&s->z) != Z_OK) {
		s->failed = 1;
		return hlx_err(HLX_ENOMEM, "pack: cannot start zlib");
	}
	s->zinit = 1;
	return HLX_OK;
}

void hlx_packscan_free(struct hlx_packscan *s)
{
	zfree_(s);
}

__attribute__((format(printf, 3, 4)))
static int fail(struct hlx_packscan *s, int code, const char *fmt, ...);

static int fail(struct hlx_packscan *s, int code, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	s->failed = 1;
	zfree_(s);
	if (s->state == S_OBJHDR || s->state == S_DATA)
		return hlx_err(code, "pack: object %u of %u (%s) at byte %llu: %s",
			       s->seen, s->count, type_name(s->type),
			       (unsigned long long)s->read, msg);
	return hlx_err(code, "pack: at byte %llu: %s",
		       (unsigned long long)s->read, msg);
}

static int header_done(struct hlx_packscan *s)
{
	const uint8_t *h = s->hdr;
	uint32_t v = (uint32_t)h[4] << 24 | (uint32_t)h[5] << 16 |
		     (uint32_t)h[6] << 8 | h[7];

	s->count = (uint32_t)h[8] << 24 | (uint32_t)h[9] << 16 |
		   (uint32_t)h[10] << 8 | h[11];
	if (memcmp(h, "PACK", 4) != 0)
		return fail(s, HLX_EINVAL, "not a git pack (no 'PACK' signature)");
	if (v != 2)
		return fail(s, HLX_EINVAL, "pack version %u, hlx writes version 2", v);
	if (s->count == 0)
		return fail(s, HLX_EINVAL, "the pack declares no objects");
	if (s->count > HLX_PACKSCAN_OBJECTS_MAX)
		return fail(s, HLX_ETOOBIG, "the pack declares %u objects, at most %u",
			    s->count, HLX_PACKSCAN_OBJECTS_MAX);
	s->state = S_OBJHDR;
	return HLX_OK;
}

/* One byte of an object header: type and size (a little-endian varint,
 * 4 bits in the first byte, 7 in each next one). */
static int objhdr_byte(struct hlx_packscan *s, uint8_t c)
{
	if (s->shift == 0) {
		s->seen++;
		s->type = (c >> 4) & 7;
		s->size = c & 15;
		s->out = 0;
		if (!type_max(s->type))
			return fail(s, HLX_EINVAL,
				    "hlx packs hold only commits, trees and blobs");
		s->shift = 4;
	} else {
		if (s->shift > 32) /* past any bound below, never past 64 bits */
			return fail(s, HLX_ETOOBIG, "its size field is too long");
		s->size |= (uint64_t)(c & 0x7f) << s->shift;
		s->shift += 7;
	}
	if (s->size > type_max(s->type))
		return fail(s, HLX_ETOOBIG, "it declares more than %llu bytes",
			    (unsigned long long)type_max(s->type));
	if (c & 0x80)
		return HLX_OK;
	s->shift = 0;
	if (s->inflated + s->size > HLX_PACKSCAN_INFLATED_MAX)
		return fail(s, HLX_ETOOBIG,
			    "the objects declare more than %llu bytes in all",
			    (unsigned long long)HLX_PACKSCAN_INFLATED_MAX);
	if (inflateReset(&s->z) != Z_OK)
		return fail(s, HLX_EINVAL, "zlib cannot restart");
	s->state = S_DATA;
	if (s->obj)
		s->obj(s->ctx, s->type, s->size);
	return HLX_OK;
}

/* Inflate what there is of the current object; *used: input consumed. */
static int inflate_some(struct hlx_packscan *s, const uint8_t *p, size_t n,
			size_t *used)
{
	uInt give = n > 1u << 30 ? 1u << 30 : (uInt)n;
	int zr;

	s->z.next_in = (Bytef *)(uintptr_t)p;
	s->z.avail_in = give;
	for (;;) {
		uInt before = s->z.avail_in;
		uint64_t got;

		s->z.next_out = s->sink;
		s->z.avail_out = sizeof(s->sink);
		zr = inflate(&s->z, Z_NO_FLUSH);
		got = sizeof(s->sink) - s->z.avail_out;
		s->read += before - s->z.avail_in;
		s->out += got;
		s->inflated += got;
		if (s->out > s->size)
			return fail(s, HLX_EINVAL,
				    "it inflates past its declared %llu bytes",
				    (unsigned long long)s->size);
		if (s->inflated > (uint64_t)HLX_PACKSCAN_RATIO * s->read +
					  HLX_PACKSCAN_SLACK)
			return fail(s, HLX_ETOOBIG,
				    "%llu bytes inflate to more than %u times as many",
				    (unsigned long long)s->read, HLX_PACKSCAN_RATIO);
		if (s->data && got)
			s->data(s->ctx, s->sink, (size_t)got, 0);
		if (zr == Z_STREAM_END) {
			if (s->out != s->size)
				return fail(s, HLX_EINVAL,
					    "it inflates to %llu bytes, not the %llu declared",
					    (unsigned long long)s->out,
					    (unsigned long long)s->size);
			if (s->data)
				s->data(s->ctx, NULL, 0, 1);
			s->state = s->seen == s->count ? S_TRAILER : S_OBJHDR;
			break;
		}
		if (zr == Z_BUF_ERROR && got == 0 && s->z.avail_in == 0)
			break; /* needs more input */
		if (zr != Z_OK)
			return fail(s, HLX_EINVAL, "bad compressed data (%s)",
				    s->z.msg ? s->z.msg : "zlib");
		if (s->z.avail_in == 0 && s->z.avail_out != 0)
			break;
	}
	*used = give - s->z.avail_in;
	return HLX_OK;
}

int hlx_packscan_feed(struct hlx_packscan *s, const void *data, size_t n)
{
	const uint8_t *p = data;
	int rc = HLX_OK;

	if (s->failed)
		return hlx_err(HLX_EINVAL, "pack: already refused");
	while (n && !rc) {
		size_t k;

		switch (s->state) {
		case S_HEADER:
			k = sizeof(s->hdr) - s->hdrlen < n ? sizeof(s->hdr) - s->hdrlen : n;
			memcpy(s->hdr + s->hdrlen, p, k);
			s->hdrlen += k;
			s->read += k;
			if (s->hdrlen == sizeof(s->hdr))
				rc = header_done(s);
			break;
		case S_OBJHDR:
			k = 1;
			s->read++;
			rc = objhdr_byte(s, *p);
			break;
		case S_DATA:
			k = 0;
			rc = inflate_some(s, p, n, &k);
			break;
		default: /* S_TRAILER */
			if (n > TRAILER_LEN - s->trailer)
				return fail(s, HLX_EINVAL,
					    "%zu bytes after the pack's last object and trailer",
					    n - (TRAILER_LEN - s->trailer));
			s->trailer += n;
			s->read += n;
			k = n;
			break;
		}
		p += k;
		n -= k;
	}
	return rc;
}

int hlx_packscan_finish(struct hlx_packscan *s)
{
	if (s->failed)
		return hlx_err(HLX_EINVAL, "pack: already refused");
	switch (s->state) {
	case S_HEADER:
		return fail(s, HLX_EINVAL, "truncated in its header");
	case S_OBJHDR:
	case S_DATA:
		s->state = S_TRAILER; /* the message names no object */
		return fail(s, HLX_EINVAL,
			    "truncated in object %u of the %u it declares",
			    s->seen ? s->seen : 1, s->count);
	default:
		if (s->trailer != TRAILER_LEN)
			return fail(s, HLX_EINVAL, "truncated in its trailer");
	}
	zfree_(s);
	return HLX_OK;
}

int hlx_packscan_buf(const void *data, size_t n)
{
	struct hlx_packscan *s = NULL;
	int rc;

	/* the state is 16 KiB: not on a small stack */
	s = calloc(1, sizeof(*s));
	if (!s)
		return hlx_err(HLX_ENOMEM, "pack: out of memory");
	rc = hlx_packscan_init(s);
	if (!rc)
		rc = hlx_packscan_feed(s, data, n);
	if (!rc)
		rc = hlx_packscan_finish(s);
	hlx_packscan_free(s);
	free(s);
	return rc;
}
