/* SPDX-License-Identifier: MIT */
#include "node/files.h"
#include "protocol/err.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int hlx_read_some(int fd, const char *path, void *p, size_t n, size_t *got)
{
	ssize_t r;

	do
		r = read(fd, p, n);
	while (r < 0 && errno == EINTR);
	*got = r > 0 ? (size_t)r : 0;
	if (r < 0)
		return hlx_err(HLX_EIO, "cannot read '%s': %s", path,
			       strerror(errno));
	return HLX_OK;
}

static int read_fd(int fd, const char *path, size_t max, struct hlx_buf *out)
{
	int rc = HLX_OK;
	size_t r;

	for (;;) {
		rc = hlx_buf_reserve(out, 65536);
		if (!rc)
			rc = hlx_read_some(fd, path, out->data + out->len, 65536,
					   &r);
		if (rc || r == 0)
			break;
		out->len += r;
		out->data[out->len] = '\0';
		if (out->len > max) {
			rc = hlx_err(HLX_ETOOBIG, "'%s' is larger than %zu bytes",
				     path, max);
			break;
		}
	}
	return rc;
}

int hlx_file_read(const char *path, size_t max, struct hlx_buf *out)
{
	int fd, rc;

	hlx_buf_reset(out);
	if (strcmp(path, "-") == 0)
		return read_fd(STDIN_FILENO, path, max, out);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return hlx_err(errno == ENOENT ? HLX_ENOENT : HLX_EIO,
			       "cannot open '%s': %s", path, strerror(errno));
	rc = read_fd(fd, path, max, out);
	close(fd);
	return rc;
}

/* Split path into its directory and its last name ("." for a bare
 * name); trailing slashes are dropped. */
static int split(const char *path, char dir[PATH_MAX], char name[NAME_MAX + 1])
{
	size_t n = strlen(path);
	const char *slash;

	while (n > 1 && path[n - 1] == '/')
		n--;
	if (n == 0 || n >= PATH_MAX)
		return hlx_err(HLX_EINVAL, "bad path '%.60s'", path);
	memcpy(dir, path, n);
	dir[n] = '\0';
	slash = strrchr(dir, '/');
	if (!slash) {
		if (n > NAME_MAX)
			return hlx_err(HLX_EINVAL, "name too long: '%.60s...'", path);
		memcpy(name, dir, n + 1);
		strcpy(dir, ".");
		return HLX_OK;
	}
	if (strlen(slash + 1) > NAME_MAX || !slash[1])
		return hlx_err(HLX_EINVAL, "bad path '%.60s'", path);
	strcpy(name, slash + 1);
	if (slash == dir)
		dir[1] = '\0';
	else
		dir[slash - dir] = '\0';
	return HLX_OK;
}

/* mkdir -p as the path says, following what is there (the operator's
 * own paths); the last directory, when created here, gets mode. */
static int mkdirs_plain(const char *path, unsigned mode)
{
	char tmp[PATH_MAX];
	size_t n = strlen(path);
	int fd;

	if (n == 0 || n >= sizeof(tmp))
		return hlx_err(HLX_EINVAL, "bad directory path '%.60s'", path);
	memcpy(tmp, path, n + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/' || p[1] == '/' || p[1] == '\0')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
			return hlx_err(HLX_EIO, "cannot create '%s': %s", tmp,
				       strerror(errno));
		*p = '/';
	}
	if (mkdir(tmp, 0700) != 0) {
		if (errno == EEXIST)
			return HLX_OK;
		return hlx_err(HLX_EIO, "cannot create '%s': %s", tmp,
			       strerror(errno));
	}
	fd = open(tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fchmod(fd, (mode_t)(mode & 07777)) != 0) {
		int rc = hlx_err(HLX_EIO, "cannot chmod '%s': %s", tmp,
				 strerror(errno));

		if (fd >= 0)
			close(fd);
		return rc;
	}
	close(fd);
	return HLX_OK;
}

/* Open the directory dir for reading into *fd.  Under a root, every
 * directory after root is opened with O_NOFOLLOW (and created when
 * create is set: 0755, the last with mode). */
