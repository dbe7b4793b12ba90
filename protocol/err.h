/* SPDX-License-Identifier: MIT */
/*
 * hlx error codes and error detail.
 *
 * Every function of protocol/, keys/ and node/ that can fail returns an int:
 * HLX_OK (0) on success or one of the negative HLX_E* codes below.  Codes
 * live in their own range, like LMDB's, so they never collide with errno or
 * a library's codes.  hlx_strerror() names the code; hlx_err_detail() gives
 * the message of the most recent failure on this thread, which says what
 * failed first and quotes the subject ("hash 'md5:12': expected 32 hex
 * digits, got 2").
 */
#ifndef HLX_ERR_H
#define HLX_ERR_H

#include <stddef.h>

enum {
	HLX_OK = 0,
	HLX_EFIRST = -30900,
	HLX_ENOMEM = HLX_EFIRST, /* out of memory */
	HLX_EINVAL,              /* invalid argument or malformed input */
	HLX_ETOOBIG,             /* input exceeds a size limit */
	HLX_EIO,                 /* file or system I/O failed */
	HLX_ENOENT,              /* no such file, key, list or entry */
	HLX_EEXIST,              /* already exists */
	HLX_EPERM,               /* unsafe permissions on a secret file */
	HLX_EPASS,               /* wrong passphrase or damaged key file */
	HLX_EBADSIG,             /* signature does not verify */
	HLX_EUNTRUSTED,          /* signer not delegated by the pinned root */
	HLX_EREVOKED,            /* signer key has been revoked */
	HLX_EEXPIRED,            /* outside the key's validity window */
	HLX_EUNSUPPORTED,        /* valid but unsupported (version, algorithm) */
	HLX_ECRYPTO,             /* libsodium failed */
	HLX_ESTORE,              /* LMDB failed */
	HLX_EHISTORY,            /* libgit2 failed */
	HLX_ENET,                /* network transfer failed */
	HLX_EPOLICY,             /* refused by a sharing policy */
	HLX_ESTATE,              /* operation impossible in the current state */
	HLX_ELAST
};

/* Static, never NULL.  Also names codes outside the range. */
const char *hlx_strerror(int code);

/*
 * Record the detail of a failure and return code, so that callers write
 *     return hlx_err(HLX_EINVAL, "hash '%s': ...", s);
 * The detail is kept per thread until the next hlx_err() call.
 */
int hlx_err(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Put a prefix before the current detail ("key file 'x': " + detail) and
 * return code: for callers that add the subject to a lower layer's error.
 */
int hlx_err_wrap(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Detail of the last hlx_err() on this thread, or "" if none.  Static. */
const char *hlx_err_detail(void);

/* Forget the last detail. */
void hlx_err_clear(void);

/*
 * Render up to 40 bytes of untrusted input for an error detail: printable
 * ASCII as is (backslash and quote escaped), every other byte as \xHH,
 * "..." appended when truncated.  Returns out.
 */
#define HLX_QUOTE_SIZE (40 * 4 + 4)
const char *hlx_quote(char out[HLX_QUOTE_SIZE], const void *s, size_t n);

/*
 * Copy the string text into out (size > 0 bytes) with every control byte
 * (below 0x20, 0x7f, and the C1 controls as UTF-8 encodes them) written
 * as \xHH; the rest unchanged.  hlx_err() and hlx_err_wrap() pass every
 * detail through it, so no detail carries a terminal escape sequence.
 */
void hlx_err_neutralise(char *out, size_t size, const char *text);

#endif
