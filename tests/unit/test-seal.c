/* SPDX-License-Identifier: MIT */
/* keys/seal.h: box keys and sealed envelopes. */
#include "keys/seal.h"
#include "protocol/err.h"
#include "tap.h"
#include "seeded.h"

#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CTX "hlx-feed:0123/lists/uk-a/head"

static struct hlx_seckey *ed[3];
static struct hlx_boxkey *bk[3];
static struct hlx_boxpub bp[3];

static void make_keys(void)
{
	struct hlx_pubkey pub;
	struct hlx_boxpub fp;
	int good = 1;

	for (int i = 0; i < 3; i++) {
		good &= hlx_seckey_generate(&ed[i]) == HLX_OK;
		good &= hlx_boxkey_from_seckey(ed[i], &bk[i]) == HLX_OK;
		hlx_boxkey_pub(bk[i], &bp[i]);
		hlx_seckey_public(ed[i], &pub);
		good &= hlx_boxpub_from_pubkey(&pub, &fp) == HLX_OK;
		good &= hlx_boxpub_eq(&fp, &bp[i]);
	}
	ok(good, "box keys from Ed25519 keys; public from secret == from public");
	ok(!hlx_boxpub_eq(&bp[0], &bp[1]), "two keys differ");
}

static void test_boxpub_text(void)
{
	struct hlx_buf b = HLX_BUF_INIT;
	struct hlx_boxpub k;
	char t[128];
	int rc;

	rc = hlx_boxpub_format(&bp[0], &b);
	ok(!rc && b.len == 52 && !strncmp((char *)b.data, "hlx-box ", 8),
	   "format: 'hlx-box ' + 44 characters");
	rc = hlx_boxpub_parse((char *)b.data, b.len, &k);
	ok(!rc && hlx_boxpub_eq(&k, &bp[0]), "parse(format(k)) == k");
	snprintf(t, sizeof(t), "%s\n", (char *)b.data);
	is_rc(hlx_boxpub_parse(t, strlen(t), &k), HLX_OK, "one newline allowed");
	snprintf(t, sizeof(t), "%s\n\n", (char *)b.data);
	is_rc(hlx_boxpub_parse(t, strlen(t), &k), HLX_EINVAL, "two newlines refused");
	snprintf(t, sizeof(t), "%s ", (char *)b.data);
	is_rc(hlx_boxpub_parse(t, strlen(t), &k), HLX_EINVAL, "trailing space refused");
	snprintf(t, sizeof(t), " %s", (char *)b.data);
	is_rc(hlx_boxpub_parse(t, strlen(t), &k), HLX_EINVAL, "leading space refused");
	snprintf(t, sizeof(t), "hlx-BOX %s", (char *)b.data + 8);
	is_rc(hlx_boxpub_parse(t, strlen(t), &k), HLX_EINVAL, "prefix is case-sensitive");
	snprintf(t, sizeof(t), "ssh-ed25519 %s", (char *)b.data + 8);
	is_rc(hlx_boxpub_parse(t, strlen(t), &k), HLX_EINVAL, "other prefix refused");
	snprintf(t, sizeof(t), "hlx-box  %s", (char *)b.data + 8);
	is_rc(hlx_boxpub_parse(t, strlen(t), &k), HLX_EINVAL, "two spaces refused");
	snprintf(t, sizeof(t), "%.51s", (char *)b.data);
	is_rc(hlx_boxpub_parse(t, strlen(t), &k), HLX_EINVAL, "without the padding refused");
	/* 33 bytes, 31 bytes */
	is_rc(hlx_boxpub_parse("hlx-box AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
			       52, &k), HLX_EINVAL, "48 base64 characters refused");
	is_rc(hlx_boxpub_parse("hlx-box AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==",
			       52, &k), HLX_EINVAL, "31 bytes refused");
	is_rc(hlx_boxpub_parse("hlx-box AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA-A8=",
			       52, &k), HLX_EINVAL, "URL-safe base64 refused");
	is_rc(hlx_boxpub_parse("hlx-box AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
			       52, &k), HLX_EINVAL, "all-zero key (small order) refused");
	is_rc(hlx_boxpub_parse("hlx-box AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
			       52, &k), HLX_EINVAL, "key 1 (small order) refused");
	is_rc(hlx_boxpub_parse("", 0, &k), HLX_EINVAL, "empty refused");
	is_rc(hlx_boxpub_parse("hlx-box \0AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
			       52, &k), HLX_EINVAL, "NUL byte refused");
	hlx_buf_free(&b);
}

