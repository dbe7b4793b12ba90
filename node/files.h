/* SPDX-License-Identifier: MIT */
/*
 * Files of the node home and of the command line: bounded reads, atomic
 * writes, directories.  Secret files go through keys/keyfile.h instead,
 * which also checks their permissions.
 */
#ifndef HLX_FILES_H
#define HLX_FILES_H

#include <limits.h>
#include <stddef.h>

#include "protocol/buf.h"

/* Read a whole file (standard input for "-") into out, which is reset
 * first: HLX_ENOENT if it does not exist, HLX_ETOOBIG past max bytes. */
int hlx_file_read(const char *path, size_t max, struct hlx_buf *out);
/*
 * Every file hlx writes is created, never opened as it is: O_CREAT|O_EXCL|
 * O_NOFOLLOW, mode 0600, then given its mode with fchmod.  A name planted
 * in its place (a symbolic link above all) makes the creation fail and
 * never redirects it.  Whole files are written under a fresh random
 * temporary name next to the final one (a planted name is not guessed,
 * and is skipped if it is), then renamed over the final name: a rename
 * replaces a planted link itself, never what it points to.
 *
 * root, where a function takes one, is a directory that path lies under
 * and that others may be able to write in (the publish directory, a web
 * root): every directory below root on the way to the file is opened
 * without following a symbolic link, so a link planted there cannot
 * redirect a write, a removal or a listing.  root itself, and a NULL
 * root's whole path, are taken as the operator gave them.
 */

/* A whole file being written: write to fd, then commit or abort. */
struct hlx_file_new {
	int fd;                  /* the temporary file, read-write */
	int dirfd;               /* the directory it is in */
	char name[NAME_MAX + 1]; /* its final name in dirfd */
	char tmp[NAME_MAX + 1];  /* its temporary name in dirfd */
	char path[PATH_MAX];     /* its final path, for messages */
	int unnamed;             /* no name until the commit (O_TMPFILE) */
};

/* Create the temporary file of path, with mode (fchmod). */
int hlx_file_new_open(struct hlx_file_new *w, const char *root,
		      const char *path, unsigned mode);
/* fsync it, rename it over its final name, fsync the directory; it is
 * removed on failure.  Closes everything. */
int hlx_file_new_commit(struct hlx_file_new *w);
/* The same, but the file has no name at all until the commit links it in
 * (O_TMPFILE): if the writer dies first, nothing of it is left, and no one
 * can see it in the directory meanwhile.  HLX_EUNSUPPORTED on a file
 * system without unnamed files. */
int hlx_file_new_open_unnamed(struct hlx_file_new *w, const char *root,
			      const char *path, unsigned mode);
/* fsync it, so that a commit later only renames it (written without a
 * lock, renamed under it).  A named file is closed, still under its
 * temporary name; an unnamed one stays open.  It is removed on failure. */
int hlx_file_new_sync(struct hlx_file_new *w);
/* Remove it (nothing was replaced); safe after a failed open. */
void hlx_file_new_abort(struct hlx_file_new *w);

/* Put a hard link to the regular file src (never a symbolic link) at path
 * (under root, as above), replacing what was there atomically: *linked
 * is 0 when the file system cannot link it there (another file system),
 * and the caller copies instead.  src must never be changed in place. */
int hlx_file_link_in(const char *root, const char *src, const char *path,
		     int *linked);

/* Create a new file path (O_EXCL|O_NOFOLLOW), with mode (fchmod), open
 * for reading and writing; HLX_EEXIST if anything has its name. */
int hlx_file_create(const char *path, unsigned mode, int *fd);

/* Replace a file atomically (a new file as above, fsync, rename, fsync of
 * the directory) with the given mode. */
int hlx_file_write(const char *path, const void *p, size_t n, unsigned mode);
int hlx_file_write_in(const char *root, const char *path, const void *p,
		      size_t n, unsigned mode);
/* A byte range of a file to write. */
struct hlx_span {
	const void *p;
	size_t n;
};
/* hlx_file_write of the concatenation of n byte ranges. */
int hlx_file_writev(const char *path, const struct hlx_span *v, size_t n,
		    unsigned mode);
/* Write n byte ranges to a new file (hlx_file_new_open or _unnamed); on
 * failure it is aborted. */
int hlx_file_new_write(struct hlx_file_new *w, const struct hlx_span *v,
		       size_t n);
/* Whether a name is one of the temporary files hlx_file_new_open makes
 * (NAME.tmpHEX), or one older versions made (NAME.tmpPID, plain.pack.PID):
 * what a writer killed before its rename leaves behind. */
int hlx_file_is_temp(const char *name);
/* mkdir -p, new directories with mode 0755 and the last with mode (given
 * with fchmod when it is created here). */
int hlx_file_mkdirs(const char *path, unsigned mode);
int hlx_file_mkdirs_in(const char *root, const char *path, unsigned mode);
/* Open the directory path (under root, as above) for reading: *fd. */
int hlx_dir_open_in(const char *root, const char *path, int *fd);
/* hlx_file_read of a regular file under root (as above), not through a
 * symbolic link: HLX_EPERM for a link or anything but a regular file. */
int hlx_file_read_in(const char *root, const char *path, size_t max,
		     struct hlx_buf *out);
/* Set the mode of an existing directory, not through a symbolic link. */
int hlx_dir_chmod(const char *path, unsigned mode);

/* Remove a file or a directory tree, never following a symbolic link
 * inside it; a missing one is fine.  The _in form also opens the way
 * from root to it without following one. */
int hlx_rm_rf(const char *path);
int hlx_rm_rf_in(const char *root, const char *path);
/* snprintf into a PATH_MAX buffer; HLX_EINVAL when it does not fit. */
int hlx_pathf(char out[PATH_MAX], const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* fsync a file, or a directory (dir set). */
int hlx_fsync_path(const char *path, int dir);

/* Write all n bytes to fd (retrying short writes and EINTR): 0, or -1
 * with errno set. */
int hlx_write_all(int fd, const void *p, size_t n);

/* Read up to n bytes from fd into p (retrying EINTR): HLX_OK with *got
 * (0 at the end), or HLX_EIO "cannot read 'path': ...". */
int hlx_read_some(int fd, const char *path, void *p, size_t n, size_t *got);

#endif
