/* SPDX-License-Identifier: MIT */
#include "keys/keyfile.h"
#include "protocol/err.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAGIC "hlxkey\0\1"
#define MAGIC_LEN 8
#define KDF_NONE 0
#define KDF_ARGON2ID 1
#define SALT_LEN crypto_pwhash_SALTBYTES
#define NONCE_LEN crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define MAC_LEN crypto_aead_xchacha20poly1305_ietf_ABYTES
#define AD_LEN (MAGIC_LEN + 1 + 8 + 8 + SALT_LEN + NONCE_LEN + HLX_PUBKEY_LEN)
#define BEGIN "-----BEGIN HLX SECRET KEY-----\n"
#define END "-----END HLX SECRET KEY-----\n"
/* Bounds on the KDF cost read from a file: a hostile file must not make
 * us spend unbounded time or memory. */
#define OPS_MAX 64ULL
#define MEM_MAX (1ULL << 30)

_Static_assert(AD_LEN + HLX_SEED_LEN + MAC_LEN == HLX_KEYFILE_BIN_LEN,
	       "key file layout");

struct parsed {
	uint8_t bin[HLX_KEYFILE_BIN_LEN];
	unsigned kdf;
	unsigned long long ops;
	size_t mem;
};

static void put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t get_u64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static int derive(const struct parsed *f, const char *pass, size_t passlen,
		  uint8_t *key)
{
	if (f->kdf == KDF_NONE) {
		sodium_memzero(key, crypto_aead_xchacha20poly1305_ietf_KEYBYTES);
		return HLX_OK;
	}
	if (crypto_pwhash(key, crypto_aead_xchacha20poly1305_ietf_KEYBYTES,
			  pass, passlen, f->bin + MAGIC_LEN + 17, f->ops,
			  f->mem, crypto_pwhash_ALG_ARGON2ID13) != 0)
		return hlx_err(HLX_ENOMEM,
			       "cannot derive the key-file key: Argon2id needs %zu bytes",
			       f->mem);
	return HLX_OK;
}

int hlx_keyfile_encode(const struct hlx_seckey *k, const char *pass,
		       size_t passlen, struct hlx_buf *out)
{
	struct parsed f;
	uint8_t *key = NULL;
	char b64[sodium_base64_ENCODED_LEN(HLX_KEYFILE_BIN_LEN,
					  sodium_base64_VARIANT_ORIGINAL)];
	struct hlx_pubkey pub;
	uint8_t *p = f.bin;
	size_t i, n;
	int rc;

	if (sodium_init() < 0)
		return hlx_err(HLX_ECRYPTO, "cannot initialise libsodium");
	if (pass && passlen == 0)
		return hlx_err(HLX_EINVAL, "empty passphrase");
	memset(&f, 0, sizeof(f));
	f.kdf = pass ? KDF_ARGON2ID : KDF_NONE;
	f.ops = pass ? crypto_pwhash_OPSLIMIT_INTERACTIVE : 0;
	f.mem = pass ? crypto_pwhash_MEMLIMIT_INTERACTIVE : 0;
	memcpy(p, MAGIC, MAGIC_LEN);
	p[MAGIC_LEN] = (uint8_t)f.kdf;
	put_u64(p + MAGIC_LEN + 1, f.ops);
	put_u64(p + MAGIC_LEN + 9, f.mem);
	if (pass)
		randombytes_buf(p + MAGIC_LEN + 17, SALT_LEN);
	randombytes_buf(p + MAGIC_LEN + 17 + SALT_LEN, NONCE_LEN);
	hlx_seckey_public(k, &pub);
	memcpy(p + AD_LEN - HLX_PUBKEY_LEN, pub.pk, HLX_PUBKEY_LEN);

	key = sodium_malloc(crypto_aead_xchacha20poly1305_ietf_KEYBYTES);
	if (!key)
		return hlx_err(HLX_ENOMEM, "cannot allocate guarded memory");
	rc = derive(&f, pass, passlen, key);
	if (rc)
		goto out;
	crypto_aead_xchacha20poly1305_ietf_encrypt(
		p + AD_LEN, NULL, hlx_seckey_seed(k), HLX_SEED_LEN, p, AD_LEN,
		NULL, p + MAGIC_LEN + 17 + SALT_LEN, key);
	sodium_bin2base64(b64, sizeof(b64), f.bin, sizeof(f.bin),
			  sodium_base64_VARIANT_ORIGINAL);
	rc = hlx_buf_puts(out, BEGIN);
	n = strlen(b64);
	for (i = 0; !rc && i < n; i += 64) {
		rc = hlx_buf_put(out, b64 + i, n - i < 64 ? n - i : 64);
		if (!rc)
			rc = hlx_buf_putc(out, '\n');
	}
	if (!rc)
		rc = hlx_buf_puts(out, END);
out:
	sodium_free(key);
	return rc;
}

