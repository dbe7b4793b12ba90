/* SPDX-License-Identifier: MIT */
/*
 * node/fetch: URL checks, joins and file: transfers, always; and, when
 * HLX_FETCH_URL names a server set up by tests/lib-nginx.sh (as
 * tests/t0500-fetch.sh does), the HTTPS cases against it:
 *
 *	HLX_FETCH_URL       the server's base URL (${NGINX_URL})
 *	HLX_FETCH_CA        its test CA (${NGINX_CA})
 *	HLX_FETCH_DIR       the directory it serves (files are written there)
 *	HLX_FETCH_HANG_URL  a listener that never answers (${NGINX_HANG_URL})
 *	HLX_FETCH_WRONG_NAME_URL  a file on the same server, at an address
 *	                    its certificate does not name
 *	                    (${NGINX_WRONG_NAME_URL}FILE)
 */
#include "node/fetch.h"
#include "protocol/buf.h"
#include "protocol/err.h"
#include "tests/unit/tap.h"
#include "tests/unit/seeded.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char dir[64];

static int detail_has(const char *s)
{
	return strstr(hlx_err_detail(), s) != NULL;
}

static void write_file(const char *path, const void *p, size_t n)
{
	FILE *fp = fopen(path, "wb");

	if (!fp || fwrite(p, 1, n, fp) != n || fclose(fp)) {
		perror(path);
		exit(2);
	}
}

static size_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) ? (size_t)-1 : (size_t)st.st_size;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_join(void)
{
	static const struct {
		const char *base, *rel, *want;
	} good[] = {
		{ "https://h/x/", "lists/a/head", "https://h/x/lists/a/head" },
		{ "https://h/x", "lists/a/head", "https://h/x/lists/a/head" },
		{ "https://h/x/", "/lists/a/head", "https://h/x/lists/a/head" },
		{ "https://h/x", "/lists/a/head", "https://h/x/lists/a/head" },
		{ "https://h:8443", "a", "https://h:8443/a" },
		{ "file:///srv/", "a.b_c~d-e", "file:///srv/a.b_c~d-e" },
		{ "file:///", "a", "file:///a" },
		{ "https://h/x/", "packs/", "https://h/x/packs/" },
		{ "https://h/x/", "", "https://h/x/" },
		{ "https://h/x/", "...", "https://h/x/..." },
	};
	static const struct {
		const char *base, *rel;
	} bad[] = {
		{ "https://h/x/", ".." },
		{ "https://h/x/", "a/../b" },
		{ "https://h/x/", "a/./b" },
		{ "https://h/x/", "." },
		{ "https://h/x/", "a//b" },
		{ "https://h/x/", "//a" },
		{ "https://h/x/", "a b" },
		{ "https://h/x/", "a?b" },
		{ "https://h/x/", "a#b" },
		{ "https://h/x/", "a%2e" },
		{ "https://h/x/", "a\\b" },
		{ "https://h/x/", "a\nb" },
		{ "https://h/x/", "caf\xc3\xa9" },
		{ "h/x/", "a" },
		{ "://h/x/", "a" },
		{ "1https://h/", "a" },
		{ "https://h/x?q=1", "a" },
		{ "https://h/x#f", "a" },
		{ "https://h/\x01", "a" },
		{ "", "a" },
	};
	struct hlx_buf b = HLX_BUF_INIT;
	char *longrel;
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		const char *want = good[i].want;

		hlx_buf_reset(&b);
		is_rc(hlx_fetch_join(good[i].base, good[i].rel, &b), HLX_OK,
		      "join '%s' + '%s'", good[i].base, good[i].rel);
		ok(b.data && !strcmp((char *)b.data, want), "join gives '%s'",
		   want);
	}
	hlx_buf_reset(&b);
	hlx_buf_puts(&b, "keep:");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		is_rc(hlx_fetch_join(bad[i].base, bad[i].rel, &b), HLX_EINVAL,
		      "join refuses bad pair %zu", i);
	is_str((char *)b.data, "keep:", "refused joins appended nothing");
	is_rc(hlx_fetch_join("https://h/", "a", &b), HLX_OK, "join appends");
	is_str((char *)b.data, "keep:https://h/a", "to what was there");
	is_rc(hlx_fetch_join(NULL, "a", &b), HLX_EINVAL, "NULL base refused");
	longrel = malloc(5000);
	memset(longrel, 'a', 4999);
	longrel[4999] = '\0';
	is_rc(hlx_fetch_join("https://h/", longrel, &b), HLX_EINVAL,
	      "an overlong path is refused");
	free(longrel);
	hlx_buf_free(&b);
}

