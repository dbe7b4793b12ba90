/* SPDX-License-Identifier: MIT */
/* Key files: round trips, wrong passphrase, every kind of damage, modes. */
#include "tap.h"
#include "keys/keyfile.h"

#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/hlx-test-keyfile.XXXXXX";

static void path(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", dir, name);
}

static int same_key(const struct hlx_seckey *a, const struct hlx_seckey *b)
{
	return sodium_memcmp(hlx_seckey_seed(a), hlx_seckey_seed(b),
			     HLX_SEED_LEN) == 0;
}

static void test_roundtrip(const struct hlx_seckey *k)
{
	struct hlx_buf text = HLX_BUF_INIT;
	struct hlx_seckey *back = NULL;
	struct hlx_keyfile_info info;
	struct hlx_pubkey pub;

	hlx_seckey_public(k, &pub);
	is_rc(hlx_keyfile_encode(k, "correct horse", 13, &text), HLX_OK,
	      "encode with a passphrase");
	is_rc(hlx_keyfile_inspect((char *)text.data, text.len, &info), HLX_OK,
	      "inspect without the passphrase");
	ok(info.encrypted && hlx_pubkey_eq(&info.pub, &pub),
	   "inspect gives the public key and says encrypted");
	ok(!memmem(text.data, text.len, hlx_seckey_seed(k), HLX_SEED_LEN),
	   "no plaintext seed in the file");
	is_rc(hlx_keyfile_decode((char *)text.data, text.len, "correct horse", 13,
				 &back), HLX_OK, "decode with the passphrase");
	ok(back && same_key(k, back), "decoded key is the same key");
	hlx_seckey_free(back);
	is_rc(hlx_keyfile_decode((char *)text.data, text.len, "correct horsf", 13,
				 &back), HLX_EPASS, "wrong passphrase: EPASS");
	ok(back == NULL, "wrong passphrase gives no key");
	is_rc(hlx_keyfile_decode((char *)text.data, text.len, NULL, 0, &back),
	      HLX_EPASS, "no passphrase for an encrypted file: EPASS");
	hlx_buf_free(&text);

	is_rc(hlx_keyfile_encode(k, NULL, 0, &text), HLX_OK,
	      "encode without a passphrase");
	is_rc(hlx_keyfile_inspect((char *)text.data, text.len, &info), HLX_OK,
	      "inspect the unencrypted file");
	ok(!info.encrypted, "says unencrypted");
	is_rc(hlx_keyfile_decode((char *)text.data, text.len, NULL, 0, &back),
	      HLX_OK, "decode the unencrypted file");
	ok(back && same_key(k, back), "same key");
	hlx_seckey_free(back);
	is_rc(hlx_keyfile_encode(k, "", 0, &text), HLX_EINVAL,
	      "an empty passphrase is refused");
	hlx_buf_free(&text);
}

/* Every single-byte change of the binary content must be detected. */
static void test_tamper(const struct hlx_seckey *k)
{
	struct hlx_buf text = HLX_BUF_INIT, bin = HLX_BUF_INIT;
	struct hlx_seckey *back;
	uint8_t raw[HLX_KEYFILE_BIN_LEN];
	char b64[sodium_base64_ENCODED_LEN(HLX_KEYFILE_BIN_LEN,
					  sodium_base64_VARIANT_ORIGINAL)];
	size_t rawlen, accepted = 0;
	const char *begin = "-----BEGIN HLX SECRET KEY-----\n";

	hlx_keyfile_encode(k, NULL, 0, &text);
	sodium_base642bin(raw, sizeof(raw), (char *)text.data + strlen(begin),
			  text.len - strlen(begin), "\n", &rawlen, NULL,
			  sodium_base64_VARIANT_ORIGINAL);
	ok(rawlen == HLX_KEYFILE_BIN_LEN, "binary form is %d bytes",
	   HLX_KEYFILE_BIN_LEN);
	for (size_t i = 0; i < rawlen; i++) {
		raw[i] ^= 0x01;
		sodium_bin2base64(b64, sizeof(b64), raw, rawlen,
				  sodium_base64_VARIANT_ORIGINAL);
		hlx_buf_reset(&bin);
		hlx_buf_printf(&bin, "%s%s\n-----END HLX SECRET KEY-----\n",
			       begin, b64);
		back = NULL;
		if (hlx_keyfile_decode((char *)bin.data, bin.len, NULL, 0,
				       &back) == HLX_OK)
			accepted++;
		hlx_seckey_free(back);
		raw[i] ^= 0x01;
	}
	ok(accepted == 0, "all %zu single-byte changes rejected (%zu accepted)",
	   rawlen, accepted);

	/* every truncation */
	accepted = 0;
	for (size_t n = 0; n < text.len - 1; n++) {
		back = NULL;
		if (hlx_keyfile_decode((char *)text.data, n, NULL, 0, &back) ==
		    HLX_OK)
			accepted++;
		hlx_seckey_free(back);
	}
	ok(accepted == 0, "every truncation rejected");

	hlx_buf_reset(&bin);
	hlx_buf_put(&bin, text.data, text.len);
	hlx_buf_puts(&bin, "junk\n");
	back = NULL;
	is_rc(hlx_keyfile_decode((char *)bin.data, bin.len, NULL, 0, &back),
	      HLX_EINVAL, "data after END rejected");
	is_rc(hlx_keyfile_decode("hello", 5, NULL, 0, &back), HLX_EINVAL,
	      "not a key file");
	hlx_buf_free(&bin);
	hlx_buf_free(&text);
}