static int walk(const char *root, const char *dir, int create, unsigned mode,
		int *fd)
{
	char part[PATH_MAX], shown[PATH_MAX];
	const char *rest, *p;
	size_t rl;
	int cur, next, rc;

	*fd = -1;
	if (!root) {
		if (create && (rc = mkdirs_plain(dir, mode)))
			return rc;
		cur = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (cur < 0)
			return hlx_err(errno == ENOENT ? HLX_ENOENT : HLX_EIO,
				       "cannot open directory '%s': %s", dir,
				       strerror(errno));
		*fd = cur;
		return HLX_OK;
	}
	rl = strlen(root);
	if (strncmp(dir, root, rl) != 0 ||
	    (dir[rl] && dir[rl] != '/' && (rl == 0 || root[rl - 1] != '/')))
		return hlx_err(HLX_EINVAL, "'%.200s' is not under '%.200s'", dir,
			       root);
	cur = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cur < 0)
		return hlx_err(errno == ENOENT ? HLX_ENOENT : HLX_EIO,
			       "cannot open directory '%s': %s", root,
			       strerror(errno));
	rest = dir + rl;
	while (*rest) {
		size_t n;

		while (*rest == '/')
			rest++;
		if (!*rest)
			break;
		p = strchr(rest, '/');
		n = p ? (size_t)(p - rest) : strlen(rest);
		if (n > NAME_MAX) {
			close(cur);
			return hlx_err(HLX_EINVAL, "name too long in '%.200s'", dir);
		}
		memcpy(part, rest, n);
		part[n] = '\0';
		rest += n;
		snprintf(shown, sizeof(shown), "%.*s", (int)(rest - dir), dir);
		if (!strcmp(part, ".") || !strcmp(part, "..")) {
			close(cur);
			return hlx_err(HLX_EINVAL, "'%s' in '%.200s'", part, dir);
		}
		next = openat(cur, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0 && errno == ENOENT && create) {
			int last = !strchr(rest, '/') || !rest[strspn(rest, "/")];

			if (mkdirat(cur, part, 0700) != 0 && errno != EEXIST) {
				rc = hlx_err(HLX_EIO, "cannot create '%s': %s", shown,
					     strerror(errno));
				close(cur);
				return rc;
			}
			next = openat(cur, part,
				      O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (next >= 0 &&
			    fchmod(next, (mode_t)(last ? mode & 07777 : 0755)) != 0) {
				rc = hlx_err(HLX_EIO, "cannot chmod '%s': %s", shown,
					     strerror(errno));
				close(next);
				close(cur);
				return rc;
			}
		}
		if (next < 0) {
			if (errno == ELOOP || errno == ENOTDIR)
				rc = hlx_err(HLX_EPERM,
					     "'%s' is a symbolic link or not a directory",
					     shown);
			else
				rc = hlx_err(errno == ENOENT ? HLX_ENOENT : HLX_EIO,
					     "cannot open directory '%s': %s", shown,
					     strerror(errno));
			close(cur);
			return rc;
		}
		close(cur);
		cur = next;
	}
	*fd = cur;
	return HLX_OK;
}

/* random bytes in a temporary name (hex: twice as many characters) */
#define TMP_RAND 8
/* bytes a copy reads at once */
#define COPY_BUF ((size_t)1 << 20)

/* The start of both kinds of new file: names checked, the directory
 * opened (w->dirfd). */
static int new_begin(struct hlx_file_new *w, const char *root,
		     const char *path, int unnamed)
{
	char dir[PATH_MAX];
	int rc;

	w->fd = w->dirfd = -1;
	w->tmp[0] = '\0';
	w->unnamed = unnamed;
	rc = split(path, dir, w->name);
	if (!rc)
		rc = hlx_pathf(w->path, "%s", path);
	if (rc)
		return rc;
	if (strlen(w->name) + 4 + 2 * TMP_RAND > NAME_MAX)
		return hlx_err(HLX_EINVAL, "name too long: '%.60s...'", path);
	if (sodium_init() < 0)
		return hlx_err(HLX_ECRYPTO, "cannot initialise libsodium");
	return walk(root, dir, 0, 0, &w->dirfd);
}

/* A fresh random temporary name for w->name in w->tmp. */
static void tmp_name(struct hlx_file_new *w)
{
	unsigned char r[TMP_RAND];
	size_t nl = strlen(w->name);

	randombytes_buf(r, sizeof(r));
	/* the length was checked by new_begin */
	memcpy(w->tmp, w->name, nl);
	memcpy(w->tmp + nl, ".tmp", 4);
	sodium_bin2hex(w->tmp + nl + 4, 2 * sizeof(r) + 1, r, sizeof(r));
}

