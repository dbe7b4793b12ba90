/* SPDX-License-Identifier: MIT */
/*
 * Secret key files (format in spec/keys.md).
 *
 * A key file holds one Ed25519 seed sealed with XChaCha20-Poly1305 under a
 * key derived from a passphrase with Argon2id, the public key in clear and
 * authenticated with it.  A file written without a passphrase is sealed
 * under the all-zero key: integrity, no confidentiality.
 *
 * Files are created 0600 (write to a temporary file, fsync, rename, fsync
 * the directory) and refused when group or others have any access or when
 * they are not owned by the caller.
 */
#ifndef HLX_KEYFILE_H
#define HLX_KEYFILE_H

#include <stddef.h>
#include <stdint.h>

#include "keys/key.h"
#include "protocol/buf.h"

/* Bytes of the decoded binary form. */
#define HLX_KEYFILE_BIN_LEN 145
/* Largest file accepted by hlx_keyfile_read. */
#define HLX_KEYFILE_MAX 4096

struct hlx_keyfile_info {
	int encrypted;         /* needs a passphrase */
	struct hlx_pubkey pub; /* public key, authenticated on decryption */
};

/* Encode k into the armored text form.  pass may be NULL (no passphrase);
 * otherwise passlen > 0.  out receives text and should be a secure buffer
 * only if the caller wants; the text holds no plaintext secret when a
 * passphrase is given. */
int hlx_keyfile_encode(const struct hlx_seckey *k, const char *pass,
		       size_t passlen, struct hlx_buf *out);

/* Parse the armored text without decrypting.  No secrets touched. */
int hlx_keyfile_inspect(const char *text, size_t n,
			struct hlx_keyfile_info *info);

/* Parse and decrypt.  HLX_EPASS for a wrong passphrase or a damaged file;
 * HLX_EINVAL for malformed text; HLX_EUNSUPPORTED for an unknown version
 * or KDF.  pass may be NULL for an unencrypted file. */
int hlx_keyfile_decode(const char *text, size_t n, const char *pass,
		       size_t passlen, struct hlx_seckey **out);

/* Read a whole file that holds a secret (key file or passphrase file),
 * refusing it when group or others have access or it is not ours.  The
 * content goes into a secure buffer (*out must be initialised by the
 * caller, e.g. with hlx_buf_init_secure). */
int hlx_secret_file_read(const char *path, size_t max, struct hlx_buf *out);

/* Atomically write a file created 0600 (O_EXCL temporary + rename). */
int hlx_secret_file_write(const char *path, const void *data, size_t n);

int hlx_keyfile_read_info(const char *path, struct hlx_keyfile_info *info);
int hlx_keyfile_read(const char *path, const char *pass, size_t passlen,
		     struct hlx_seckey **out);
int hlx_keyfile_write(const char *path, const struct hlx_seckey *k,
		      const char *pass, size_t passlen);

#endif