static uint8_t *random_bytes(size_t n)
{
	uint8_t *p = malloc(n ? n : 1);

	if (p)
		randombytes_buf(p, n);
	return p;
}

/* Write data into a temporary file and return its descriptor at 0. */
static int tmp_fd(const void *data, size_t n)
{
	char path[] = "/tmp/hlx-test-seal.XXXXXX";
	int fd = mkstemp(path);

	if (fd < 0)
		return -1;
	unlink(path);
	if (n && write(fd, data, n) != (ssize_t)n) {
		close(fd);
		return -1;
	}
	lseek(fd, 0, SEEK_SET);
	return fd;
}

static int fd_slurp(int fd, struct hlx_buf *b)
{
	uint8_t tmp[65536];
	ssize_t r;

	lseek(fd, 0, SEEK_SET);
	while ((r = read(fd, tmp, sizeof(tmp))) > 0)
		if (hlx_buf_put(b, tmp, (size_t)r))
			return -1;
	return r < 0 ? -1 : 0;
}

static void test_round_trip(size_t n)
{
	struct hlx_buf env = HLX_BUF_INIT, pt = HLX_BUF_INIT, env2 = HLX_BUF_INIT,
		       pt2 = HLX_BUF_INIT;
	uint8_t *data = random_bytes(n);
	int rc, in = -1, out = -1, in2 = -1, out2 = -1;

	rc = hlx_seal_buf(data, n, bp, 2, CTX, &env);
	ok(!rc && env.len == HLX_SEAL_LEN(n, 2),
	   "%zu bytes: sealed to 2, %zu bytes (HLX_SEAL_LEN)", n, env.len);
	ok(hlx_seal_is(env.data, env.len), "%zu bytes: hlx_seal_is", n);
	rc = hlx_unseal_buf(env.data, env.len, bk[1], CTX, n, &pt);
	ok(!rc && pt.len == n && (n == 0 || !memcmp(pt.data, data, n)),
	   "%zu bytes: second recipient opens it (buf)", n);
	hlx_buf_reset(&pt);
	is_rc(hlx_unseal_buf(env.data, env.len, bk[2], CTX, n, &pt), HLX_EPERM,
	      "%zu bytes: non-recipient refused", n);
	ok(pt.len == 0, "%zu bytes: nothing given to the non-recipient", n);
	if (n > 0)
		is_rc(hlx_unseal_buf(env.data, env.len, bk[0], CTX, n - 1, &pt),
		      HLX_ETOOBIG, "%zu bytes: max n-1 refused", n);

	/* fd forms, crossed with the buf forms */
	in = tmp_fd(data, n);
	out = tmp_fd(NULL, 0);
	rc = hlx_seal_fd(in, out, bp, 2, CTX);
	ok(!rc && fd_slurp(out, &env2) == 0 && env2.len == env.len,
	   "%zu bytes: fd seal gives the same size", n);
	rc = hlx_unseal_buf(env2.data, env2.len, bk[0], CTX, n, &pt2);
	ok(!rc && pt2.len == n && (n == 0 || !memcmp(pt2.data, data, n)),
	   "%zu bytes: fd-sealed opens with unseal_buf", n);
	in2 = tmp_fd(env.data, env.len);
	out2 = tmp_fd(NULL, 0);
	hlx_buf_reset(&pt2);
	rc = hlx_unseal_fd(in2, out2, bk[0], CTX, n);
	ok(!rc && fd_slurp(out2, &pt2) == 0 && pt2.len == n &&
	   (n == 0 || !memcmp(pt2.data, data, n)),
	   "%zu bytes: buf-sealed opens with unseal_fd", n);
	if (n > 0) {
		lseek(in2, 0, SEEK_SET);
		is_rc(hlx_unseal_fd(in2, out2, bk[0], CTX, n - 1), HLX_ETOOBIG,
		      "%zu bytes: unseal_fd max n-1 refused", n);
	}
	ok(env.len != env2.len || memcmp(env.data, env2.data, env.len) != 0,
	   "%zu bytes: two seals differ (fresh file key)", n);
	if (in >= 0) close(in);
	if (out >= 0) close(out);
	if (in2 >= 0) close(in2);
	if (out2 >= 0) close(out2);
	hlx_buf_free(&env);
	hlx_buf_free(&env2);
	hlx_buf_free(&pt);
	hlx_buf_free(&pt2);
	free(data);
}

