/* SPDX-License-Identifier: MIT */
/*
 * no-tmpfile.so: preloaded (LD_PRELOAD) into the real hlx by t0600 to make
 * it run as on a file system without unnamed files (NFS): every open with
 * O_TMPFILE fails with EOPNOTSUPP, as such a file system's does; every
 * other open goes to the C library's.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/types.h>

typedef int (*openat_fn)(int, const char *, int, ...);

static int pass(const char *sym, int dfd, const char *path, int flags,
		mode_t mode)
{
	openat_fn real = (openat_fn)dlsym(RTLD_NEXT, sym);

	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	if ((flags & O_TMPFILE) == O_TMPFILE) {
		errno = EOPNOTSUPP;
		return -1;
	}
	return real(dfd, path, flags, mode);
}

static mode_t mode_of(int flags, va_list ap)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ?
	       (mode_t)va_arg(ap, int) : 0;
}

int openat(int dfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = mode_of(flags, ap);
	va_end(ap);
	return pass("openat", dfd, path, flags, mode);
}

int openat64(int dfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = mode_of(flags, ap);
	va_end(ap);
	return pass("openat64", dfd, path, flags, mode);
}
