/* SPDX-License-Identifier: MIT */
/*
 * SSH signatures (OpenSSH PROTOCOL.sshsig, version 1), the format of
 * `ssh-keygen -Y sign` and of git's SSH commit signatures, for ssh-ed25519
 * keys.  See spec/signatures.md for what is accepted and rejected.
 *
 * Signing produces output byte-identical to `ssh-keygen -Y sign -n NS -f KEY
 * [-O hashalg=sha256]` for the same key and message (Ed25519 signatures are
 * deterministic).
 *
 * Error codes: HLX_EINVAL for malformed input (armor, base64, magic,
 * truncated or trailing fields, empty namespace), HLX_EUNSUPPORTED for a
 * well-formed signature hlx does not handle (version other than 1, hash
 * algorithm other than sha256/sha512, key or signature type other than
 * ssh-ed25519, non-empty reserved field), HLX_ETOOBIG for oversized input,
 * HLX_EBADSIG when a well-formed signature does not verify (wrong
 * namespace, altered message, forged signature), HLX_EUNTRUSTED when it was
 * made by another key than the one expected.
 */
#ifndef HLX_SSHSIG_H
#define HLX_SSHSIG_H

#include <stddef.h>
#include <stdint.h>

#include "keys/key.h"
#include "protocol/buf.h"

/* Largest armored signature accepted (ssh-keygen's are about 300 bytes). */
#define HLX_SSHSIG_ARMOR_MAX 16384
/* Longest namespace hlx signs with. */
#define HLX_SSHSIG_NS_MAX 1024
/* Base64 characters per armor line, as ssh-keygen writes them. */
#define HLX_SSHSIG_LINE_WIDTH 70
#define HLX_SSHSIG_DEFAULT_HASH "sha512"

/* ---- signing ---------------------------------------------------------- */

/*
 * Sign msg[0..n) for namespace ns (non-empty) with hash algorithm hashalg:
 * NULL or "sha512" (the default, as ssh-keygen), or "sha256".  Appends the
 * armored signature ("-----BEGIN SSH SIGNATURE-----\n", base64 wrapped at
 * 70 columns, "-----END SSH SIGNATURE-----\n") to out.
 */
int hlx_sshsig_sign(const struct hlx_seckey *k, const char *ns,
		    const char *hashalg, const uint8_t *msg, size_t n,
		    struct hlx_buf *out);

/*
 * Streaming: hash a message fed in chunks, then sign or verify it.
 *     hlx_sshsig_hasher_new("sha512", &h);
 *     while (...) hlx_sshsig_hasher_update(h, chunk, len);
 *     hlx_sshsig_sign_hasher(h, key, "file", &armor);
 *     hlx_sshsig_hasher_free(h);
 * A hasher is finalised by sign_hasher / verify_hasher and cannot be used
 * again afterwards (HLX_ESTATE).  To verify, create it with the
 * signature's algorithm: hlx_sshsig_hasher_new(hlx_sshsig_hashalg(s), &h).
 */
struct hlx_sshsig_hasher;

int hlx_sshsig_hasher_new(const char *hashalg, struct hlx_sshsig_hasher **out);
void hlx_sshsig_hasher_update(struct hlx_sshsig_hasher *h, const void *p,
			      size_t n);
void hlx_sshsig_hasher_free(struct hlx_sshsig_hasher *h);
int hlx_sshsig_sign_hasher(struct hlx_sshsig_hasher *h,
			   const struct hlx_seckey *k, const char *ns,
			   struct hlx_buf *out);

/* ---- armor -------------------------------------------------------------- */

/* Append the armored form of a signature blob to out. */
int hlx_sshsig_armor(const uint8_t *blob, size_t n, struct hlx_buf *out);

/*
 * Decode armored text into the blob it holds (out is reset first).  The
 * text must start with the BEGIN line; then come base64 lines (any length,
 * none empty) and the END line, each line ending in LF or CRLF (the last
 * one may lack it); only spaces, tabs, CR and LF may follow the END line.
 * The base64 must be canonical and padded.
 */
int hlx_sshsig_dearmor(const char *text, size_t n, struct hlx_buf *out);

/* ---- parsing and verifying --------------------------------------------- */

struct hlx_sshsig;

/* Parse an armored signature or a raw blob.  *out is NULL on failure and
 * must be released with hlx_sshsig_free on success. */
int hlx_sshsig_parse_armor(const char *text, size_t n,
			   struct hlx_sshsig **out);
int hlx_sshsig_parse_blob(const uint8_t *p, size_t n,
			  struct hlx_sshsig **out);
void hlx_sshsig_free(struct hlx_sshsig *s);

/* Accessors: pointers into s, valid until hlx_sshsig_free(s). */
const struct hlx_pubkey *hlx_sshsig_signer(const struct hlx_sshsig *s);
/* NUL-terminated; never empty and never holding a NUL. */
const char *hlx_sshsig_namespace(const struct hlx_sshsig *s);
/* "sha256" or "sha512". */
const char *hlx_sshsig_hashalg(const struct hlx_sshsig *s);
/* The signature blob as parsed (armor removed). */
const uint8_t *hlx_sshsig_blob(const struct hlx_sshsig *s, size_t *n);

/*
 * Verify that s is a signature of msg[0..n) for namespace ns by the key
 * embedded in s.  ns must be non-empty (else HLX_EINVAL).  Returns HLX_OK,
 * or HLX_EBADSIG when the namespace differs or the Ed25519 signature over
 * the SSHSIG signed data does not verify.  It says nothing about who the
 * signer is: check that with hlx_sshsig_check_signer, hlx_sshsig_verify_key
 * or hlx_allowed_check.
 */
int hlx_sshsig_verify(const struct hlx_sshsig *s, const char *ns,
		      const uint8_t *msg, size_t n);
int hlx_sshsig_verify_hasher(const struct hlx_sshsig *s,
			     struct hlx_sshsig_hasher *h, const char *ns);

/* HLX_OK if s was made by expected, else HLX_EUNTRUSTED naming both
 * fingerprints. */
int hlx_sshsig_check_signer(const struct hlx_sshsig *s,
			    const struct hlx_pubkey *expected);

/* hlx_sshsig_check_signer, then hlx_sshsig_verify. */
int hlx_sshsig_verify_key(const struct hlx_sshsig *s,
			  const struct hlx_pubkey *expected, const char *ns,
			  const uint8_t *msg, size_t n);

#endif