static void test_tamper(void)
{
	static const char msg[] = "a small message, sealed";
	struct hlx_buf env = HLX_BUF_INIT, pt = HLX_BUF_INIT, big = HLX_BUF_INIT;
	size_t flips_ok = 0, stream_badsig = 0, nstream = 0;
	size_t cut_ok = 0;
	uint8_t *copy;
	int rc;

	rc = hlx_seal_buf(msg, sizeof(msg) - 1, bp, 2, CTX, &env);
	ok(!rc, "seal a small message");
	copy = malloc(env.len + 64);
	for (size_t i = 0; i < env.len; i++) {
		memcpy(copy, env.data, env.len);
		copy[i] ^= 0x01 << (i % 8);
		hlx_buf_reset(&pt);
		rc = hlx_unseal_buf(copy, env.len, bk[0], CTX, 1 << 20, &pt);
		flips_ok += rc != HLX_OK && pt.len == 0;
		if (i >= 12 + 80 * 2) {
			nstream++;
			stream_badsig += rc == HLX_EBADSIG;
		}
	}
	ok(flips_ok == env.len, "every single-bit flip of %zu bytes fails (%zu did)",
	   env.len, flips_ok);
	ok(stream_badsig == nstream,
	   "flips after the wrapped keys fail with EBADSIG (%zu of %zu)",
	   stream_badsig, nstream);
	/* byte replacement, not just one bit, in a wrapped key of another
	 * recipient: the AD binds the whole header */
	memcpy(copy, env.data, env.len);
	copy[12 + 80 + 5] ^= 0xff;
	is_rc(hlx_unseal_buf(copy, env.len, bk[0], CTX, 1 << 20, &pt),
	      HLX_EBADSIG, "another recipient's wrapped key changed: EBADSIG");
	for (size_t i = 0; i < env.len; i++) {
		hlx_buf_reset(&pt);
		rc = hlx_unseal_buf(env.data, i, bk[0], CTX, 1 << 20, &pt);
		cut_ok += rc != HLX_OK && pt.len == 0;
	}
	ok(cut_ok == env.len, "every truncation fails (%zu of %zu)", cut_ok,
	   env.len);
	memcpy(copy, env.data, env.len);
	for (size_t extra = 1; extra <= 64; extra *= 4) {
		memset(copy + env.len, 0, extra);
		is_rc(hlx_unseal_buf(copy, env.len + extra, bk[0], CTX, 1 << 20, &pt),
		      HLX_EBADSIG, "%zu appended bytes fail", extra);
	}
	is_rc(hlx_unseal_buf(env.data, env.len, bk[0], "hlx-feed:0123/lists/uk-b/head",
			     1 << 20, &pt), HLX_EBADSIG, "another context fails");
	is_rc(hlx_unseal_buf(env.data, env.len, bk[0], "", 1 << 20, &pt),
	      HLX_EBADSIG, "empty context fails");
	hlx_buf_reset(&pt);
	is_rc(hlx_unseal_buf(env.data, env.len, bk[0], CTX, 1 << 20, &pt), HLX_OK,
	      "the untouched envelope still opens");
	ok(pt.len == sizeof(msg) - 1 && !memcmp(pt.data, msg, pt.len),
	   "and gives the message");

	/* multi-chunk: truncation at a chunk boundary, chunk swap */
	{
		size_t n = 3 * HLX_SEAL_CHUNK + 10, h = HLX_SEAL_HEADER_LEN(1);
		size_t c = HLX_SEAL_CHUNK + 17;
		uint8_t *data = random_bytes(n), *tmp;

		rc = hlx_seal_buf(data, n, bp, 1, CTX, &big);
		ok(!rc, "seal 3 chunks and a bit");
		is_rc(hlx_unseal_buf(big.data, h + 3 * c, bk[0], CTX, n, &pt),
		      HLX_EBADSIG, "cut at a chunk boundary fails");
		is_rc(hlx_unseal_buf(big.data, h + 2 * c, bk[0], CTX, n, &pt),
		      HLX_EBADSIG, "cut at an earlier chunk boundary fails");
		is_rc(hlx_unseal_buf(big.data, h, bk[0], CTX, n, &pt),
		      HLX_EBADSIG, "header alone fails");
		tmp = malloc(c);
		memcpy(tmp, big.data + h, c);
		memcpy(big.data + h, big.data + h + c, c);
		memcpy(big.data + h + c, tmp, c);
		is_rc(hlx_unseal_buf(big.data, big.len, bk[0], CTX, n, &pt),
		      HLX_EBADSIG, "two chunks swapped fail");
		free(tmp);
		free(data);
	}
	hlx_buf_free(&env);
	hlx_buf_free(&pt);
	hlx_buf_free(&big);
	free(copy);
}

