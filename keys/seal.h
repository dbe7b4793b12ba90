/* SPDX-License-Identifier: MIT */
/*
 * Box keys and sealed envelopes (format in spec/encryption.md).
 *
 * A box key is an X25519 key pair made from an Ed25519 key with
 * crypto_sign_ed25519_{pk,sk}_to_curve25519; the node keeps an Ed25519 key
 * used only for this (keys/box.key in its home).  struct hlx_boxpub is a
 * plain value; struct hlx_boxkey is an opaque handle in sodium_malloc
 * memory (guard pages, wiped on free).  Text form of a public box key:
 * "hlx-box " and the standard base64 (with padding) of its 32 bytes.
 *
 * A sealed envelope encrypts a byte string to one or more box keys: a
 * fresh random file key, wrapped with crypto_box_seal to every recipient,
 * encrypts the data with crypto_secretstream_xchacha20poly1305 in chunks
 * of at most HLX_SEAL_CHUNK bytes.  Every chunk is bound to the whole
 * header and to a context string given by the caller (e.g. the path the
 * file is served at), so that an envelope cannot be passed off as another.
 * Recipients are not named: an envelope shows its size and its number of
 * recipients, nothing else.  There is no sender authentication: any
 * recipient could make an envelope for the others; sign what is inside.
 *
 * Unsealing fails with
 *   HLX_EINVAL  not an envelope (bad magic) or a recipient count outside
 *               1..HLX_SEAL_MAX_RECIPIENTS;
 *   HLX_EPERM   "not a recipient of this envelope": no wrapped copy of the
 *               file key opens with the key given (also what a damaged
 *               copy of one's own wrapped key looks like);
 *   HLX_EBADSIG a chunk does not authenticate, or the input ends early:
 *               tampering, truncation (header included), bytes after the
 *               end, or another context;
 *   HLX_ETOOBIG the plaintext is longer than the caller's maximum.
 */
#ifndef HLX_SEAL_H
#define HLX_SEAL_H

#include <stddef.h>
#include <stdint.h>

#include "keys/key.h"
#include "protocol/buf.h"

#define HLX_BOXPUB_LEN 32
/* "hlx-box " + 44 base64 characters + NUL */
#define HLX_BOXPUB_TEXT_MAX 53

#define HLX_SEAL_MAGIC "hlxseal1"
#define HLX_SEAL_MAGIC_LEN 8
#define HLX_SEAL_MAX_RECIPIENTS 4096
/* Plaintext bytes per chunk; the last chunk holds fewer (maybe none). */
#define HLX_SEAL_CHUNK 65536
/* Longest context string, in bytes. */
#define HLX_SEAL_CONTEXT_MAX 1024
/* Envelope size: header, then chunks of HLX_SEAL_CHUNK + 17 bytes and a
 * last one of (n mod HLX_SEAL_CHUNK) + 17 bytes. */
#define HLX_SEAL_HEADER_LEN(nto) (8 + 4 + 80 * (size_t)(nto) + 24)
#define HLX_SEAL_LEN(n, nto)                                               \
	(HLX_SEAL_HEADER_LEN(nto) + (size_t)(n) +                          \
	 17 * ((size_t)(n) / HLX_SEAL_CHUNK + 1))

struct hlx_boxpub {
	uint8_t pk[HLX_BOXPUB_LEN];
};

struct hlx_boxkey;

/* Parse "hlx-box BASE64" (exactly 32 bytes, padded standard base64; one
 * trailing newline allowed).  Keys of small order are refused.  out is
 * only written on success. */
int hlx_boxpub_parse(const char *text, size_t n, struct hlx_boxpub *out);
/* Append the text form (no newline) to out. */
int hlx_boxpub_format(const struct hlx_boxpub *k, struct hlx_buf *out);
/* The box public key of an Ed25519 public key. */
int hlx_boxpub_from_pubkey(const struct hlx_pubkey *ed25519,
			   struct hlx_boxpub *out);
/* 1 if equal (constant time), 0 otherwise. */
int hlx_boxpub_eq(const struct hlx_boxpub *a, const struct hlx_boxpub *b);

/* The box secret key of an Ed25519 secret key; free with hlx_boxkey_free. */
int hlx_boxkey_from_seckey(const struct hlx_seckey *k,
			   struct hlx_boxkey **out);
void hlx_boxkey_free(struct hlx_boxkey *k);
void hlx_boxkey_pub(const struct hlx_boxkey *k, struct hlx_boxpub *out);

/*
 * Seal n bytes to the nto (1..HLX_SEAL_MAX_RECIPIENTS) keys of to, bound to
 * context (a NUL-terminated string of at most HLX_SEAL_CONTEXT_MAX bytes,
 * "" allowed).  The envelope (HLX_SEAL_LEN(n, nto) bytes) is appended to
 * out; on failure out is left as it was.
 */
int hlx_seal_buf(const void *in, size_t n, const struct hlx_boxpub *to,
		 size_t nto, const char *context, struct hlx_buf *out);
/* The same from file descriptor in (read to its end) to out, in constant
 * memory.  Gives the same format as hlx_seal_buf. */
int hlx_seal_fd(int in, int out, const struct hlx_boxpub *to, size_t nto,
		const char *context);
/* 1 if data starts with the envelope magic, else 0. */
int hlx_seal_is(const void *data, size_t n);

/*
 * Open an envelope with k, checking it against context.  The plaintext is
 * appended to out (use a secure buffer for secrets); on failure out is
 * left as it was (what was appended is wiped).  More than max plaintext
 * bytes fail with HLX_ETOOBIG.
 */
int hlx_unseal_buf(const void *in, size_t n, const struct hlx_boxkey *k,
		   const char *context, size_t max, struct hlx_buf *out);
/* The same from in to out in constant memory.  A chunk's plaintext is
 * written only after it authenticated; on failure what was written to out
 * is unspecified and must be discarded (the end of the envelope is only
 * known to be genuine when this returns HLX_OK). */
int hlx_unseal_fd(int in, int out, const struct hlx_boxkey *k,
		  const char *context, uint64_t max);

#endif