static int parse(const char *text, size_t n, struct parsed *f)
{
	const size_t bl = strlen(BEGIN), el = strlen(END);
	const char *b64, *end;
	size_t b64len, binlen;

	if (n > HLX_KEYFILE_MAX)
		return hlx_err(HLX_ETOOBIG, "key file of %zu bytes (at most %d)",
			       n, HLX_KEYFILE_MAX);
	if (n < bl || memcmp(text, BEGIN, bl) != 0)
		return hlx_err(HLX_EINVAL,
			       "not an hlx key file: missing '-----BEGIN HLX SECRET KEY-----'");
	b64 = text + bl;
	end = memmem(b64, n - bl, END, el);
	if (!end)
		return hlx_err(HLX_EINVAL,
			       "key file: missing '-----END HLX SECRET KEY-----'");
	if ((size_t)(end - text) + el != n)
		return hlx_err(HLX_EINVAL, "key file: data after the END line");
	b64len = (size_t)(end - b64);
	if (sodium_init() < 0)
		return hlx_err(HLX_ECRYPTO, "cannot initialise libsodium");
	if (sodium_base642bin(f->bin, sizeof(f->bin), b64, b64len, "\n",
			      &binlen, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    binlen != sizeof(f->bin))
		return hlx_err(HLX_EINVAL,
			       "key file: bad base64 or wrong length (want %d bytes)",
			       HLX_KEYFILE_BIN_LEN);
	if (memcmp(f->bin, MAGIC, MAGIC_LEN - 1) != 0)
		return hlx_err(HLX_EINVAL, "key file: bad magic");
	if (f->bin[MAGIC_LEN - 1] != 1)
		return hlx_err(HLX_EUNSUPPORTED, "key file: version %u (want 1)",
			       f->bin[MAGIC_LEN - 1]);
	f->kdf = f->bin[MAGIC_LEN];
	f->ops = get_u64(f->bin + MAGIC_LEN + 1);
	uint64_t mem = get_u64(f->bin + MAGIC_LEN + 9);
	if (f->kdf == KDF_NONE) {
		if (f->ops || mem)
			return hlx_err(HLX_EINVAL,
				       "key file: KDF parameters without a KDF");
	} else if (f->kdf == KDF_ARGON2ID) {
		if (f->ops < crypto_pwhash_OPSLIMIT_MIN || f->ops > OPS_MAX ||
		    mem < crypto_pwhash_MEMLIMIT_MIN || mem > MEM_MAX)
			return hlx_err(HLX_EUNSUPPORTED,
				       "key file: Argon2id cost out of range (ops %llu, memory %llu)",
				       f->ops, (unsigned long long)mem);
	} else {
		return hlx_err(HLX_EUNSUPPORTED, "key file: unknown KDF %u",
			       f->kdf);
	}
	f->mem = (size_t)mem;
	return HLX_OK;
}

int hlx_keyfile_inspect(const char *text, size_t n,
			struct hlx_keyfile_info *info)
{
	struct parsed f;
	int rc = parse(text, n, &f);

	if (rc)
		return rc;
	info->encrypted = f.kdf != KDF_NONE;
	memcpy(info->pub.pk, f.bin + AD_LEN - HLX_PUBKEY_LEN, HLX_PUBKEY_LEN);
	return HLX_OK;
}

int hlx_keyfile_decode(const char *text, size_t n, const char *pass,
		       size_t passlen, struct hlx_seckey **out)
{
	struct parsed f;
	uint8_t *mem = NULL, *key, *seed;
	struct hlx_pubkey want, got;
	int rc;

	*out = NULL;
	rc = parse(text, n, &f);
	if (rc)
		return rc;
	if (f.kdf != KDF_NONE && (!pass || !passlen))
		return hlx_err(HLX_EPASS, "key file is encrypted: a passphrase is needed");
	mem = sodium_malloc(crypto_aead_xchacha20poly1305_ietf_KEYBYTES +
			    HLX_SEED_LEN);
	if (!mem)
		return hlx_err(HLX_ENOMEM, "cannot allocate guarded memory");
	key = mem;
	seed = mem + crypto_aead_xchacha20poly1305_ietf_KEYBYTES;
	rc = derive(&f, pass, passlen, key);
	if (rc)
		goto out;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(
		    seed, NULL, NULL, f.bin + AD_LEN, HLX_SEED_LEN + MAC_LEN,
		    f.bin, AD_LEN, f.bin + MAGIC_LEN + 17 + SALT_LEN, key) != 0) {
		rc = hlx_err(HLX_EPASS, f.kdf == KDF_NONE ?
			     "key file is damaged (authentication failed)" :
			     "wrong passphrase, or the key file is damaged");
		goto out;
	}
	rc = hlx_seckey_from_seed(seed, out);
	if (rc)
		goto out;
	memcpy(want.pk, f.bin + AD_LEN - HLX_PUBKEY_LEN, HLX_PUBKEY_LEN);
	hlx_seckey_public(*out, &got);
	if (!hlx_pubkey_eq(&want, &got)) {
		hlx_seckey_free(*out);
		*out = NULL;
		rc = hlx_err(HLX_EPASS, "key file is damaged: public key mismatch");
	}
out:
	sodium_free(mem);
	return rc;
}

