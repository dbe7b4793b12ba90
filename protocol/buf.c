/* SPDX-License-Identifier: MIT */
#include "buf.h"
#include "err.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void hlx_buf_init(struct hlx_buf *b)
{
	b->data = NULL;
	b->len = b->cap = 0;
	b->secure = 0;
}

void hlx_buf_init_secure(struct hlx_buf *b)
{
	hlx_buf_init(b);
	b->secure = 1;
}

static void release(struct hlx_buf *b)
{
	if (!b->data)
		return;
	if (b->secure)
		sodium_free(b->data); /* wipes */
	else
		free(b->data);
}

void hlx_buf_free(struct hlx_buf *b)
{
	int secure = b->secure;

	release(b);
	hlx_buf_init(b);
	b->secure = secure;
}

void hlx_buf_reset(struct hlx_buf *b)
{
	if (b->data && b->secure)
		sodium_memzero(b->data, b->cap);
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

int hlx_buf_reserve(struct hlx_buf *b, size_t n)
{
	size_t need, cap;
	uint8_t *p;

	if (n > SIZE_MAX - b->len - 1)
		return hlx_err(HLX_ENOMEM, "buffer of %zu bytes cannot grow by %zu",
			       b->len, n);
	need = b->len + n + 1;
	if (need <= b->cap)
		return HLX_OK;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	if (b->secure) {
		p = sodium_malloc(cap);
		if (p && b->data)
			memcpy(p, b->data, b->len + 1);
	} else {
		p = realloc(b->data, cap);
	}
	if (!p)
		return hlx_err(HLX_ENOMEM, "cannot allocate %zu bytes", cap);
	if (b->secure)
		release(b);
	if (!b->data)
		p[0] = '\0';
	b->data = p;
	b->cap = cap;
	return HLX_OK;
}

int hlx_buf_put(struct hlx_buf *b, const void *p, size_t n)
{
	int rc = hlx_buf_reserve(b, n);

	if (rc)
		return rc;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return HLX_OK;
}

int hlx_buf_putc(struct hlx_buf *b, uint8_t c)
{
	return hlx_buf_put(b, &c, 1);
}

int hlx_buf_puts(struct hlx_buf *b, const char *s)
{
	return hlx_buf_put(b, s, strlen(s));
}

int hlx_buf_printf(struct hlx_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n, rc;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return hlx_err(HLX_EINVAL, "bad format '%s'", fmt);
	rc = hlx_buf_reserve(b, (size_t)n);
	if (rc)
		return rc;
	va_start(ap, fmt);
	vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return HLX_OK;
}

int hlx_buf_put_u32(struct hlx_buf *b, uint32_t v)
{
	uint8_t x[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16),
			 (uint8_t)(v >> 8), (uint8_t)v };

	return hlx_buf_put(b, x, 4);
}

int hlx_buf_put_string(struct hlx_buf *b, const void *p, size_t n)
{
	int rc;

	if (n > UINT32_MAX)
		return hlx_err(HLX_ETOOBIG, "string of %zu bytes", n);
	rc = hlx_buf_put_u32(b, (uint32_t)n);
	return rc ? rc : hlx_buf_put(b, p, n);
}

int hlx_buf_put_cstring(struct hlx_buf *b, const char *s)
{
	return hlx_buf_put_string(b, s, strlen(s));
}

int hlx_rd_u32(struct hlx_rd *r, uint32_t *v)
{
	if (r->left < 4)
		return hlx_err(HLX_EINVAL, "truncated: need 4 bytes, %zu left",
			       r->left);
	*v = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 |
	     (uint32_t)r->p[2] << 8 | (uint32_t)r->p[3];
	r->p += 4;
	r->left -= 4;
	return HLX_OK;
}

int hlx_rd_bytes(struct hlx_rd *r, size_t n, const uint8_t **p)
{
	if (n > r->left)
		return hlx_err(HLX_EINVAL, "truncated: need %zu bytes, %zu left",
			       n, r->left);
	*p = r->p;
	r->p += n;
	r->left -= n;
	return HLX_OK;
}

int hlx_rd_string(struct hlx_rd *r, const uint8_t **p, size_t *n)
{
	struct hlx_rd save = *r;
	uint32_t len = 0;
	int rc;

	rc = hlx_rd_u32(r, &len);
	if (!rc)
		rc = hlx_rd_bytes(r, len, p);
	if (rc) {
		*r = save;
		return rc;
	}
	*n = len;
	return HLX_OK;
}

int hlx_rd_expect(struct hlx_rd *r, const char *s, const char *what)
{
	const uint8_t *p;
	size_t n, sl = strlen(s);
	int rc;

	rc = hlx_rd_string(r, &p, &n);
	if (rc)
		return hlx_err(rc, "%s: missing", what);
	if (n != sl || memcmp(p, s, n) != 0)
		return hlx_err(HLX_EINVAL, "%s: expected '%s'", what, s);
	return HLX_OK;
}