static int new_mode(struct hlx_file_new *w, unsigned mode)
{
	int rc;

	if (fchmod(w->fd, (mode_t)(mode & 07777)) == 0)
		return HLX_OK;
	rc = hlx_err(HLX_EIO, "cannot chmod a file next to '%s': %s", w->path,
		     strerror(errno));
	hlx_file_new_abort(w);
	return rc;
}

int hlx_file_new_open_unnamed(struct hlx_file_new *w, const char *root,
			      const char *path, unsigned mode)
{
	int rc = new_begin(w, root, path, 1);

	if (rc)
		return rc;
	w->fd = openat(w->dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (w->fd < 0) {
		int e = errno;

		/* a file system without unnamed files (NFS, older ones), or
		 * a sandbox refusing them (EPERM, ENOSYS from seccomp) */
		rc = hlx_err(e == EOPNOTSUPP || e == EISDIR || e == EINVAL ||
			     e == EPERM || e == ENOSYS ?
			     HLX_EUNSUPPORTED : HLX_EIO,
			     "cannot create an unnamed file next to '%s': %s",
			     path, strerror(e));
		hlx_file_new_abort(w);
		return rc;
	}
	return new_mode(w, mode);
}

int hlx_file_new_open(struct hlx_file_new *w, const char *root,
		      const char *path, unsigned mode)
{
	int rc = new_begin(w, root, path, 0);

	if (rc)
		return rc;
	/* a name planted here is skipped, never opened */
	for (int tries = 0; w->fd < 0 && tries < 16; tries++) {
		tmp_name(w);
		w->fd = openat(w->dirfd, w->tmp,
			       O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			       0600);
		if (w->fd < 0 && errno != EEXIST)
			break;
	}
	if (w->fd < 0) {
		rc = hlx_err(HLX_EIO, "cannot create a file next to '%s': %s",
			     path, strerror(errno));
		w->tmp[0] = '\0';
		hlx_file_new_abort(w);
		return rc;
	}
	return new_mode(w, mode);
}

void hlx_file_new_abort(struct hlx_file_new *w)
{
	if (w->fd >= 0)
		close(w->fd);
	if (w->dirfd >= 0) {
		if (w->tmp[0])
			unlinkat(w->dirfd, w->tmp, 0);
		close(w->dirfd);
	}
	w->fd = w->dirfd = -1;
	w->tmp[0] = '\0';
}

int hlx_file_new_sync(struct hlx_file_new *w)
{
	int rc = HLX_OK;

	if (w->fd < 0 || w->dirfd < 0 || (!w->unnamed && !w->tmp[0]))
		return hlx_err(HLX_EINVAL, "'%s' is not open", w->path);
	if (fsync(w->fd) != 0)
		rc = hlx_err(HLX_EIO, "cannot write '%s': %s", w->path,
			     strerror(errno));
	/* an unnamed file is kept open: its descriptor is all there is of
	 * it until the commit links it in */
	if (!w->unnamed) {
		if (close(w->fd) != 0 && !rc)
			rc = hlx_err(HLX_EIO, "cannot write '%s': %s", w->path,
				     strerror(errno));
		w->fd = -1;
	}
	if (rc)
		hlx_file_new_abort(w);
	return rc;
}

/* Copy the unnamed file of w into a new file under a fresh temporary
 * name (O_EXCL|O_NOFOLLOW, its mode): where it cannot be linked in. */
static int copy_unnamed(struct hlx_file_new *w)
{
	struct stat st;
	unsigned char *buf = NULL;
	off_t off = 0;
	ssize_t n;
	int out = -1, rc = HLX_OK;

	if (fstat(w->fd, &st) != 0)
		return hlx_err(HLX_EIO, "cannot stat '%s': %s", w->path,
			       strerror(errno));
	for (int tries = 0; out < 0 && tries < 16; tries++) {
		tmp_name(w);
		out = openat(w->dirfd, w->tmp,
			     O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			     0600);
		if (out < 0 && errno != EEXIST)
			break;
	}
	if (out < 0) {
		w->tmp[0] = '\0';
		return hlx_err(HLX_EIO, "cannot create a file next to '%s': %s",
			       w->path, strerror(errno));
	}
	buf = malloc(COPY_BUF);
	if (!buf)
		rc = hlx_err(HLX_ENOMEM, "out of memory");
	if (!rc && fchmod(out, st.st_mode & 07777) != 0)
		rc = hlx_err(HLX_EIO, "cannot chmod a file next to '%s': %s",
			     w->path, strerror(errno));
	while (!rc && (n = pread(w->fd, buf, COPY_BUF, off)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || hlx_write_all(out, buf, (size_t)n) != 0)
			rc = hlx_err(HLX_EIO, "cannot copy '%s': %s", w->path,
				     strerror(errno));
		else
			off += n;
	}
	if (!rc && fsync(out) != 0)
		rc = hlx_err(HLX_EIO, "cannot write '%s': %s", w->path,
			     strerror(errno));
	if (close(out) != 0 && !rc)
		rc = hlx_err(HLX_EIO, "cannot write '%s': %s", w->path,
			     strerror(errno));
	free(buf);
	return rc; /* on failure w->tmp names the copy: the abort removes it */
}

/* Give the unnamed file of w a fresh temporary name (linkat fails rather
 * than replace a name planted there), and close it.  Linking goes through
 * /proc/self/fd, or the descriptor itself (which some kernels allow only
 * with CAP_DAC_READ_SEARCH); where neither can be had (no /proc, no
 * capability), the file is copied. */
static int link_unnamed(struct hlx_file_new *w)
{
	char proc[64];
	int rc = HLX_OK, linked = 0;

	if (fsync(w->fd) != 0)
		rc = hlx_err(HLX_EIO, "cannot write '%s': %s", w->path,
			     strerror(errno));
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", w->fd);
	for (int tries = 0; !rc && !linked && tries < 16; tries++) {
		tmp_name(w);
		linked = linkat(AT_FDCWD, proc, w->dirfd, w->tmp,
				AT_SYMLINK_FOLLOW) == 0 ||
			 (errno != EEXIST &&
			  linkat(w->fd, "", w->dirfd, w->tmp, AT_EMPTY_PATH) == 0);
		if (!linked && errno != EEXIST)
			break;
	}
	if (!linked)
		w->tmp[0] = '\0';
	if (!rc && !linked)
		rc = copy_unnamed(w);
	if (close(w->fd) != 0 && !rc)
		rc = hlx_err(HLX_EIO, "cannot write '%s': %s", w->path,
			     strerror(errno));
	w->fd = -1;
	return rc;
}

int hlx_file_new_commit(struct hlx_file_new *w)
{
	int rc = HLX_OK;

	if (w->dirfd < 0 || (w->unnamed ? w->fd < 0 : !w->tmp[0]))
		return hlx_err(HLX_EINVAL, "'%s' is not open", w->path);
	if (w->unnamed)
		rc = link_unnamed(w);
	else if (w->fd >= 0)
		rc = hlx_file_new_sync(w);
	if (!rc && renameat(w->dirfd, w->tmp, w->dirfd, w->name) != 0)
		rc = hlx_err(HLX_EIO, "cannot replace '%s': %s", w->path,
			     strerror(errno));
	if (rc) {
		hlx_file_new_abort(w);
		return rc;
	}
	w->tmp[0] = '\0';
	if (fsync(w->dirfd) != 0)
		rc = hlx_err(HLX_EIO, "cannot sync the directory of '%s': %s",
			     w->path, strerror(errno));
	close(w->dirfd);
	w->dirfd = -1;
	return rc;
}

int hlx_file_link_in(const char *root, const char *src, const char *path,
		     int *linked)
{
	struct hlx_file_new w;
	struct stat st;
	unsigned char r[8];
	size_t nl;
	int rc, done = 0;

	*linked = 0;
	w.fd = w.dirfd = -1;
	w.tmp[0] = '\0';
	w.unnamed = 0;
	rc = split(path, w.path, w.name);
	if (rc)
		return rc;
	nl = strlen(w.name);
	if (nl + 4 + 2 * sizeof(r) > NAME_MAX)
		return hlx_err(HLX_EINVAL, "name too long: '%.60s...'", path);
	if (lstat(src, &st) != 0 || !S_ISREG(st.st_mode))
		return hlx_err(HLX_EIO, "cannot link '%s': not a file", src);
	if (sodium_init() < 0)
		return hlx_err(HLX_ECRYPTO, "cannot initialise libsodium");
	rc = walk(root, w.path, 0, 0, &w.dirfd);
	if (rc)
		return rc;
	for (int tries = 0; !done && tries < 16; tries++) {
		randombytes_buf(r, sizeof(r));
		memcpy(w.tmp, w.name, nl);
		memcpy(w.tmp + nl, ".tmp", 4);
		sodium_bin2hex(w.tmp + nl + 4, 2 * sizeof(r) + 1, r, sizeof(r));
		/* linkat without AT_SYMLINK_FOLLOW: src itself, never where
		 * a link would point */
		done = linkat(AT_FDCWD, src, w.dirfd, w.tmp, 0) == 0;
		if (!done && errno != EEXIST)
			break;
	}
	w.path[0] = '\0';
	if (!done) {
		/* another file system, or no links there: the caller copies */
		w.tmp[0] = '\0';
		hlx_file_new_abort(&w);
		return HLX_OK;
	}
	if (renameat(w.dirfd, w.tmp, w.dirfd, w.name) != 0) {
		rc = hlx_err(HLX_EIO, "cannot replace '%s': %s", path, strerror(errno));
		hlx_file_new_abort(&w);
		return rc;
	}
	w.tmp[0] = '\0';
	if (fsync(w.dirfd) != 0)
		rc = hlx_err(HLX_EIO, "cannot sync the directory of '%s': %s", path,
			     strerror(errno));
	hlx_file_new_abort(&w);
	if (!rc)
		*linked = 1;
	return rc;
}

int hlx_file_create(const char *path, unsigned mode, int *fd)
{
	*fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (*fd < 0)
		return hlx_err(errno == EEXIST ? HLX_EEXIST : HLX_EIO,
			       "cannot create '%s': %s", path, strerror(errno));
	if (fchmod(*fd, (mode_t)(mode & 07777)) != 0) {
		int rc = hlx_err(HLX_EIO, "cannot chmod '%s': %s", path,
				 strerror(errno));

		close(*fd);
		*fd = -1;
		unlink(path);
		return rc;
	}
	return HLX_OK;
}

int hlx_file_new_write(struct hlx_file_new *w, const struct hlx_span *v,
		       size_t nv)
{
	for (size_t i = 0; i < nv; i++)
		if (hlx_write_all(w->fd, v[i].p, v[i].n) != 0) {
			int rc = hlx_err(HLX_EIO, "cannot write '%s': %s",
					 w->path, strerror(errno));

			hlx_file_new_abort(w);
			return rc;
		}
	return HLX_OK;
}

static int writev_in(const char *root, const char *path,
		     const struct hlx_span *v, size_t nv, unsigned mode)
{
	struct hlx_file_new w;
	int rc = hlx_file_new_open(&w, root, path, mode);

	if (!rc)
		rc = hlx_file_new_write(&w, v, nv);
	return rc ? rc : hlx_file_new_commit(&w);
}

int hlx_file_write_in(const char *root, const char *path, const void *p,
		      size_t n, unsigned mode)
{
	struct hlx_span v = { p, n };

	return writev_in(root, path, &v, 1, mode);
}

int hlx_file_writev(const char *path, const struct hlx_span *v, size_t n,
		    unsigned mode)
{
	return writev_in(NULL, path, v, n, mode);
}

int hlx_file_write(const char *path, const void *p, size_t n, unsigned mode)
{
	return hlx_file_write_in(NULL, path, p, n, mode);
}

int hlx_file_mkdirs_in(const char *root, const char *path, unsigned mode)
{
	int fd, rc = walk(root, path, 1, mode, &fd);

	if (!rc)
		close(fd);
	return rc;
}

int hlx_file_mkdirs(const char *path, unsigned mode)
{
	return mkdirs_plain(path, mode);
}

int hlx_dir_open_in(const char *root, const char *path, int *fd)
{
	return walk(root, path, 0, 0, fd);
}

int hlx_file_read_in(const char *root, const char *path, size_t max,
		     struct hlx_buf *out)
{
	char dir[PATH_MAX], name[NAME_MAX + 1];
	struct stat st;
	int dfd, fd, rc = split(path, dir, name);

	hlx_buf_reset(out);
	if (!rc)
		rc = walk(root, dir, 0, 0, &dfd);
	if (rc)
		return rc;
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	close(dfd);
	if (fd < 0)
		return hlx_err(errno == ENOENT ? HLX_ENOENT :
			       errno == ELOOP ? HLX_EPERM : HLX_EIO,
			       "cannot open '%s': %s", path, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		rc = hlx_err(HLX_EPERM, "'%s' is not a regular file", path);
	if (!rc)
		rc = read_fd(fd, path, max, out);
	close(fd);
	return rc;
}

int hlx_dir_chmod(const char *path, unsigned mode)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int rc = HLX_OK;

	if (fd < 0)
		return hlx_err(errno == ELOOP ? HLX_EPERM : HLX_EIO,
			       "cannot open directory '%s': %s", path,
			       strerror(errno));
	if (fchmod(fd, (mode_t)(mode & 07777)) != 0)
		rc = hlx_err(HLX_EIO, "cannot chmod '%s': %s", path, strerror(errno));
	close(fd);
	return rc;
}

int hlx_pathf(char out[PATH_MAX], const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(out, PATH_MAX, fmt, ap);
	va_end(ap);
	if (n < 0 || n >= PATH_MAX)
		return hlx_err(HLX_EINVAL, "path too long");
	return HLX_OK;
}

int hlx_fsync_path(const char *path, int dir)
{
	int fd = open(path, (dir ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
	int rc = HLX_OK;

	if (fd < 0)
		return hlx_err(HLX_EIO, "cannot open '%s': %s", path, strerror(errno));
	if (fsync(fd) != 0)
		rc = hlx_err(HLX_EIO, "cannot sync '%s': %s", path, strerror(errno));
	close(fd);
	return rc;
}

/* Remove name in dfd (shown is its path, for messages), never following
 * a symbolic link. */
static int rm_at(int dfd, const char *name, const char *shown)
{
	struct dirent *de;
	struct stat st;
	char p[PATH_MAX];
	int rc = HLX_OK, sub;
	DIR *d;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return errno == ENOENT ? HLX_OK :
		       hlx_err(HLX_EIO, "cannot stat '%s': %s", shown, strerror(errno));
	if (!S_ISDIR(st.st_mode)) {
		if (unlinkat(dfd, name, 0) != 0 && errno != ENOENT)
			return hlx_err(HLX_EIO, "cannot remove '%s': %s", shown,
				       strerror(errno));
		return HLX_OK;
	}
	sub = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sub < 0)
		return hlx_err(HLX_EIO, "cannot open '%s': %s", shown, strerror(errno));
	d = fdopendir(sub);
	if (!d) {
		close(sub);
		return hlx_err(HLX_EIO, "cannot open '%s': %s", shown, strerror(errno));
	}
	while (!rc && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		rc = hlx_pathf(p, "%s/%s", shown, de->d_name);
		if (!rc)
			rc = rm_at(sub, de->d_name, p);
	}
	closedir(d);
	if (!rc && unlinkat(dfd, name, AT_REMOVEDIR) != 0 && errno != ENOENT)
		rc = hlx_err(HLX_EIO, "cannot remove '%s': %s", shown, strerror(errno));
	return rc;
}

int hlx_rm_rf_in(const char *root, const char *path)
{
	char dir[PATH_MAX], name[NAME_MAX + 1];
	int dfd, rc = split(path, dir, name);

	if (!rc)
		rc = walk(root, dir, 0, 0, &dfd);
	if (rc == HLX_ENOENT) {
		hlx_err_clear();
		return HLX_OK;
	}
	if (rc)
		return rc;
	rc = rm_at(dfd, name, path);
	close(dfd);
	return rc;
}

int hlx_rm_rf(const char *path)
{
	return hlx_rm_rf_in(NULL, path);
}

int hlx_write_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n) {
		ssize_t w = write(fd, b, n > (1u << 30) ? (1u << 30) : n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = EIO; /* the contract: errno set */
			return -1;
		}
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

int hlx_file_is_temp(const char *s)
{
	const char *t = strstr(s, ".tmp"), *x;
	size_t n;

	/* NAME.tmpHEX (node/files.h), NAME.tmpPID and plain.pack.PID of
	 * older versions */
	for (x = t; x; x = strstr(x + 1, ".tmp"))
		t = x;
	if (t)
		t += 4;
	else if (!strncmp(s, "plain.pack.", 11))
		t = s + 11;
	else
		return 0;
	n = strspn(t, "0123456789abcdef");
	return n > 0 && t[n] == '\0';
}
