/* SPDX-License-Identifier: MIT */
#include "node/fetch.h"
#include "node/curlso.h"
#include "protocol/err.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* CURLOPT_PROTOCOLS_STR (7.85) and curl_easy_header() (7.84). */
#if LIBCURL_VERSION_NUM < 0x075500
#error "hlx needs libcurl 7.85 or later (Debian 12 has 7.88)"
#endif

_Static_assert(sizeof(curl_off_t) == sizeof(int64_t), "curl_off_t is 64 bits");

#define MAX_URL 4096
#define MAX_REDIRS 3L

struct hlx_fetch {
	CURL *h;
	char *ca_file;
	long connect_ms, total_ms, low_bytes, low_secs;
	char errbuf[CURL_ERROR_SIZE];
};

/* Where a body goes, and what went wrong there. */
struct sink {
	size_t max, got;
	struct hlx_buf *buf; /* or */
	int fd;
	int too_big, nomem, io_errno;
	CURL *h;             /* an https transfer: its status is looked at */
	size_t err_got;      /* bytes of an error response's body, dropped */
};

/* An error response's body (status 400 or more) is read and dropped, up
 * to this much, rather than the transfer cut short: libcurl closes an
 * HTTP/1.1 connection whose response it did not read whole, and a peer
 * without plans answers 404 to every round's plans/head. */
#define ERR_BODY_MAX (64 * 1024)

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_FAILED_INIT;

