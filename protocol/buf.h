/* SPDX-License-Identifier: MIT */
/*
 * Byte buffers and bounded readers.
 *
 * struct hlx_buf is a growable byte buffer owned by its user: initialise it
 * with HLX_BUF_INIT (or hlx_buf_init), release it with hlx_buf_free.  The
 * data is always followed by a NUL byte that is not counted in len, so text
 * built in it can be used as a C string.  A buffer made with
 * hlx_buf_init_secure() lives in sodium_malloc memory and is wiped on free.
 *
 * struct hlx_rd reads a byte string without ever reading past its end: every
 * length taken from the input is checked against what is left before any
 * arithmetic (the SSH wire format, RFC 4251 section 5).
 */
#ifndef HLX_BUF_H
#define HLX_BUF_H

#include <stddef.h>
#include <stdint.h>

struct hlx_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
	int secure; /* sodium_malloc'd, wiped on growth and free */
};

#define HLX_BUF_INIT { NULL, 0, 0, 0 }

void hlx_buf_init(struct hlx_buf *b);
void hlx_buf_init_secure(struct hlx_buf *b);
void hlx_buf_free(struct hlx_buf *b);
/* Drop the content, keep the memory (wiped first if secure). */
void hlx_buf_reset(struct hlx_buf *b);
/* Make room for n more bytes. */
int hlx_buf_reserve(struct hlx_buf *b, size_t n);
int hlx_buf_put(struct hlx_buf *b, const void *p, size_t n);
int hlx_buf_putc(struct hlx_buf *b, uint8_t c);
int hlx_buf_puts(struct hlx_buf *b, const char *s);
int hlx_buf_printf(struct hlx_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* SSH wire encoding: big-endian uint32, and uint32 length + bytes. */
int hlx_buf_put_u32(struct hlx_buf *b, uint32_t v);
int hlx_buf_put_string(struct hlx_buf *b, const void *p, size_t n);
int hlx_buf_put_cstring(struct hlx_buf *b, const char *s);

struct hlx_rd {
	const uint8_t *p;
	size_t left;
};

static inline struct hlx_rd hlx_rd_make(const void *p, size_t n)
{
	struct hlx_rd r = { (const uint8_t *)p, n };
	return r;
}

/* Each returns HLX_OK, or HLX_EINVAL (with detail naming what) when the
 * input is too short.  Returned pointers point into the input. */
int hlx_rd_u32(struct hlx_rd *r, uint32_t *v);
int hlx_rd_bytes(struct hlx_rd *r, size_t n, const uint8_t **p);
int hlx_rd_string(struct hlx_rd *r, const uint8_t **p, size_t *n);
/* A string that must equal s exactly. */
int hlx_rd_expect(struct hlx_rd *r, const char *s, const char *what);

#endif
