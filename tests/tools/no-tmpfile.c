/* SPDX-License-Identifier: MIT */
/*
 * no-tmpfile.so: preloaded (LD_PRELOAD) into the real hlx by t0600 to make
 * it run as on a file system without unnamed files (NFS): every open with
 * O_TMPFILE fails with EOPNOTSUPP, as such a file system's does; every
 * other open goes to the C library's.  With NO_LINK=1 in the environment
 * unnamed files are made, but cannot be linked in, as in a sandbox without
 * /proc or the capability AT_EMPTY_PATH needs: linkat fails with ENOENT
 * (through /proc or a descriptor alike), and the file NO_LINK_MARK names,
 * if any, is created to show a link was refused.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

typedef int (*openat_fn)(int, const char *, int, ...);

static int no_link(void)
{
	const char *v = getenv("NO_LINK");

	return v && !strcmp(v, "1");
}

static int pass(const char *sym, int dfd, const char *path, int flags,
		mode_t mode)
{
	openat_fn real = (openat_fn)dlsym(RTLD_NEXT, sym);

	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	if ((flags & O_TMPFILE) == O_TMPFILE && !no_link()) {
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

/* openat and openat64 alike: the mode read as open(2) reads it */
#define WRAP(name)                                                      \
	int name(int dfd, const char *path, int flags, ...)             \
	{                                                               \
		va_list ap;                                             \
		mode_t mode;                                            \
                                                                        \
		va_start(ap, flags);                                    \
		mode = mode_of(flags, ap);                              \
		va_end(ap);                                             \
		return pass(#name, dfd, path, flags, mode);             \
	}

WRAP(openat)
WRAP(openat64)

int linkat(int olddfd, const char *old, int newdfd, const char *new, int flags)
{
	int (*real)(int, const char *, int, const char *, int) =
		(int (*)(int, const char *, int, const char *, int))dlsym(RTLD_NEXT, "linkat");

	if (no_link()) {
		const char *mark = getenv("NO_LINK_MARK");

		if (mark && mark[0]) {
			int fd = pass("openat", AT_FDCWD, mark,
				      O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

			if (fd >= 0)
				close(fd);
		}
		errno = ENOENT;
		return -1;
	}
	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	return real(olddfd, old, newdfd, new, flags);
}