static void test_recipients(void)
{
	struct hlx_buf env = HLX_BUF_INIT, pt = HLX_BUF_INIT;
	struct hlx_boxpub *many, zero;
	uint8_t hdr[12];
	int rc;

	/* removed recipient: the next version is sealed without it */
	rc = hlx_seal_buf("v1", 2, bp, 3, CTX, &env);
	ok(!rc && !hlx_unseal_buf(env.data, env.len, bk[2], CTX, 16, &pt),
	   "v1 sealed to three: the third opens it");
	hlx_buf_reset(&env);
	hlx_buf_reset(&pt);
	rc = hlx_seal_buf("v2", 2, bp, 2, CTX, &env);
	is_rc(hlx_unseal_buf(env.data, env.len, bk[2], CTX, 16, &pt), HLX_EPERM,
	      "v2 sealed without the third: it cannot open it");
	ok(!strcmp(hlx_err_detail(), "not a recipient of this envelope"),
	   "detail: not a recipient of this envelope");
	ok(pt.len == 0, "and gets nothing");

	many = calloc(HLX_SEAL_MAX_RECIPIENTS + 1, sizeof(*many));
	for (int i = 0; i <= HLX_SEAL_MAX_RECIPIENTS; i++)
		many[i] = bp[i % 2];
	hlx_buf_reset(&env);
	is_rc(hlx_seal_buf("x", 1, many, 0, CTX, &env), HLX_EINVAL,
	      "seal to 0 recipients refused");
	is_rc(hlx_seal_buf("x", 1, many, HLX_SEAL_MAX_RECIPIENTS + 1, CTX, &env),
	      HLX_EINVAL, "seal to 4097 recipients refused");
	ok(env.len == 0, "refused seals leave out as it was");
	many[HLX_SEAL_MAX_RECIPIENTS - 1] = bp[2];
	rc = hlx_seal_buf("x", 1, many, HLX_SEAL_MAX_RECIPIENTS, CTX, &env);
	ok(!rc && env.len == HLX_SEAL_LEN(1, HLX_SEAL_MAX_RECIPIENTS),
	   "seal to 4096 recipients");
	hlx_buf_reset(&pt);
	rc = hlx_unseal_buf(env.data, env.len, bk[2], CTX, 16, &pt);
	ok(!rc && pt.len == 1 && pt.data[0] == 'x', "the last of 4096 opens it");

	/* header counts 0 and 4097 */
	memcpy(hdr, env.data, 12);
	memset(env.data + 8, 0, 4);
	is_rc(hlx_unseal_buf(env.data, env.len, bk[2], CTX, 16, &pt), HLX_EINVAL,
	      "header with 0 recipients refused");
	env.data[10] = 0x10;
	env.data[11] = 0x01;
	is_rc(hlx_unseal_buf(env.data, env.len, bk[2], CTX, 16, &pt), HLX_EINVAL,
	      "header with 4097 recipients refused");
	env.data[8] = 0xff;
	is_rc(hlx_unseal_buf(env.data, env.len, bk[2], CTX, 16, &pt), HLX_EINVAL,
	      "header with 2^32-ish recipients refused");
	memcpy(env.data, hdr, 12);
	memcpy(env.data, "hlxseal2", 8);
	is_rc(hlx_unseal_buf(env.data, env.len, bk[2], CTX, 16, &pt), HLX_EINVAL,
	      "another magic refused");
	ok(!hlx_seal_is(env.data, env.len), "hlx_seal_is: another magic is not");
	ok(!hlx_seal_is("hlxseal", 7), "hlx_seal_is: 7 bytes are not");
	is_rc(hlx_unseal_buf("", 0, bk[2], CTX, 16, &pt), HLX_EINVAL,
	      "empty input refused");

	memset(&zero, 0, sizeof(zero));
	hlx_buf_reset(&env);
	is_rc(hlx_seal_buf("x", 1, &zero, 1, CTX, &env), HLX_EINVAL,
	      "seal to a small-order key refused");
	{
		char longctx[HLX_SEAL_CONTEXT_MAX + 2];

		memset(longctx, 'c', sizeof(longctx) - 1);
		longctx[sizeof(longctx) - 1] = '\0';
		is_rc(hlx_seal_buf("x", 1, bp, 1, longctx, &env), HLX_EINVAL,
		      "context longer than %d bytes refused", HLX_SEAL_CONTEXT_MAX);
		longctx[HLX_SEAL_CONTEXT_MAX] = '\0';
		rc = hlx_seal_buf("x", 1, bp, 1, longctx, &env);
		ok(!rc && !hlx_unseal_buf(env.data, env.len, bk[0], longctx, 1, &pt),
		   "context of %d bytes works", HLX_SEAL_CONTEXT_MAX);
	}
	free(many);
	hlx_buf_free(&env);
	hlx_buf_free(&pt);
}

