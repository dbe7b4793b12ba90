/* SPDX-License-Identifier: MIT */
#include "err.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char detail[512];

static const char *const names[] = {
	[HLX_ENOMEM - HLX_EFIRST] = "out of memory",
	[HLX_EINVAL - HLX_EFIRST] = "invalid input",
	[HLX_ETOOBIG - HLX_EFIRST] = "input too large",
	[HLX_EIO - HLX_EFIRST] = "input/output error",
	[HLX_ENOENT - HLX_EFIRST] = "not found",
	[HLX_EEXIST - HLX_EFIRST] = "already exists",
	[HLX_EPERM - HLX_EFIRST] = "unsafe permissions",
	[HLX_EPASS - HLX_EFIRST] = "wrong passphrase or damaged key",
	[HLX_EBADSIG - HLX_EFIRST] = "bad signature",
	[HLX_EUNTRUSTED - HLX_EFIRST] = "signer not trusted",
	[HLX_EREVOKED - HLX_EFIRST] = "key revoked",
	[HLX_EEXPIRED - HLX_EFIRST] = "outside validity window",
	[HLX_EUNSUPPORTED - HLX_EFIRST] = "unsupported",
	[HLX_ECRYPTO - HLX_EFIRST] = "cryptographic failure",
	[HLX_ESTORE - HLX_EFIRST] = "state store failure",
	[HLX_EHISTORY - HLX_EFIRST] = "history repository failure",
	[HLX_ENET - HLX_EFIRST] = "network transfer failed",
	[HLX_EPOLICY - HLX_EFIRST] = "refused by policy",
	[HLX_ESTATE - HLX_EFIRST] = "not possible in the current state",
};

const char *hlx_strerror(int code)
{
	if (code == HLX_OK)
		return "success";
	if (code >= HLX_EFIRST && code < HLX_ELAST && names[code - HLX_EFIRST])
		return names[code - HLX_EFIRST];
	return "unknown error";
}

/*
 * (err.h) Copy text into out (size bytes) with every control byte (below 0x20,
 * 0x7f, and the C1 controls U+0080..U+009F as UTF-8 encodes them) written
 * as \xHH: a detail often quotes untrusted input (a peer's head, a JSON
 * parser's "near '...'"), and an error printed to a terminal or kept for
 * 'peer status' must not carry escape sequences.  Printable text, UTF-8
 * included, and backslashes pass unchanged, so running it twice changes
 * nothing.  Truncates at a whole character or escape.
 */
void hlx_err_neutralise(char *out, size_t size, const char *text)
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *p = (const uint8_t *)text;
	size_t o = 0;

	for (; *p; p++) {
		uint8_t c = *p;
		int esc = c < 0x20 || c == 0x7f ||
			  (c == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f);

		if (!esc) {
			if (o + 1 >= size)
				break;
			out[o++] = (char)c;
			continue;
		}
		if (o + (c == 0xc2 ? 8 : 4) >= size)
			break;
		for (int k = 0; k < (c == 0xc2 ? 2 : 1); k++) {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[p[k] >> 4];
			out[o++] = hex[p[k] & 15];
		}
		if (c == 0xc2)
			p++;
	}
	out[o] = '\0';
}

int hlx_err(int code, const char *fmt, ...)
{
	char raw[sizeof(detail)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	hlx_err_neutralise(detail, sizeof(detail), raw);
	return code;
}

int hlx_err_wrap(int code, const char *fmt, ...)
{
	char old[sizeof(detail)], raw[sizeof(detail)];
	va_list ap;
	int n;

	memcpy(old, detail, sizeof(old));
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	hlx_err_neutralise(detail, sizeof(detail), raw);
	n = (int)strlen(detail);
	if (n >= 0 && (size_t)n + 2 < sizeof(detail) && old[0]) {
		size_t room = sizeof(detail) - (size_t)n - 2;
		size_t ol = strnlen(old, room - 1);

		memcpy(detail + n, ": ", 2);
		memcpy(detail + n + 2, old, ol);
		detail[(size_t)n + 2 + ol] = '\0';
	}
	return code;
}

const char *hlx_err_detail(void)
{
	return detail;
}

void hlx_err_clear(void)
{
	detail[0] = '\0';
}

const char *hlx_quote(char out[HLX_QUOTE_SIZE], const void *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *p = s;
	size_t i, m = n > 40 ? 40 : n;
	char *o = out;

	for (i = 0; i < m; i++) {
		uint8_t c = p[i];

		if (c == '\\' || c == '\'') {
			*o++ = '\\';
			*o++ = (char)c;
		} else if (c >= 0x20 && c < 0x7f) {
			*o++ = (char)c;
		} else {
			*o++ = '\\';
			*o++ = 'x';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
		}
	}
	if (n > m) {
		memcpy(o, "...", 3);
		o += 3;
	}
	*o = '\0';
	return out;
}