static void global_init(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* A URL fit to quote in a message: at most 160 bytes, no control bytes. */
struct qurl {
	char s[168];
};

static struct qurl quote(const char *url)
{
	struct qurl q;
	size_t i;

	for (i = 0; url[i] && i < 160; i++) {
		unsigned char c = (unsigned char)url[i];

		q.s[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	if (url[i])
		memcpy(q.s + i, "...", 3), i += 3;
	q.s[i] = '\0';
	return q;
}

static int printable(const char *s, size_t max)
{
	size_t i;

	for (i = 0; s[i]; i++) {
		if (i >= max || (unsigned char)s[i] < 0x20 ||
		    (unsigned char)s[i] >= 0x7f)
			return 0;
	}
	return 1;
}

static int has_https_and_file(void)
{
	const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
	const char *const *p;
	int https = 0, file = 0;

	if (!v || !v->protocols)
		return 0;
	for (p = v->protocols; *p; p++) {
		if (!strcmp(*p, "https"))
			https = 1;
		else if (!strcmp(*p, "file"))
			file = 1;
	}
	return https && file;
}

static int opt(long v, long def, const char *what, long *out)
{
	if (v < 0)
		return hlx_err(HLX_EINVAL, "fetch option %s: %ld is negative",
			       what, v);
	*out = v ? v : def;
	return HLX_OK;
}

int hlx_fetch_new(const struct hlx_fetch_opts *o, struct hlx_fetch **out)
{
	static const struct hlx_fetch_opts none;
	struct hlx_fetch *f;
	int rc;

	*out = NULL;
	if (!o)
		o = &none;
	rc = hlx_curl_load();
	if (rc)
		return rc;
	if (pthread_once(&global_once, global_init) || global_rc != CURLE_OK)
		return hlx_err(HLX_ENET, "libcurl initialisation failed: %s",
			       curl_easy_strerror(global_rc));
	if (!has_https_and_file())
		return hlx_err(HLX_EUNSUPPORTED,
			       "libcurl %s was built without https or file support",
			       curl_version_info(CURLVERSION_NOW)->version);
	f = calloc(1, sizeof(*f));
	if (!f)
		return hlx_err(HLX_ENOMEM, "cannot allocate a fetch handle");
	if ((rc = opt(o->connect_timeout_ms, 10000, "connect_timeout_ms",
		      &f->connect_ms)) ||
	    (rc = opt(o->total_timeout_ms, 300000, "total_timeout_ms",
		      &f->total_ms)) ||
	    (rc = opt(o->low_speed_bytes, 1024, "low_speed_bytes",
		      &f->low_bytes)) ||
	    (rc = opt(o->low_speed_secs, 30, "low_speed_secs", &f->low_secs)))
		goto err;
	if (o->ca_file) {
		if (access(o->ca_file, R_OK)) {
			rc = hlx_err(HLX_EINVAL, "CA file '%.200s': %s",
				     o->ca_file, strerror(errno));
			goto err;
		}
		f->ca_file = strdup(o->ca_file);
		if (!f->ca_file) {
			rc = hlx_err(HLX_ENOMEM, "cannot copy the CA file name");
			goto err;
		}
	}
	f->h = curl_easy_init();
	if (!f->h) {
		rc = hlx_err(HLX_ENOMEM, "curl_easy_init failed");
		goto err;
	}
	*out = f;
	return HLX_OK;
err:
	hlx_fetch_free(f);
	return rc;
}

void hlx_fetch_free(struct hlx_fetch *f)
{
	if (!f)
		return;
	if (f->h)
		curl_easy_cleanup(f->h);
	free(f->ca_file);
	free(f);
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *arg)
{
	struct sink *s = arg;
	size_t n = size * nmemb; /* size is always 1 */
	long status = 0;

	if (s->h && curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK &&
	    status >= 400) {
		if (n > ERR_BODY_MAX - s->err_got)
			return 0;
		s->err_got += n;
		return n;
	}
	if (n > s->max - s->got) {
		s->too_big = 1;
		return 0;
	}
	if (s->buf) {
		if (hlx_buf_put(s->buf, p, n)) {
			s->nomem = 1;
			return 0;
		}
	} else {
		size_t off = 0;

		while (off < n) {
			ssize_t w = write(s->fd, p + off, n - off);

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				s->io_errno = w < 0 ? errno : EIO;
				return 0;
			}
			off += (size_t)w;
		}
	}
	s->got += n;
	return n;
}

enum scheme { S_HTTPS, S_FILE };

static int check_url(const char *url, enum scheme *sc)
{
	size_t n = strnlen(url, MAX_URL + 1);

	if (n > MAX_URL)
		return hlx_err(HLX_EINVAL, "URL '%s': longer than %d bytes",
			       quote(url).s, MAX_URL);
	if (!printable(url, MAX_URL) || strchr(url, ' '))
		return hlx_err(HLX_EINVAL,
			       "URL '%s': contains spaces or control characters",
			       quote(url).s);
	if (!strncasecmp(url, "https://", 8)) {
		*sc = S_HTTPS;
		return HLX_OK;
	}
	if (!strncasecmp(url, "file://", 7)) {
		*sc = S_FILE;
		return HLX_OK;
	}
	if (!strncasecmp(url, "http://", 7))
		return hlx_err(HLX_EINVAL,
			       "URL '%s': plain http is not allowed; use https or file",
			       quote(url).s);
	return hlx_err(HLX_EINVAL,
		       "URL '%s': unsupported; only https:// and file:// URLs are allowed",
		       quote(url).s);
}

/*
 * A file: URL: check it the way libcurl will read it (path decoded, host
 * empty or localhost), and take the validator before the read.
 */
static int file_stat(const char *url, size_t max, char etag[256])
{
	CURLU *u = curl_url();
	char *host = NULL, *path = NULL, *extra = NULL;
	struct stat st;
	int rc;

	if (!u)
		return hlx_err(HLX_ENOMEM, "curl_url failed");
	if (curl_url_set(u, CURLUPART_URL, url, 0)) {
		rc = hlx_err(HLX_EINVAL, "URL '%s': malformed file URL",
			     quote(url).s);
		goto out;
	}
	if (!curl_url_get(u, CURLUPART_HOST, &host, 0) && host[0] &&
	    strcasecmp(host, "localhost")) {
		rc = hlx_err(HLX_EINVAL,
			     "URL '%s': a file URL cannot name a host",
			     quote(url).s);
		goto out;
	}
	if (!curl_url_get(u, CURLUPART_QUERY, &extra, 0) ||
	    !curl_url_get(u, CURLUPART_FRAGMENT, &extra, 0)) {
		rc = hlx_err(HLX_EINVAL,
			     "URL '%s': a file URL cannot have a query or fragment",
			     quote(url).s);
		goto out;
	}
	if (curl_url_get(u, CURLUPART_PATH, &path, CURLU_URLDECODE) ||
	    path[0] != '/') {
		rc = hlx_err(HLX_EINVAL, "URL '%s': bad file path",
			     quote(url).s);
		goto out;
	}
	if (stat(path, &st)) {
		int e = errno;

		rc = hlx_err(e == ENOENT || e == ENOTDIR ? HLX_ENOENT : HLX_EIO,
			     "fetch '%s': %s", quote(url).s, strerror(e));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = hlx_err(HLX_EINVAL, "fetch '%s': not a regular file",
			     quote(url).s);
		goto out;
	}
	if ((uintmax_t)st.st_size > max) {
		rc = hlx_err(HLX_ETOOBIG,
			     "fetch '%s': file of %jd bytes exceeds the limit of %zu bytes",
			     quote(url).s, (intmax_t)st.st_size, max);
		goto out;
	}
	snprintf(etag, 256, "\"%jx-%jx.%09ld-%jx\"", (uintmax_t)st.st_size,
		 (intmax_t)st.st_mtim.tv_sec, (long)st.st_mtim.tv_nsec,
		 (uintmax_t)st.st_ino);
	rc = HLX_OK;
out:
	curl_free(host);
	curl_free(path);
	curl_free(extra);
	curl_url_cleanup(u);
	return rc;
}

/* Copy a response header, when present, printable and fitting. */
static void get_header(CURL *h, const char *name, char *dst, size_t cap)
{
	struct curl_header *hd;

	if (curl_easy_header(h, name, 0, CURLH_HEADER, -1, &hd) != CURLHE_OK)
		return;
	if (strlen(hd->value) < cap && printable(hd->value, cap))
		strcpy(dst, hd->value);
}

static int setup(struct hlx_fetch *f, const char *url, size_t max,
		 struct curl_slist *hdrs, struct sink *s)
{
	CURL *h = f->h;
	curl_off_t lim = max > (uintmax_t)INT64_MAX ? (curl_off_t)INT64_MAX :
						      (curl_off_t)max;
	CURLcode c = CURLE_OK;

	curl_easy_reset(h); /* keeps connections, DNS and TLS session caches */
	f->errbuf[0] = '\0';
#define SET(o, v)                                                           \
	do {                                                                \
		if (c == CURLE_OK)                                          \
			c = curl_easy_setopt(h, o, v);                      \
	} while (0)
	SET(CURLOPT_ERRORBUFFER, f->errbuf);
	SET(CURLOPT_URL, url);
	SET(CURLOPT_PROTOCOLS_STR, "https,file");
	SET(CURLOPT_REDIR_PROTOCOLS_STR, "https");
	SET(CURLOPT_FOLLOWLOCATION, 1L);
	SET(CURLOPT_MAXREDIRS, MAX_REDIRS);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_CONNECTTIMEOUT_MS, f->connect_ms);
	SET(CURLOPT_TIMEOUT_MS, f->total_ms);
	SET(CURLOPT_LOW_SPEED_LIMIT, f->low_bytes);
	SET(CURLOPT_LOW_SPEED_TIME, f->low_secs);
	SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (f->ca_file)
		SET(CURLOPT_CAINFO, f->ca_file); /* the default CA path stays */
	SET(CURLOPT_MAXFILESIZE_LARGE, lim);
	SET(CURLOPT_USERAGENT, "hlx");
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_WRITEDATA, s);
	if (hdrs)
		SET(CURLOPT_HTTPHEADER, hdrs);
#undef SET
	if (c != CURLE_OK)
		return hlx_err(HLX_EUNSUPPORTED,
			       "fetch '%s': libcurl refused an option: %s",
			       quote(url).s, curl_easy_strerror(c));
	return HLX_OK;
}