/* Unknown versions, KDFs and costs. */
static void test_header(const struct hlx_seckey *k)
{
	struct hlx_buf text = HLX_BUF_INIT, bin = HLX_BUF_INIT;
	struct hlx_keyfile_info info;
	uint8_t raw[HLX_KEYFILE_BIN_LEN];
	char b64[sodium_base64_ENCODED_LEN(HLX_KEYFILE_BIN_LEN,
					  sodium_base64_VARIANT_ORIGINAL)];
	size_t rawlen;
	const char *begin = "-----BEGIN HLX SECRET KEY-----\n";
	struct { size_t off; uint8_t val; int want; const char *what; } cases[] = {
		{ 7, 2, HLX_EUNSUPPORTED, "version 2" },
		{ 8, 2, HLX_EUNSUPPORTED, "unknown KDF" },
		{ 9 + 7, 1, HLX_EINVAL, "KDF cost without KDF" },
	};

	hlx_keyfile_encode(k, NULL, 0, &text);
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		sodium_base642bin(raw, sizeof(raw), (char *)text.data + strlen(begin),
				  text.len - strlen(begin), "\n", &rawlen, NULL,
				  sodium_base64_VARIANT_ORIGINAL);
		raw[cases[c].off] = cases[c].val;
		sodium_bin2base64(b64, sizeof(b64), raw, rawlen,
				  sodium_base64_VARIANT_ORIGINAL);
		hlx_buf_reset(&bin);
		hlx_buf_printf(&bin, "%s%s\n-----END HLX SECRET KEY-----\n",
			       begin, b64);
		is_rc(hlx_keyfile_inspect((char *)bin.data, bin.len, &info),
		      cases[c].want, "%s rejected", cases[c].what);
	}
	hlx_buf_free(&bin);
	hlx_buf_free(&text);
}

static void test_files(const struct hlx_seckey *k)
{
	char p[512], q[512];
	struct hlx_seckey *back = NULL;
	struct hlx_keyfile_info info;
	struct stat st;

	path(p, sizeof(p), "a.key");
	is_rc(hlx_keyfile_write(p, k, "pw", 2), HLX_OK, "write");
	ok(stat(p, &st) == 0 && (st.st_mode & 0777) == 0600, "created 0600");
	is_rc(hlx_keyfile_read(p, "pw", 2, &back), HLX_OK, "read back");
	ok(back && same_key(k, back), "same key from the file");
	hlx_seckey_free(back);
	back = NULL;
	chmod(p, 0640);
	is_rc(hlx_keyfile_read(p, "pw", 2, &back), HLX_EPERM,
	      "group-readable key file refused");
	is_rc(hlx_keyfile_read_info(p, &info), HLX_EPERM,
	      "group-readable key file refused even for the public part");
	chmod(p, 0604);
	is_rc(hlx_keyfile_read(p, "pw", 2, &back), HLX_EPERM,
	      "world-readable key file refused");
	chmod(p, 0600);
	path(q, sizeof(q), "link.key");
	ok(symlink(p, q) == 0, "symlink made");
	is_rc(hlx_keyfile_read(q, "pw", 2, &back), HLX_EIO,
	      "key file behind a symlink refused");
	path(q, sizeof(q), "missing.key");
	is_rc(hlx_keyfile_read(q, "pw", 2, &back), HLX_ENOENT, "missing file");
	ok(strstr(hlx_err_detail(), "missing.key") != NULL,
	   "error names the file");
	unlink(p);
	path(q, sizeof(q), "link.key");
	unlink(q);
}

int main(void)
{
	struct hlx_seckey *k = NULL;

	if (sodium_init() < 0 || !mkdtemp(dir))
		return 1;
	is_rc(hlx_seckey_generate(&k), HLX_OK, "generate a key");
	test_roundtrip(k);
	test_tamper(k);
	test_header(k);
	test_files(k);
	hlx_seckey_free(k);
	rmdir(dir);
	return done_testing();
}