/* unseal_fd must not write the plaintext of a chunk that fails. */
static void test_fd_partial(void)
{
	size_t n = 2 * HLX_SEAL_CHUNK + 100;
	uint8_t *data = random_bytes(n);
	struct hlx_buf env = HLX_BUF_INIT, got = HLX_BUF_INIT;
	int in, out, rc;

	rc = hlx_seal_buf(data, n, bp, 1, CTX, &env);
	env.data[HLX_SEAL_HEADER_LEN(1) + HLX_SEAL_CHUNK + 17 + 3] ^= 1;
	in = tmp_fd(env.data, env.len);
	out = tmp_fd(NULL, 0);
	rc = hlx_unseal_fd(in, out, bk[0], CTX, n);
	is_rc(rc, HLX_EBADSIG, "unseal_fd: damaged second chunk fails");
	ok(fd_slurp(out, &got) == 0 && got.len == HLX_SEAL_CHUNK &&
	   !memcmp(got.data, data, got.len),
	   "only the first (authenticated) chunk was written");
	close(in);
	close(out);
	is_rc(hlx_unseal_fd(-1, 1, bk[0], CTX, n), HLX_EINVAL, "bad fd refused");
	hlx_buf_free(&env);
	hlx_buf_free(&got);
	free(data);
}

/* A pipe as input: reads come in pieces. */
static void test_pipe(void)
{
	size_t n = HLX_SEAL_CHUNK + 5000;
	uint8_t *data = random_bytes(n);
	struct hlx_buf env = HLX_BUF_INIT, pt = HLX_BUF_INIT;
	int p[2], out, rc;
	pid_t pid;

	if (pipe(p) != 0) {
		ok(0, "pipe");
		return;
	}
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		for (size_t i = 0; i < n; i += 1000)
			if (write(p[1], data + i, n - i < 1000 ? n - i : 1000) < 0)
				_exit(1);
		_exit(0);
	}
	close(p[1]);
	out = tmp_fd(NULL, 0);
	rc = hlx_seal_fd(p[0], out, bp, 1, CTX);
	close(p[0]);
	ok(!rc && fd_slurp(out, &env) == 0 && env.len == HLX_SEAL_LEN(n, 1),
	   "seal_fd from a pipe written in pieces");
	rc = hlx_unseal_buf(env.data, env.len, bk[0], CTX, n, &pt);
	ok(!rc && pt.len == n && !memcmp(pt.data, data, n), "and it opens");
	close(out);
	hlx_buf_free(&env);
	hlx_buf_free(&pt);
	free(data);
}

/* spec/vectors/seal.txt */
static int err_code(const char *name)
{
	return !strcmp(name, "EPERM") ? HLX_EPERM :
	       !strcmp(name, "EBADSIG") ? HLX_EBADSIG :
	       !strcmp(name, "EINVAL") ? HLX_EINVAL : 1;
}