/* An HTTP status of 400 or more. */
static int http_fail(const char *url, long status)
{
	struct qurl q = quote(url);

	if (status == 404)
		return hlx_err(HLX_ENOENT, "fetch '%s': HTTP 404 not found", q.s);
	return hlx_err(HLX_ENET, "fetch '%s': HTTP status %ld", q.s, status);
}

static int fail(struct hlx_fetch *f, const char *url, CURLcode c, long status,
		const struct sink *s)
{
	const char *why = f->errbuf[0] ? f->errbuf : curl_easy_strerror(c);
	struct qurl q = quote(url);

	/* what the server said first, whatever cut the transfer short */
	if (status >= 400)
		return http_fail(url, status);
	if (s->too_big || c == CURLE_FILESIZE_EXCEEDED)
		return hlx_err(HLX_ETOOBIG,
			       "fetch '%s': response exceeds the limit of %zu bytes",
			       q.s, s->max);
	if (s->nomem)
		return hlx_err(HLX_ENOMEM, "fetch '%s': out of memory", q.s);
	if (s->io_errno)
		return hlx_err(HLX_EIO, "fetch '%s': writing the body: %s",
			       q.s, strerror(s->io_errno));
	switch (c) {
	case CURLE_URL_MALFORMAT:
		return hlx_err(HLX_EINVAL, "URL '%s': malformed: %s", q.s, why);
	case CURLE_UNSUPPORTED_PROTOCOL:
		return hlx_err(HLX_ENET,
			       "fetch '%s': redirect refused (only https may be followed): %s",
			       q.s, why);
	case CURLE_TOO_MANY_REDIRECTS:
		return hlx_err(HLX_ENET, "fetch '%s': more than %ld redirects",
			       q.s, MAX_REDIRS);
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return hlx_err(HLX_ENET, "fetch '%s': DNS lookup failed: %s",
			       q.s, why);
	case CURLE_COULDNT_CONNECT:
		return hlx_err(HLX_ENET, "fetch '%s': connect failed: %s", q.s,
			       why);
	case CURLE_OPERATION_TIMEDOUT:
		/* the low-speed limit and the timeouts share the code */
		return hlx_err(HLX_ENET, "fetch '%s': %s: %s", q.s,
			       strstr(why, "too slow") ? "too slow" :
							 "timed out", why);
	case CURLE_PEER_FAILED_VERIFICATION:
		return hlx_err(HLX_ENET,
			       "fetch '%s': TLS certificate verification failed: %s",
			       q.s, why);
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
		return hlx_err(HLX_ENET, "fetch '%s': TLS handshake failed: %s",
			       q.s, why);
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2_STREAM: /* HTTP/2: the stream was reset */
		return hlx_err(HLX_ENET, "fetch '%s': truncated response: %s",
			       q.s, why);
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_HTTP2:
		return hlx_err(HLX_ENET, "fetch '%s': connection failed: %s",
			       q.s, why);
	case CURLE_GOT_NOTHING:
		return hlx_err(HLX_ENET,
			       "fetch '%s': connection closed without a response",
			       q.s);
	case CURLE_WEIRD_SERVER_REPLY:
		return hlx_err(HLX_ENET, "fetch '%s': malformed response: %s",
			       q.s, why);
	case CURLE_FILE_COULDNT_READ_FILE:
		return hlx_err(HLX_ENOENT, "fetch '%s': cannot read the file: %s",
			       q.s, why);
	case CURLE_READ_ERROR:
		return hlx_err(HLX_EIO, "fetch '%s': read error: %s", q.s, why);
	case CURLE_OUT_OF_MEMORY:
		return hlx_err(HLX_ENOMEM, "fetch '%s': out of memory", q.s);
	default:
		return hlx_err(HLX_ENET, "fetch '%s': transfer failed: %s", q.s,
			       why);
	}
}