static void test_urls(struct hlx_fetch *f)
{
	static const char *const bad[] = {
		"ftp://127.0.0.1/x", "gopher://127.0.0.1/x", "ldap://x/",
		"scp://x/y", "dict://x/", "/etc/passwd", "etc/passwd", "",
		"https", "https:/x", "https://a b/", "https://h/\x7f",
		"https://h/\r\nHost: evil", "file://example.com/etc/passwd",
		"file:///etc/passwd?x=1", "file:///etc/passwd#frag",
		"file:relative",
	};
	struct hlx_fetch_result res;
	struct hlx_buf b = HLX_BUF_INIT;
	char *longurl;
	size_t i;

	hlx_err_clear();
	is_rc(hlx_fetch_get(f, "http://127.0.0.1/head", 100, NULL, NULL, &b,
			    &res), HLX_EINVAL, "http:// is refused");
	ok(detail_has("plain http is not allowed; use https or file"),
	   "with a clear error: %s", hlx_err_detail());
	ok(detail_has("http://127.0.0.1/head"), "naming the URL");
	is_rc(hlx_fetch_get(f, "HTTP://127.0.0.1/head", 100, NULL, NULL, &b,
			    NULL), HLX_EINVAL, "HTTP:// (upper case) too");
	is_rc(hlx_fetch_to_fd(f, "http://127.0.0.1/pack", 100, 1, NULL),
	      HLX_EINVAL, "http:// is refused for packs too");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		is_rc(hlx_fetch_get(f, bad[i], 100, NULL, NULL, &b, NULL),
		      HLX_EINVAL, "bad or unsupported URL %zu refused", i);
	ok(!detail_has("\r") && !detail_has("\x7f"),
	   "error details carry no control characters");
	longurl = malloc(5000);
	memcpy(longurl, "https://h/", 10);
	memset(longurl + 10, 'a', 4989);
	longurl[4999] = '\0';
	is_rc(hlx_fetch_get(f, longurl, 100, NULL, NULL, &b, NULL),
	      HLX_EINVAL, "an overlong URL is refused");
	ok(strlen(hlx_err_detail()) < 300, "and its quote is truncated");
	free(longurl);
	is_rc(hlx_fetch_get(f, "https://h/x", 100, "\"a\"\r\nX-Evil: 1", NULL,
			    &b, NULL), HLX_EINVAL,
	      "an ETag with a line break is refused (no header injection)");
	is_rc(hlx_fetch_get(f, "https://h/x", 100, NULL, "Mon\n", &b, NULL),
	      HLX_EINVAL, "so is such a Last-Modified");
	{
		char big[300];

		memset(big, 'e', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		is_rc(hlx_fetch_get(f, "https://h/x", 100, big, NULL, &b,
				    NULL), HLX_EINVAL,
		      "an ETag longer than the result can hold is refused");
	}
	ok(b.len == 0, "nothing was appended by refused requests");
	hlx_buf_free(&b);
}

static void test_opts(void)
{
	struct hlx_fetch_opts o = { 0 };
	struct hlx_fetch *f = (struct hlx_fetch *)&o;

	o.total_timeout_ms = -1;
	is_rc(hlx_fetch_new(&o, &f), HLX_EINVAL,
	      "a negative timeout is refused");
	ok(f == NULL, "and no handle is returned");
	o.total_timeout_ms = 0;
	o.low_speed_secs = -5;
	is_rc(hlx_fetch_new(&o, &f), HLX_EINVAL,
	      "a negative low-speed time is refused");
	o.low_speed_secs = 0;
	o.ca_file = "/nonexistent/ca.pem";
	is_rc(hlx_fetch_new(&o, &f), HLX_EINVAL,
	      "a missing CA file is refused");
	ok(detail_has("/nonexistent/ca.pem"), "naming it");
	o.ca_file = NULL;
	is_rc(hlx_fetch_new(&o, &f), HLX_OK, "all defaults");
	hlx_fetch_free(f);
	hlx_fetch_free(NULL);
}

static void test_file(struct hlx_fetch *f)
{
	struct hlx_fetch_result res, res2;
	struct hlx_buf b = HLX_BUF_INIT;
	uint8_t data[3000];
	char path[128], url[256], etag[256];
	struct timespec ts[2];
	int fd;

	randombytes_buf(data, sizeof(data));
	snprintf(path, sizeof(path), "%s/head", dir);
	write_file(path, data, sizeof(data));
	snprintf(url, sizeof(url), "file://%s", path);

	is_rc(hlx_fetch_get(f, url, sizeof(data), NULL, NULL, &b, &res),
	      HLX_OK, "file: at exactly the limit");
	ok(b.len == sizeof(data) && !memcmp(b.data, data, sizeof(data)),
	   "the body is the file");
	ok(res.status == 0 && !res.not_modified, "status 0, modified");
	ok(res.etag[0] == '"' && res.last_modified[0] == '\0',
	   "file: has an ETag validator: %s", res.etag);
	strcpy(etag, res.etag);

	hlx_buf_reset(&b);
	hlx_buf_puts(&b, "prefix");
	is_rc(hlx_fetch_get(f, url, sizeof(data) - 1, NULL, NULL, &b, &res),
	      HLX_ETOOBIG, "file: one byte over the limit");
	ok(detail_has("exceeds the limit"), "says so: %s", hlx_err_detail());
	is_str((char *)b.data, "prefix", "out is left as it was");
	is_rc(hlx_fetch_get(f, url, 0, NULL, NULL, &b, NULL), HLX_ETOOBIG,
	      "a limit of 0 takes only empty bodies");

	is_rc(hlx_fetch_get(f, url, sizeof(data), NULL, NULL, &b, NULL),
	      HLX_OK, "file: appends");
	ok(b.len == 6 + sizeof(data) && !memcmp(b.data, "prefix", 6) &&
	   !memcmp(b.data + 6, data, sizeof(data)), "after what was there");

	hlx_buf_reset(&b);
	is_rc(hlx_fetch_get(f, url, sizeof(data), etag, NULL, &b, &res),
	      HLX_OK, "file: conditional, unchanged");
	ok(res.not_modified && b.len == 0, "not modified, nothing appended");
	is_str(res.etag, etag, "same validator");

	/* same size, other time: changed */
	ts[0].tv_sec = ts[1].tv_sec = 1000000000;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	ok(utimensat(AT_FDCWD, path, ts, 0) == 0, "set the file's mtime");
	is_rc(hlx_fetch_get(f, url, sizeof(data), etag, NULL, &b, &res2),
	      HLX_OK, "file: conditional after a touch");
	ok(!res2.not_modified && b.len == sizeof(data),
	   "modified: the body is returned");
	ok(strcmp(res2.etag, etag) != 0, "with a new validator");

	hlx_buf_reset(&b);
	data[0] ^= 1;
	write_file(path, data, 100);
	is_rc(hlx_fetch_get(f, url, sizeof(data), res2.etag, NULL, &b, &res),
	      HLX_OK, "file: conditional after a rewrite");
	ok(!res.not_modified && b.len == 100 && !memcmp(b.data, data, 100),
	   "the new content");

	snprintf(url, sizeof(url), "file://%s/missing", dir);
	hlx_buf_reset(&b);
	is_rc(hlx_fetch_get(f, url, 100, NULL, NULL, &b, &res), HLX_ENOENT,
	      "file: missing file");
	ok(detail_has("missing"), "naming it: %s", hlx_err_detail());
	snprintf(url, sizeof(url), "file://%s/missing/x", dir);
	is_rc(hlx_fetch_get(f, url, 100, NULL, NULL, &b, &res), HLX_ENOENT,
	      "file: missing directory");
	snprintf(url, sizeof(url), "file://%s", dir);
	is_rc(hlx_fetch_get(f, url, 100, NULL, NULL, &b, &res), HLX_EINVAL,
	      "file: a directory is refused");
	ok(b.len == 0, "nothing appended on errors");

	snprintf(path, sizeof(path), "%s/with space", dir);
	write_file(path, "x", 1);
	snprintf(url, sizeof(url), "file://localhost%s/with%%20space", dir);
	is_rc(hlx_fetch_get(f, url, 100, NULL, NULL, &b, NULL), HLX_OK,
	      "file://localhost/ with a percent-encoded path");
	ok(b.len == 1 && b.data[0] == 'x', "reads the decoded path");
	snprintf(url, sizeof(url), "file://%s/with space", dir);
	is_rc(hlx_fetch_get(f, url, 100, NULL, NULL, &b, NULL), HLX_EINVAL,
	      "a raw space in a URL is refused");

	/* to_fd */
	snprintf(path, sizeof(path), "%s/out", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	snprintf(url, sizeof(url), "file://%s/head", dir);
	is_rc(hlx_fetch_to_fd(f, url, 100, fd, &res), HLX_OK,
	      "file: to a descriptor");
	close(fd);
	ok(file_size(path) == 100, "all of it written");
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	is_rc(hlx_fetch_to_fd(f, url, 99, fd, &res), HLX_ETOOBIG,
	      "file: to a descriptor, over the limit");
	close(fd);
	ok(file_size(path) == 0, "nothing written");
	is_rc(hlx_fetch_to_fd(f, url, 100, -1, &res), HLX_EINVAL,
	      "a bad descriptor is refused");
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	is_rc(hlx_fetch_to_fd(f, url, 100, fd, &res), HLX_EIO,
	      "a descriptor that cannot be written: HLX_EIO");
	close(fd);
	hlx_buf_free(&b);
}

/* One handle asks on one connection, an error response between two
 * requests included (HTTP/1.1 closes a connection whose response was not
 * read whole): nginx's conn.log names each request's connection. */
static void test_live_keep(const char *base, const char *ca, const char *connlog)
{
	static const char *const rel[] = { "small?keep-1", "no-such-head?keep-2",
					   "small?keep-3" };
	struct hlx_fetch_opts o = { .ca_file = ca };
	struct hlx_fetch *f = NULL;
	struct hlx_buf b = HLX_BUF_INIT;
	char url[1024], line[1024], conn[3][32];
	int rcs[3], got = 0;

	if (hlx_fetch_new(&o, &f) != HLX_OK) {
		ok(0, "live: a handle for the connection cases");
		return;
	}
	for (int i = 0; i < 3; i++) {
		snprintf(url, sizeof(url), "%s%s", base, rel[i]);
		hlx_buf_reset(&b);
		rcs[i] = hlx_fetch_get(f, url, 200, NULL, NULL, &b, NULL);
	}
	ok(rcs[0] == HLX_OK && rcs[1] == HLX_ENOENT && rcs[2] == HLX_OK,
	   "live: 200, 404, 200 on one handle");
	/* the server logs a request as it ends: wait for the third */
	for (int tries = 0; tries < 40 && got < 3; tries++) {
		FILE *fp = fopen(connlog, "r");

		got = 0;
		while (fp && fgets(line, sizeof(line), fp)) {
			char c[32], uri[512];

			if (sscanf(line, "%31s %*s %511s", c, uri) != 2)
				continue;
			/* the last three in order (the log may hold an
			 * earlier run's, as the HTTP/2 run's before HTTP/1.1) */
			if (!strcmp(uri + 1, rel[0]))
				got = 0;
			for (int i = 0; i < 3; i++)
				if (!strcmp(uri + 1, rel[i]) && got == i)
					snprintf(conn[got++], sizeof(conn[0]), "%s", c);
		}
		if (fp)
			fclose(fp);
		if (got < 3)
			usleep(50000);
	}
	ok(got == 3 && !strcmp(conn[0], conn[1]) && !strcmp(conn[1], conn[2]),
	   "live: all three on one connection (%s %s %s)", got > 0 ? conn[0] : "-",
	   got > 1 ? conn[1] : "-", got > 2 ? conn[2] : "-");
	hlx_fetch_free(f);
	hlx_buf_free(&b);
}

/* The HTTPS cases, against tests/lib-nginx.sh's server. */
static void test_live(const char *base, const char *ca, const char *www,
		      const char *hang, const char *wrong_name)
{
	struct hlx_fetch_opts o = { .ca_file = ca };
	struct hlx_fetch_result res, res2;
	struct hlx_fetch *f = NULL, *nf = NULL;
	struct hlx_buf b = HLX_BUF_INIT, url = HLX_BUF_INIT;
	static uint8_t big[65536];
	char path[512], etag[256], lm[64];
	double t0, dt;
	int fd;

#define URL(rel) (hlx_buf_reset(&url), hlx_fetch_join(base, rel, &url), \
		  (const char *)url.data)
	randombytes_buf(big, sizeof(big));
	snprintf(path, sizeof(path), "%s/big", www);
	write_file(path, big, sizeof(big));
	snprintf(path, sizeof(path), "%s/small", www);
	write_file(path, big, 200);

	is_rc(hlx_fetch_new(&o, &f), HLX_OK, "live: handle with the test CA");
	if (!f)
		return;
	is_rc(hlx_fetch_get(f, URL("small"), 200, NULL, NULL, &b, &res),
	      HLX_OK, "live: HTTPS GET with the test CA");
	ok(b.len == 200 && !memcmp(b.data, big, 200), "live: the body");
	ok(res.status == 200 && !res.not_modified, "live: status 200");
	ok(res.etag[0] && res.last_modified[0],
	   "live: ETag %s, Last-Modified %s", res.etag, res.last_modified);
	strcpy(etag, res.etag);
	strcpy(lm, res.last_modified);

	/* TLS verification is on */
	is_rc(hlx_fetch_new(NULL, &nf), HLX_OK, "live: handle without the CA");
	hlx_buf_reset(&b);
	is_rc(hlx_fetch_get(nf, URL("small"), 200, NULL, NULL, &b, &res2),
	      HLX_ENET, "live: without the test CA the server is not trusted");
	ok(detail_has("TLS certificate verification failed"),
	   "live: says why: %s", hlx_err_detail());
	ok(b.len == 0, "live: nothing appended");
	hlx_fetch_free(nf);
	if (wrong_name) {
		/* served by the same nginx, at an address the certificate
		 * does not name */
		is_rc(hlx_fetch_get(f, wrong_name, 200, NULL, NULL, &b, NULL),
		      HLX_ENET,
		      "live: a host the certificate does not name fails");
		ok(detail_has("TLS certificate verification failed"),
		   "live: says why: %s", hlx_err_detail());
	}

	/* conditional requests */
	is_rc(hlx_fetch_get(f, URL("small"), 200, etag, NULL, &b, &res),
	      HLX_OK, "live: If-None-Match");
	ok(res.not_modified && res.status == 304 && b.len == 0,
	   "live: 304 not modified, nothing appended (status %ld)", res.status);
	is_str(res.etag, etag, "live: validator kept");
	is_rc(hlx_fetch_get(f, URL("small"), 200, NULL, lm, &b, &res),
	      HLX_OK, "live: If-Modified-Since");
	ok(res.not_modified && res.status == 304, "live: 304 again");
	is_str(res.last_modified, lm, "live: Last-Modified kept");
	is_rc(hlx_fetch_get(f, URL("small"), 200, "\"stale\"", NULL, &b, &res),
	      HLX_OK, "live: stale ETag");
	ok(!res.not_modified && b.len == 200,
	   "live: full body for a stale ETag");

	/* size limits */
	hlx_buf_reset(&b);
	is_rc(hlx_fetch_get(f, URL("big"), sizeof(big), NULL, NULL, &b, &res),
	      HLX_OK, "live: body of exactly the limit");
	ok(b.len == sizeof(big) && !memcmp(b.data, big, sizeof(big)),
	   "live: all of it");
	hlx_buf_reset(&b);
	is_rc(hlx_fetch_get(f, URL("big"), sizeof(big) - 1, NULL, NULL, &b,
			    &res), HLX_ETOOBIG,
	      "live: Content-Length one over the limit");
	ok(b.len == 0, "live: nothing appended");
	is_rc(hlx_fetch_get(f, URL("nolength/big"), sizeof(big), NULL, NULL,
			    &b, &res), HLX_OK,
	      "live: chunked body of exactly the limit");
	ok(b.len == sizeof(big) && !memcmp(b.data, big, sizeof(big)),
	   "live: all of it");
	hlx_buf_reset(&b);
	is_rc(hlx_fetch_get(f, URL("nolength/big"), 1000, NULL, NULL, &b,
			    &res), HLX_ETOOBIG,
	      "live: chunked body over the limit is cut off");
	ok(b.len == 0, "live: nothing appended");
	snprintf(path, sizeof(path), "%s/.out", www);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	is_rc(hlx_fetch_to_fd(f, URL("nolength/big"), 1000, fd, &res),
	      HLX_ETOOBIG, "live: streamed, over the limit");
	close(fd);
	ok(file_size(path) <= 1000, "live: at most the limit was written (%zu)",
	   file_size(path));
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	is_rc(hlx_fetch_to_fd(f, URL("big"), sizeof(big), fd, &res), HLX_OK,
	      "live: streamed to a descriptor");
	close(fd);
	ok(file_size(path) == sizeof(big), "live: all of it written");
	unlink(path);

	/* errors */
	is_rc(hlx_fetch_get(f, URL("no-such-head"), 200, NULL, NULL, &b, &res),
	      HLX_ENOENT, "live: 404 is HLX_ENOENT");
	ok(res.status == 404, "live: status 404");
	/* an error's body (nginx's page) is dropped, never kept */
	hlx_buf_reset(&b);
	hlx_buf_puts(&b, "keep:");
	is_rc(hlx_fetch_get(f, URL("no-such-head"), 1 << 20, NULL, NULL, &b, NULL),
	      HLX_ENOENT, "live: 404 with room for its page");
	is_str((char *)b.data, "keep:", "live: its page is not appended");
	snprintf(path, sizeof(path), "%s/err", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	is_rc(hlx_fetch_to_fd(f, URL("status/503"), 1 << 20, fd, NULL), HLX_ENET,
	      "live: 503 streamed to a descriptor");
	close(fd);
	ok(file_size(path) == 0, "live: nothing of its page written (%zu)",
	   file_size(path));
	unlink(path);
	hlx_buf_reset(&b);
	is_rc(hlx_fetch_get(f, URL("status/503"), 200, NULL, NULL, &b, &res),
	      HLX_ENET, "live: 503");
	ok(detail_has("HTTP status 503") && detail_has(base),
	   "live: names the status and the URL: %s", hlx_err_detail());
	is_rc(hlx_fetch_get(f, URL("status/403"), 200, NULL, NULL, &b, NULL),
	      HLX_ENET, "live: 403");
	is_rc(hlx_fetch_get(f, URL("status/410"), 200, NULL, NULL, &b, NULL),
	      HLX_ENET, "live: 410");
	hlx_buf_reset(&b);
	is_rc(hlx_fetch_get(f, URL("truncated/big"), sizeof(big), NULL, NULL,
			    &b, &res), HLX_ENET, "live: truncated response");
	ok(detail_has("truncated response"), "live: says so: %s",
	   hlx_err_detail());
	ok(b.len == 0, "live: nothing appended");

	/* redirects */
	is_rc(hlx_fetch_get(f, URL("redirect/small"), 200, NULL, NULL, &b,
			    &res), HLX_OK, "live: a redirect is followed");
	ok(b.len == 200 && !memcmp(b.data, big, 200), "live: to the file");
	hlx_buf_reset(&b);
	is_rc(hlx_fetch_get(f, URL("redirect-loop"), 200, NULL, NULL, &b,
			    NULL), HLX_ENET, "live: redirect loop");
	ok(detail_has("more than 3 redirects"), "live: says so: %s",
	   hlx_err_detail());
	is_rc(hlx_fetch_get(f, URL("redirect-http"), 200, NULL, NULL, &b,
			    NULL), HLX_ENET,
	      "live: redirect to http:// refused");
	ok(detail_has("redirect refused"), "live: says so: %s",
	   hlx_err_detail());
	is_rc(hlx_fetch_get(f, URL("redirect-file"), 1 << 20, NULL, NULL, &b,
			    NULL), HLX_ENET,
	      "live: redirect to file:// refused");
	ok(b.len == 0, "live: no local file was read");
	{
		char http[512];

		snprintf(http, sizeof(http), "http%s", base + 5);
		is_rc(hlx_fetch_get(f, http, 200, NULL, NULL, &b, NULL),
		      HLX_EINVAL, "live: the same server over http:// refused");
	}
	hlx_fetch_free(f);
	f = NULL;

	/* a server that never answers, and one that is too slow */
	o.connect_timeout_ms = 1000;
	o.total_timeout_ms = 2000;
	is_rc(hlx_fetch_new(&o, &f), HLX_OK,
	      "live: handle with short timeouts");
	if (!f)
		goto out;
	if (hang) {
		t0 = now();
		is_rc(hlx_fetch_get(f, hang, 200, NULL, NULL, &b, NULL),
		      HLX_ENET, "live: silent listener (no TLS handshake)");
		dt = now() - t0;
		ok(dt >= 0.9 && dt < 4,
		   "live: gives up after the connect timeout (%.1f s)", dt);
		ok(detail_has("': timed out"), "live: says so: %s",
		   hlx_err_detail());
	}
	t0 = now();
	is_rc(hlx_fetch_get(f, URL("hang/head"), 200, NULL, NULL, &b, NULL),
	      HLX_ENET, "live: server that never answers the request");
	dt = now() - t0;
	ok(dt >= 1.9 && dt < 5,
	   "live: gives up after the total timeout (%.1f s)", dt);
	ok(detail_has("': timed out"), "live: says so: %s", hlx_err_detail());
	hlx_fetch_free(f);
	f = NULL;
	o.total_timeout_ms = 20000;
	o.low_speed_bytes = 1024;
	o.low_speed_secs = 1;
	is_rc(hlx_fetch_new(&o, &f), HLX_OK, "live: handle with a speed limit");
	if (!f)
		goto out;
	t0 = now();
	is_rc(hlx_fetch_get(f, URL("slow/big"), sizeof(big), NULL, NULL, &b,
			    NULL), HLX_ENET, "live: too slow a server");
	dt = now() - t0;
	ok(dt < 6, "live: gives up after the low-speed time (%.1f s)", dt);
	ok(detail_has("': too slow"), "live: says so: %s", hlx_err_detail());
	ok(b.len == 0, "live: nothing appended");
out:
#undef URL
	hlx_fetch_free(f);
	hlx_buf_free(&b);
	hlx_buf_free(&url);
}

int main(void)
{
	struct hlx_fetch *f = NULL;
	const char *live = getenv("HLX_FETCH_URL");
	char path[128];

	if (seed_sodium() || sodium_init() < 0)
		return 2;
	strcpy(dir, "/tmp/hlx-test-fetch.XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 2;
	}
	test_join();
	test_opts();
	is_rc(hlx_fetch_new(NULL, &f), HLX_OK, "new handle");
	if (f) {
		test_urls(f);
		test_file(f);
	}
	hlx_fetch_free(f);
	if (live && *live) {
		const char *ca = getenv("HLX_FETCH_CA");
		const char *www = getenv("HLX_FETCH_DIR");

		if (!ca || !www)
			ok(0, "HLX_FETCH_URL needs HLX_FETCH_CA, HLX_FETCH_DIR");
		else {
			test_live(live, ca, www, getenv("HLX_FETCH_HANG_URL"),
				  getenv("HLX_FETCH_WRONG_NAME_URL"));
			if (getenv("HLX_FETCH_CONNLOG"))
				test_live_keep(live, ca, getenv("HLX_FETCH_CONNLOG"));
		}
	} else {
		printf("# HLX_FETCH_URL not set: skipping the HTTPS cases "
		       "(tests/t0500-fetch.sh runs them)\n");
	}
	snprintf(path, sizeof(path), "%s/head", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/with space", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/out", dir);
	unlink(path);
	rmdir(dir);
	return done_testing();
}
