/* SPDX-License-Identifier: MIT */
#include "node/files.h"
#include "keys/keyfile.h"
#include "protocol/err.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int hlx_file_read(const char *path, size_t max, struct hlx_buf *out)
{
	int fd, rc = HLX_OK;
	ssize_t r;

	hlx_buf_reset(out);
	if (strcmp(path, "-") == 0) {
		fd = STDIN_FILENO;
	} else {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return hlx_err(errno == ENOENT ? HLX_ENOENT : HLX_EIO,
				       "cannot open '%s': %s", path, strerror(errno));
	}
	for (;;) {
		rc = hlx_buf_reserve(out, 65536);
		if (rc)
			break;
		r = read(fd, out->data + out->len, 65536);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = hlx_err(HLX_EIO, "cannot read '%s': %s", path,
				     strerror(errno));
			break;
		}
		if (r == 0)
			break;
		out->len += (size_t)r;
		out->data[out->len] = '\0';
		if (out->len > max) {
			rc = hlx_err(HLX_ETOOBIG, "'%s' is larger than %zu bytes",
				     path, max);
			break;
		}
	}
	if (fd != STDIN_FILENO)
		close(fd);
	return rc;
}

int hlx_file_write(const char *path, const void *p, size_t n, unsigned mode)
{
	/* the secret-file writer creates 0600 and syncs; then open it up */
	int rc = hlx_secret_file_write(path, p, n);

	if (!rc && (mode & 07777) != 0600 && chmod(path, mode & 07777) != 0)
		rc = hlx_err(HLX_EIO, "cannot chmod '%s': %s", path, strerror(errno));
	return rc;
}

int hlx_file_mkdirs(const char *path, unsigned mode)
{
	char tmp[PATH_MAX];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(tmp))
		return hlx_err(HLX_EINVAL, "bad directory path '%.60s'", path);
	memcpy(tmp, path, n + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
			return hlx_err(HLX_EIO, "cannot create '%s': %s", tmp,
				       strerror(errno));
		*p = '/';
	}
	if (mkdir(tmp, (mode_t)mode) != 0 && errno != EEXIST)
		return hlx_err(HLX_EIO, "cannot create '%s': %s", tmp,
			       strerror(errno));
	return HLX_OK;
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

int hlx_rm_rf(const char *path)
{
	struct dirent *de;
	struct stat st;
	char p[PATH_MAX];
	int rc = HLX_OK;
	DIR *d;

	if (lstat(path, &st) != 0)
		return errno == ENOENT ? HLX_OK :
		       hlx_err(HLX_EIO, "cannot stat '%s': %s", path, strerror(errno));
	if (!S_ISDIR(st.st_mode)) {
		if (unlink(path) != 0 && errno != ENOENT)
			return hlx_err(HLX_EIO, "cannot remove '%s': %s", path,
				       strerror(errno));
		return HLX_OK;
	}
	d = opendir(path);
	if (!d)
		return hlx_err(HLX_EIO, "cannot open '%s': %s", path, strerror(errno));
	while (!rc && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		rc = hlx_pathf(p, "%s/%s", path, de->d_name);
		if (!rc)
			rc = hlx_rm_rf(p);
	}
	closedir(d);
	if (!rc && rmdir(path) != 0 && errno != ENOENT)
		rc = hlx_err(HLX_EIO, "cannot remove '%s': %s", path, strerror(errno));
	return rc;
}
