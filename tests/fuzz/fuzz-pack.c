/* SPDX-License-Identifier: MIT */
/* Packs as a subscriber receives them (node/sync.c fetch_packs): the
 * bounded scanner (protocol/pack.h) on arbitrary bytes, whole and in
 * chunks of any size (the same verdict); what it passes is indexed by
 * libgit2 into a fresh staging repository (node/packs.c), and every commit
 * in it is read and its history checked as sync verifies it
 * (node/history.c), all within libFuzzer's memory limit. */
#include "node/history.h"
#include "node/packs.h"
#include "protocol/err.h"
#include "protocol/pack.h"

#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int chunked(const uint8_t *data, size_t size, size_t chunk)
{
	static struct hlx_packscan s;
	int rc = hlx_packscan_init(&s);

	for (size_t i = 0; !rc && i < size; i += chunk)
		rc = hlx_packscan_feed(&s, data + i, size - i < chunk ? size - i : chunk);
	if (!rc)
		rc = hlx_packscan_finish(&s);
	hlx_packscan_free(&s);
	return rc;
}

struct commits {
	git_oid v[4];
	size_t n;
	git_odb *odb;
};

static int each(const git_oid *id, void *ctx)
{
	struct commits *c = ctx;
	git_object_t t;
	size_t len;

	if (c->n < 4 && git_odb_read_header(&len, &t, c->odb, id) == 0 &&
	    t == GIT_OBJECT_COMMIT)
		c->v[c->n++] = *id;
	return 0;
}

static int line(void *ctx, const char *l, size_t n)
{
	(void)ctx;
	(void)l;
	(void)n;
	return HLX_OK;
}

static void verify(const char *stage)
{
	struct hlx_hist *h = NULL;
	struct commits c = { .n = 0 };
	git_repository *r = NULL;
	char hex[41];

	if (git_repository_open(&r, stage) < 0 ||
	    git_repository_odb(&c.odb, r) < 0 ||
	    git_odb_foreach(c.odb, each, &c) < 0)
		c.n = 0;
	git_odb_free(c.odb);
	git_repository_free(r);
	if (c.n == 0 || hlx_hist_open(stage, 0, &h))
		return;
	for (size_t i = 0; i < c.n; i++) {
		struct hlx_hist_version v;
		char cur[41] = "";

		git_oid_tostr(hex, sizeof(hex), &c.v[i]);
		hlx_hist_head(h, cur);
		if (hlx_hist_set_head(h, cur[0] ? cur : NULL, hex))
			continue;
		hlx_hist_read_version(h, hex, &v);
		if (hlx_hist_check_chain(h) == HLX_OK)
			hlx_hist_foreach(h, hex, line, NULL);
	}
	hlx_hist_free(h);
}

/* SHA-1 (FIPS 180-4), only to give a mutated pack the trailer libgit2
 * checks, so that mutations reach the indexer and the verification. */
#define ROL(x, n) (((x) << (n)) | ((x) >> (32 - (n))))
static void sha1(const uint8_t *p, size_t n, uint8_t out[20])
{
	uint32_t h[5] = { 0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0 };
	uint64_t bits = (uint64_t)n * 8;
	size_t total = (n + 9 + 63) / 64 * 64;

	for (size_t off = 0; off < total; off += 64) {
		uint8_t blk[64];
		uint32_t w[80], a, b, c, d, e;

		for (size_t i = 0; i < 64; i++) {
			size_t k = off + i;

			blk[i] = k < n ? p[k] : k == n ? 0x80 :
				 k >= total - 8 ? (uint8_t)(bits >> (8 * (total - 1 - k))) : 0;
		}
		for (int i = 0; i < 16; i++)
			w[i] = (uint32_t)blk[4 * i] << 24 | (uint32_t)blk[4 * i + 1] << 16 |
			       (uint32_t)blk[4 * i + 2] << 8 | blk[4 * i + 3];
		for (int i = 16; i < 80; i++)
			w[i] = ROL(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
		a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
		for (int i = 0; i < 80; i++) {
			uint32_t f, k, t;

			if (i < 20)
				f = (b & c) | (~b & d), k = 0x5a827999;
			else if (i < 40)
				f = b ^ c ^ d, k = 0x6ed9eba1;
			else if (i < 60)
				f = (b & c) | (b & d) | (c & d), k = 0x8f1bbcdc;
			else
				f = b ^ c ^ d, k = 0xca62c1d6;
			t = ROL(a, 5) + f + e + k + w[i];
			e = d, d = c, c = ROL(b, 30), b = a, a = t;
		}
		h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e;
	}
	for (int i = 0; i < 20; i++)
		out[i] = (uint8_t)(h[i / 4] >> (24 - 8 * (i % 4)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char dir[64];
	uint8_t sum[20];
	char stage[128], file[128], cmd[160];
	struct hlx_hist_blobs *blobs = NULL;
	int whole = hlx_packscan_buf(data, size);
	FILE *f;

	/* the verdict does not depend on how the bytes arrive */
	if ((whole == HLX_OK) != (chunked(data, size, 1) == HLX_OK) ||
	    (whole == HLX_OK) != (chunked(data, size, 1 + size % 4099) == HLX_OK))
		abort();
	if (whole != HLX_OK)
		return 0;
	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/tmp/hlx-fuzz-pack.%ld", (long)getpid());
		mkdir(dir, 0700);
		git_libgit2_init();
	}
	snprintf(stage, sizeof(stage), "%s/stage", dir);
	snprintf(file, sizeof(file), "%s/in.pack", dir);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", stage);
	if (system(cmd) != 0 || hlx_pack_stage(NULL, stage) != HLX_OK)
		abort();
	f = fopen(file, "wb");
	if (!f)
		abort();
	fwrite(data, 1, size - 20, f);
	sha1(data, size - 20, sum);
	fwrite(sum, 1, 20, f);
	fclose(f);
	/* the scanner's hooks too, with a budget that some blobs pass */
	if (hlx_hist_blobs_new(1 << 16, &blobs) != HLX_OK)
		abort();
	if (hlx_pack_index(stage, file, blobs) == HLX_OK)
		verify(stage);
	hlx_hist_blobs_free(blobs);
	unlink(file);
	return 0;
}
