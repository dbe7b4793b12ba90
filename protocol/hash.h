/* SPDX-License-Identifier: MIT */
/*
 * Typed hashes and URL normalisation (spec/records.md, sections 1 and 2).
 *
 * A struct hlx_hash is a small value type: a type and 1..HLX_HASH_MAX bytes.
 * Its text form is "type:hex", e.g. "md5:" followed by 32 hex digits.
 *
 *   md5 16, sha1 20, sha256 32, pdq 32, photodna 144, tmk 1024 bytes;
 *   vpdq 32..1024 bytes, a multiple of 32 (1 to 32 frame PDQ hashes);
 *   url-sha256 32 bytes, SHA-256 of a URL normalised by hlx_url_normalise.
 *
 * Nothing here allocates except hlx_url_normalise, which appends to a
 * buffer owned by the caller.  Functions returning int return HLX_OK or a
 * negative HLX_E* code with an hlx_err() detail.
 */
#ifndef HLX_HASH_H
#define HLX_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "protocol/buf.h"

enum hlx_hash_type {
	HLX_HASH_MD5 = 1,
	HLX_HASH_SHA1,
	HLX_HASH_SHA256,
	HLX_HASH_PDQ,
	HLX_HASH_PHOTODNA,
	HLX_HASH_TMK,
	HLX_HASH_VPDQ,
	HLX_HASH_URL_SHA256,
};

#define HLX_HASH_MAX 1024
/* "url-sha256:" + hex + NUL; longer than any valid text form. */
#define HLX_HASH_TEXT_MAX (11 + 2 * HLX_HASH_MAX + 1)
/* Longest accepted URL, in bytes. */
#define HLX_URL_MAX 8192

struct hlx_hash {
	enum hlx_hash_type type;
	size_t len;
	uint8_t bytes[HLX_HASH_MAX];
};

/* Exact lowercase type name ("md5", ..., "url-sha256"). */
int hlx_hash_type_parse(const char *name, size_t n, enum hlx_hash_type *t);
/* Static lowercase name, or NULL for a value outside the enum. */
const char *hlx_hash_type_name(enum hlx_hash_type t);
/* HLX_OK if len is a valid length for type t, else HLX_EINVAL. */
int hlx_hash_check_len(enum hlx_hash_type t, size_t len);
/* HLX_OK if h has a known type and a valid length. */
int hlx_hash_validate(const struct hlx_hash *h);

/*
 * Parse "type:hex" as people and other tools write it: the type name and
 * the hex digits are case-insensitive.  Nothing else is tolerated: no
 * whitespace, no prefix, no separators.  h is only written on success.
 */
int hlx_hash_parse(const char *s, size_t n, struct hlx_hash *h);
/*
 * Parse only the canonical text form (what hlx_hash_format writes): a
 * lowercase type name and lowercase hex.  Used by the canonical line
 * decoders, so that decode(encode(x)) is byte-exact.
 */
int hlx_hash_parse_canonical(const char *s, size_t n, struct hlx_hash *h);
/*
 * Write "type:lowercasehex" and a NUL into out.  Fails with HLX_EINVAL for
 * an invalid hash and HLX_ETOOBIG if outlen is too small (HLX_HASH_TEXT_MAX
 * is always enough).  Returns HLX_OK; the text length is 2 * len + strlen
 * of the type name + 1.
 */
int hlx_hash_format(const struct hlx_hash *h, char *out, size_t outlen);
/*
 * Total order: by type name (byte-wise), then bytes (memcmp over the
 * common length), then length.  This is the order `LC_ALL=C sort` puts the
 * canonical text forms in.  Returns <0, 0 or >0.
 */
int hlx_hash_cmp(const struct hlx_hash *a, const struct hlx_hash *b);

/*
 * Normalise an http or https URL (spec/records.md, section 2) and append
 * the result to out (not NUL-counted; out stays NUL-terminated).  On
 * failure out is left as it was.  Input, or a normalised form, longer than
 * HLX_URL_MAX bytes fails with HLX_ETOOBIG (so that every normalised URL
 * can be normalised again, unchanged).
 */
int hlx_url_normalise(const char *url, size_t n, struct hlx_buf *out);
/* Normalise, then h = url-sha256 of the normalised URL. */
int hlx_url_hash(const char *url, size_t n, struct hlx_hash *h);


#endif