static int fetch(struct hlx_fetch *f, const char *url, size_t max,
		 const char *etag, const char *last_modified, struct sink *s,
		 struct hlx_fetch_result *res)
{
	struct hlx_fetch_result r;
	struct curl_slist *hdrs = NULL, *t;
	char line[320];
	enum scheme sc = S_FILE;
	long status = 0;
	CURLcode c;
	int rc;

	memset(&r, 0, sizeof(r));
	if (res)
		*res = r;
	if (!f || !url)
		return hlx_err(HLX_EINVAL, "fetch: no handle or no URL");
	if (!etag)
		etag = "";
	if (!last_modified)
		last_modified = "";
	if (!printable(etag, sizeof(r.etag) - 1))
		return hlx_err(HLX_EINVAL,
			       "fetch: ETag '%.40s...': too long or control characters",
			       quote(etag).s);
	if (!printable(last_modified, sizeof(r.last_modified) - 1))
		return hlx_err(HLX_EINVAL,
			       "fetch: Last-Modified '%.40s...': too long or control characters",
			       quote(last_modified).s);
	if ((rc = check_url(url, &sc)))
		return rc;
	if (sc == S_FILE) {
		if ((rc = file_stat(url, max, r.etag)))
			return rc;
		if (etag[0] && !strcmp(etag, r.etag)) {
			r.not_modified = 1;
			goto done;
		}
	} else {
		if (etag[0]) {
			snprintf(line, sizeof(line), "If-None-Match: %s", etag);
			if (!(t = curl_slist_append(hdrs, line)))
				goto nomem;
			hdrs = t;
		}
		if (last_modified[0]) {
			snprintf(line, sizeof(line), "If-Modified-Since: %s",
				 last_modified);
			if (!(t = curl_slist_append(hdrs, line)))
				goto nomem;
			hdrs = t;
		}
	}
	if ((rc = setup(f, url, max, hdrs, s)))
		goto out;
	s->h = sc == S_HTTPS ? f->h : NULL;
	c = curl_easy_perform(f->h);
	curl_easy_getinfo(f->h, CURLINFO_RESPONSE_CODE, &status);
	r.status = sc == S_FILE ? 0 : status;
	if (res)
		res->status = r.status;
	if (c != CURLE_OK) {
		rc = fail(f, url, c, status, s);
		goto out;
	}
	if (sc == S_HTTPS) {
		if (status >= 400) {
			rc = http_fail(url, status);
			goto out;
		}
		if (status == 304 && (etag[0] || last_modified[0])) {
			r.not_modified = 1;
		} else if (status < 200 || status > 299) {
			rc = hlx_err(HLX_ENET, "fetch '%s': unexpected HTTP status %ld",
				     quote(url).s, status);
			goto out;
		}
		get_header(f->h, "ETag", r.etag, sizeof(r.etag));
		get_header(f->h, "Last-Modified", r.last_modified,
			   sizeof(r.last_modified));
		if (r.not_modified && s->got) {
			rc = hlx_err(HLX_ENET, "fetch '%s': 304 response with a body",
				     quote(url).s);
			goto out;
		}
	}
done:
	if (r.not_modified) {
		if (!r.etag[0])
			strcpy(r.etag, etag);
		if (!r.last_modified[0])
			strcpy(r.last_modified, last_modified);
	}
	if (res)
		*res = r;
	rc = HLX_OK;
out:
	curl_slist_free_all(hdrs);
	return rc;
nomem:
	rc = hlx_err(HLX_ENOMEM, "fetch '%s': out of memory", quote(url).s);
	goto out;
}