int hlx_secret_file_read(const char *path, size_t max, struct hlx_buf *out)
{
	struct stat st;
	ssize_t r;
	int fd, rc = HLX_OK;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return hlx_err(errno == ENOENT ? HLX_ENOENT : HLX_EIO,
			       "cannot open '%s': %s", path, strerror(errno));
	if (fstat(fd, &st) != 0) {
		rc = hlx_err(HLX_EIO, "cannot stat '%s': %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = hlx_err(HLX_EINVAL, "'%s' is not a regular file", path);
		goto out;
	}
	if (st.st_mode & 077) {
		rc = hlx_err(HLX_EPERM,
			     "'%s' is accessible by group or others (mode %04o); run: chmod 600 '%s'",
			     path, (unsigned)(st.st_mode & 07777), path);
		goto out;
	}
	if (st.st_uid != geteuid()) {
		rc = hlx_err(HLX_EPERM, "'%s' is owned by uid %u, not by us",
			     path, (unsigned)st.st_uid);
		goto out;
	}
	if ((uintmax_t)st.st_size > max) {
		rc = hlx_err(HLX_ETOOBIG, "'%s' is %jd bytes (at most %zu)",
			     path, (intmax_t)st.st_size, max);
		goto out;
	}
	rc = hlx_buf_reserve(out, max + 1);
	while (!rc) {
		if (out->len > max) {
			rc = hlx_err(HLX_ETOOBIG, "'%s' is larger than %zu bytes",
				     path, max);
			break;
		}
		r = read(fd, out->data + out->len, max + 1 - out->len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = hlx_err(HLX_EIO, "cannot read '%s': %s", path,
				     strerror(errno));
			break;
		}
		if (r == 0)
			break;
		out->len += (size_t)r;
	}
	if (!rc)
		out->data[out->len] = '\0';
out:
	close(fd);
	return rc;
}

static int fsync_dir_of(const char *path)
{
	char tmp[PATH_MAX];
	int fd, rc = HLX_OK;

	if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
		return hlx_err(HLX_EINVAL, "path too long: '%.60s...'", path);
	fd = open(dirname(tmp), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return hlx_err(HLX_EIO, "cannot open directory of '%s': %s",
			       path, strerror(errno));
	if (fsync(fd) != 0)
		rc = hlx_err(HLX_EIO, "cannot sync directory of '%s': %s", path,
			     strerror(errno));
	close(fd);
	return rc;
}

int hlx_secret_file_write(const char *path, const void *data, size_t n)
{
	char tmp[PATH_MAX];
	const uint8_t *p = data;
	size_t off = 0;
	ssize_t w;
	int fd, rc = HLX_OK;

	if (sodium_init() < 0)
		return hlx_err(HLX_ECRYPTO, "cannot initialise libsodium");
	/* a random name: one planted in its place is skipped, never opened */
	fd = -1;
	for (int tries = 0; fd < 0 && tries < 16; tries++) {
		uint8_t r[8];
		char hex[2 * sizeof(r) + 1];

		randombytes_buf(r, sizeof(r));
		sodium_bin2hex(hex, sizeof(hex), r, sizeof(r));
		if (snprintf(tmp, sizeof(tmp), "%s.tmp%s", path, hex) >=
		    (int)sizeof(tmp))
			return hlx_err(HLX_EINVAL, "path too long: '%.60s...'", path);
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			  0600);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0)
		return hlx_err(HLX_EIO, "cannot create '%s': %s", tmp,
			       strerror(errno));
	while (off < n) {
		w = write(fd, p + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			rc = hlx_err(HLX_EIO, "cannot write '%s': %s", tmp,
				     strerror(errno));
			goto fail;
		}
		off += (size_t)w;
	}
	if (fchmod(fd, 0600) != 0 || fsync(fd) != 0) {
		rc = hlx_err(HLX_EIO, "cannot sync '%s': %s", tmp, strerror(errno));
		goto fail;
	}
	if (close(fd) != 0) {
		fd = -1;
		rc = hlx_err(HLX_EIO, "cannot close '%s': %s", tmp, strerror(errno));
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		rc = hlx_err(HLX_EIO, "cannot rename '%s' to '%s': %s", tmp, path,
			     strerror(errno));
		goto fail;
	}
	return fsync_dir_of(path);
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return rc;
}

int hlx_keyfile_read_info(const char *path, struct hlx_keyfile_info *info)
{
	struct hlx_buf b;
	int rc;

	hlx_buf_init_secure(&b);
	rc = hlx_secret_file_read(path, HLX_KEYFILE_MAX, &b);
	if (!rc) {
		rc = hlx_keyfile_inspect((const char *)b.data, b.len, info);
		if (rc)
			rc = hlx_err_wrap(rc, "key file '%s'", path);
	}
	hlx_buf_free(&b);
	return rc;
}

int hlx_keyfile_read(const char *path, const char *pass, size_t passlen,
		     struct hlx_seckey **out)
{
	struct hlx_buf b;
	int rc;

	*out = NULL;
	hlx_buf_init_secure(&b);
	rc = hlx_secret_file_read(path, HLX_KEYFILE_MAX, &b);
	if (!rc) {
		rc = hlx_keyfile_decode((const char *)b.data, b.len, pass,
					passlen, out);
		if (rc)
			rc = hlx_err_wrap(rc, "key file '%s'", path);
	}
	hlx_buf_free(&b);
	return rc;
}

int hlx_keyfile_write(const char *path, const struct hlx_seckey *k,
		      const char *pass, size_t passlen)
{
	struct hlx_buf b;
	int rc;

	hlx_buf_init_secure(&b);
	rc = hlx_keyfile_encode(k, pass, passlen, &b);
	if (!rc)
		rc = hlx_secret_file_write(path, b.data, b.len);
	hlx_buf_free(&b);
	return rc;
}
