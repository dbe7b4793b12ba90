/* SPDX-License-Identifier: MIT */
/* The bounded pack scanner (protocol/pack.h): what hlx writes passes, in
 * chunks of any size; deltas, tags, oversized, truncated, miscounted,
 * mis-sized and over-compressed packs and trailing bytes are refused. */
#include "tap.h"
#include "protocol/buf.h"
#include "protocol/pack.h"

#include <zlib.h>

static void put32(struct hlx_buf *b, uint32_t v)
{
	uint8_t x[4] = { v >> 24, v >> 16, v >> 8, v };

	hlx_buf_put(b, x, 4);
}

static void pack_start(struct hlx_buf *b, uint32_t version, uint32_t count)
{
	hlx_buf_reset(b);
	hlx_buf_put(b, "PACK", 4);
	put32(b, version);
	put32(b, count);
}

static void objhdr(struct hlx_buf *b, int type, uint64_t size)
{
	uint8_t c = (uint8_t)(type << 4 | (size & 15));

	size >>= 4;
	while (size) {
		hlx_buf_putc(b, c | 0x80);
		c = size & 0x7f;
		size >>= 7;
	}
	hlx_buf_putc(b, c);
}

static void deflated(struct hlx_buf *b, const void *data, size_t n)
{
	uLongf out = compressBound(n);

	hlx_buf_reserve(b, out);
	if (compress2(b->data + b->len, &out, data, n, 9) != Z_OK)
		abort();
	b->len += out;
}

/* An object whose header declares size and whose data is data[0..n). */
static void object(struct hlx_buf *b, int type, uint64_t size, const void *data,
		   size_t n)
{
	objhdr(b, type, size);
	deflated(b, data, n);
}

static void trailer(struct hlx_buf *b)
{
	hlx_buf_put(b, "01234567890123456789", 20);
}

static const char commit[] =
	"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n"
	"author hlx <org-a@hlx.invalid> 1700000000 +0000\n"
	"committer hlx <org-a@hlx.invalid> 1700000000 +0000\n\n"
	"hlx: uk-a version 1\n";
static const char tree[] = "40000 md5\0aaaaaaaaaaaaaaaaaaaa";
static const char blob[] = "md5:0123456789abcdef0123456789abcdef\tcat\n";

static void good(struct hlx_buf *b)
{
	pack_start(b, 2, 3);
	object(b, HLX_PACK_COMMIT, sizeof(commit) - 1, commit, sizeof(commit) - 1);
	object(b, HLX_PACK_TREE, sizeof(tree) - 1, tree, sizeof(tree) - 1);
	object(b, HLX_PACK_BLOB, sizeof(blob) - 1, blob, sizeof(blob) - 1);
	trailer(b);
}

static int scan_chunks(const uint8_t *p, size_t n, size_t chunk)
{
	struct hlx_packscan *s = malloc(sizeof(*s));
	int rc = hlx_packscan_init(s);

	for (size_t i = 0; !rc && i < n; i += chunk)
		rc = hlx_packscan_feed(s, p + i, n - i < chunk ? n - i : chunk);
	if (!rc)
		rc = hlx_packscan_finish(s);
	hlx_packscan_free(s);
	free(s);
	return rc;
}

#define refused(b, want, pat, desc)                                         \
	do {                                                                \
		int r_ = hlx_packscan_buf((b)->data, (b)->len);             \
		is_rc(r_, want, "%s: refused", desc);                       \
		ok(strstr(hlx_err_detail(), pat) != NULL,                   \
		   "%s: the error says '%s' (%s)", desc, pat,               \
		   hlx_err_detail());                                       \
	} while (0)

