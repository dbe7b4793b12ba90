/* SPDX-License-Identifier: MIT */
#include "node/cli/cli.h"
#include "node/config.h"
#include "node/files.h"
#include "node/lists.h"
#include "keys/keyfile.h"
#include "keys/sshkey.h"
#include "protocol/err.h"
#include "protocol/rtime.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <malloc.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#define PASS_MAX 1024

int cli_exit_code(int rc)
{
	switch (rc) {
	case HLX_OK:
		return HLX_EXIT_OK;
	case HLX_EBADSIG:
	case HLX_EUNTRUSTED:
	case HLX_EREVOKED:
	case HLX_EEXPIRED:
		return HLX_EXIT_FAILED;
	case HLX_EINVAL:
	case HLX_ETOOBIG:
	case HLX_EUNSUPPORTED:
		return HLX_EXIT_INVALID;
	case HLX_ENOENT:
	case HLX_EEXIST:
	case HLX_ESTATE:
		return HLX_EXIT_NOENT;
	case HLX_EPASS:
	case HLX_EPERM:
		return HLX_EXIT_KEY;
	case HLX_EPOLICY:
		return HLX_EXIT_POLICY;
	default:
		return HLX_EXIT_SYSTEM;
	}
}

int cli_fail(int rc, const char *fmt, ...)
{
	const char *d = hlx_err_detail();
	va_list ap;

	fputs("hlx: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, ": %s\n", d[0] ? d : hlx_strerror(rc));
	return cli_exit_code(rc);
}

void cli_warn(const char *fmt, ...)
{
	va_list ap;

	fputs("hlx: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int strip_newline(struct hlx_buf *b)
{
	if (b->len && b->data[b->len - 1] == '\n')
		b->data[--b->len] = '\0';
	if (b->len && b->data[b->len - 1] == '\r')
		b->data[--b->len] = '\0';
	if (memchr(b->data, '\n', b->len) || memchr(b->data, '\0', b->len))
		return hlx_err(HLX_EINVAL, "passphrase holds a newline or NUL");
	return HLX_OK;
}

static int prompt(int fd, const char *text, struct hlx_buf *out)
{
	struct termios old, quiet;
	int rc = HLX_OK, restore = 0;
	char c;
	ssize_t r;

	if (write(fd, text, strlen(text)) < 0)
		return hlx_err(HLX_EIO, "cannot write to the terminal");
	if (tcgetattr(fd, &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		quiet.c_lflag |= ICANON;
		restore = tcsetattr(fd, TCSAFLUSH, &quiet) == 0;
	}
	hlx_buf_reset(out);
	for (;;) {
		r = read(fd, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || c == '\n')
			break;
		if (out->len >= PASS_MAX) {
			rc = hlx_err(HLX_ETOOBIG, "passphrase longer than %d bytes",
				     PASS_MAX);
			break;
		}
		rc = hlx_buf_putc(out, (uint8_t)c);
		if (rc)
			break;
	}
	c = 0;
	if (restore)
		tcsetattr(fd, TCSAFLUSH, &old);
	if (write(fd, "\n", 1) < 0)
		rc = rc ? rc : hlx_err(HLX_EIO, "cannot write to the terminal");
	return rc;
}

int cli_passphrase(const struct hlx_cli *cli, const char *what, int confirm,
		   struct hlx_buf *pass)
{
	struct hlx_buf again;
	char text[256];
	int fd, rc;

	hlx_buf_reset(pass);
	if (cli->pass_file) {
		rc = hlx_secret_file_read(cli->pass_file, PASS_MAX, pass);
		if (!rc)
			rc = strip_newline(pass);
		/* no file: no passphrase available, a key problem (exit 5)
		 * like the other ways a passphrase cannot be had */
		if (rc == HLX_ENOENT)
			rc = HLX_EPASS;
		if (rc)
			return hlx_err_wrap(rc, "passphrase file '%s'", cli->pass_file);
		if (pass->len == 0)
			return hlx_err(HLX_EPASS,
				       "passphrase file '%s' is empty (use --no-passphrase for an unencrypted key)",
				       cli->pass_file);
		return HLX_OK;
	}
	fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return hlx_err(HLX_EPASS,
			       "%s: a passphrase is needed and there is no terminal: "
			       "give --passphrase-file FILE or set HLX_PASSPHRASE_FILE",
			       what);
	snprintf(text, sizeof(text), "Passphrase for %s: ", what);
	rc = prompt(fd, text, pass);
	if (!rc && pass->len == 0)
		rc = hlx_err(HLX_EPASS, "empty passphrase");
	if (!rc && confirm) {
		hlx_buf_init_secure(&again);
		rc = prompt(fd, "Same passphrase again: ", &again);
		if (!rc && (again.len != pass->len ||
			    sodium_memcmp(again.data, pass->data, pass->len) != 0))
			rc = hlx_err(HLX_EPASS, "the passphrases differ");
		hlx_buf_free(&again);
	}
	close(fd);
	return rc;
}

int cli_read_file(const char *path, size_t max, struct hlx_buf *out)
{
	return hlx_file_read(path, max, out);
}

int cli_write_file(const char *path, const void *p, size_t n, unsigned mode)
{
	return hlx_file_write(path, p, n, mode);
}

int cli_load_pubkey(const char *arg, struct hlx_pubkey *out)
{
	struct hlx_buf b = HLX_BUF_INIT;
	const char *k = arg;
	size_t n;
	int rc;

	/* a key line as pasted: white space and line ends around it */
	while (*k == ' ' || *k == '\t' || *k == '\r' || *k == '\n')
		k++;
	n = strlen(k);
	while (n && (k[n - 1] == ' ' || k[n - 1] == '\t' || k[n - 1] == '\r' ||
		     k[n - 1] == '\n'))
		n--;
	if (strncmp(k, "ssh-", 4) == 0 || strncmp(k, "ecdsa-", 6) == 0 ||
	    strncmp(k, "sk-", 3) == 0)
		return hlx_sshkey_parse(k, n, out, NULL);
	rc = cli_read_file(arg, HLX_SSHKEY_LINE_MAX, &b);
	if (!rc)
		cli_trim_buf(&b);
	if (!rc)
		rc = hlx_sshkey_parse((const char *)b.data, b.len, out, NULL);
	if (rc)
		rc = hlx_err_wrap(rc, "public key file '%s'", arg);
	hlx_buf_free(&b);
	return rc;
}

int cli_getpass(void *ctx, const char *what, int confirm, struct hlx_buf *pass)
{
	return cli_passphrase(ctx, what, confirm, pass);
}

int cli_home_resolve(const char *dir, char **out)
{
	const char *env = getenv("HLX_HOME"), *home = getenv("HOME");

	*out = NULL;
	if (dir && !*dir)
		return hlx_err(HLX_EINVAL, "--home: expected a directory, got ''");
	if (dir)
		*out = strdup(dir);
	else if (env && *env)
		*out = strdup(env);
	else if (home && *home) {
		size_t n = strlen(home) + sizeof("/.hlx");

		*out = malloc(n);
		if (*out)
			snprintf(*out, n, "%s/.hlx", home);
	} else {
		return hlx_err(HLX_ENOENT,
			       "no node home: give --home DIR or set HLX_HOME");
	}
	return *out ? HLX_OK : hlx_err(HLX_ENOMEM, "out of memory");
}

static int blank(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

char *cli_trim(char *s)
{
	size_t n;

	while (blank((unsigned char)*s))
		s++;
	n = strlen(s);
	while (n && blank((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

void cli_trim_buf(struct hlx_buf *b)
{
	size_t i = 0;

	while (b->len && blank(b->data[b->len - 1]))
		b->len--;
	while (i < b->len && blank(b->data[i]))
		i++;
	memmove(b->data, b->data + i, b->len - i);
	b->len -= i;
	if (b->data && b->len < b->cap)
		b->data[b->len] = '\0';
}

int cli_parse_time(const char *s, int64_t *out)
{
	char day[32];
	size_t n = strlen(s);

	/* a date alone, 2026-12-03: the start of that day, UTC */
	if (n == 10 && s[4] == '-' && s[7] == '-' && !strchr(s, 'T')) {
		snprintf(day, sizeof(day), "%sT00:00:00Z", s);
		return hlx_time_parse(day, strlen(day), out);
	}
	return hlx_time_parse(s, n, out);
}

int cli_home_from_env(void)
{
	const char *env = getenv("HLX_HOME");

	return env && *env;
}

int cli_home_exists(const char *dir)
{
	char p[PATH_MAX];

	if (hlx_home_path(p, dir, HLX_HOME_CONFIG, NULL, NULL)) {
		hlx_err_clear();
		return 0;
	}
	return access(p, F_OK) == 0 || errno != ENOENT;
}

int cli_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (s[0] < '0' || s[0] > '9')
		return HLX_EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return HLX_EINVAL;
	*out = v;
	return HLX_OK;
}

int cli_lines_open(struct cli_lines *r, const char *path, size_t max)
{
	memset(r, 0, sizeof(*r));
	r->max = max;
	r->buf = malloc(max + 1);
	if (!r->buf)
		return hlx_err(HLX_ENOMEM, "out of memory");
	r->in = strcmp(path, "-") ? fopen(path, "r") : stdin;
	if (!r->in) {
		int e = errno;

		free(r->buf);
		r->buf = NULL;
		return hlx_err(e == ENOENT ? HLX_ENOENT : HLX_EIO,
			       "cannot open '%s': %s", path, strerror(e));
	}
	return HLX_OK;
}

int cli_lines_next(struct cli_lines *r, char **line, size_t *len)
{
	size_t n = 0;
	int c, nul = 0, over = 0;

	while ((c = getc_unlocked(r->in)) != EOF && c != '\n') {
		nul |= c == '\0';
		if (n < r->max)
			r->buf[n++] = (char)c;
		else
			over = 1;
	}
	if (c == EOF && ferror(r->in))
		return hlx_err(HLX_EIO, "cannot read: %s", strerror(errno));
	if (c == EOF && n == 0 && !over && !nul)
		return 0;
	r->lineno++;
	if (over)
		return hlx_err(HLX_ETOOBIG, "line longer than %zu bytes", r->max);
	if (nul)
		return hlx_err(HLX_EINVAL, "NUL byte in the line");
	if (n && r->buf[n - 1] == '\r')
		n--;
	r->buf[n] = '\0';
	*line = r->buf;
	*len = n;
	/* a UTF-8 byte order mark, as some editors and exports begin a file */
	if (r->lineno == 1 && n >= 3 && !memcmp(r->buf, CLI_BOM, 3)) {
		*line += 3;
		*len -= 3;
	}
	return 1;
}

/*
 * A 1M-entry import allocated and first touched about 110,000 pages (the
 * changes, their sorted copy, the state's dirty pages, the history's
 * objects), each a page fault, and on a virtual machine a fault costs
 * microseconds: a sixth of the import's time (a first publish to ten
 * audiences, building five views of it: the same).  So: every thread
 * allocates from the main heap when one_heap (no arena per thread),
 * large blocks from a heap too (no mapping
 * of their own, each faulted again when reused); the heap grows by a
 * large step that is marked for transparent huge pages (a fault a 2 MiB
 * page, where the system's THP setting is "madvise" or "always"); and
 * freed memory stays in the heap for what comes next.  Address space is
 * reserved, not memory: pages are only taken where they are touched.
 */
#define BULK_PAD (512 << 20)

void cli_bulk_memory(int one_heap)
{
#ifdef __GLIBC__
#if __GLIBC_PREREQ(2, 33)
	long pg = sysconf(_SC_PAGESIZE);
	char *a, *b;
	void *p;

	if (pg <= 0 || (one_heap && !mallopt(M_ARENA_MAX, 1)) || !mallopt(M_MMAP_MAX, 0) ||
	    !mallopt(M_TRIM_THRESHOLD, INT_MAX) || !mallopt(M_TOP_PAD, BULK_PAD))
		return;
	/* a block larger than the heap's free top makes the heap grow by
	 * the pad: from that block to the new end is the stretch marked */
	p = malloc(mallinfo2().keepcost + (1 << 20));
	b = sbrk(0);
	a = (char *)((uintptr_t)p & ~((uintptr_t)pg - 1));
#ifdef MADV_HUGEPAGE
	if (p && b != (char *)-1 && b > a)
		madvise(a, (size_t)(b - a), MADV_HUGEPAGE);
#endif
	free(p);
#endif
#endif
}

void cli_lines_close(struct cli_lines *r)
{
	if (r->in && r->in != stdin)
		fclose(r->in);
	free(r->buf);
	memset(r, 0, sizeof(*r));
}

int cli_publish_dir(const struct hlx_cli *cli, const char *opt,
		    char out[PATH_MAX])
{
	struct hlx_config c;
	int rc;

	if (opt)
		rc = hlx_pathf(out, "%s", opt);
	else
		rc = hlx_config_load(cli->home, &c);
	if (!rc && !opt)
		rc = hlx_config_publish_dir(&c, cli->home, out);
	return rc ? rc : hlx_config_publish_dir_check(cli->home, out);
}

int cli_flush_out(struct hlx_buf *b, int force)
{
	if (b->len >= (1 << 16) || (force && b->len)) {
		if (fwrite(b->data, 1, b->len, stdout) != b->len)
			return hlx_err(HLX_EIO, "cannot write standard output: %s",
				       strerror(errno));
		hlx_buf_reset(b);
	}
	return HLX_OK;
}

void cli_ago(char *out, size_t n, int64_t now, int64_t t, int days)
{
	if (t <= 0)
		snprintf(out, n, "never");
	else if (now - t < 120)
		snprintf(out, n, "%" PRId64 "s ago", now - t);
	else if (now - t < 7200)
		snprintf(out, n, "%" PRId64 "m ago", (now - t) / 60);
	else if (!days || now - t < 172800)
		snprintf(out, n, "%" PRId64 "h ago", (now - t) / 3600);
	else
		snprintf(out, n, "%" PRId64 " days ago", (now - t) / 86400);
}
