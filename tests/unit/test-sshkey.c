/* SPDX-License-Identifier: MIT */
/*
 * OpenSSH public key lines and blobs: the vector key made by ssh-keygen
 * parses, formats back byte for byte and has ssh-keygen's fingerprint;
 * other key types are unsupported; malformed lines are rejected.
 */
#include "keys/key.h"
#include "keys/sshkey.h"
#include "protocol/buf.h"
#include "protocol/err.h"
#include "tests/unit/tap.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VEC "spec/vectors/sshsig/"

static void slurp(const char *path, struct hlx_buf *b)
{
	char chunk[4096];
	size_t n;
	FILE *f = fopen(path, "rb");

	hlx_buf_reset(b);
	if (!f) {
		printf("Bail out! cannot open %s (run from the repository "
		       "root)\n", path);
		exit(1);
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (hlx_buf_put(b, chunk, n))
			abort();
	fclose(f);
	if (!b->data && hlx_buf_put(b, "", 0))
		abort();
}

static int parse(const char *s, struct hlx_pubkey *k)
{
	return hlx_sshkey_parse(s, strlen(s), k, NULL);
}

/* "ssh-ed25519 " + base64 of an arbitrary blob */
static void line_of_blob(struct hlx_buf *out, const char *type,
			 const struct hlx_buf *blob)
{
	char b64[512];

	sodium_bin2base64(b64, sizeof(b64), blob->data, blob->len,
			  sodium_base64_VARIANT_ORIGINAL);
	hlx_buf_reset(out);
	if (hlx_buf_printf(out, "%s %s", type, b64))
		abort();
}

static void test_vector(void)
{
	struct hlx_buf line = HLX_BUF_INIT, fp = HLX_BUF_INIT;
	struct hlx_buf c = HLX_BUF_INIT, out = HLX_BUF_INIT;
	char fpr[HLX_FPR_LEN];
	struct hlx_pubkey k, k2;
	char *sp, *end;

	slurp(VEC "key.pub", &line);
	slurp(VEC "fingerprint.txt", &fp);
	is_rc(hlx_sshkey_parse((char *)line.data, line.len, &k, &c), HLX_OK,
	      "key.pub parses");
	is_str((char *)c.data, "hlx-test-vector", "its comment");
	hlx_sshkey_fingerprint(&k, fpr);
	/* fingerprint.txt: "256 SHA256:... comment (ED25519)" */
	sp = strchr((char *)fp.data, ' ');
	end = sp ? strchr(sp + 1, ' ') : NULL;
	if (end)
		*end = '\0';
	is_str(fpr, sp ? sp + 1 : "", "fingerprint as ssh-keygen -l prints");
	ok(strlen(fpr) == HLX_FPR_LEN - 1, "fingerprint is %d characters",
	   HLX_FPR_LEN - 1);

	is_rc(hlx_sshkey_format(&k, "hlx-test-vector", &out), HLX_OK,
	      "format");
	ok(out.len + 1 == line.len && !memcmp(out.data, line.data, out.len) &&
	   line.data[out.len] == '\n', "formats back to key.pub exactly");
	hlx_buf_reset(&out);
	is_rc(hlx_sshkey_format(&k, NULL, &out), HLX_OK, "format, no comment");
	ok(out.len == 80 && !strchr((char *)out.data, '\n') &&
	   (char *)out.data == strstr((char *)out.data, "ssh-ed25519 AAAAC3"),
	   "no-comment line is 'ssh-ed25519 BASE64' (80 chars)");
	is_rc(hlx_sshkey_parse((char *)out.data, out.len, &k2, &c), HLX_OK,
	      "and parses back");
	ok(hlx_pubkey_eq(&k, &k2) && c.len == 0 && c.data && !c.data[0],
	   "same key, empty comment");
	hlx_buf_reset(&out);
	is_rc(hlx_sshkey_format(&k, "", &out), HLX_OK, "empty comment");
	ok(out.len == 80, "empty comment adds nothing");

	hlx_buf_free(&line);
	hlx_buf_free(&fp);
	hlx_buf_free(&c);
	hlx_buf_free(&out);
}

static void test_lines(void)
{
	struct hlx_buf line = HLX_BUF_INIT, c = HLX_BUF_INIT;
	struct hlx_buf t = HLX_BUF_INIT, blob = HLX_BUF_INIT;
	struct hlx_pubkey k, k2;
	struct hlx_seckey *sk;
	char *b64, *p;
	size_t i;

	if (hlx_seckey_generate(&sk))
		abort();
	hlx_seckey_public(sk, &k);
	hlx_seckey_free(sk);
	if (hlx_sshkey_format(&k, NULL, &line))
		abort();
	b64 = strdup((char *)line.data + 12);

	hlx_buf_reset(&t);
	hlx_buf_printf(&t, "  \t%s a comment  with\tspaces \r\n",
		       line.data);
	is_rc(hlx_sshkey_parse((char *)t.data, t.len, &k2, &c), HLX_OK,
	      "leading/trailing white space and CRLF tolerated");
	ok(hlx_pubkey_eq(&k, &k2), "same key");
	is_str((char *)c.data, "a comment  with\tspaces",
	       "comment keeps its inner spaces and tabs");
	hlx_buf_reset(&t);
	hlx_buf_printf(&t, "ssh-ed25519\t \t%s\tc", b64);
	is_rc(hlx_sshkey_parse((char *)t.data, t.len, &k2, &c), HLX_OK,
	      "tabs between the fields");
	is_str((char *)c.data, "c", "one-letter comment");
	hlx_buf_reset(&t);
	hlx_buf_printf(&t, "ssh-ed25519 %s héllo wörld", b64);
	is_rc(hlx_sshkey_parse((char *)t.data, t.len, &k2, &c), HLX_OK,
	      "UTF-8 comment");
	is_str((char *)c.data, "héllo wörld", "UTF-8 comment kept");
	/* a length argument shorter than the string */
	is_rc(hlx_sshkey_parse((char *)line.data, 40, &k2, NULL), HLX_EINVAL,
	      "only the first n bytes are read");

	/* rejections */
	is_rc(parse("", &k2), HLX_EINVAL, "empty line");
	is_rc(parse(" \t\r\n", &k2), HLX_EINVAL, "white space only");
	is_rc(parse("ssh-ed25519", &k2), HLX_EINVAL, "type only");
	is_rc(parse("ssh-ed25519 ", &k2), HLX_EINVAL, "type and space only");
	is_rc(parse(b64, &k2), HLX_EINVAL, "base64 only");
	hlx_buf_reset(&t);
	hlx_buf_printf(&t, "ssh-ed25519 %.*s", (int)strlen(b64) - 1, b64);
	is_rc(parse((char *)t.data, &k2), HLX_EINVAL, "padding missing");
	hlx_buf_reset(&t);
	hlx_buf_printf(&t, "ssh-ed25519 %s=", b64);
	is_rc(parse((char *)t.data, &k2), HLX_EINVAL, "extra padding");
	hlx_buf_reset(&t);
	hlx_buf_printf(&t, "ssh-ed25519 %s", b64);
	p = (char *)t.data + t.len - 2; /* last data character before '=' */
	*p = *p == 'A' ? 'B' : 'A';
	/* changing the last character before '=' changes either key bits or
	 * the unused trailing bits: both must be caught or change the key */
	{
		int rc = parse((char *)t.data, &k2);

		ok(rc == HLX_EINVAL ||
		   (rc == HLX_OK && !hlx_pubkey_eq(&k, &k2)),
		   "altered last base64 character is not the same key");
	}
	hlx_buf_reset(&t);
	hlx_buf_printf(&t, "ssh-ed25519 %s", b64);
	t.data[20] = '*';
	is_rc(parse((char *)t.data, &k2), HLX_EINVAL, "bad base64 character");
	ok(strstr(hlx_err_detail(), "base64") != NULL, "detail: %s",
	   hlx_err_detail());
	hlx_buf_reset(&t);
	hlx_buf_printf(&t, "ssh-ed25519 %s\nssh-ed25519 %s", b64, b64);
	is_rc(parse((char *)t.data, &k2), HLX_EINVAL, "two lines");
	hlx_buf_reset(&t);
	hlx_buf_printf(&t, "ssh-ed25519 %s comment", b64);
	t.data[t.len - 3] = '\0';
	is_rc(hlx_sshkey_parse((char *)t.data, t.len, &k2, NULL), HLX_EINVAL,
	      "NUL inside the comment");
	hlx_buf_reset(&t);
	hlx_buf_printf(&t, "ssh-ed25519 %s bell\a", b64);
	is_rc(parse((char *)t.data, &k2), HLX_EINVAL,
	      "control character in the comment");
	ok(!strchr(hlx_err_detail(), '\a'), "detail has no raw control "
	   "character: %s", hlx_err_detail());
	hlx_buf_reset(&t);
	hlx_buf_printf(&t, "ssh-ed25519 %s ", b64);
	while (t.len <= HLX_SSHKEY_LINE_MAX)
		hlx_buf_putc(&t, 'x');
	is_rc(parse((char *)t.data, &k2), HLX_ETOOBIG, "oversized line");
	hlx_buf_reset(&t);
	hlx_buf_printf(&t, "ssh-rsa %s", b64);
	is_rc(parse((char *)t.data, &k2), HLX_EINVAL,
	      "line type ssh-rsa with an ssh-ed25519 blob");
	hlx_buf_reset(&t);
	hlx_buf_printf(&t, "SSH-ED25519 %s", b64);
	is_rc(parse((char *)t.data, &k2), HLX_EINVAL,
	      "line type in upper case");
	is_rc(hlx_sshkey_format(&k, "two\nlines", &t), HLX_EINVAL,
	      "format refuses a newline in the comment");

	/* blob variants */
	hlx_buf_reset(&blob);
	hlx_buf_put_cstring(&blob, "ssh-ed25519");
	hlx_buf_put_string(&blob, k.pk, 31);
	line_of_blob(&t, "ssh-ed25519", &blob);
	is_rc(parse((char *)t.data, &k2), HLX_EINVAL, "31-byte key");
	hlx_buf_reset(&blob);
	hlx_buf_put_cstring(&blob, "ssh-ed25519");
	hlx_buf_put_string(&blob, "0123456789abcdef0123456789abcdefX", 33);
	line_of_blob(&t, "ssh-ed25519", &blob);
	is_rc(parse((char *)t.data, &k2), HLX_EINVAL, "33-byte key");
	hlx_buf_reset(&blob);
	hlx_sshkey_encode_blob(&k, &blob);
	hlx_buf_putc(&blob, 0);
	line_of_blob(&t, "ssh-ed25519", &blob);
	is_rc(parse((char *)t.data, &k2), HLX_EINVAL, "trailing byte in blob");
	hlx_buf_reset(&blob);
	hlx_buf_put_cstring(&blob, "sk-ssh-ed25519@openssh.com");
	hlx_buf_put_string(&blob, k.pk, 32);
	hlx_buf_put_cstring(&blob, "ssh:");
	line_of_blob(&t, "sk-ssh-ed25519@openssh.com", &blob);
	is_rc(parse((char *)t.data, &k2), HLX_EUNSUPPORTED,
	      "sk-ssh-ed25519@openssh.com key");
	ok(strstr(hlx_err_detail(), "'sk-ssh-ed25519@openssh.com'") != NULL,
	   "detail names the type: %s", hlx_err_detail());
	hlx_buf_reset(&blob);
	hlx_buf_put_cstring(&blob, "x");
	line_of_blob(&t, "x", &blob);
	is_rc(parse((char *)t.data, &k2), HLX_EUNSUPPORTED,
	      "unknown type with a consistent blob");

	/* encode / decode */
	hlx_buf_reset(&blob);
	is_rc(hlx_sshkey_encode_blob(&k, &blob), HLX_OK, "encode blob");
	ok(blob.len == HLX_SSHKEY_BLOB_LEN, "blob is %d bytes",
	   HLX_SSHKEY_BLOB_LEN);
	is_rc(hlx_sshkey_decode_blob(blob.data, blob.len, &k2), HLX_OK,
	      "decode blob");
	ok(hlx_pubkey_eq(&k, &k2), "blob round trip");
	{
		size_t bad = 0;

		for (i = 0; i < blob.len; i++)
			if (hlx_sshkey_decode_blob(blob.data, i, &k2) !=
			    HLX_EINVAL)
				bad++;
		ok(bad == 0, "every truncated blob (%zu) is EINVAL", blob.len);
		bad = 0;
		for (i = 0; i < blob.len; i++) {
			int rc;

			blob.data[i] ^= 0x20;
			rc = hlx_sshkey_decode_blob(blob.data, blob.len, &k2);
			if (i < 19 ? rc == HLX_OK :
			    rc != HLX_OK || hlx_pubkey_eq(&k, &k2))
				bad++;
			blob.data[i] ^= 0x20;
		}
		ok(bad == 0, "a changed header byte is rejected, a changed key "
		   "byte gives another key");
	}
	is_rc(hlx_sshkey_decode_blob(NULL, 0, &k2), HLX_EINVAL, "empty blob");

	free(b64);
	hlx_buf_free(&line);
	hlx_buf_free(&c);
	hlx_buf_free(&t);
	hlx_buf_free(&blob);
}

static void test_unsupported(void)
{
	struct hlx_buf f = HLX_BUF_INIT;
	static const char *const types[] = {
		"'ssh-rsa'", "'ecdsa-sha2-nistp256'",
		"'ssh-ed25519-cert-v01@openssh.com'",
	};
	struct hlx_pubkey k;
	char *line, *save = NULL;
	size_t i = 0;

	slurp(VEC "unsupported.pub", &f);
	for (line = strtok_r((char *)f.data, "\n", &save); line && i < 3;
	     line = strtok_r(NULL, "\n", &save), i++) {
		is_rc(parse(line, &k), HLX_EUNSUPPORTED,
		      "ssh-keygen key %s is unsupported", types[i]);
		ok(strstr(hlx_err_detail(), types[i]) != NULL,
		   "detail names %s: %s", types[i], hlx_err_detail());
	}
	ok(i == 3, "unsupported.pub holds 3 keys");
	hlx_buf_free(&f);

	ok(hlx_sshkey_known_type("ssh-ed25519", 11), "known: ssh-ed25519");
	ok(hlx_sshkey_known_type("ssh-rsa", 7), "known: ssh-rsa");
	ok(hlx_sshkey_known_type("sk-ssh-ed25519@openssh.com", 26),
	   "known: sk-ssh-ed25519@openssh.com");
	ok(!hlx_sshkey_known_type("ssh-ed25519x", 12), "unknown: ssh-ed25519x");
	ok(!hlx_sshkey_known_type("ssh-ed2551", 10), "unknown: ssh-ed2551");
	ok(!hlx_sshkey_known_type("", 0), "unknown: empty");
	ok(!hlx_sshkey_known_type("namespaces=\"git\"", 16),
	   "unknown: an option");
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	test_vector();
	test_lines();
	test_unsupported();
	return done_testing();
}