int main(void)
{
	struct hlx_buf b = HLX_BUF_INIT, x = HLX_BUF_INIT;
	static const size_t chunks[] = { 1, 2, 3, 7, 64, 1 << 16 };
	uint8_t *big;

	good(&b);
	is_rc(hlx_packscan_buf(b.data, b.len), HLX_OK, "a pack of a commit, a tree and a blob");
	for (size_t i = 0; i < sizeof(chunks) / sizeof(*chunks); i++)
		is_rc(scan_chunks(b.data, b.len, chunks[i]), HLX_OK,
		      "the same fed %zu bytes at a time", chunks[i]);

	/* what hlx never writes */
	{
		static const struct { int type; const char *name; } t[] = {
			{ HLX_PACK_OFS_DELTA, "ofs-delta" },
			{ HLX_PACK_REF_DELTA, "ref-delta" },
			{ HLX_PACK_TAG, "tag" },
			{ 0, "invalid" },
			{ 5, "invalid" },
		};
		for (size_t i = 0; i < sizeof(t) / sizeof(*t); i++) {
			char desc[64];

			pack_start(&b, 2, 2);
			object(&b, HLX_PACK_BLOB, sizeof(blob) - 1, blob, sizeof(blob) - 1);
			object(&b, t[i].type, 10, "0123456789", 10);
			trailer(&b);
			snprintf(desc, sizeof(desc), "an object of type %d (%s)",
				 t[i].type, t[i].name);
			refused(&b, HLX_EINVAL, t[i].name, desc);
		}
	}
	/* a delta bomb: an ofs-delta declaring 1 GiB, refused at its header */
	pack_start(&b, 2, 2);
	object(&b, HLX_PACK_BLOB, sizeof(blob) - 1, blob, sizeof(blob) - 1);
	objhdr(&b, HLX_PACK_OFS_DELTA, 40);
	refused(&b, HLX_EINVAL, "object 2 of 2 (ofs-delta)", "a delta bomb's header");

	/* the pack header */
	good(&b);
	memcpy(b.data, "PACX", 4);
	refused(&b, HLX_EINVAL, "not a git pack", "no PACK signature");
	pack_start(&b, 3, 1);
	object(&b, HLX_PACK_BLOB, sizeof(blob) - 1, blob, sizeof(blob) - 1);
	trailer(&b);
	refused(&b, HLX_EINVAL, "version 3", "pack version 3");
	pack_start(&b, 2, 0);
	trailer(&b);
	refused(&b, HLX_EINVAL, "no objects", "no objects");
	pack_start(&b, 2, HLX_PACKSCAN_OBJECTS_MAX + 1);
	object(&b, HLX_PACK_BLOB, sizeof(blob) - 1, blob, sizeof(blob) - 1);
	refused(&b, HLX_ETOOBIG, "objects, at most", "too many objects declared");

	/* declared sizes: each type's bound, at the header */
	pack_start(&b, 2, 1);
	objhdr(&b, HLX_PACK_BLOB, HLX_PACKSCAN_BLOB_MAX + 1ull);
	refused(&b, HLX_ETOOBIG, "declares more than", "a blob over its bound");
	pack_start(&b, 2, 1);
	objhdr(&b, HLX_PACK_TREE, HLX_PACKSCAN_TREE_MAX + 1ull);
	refused(&b, HLX_ETOOBIG, "declares more than", "a tree over its bound");
	pack_start(&b, 2, 1);
	objhdr(&b, HLX_PACK_COMMIT, HLX_PACKSCAN_COMMIT_MAX + 1ull);
	refused(&b, HLX_ETOOBIG, "declares more than", "a commit over its bound");
	pack_start(&b, 2, 1);
	hlx_buf_put(&b, "\xb0\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01", 12);
	refused(&b, HLX_ETOOBIG, "", "an endless size field");
	/* the total declared: a blob within its bound after objects that
	 * inflated to almost all of it */
	pack_start(&b, 2, 200);
	objhdr(&b, HLX_PACK_BLOB, HLX_PACKSCAN_BLOB_MAX);
	hlx_buf_reset(&x);
	{
		struct hlx_packscan *s = malloc(sizeof(*s));
		int rc = hlx_packscan_init(s);

		s->inflated = HLX_PACKSCAN_INFLATED_MAX - 10; /* as if read */
		rc = hlx_packscan_feed(s, b.data, b.len);
		is_rc(rc, HLX_ETOOBIG, "past the total of declared bytes: refused");
		ok(strstr(hlx_err_detail(), "in all") != NULL, "and said (%s)",
		   hlx_err_detail());
		hlx_packscan_free(s);
		free(s);
	}

	/* sizes that do not match */
	pack_start(&b, 2, 1);
	object(&b, HLX_PACK_BLOB, sizeof(blob), blob, sizeof(blob) - 1);
	trailer(&b);
	refused(&b, HLX_EINVAL, "not the", "inflates to less than declared");
	pack_start(&b, 2, 1);
	object(&b, HLX_PACK_BLOB, sizeof(blob) - 2, blob, sizeof(blob) - 1);
	trailer(&b);
	refused(&b, HLX_EINVAL, "past its declared", "inflates to more than declared");
	pack_start(&b, 2, 1);
	objhdr(&b, HLX_PACK_BLOB, 10);
	hlx_buf_put(&b, "\x78\x9c\xff\xff\xff\xff\xff\xff", 8);
	trailer(&b);
	refused(&b, HLX_EINVAL, "bad compressed data", "bad zlib data");

	/* far more inflated than read: 16 MiB of zeros in 16 KiB */
	big = calloc(1, 16 << 20);
	pack_start(&b, 2, 1);
	object(&b, HLX_PACK_BLOB, 16 << 20, big, 16 << 20);
	trailer(&b);
	free(big);
	refused(&b, HLX_ETOOBIG, "times as many", "a compression ratio no hlx pack has");

	/* counts, truncation, trailing bytes */
	good(&b);
	b.data[11] = 4;
	refused(&b, HLX_EINVAL, "", "a header declaring more objects than there are");
	good(&b);
	b.data[11] = 2;
	refused(&b, HLX_EINVAL, "after the pack's last object", "a header declaring fewer");
	good(&b);
	hlx_buf_putc(&b, 0);
	refused(&b, HLX_EINVAL, "1 bytes after", "a byte after the trailer");
	good(&b);
	{
		size_t cuts[] = { 0, 5, 12, 13, 20, b.len - 25, b.len - 20, b.len - 1 };

		for (size_t i = 0; i < sizeof(cuts) / sizeof(*cuts); i++) {
			int rc = hlx_packscan_buf(b.data, cuts[i]);

			is_rc(rc, HLX_EINVAL, "cut after %zu of %zu bytes: refused",
			      cuts[i], b.len);
			ok(strstr(hlx_err_detail(), "truncated") != NULL,
			   "and said truncated (%s)", hlx_err_detail());
		}
	}
	/* once refused, always refused */
	{
		struct hlx_packscan *s = malloc(sizeof(*s));

		hlx_packscan_init(s);
		is_rc(hlx_packscan_feed(s, "PACX", 4), HLX_OK, "(4 bytes of a header)");
		is_rc(hlx_packscan_feed(s, "\0\0\0\2\0\0\0\1", 8), HLX_EINVAL, "a bad header");
		good(&b);
		is_rc(hlx_packscan_feed(s, b.data + 12, b.len - 12), HLX_EINVAL,
		      "then anything else is refused");
		is_rc(hlx_packscan_finish(s), HLX_EINVAL, "and so is the end");
		hlx_packscan_free(s);
		hlx_packscan_free(s);
		free(s);
	}
	hlx_buf_free(&b);
	hlx_buf_free(&x);
	return done_testing();
}