static void test_vectors(void)
{
	FILE *f = fopen("spec/vectors/seal.txt", "r");
	struct hlx_boxkey *keys[3] = { NULL, NULL, NULL };
	char *line = NULL, *fld[5], *save;
	size_t cap = 0, nkeys = 0, nok = 0, nbad = 0, good_keys = 0, good = 0;
	ssize_t len;

	if (!ok(f != NULL, "open spec/vectors/seal.txt"))
		return;
	while ((len = getline(&line, &cap, f)) > 0) {
		struct hlx_buf env = HLX_BUF_INIT, pt = HLX_BUF_INIT, t = HLX_BUF_INIT;
		int nf = 0, k;
		size_t bl;

		if (line[len - 1] == '\n')
			line[--len] = '\0';
		if (!len || line[0] == '#')
			continue;
		for (char *p = strtok_r(line, "\t", &save); p && nf < 5;
		     p = strtok_r(NULL, "\t", &save))
			fld[nf++] = p;
		if (!strcmp(fld[0], "key") && nf == 4 && nkeys < 3) {
			struct hlx_seckey *sk = NULL;
			struct hlx_pubkey pub;
			struct hlx_boxpub a, b;
			uint8_t seed[32];

			if (sodium_hex2bin(seed, 32, fld[2], 64, NULL, &bl, NULL) ||
			    bl != 32 || hlx_seckey_from_seed(seed, &sk) ||
			    hlx_boxkey_from_seckey(sk, &keys[nkeys]))
				break;
			hlx_boxkey_pub(keys[nkeys], &a);
			hlx_seckey_public(sk, &pub);
			hlx_seckey_free(sk);
			good_keys += !hlx_boxpub_from_pubkey(&pub, &b) &&
				     hlx_boxpub_eq(&a, &b) &&
				     !hlx_boxpub_format(&a, &t) &&
				     !strcmp((char *)t.data, fld[3]);
			nkeys++;
		} else if (nf == 5 && (k = fld[1][0] - 'A') >= 0 &&
			   k < (int)nkeys && !fld[1][1]) {
			size_t hl = strlen(fld[4]);

			hlx_buf_reserve(&env, hl / 2 + 1);
			if (sodium_hex2bin(env.data, hl / 2 + 1, fld[4], hl, NULL,
					   &env.len, NULL))
				break;
			if (!strcmp(fld[0], "ok")) {
				hlx_buf_reserve(&t, strlen(fld[3]) / 2 + 1);
				if (strcmp(fld[3], "-"))
					sodium_hex2bin(t.data, strlen(fld[3]) / 2 + 1,
						       fld[3], strlen(fld[3]), NULL,
						       &t.len, NULL);
				good += !hlx_unseal_buf(env.data, env.len, keys[k],
							fld[2], 1 << 20, &pt) &&
					pt.len == t.len &&
					(!t.len || !memcmp(pt.data, t.data, t.len));
				nok++;
			} else if (!strcmp(fld[0], "bad")) {
				good += hlx_unseal_buf(env.data, env.len, keys[k],
						       fld[2], 1 << 20, &pt) ==
					err_code(fld[3]);
				nbad++;
			}
		}
		hlx_buf_free(&env);
		hlx_buf_free(&pt);
		hlx_buf_free(&t);
	}
	ok(nkeys == 3 && good_keys == 3,
	   "vectors: 3 keys, box keys match their text (%zu)", good_keys);
	ok(nok >= 3 && nbad >= 5 && good == nok + nbad,
	   "vectors: %zu of %zu hold (%zu ok, %zu bad)", good, nok + nbad, nok,
	   nbad);
	free(line);
	fclose(f);
	for (int i = 0; i < 3; i++)
		hlx_boxkey_free(keys[i]);
}

int main(void)
{
	static const size_t sizes[] = { 0, 1, HLX_SEAL_CHUNK - 1, HLX_SEAL_CHUNK,
					HLX_SEAL_CHUNK + 1, 1 << 20 };

	if (seed_sodium() || sodium_init() < 0)
		return 1;
	make_keys();
	test_boxpub_text();
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		test_round_trip(sizes[i]);
	test_tamper();
	test_recipients();
	test_fd_partial();
	test_pipe();
	test_vectors();
	for (int i = 0; i < 3; i++) {
		hlx_boxkey_free(bk[i]);
		hlx_seckey_free(ed[i]);
	}
	return done_testing();
}
