/* SPDX-License-Identifier: MIT */
/*
 * Fetching: every network transfer of hlx, through libcurl only.
 *
 * struct hlx_fetch is one libcurl easy handle with hlx's settings, reused
 * for every request (connections are kept alive between requests to the
 * same server, also after an error status: its body is read and
 * dropped, up to 64 KiB, so that an HTTP/1.1 connection stays open).
 * Create it with hlx_fetch_new(), release it with hlx_fetch_free().  One handle must be used by one thread at a time;
 * different handles may be used by different threads at once.
 * curl_global_init() is run exactly once, by the first hlx_fetch_new()
 * (under pthread_once), and never undone: a program that starts threads of
 * its own which use libcurl or OpenSSL should create its first handle
 * before starting them.
 *
 * What a handle allows, always:
 *   - schemes https and file only (also for redirects, which may only go
 *     to https: a server can never redirect to a local file); http:// is
 *     refused ("plain http is not allowed; use https or file");
 *   - TLS 1.2 or later, with certificate and host name verification (never
 *     turned off); opts.ca_file adds a CA bundle to the system store;
 *   - at most 3 redirects;
 *   - connect timeout, total timeout and a minimum transfer speed;
 *   - a size limit per request, enforced on the announced Content-Length
 *     and again on the bytes received, which aborts the transfer as soon as
 *     it is passed.
 * Proxies: libcurl's usual environment variables (https_proxy, all_proxy,
 * no_proxy) are honoured, so a node behind an outbound proxy works
 * unchanged; TLS is still verified end to end through the proxy.  Nothing
 * else is taken from the environment.
 */
#ifndef HLX_FETCH_H
#define HLX_FETCH_H

#include <stddef.h>

#include "protocol/buf.h"

struct hlx_fetch;

/* A value of 0 (or a NULL opts) means the default. */
struct hlx_fetch_opts {
	const char *ca_file;     /* extra CA bundle (PEM) to trust besides the
				    system store, or NULL; copied */
	long connect_timeout_ms; /* TCP and TLS handshake, default 10000 */
	long total_timeout_ms;   /* whole request, default 300000 */
	long low_speed_bytes;    /* minimum transfer speed, bytes/s, default
				    1024 ... */
	long low_speed_secs;     /* ... over this many seconds, default 30 */
};

/* HLX_EINVAL for a negative option or an unreadable ca_file,
 * HLX_EUNSUPPORTED when libcurl cannot do https, HLX_ENOMEM. */
int hlx_fetch_new(const struct hlx_fetch_opts *o, struct hlx_fetch **out);
/* NULL is allowed. */
void hlx_fetch_free(struct hlx_fetch *f);

struct hlx_fetch_result {
	int not_modified;        /* 304 (file: unchanged per the validator) */
	long status;             /* HTTP status of the last response, 0 for
				    file: */
	char etag[256];          /* ETag of the response, "" if none */
	char last_modified[64];  /* Last-Modified, "" if none */
};

/*
 * GET url, appending the body to out, at most max bytes: a larger body is
 * HLX_ETOOBIG, and the transfer stops as soon as the limit is passed (at
 * once when a Content-Length announces more).
 *
 * Conditional request: a non-empty etag sends If-None-Match, a non-empty
 * last_modified sends If-Modified-Since (pass back the values of an
 * earlier result; each may be NULL or "").  When the resource is
 * unchanged, res->not_modified is set, nothing is appended, and the
 * result's validators are those of the response or, where it has none,
 * those sent.  A validator with control characters, or too long for
 * struct hlx_fetch_result, is HLX_EINVAL.
 *
 * file: URLs (file:///abs/path, host empty or localhost) read a local
 * regular file.  Their validator is an ETag made from the file's size,
 * modification time and inode, taken before the file is read (so a change
 * during the read is seen by the next request), and they honour the etag
 * argument the same way.
 *
 * res may be NULL; it is filled on success and, as far as known, on
 * failure (status).  On failure out is left as it was.
 *
 * Errors: HLX_EINVAL for a URL that is malformed or not https/file
 * (http:// is named), HLX_ETOOBIG, HLX_ENOENT for HTTP 404 or a missing
 * file, HLX_ENET for every other transfer failure, with a detail naming
 * the URL and what failed: DNS lookup, connect, TLS handshake or
 * certificate verification, timeout, too slow, truncated response,
 * refused redirect, HTTP status >= 400.  HLX_EIO for a local file that
 * cannot be read.
 */
int hlx_fetch_get(struct hlx_fetch *f, const char *url, size_t max,
		  const char *etag, const char *last_modified,
		  struct hlx_buf *out, struct hlx_fetch_result *res);

/*
 * The same, unconditional, streamed into fd (for large packs): at most max
 * bytes are written.  On failure fd may hold part of the body: write to a
 * temporary file and keep it only on success.  A failed write(2) to fd is
 * HLX_EIO.
 */
int hlx_fetch_to_fd(struct hlx_fetch *f, const char *url, size_t max, int fd,
		    struct hlx_fetch_result *res);

/*
 * Append base joined with the relative path rel to out:
 * "https://h/x/" or "https://h/x" + "lists/a/head" or "/lists/a/head" give
 * "https://h/x/lists/a/head".  rel is made of segments of
 * [A-Za-z0-9._~-] separated by single '/', none of them "." or ".."; a
 * leading '/' is ignored and a trailing one kept.  base must be an
 * absolute URL ("scheme://...") without a query or fragment.  HLX_EINVAL
 * otherwise, with nothing appended.
 */
int hlx_fetch_join(const char *base, const char *rel, struct hlx_buf *out);

#endif
