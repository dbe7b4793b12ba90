/* SPDX-License-Identifier: MIT */
/*
 * OpenSSH public keys: the one-line text form ("ssh-ed25519 AAAA... comment",
 * as in id_ed25519.pub, authorized_keys and allowed signers files), the wire
 * blob (RFC 8709: string "ssh-ed25519", string key), and the SHA256
 * fingerprint exactly as `ssh-keygen -l` prints it.
 *
 * Only ssh-ed25519 keys are supported.  Any other well-formed key (ssh-rsa,
 * ecdsa-sha2-*, sk-*, certificates, ...) is rejected with HLX_EUNSUPPORTED
 * and a detail naming its type; malformed input gives HLX_EINVAL and
 * oversized input HLX_ETOOBIG.
 */
#ifndef HLX_SSHKEY_H
#define HLX_SSHKEY_H

#include <stddef.h>
#include <stdint.h>

#include "keys/key.h"
#include "protocol/buf.h"

/* Longest public key line accepted, comment included. */
#define HLX_SSHKEY_LINE_MAX 8192
/* string "ssh-ed25519" (4 + 11) + string key (4 + 32) */
#define HLX_SSHKEY_BLOB_LEN 51
#define HLX_SSHKEY_TYPE "ssh-ed25519"

/*
 * Parse one public key line: optional leading and trailing whitespace
 * (spaces, tabs, CR, LF), the key type, one or more spaces or tabs, the
 * base64 of the blob, then optionally whitespace and a comment that runs to
 * the end of the line and may contain spaces.  The base64 must be canonical
 * and padded, the blob exactly a ssh-ed25519 blob whose type equals the
 * line's, with nothing trailing.  No NUL, newline or other control
 * character (tab excepted) may appear inside the line.
 *
 * comment may be NULL.  Otherwise it is reset and receives the comment
 * (possibly empty, always NUL-terminated, so comment->data is a C string).
 */
int hlx_sshkey_parse(const char *line, size_t n, struct hlx_pubkey *out,
		     struct hlx_buf *comment);

/*
 * Append the line "ssh-ed25519 BASE64" and, if comment is neither NULL nor
 * empty, " comment", without a trailing newline.  The comment must not hold
 * control characters other than tab (HLX_EINVAL).
 */
int hlx_sshkey_format(const struct hlx_pubkey *k, const char *comment,
		      struct hlx_buf *out);

/* Append the HLX_SSHKEY_BLOB_LEN-byte wire blob. */
int hlx_sshkey_encode_blob(const struct hlx_pubkey *k, struct hlx_buf *out);

/* Decode a wire blob: exactly string "ssh-ed25519", string 32-byte key. */
int hlx_sshkey_decode_blob(const uint8_t *p, size_t n, struct hlx_pubkey *out);

/* "SHA256:" + unpadded base64 of SHA-256(blob), NUL-terminated. */
void hlx_sshkey_fingerprint(const struct hlx_pubkey *k,
			    char out[HLX_FPR_LEN]);

/* 1 if name[0..n) is a key type name OpenSSH knows (whether or not hlx
 * supports it), else 0. */
int hlx_sshkey_known_type(const char *name, size_t n);

#endif