int hlx_fetch_get(struct hlx_fetch *f, const char *url, size_t max,
		  const char *etag, const char *last_modified,
		  struct hlx_buf *out, struct hlx_fetch_result *res)
{
	struct sink s = { .max = max, .buf = out, .fd = -1 };
	size_t len0 = out->len;
	int rc;

	rc = fetch(f, url, max, etag, last_modified, &s, res);
	if (rc && out->len != len0) {
		out->len = len0;
		out->data[len0] = '\0';
	}
	return rc;
}

int hlx_fetch_to_fd(struct hlx_fetch *f, const char *url, size_t max, int fd,
		    struct hlx_fetch_result *res)
{
	struct sink s = { .max = max, .fd = fd };

	if (fd < 0)
		return hlx_err(HLX_EINVAL, "fetch '%s': bad file descriptor",
			       url ? quote(url).s : "");
	return fetch(f, url, max, NULL, NULL, &s, res);
}

static int seg_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '~' ||
	       c == '-';
}

int hlx_fetch_join(const char *base, const char *rel, struct hlx_buf *out)
{
	const char *p, *seg, *colon;
	size_t bl, len0 = out->len;
	int rc;

	if (!base || !rel)
		return hlx_err(HLX_EINVAL, "URL join: missing base or path");
	bl = strnlen(base, MAX_URL + 1);
	colon = strstr(base, "://");
	if (bl > MAX_URL || !colon || colon == base ||
	    !printable(base, MAX_URL) || strpbrk(base, " ?#"))
		return hlx_err(HLX_EINVAL,
			       "base URL '%s': not an absolute URL without query or fragment",
			       quote(base).s);
	for (p = base; p < colon; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (p > base && ((*p >= '0' && *p <= '9') || *p == '+' ||
				    *p == '-' || *p == '.'))))
			return hlx_err(HLX_EINVAL, "base URL '%s': bad scheme",
				       quote(base).s);
	if (*rel == '/')
		rel++;
	if (strnlen(rel, MAX_URL + 1) > MAX_URL)
		return hlx_err(HLX_EINVAL, "URL path '%s': too long",
			       quote(rel).s);
	for (seg = p = rel;; p++) {
		if (*p && seg_char(*p))
			continue;
		if (*p && *p != '/')
			return hlx_err(HLX_EINVAL,
				       "URL path '%s': character %d at position %zu not allowed",
				       quote(rel).s, (unsigned char)*p,
				       (size_t)(p - rel));
		if ((p == seg && *p == '/') ||
		    (p - seg == 1 && seg[0] == '.') ||
		    (p - seg == 2 && seg[0] == '.' && seg[1] == '.'))
			return hlx_err(HLX_EINVAL,
				       "URL path '%s': empty, '.' or '..' segment",
				       quote(rel).s);
		if (!*p)
			break;
		seg = p + 1;
	}
	if ((rc = hlx_buf_put(out, base, bl)))
		goto err;
	if (*rel && bl && base[bl - 1] != '/' && (rc = hlx_buf_putc(out, '/')))
		goto err;
	if ((rc = hlx_buf_puts(out, rel)))
		goto err;
	return HLX_OK;
err:
	if (out->len != len0) {
		out->len = len0;
		out->data[len0] = '\0';
	}
	return rc;
}
